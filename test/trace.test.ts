/**
 * traceClient: the walk hop by hop, from the core's own readers. What it must never do is show
 * a different chain from the one the resolver walked, or name a TRUST_PROXY entry that does not
 * trust the hop; and its cost must follow the request, not the attacker or the policy's length.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type TraceHop, type TrustPolicy, canonicalizeIp, decodeProxyHeader, listEntries, parseTrustProxy, resolveClient, traceClient } from '../src/index.js'
import { RANGE_POOL, address, decorated, garbage, rangeList } from './support/arbitraries.js'

const RUNS = Number(process.env.FC_RUNS ?? 300)

type Row = [hop: number, role: TraceHop['role'], raw: string | null, address: string | null, trusted: boolean | null, rule: string, matched?: string, malformed?: string]
const rows = (hops: TraceHop[]): Row[] =>
  hops.map((h) => {
    const r: Row = [h.hop, h.role, h.raw, h.address, h.trusted, h.rule]
    if (h.matched !== undefined || h.malformed !== undefined) r.push(h.matched as string)
    if (h.malformed !== undefined) r.push(h.malformed)
    return r
  })

describe('traceClient: named cases', () => {
  const cases: { name: string; tp: string; remote: string | undefined; headers: Record<string, string | string[]>; header?: string; edge?: string; stop: string; hops: Row[]; peerTrusted?: boolean; edgeEntry?: string }[] = [
    {
      name: 'edge header behind a trusted nginx: the edge hop names its preset, the header is the client, the rest is not read',
      tp: 'loopback', remote: '127.0.0.1', headers: { 'x-forwarded-for': '6.6.6.6, 104.16.0.9', 'cf-connecting-ip': ' 203.0.113.5 ' }, header: 'cf-connecting-ip', stop: 'edge',
      hops: [[0, 'proxy', '127.0.0.1', '127.0.0.1', true, 'range', 'loopback'], [1, 'proxy', '104.16.0.9', '104.16.0.9', true, 'edge'], [2, 'client', '203.0.113.5', '203.0.113.5', null, 'edge-header'], [2, 'ignored', '6.6.6.6', '6.6.6.6', null, 'not-read']],
    },
    {
      name: 'edge header from the edge peer itself: believed, but TRUST_PROXY=false does not trust the peer',
      tp: 'false', remote: '::ffff:104.16.0.9', headers: { 'cf-connecting-ip': '[2001:db8::1]:443', 'x-forwarded-proto': 'https' }, header: 'cf-connecting-ip', stop: 'edge', peerTrusted: false,
      hops: [[0, 'proxy', '::ffff:104.16.0.9', '104.16.0.9', true, 'edge'], [1, 'client', '[2001:db8::1]:443', '2001:db8::1', null, 'edge-header']],
    },
    {
      name: 'edge header not delivered by the edge: ignored, and a forged edge address left of the client is not read',
      tp: 'loopback', remote: '127.0.0.1', headers: { 'x-forwarded-for': '104.16.0.9, 198.51.100.9', 'cf-connecting-ip': '6.6.6.6' }, header: 'cf-connecting-ip', stop: 'untrusted',
      hops: [[0, 'proxy', '127.0.0.1', '127.0.0.1', true, 'range', 'loopback'], [1, 'client', '198.51.100.9', '198.51.100.9', false, 'not-in-ranges'], [2, 'ignored', '6.6.6.6', '6.6.6.6', null, 'not-from-edge'], [2, 'ignored', '104.16.0.9', '104.16.0.9', null, 'not-read']],
    },
    {
      name: 'the edge without its header is the client; with one that is not an address too',
      tp: 'loopback', remote: '127.0.0.1', headers: { 'x-forwarded-for': '104.16.0.9', 'true-client-ip': ['203.0.113.5', '203.0.113.6'] }, header: 'true-client-ip', stop: 'edge',
      hops: [[0, 'proxy', '127.0.0.1', '127.0.0.1', true, 'range', 'loopback'], [1, 'client', '104.16.0.9', '104.16.0.9', true, 'edge'], [2, 'malformed', '203.0.113.5, 203.0.113.6', null, null, 'malformed', undefined, 'repeated']],
    },
    {
      name: 'an edge tied to ranges: a Unix-socket tunnel, the edge named by the entry that covers it',
      tp: 'false', remote: undefined, headers: { 'fly-client-ip': '203.0.113.5' }, header: 'fly-client-ip', edge: '10.0.0.0/8, unix', edgeEntry: 'unix', stop: 'edge',
      hops: [[0, 'proxy', null, null, true, 'edge'], [1, 'client', '203.0.113.5', '203.0.113.5', null, 'edge-header']],
    },
    {
      name: 'a range list names the entry that matched each trusted hop, in list order',
      tp: '127.0.0.1, 10.0.0.0/8, loopback',
      remote: '127.0.0.1',
      headers: { 'x-forwarded-for': '203.0.113.7, 10.1.1.1' },
      stop: 'untrusted',
      hops: [
        [0, 'proxy', '127.0.0.1', '127.0.0.1', true, 'range', '127.0.0.1'],
        [1, 'proxy', '10.1.1.1', '10.1.1.1', true, 'range', '10.0.0.0/8'],
        [2, 'client', '203.0.113.7', '203.0.113.7', false, 'not-in-ranges'],
      ],
    },
    {
      name: 'the raw text is kept beside the canonical address (port, brackets, mapped)',
      tp: '10.0.0.0/8',
      remote: '::ffff:10.0.0.5',
      headers: { 'x-forwarded-for': '[2001:DB8::1]:443,  10.0.0.7:8080 ' },
      stop: 'untrusted',
      hops: [
        [0, 'proxy', '::ffff:10.0.0.5', '10.0.0.5', true, 'range', '10.0.0.0/8'],
        [1, 'proxy', '10.0.0.7:8080', '10.0.0.7', true, 'range', '10.0.0.0/8'],
        [2, 'client', '[2001:DB8::1]:443', '2001:db8::1', false, 'not-in-ranges'],
      ],
    },
    {
      name: 'a malformed entry: why, and the entries left of it are listed as not read',
      tp: '10.0.0.0/8',
      remote: '10.0.0.1',
      headers: { 'x-forwarded-for': 'unknown, , _hidden, 10.1.1.1' },
      stop: 'malformed',
      hops: [
        [0, 'proxy', '10.0.0.1', '10.0.0.1', true, 'range', '10.0.0.0/8'],
        [1, 'client', '10.1.1.1', '10.1.1.1', true, 'range', '10.0.0.0/8'],
        [2, 'malformed', '_hidden', null, null, 'malformed', undefined, 'obfuscated'],
        [3, 'ignored', '', null, null, 'not-read', undefined, 'empty'],
        [4, 'ignored', 'unknown', null, null, 'not-read', undefined, 'unknown'],
      ],
    },
    {
      name: 'an item too long to be an address stops the reader',
      tp: '10.0.0.0/8',
      remote: '10.0.0.1',
      headers: { 'x-forwarded-for': '203.0.113.9,' + 'a'.repeat(300) + ', 10.1.1.1' },
      stop: 'malformed',
      hops: [
        [0, 'proxy', '10.0.0.1', '10.0.0.1', true, 'range', '10.0.0.0/8'],
        [1, 'client', '10.1.1.1', '10.1.1.1', true, 'range', '10.0.0.0/8'],
        [2, 'malformed', '', null, null, 'malformed', undefined, 'too-long'],
      ],
    },
    {
      name: 'Forwarded: the for= value as read, an element without for=, quoted IPv6 with a port',
      tp: '10.0.0.0/8',
      remote: '10.0.0.1',
      headers: { forwarded: 'for=198.51.100.1, for="[2001:db8::1]:80";proto=https, by=x, for=10.0.0.9' },
      header: 'forwarded',
      stop: 'malformed',
      hops: [
        [0, 'proxy', '10.0.0.1', '10.0.0.1', true, 'range', '10.0.0.0/8'],
        [1, 'client', '10.0.0.9', '10.0.0.9', true, 'range', '10.0.0.0/8'],
        [2, 'malformed', 'by=x', null, null, 'malformed', undefined, 'no-for'],
        [3, 'ignored', '[2001:db8::1]:80', '2001:db8::1', null, 'not-read'],
        [4, 'ignored', '198.51.100.1', '198.51.100.1', null, 'not-read'],
      ],
    },
    {
      name: 'Forwarded: an unbalanced quote cannot be delimited',
      tp: '10.0.0.0/8',
      remote: '10.0.0.1',
      headers: { forwarded: 'for="198.51.100.1, for=10.0.0.9' },
      header: 'forwarded',
      stop: 'malformed',
      hops: [
        [0, 'proxy', '10.0.0.1', '10.0.0.1', true, 'range', '10.0.0.0/8'],
        [1, 'client', '10.0.0.9', '10.0.0.9', true, 'range', '10.0.0.0/8'],
        [2, 'malformed', '', null, null, 'malformed', undefined, 'unreadable'],
      ],
    },
    {
      name: 'Forwarded: a repeated parameter makes the element invalid (shown whole)',
      tp: '10.0.0.0/8',
      remote: '10.0.0.1',
      headers: { forwarded: 'for=198.51.100.1;for=10.0.0.2' },
      header: 'forwarded',
      stop: 'malformed',
      hops: [
        [0, 'client', '10.0.0.1', '10.0.0.1', true, 'range', '10.0.0.0/8'],
        [1, 'malformed', 'for=198.51.100.1;for=10.0.0.2', null, null, 'malformed', undefined, 'bad-element'],
      ],
    },
    {
      name: 'a single-address header sent twice is ambiguous',
      tp: '10.0.0.0/8',
      remote: '10.0.0.1',
      headers: { 'x-real-ip': ['198.51.100.1', '198.51.100.2'] },
      header: 'x-real-ip',
      stop: 'malformed',
      hops: [
        [0, 'client', '10.0.0.1', '10.0.0.1', true, 'range', '10.0.0.0/8'],
        [1, 'malformed', '198.51.100.1, 198.51.100.2', null, null, 'malformed', undefined, 'repeated'],
      ],
    },
    {
      name: 'a hop count: within, beyond, and not read',
      tp: '2',
      remote: '10.0.0.1',
      headers: { 'x-forwarded-for': '1.1.1.1, 2.2.2.2, 3.3.3.3' },
      stop: 'untrusted',
      hops: [
        [0, 'proxy', '10.0.0.1', '10.0.0.1', true, 'hop-count'],
        [1, 'proxy', '3.3.3.3', '3.3.3.3', true, 'hop-count'],
        [2, 'client', '2.2.2.2', '2.2.2.2', false, 'beyond-hop-count'],
        [3, 'ignored', '1.1.1.1', '1.1.1.1', null, 'not-read'],
      ],
    },
    {
      name: 'a zoned link-local range matches only its zone',
      tp: 'fe80::%eth0/64, ::1',
      remote: 'fe80::1%eth0',
      headers: { 'x-forwarded-for': 'fe80::2%eth1' },
      stop: 'untrusted',
      hops: [
        [0, 'proxy', 'fe80::1%eth0', 'fe80::1%eth0', true, 'range', 'fe80::%eth0/64'],
        [1, 'client', 'fe80::2%eth1', 'fe80::2%eth1', false, 'not-in-ranges'],
      ],
    },
    {
      name: 'a Unix socket peer is matched by unix',
      tp: 'unix',
      remote: undefined,
      headers: { 'x-forwarded-for': '2001:db8::5' },
      stop: 'untrusted',
      hops: [
        [0, 'proxy', null, null, true, 'range', 'unix'],
        [1, 'client', '2001:db8::5', '2001:db8::5', false, 'not-in-ranges'],
      ],
    },
    {
      name: 'a malformed socket address: no client, the header is not read',
      tp: '10.0.0.0/8',
      remote: 'garbage',
      headers: { 'x-forwarded-for': '2001:db8::5' },
      stop: 'malformed-peer',
      hops: [
        [0, 'malformed', 'garbage', null, null, 'malformed', undefined, 'not-an-address'],
        [1, 'ignored', '2001:db8::5', '2001:db8::5', null, 'not-read'],
      ],
    },
    {
      name: 'trust all: the left-most entry is the client, and trusted',
      tp: 'true',
      remote: '198.51.100.1',
      headers: { 'x-forwarded-for': '2001:db8::5, 9.9.9.9' },
      stop: 'leftmost',
      hops: [
        [0, 'proxy', '198.51.100.1', '198.51.100.1', true, 'trust-all'],
        [1, 'proxy', '9.9.9.9', '9.9.9.9', true, 'trust-all'],
        [2, 'client', '2001:db8::5', '2001:db8::5', true, 'trust-all'],
      ],
    },
    {
      name: 'a name in the list (private) is named as the match',
      tp: '203.0.113.0/24, private',
      remote: '192.168.0.10',
      headers: { 'x-forwarded-for': '198.51.100.8, 203.0.113.5' },
      stop: 'untrusted',
      hops: [
        [0, 'proxy', '192.168.0.10', '192.168.0.10', true, 'range', 'private'],
        [1, 'proxy', '203.0.113.5', '203.0.113.5', true, 'range', '203.0.113.0/24'],
        [2, 'client', '198.51.100.8', '198.51.100.8', false, 'not-in-ranges'],
      ],
    },
  ]
  it.each(cases)('$name', ({ tp, remote, headers, header, edge, stop, hops, peerTrusted, edgeEntry }) => {
    const policy = parseTrustProxy(tp)
    const opts = header === undefined ? undefined : { header, ...(edge !== undefined ? { edge } : {}) }
    const t = traceClient(policy, { remoteAddress: remote, headers }, opts)
    expect(rows(t.hops)).toEqual(hops)
    expect(t.stop).toBe(stop)
    if (peerTrusted !== undefined) expect(t.peerTrusted).toBe(peerTrusted)
    // The edge hop is marked with the entry of the edge's ranges that covers it (cloudflare by default).
    if (stop === 'edge') expect(t.hops.find((h) => h.rule === 'edge')?.edge).toBe(edgeEntry ?? 'cloudflare')
    expect(t.client).toEqual(resolveClient(policy, { remoteAddress: remote, headers }, opts))
  })

  it('lists at most maxListed entries left of the client and counts the rest', () => {
    const xff = Array.from({ length: 100 }, (_, i) => `198.51.100.${i}`).join(', ') + ', 10.0.0.2'
    const t = traceClient(parseTrustProxy('10.0.0.0/8'), { remoteAddress: '10.0.0.1', headers: { 'x-forwarded-for': xff } }, { maxListed: 5 })
    expect(t.hops.map((h) => h.role)).toEqual(['proxy', 'proxy', 'client', 'ignored', 'ignored', 'ignored', 'ignored', 'ignored'])
    expect(t.hops.at(-1)!.address).toBe('198.51.100.94')
    expect(t.entries).toBe(101)
    expect(t.omitted).toBe(94)
  })

  it('the forwarded protocol and host as read, only from a trusted peer', () => {
    const p = parseTrustProxy('10.0.0.0/8')
    const headers = { 'x-forwarded-for': '198.51.100.1', 'x-forwarded-proto': 'http, gopher', 'x-forwarded-host': 'a.example, b.example/x' }
    const t = traceClient(p, { remoteAddress: '10.0.0.1', headers })
    expect([t.forwardedProto, t.forwardedHost]).toEqual(['gopher', 'b.example/x'])
    expect(t.client.anomalies).toEqual(expect.arrayContaining(['invalid-forwarded-proto', 'invalid-forwarded-host']))
    const direct = traceClient(p, { remoteAddress: '198.51.100.9', headers })
    expect([direct.forwardedProto, direct.forwardedHost]).toEqual([undefined, undefined])
    const fwd = traceClient(p, { remoteAddress: '10.0.0.1', headers: { forwarded: 'for=198.51.100.1;proto="ht\\tp";host=x.example' } }, { header: 'forwarded' })
    expect([fwd.forwardedProto, fwd.forwardedHost]).toEqual(['http', 'x.example'])
  })

  it('a custom trust function: its answers, with rule trust-function', () => {
    const t = traceClient((addr) => addr === '10.0.0.1', { remoteAddress: '10.0.0.1', headers: { 'x-forwarded-for': '198.51.100.1' } })
    expect(rows(t.hops)).toEqual([
      [0, 'proxy', '10.0.0.1', '10.0.0.1', true, 'trust-function'],
      [1, 'client', '198.51.100.1', '198.51.100.1', false, 'trust-function'],
    ])
  })

  it('throws like resolveClient for a bad header option, and never for request content', () => {
    expect(() => traceClient(parseTrustProxy('1'), { remoteAddress: '10.0.0.1', headers: {} }, { header: 'bad header' })).toThrow(TypeError)
    for (const headers of [{ 'x-forwarded-for': 42 }, { 'x-forwarded-for': [null, {}, '1.2.3.4'] }, Object.create(null), null, 'text']) {
      expect(() => traceClient(parseTrustProxy('true'), { remoteAddress: '10.0.0.1', headers: headers as never })).not.toThrow()
    }
  })
})

describe('traceClient: invariants', () => {
  const policyArb: fc.Arbitrary<TrustPolicy> = fc.oneof(
    fc.constant(parseTrustProxy(false)),
    fc.constant(parseTrustProxy(true)),
    fc.integer({ min: 1, max: 4 }).map((n) => parseTrustProxy(n)),
    rangeList.map((r) => parseTrustProxy(r)),
    fc.subarray([...RANGE_POOL, 'loopback', 'private', 'uniquelocal', '10.1.0.0/16', '10.1.2.3'], { minLength: 1 }).map((r) => parseTrustProxy(r)),
  )
  // Addresses inside the cloudflare preset, so that the default edge of cf-connecting-ip is reached.
  const cloudflare = fc.constantFrom('104.16.0.9', '2606:4700::6810:9', '::ffff:104.16.0.9', '172.64.1.1')
  const entry = fc.oneof(decorated, decorated, decorated, garbage, cloudflare)
  // Edge headers: the default (cf-connecting-ip, true-client-ip: cloudflare) or tied to ranges of the pool.
  const EDGE_POOL = ['10.0.0.0/8', '192.168.1.0/24', '127.0.0.1', 'fd00::/8', 'unix', '203.0.113.7', '2001:db8::/32', 'cloudflare']
  const edgeArb = fc.oneof(
    fc.record({ header: fc.constantFrom('cf-connecting-ip', 'true-client-ip'), edge: fc.constant(undefined) }),
    fc.record({ header: fc.constantFrom('cf-connecting-ip', 'fly-client-ip', 'x-client-ip'), edge: fc.subarray(EDGE_POOL, { minLength: 1 }) }),
  )
  const edgeValue = fc.option(fc.oneof(decorated, decorated, garbage, fc.tuple(decorated, decorated).map(([a, b]) => [a, b]), fc.tuple(decorated, decorated).map(([a, b]) => `${a}, ${b}`)), { nil: undefined })
  const request = fc.record({
    remote: fc.oneof(address, address, cloudflare, fc.constant(undefined)),
    entries: fc.array(entry, { maxLength: 8 }),
    header: fc.constantFrom('x-forwarded-for', 'forwarded', 'x-real-ip', 'edge'),
    edge: edgeArb,
    edgeValue,
  })
  const headerValue = (entries: string[], header: string): string =>
    header === 'forwarded' ? entries.map((e) => `for="${e.replace(/["\\]/g, '')}"`).join(', ') : entries.join(', ')

  it('shows exactly the chain the resolver walked, with each raw text reading as its address (edge headers too)', () => {
    fc.assert(
      fc.property(policyArb, request, (policy, r) => {
        const isEdge = r.header === 'edge'
        const header = isEdge ? r.edge.header : r.header
        const walkedHeader = isEdge ? 'x-forwarded-for' : header
        const value = headerValue(r.entries, walkedHeader)
        const headers: Record<string, string | string[]> = { [walkedHeader]: value }
        if (isEdge && r.edgeValue !== undefined) headers[header] = r.edgeValue
        const options = isEdge ? { header, ...(r.edge.edge !== undefined ? { edge: r.edge.edge } : {}) } : { header }
        const req = { remoteAddress: r.remote, headers }
        const t = traceClient(policy, req, { ...options, maxListed: 64 })
        const info = resolveClient(policy, req, options)
        expect(t.client).toEqual(info)
        expect(t.walked).toBe(walkedHeader)
        const walked = t.hops.filter((h) => h.role === 'proxy' || h.role === 'client')
        expect(walked.map((h) => h.address ?? undefined)).toEqual(info.chain)
        expect(walked.map((h) => h.hop)).toEqual(info.chain.map((_, i) => i))
        expect(walked.filter((h) => h.role === 'client').map((h) => h.hop)).toEqual(info.chain.length > 0 ? [info.trustedHops] : [])
        for (const h of t.hops) {
          if (h.hop > 0 && h.address !== null) expect(canonicalizeIp(h.raw!)).toBe(h.address)
          if (h.role === 'proxy') expect(h.trusted).toBe(true)
        }
        // Every entry the reader finds is listed (64 is more than the 8 generated), in header order from the right.
        const all = listEntries(value, walkedHeader)
        expect(t.entries).toBe(all.length)
        const listed = t.hops.filter((h) => h.hop > 0 && h.from === walkedHeader)
        expect(listed.map((h) => h.address ?? undefined)).toEqual(all.slice(all.length - listed.length).reverse())
        // TRUST_PROXY alone decides whether the peer's X-Forwarded-Proto is read, an edge peer too.
        if (!info.anomalies.includes('malformed-peer')) expect(t.peerTrusted).toBe(policy.trust(info.chain[0], 0))
        if (!isEdge) {
          expect(t.edge).toBeUndefined()
          expect(t.hops.some((h) => h.rule === 'edge' || h.rule === 'edge-header' || h.rule === 'not-from-edge')).toBe(false)
          return
        }
        // The edge step, exactly as resolveClient decided it.
        const edge = parseTrustProxy(r.edge.edge ?? 'cloudflare')
        expect(t.edge).toBe(edge.toString())
        const edgeHops = t.hops.filter((h) => h.rule === 'edge')
        expect(edgeHops.length).toBe(t.stop === 'edge' ? 1 : 0)
        for (const h of edgeHops) {
          expect(edge.trust(h.address ?? undefined, 0)).toBe(true)
          expect(parseTrustProxy(h.edge!).trust(h.address ?? undefined, 0)).toBe(true)
        }
        // The walk stops at the first hop inside the edge's ranges: no proxy before it is one.
        for (const h of walked) if (h.role === 'proxy' && h.rule !== 'edge') expect(edge.trust(h.address ?? undefined, 0)).toBe(false)
        const own = t.hops.filter((h) => h.from === header)
        expect(own.length).toBeLessThanOrEqual(1)
        const hop = own[0]
        expect(hop?.rule === 'edge-header').toBe(info.source === header)
        expect(hop?.rule === 'not-from-edge').toBe(info.anomalies.includes('edge-header-untrusted'))
        expect(hop?.role === 'malformed').toBe(t.stop === 'edge' && info.anomalies.includes('malformed-entry'))
        expect(t.stop === 'edge' && hop === undefined).toBe(info.anomalies.includes('missing-edge-header'))
        if (hop?.rule === 'edge-header') expect(hop.address).toBe(info.ip)
      }),
      { numRuns: RUNS },
    )
  })

  it('names a TRUST_PROXY entry exactly when the policy trusts the hop, and that entry alone trusts it', () => {
    const ranges = fc.subarray([...RANGE_POOL, 'loopback', 'private', 'linklocal', 'uniquelocal', '10.1.0.0/16', '10.1.2.3', '0.0.0.0/1'], { minLength: 1 })
    fc.assert(
      fc.property(ranges, fc.array(address, { minLength: 1, maxLength: 6 }), (list, addrs) => {
        const policy = parseTrustProxy(list)
        const t = traceClient(policy, { remoteAddress: addrs[0], headers: { 'x-forwarded-for': addrs.slice(1).join(', ') } })
        for (const h of t.hops.filter((x) => x.role === 'proxy' || x.role === 'client')) {
          const trusted = policy.trust(h.address ?? undefined, h.hop)
          expect(h.trusted).toBe(trusted)
          expect(h.matched !== undefined).toBe(trusted)
          if (h.matched !== undefined) {
            expect(parseTrustProxy(h.matched).trust(h.address ?? undefined, h.hop)).toBe(true)
            // The first entry, in list order, that trusts it.
            const first = policy.ranges.find((r) => parseTrustProxy(r).trust(h.address ?? undefined, h.hop))
            expect(h.matched).toBe(first)
          }
        }
      }),
      { numRuns: RUNS },
    )
  })
})

// The cost (a 10,000-entry list, a padded 16 KB header) is measured in bench/serve.mjs, not here.
describe('traceClient: a long list', () => {
  it('a 10,000-entry TRUST_PROXY: each trusted hop names its own entry', () => {
    const big = parseTrustProxy(Array.from({ length: 10_000 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`).join(','))
    const req = { remoteAddress: '10.0.0.5', headers: { 'x-forwarded-for': '198.51.100.1, 10.38.15.9, 10.0.2.7' } }
    expect(traceClient(big, req).hops.map((h) => h.matched ?? null)).toEqual(['10.0.0.0/24', '10.0.2.0/24', '10.38.15.0/24', null])
  })
})

describe('traceClient behind the PROXY protocol', () => {
  const header = (source: string) => {
    const d = decodeProxyHeader(new TextEncoder().encode(`PROXY TCP4 ${source} 10.0.0.1 40000 443\r\n`))
    if (d.kind !== 'header') throw new Error('no header')
    return d.header
  }
  const request = (source: string, xff: string | undefined, balancerIsHop: boolean) => ({
    remoteAddress: '127.0.0.9',
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
    proxyProtocol: { loadBalancer: '127.0.0.9', header: header(source), balancerIsHop },
  })

  it.each([
    ['a hop count that counts the balancer: the PROXY source is the client, a forged entry ignored', '1', '203.0.113.7', '6.6.6.6', true],
    ['a hop count of 2: a proxy behind the balancer names the client', '2', '10.0.0.5', '203.0.113.7', true],
    ['a range list: the PROXY source is untrusted, the client', '127.0.0.9, 10.0.0.0/8', '203.0.113.7', '6.6.6.6', true],
    ['a range list: a trusted PROXY source, X-Forwarded-For read', '127.0.0.9, 10.0.0.0/8', '10.0.0.5', '203.0.113.7', true],
    ['a separate balancer policy: the hop count starts at the PROXY source', '1', '10.0.0.5', '203.0.113.7', false],
  ])('%s', (_name, value, source, xff, balancerIsHop) => {
    const policy = parseTrustProxy(value)
    const req = request(source, xff, balancerIsHop)
    const trace = traceClient(policy, req)
    const info = resolveClient(policy, req)
    expect(trace.client).toEqual(info)
    // Hop 0 is the PROXY source, shown with its own text; every hop before the client is trusted
    // by the walk's rule, the client is not (or is the left-most entry).
    expect(trace.hops[0]).toMatchObject({ hop: 0, raw: source, address: source })
    const walked = trace.hops.filter((h) => h.role === 'proxy' || h.role === 'client')
    for (const h of walked) expect(h.trusted, `hop ${h.hop}`).toBe(h.role === 'proxy' || trace.stop === 'leftmost')
    expect(walked.find((h) => h.role === 'client')?.address).toBe(info.ip)
    expect(trace.stop).toBe('untrusted')
  })
})
