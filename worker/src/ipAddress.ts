/**
 * Client addresses as text, read one way for the rate limit's buckets and for the trusted proxies: an
 * IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket reports for an IPv4 peer) is its IPv4
 * one, a zone (`%eth0`) goes, and `::` stands for the zero groups it replaces.
 *
 *     ipv6Groups(plainAddress('2001:DB8::1%eth0'));   // ['2001', 'db8', '0', '0', '0', '0', '0', '1']
 *     ipv4Octets(plainAddress('::ffff:10.0.0.7'));    // [10, 0, 0, 7]
 */

export function plainAddress(address: string): string {
  if (!address.includes(':')) return address;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped ? (mapped[1] as string) : (address.split('%')[0] as string).toLowerCase();
}

/** The four octets of a dotted IPv4 address, or undefined when it is none. */
export function ipv4Octets(address: string): number[] | undefined {
  const parts = address.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.map(Number);
}

/** The eight groups of an IPv6 address in lower case, `::` expanded, or undefined when it is none. */
export function ipv6Groups(address: string): string[] | undefined {
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string | undefined) => (half ? half.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  return all.every((g) => /^[0-9a-f]{1,4}$/.test(g)) ? all : undefined;
}
