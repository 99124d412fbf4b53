/**
 * resolveClientIp's `options.header`: the address-only walk of a Forwarded or single-address
 * header gives the client resolveClient gives on the same request, and refuses what resolveClient
 * refuses (or can only do with an edge check).
 */
import { describe, expect, it } from 'vitest'
import { parseTrustProxy, resolveClient, resolveClientIp } from '../src/index.js'

const ranges = parseTrustProxy('loopback, 10.0.0.0/8, fd00::/8')

const cases: { name: string; header: string; remote: string | undefined; value: string | string[] | undefined }[] = [
  { name: 'Forwarded, quoted IPv6 with port', header: 'forwarded', remote: 'fd00::2', value: 'for="[2001:db8:cafe::17]:4711";proto=https, for="[fd00::1]"' },
  { name: 'Forwarded, IPv4 behind two proxies', header: 'Forwarded', remote: '10.0.0.3', value: 'for=198.51.100.23, for=10.0.0.1;proto=http' },
  { name: 'Forwarded, obfuscated entry stops the walk', header: 'forwarded', remote: '10.0.0.3', value: 'for=198.51.100.23, for=_hidden' },
  { name: 'Forwarded, untrusted peer', header: 'forwarded', remote: '203.0.113.9', value: 'for=198.51.100.23' },
  { name: 'Forwarded, lines of a list', header: 'forwarded', remote: '127.0.0.1', value: ['for=198.51.100.23', 'for=10.0.0.1'] },
  { name: 'Forwarded, unbalanced quote', header: 'forwarded', remote: '127.0.0.1', value: 'for="198.51.100.23' },
  { name: 'X-Real-IP from a trusted peer', header: 'x-real-ip', remote: '127.0.0.1', value: '198.51.100.23' },
  { name: 'X-Real-IP twice is no address', header: 'x-real-ip', remote: '127.0.0.1', value: ['198.51.100.23', '203.0.113.7'] },
  { name: 'X-Real-IP from an untrusted peer', header: 'X-Real-IP', remote: '203.0.113.9', value: '198.51.100.23' },
  { name: 'X-Client-IP with a port', header: 'x-client-ip', remote: '10.1.1.1', value: '198.51.100.23:443' },
  { name: 'a Unix socket peer', header: 'x-real-ip', remote: undefined, value: '198.51.100.23' },
  { name: 'x-forwarded-for named explicitly', header: 'x-forwarded-for', remote: '10.0.0.3', value: '198.51.100.23, 10.0.0.1' },
]

describe('resolveClientIp(policy, remote, value, { header })', () => {
  for (const c of cases) {
    it(`${c.name}: the client resolveClient gives`, () => {
      const want = resolveClient(ranges, { remoteAddress: c.remote, headers: c.value === undefined ? {} : { [c.header.toLowerCase()]: c.value } }, { header: c.header }).ip
      expect(resolveClientIp(ranges, c.remote, c.value, { header: c.header })).toBe(want)
    })
  }

  it('reads the value as the named syntax, not as X-Forwarded-For', () => {
    expect(resolveClientIp(ranges, '127.0.0.1', 'for=198.51.100.23', { header: 'forwarded' })).toBe('198.51.100.23')
    // As X-Forwarded-For, `for=...` is not an address: the walk stops at the peer.
    expect(resolveClientIp(ranges, '127.0.0.1', 'for=198.51.100.23')).toBe('127.0.0.1')
    expect(resolveClientIp(ranges, '127.0.0.1', '198.51.100.23, 10.0.0.1', { header: 'x-real-ip' })).toBe('127.0.0.1')
  })

  it('without a header option, or with header undefined, reads X-Forwarded-For', () => {
    expect(resolveClientIp(ranges, '127.0.0.1', '198.51.100.23, 10.0.0.1', {})).toBe('198.51.100.23')
    expect(resolveClientIp(ranges, '127.0.0.1', '198.51.100.23, 10.0.0.1', { header: undefined })).toBe('198.51.100.23')
  })

  it('refuses provider headers, which need the edge check of resolveClient', () => {
    for (const header of ['cf-connecting-ip', 'True-Client-IP', 'fly-client-ip']) {
      expect(() => resolveClientIp(ranges, '127.0.0.1', '198.51.100.23', { header })).toThrow(/resolveClient\(policy, req/)
    }
  })

  it('refuses what is not a header name, and host', () => {
    for (const header of ['host', 'Host', 'x forwarded', '', 42 as unknown as string]) {
      expect(() => resolveClientIp(ranges, '127.0.0.1', '198.51.100.23', { header })).toThrow(TypeError)
    }
  })

  it('works with a trust function and a hop count', () => {
    const value = 'for=198.51.100.23, for=10.0.0.1'
    expect(resolveClientIp((_a, hop) => hop < 2, '10.0.0.2', value, { header: 'forwarded' })).toBe('198.51.100.23')
    expect(resolveClientIp(parseTrustProxy('1'), '10.0.0.2', value, { header: 'forwarded' })).toBe('10.0.0.1')
  })
})
