import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { AudioInputError, describe } from './ffmpeg-decoder.js';

/** Pages rather than media: their audio URL comes from yt-dlp. */
const PAGE_HOSTS = /(^|\.)(youtube\.com|youtu\.be|vimeo\.com|soundcloud\.com|twitch\.tv|dailymotion\.com)$/i;

/**
 * What ffmpeg should open for an input: a local file (which must exist), a media URL as it is, or,
 * for a page URL (YouTube and the like), the audio stream yt-dlp finds on it.
 */
export async function resolveAudioInput(input: string, options: { ytDlp?: string } = {}): Promise<string> {
  let url: URL | undefined;
  try {
    url = new URL(input);
  } catch {
    url = undefined;
  }
  if (!url || url.protocol === 'file:') {
    const path = url ? url.pathname : input;
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new AudioInputError(`${describe(path)}: no such file`);
    if (info.size === 0) throw new AudioInputError(`${describe(path)} is empty`);
    return path;
  }
  if (!PAGE_HOSTS.test(url.hostname)) return input;
  return new Promise((resolve, reject) => {
    execFile(
      options.ytDlp ?? 'yt-dlp',
      ['--no-playlist', '--quiet', '--no-warnings', '-f', 'bestaudio/best', '--get-url', input],
      { timeout: 60_000 },
      (error, stdout, stderr) => {
        const media = stdout.trim().split('\n')[0];
        if (!error && media) return resolve(media);
        const code = (error as NodeJS.ErrnoException | null)?.code;
        reject(
          new AudioInputError(
            code === 'ENOENT'
              ? 'yt-dlp is not installed (Debian: apt-get install yt-dlp)'
              : `cannot find audio on ${describe(input)}: ${stderr.trim().split('\n').at(-1) ?? 'yt-dlp failed'}`,
          ),
        );
      },
    );
  });
}
