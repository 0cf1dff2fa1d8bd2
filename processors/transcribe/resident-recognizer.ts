import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  constants,
  createReadStream,
  createWriteStream,
  openSync,
  type ReadStream,
  type WriteStream,
} from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { RetryableError } from '../../runtime/errors.js';
import { diesWithParent } from '../../runtime/stack/managed-process.js';
import { PendingAnswers } from './pending-answers.js';

/**
 * One long-lived `pocketsphinx_batch` process that keeps its model loaded. Its control file is a
 * named pipe: each utterance is a raw PCM file in a private directory whose id we write to the pipe;
 * pocketsphinx decodes it and writes one `-hypseg` line to a second pipe, flushed per utterance. Loading
 * the model (about 1.5 s) therefore happens once per process instead of once per batch.
 */
export class ResidentRecognizer {
  private readonly pending: PendingAnswers<string>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly control: WriteStream,
    answers: ReadStream,
    private readonly dir: string,
    timeoutMs: number,
  ) {
    // Generous timeout: decoding runs at about a third of real time, and utterances queue behind each other.
    this.pending = new PendingAnswers<string>({
      name: 'pocketsphinx_batch',
      timeoutMs,
      onFail: () => {
        this.child.kill('SIGKILL');
        void rm(this.dir, { recursive: true, force: true });
      },
    });
    const lines = createInterface({ input: answers });
    lines.on('line', (line) => this.pending.settle(line.slice(0, line.indexOf(' ')), line));
    child.once('exit', (code, signal) =>
      this.pending.fail(new RetryableError(`pocketsphinx_batch exited (${code ?? signal})`)),
    );
    control.on('error', (error) =>
      this.pending.fail(new RetryableError(`pocketsphinx_batch control pipe: ${error.message}`)),
    );
  }

  static async start(options: {
    command: string;
    args: string[];
    timeoutMs: number;
  }): Promise<ResidentRecognizer> {
    const dir = await mkdtemp(join(tmpdir(), 'pocketsphinx-'));
    const control = join(dir, 'control');
    // The answers come through a named pipe too: pocketsphinx cannot open /dev/stdout when it is
    // the socket Node gives a child.
    const answers = join(dir, 'answers');
    execFileSync('mkfifo', [control, answers]);
    const files = [
      '-ctl',
      control,
      '-cepdir',
      dir,
      '-cepext',
      '.raw',
      '-hypseg',
      answers,
      '-logfn',
      join(dir, 'log'),
    ];
    const [command, args] = diesWithParent(options.command, [...options.args, ...files]);
    const child = spawn(command, args, { stdio: 'ignore' });
    const failedToStart = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        // Our own reader releases the writer's open(), which would otherwise wait for ever.
        closeSync(openSync(control, constants.O_RDONLY | constants.O_NONBLOCK));
        closeSync(openSync(answers, constants.O_RDWR));
        reject(new Error(`${options.command} exited at start (${code ?? signal}); see ${join(dir, 'log')}`));
      });
    });
    // Opening a pipe waits until pocketsphinx opens the other end, after it has loaded its model.
    const writer = createWriteStream(control);
    const reader = createReadStream(answers);
    try {
      await Promise.race([Promise.all([once(writer, 'open'), once(reader, 'open')]), failedToStart]);
    } catch (error) {
      writer.destroy();
      reader.destroy();
      throw error;
    }
    child.removeAllListeners('exit');
    child.removeAllListeners('error');
    return new ResidentRecognizer(child, writer, reader, dir, options.timeoutMs);
  }

  get alive(): boolean {
    return this.pending.failed === undefined;
  }

  /** The `-hypseg` line for one utterance of 16 kHz mono PCM. */
  async recognize(pcm: Buffer): Promise<string> {
    if (this.pending.failed) throw this.pending.failed;
    const { id, answer } = this.pending.expect('u');
    const file = join(this.dir, `${id}.raw`);
    try {
      await writeFile(file, pcm);
      this.control.write(`${id}\n`);
      return await answer;
    } finally {
      await rm(file, { force: true });
    }
  }

  async close(): Promise<void> {
    this.control.end();
    if (this.alive) await new Promise((resolve) => this.child.once('exit', resolve));
    await rm(this.dir, { recursive: true, force: true });
  }
}
