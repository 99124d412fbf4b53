/**
 * The entries of a TRUST_PROXY list as policy-entries.ts keeps them, at the edges the mutation
 * run of the cold-parse fast paths found: nested entries with zones and equal ranges.
 */
import { describe, expect, it } from 'vitest'
import { parseTrustProxy } from '../src/index.js'

const warned = (value: string): [string, string | undefined][] => parseTrustProxy(value).warnings.map((w) => [w.code, w.entry])

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
