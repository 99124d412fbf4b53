/**
 * The lower bounds of bench/ (lower-bound.mjs for IPv4, lower-bound-v6.mjs for IPv4 and IPv6
 * hops and Forwarded) are only a bound if they do at least the validation the library does on
 * the scenarios' kind of input: on generated addresses and chains, valid and broken, whatever the
 * library refuses (a malformed entry or peer) the lower bound refuses too (null), and wherever the
 * library answers, the lower bound returns the same client text, canonical.
 *
 * The inputs stay in the lower bound's domain: X-Forwarded-For items without ports, brackets,
 * zones or tabs (no scenario has them), Forwarded `for=` values as the Forwarded scenario writes
 * them (a token IPv4, quoted `IPv4[:port]` or `[IPv6][:port]`).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as lib from '../src/index.js'
import { lowerBoundFor, lowerBoundResolveForwarded, lowerBoundResolveMixed, scenarioTrust } from '../bench/lower-bound-v6.mjs'
import { buildScenarios, cloudCidrs, peerList, RANGE_LIST } from '../bench/scenarios.mjs'

const RANGE_ARRAY = RANGE_LIST.split(', ')
const RUNS = 2000

// ---------------------------------------------------------------------------------------------
// Address text, valid in every RFC 4291 spelling, and broken

const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 0xf }), fc.integer({ min: 0, max: 0xffff }))
const hexText = (g: number, pad: number, upper: boolean) => {
  const t = g.toString(16).padStart(pad, '0')
  return upper ? t.toUpperCase() : t
}
const dotted = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`

/** Any RFC 4291 text of eight groups: `::` over any run of zero groups (or none), padded or upper-case digits, an optional dotted tail. */
const ipv6Text = fc
  .record({
    groups: fc.array(group, { minLength: 8, maxLength: 8 }),
    mapped: fc.boolean(),
    tail: fc.boolean(),
    pads: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 8, maxLength: 8 }),
    upper: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
    cut: fc.nat(),
  })
  .map(({ groups, mapped, tail, pads, upper, cut }) => {
    const g = mapped ? [0, 0, 0, 0, 0, 0xffff, groups[6]!, groups[7]!] : groups
    const written = tail ? 6 : 8
    const parts = g.slice(0, written).map((x, k) => hexText(x, Math.max(pads[k]!, 1), upper[k]!))
    // Zero runs that "::" may stand for: every [a, b) of zero groups among the written ones.
    const runs: [number, number][] = []
    for (let a = 0; a < written; a++) for (let b = a + 1; b <= written && g[b - 1] === 0; b++) runs.push([a, b])
    const tailText = tail ? [dotted(g[6]!, g[7]!)] : []
    const choice = cut % (runs.length + 1)
    if (choice === runs.length) return [...parts, ...tailText].join(':')
    const [a, b] = runs[choice]!
    return `${parts.slice(0, a).join(':')}::${[...parts.slice(b), ...tailText].join(':')}`
  })
const ipv4Text = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'))

/** Broken by hand, where parsers usually slip. */
const TRICKY = [
  ':::1', '1:::2', '1::2::3', ':1::2', '1::2:', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7:8',
  '12345::1', '::g', '::1.2.3', '::1.2.3.04', '::256.1.1.1', '1.2.3.4::', '::1.2.3.4:5', '::ffff:1.2.3.4.5', '1:2:3:4:5:6:7:1.2.3.4',
  '::', '::0.0.0.0', '::ffff:0.0.0.0', '0:0:0:0:0:0:0:0', '0.0.0.0', '::ffff:', '::1.2.3.4a', '1.2.3.4.', '.1.2.3.4', '01.2.3.4',
  '1.2.3.256', '1..2.3', 'ffff::1.2.3.4.', ':', '1:', ':1', '1', 'a', '1.2.3.4:', '::1]', '[::1', '1.2.3.4]'
]
/** A valid text with one character inserted, deleted or replaced (from the characters addresses are made of). */
const mutated = fc
  .tuple(fc.oneof(ipv6Text, ipv4Text), fc.nat(), fc.constantFrom(...'0123456789abcdefABCDEF:.g '), fc.constantFrom('insert', 'delete', 'replace'))
  .map(([t, at, c, how]) => {
    const k = at % (t.length + 1)
    return how === 'insert' ? t.slice(0, k) + c + t.slice(k) : how === 'delete' ? t.slice(0, k) + t.slice(k + 1) : t.slice(0, k) + c + t.slice(k + 1)
  })
const anyText = fc.oneof(ipv6Text, ipv4Text, mutated, mutated, fc.constantFrom(...TRICKY))

/** IPv4 with a port: an address to the library, out of the X-Forwarded-For lower bound's domain. */
const hasPort = (t: string) => /^\s*\d+\.\d+\.\d+\.\d+:\d+\s*$/.test(t)
const untrusting = { v4: () => false, v6: () => false }

describe('lower-bound-v6: one address, against the library', () => {
  it('reads RFC 4291 text as the library does and returns its canonical text', () => {
    fc.assert(
      fc.property(fc.oneof(ipv6Text, ipv4Text), (t) => {
        expect(lowerBoundResolveMixed(untrusting, t, undefined), t).toBe(lib.canonicalizeIp(t) ?? null)
      }),
      { numRuns: RUNS },
    )
  })

  it('refuses every socket address the library refuses, and answers the same for the rest', () => {
    const seen = { refused: 0, answered: 0 }
    fc.assert(
      fc.property(anyText, (t) => {
        const want = lib.canonicalizeIp(t)
        const got = lowerBoundResolveMixed(untrusting, t, undefined)
        if (want === undefined) expect(got, t).toBeNull()
        else if (!hasPort(t) && t.trim() === t) expect(got, t).toBe(want)
        seen[got === null ? 'refused' : 'answered']++
      }),
      { numRuns: RUNS },
    )
    expectBoth(seen)
  })
})

// ---------------------------------------------------------------------------------------------
// Whole walks

const { cidrs, inside } = cloudCidrs(100)
const inRangeList = fc.oneof(
  fc.tuple(fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })).map(([a, b, c]) => `10.${a}.${b}.${c}`),
  fc.nat(255).map((a) => `127.0.${a}.1`),
  fc.integer({ min: 1, max: 0xffff }).map((x) => `fd00::${x.toString(16)}`),
  fc.integer({ min: 1, max: 0xffff }).map((x) => `FD00:0:0:0:0:0:0:${x.toString(16).toUpperCase()}`),
  fc.integer({ min: 1, max: 0xffff }).map((x) => `fd00:0000::${x.toString(16).padStart(4, '0')}`),
  fc.constantFrom('::1', '0:0:0:0:0:0:0:1', '::ffff:10.1.2.3', '::ffff:7f00:1', '::FFFF:127.0.0.9'),
  fc.constantFrom(...inside.slice(0, 30)),
)
const outside = fc.oneof(
  ipv6Text,
  ipv4Text,
  fc.constantFrom('198.51.100.23', '2001:db8::17', '2001:DB8:0:0:1:0:0:1', 'fe80::1', 'fc00::1', '::ffff:198.51.100.7', '::198.51.100.7'),
)
const item = fc.oneof({ weight: 4, arbitrary: inRangeList }, { weight: 2, arbitrary: outside }, { weight: 1, arbitrary: anyText })
const separator = fc.constantFrom(',', ', ', ' ,', ' , ', ',  ')
const POLICIES = [
  { ours: RANGE_LIST, peer: RANGE_ARRAY },
  { ours: 'loopback', peer: ['loopback'] },
  { ours: '2', peer: [] },
  { ours: 'true', peer: [] },
  { ours: cidrs.join(', '), peer: cidrs },
]
const walk = fc.record({
  policy: fc.constantFrom(...POLICIES.keys()),
  remote: fc.oneof({ weight: 4, arbitrary: inRangeList }, { weight: 1, arbitrary: outside }, { weight: 1, arbitrary: anyText }),
  items: fc.array(item, { minLength: 1, maxLength: 6 }),
  seps: fc.array(separator, { minLength: 6, maxLength: 6 }),
})
const policies = POLICIES.map((p) => ({ ...p, policy: lib.parseTrustProxy(p.ours), trust: scenarioTrust(p as never, p.peer) }))

const MALFORMED = ['malformed-entry', 'malformed-peer']
/** A property that only ever saw one verdict would prove little: both must be common. */
function expectBoth(seen: { refused: number; answered: number }) {
  const all = seen.refused + seen.answered
  expect(seen.refused, JSON.stringify(seen)).toBeGreaterThan(all / 10)
  expect(seen.answered, JSON.stringify(seen)).toBeGreaterThan(all / 10)
}
/** The library's verdict: null when its walk stopped on a malformed hop (the lower bound's "no"), else the client. */
function library(policy: lib.TrustPolicy, remote: string, headers: Record<string, string>, options?: { header: string }) {
  const info = lib.resolveClient(policy, { remoteAddress: remote, headers }, options)
  return info.anomalies.some((a) => MALFORMED.includes(a)) ? null : info.ip
}

describe('lower-bound-v6: X-Forwarded-For walks, against the library', () => {
  it('stops where the library finds a malformed hop, and otherwise returns its client', () => {
    const seen = { refused: 0, answered: 0 }
    fc.assert(
      fc.property(walk, ({ policy, remote, items, seps }) => {
        // Spaces around an item are in the domain (the lower bound skips them); around the socket address they never occur.
        fc.pre(!hasPort(remote) && remote.trim() === remote && !items.some(hasPort))
        const p = policies[policy]!
        const xff = items.map((t, k) => (k === 0 ? t : seps[k]! + t)).join('')
        const got = lowerBoundResolveMixed(p.trust, remote, xff)
        expect(got, `${p.ours.slice(0, 40)} | ${remote} | ${xff}`).toBe(library(p.policy, remote, { 'x-forwarded-for': xff }))
        seen[got === null ? 'refused' : 'answered']++
      }),
      { numRuns: RUNS * 2 },
    )
    expectBoth(seen)
  })
})

// ---------------------------------------------------------------------------------------------
// Forwarded

const forValue = fc.oneof(
  fc.tuple(fc.oneof(inRangeList, outside, anyText).filter((a) => a.trim() === a), fc.option(fc.integer({ min: 0, max: 70000 }), { nil: undefined })).map(([a, port]) =>
    a.includes(':') || a.includes('[') ? `"[${a}]${port === undefined ? '' : `:${port}`}"` : port === undefined ? (/^[0-9.]+$/.test(a) && a !== '' ? a : `"${a}"`) : `"${a}:${port}"`,
  ),
  fc.constantFrom('unknown', '_hidden', '"_obf"', '""', '"[]"', '"[::1]:"', '"[::1]x"', '"1.2.3.4:"'),
)
const element = fc
  .record({ for: forValue, proto: fc.boolean(), by: fc.boolean(), host: fc.boolean(), order: fc.nat(), name: fc.constantFrom('for', 'For', 'FOR') })
  .map((e) => {
    const pairs = [`${e.name}=${e.for}`]
    if (e.proto) pairs.push('proto=https')
    if (e.by) pairs.push('by="[fd00::2]"')
    if (e.host) pairs.push('host=gw.example.com')
    const k = e.order % pairs.length
    return [...pairs.slice(k), ...pairs.slice(0, k)].join(';')
  })

describe('lower-bound-v6: Forwarded walks, against the library', () => {
  it('stops where the library finds a malformed hop, and otherwise returns its client', () => {
    const seen = { refused: 0, answered: 0 }
    fc.assert(
      fc.property(fc.constantFrom(...policies.keys()), inRangeList, fc.array(element, { minLength: 1, maxLength: 4 }), separator, (policy, remote, elements, sep) => {
        const p = policies[policy]!
        const fwd = elements.join(sep)
        const got = lowerBoundResolveForwarded(p.trust, remote, fwd)
        expect(got, `${p.ours.slice(0, 40)} | ${remote} | ${fwd}`).toBe(library(p.policy, remote, { forwarded: fwd }, { header: 'forwarded' }))
        seen[got === null ? 'refused' : 'answered']++
      }),
      { numRuns: RUNS },
    )
    expectBoth(seen)
  })
})

describe('every scenario has a lower bound that finds its client', () => {
  it.each(buildScenarios().map((s) => [s.id, s] as const))('%s', (_id, s) => {
    const { kind, fn } = lowerBoundFor(s, peerList(s, lib))
    expect(fn()).toBe(s.expected)
    // The IPv6 and Forwarded scenarios get the IPv6 reader: no scenario walking an IPv6 hop is bounded by the IPv4-only one.
    if (s.forwarded !== undefined) expect(kind).toBe('forwarded')
    else if (/ipv6|mapped|chain-(10|50)|cidrs|all-/.test(s.id)) expect(kind, s.id).toBe('ipv6')
  })
})
