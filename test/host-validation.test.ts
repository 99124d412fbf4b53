/**
 * isValidHost: `host[:port]` as RFC 3986 (section 3.2.2) and RFC 1123 (section 2.1) define a
 * host, one named case per row (issue 11, point 7). The rules and their reasons are in
 * docs/configuration-edges.md.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isValidHost, parseTrustProxy, resolveClient } from '../src/index.js'
import { oddHost } from './support/arbitraries.js'

/**
 * A policy parsed when a test first needs it, not while the file is collected: Stryker counts
 * code run at collection as "static" and runs every test for each of its mutants.
 */
function lazy<T>(make: () => T): () => T {
  let value: T | undefined
  return () => (value ??= make())
}

const label63 = 'a'.repeat(63)
/** A 253-character name: the longest DNS name (255 octets on the wire). */
const name253 = [label63, label63, label63, 'b'.repeat(61)].join('.')

const valid: [string, string][] = [
  ['a single label', 'localhost'],
  ['a DNS name', 'gw.example.com'],
  ['upper case (hosts are case-insensitive)', 'GW.Example.COM'],
  ['a name with a port', 'gw.example.com:8443'],
  ['port 65535', 'example.com:65535'],
  ['port 0', 'example.com:0'],
  ['hyphens inside labels', 'my-gw.ex-ample.com'],
  ['a label that starts with a digit (RFC 1123)', '1gw.example.com'],
  ['an all-digit label that is not the last', '123.example.com'],
  ['underscore (Docker and Compose service names)', 'my_app:3000'],
  ['punycode (an IDN)', 'xn--bcher-kva.example'],
  ['an absolute name (one trailing dot)', 'example.com.'],
  ['an absolute name with a port', 'example.com.:443'],
  ['a 63-character label', `${label63}.example`],
  ['a 253-character name', name253],
  ['a 253-character name with a trailing dot', `${name253}.`],
  ['an IPv4 literal', '192.0.2.1'],
  ['an IPv4 literal with a port', '192.0.2.1:8080'],
  ['255.255.255.255', '255.255.255.255'],
  ['an IPv6 literal', '[2001:db8::1]'],
  ['an IPv6 literal with a port', '[2001:db8::1]:8443'],
  ['IPv6 loopback', '[::1]:6989'],
  ['an IPv4-mapped IPv6 literal', '[::ffff:192.0.2.1]'],
  ['an upper-case IPv6 literal', '[2001:DB8::1]'],
  ['the first and last letters of both cases', 'Aa.Zz.example'],
  ['a label of only letters at the ASCII edges', 'az.AZ'],
]

const invalid: [string, string][] = [
  ['empty', ''],
  ['a dot', '.'],
  ['two dots', '..'],
  ['a hyphen', '-'],
  ['an empty label', 'a..example.com'],
  ['a leading dot', '.example.com'],
  ['two trailing dots', 'example.com..'],
  ['a label starting with a hyphen', '-gw.example.com'],
  ['a label ending with a hyphen', 'gw-.example.com'],
  ['a 64-character label', `${'a'.repeat(64)}.example`],
  ['a 200-character label', `${'a'.repeat(200)}.example.com`],
  ['a 254-character name', `${name253}b`],
  ['a 254-character name with a trailing dot', `${name253}b.`],
  ['a space', 'bad host'],
  ['a path', 'example.com/path'],
  ['userinfo', 'user@example.com'],
  ['a query', 'example.com?x'],
  ['a percent-encoded name (not written by proxies)', 'ex%41mple.com'],
  ['a tilde', 'ex~ample.com'],
  ['non-ASCII (IDNs are sent as punycode)', 'exämple.com'],
  ['a quote', 'example.com"'],
  ['an empty port', 'example.com:'],
  ['a port above 65535', 'example.com:65536'],
  ['a six-digit port', 'example.com:000080'],
  ['a signed port', 'example.com:+80'],
  ['two ports', 'example.com:80:80'],
  ['only a port', ':80'],
  ['IPv4 shorthand (inet_aton)', '127.1'],
  ['a bare number (inet_aton)', '2130706433'],
  ['a hex IPv4 (inet_aton)', '0x7f.0.0.1'],
  ['an octal IPv4', '010.0.0.1'],
  ['an IPv4 octet above 255', '256.1.1.1'],
  ['five octets', '1.2.3.4.5'],
  ['an IPv4 literal with a trailing dot', '1.2.3.4.'],
  ['unspecified IPv4', '0.0.0.0'],
  ['unspecified IPv4 with a port', '0.0.0.0:80'],
  ['unspecified IPv6', '[::]'],
  ['unspecified IPv6 with a port', '[::]:443'],
  ['mapped unspecified', '[::ffff:0.0.0.0]'],
  ['IPv6 without brackets', '2001:db8::1'],
  ['an unclosed bracket', '[2001:db8::1'],
  ['text after the bracket', '[2001:db8::1]x'],
  ['a zone in the literal', '[fe80::1%eth0]'],
  ['a percent-encoded zone (RFC 6874)', '[fe80::1%25eth0]'],
  ['IPvFuture', '[v1.fe80::a+en1]'],
  ['IPv4 in brackets', '[192.0.2.1]'],
  ['not an IPv6 address in brackets', '[example.com]'],
  ['empty brackets', '[]'],
  ['the character before A', '@.example'],
  ['the character after Z', '[.example'],
  ['the character before a', '`.example'],
  ['the character after z', '{.example'],
  ['non-ASCII before a port', 'ä:80'],
  ['a bare number with a port', '1:80'],
  ['IPv4 shorthand with a port', '127.1:80'],
]

describe('isValidHost', () => {
  it.each(valid)('accepts %s: %j', (_name, h) => {
    expect(isValidHost(h)).toBe(true)
  })
  it.each(invalid)('refuses %s: %j', (_name, h) => {
    expect(isValidHost(h)).toBe(false)
  })
  it('judges an IPv4-mapped literal by its own address, whatever was parsed before', () => {
    // The parser keeps its last result in scratch fields: the mapped check must read the IPv4 value.
    expect(isValidHost('[::]')).toBe(false)
    expect(isValidHost('[::ffff:192.0.2.1]')).toBe(true)
    expect(isValidHost('[2001:db8::1]')).toBe(true)
    expect(isValidHost('[::ffff:0.0.0.0]')).toBe(false)
  })
  it('refuses what is not a string', () => {
    for (const v of [undefined, null, 42, {}, ['example.com']]) expect(isValidHost(v as never)).toBe(false)
  })
})

describe('the walk uses the same rule for Host, :authority, X-Forwarded-Host and Forwarded host=', () => {
  const lo = lazy(() => parseTrustProxy('loopback'))
  it('for every valid and invalid host of the table', () => {
    for (const [, h] of [...valid, ...invalid]) {
      if (h === '' || h.trim() !== h) continue
      const ok = isValidHost(h)
      const direct = resolveClient(lo(), { remoteAddress: '203.0.113.5', headers: { host: h } })
      expect(direct.host).toBe(ok ? h : undefined)
      expect(direct.anomalies.includes('invalid-host')).toBe(!ok)
      const authority = resolveClient(lo(), { remoteAddress: '203.0.113.5', headers: { ':authority': h } })
      expect(authority.host).toBe(ok ? h : undefined)
      const fwd = resolveClient(lo(), { remoteAddress: '127.0.0.1', headers: { host: 'gw.example.com', 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https', 'x-forwarded-host': h } })
      expect(fwd.host).toBe(ok ? h : 'gw.example.com')
      expect(fwd.anomalies.includes('invalid-forwarded-host')).toBe(!ok)
      const quoted = `"${h.replace(/["\\]/g, (c) => `\\${c}`)}"`
      const rfc = resolveClient(lo(), { remoteAddress: '127.0.0.1', headers: { forwarded: `for=203.0.113.5;proto=https;host=${quoted}` } }, { header: 'forwarded' })
      expect(rfc.host).toBe(ok ? h : undefined)
    }
  })

  it('for generated odd hosts: never accepted, always reported', () => {
    fc.assert(
      fc.property(oddHost, (h) => {
        expect(isValidHost(h)).toBe(false)
        const info = resolveClient(lo(), { remoteAddress: '127.0.0.1', headers: { host: 'gw.example.com', 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https', 'x-forwarded-host': h } })
        expect(info.host).toBe('gw.example.com')
        expect(info.anomalies).toContain('invalid-forwarded-host')
      }),
      { numRuns: 200 },
    )
  })
})
