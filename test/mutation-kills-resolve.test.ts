/**
 * resolveClient and resolveClientIp at the edges the mutation run of walk.ts and resolve.ts found
 * unpinned (docs/mutation-testing.md), through the public API:
 *
 * - X-Forwarded-Proto and X-Forwarded-Host: the right-most item, trimmed of the white space a
 *   proxy may leave around it;
 * - a provider header behind the edge: the anomalies found before it are kept, and a socket peer
 *   that is the edge and that TRUST_PROXY trusts is believed for X-Forwarded-Proto;
 * - a Unix socket peer that is the edge: the walk stops there;
 * - a socket address with a comma is no address, and a policy that is undefined is refused with
 *   the library's own message;
 * - a header that is called `undefined` is no forwarding header.
 */
import { describe, expect, it } from 'vitest'
import { parseTrustProxy, resolveClient, resolveClientIp, type TrustFunction } from '../src/index.js'
// Only to see which pooled walk the next request gets (internal): the depth must be given back.
import { currentWalk } from '../src/walk.js'

const loopback = parseTrustProxy('loopback')

describe('the right-most X-Forwarded-Proto and X-Forwarded-Host item, trimmed', () => {
  it.each([
    // name, X-Forwarded-Proto, X-Forwarded-Host, the protocol and host believed
    ['an empty item before it', ',https', ',a.example', 'https', 'a.example'],
    ['a space before it', ' https', ' a.example', 'https', 'a.example'],
    ['a space after it', 'https ', 'a.example ', 'https', 'a.example'],
    ['tabs around the last of two', 'http,\thttps\t', 'b.example,\ta.example\t', 'https', 'a.example'],
    ['plain', 'https', 'a.example:8443', 'https', 'a.example:8443'],
    // trimmed as String.prototype.trim does, whatever the characters at the ends
    ['a no-break space before it', '\u00a0https', '\u00a0a.example', 'https', 'a.example'],
    ['a no-break space after it', 'https\u00a0', 'a.example\u00a0', 'https', 'a.example'],
    ['in capitals', 'HTTP', 'a.example', 'http', 'a.example'],
    ['in mixed case', 'Http', 'a.example', 'http', 'a.example'],
  ])('%s', (_name, proto, host, protocol, wantHost) => {
    const info = resolveClient(loopback, { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '192.0.2.1', 'x-forwarded-proto': proto, 'x-forwarded-host': host } })
    expect(info.protocol).toBe(protocol)
    expect(info.host).toBe(wantHost)
    expect(info.anomalies).toEqual([])
  })
})

describe('a provider header and the edge', () => {
  const EDGE = '198.51.100.0/24'
  it('the anomalies found before the edge header are kept (a hop count and a public edge peer)', () => {
    const info = resolveClient(parseTrustProxy('1'), { remoteAddress: '198.51.100.5', headers: { 'x-client-ip': '203.0.113.9' } }, { header: 'x-client-ip', edge: EDGE })
    expect(info.ip).toBe('203.0.113.9')
    expect(info.anomalies).toEqual(['hop-count-public-peer'])
  })

  it.each([
    // TRUST_PROXY, whether the edge peer's X-Forwarded-Proto is believed
    [`loopback, ${EDGE}`, 'https'],
    ['loopback', 'http'],
  ])('an edge peer under TRUST_PROXY=%s: X-Forwarded-Proto gives %s', (trust, protocol) => {
    const info = resolveClient(parseTrustProxy(trust), { remoteAddress: '198.51.100.5', headers: { 'x-client-ip': '203.0.113.9', 'x-forwarded-proto': 'https' } }, { header: 'x-client-ip', edge: EDGE })
    expect(info.ip).toBe('203.0.113.9')
    expect(info.protocol).toBe(protocol)
    expect(info.anomalies).not.toContain('forwarded-by-untrusted-peer')
  })

  it('a Unix socket peer that is the edge: the walk stops there, X-Forwarded-For unread', () => {
    const info = resolveClient(parseTrustProxy('unix'), { remoteAddress: undefined, headers: { 'x-client-ip': '192.0.2.1', 'x-forwarded-for': '198.51.100.7' } }, { header: 'x-client-ip', edge: 'unix' })
    expect(info).toMatchObject({ ip: '192.0.2.1', chain: [undefined, '192.0.2.1'], trustedHops: 1, source: 'x-client-ip' })
  })
})

describe('what is not a socket address or a policy', () => {
  it.each([['1,2.3.4.5'], ['1,2001:db8::1'], ['2.3.4.5,'], [' 2.3.4.5 ,1.1.1.1']])('a socket address with a comma: %j', (remote) => {
    expect(resolveClientIp(parseTrustProxy('false'), remote)).toBeUndefined()
    expect(resolveClient(parseTrustProxy('false'), { remoteAddress: remote }).anomalies).toEqual(['malformed-peer'])
  })

  it('an undefined policy is refused with the library\'s message', () => {
    expect(() => resolveClientIp(undefined as never, '10.0.0.1')).toThrow(/policy must be a TrustPolicy/)
    expect(() => resolveClient(undefined as never, { remoteAddress: '10.0.0.1' })).toThrow(/policy must be a TrustPolicy/)
  })

  it('a header called "undefined" is no forwarding header', () => {
    expect(resolveClient(loopback, { remoteAddress: '192.0.2.9', headers: { undefined: '1' } }).anomalies).toEqual([])
    expect(resolveClient(loopback, { remoteAddress: '127.0.0.1', headers: { undefined: '1' } }).anomalies).toEqual([])
  })
})

describe('the other forwarding headers, when the walked one is absent', () => {
  // Another forwarding header than the walked one, from an untrusted peer, is a spoof attempt or a
  // bypass; the walked header itself, present but empty, is nothing.
  const untrusted = '192.0.2.9'
  it.each([
    // name, the socket peer, the request's headers, the header walked, the anomalies
    ['X-Forwarded-For while Forwarded is walked', untrusted, { 'x-forwarded-for': '203.0.113.1' }, 'forwarded', ['forwarded-by-untrusted-peer']],
    ['X-Forwarded-For while X-Real-IP is walked', untrusted, { 'x-forwarded-for': '203.0.113.1' }, 'x-real-ip', ['forwarded-by-untrusted-peer']],
    ['X-Forwarded-Host alone', untrusted, { 'x-forwarded-host': 'a.example' }, 'x-forwarded-for', ['forwarded-by-untrusted-peer']],
    ['no headers at all while Forwarded is walked', untrusted, undefined, 'forwarded', []],
    ['other headers only while Forwarded is walked', untrusted, { host: 'a.example', 'user-agent': 'x' }, 'forwarded', []],
    ['an empty Forwarded while Forwarded is walked', untrusted, { forwarded: '' }, 'forwarded', []],
    ['an empty X-Real-IP while X-Real-IP is walked', untrusted, { 'x-real-ip': '' }, 'x-real-ip', []],
    ['an empty Forwarded from the proxy', '127.0.0.1', { forwarded: '' }, 'forwarded', []],
    ['an empty X-Real-IP from the proxy', '127.0.0.1', { 'x-real-ip': '' }, 'x-real-ip', []],
  ] as const)('%s', (_name, remoteAddress, headers, header, anomalies) => {
    const info = resolveClient(loopback, { remoteAddress, headers: headers === undefined ? undefined : { ...headers } }, { header })
    expect(info.ip).toBe(remoteAddress)
    expect(info.anomalies).toEqual(anomalies)
  })
  it('a Web Headers object without them, while Forwarded is walked', () => {
    const info = resolveClient(loopback, { remoteAddress: untrusted, headers: new Headers({ host: 'a.example' }) }, { header: 'forwarded' })
    expect(info.anomalies).toEqual([])
  })
})

describe('hop-count-public-peer is for a hop count only', () => {
  // The walk object is reused from one request to the next: what a hop-count walk found about its
  // peer must not make the next request's record, under another policy, say anything.
  it.each([
    // name, the policy of the request after a hop-count walk from a public peer
    ['a range list', 'loopback'],
    ['trust-all', 'true'],
    ['none', 'false'],
  ])('%s', (_name, value) => {
    expect(resolveClient(parseTrustProxy('1'), { remoteAddress: '198.51.100.7' }).anomalies).toEqual(['short-chain', 'hop-count-public-peer'])
    expect(resolveClient(parseTrustProxy(value), { remoteAddress: '198.51.100.8' }).anomalies).toEqual([])
    expect(resolveClient(parseTrustProxy(value), { remoteAddress: '10.0.0.8' }).anomalies).toEqual([])
  })
})

describe('the walk depth is given back after user code runs', () => {
  // A walk started from a trust function or a Headers get() runs one level deeper, in a walk of
  // its own; once that code returns (or throws), the next request must get the first walk again,
  // or every request would leave one more pooled walk behind.
  const nested: TrustFunction = (addr) => resolveClientIp(loopback, '127.0.0.1', '192.0.2.1') === '192.0.2.1' && addr === '127.0.0.1'
  const throwing: TrustFunction = () => {
    throw new Error('no')
  }
  const headers = new Headers({ 'x-forwarded-for': '192.0.2.1' })
  const getter = { get: (name: string) => (name === 'x-forwarded-for' ? resolveClientIp(loopback, '127.0.0.1', '192.0.2.2') : null) }
  it.each([
    // name, a call that runs user code, its answer
    ['resolveClientIp with a trust function', () => resolveClientIp(nested, '127.0.0.1', '192.0.2.3'), '192.0.2.3'],
    ['resolveClientIp with a trust function that throws', () => resolveClientIp(throwing, '127.0.0.1', '192.0.2.3'), '127.0.0.1'],
    ['resolveClient with a trust function', () => resolveClient(nested, { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '192.0.2.3' } }).ip, '192.0.2.3'],
    ['resolveClient with a Headers object', () => resolveClient(loopback, { remoteAddress: '127.0.0.1', headers }).ip, '192.0.2.1'],
    ['resolveClient with a get() that resolves another request', () => resolveClient(loopback, { remoteAddress: '127.0.0.1', headers: getter as never }).ip, '192.0.2.2'],
  ])('%s', (_name, call, ip) => {
    const before = currentWalk()
    for (let k = 0; k < 3; k++) expect(call()).toBe(ip)
    expect(currentWalk()).toBe(before)
  })
})
