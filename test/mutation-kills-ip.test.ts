/**
 * Address text at the edges the mutation run of the split address modules (ip.ts, ip-text.ts,
 * ip-backward.ts) found unpinned (docs/mutation-testing.md), each found by
 * scripts/mutation-differential.mjs and written here as a row through the public API:
 *
 * - IPv6 text one group too long with its IPv4 tail, or with a colon before its zone: no address;
 * - IPv6 text whose `::` stands for part of a zero run, or for one group at either end: its
 *   canonical form is built, never the input sliced, on every path (canonicalizeIp, a header
 *   item alone and after another, the socket peer);
 * - why an entry of TRUST_PROXY that is almost IPv4 is refused: the reason comes from the
 *   scanner's own failure (a fourth digit, a hexadecimal octet after the fourth, an empty octet).
 */
import { describe, expect, it } from 'vitest'
import { TrustProxyError, canonicalizeIp, listEntries, parseTrustProxy, resolveClientIp } from '../src/index.js'

const all = parseTrustProxy('true')
const none = parseTrustProxy('false')

const canonical: [name: string, text: string, want: string | undefined][] = [
  ['"::" for the end of a zero run', '1::0:1', '1::1'],
  ['"::" at the start for part of a zero run', '::0:1', '::1'],
  ['"::" for the shorter of two zero runs', '2001::1:0:0:0:1', '2001:0:0:1::1'],
  ['"::" for the last group alone', '1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
  ['"::" for the first group alone', '::1:2:3:4:5:6:7', '0:1:2:3:4:5:6:7'],
  ['"::" for one group in the middle', '1:2:3::5:6:7:8', '1:2:3:0:5:6:7:8'],
  ['a canonical compressed address', '2001:db8::1:0:0:1', '2001:db8::1:0:0:1'],
  ['a dot before three octets', '.2.3.4', undefined],
  ['an empty last octet', '1.2.3.', undefined],
  ['an embedded IPv4 tail after seven groups and a "::"', '1::2:3:4:5:6:7:1.2.3.4', undefined],
  ['a colon before the zone', '1::2:%eth0', undefined],
  ['a colon before the zone of a link-local address', 'fe80::1:%eth0', undefined],
]

describe('canonical text is built where the input is not canonical', () => {
  it.each(canonical)('%s: %s', (_name, text, want) => {
    expect(canonicalizeIp(text)).toBe(want)
    // As the whole header, as the item right of another, and left of another.
    expect(listEntries(text)).toEqual([want])
    expect(listEntries(`192.0.2.1, ${text}`)).toEqual(['192.0.2.1', want])
    expect(listEntries(`${text},192.0.2.1`)).toEqual([want, '192.0.2.1'])
    expect(resolveClientIp(all, '10.0.0.1', text)).toBe(want ?? '10.0.0.1')
    // As the socket peer.
    expect(resolveClientIp(none, text)).toBe(want)
  })
})

const refused: [name: string, entry: string, reason: string][] = [
  ['an empty octet after two', '8.88.', 'invalid-address'],
  ['an empty octet after the second dot', '1.2.', 'invalid-address'],
  ['a fourth digit 0 in the last octet', '10.0.0.1230', 'ipv4-octet-range'],
  ['a fourth digit 9 in the last octet', '10.0.0.1239', 'ipv4-octet-range'],
  ['six digits in the last octet', '255.255.255255', 'ipv4-octet-range'],
  ['a fourth digit in a middle octet', '1.2345.3.4', 'ipv4-octet-range'],
  ['a hexadecimal last octet', '1.2.3.0x5', 'ipv4-hex'],
  ['a hexadecimal middle octet', '1.2.0x3.4', 'ipv4-hex'],
  ['a hexadecimal last octet with a prefix', '1.2.3.0x5/32', 'ipv4-hex'],
  ['a letter after the last octet', '1.2.3.4x', 'invalid-address'],
  ['nine groups, an IPv4 tail after seven and a "::"', '1::2:3:4:5:6:7:1.2.3.4', 'invalid-address'],
]

describe('why an almost-IPv4 entry is refused', () => {
  it.each(refused)('%s: %s', (_name, entry, reason) => {
    let error: unknown
    try {
      parseTrustProxy(entry)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(TrustProxyError)
    expect((error as TrustProxyError).reason).toBe(reason)
    expect((error as TrustProxyError).entry).toBe(entry)
  })
})
