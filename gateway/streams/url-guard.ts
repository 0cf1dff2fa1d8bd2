import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { HttpError } from '../http-errors.js';

/**
 * `POST /v1/streams {url}` makes the gateway (ffmpeg, yt-dlp) fetch a URL a client names; left
 * open, a client could point it at the gateway's own network: cloud metadata at 169.254.169.254,
 * admin ports on localhost, services on private addresses (server-side request forgery, OWASP
 * A10:2021; issue 21). URLs whose host resolves to such an address are refused unless
 * GATEWAY_STREAM_URL_ALLOW names it, and so is an HTTP redirect that leads there.
 *
 * Known limits: ffmpeg resolves the host again when it opens the URL, and an HLS playlist names
 * further URLs ffmpeg fetches itself; a DNS answer that changes between the two lookups, or a
 * playlist pointing inward, is not caught here. A host the allow-list names is trusted, its
 * redirects included. Network policy (egress rules) is the backstop.
 */

export class RefusedUrlError extends HttpError {
  override readonly name = 'RefusedUrlError';
  constructor(message: string) {
    super(400, message);
  }
}

/** Address ranges a stream URL may not reach unless allowed: not the public internet. */
const INTERNAL = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local: cloud metadata services
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const)
  INTERNAL.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const)
  INTERNAL.addSubnet(network, prefix, 'ipv6');

const KIND: Array<[string, number, string]> = [
  ['127.0.0.0', 8, 'a loopback address'],
  ['::1', 128, 'a loopback address'],
  ['169.254.0.0', 16, 'a link-local address (where cloud metadata services answer)'],
  ['fe80::', 10, 'a link-local address'],
];

function describeAddress(address: string, family: 'ipv4' | 'ipv6'): string {
  for (const [network, prefix, kind] of KIND) {
    const list = new BlockList();
    if (isIP(network) === (family === 'ipv4' ? 4 : 6)) {
      list.addSubnet(network, prefix, family);
      if (list.check(address, family)) return kind;
    }
  }
  return 'a private or reserved address';
}

/** Hosts and networks a stream URL may reach although internal: `127.0.0.1`, `10.1.0.0/16`, `media.lan`. */
export class UrlAllowList {
  private readonly networks = new BlockList();
  private readonly hosts = new Set<string>();

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address, prefix] = entry.split('/');
      const family = isIP(address ?? '');
      if (family === 0) {
        this.hosts.add(entry.toLowerCase());
        continue;
      }
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) this.networks.addAddress(address!, type);
      else this.networks.addSubnet(address!, Number(prefix), type);
    }
  }

  allows(host: string, address: string, family: 'ipv4' | 'ipv6'): boolean {
    return this.hosts.has(host.toLowerCase()) || this.networks.check(address, family);
  }
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:127.0.0.1, ::ffff:7f00:1). */
function mappedIpv4(address: string): string | undefined {
  const dotted = address.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i)?.[1];
  if (dotted) return dotted;
  const hex = address.match(/^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i);
  if (!hex) return undefined;
  const [high, low] = [Number.parseInt(hex[1]!, 16), Number.parseInt(hex[2]!, 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

type Resolve = (host: string) => Promise<Array<{ address: string; family: number }>>;

const MAX_REDIRECTS = 5;

export interface UrlGuardOptions {
  allow: UrlAllowList;
  /** DNS lookup; the system resolver by default. */
  resolve?: Resolve;
  /** HTTP client for the redirect hops; the global fetch by default. */
  fetch?: typeof fetch;
}

/**
 * Throws RefusedUrlError when the URL's host resolves to an internal address that is not allowed.
 * Returns 'allowed' when it reaches an internal address the allow-list names (a host the operator
 * trusts), 'public' otherwise.
 */
export async function checkUrlHost(input: string, options: UrlGuardOptions): Promise<'public' | 'allowed'> {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new RefusedUrlError(`not a valid URL: ${input}`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new RefusedUrlError(`not a valid URL (no host): ${input}`);
  const resolve: Resolve = options.resolve ?? ((name) => lookup(name, { all: true, verbatim: true }));
  let addresses: Array<{ address: string; family: number }>;
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await resolve(host);
    } catch (error) {
      throw new RefusedUrlError(`cannot resolve ${host}: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
  }
  let reach: 'public' | 'allowed' = 'public';
  for (const { address, family } of addresses) {
    const type: 'ipv4' | 'ipv6' = family === 6 ? 'ipv6' : 'ipv4';
    // An IPv4 address written as IPv6 (::ffff:127.0.0.1) is checked as the IPv4 address it is.
    const mapped = type === 'ipv6' ? mappedIpv4(address) : undefined;
    const [checked, checkedType]: [string, 'ipv4' | 'ipv6'] = mapped ? [mapped, 'ipv4'] : [address, type];
    if (!INTERNAL.check(checked, checkedType)) continue;
    if (!options.allow.allows(host, checked, checkedType)) {
      throw new RefusedUrlError(
        `refused: ${host} is ${address}, ${describeAddress(checked, checkedType)}; stream URLs may only ` +
          'reach public addresses unless GATEWAY_STREAM_URL_ALLOW names it',
      );
    }
    reach = 'allowed';
  }
  return reach;
}

/**
 * Checks a stream URL and, for http(s), every redirect it leads through (requests made here with
 * redirects off, each hop checked before it is followed). Returns the URL to open: the last hop,
 * so ffmpeg does not follow the checked redirects again on its own.
 */
export async function checkStreamUrl(input: string, options: UrlGuardOptions): Promise<string> {
  let current = input;
  const request = options.fetch ?? fetch;
  for (let hop = 0; ; hop++) {
    // A host the allow-list names is trusted, its redirects included: no request is made to it
    // here (a live source may serve one client only, and it must be ffmpeg).
    if ((await checkUrlHost(current, options)) === 'allowed') return current;
    const url = new URL(current);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return current;
    let response: Response;
    try {
      response = await request(current, {
        method: 'GET',
        redirect: 'manual',
        signal: AbortSignal.timeout(10_000),
      });
    } catch {
      // Unreachable now: ffmpeg reports it with its own words when it tries.
      return current;
    }
    await response.body?.cancel();
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) return current;
    if (hop >= MAX_REDIRECTS)
      throw new RefusedUrlError(`refused: more than ${MAX_REDIRECTS} redirects from ${input}`);
    current = new URL(location, current).toString();
  }
}
