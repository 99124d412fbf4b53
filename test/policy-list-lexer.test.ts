/**
 * The list lexer reads strict IPv4 entries itself (their octets and prefix, in the regex that
 * finds the entries), so that a long TRUST_PROXY string is not read twice; an array's elements
 * are parsed by the range-entry parser alone. Both must make the same policy of the same entries,
 * and refuse the same entry with the same reason: near misses of strict IPv4 (leading zeros,
 * octets over 255, /32, host bits, prefixes over 32, netmasks, the unspecified address) beside
 * IPv6 and names, compared between the two forms.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TrustProxyError, parseTrustProxy } from '../src/index.js'

const RUNS = Number(process.env.FC_RUNS ?? 300)

const octet = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map(String),
  fc.constantFrom('00', '01', '010', '256', '300', '999', '1000', '0x1', ''),
)
const ipv4Like = fc
  .tuple(octet, octet, octet, octet, fc.integer({ min: 0, max: 9 }))
  .map(([a, b, c, d, n]) => (n === 0 ? `${a}.${b}.${c}` : n === 1 ? `${a}.${b}.${c}.${d}.${a}` : `${a}.${b}.${c}.${d}`))
const suffix = fc.oneof(
  fc.constant(''),
  fc.integer({ min: 0, max: 34 }).map((p) => `/${p}`),
  fc.constantFrom('/', '/08', '/032', '/255.255.0.0', '/255.0.255.0', '/x', '/32/', ':80'),
)
const ipv4Entry = fc.oneof(
  fc.tuple(ipv4Like, suffix).map(([a, s]) => a + s),
  fc.constantFrom('0.0.0.0', '0.0.0.0/32', '0.0.0.0/0', '255.255.255.255', '10.0.0.1/32', '10.0.0.1/8', '10.0.0.0/8'),
)
const otherEntry = fc.constantFrom('::1', '2001:db8::/32', '2001:db8::1/32', '::ffff:10.0.0.0/104', '::ffff:10.0.0.1', 'fe80::1%eth0', 'loopback', 'private', 'unix', 'true', 'nginx', '1.2.3.4x', 'x1.2.3.4')
const list = fc.array(fc.oneof({ weight: 4, arbitrary: ipv4Entry }, { weight: 1, arbitrary: otherEntry }), { minLength: 2, maxLength: 12 })

/** What a parse made, or why it refused, without the position (an offset in a string, an index in an array). */
function outcome(value: string | string[]): unknown {
  try {
    const p = parseTrustProxy(value)
    return { ranges: p.ranges, warnings: p.warnings, value: p.toString() }
  } catch (e) {
    if (!(e instanceof TrustProxyError)) throw e
    return { reason: e.reason, entry: e.entry, message: e.message.replace(/ at position \d+:/, ':') }
  }
}

describe('a TRUST_PROXY list as a string and as an array', () => {
  it('parses to the same policy, or fails on the same entry for the same reason', () => {
    fc.assert(
      fc.property(list, fc.constantFrom(', ', ',', ' ', '\n'), (entries, sep) => {
        expect(outcome(entries.join(sep))).toEqual(outcome(entries))
      }),
      { numRuns: RUNS },
    )
  })

  it('covers the cases the lexer reads itself and the ones it leaves to the entry parser', () => {
    // The generator above reaches both sides of every rule the lexer applies.
    expect(outcome('10.0.0.1/32, 10.0.0.1/8')).toMatchObject({ ranges: ['10.0.0.1', '10.0.0.0/8'], warnings: [{ code: 'host-bits' }, { code: 'nested' }] })
    expect(outcome('10.0.0.1, 0.0.0.0')).toMatchObject({ reason: 'unspecified-address', entry: '0.0.0.0' })
    expect(outcome('10.0.0.1, 10.0.0.01')).toMatchObject({ reason: 'ipv4-leading-zero' })
    expect(outcome('10.0.0.1, 10.0.0.0/08')).toMatchObject({ reason: 'prefix-invalid' })
    expect(outcome('10.0.0.1, 10.0.0.0/33')).toMatchObject({ reason: 'prefix-range' })
    expect(outcome('10.0.0.1 10.0.0.0/255.0.0.0')).toMatchObject({ ranges: ['10.0.0.1', '10.0.0.0/8'] })
  })
})
