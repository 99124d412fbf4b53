/**
 * realclientip-go's vectors (`test/vectors/realclientip-vectors.json`), mapped onto our
 * policies. `RightmostTrustedRange` is our `ranges` policy and `RightmostTrustedCount` our `hops`
 * policy; its `forwardedElement` / `forwardedList` cases test our RFC 7239 reader, and `parseIP`
 * our canonical form. Every case agrees, or is listed here with what we return and why.
 *
 * The mapping: realclientip-go reads only the header when the peer is missing (`""`) or a Unix
 * socket (`"@"`), which is our policy with `unix` trusted and an undefined peer. Its `""` result
 * (no trustworthy IP) is our `undefined`.
 */
import { describe, expect, it } from 'vitest'
import { canonicalizeIp, listEntries, parseTrustProxy, resolveClient } from '../src/index.js'
import { loadVectors } from './support/vectors.js'

interface Vector {
  id: string
  kind: string
  strategy?: string
  params?: { headerName: string; trustedRanges?: string[] | null; trustedCount?: number }
  remoteAddr?: string
  headers?: Record<string, string[]>
  expectConstructorError?: boolean
  expected: unknown
  input?: string
  function?: string
  expectError?: boolean
}

const all = loadVectors<Vector>('realclientip-vectors.json')

/** Go's address with zone, as our canonical text. */
function goAddr(e: { ip: string; zone: string } | null): string | undefined {
  if (e === null) return undefined
  return canonicalizeIp(e.zone ? `${e.ip}%${e.zone}` : e.ip)
}

function headersOf(v: Vector): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const [k, lines] of Object.entries(v.headers ?? {})) out[k.toLowerCase()] = lines
  return out
}

function peerOf(remoteAddr: string | undefined): string | undefined {
  return remoteAddr === '' || remoteAddr === '@' || remoteAddr === undefined ? undefined : remoteAddr
}

/** Strategy vectors where we answer differently, with our answer (and anomaly) and the reason. */
const STRATEGY_DEPARTURES: Record<string, { ours: string | undefined; anomaly?: string; reason: string }> = {
  'TestRightmostTrustedRangeStrategy/Fail: no non-trusted IP': {
    ours: '2.2.2.2',
    reason: 'every hop trusted: like proxy-addr, the client is the left-most entry, which a trusted proxy wrote',
  },
  'TestRightmostTrustedRangeStrategy/Fail: rightmost non-trusted IP invalid': {
    ours: '2.2.2.2',
    anomaly: 'malformed-entry',
    reason: '"nope" stops the walk; the client is the last verified hop, reported as malformed-entry',
  },
  'TestRightmostTrustedRangeStrategy/Fail: rightmost non-trusted IP unspecified': {
    ours: '2.2.2.2',
    anomaly: 'malformed-entry',
    reason: '"::" is no host: a malformed entry, so the last verified hop',
  },
  'TestRightmostTrustedRangeStrategy/Peer garbage: walks header as normal': {
    ours: undefined,
    anomaly: 'malformed-peer',
    reason: 'a socket address that is not an address is never trusted, and no client is named',
  },
  'TestRightmostTrustedRangeStrategy/Peer unspecified IP: walks header as normal': {
    ours: undefined,
    anomaly: 'malformed-peer',
    reason: '0.0.0.0 is no host: the peer is malformed, so nothing in the header can be believed',
  },
  'Example_playground/RightmostTrustedRange': {
    ours: '2001:db8:cafe::99',
    reason: 'a zone is kept only on link-local addresses; on a global address it is dropped',
  },
  'TestRightmostTrustedCountStrategy/Fail: header too short/count too large': {
    ours: '8.8.8.8',
    anomaly: 'malformed-entry',
    reason: '"7.7.7.7.7" stops the walk before the count runs out; the client is the last verified hop',
  },
  'TestRightmostTrustedCountStrategy/Fail: bad value at count index': {
    ours: '6.6.6.6',
    anomaly: 'malformed-entry',
    reason: '"For=nope" is malformed: the client is the last verified hop',
  },
  'TestRightmostTrustedCountStrategy/Fail: zero value at count index': {
    ours: '6.6.6.6',
    anomaly: 'malformed-entry',
    reason: '"For=0.0.0.0" is malformed: the client is the last verified hop',
  },
}

/** Constructor errors that are not errors here, and why. */
const CONSTRUCTOR_DEPARTURES: Record<string, string> = {
  'TestRightmostTrustedCountStrategy/Error: invalid header':
    'x-real-ip is accepted as a single-IP header (spec section 4); a hop count over it reads the one address',
  'TestRightmostTrustedRangeStrategy/Error: bad header nanme':
    'any other header name is read as a single-IP header (spec section 4)',
  'TestRightmostTrustedCountStrategy/Error: zero trustedCount': 'TRUST_PROXY=0 means "trust no proxy" (spec section 1)',
}

function buildPolicy(v: Vector) {
  const p = v.params!
  if (v.strategy === 'RightmostTrustedCount') return parseTrustProxy(p.trustedCount)
  const ranges = [...(p.trustedRanges ?? [])]
  if (peerOf(v.remoteAddr) === undefined) ranges.push('unix')
  return parseTrustProxy(ranges)
}

describe('realclientip-go strategies', () => {
  const cases = all.filter((v) => v.strategy === 'RightmostTrustedRange' || v.strategy === 'RightmostTrustedCount')
  it('covers both strategies', () => {
    expect(cases.length).toBe(31)
  })

  it.each(cases.map((v) => [v.id, v] as const))('%s', (id, v) => {
    if (v.expectConstructorError) {
      const departure = CONSTRUCTOR_DEPARTURES[id]
      const attempt = () => {
        buildPolicy(v)
        resolveClient(parseTrustProxy('1'), { headers: {} }, { header: v.params!.headerName })
      }
      if (departure) expect(attempt, departure).not.toThrow()
      else expect(attempt).toThrow()
      return
    }
    const info = resolveClient(
      buildPolicy(v),
      { remoteAddress: peerOf(v.remoteAddr), headers: headersOf(v) },
      { header: v.params!.headerName },
    )
    const departure = STRATEGY_DEPARTURES[id]
    if (departure) {
      expect(info.ip, departure.reason).toBe(departure.ours)
      if (departure.anomaly) expect(info.anomalies).toContain(departure.anomaly)
      expect(info.ip).not.toBe(v.expected === '' ? undefined : v.expected)
      return
    }
    const expected = v.expected === '' ? undefined : canonicalizeIp(v.expected as string)
    expect(info.ip).toBe(expected)
  })
})

describe('realclientip-go Forwarded elements', () => {
  /** Ours differs from realclientip-go here, following RFC 7239. */
  const DEPARTURES: Record<string, string> = {
    'Test_parseForwardedListItem/RFC deviation: Incorrect whitespace':
      'RFC 7239 allows no white space after "=": the element is malformed (realclientip-go accepts it as a deviation)',
  }
  const cases = all.filter((v) => v.kind === 'forwardedElement')
  it.each(cases.map((v) => [v.id, v] as const))('%s', (id, v) => {
    const [entry] = listEntries(v.input!, 'forwarded')
    const expected = goAddr(v.expected as { ip: string; zone: string } | null)
    if (DEPARTURES[id]) {
      expect(entry, DEPARTURES[id]).toBeUndefined()
      expect(expected).toBeDefined()
      return
    }
    expect(entry).toBe(expected)
  })
})

describe('realclientip-go Forwarded lists (its documented RFC deviations)', () => {
  /**
   * Our answer for each, and whether it is the RFC's answer (from the vector's rfcComment) or
   * realclientip-go's deviation.
   */
  const OURS: Record<string, { ours: (string | undefined)[]; why: string }> = {
    'Test_forwardedHeaderRFCDeviations/Comma in quotes': {
      ours: [undefined, '4.4.4.4'],
      why: 'RFC: a quoted string is one value, commas inside it do not split elements',
    },
    'Test_forwardedHeaderRFCDeviations/Unmatched quote': {
      ours: [undefined, '2.2.2.2'],
      why: 'as realclientip-go: read from the right, a client-written unmatched quote cannot invalidate the elements our proxies appended',
    },
    'Test_forwardedHeaderRFCDeviations/Invalid characters': {
      ours: [undefined, '2.2.2.2'],
      why: 'RFC: an invalid parameter invalidates its element',
    },
    'Test_forwardedHeaderRFCDeviations/Duplicate token': {
      ours: [undefined, '3.3.3.3'],
      why: 'RFC: a repeated parameter invalidates its element (either copy could be the forged one)',
    },
    'Test_forwardedHeaderRFCDeviations/Escaped character': {
      ours: ['3.3.3.3'],
      why: 'RFC: quoted-pair escapes are resolved',
    },
    'Test_forwardedHeaderRFCDeviations/Equal sign spaces': {
      ours: [undefined, undefined],
      why: 'RFC: no white space around "="',
    },
    'Test_forwardedHeaderRFCDeviations/Disallowed characters in unquoted value (like colons and square brackets': {
      ours: ['2607:f8b0:4004:83f::200e'],
      why: 'as realclientip-go: an unquoted IPv6 value is accepted because proxies configured as `for=$remote_addr` write it that way, and the address parser is strict',
    },
    'Test_forwardedHeaderRFCDeviations/IPv6 brackets': {
      ours: ['2607:f8b0:4004:83f::200e'],
      why: 'as realclientip-go: a quoted IPv6 value without brackets is accepted',
    },
    'Test_forwardedHeaderRFCDeviations/IPv4 brackets': {
      ours: [undefined],
      why: 'RFC: brackets are for IPv6 only',
    },
  }
  const cases = all.filter((v) => v.kind === 'forwardedList')
  it('has our answer for each list', () => {
    expect(cases.map((v) => v.id).sort()).toEqual(Object.keys(OURS).sort())
  })
  it.each(cases.map((v) => [v.id, v] as const))('%s', (id, v) => {
    const ours = listEntries(v.headers!.Forwarded!, 'forwarded')
    expect(ours, OURS[id]!.why).toEqual(OURS[id]!.ours)
  })
})

describe('realclientip-go address parsing', () => {
  const DEPARTURES: Record<string, { ours: string | undefined; reason: string }> = {
    'TestParseIPAddr/Empty zone': { ours: undefined, reason: 'a "%" must be followed by a zone, and IPv4 has none' },
    'Test_goodIPAddr/Empty zone': { ours: undefined, reason: 'a "%" must be followed by a zone, and IPv4 has none' },
    'TestParseIPAddr/Bad port (is discarded)': { ours: undefined, reason: 'a bad port makes the entry malformed (spec section 2)' },
    'Test_goodIPAddr/Bad port (is discarded)': { ours: undefined, reason: 'a bad port makes the entry malformed (spec section 2)' },
    'TestParseIPAddr/With zone and port': {
      ours: '2607:f8b0:4004:83f::200e',
      reason: 'a zone is kept only on link-local addresses',
    },
    'Test_goodIPAddr/With zone and port': {
      ours: '2607:f8b0:4004:83f::200e',
      reason: 'a zone is kept only on link-local addresses',
    },
    'TestParseIPAddr/Zero address': { ours: undefined, reason: '0.0.0.0 is not an address (as goodIPAddr)' },
    'TestParseIPAddr/Unspecified address': { ours: undefined, reason: ':: is not an address (as goodIPAddr)' },
  }
  const cases = all.filter((v) => v.kind === 'parseIP')
  it.each(cases.map((v) => [v.id, v] as const))('%s', (id, v) => {
    const ours = canonicalizeIp(v.input!)
    const departure = DEPARTURES[id]
    if (departure) {
      expect(ours, departure.reason).toBe(departure.ours)
      return
    }
    expect(ours).toBe(v.expectError ? undefined : goAddr(v.expected as { ip: string; zone: string }))
  })
})

describe('realclientip-go fuzz seeds: results are canonical and idempotent', () => {
  // Parsed inside each test, not while the file is collected: mutation testing (Stryker) treats
  // code run at collection as "static" and then runs every test for each mutant in it.
  const trust = '10.0.0.0/8, 192.168.0.0/16, fc00::/7, unix'
  const cases = all.filter((v) => v.kind === 'fuzzInvariant')
  it.each(cases.map((v) => [v.id, v] as const))('%s', (_id, v) => {
    const policy = parseTrustProxy(trust)
    const xff = v.headers!['X-Forwarded-For']!
    const first = resolveClient(policy, { headers: { 'x-forwarded-for': xff } })
    if (first.ip !== undefined) {
      expect(canonicalizeIp(first.ip)).toBe(first.ip)
      const again = resolveClient(policy, { headers: { 'x-forwarded-for': first.ip } })
      expect(again.ip).toBe(first.ip)
    }
    expect(first.anomalies).toContain('malformed-entry')
  })
})
