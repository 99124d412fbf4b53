/**
 * The X-Forwarded-For walk reads an item as an address exactly when the address parser does
 * (spec section 3: an entry that is not an address stops the walk at the last verified hop),
 * wherever the item stands in the header and whatever white space pads it. The walk has two
 * right-to-left readers for plain IPv4 and IPv6 items besides the general one, so every row is a
 * near miss of a plain address: a character just outside the digit or hex ranges, a group or
 * octet too many or too few, a second "::", a non-ASCII character. Mutation testing
 * (docs/mutation-testing.md) found these edges unpinned.
 *
 * Each row gives the canonical address the item is (spec section 1), or null when it is none;
 * the row is checked against canonicalizeIp, against the walk at several places in a header, and,
 * for addresses, against proxy-addr (which returns the text it read: the same address).
 * Public API only, and nothing is parsed while the file is collected (Stryker would count it as
 * "static").
 */
import proxyaddr from 'proxy-addr'
import { describe, expect, it } from 'vitest'
import { canonicalizeIp, listEntries, parseTrustProxy, resolveClient, resolveClientIp, traceClient } from '../src/index.js'

const PEER = '127.0.0.1'
/** Neither loopback nor any other range the policy trusts: the walk stops at it. */
const LEFT = '203.0.113.7'

const rows: [name: string, item: string, address: string | null][] = [
  // IPv4, read right to left by the IPv4 reader.
  ['a plain IPv4 address', '192.0.2.1', '192.0.2.1'],
  ['an IPv4 address with 0 and 9 digits', '90.9.0.109', '90.9.0.109'],
  ['a first octet of 0 (not the unspecified address)', '0.1.2.3', '0.1.2.3'],
  ['a last octet of 0', '1.2.3.0', '1.2.3.0'],
  ['three-digit octets up to 255', '255.254.199.100', '255.254.199.100'],
  ['a letter as the last octet', '1.2.3.a', null],
  ['a letter in every octet', 'a.b.c.d', null],
  ['a letter after the last octet', '1.2.3.4x', null],
  ['a letter between two digits', '1.2.3.4z5', null],
  ['a colon (the character after 9) as an octet', '1.2.3.:', null],
  ['a slash (the character before 0) as an octet', '1.2.3./', null],
  ['a colon inside an octet', '1.2.3:4', null],
  ['a slash inside the first octet', '1/2.3.4.5', null],
  ['a colon in the middle octets', '1.:.3.4', null],
  ['a letter as the first octet', 'x.2.3.4', null],
  ['a letter in the second octet', '1.x.3.4', null],
  ['a letter before a two-digit octet', '1.2.3.x45', null],
  ['a letter before a three-digit octet', '1.2.3.x123', null],
  ['a leading zero in a two-digit octet', '1.2.3.04', null],
  ['a leading zero in a three-digit octet', '1.2.3.012', null],
  ['two zeros', '1.2.3.00', null],
  ['an octet of 256', '1.2.3.256', null],
  ['an octet of 300', '1.2.300.4', null],
  ['a four-digit octet', '1.2.3.1234', null],
  ['a four-digit first octet', '1234.2.3.4', null],
  ['three octets', '1.2.3', null],
  ['five octets', '1.2.3.4.5', null],
  ['an empty octet', '1..3.4', null],
  ['a leading dot', '.1.2.3.4', null],
  ['a leading dot before three octets', '.1.2.3', null],
  ['a leading dot before two octets', '.1.2', null],
  ['a leading colon before an octet', ':1.2.3', null],
  ['a hex letter right before the first octet', 'f1.2.3.4', null],
  ['a letter right before a three-digit first octet', 'x192.0.2.1', null],
  ['a slash right before the first octet', '/1.2.3.4', null],
  ['a hyphen right before the first octet', '-1.2.3.4', null],
  ['a trailing dot', '1.2.3.4.', null],
  ['the unspecified IPv4 address', '0.0.0.0', null],
  ['an IPv4 address with a port', '192.0.2.1:8080', '192.0.2.1'],
  ['an IPv4 address with a bad port', '192.0.2.1:99999', null],
  ['an Arabic-Indic digit', '1.2.3.\u0664', null],
  ['a fullwidth digit', '1.2.3.\uff14', null],
  // IPv6, read right to left by the IPv6 reader.
  ['a plain IPv6 address', '2001:db8::1', '2001:db8::1'],
  ['eight groups', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ['eight groups with zeros to compress', '2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ['a gap of one group (written, not compressed)', '1::2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
  ['a trailing gap', '2001:db8::', '2001:db8::'],
  ['a leading gap', '::2', '::2'],
  ['a leading gap before two groups', '::2:3', '::2:3'],
  ['upper-case hex', '2001:DB8::A', '2001:db8::a'],
  ['a leading zero in a group', '2001:0db8::1', '2001:db8::1'],
  ['four-digit groups', 'abcd:ef01:2345:6789:abcd:ef01:2345:6789', 'abcd:ef01:2345:6789:abcd:ef01:2345:6789'],
  ['all hex letters of both cases', 'aBcD:eF::Fe:dCbA', 'abcd:ef::fe:dcba'],
  ['the gap not where RFC 5952 puts it', '1::2:0:0:0:3', '1:0:0:2::3'],
  ['the second of two equal zero runs compressed', '1:0:0:2::3:4', '1::2:0:0:3:4'],
  ['a gap of one zero group where a longer run is written out', '1::2:0:0:3:4:5', '1:0:2::3:4:5'],
  ['a zero group not compressed', '1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
  ['eight groups with a zero run to compress', '1:2:0:0:0:6:7:8', '1:2::6:7:8'],
  ['IPv4-mapped, as hex groups', '::ffff:102:304', '1.2.3.4'],
  ['IPv4-mapped, dotted', '::ffff:1.2.3.4', '1.2.3.4'],
  ['ffff in another group (not mapped)', '::ffff:0:102:304', '::ffff:0:102:304'],
  ['the unspecified IPv6 address', '::', null],
  ['the unspecified address in eight groups', '0:0:0:0:0:0:0:0', null],
  ['a g after the last group', '2001:db8::1g', null],
  ['a g as the last group', '2001:db8::g', null],
  ['a g as the first group', 'g::1', null],
  ['a g in the middle', '2001:g::1', null],
  ['a colon at the end', '2001:db8::1:', null],
  ['a colon at the start', ':2001:db8::1', null],
  ['three colons', '2001:db8:::1', null],
  ['two gaps', '2001::db8::1', null],
  ['a gap and then two', '1::2::', null],
  ['a gap at both ends', '::1::', null],
  ['nine groups', '1:2:3:4:5:6:7:8:9', null],
  ['seven groups without a gap', '1:2:3:4:5:6:7', null],
  ['eight groups and a gap', '1::2:3:4:5:6:7:8', null],
  ['eight groups and a trailing gap', '1:2:3:4:5:6:7:8::', null],
  ['eight groups and a leading gap', '::1:2:3:4:5:6:7:8', null],
  ['a five-digit group', '12345::1', null],
  ['a five-digit last group', '1::12345', null],
  ['an empty group', '1:2:3::4:5:6::', null],
  ['a single colon', ':', null],
  ['a dot before a trailing colon', 'd.:', null],
  ['a letter before a trailing colon', '2001:db8::1x:', null],
  ['a leading zero in the only written group', '::04e', '::4e'],
  ['a leading zero in the group after the gap', 'a::0bc', 'a::bc'],
  ['a leading zero in the group before the gap', '0ab::1', 'ab::1'],
  ['a dot after hex groups', '2001:db8::1.', null],
  ['an embedded IPv4 tail (RFC 6052)', '64:ff9b::192.0.2.1', '64:ff9b::c000:201'],
  ['six groups and an IPv4 tail', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
  ['seven groups and an IPv4 tail', '1:2:3:4:5:6:7:1.2.3.4', null],
  ['a gap, seven groups and an IPv4 tail', '1::2:3:4:5:6:7:1.2.3.4', null],
  ['a gap, six groups and an IPv4 tail', '1::2:3:4:5:6:1.2.3.4', null],
  ['an IPv4 tail that is not the last part', '1::1.2.3.4:5', null],
  ['a short IPv4 tail', '1::1.2.3', null],
  ['an IPv4 tail and a zone on a link-local address', 'fe80::1.2.3.4%eth0', 'fe80::102:304%eth0'],
  ['an IPv4 tail and a zone elsewhere (dropped)', '64:ff9b::1.2.3.4%eth0', '64:ff9b::102:304'],
  ['the IPv4-mapped unspecified address', '::ffff:0.0.0.0', null],
  ['the IPv4-mapped unspecified address as hex', '::ffff:0:0', null],
  ['the unspecified address with an IPv4 tail', '::0.0.0.0', null],
  ['a zone on an address that is not link-local (dropped)', '2001:db8::1%eth0', '2001:db8::1'],
  ['a zone on a link-local address', 'fe80::1%eth0', 'fe80::1%eth0'],
  ['a bracketed address with a port', '[2001:db8::1]:443', '2001:db8::1'],
  ['an e with an acute accent (U+00E9) as a group', '2001:db8::\u00e9', null],
  ['a U+0080 after a group', '2001:db8::1\u0080', null],
  ['a U+0080 before the first group', '\u00802001:db8::1', null],
  ['a U+0100 as a group', '\u0100::1', null],
  ['a fullwidth letter as a group', '2001:db8::\uff41', null],
  // Neither.
  ['a word', 'unknown', null],
  ['an obfuscated identifier', '_hidden', null],
  ['a NUL character', '\u0000', null],
]

/** Places of the item in a header, and the client the walk must find when the item is (not) an address. */
const places: [name: string, header: (item: string) => string][] = [
  ['alone', (t) => t],
  ['after a client-written entry', (t) => `${LEFT}, ${t}`],
  ['after an entry, without a space', (t) => `${LEFT},${t}`],
  ['padded with spaces', (t) => `  ${t}  `],
  ['padded with tabs, after an entry', (t) => `${LEFT},\t${t}\t`],
  ['before a loopback proxy', (t) => `${t}, 127.0.0.2`],
  ['between loopback proxies', (t) => `${LEFT}, ${t}, 127.0.0.3`],
]

const loopback = (() => {
  let p: ReturnType<typeof parseTrustProxy> | undefined
  return () => (p ??= parseTrustProxy('loopback'))
})()

describe('an X-Forwarded-For item is an address exactly when the parser says so', () => {
  it.each(rows)('canonicalizeIp: %s (%j)', (_name, item, address) => {
    expect(canonicalizeIp(item) ?? null).toBe(address)
  })

  it.each(rows)('the walk, at every place in the header: %s (%j)', (_name, item, address) => {
    for (const [place, header] of places) {
      const xff = header(item)
      const info = resolveClient(loopback(), { remoteAddress: PEER, headers: { 'x-forwarded-for': xff } })
      // An address that is not loopback is the client; one that is not an address stops the walk
      // at the last hop verified, the peer or the loopback proxy right of it.
      const lastVerified = xff.endsWith('127.0.0.2') ? '127.0.0.2' : xff.endsWith('127.0.0.3') ? '127.0.0.3' : PEER
      expect(info.ip ?? null, place).toBe(address ?? lastVerified)
      expect(info.anomalies.includes('malformed-entry'), place).toBe(address === null)
      expect(resolveClientIp(loopback(), PEER, xff) ?? null, place).toBe(address ?? lastVerified)
    }
  })

  it.each(rows.filter((r) => r[2] !== null))('proxy-addr reads the same address: %s (%j)', (_name, item, address) => {
    for (const [place, header] of places.slice(0, 3)) {
      const xff = header(item)
      const theirs = proxyaddr({ connection: { remoteAddress: PEER }, headers: { 'x-forwarded-for': xff } } as never, 'loopback')
      expect(canonicalizeIp(theirs) ?? null, place).toBe(address)
    }
  })

  it.each(rows)('listEntries and traceClient list it as the parser reads it: %s (%j)', (_name, item, address) => {
    expect(listEntries(`${LEFT}, ${item}, 127.0.0.2`)).toEqual([LEFT, address ?? undefined, '127.0.0.2'])
    const trace = traceClient(loopback(), { remoteAddress: PEER, headers: { 'x-forwarded-for': `${LEFT}, ${item}` } })
    const hop = trace.hops[1]!
    expect(hop.address).toBe(address)
    expect(hop.role).toBe(address === null ? 'malformed' : 'client')
  })
})

describe('an unspecified address is no host, whatever was parsed before it', () => {
  // The parser keeps its last result: the unspecified check of an IPv4-mapped address must read
  // the IPv4 value, not the IPv6 words of the address before it.
  it.each([
    ['::ffff:0.0.0.0', '2001:db8::1'],
    ['::ffff:0:0', 'fe80::1%eth0'],
    ['[::ffff:0.0.0.0]:80', '2001:db8::1'],
  ])('%s after %s', (unspecified, before) => {
    expect(canonicalizeIp(before)).toBeDefined()
    expect(canonicalizeIp(unspecified)).toBeUndefined()
    expect(resolveClientIp(loopback(), PEER, `${before}, ${unspecified}`)).toBe(PEER)
    expect(resolveClientIp(loopback(), '::ffff:0.0.0.0', before)).toBeUndefined()
  })
})

describe('the item bound is the same for every item, read by any reader', () => {
  // 192 characters with the white space around the entry are an item (MAX_ITEM_LENGTH); 193 are
  // not, on whichever side the padding is (issue 11, point 4).
  const items = ['192.0.2.1', '2001:db8::1', 'A:b:C:d:E:f:0:1', '::ffff:1.2.3.4', '[2001:db8::1]:443', '192.0.2.1:80']
  it.each(items)('%s', (item) => {
    const address = canonicalizeIp(item)!
    for (const [left, right] of [[192 - item.length, 0], [0, 192 - item.length], [7, 185 - item.length]] as const) {
      for (const pad of [' ', '\t']) {
        const ok = pad.repeat(left) + item + pad.repeat(right)
        for (const [more, less] of [[pad + ok, ok], [ok + pad, ok]] as const) {
          expect(canonicalizeIp(less), 'at the bound').toBe(address)
          expect(canonicalizeIp(more), 'over the bound').toBeUndefined()
          for (const header of [(t: string) => t, (t: string) => `${LEFT},${t}`, (t: string) => `${t},127.0.0.2`]) {
            const at = resolveClient(loopback(), { remoteAddress: PEER, headers: { 'x-forwarded-for': header(less) } })
            expect(at.ip).toBe(address)
            const over = resolveClient(loopback(), { remoteAddress: PEER, headers: { 'x-forwarded-for': header(more) } })
            expect(over.ip).toBe(header(more).endsWith('127.0.0.2') ? '127.0.0.2' : PEER)
            expect(over.anomalies).toContain('malformed-entry')
          }
        }
      }
    }
  })
})

describe('why an item is not an address, as traceClient and listEntries say it', () => {
  const long = 'a'.repeat(150)
  const huge = 'a'.repeat(300)
  it.each([
    ['an empty item between commas', `${LEFT},,127.0.0.2`, [LEFT, undefined, '127.0.0.2'], 'empty'],
    ['an item of white space', `${LEFT}, \t ,127.0.0.2`, [LEFT, undefined, '127.0.0.2'], 'empty'],
    ['a leading comma', ',127.0.0.2', [undefined, '127.0.0.2'], 'empty'],
    ['unknown', `${LEFT},unknown,127.0.0.2`, [LEFT, undefined, '127.0.0.2'], 'unknown'],
    ['UNKNOWN in upper case', `${LEFT},UNKNOWN,127.0.0.2`, [LEFT, undefined, '127.0.0.2'], 'unknown'],
    ['an obfuscated identifier', `${LEFT},_gw1,127.0.0.2`, [LEFT, undefined, '127.0.0.2'], 'obfuscated'],
    ['a word', `${LEFT},garbage,127.0.0.2`, [LEFT, undefined, '127.0.0.2'], 'not-an-address'],
    ['an item longer than an entry, within the item bound', `${LEFT},${long},127.0.0.2`, [LEFT, undefined, '127.0.0.2'], 'too-long'],
    // Over the item bound, the item's start is not looked for: nothing left of it is listed.
    ['an item over the item bound', `${LEFT},${huge},127.0.0.2`, [undefined, '127.0.0.2'], 'too-long'],
    ['an item of 192 characters (the bound) after an entry', `${LEFT},${'a'.repeat(192)},127.0.0.2`, [LEFT, undefined, '127.0.0.2'], 'too-long'],
    ['an item of 193 characters after an entry', `${LEFT},${'a'.repeat(193)},127.0.0.2`, [undefined, '127.0.0.2'], 'too-long'],
    ['an item over the item bound at the start', `${huge},127.0.0.2`, [undefined, '127.0.0.2'], 'too-long'],
    ['an item over the item bound after a short one', `9,${huge},127.0.0.2`, [undefined, '127.0.0.2'], 'too-long'],
  ] as const)('%s', (_name, xff, entries, reason) => {
    expect(listEntries(xff)).toEqual(entries)
    const trace = traceClient(loopback(), { remoteAddress: PEER, headers: { 'x-forwarded-for': xff } })
    const stop = trace.hops.find((h) => h.role === 'malformed')!
    expect(stop.malformed).toBe(reason)
    expect(trace.client.ip).toBe('127.0.0.2')
    expect(trace.entries).toBe(entries.length)
    expect(trace.hops.filter((h) => h.role === 'malformed')).toHaveLength(1)
  })
})

describe('header lines that are not strings are entries that are not addresses', () => {
  // Node gives strings; a caller may pass anything (spec section 5). Such a line is read as one
  // entry that is no address, whatever it would print as.
  const printsAsAddress = { toString: () => '198.51.100.1' }
  it.each([
    ['an object that prints as an address, after an address', ['203.0.113.7', printsAsAddress]],
    ['an object that prints as an address, before a proxy', [printsAsAddress, '127.0.0.2']],
    ['a number', [3_325_256_705, '127.0.0.2']],
    ['null', [null, '127.0.0.2']],
    ['an array that prints as an address', [['198.51.100.1'], '127.0.0.2']],
  ] as const)('%s', (_name, lines) => {
    const last = lines[lines.length - 1]
    const expected = last === '127.0.0.2' ? '127.0.0.2' : PEER
    const info = resolveClient(loopback(), { remoteAddress: PEER, headers: { 'x-forwarded-for': lines as never } })
    expect(info.ip).toBe(expected)
    expect(info.anomalies).toContain('malformed-entry')
    expect(resolveClientIp(loopback(), PEER, lines as never)).toBe(expected)
    expect(listEntries(lines)).not.toContain('198.51.100.1')
    const trace = traceClient(loopback(), { remoteAddress: PEER, headers: { 'x-forwarded-for': lines as never } })
    expect(trace.hops.find((h) => h.role === 'malformed')?.malformed).toBe('not-an-address')
  })
})

describe('a malformed entry: the client is the last verified hop, canonical, wherever it stands', () => {
  // The walk re-reads the last hop it verified when the next entry is malformed; that hop may be
  // far to the right in a long header, and the malformed text may look like an address for a while.
  const hops = [
    ['::ffff:7f00:2', '127.0.0.2'],
    ['::ffff:127.0.0.2', '127.0.0.2'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['[::1]:8080', '::1'],
    ['127.0.0.2:80', '127.0.0.2'],
  ]
  const bad = ['1.2.3.4x', '10.9.8.7:99999', 'fe80::1%eth 0', 'garbage']
  const before = ['', '198.51.100.1, ', '198.51.100.1, '.repeat(12), ' '.repeat(150) + '198.51.100.1,']
  it.each(hops)('%s', (hop, canonical) => {
    for (const b of bad) {
      for (const prefix of before) {
        const xff = `${prefix}${b}, ${hop}`
        expect(resolveClientIp(loopback(), PEER, xff), xff).toBe(canonical)
        const info = resolveClient(loopback(), { remoteAddress: PEER, headers: { 'x-forwarded-for': xff } })
        expect(info.ip).toBe(canonical)
        expect(info.chain).toEqual([PEER, canonical])
        expect(info.anomalies).toContain('malformed-entry')
      }
    }
  })
})
