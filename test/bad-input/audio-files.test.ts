import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { speak } from '../support/audio.js';
import { gatewayEnv, startGateway } from '../support/gateway.js';
import { pipelineStack, TestServices } from '../support/pipeline.js';

const run = promisify(execFile);
const services = new TestServices();
afterEach(() => services.stopAll());

interface StreamStatus {
  state: string;
  chunks: number;
  audioMs: number;
  error: string | null;
}

function upload(file: string, name = file.split('/').pop()!): FormData {
  const form = new FormData();
  form.append('file', new Blob([readFileSync(file)]), name);
  return form;
}

async function ffmpeg(args: string[]): Promise<void> {
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

async function statusOf(url: string, streamId: string): Promise<StreamStatus> {
  return (await (await fetch(`${url}/v1/streams/${streamId}`)).json()) as StreamStatus;
}

async function until(
  url: string,
  streamId: string,
  done: (status: StreamStatus) => boolean,
): Promise<StreamStatus> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await statusOf(url, streamId);
    if (done(status) || Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('bad audio files on the audio endpoints', () => {
  it('refuses corrupt, empty, non-audio, video-only and oversized uploads with a reason, takes truncated and 2-hour recordings, and stays ready', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bad-audio-'));
    const env = gatewayEnv();
    const { stack } = await pipelineStack('bad-audio', {
      ...env,
      GATEWAY_UPLOAD_LIMIT_BYTES: String(16 * 1024 * 1024),
    });
    const { url } = await startGateway(services, stack);
    const spool = () => readdirSync(join(env.GATEWAY_DATA_DIR!, 'audio')).length;

    const files = {
      corrupt: join(dir, 'corrupt.mp3'),
      empty: join(dir, 'empty.wav'),
      text: join(dir, 'notes.ogg'),
      image: join(dir, 'picture.flac'),
      video: join(dir, 'silent-film.mp4'),
      oversized: join(dir, 'huge.wav'),
    };
    writeFileSync(files.corrupt, Buffer.concat([Buffer.from('ID3'), Buffer.alloc(5000, 0x5a)]));
    writeFileSync(files.empty, '');
    writeFileSync(files.text, 'this is not audio at all\n'.repeat(100));
    await ffmpeg([
      '-f',
      'lavfi',
      '-i',
      'color=c=red:s=32x32',
      '-frames:v',
      '1',
      '-f',
      'image2',
      '-c:v',
      'png',
      files.image,
    ]);
    await ffmpeg(['-f', 'lavfi', '-i', 'color=c=blue:s=64x64:d=2', '-an', files.video]);
    writeFileSync(files.oversized, Buffer.alloc(17 * 1024 * 1024, 1));

    const refusals: Array<[string, number, RegExp]> = [
      [files.corrupt, 400, /corrupt\.mp3 (is not audio ffmpeg can read|has no audio stream)/],
      [files.empty, 400, /empty\.wav (is not audio ffmpeg can read|has no audio stream)/],
      [files.text, 400, /notes\.ogg (is not audio ffmpeg can read|has no audio stream)/],
      [files.image, 400, /picture\.flac (is not audio ffmpeg can read|has no audio stream)/],
      [files.video, 400, /silent-film\.mp4 has no audio stream/],
      [files.oversized, 413, /larger than the limit of 16777216 bytes/],
    ];
    for (const [file, status, reason] of refusals) {
      const response = await fetch(`${url}/v1/audio`, { method: 'POST', body: upload(file) });
      const body = (await response.json()) as { message: string };
      expect(response.status, `${file}: ${body.message}`).toBe(status);
      expect(body.message).toMatch(reason);
    }
    // Not multipart at all, and multipart without its boundary.
    const json = await fetch(`${url}/v1/audio`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"file": "speech.mp3"}',
    });
    expect(json.status).toBe(415);
    const noBoundary = await fetch(`${url}/v1/audio`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data' },
      body: 'garbage',
    });
    expect(noBoundary.status).toBe(400);
    expect(((await noBoundary.json()) as { message: string }).message).toMatch(/malformed multipart/);
    // Nothing refused stays on the gateway's disk.
    expect(spool()).toBe(0);

    // A recording cut off mid-file: what is there is taken, and the stream ends normally.
    const speech = await speak(
      ['I feel so sad and alone', 'what a wonderful surprise'],
      join(dir, 'speech.wav'),
    );
    const mp3 = join(dir, 'speech.mp3');
    await ffmpeg(['-i', speech, mp3]);
    const whole = readFileSync(mp3);
    const truncated = join(dir, 'truncated.mp3');
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const form = upload(truncated);
    form.append('streamId', 'truncated');
    expect((await fetch(`${url}/v1/audio`, { method: 'POST', body: form })).status).toBe(202);
    const cut = await until(url, 'truncated', (status) => status.state !== 'running');
    expect(cut.state, cut.error ?? '').toBe('ended');
    expect(cut.audioMs).toBeGreaterThan(2000);
    expect(cut.chunks).toBeGreaterThan(0);

    // Two hours of a podcast (a quiet tone, 8 kb/s): taken, ingested with progress, stoppable. A tone
    // is not speech, so the VAD chunker sends no chunk of it: progress is the audio decoded.
    const long = join(dir, 'two-hours.mp3');
    await ffmpeg([
      '-f',
      'lavfi',
      '-i',
      'sine=f=220:r=8000:d=7200',
      '-af',
      'volume=0.05',
      '-ac',
      '1',
      '-b:a',
      '8k',
      long,
    ]);
    const longForm = upload(long);
    longForm.append('streamId', 'two-hours');
    const accepted = await fetch(`${url}/v1/audio`, { method: 'POST', body: longForm });
    expect(accepted.status).toBe(202);
    const progressing = await until(url, 'two-hours', (status) => status.audioMs >= 60_000);
    expect(progressing.state).toBe('running');
    const stopped = (await (
      await fetch(`${url}/v1/streams/two-hours`, { method: 'DELETE' })
    ).json()) as StreamStatus;
    expect(['stopped', 'running']).toContain(stopped.state);
    const final = await until(url, 'two-hours', (status) => status.state !== 'running');
    expect(final.state).toBe('stopped');
    expect(final.audioMs).toBeGreaterThanOrEqual(progressing.audioMs);
    expect(final.audioMs).toBeLessThan(7_200_000);

    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(spool()).toBe(0);
  });
});
