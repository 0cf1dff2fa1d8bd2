import { execFile } from 'node:child_process';
import { AudioInputError } from './ffmpeg-decoder.js';

/**
 * Checks that a file holds audio ffmpeg can decode, before anything is produced: an upload that is
 * not audio gets its answer at once instead of as a failed stream later.
 */
export function probeAudioFile(path: string, name: string): Promise<{ durationMs: number | null }> {
  return new Promise((resolve, reject) => {
    execFile(
      'ffprobe',
      [
        '-v',
        'error',
        '-select_streams',
        'a',
        '-show_entries',
        'stream=codec_name:format=duration',
        '-of',
        'json',
        path,
      ],
      { timeout: 30_000 },
      (error, stdout, stderr) => {
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
          return reject(new AudioInputError('ffprobe is not installed (Debian: apt-get install ffmpeg)'));
        }
        const why = stderr
          .trim()
          .split('\n')
          .at(-1)
          ?.replace(/^\S*:\s*/, '');
        if (error)
          return reject(new AudioInputError(`${name} is not audio ffmpeg can read: ${why || 'unreadable'}`));
        const info = JSON.parse(stdout || '{}') as { streams?: unknown[]; format?: { duration?: string } };
        if (!info.streams?.length) return reject(new AudioInputError(`${name} has no audio stream`));
        const seconds = Number(info.format?.duration);
        resolve({ durationMs: Number.isFinite(seconds) ? Math.round(seconds * 1000) : null });
      },
    );
  });
}
