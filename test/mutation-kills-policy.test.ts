/**
 * TRUST_PROXY edges that mutation testing (docs/mutation-testing.md) found unpinned: trust-all
 * written in pieces at the edges of each family and of the IPv4-mapped block (issue 11, point
 * 3: warn whenever the merged ranges cover a whole family, the mapped block ::ffff:0:0/96 being
 * IPv4 hosts), the shape of the policies that hold no ranges, and the reasons of refusals.
 * Public API only; the lists are built inside the tests, not while the file is collected.
 */
import { describe, expect, it } from 'vitest'
import { TrustProxyError, parseTrustProxy } from '../src/index.js'

/** The CIDR blocks that cover lo..hi exactly (the usual range-to-prefix split). */
function cidrs(lo: bigint, hi: bigint, bits: 32 | 128): string[] {
  const out: string[] = []
  while (lo <= hi) {
    let size = 0
    while (size < bits && (lo & ((1n << BigInt(size + 1)) - 1n)) === 0n && lo + (1n << BigInt(size + 1)) - 1n <= hi) size++
    out.push(`${text(lo, bits)}/${bits - size}`)
    lo += 1n << BigInt(size)
  }
  return out
}

function text(v: bigint, bits: 32 | 128): string {
  if (bits === 32) return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.')
  return [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) => ((v >> s) & 0xffffn).toString(16)).join(':')
}

const V4_MAX = (1n << 32n) - 1n
const V6_MAX = (1n << 128n) - 1n
/** ::ffff:0:0/96, the IPv4-mapped block. */
const M0 = 0xffffn << 32n
const M1 = M0 + 0xffffffffn
const FE80 = 0xfe80n << 112n
const FEBF_END = (0xfec0n << 112n) - 1n

const pieces: [name: string, list: () => string[], trustAll: boolean][] = [
  ['IPv4 in two halves', () => ['0.0.0.0/1', '128.0.0.0/1'], true],
  ['IPv4 in overlapping pieces', () => ['0.0.0.0/1', '64.0.0.0/2', '128.0.0.0/1'], true],
  ['IPv4 in pieces of every size, from a single address up', () => ['0.0.0.0/1', ...cidrs(128n << 24n, V4_MAX, 32)], true],
  ['IPv4 with a single address where the first half ends', () => ['0.0.0.0/1', '128.0.0.0/32', ...cidrs((128n << 24n) + 1n, V4_MAX, 32)], true],
  ['IPv4 but its last address', () => cidrs(0n, V4_MAX - 1n, 32), false],
  ['IPv4 but its first address', () => cidrs(1n, V4_MAX, 32), false],
  ['IPv4 but one address in the middle', () => [...cidrs(0n, (1n << 31n) - 2n, 32), ...cidrs(1n << 31n, V4_MAX, 32)], false],
  ['IPv6 in two halves', () => ['::/1', '8000::/1'], true],
  ['IPv6 but the IPv4-mapped block (which is IPv4)', () => [...cidrs(0n, M0 - 1n, 128), ...cidrs(M1 + 1n, V6_MAX, 128)], true],
  ['IPv6 but the mapped block and the address below it', () => [...cidrs(0n, M0 - 2n, 128), ...cidrs(M1 + 1n, V6_MAX, 128)], false],
  ['IPv6 but the mapped block and the address above it', () => [...cidrs(0n, M0 - 1n, 128), ...cidrs(M1 + 2n, V6_MAX, 128)], false],
  ['IPv6 but its last address', () => cidrs(0n, V6_MAX - 1n, 128), false],
  ['IPv6 but its first address (::, which is no host, but a range may start there)', () => cidrs(1n, V6_MAX, 128), false],
  // A zoned range matches only addresses with that zone: it covers no family.
  ['IPv6 with fe80::/10 only for one zone', () => [...cidrs(0n, FE80 - 1n, 128), 'fe80::%eth0/10', ...cidrs(FEBF_END + 1n, V6_MAX, 128)], false],
  ['IPv6 with fe80::/10 for every zone', () => [...cidrs(0n, FE80 - 1n, 128), 'fe80::/10', ...cidrs(FEBF_END + 1n, V6_MAX, 128)], true],
]

describe('trust-all written in pieces is warned, and only the whole family is', () => {
  it.each(pieces)('%s', (_name, list, trustAll) => {
    const policy = parseTrustProxy(list())
    expect(policy.warnings.filter((w) => w.code === 'trust-all').length).toBe(trustAll ? 1 : 0)
    // The warning is about the list, and the list is what it trusts: every address of the family or not.
    const probes = list()[0]!.includes(':') ? ['::1', '8000::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'fe80::1'] : ['0.0.0.1', '127.255.255.255', '255.255.255.255', '128.0.0.1']
    if (trustAll) for (const a of probes) expect(policy.trust(a, 1), a).toBe(true)
  })
})

describe('the policies that hold no ranges', () => {
  it.each([
    ['false', false, 'none', []],
    ['off', 'off', 'none', []],
    ['true', true, 'all', ['trust-all']],
    ['a hop count', 2, 'hops', ['hop-count']],
    ['a hop count as text', '1', 'hops', ['hop-count']],
  ] as const)('%s', (_name, value, kind, warnings) => {
    const policy = parseTrustProxy(value)
    expect(policy.kind).toBe(kind)
    expect(policy.ranges).toEqual([])
    expect(policy.warnings.map((w) => w.code)).toEqual(warnings)
  })
})

describe('refusals name their reason', () => {
  it.each([
    ['a prefix without an address', '/8', 'invalid-address'],
    ['a slash alone', '/', 'invalid-address'],
    ['a letter after an IPv4 address', '10.0.0.1x', 'invalid-address'],
    ['a letter after the third octet', '10.0.0.x', 'invalid-address'],
    ['a fifth part that is a word', '1.2.3.4.x', 'invalid-address'],
    ['digits with a letter between', '10.0a0.0.1', 'invalid-address'],
    ['an IPv4 address with an empty prefix', '1.2.3.4/', 'prefix-invalid'],
    ['a zone alone', '%eth0', 'zone-not-link-local'],
    ['an empty zone', '::1%', 'zone-invalid'],
    ['a zone on an address that starts with %', '%::1', 'invalid-address'],
  ])('%s: %j', (_name, value, reason) => {
    let error: unknown
    try {
      parseTrustProxy(value)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(TrustProxyError)
    expect((error as TrustProxyError).reason).toBe(reason)
    expect((error as TrustProxyError).entry).toBe(value)
  })
})
