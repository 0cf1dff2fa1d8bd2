import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { RetryableError } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/logger.js';
import { diesWithParent } from '../../runtime/stack/managed-process.js';
import { PendingAnswers } from './pending-answers.js';

/** What the worker says once its model is loaded. */
export interface WorkerReady {
  ready: true;
  model: string;
  multilingual: boolean;
  pid: number;
}

/** One answer line: the transcript, or why this chunk cannot be transcribed. */
export type WorkerAnswer =
  | {
      id: string;
      text: string;
      language: string;
      languageProbability: number;
      segments: Array<{
        startMs: number;
        endMs: number;
        text: string;
        avgLogprob: number;
        noSpeechProb: number;
        /** gzip ratio of the segment's text: above 2.4 Whisper repeated itself (faster-whisper's threshold). */
        compressionRatio: number;
      }>;
    }
  | { id: string; error: string };

/** How likely each asked language is for a chunk, from Whisper's language token. */
export type DetectAnswer = { id: string; languages: Record<string, number> } | { id: string; error: string };

/** A voice embedding (256 floats, L2-normed) for each span asked, in the order asked. */
export type EmbedAnswer = { id: string; embeddings: number[][] } | { id: string; error: string };

/** Decoding choices of one request (processors/transcribe/language-decoding.ts). */
export interface Decoding {
  beamSize?: number;
  /** Text Whisper takes as what came before: its language, spelling and diacritics steer the decoder. */
  initialPrompt?: string;
  /**
   * faster-whisper's temperature fallback (decode again when the text repeats itself or is
   * unlikely); on unless false. A language trial turns it off to score the first decode as it is.
   */
  fallback?: boolean;
  /** faster-whisper's own silero VAD inside the chunk (off: the producer already cut at pauses). */
  vadFilter?: boolean;
  /**
   * The previous window's text as the prompt of the next, within one request longer than Whisper's
   * 30 s window (off: a chunk stands alone, and a hallucination would carry on).
   */
  conditionOnPreviousText?: boolean;
}

/**
 * A resident worker process (faster_whisper_worker.py) that keeps its model loaded and answers
 * framed requests in order: a JSON header line, then the PCM bytes; one JSON line back per request.
 * Everything waiting fails as retryable when the process dies or stops answering, so the stage
 * retries its batch with a new worker and nothing is lost or repeated (the batch is one transaction).
 */
export class AsrWorker {
  private readonly pending: PendingAnswers<Answer>;

  private constructor(
    private readonly child: ChildProcess,
    readonly ready: WorkerReady,
    lines: AsyncIterator<string>,
    timeoutMs: number,
  ) {
    this.pending = new PendingAnswers<Answer>({
      name: 'the faster-whisper worker',
      timeoutMs,
      onFail: () => this.child.kill('SIGKILL'),
    });
    void this.readAnswers(lines);
    child.once('exit', (code, signal) =>
      this.pending.fail(new RetryableError(`the faster-whisper worker exited (${code ?? signal})`)),
    );
    child.stdin!.on('error', (error) =>
      this.pending.fail(new RetryableError(`the faster-whisper worker's input: ${error.message}`)),
    );
  }

  /** Starts the worker and waits until its model is loaded; rejects with the worker's own reason. */
  static async start(options: {
    python: string;
    script: string;
    args: string[];
    timeoutMs: number;
    logger: Logger;
  }): Promise<AsrWorker> {
    const [command, args] = diesWithParent(options.python, ['-u', options.script, ...options.args]);
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    // stderr is the worker's log (library warnings, download progress): kept, not parsed.
    createInterface({ input: child.stderr! }).on('line', (line) =>
      options.logger.debug({ worker: 'faster-whisper' }, line),
    );
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const exited = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) =>
        reject(new Error(`the faster-whisper worker exited at start (${code ?? signal})`)),
      );
    });
    try {
      const first = await Promise.race([lines.next(), exited]);
      const message = first.done ? {} : (parseJson(first.value) as Partial<WorkerReady> & { fatal?: string });
      if (message.fatal) throw new Error(message.fatal);
      if (!message.ready)
        throw new Error(`the faster-whisper worker did not start: ${JSON.stringify(message)}`);
      child.removeAllListeners('exit');
      child.removeAllListeners('error');
      return new AsrWorker(child, message as WorkerReady, lines, options.timeoutMs);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  get alive(): boolean {
    return this.pending.failed === undefined;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * One chunk of 16 kHz mono 16-bit PCM; answers come back in the order asked. `decoding` overrides
   * the worker's beam size and gives an initial prompt for this chunk (a language's own choices).
   */
  transcribe(pcm: Buffer, language: string | null, decoding: Decoding = {}): Promise<WorkerAnswer> {
    return this.request(pcm, { language, ...decoding }) as Promise<WorkerAnswer>;
  }

  /** How likely each of `languages` is spoken in the chunk (a multilingual model's language token). */
  detect(pcm: Buffer, languages: readonly string[]): Promise<DetectAnswer> {
    return this.request(pcm, { detect: languages }) as Promise<DetectAnswer>;
  }

  /** A voice embedding of each span of the chunk, in ms from its start (the worker's --speaker-model). */
  embed(pcm: Buffer, spans: ReadonlyArray<readonly [number, number]>): Promise<EmbedAnswer> {
    return this.request(pcm, { embed: spans }) as Promise<EmbedAnswer>;
  }

  private request(pcm: Buffer, fields: object): Promise<Answer> {
    if (this.pending.failed) return Promise.reject(this.pending.failed);
    const { id, answer } = this.pending.expect('c');
    const stdin = this.child.stdin!;
    stdin.write(`${JSON.stringify({ id, bytes: pcm.length, ...fields })}\n`);
    stdin.write(pcm);
    return answer;
  }

  async close(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.end();
    await exited;
  }

  private async readAnswers(lines: AsyncIterator<string>): Promise<void> {
    for (;;) {
      const line = await lines.next().catch(() => ({ done: true as const, value: undefined }));
      if (line.done) return;
      let answer: Answer;
      try {
        answer = JSON.parse(line.value) as Answer;
      } catch {
        // The worker keeps stdout for answers; a line that is none means it is broken: start anew.
        this.pending.fail(
          new RetryableError(
            `the faster-whisper worker wrote a line that is no answer: ${line.value.slice(0, 200)}`,
          ),
        );
        return;
      }
      this.pending.settle(answer.id, answer);
    }
  }
}

type Answer = WorkerAnswer | DetectAnswer | EmbedAnswer;

/** A JSON line, or what it said when it is none (the worker's first line must be JSON). */
function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return { unexpected: line.slice(0, 200) };
  }
}
