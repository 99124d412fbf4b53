/**
 * The generator script and the runtime refresh, run against a local HTTP server on 127.0.0.1
 * that serves saved copies of the providers' lists (test/fixtures/presets/) and broken variants
 * of them: an HTML error page, an empty body, JSON cut short, a body over the size limit, a list
 * cut at a line boundary, a private range, a /0, an HTTP error and a server that never answers.
 * Every bad one must leave the ranges in use (and the data files) exactly as they were.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs'
import { type AddressInfo } from 'node:net'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fetchPreset, livePolicy, parseTrustProxy, presetInfo, refreshPresets, resolveClientIp, validatePresetRanges } from '../src/index.js'
import { createResolver } from '../src/adapters/node.js'
import { edgeHop } from '../src/cli/presets.js'
import { ROOT, ensureBuilt } from './support/cli-run.js'

const FIX = join(ROOT, 'test/fixtures/presets')
const fixture = (f: string) => readFileSync(join(FIX, f), 'utf8')
const CF4 = fixture('cloudflare-ips-v4.txt')
const CF6 = fixture('cloudflare-ips-v6.txt')
const AWS = fixture('aws-ip-ranges.json')
const FASTLY = fixture('fastly-public-ip-list.json')
const GOOGLE = fixture('google-firewall-rules.html')

const ROUTES: Record<string, (res: http.ServerResponse) => void> = {
  '/cf4': (res) => res.end(CF4),
  '/cf6': (res) => res.end(CF6),
  '/cf4-plus': (res) => res.end(CF4 + '\n203.0.113.0/24\n'),
  '/aws': (res) => res.end(AWS),
  '/fastly': (res) => res.end(FASTLY),
  '/google': (res) => res.end(GOOGLE),
  '/html': (res) => res.end('<!DOCTYPE html><html><body>Attention Required! | Cloudflare</body></html>'),
  '/empty': (res) => res.end(''),
  '/aws-cut': (res) => res.end(AWS.slice(0, Math.floor(AWS.length / 2))),
  '/cf4-cut-mid-line': (res) => res.end(CF4.slice(0, CF4.indexOf('162.158') + 5)),
  '/cf4-cut-at-line': (res) => res.end(CF4.split('\n').slice(0, 3).join('\n')),
  // Over Cloudflare's 64 KiB limit, sent without a Content-Length (chunked): refused while reading.
  '/huge': (res) => {
    res.write(CF4 + '\n')
    for (let k = 0; k < 200; k++) res.write('198.51.100.0/24\n'.repeat(64))
    res.end()
  },
  '/huge-declared': (res) => {
    res.setHeader('content-length', String(10 * 1024 * 1024))
    res.flushHeaders()
    res.end()
  },
  '/private': (res) => res.end(CF4 + '\n10.0.0.0/8'),
  '/wide': (res) => res.end(CF4 + '\n0.0.0.0/0'),
  '/fastly-private': (res) => res.end(JSON.stringify({ addresses: [...JSON.parse(FASTLY).addresses, '127.0.0.0/8'], ipv6_addresses: [] })),
  '/aws-no-service': (res) => res.end(JSON.stringify({ syncToken: '1', createDate: '2026-01-01-00-00-00', prefixes: [{ ip_prefix: '13.32.0.0/15', service: 'CLOUDFRONT' }], ipv6_prefixes: [] })),
  '/google-moved': (res) => res.end('<html><body>This page has moved. 0.0.0.0/0</body></html>'),
  '/500': (res) => {
    res.statusCode = 500
    res.end('oops')
  },
  '/hang': () => {},
}

let server: http.Server
let base = ''
const url = (p: string) => base + p

beforeAll(async () => {
  server = http.createServer((req, res) => (ROUTES[req.url ?? ''] ?? ((r) => ((r.statusCode = 404), r.end())))(res))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
})

const cloudflareUrls = (v4: string, v6 = '/cf6') => ({ cloudflare: [url(v4), url(v6)] })
const ranges = (name: string) => parseTrustProxy(name)

describe('fetchPreset against saved copies', () => {
  it.each([
    ['cloudflare', ['/cf4', '/cf6'], 22],
    ['cloudfront', ['/aws'], 49],
    ['fastly', ['/fastly'], 21],
    ['google-lb', ['/google'], 4],
  ] as const)('%s: the saved copy gives the shipped list', async (name, paths, size) => {
    const data = await fetchPreset(name, { urls: { [name]: paths.map(url) }, taken: '2026-12-01' })
    expect(data.ranges).toHaveLength(size)
    expect(data.taken).toBe('2026-12-01')
    const shipped = Object.values(await import(`../src/presets/data/${name}.ts`))[0] as { ranges: string[] }
    expect(data.ranges).toEqual(shipped.ranges)
  })

  it('google-lb keeps only Google load-balancer blocks from the page (not 10.129.0.0/23 or 0.0.0.0/0)', async () => {
    const data = await fetchPreset('google-lb', { urls: { 'google-lb': [url('/google')] } })
    expect(data.ranges).toEqual(['35.191.0.0/16', '130.211.0.0/22', '2600:2d00:1:b029::/64', '2600:2d00:1:1::/64'])
  })
})

describe('refreshPresets', () => {
  it('swaps in a valid new list: new policies and live policies use it, parsed ones keep theirs', async () => {
    const before = ranges('cloudflare')
    const live = livePolicy('loopback, cloudflare')
    expect(live.trust('203.0.113.9', 1)).toBe(false)
    const report = await refreshPresets({ names: ['cloudflare'], urls: cloudflareUrls('/cf4-plus') })
    expect(report).toMatchObject({ ok: true, results: [{ name: 'cloudflare', ok: true, changed: true, size: 23, previousSize: 22 }] })
    expect(ranges('cloudflare').trust('203.0.113.9', 0)).toBe(true)
    expect(live.trust('203.0.113.9', 1)).toBe(true)
    expect(live.current.toString()).toBe('loopback, cloudflare')
    // Everything that takes a policy takes the live one, and follows the refresh with it.
    const clientOf = createResolver(live, {})
    expect(clientOf({ headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' }, socket: { remoteAddress: '127.0.0.1' } }).ip).toBe('198.51.100.1')
    expect(resolveClientIp(live, '203.0.113.9', '198.51.100.1')).toBe('198.51.100.1')
    expect(String(live)).toBe('loopback, cloudflare')
    expect(live.kind).toBe('ranges')
    expect(before.trust('203.0.113.9', 0)).toBe(false)
    // The command line's "this hop is a provider's edge" finding follows the refresh too.
    const viaNew = clientOf({ headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' }, socket: { remoteAddress: '127.0.0.1' } })
    expect(edgeHop(viaNew)).toMatchObject({ hop: 1, address: '203.0.113.9', preset: 'cloudflare' })
    // And back to the saved copy.
    const back = await refreshPresets({ names: ['cloudflare'], urls: cloudflareUrls('/cf4') })
    expect(back.results[0]).toMatchObject({ ok: true, changed: true, size: 22 })
    expect(live.trust('203.0.113.9', 1)).toBe(false)
    expect(resolveClientIp(live, '203.0.113.9', '198.51.100.1')).toBe('203.0.113.9')
    expect(edgeHop({ ...viaNew, chain: ['127.0.0.1', '203.0.113.9'] })).toBeUndefined()
  })

  it('refreshes all four at once', async () => {
    const report = await refreshPresets({
      urls: { cloudflare: [url('/cf4'), url('/cf6')], cloudfront: [url('/aws')], fastly: [url('/fastly')], 'google-lb': [url('/google')] },
    })
    expect(report.ok).toBe(true)
    expect(report.results.map((r) => [r.name, r.ok, r.changed])).toEqual([
      ['cloudflare', true, false],
      ['cloudfront', true, false],
      ['fastly', true, false],
      ['google-lb', true, false],
    ])
    const today = new Date().toISOString().slice(0, 10)
    expect(presetInfo().every((p) => p.taken === today)).toBe(true)
  })

  it.each([
    ['an HTML error page', { cloudflare: ['/html', '/cf6'] }, /line 1 is not an IPv4 CIDR/],
    ['an empty body', { cloudflare: ['/empty', '/cf6'] }, /no ranges/],
    ['a list cut in the middle of a line', { cloudflare: ['/cf4-cut-mid-line', '/cf6'] }, /not an IPv4 CIDR|too wide|refused by the TRUST_PROXY parser/],
    ['a list cut at a line boundary', { cloudflare: ['/cf4-cut-at-line', '/cf6'] }, /looks cut short/],
    ['an oversized body (streamed)', { cloudflare: ['/huge', '/cf6'] }, /over the 65536-byte limit/],
    ['an oversized body (declared)', { cloudflare: ['/huge-declared', '/cf6'] }, /over the 65536-byte limit/],
    ['a private range', { cloudflare: ['/private', '/cf6'] }, /10\.0\.0\.0\/8 is too wide|private/],
    ['a whole address family', { cloudflare: ['/wide', '/cf6'] }, /too wide/],
    ['an HTTP error', { cloudflare: ['/500', '/cf6'] }, /HTTP 500/],
    ['JSON cut short', { cloudfront: ['/aws-cut'] }, /not JSON/],
    ['JSON without the service', { cloudfront: ['/aws-no-service'] }, /no CLOUDFRONT_ORIGIN_FACING prefixes/],
    ['loopback in a JSON list', { fastly: ['/fastly-private'] }, /private, loopback or link-local/],
    ['a page that is not Google\'s', { 'google-lb': ['/google-moved'] }, /does not list 35\.191\.0\.0\/16/],
    ['a refused connection', { cloudflare: ['http://127.0.0.1:1/ips-v4', '/cf6'] }, /127\.0\.0\.1:1/],
  ] as const)('refuses %s and keeps the ranges in use', async (_what, paths, reason) => {
    const name = Object.keys(paths)[0]!
    const urls = { [name]: (Object.values(paths)[0] as readonly string[]).map((p) => (p.startsWith('http') ? p : url(p))) }
    const before = presetInfo().find((p) => p.name === name)!
    const policyBefore = ranges(name)
    const report = await refreshPresets({ names: [name], urls })
    expect(report.ok).toBe(false)
    const r = report.results[0]!
    expect(r).toMatchObject({ name, ok: false, changed: false, size: before.size, previousSize: before.size, taken: before.taken })
    expect(r.error).toMatch(reason)
    const after = ranges(name)
    expect(after.toString()).toBe(policyBefore.toString())
    expect(presetInfo().find((p) => p.name === name)).toEqual(before)
    // Never trusting nothing or everything: the known edge is still in, the world still out.
    const probe = { cloudflare: '104.16.0.1', cloudfront: '130.176.88.1', fastly: '151.101.0.1', 'google-lb': '35.191.0.1' }[name]!
    expect(after.trust(probe, 0)).toBe(true)
    expect(after.trust('8.8.4.4', 0)).toBe(false)
  })

  it('gives up on a server that never answers, after the timeout', async () => {
    const t0 = Date.now()
    const report = await refreshPresets({ names: ['fastly'], urls: { fastly: [url('/hang')] }, timeoutMs: 300 })
    expect(report.results[0]).toMatchObject({ ok: false, error: expect.stringMatching(/timed out/) })
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(ranges('fastly').trust('151.101.0.1', 0)).toBe(true)
  })

  it('an unknown preset name is refused, naming the known ones', async () => {
    await expect(refreshPresets({ names: ['akamai'] })).rejects.toThrow(/cloudflare, cloudfront, fastly, google-lb/)
  })

  it('validatePresetRanges refuses what TRUST_PROXY refuses', () => {
    const src = { name: 'x', minRanges: 1, maxRanges: 10 }
    expect(validatePresetRanges(src, ['192.0.2.0/24', '2001:db8::/32'])).toEqual(['192.0.2.0/24', '2001:db8::/32'])
    expect(() => validatePresetRanges(src, ['010.0.0.0/8'])).toThrow(/TRUST_PROXY parser/)
    expect(() => validatePresetRanges(src, ['loopback'])).toThrow(/not a CIDR/)
    expect(() => validatePresetRanges(src, [])).toThrow(/fewer than/)
    expect(() => validatePresetRanges(src, Array.from({ length: 11 }, (_, k) => `192.0.${k}.0/24`))).toThrow(/more than/)
    expect(() => validatePresetRanges(src, ['::/0'])).toThrow(/too wide/)
    expect(() => validatePresetRanges(src, ['fe80::/64'])).toThrow(/private/)
  })
})

describe('scripts/update-presets.mjs', () => {
  const run = promisify(execFile)
  let out = ''
  const script = () => join(ROOT, 'scripts/update-presets.mjs')
  const dataDir = join(ROOT, 'src/presets/data')

  beforeAll(async () => {
    await ensureBuilt()
    out = mkdtempSync(join(tmpdir(), 'presets-'))
  })
  afterAll(() => rmSync(out, { recursive: true, force: true }))

  const allUrls = (overrides: Record<string, string> = {}) => {
    const u = { cloudflare: `${url('/cf4')},${url('/cf6')}`, cloudfront: url('/aws'), fastly: url('/fastly'), 'google-lb': url('/google'), ...overrides }
    return Object.entries(u).flatMap(([k, v]) => ['--url', `${k}=${v}`])
  }

  it('writes one data file per provider, with the source and the date', async () => {
    const { stdout } = await run(process.execPath, [script(), '--out', out, '--taken', '2026-11-30', ...allUrls()])
    expect(stdout).toMatch(/cloudflare: 22 ranges, taken 2026-11-30/)
    expect(readdirSync(out).sort()).toEqual(['cloudflare.ts', 'cloudfront.ts', 'fastly.ts', 'google-lb.ts'])
    for (const name of ['cloudflare', 'cloudfront', 'fastly', 'google-lb']) {
      const text = readFileSync(join(out, `${name}.ts`), 'utf8')
      expect(text).toContain('taken: "2026-11-30"')
      expect(text).toMatch(/sources: \["https:\/\//)
      // The same ranges as the shipped file (which the first snapshot wrote from the same copies).
      const listed = (t: string) => [...t.matchAll(/^    "([^"]+)",$/gm)].map((m) => m[1])
      expect(listed(text)).toEqual(listed(readFileSync(join(dataDir, `${name}.ts`), 'utf8')))
    }
  })

  it.each([
    ['a malformed body', { cloudflare: `${url('/html')},${url('/cf6')}` }],
    ['an empty body', { fastly: url('/empty') }],
    ['a truncated body', { cloudfront: url('/aws-cut') }],
    ['an oversized body', { cloudflare: `${url('/huge')},${url('/cf6')}` }],
  ])('refuses %s and changes no data file', async (_what, overrides) => {
    for (const f of readdirSync(dataDir)) copyFileSync(join(dataDir, f), join(out, f))
    writeFileSync(join(out, 'fastly.ts'), readFileSync(join(out, 'fastly.ts'), 'utf8') + '// marker\n')
    const before = Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f), 'utf8')]))
    const err = await run(process.execPath, [script(), '--out', out, ...allUrls(overrides)]).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    )
    expect(err?.code).toBe(1)
    expect(err?.stderr).toMatch(/Refused; no data file was changed/)
    const after = Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f), 'utf8')]))
    expect(after).toEqual(before)
  })
})
