/**
 * Invariants, stated as fast-check properties: what must hold for every input, not just the
 * ones we thought of. Differential properties compare with proxy-addr 2.0.8 (what Express uses),
 * node:net and ipaddr.js.
 */
import { createRequire } from 'node:module'
import { SocketAddress, isIP } from 'node:net'
import { dirname } from 'node:path'
import fc from 'fast-check'
import ipaddr from 'ipaddr.js'
import proxyaddr from 'proxy-addr'
import { describe, expect, it } from 'vitest'
import { TrustProxyError, canonicalizeIp, isValidHost, parseTrustProxy, resolveClient, resolveClientIp, type TrustPolicy } from '../src/index.js'
import { MAX_ITEM_LENGTH, ParsedAddress, parseAddress as parseAddressInto, parseIPv4, parseIPv6 as parseIPv6Into, parseItem as parseItemInto, parseMappedIPv4 as parseMappedInto } from '../src/ip.js'
import { formatParsed as formatAddress } from '../src/ip-text.js'
import { readIPv4Item as readIPv4Into, readIPv6Item as readIPv6Into } from '../src/ip-backward.js'
import { type Cidr, RangeSet } from '../src/ranges.js'
import { RANGE_POOL, address, address as addressArb, decorated, garbage, ipv4, ipv6, ipv6Groups, mapped, mappedAnyPrefix, oddHost, oddPeer, padding, rangeList, trustAllPieces, unicodeSpace, unspecifiedEntry, v6Text, zonedMapped } from './support/arbitraries.js'

// The parsers write into an address the caller owns; these tests read one, P, after each call.
const P = new ParsedAddress()
const parseAddress = (s: string, i: number, end: number) => parseAddressInto(P, s, i, end)
const parseItem = (s: string, i: number, end: number) => parseItemInto(P, s, i, end)
const parseIPv6 = (s: string, i: number, end: number) => parseIPv6Into(P, s, i, end)
const readIPv4Item = (s: string, end: number) => readIPv4Into(P, s, end)
const readIPv6Item = (s: string, end: number) => readIPv6Into(P, s, end)
const formatParsed = (_parsedFrom: string) => formatAddress(P)

const require = createRequire(import.meta.url)
/** The ipaddr.js that proxy-addr 2.0.8 itself uses (1.9.x), to know what it calls valid. */
const proxyAddrIpaddr = require(require.resolve('ipaddr.js', { paths: [dirname(require.resolve('proxy-addr'))] })) as typeof ipaddr

const RUNS = Number(process.env.FC_RUNS ?? 500)

// Policies are parsed as the inputs are generated, not while the file loads (see
// vitest.mutation.config.ts: code run at load is "static" to Stryker and costs every test per mutant).
const policyArb: fc.Arbitrary<TrustPolicy> = fc.oneof(
  fc.constantFrom(false, true).map((v) => parseTrustProxy(v)),
  fc.integer({ min: 1, max: 6 }).map((n) => parseTrustProxy(n)),
  rangeList.map((r) => parseTrustProxy(r)),
)

/** Issue 11's request-time edges: long padding on both sides, zones on mapped addresses, Unicode white space. */
const edgeEntry = fc.oneof(
  fc.tuple(padding, address, padding).map(([l, a, r]) => l + a + r),
  zonedMapped,
  fc.tuple(unicodeSpace, address, fc.boolean()).map(([u, a, before]) => (before ? u + a : a + u)),
)
const entry = fc.oneof({ weight: 5, arbitrary: decorated }, { weight: 1, arbitrary: garbage }, { weight: 1, arbitrary: edgeEntry })
const header = fc.array(entry, { maxLength: 8 }).map((es) => es.join(','))
const peer = fc.oneof(
  { weight: 6, arbitrary: address },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, '', 'ohno', '0.0.0.0') },
  // Issue 11: socket values that are not strings, zoned mapped and padded addresses.
  { weight: 1, arbitrary: fc.oneof(oddPeer, zonedMapped, fc.tuple(padding, address, padding).map(([l, a, r]) => l + a + r)) },
) as fc.Arbitrary<string | undefined>

/** The canonical forms of every comma-separated item of a header. */
function canonicalItems(h: string): Set<string | undefined> {
  return new Set(h.split(',').map((x) => canonicalizeIp(x)))
}

describe('the result is an address from the request, canonical, never other text', () => {
  it('for X-Forwarded-For', () => {
    fc.assert(
      fc.property(policyArb, peer, header, (policy, remote, xff) => {
        const ip = resolveClientIp(policy, remote, xff)
        if (ip === undefined) return
        expect(canonicalizeIp(ip)).toBe(ip)
        const fromPeer = typeof remote === 'string' && canonicalizeIp(remote) === ip
        expect(fromPeer || canonicalItems(xff).has(ip)).toBe(true)
        // A socket value that is no address gives no client at all.
        if (remote !== undefined && remote !== null && canonicalizeIp(remote) === undefined) expect.unreachable(`client ${ip} from peer ${String(remote)}`)
      }),
      { numRuns: RUNS },
    )
  })

  it('for Forwarded', () => {
    const element = fc
      .tuple(decorated, fc.boolean(), fc.constantFrom('', ';proto=https', ';by=_hidden', ';host=example.com'))
      .map(([a, quote, extra]) => `for=${quote ? `"${a.trim()}"` : a.trim()}${extra}`)
    const fwd = fc.array(fc.oneof(element, garbage), { maxLength: 6 }).map((es) => es.join(', '))
    fc.assert(
      fc.property(policyArb, peer, fwd, (policy, remote, value) => {
        const info = resolveClient(policy, { remoteAddress: remote, headers: { forwarded: value } }, { header: 'forwarded' })
        if (info.ip === undefined) return
        expect(canonicalizeIp(info.ip)).toBe(info.ip)
        // Every for= value, quotes removed; canonicalizeIp strips brackets and ports.
        const values = [...value.matchAll(/for=("?)([^";,]*)\1/gi)].map((m) => m[2]!)
        const canon = new Set(values.map((x) => canonicalizeIp(x)))
        const fromPeer = typeof remote === 'string' && canonicalizeIp(remote) === info.ip
        expect(fromPeer || canon.has(info.ip)).toBe(true)
      }),
      { numRuns: RUNS },
    )
  })
})

describe('nothing thrown at request time', () => {
  it('for any value where an address or a header goes', () => {
    fc.assert(
      fc.property(policyArb, fc.anything(), fc.anything(), (policy, remote, xff) => {
        const ip = resolveClientIp(policy, remote as string, xff as string)
        expect(ip === undefined || canonicalizeIp(ip) === ip).toBe(true)
      }),
      { numRuns: RUNS },
    )
  })

  it('for any header object, including __proto__-style keys and odd Unicode', () => {
    const key = fc.oneof(
      fc.constantFrom('x-forwarded-for', 'forwarded', 'x-forwarded-proto', 'x-forwarded-host', 'host', 'x-real-ip', '__proto__', 'constructor', 'toString'),
      fc.string(),
    )
    const value = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.array(fc.string()), fc.anything(), oddHost, header)
    const headers = fc.dictionary(key, value)
    const opt = fc.constantFrom(undefined, { header: 'forwarded' }, { header: 'x-real-ip' }, { header: 'X-Forwarded-For' })
    fc.assert(
      fc.property(policyArb, fc.anything(), headers, fc.anything(), opt, (policy, remote, h, encrypted, options) => {
        const info = resolveClient(policy, { remoteAddress: remote as string, headers: h, encrypted: encrypted as boolean }, options)
        expect(['http', 'https']).toContain(info.protocol)
        expect(info.ip === undefined || canonicalizeIp(info.ip) === info.ip).toBe(true)
        expect(info.chain.every((a) => a === undefined || canonicalizeIp(a) === a)).toBe(true)
        // Issue 11: a host given is always a valid one.
        expect(info.host === undefined || isValidHost(info.host)).toBe(true)
      }),
      { numRuns: RUNS },
    )
  })

  it('for a header far beyond Node’s limit', () => {
    const huge = `${'9'.repeat(200_000)}, ${'x,'.repeat(100_000)}1.2.3.4`
    expect(resolveClientIp(parseTrustProxy(true), '127.0.0.1', huge)).toBe('1.2.3.4')
    expect(resolveClientIp(parseTrustProxy('loopback'), '127.0.0.1', huge)).toBe('1.2.3.4')
    expect(resolveClientIp(parseTrustProxy('loopback, 1.2.3.4'), '127.0.0.1', huge)).toBe('1.2.3.4')
  })
})

describe('the socket peer', () => {
  it('is the result whenever it is not trusted, whatever the headers say', () => {
    fc.assert(
      fc.property(rangeList, address, header, (list, remote, xff) => {
        const policy = parseTrustProxy(list)
        fc.pre(!policy.trust(remote, 0))
        expect(resolveClientIp(policy, remote, xff)).toBe(canonicalizeIp(remote))
      }),
      { numRuns: RUNS },
    )
  })

  it('is always the result under policy none', () => {
    const none = parseTrustProxy('false')
    fc.assert(
      fc.property(address, header, (remote, xff) => {
        expect(resolveClientIp(none, remote, xff)).toBe(canonicalizeIp(remote))
      }),
      { numRuns: RUNS },
    )
  })
})

describe('spoofing: what the client writes on the left never changes the answer', () => {
  it('prefixing any entries to the header keeps the result when the client hop is untrusted and valid', () => {
    const anything = fc.array(fc.oneof(decorated, garbage, fc.string(), edgeEntry), { minLength: 1, maxLength: 5 }).map((x) => x.join(','))
    fc.assert(
      fc.property(policyArb, address, fc.array(decorated, { minLength: 1, maxLength: 6 }), anything, (policy, remote, entries, forged) => {
        const xff = entries.join(', ')
        const info = resolveClient(policy, { remoteAddress: remote, headers: { 'x-forwarded-for': xff } })
        fc.pre(info.ip !== undefined && !policy.trust(info.ip, info.trustedHops) && !info.anomalies.includes('malformed-entry'))
        expect(resolveClientIp(policy, remote, `${forged},${xff}`)).toBe(info.ip)
        expect(resolveClientIp(policy, remote, [forged, xff])).toBe(info.ip)
      }),
      { numRuns: RUNS },
    )
  })
})

describe('parseTrustProxy(p.toString()) equals p', () => {
  const entryText = fc.oneof(
    fc.constantFrom('loopback', 'LinkLocal', 'uniquelocal', 'private', 'unix'),
    fc.tuple(ipv4, fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`),
    ipv4,
    fc.tuple(ipv6, fc.integer({ min: 0, max: 128 })).map(([a, p]) => `${a}/${p}`),
    ipv6,
    mapped,
    fc.tuple(mapped, fc.integer({ min: 0, max: 128 })).map(([a, p]) => `${a}/${p}`),
    fc.integer({ min: 0, max: 32 }).map((p) => `10.1.2.3/${['0.0.0.0', '128.0.0.0', '255.0.0.0', '255.255.255.0', '255.255.255.255'][p % 5]}`),
    fc.integer({ min: 10, max: 128 }).map((p) => `fe80::1%eth0/${p}`),
    // Issue 11: the unspecified addresses with prefixes and masks (refused as /32 and /128),
    // mapped addresses with short prefixes (refused), trust-all in pieces (warned).
    unspecifiedEntry,
    mappedAnyPrefix,
    trustAllPieces.filter((t) => t.value !== '').map((t) => t.value),
  )
  const value = fc.oneof(
    fc.constantFrom('', 'false', '0', 'off', 'no', 'true', 'on', 'yes', 'TRUE'),
    fc.integer({ min: 1, max: 64 }).map(String),
    fc.array(entryText, { minLength: 1, maxLength: 6 }).chain((es) =>
      fc.constantFrom(', ', ',', ' ', '\t').map((sep) => es.join(sep)),
    ),
  )
  it('for every accepted value', () => {
    let refused = 0
    fc.assert(
      fc.property(value, (v) => {
        let p: TrustPolicy
        try {
          p = parseTrustProxy(v)
        } catch (e) {
          // Only the entries issue 11 decided to refuse may be refused here.
          expect(e).toBeInstanceOf(TrustProxyError)
          expect(['unspecified-address', 'mapped-prefix']).toContain((e as TrustProxyError).reason)
          refused++
          return
        }
        const q = parseTrustProxy(p.toString())
        expect({ kind: q.kind, hops: q.hops, ranges: [...q.ranges] }).toEqual({ kind: p.kind, hops: p.hops, ranges: [...p.ranges] })
        // And it decides the same on addresses.
        for (const a of ['10.1.2.3', '127.0.0.1', '::1', 'fe80::1%eth0', '100.64.0.1', '2001:db8::1']) {
          expect(q.trust(a, 0)).toBe(p.trust(a, 0))
        }
        // And warns the same about trusting everything.
        expect(q.warnings.filter((w) => w.code === 'trust-all').length).toBe(p.warnings.filter((w) => w.code === 'trust-all').length)
      }),
      { numRuns: RUNS },
    )
    expect(refused).toBeLessThan(RUNS / 2)
  })
})

describe('differential: the same client as proxy-addr 2.0.8 for valid input', () => {
  /** proxy-addr returns raw text; compare in canonical form, computed by ipaddr.js. */
  const canon = (a: string | undefined) => (a === undefined ? undefined : ipaddr.process(a).toString())
  /**
   * "Valid input" as proxy-addr sees it: its own ipaddr.js (1.9.1) refuses IPv4-compatible text
   * such as ::10.0.0.1 and returns it raw, where we read it as the IPv6 address ::a00:1.
   */
  const validForProxyAddr = (a: string) => proxyAddrIpaddr.isValid(a)
  const address = addressArb.filter(validForProxyAddr)
  const chain = fc.array(address, { minLength: 0, maxLength: 8 })
  const req = (remote: string, entries: string[]) => ({
    socket: { remoteAddress: remote },
    connection: { remoteAddress: remote },
    headers: entries.length ? { 'x-forwarded-for': entries.join(', ') } : {},
  })

  it('under range lists', () => {
    fc.assert(
      fc.property(rangeList, address, chain, (list, remote, entries) => {
        const ours = resolveClientIp(parseTrustProxy(list), remote, entries.length ? entries.join(', ') : undefined)
        const theirs = proxyaddr(req(remote, entries) as never, list)
        expect(ours).toBe(canon(theirs))
      }),
      { numRuns: RUNS * 4 },
    )
  })

  it('under hop counts (Express: (a, i) => i < n)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), address, chain, (n, remote, entries) => {
        const ours = resolveClientIp(parseTrustProxy(n), remote, entries.join(', '))
        const theirs = proxyaddr(req(remote, entries) as never, (_a: string, i: number) => i < n)
        expect(ours).toBe(canon(theirs))
      }),
      { numRuns: RUNS * 2 },
    )
  })

  it('under trust all, and none', () => {
    fc.assert(
      fc.property(address, chain, (remote, entries) => {
        expect(resolveClientIp(parseTrustProxy(true), remote, entries.join(','))).toBe(canon(proxyaddr(req(remote, entries) as never, () => true)))
        expect(resolveClientIp(parseTrustProxy(false), remote, entries.join(','))).toBe(canon(proxyaddr(req(remote, entries) as never, () => false)))
      }),
      { numRuns: RUNS },
    )
  })

  it('for the trust predicate handed to Express (policy.trust vs proxy-addr.compile)', () => {
    fc.assert(
      fc.property(rangeList, address, fc.nat(5), (list, a, i) => {
        expect(parseTrustProxy(list).trust(a, i)).toBe(proxyaddr.compile(list)(a, i))
      }),
      { numRuns: RUNS * 2 },
    )
  })
})

describe('canonical form agrees with node:net and ipaddr.js', () => {
  const anyAddress = fc.oneof(ipv4, ipv6, mapped)
  it('for every valid address text', () => {
    fc.assert(
      fc.property(anyAddress, (text) => {
        const ours = canonicalizeIp(text)
        expect(ours).toBeDefined()
        expect(isIP(text)).not.toBe(0)
        const family = text.includes(':') ? 'ipv6' : 'ipv4'
        const node = new SocketAddress({ address: text, family }).address
        // node prints mapped addresses as ::ffff:a.b.c.d and IPv4-compatible ones with a dotted
        // tail (inet_ntop); RFC 5952 and we print hex (and mapped as plain IPv4).
        if (ours!.includes(':')) {
          const nodeOfOurs = new SocketAddress({ address: ours!, family: 'ipv6' }).address
          expect(nodeOfOurs).toBe(node)
          if (!node.includes('.')) expect(ours).toBe(node)
        } else if (family === 'ipv6') {
          expect(node).toBe(`::ffff:${ours}`)
        } else {
          expect(ours).toBe(node)
        }
        // ipaddr.js reads ::a.b.c.d as IPv4-mapped (a quirk of its parser); compare elsewhere.
        const ipv4Compatible = /^::[0-9]+\./.test(text)
        if (!ipv4Compatible) expect(ours).toBe(ipaddr.process(text).toString())
      }),
      { numRuns: RUNS * 4 },
    )
  })

  it('accepts exactly the addresses node:net accepts (no ports, zones or brackets)', () => {
    const alphabet = fc.constantFrom(...'0123456789abcdefABCDEF:.'.split(''), '::', '1.2.3.4', 'ffff', '00', '255', '256')
    const mutated = fc.oneof(
      fc.array(alphabet, { maxLength: 14 }).map((x) => x.join('')),
      fc.tuple(anyAddress, fc.nat(40), fc.constantFrom('', ':', '.', '0', 'f', '::', '1')).map(([a, at, ins]) => a.slice(0, at % (a.length + 1)) + ins + a.slice(at % (a.length + 1))),
      fc.tuple(anyAddress, fc.nat(40)).map(([a, at]) => a.slice(0, at % a.length) + a.slice((at % a.length) + 1)),
    )
    fc.assert(
      fc.property(mutated, (text) => {
        const ours = text.includes(':') ? parseIPv6(text, 0, text.length) : parseIPv4(text, 0, text.length) >= 0
        expect(ours).toBe(isIP(text) !== 0)
      }),
      { numRuns: RUNS * 10 },
    )
  })
})

describe('the compiled range set agrees with a naive matcher', () => {
  const toBig = (g: number[]) => g.reduce((acc, x) => (acc << 16n) | BigInt(x), 0n)
  const cidr4 = fc.tuple(fc.nat(0xffffffff), fc.integer({ min: 0, max: 32 })).map(([v, p]): Cidr => ({ family: 4, v4: v >>> 0, w: [0, 0, 0, 0], prefix: p, zone: '' }))
  const cidr6 = fc.tuple(ipv6Groups, fc.integer({ min: 0, max: 128 })).map(([g, p]): Cidr => ({
    family: 6,
    v4: 0,
    w: [0, 2, 4, 6].map((k) => ((g[k]! << 16) | g[k + 1]!) >>> 0) as [number, number, number, number],
    prefix: p,
    zone: '',
  }))
  function naive(cidrs: Cidr[], family: 4 | 6, value: bigint): boolean {
    return cidrs.some((c) => {
      if (c.family !== family) return false
      const bits = family === 4 ? 32 : 128
      const v = family === 4 ? BigInt(c.v4) : c.w.reduce((acc, x) => (acc << 32n) | BigInt(x), 0n)
      const shift = BigInt(bits - c.prefix)
      return v >> shift === value >> shift
    })
  }
  it('for IPv4 and IPv6, small and large sets, near the edges of ranges', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(cidr4, cidr6), { maxLength: 40 }), fc.array(fc.tuple(fc.nat(0xffffffff), ipv6Groups), { maxLength: 20 }), (cidrs, probes) => {
        const set = new RangeSet(cidrs)
        // Probe random values and the first and last address of every range (and one beyond).
        const v4s = probes.map(([v]) => BigInt(v >>> 0))
        const v6s = probes.map(([, g]) => toBig(g))
        for (const c of cidrs) {
          if (c.family === 4) {
            const size = 1n << BigInt(32 - c.prefix)
            const start = (BigInt(c.v4) / size) * size
            for (const x of [start - 1n, start, start + size - 1n, start + size]) if (x >= 0n && x <= 0xffffffffn) v4s.push(x)
          } else {
            const size = 1n << BigInt(128 - c.prefix)
            const start = (c.w.reduce((acc, x) => (acc << 32n) | BigInt(x), 0n) / size) * size
            for (const x of [start - 1n, start, start + size - 1n, start + size]) if (x >= 0n && x < 1n << 128n) v6s.push(x)
          }
        }
        for (const x of v4s) expect(set.has4(Number(x))).toBe(naive(cidrs, 4, x))
        for (const x of v6s) {
          const w = [96n, 64n, 32n, 0n].map((s) => Number((x >> s) & 0xffffffffn))
          expect(set.has6(w[0]!, w[1]!, w[2]!, w[3]!, '')).toBe(naive(cidrs, 6, x))
        }
      }),
      { numRuns: RUNS },
    )
  })

  it('for a 10,000-entry list', () => {
    const cidrs: Cidr[] = []
    let seed = 7
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0)
    for (let k = 0; k < 10_000; k++) cidrs.push({ family: 4, v4: rnd(), w: [0, 0, 0, 0], prefix: 16 + (rnd() % 17), zone: '' })
    const set = new RangeSet(cidrs)
    // 2,000 probes (RUNS * 4), fewer in mutation runs, which set FC_RUNS low: the naive matcher
    // costs 10,000 BigInt comparisons a probe.
    for (let k = 0; k < RUNS * 4; k++) {
      const x = rnd()
      expect(set.has4(x)).toBe(naive(cidrs, 4, BigInt(x)))
    }
  })
})

it('the pool of ranges used by the generators parses', () => {
  expect(parseTrustProxy(RANGE_POOL).kind).toBe('ranges')
})

describe('the right-to-left fast paths read exactly what the general parser reads', () => {
  const alphabet = fc.constantFrom(...'0123456789abcdefABCDEF:.[]% \t'.split(''), '::', 'ffff', '0')
  const item = fc.oneof(
    decorated,
    garbage,
    fc.array(alphabet, { maxLength: 20 }).map((x) => x.join('')),
    fc.tuple(ipv6Groups, fc.constantFrom('', ' ', '\t')).map(([g, ws]) => ws + g.map((x) => x.toString(16)).join(':') + ws),
    // Issue 11: padding up to and past the item bound, on either side.
    fc.tuple(padding, fc.oneof(ipv4, ipv6), padding).map(([l, a, r]) => l + a + r),
  )
  const prefix = fc.constantFrom('', '6.6.6.6,', 'junk, ', ',', '2001:db8::9 ,  ')
  for (const [name, read] of [
    ['IPv4', readIPv4Item],
    ['IPv6', readIPv6Item],
  ] as const) {
    it(`${name}: whenever it accepts an item, parseAddress accepts it with the same canonical text`, () => {
      let accepted = 0
      fc.assert(
        fc.property(prefix, item.filter((t) => !t.includes(',')), (pre, t) => {
          const s = pre + t
          const comma = read(s, s.length)
          if (comma < -1) return
          accepted++
          expect(comma).toBe(s.lastIndexOf(','))
          const fast = { family: P.family, v4: P.v4, w: [P.w0, P.w1, P.w2, P.w3], text: formatParsed(s) }
          const trimmed = s.slice(comma + 1).trim()
          // The same bound as every reader (parseItem), then the same address.
          expect(parseItem(s, comma + 1, s.length)).toBe(true)
          expect(parseAddress(trimmed, 0, trimmed.length)).toBe(true)
          const general = { family: P.family, v4: P.v4, w: [P.w0, P.w1, P.w2, P.w3], text: formatParsed(trimmed) }
          if (general.family === 4) general.w = fast.w
          else general.v4 = fast.v4
          expect(fast).toEqual(general)
        }),
        { numRuns: RUNS * 10 },
      )
      expect(accepted).toBeGreaterThan(RUNS / 2)
    })
  }
})

describe('the right-to-left fast paths take every plain item they exist for', () => {
  // Their contract is speed: a plain item that fell through to the general reader would still be
  // read right, so only these properties see it (and mutation testing would call it equivalent).
  const prefix = fc.constantFrom('', '6.6.6.6,', 'junk, ', ',', '2001:db8::9 ,  ')
  const ws = fc.constantFrom('', ' ', '\t', '  \t')
  it('IPv4: strict dotted decimal with white space around it, after any prefix', () => {
    fc.assert(
      fc.property(prefix, ws, ipv4, ws, (pre, l, a, r) => {
        const s = pre + l + a + r
        expect(readIPv4Item(s, s.length)).toBe(s.lastIndexOf(','))
        expect(formatParsed(s)).toBe(a)
      }),
      { numRuns: RUNS * 2 },
    )
  })
  it('IPv6: hex groups with at most one "::", in any case, neither mapped nor unspecified', () => {
    const v6 = fc
      .tuple(ipv6Groups, fc.record({ compressAt: fc.integer({ min: -1, max: 7 }), upper: fc.boolean(), pad: fc.boolean(), dottedTail: fc.constant(false) }))
      .filter(([g]) => !(g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff))
      .map(([g, style]) => v6Text(g, style))
    fc.assert(
      fc.property(prefix, ws, v6, ws, (pre, l, a, r) => {
        const s = pre + l + a + r
        expect(readIPv6Item(s, s.length)).toBe(s.lastIndexOf(','))
        expect(formatParsed(s)).toBe(canonicalizeIp(a))
      }),
      { numRuns: RUNS * 2 },
    )
  })
  it('both, at the item bound: 192 characters are read by the fast path, 193 are not', () => {
    for (const a of ['1.2.3.4', '2001:db8::1', 'A:b:C:d:E:f:0:1']) {
      const read = a.includes(':') ? readIPv6Item : readIPv4Item
      for (const [left, right] of [[MAX_ITEM_LENGTH - a.length, 0], [0, MAX_ITEM_LENGTH - a.length], [5, MAX_ITEM_LENGTH - a.length - 5]] as const) {
        const item = ' '.repeat(left) + a + '\t'.repeat(right)
        expect(read(`9.9.9.9,${item}`, 8 + item.length)).toBe(7)
        expect(read(item, item.length)).toBe(-1)
        expect(read(`9.9.9.9, ${item}`, 9 + item.length)).toBe(-2)
        expect(read(` ${item}`, 1 + item.length)).toBe(-2)
      }
    }
  })
})

describe('the IPv4-mapped socket address fast path (a dual-stack listener)', () => {
  const parseMapped = (s: string) => parseMappedInto(P, s)
  const near = fc.oneof(
    mapped,
    zonedMapped,
    fc.tuple(fc.constantFrom('::ffff:', '::FFFF:', '::fffe:', ':ffff:', '::ffff::', '0::ffff:', '::ffff:0:'), fc.oneof(ipv4, fc.constantFrom('0.0.0.0', '1.2.3', '01.2.3.4', '1.2.3.4 ', '1.2.3.4:80', '256.1.1.1', '1.2.3.4.5'))).map(([p, a]) => p + a),
    fc.array(fc.constantFrom(...'0123456789f:.'.split('')), { maxLength: 22 }).map((x) => x.join('')),
  )
  it('whenever it accepts a socket address, parseItem reads the same IPv4 host with the same text', () => {
    let accepted = 0
    fc.assert(
      fc.property(near, (s) => {
        if (!parseMapped(s)) return
        accepted++
        const fast = { family: P.family, v4: P.v4, text: formatParsed(s) }
        expect(parseItem(s, 0, s.length)).toBe(true)
        expect({ family: P.family, v4: P.v4, text: formatParsed(s) }).toEqual(fast)
      }),
      { numRuns: RUNS * 4 },
    )
    expect(accepted).toBeGreaterThan(RUNS / 4)
  })
  it('takes every ::ffff:a.b.c.d Node writes, and nothing else', () => {
    fc.assert(
      fc.property(ipv4, (a) => {
        expect(parseMapped(`::ffff:${a}`)).toBe(true)
        expect(formatParsed('')).toBe(a)
        for (const other of [`::FFFF:${a}`, ` ::ffff:${a}`, `::ffff:${a} `, `[::ffff:${a}]`, `::ffff:${a}%eth0`, `::fffe:${a}`, `::ffff:${a}:1`]) {
          expect(parseMapped(other), other).toBe(false)
        }
      }),
      { numRuns: RUNS },
    )
    expect(parseMapped('::ffff:0.0.0.0')).toBe(false)
  })
  it('gives the same client as the general path through resolveClient', () => {
    const policy = parseTrustProxy('loopback')
    for (const peer of ['::ffff:127.0.0.1', '::ffff:203.0.113.9', '::ffff:0.0.0.0', '::FFFF:127.0.0.1', '::ffff:7f00:1']) {
      const info = resolveClient(policy, { remoteAddress: peer, headers: { 'x-forwarded-for': '198.51.100.7' } })
      const general = parseItem(peer, 0, peer.length) ? formatParsed(peer) : undefined
      expect(info.peer, peer).toBe(general)
      expect(info.ip, peer).toBe(general === undefined ? undefined : general.startsWith('127.') ? '198.51.100.7' : general)
    }
  })
})
