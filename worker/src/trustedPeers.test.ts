import { describe, expect, it } from 'vitest';
import { clientAddress, DEFAULT_TRUSTED_PROXIES, parseBlock, trustedPeers } from './trustedPeers.ts';

describe('trustedPeers', () => {
  it('matches IPv4 and IPv6 peers against addresses and CIDR blocks', () => {
    const trusted = trustedPeers(['10.0.0.0/8', '203.0.113.7', '2001:db8:42::/48']);
    expect(trusted('10.255.1.2')).toBe(true);
    expect(trusted('11.0.0.1')).toBe(false);
    expect(trusted('203.0.113.7')).toBe(true);
    expect(trusted('203.0.113.8')).toBe(false);
    expect(trusted('2001:db8:42:ffff::1')).toBe(true);
    expect(trusted('2001:db8:43::1')).toBe(false);
    expect(trusted(undefined)).toBe(false);
    expect(trusted('not an address')).toBe(false);
  });

  it('takes an IPv4 peer on a dual-stack socket (::ffff:a.b.c.d) for its IPv4 address', () => {
    expect(trustedPeers(['192.168.0.0/16'])('::ffff:192.168.3.4')).toBe(true);
    expect(trustedPeers(['::ffff:0:0/96'])('192.168.3.4')).toBe(false);
  });

  it('trusts loopback and private networks by default, not the internet', () => {
    const trusted = trustedPeers(DEFAULT_TRUSTED_PROXIES);
    for (const peer of ['127.0.0.1', '::1', '10.1.2.3', '172.31.0.9', '192.168.1.1', 'fd12::1', 'fe80::1%eth0']) {
      expect(trusted(peer), peer).toBe(true);
    }
    for (const peer of ['172.32.0.1', '8.8.8.8', '2606:4700::1111']) expect(trusted(peer), peer).toBe(false);
  });

  it('refuses what is no address or block', () => {
    for (const bad of [
      '10.0.0.0/33',
      '10.0.0.256',
      '1::2::3',
      '2001:db8::/129',
      '10.0.0.0/8/8',
      'x/8',
      '1:2:3:4:5:6:7:8:9',
    ]) {
      expect(parseBlock(bad), bad).toBeUndefined();
    }
    expect(() => trustedPeers(['10.0.0.0/33'])).toThrow('not an address or CIDR block: 10.0.0.0/33');
  });
});

describe('clientAddress', () => {
  const trusted = trustedPeers(['127.0.0.1', '203.0.113.0/24']);
  it('reads from the right past the trusted proxies, to the first address that is none of them', () => {
    expect(clientAddress('198.51.100.7', trusted)).toBe('198.51.100.7');
    // A CDN (203.0.113.5) in front of the local proxy: the CDN's peer is the client.
    expect(clientAddress('198.51.100.7, 203.0.113.5', trusted)).toBe('198.51.100.7');
    // What the client wrote itself, left of that, is not believed.
    expect(clientAddress('1.2.3.4, 198.51.100.7, 203.0.113.5', trusted)).toBe('198.51.100.7');
    expect(clientAddress(' 198.51.100.7 ,, 203.0.113.5 ', trusted)).toBe('198.51.100.7');
  });

  it('takes the left-most entry when every entry is a trusted proxy, and nothing from an empty list', () => {
    expect(clientAddress('203.0.113.9, 203.0.113.5', trusted)).toBe('203.0.113.9');
    expect(clientAddress(' , ', trusted)).toBeUndefined();
  });
});
