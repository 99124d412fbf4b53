/**
 * A connection that came through the PROXY protocol listener, resolved without a server: the
 * header is decoded from bytes (`decodeProxyHeader`, as the listener does) and handed to
 * resolveClient as `req.proxyProtocol`, the way the Node adapters pass what the listener stored
 * on the socket. One row per rule (docs/proxy-protocol.md): hop 0 is the PROXY source unless the
 * header says to use the TCP peer (LOCAL, UNSPEC, no header); a balancer that the walk's own
 * policy vouched for takes a hop of a hop count (or of a trust function's count); the peer is the
 * balancer; the SSL TLV's client bit makes the protocol https; the audit record names the source.
 * Found unpinned by mutation testing (docs/mutation-testing.md): the tests of these paths start
 * servers and are not in the mutation set.
 */
import { describe, expect, it } from 'vitest'
import { type ClientInfo, type ProxyHeader, type TrustFunction, auditFields, decodeProxyHeader, parseTrustProxy, resolveClient } from '../src/index.js'
import { encodeV1, encodeV2, sslValue } from './support/proxy-header.js'

const BALANCER = '10.0.0.2'
const SOURCE = '203.0.113.7'
const FORWARDED = '198.51.100.9'

function decoded(bytes: Uint8Array | string): ProxyHeader {
  const r = decodeProxyHeader(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes)
  if (r.kind !== 'header') throw new Error(`not a header: ${r.kind}`)
  return r.header
}

/** The headers the rows send: an X-Forwarded-For entry behind the PROXY source, and a Host. */
const HEADERS = { 'x-forwarded-for': FORWARDED, host: 'example.com' }

type Header = 'v1' | 'v1-ipv6' | 'v2' | 'v2-local' | 'v2-unspec' | 'v2-unix' | 'v1-unknown' | 'none'

function headerOf(h: Header): ProxyHeader | undefined {
  switch (h) {
    case 'v1':
      return decoded(encodeV1(SOURCE, '10.0.0.1'))
    case 'v1-ipv6':
      return decoded(encodeV1('2001:db8::7', '2001:db8::1'))
    case 'v2':
      return decoded(encodeV2({ source: SOURCE }))
    case 'v2-local':
      return decoded(encodeV2({ command: 'local' }))
    case 'v2-unspec':
      return decoded(encodeV2({ family: 'unspec', transport: 'unspec' }))
    case 'v2-unix':
      return decoded(encodeV2({ family: 'unix' }))
    case 'v1-unknown':
      return decoded('PROXY UNKNOWN\r\n')
    case 'none':
      return undefined
  }
}

type Row = [
  name: string,
  trust: string,
  header: Header,
  balancerIsHop: boolean,
  want: { ip: string | undefined; chain: (string | undefined)[]; trustedHops: number; source: string },
]

const rows: Row[] = [
  // The PROXY source is hop 0.
  ['the PROXY source, the balancer outside a hop count', '1', 'v1', false, { ip: FORWARDED, chain: [SOURCE, FORWARDED], trustedHops: 1, source: 'x-forwarded-for' }],
  ['the PROXY source, the balancer the hop count\'s only hop', '1', 'v1', true, { ip: SOURCE, chain: [SOURCE], trustedHops: 0, source: 'proxy-protocol' }],
  ['the PROXY source, the balancer the first of two hops', '2', 'v1', true, { ip: FORWARDED, chain: [SOURCE, FORWARDED], trustedHops: 1, source: 'x-forwarded-for' }],
  ['an IPv6 PROXY source', '1', 'v1-ipv6', true, { ip: '2001:db8::7', chain: ['2001:db8::7'], trustedHops: 0, source: 'proxy-protocol' }],
  ['a v2 PROXY source', '1', 'v2', true, { ip: SOURCE, chain: [SOURCE], trustedHops: 0, source: 'proxy-protocol' }],
  ['a PROXY source under ranges that do not hold it', 'loopback', 'v2', true, { ip: SOURCE, chain: [SOURCE], trustedHops: 0, source: 'proxy-protocol' }],
  ['a PROXY source under ranges that hold it', '203.0.113.0/24', 'v2', true, { ip: FORWARDED, chain: [SOURCE, FORWARDED], trustedHops: 1, source: 'x-forwarded-for' }],
  // The header says: use the TCP peer. Hop 0 is then the balancer, and it takes no hop.
  ['LOCAL (a health check): the TCP peer, no hop taken', '1', 'v2-local', true, { ip: FORWARDED, chain: [BALANCER, FORWARDED], trustedHops: 1, source: 'x-forwarded-for' }],
  ['LOCAL under ranges that do not hold the balancer', '203.0.113.0/24', 'v2-local', true, { ip: BALANCER, chain: [BALANCER], trustedHops: 0, source: 'socket' }],
  ['v2 UNSPEC: the TCP peer', '1', 'v2-unspec', true, { ip: FORWARDED, chain: [BALANCER, FORWARDED], trustedHops: 1, source: 'x-forwarded-for' }],
  ['v1 UNKNOWN: the TCP peer', '1', 'v1-unknown', true, { ip: FORWARDED, chain: [BALANCER, FORWARDED], trustedHops: 1, source: 'x-forwarded-for' }],
  ['no header (requireHeader: false): the TCP peer', '1', 'none', true, { ip: FORWARDED, chain: [BALANCER, FORWARDED], trustedHops: 1, source: 'x-forwarded-for' }],
  ['no header under a policy that trusts nothing', 'false', 'none', true, { ip: BALANCER, chain: [BALANCER], trustedHops: 0, source: 'socket' }],
  // A Unix-socket client of the balancer: hop 0 has no address.
  ['a Unix-socket PROXY source, untrusted', 'loopback', 'v2-unix', true, { ip: undefined, chain: [undefined], trustedHops: 0, source: 'proxy-protocol' }],
  ['a Unix-socket PROXY source, trusted as unix', 'unix', 'v2-unix', true, { ip: FORWARDED, chain: [undefined, FORWARDED], trustedHops: 1, source: 'x-forwarded-for' }],
]

describe('hop 0 behind the PROXY protocol', () => {
  it.each(rows)('%s', (_name, trust, h, balancerIsHop, want) => {
    const header = headerOf(h)
    const proxyProtocol = { loadBalancer: BALANCER, header, balancerIsHop }
    const info = resolveClient(parseTrustProxy(trust), { remoteAddress: BALANCER, headers: HEADERS, proxyProtocol })
    expect(info).toMatchObject(want)
    // The peer is the balancer, whatever hop 0 is, and the connection is kept in the record.
    expect(info.peer).toBe(BALANCER)
    expect(info.proxyProtocol).toBe(proxyProtocol)
    expect(auditFields(info)).toMatchObject({ peer_ip: BALANCER, proxy_source_ip: header?.source?.address ?? null, client_ip: want.ip ?? null })
  })
})

describe('a trust function behind the PROXY protocol counts hops from the balancer', () => {
  const calls: [string | undefined, number][] = []
  const firstHopOnly: TrustFunction = (addr, hop) => {
    calls.push([addr, hop])
    return hop === 0
  }
  it.each([
    // balancerIsHop, header, the calls the function sees, the client
    ['the balancer took hop 0', true, 'v1', [[SOURCE, 1]], SOURCE],
    ['the balancer took no hop', false, 'v1', [[SOURCE, 0]], FORWARDED],
    ['LOCAL: the balancer is hop 0 itself', true, 'v2-local', [[BALANCER, 0]], FORWARDED],
  ] as const)('%s', (_name, balancerIsHop, h, wantCalls, ip) => {
    calls.length = 0
    const info = resolveClient(firstHopOnly, { remoteAddress: BALANCER, headers: HEADERS, proxyProtocol: { loadBalancer: BALANCER, header: headerOf(h), balancerIsHop } })
    expect(info.ip).toBe(ip)
    expect(calls.slice(0, 1)).toEqual(wantCalls)
  })
})

describe('the protocol behind the PROXY protocol', () => {
  const TLS = 1
  const CERT = 2
  it.each([
    // name, header bytes, encrypted socket, the protocol
    ['the SSL TLV says the client used TLS', encodeV2({ source: SOURCE, tlvs: [{ type: 0x20, value: sslValue(TLS, 0, []) }] }), false, 'https'],
    ['the SSL TLV with TLS and a certificate', encodeV2({ source: SOURCE, tlvs: [{ type: 0x20, value: sslValue(TLS | CERT, 0, []) }] }), false, 'https'],
    ['the SSL TLV without the TLS bit', encodeV2({ source: SOURCE, tlvs: [{ type: 0x20, value: sslValue(CERT, 0, []) }] }), false, 'http'],
    ['no SSL TLV', encodeV2({ source: SOURCE }), false, 'http'],
    ['no SSL TLV, a TLS socket', encodeV2({ source: SOURCE }), true, 'https'],
    ['a v1 header', new TextEncoder().encode(encodeV1(SOURCE, '10.0.0.1')), false, 'http'],
    // LOCAL: the header is not used, so neither is what it says of TLS.
    ['LOCAL with the SSL TLV', encodeV2({ command: 'local', tlvs: [{ type: 0x20, value: sslValue(TLS, 0, []) }] }), false, 'http'],
  ] as const)('%s', (_name, bytes, encrypted, protocol) => {
    const info = resolveClient(parseTrustProxy('loopback'), {
      remoteAddress: BALANCER,
      encrypted,
      headers: {},
      proxyProtocol: { loadBalancer: BALANCER, header: decoded(bytes), balancerIsHop: false },
    })
    expect(info.protocol).toBe(protocol)
  })

  it('a connection without a header, on a TLS socket', () => {
    const info = resolveClient(parseTrustProxy('loopback'), { remoteAddress: BALANCER, encrypted: true, proxyProtocol: { loadBalancer: BALANCER, header: undefined, balancerIsHop: false } })
    expect(info.protocol).toBe('https')
    expect(info.source).toBe('socket')
  })
})

describe('what is not a PROXY connection is ignored', () => {
  const plain = resolveClient(parseTrustProxy('1'), { remoteAddress: BALANCER, headers: HEADERS })
  it.each([
    ['null', null],
    ['a string', 'PROXY TCP4'],
    ['an object without balancerIsHop', { loadBalancer: '192.0.2.1', header: headerOf('v1') }],
    ['balancerIsHop that is not a boolean', { loadBalancer: '192.0.2.1', header: headerOf('v1'), balancerIsHop: 1 }],
  ] as const)('%s', (_name, proxyProtocol) => {
    const info: ClientInfo = resolveClient(parseTrustProxy('1'), { remoteAddress: BALANCER, headers: HEADERS, proxyProtocol: proxyProtocol as never })
    expect(info).toEqual(plain)
    expect('proxyProtocol' in info).toBe(false)
    expect(auditFields(info).proxy_source_ip).toBeNull()
  })
})

describe('hop-count-public-peer: the peer that connected decides', () => {
  const CODE = 'hop-count-public-peer'
  it.each([
    // name, TRUST_PROXY, the socket address, the balancer (undefined: no PROXY protocol), flagged
    ['a public socket peer under a hop count', '1', '192.0.2.2', undefined, true],
    ['a private socket peer under a hop count', '1', '10.0.0.2', undefined, false],
    ['a public IPv6 socket peer', '2', '2001:db8::2', undefined, true],
    ['a Unix socket peer', '1', undefined, undefined, false],
    ['a socket address that is not one', '1', 'not-an-address', undefined, false],
    ['a public socket peer under ranges', '192.0.2.0/24', '192.0.2.2', undefined, false],
    ['a public socket peer trusting all', 'true', '192.0.2.2', undefined, false],
    ['a public balancer, a private PROXY source', '1', '192.0.2.2', '192.0.2.2', true],
    ['a private balancer, a public PROXY source', '1', '10.0.0.2', '10.0.0.2', false],
  ] as const)('%s', (_name, trust, remoteAddress, balancer, flagged) => {
    const proxyProtocol = balancer === undefined ? undefined : { loadBalancer: balancer, header: decoded(encodeV1(balancer === '10.0.0.2' ? SOURCE : '10.9.9.9', '10.0.0.1')), balancerIsHop: true }
    const info = resolveClient(parseTrustProxy(trust), { remoteAddress, headers: HEADERS, proxyProtocol })
    expect(info.anomalies.includes(CODE)).toBe(flagged)
  })

  it('a PROXY connection whose balancer has no address (a Unix socket) is not flagged', () => {
    const info = resolveClient(parseTrustProxy('1'), { remoteAddress: undefined, headers: HEADERS, proxyProtocol: { loadBalancer: undefined, header: headerOf('v1'), balancerIsHop: true } })
    expect(info.anomalies).not.toContain(CODE)
    expect(info.ip).toBe(SOURCE)
  })
})
