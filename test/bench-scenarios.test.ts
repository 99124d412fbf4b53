/**
 * The benchmark's inputs, run once each, without timing: a benchmark that times a wrong answer
 * is worse than none. For every scenario of `bench/scenarios.mjs` we (from the source tree),
 * proxy-addr 2.0.8 and @fastify/proxy-addr must return the client the scenario was built
 * around, and each scenario must really be what its title says (list size, trusted hops,
 * header length), so that a table row cannot silently measure something easier.
 */
import ipaddr from 'ipaddr.js'
import { describe, expect, it } from 'vitest'
import * as lib from '../src/index.js'
import { lowerBoundResolve, lowerBounds, rangeTrust } from '../bench/lower-bound.mjs'
import { CLIENT, buildScenarios, canonical, cloudCidrs, compileInputs, contenders } from '../bench/scenarios.mjs'

const scenarios = buildScenarios()
const byId = new Map(scenarios.map((s) => [s.id, s]))

describe('every benchmark scenario: ours and proxy-addr agree on the expected client', () => {
  it.each(scenarios.map((s) => [s.id, s] as const))('%s', (_id, s) => {
    const c = contenders(s, lib)
    const want = canonical(s.expected)
    expect(want).toBeDefined()
    expect(want).not.toMatch(/^not an address/)
    expect(canonical(c.ours())).toBe(want)
    expect(canonical(c.proxyAddr())).toBe(want)
    expect(canonical(c.fastify())).toBe(want)
    // Ours is canonical already: the benchmark compares our exact output, not a cleaned-up one.
    expect(c.ours()).toBe(want)
  })
})

describe('the scenarios are what their titles say', () => {
  it('covers every scenario the issue lists', () => {
    for (const id of ['no-header', 'loopback-1', 'ipv4-3hop', 'ipv6-2hop', 'mapped-peer', 'hops-2', 'forwarded-v6',
      'cidrs-3', 'cidrs-100', 'cidrs-10000', 'chain-1', 'chain-10', 'chain-50', 'all-100', 'all-8192', 'range-100', 'range-8192']) {
      expect(byId.has(id), id).toBe(true)
    }
  })

  it('walks the stated number of trusted hops', () => {
    const hops: Record<string, number> = { 'loopback-1': 1, 'ipv4-3hop': 3, 'ipv6-2hop': 2, 'mapped-peer': 1, 'hops-2': 2, 'forwarded-v6': 2,
      'cidrs-3': 3, 'cidrs-100': 3, 'cidrs-10000': 3, 'chain-1': 1, 'chain-10': 10, 'chain-50': 50, 'range-100': 2, 'range-8192': 2, 'no-header': 0 }
    for (const [id, n] of Object.entries(hops)) {
      const s = byId.get(id)!
      const headers = s.forwarded !== undefined ? { forwarded: s.forwarded } : s.xff !== undefined ? { 'x-forwarded-for': s.xff, 'x-forwarded-proto': 'https' } : {}
      const info = lib.resolveClient(lib.parseTrustProxy(s.ours), { remoteAddress: s.remote, headers }, s.forwarded !== undefined ? { header: 'forwarded' } : undefined)
      expect(info.trustedHops, id).toBe(n)
      expect(info.anomalies, id).toEqual([])
    }
  })

  it('pads the hostile headers to exactly 100 and 8192 bytes, with the same walk on the right', () => {
    for (const kind of ['all', 'range']) {
      const small = byId.get(`${kind}-100`)!.xff!
      const big = byId.get(`${kind}-8192`)!.xff!
      expect(small.length).toBe(100)
      expect(big.length).toBe(8192)
      const tail = (h: string) => h.split(',').slice(-2).map((x) => x.trim())
      if (kind === 'range') expect(tail(big)).toEqual(tail(small))
      // Every entry is an address, so proxy-addr (which does not validate) and we agree under `all`.
      for (const entry of big.split(',')) expect(ipaddr.isValid(entry.trim()), entry).toBe(true)
    }
  })

  it('uses the IPv4-mapped peer Node reports on a dual-stack socket', () => {
    expect(byId.get('mapped-peer')!.remote).toBe('::ffff:127.0.0.1')
  })

  it('quotes the IPv6 address of the Forwarded header', () => {
    expect(byId.get('forwarded-v6')!.forwarded).toMatch(/for="\[[0-9a-f:]+\]:\d+"/)
  })
})

describe('the generated CIDR lists', () => {
  it('are deterministic, mixed IPv4/IPv6, normalised, and grow by extension', () => {
    const big = cloudCidrs(10_000)
    expect(cloudCidrs(10_000)).toEqual(big)
    expect(cloudCidrs(100).cidrs).toEqual(big.cidrs.slice(0, 100))
    expect(new Set(big.cidrs).size).toBe(10_000)
    const v6 = big.cidrs.filter((c) => c.includes(':')).length
    expect(v6).toBeGreaterThan(3000)
    expect(v6).toBeLessThan(4000)
    for (const c of big.cidrs) {
      const [net, prefix] = ipaddr.parseCIDR(c)
      // No host bits: the entry is its own network address.
      expect(ipaddr.IPv4.isValid(c.split('/')[0]!) ? (ipaddr.IPv4.networkAddressFromCIDR(c).toString()) : ipaddr.IPv6.networkAddressFromCIDR(c).toString(), c).toBe(net.toString())
      expect(prefix).toBeGreaterThan(0)
    }
  })

  it('put every generated proxy address inside its range and the client in none', () => {
    const { cidrs, inside } = cloudCidrs(10_000)
    const parsed = cidrs.map((c) => ipaddr.parseCIDR(c))
    for (let k = 0; k < cidrs.length; k += 97) {
      const addr = ipaddr.parse(inside[k]!)
      expect(addr.kind()).toBe(parsed[k]![0].kind())
      expect(addr.match(parsed[k]!), `${inside[k]} in ${cidrs[k]}`).toBe(true)
    }
    const client = ipaddr.parse(CLIENT)
    expect(parsed.some((r) => r[0].kind() === 'ipv4' && client.match(r))).toBe(false)
  })

  it('compile input is the 10,000-entry list, which parses into a policy trusting its addresses', () => {
    const { text, array } = compileInputs()
    expect(array).toHaveLength(10_000)
    expect(text.split(', ')).toEqual(array)
    const policy = lib.parseTrustProxy(text)
    expect(policy.kind).toBe('ranges')
    const { inside } = cloudCidrs(10_000)
    for (let k = 0; k < inside.length; k += 101) expect(policy.trust(inside[k], 0), inside[k]).toBe(true)
    expect(policy.trust(CLIENT, 0)).toBe(false)
  })
})

describe('the lower bound does the work it claims (validates every hop it walks)', () => {
  it('gives the expected client in each scenario it serves', () => {
    for (const [id, trust] of Object.entries(lowerBounds())) {
      const s = byId.get(id)!
      expect(lowerBoundResolve(trust, s.remote, s.xff), id).toBe(s.expected)
    }
  })

  it('refuses what is not strict dotted IPv4, in the header and in the peer', () => {
    const loopback = rangeTrust([[0x7f000000, 0x7fffffff]])
    for (const bad of ['010.0.0.1', '1.2.3', '256.1.1.1', '1.2.3.4:80', '1.2.3.4.5', '0.0.0.0', '1..2.3', 'x1.2.3.4', '2001:db8::1', '1.2.3.4 x']) {
      expect(lowerBoundResolve(loopback, '127.0.0.1', bad), bad).toBeNull()
      expect(lowerBoundResolve(loopback, '127.0.0.1', `${bad}, 127.0.0.2`), bad).toBeNull()
      expect(lowerBoundResolve(loopback, bad, '203.0.113.7'), bad).toBeNull()
    }
    // and agrees with the library where it does answer
    for (const xff of ['203.0.113.7', ' 203.0.113.7 ', '198.51.100.1,127.0.0.5', '1.2.3.4, 127.0.0.9 , 127.0.0.8']) {
      expect(lowerBoundResolve(loopback, '127.0.0.1', xff), xff).toBe(lib.resolveClientIp(lib.parseTrustProxy('loopback'), '127.0.0.1', xff))
    }
  })
})
