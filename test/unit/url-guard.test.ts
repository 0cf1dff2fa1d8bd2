import { describe, expect, it } from 'vitest';
import { checkUrlHost, RefusedUrlError, UrlAllowList } from '../../gateway/streams/url-guard.js';

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
    await expect(
      checkUrlHost('https://radio.example/live.mp3', { allow: none, resolve }),
    ).resolves.toBeUndefined();
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
    await expect(checkUrlHost('http://media.lan/a', { allow, resolve })).resolves.toBeUndefined();
    await expect(checkUrlHost('http://internal.example/a', { allow, resolve })).resolves.toBeUndefined();
    await expect(checkUrlHost('http://[::1]:8000/a', { allow, resolve })).resolves.toBeUndefined();
    await expect(checkUrlHost('http://127.0.0.1/a', { allow, resolve })).rejects.toThrow(/loopback/);
  });
});
