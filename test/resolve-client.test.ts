/**
 * resolveClient: the walk's details for audit records, protocol and host (spec section 3), the
 * other headers (section 4) and the anomalies. Table-driven: one named case per row.
 */
import { describe, expect, it } from 'vitest'
import { type AnomalyCode, type ClientInfo, listEntries, parseTrustProxy, resolveClient, resolveClientIp } from '../src/index.js'

type Case = {
  trust: string
  remote?: string
  headers?: Record<string, string | string[]>
  encrypted?: boolean
  header?: string
  expect: Partial<ClientInfo>
}

const cases: [string, Case][] = [
  // --- the walk
  ['direct client, no headers', { trust: 'loopback', remote: '203.0.113.5', expect: { ip: '203.0.113.5', peer: '203.0.113.5', chain: ['203.0.113.5'], trustedHops: 0, source: 'socket', anomalies: [] } }],
  ['one trusted proxy', { trust: 'loopback', remote: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https' }, expect: { ip: '203.0.113.5', chain: ['127.0.0.1', '203.0.113.5'], trustedHops: 1, source: 'x-forwarded-for', protocol: 'https', anomalies: [] } }],
  ['client-written entries on the left are ignored', { trust: 'loopback', remote: '127.0.0.1', headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.5', 'x-forwarded-proto': 'https' }, expect: { ip: '203.0.113.5', trustedHops: 1, anomalies: [] } }],
  ['two proxies named by range', { trust: '10.0.0.0/8', remote: '10.0.0.2', headers: { 'x-forwarded-for': '198.51.100.1, 10.0.0.1', 'x-forwarded-proto': 'https' }, expect: { ip: '198.51.100.1', chain: ['10.0.0.2', '10.0.0.1', '198.51.100.1'], trustedHops: 2 } }],
  ['IPv4-mapped peer matches an IPv4 range and is shown as IPv4', { trust: '127.0.0.1', remote: '::ffff:127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'http' }, expect: { ip: '203.0.113.5', peer: '127.0.0.1' } }],
  ['canonical IPv6 client from a bracketed entry with port', { trust: 'loopback', remote: '::1', headers: { 'x-forwarded-for': '[2001:DB8:0::1]:443', 'x-forwarded-proto': 'https' }, expect: { ip: '2001:db8::1' } }],
  ['IPv4 entry with a port', { trust: 'loopback', remote: '127.0.0.1', headers: { 'x-forwarded-for': '198.51.100.7:51234', 'x-forwarded-proto': 'https' }, expect: { ip: '198.51.100.7' } }],
  ['header lines given as an array are read in order', { trust: 'loopback, 10.0.0.0/8', remote: '127.0.0.1', headers: { 'x-forwarded-for': ['6.6.6.6, 198.51.100.1', '10.0.0.1'], 'x-forwarded-proto': 'https' }, expect: { ip: '198.51.100.1', trustedHops: 2 } }],
  ['every hop trusted: the left-most entry, reported', { trust: '10.0.0.0/8', remote: '10.0.0.3', headers: { 'x-forwarded-for': '10.0.0.1, 10.0.0.2', 'x-forwarded-proto': 'https' }, expect: { ip: '10.0.0.1', trustedHops: 2, anomalies: ['all-hops-trusted'] } }],
  ['inner proxy replaced the header: the client is a trusted proxy', { trust: '127.0.0.9, 127.0.0.10', remote: '127.0.0.9', headers: { 'x-forwarded-for': '127.0.0.10', 'x-forwarded-proto': 'https' }, expect: { ip: '127.0.0.10', anomalies: ['all-hops-trusted'] } }],
  ['left-most entry untrusted: no all-hops-trusted', { trust: '10.0.0.0/8', remote: '10.0.0.3', headers: { 'x-forwarded-for': '198.51.100.1, 10.0.0.2', 'x-forwarded-proto': 'https' }, expect: { ip: '198.51.100.1', anomalies: [] } }],
  ['trusted proxy sends X-Forwarded-Proto but no X-Forwarded-For', { trust: '127.0.0.9', remote: '127.0.0.9', headers: { 'x-forwarded-proto': 'https' }, expect: { ip: '127.0.0.9', protocol: 'https', anomalies: ['missing-forwarded-for'] } }],
  ['trusted proxy sends Forwarded while X-Forwarded-For is configured', { trust: '127.0.0.9', remote: '127.0.0.9', headers: { forwarded: 'for=203.0.113.5' }, expect: { ip: '127.0.0.9', anomalies: ['missing-forwarded-for'] } }],
  ['white space only header is no header', { trust: 'loopback', remote: '127.0.0.1', headers: { 'x-forwarded-for': '  \t ' }, expect: { ip: '127.0.0.1', trustedHops: 0, anomalies: [] } }],
  // --- malformed entries
  ['malformed entry stops the walk at the last verified hop', { trust: 'loopback', remote: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5, unknown', 'x-forwarded-proto': 'https' }, expect: { ip: '127.0.0.1', chain: ['127.0.0.1'], trustedHops: 0, source: 'socket', anomalies: ['malformed-entry'] } }],
  ['empty item is malformed', { trust: 'loopback', remote: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5,,127.0.0.2', 'x-forwarded-proto': 'https' }, expect: { ip: '127.0.0.2', trustedHops: 1, anomalies: ['malformed-entry'] } }],
  ['bad port is malformed', { trust: 'loopback', remote: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5:70000', 'x-forwarded-proto': 'https' }, expect: { ip: '127.0.0.1', anomalies: ['malformed-entry'] } }],
  ['bare ::ffff: is malformed', { trust: 'loopback', remote: '127.0.0.1', headers: { 'x-forwarded-for': '::ffff:', 'x-forwarded-proto': 'https' }, expect: { ip: '127.0.0.1', anomalies: ['malformed-entry'] } }],
  ['a zone with odd characters is malformed', { trust: 'loopback', remote: '127.0.0.1', headers: { 'x-forwarded-for': 'fe80::1%"><script>', 'x-forwarded-proto': 'https' }, expect: { ip: '127.0.0.1', anomalies: ['malformed-entry'] } }],
  ['a link-local zone is kept', { trust: 'loopback', remote: '127.0.0.1', headers: { 'x-forwarded-for': 'fe80::1%eth0', 'x-forwarded-proto': 'https' }, expect: { ip: 'fe80::1%eth0', anomalies: [] } }],
  ['a zone on a global address is dropped', { trust: 'loopback', remote: '127.0.0.1', headers: { 'x-forwarded-for': '2001:db8::1%eth0', 'x-forwarded-proto': 'https' }, expect: { ip: '2001:db8::1', anomalies: [] } }],
  ['malformed peer: no client at all', { trust: 'true', remote: 'not-an-ip', headers: { 'x-forwarded-for': '1.2.3.4' }, expect: { ip: undefined, peer: undefined, chain: [], anomalies: ['malformed-peer'] } }],
  // --- untrusted peers
  ['untrusted peer sending X-Forwarded-For', { trust: '10.0.0.0/8', remote: '198.51.100.9', headers: { 'x-forwarded-for': '1.2.3.4' }, expect: { ip: '198.51.100.9', source: 'socket', anomalies: ['forwarded-by-untrusted-peer'] } }],
  ['TRUST_PROXY=false behind a proxy', { trust: 'false', remote: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https' }, expect: { ip: '127.0.0.1', protocol: 'http', anomalies: ['forwarded-by-untrusted-peer'] } }],
  ['untrusted peer sending only X-Real-IP', { trust: 'loopback', remote: '198.51.100.9', headers: { 'x-real-ip': '1.2.3.4' }, expect: { ip: '198.51.100.9', anomalies: ['forwarded-by-untrusted-peer'] } }],
  // --- hop counts
  ['hop count 1', { trust: '1', remote: '127.0.0.1', headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.5', 'x-forwarded-proto': 'https' }, expect: { ip: '203.0.113.5', trustedHops: 1, anomalies: [] } }],
  ['hop count 2 with a short chain', { trust: '2', remote: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https' }, expect: { ip: '203.0.113.5', trustedHops: 1, anomalies: ['short-chain'] } }],
  ['hop count 1 and no header: the peer, short-chain', { trust: '1', remote: '127.0.0.1', expect: { ip: '127.0.0.1', trustedHops: 0, anomalies: ['short-chain'] } }],
  // --- Unix sockets
  ['Unix socket peer trusted by name', { trust: 'unix', remote: undefined, headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https' }, expect: { ip: '203.0.113.5', peer: undefined, chain: [undefined, '203.0.113.5'], trustedHops: 1 } }],
  ['Unix socket peer not trusted by a range list', { trust: 'loopback', remote: undefined, headers: { 'x-forwarded-for': '203.0.113.5' }, expect: { ip: undefined, chain: [undefined], anomalies: ['forwarded-by-untrusted-peer'] } }],
  ['Unix socket peer under a hop count', { trust: '1', remote: undefined, headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https' }, expect: { ip: '203.0.113.5', trustedHops: 1 } }],
  // --- protocol and host (section 3)
  ['TLS socket, no proxy: https from the socket', { trust: 'loopback', remote: '203.0.113.5', encrypted: true, headers: { host: 'gw.example.com' }, expect: { protocol: 'https', host: 'gw.example.com' } }],
  ['forged X-Forwarded-Proto from an untrusted peer is ignored', { trust: 'loopback', remote: '203.0.113.5', headers: { host: 'gw.example.com', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' }, expect: { protocol: 'http', host: 'gw.example.com', anomalies: ['forwarded-by-untrusted-peer'] } }],
  ['trusted proxy: right-most X-Forwarded-Proto and Host win', { trust: 'loopback', remote: '127.0.0.1', headers: { host: 'internal:6989', 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'http, https', 'x-forwarded-host': 'evil.example, gw.example.com' }, expect: { protocol: 'https', host: 'gw.example.com', anomalies: [] } }],
  ['X-Forwarded-Proto is case-insensitive', { trust: 'loopback', remote: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'HTTPS' }, expect: { protocol: 'https' } }],
  ['invalid X-Forwarded-Proto is ignored and reported', { trust: 'loopback', remote: '127.0.0.1', encrypted: false, headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'javascript' }, expect: { protocol: 'http', anomalies: ['invalid-forwarded-proto'] } }],
  ['invalid X-Forwarded-Host is ignored and reported', { trust: 'loopback', remote: '127.0.0.1', headers: { host: 'gw.example.com', 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'user@evil.example/path' }, expect: { host: 'gw.example.com', anomalies: ['invalid-forwarded-host'] } }],
  ['X-Forwarded-Host with port and IPv6 literal', { trust: 'loopback', remote: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https', 'x-forwarded-host': '[2001:db8::1]:8443' }, expect: { host: '[2001:db8::1]:8443', anomalies: [] } }],
  ['missing X-Forwarded-Proto behind a proxy is reported', { trust: 'loopback', remote: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5' }, expect: { protocol: 'http', anomalies: ['missing-forwarded-proto'] } }],
  ['trusted peer without forwarding headers: no missing-proto anomaly', { trust: 'loopback', remote: '127.0.0.1', headers: { host: 'localhost:6989' }, expect: { protocol: 'http', host: 'localhost:6989', anomalies: [] } }],
  ['invalid Host header', { trust: 'loopback', remote: '203.0.113.5', headers: { host: 'bad host' }, expect: { host: undefined, anomalies: ['invalid-host'] } }],
  ['HTTP/2 :authority when there is no Host', { trust: 'loopback', remote: '203.0.113.5', headers: { ':authority': 'gw.example.com' }, expect: { host: 'gw.example.com' } }],
  // --- Forwarded (section 4)
  ['Forwarded: for, proto and host from the right-most element', { trust: 'loopback', header: 'forwarded', remote: '127.0.0.1', headers: { forwarded: 'for=6.6.6.6;proto=http;host=evil.example, for="[2001:db8::7]:4711";proto=https;host=gw.example.com' }, expect: { ip: '2001:db8::7', source: 'forwarded', protocol: 'https', host: 'gw.example.com', anomalies: [] } }],
  ['Forwarded: X-Forwarded-For is not read', { trust: 'loopback', header: 'forwarded', remote: '127.0.0.1', headers: { 'x-forwarded-for': '6.6.6.6', forwarded: 'for=203.0.113.5;proto=https' }, expect: { ip: '203.0.113.5' } }],
  ['Forwarded: X-Forwarded-Proto is not read either', { trust: 'loopback', header: 'forwarded', remote: '127.0.0.1', headers: { 'x-forwarded-proto': 'https', forwarded: 'for=203.0.113.5' }, expect: { protocol: 'http', anomalies: ['missing-forwarded-proto'] } }],
  ['Forwarded: unknown is a malformed entry', { trust: 'loopback', header: 'forwarded', remote: '127.0.0.1', headers: { forwarded: 'for=unknown;proto=https' }, expect: { ip: '127.0.0.1', protocol: 'https', anomalies: ['malformed-entry'] } }],
  ['Forwarded: obfuscated _name is a malformed entry', { trust: 'loopback', header: 'forwarded', remote: '127.0.0.1', headers: { forwarded: 'for=_hidden' }, expect: { ip: '127.0.0.1', anomalies: ['malformed-entry', 'missing-forwarded-proto'] } }],
  ['Forwarded: commas and semicolons inside quotes', { trust: 'loopback, 10.0.0.0/8', header: 'forwarded', remote: '127.0.0.1', headers: { forwarded: 'for=198.51.100.3;host="a,b;c", for=10.0.0.1;proto=https' }, expect: { ip: '198.51.100.3', trustedHops: 2 } }],
  ['Forwarded: invalid proto= is reported', { trust: 'loopback', header: 'forwarded', remote: '127.0.0.1', headers: { forwarded: 'for=203.0.113.5;proto=gopher' }, expect: { protocol: 'http', anomalies: ['invalid-forwarded-proto'] } }],
  ['Forwarded: repeated for= makes the element malformed', { trust: 'loopback', header: 'forwarded', remote: '127.0.0.1', headers: { forwarded: 'for=1.1.1.1;for=2.2.2.2' }, expect: { ip: '127.0.0.1', anomalies: ['malformed-entry', 'missing-forwarded-proto'] } }],
  // --- single-IP headers (section 4)
  ['X-Real-IP from a trusted peer', { trust: 'loopback', header: 'x-real-ip', remote: '127.0.0.1', headers: { 'x-real-ip': '203.0.113.5', 'x-forwarded-proto': 'https' }, expect: { ip: '203.0.113.5', source: 'x-real-ip', trustedHops: 1, protocol: 'https' } }],
  ['X-Real-IP from an untrusted peer is ignored', { trust: 'loopback', header: 'x-real-ip', remote: '198.51.100.9', headers: { 'x-real-ip': '203.0.113.5' }, expect: { ip: '198.51.100.9', anomalies: ['forwarded-by-untrusted-peer'] } }],
  ['X-Real-IP header name is case-insensitive', { trust: 'loopback', header: 'X-Real-IP', remote: '127.0.0.1', headers: { 'x-real-ip': '203.0.113.5', 'x-forwarded-proto': 'https' }, expect: { ip: '203.0.113.5' } }],
  ['repeated single-IP header is malformed', { trust: 'loopback', header: 'x-real-ip', remote: '127.0.0.1', headers: { 'x-real-ip': ['203.0.113.5', '6.6.6.6'], 'x-forwarded-proto': 'https' }, expect: { ip: '127.0.0.1', anomalies: ['malformed-entry'] } }],
  ['single-IP header joined by Node (a comma) is malformed', { trust: 'loopback', header: 'x-client-ip', remote: '127.0.0.1', headers: { 'x-client-ip': '203.0.113.5, 6.6.6.6', 'x-forwarded-proto': 'https' }, expect: { ip: '127.0.0.1', anomalies: ['malformed-entry'] } }],
  ['single-IP mode never falls back to X-Forwarded-For', { trust: 'loopback', header: 'x-real-ip', remote: '127.0.0.1', headers: { 'x-forwarded-for': '6.6.6.6' }, expect: { ip: '127.0.0.1', trustedHops: 0 } }],
]

describe('resolveClient', () => {
  it.each(cases)('%s', (_name, c) => {
    const info = resolveClient(
      parseTrustProxy(c.trust),
      { remoteAddress: c.remote, headers: c.headers ?? {}, encrypted: c.encrypted },
      c.header ? { header: c.header } : undefined,
    )
    const { anomalies, ...rest } = c.expect
    expect(info).toMatchObject(rest)
    if (anomalies) expect([...info.anomalies].sort()).toEqual([...anomalies].sort() as AnomalyCode[])
    // The hot path agrees with the detailed one for X-Forwarded-For.
    if (!c.header) expect(resolveClientIp(parseTrustProxy(c.trust), c.remote, c.headers?.['x-forwarded-for'])).toBe(info.ip)
  })

  it('reads a Web Headers object', () => {
    const headers = new Headers({ 'X-Forwarded-For': '6.6.6.6, 203.0.113.5', 'X-Forwarded-Proto': 'https', Host: 'gw.example.com' })
    const info = resolveClient(parseTrustProxy('loopback'), { remoteAddress: '127.0.0.1', headers })
    expect(info).toMatchObject({ ip: '203.0.113.5', protocol: 'https', host: 'gw.example.com', anomalies: [] })
  })

  it('reads a real IncomingMessage-style header object with a null prototype', () => {
    const headers = Object.assign(Object.create(null), { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https' })
    expect(resolveClient(parseTrustProxy('loopback'), { remoteAddress: '127.0.0.1', headers }).ip).toBe('203.0.113.5')
  })

  it('refuses an option that names no header, at the call, with a TypeError', () => {
    expect(() => resolveClient(parseTrustProxy('loopback'), { headers: {} }, { header: 'x forwarded' })).toThrow(TypeError)
    expect(() => resolveClient(parseTrustProxy('loopback'), { headers: {} }, { header: 'Host' })).toThrow(/forwarding header/)
  })

  it('refuses a policy that is neither a TrustPolicy nor a function', () => {
    expect(() => resolveClientIp('loopback' as never, '127.0.0.1', undefined)).toThrow(TypeError)
  })
})

describe('custom trust functions', () => {
  it('receive canonical addresses and are not asked about the left-most entry', () => {
    const calls: [string | undefined, number][] = []
    const ip = resolveClientIp(
      (addr, hop) => {
        calls.push([addr, hop])
        return true
      },
      '::ffff:127.0.0.1',
      '198.51.100.1, [2001:DB8::1]:80',
    )
    expect(ip).toBe('198.51.100.1')
    expect(calls).toEqual([
      ['127.0.0.1', 0],
      ['2001:db8::1', 1],
    ])
  })

  it('fail closed when they throw, and say so', () => {
    const info = resolveClient(
      () => {
        throw new Error('boom')
      },
      { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '6.6.6.6' } },
    )
    expect(info.ip).toBe('127.0.0.1')
    expect(info.anomalies).toContain('trust-function-error')
  })

  it('may resolve another request inside the walk without disturbing it', () => {
    const inner = parseTrustProxy('loopback')
    const ip = resolveClientIp(
      (addr, hop) => {
        resolveClientIp(inner, '127.0.0.1', '9.9.9.9, 8.8.8.8, 7.7.7.7')
        return hop < 2 && addr !== undefined
      },
      '10.0.0.1',
      '198.51.100.1, 203.0.113.9, 10.0.0.2',
    )
    expect(ip).toBe('203.0.113.9')
  })

  it('still return canonical text after a nested walk over other IPv6 addresses', () => {
    const inner = parseTrustProxy('loopback')
    const ip = resolveClientIp(
      () => {
        resolveClientIp(inner, '::1', '1::, ::ffff:1.2.3.4, 1:2:3:4:5:6:7:8')
        return false
      },
      '2001:db8:0:0:1:0:0:1',
      '198.51.100.1',
    )
    expect(ip).toBe('2001:db8::1:0:0:1')
  })
})

describe('listEntries', () => {
  it('lists X-Forwarded-For in header order, canonical, undefined for junk', () => {
    expect(listEntries(' 6.6.6.6 , garbage,[::1]:80,::ffff:10.0.0.1')).toEqual(['6.6.6.6', undefined, '::1', '10.0.0.1'])
  })
  it('lists Forwarded for= values', () => {
    expect(listEntries('for=1.2.3.4, for="[2001:db8::1]:80";proto=https, by=1.1.1.1', 'forwarded')).toEqual(['1.2.3.4', '2001:db8::1', undefined])
  })
  it('is empty for an absent header', () => {
    expect(listEntries(undefined)).toEqual([])
  })
})

describe('a hostile header costs what the walk trusts, not its length', () => {
  it('stops at the first untrusted hop without reading the rest', () => {
    // Everything left of the client hop is never parsed: junk there changes nothing.
    const junk = 'x'.repeat(8 * 1024)
    expect(resolveClientIp(parseTrustProxy('loopback'), '127.0.0.1', `${junk}, 203.0.113.5`)).toBe('203.0.113.5')
  })
  it('treats an item too long to be an address as malformed without finding its start', () => {
    const info = resolveClient(parseTrustProxy('loopback'), { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': `1.2.3.4, ${' '.repeat(8000)}5.6.7.8` } })
    expect(info.ip).toBe('127.0.0.1')
    expect(info.anomalies).toContain('malformed-entry')
  })
})

describe('the walked header is never one of the "other" forwarding headers', () => {
  // options.header may name any header; an empty walked header has no entries, and must not
  // then count as another forwarding header that someone sent.
  const none = parseTrustProxy(false)
  const loopback = parseTrustProxy('loopback')
  it.each([
    ['x-forwarded-proto', { 'x-forwarded-proto': '' }],
    ['x-forwarded-host', { 'x-forwarded-host': '' }],
    ['x-real-ip', { 'x-real-ip': '' }],
    ['forwarded', { forwarded: '' }],
  ])('%s, empty: no anomaly from an untrusted peer, no missing-forwarded-for from a trusted one', (header, headers) => {
    expect(resolveClient(none, { remoteAddress: '203.0.113.9', headers }, { header }).anomalies).toEqual([])
    expect(resolveClient(loopback, { remoteAddress: '127.0.0.1', headers }, { header }).anomalies).not.toContain('missing-forwarded-for')
  })
  it.each([
    ['x-forwarded-proto', { 'x-forwarded-proto': '', 'x-forwarded-host': 'a.example' }],
    ['x-forwarded-host', { 'x-forwarded-host': '', 'x-forwarded-proto': 'https' }],
  ])('%s: another forwarding header beside it still counts', (header, headers) => {
    expect(resolveClient(none, { remoteAddress: '203.0.113.9', headers }, { header }).anomalies).toEqual(['forwarded-by-untrusted-peer'])
  })
})
