/**
 * The walk's state is explicit (src/walk.ts): a trust function, or a Headers object's `get`, that
 * resolves other requests in the middle of a walk leaves that walk exactly as it was. And a
 * policy is recognised by its brand alone, whichever copy of the library made it.
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { parseTrustProxy, resolveClient, resolveClientIp, traceClient, type TrustFunction } from '../src/index.js'

const proxies = parseTrustProxy('10.0.0.0/8, fd00::/8')
const plain: TrustFunction = (addr) => proxies.trust(addr, 0)

/** The same trust, but each call first resolves other requests (IPv4, IPv6, Forwarded, malformed). */
const meddling: TrustFunction = (addr, hop) => {
  resolveClientIp(proxies, '10.9.9.9', '198.51.100.1, 10.1.1.1')
  resolveClientIp(plain, 'fd00::9', '2001:db8::77, [fd00::5]:443, junk')
  resolveClient(proxies, { remoteAddress: 'fd00::1', headers: { forwarded: 'for="[2001:db8::1]:80";proto=https, for=_hidden' } }, { header: 'forwarded' })
  resolveClient(plain, { remoteAddress: '203.0.113.9', headers: { 'x-forwarded-for': '1.1.1.1' } })
  return plain(addr, hop)
}

const requests = [
  { remoteAddress: '10.0.0.3', headers: { 'x-forwarded-for': '192.0.2.55, 10.0.0.1, 10.0.0.2', host: 'example.com', 'x-forwarded-proto': 'https' } },
  { remoteAddress: 'fd00::2', headers: { 'x-forwarded-for': '2001:db8:85a3::8a2e:370:7334, fd00::1' } },
  { remoteAddress: '10.0.0.3', headers: { 'x-forwarded-for': 'garbage, 10.0.0.1' } },
  { remoteAddress: '10.0.0.3', headers: { 'x-forwarded-for': '10.0.0.9, 10.0.0.1' } },
  { remoteAddress: undefined, headers: { 'x-forwarded-for': '192.0.2.1' } },
]

describe('a walk is not disturbed by walks started inside it', () => {
  it.each(requests.map((r) => [r.headers['x-forwarded-for'], r] as const))('trust function resolving other requests: %s', (_name, req) => {
    expect(resolveClient(meddling, req)).toEqual(resolveClient(plain, req))
    expect(resolveClientIp(meddling, req.remoteAddress, req.headers['x-forwarded-for'])).toBe(resolveClientIp(plain, req.remoteAddress, req.headers['x-forwarded-for']))
    expect(traceClient(meddling, req)).toEqual(traceClient(plain, req))
  })

  it('a trust function that resolves requests and then throws fails closed for its hop only', () => {
    const throwing: TrustFunction = (addr, hop) => {
      meddling(addr, hop)
      if (addr === '10.0.0.1') throw new Error('no')
      return plain(addr, hop)
    }
    const info = resolveClient(throwing, requests[0]!)
    expect(info.ip).toBe('10.0.0.1')
    expect(info.chain).toEqual(['10.0.0.3', '10.0.0.2', '10.0.0.1'])
    expect(info.anomalies).toContain('trust-function-error')
  })

  it.each([
    ['with X-Forwarded-For', { 'x-forwarded-for': '192.0.2.55, 10.0.0.1, 10.0.0.2', host: 'example.com', 'x-forwarded-proto': 'https' }],
    // Without it, the other forwarding headers are read after the walk, before its findings are.
    ['without X-Forwarded-For', { host: 'example.com', 'x-forwarded-proto': 'https', 'x-real-ip': '192.0.2.1' }],
  ] as const)('a Headers object whose get() resolves other requests, %s', (_name, values: Record<string, string>) => {
    const headers = {
      get(name: string): string | null {
        resolveClient(proxies, { remoteAddress: '10.0.0.7', headers: { 'x-forwarded-for': '2001:db8::1, garbage' } })
        resolveClientIp(meddling, 'fd00::3', 'fd00::4, 198.51.100.9')
        return values[name] ?? null
      },
    }
    for (const remoteAddress of ['10.0.0.3', '203.0.113.5']) {
      expect(resolveClient(proxies, { remoteAddress, headers })).toEqual(resolveClient(proxies, { remoteAddress, headers: values }))
    }
  })
})

describe('one brand for policies', () => {
  const cjs = new URL('../dist/index.cjs', import.meta.url)
  it.skipIf(!existsSync(cjs))('a policy from the CommonJS build works with the ESM source, and the reverse', () => {
    const other = createRequire(import.meta.url)(cjs.pathname) as typeof import('../src/index.js')
    const theirs = other.parseTrustProxy('loopback')
    expect(resolveClientIp(theirs, '127.0.0.1', '203.0.113.7')).toBe('203.0.113.7')
    expect(resolveClient(theirs, { remoteAddress: '::1', headers: { 'x-forwarded-for': '203.0.113.8' } }).ip).toBe('203.0.113.8')
    expect(other.resolveClientIp(parseTrustProxy('2'), '10.0.0.2', '203.0.113.9, 10.0.0.1')).toBe('203.0.113.9')
  })

  it('an object shaped like a policy without the brand is refused at once', () => {
    const { kind, trust, ranges, warnings } = proxies
    expect(() => resolveClientIp({ kind, trust, ranges, warnings } as never, '10.0.0.1')).toThrow(/policy must be a TrustPolicy/)
  })
})
