/**
 * Which peers may tell the Node worker who the client is (`server.clientIpHeader`, `enrich.geoHeaders`): the
 * proxies in `server.trustedProxies`, addresses or CIDR blocks. Anyone else who reaches the port directly
 * could otherwise write those headers and pick a fresh rate-limit bucket, or someone else's, per request.
 *
 *     const trusted = trustedPeers(['10.0.0.0/8', '::1']);
 *     trusted('10.1.2.3');            // true
 *     trusted('::ffff:10.1.2.3');     // true: an IPv4 peer on a dual-stack socket
 *     clientAddress('198.51.100.7, 10.0.0.5', trusted);   // '198.51.100.7'
 */
import { ipv4Octets, ipv6Groups, plainAddress } from './ipAddress.ts';

/** Loopback, private, link-local and unique-local networks: where a reverse proxy in front of the worker sits. */
export const DEFAULT_TRUSTED_PROXIES = [
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '169.254.0.0/16',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
];

/**
 * The client's address in a list such as X-Forwarded-For that a trusted proxy sent: each proxy appends the
 * address it saw, so the entries are read from the right, past the trusted proxies' own, to the first that is
 * none of them (as nginx's `real_ip_recursive` does); what lies left of it the client wrote, and proves nothing.
 * Behind a CDN and a load balancer both listed, the client is then the CDN's peer, not the CDN.
 */
export function clientAddress(list: string, trusted: (address: string) => boolean): string | undefined {
  const entries = list
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (let i = entries.length - 1; i > 0; i--) {
    if (!trusted(entries[i] as string)) return entries[i];
  }
  return entries[0];
}

interface Block {
  bits: bigint;
  /** 32 for IPv4, 128 for IPv6. */
  width: number;
  prefix: number;
}

export function trustedPeers(cidrs: readonly string[]): (address: string | undefined) => boolean {
  const blocks = cidrs.map((cidr) => {
    const block = parseBlock(cidr);
    if (!block) throw new Error(`not an address or CIDR block: ${cidr}`);
    return block;
  });
  return (address) => {
    const parsed = address === undefined ? undefined : parseAddress(address);
    return !!parsed && blocks.some((b) => b.width === parsed.width && sameNetwork(b, parsed.bits));
  };
}

/** `203.0.113.0/24`, `2001:db8::/32`, or one address. */
export function parseBlock(cidr: string): Block | undefined {
  const [address = '', length, ...rest] = cidr.trim().split('/');
  const parsed = parseAddress(address);
  if (!parsed || rest.length) return undefined;
  const prefix = length === undefined ? parsed.width : Number(length);
  if (!/^\d{1,3}$/.test(length ?? '0') || prefix > parsed.width) return undefined;
  return { ...parsed, prefix };
}

function sameNetwork(block: Block, bits: bigint): boolean {
  const shift = BigInt(block.width - block.prefix);
  return bits >> shift === block.bits >> shift;
}

function parseAddress(address: string): { bits: bigint; width: number } | undefined {
  const plain = plainAddress(address);
  const octets = ipv4Octets(plain);
  if (octets) return { bits: octets.reduce((bits, o) => (bits << 8n) | BigInt(o), 0n), width: 32 };
  const groups = ipv6Groups(plain);
  return groups && { bits: groups.reduce((bits, g) => (bits << 16n) | BigInt(`0x${g}`), 0n), width: 128 };
}
