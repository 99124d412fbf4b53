/**
 * The PROXY protocol decoder (src/proxy-protocol.ts): named cases for v1 and v2, the TLVs, the
 * oracle (proxy-protocol-js, a maintained encoder and parser) on the address block, and
 * fast-check on arbitrary and mutated bytes.
 */
import fc from 'fast-check'
import {
  AddressFamily,
  Command,
  IPv4Address,
  IPv4ProxyAddress,
  IPv6Address,
  IPv6ProxyAddress,
  TransportProtocol,
  V1ProxyProtocol,
  V2ProxyProtocol,
} from 'proxy-protocol-js'
import { describe, expect, it } from 'vitest'
import { canonicalizeIp } from '../src/index.js'
import { crc32c, decodeProxyHeader, type ProxyDecodeResult, type ProxyHeader } from '../src/proxy-protocol.js'
import { encodeV1, encodeV2, sslValue } from './support/proxy-header.js'

const bytes = (s: string | Uint8Array): Uint8Array => (typeof s === 'string' ? Buffer.from(s, 'latin1') : s)

function header(r: ProxyDecodeResult): ProxyHeader & { length: number } {
  if (r.kind !== 'header') throw new Error(`expected a header, got ${JSON.stringify(r)}`)
  return { ...r.header, length: r.length }
}

function reason(r: ProxyDecodeResult): string {
  if (r.kind !== 'error') throw new Error(`expected an error, got ${r.kind}`)
  expect(r.error.code).toBe('ERR_PROXY_PROTOCOL')
  expect(r.error).toBeInstanceOf(Error)
  return r.error.reason
}

describe('v1', () => {
  const ok: [string, string, string, string, number][] = [
    ['TCP4', 'PROXY TCP4 203.0.113.7 10.0.0.1 56324 443\r\n', '203.0.113.7', '10.0.0.1', 56324],
    ['TCP6', 'PROXY TCP6 2001:DB8::0:7 2001:db8::1 1 65535\r\n', '2001:db8::7', '2001:db8::1', 1],
    ['TCP6 with an IPv4-mapped source is that IPv4 host', 'PROXY TCP6 ::ffff:198.51.100.2 ::1 0 80\r\n', '198.51.100.2', '::1', 0],
  ]
  for (const [name, line, src, dst, sport] of ok) {
    it(`reads ${name}`, () => {
      const h = header(decodeProxyHeader(bytes(line + 'GET / HTTP/1.1\r\n')))
      expect(h).toMatchObject({ version: 1, command: 'proxy', transport: 'stream', source: { address: src, port: sport }, destination: { address: dst } })
      expect(h.length).toBe(line.length)
    })
  }

  it('reads UNKNOWN (use the TCP peer), with or without the rest of the line', () => {
    for (const line of ['PROXY UNKNOWN\r\n', 'PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n']) {
      const h = header(decodeProxyHeader(bytes(line)))
      expect(h).toMatchObject({ version: 1, family: 'unspec', source: undefined, destination: undefined, length: line.length })
    }
  })

  const bad: [string, string, string][] = [
    ['lower-case family', 'PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n', 'v1-syntax'],
    ['two spaces', 'PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n', 'v1-syntax'],
    ['a missing port', 'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n', 'v1-syntax'],
    ['an extra field', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n', 'v1-syntax'],
    ['TCP4 with an IPv6 source', 'PROXY TCP4 ::1 5.6.7.8 1 2\r\n', 'v1-address'],
    ['TCP6 with an IPv4 source', 'PROXY TCP6 1.2.3.4 ::1 1 2\r\n', 'v1-address'],
    ['an octal-looking octet', 'PROXY TCP4 010.0.0.1 5.6.7.8 1 2\r\n', 'v1-address'],
    ['inet_aton shorthand', 'PROXY TCP4 127.1 5.6.7.8 1 2\r\n', 'v1-address'],
    ['an octet above 255', 'PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n', 'v1-address'],
    ['a zone', 'PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n', 'v1-address'],
    ['brackets', 'PROXY TCP6 [::2] ::1 1 2\r\n', 'v1-address'],
    ['TCP6 with an IPv4 address and port', 'PROXY TCP6 1.2.3.4:80 ::1 1 2\r\n', 'v1-address'],
    ['TCP4 with a port in the address', 'PROXY TCP4 1.2.3.4:80 5.6.7.8 1 2\r\n', 'v1-address'],
    ['TCP6 with a bare ::ffff:', 'PROXY TCP6 ::ffff: ::1 1 2\r\n', 'v1-address'],
    ['the unspecified source 0.0.0.0', 'PROXY TCP4 0.0.0.0 5.6.7.8 1 2\r\n', 'v1-address'],
    ['the unspecified source ::', 'PROXY TCP6 :: ::1 1 2\r\n', 'v1-address'],
    ['a port above 65535', 'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n', 'v1-port'],
    ['a port with a leading zero', 'PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n', 'v1-port'],
    ['a signed port', 'PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n', 'v1-port'],
    ['CR without LF', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX', 'v1-syntax'],
    ['a bare LF', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\nGET', 'v1-syntax'],
    ['a NUL byte', 'PROXY TCP4 1.2.3.4\0', 'v1-syntax'],
    ['a non-ASCII byte', 'PROXY TCP4 1.2.3.\xe4', 'v1-syntax'],
    ['no CRLF within 107 bytes', 'PROXY UNKNOWN ' + 'x'.repeat(100), 'v1-too-long'],
  ]
  for (const [name, input, want] of bad) {
    it(`refuses ${name}`, () => expect(reason(decodeProxyHeader(bytes(input)))).toBe(want))
  }

  it('a 107-byte line is accepted, and one byte more is too long', () => {
    const line = (n: number): string => 'PROXY UNKNOWN ' + 'x'.repeat(n - 16) + '\r\n'
    expect(header(decodeProxyHeader(bytes(line(107)))).length).toBe(107)
    expect(reason(decodeProxyHeader(bytes(line(108))))).toBe('v1-too-long')
  })

  it('agrees with the oracle (proxy-protocol-js) on well-formed lines', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.ipV4(), fc.ipV4(), fc.ipV6(), fc.ipV6(), fc.nat(65535), fc.nat(65535), (v4, a4, b4, a6, b6, sp, dp) => {
        const [src, dst] = v4 ? [a4, b4] : [a6, b6]
        fc.pre(canonicalizeIp(src) !== undefined)
        const line = encodeV1(src, dst, sp, dp)
        const oracle = V1ProxyProtocol.parse(line)
        const h = header(decodeProxyHeader(bytes(line)))
        expect(h.source).toEqual({ address: canonicalizeIp(oracle.source.ipAddress), port: oracle.source.port })
        expect(h.destination!.port).toBe(oracle.destination.port)
      }),
    )
  })
})

describe('v2', () => {
  it('reads IPv4 and IPv6 as the oracle wrote them, and leaves the bytes after the header', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), fc.nat(65535), fc.nat(65535), fc.uint8Array({ maxLength: 20 }), (s, d, sp, dp, data) => {
        fc.pre(s !== '0.0.0.0')
        const proto = new V2ProxyProtocol(
          Command.PROXY,
          TransportProtocol.STREAM,
          new IPv4ProxyAddress(IPv4Address.createFrom(s.split('.').map(Number)), sp, IPv4Address.createFrom(d.split('.').map(Number)), dp),
          data,
        ).build()
        const h = header(decodeProxyHeader(proto))
        expect(h).toMatchObject({ version: 2, command: 'proxy', family: 'ipv4', transport: 'stream', source: { address: s, port: sp }, destination: { address: d, port: dp } })
        expect(h.length).toBe(28)
        expect(Buffer.from(proto.subarray(h.length))).toEqual(Buffer.from(data))
      }),
    )
    const v6 = new V2ProxyProtocol(
      Command.PROXY,
      TransportProtocol.STREAM,
      new IPv6ProxyAddress(IPv6Address.createFrom([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]), 1234, IPv6Address.createFrom(new Array(15).fill(0).concat([1])), 443),
    ).build()
    expect(header(decodeProxyHeader(v6))).toMatchObject({ family: 'ipv6', source: { address: '2001:db8::7', port: 1234 }, destination: { address: '::1', port: 443 }, length: 52 })
    expect(AddressFamily).toBeDefined()
  })

  it('maps an IPv4-mapped IPv6 source to IPv4, as the rest of the library does', () => {
    expect(header(decodeProxyHeader(encodeV2({ source: '::ffff:198.51.100.2', family: 'ipv6' }))).source!.address).toBe('198.51.100.2')
  })

  it('LOCAL (a health check) and UNSPEC carry no address: the TCP peer is the client', () => {
    expect(header(decodeProxyHeader(encodeV2({ command: 'local', family: 'unspec', transport: 'unspec' })))).toMatchObject({ command: 'local', family: 'unspec', source: undefined, length: 16 })
    // LOCAL with an address block: the block is discarded, as the spec says.
    expect(header(decodeProxyHeader(encodeV2({ command: 'local' })))).toMatchObject({ command: 'local', source: undefined, length: 28 })
    expect(header(decodeProxyHeader(encodeV2({ family: 'unspec', transport: 'unspec' })))).toMatchObject({ command: 'proxy', family: 'unspec', source: undefined })
    // A Unix-socket client of the balancer has no address.
    expect(header(decodeProxyHeader(encodeV2({ family: 'unix' })))).toMatchObject({ family: 'unix', source: undefined, length: 232 })
  })

  it('decodes the TLVs that matter: ALPN, authority, unique id, SSL, netns, AWS VPC endpoint id', () => {
    const h = header(
      decodeProxyHeader(
        encodeV2({
          tlvs: [
            { type: 0x01, value: 'h2' },
            { type: 0x02, value: 'infram.example' },
            { type: 0x05, value: Buffer.from('0123abcd', 'hex') },
            { type: 0x20, value: sslValue(0x07, 0, [{ type: 0x21, value: 'TLSv1.3' }, { type: 0x22, value: 'alice' }, { type: 0x23, value: 'TLS_AES_128_GCM_SHA256' }, { type: 0x24, value: 'ECDSA-SHA256' }, { type: 0x25, value: 'EC256' }]) },
            { type: 0x30, value: 'blue' },
            { type: 0xea, value: Buffer.concat([Buffer.from([0x01]), Buffer.from('vpce-08d2bf15fac5001c9')]) },
            { type: 0x04, value: Buffer.alloc(3) },
          ],
          crc: true,
        }),
      ),
    )
    expect(h.tlv).toEqual({
      alpn: 'h2',
      authority: 'infram.example',
      uniqueId: '0123abcd',
      ssl: { client: 7, verified: true, version: 'TLSv1.3', commonName: 'alice', cipher: 'TLS_AES_128_GCM_SHA256', signatureAlgorithm: 'ECDSA-SHA256', keyAlgorithm: 'EC256' },
      netns: 'blue',
      awsVpcEndpointId: 'vpce-08d2bf15fac5001c9',
      checksumVerified: true,
    })
    expect(h.tlvs.map((t) => t.type)).toEqual([0x01, 0x02, 0x05, 0x20, 0x30, 0xea, 0x04, 0x03])
    // Raw values are copies, not views of the connection's bytes.
    expect(Buffer.from(h.tlvs[0]!.value).toString()).toBe('h2')
    expect(h.tlvs[0]!.value.buffer.byteLength).toBe(2)
  })

  it('leaves out text TLVs that are not clean text: nothing a client wrote reaches a log as is', () => {
    const h = header(
      decodeProxyHeader(
        encodeV2({
          tlvs: [
            { type: 0x01, value: 'h2\r\nX-Evil: 1' },
            { type: 0x02, value: 'bad host/with path' },
            { type: 0x20, value: sslValue(1, 1, [{ type: 0x22, value: 'cn\0x' }]) },
            { type: 0xea, value: Buffer.concat([Buffer.from([0x01]), Buffer.from('vpce-\n')]) },
          ],
        }),
      ),
    )
    expect(h.tlv).toEqual({ ssl: { client: 1, verified: false } })
  })

  it('checks the CRC32C (RFC 3720 test value, then a wrong one)', () => {
    expect(crc32c(bytes('123456789'), 9)).toBe(0xe3069283)
    expect(reason(decodeProxyHeader(encodeV2({ crc: 0x12345678 })))).toBe('v2-checksum')
  })

  const bad: [string, () => Uint8Array, string][] = [
    ['version 1 in the binary form', () => patch(encodeV2({}), 12, 0x11), 'v2-version'],
    ['command 2', () => patch(encodeV2({}), 12, 0x22), 'v2-command'],
    ['family 4', () => patch(encodeV2({}), 13, 0x41), 'v2-family'],
    ['transport 3', () => patch(encodeV2({}), 13, 0x13), 'v2-family'],
    ['a length shorter than the IPv4 block', () => patch(patch(encodeV2({}), 15, 11), 14, 0), 'v2-length'],
    ['a length shorter than the IPv6 block', () => patch(encodeV2({ source: '2001:db8::7' }), 15, 35), 'v2-length'],
    ['the source 0.0.0.0', () => encodeV2({ source: '0.0.0.0' }), 'v2-address'],
    ['the source ::', () => encodeV2({ source: '::', destination: '::1', family: 'ipv6' }), 'v2-address'],
    ['a TLV longer than the header', () => patch(encodeV2({ tlvs: [{ type: 1, value: 'h2' }] }), 30, 9), 'v2-tlv'],
    ['a cut TLV header', () => Buffer.concat([patch(encodeV2({}), 15, 14), Buffer.from([1, 0])]), 'v2-tlv'],
    ['an SSL TLV of 4 bytes', () => encodeV2({ tlvs: [{ type: 0x20, value: Buffer.alloc(4) }] }), 'v2-tlv'],
    ['an SSL sub-TLV past its end', () => encodeV2({ tlvs: [{ type: 0x20, value: Buffer.from([1, 0, 0, 0, 0, 0x22, 0, 9, 65]) }] }), 'v2-tlv'],
    ['a CRC32C TLV of 2 bytes', () => encodeV2({ tlvs: [{ type: 0x03, value: Buffer.alloc(2) }] }), 'v2-tlv'],
    ['an empty AWS TLV', () => encodeV2({ tlvs: [{ type: 0xea, value: '' }] }), 'v2-tlv'],
  ]
  for (const [name, make, want] of bad) {
    it(`refuses ${name}`, () => expect(reason(decodeProxyHeader(make()))).toBe(want))
  }

  it('refuses a header larger than the limit as soon as its length is known', () => {
    const big = encodeV2({ tlvs: [{ type: 0x04, value: Buffer.alloc(5000) }] })
    expect(reason(decodeProxyHeader(big.subarray(0, 16), { maxLength: 4096 }))).toBe('too-large')
    expect(header(decodeProxyHeader(big)).length).toBe(big.length)
  })
})

function patch(b: Uint8Array, at: number, value: number): Buffer {
  const c = Buffer.from(b)
  c[at] = value
  return c
}

describe('incomplete and absent headers', () => {
  it('every proper prefix of a header asks for more bytes', () => {
    for (const full of [bytes(encodeV1('203.0.113.7', '10.0.0.1')), encodeV2({ tlvs: [{ type: 1, value: 'h2' }], crc: true })]) {
      for (let n = 0; n < full.length; n++) expect(decodeProxyHeader(full.subarray(0, n)).kind, `prefix ${n}`).toBe('incomplete')
      expect(decodeProxyHeader(full).kind).toBe('header')
    }
  })

  it('anything that does not start with a signature is not a header (HTTP, TLS, SSH)', () => {
    for (const first of ['GET / HTTP/1.1\r\n', '\x16\x03\x01\x02\x00', 'SSH-2.0-OpenSSH', 'PROXY2', '\r\n\r\n\0\r\nQUIX', 'P ']) {
      expect(decodeProxyHeader(bytes(first)).kind, JSON.stringify(first)).toBe('none')
    }
  })
})

describe('fuzz', () => {
  const wellFormed = fc.oneof(
    fc.tuple(fc.ipV4(), fc.ipV4()).map(([a, b]) => bytes(encodeV1(a, b))),
    fc.tuple(fc.ipV6(), fc.ipV6()).map(([a, b]) => bytes(encodeV1(a, b))),
    fc.tuple(fc.ipV4(), fc.ipV4()).map(([a, b]) => encodeV2({ source: a, destination: b })),
    fc.tuple(fc.ipV6(), fc.ipV6()).map(([a, b]) => encodeV2({ source: a, destination: b, family: 'ipv6' })),
  )

  it('arbitrary bytes never throw, and every result is one of the four kinds', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), wellFormed, fc.tuple(wellFormed, fc.uint8Array({ maxLength: 40 })).map(([a, b]) => Buffer.concat([a, b]))), (b) => {
        const r = decodeProxyHeader(b)
        expect(['header', 'incomplete', 'none', 'error']).toContain(r.kind)
        if (r.kind === 'header') expect(r.length).toBeLessThanOrEqual(b.length)
      }),
      { numRuns: 3000 },
    )
  })

  it('a mutated header yields no address the bytes do not hold in well-formed position', () => {
    fc.assert(
      fc.property(wellFormed, fc.nat(), fc.integer({ min: 0, max: 255 }), (b, at, value) => {
        const m = patch(b, at % b.length, value)
        const r = decodeProxyHeader(m)
        if (r.kind !== 'header' || r.header.source === undefined) return
        // Re-read the address where the format puts it, independently: the oracle for v1 text,
        // the fixed offsets for v2.
        if (r.header.version === 1) {
          const oracle = V1ProxyProtocol.parse(Buffer.from(m.subarray(0, r.length)).toString('latin1'))
          expect(r.header.source.address).toBe(canonicalizeIp(oracle.source.ipAddress))
          expect(r.header.source.port).toBe(oracle.source.port)
        } else {
          const oracle = V2ProxyProtocol.parse(m)
          const addr = oracle.proxyAddress as IPv4ProxyAddress | IPv6ProxyAddress
          const raw = Array.from(addr.sourceAddress.address)
          const text = raw.length === 4 ? raw.join('.') : canonicalizeIp(Buffer.from(raw).toString('hex').replace(/(.{4})(?!$)/g, '$1:'))
          expect(r.header.source.address).toBe(text)
          expect(r.header.source.port).toBe(addr.sourcePort)
        }
        expect(r.header.source.address).not.toMatch(/^(0\.0\.0\.0|::)$/)
      }),
      { numRuns: 3000 },
    )
  })
})
