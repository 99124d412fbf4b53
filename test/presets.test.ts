/**
 * Provider presets as data: each list holds the provider's well-known addresses and not others,
 * names its source and date, parses like any TRUST_PROXY value, and ages into a warning. No
 * traffic is sent to any provider: the addresses are only matched.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { cloudflare } from '../src/presets/data/cloudflare.js'
import { cloudfront } from '../src/presets/data/cloudfront.js'
import { fastly } from '../src/presets/data/fastly.js'
import { googleLb } from '../src/presets/data/google-lb.js'
import { TrustProxyError, parseTrustProxy, presetInfo, presetNames, presetStaleDays } from '../src/index.js'

const DATA = { cloudflare, cloudfront, fastly, 'google-lb': googleLb }

/** Addresses each provider is documented to connect from (in), and neighbours that are not (out). */
const KNOWN: Record<string, { inside: string[]; outside: string[] }> = {
  cloudflare: {
    inside: ['173.245.48.1', '104.16.0.1', '104.27.255.254', '162.159.1.1', '172.64.0.1', '198.41.200.7', '2400:cb00::1', '2606:4700:4700::1111', '2a06:98c0:3600::103'],
    outside: ['1.1.1.1', '104.32.0.1', '8.8.8.8', '151.101.1.1', '2606:4800::1', '127.0.0.1', '10.0.0.1'],
  },
  cloudfront: {
    inside: ['130.176.88.1', '54.239.134.9', '64.252.64.1', '2600:9000:1000::1'],
    outside: ['13.32.0.1', '52.84.0.1', '2600:9000:2000::1', '8.8.8.8', '104.16.0.1'],
  },
  fastly: {
    inside: ['151.101.1.1', '199.232.1.1', '23.235.32.1', '2a04:4e42::1', '2a04:4e40:ffff::1'],
    outside: ['151.102.0.1', '104.16.0.1', '2a04:4e41::1', '8.8.8.8'],
  },
  'google-lb': {
    inside: ['35.191.0.1', '35.191.255.254', '130.211.0.1', '130.211.3.254', '2600:2d00:1:b029::1', '2600:2d00:1:1::9'],
    outside: ['130.211.4.1', '35.190.0.1', '8.8.8.8', '2600:2d00:1:2::1', '104.16.0.1'],
  },
}

afterEach(() => {
  vi.useRealTimers()
})

describe('provider presets', () => {
  it('are the four documented names, each with sources, a date and ranges', () => {
    expect(presetNames()).toEqual(['cloudflare', 'cloudfront', 'fastly', 'google-lb'])
    for (const info of presetInfo()) {
      expect(info.sources.length, info.name).toBeGreaterThan(0)
      for (const s of info.sources) expect(s).toMatch(/^https:\/\//)
      expect(info.taken).toMatch(/^20[0-9]{2}-[01][0-9]-[0-3][0-9]$/)
      expect(info.via, `${info.name} records where the first snapshot came from`).toMatch(/First snapshot/)
      expect(info.size).toBe(info.ipv4 + info.ipv6)
      expect(info.ipv4).toBeGreaterThan(0)
    }
    expect(presetInfo().find((p) => p.name === 'cloudflare')).toMatchObject({ size: 22, ipv4: 15, ipv6: 7 })
  })

  it.each(Object.keys(KNOWN))('%s holds its known addresses and not others', (name) => {
    const policy = parseTrustProxy(name)
    expect(policy.kind).toBe('ranges')
    expect(policy.toString()).toBe(name)
    for (const a of KNOWN[name]!.inside) expect(policy.trust(a, 0), `${a} in ${name}`).toBe(true)
    for (const a of KNOWN[name]!.outside) expect(policy.trust(a, 0), `${a} not in ${name}`).toBe(false)
  })

  it.each(Object.entries(DATA))('%s: every range in the data file is matched by the preset, and it trusts no private space', (name, data) => {
    const policy = parseTrustProxy(name)
    const each = parseTrustProxy([...data.ranges])
    for (const r of data.ranges) {
      const first = r.split('/')[0]!
      expect(policy.trust(first, 0), r).toBe(true)
      expect(each.trust(first, 0), r).toBe(true)
    }
    for (const a of ['127.0.0.1', '10.1.2.3', '192.168.1.1', '172.16.0.1', '::1', 'fd00::1', '169.254.1.1']) expect(policy.trust(a, 0)).toBe(false)
    expect(policy.warnings.filter((w) => w.code === 'trust-all')).toEqual([])
  })

  it('combine with other entries like loopback does, and the canonical form parses back', () => {
    const p = parseTrustProxy('loopback, Cloudflare  fastly,10.0.0.0/8')
    expect(p.toString()).toBe('loopback, cloudflare, fastly, 10.0.0.0/8')
    expect(parseTrustProxy(p.toString()).toString()).toBe(p.toString())
    expect(p.trust('127.0.0.1', 0) && p.trust('104.16.0.1', 0) && p.trust('151.101.0.1', 0) && p.trust('10.2.3.4', 0)).toBe(true)
    expect(p.trust('35.191.0.1', 0)).toBe(false)
    expect(parseTrustProxy(['loopback', 'cloudfront']).trust('130.176.88.1', 0)).toBe(true)
  })

  it('a repeated preset is a duplicate warning, like any entry', () => {
    const p = parseTrustProxy('cloudflare, cloudflare')
    expect(p.toString()).toBe('cloudflare')
    expect(p.warnings.map((w) => w.code)).toEqual(['duplicate'])
  })

  it('an entry covered by a preset is a nested warning', () => {
    const p = parseTrustProxy('cloudflare, 104.16.1.0/24')
    expect(p.warnings.map((w) => w.code)).toEqual(['nested'])
  })

  it.each(['akamai', 'cloudflare-v4', 'google', 'aws'])('an unknown name (%s) is a startup error listing the known names', (name) => {
    let err: unknown
    try {
      parseTrustProxy(`loopback, ${name}`)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(TrustProxyError)
    const e = err as TrustProxyError
    expect(e.entry).toBe(name)
    expect(e.position).toBe(10)
    expect(e.reason).toBe('unknown-word')
    for (const known of ['loopback', 'private', 'unix', 'cloudflare', 'cloudfront', 'fastly', 'google-lb']) expect(e.message).toContain(known)
  })

  it('data past its stated age makes the policy carry a preset-stale warning', () => {
    const fresh = parseTrustProxy('loopback, cloudflare, cloudfront, fastly, google-lb')
    expect(fresh.warnings.filter((w) => w.code === 'preset-stale')).toEqual([])
    // The clock moves past CloudFront's stated age only.
    const taken = Date.parse(cloudfront.taken + 'T00:00:00Z')
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(taken + (presetStaleDays('cloudfront') + 1) * 86_400_000)
    const p = parseTrustProxy('loopback, cloudfront')
    const stale = p.warnings.filter((w) => w.code === 'preset-stale')
    expect(stale).toHaveLength(1)
    expect(stale[0]!.entry).toBe('cloudfront')
    expect(stale[0]!.message).toContain(cloudfront.taken)
    expect(stale[0]!.message).toContain('refreshPresets()')
    expect(presetInfo().find((i) => i.name === 'cloudfront')!.stale).toBe(true)
    // The policy still trusts the ranges: a warning, never an error.
    expect(p.trust('130.176.88.1', 0)).toBe(true)
    // Exactly at the limit it is not stale yet.
    vi.setSystemTime(taken + presetStaleDays('cloudfront') * 86_400_000)
    expect(parseTrustProxy('cloudfront').warnings).toEqual([])
  })

  it('the stated ages are the documented ones', () => {
    expect(Object.fromEntries(presetNames().map((n) => [n, presetStaleDays(n)]))).toEqual({ cloudflare: 365, cloudfront: 180, fastly: 365, 'google-lb': 730 })
  })
})
