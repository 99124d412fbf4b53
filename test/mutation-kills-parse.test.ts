/**
 * TRUST_PROXY parsing, its warnings and the policy brand, at the edges the mutation run of the
 * split policy modules (policy.ts, policy-parse.ts, policy-warnings.ts) found unpinned
 * (docs/mutation-testing.md), through the public API: which reason and position a refusal names,
 * each warning once per pair of entries and capped per kind, nesting in IPv6 decided on every word,
 * and a brand that does not hold a policy's internals refused with the library's own message.
 */
import { describe, expect, it } from 'vitest'
import { TrustProxyError, parseTrustProxy, refreshPresets, resolveClient, resolveClientIp } from '../src/index.js'
import { fastly } from '../src/presets/data/fastly.js'
// Only to put the shipped data object back (refreshPresets builds a new one, without `via`):
// the mutation set runs its files in one module registry (isolate: false).
import { swapPreset } from '../src/presets/registry.js'
import { collectOverlapWarnings, Warnings } from '../src/policy-warnings.js'
import { RangeList } from '../src/range-list.js'
import { RangeSet } from '../src/ranges.js'

function refusal(value: unknown): TrustProxyError {
  try {
    parseTrustProxy(value as never)
  } catch (e) {
    if (e instanceof TrustProxyError) return e
    throw e
  }
  throw new Error(`accepted: ${String(value)}`)
}

describe('refusals: reason, entry, position', () => {
  it.each([
    // name, value, reason, entry, position, a part of the message
    ['a function in an array', [() => 1], 'invalid-type', 'function', 0, 'must be a string'],
    ['a hop count with a fraction and an exponent, its whole part above the cap', '100.5e3', 'hop-count-format', '100.5e3', 0, 'no sign, fraction or exponent'],
    ['a digit-led word in a list', '2_3 10.0.0.1', 'invalid-address', '2_3', 0, 'not an IPv4 or IPv6 address'],
    ['a bare 0 in a list', '10.0.0.1, 0', 'hop-count-in-list', '0', 10, 'a bare number in a list'],
    ['a comma alone', ',', 'empty-entry', '', 0, 'a comma with no entry before it'],
    ['commas alone', ' , ,', 'empty-entry', '', 1, 'a comma with no entry before it'],
    ['a trailing comma after white space', '10.0.0.1 ,', 'empty-entry', '', 9, 'the list ends with a comma'],
    ['a trailing comma', '10.0.0.1,', 'empty-entry', '', 8, 'the list ends with a comma'],
  ] as const)('%s', (_name, value, reason, entry, position, problem) => {
    const e = refusal(value)
    expect(e.reason).toBe(reason)
    expect(e.entry).toBe(entry)
    expect(e.position).toBe(position)
    expect(e.message).toContain(problem)
  })
})

const codes = (value: string, code: string): { entry?: string; message: string }[] =>
  parseTrustProxy(value)
    .warnings.filter((w) => w.code === code)
    .map((w) => ({ ...(w.entry === undefined ? {} : { entry: w.entry }), message: w.message }))

describe('warnings: once per pair, capped per kind', () => {
  it('a name inside another name is nested once, with a single-range entry between them', () => {
    expect(codes('private, 203.0.113.1, uniquelocal', 'nested')).toEqual([{ entry: 'uniquelocal', message: '"uniquelocal" is already covered by "private"' }])
  })

  it('a range that a later name holds is the one covered, not the name', () => {
    expect(codes('10.0.0.0/8, private', 'nested')).toEqual([{ entry: '10.0.0.0/8', message: '"10.0.0.0/8" is already covered by "private"' }])
  })

  it('a repeated name is a duplicate and nothing else', () => {
    expect(parseTrustProxy('loopback, loopback').warnings.map((w) => [w.code, w.entry])).toEqual([['duplicate', 'loopback']])
  })

  it('duplicates past 20 are counted, not listed', () => {
    const list = codes(Array(26).fill('10.0.0.1').join(', '), 'duplicate')
    expect(list).toHaveLength(21)
    expect(list.slice(0, 20).every((w) => w.entry === '10.0.0.1')).toBe(true)
    expect(list[20]).toEqual({ message: 'and 5 more "duplicate" warnings like the ones above' })
  })

  it('nested entries past 20 are counted, not listed', () => {
    const inner = Array.from({ length: 25 }, (_, k) => `10.0.0.${k + 1}`)
    const list = codes(['10.0.0.0/8', ...inner].join(', '), 'nested')
    expect(list).toHaveLength(21)
    expect(list.slice(0, 20).map((w) => w.entry)).toEqual(inner.slice(0, 20))
    expect(list[20]).toEqual({ message: 'and 5 more "nested" warnings like the ones above' })
  })
})

describe('a preset whose own ranges nest', () => {
  // A refreshed list may hold a range and a wider one around it: that is one entry's business,
  // not a nested entry. The list is served by a fetch of our own, and the shipped data restored.
  const serve = (ranges: readonly string[]) => async () =>
    new Response(JSON.stringify({ addresses: ranges.filter((r) => !r.includes(':')), ipv6_addresses: ranges.filter((r) => r.includes(':')) }))
  it('is not warned as nested in itself', async () => {
    const inner = fastly.ranges.find((r) => !r.includes(':') && Number(r.split('/')[1]) < 24)!
    const nestedInside = inner.replace(/\/\d+$/, '/24')
    try {
      const report = await refreshPresets({ names: ['fastly'], fetch: serve([...fastly.ranges, nestedInside]), taken: fastly.taken })
      expect(report.results[0]).toMatchObject({ ok: true, changed: true })
      expect(parseTrustProxy('fastly').warnings).toEqual([])
      expect(parseTrustProxy(`fastly, ${nestedInside}`).warnings.map((w) => [w.code, w.entry])).toEqual([['nested', nestedInside]])
    } finally {
      swapPreset(fastly)
    }
  })
})

describe('two entries with the same ranges', () => {
  // Only a preset can hold the same ranges as another entry under a different text (equal single
  // ranges are repeats), and the shipped ones do not: the lists are built here, as
  // policy-entries.ts builds them, with two owners that each hold 127.0.0.0/8 and ::1.
  const overlap = (written: string[]): { entry?: string; message: string }[] => {
    const list = new RangeList()
    for (let owner = 0; owner < 2; owner++) {
      list.add4(0x7f000000, 8, owner)
      list.add6(0, 0, 0, 1, 128, '', owner)
    }
    const warnings = new Warnings()
    collectOverlapWarnings(list, { written, rangeCount: [2, 2] }, new RangeSet([]), warnings)
    return warnings.done().map((w) => ({ entry: w.entry, message: w.message }))
  }
  it('report the later one as covered, once', () => {
    expect(overlap(['loopback', 'fastly'])).toEqual([{ entry: 'fastly', message: '"fastly" is already covered by "loopback"' }])
    expect(overlap(['fastly', 'loopback'])).toEqual([{ entry: 'loopback', message: '"loopback" is already covered by "fastly"' }])
  })
})

describe('IPv6 nesting is decided on every word', () => {
  it.each([
    // name, the list, the nested entry, its outer entry
    ['decided on the second word, another range between', '2001:db8::/64, 3000::5, 2001:db8::1', '2001:db8::1', '2001:db8::/64'],
    ['decided on the third word, another range between', '2001:db8::/96, 3000::5:0:0, 2001:db8::1', '2001:db8::1', '2001:db8::/96'],
    ['decided on the last word, another range between', '2001:db8::/127, 3000:0:5::, 2001:db8::1', '2001:db8::1', '2001:db8::/127'],
    ['decided on the last word, the outer not first in the list', '3000::, 2001:db8::/127, 2001:db8::1', '2001:db8::1', '2001:db8::/127'],
    ['the last address of the outer range', 'fd00::/8, fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'fd00::/8'],
    ['the outer not first in the list', '2001:db8::/32, fd00::/8, fd00::1', 'fd00::1', 'fd00::/8'],
  ])('%s', (_name, value, entry, outer) => {
    expect(codes(value, 'nested')).toEqual([{ entry, message: `"${entry}" is already covered by "${outer}"` }])
  })
})

describe('a brand that holds no policy internals is refused', () => {
  const BRAND = Symbol.for('@infram/trust-proxy.policy')
  const fakes: [string, unknown][] = [
    ['null', null],
    ['an empty object', { [BRAND]: {} }],
    ['a number', { [BRAND]: 5 }],
    ['a kind that is a string', { [BRAND]: { kind: '3' } }],
  ]
  it.each(fakes)('as the policy: %s', (_name, policy) => {
    expect(() => resolveClientIp(policy as never, '10.0.0.1', '192.0.2.1')).toThrow(/policy must be a TrustPolicy/)
  })
  it.each([
    ['a brand of null', { [BRAND]: null }],
    ['a brand that is a function with a kind', { [BRAND]: Object.assign(() => true, { kind: 3 }) }],
    ['a brand of an empty object', { [BRAND]: {} }],
  ])('as the edge ranges: %s', (_name, edge) => {
    expect(() => resolveClient(parseTrustProxy('loopback'), { remoteAddress: '127.0.0.1' }, { header: 'x-client-ip', edge: edge as never })).toThrow(/options\.edge must be a range list/)
  })
})
