import { describe, expect, it } from 'vitest';
import {
  checkStreamUrl,
  checkUrlHost,
  RefusedUrlError,
  UrlAllowList,
} from '../../gateway/streams/url-guard.js';

/** A resolver answering from a table, as DNS would. */
const dns = (table: Record<string, Array<{ address: string; family: number }>>) => async (host: string) => {
  const answer = table[host];
  if (!answer) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return answer;
};

const resolve = dns({
  'radio.example': [{ address: '93.184.215.14', family: 4 }],
  'internal.example': [{ address: '10.0.0.5', family: 4 }],
  'mixed.example': [
    { address: '93.184.215.14', family: 4 },
    { address: 'fd00::1', family: 6 },
  ],
  'media.lan': [{ address: '192.168.1.20', family: 4 }],
});

describe('stream URL guard', () => {
  const none = new UrlAllowList([]);

  it('lets public addresses through and refuses a host when any of its addresses is internal', async () => {
    await expect(checkUrlHost('https://radio.example/live.mp3', { allow: none, resolve })).resolves.toBe(
      'public',
    );
    await expect(checkUrlHost('http://internal.example/a', { allow: none, resolve })).rejects.toThrow(
      /internal\.example is 10\.0\.0\.5, a private or reserved address/,
    );
    await expect(checkUrlHost('http://mixed.example/a', { allow: none, resolve })).rejects.toThrow(
      RefusedUrlError,
    );
    await expect(checkUrlHost('http://nowhere.example/a', { allow: none, resolve })).rejects.toThrow(
      /cannot resolve nowhere\.example: ENOTFOUND/,
    );
    for (const url of ['http://0.0.0.0/', 'http://100.64.1.1/', 'http://[fe80::1]/', 'udp://239.0.0.1:1234'])
      await expect(checkUrlHost(url, { allow: none, resolve }), url).rejects.toThrow(RefusedUrlError);
  });

  it('allows what the allow-list names, by host name or network', async () => {
    const allow = new UrlAllowList(['media.lan', '10.0.0.0/8', '::1']);
    await expect(checkUrlHost('http://media.lan/a', { allow, resolve })).resolves.toBe('allowed');
    await expect(checkUrlHost('http://internal.example/a', { allow, resolve })).resolves.toBe('allowed');
    await expect(checkUrlHost('http://[::1]:8000/a', { allow, resolve })).resolves.toBe('allowed');
    await expect(checkUrlHost('http://127.0.0.1/a', { allow, resolve })).rejects.toThrow(/loopback/);
  });

  it('follows redirects itself, checking every hop, and hands ffmpeg the last one', async () => {
    const hops: Record<string, string | undefined> = {
      'https://radio.example/live': 'https://radio.example/edge/live',
      'https://radio.example/edge/live': undefined,
      'https://radio.example/sneaky': 'http://internal.example/admin',
      'https://radio.example/metadata': 'http://169.254.169.254/latest/meta-data/',
    };
    const requested: string[] = [];
    const fakeFetch = (async (url: string) => {
      requested.push(url);
      const location = hops[url];
      return new Response(null, location ? { status: 302, headers: { location } } : { status: 200 });
    }) as unknown as typeof fetch;
    const options = { allow: none, resolve, fetch: fakeFetch };
    await expect(checkStreamUrl('https://radio.example/live', options)).resolves.toBe(
      'https://radio.example/edge/live',
    );
    await expect(checkStreamUrl('https://radio.example/sneaky', options)).rejects.toThrow(
      /internal\.example is 10\.0\.0\.5/,
    );
    await expect(checkStreamUrl('https://radio.example/metadata', options)).rejects.toThrow(/cloud metadata/);
    // A host the allow-list names is trusted: no request is made to it (a live source may take one client only).
    requested.length = 0;
    const trusted = { allow: new UrlAllowList(['media.lan']), resolve, fetch: fakeFetch };
    await expect(checkStreamUrl('http://media.lan/live.mp3', trusted)).resolves.toBe(
      'http://media.lan/live.mp3',
    );
    expect(requested).toEqual([]);
  });
});
