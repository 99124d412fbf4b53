/**
 * The header readers (src/readers/, src/headers.ts) at the edges the mutation run of the split
 * readers found unpinned (docs/mutation-testing.md), through the public API:
 *
 * - Forwarded that arrives as several header lines is one list: the `proto=` and `host=` the
 *   trusted proxy wrote are those of the right-most element of the last line;
 * - `options.edge` ties a single-address header to an edge, so for a list header it is refused
 *   at once (a configuration error).
 */
import { describe, expect, it } from 'vitest'
import { parseTrustProxy, resolveClient } from '../src/index.js'

const loopback = parseTrustProxy('loopback')

describe('Forwarded in several lines: proto= and host= of the right-most element', () => {
  it.each([
    // name, the header lines, the protocol and host believed
    ['two lines, the last with proto and host', ['for=192.0.2.1;proto=http', 'for=127.0.0.2;proto=https;host=example.com'], 'https', 'example.com'],
    ['two lines, the first with proto and host', ['for=192.0.2.1;proto=https;host=a.example', 'for=127.0.0.2'], 'http', undefined],
    ['three lines', ['for=192.0.2.1', 'for=127.0.0.3;proto=http', 'for=127.0.0.2;host=b.example:8443;proto=https'], 'https', 'b.example:8443'],
    ['one line of two elements', ['for=192.0.2.1;proto=http, for=127.0.0.2;proto=https'], 'https', undefined],
  ] as const)('%s', (_name, lines, protocol, host) => {
    const info = resolveClient(loopback, { remoteAddress: '127.0.0.1', headers: { forwarded: [...lines] } }, { header: 'forwarded' })
    expect(info.ip).toBe('192.0.2.1')
    expect(info.protocol).toBe(protocol)
    expect(info.host).toBe(host)
    // The right-most element without proto= is a trusted proxy that did not say.
    expect(info.anomalies.includes('missing-forwarded-proto')).toBe(!/proto=/.test(lines[lines.length - 1]!.split(',').pop()!))
  })
})

describe('options.edge is for single-address headers only', () => {
  it.each([['x-forwarded-for'], ['forwarded'], ['X-Forwarded-For']])('refused for %s', (header) => {
    expect(() => resolveClient(loopback, { remoteAddress: '127.0.0.1' }, { header, edge: '10.0.0.0/8' })).toThrow(/is a list, walked with TRUST_PROXY/)
  })
  it('accepted for x-client-ip', () => {
    const info = resolveClient(loopback, { remoteAddress: '10.0.0.5', headers: { 'x-client-ip': '192.0.2.7' } }, { header: 'x-client-ip', edge: '10.0.0.0/8' })
    expect(info.ip).toBe('192.0.2.7')
  })
})

describe('a Web Headers object is read with get() for every header, a function is no headers', () => {
  // The headers other than X-Forwarded-For are read with their name as a value (readHeader), the
  // X-Forwarded-For walk at its call site: each must ask a Web Headers object with get().
  const web = (entries: Record<string, string>): Headers => new Headers(entries)
  it.each([
    // name, the request's headers, the options, the client and the protocol believed
    ['Forwarded', web({ forwarded: 'for=192.0.2.1;proto=https' }), { header: 'forwarded' }, '192.0.2.1', 'https'],
    ['X-Real-IP', web({ 'x-real-ip': '192.0.2.2' }), { header: 'x-real-ip' }, '192.0.2.2', 'http'],
    ['X-Forwarded-For and X-Forwarded-Proto', web({ 'x-forwarded-for': '192.0.2.3', 'x-forwarded-proto': 'https' }), {}, '192.0.2.3', 'https'],
    ['an edge header', web({ 'x-client-ip': '192.0.2.4' }), { header: 'x-client-ip', edge: '127.0.0.0/8' }, '192.0.2.4', 'http'],
    // Node's headers are a plain object: a function with header-named properties is not one.
    ['a function with X-Forwarded-For', Object.assign(() => undefined, { 'x-forwarded-for': '192.0.2.5' }), {}, '127.0.0.1', 'http'],
    ['a function with Forwarded', Object.assign(() => undefined, { forwarded: 'for=192.0.2.6' }), { header: 'forwarded' }, '127.0.0.1', 'http'],
  ] as const)('%s', (_name, headers, options, ip, protocol) => {
    const info = resolveClient(loopback, { remoteAddress: '127.0.0.1', headers: headers as never }, options)
    expect(info.ip).toBe(ip)
    expect(info.protocol).toBe(protocol)
  })
})
