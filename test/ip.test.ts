/**
 * The address parser and canonical form, case by case. The properties in properties.test.ts
 * cover the generated space; these name the forms that matter for security one at a time.
 */
import { describe, expect, it } from 'vitest'
import { canonicalizeIp } from '../src/index.js'

const valid: [string, string, string][] = [
  ['plain IPv4', '192.0.2.1', '192.0.2.1'],
  ['IPv4 with port', '192.0.2.1:8080', '192.0.2.1'],
  ['IPv4 with port 0 and 65535', '192.0.2.1:65535', '192.0.2.1'],
  ['IPv4 broadcast', '255.255.255.255', '255.255.255.255'],
  ['surrounding spaces and tabs', ' \t192.0.2.1\t ', '192.0.2.1'],
  ['IPv6 upper case', '2001:DB8::1', '2001:db8::1'],
  ['IPv6 full form with leading zeros', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
  ['IPv6 longest zero run compressed', '1:0:0:1:0:0:0:1', '1:0:0:1::1'],
  ['IPv6 first of equal zero runs compressed', '1:0:0:1:1:0:0:1', '1::1:1:0:0:1'],
  ['IPv6 single zero group not compressed', '1:0:1:1:1:1:1:1', '1:0:1:1:1:1:1:1'],
  ['IPv6 loopback', '::1', '::1'],
  ['IPv6 trailing ::', '2001:db8::', '2001:db8::'],
  ['IPv6 bracketed', '[2001:db8::1]', '2001:db8::1'],
  ['IPv6 bracketed with port', '[2001:db8::1]:443', '2001:db8::1'],
  ['IPv4-mapped dotted', '::ffff:192.0.2.1', '192.0.2.1'],
  ['IPv4-mapped hex', '::ffff:c000:201', '192.0.2.1'],
  ['IPv4-mapped full form', '0:0:0:0:0:ffff:c000:201', '192.0.2.1'],
  ['IPv4-mapped bracketed with port', '[::ffff:192.0.2.1]:80', '192.0.2.1'],
  ['IPv4-compatible (deprecated) stays IPv6', '::192.0.2.1', '::c000:201'],
  ['NAT64 with dotted tail', '64:ff9b::192.0.2.1', '64:ff9b::c000:201'],
  ['link-local zone kept', 'fe80::1%eth0', 'fe80::1%eth0'],
  ['link-local zone with allowed punctuation', 'fe80::1%en0.1_a~b-c', 'fe80::1%en0.1_a~b-c'],
  ['link-local zone in brackets with port', '[fe80::1%25]:80', 'fe80::1%25'],
  ['zone dropped on a global address', '2001:db8::1%eth0', '2001:db8::1'],
]

const invalid: [string, string][] = [
  ['empty', ''],
  ['unspecified IPv4', '0.0.0.0'],
  ['unspecified IPv6', '::'],
  ['mapped unspecified', '::ffff:0.0.0.0'],
  ['inet_aton shorthand', '127.1'],
  ['single number', '2130706433'],
  ['octal octet', '010.0.0.1'],
  ['hex octet', '0x7f.0.0.1'],
  ['octet too large', '256.0.0.1'],
  ['five octets', '1.2.3.4.5'],
  ['trailing dot', '1.2.3.4.'],
  ['port too large', '1.2.3.4:65536'],
  ['empty port', '1.2.3.4:'],
  ['port with sign', '1.2.3.4:+80'],
  ['six-digit port', '1.2.3.4:000080'],
  ['bare ::ffff:', '::ffff:'],
  ['nine groups', '1:2:3:4:5:6:7:8:9'],
  ['"::" standing for no group', '1:2:3:4::5:6:7:8'],
  ['two "::"', '1::2::3'],
  ['group of five digits', '12345::1'],
  ['trailing single colon', '1:2:3:4:5:6:7:'],
  ['leading single colon', ':1:2:3:4:5:6:7'],
  ['dotted tail not last', '::1.2.3.4:1'],
  ['dotted tail with a leading zero', '::ffff:1.2.3.04'],
  ['empty zone', 'fe80::1%'],
  ['zone with a space', 'fe80::1%a b'],
  ['zone with a quote', 'fe80::1%"x'],
  ['zone with a colon', 'fe80::1%a:b'],
  ['IPv4 with zone', '1.2.3.4%eth0'],
  // Issue 11, point 6: a zone on an IPv4-mapped address is refused like a zone on IPv4 itself.
  ['zone on a mapped address, like a zone on IPv4', '::ffff:192.0.2.1%eth0'],
  ['zone on a mapped address in hex', '::ffff:c000:201%eth0'],
  ['zone on a mapped address in brackets with port', '[::ffff:192.0.2.1%eth0]:80'],
  ['IPv4 in brackets', '[1.2.3.4]'],
  ['unclosed bracket', '[::1'],
  ['text after the bracket', '[::1]x'],
  ['a name', 'localhost'],
  ['unknown', 'unknown'],
  ['obfuscated', '_hidden'],
  ['non-ASCII digits', '١.٢.٣.٤'],
  ['full-width digits', '１.２.３.４'],
  ['NUL inside', '1.2.3.4\u0000'],
  ['too long', `${'0'.repeat(200)}1.2.3.4`],
]

describe('canonicalizeIp', () => {
  it.each(valid)('%s: %j -> %j', (_name, input, expected) => {
    expect(canonicalizeIp(input)).toBe(expected)
    // The canonical form is a fixed point.
    expect(canonicalizeIp(expected)).toBe(expected)
  })
  it.each(invalid)('%s: %j is not an address', (_name, input) => {
    expect(canonicalizeIp(input)).toBeUndefined()
  })
  it('is undefined for a non-string', () => {
    expect(canonicalizeIp(42 as never)).toBeUndefined()
    expect(canonicalizeIp(undefined as never)).toBeUndefined()
  })
})
