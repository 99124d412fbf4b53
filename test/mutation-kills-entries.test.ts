/**
 * The entries of a TRUST_PROXY list as policy-entries.ts keeps them, at the edges the mutation
 * run of the cold-parse fast paths found unpinned (docs/mutation-testing.md): a repeated entry
 * adds no range under any entry, whichever path read it (the lexer's strict IPv4, the entry
 * parser, a name); the host-bits warnings past the cap are counted under their own code; equal
 * ranges tie once per entry and never with the entry itself; and IPv6 nesting compares every word
 * of both bounds, and a zone, when it decides that two ranges are the same.
 */
import { describe, expect, it } from 'vitest'
import { parseTrustProxy } from '../src/index.js'
import { collectOverlapWarnings, Warnings } from '../src/policy-warnings.js'
import { RangeList } from '../src/range-list.js'
import { RangeSet } from '../src/ranges.js'

const warned = (value: string): [string, string | undefined][] => parseTrustProxy(value).warnings.map((w) => [w.code, w.entry])

describe('a repeated entry adds no range under another entry', () => {
  // Its range would then count as one of that other entry's, and make it "covered" by the entry
  // repeated (or make the entry before it covered by the one after it).
  it.each([
    // name, the list, its warnings
    ['a strict IPv4 address repeated after a wider range', '10.0.0.1, 192.168.0.0/16, 10.0.0.1', [['duplicate', '10.0.0.1']]],
    ['a strict IPv4 address repeated, not the first entry', '10.0.0.1, 127.0.0.1, 192.168.0.0/16, 127.0.0.1', [['duplicate', '127.0.0.1']]],
    ['an IPv6 address repeated, not the first entry', '10.0.0.1, 2001:db8::1, 192.168.0.0/16, 2001:db8::1', [['duplicate', '2001:db8::1']]],
    ['a netmask range repeated, not the first entry', '10.0.0.1, 172.16.0.0/255.240.0.0, 192.168.0.0/16, 172.16.0.0/255.240.0.0', [['duplicate', '172.16.0.0/255.240.0.0']]],
    ['a name repeated, not the first entry', '10.0.0.1, loopback, 192.168.0.0/16, loopback', [['duplicate', 'loopback']]],
  ])('%s', (_name, value, warnings) => {
    expect(warned(value)).toEqual(warnings)
  })
})

describe('host bits past the cap', () => {
  it('are counted as "host-bits" for the entries the entry parser reads too', () => {
    // IPv6 entries are not read by the list lexer: their host bits are noticed by the entry parser.
    const entries = Array.from({ length: 23 }, (_, k) => `2001:db8:${(k + 1).toString(16)}::1/48`)
    const warnings = parseTrustProxy(entries.join(', ')).warnings
    expect(warnings).toHaveLength(21)
    expect(warnings.slice(0, 20).map((w) => [w.code, w.entry])).toEqual(entries.slice(0, 20).map((e) => ['host-bits', e]))
    expect(warnings[0]!.message).toBe('"2001:db8:1::1/48" has host bits set; it is read as 2001:db8:1::/48')
    expect(warnings[20]).toEqual({ code: 'host-bits', message: 'and 3 more "host-bits" warnings like the ones above' })
  })
})

describe('equal ranges in one entry', () => {
  // A refreshed provider list may hold a range twice (or as 10.0.0.0/8 and ::ffff:10.0.0.0/104):
  // the lists are built here as policy-entries.ts builds them.
  const overlap = (written: string[], rangeCount: number[], add: (list: RangeList) => void): [string | undefined, string][] => {
    const list = new RangeList()
    add(list)
    const warnings = new Warnings()
    collectOverlapWarnings(list, { written, rangeCount }, new RangeSet([]), warnings)
    return warnings.done().map((w) => [w.entry, w.message])
  }
  it('do not make the entry covered by itself', () => {
    const twice = (list: RangeList): void => {
      list.add4(0x7f000000, 8, 0)
      list.add4(0x7f000000, 8, 0)
    }
    expect(overlap(['fastly'], [2], twice)).toEqual([])
  })
  it('tie with an equal range of another entry once', () => {
    // loopback (127.0.0.0/8, ::1) and a list holding 127.0.0.0/8 twice and 192.0.2.0/24: one of
    // loopback's two ranges is inside the list, so neither covers the other.
    const lists = (list: RangeList): void => {
      list.add4(0x7f000000, 8, 0)
      list.add6(0, 0, 0, 1, 128, '', 0)
      list.add4(0x7f000000, 8, 1)
      list.add4(0x7f000000, 8, 1)
      list.add4(0xc0000200, 24, 1)
    }
    expect(overlap(['loopback', 'fastly'], [2, 3], lists)).toEqual([])
  })
  it('tie only when the zones are the same', () => {
    // fe80::/64 (and 10.0.0.0/8) beside a list whose one IPv6 range is fe80::%eth0/64: the zoned
    // range is inside the unzoned one, not the other way round.
    const lists = (list: RangeList): void => {
      list.add6(0xfe800000, 0, 0, 0, 64, '', 0)
      list.add4(0x0a000000, 8, 0)
      list.add6(0xfe800000, 0, 0, 0, 64, 'eth0', 1)
    }
    expect(overlap(['fe80::/64, 10.0.0.0/8', 'the other'], [2, 1], lists)).toEqual([['the other', '"the other" is already covered by "fe80::/64, 10.0.0.0/8"']])
  })
})

describe('the same IPv6 range in two entries is decided on every word of both bounds', () => {
  // Only a name can hold the same range as another entry under a different text; the range
  // before it in the list is chosen so that any word of another range compares unequal.
  it.each([
    // name, the list, its warnings
    ['::1 then loopback (the last word of the start)', '::1, loopback', [['nested', '::1']]],
    ['::1, another range, then loopback (the third word of both bounds)', '::1, ::1:0:0/96, loopback', [['nested', '::1']]],
    ['fe80::/10 then private (the second word of the start, every word of the end)', 'fe80::/10, private', [['nested', 'fe80::/10']]],
  ])('%s', (_name, value, warnings) => {
    expect(warned(value)).toEqual(warnings)
  })
})

describe('a zoned range is nested in the same range without a zone, whichever comes first', () => {
  // Fixed: the zoned range sorted first (list order) and, as the outer range, hid the unzoned one
  // that covers it, so `fe80::1%eth0, fe80::1` had no warning and `fe80::1, fe80::1%eth0` one.
  it.each([
    // name, the list, the nested entries, the entry that covers them
    ['the zoned address first', 'fe80::1%eth0, fe80::1', ['fe80::1%eth0'], 'fe80::1'],
    ['the zoned address second', 'fe80::1, fe80::1%eth0', ['fe80::1%eth0'], 'fe80::1'],
    ['the zoned range first', 'fe80::%eth0/64, fe80::/64', ['fe80::%eth0/64'], 'fe80::/64'],
    ['two zones first', 'fe80::%eth0/64, fe80::%eth1/64, fe80::/64', ['fe80::%eth0/64', 'fe80::%eth1/64'], 'fe80::/64'],
  ])('%s', (_name, value, nested, outer) => {
    const p = parseTrustProxy(value)
    expect(p.warnings.map((w) => [w.code, w.entry, w.message])).toEqual(nested.map((e) => ['nested', e, `"${e}" is already covered by "${outer}"`]))
    // The set is not changed: the unzoned range matches with any zone.
    expect(p.trust('fe80::1%eth9', 0)).toBe(true)
  })
})

describe('a range equal to several entries\' is inside each of them', () => {
  // Fixed: the equal ranges were counted only against the first entry that holds them, so an
  // entry after it was never covered by a later one: `fc00::/7, uniquelocal, private` did not say
  // that uniquelocal is covered by private.
  it.each([
    // name, the list, the nested entries and the entries that cover them
    ['a range, a name holding it, a name holding both', 'fc00::/7, uniquelocal, private', [['uniquelocal', 'private'], ['fc00::/7', 'uniquelocal'], ['fc00::/7', 'private']]],
    ['an IPv6 address, then loopback, then private', '::1, loopback, private', [['loopback', 'private'], ['::1', 'loopback'], ['::1', 'private']]],
    ['an IPv4 range, then loopback, then private', '127.0.0.0/8, loopback, private', [['127.0.0.0/8', 'loopback'], ['127.0.0.0/8', 'private'], ['loopback', 'private']]],
    ['the names first, the range last', 'uniquelocal, private, fc00::/7', [['uniquelocal', 'private'], ['fc00::/7', 'uniquelocal'], ['fc00::/7', 'private']]],
  ])('%s', (_name, value, nested) => {
    expect(parseTrustProxy(value).warnings.map((w) => [w.code, w.entry, w.message])).toEqual(nested.map(([e, by]) => ['nested', e, `"${e}" is already covered by "${by}"`]))
  })
})

describe('a list\'s ranges are sorted once per family', () => {
  // The set and the overlap warnings read the same sorted order of a 10,000-entry list, parsed
  // cold: the second reader gets the order the first one made, until a range is added.
  it.each([
    // name, adds a range, the family's order
    ['IPv4', (list: RangeList, k: number) => list.add4(0x0a000000 + k * 256, 24, k), (list: RangeList) => list.order4()],
    ['IPv6', (list: RangeList, k: number) => list.add6(0x20010db8, k << 16, 0, 0, 48, '', k), (list: RangeList) => list.order6()],
  ])('%s', (_name, add, order) => {
    const list = new RangeList()
    for (let k = 3; k > 0; k--) add(list, k)
    const first = order(list)
    expect([...first]).toEqual([2, 1, 0])
    expect(order(list)).toBe(first)
    add(list, 0)
    expect([...order(list)]).toEqual([3, 2, 1, 0])
    expect(order(list)).not.toBe(first)
  })
})

describe('a list of more IPv4 ranges than the key sort holds', () => {
  // Over 2^15 ranges, the IPv4 order is sorted with a comparator instead of packed keys: the same
  // order, equal ranges in list order.
  it('is sorted by start, the widest first, then in list order', () => {
    const list = new RangeList()
    const n = (1 << 15) + 3
    list.add4(0x0a000000, 8, 0)
    list.add4(0x0a000000, 16, 1)
    for (let k = 2; k < n - 1; k++) list.add4(0x0b000000 + k * 256, 24, k)
    list.add4(0x0a000000, 8, n - 1)
    const order = list.order4()
    expect(order).toHaveLength(n)
    expect([...order.subarray(0, 5)]).toEqual([0, n - 1, 1, 2, 3])
    expect(order[n - 1]).toBe(n - 2)
  })
})
