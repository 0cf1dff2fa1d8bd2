import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

/** The input cannot be decoded or reached; the message says why in one line. */
export class AudioInputError extends Error {
  override readonly name = 'AudioInputError';
}

export interface PcmDecoder {
  /** 16-bit little-endian mono PCM at the requested rate. */
  pcm: Readable;
  /** Resolves when ffmpeg exits cleanly; rejects with AudioInputError otherwise. */
  finished: Promise<void>;
  stop(): void;
}

const NETWORK_INPUT = /^(https?|rtmp|rtmps|rtsp|srt|udp|tcp|hls):/i;

/**
 * Decodes anything ffmpeg reads (a file, HTTP, HLS, RTMP, SRT, UDP) to mono PCM on stdout. We drive
 * ffmpeg directly rather than through fluent-ffmpeg: that wrapper is no longer maintained, and the
 * arguments we need are few and fixed.
 */
export function decodeToPcm(input: string, options: { sampleRate: number; realtime: boolean }): PcmDecoder {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
  if (options.realtime) args.push('-re');
  if (NETWORK_INPUT.test(input)) {
    // A network input that stops answering fails after 15 s instead of hanging forever.
    if (!input.startsWith('udp:')) args.push('-rw_timeout', '15000000');
    // Live audio: decide the format from the first 32 kB / 0.5 s instead of buffering up to 5 s
    // first (ffmpeg's default), which would delay every result of the stream by as much. Not with
    // `-fflags nobuffer`: it throws away what was read to probe, so every live stream lost its
    // first 0.5-0.9 s (its first words), and stream time ran that much behind the source.
    args.push('-probesize', '32768', '-analyzeduration', '500000');
  }
  args.push('-i', input, '-vn', '-ac', '1', '-ar', String(options.sampleRate), '-f', 's16le', 'pipe:1');
  const child: ChildProcess = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (data: string) => {
    stderr = (stderr + data).slice(-4000);
  });
  let stopped = false;
  const finished = new Promise<void>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new AudioInputError(
          error.code === 'ENOENT'
            ? 'ffmpeg is not installed (Debian: apt-get install ffmpeg)'
            : error.message,
        ),
      ),
    );
    child.once('close', (code, signal) => {
      if (code === 0 || stopped) return resolve();
      const reason =
        stderr.trim().split('\n').filter(Boolean).at(-1) ?? `ffmpeg exited with ${code ?? signal}`;
      reject(new AudioInputError(`cannot decode ${describe(input)}: ${reason.replace(/^\S*:\s*/, '')}`));
    });
  });
  return {
    pcm: child.stdout!,
    finished,
    stop: () => {
      stopped = true;
      child.kill('SIGTERM');
    },
  };
}

/** The input as it may appear in a message: no credentials from a URL. */
export function describe(input: string): string {
  try {
    const url = new URL(input);
    if (url.protocol.length > 2) {
      url.username = '';
      url.password = '';
      url.search = '';
      return url.toString();
    }
  } catch {
    // A file path.
  }
  return input.split('/').pop() ?? input;
}
