import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { CORE_EMOTIONS } from '../processors/classify/labels.js';
import { defaultDatasetsDir, loadGoEmotions } from './datasets.js';
import { goldLabels } from './evaluate.js';
import { fitLanes } from './lane-trainer.js';
import { csrFromRows } from './sparse-matrix.js';

const { onnx } = onnxProto;
const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
const UNK = 1;

function isPunctuation(char: string): boolean {
  const code = char.codePointAt(0)!;
  if (
    (code >= 33 && code <= 47) ||
    (code >= 58 && code <= 64) ||
    (code >= 91 && code <= 96) ||
    (code >= 123 && code <= 126)
  ) {
    return true;
  }
  return /\p{P}/u.test(char);
}

/**
 * What a BERT tokenizer (BertNormalizer with lowercasing and accent stripping, then
 * BertPreTokenizer) makes of a text before WordPiece: lowercase words, punctuation marks apart.
 * The exported vocabulary holds whole words only, so WordPiece maps each of these to its id or
 * to [UNK], and training can count them without running the tokenizer.
 */
export function bertWords(text: string): string[] {
  const cleaned = text
    // biome-ignore lint/suspicious/noControlCharactersInRegex: BertNormalizer removes exactly these control characters.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffd]/g, '')
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{Mn}/gu, '');
  const words: string[] = [];
  for (const chunk of cleaned.split(/\s+/)) {
    let current = '';
    for (const char of chunk) {
      if (isPunctuation(char)) {
        if (current) words.push(current);
        words.push(char);
        current = '';
      } else current += char;
    }
    if (current) words.push(current);
  }
  return words;
}

export interface BagOfWordsModel {
  vocabulary: string[];
  /** Row-major [vocabulary × 7]. */
  weights: Float32Array;
  bias: Float32Array;
}

/** Mean one-hot vector of a text's words over the vocabulary: what the exported graph computes. */
export function bagOfWords(
  words: string[],
  ids: Map<string, number>,
): { indices: Int32Array; values: Float32Array } {
  const counts = new Map<number, number>();
  for (const word of words) {
    const id = ids.get(word) ?? UNK;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const sorted = [...counts.keys()].sort((a, b) => a - b);
  const n = Math.max(1, words.length);
  return { indices: Int32Array.from(sorted), values: Float32Array.from(sorted, (id) => counts.get(id)! / n) };
}

/**
 * A small English bag-of-words emotion model (7 core classes, logistic regression over the mean
 * word vector), trained on GoEmotions; its purpose is a real model in Hugging Face layout that
 * the transformers engine can load from disk.
 */
export async function trainBagOfWords(options: {
  datasetsDir?: string;
  vocabularySize: number;
  workers?: number;
}) {
  const dir = join(options.datasetsDir ?? defaultDatasetsDir(), 'goemotions');
  const train = loadGoEmotions(dir, 'train');
  const texts = train.map((e) => bertWords(e.text));
  const documents = new Map<string, number>();
  for (const words of texts)
    for (const word of new Set(words)) documents.set(word, (documents.get(word) ?? 0) + 1);
  const frequent = [...documents]
    .filter(([, df]) => df >= 2)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, options.vocabularySize)
    .map(([word]) => word);
  const vocabulary = [...SPECIAL_TOKENS, ...frequent];
  const ids = new Map(vocabulary.map((word, i) => [word, i]));
  const matrix = csrFromRows(
    texts.map((words) => bagOfWords(words, ids)),
    vocabulary.length,
  );
  const gold = goldLabels('goemotions', 'core', train);
  const fits = await fitLanes(
    matrix,
    CORE_EMOTIONS.map((emotion, c) => ({
      name: emotion,
      targets: Uint8Array.from(gold, (g) => (g.includes(c) ? 1 : 0)),
      C: 16,
    })),
    options.workers ? { workers: options.workers } : {},
  );
  const k = CORE_EMOTIONS.length;
  const weights = new Float32Array(vocabulary.length * k);
  fits.forEach((fit, c) => {
    for (let j = 0; j < vocabulary.length; j++) weights[j * k + c] = fit.weights[j]!;
  });
  return { vocabulary, weights, bias: Float32Array.from(fits, (fit) => fit.bias) } satisfies BagOfWordsModel;
}

function graph(model: BagOfWordsModel): Uint8Array {
  const k = model.bias.length;
  const tensor = (name: string, dims: number[], dataType: number, data: ArrayBufferView) => ({
    name,
    dims,
    dataType,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  });
  const node = (opType: string, input: string[], output: string, attrs: Record<string, number> = {}) => ({
    opType,
    input,
    output: [output],
    name: output,
    attribute: Object.entries(attrs).map(([name, i]) => ({ name, type: AttributeType.INT, i })),
  });
  const int64Input = (name: string) => ({
    name,
    type: {
      tensorType: {
        elemType: DataType.INT64,
        shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'sequence' }] },
      },
    },
  });
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'emotion-stream',
    graph: {
      name: 'emotion-stream-en-bow',
      input: [int64Input('input_ids'), int64Input('attention_mask')],
      output: [
        {
          name: 'logits',
          type: {
            tensorType: {
              elemType: DataType.FLOAT,
              shape: { dim: [{ dimParam: 'batch' }, { dimValue: k }] },
            },
          },
        },
      ],
      initializer: [
        tensor('weights', [model.vocabulary.length, k], DataType.FLOAT, model.weights),
        tensor('bias', [k], DataType.FLOAT, model.bias),
        tensor('axis_1', [1], DataType.INT64, BigInt64Array.from([1n])),
        tensor('two', [], DataType.FLOAT, Float32Array.from([2])),
        tensor('one', [], DataType.FLOAT, Float32Array.from([1])),
      ],
      // logits = Σ_t mask_t · W[id_t] / (Σ_t mask_t − 2) + bias: the mean over the words, [CLS] and
      // [SEP] (zero rows) left out of the count.
      node: [
        node('Cast', ['attention_mask'], 'mask', { to: DataType.FLOAT }),
        node('ReduceSum', ['mask', 'axis_1'], 'tokens', { keepdims: 1 }),
        node('Sub', ['tokens', 'two'], 'words'),
        node('Max', ['words', 'one'], 'words_1'),
        node('Gather', ['weights', 'input_ids'], 'rows', { axis: 0 }),
        node('Unsqueeze', ['mask', 'axis_1'], 'mask_row'),
        node('MatMul', ['mask_row', 'rows'], 'summed_3d'),
        node('Squeeze', ['summed_3d', 'axis_1'], 'summed'),
        node('Div', ['summed', 'words_1'], 'mean'),
        node('Add', ['mean', 'bias'], 'logits'),
      ],
    },
  }).finish();
}

/** Writes the model in Hugging Face layout: config.json, tokenizer files, onnx/model.onnx. */
export function writeHuggingFaceModel(model: BagOfWordsModel, dir: string): void {
  const id2label = Object.fromEntries(CORE_EMOTIONS.map((label, i) => [String(i), label]));
  const label2id = Object.fromEntries(CORE_EMOTIONS.map((label, i) => [label, i]));
  const vocab = Object.fromEntries(model.vocabulary.map((word, i) => [word, i]));
  const specialId = (token: string) => model.vocabulary.indexOf(token);
  const special = (token: string) => ({ id: token, type_id: 0 });
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const json = (file: string, value: unknown) =>
    writeFileSync(join(dir, file), `${JSON.stringify(value, null, 2)}\n`);
  json('config.json', {
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    problem_type: 'multi_label_classification',
    id2label,
    label2id,
    vocab_size: model.vocabulary.length,
    max_position_embeddings: 512,
    'transformers.js_config': { dtype: 'fp32' },
  });
  json('tokenizer_config.json', {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    model_max_length: 512,
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    mask_token: '[MASK]',
  });
  json('special_tokens_map.json', {
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    mask_token: '[MASK]',
  });
  json('tokenizer.json', {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content) => ({
      id: specialId(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: special('[CLS]') },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: special('[SEP]') },
      ],
      pair: [
        { SpecialToken: special('[CLS]') },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: special('[SEP]') },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: Object.fromEntries(
        ['[CLS]', '[SEP]'].map((token) => [token, { id: token, ids: [specialId(token)], tokens: [token] }]),
      ),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  });
  writeFileSync(join(dir, 'onnx', 'model.onnx'), graph(model));
  writeFileSync(
    join(dir, 'README.md'),
    '# emotion-stream-en-bow\n\nA bag-of-words logistic regression over GoEmotions (7 core classes, multi-label), exported by ' +
      '`emotion-stream export-hf` in Hugging Face layout for the transformers engine. Data: GoEmotions, CC BY 4.0 (Google LLC).\n',
  );
}
