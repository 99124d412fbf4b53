/**
 * Range entries and compiled range sets (cidr.ts, ranges.ts) at the edges the mutation run of the
 * split modules found unpinned (docs/mutation-testing.md), through the public API:
 *
 * - why an entry that is almost a range is refused (a port after digits and dots, a zone after
 *   the prefix, a word with a prefix, a prefix length with a digit too many);
 * - the canonical text and the host-bits warning when the host bits are in any one IPv6 word;
 * - IPv6 ranges sorted within the same top word, and widest first among equal starts, whichever
 *   order the list has;
 * - ranges that add up to a whole family, cut at word boundaries (the carry from one word to the
 *   next), at the IPv4-mapped block, and one address short of it;
 * - lists long enough (over 32,768 IPv4 and 65,536 IPv6 ranges) to be sorted the other way.
 */
import { describe, expect, it } from 'vitest'
import { TrustProxyError, parseTrustProxy, refreshPresets } from '../src/index.js'
import { fastly } from '../src/presets/data/fastly.js'
// Only to put the shipped data object back (refreshPresets builds a new one, without `via`):
// the mutation set runs its files in one module registry (isolate: false).
import { swapPreset } from '../src/presets/registry.js'

function refusal(value: string): TrustProxyError {
  try {
    parseTrustProxy(value)
  } catch (e) {
    if (e instanceof TrustProxyError) return e
    throw e
  }
  throw new Error(`accepted: ${value}`)
}

describe('why an almost-range entry is refused', () => {
  it.each([
    ['a colon alone', ':', 'invalid-address'],
    ['a hyphen before a colon and digits', '1-2:80', 'invalid-address'],
    ['a port after a 9', '10.0.0.9:80', 'port-not-allowed'],
    ['a port and a prefix', '10.0.0.1:80/8', 'port-not-allowed'],
    ['a zone after the prefix', '10.0.0.0/8%eth0', 'prefix-invalid'],
    ['a word with a prefix', 'foo/8', 'unknown-word'],
    ['an IPv4 prefix with a digit too many', '10.0.0.1/320', 'prefix-range'],
    ['an IPv6 prefix with a digit too many', '::1/1280', 'prefix-range'],
  ])('%s: %s', (_name, entry, reason) => {
    expect(refusal(entry).reason).toBe(reason)
  })
})

describe('host bits in each IPv6 word', () => {
  it.each([
    ['in the first word', '2001:db8::/8', '2000::/8'],
    ['in the second word', '2001:db8:1::/32', '2001:db8::/32'],
    ['in the third word', '2001:db8::1:0:0/64', '2001:db8::/64'],
    ['in the last word', '2001:db8::1/64', '2001:db8::/64'],
    ['in the second word, a prefix below 32', '2001:db8:1234:5678::/16', '2001::/16'],
    ['in the third word, a prefix between 32 and 64', '2001:db8:1:2:3:4::/40', '2001:db8::/40'],
  ])('%s: %s is read as %s', (_name, entry, text) => {
    const p = parseTrustProxy(entry)
    expect(p.toString()).toBe(text)
    expect(p.warnings.map((w) => [w.code, w.message])).toEqual([['host-bits', `"${entry}" has host bits set; it is read as ${text}`]])
  })
})

describe('IPv6 ranges in any order', () => {
  it.each([
    ['two of one top word, reversed', ['2001:db8:2::/48', '2001:db8:1::/48']],
    ['three of one top word, shuffled', ['2001:db8:3::/48', '2001:db8:1::/48', '2001:db8:2::/48']],
    ['five of one top word, reversed, after another word', ['fd00::1', '2001:db8:5::/48', '2001:db8:4::/48', '2001:db8:3::/48', '2001:db8:2::/48', '2001:db8:1::/48']],
  ])('%s', (_name, list) => {
    const p = parseTrustProxy(list)
    expect(p.warnings).toEqual([])
    for (const r of list) expect(p.trust(r.replace(/::\/48$/, '::5'), 0), r).toBe(true)
    expect(p.trust('2001:db8:6::1', 0)).toBe(false)
    expect(p.trust('2001:db8::1', 0)).toBe(false)
  })

  it.each([
    // name, list, the entry reported as nested, the entry it is in
    ['equal starts, the ends apart in the second word', ['fd00::1', '2001:db8::/48', '2001:db8::/40'], '2001:db8::/48', '2001:db8::/40'],
    ['equal starts, the ends apart in the third word', ['fd00::1', '2001:db8::/80', '2001:db8::/72'], '2001:db8::/80', '2001:db8::/72'],
    ['equal starts, the ends apart in the last word', ['fd00::1', '2001:db8::/112', '2001:db8::/104'], '2001:db8::/112', '2001:db8::/104'],
    ['equal starts, the wider first', ['2001:db8::/40', '2001:db8::/48'], '2001:db8::/48', '2001:db8::/40'],
    ['an inner range whose top word is above the outer start', ['::/15', '0:1::/32'], '0:1::/32', '::/15'],
    // An earlier range whose end words are all ones in the word that decides: read by mistake, it would decide.
    ['equal starts, the ends apart in the third word, after a range ending in ones there', ['fd00:0:0:0:ffff:ffff::', '2001:db8::/80', '2001:db8::/72'], '2001:db8::/80', '2001:db8::/72'],
    ['equal starts, the ends apart in the last word, after a range ending in ones in the second', ['fd00:0:ffff:ffff::', '2001:db8::/112', '2001:db8::/104'], '2001:db8::/112', '2001:db8::/104'],
  ])('%s', (_name, list, entry, outer) => {
    expect(parseTrustProxy(list).warnings.map((w) => [w.code, w.entry, w.message])).toEqual([['nested', entry, `"${entry}" is already covered by "${outer}"`]])
  })

  it.each([
    // name, list, an address the merged interval must hold
    ['a join extended in the third word, after a range with ones there', ['1:0:0:0:ffff:ffff::', '2001:db8::/96', '2001:db8::1:0:0/96'], '2001:db8::1:0:5'],
    ['a join extended in the last word, after a range with ones in the second', ['1:0:ffff:ffff::', '2001:db8::/112', '2001:db8::1:0/112'], '2001:db8::1:5'],
    // Nine intervals or more are searched, not scanned: an interval nested in the last one must not hide it.
    ['a range nested in the last interval, searched', ['0:1::1', '0:2::1', '0:3::1', '0:4::1', '0:5::1', '0:6::1', '0:7::1', '1:0:ffff:ffff::', '2001:db8::/112', '2001:db8::8/125'], '2001:db8::100'],
  ])('%s', (_name, list, address) => {
    const p = parseTrustProxy(list)
    expect(p.trust(address, 0)).toBe(true)
    for (const r of list) expect(p.trust(r.split('/')[0]!, 0), r).toBe(true)
  })

  it('a single address at the end of a range, then the range after it: one interval (trust-all)', () => {
    const p = parseTrustProxy(['::/1', '7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '8000::/1'])
    expect(p.warnings.map((w) => w.code).sort()).toEqual(['nested', 'trust-all'])
  })

  it('a first range at the address whose words are 0x80000000, 0, 0x80000000, 0, 0x80000000, 0, 0x80000000, 1', () => {
    const p = parseTrustProxy('8000:0:8000:0:8000:0:8000:1')
    expect(p.trust('8000:0:8000:0:8000:0:8000:1', 0)).toBe(true)
    expect(p.trust('8000:0:8000:0:8000:0:8000:2', 0)).toBe(false)
  })
})

// ---- ranges that add up: the CIDR blocks of an interval of addresses, as text.
const V6_TOP = (1n << 128n) - 1n
const V4_TOP = (1n << 32n) - 1n
function text6(v: bigint): string {
  const groups: string[] = []
  for (let k = 7; k >= 0; k--) groups.push(((v >> BigInt(k * 16)) & 0xffffn).toString(16))
  return groups.join(':')
}
function text4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.')
}
/** The CIDR blocks that cover exactly [from, to]. */
function cover(from: bigint, to: bigint, v6: boolean): string[] {
  const bits = v6 ? 128 : 32
  const out: string[] = []
  let a = from
  while (a <= to) {
    let size = 0
    while (size < bits && (a & ((1n << BigInt(size + 1)) - 1n)) === 0n && a + (1n << BigInt(size + 1)) - 1n <= to) size++
    out.push(`${v6 ? text6(a) : text4(a)}/${bits - size}`)
    a += 1n << BigInt(size)
  }
  return out
}
const BELOW_MAPPED = 0xfffeffffffffn // ::fffe:ffff:ffff
const ABOVE_MAPPED = 0x1000000000000n // ::1:0:0:0

describe('ranges that add up to a whole family are trust-all, however they are cut', () => {
  const trustAll = (list: string[]): number => parseTrustProxy(list).warnings.filter((w) => w.code === 'trust-all').length
  it.each([
    ['at the middle', 1n << 127n],
    ['one address below the middle (a range ending in ...:fffe)', (1n << 127n) - 1n],
    ['one address above the middle', (1n << 127n) + 1n],
    ['at the top of the last word', 1n << 32n],
    ['at the top of the third word', 1n << 64n],
    ['at the top of the second word', 1n << 96n],
    ['just above the second word', (1n << 96n) + 1n],
    ['one address from the top', V6_TOP],
    ['four addresses from the bottom', 4n],
  ])('IPv6, cut %s', (_name, at) => {
    expect(trustAll([...cover(0n, at - 1n, true), ...cover(at, V6_TOP, true)])).toBe(1)
    // One address left out at the cut: not all.
    expect(trustAll([...cover(0n, at - 2n, true), ...cover(at, V6_TOP, true)].filter((r) => !r.includes('-')))).toBe(0)
  })

  it.each([
    ['at the middle', 1n << 31n],
    ['one address below the middle', (1n << 31n) - 1n],
    ['at the top of the last byte', 256n],
  ])('IPv4, cut %s', (_name, at) => {
    expect(trustAll([...cover(0n, at - 1n, false), ...cover(at, V4_TOP, false)])).toBe(1)
    expect(trustAll([...cover(0n, at - 2n, false), ...cover(at, V4_TOP, false)])).toBe(0)
  })

  it('IPv6 with the IPv4-mapped block left out is still all (its addresses are IPv4)', () => {
    expect(trustAll([...cover(0n, BELOW_MAPPED, true), ...cover(ABOVE_MAPPED, V6_TOP, true)])).toBe(1)
  })

  it('IPv6 with the mapped block and another gap left out is not', () => {
    expect(trustAll([...cover(0n, BELOW_MAPPED, true), ...cover(ABOVE_MAPPED, 1n << 100n, true), ...cover((1n << 100n) + 2n, V6_TOP, true)])).toBe(0)
  })
})

describe('lists long enough to be sorted the other way', () => {
  it('32,769 IPv4 ranges, given in reverse', () => {
    const list = Array.from({ length: 32769 }, (_, k) => `10.${(k >> 8) & 255}.${k & 255}.0/30`).reverse()
    const p = parseTrustProxy([...list, '10.0.0.0/24'])
    expect(p.warnings.map((w) => [w.code, w.entry])).toEqual([['nested', '10.0.0.0/30']])
    for (const [a, trusted] of [['10.0.0.3', true], ['10.0.1.4', false], ['10.0.0.200', true], ['10.128.0.1', true], ['10.128.1.1', false], ['10.64.77.2', true], ['10.64.77.4', false]] as const) {
      expect(p.trust(a, 0), a).toBe(trusted)
    }
  })

  it('65,537 IPv6 ranges, given in reverse', () => {
    const list = Array.from({ length: 65537 }, (_, k) => `2001:db8:${(k >> 16).toString(16)}:${(k & 0xffff).toString(16)}::/64`).reverse()
    const p = parseTrustProxy([...list, '2001:db8:0:4::/63'])
    expect(p.warnings.map((w) => [w.code, w.entry])).toEqual([
      ['nested', '2001:db8:0:4::/64'],
      ['nested', '2001:db8:0:5::/64'],
    ])
    for (const [a, trusted] of [['2001:db8::1', true], ['2001:db8:0:ffff::9', true], ['2001:db8:1::1', true], ['2001:db8:1:1::1', false], ['2001:db9::1', false]] as const) {
      expect(p.trust(a, 0), a).toBe(trusted)
    }
  })
})

describe('a refreshed preset is compiled anew', () => {
  const serve = (ranges: readonly string[]) => async () =>
    new Response(JSON.stringify({ addresses: ranges.filter((r) => !r.includes(':')), ipv6_addresses: ranges.filter((r) => r.includes(':')) }))
  it('its IPv4 and IPv6 ranges are trusted, and nothing else', async () => {
    const v4 = fastly.ranges.find((r) => !r.includes(':'))!
    const v6 = fastly.ranges.find((r) => r.includes(':'))!
    // The same data in a new object: compiled again, by the same parser as any entry.
    try {
      const report = await refreshPresets({ names: ['fastly'], fetch: serve([...fastly.ranges]), taken: fastly.taken })
      expect(report.results[0]!.ok).toBe(true)
      const p = parseTrustProxy('fastly')
      expect(p.trust(v4.split('/')[0]!, 0)).toBe(true)
      expect(p.trust(v6.split('/')[0]!.replace(/::$/, '::1'), 0)).toBe(true)
      expect(p.trust('192.0.2.1', 0)).toBe(false)
      expect(p.trust('2001:db8::1', 0)).toBe(false)
      expect(p.trust('::1', 0)).toBe(false)
    } finally {
      swapPreset(fastly)
    }
  })
})
