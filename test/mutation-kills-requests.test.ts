/**
 * What a request carries besides well-formed headers, and what one request leaves behind for the
 * next (the readers keep scratch state between calls): each row states the answer the spec
 * gives (spec sections 2 and 5), through the public API. Found unpinned by mutation testing
 * (docs/mutation-testing.md); nothing is parsed while the file is collected.
 */
import proxyaddr from 'proxy-addr'
import { describe, expect, it } from 'vitest'
import { parseTrustProxy, resolveClient, resolveClientIp } from '../src/index.js'

const PEER = '127.0.0.1'
const loopback = (() => {
  let p: ReturnType<typeof parseTrustProxy> | undefined
  return () => (p ??= parseTrustProxy('loopback'))
})()

describe('a request never reads the header of the request before it', () => {
  it.each([
    ['an empty array of lines', []],
    ['an array of one empty line', ['']],
    ['an array of one line of white space', [' \t ']],
    ['undefined', undefined],
    ['null', null],
    ['an empty string', ''],
  ])('%s', (_name, value) => {
    expect(resolveClientIp(loopback(), PEER, '192.0.2.1')).toBe('192.0.2.1')
    expect(resolveClientIp(loopback(), PEER, value as never)).toBe(PEER)
    expect(resolveClient(loopback(), { remoteAddress: PEER, headers: { 'x-forwarded-for': '192.0.2.1' } }).ip).toBe('192.0.2.1')
    const info = resolveClient(loopback(), { remoteAddress: PEER, headers: { 'x-forwarded-for': value as never } })
    expect(info.ip).toBe(PEER)
    expect(info.chain).toEqual([PEER])
    // An untrusted peer that sent no forwarding header is no spoof attempt.
    const direct = resolveClient(loopback(), { remoteAddress: '203.0.113.9', headers: { 'x-forwarded-for': value as never } })
    expect(direct.anomalies).not.toContain('forwarded-by-untrusted-peer')
  })
})

describe('a header object whose get() throws has no headers', () => {
  // getHeader prefers get() (Web Headers); when it throws, the header is unreadable: absent, not
  // read another way (an own property of the same name would be a second, unchecked source).
  it.each([
    ['with the header as an own property too', { get() { throw new Error('no') }, 'x-forwarded-for': '192.0.2.1', host: 'a.example' }],
    ['with nothing else', { get() { throw new Error('no') } }],
  ])('%s', (_name, headers) => {
    const info = resolveClient(loopback(), { remoteAddress: PEER, headers: headers as never })
    expect(info.ip).toBe(PEER)
    expect(info.host).toBeUndefined()
    expect(info.anomalies).not.toContain('malformed-entry')
  })
})

describe('a trust function that resolves other requests leaves the outer walk as it was', () => {
  // Express and Fastify users pass trust functions; one may resolve a request itself (a cache
  // warm-up, a logger). Everything the outer walk found before the call must survive it.
  const inner: [name: string, run: () => unknown][] = [
    ['a request with a malformed entry', () => resolveClient(loopback(), { remoteAddress: PEER, headers: { 'x-forwarded-for': 'garbage' } })],
    ['a request from an untrusted peer with a header', () => resolveClientIp(loopback(), '203.0.113.9', '192.0.2.50')],
    ['a request with a short hop count chain', () => resolveClient(parseTrustProxy(3), { remoteAddress: PEER, headers: { 'x-forwarded-for': '192.0.2.51' } })],
    ['a request whose own trust function throws', () => resolveClientIp(() => { throw new Error('inner') }, PEER, '192.0.2.52')],
    ['a request without a header', () => resolveClient(loopback(), { remoteAddress: PEER, headers: {} })],
  ]
  it.each(inner)('%s', (_name, run) => {
    const calls: [string | undefined, number][] = []
    const trust = (addr: string | undefined, hop: number) => {
      calls.push([addr, hop])
      run()
      return addr === PEER || addr === '10.0.0.1'
    }
    const info = resolveClient(trust, { remoteAddress: PEER, headers: { 'x-forwarded-for': '192.0.2.1, 10.0.0.1', 'x-forwarded-proto': 'https' } })
    expect(info.ip).toBe('192.0.2.1')
    expect(info.chain).toEqual([PEER, '10.0.0.1', '192.0.2.1'])
    expect(info.trustedHops).toBe(2)
    expect(info.source).toBe('x-forwarded-for')
    expect(info.protocol).toBe('https')
    expect(info.anomalies).toEqual([])
    // The same calls as proxy-addr makes (it never asks about the left-most entry).
    const theirs: [string | undefined, number][] = []
    const address = proxyaddr({ connection: { remoteAddress: PEER }, headers: { 'x-forwarded-for': '192.0.2.1, 10.0.0.1' } } as never, (addr, hop) => {
      theirs.push([addr, hop])
      return addr === PEER || addr === '10.0.0.1'
    })
    expect(address).toBe(info.ip)
    expect(calls).toEqual(theirs)
  })
})
