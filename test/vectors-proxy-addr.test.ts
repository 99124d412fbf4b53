/**
 * proxy-addr's own test suite, as data (`test/vectors/proxy-addr-vectors.json`): for valid
 * input we give the same client, in canonical form. Where we differ on purpose, the vector is
 * listed below with what we return and why; the test fails if a listed vector stops differing
 * (a stale reason) or an unlisted one starts to.
 */
import { describe, expect, it } from 'vitest'
import { TrustProxyError, type TrustProxyInput, canonicalizeIp, parseTrustProxy, resolveClient, resolveClientIp } from '../src/index.js'
import { loadVectors } from './support/vectors.js'

interface Vector {
  id: string
  test: string
  call: 'proxyaddr' | 'all' | 'compile'
  trust: unknown
  remote: string | null
  xff: string | null
  expectAddr: string | null
  expectAll?: string[]
  expectTrustCalls?: [string, number][]
}

const vectors = loadVectors<Vector>('proxy-addr-vectors.json')
const errorVectors = loadVectors<Vector>('proxy-addr-error-vectors.json')

/** Vectors where this library answers differently from proxy-addr, on purpose. */
const DEPARTURES: Record<string, { ours: string | undefined; reason: string }> = {
  'pa-022': {
    ours: '10.0.0.1',
    reason:
      '"localhost" is not an address: a malformed entry stops the walk, and the client is the last verified hop (the trusted peer), never header text',
  },
  'pa-041': { ours: '127.0.0.1', reason: '"proxy" is a malformed entry: the walk stops at the last verified hop' },
  'pa-042': { ours: '127.0.0.1', reason: '"::8:8:8:8:8:8:8:8:8" is not an IPv6 address: the walk stops at the last verified hop' },
  'pa-043': {
    ours: '127.0.0.1',
    reason:
      'with every hop trusted, proxy-addr returns the left-most text "myrouter" unvalidated; we stop at the malformed "proxy" and never return header text',
  },
}

function trustFunction(src: string, log: unknown[][]): (addr: string | undefined, i: number) => boolean {
  // The vectors carry the trust functions of proxy-addr's tests as source text (e.g. /^10\./.test(addr)).
  return new Function('log', `return (${src})`)(log) as (addr: string | undefined, i: number) => boolean
}

const isStatic = (t: unknown): t is string | string[] => typeof t === 'string' || Array.isArray(t)

describe('proxy-addr vectors: proxyaddr(req, trust)', () => {
  const cases = vectors.filter((v) => v.call === 'proxyaddr')
  it('covers the static-trust vectors', () => {
    expect(cases.filter((v) => isStatic(v.trust)).length).toBeGreaterThanOrEqual(30)
  })

  it.each(cases.map((v) => [`${v.id} ${v.test}`, v] as const))('%s', (_name, v) => {
    const log: unknown[][] = []
    let policy: Parameters<typeof resolveClientIp>[0]
    if (isStatic(v.trust)) {
      policy = parseTrustProxy(v.trust as TrustProxyInput)
    } else {
      policy = trustFunction((v.trust as { src: string }).src, log)
    }
    const ours = resolveClientIp(policy, v.remote ?? undefined, v.xff ?? undefined)
    const departure = DEPARTURES[v.id]
    if (departure) {
      expect(ours, departure.reason).toBe(departure.ours)
      expect(ours).not.toBe(v.expectAddr ?? undefined)
      return
    }
    const expected = v.expectAddr === null ? undefined : canonicalizeIp(v.expectAddr)
    if (v.expectAddr !== null) expect(expected, 'a non-departure vector expects a valid address').toBeDefined()
    expect(ours).toBe(expected)
    if (v.expectTrustCalls && !isStatic(v.trust)) {
      // Custom trust functions see the same calls as under proxy-addr: every hop but the
      // left-most, with canonical addresses.
      expect(log).toEqual(v.expectTrustCalls)
    }
  })
})

describe('proxy-addr vectors: proxyaddr.all(req, [trust])', () => {
  const cases = vectors.filter((v) => v.call === 'all')
  it.each(cases.map((v) => [`${v.id} ${v.test}`, v] as const))('%s', (_name, v) => {
    // all() without trust lists every address: our `all` policy's chain.
    const policy = v.trust === null ? parseTrustProxy(true) : parseTrustProxy(v.trust as string)
    const info = resolveClient(policy, {
      remoteAddress: v.remote ?? undefined,
      headers: v.xff === null ? {} : { 'x-forwarded-for': v.xff },
    })
    expect(info.chain).toEqual(v.expectAll!.map((a) => canonicalizeIp(a)))
    if (v.expectAddr !== null) expect(info.ip).toBe(canonicalizeIp(v.expectAddr))
  })
})

describe('proxy-addr vectors: proxyaddr.compile(trust)', () => {
  const cases = vectors.filter((v) => v.call === 'compile')
  it.each(cases.map((v) => [`${v.id} ${v.test}`, v] as const))('%s', (_name, v) => {
    const input = Array.isArray(v.trust) ? [...v.trust] : v.trust
    const policy = parseTrustProxy(input as TrustProxyInput)
    expect(typeof policy.trust).toBe('function')
    expect(input).toEqual(v.trust) // the input array is not altered
  })
})

describe('proxy-addr error vectors: the same bad trust values fail at parse time', () => {
  /** proxy-addr refuses a number; TRUST_PROXY accepts a number as a hop count (the Express form). */
  const ACCEPTED_ON_PURPOSE: Record<string, string> = {
    'pa-err-003': '42 is a hop count here (Express accepts numbers too)',
    'pa-err-020': '42 is a hop count here (Express accepts numbers too)',
  }
  const cases = errorVectors.filter((v) => typeof v.trust === 'string' || typeof v.trust === 'number')
  it('covers the value vectors', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20)
  })
  it.each(cases.map((v) => [`${v.id} ${JSON.stringify(v.trust)}`, v] as const))('%s', (_name, v) => {
    if (ACCEPTED_ON_PURPOSE[v.id]) {
      expect(parseTrustProxy(v.trust as TrustProxyInput).kind, ACCEPTED_ON_PURPOSE[v.id]).toBe('hops')
      return
    }
    expect(() => parseTrustProxy(v.trust as TrustProxyInput)).toThrow(TrustProxyError)
    try {
      parseTrustProxy(v.trust as TrustProxyInput)
    } catch (e) {
      expect((e as TrustProxyError).message).toContain(JSON.stringify(String(v.trust)))
    }
  })
})
