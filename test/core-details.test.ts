/**
 * Behaviours of the core that the tables and properties touched without pinning down, found by
 * mutation testing (docs/mutation-testing.md): each case names what it holds, one row each.
 */
import { describe, expect, it } from 'vitest'
import { TrustProxyError, listEntries, parseTrustProxy, resolveClient, resolveClientIp } from '../src/index.js'
import { getHeader } from '../src/headers.js'
import { RangeSet, cidrBounds, inCidr6, maskBits } from '../src/ranges.js'

function refusal(value: unknown): TrustProxyError {
  try {
    parseTrustProxy(value as never)
  } catch (e) {
    return e as TrustProxyError
  }
  throw new Error(`accepted: ${String(value)}`)
}

describe('parseTrustProxy details', () => {
  it.each([
    ['a symbol is described by its text', Symbol('x'), 'Symbol(x)'],
    ['a bigint is described by its digits', 12n, '12'],
    ['an object by its tag', new Map(), '[object Map]'],
  ])('%s', (_name, value, entry) => {
    const e = refusal(value)
    expect(e.reason).toBe('invalid-type')
    expect(e.entry).toBe(entry)
    expect(e.message).toContain(`a value of type ${typeof value} is not a TRUST_PROXY setting`)
  })

  it.each([
    ['constructor is no range name', 'constructor', 'unknown-word'],
    ['__proto__ is no range name', '__proto__', 'invalid-address'],
    ['toString is no range name', 'toString', 'unknown-word'],
  ])('%s', (_name, v, reason) => {
    expect(refusal(v).reason).toBe(reason)
  })

  it.each([
    ['64.5 is a hop count with a fraction', '64.5', 'hop-count-format'],
    ['65.5 reads as IPv4 shorthand', '65.5', 'ipv4-shorthand'],
    ['.5 is a fraction', '.5', 'hop-count-format'],
    ['5. is a fraction', '5.', 'hop-count-format'],
    ['2E1 is an exponent', '2E1', 'hop-count-format'],
    ['0x10 is hex', '0x10.0.0.1', 'ipv4-hex'],
    ['1.2.3.4.5 has five parts', '1.2.3.4.5', 'invalid-address'],
    ['a word with a digit', 'proxy1', 'unknown-word'],
    ['a word with punctuation', 'proxy!', 'invalid-address'],
    ['false inside a list', '10.0.0.1 false', 'keyword-in-list'],
    ['no inside a list', 'no 10.0.0.1', 'keyword-in-list'],
    ['on inside a list', '10.0.0.1, on', 'keyword-in-list'],
    ['a zoned range wider than fe80::/10', 'fe80::%eth0/9', 'zone-not-link-local'],
    ['a netmask after IPv6', 'fe80::/ffff::', 'netmask-not-ipv4'],
    ['a netmask that is no address', '10.0.0.0/255.255.255.256', 'netmask-noncontiguous'],
    ['a prefix 0 with a leading zero', '10.0.0.0/00', 'prefix-invalid'],
    ['a zone with a slash-free bad character', 'fe80::1%a"b', 'zone-invalid'],
    ['an IPv4 address with a port-like suffix', '10.0.0.1:', 'port-not-allowed'],
    ['an empty array element', ['10.0.0.1', ' '], 'empty-entry'],
    ['two entries in one array element', ['10.0.0.1 10.0.0.2'], 'invalid-address'],
    ['a comma in an array element', ['10.0.0.1,'], 'invalid-address'],
    ['an infinite hop count', Number.POSITIVE_INFINITY, 'hop-count-format'],
    ['65 as a number', 65, 'hop-count-range'],
  ])('%s: %j is refused as %s', (_name, v, reason) => {
    expect(refusal(v).reason).toBe(reason)
  })

  it.each([
    ['64 as a number is the bound', 64, '64'],
    ['vertical tab and form feed separate entries', '10.0.0.1\v10.0.0.2\f10.0.0.3\r10.0.0.4', '10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4'],
    ['a netmask of all ones is /32', '10.0.0.1/255.255.255.255', '10.0.0.1'],
    ['a netmask of zeros is /0', '10.0.0.0/0.0.0.0', '0.0.0.0/0'],
    ['a /32 prints as the address', '10.0.0.9/32', '10.0.0.9'],
    ['a /128 prints as the address', '2001:db8::1/128', '2001:db8::1'],
    ['a /0 keeps its prefix', '0.0.0.0/0', '0.0.0.0/0'],
    ['a mapped /128 is the IPv4 address', '::ffff:10.0.0.1/128', '10.0.0.1'],
    ['a mapped /120 is the IPv4 /24', '::ffff:10.0.0.0/120', '10.0.0.0/24'],
    ['a mapped range with host bits is normalised', '::ffff:10.0.0.1/120', '10.0.0.0/24'],
    ['a zoned address keeps its zone', 'fe80::1%eth0/128', 'fe80::1%eth0'],
    ['an IPv6 range with host bits is normalised', '2001:db8::1/32', '2001:db8::/32'],
    ['a name is lower-cased', 'Private', 'private'],
  ])('%s: %j is %j', (_name, v, canonical) => {
    expect(parseTrustProxy(v).toString()).toBe(canonical)
  })

  it('caps each warning code at 20, then says how many more there are', () => {
    const list = Array.from({ length: 25 }, (_, k) => `10.0.${k}.1/24`).join(' ')
    const codes = parseTrustProxy(list).warnings
    expect(codes.filter((w) => w.code === 'host-bits' && w.entry !== undefined)).toHaveLength(20)
    expect(codes.at(-1)).toEqual({ code: 'host-bits', message: 'and 5 more "host-bits" warnings like the ones above' })
    expect(parseTrustProxy(Array.from({ length: 20 }, (_, k) => `10.0.${k}.1/24`).join(' ')).warnings).toHaveLength(20)
  })

  it('warns a duplicate with both entries, and a nested one with its container', () => {
    expect(parseTrustProxy('10.0.0.0/8 10.0.0.0/8').warnings).toEqual([{ code: 'duplicate', entry: '10.0.0.0/8', message: '"10.0.0.0/8" repeats "10.0.0.0/8"' }])
    expect(parseTrustProxy('10.1.0.0/16 10.0.0.0/8').warnings).toEqual([{ code: 'nested', entry: '10.1.0.0/16', message: '"10.1.0.0/16" is already covered by "10.0.0.0/8"' }])
    // Adjacent ranges are not nested.
    expect(parseTrustProxy('10.0.0.0/9 10.128.0.0/9').warnings).toEqual([])
    // A zoned range is nested only in a range of its own zone or of none.
    expect(parseTrustProxy('fe80::%eth0/64 fe80::1%eth1').warnings).toEqual([])
    expect(parseTrustProxy('fe80::%eth0/64 fe80::1%eth0').warnings.map((w) => w.code)).toEqual(['nested'])
    expect(parseTrustProxy('fe80::/10 fe80::1%eth1').warnings.map((w) => w.code)).toEqual(['nested'])
    // Once per pair, even when a name holds several ranges that contain it.
    expect(parseTrustProxy('private 10.1.1.1').warnings).toHaveLength(1)
  })

  it('toJSON of each kind', () => {
    expect(parseTrustProxy('false').toJSON()).toEqual({ kind: 'none', warnings: [], value: 'false' })
    expect(parseTrustProxy('true').toJSON()).toMatchObject({ kind: 'all', value: 'true' })
    expect(parseTrustProxy('true').toJSON()).not.toHaveProperty('ranges')
    expect(parseTrustProxy('3').toJSON()).toMatchObject({ kind: 'hops', hops: 3, value: '3' })
    expect(parseTrustProxy('3').toJSON()).not.toHaveProperty('ranges')
    expect(parseTrustProxy('unix').toJSON()).toEqual({ kind: 'ranges', ranges: ['unix'], warnings: [], value: 'unix' })
  })

  it('an error message names the reason, the entry and its position', () => {
    const e = refusal('10.0.0.1 10.0.0.256')
    expect(e.message.startsWith('Invalid TRUST_PROXY entry "10.0.0.256" at position 9: an IPv4 octet is 0-255. Accepted: ')).toBe(true)
    expect(e.name).toBe('TrustProxyError')
  })

  it('policy.trust under each kind, hop by hop', () => {
    expect(parseTrustProxy('2').trust(undefined, 1)).toBe(true)
    expect(parseTrustProxy('2').trust(undefined, 2)).toBe(false)
    expect(parseTrustProxy('false').trust(undefined, 0)).toBe(false)
    expect(parseTrustProxy('true').trust(undefined, 99)).toBe(true)
    expect(parseTrustProxy('10.0.0.0/8').trust(' 10.0.0.1\t', 0)).toBe(true)
    expect(parseTrustProxy('fe80::/10').trust('fe80::1%eth0', 0)).toBe(true)
  })
})

describe('range sets', () => {
  const v4 = (a: string, prefix: number) => {
    const [b0, b1, b2, b3] = a.split('.').map(Number) as [number, number, number, number]
    return { family: 4 as const, v4: ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0, w: [0, 0, 0, 0] as [number, number, number, number], prefix, zone: '' }
  }
  const v6 = (w: [number, number, number, number], prefix: number, zone = '') => ({ family: 6 as const, v4: 0, w, prefix, zone })

  it('maskBits at its edges', () => {
    expect([maskBits(-1), maskBits(0), maskBits(1), maskBits(31), maskBits(32), maskBits(40)]).toEqual([0, 0, 0x80000000, 0xfffffffe, 0xffffffff, 0xffffffff])
  })

  it('size counts merged intervals of both families and zoned ranges', () => {
    expect(new RangeSet([v4('10.0.0.0', 9), v4('10.128.0.0', 9), v4('192.168.0.0', 16)]).size).toBe(2)
    expect(new RangeSet([v6([0x20010db8, 0, 0, 0], 32), v6([0x20010db9, 0, 0, 0], 32), v6([0xfe800000, 0, 0, 0], 64, 'eth0')]).size).toBe(2)
    expect(new RangeSet([]).size).toBe(0)
  })

  it('finds addresses with a linear scan up to 8 intervals and a binary search above, at every boundary', () => {
    for (const n of [1, 7, 8, 9, 16, 33]) {
      const cidrs = Array.from({ length: n }, (_, k) => v4(`10.${k * 2}.0.0`, 16))
      const set = new RangeSet(cidrs)
      for (let k = 0; k < n; k++) {
        expect(set.has4((((10 << 24) | ((k * 2) << 16)) >>> 0) + 0)).toBe(true)
        expect(set.has4((((10 << 24) | ((k * 2) << 16) | 0xffff) >>> 0))).toBe(true)
        expect(set.has4(((10 << 24) | ((k * 2 + 1) << 16)) >>> 0)).toBe(false)
      }
      expect(set.has4(0)).toBe(false)
      expect(set.has4(0xffffffff)).toBe(false)
      const six = new RangeSet(Array.from({ length: n }, (_, k) => v6([0x20010db8, k * 2, 0, 0], 64)))
      for (let k = 0; k < n; k++) {
        expect(six.has6(0x20010db8, k * 2, 0, 0, '')).toBe(true)
        expect(six.has6(0x20010db8, k * 2, -1, -1, '')).toBe(true)
        expect(six.has6(0x20010db8, k * 2 + 1, 0, 0, '')).toBe(false)
      }
      expect(six.has6(0, 0, 0, 1, '')).toBe(false)
      expect(six.has6(-1, -1, -1, -1, '')).toBe(false)
      expect(six.has6(0x20010db8, 0, 0, 0, 'eth0')).toBe(true)
    }
  })

  it('compares all four words of an IPv6 address', () => {
    const set = new RangeSet([v6([1, 2, 3, 4], 128)])
    expect(set.has6(1, 2, 3, 4, '')).toBe(true)
    for (const w of [
      [0, 2, 3, 4],
      [1, 1, 3, 4],
      [1, 2, 2, 4],
      [1, 2, 3, 3],
      [1, 2, 3, 5],
      [2, 2, 3, 4],
    ] as const) {
      expect(set.has6(w[0], w[1], w[2], w[3], '')).toBe(false)
    }
  })

  it('matches a zoned range only with its zone, and an unzoned one with any zone', () => {
    const set = new RangeSet([v6([0xfe800000, 0, 0, 0], 64, 'eth0'), v6([0xfe800001, 0, 0, 0], 64)])
    expect(set.has6(0xfe800000, 0, 0, 1, 'eth0')).toBe(true)
    expect(set.has6(0xfe800000, 0, 0, 1, 'eth1')).toBe(false)
    expect(set.has6(0xfe800000, 0, 0, 1, '')).toBe(false)
    expect(set.has6(0xfe800001, 0, 0, 1, 'eth9')).toBe(true)
    expect(set.has6(0xfe800000, 1, 0, 1, 'eth0')).toBe(false)
  })

  it('inCidr6 checks every word under the mask', () => {
    const c = v6([0x20010db8, 0x12345678, 0x9abcdef0, 0x0fedcba9], 96)
    expect(inCidr6(c, 0x20010db8, 0x12345678, 0x9abcdef0, 0)).toBe(true)
    expect(inCidr6(c, 0x20010db8, 0x12345678, 0x9abcdef1, 0)).toBe(false)
    expect(inCidr6(c, 0x20010db8, 0x12345679, 0x9abcdef0, 0)).toBe(false)
    expect(inCidr6(c, 0x20010db9, 0x12345678, 0x9abcdef0, 0)).toBe(false)
    expect(inCidr6(v6([0, 0, 0, 0], 0), -1, -1, -1, -1)).toBe(true)
  })

  it('cidrBounds numbers IPv4 below 2^32 and IPv6 above it', () => {
    expect(cidrBounds(v4('10.0.0.0', 8))).toEqual([0x0a000000n, 0x0affffffn])
    expect(cidrBounds(v6([0, 0, 0, 0], 96))).toEqual([1n << 32n, (1n << 32n) + 0xffffffffn])
  })
})

describe('headers: reading what a request carries', () => {
  it.each([
    ['a number is one malformed entry', 42, [undefined]],
    ['an empty array is no header', [], []],
    ['a non-string line is malformed, the others read', ['1.1.1.1', 7, '2.2.2.2'], ['1.1.1.1', undefined, '2.2.2.2']],
    ['white space only is no header', ' \t ', []],
    ['null is no header', null, []],
  ])('%s', (_name, value, entries) => {
    expect(listEntries(value as never)).toEqual(entries)
  })

  it('a single-IP header given as a one-line array is read like the string', () => {
    expect(listEntries(['1.2.3.4'], 'x-real-ip')).toEqual(['1.2.3.4'])
    expect(listEntries([' 1.2.3.4 '], 'x-real-ip')).toEqual(['1.2.3.4'])
    expect(resolveClient(parseTrustProxy('loopback'), { remoteAddress: '127.0.0.1', headers: { 'x-real-ip': ['203.0.113.5'] } }, { header: 'x-real-ip' }).ip).toBe('203.0.113.5')
  })

  it('X-Forwarded-For lines are joined with commas, in order, with white space kept out of the entries', () => {
    expect(listEntries(['1.1.1.1', ' 2.2.2.2 ', '3.3.3.3, 4.4.4.4'])).toEqual(['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4'])
    expect(listEntries(['1.1.1.1', ''])).toEqual(['1.1.1.1', undefined])
    expect(listEntries(['', '1.1.1.1'])).toEqual([undefined, '1.1.1.1'])
    expect(listEntries([' ', ' '])).toEqual([undefined, undefined])
    expect(listEntries('1.1.1.1,')).toEqual(['1.1.1.1', undefined])
    expect(listEntries(',1.1.1.1')).toEqual([undefined, '1.1.1.1'])
  })

  it('listEntries reads a header name in any case', () => {
    expect(listEntries('for=1.2.3.4', 'Forwarded')).toEqual(['1.2.3.4'])
    expect(listEntries('1.2.3.4', 'X-Real-IP')).toEqual(['1.2.3.4'])
    expect(listEntries(['1.2.3.4', '5.6.7.8'], 'x-real-ip')).toEqual([undefined])
  })

  it.each([
    ['quoted IPv6 with a port', 'for="[2001:db8::1]:80"', ['2001:db8::1']],
    ['names are case-insensitive', 'FOR=1.2.3.4;PROTO=https', ['1.2.3.4']],
    ['an escaped quote inside a quoted value', 'for="1.2.3.4\\"x", for=5.6.7.8', [undefined, '5.6.7.8']],
    ['an escaped backslash before the closing quote', 'host="a\\\\";for=1.2.3.4', ['1.2.3.4']],
    ['escapes in the address are resolved', 'for="1.2.3.\\4"', ['1.2.3.4']],
    ['a parameter without =', 'for', [undefined]],
    ['a parameter name with a bad character', 'fo(r=1.2.3.4', [undefined]],
    ['text after a quoted value', 'for="1.2.3.4"x', [undefined]],
    ['white space after a quoted value', 'for="1.2.3.4" ;proto=http', ['1.2.3.4']],
    ['an unterminated quote in the last element', 'for=5.6.7.8, for="1.2.3.4', [undefined]],
    ['a space inside an unquoted value', 'for=1.2.3.4 x', [undefined]],
    ['a quote inside an unquoted value', 'for=1.2.3"4', [undefined]],
    ['a control character inside an unquoted value', 'for=1.2.3.4\u0001', [undefined]],
    ['DEL inside an unquoted value', 'for=1.2.3.4\u007f', [undefined]],
    ['repeated proto makes the element malformed', 'for=1.2.3.4;proto=http;proto=https', [undefined]],
    ['repeated host makes the element malformed', 'for=1.2.3.4;host=a;host=b', [undefined]],
    ['other parameters are ignored', 'by=_x;for=1.2.3.4;secret=1', ['1.2.3.4']],
    ['an empty parameter makes the element malformed', 'for=1.2.3.4; ;', [undefined]],
    ['a trailing semicolon is fine', 'for=1.2.3.4;', ['1.2.3.4']],
    ['an element without for=', 'proto=https', [undefined]],
    ['a giant element stops the reading', `for=1.1.1.1, for=2.2.2.2;x=${'a'.repeat(1100)}`, [undefined]],
    ['an element of 1024 characters is read', `for=2.2.2.2;x=${'a'.repeat(1024 - 16)}`, ['2.2.2.2']],
    // Found by mutation testing: every tchar is allowed in a parameter name, nothing else.
    ['every tchar in a parameter name', "for=1.2.3.4;!#$%&'*+-.^_`|~09AZaz=x", ['1.2.3.4']],
    ...['/', ':', '@', '[', ']', '{', '}', '(', ')', '<', '>', '?', '\\', ' x'].map((c): [string, string, (string | undefined)[]] => [`a parameter name with ${JSON.stringify(c)}`, `for=1.2.3.4;a${c}b=x`, [undefined]]),
    ['an escaped quote keeps a comma inside the quotes', 'for="x\\",y", for=1.2.3.4', [undefined, '1.2.3.4']],
    ['an escaped backslash before the closing quote ends it', 'for="x\\\\", for=1.2.3.4', [undefined, '1.2.3.4']],
    ['three backslashes before a quote: escaped', 'for="x\\\\\\",y", for=1.2.3.4', [undefined, '1.2.3.4']],
    ['a quoted for= first in a header', 'for="1.2.3.4"', ['1.2.3.4']],
    ['a quoted for= with a comma and an escaped quote, then a plain one', 'for="a,\\"b", for="5.6.7.8"', [undefined, '5.6.7.8']],
    ['white space before the name', '  for=1.2.3.4', ['1.2.3.4']],
    ['white space after an unquoted value', 'for=1.2.3.4  ;proto=https', ['1.2.3.4']],
    ['a name that only starts like for', 'forx=1.2.3.4', [undefined]],
    ['a name that only starts like proto', 'for=1.2.3.4;protox=a;protoy=b', ['1.2.3.4']],
    ['FoR in mixed case', 'FoR=1.2.3.4', ['1.2.3.4']],
    ['an element that ends inside a quoted value', 'for="1.2.3.4', [undefined]],
  ])('Forwarded: %s', (_name, value, entries) => {
    expect(listEntries(value, 'forwarded')).toEqual(entries)
  })

  it.each([
    ['a Headers-like object whose get throws', { get: () => { throw new Error('x') } }, undefined],
    ['a Headers-like object whose get gives a number', { get: () => 7 }, undefined],
    ['an own string', { 'x-forwarded-for': '1.2.3.4' }, '1.2.3.4'],
    ['an own array', { 'x-forwarded-for': ['1.2.3.4'] }, ['1.2.3.4']],
    ['an own number', { 'x-forwarded-for': 5 }, undefined],
    ['an inherited value', Object.create({ 'x-forwarded-for': '1.2.3.4' }), undefined],
    ['an array is not a Headers object', Object.assign(['1.2.3.4'], { get: () => '9.9.9.9' }), undefined],
    ['not an object', 'x-forwarded-for: 1.2.3.4', undefined],
    ['null', null, undefined],
  ])('getHeader: %s', (_name, headers, value) => {
    expect(getHeader(headers, 'x-forwarded-for')).toEqual(value)
  })
})

describe('resolveClient details', () => {
  const lo = () => parseTrustProxy('loopback')
  it.each([
    ['a header name with a space', 'x forwarded'],
    ['an empty header name', ''],
    ['Host is no forwarding header', 'HOST'],
    ['a non-string header name', 42],
  ])('refuses %s as options.header', (_name, header) => {
    expect(() => resolveClient(lo(), { headers: {} }, { header: header as never })).toThrow(/options.header must be the name of a forwarding header/)
  })

  it('refuses a policy of the wrong shape, naming what it takes', () => {
    expect(() => resolveClientIp({ _kind: '1' } as never, '127.0.0.1')).toThrow(/TrustPolicy from parseTrustProxy\(\) or a trust function/)
    expect(() => resolveClientIp(null as never, '127.0.0.1')).toThrow(TypeError)
  })

  it('reads X-Forwarded-Proto and -Host from the right-most line and item, trimmed', () => {
    const info = resolveClient(lo(), { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': ['http', 'ftp, HTTPS '], 'x-forwarded-host': ['a.example', ' b.example '] } })
    expect(info).toMatchObject({ protocol: 'https', host: 'b.example', anomalies: [] })
    const odd = resolveClient(lo(), { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': [7 as never] } })
    expect(odd.anomalies).toEqual(['missing-forwarded-proto'])
  })

  it('reads escaped Forwarded proto= and host=', () => {
    const info = resolveClient(lo(), { remoteAddress: '127.0.0.1', headers: { forwarded: 'for=203.0.113.5;proto="ht\\tps";host="gw.exampl\\e.com"' } }, { header: 'forwarded' })
    expect(info).toMatchObject({ protocol: 'https', host: 'gw.example.com', anomalies: [] })
  })

  it('a malformed right-most Forwarded element gives no proto or host', () => {
    const info = resolveClient(lo(), { remoteAddress: '127.0.0.1', headers: { forwarded: 'for=203.0.113.5;proto=https;proto=http' } }, { header: 'forwarded' })
    expect(info.protocol).toBe('http')
    expect(info.anomalies.sort()).toEqual(['malformed-entry', 'missing-forwarded-proto'])
  })

  it('under trust all, forwarding headers without X-Forwarded-For are not reported missing', () => {
    const info = resolveClient(parseTrustProxy('true'), { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-proto': 'https' } })
    expect(info.anomalies).toEqual([])
    expect(info.protocol).toBe('https')
  })

  it('the empty Host header is no host and no anomaly; :authority is read only without Host', () => {
    expect(resolveClient(lo(), { remoteAddress: '203.0.113.5', headers: { host: '  ' } })).toMatchObject({ host: undefined, anomalies: [] })
    expect(resolveClient(lo(), { remoteAddress: '203.0.113.5', headers: { host: 'a.example', ':authority': 'b.example' } }).host).toBe('a.example')
  })

  it('an encrypted socket is https unless a trusted proxy says otherwise', () => {
    expect(resolveClient(lo(), { remoteAddress: '203.0.113.5', encrypted: true }).protocol).toBe('https')
    expect(resolveClient(lo(), { remoteAddress: '127.0.0.1', encrypted: true, headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'http' } }).protocol).toBe('http')
    expect(resolveClient(lo(), { remoteAddress: '203.0.113.5', encrypted: 'yes' as never }).protocol).toBe('http')
  })

  it('all-hops-trusted is reported for a range policy only, and short-chain for a hop count only', () => {
    expect(resolveClient(parseTrustProxy('true'), { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '127.0.0.2', 'x-forwarded-proto': 'https' } }).anomalies).toEqual([])
    expect(resolveClient(parseTrustProxy('3'), { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '127.0.0.2, 127.0.0.3', 'x-forwarded-proto': 'https' } }).anomalies).toEqual(['short-chain'])
    expect(resolveClient(parseTrustProxy('2'), { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '127.0.0.2, 127.0.0.3', 'x-forwarded-proto': 'https' } })).toMatchObject({ ip: '127.0.0.2', trustedHops: 2, anomalies: [] })
    expect(resolveClient(lo(), { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '127.0.0.2, 127.0.0.3', 'x-forwarded-proto': 'https' } })).toMatchObject({ ip: '127.0.0.2', trustedHops: 2, anomalies: ['all-hops-trusted'] })
  })

  it('a malformed entry after trusted hops gives the last trusted one, canonical, as the client', () => {
    const info = resolveClient(parseTrustProxy('loopback, 10.0.0.0/8'), { remoteAddress: '::ffff:127.0.0.1', headers: { 'x-forwarded-for': 'junk, [::ffff:10.0.0.7]:80, 0:0:0:0:0:ffff:a00:8', 'x-forwarded-proto': 'https' } })
    expect(info).toMatchObject({ ip: '10.0.0.7', chain: ['127.0.0.1', '10.0.0.8', '10.0.0.7'], trustedHops: 2, source: 'x-forwarded-for', anomalies: ['malformed-entry'] })
    expect(resolveClientIp(parseTrustProxy('loopback, fe80::/10'), '127.0.0.1', 'junk, fe80::1%eth0')).toBe('fe80::1%eth0')
    expect(resolveClientIp(parseTrustProxy('loopback'), ' 127.0.0.1 ', 'junk')).toBe('127.0.0.1')
  })

  it('the hot path under each kind', () => {
    expect(resolveClientIp(parseTrustProxy('false'), '127.0.0.1', '1.1.1.1')).toBe('127.0.0.1')
    expect(resolveClientIp(parseTrustProxy('true'), '127.0.0.1', '1.1.1.1, 2.2.2.2')).toBe('1.1.1.1')
    expect(resolveClientIp(parseTrustProxy('1'), '127.0.0.1', '1.1.1.1, 2.2.2.2')).toBe('2.2.2.2')
    expect(resolveClientIp(parseTrustProxy('loopback'), '127.0.0.1', undefined)).toBe('127.0.0.1')
    expect(resolveClientIp(parseTrustProxy('loopback'), '127.0.0.1', ['2.2.2.2'])).toBe('2.2.2.2')
  })
})

describe('a custom trust function that walks another request', () => {
  it('does not move the cursor of a Forwarded or single-IP walk (found by mutation testing)', () => {
    const inner = parseTrustProxy('loopback')
    const fn = (addr: string | undefined, hop: number) => {
      resolveClientIp(inner, '127.0.0.1', '9.9.9.9, 8.8.8.8, 7.7.7.7')
      // A walk that ends on a malformed entry, and one with no address: their findings stay theirs.
      resolveClientIp(inner, '127.0.0.1', '1.1.1.1, junk')
      resolveClientIp(inner, undefined, undefined)
      resolveClient(inner, { remoteAddress: '127.0.0.1', headers: { forwarded: 'for=1.1.1.1, for=2.2.2.2' } }, { header: 'forwarded' })
      return hop < 2 && addr !== undefined
    }
    const fwd = resolveClient(fn, { remoteAddress: '10.0.0.1', headers: { forwarded: 'for=198.51.100.1, for=203.0.113.9;proto=https, for=10.0.0.2;proto=https' } }, { header: 'forwarded' })
    expect(fwd).toMatchObject({ ip: '203.0.113.9', chain: ['10.0.0.1', '10.0.0.2', '203.0.113.9'], trustedHops: 2, protocol: 'https' })
    const single = resolveClient(fn, { remoteAddress: '10.0.0.1', headers: { 'x-real-ip': '203.0.113.9' } }, { header: 'x-real-ip' })
    expect(single).toMatchObject({ ip: '203.0.113.9', chain: ['10.0.0.1', '203.0.113.9'], trustedHops: 1, anomalies: ['missing-forwarded-proto'] })
  })
})

describe('resolveClient with what callers really pass (found by mutation testing)', () => {
  it('a trust function with a peer that has no address is asked with undefined at hop 0', () => {
    const calls: [string | undefined, number][] = []
    const fn = (addr: string | undefined, hop: number) => {
      calls.push([addr, hop])
      return true
    }
    expect(resolveClient(fn, { remoteAddress: undefined, headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https' } })).toMatchObject({ ip: '203.0.113.5', anomalies: [] })
    expect(calls).toEqual([[undefined, 0]])
  })

  it('a trust function and a trusted proxy that sends only X-Forwarded-Proto: missing-forwarded-for, no throw', () => {
    const info = resolveClient(() => true, { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-proto': 'https' } })
    expect(info).toMatchObject({ ip: '127.0.0.1', protocol: 'https', anomalies: ['missing-forwarded-for'] })
  })

  it('a request without headers, or no request at all, is the socket alone', () => {
    expect(resolveClient(parseTrustProxy('loopback'), { remoteAddress: '127.0.0.1' })).toMatchObject({ ip: '127.0.0.1', anomalies: [] })
    expect(resolveClient(parseTrustProxy('unix'), undefined as never)).toMatchObject({ ip: undefined, peer: undefined, chain: [undefined], protocol: 'http', anomalies: [] })
    expect(resolveClient(parseTrustProxy('loopback'), null as never)).toMatchObject({ ip: undefined, chain: [undefined] })
  })

  it('a result is not changed by the walks that come after it', () => {
    const lo = parseTrustProxy('loopback')
    const info = resolveClient(lo, { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5' } })
    resolveClientIp(lo, '127.0.0.1', '127.0.0.2, 127.0.0.3')
    resolveClientIp(lo, '10.9.9.9', '1.1.1.1')
    expect(info.chain).toEqual(['127.0.0.1', '203.0.113.5'])
  })

  it('null is refused as a policy with the message that says what to pass', () => {
    expect(() => resolveClientIp(null as never, '127.0.0.1')).toThrow(/policy must be a TrustPolicy/)
    expect(() => resolveClientIp({} as never, '127.0.0.1')).toThrow(/policy must be a TrustPolicy/)
    expect(() => resolveClient('loopback' as never, { remoteAddress: '127.0.0.1' })).toThrow(/policy must be a TrustPolicy/)
  })

  it('a trust function that returns a truthy non-boolean is trusted; one that returns nothing is not', () => {
    expect(resolveClientIp((() => 1) as never, '127.0.0.1', '203.0.113.5')).toBe('203.0.113.5')
    expect(resolveClientIp((() => undefined) as never, '127.0.0.1', '203.0.113.5')).toBe('127.0.0.1')
  })
})

describe('policy details found by mutation testing', () => {
  it('a Unix socket peer is trusted under all and a hop count, not under none', () => {
    const req = { remoteAddress: undefined, headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https' } }
    expect(resolveClient(parseTrustProxy('true'), req).ip).toBe('203.0.113.5')
    expect(resolveClient(parseTrustProxy('2'), req).ip).toBe('203.0.113.5')
    expect(resolveClient(parseTrustProxy('false'), req)).toMatchObject({ ip: undefined, anomalies: ['forwarded-by-untrusted-peer'] })
  })

  it('IPv6 host bits are warned, and an IPv6 network without them is not', () => {
    expect(parseTrustProxy('2001:db8::1/32').warnings.map((w) => w.code)).toEqual(['host-bits'])
    expect(parseTrustProxy('2001:db8::/32').warnings).toEqual([])
    expect(parseTrustProxy('2001:db8:0:0:0:0:0:1/127').warnings.map((w) => w.code)).toEqual(['host-bits'])
  })

  it('a warning without an entry has no entry key; toJSON has no hops key but for a hop count', () => {
    expect(Object.keys(parseTrustProxy('0.0.0.0/0').warnings[0]!)).toEqual(['code', 'message'])
    expect(Object.keys(parseTrustProxy('10.0.0.1/8').warnings[0]!)).toEqual(['code', 'entry', 'message'])
    expect(Object.keys(parseTrustProxy('false').toJSON())).toEqual(['kind', 'warnings', 'value'])
    expect(Object.keys(parseTrustProxy('loopback').toJSON())).toEqual(['kind', 'ranges', 'warnings', 'value'])
    expect(Object.keys(parseTrustProxy('2').toJSON())).toEqual(['kind', 'hops', 'warnings', 'value'])
  })

  it('nested entries: the wider of two with the same start is the container, and an entry at the last address is inside', () => {
    expect(parseTrustProxy('10.0.0.0/16, 10.0.0.0/8').warnings).toEqual([{ code: 'nested', entry: '10.0.0.0/16', message: '"10.0.0.0/16" is already covered by "10.0.0.0/8"' }])
    expect(parseTrustProxy('10.0.0.0/24, 10.0.0.255').warnings.map((w) => w.entry)).toEqual(['10.0.0.255'])
    expect(parseTrustProxy('10.0.0.0/24, 10.0.1.0').warnings).toEqual([])
    // A name whose ranges all lie in another name: one warning for the pair.
    expect(parseTrustProxy('private uniquelocal').warnings).toEqual([{ code: 'nested', entry: 'uniquelocal', message: '"uniquelocal" is already covered by "private"' }])
  })

  it.each([
    ['.55 is a fraction', '.55', 'hop-count-format'],
    ['1e33 is an exponent', '1e33', 'hop-count-format'],
    ['1e+3 is an exponent', '1e+3', 'hop-count-format'],
    ['1E-3 is an exponent', '1E-3', 'hop-count-format'],
  ])('%s', (_name, v, reason) => {
    expect(refusal(v).reason).toBe(reason)
  })

  it('the mapped-prefix message reads the IPv6 range with its bits, and handles /32 as IPv4', () => {
    expect(refusal('::ffff:10.0.0.0/88').message).toContain('as IPv6 it would be ::ff00:0:0/88')
    expect(refusal('::ffff:10.1.2.3/32').message).toContain('write 10.1.2.3/32 for the IPv4 range, or ::ffff:10.1.2.3/128')
    expect(refusal('::ffff:10.1.2.3/33').message).toContain('a prefix of 0-32')
  })

  it('a Unicode-space error names the entry between commas and ASCII white space, or the whole array element', () => {
    expect(refusal('10.0.0.1,\u00a010.0.0.2,10.0.0.3').entry).toBe('\u00a010.0.0.2')
    expect(refusal('10.0.0.1 a\u00a0b 10.0.0.3').entry).toBe('a\u00a0b')
    expect(refusal([' a\u00a0b ']).entry).toBe(' a\u00a0b ')
    expect(refusal('\u3000').entry).toBe('\u3000')
    expect(refusal('\u3000').position).toBe(0)
  })
})
