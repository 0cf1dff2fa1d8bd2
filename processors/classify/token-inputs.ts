import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import type { ModelInputs, PreparedBatch } from './model-inputs.js';

/**
 * The encoder tier's inputs: tokenizer.json (the Hugging Face tokenizer the model was trained
 * with) → input_ids and attention_mask, padded to the longest text of the batch and cut at
 * `maxTokens` (the last kept token replaced by the closing special token, as training did).
 */
export class TokenInputs implements ModelInputs {
  readonly kind = 'tokens';
  /**
   * One text per run. The encoder's int8 MatMuls quantize their activations with a scale computed
   * over the whole input tensor, so in a shared batch a text's scores moved with its batchmates (by
   * up to 0.02): a replay would not score history as it was scored live. Alone, a text's scores
   * depend on it only, and it is no slower on CPU (no padding): 675 texts/s one by one against 494
   * in padded batches of 32 on one core. Weight-only int8 (MatMulNBits) kept batches exact but ran
   * at 65–224 texts/s; float32 at 218 (and 90 MB).
   */
  readonly textsPerRun = 1;

  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly maxTokens: number,
    private readonly padId: number,
  ) {}

  static load(tokenizerFile: string, configFile: string, maxTokens: number): TokenInputs {
    const json = JSON.parse(readFileSync(tokenizerFile, 'utf8')) as {
      model?: { vocab?: Record<string, number> };
    };
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as { pad_token?: string };
    const tokenizer = new Tokenizer(json, config);
    const padId = json.model?.vocab?.[config.pad_token ?? '[PAD]'] ?? 0;
    return new TokenInputs(tokenizer, maxTokens, padId);
  }

  /** Token ids of one text with its special tokens, and whether it had to be cut. */
  ids(text: string): { ids: number[]; truncated: boolean } {
    const ids = this.tokenizer.encode(text).ids;
    if (ids.length <= this.maxTokens) return { ids, truncated: false };
    // Keep the closing special token ([SEP]) so the model sees a well-formed sequence.
    return { ids: [...ids.slice(0, this.maxTokens - 1), ids[ids.length - 1]!], truncated: true };
  }

  prepare(texts: readonly string[]): PreparedBatch {
    const encoded = texts.map((text) => this.ids(text));
    const width = Math.max(1, ...encoded.map((e) => e.ids.length));
    const inputIds = new BigInt64Array(texts.length * width).fill(BigInt(this.padId));
    const mask = new BigInt64Array(texts.length * width);
    encoded.forEach((e, row) => {
      for (let k = 0; k < e.ids.length; k++) {
        inputIds[row * width + k] = BigInt(e.ids[k]!);
        mask[row * width + k] = 1n;
      }
    });
    return {
      feeds: {
        input_ids: new ort.Tensor('int64', inputIds, [texts.length, width]),
        attention_mask: new ort.Tensor('int64', mask, [texts.length, width]),
      },
      truncated: encoded.map((e) => e.truncated),
    };
  }
}
