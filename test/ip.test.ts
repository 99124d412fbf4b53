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
  // Found by mutation testing (docs/mutation-testing.md): the canonical text must be built, not
  // sliced from the input, whenever the input is not canonical.
  ['leading zero in a group after "::"', '2001:db8::01', '2001:db8::1'],
  ['leading zeros in the first group', '0db8:2001::1', 'db8:2001::1'],
  ['compressed at the shorter run', '1::2:0:0:0:3', '1:0:0:2::3'],
  ['compressed at the right run but a single zero elsewhere', '1:0:2::3', '1:0:2::3'],
  ['uncompressed runs of equal length: the first', '1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
  ['all zeros but the last group', '0:0:0:0:0:0:0:1', '::1'],
  ['all zeros but the first group', '1:0:0:0:0:0:0:0', '1::'],
  ['upper-case link-local keeps its zone', 'FE80::1%eth0', 'fe80::1%eth0'],
  ['upper-case link-local without a zone gets none', 'FE80::1', 'fe80::1'],
  ['link-local in full form without a zone', 'fe80:0:0:0:0:0:0:1', 'fe80::1'],
  ['non-canonical link-local keeps its zone', 'fe80:0::1%eth0', 'fe80::1%eth0'],
  ['zone on the last link-local prefix', 'febf::1%eth0', 'febf::1%eth0'],
  ['zone dropped just past link-local', 'fec0::1%eth0', 'fec0::1'],
  ['zone of letters and digits at their edges', 'fe80::1%AZaz09', 'fe80::1%AZaz09'],
  ['64-character zone', `fe80::1%${'z'.repeat(64)}`, `fe80::1%${'z'.repeat(64)}`],
  ['mapped in full form with a dotted tail', '0:0:0:0:0:ffff:1.2.3.4', '1.2.3.4'],
  ['not mapped: group 1 set', '0:1::ffff:1.2.3.4', '0:1::ffff:102:304'],
  ['not mapped: group 2 set', '0:0:1::ffff:1.2.3.4', '::1:0:0:ffff:102:304'],
  ['not mapped: group 3 set', '::1:0:ffff:1.2.3.4', '::1:0:ffff:102:304'],
  ['not mapped: group 4 set', '::1:ffff:1.2.3.4', '::1:ffff:102:304'],
  ['not mapped: group 5 is not ffff', '::fffe:1.2.3.4', '::fffe:102:304'],
  ['first group set, mapped-looking tail', '1::ffff:1.2.3.4', '1::ffff:102:304'],
  ['dotted tail after six groups', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
  ['192 characters with white space', `${' '.repeat(185)}1.2.3.4`, '1.2.3.4'],
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
  // Found by mutation testing.
  ['a separator that is not a dot', '1a1a1a1'],
  ['a separator after the last octet', '1.2.3.4x'],
  ['three octets and a dot', '1.2.3.'],
  ['a leading-zero octet in the middle', '1.02.3.4'],
  ['an octet of 300', '1.2.300.4'],
  ['a non-ASCII character in a group', '2001:db8::\u0080'],
  ['a non-ASCII character after "::"', '2001:db8::\u01001'],
  ['a dotted tail after seven groups', '1:2:3:4:5:6:7:1.2.3.4'],
  ['a dotted tail with a zone on a mapped address', '::ffff:1.2.3.4%1'],
  ['a single leading colon before a group', ':1::2'],
  ['a colon and then the end', '1::2:'],
  ['a group then a space', '1::2 3'],
  ['65-character zone', `fe80::1%${'z'.repeat(65)}`],
  ['zone with @', 'fe80::1%a@b'],
  ['zone with [', 'fe80::1%a[b'],
  ['zone with a backtick', 'fe80::1%a`b'],
  ['zone with {', 'fe80::1%a{b'],
  ['zone with a slash', 'fe80::1%a/b'],
  ['an empty zone before a port', '[fe80::1%]:80'],
  ['193 characters with white space', `${' '.repeat(186)}1.2.3.4`],
  ['nine groups with "::"', '1:2:3:4::5:6:7:8:9'],
  ['a hex group of "g"', '2001:db8::g'],
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
