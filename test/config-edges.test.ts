/**
 * Issue 11: every configuration edge decided, one describe per point, named after it. The
 * decisions and their reasons are in docs/configuration-edges.md; the round-trip, no-throw and
 * spoofing properties in properties.test.ts generate the same inputs.
 */
import { createRequire } from 'node:module'
import fc from 'fast-check'
import proxyaddr from 'proxy-addr'
import { describe, expect, it } from 'vitest'
import { TrustProxyError, canonicalizeIp, listEntries, parseTrustProxy, resolveClient, resolveClientIp } from '../src/index.js'
import { MAX_ITEM_LENGTH } from '../src/ip.js'
import { address, ipv4, ipv6, mapped, mappedAnyPrefix, oddPeer, padding, trustAllPieces, unicodeSpace, unspecifiedEntry, zonedMapped } from './support/arbitraries.js'

/**
 * A policy parsed when a test first needs it, not while the file is collected: Stryker counts
 * code run at collection as "static" and runs every test for each of its mutants.
 */
function lazy<T>(make: () => T): () => T {
  let value: T | undefined
  return () => (value ??= make())
}

const RUNS = Number(process.env.FC_RUNS ?? 300)
const require = createRequire(import.meta.url)

function refusal(value: unknown): TrustProxyError | undefined {
  try {
    parseTrustProxy(value as never)
  } catch (e) {
    expect(e).toBeInstanceOf(TrustProxyError)
    return e as TrustProxyError
  }
  return undefined
}

const trustAllCount = (v: unknown) => parseTrustProxy(v as never).warnings.filter((w) => w.code === 'trust-all').length

describe('1. toString() parses back: one unspecified address is refused however it is written', () => {
  it.each(['::/128', '0.0.0.0/32', '0.0.0.0/255.255.255.255', '::ffff:0.0.0.0/128', '::ffff:0:0/128', '0:0:0:0:0:0:0:0/128', '0.0.0.0', '::', '::ffff:0.0.0.0'])(
    '%s is refused as unspecified-address',
    (v) => {
      const e = refusal(v)
      expect(e?.reason).toBe('unspecified-address')
      expect(e?.entry).toBe(v)
      expect(e?.message).toContain('0.0.0.0/0 or ::/0')
    },
  )

  it('ranges that start at the unspecified address are accepted and parse back', () => {
    for (const v of ['0.0.0.0/31', '0.0.0.0/1', '::/127', '::/1', '::ffff:0.0.0.0/127', '0.0.0.0/255.255.255.254']) {
      const p = parseTrustProxy(v)
      expect(parseTrustProxy(p.toString()).ranges).toEqual(p.ranges)
    }
  })

  it('every generated unspecified entry is refused exactly when it is one address, and parses back otherwise', () => {
    fc.assert(
      fc.property(unspecifiedEntry, (v) => {
        // One address: /32 (or the all-ones netmask) for IPv4, /128 for IPv6 (`::/32` is a range).
        const full = v.includes(':') ? v.endsWith('/128') : /\/(32|255\.255\.255\.255)$/.test(v)
        const e = refusal(v)
        expect(e?.reason).toBe(full ? 'unspecified-address' : undefined)
        if (!full) {
          const p = parseTrustProxy(v)
          expect(parseTrustProxy(p.toString()).ranges).toEqual(p.ranges)
        }
      }),
      { numRuns: RUNS },
    )
  })
})

describe('2. an IPv4-mapped address with a prefix below 96 is refused as ambiguous', () => {
  it('::ffff:10.0.0.0/8 is refused with a message that suggests 10.0.0.0/8 and ::ffff:10.0.0.0/104', () => {
    const e = refusal('::ffff:10.0.0.0/8')
    expect(e?.reason).toBe('mapped-prefix')
    expect(e?.message).toContain('10.0.0.0/8')
    expect(e?.message).toContain('::ffff:10.0.0.0/104')
    expect(e?.message).toContain('::/8')
  })

  it('the suggestions are the host-bit-free network, in both forms, and both suggestions parse to the same range', () => {
    const e = refusal('10.0.0.1, ::ffff:192.168.77.1/16')
    expect(e?.entry).toBe('::ffff:192.168.77.1/16')
    expect(e?.position).toBe(10)
    expect(e?.message).toContain('write 192.168.0.0/16 for the IPv4 range, or ::ffff:192.168.0.0/112')
    expect(parseTrustProxy('::ffff:192.168.0.0/112').ranges).toEqual(parseTrustProxy('192.168.0.0/16').ranges)
  })

  it('a prefix between 33 and 95 has no IPv4 reading: the message says which prefixes to use', () => {
    expect(refusal('::ffff:10.0.0.1/64')?.message).toContain('a prefix of 0-32, or the mapped form with a prefix of 96-128')
  })

  it('for every mapped address and prefix: refused below 96, the IPv4 range from 96 up', () => {
    fc.assert(
      fc.property(mappedAnyPrefix, (v) => {
        const prefix = Number(v.slice(v.lastIndexOf('/') + 1))
        const e = refusal(v)
        if (prefix < 96) {
          expect(e?.reason).toBe('mapped-prefix')
          return
        }
        // 96-128: the IPv4 range it maps (or the unspecified address, refused by point 1).
        if (e !== undefined) return expect(e.reason).toBe('unspecified-address')
        const p = parseTrustProxy(v)
        expect(p.ranges[0]).not.toContain(':')
        expect(p.trust('::1', 0)).toBe(false)
      }),
      { numRuns: RUNS },
    )
  })

  it('a non-mapped IPv6 range is not affected, however wide (::/8 stays ::/8 and never covers IPv4)', () => {
    const p = parseTrustProxy('::/8')
    expect(p.ranges).toEqual(['::/8'])
    expect(p.trust('::1', 0)).toBe(true)
    expect(p.trust('10.0.0.1', 0)).toBe(false)
  })
})

/** CIDRs that cover all of IPv6 except ::ffff:0:0/96 (the IPv4 hosts): the siblings of its ancestors. */
function aroundMappedBlock(): string {
  const block = 0xffffn << 32n
  const pieces: string[] = []
  for (let q = 1; q <= 96; q++) {
    const sibling = ((block >> BigInt(128 - q)) ^ 1n) << BigInt(128 - q)
    const groups = Array.from({ length: 8 }, (_, k) => Number((sibling >> BigInt(112 - 16 * k)) & 0xffffn).toString(16))
    pieces.push(`${groups.join(':')}/${q}`)
  }
  return pieces.join(', ')
}

describe('3. trust-all written in pieces is warned like /0', () => {
  it.each([
    ['0.0.0.0/1, 128.0.0.0/1', 1],
    ['::/1, 8000::/1', 1],
    ['0.0.0.0/2, 64.0.0.0/2, 128.0.0.0/1', 1],
    ['128.0.0.0/1 0.0.0.0/1 ::/0', 2],
    ['0.0.0.0/0, ::/0', 2],
    ['::ffff:0:0/97, ::ffff:128.0.0.0/97', 1],
    ['0.0.0.0/1, 128.0.0.0/2, 192.0.0.0/2', 1],
    // ::ffff:0:0/96 holds IPv4 hosts: IPv6 ranges around it make all of IPv6.
    [aroundMappedBlock(), 1],
  ] as const)('%s: %i trust-all warning(s)', (v, n) => {
    expect(trustAllCount(v)).toBe(n)
  })

  it.each([
    ['0.0.0.0/1', 0],
    ['0.0.0.0/1, 128.0.0.0/2', 0],
    ['0.0.0.0/1, 192.0.0.0/2, 128.0.0.0/3', 0],
    ['0.0.0.0/1, 192.0.0.0/2, 128.0.0.0/3, 160.0.0.0/3', 1],
    ['::/1, 8000::/2', 0],
    ['private', 0],
    ['fe80::%eth0/10, ::/1, 8000::/1, fe80::/10', 1],
    ['10.0.0.0/8, 0.0.0.0/1, 1.0.0.0/8, 128.0.0.0/1', 1],
    ['1.0.0.0/8, 2.0.0.0/7, 4.0.0.0/6, 8.0.0.0/5, 16.0.0.0/4, 32.0.0.0/3, 64.0.0.0/2, 128.0.0.0/1', 0],
    ['0.0.0.0/8, 2.0.0.0/7, 4.0.0.0/6, 8.0.0.0/5, 16.0.0.0/4, 32.0.0.0/3, 64.0.0.0/2, 128.0.0.0/1', 0],
    ['0.0.0.0/1, 128.0.0.0/2, 192.0.0.0/3, 224.0.0.0/4, 240.0.0.0/5, 248.0.0.0/6, 252.0.0.0/7, 254.0.0.0/8', 0],
    [aroundMappedBlock().split(', ').slice(1).join(', '), 0],
    // A gap below the mapped block (the ::/81 piece missing), not only above it.
    [aroundMappedBlock().split(', ').filter((p) => !p.endsWith('/81')).join(', '), 0],
    // Only the block itself is free: the pieces around it, each written twice, still add up.
    [`${aroundMappedBlock()}, ${aroundMappedBlock()}`, 1],
  ] as const)('%s: only the whole family is trust-all (%i)', (v, n) => {
    expect(trustAllCount(v)).toBe(n)
  })

  it('warns exactly when the generated pieces add up to the whole family', () => {
    fc.assert(
      fc.property(trustAllPieces, ({ value, whole }) => {
        fc.pre(value !== '')
        expect(trustAllCount(value)).toBe(whole ? 1 : 0)
      }),
      { numRuns: RUNS },
    )
  })

  it('a zoned range never counts towards trust-all (it matches only its zone)', () => {
    expect(trustAllCount('fe80::%eth0/10, ::/1, 8000::/1')).toBe(1)
    expect(trustAllCount('fe80::%eth0/10, ::/9, 80::/9, 100::/8, 200::/7, 400::/6, 800::/5, 1000::/4, 2000::/3, 4000::/2, 8000::/2, c000::/3, e000::/4, f000::/5, f800::/6, fc00::/7, fe00::/9, fec0::/10')).toBe(0)
  })
})

describe('4. the over-long item rule holds on every path', () => {
  const lo = lazy(() => parseTrustProxy('loopback'))
  /** Two proxies by address: the generated addresses (127.0.0.1 among them) are not trusted. */
  const two = lazy(() => parseTrustProxy('127.0.0.9, 127.0.0.10'))
  /** Every reader of one item: the canonical address it gives, and what it gives when the item is refused. */
  const readers: [string, (item: string) => string | undefined, string | undefined][] = [
    ['X-Forwarded-For, left-most item', (item) => resolveClientIp(lo(), '127.0.0.1', item), '127.0.0.1'],
    ['X-Forwarded-For, item between others', (item) => resolveClientIp(two(), '127.0.0.9', `6.6.6.6,${item},127.0.0.10`), '127.0.0.10'],
    ['X-Forwarded-For, header lines', (item) => resolveClientIp(two(), '127.0.0.9', ['6.6.6.6', item]), '127.0.0.9'],
    ['X-Real-IP', (item) => resolveClient(lo(), { remoteAddress: '127.0.0.1', headers: { 'x-real-ip': item } }, { header: 'x-real-ip' }).ip, '127.0.0.1'],
    ['Forwarded, quoted for=', (item) => resolveClient(lo(), { remoteAddress: '127.0.0.1', headers: { forwarded: `for="${item}"` } }, { header: 'forwarded' }).ip, '127.0.0.1'],
    ['the socket address', (item) => resolveClientIp(parseTrustProxy('false'), item, undefined), undefined],
    ['canonicalizeIp', (item) => canonicalizeIp(item), undefined],
    ['listEntries', (item) => listEntries(`1.1.1.1,${item}`)[1], undefined],
    ['policy.trust (as Express calls it)', (item) => (parseTrustProxy('0.0.0.0/0, ::/0').trust(item, 0) ? canonicalizeIp(item.trim()) : undefined), undefined],
  ]

  for (const [name, read, whenRefused] of readers) {
    it(`${name}: '1.2.3.4' with 300 spaces or tabs on either side is refused`, () => {
      for (const pad of [' '.repeat(300), '\t'.repeat(300)]) {
        expect(read(`1.2.3.4${pad}`)).toBe(whenRefused)
        expect(read(`${pad}1.2.3.4`)).toBe(whenRefused)
        expect(read(`2001:db8::1${pad}`)).toBe(whenRefused)
        expect(read(`${pad}[2001:db8::1]:443`)).toBe(whenRefused)
      }
    })

    it(`${name}: accepted up to ${MAX_ITEM_LENGTH} characters in all, refused from one more, padding on both sides`, () => {
      fc.assert(
        fc.property(fc.oneof(address, ipv4, ipv6, mapped), padding, padding, (a, left, right) => {
          fc.pre(!two().trust(a, 1))
          const item = left + a + right
          expect(read(item)).toBe(item.length <= MAX_ITEM_LENGTH ? canonicalizeIp(a) : whenRefused)
        }),
        { numRuns: RUNS },
      )
    })
  }

  it('the bound is exact: 192 characters are read, 193 are not (IPv4 and IPv6 fast paths, and the general one)', () => {
    for (const a of ['1.2.3.4', '2001:db8::1', '1.2.3.4:80']) {
      const at = (n: number) => ' '.repeat(n - a.length - 1) + a + ' '
      expect(resolveClientIp(lo(), '127.0.0.1', at(MAX_ITEM_LENGTH))).toBe(canonicalizeIp(a))
      expect(resolveClientIp(lo(), '127.0.0.1', at(MAX_ITEM_LENGTH + 1))).toBe('127.0.0.1')
      expect(resolveClientIp(lo(), '127.0.0.1', `9.9.9.9,${at(MAX_ITEM_LENGTH)}`)).toBe(canonicalizeIp(a))
      expect(resolveClientIp(lo(), '127.0.0.1', `9.9.9.9,${at(MAX_ITEM_LENGTH + 1)}`)).toBe('127.0.0.1')
      expect(resolveClient(lo(), { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': at(MAX_ITEM_LENGTH + 1) } }).anomalies).toContain('malformed-entry')
    }
  })
})

describe('5. a socket address that is not a string is a malformed peer, never a Unix socket', () => {
  const policies = ['unix', 'loopback, unix', 'true', '1', 'false', 'loopback']
  it.each(['', 42, {}, [], ['127.0.0.1'], true, Number.NaN])('%j under every policy: malformed-peer, no client, forged entry not believed', (remote) => {
    for (const v of policies) {
      const p = parseTrustProxy(v)
      const info = resolveClient(p, { remoteAddress: remote as never, headers: { 'x-forwarded-for': '6.6.6.6' } })
      expect(info.ip).toBeUndefined()
      expect(info.anomalies).toEqual(['malformed-peer'])
      expect(resolveClientIp(p, remote as never, '6.6.6.6')).toBeUndefined()
    }
  })

  it('only undefined and null mean "no address": trusted under unix, as hop 0', () => {
    for (const remote of [undefined, null]) {
      const info = resolveClient(parseTrustProxy('unix'), { remoteAddress: remote as never, headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https' } })
      expect(info).toMatchObject({ ip: '203.0.113.5', peer: undefined, chain: [undefined, '203.0.113.5'], anomalies: [] })
    }
  })

  it('policy.trust (as Express calls it) trusts undefined and null under unix, and nothing else that is not an address', () => {
    const { trust } = parseTrustProxy('unix')
    expect(trust(undefined, 0)).toBe(true)
    expect(trust(null as never, 0)).toBe(true)
    for (const odd of ['', ' ', 42, {}, 'unix']) expect(trust(odd as never, 0)).toBe(false)
  })

  it('for every odd socket value: no client, malformed-peer, and no throw', () => {
    fc.assert(
      fc.property(oddPeer, fc.constantFrom('unix', 'loopback, unix', 'true', '2'), (remote, v) => {
        const info = resolveClient(parseTrustProxy(v), { remoteAddress: remote as never, headers: { 'x-forwarded-for': '6.6.6.6' } })
        expect(info.ip).toBeUndefined()
        expect(info.anomalies).toContain('malformed-peer')
      }),
      { numRuns: RUNS },
    )
  })
})

describe('6. a zone on an IPv4-mapped address is malformed, like a zone on IPv4', () => {
  const lo = lazy(() => parseTrustProxy('loopback'))
  it('::ffff:127.0.0.1%eth0 and 127.0.0.1%eth0 agree everywhere', () => {
    for (const a of ['::ffff:127.0.0.1%eth0', '127.0.0.1%eth0']) {
      expect(canonicalizeIp(a)).toBeUndefined()
      expect(resolveClient(lo(), { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': `6.6.6.6, ${a}` } })).toMatchObject({ ip: '127.0.0.1', anomalies: ['malformed-entry', 'missing-forwarded-proto'] })
      expect(resolveClient(lo(), { remoteAddress: a, headers: {} }).anomalies).toEqual(['malformed-peer'])
      expect(lo().trust(a, 0)).toBe(false)
      expect(refusal(a)?.reason).toBe('zone-not-link-local')
    }
  })

  it('for every mapped address with a zone, in every text form', () => {
    fc.assert(
      fc.property(zonedMapped, (a) => {
        expect(canonicalizeIp(a)).toBeUndefined()
        expect(resolveClientIp(lo(), '127.0.0.1', a)).toBe('127.0.0.1')
        expect(resolveClientIp(parseTrustProxy('true'), '127.0.0.1', `9.9.9.9, ${a}`)).toBe('127.0.0.1')
      }),
      { numRuns: RUNS },
    )
  })

  it('a zone on a link-local address is still kept, and on other IPv6 dropped (unchanged)', () => {
    expect(canonicalizeIp('fe80::1%eth0')).toBe('fe80::1%eth0')
    expect(canonicalizeIp('2001:db8::1%eth0')).toBe('2001:db8::1')
  })
})

describe('7. Host and X-Forwarded-Host are RFC 3986 / RFC 1123 hosts', () => {
  // The table of host forms is host-validation.test.ts; here, what the walk does with them.
  const lo = lazy(() => parseTrustProxy('loopback'))
  it.each(['..', '-', 'a..example.com', '[::]:443', `${'a'.repeat(200)}.example.com`])('%s is refused as Host and as X-Forwarded-Host', (h) => {
    const direct = resolveClient(lo(), { remoteAddress: '203.0.113.5', headers: { host: h } })
    expect(direct.host).toBeUndefined()
    expect(direct.anomalies).toEqual(['invalid-host'])
    const forwarded = resolveClient(lo(), { remoteAddress: '127.0.0.1', headers: { host: 'gw.example.com', 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https', 'x-forwarded-host': h } })
    expect(forwarded.host).toBe('gw.example.com')
    expect(forwarded.anomalies).toEqual(['invalid-forwarded-host'])
  })
})

describe('8. Unicode white space: one rule for strings and array elements', () => {
  it('NBSP and U+FEFF are refused in both forms, with the code point', () => {
    for (const [u, code] of [['\u00a0', 'U+00A0'], ['\ufeff', 'U+FEFF']] as const) {
      for (const v of [`${u}10.0.0.1`, `10.0.0.1${u}`, [`${u}10.0.0.1`], [`10.0.0.1${u}`]]) {
        const e = refusal(v)
        expect(e?.reason).toBe('unicode-space')
        expect(e?.message).toContain(code)
      }
    }
  })

  it('for every non-ASCII white space, anywhere: the string and the array are refused alike, naming the same entry', () => {
    fc.assert(
      fc.property(unicodeSpace, fc.constantFrom('10.0.0.1', 'loopback', '::1', 'true', '1'), fc.constantFrom('before', 'after', 'inside'), (u, entry, where) => {
        const written = where === 'before' ? u + entry : where === 'after' ? entry + u : entry.slice(0, 1) + u + entry.slice(1)
        const fromString = refusal(`10.0.0.9, ${written}`)
        const fromArray = refusal(['10.0.0.9', written])
        expect(fromString?.reason).toBe('unicode-space')
        expect(fromArray?.reason).toBe('unicode-space')
        expect(fromString?.entry).toBe(written)
        expect(fromArray?.entry).toBe(written)
        expect([fromString?.position, fromArray?.position]).toEqual([10, 1])
      }),
      { numRuns: RUNS },
    )
  })

  it('ASCII white space is trimmed the same from a string and from array elements', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(' ', '\t', '\n', '\r', '\v', '\f'), { maxLength: 4 }), fc.array(fc.constantFrom('10.0.0.1', 'loopback', 'fd00::/8'), { minLength: 1, maxLength: 3 }), (ws, entries) => {
        const pad = ws.join('')
        const a = parseTrustProxy(entries.map((e) => pad + e + pad).join(','))
        const b = parseTrustProxy(entries.map((e) => pad + e + pad))
        expect(b.ranges).toEqual(a.ranges)
      }),
      { numRuns: RUNS },
    )
  })
})

describe('9. functions: parseTrustProxy refuses them and says what to call instead', () => {
  it('refuses a trust function with a message naming resolveClientIp and resolveClient', () => {
    const e = refusal((addr: string) => addr === '127.0.0.1')
    expect(e?.reason).toBe('invalid-type')
    expect(e?.entry).toBe('function')
    expect(e?.message).toMatch(/resolveClientIp\(fn, \.\.\.\) or resolveClient\(fn, \.\.\.\)/)
  })

  it('what it names works: the walk takes the function as it is, with canonical addresses', () => {
    const seen: (string | undefined)[] = []
    const fn = (addr: string | undefined, hop: number) => {
      seen.push(addr)
      return hop === 0 && addr === '127.0.0.1'
    }
    expect(resolveClientIp(fn, '::ffff:127.0.0.1', '6.6.6.6, 203.0.113.5')).toBe('203.0.113.5')
    expect(seen).toEqual(['127.0.0.1', '203.0.113.5'])
    expect(resolveClient(fn, { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5' } }).ip).toBe('203.0.113.5')
  })
})

describe('10. documented differences from proxy-addr: IPv4-compatible and embedded-IPv4 text are addresses here', () => {
  const proxyAddrIpaddr = require(require.resolve('ipaddr.js', { paths: [require.resolve('proxy-addr').replace(/index\.js$/, '')] })) as { isValid(a: string): boolean }
  const req = (remote: string, xff: string) => ({ socket: { remoteAddress: remote }, connection: { remoteAddress: remote }, headers: { 'x-forwarded-for': xff } })

  it.each([
    ['::10.0.0.1', '::a00:1'],
    ['fc00::0.0.0.5', 'fc00::5'],
    ['64:ff9b::192.0.2.1', '64:ff9b::c000:201'],
  ])('%s is the address %s here (RFC 4291) and text to proxy-addr 2.0.8', (text, canonical) => {
    expect(canonicalizeIp(text)).toBe(canonical)
    expect(resolveClientIp(parseTrustProxy('loopback'), '127.0.0.1', text)).toBe(canonical)
    if (!proxyAddrIpaddr.isValid(text)) {
      // proxy-addr returns the header text as it is, and cannot trust it by address: its
      // compile() refuses the text. Here it is an address to return and to trust.
      expect(proxyaddr(req('127.0.0.1', text) as never, 'loopback')).toBe(text)
      expect(() => proxyaddr.compile(text)).toThrow(/invalid IP address/)
      expect(resolveClientIp(parseTrustProxy(`loopback, ${text}`), '127.0.0.1', `203.0.113.5, ${text}`)).toBe('203.0.113.5')
    }
  })

  it('::ffff:10.0.0.0/8: proxy-addr 2.0.8 trusts nothing for it, parseTrustProxy refuses it (point 2)', () => {
    const theirs = proxyaddr.compile('::ffff:10.0.0.0/8')
    expect([theirs('10.1.2.3', 0), theirs('::1', 0), theirs('::ffff:10.1.2.3', 0)]).toEqual([false, false, false])
    expect(refusal('::ffff:10.0.0.0/8')?.reason).toBe('mapped-prefix')
  })
})
