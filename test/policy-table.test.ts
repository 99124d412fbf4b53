/**
 * The TRUST_PROXY table: every accepted form and every rejection of spec section 1, and
 * Infram's own values. Each row states the exact policy, or the error's reason, entry and
 * position; every error message must name the bad entry.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TrustProxyError, parseTrustProxy } from '../src/index.js'
import type { PolicyKind, TrustProxyErrorReason, TrustProxyInput, TrustProxyWarningCode } from '../src/index.js'

interface Accepted {
  input: unknown
  kind: PolicyKind
  hops?: number
  ranges?: string[]
  warnings?: TrustProxyWarningCode[]
  canonical: string
}

interface Rejected {
  input: unknown
  reason: TrustProxyErrorReason
  entry: string
  position: number
}

const accepted: [string, Accepted][] = [
  // none
  ['unset (undefined)', { input: undefined, kind: 'none', canonical: 'false' }],
  ['null', { input: null, kind: 'none', canonical: 'false' }],
  ['empty string', { input: '', kind: 'none', canonical: 'false' }],
  ['white space only', { input: '  \t ', kind: 'none', canonical: 'false' }],
  ['false', { input: 'false', kind: 'none', canonical: 'false' }],
  ['FALSE (case-insensitive)', { input: 'FALSE', kind: 'none', canonical: 'false' }],
  ['0', { input: '0', kind: 'none', canonical: 'false' }],
  ['off', { input: 'off', kind: 'none', canonical: 'false' }],
  ['Off with spaces', { input: '  Off ', kind: 'none', canonical: 'false' }],
  ['no', { input: 'no', kind: 'none', canonical: 'false' }],
  ['boolean false', { input: false, kind: 'none', canonical: 'false' }],
  ['number 0', { input: 0, kind: 'none', canonical: 'false' }],
  ['empty array', { input: [], kind: 'none', canonical: 'false' }],
  // all
  ['true', { input: 'true', kind: 'all', warnings: ['trust-all'], canonical: 'true' }],
  ['TRUE', { input: 'TRUE', kind: 'all', warnings: ['trust-all'], canonical: 'true' }],
  ['yes (Infram)', { input: 'yes', kind: 'all', warnings: ['trust-all'], canonical: 'true' }],
  ['on (Infram)', { input: 'on', kind: 'all', warnings: ['trust-all'], canonical: 'true' }],
  ['boolean true', { input: true, kind: 'all', warnings: ['trust-all'], canonical: 'true' }],
  // hops
  ['1 is one hop (Infram, not "trust all")', { input: '1', kind: 'hops', hops: 1, warnings: ['hop-count'], canonical: '1' }],
  ['2', { input: '2', kind: 'hops', hops: 2, warnings: ['hop-count'], canonical: '2' }],
  ['64 (the bound)', { input: '64', kind: 'hops', hops: 64, warnings: ['hop-count'], canonical: '64' }],
  [' 3 with spaces', { input: ' 3 ', kind: 'hops', hops: 3, warnings: ['hop-count'], canonical: '3' }],
  ['number 1', { input: 1, kind: 'hops', hops: 1, warnings: ['hop-count'], canonical: '1' }],
  ['number 5', { input: 5, kind: 'hops', hops: 5, warnings: ['hop-count'], canonical: '5' }],
  // ranges
  ['IPv4 address', { input: '10.0.0.1', kind: 'ranges', ranges: ['10.0.0.1'], canonical: '10.0.0.1' }],
  ['IPv4 /32 is the address', { input: '10.0.0.1/32', kind: 'ranges', ranges: ['10.0.0.1'], canonical: '10.0.0.1' }],
  ['IPv4 CIDR', { input: '10.0.0.0/8', kind: 'ranges', ranges: ['10.0.0.0/8'], canonical: '10.0.0.0/8' }],
  ['IPv4 netmask', { input: '10.0.0.0/255.0.0.0', kind: 'ranges', ranges: ['10.0.0.0/8'], canonical: '10.0.0.0/8' }],
  ['IPv4 netmask /26', { input: '10.0.0.2/255.255.255.192', kind: 'ranges', ranges: ['10.0.0.0/26'], warnings: ['host-bits'], canonical: '10.0.0.0/26' }],
  ['host bits set are normalised, with a warning', { input: '10.0.0.1/8', kind: 'ranges', ranges: ['10.0.0.0/8'], warnings: ['host-bits'], canonical: '10.0.0.0/8' }],
  ['IPv6 address, upper case', { input: '2001:DB8::1', kind: 'ranges', ranges: ['2001:db8::1'], canonical: '2001:db8::1' }],
  ['IPv6 full form', { input: '2001:0db8:0000:0000:0000:0000:0000:0001', kind: 'ranges', ranges: ['2001:db8::1'], canonical: '2001:db8::1' }],
  ['IPv6 CIDR', { input: 'fd00::/8', kind: 'ranges', ranges: ['fd00::/8'], canonical: 'fd00::/8' }],
  ['IPv6 with embedded IPv4', { input: '64:ff9b::192.0.2.1', kind: 'ranges', ranges: ['64:ff9b::c000:201'], canonical: '64:ff9b::c000:201' }],
  ['IPv4-mapped address means the IPv4 address', { input: '::ffff:127.0.0.1', kind: 'ranges', ranges: ['127.0.0.1'], canonical: '127.0.0.1' }],
  ['IPv4-mapped range /104 means 10.0.0.0/8', { input: '::ffff:10.0.0.0/104', kind: 'ranges', ranges: ['10.0.0.0/8'], canonical: '10.0.0.0/8' }],
  ['link-local with zone', { input: 'fe80::1%eth0', kind: 'ranges', ranges: ['fe80::1%eth0'], canonical: 'fe80::1%eth0' }],
  ['link-local range with zone', { input: 'fe80::%eth0/64', kind: 'ranges', ranges: ['fe80::%eth0/64'], canonical: 'fe80::%eth0/64' }],
  ['loopback', { input: 'loopback', kind: 'ranges', ranges: ['loopback'], canonical: 'loopback' }],
  ['LOOPBACK (case-insensitive)', { input: 'LOOPBACK', kind: 'ranges', ranges: ['loopback'], canonical: 'loopback' }],
  ['linklocal', { input: 'linklocal', kind: 'ranges', ranges: ['linklocal'], canonical: 'linklocal' }],
  ['uniquelocal', { input: 'uniquelocal', kind: 'ranges', ranges: ['uniquelocal'], canonical: 'uniquelocal' }],
  ['private', { input: 'private', kind: 'ranges', ranges: ['private'], canonical: 'private' }],
  ['unix', { input: 'unix', kind: 'ranges', ranges: ['unix'], canonical: 'unix' }],
  ['comma list', { input: 'loopback, 10.0.0.0/8, fd00::/8', kind: 'ranges', ranges: ['loopback', '10.0.0.0/8', 'fd00::/8'], canonical: 'loopback, 10.0.0.0/8, fd00::/8' }],
  ['space list', { input: 'loopback 10.0.0.0/8', kind: 'ranges', ranges: ['loopback', '10.0.0.0/8'], canonical: 'loopback, 10.0.0.0/8' }],
  ['comma without spaces', { input: '10.0.0.1,10.0.0.2', kind: 'ranges', ranges: ['10.0.0.1', '10.0.0.2'], canonical: '10.0.0.1, 10.0.0.2' }],
  ['tabs and newlines as separators', { input: '10.0.0.1\t\n10.0.0.2', kind: 'ranges', ranges: ['10.0.0.1', '10.0.0.2'], canonical: '10.0.0.1, 10.0.0.2' }],
  ['array (Express form)', { input: ['loopback', '10.0.0.1'], kind: 'ranges', ranges: ['loopback', '10.0.0.1'], canonical: 'loopback, 10.0.0.1' }],
  // Issue 11, point 3: trust-all written in pieces is warned like /0.
  ['two halves of IPv4 trust all IPv4', { input: '0.0.0.0/1, 128.0.0.0/1', kind: 'ranges', ranges: ['0.0.0.0/1', '128.0.0.0/1'], warnings: ['trust-all'], canonical: '0.0.0.0/1, 128.0.0.0/1' }],
  ['two halves of IPv6 trust all IPv6', { input: '::/1, 8000::/1', kind: 'ranges', ranges: ['::/1', '8000::/1'], warnings: ['trust-all'], canonical: '::/1, 8000::/1' }],
  ['0.0.0.0/31 is a range, not the unspecified address', { input: '0.0.0.0/31', kind: 'ranges', ranges: ['0.0.0.0/31'], canonical: '0.0.0.0/31' }],
  ['array elements are trimmed of ASCII white space', { input: [' 10.0.0.1\t', '\n::1 '], kind: 'ranges', ranges: ['10.0.0.1', '::1'], canonical: '10.0.0.1, ::1' }],
  ['0.0.0.0/0 trusts all IPv4, with a warning', { input: '0.0.0.0/0', kind: 'ranges', ranges: ['0.0.0.0/0'], warnings: ['trust-all'], canonical: '0.0.0.0/0' }],
  ['::/0 trusts all IPv6, with a warning', { input: '::/0', kind: 'ranges', ranges: ['::/0'], warnings: ['trust-all'], canonical: '::/0' }],
  ['duplicate entry is listed once', { input: '10.0.0.1, 10.0.0.1', kind: 'ranges', ranges: ['10.0.0.1'], warnings: ['duplicate'], canonical: '10.0.0.1' }],
  ['a repeat after normalising is a duplicate', { input: '10.0.0.0/8, 10.0.0.1/8', kind: 'ranges', ranges: ['10.0.0.0/8'], warnings: ['duplicate', 'host-bits'], canonical: '10.0.0.0/8' }],
  ['nested entry', { input: '10.0.0.0/8, 10.1.2.3', kind: 'ranges', ranges: ['10.0.0.0/8', '10.1.2.3'], warnings: ['nested'], canonical: '10.0.0.0/8, 10.1.2.3' }],
  ['address nested in a name', { input: 'loopback, 127.0.0.9', kind: 'ranges', ranges: ['loopback', '127.0.0.9'], warnings: ['nested'], canonical: 'loopback, 127.0.0.9' }],
  ['Docker network', { input: '172.18.0.0/16', kind: 'ranges', ranges: ['172.18.0.0/16'], canonical: '172.18.0.0/16' }],
]

const rejected: [string, Rejected][] = [
  ['inet_aton shorthand 127.1', { input: '127.1', reason: 'ipv4-shorthand', entry: '127.1', position: 0 }],
  ['inet_aton shorthand 10.1.2', { input: '10.1.2', reason: 'ipv4-shorthand', entry: '10.1.2', position: 0 }],
  ['octal octet', { input: '010.0.0.1', reason: 'ipv4-leading-zero', entry: '010.0.0.1', position: 0 }],
  ['hex octet', { input: '0x7f.0.0.1', reason: 'ipv4-hex', entry: '0x7f.0.0.1', position: 0 }],
  ['a 32-bit integer as an address', { input: '2130706433', reason: 'hop-count-range', entry: '2130706433', position: 0 }],
  ['octet out of range', { input: '10.0.300.1', reason: 'ipv4-octet-range', entry: '10.0.300.1', position: 0 }],
  ['five octets', { input: '1.2.3.4.5', reason: 'invalid-address', entry: '1.2.3.4.5', position: 0 }],
  ['IPv4 prefix 33', { input: '10.0.0.0/33', reason: 'prefix-range', entry: '10.0.0.0/33', position: 0 }],
  ['IPv6 prefix 129', { input: '::1/129', reason: 'prefix-range', entry: '::1/129', position: 0 }],
  ['prefix 6000', { input: '10.0.0.1/6000', reason: 'prefix-range', entry: '10.0.0.1/6000', position: 0 }],
  ['negative prefix', { input: '::ffff:a00:2/-1', reason: 'prefix-invalid', entry: '::ffff:a00:2/-1', position: 0 }],
  ['prefix is a word', { input: '10.0.0.1/internet', reason: 'prefix-invalid', entry: '10.0.0.1/internet', position: 0 }],
  ['prefix with a leading zero', { input: '10.0.0.0/08', reason: 'prefix-invalid', entry: '10.0.0.0/08', position: 0 }],
  ['non-contiguous netmask', { input: '10.0.0.1/255.0.255.0', reason: 'netmask-noncontiguous', entry: '10.0.0.1/255.0.255.0', position: 0 }],
  ['IPv6 netmask', { input: '10.0.0.1/ffc0::', reason: 'netmask-not-ipv4', entry: '10.0.0.1/ffc0::', position: 0 }],
  ['dotted netmask on IPv6', { input: 'fe80::/255.255.255.0', reason: 'netmask-not-ipv4', entry: 'fe80::/255.255.255.0', position: 0 }],
  ['hop count -1', { input: '-1', reason: 'hop-count-format', entry: '-1', position: 0 }],
  ['hop count 1.5', { input: '1.5', reason: 'hop-count-format', entry: '1.5', position: 0 }],
  ['hop count +2', { input: '+2', reason: 'hop-count-format', entry: '+2', position: 0 }],
  ['hop count 1e3', { input: '1e3', reason: 'hop-count-format', entry: '1e3', position: 0 }],
  ['hop count with leading zero', { input: '01', reason: 'hop-count-format', entry: '01', position: 0 }],
  ['hop count 65 (above the bound)', { input: '65', reason: 'hop-count-range', entry: '65', position: 0 }],
  ['number -1', { input: -1, reason: 'hop-count-format', entry: '-1', position: 0 }],
  ['number 1.5', { input: 1.5, reason: 'hop-count-format', entry: '1.5', position: 0 }],
  ['number NaN', { input: Number.NaN, reason: 'hop-count-format', entry: 'NaN', position: 0 }],
  ['number 100', { input: 100, reason: 'hop-count-range', entry: '100', position: 0 }],
  ['hop count mixed with an address', { input: '1, 10.0.0.1', reason: 'hop-count-in-list', entry: '1', position: 0 }],
  ['address then hop count', { input: '10.0.0.1 2', reason: 'hop-count-in-list', entry: '2', position: 9 }],
  ['yes please', { input: 'yes please', reason: 'keyword-in-list', entry: 'yes', position: 0 }],
  ['true in a list', { input: 'loopback, true', reason: 'keyword-in-list', entry: 'true', position: 10 }],
  ['unknown word nginx', { input: 'nginx', reason: 'unknown-word', entry: 'nginx', position: 0 }],
  ['unknown word localhost', { input: 'localhost', reason: 'unknown-word', entry: 'localhost', position: 0 }],
  ['unknown word after a valid entry', { input: '10.0.0.1, proxy', reason: 'unknown-word', entry: 'proxy', position: 10 }],
  ['empty list item', { input: '10.0.0.1,,10.0.0.2', reason: 'empty-entry', entry: '', position: 9 }],
  ['leading comma', { input: ',10.0.0.1', reason: 'empty-entry', entry: '', position: 0 }],
  ['trailing comma', { input: '10.0.0.1,', reason: 'empty-entry', entry: '', position: 8 }],
  ['zone on loopback', { input: '::1%lo', reason: 'zone-not-link-local', entry: '::1%lo', position: 0 }],
  ['zone on a global address', { input: '2001:db8::1%eth0', reason: 'zone-not-link-local', entry: '2001:db8::1%eth0', position: 0 }],
  ['zone on IPv4', { input: '10.0.0.1%eth0', reason: 'zone-not-link-local', entry: '10.0.0.1%eth0', position: 0 }],
  ['empty zone', { input: 'fe80::1%', reason: 'zone-invalid', entry: 'fe80::1%', position: 0 }],
  ['bad IPv6', { input: '::ffff:30.168.1.9000', reason: 'invalid-address', entry: '::ffff:30.168.1.9000', position: 0 }],
  ['too many IPv6 groups', { input: '1:2:3:4:5:6:7:8:9', reason: 'invalid-address', entry: '1:2:3:4:5:6:7:8:9', position: 0 }],
  ['two double colons', { input: '1::2::3', reason: 'invalid-address', entry: '1::2::3', position: 0 }],
  ['address with a port', { input: '10.0.0.1:8080', reason: 'port-not-allowed', entry: '10.0.0.1:8080', position: 0 }],
  ['bracketed IPv6', { input: '[::1]', reason: 'port-not-allowed', entry: '[::1]', position: 0 }],
  ['unspecified 0.0.0.0', { input: '0.0.0.0', reason: 'unspecified-address', entry: '0.0.0.0', position: 0 }],
  ['unspecified ::', { input: '::', reason: 'unspecified-address', entry: '::', position: 0 }],
  // Issue 11, point 2: the mapped short prefix was read as ::/8 (trusting ::1); now refused as ambiguous.
  ['IPv4-mapped address with a prefix below 96', { input: '::ffff:10.0.0.0/8', reason: 'mapped-prefix', entry: '::ffff:10.0.0.0/8', position: 0 }],
  // Issue 11, point 1: one unspecified address, however written, is refused (its text would be).
  ['unspecified ::/128', { input: '::/128', reason: 'unspecified-address', entry: '::/128', position: 0 }],
  ['unspecified 0.0.0.0/32', { input: '0.0.0.0/32', reason: 'unspecified-address', entry: '0.0.0.0/32', position: 0 }],
  ['unspecified with a full netmask', { input: '0.0.0.0/255.255.255.255', reason: 'unspecified-address', entry: '0.0.0.0/255.255.255.255', position: 0 }],
  ['mapped unspecified /128', { input: '::ffff:0.0.0.0/128', reason: 'unspecified-address', entry: '::ffff:0.0.0.0/128', position: 0 }],
  // Issue 11, point 6.
  ['zone on an IPv4-mapped address', { input: '::ffff:127.0.0.1%eth0', reason: 'zone-not-link-local', entry: '::ffff:127.0.0.1%eth0', position: 0 }],
  // Issue 11, point 8: one rule for strings and array elements.
  ['no-break space in a string', { input: '10.0.0.1,\u00a010.0.0.2', reason: 'unicode-space', entry: '\u00a010.0.0.2', position: 9 }],
  ['byte-order mark in an array element', { input: ['\ufeff10.0.0.1'], reason: 'unicode-space', entry: '\ufeff10.0.0.1', position: 0 }],
  ['array element not a string', { input: ['loopback', 7], reason: 'invalid-type', entry: '[object Number]', position: 1 }],
  ['array element holding a list', { input: ['10.0.0.1, 10.0.0.2'], reason: 'invalid-address', entry: '10.0.0.1, 10.0.0.2', position: 0 }],
  ['array element hop count', { input: ['1'], reason: 'hop-count-in-list', entry: '1', position: 0 }],
  ['an object', { input: { trust: true }, reason: 'invalid-type', entry: '[object Object]', position: 0 }],
  ['a function', { input: () => true, reason: 'invalid-type', entry: 'function', position: 0 }],
]

describe('TRUST_PROXY table', () => {
  it('has at least 60 rows', () => {
    expect(accepted.length + rejected.length).toBeGreaterThanOrEqual(60)
  })

  describe.each(accepted)('accepts %s', (_name, row) => {
    it('gives the exact policy', () => {
      const p = parseTrustProxy(row.input as TrustProxyInput)
      expect(p.kind).toBe(row.kind)
      expect(p.hops).toBe(row.hops)
      expect([...p.ranges]).toEqual(row.ranges ?? [])
      expect(p.warnings.map((w) => w.code).sort()).toEqual([...(row.warnings ?? [])].sort())
      expect(p.toString()).toBe(row.canonical)
      for (const w of p.warnings) expect(w.message.length).toBeGreaterThan(20)
    })
    it('round-trips through toString()', () => {
      const p = parseTrustProxy(row.input as TrustProxyInput)
      const again = parseTrustProxy(p.toString())
      expect({ kind: again.kind, hops: again.hops, ranges: again.ranges }).toEqual({
        kind: p.kind,
        hops: p.hops,
        ranges: p.ranges,
      })
    })
  })

  describe.each(rejected)('rejects %s', (_name, row) => {
    it('throws a TrustProxyError naming the entry', () => {
      let error: unknown
      try {
        parseTrustProxy(row.input as TrustProxyInput)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(TrustProxyError)
      expect(error).toBeInstanceOf(Error)
      const e = error as TrustProxyError
      expect(e.code).toBe('ERR_INVALID_TRUST_PROXY')
      expect(e.name).toBe('TrustProxyError')
      expect(e.reason).toBe(row.reason)
      expect(e.entry).toBe(row.entry)
      expect(e.position).toBe(row.position)
      expect(e.message).toContain(`entry ${JSON.stringify(row.entry)}`)
      expect(e.message).toContain(`position ${row.position}`)
      // The message lists the accepted forms, so the operator can fix it without the docs.
      expect(e.message).toMatch(/Accepted: .*hop count.*loopback, linklocal, uniquelocal, private and unix/)
    })
  })
})

describe('warnings', () => {
  it('explain the hop-count risk (no check of who is connected)', () => {
    const [w] = parseTrustProxy('1').warnings
    expect(w?.message).toMatch(/forge/)
  })
  it('name both entries of a nested pair', () => {
    const w = parseTrustProxy('10.0.0.0/8 10.9.9.9').warnings.find((x) => x.code === 'nested')
    expect(w?.entry).toBe('10.9.9.9')
    expect(w?.message).toContain('10.0.0.0/8')
  })
  // "X is already covered by Y" says that X can be dropped: every range of X, in both families,
  // lies inside Y's. Equal ranges cover each other; the single range is the one named, and of two
  // entries with the same ranges, the later one.
  const nested = (value: string): string[] =>
    parseTrustProxy(value)
      .warnings.filter((w) => w.code === 'nested')
      .map((w) => w.message)
  it.each([
    ['a range before the name that holds it', '10.0.0.0/8, private', ['"10.0.0.0/8" is already covered by "private"']],
    ['a range after the name that holds it', 'private, 10.0.0.0/8', ['"10.0.0.0/8" is already covered by "private"']],
    ['a name before a name that holds all of it', 'uniquelocal, private', ['"uniquelocal" is already covered by "private"']],
    ['a name after a name that holds all of it', 'private, loopback', ['"loopback" is already covered by "private"']],
    ['a name only partly inside a range', '0.0.0.0/1, private', []],
    ['a name inside two entries together, neither alone', '0.0.0.0/1, ::/1, loopback', []],
    ['one of a name\'s ranges, before it', 'fc00::/7, uniquelocal', ['"fc00::/7" is already covered by "uniquelocal"']],
    ['one of a name\'s ranges, in the other family, after it', 'loopback, ::1', ['"::1" is already covered by "loopback"']],
  ])('nested: %s', (_, value, messages) => {
    expect(nested(value)).toEqual(messages)
  })
  it('nested: an entry named as covered can be dropped without trusting less (property)', () => {
    const entries = ['loopback', 'linklocal', 'uniquelocal', 'private', '10.0.0.0/8', '10.1.0.0/16', '127.0.0.1', '0.0.0.0/1', '128.0.0.0/2', 'fc00::/7', 'fd00::/8', '::1', '::/1', '169.254.0.0/16', 'fe80::/10', '100.64.0.0/10']
    const probe = fc.oneof(
      fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.')),
      fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((g) => g.map((x) => x.toString(16)).join(':')),
      fc.constantFrom('127.0.0.1', '10.1.2.3', '::1', 'fd00::5', 'fe80::1', '169.254.1.1', '100.64.0.1', '192.168.0.1'),
    )
    fc.assert(
      fc.property(fc.subarray(entries, { minLength: 2 }), fc.array(probe, { minLength: 20, maxLength: 20 }), (list, probes) => {
        const policy = parseTrustProxy(list.join(', '))
        // Past 20 warnings of a code, one more says how many were left out: it names no entry.
        for (const w of policy.warnings.filter((x) => x.code === 'nested' && x.entry !== undefined)) {
          const [, covered, by] = /^"(.*)" is already covered by "(.*)"$/.exec(w.message)!
          const one = parseTrustProxy(covered!)
          const other = parseTrustProxy(by!)
          for (const a of probes) if (one.trust(a, 0)) expect(other.trust(a, 0), `${a}: ${w.message}`).toBe(true)
        }
      }),
      { numRuns: 300 },
    )
  })
  it('nested: zone by zone, every link-local entry that another covers is named (property)', () => {
    // A zoned range is inside a range of its own zone or of none; each zone keeps its own outer
    // range (`fe80::%eth0/10, fe80::%eth1/16, fe80::%eth0/64`: the last is inside the first). The
    // policy's own trust decides "covers": an entry covers another when it trusts both ends of it.
    const ladder: [prefix: string, bits: string, first: string, last: string][] = [
      ['fe80::', '/10', 'fe80::', 'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
      ['fe80::', '/16', 'fe80::', 'fe80:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
      ['fe80:1::', '/32', 'fe80:1::', 'fe80:1:ffff:ffff:ffff:ffff:ffff:ffff'],
      ['fe80::', '/64', 'fe80::', 'fe80::ffff:ffff:ffff:ffff'],
      ['fe80::1:0', '/112', 'fe80::1:0', 'fe80::1:ffff'],
      ['fe80::1', '', 'fe80::1', 'fe80::1'],
      ['fe80::1:5', '', 'fe80::1:5', 'fe80::1:5'],
    ]
    const entry = fc.tuple(fc.nat(ladder.length - 1), fc.constantFrom('', '%eth0', '%eth1')).map(([k, zone]) => {
      const [prefix, bits, first, last] = ladder[k]!
      return { text: `${prefix}${zone}${bits}`, first: first + zone, last: last + zone }
    })
    fc.assert(
      fc.property(fc.uniqueArray(entry, { minLength: 2, maxLength: 10, selector: (e) => e.text }), (list) => {
        const policies = list.map((e) => parseTrustProxy(e.text))
        const covered = list.filter((x, i) => list.some((_, j) => j !== i && policies[j]!.trust(x.first, 0) && policies[j]!.trust(x.last, 0)))
        const named = parseTrustProxy(list.map((e) => e.text).join(', ')).warnings.filter((w) => w.code === 'nested').map((w) => w.entry)
        expect(new Set(named)).toEqual(new Set(covered.map((e) => e.text)))
      }),
      { numRuns: 300 },
    )
  })
  it('nested: a zoned range after a range of another zone is still checked against its own zone', () => {
    expect(nested('fe80::%eth0/10, fe80::%eth1/16, fe80::%eth0/64')).toEqual(['"fe80::%eth0/64" is already covered by "fe80::%eth0/10"'])
  })
  it('say what a host-bits entry is read as', () => {
    const w = parseTrustProxy('192.168.1.77/24').warnings[0]
    expect(w?.message).toContain('192.168.1.0/24')
  })
  it('are not duplicated for one name that overlaps itself (private contains loopback)', () => {
    expect(parseTrustProxy('private').warnings).toEqual([])
  })
  it('flag an IPv4-mapped /96 as trust-all IPv4', () => {
    const p = parseTrustProxy('::ffff:0:0/96')
    expect(p.ranges).toEqual(['0.0.0.0/0'])
    expect(p.warnings.map((w) => w.code)).toContain('trust-all')
  })
})

describe('policy.trust (the Express / Fastify predicate)', () => {
  it('is bound: it works detached from the policy', () => {
    const { trust } = parseTrustProxy('10.0.0.0/8')
    expect(trust('10.1.2.3', 0)).toBe(true)
    expect(trust('11.1.2.3', 0)).toBe(false)
  })
  it('counts hops for a hop count, whatever the address', () => {
    const { trust } = parseTrustProxy('2')
    expect([trust('1.1.1.1', 0), trust('1.1.1.1', 1), trust('1.1.1.1', 2)]).toEqual([true, true, false])
  })
  it('matches IPv4-mapped text against IPv4 ranges', () => {
    expect(parseTrustProxy('127.0.0.1').trust('::ffff:127.0.0.1', 0)).toBe(true)
  })
  it('never lets an IPv6 range cover IPv4 (the proxy-addr CVE)', () => {
    const { trust } = parseTrustProxy('::/1')
    expect(trust('1.1.1.1', 0)).toBe(false)
    expect(trust('::ffff:1.1.1.1', 0)).toBe(false)
    expect(trust('::1', 0)).toBe(true)
  })
  it('requires the same zone for a zoned entry', () => {
    const { trust } = parseTrustProxy('fe80::1%proxy0')
    expect(trust('fe80::1%proxy0', 0)).toBe(true)
    expect(trust('fe80::1%edge0', 0)).toBe(false)
    expect(trust('fe80::1', 0)).toBe(false)
  })
  it('trusts a peer with no address only when the list names unix', () => {
    expect(parseTrustProxy('loopback').trust(undefined, 0)).toBe(false)
    expect(parseTrustProxy('loopback unix').trust(undefined, 0)).toBe(true)
  })
  it('does not trust text that is not an address', () => {
    expect(parseTrustProxy('0.0.0.0/0').trust('localhost', 1)).toBe(false)
  })
  it('is false for none and true for all', () => {
    expect(parseTrustProxy('false').trust('127.0.0.1', 0)).toBe(false)
    expect(parseTrustProxy('true').trust('anything', 7)).toBe(true)
  })
})

describe('policies are immutable', () => {
  it('cannot be changed after parsing', () => {
    const p = parseTrustProxy('10.0.0.0/8')
    expect(Object.isFrozen(p)).toBe(true)
    expect(Object.isFrozen(p.ranges)).toBe(true)
    expect(() => (p.ranges as string[]).push('0.0.0.0/0')).toThrow()
  })
  it('does not alter an input array', () => {
    const input = ['loopback', '10.0.0.1']
    parseTrustProxy(input)
    expect(input).toEqual(['loopback', '10.0.0.1'])
  })
})

describe('toJSON', () => {
  it('is stable for scripts', () => {
    expect(JSON.parse(JSON.stringify(parseTrustProxy('loopback, 10.0.0.1/8')))).toEqual({
      kind: 'ranges',
      ranges: ['loopback', '10.0.0.0/8'],
      warnings: [{ code: 'host-bits', entry: '10.0.0.1/8', message: '"10.0.0.1/8" has host bits set; it is read as 10.0.0.0/8' }],
      value: 'loopback, 10.0.0.0/8',
    })
    expect(JSON.parse(JSON.stringify(parseTrustProxy('2')))).toMatchObject({ kind: 'hops', hops: 2, value: '2' })
  })
})
