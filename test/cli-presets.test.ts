/**
 * The command line knows the presets: `check` prints each named preset's size, date and source
 * (`--presets` lists them all), an unknown name fails with the known ones listed, and `resolve`
 * and `serve` say when a hop of the request is a provider's edge and which preset would trust it.
 */
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { presetInfo } from '../src/index.js'
import { type ServeProcess, ensureBuilt, runCli, startServe } from './support/cli-run.js'

beforeAll(ensureBuilt)

describe('check and the presets', () => {
  it('prints each preset the value names, with size, date and source', () => {
    const r = runCli(['check', 'loopback, cloudflare, fastly'])
    expect(r.code).toBe(0)
    const cf = presetInfo().find((p) => p.name === 'cloudflare')!
    expect(r.stdout).toContain(`preset:    cloudflare: Cloudflare, ${cf.size} ranges (${cf.ipv4} IPv4, ${cf.ipv6} IPv6), taken ${cf.taken} (${cf.ageDays} days old, stale after 365), from https://www.cloudflare.com/ips-v4 and https://www.cloudflare.com/ips-v6`)
    expect(r.stdout).toMatch(/preset: {4}fastly: Fastly, 21 ranges .* from https:\/\/api\.fastly\.com\/public-ip-list/)
    expect(r.stdout).not.toContain('cloudfront:')
    expect(r.stdout).toContain("canonical: TRUST_PROXY='loopback, cloudflare, fastly'")
  })

  it('--presets lists them all; --json gives stable keys', () => {
    const text = runCli(['check', '--presets'])
    expect(text.code).toBe(0)
    expect(text.stdout.trim().split('\n').map((l) => l.match(/preset: {4}([a-z-]+):/)?.[1])).toEqual(['cloudflare', 'cloudfront', 'fastly', 'google-lb'])
    const json = JSON.parse(runCli(['check', '--presets', '--json']).stdout)
    expect(json.presets.map((p: { name: string }) => p.name)).toEqual(['cloudflare', 'cloudfront', 'fastly', 'google-lb'])
    expect(json.presets[1]).toMatchObject({ name: 'cloudfront', size: 49, taken: presetInfo()[1]!.taken, stale: false, sources: ['https://ip-ranges.amazonaws.com/ip-ranges.json'] })
    const one = JSON.parse(runCli(['check', '--json', 'google-lb']).stdout)
    expect(one.presets).toHaveLength(1)
    expect(one.presets[0]).toMatchObject({ name: 'google-lb', stale_after_days: 730 })
  })

  it('an unknown preset name is invalid, and the message lists the known names', () => {
    const r = runCli(['check', 'loopback, akamai'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('akamai')
    expect(r.stderr).toContain('cloudflare, cloudfront, fastly, google-lb')
  })
})

describe('resolve and serve say when a hop is a provider edge', () => {
  it('resolve: the hop nginx appended is a Cloudflare address', () => {
    const r = runCli(['resolve', '--trust-proxy', 'loopback', '--remote', '127.0.0.1', '-H', 'X-Forwarded-For: 203.0.113.5, 104.16.0.9', '-H', 'X-Forwarded-Proto: https', '--json'])
    expect(r.code).toBe(0)
    const f = JSON.parse(r.stdout).findings.find((x: { code: string }) => x.code === 'provider-edge')
    expect(f).toMatchObject({ severity: 'info', title: 'This request came through Cloudflare', setting: "TRUST_PROXY='loopback, cloudflare'" })
    expect(f.detail).toContain('104.16.0.9')
  })

  it('resolve: no finding for a request with no provider hop', () => {
    const r = runCli(['resolve', '--trust-proxy', 'loopback', '--remote', '127.0.0.1', '-H', 'X-Forwarded-For: 203.0.113.5', '-H', 'X-Forwarded-Proto: https', '--json'])
    expect(JSON.parse(r.stdout).findings.map((x: { code: string }) => x.code)).not.toContain('provider-edge')
  })

  it('resolve --ip-header cf-connecting-ip shows the walk through X-Forwarded-For to the edge, then the header', () => {
    const args = ['resolve', '--trust-proxy', 'loopback', '--remote', '127.0.0.1', '--ip-header', 'cf-connecting-ip', '--json']
    const ok = JSON.parse(runCli([...args, '-H', 'X-Forwarded-For: 203.0.113.5, 104.16.0.9', '-H', 'CF-Connecting-IP: 203.0.113.5']).stdout)
    expect(ok.resolved).toMatchObject({ client: '203.0.113.5', source: 'cf-connecting-ip', trustedHops: 2 })
    expect(ok.walk.map((w: { from: string; role: string; address: string }) => [w.from, w.role, w.address])).toEqual([
      ['socket', 'proxy', '127.0.0.1'],
      ['x-forwarded-for', 'proxy', '104.16.0.9'],
      ['cf-connecting-ip', 'client', '203.0.113.5'],
      // Left of the edge hop, as in every walk: listed, not read (the trace lists what the reader found).
      ['x-forwarded-for', 'ignored', '203.0.113.5'],
    ])
    expect(ok.walk[1]).toMatchObject({ rule: 'edge', edge: 'cloudflare', trusted: true })
    expect(ok.walk[1].reason).toMatch(/the edge: inside the cloudflare ranges/)
    expect(ok.walk[2]).toMatchObject({ rule: 'edge-header', raw: '203.0.113.5', hop: 2 })
    expect(ok.walk[2].reason).toBe('written by the cloudflare edge at hop 1: the client it saw')
    expect(ok.walk[3].reason).toBe('left of the edge hop: not read (anyone can write these)')
    // Already reading Cloudflare's header: the provider-edge finding suggests no TRUST_PROXY change.
    const f = ok.findings.find((x: { code: string }) => x.code === 'provider-edge')
    expect(f.cause).toMatch(/^CF-Connecting-IP is read, and believed only when the walk reaches Cloudflare's ranges/)
    expect(f.setting).toBeUndefined()
    expect(f.detail).toMatch(/^Hop 1 of X-Forwarded-For, 104\.16\.0\.9, is inside the cloudflare preset/)
    expect(ok.trustProxy.meaning).toMatch(/through X-Forwarded-For .* CF-Connecting-IP is believed only when the walk reaches a cloudflare address/)
    const refused = JSON.parse(runCli([...args, '-H', 'X-Forwarded-For: 198.51.100.9', '-H', 'CF-Connecting-IP: 6.6.6.6']).stdout)
    expect(refused.resolved).toMatchObject({ client: '198.51.100.9', anomalies: expect.arrayContaining(['edge-header-untrusted']) })
    expect(refused.walk.map((w: { from: string; role: string }) => [w.from, w.role])).toEqual([
      ['socket', 'proxy'],
      ['x-forwarded-for', 'client'],
      ['cf-connecting-ip', 'ignored'],
    ])
    expect(refused.walk[1].reason).toMatch(/; not a cloudflare address, so CF-Connecting-IP is not believed$/)
    expect(refused.walk[2]).toMatchObject({ rule: 'not-from-edge', raw: '6.6.6.6', address: '6.6.6.6' })
    expect(refused.walk[2].reason).toBe('not believed: the request was not delivered by a cloudflare address')
  })

  it('resolve --ip-header cf-connecting-ip: the edge without its header, or with one that is not an address, is the client', () => {
    const args = ['resolve', '--trust-proxy', 'loopback', '--remote', '127.0.0.1', '--ip-header', 'cf-connecting-ip', '-H', 'X-Forwarded-For: 104.16.0.9', '--json']
    const missing = JSON.parse(runCli(args).stdout)
    expect(missing.resolved).toMatchObject({ client: '104.16.0.9', anomalies: expect.arrayContaining(['missing-edge-header']) })
    expect(missing.walk.map((w: { role: string; rule: string }) => [w.role, w.rule])).toEqual([['proxy', 'range'], ['client', 'edge']])
    expect(missing.walk[1].reason).toMatch(/but it sent no CF-Connecting-IP: the edge itself is the client/)
    expect(missing.findings.map((f: { code: string }) => f.code)).not.toContain('no-forwarded-for')
    const bad = JSON.parse(runCli([...args, '-H', 'CF-Connecting-IP: 6.6.6.6, 203.0.113.5']).stdout)
    expect(bad.resolved).toMatchObject({ client: '104.16.0.9', anomalies: expect.arrayContaining(['malformed-entry']) })
    expect(bad.walk.map((w: { from: string; role: string; rule: string }) => [w.from, w.role, w.rule])).toEqual([
      ['socket', 'proxy', 'range'],
      ['x-forwarded-for', 'client', 'edge'],
      ['cf-connecting-ip', 'malformed', 'malformed'],
    ])
    expect(bad.walk[2]).toMatchObject({ raw: '6.6.6.6, 203.0.113.5', malformed: 'not-an-address' })
    expect(bad.findings.find((f: { code: string }) => f.code === 'malformed-entry').detail).toContain('6.6.6.6, 203.0.113.5')
  })

  it('resolve --ip-header fly-client-ip is a usage error: the command line cannot take its ranges', () => {
    const r = runCli(['resolve', '--trust-proxy', 'loopback', '--remote', '127.0.0.1', '--ip-header', 'fly-client-ip'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/fly-client-ip needs the ranges of the edge/)
  })

  describe('serve', () => {
    let s: ServeProcess
    beforeAll(async () => {
      s = await startServe(['--trust-proxy', 'loopback'])
    })
    afterAll(async () => {
      await s?.stop()
    })

    it('reports the delivering hop as a Fastly edge and the preset that would trust it', async () => {
      const body = await new Promise<string>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port: s.port, path: '/', headers: { accept: 'application/json', 'x-forwarded-for': '203.0.113.5, 151.101.1.1', 'x-forwarded-proto': 'https' }, agent: false },
          (res) => {
            let b = ''
            res.setEncoding('utf8').on('data', (d: string) => (b += d))
            res.on('end', () => resolve(b))
          },
        )
        req.on('error', reject)
        req.end()
      })
      const report = JSON.parse(body)
      expect(report.client).toBe('151.101.1.1')
      const f = report.findings.find((x: { code: string }) => x.code === 'provider-edge')
      expect(f).toMatchObject({ title: 'This request came through Fastly', setting: "TRUST_PROXY='loopback, fastly'" })
    })
  })
})
