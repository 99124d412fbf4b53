/**
 * docs/cdn.md and docs/opentelemetry.md stay true: their program blocks are the example files
 * byte for byte, the examples run and do what the pages say, the data table matches the shipped
 * presets, and each provider recipe resolves the client it promises (as data: no traffic goes to
 * any provider).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import { type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { parseTrustProxy, presetInfo, resolveClient } from '../src/index.js'
import { ROOT, ensureBuilt, freePort } from './support/cli-run.js'

const page = (name: string) => readFileSync(join(ROOT, 'docs', name), 'utf8')
const blocks = (md: string) => [...md.matchAll(/<!-- example: (\S+) -->\n```\w*\n([\s\S]*?)```/g)].map((m) => [m[1]!, m[2]!] as const)

describe.each(['cdn.md', 'opentelemetry.md'])('docs/%s', (name) => {
  it('every program block is its example file', () => {
    const found = blocks(page(name))
    expect(found.length).toBeGreaterThan(0)
    for (const [path, code] of found) expect(readFileSync(join(ROOT, path), 'utf8'), path).toBe(code)
  })
})

describe('docs/cdn.md: the data table is the shipped data', () => {
  it.each(presetInfo().map((p) => [p.name, p] as const))('%s', (name, p) => {
    const row = page('cdn.md').split('\n').find((l) => l.startsWith(`| \`${name}\` | ${p.size} (`))
    expect(row, `a row for ${name} with ${p.size} ranges`).toBeDefined()
    expect(row).toContain(`${p.size} (${p.ipv4} IPv4, ${p.ipv6} IPv6) | ${p.taken} |`)
    expect(page('cdn.md')).toContain(`| \`${name}\` | `)
    expect(page('cdn.md')).toMatch(new RegExp(`\\| \`${name}\` \\|[^\\n]*\\| ${p.staleAfterDays} days \\|`))
  })
})

let running: ChildProcess[] = []
afterEach(() => {
  for (const c of running) c.kill()
  running = []
})

function start(args: string[], env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; out: () => string }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  running.push(child)
  let out = ''
  let err = ''
  child.stdout!.on('data', (c) => (out += c))
  child.stderr!.on('data', (c) => (err += c))
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (ready.test(out + err)) {
        clearInterval(t)
        resolve({ child, out: () => out })
      }
    }, 20)
    child.once('exit', (code) => {
      clearInterval(t)
      reject(new Error(`exited ${code}: ${err}`))
    })
  })
}

function get(port: number, from: string, headers: Record<string, string>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, localAddress: from, headers, agent: false }, (res) => {
      let b = ''
      res.on('data', (c) => (b += c))
      res.on('end', () => resolve(b.startsWith('{') ? JSON.parse(b) : { body: b }))
    })
    req.on('error', reject)
  })
}

beforeAll(ensureBuilt)

describe('examples/cdn/cloudflare.mjs', () => {
  it('believes CF-Connecting-IP from the edge only (127.0.0.7 plays Cloudflare)', async () => {
    const port = await freePort()
    await start(['examples/cdn/cloudflare.mjs'], { PORT: String(port), CF_EDGE: '127.0.0.7/32', TRUST_PROXY: '' }, /listening/)
    expect(await get(port, '127.0.0.7', { 'cf-connecting-ip': '203.0.113.5' })).toEqual({ ip: '203.0.113.5', anomalies: [] })
    expect(await get(port, '127.0.0.20', { 'cf-connecting-ip': '6.6.6.6' })).toEqual({ ip: '127.0.0.20', anomalies: ['edge-header-untrusted'] })
  })

  it('by default the edge is the cloudflare preset: a loopback client cannot set the header', async () => {
    const port = await freePort()
    await start(['examples/cdn/cloudflare.mjs'], { PORT: String(port), TRUST_PROXY: 'loopback' }, /listening/)
    expect(await get(port, '127.0.0.20', { 'cf-connecting-ip': '6.6.6.6' })).toEqual({ ip: '127.0.0.20', anomalies: ['edge-header-untrusted'] })
  })
})

describe('examples/cdn/refresh.mjs', () => {
  let server: http.Server
  let base = ''
  const v4 = readFileSync(join(ROOT, 'test/fixtures/presets/cloudflare-ips-v4.txt'), 'utf8')
  const v6 = readFileSync(join(ROOT, 'test/fixtures/presets/cloudflare-ips-v6.txt'), 'utf8')
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/v4') res.end(v4 + '\n192.0.2.0/24')
      else if (req.url === '/v6') res.end(v6)
      else res.end('<html>maintenance</html>')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise((r) => server.close(r)))

  it('a refresh reaches the live policy; a failed one keeps the ranges and says why', async () => {
    process.env.TRUST_PROXY = 'loopback, cloudflare'
    const mod = await import(pathToFileURL(join(ROOT, 'examples/cdn/refresh.mjs')).href)
    delete process.env.TRUST_PROXY
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      expect(mod.live.trust('192.0.2.1', 1)).toBe(false)
      const ok = await mod.refresh({ names: ['cloudflare'], urls: { cloudflare: [`${base}/v4`, `${base}/v6`] } })
      expect(ok.ok).toBe(true)
      expect(log.mock.calls.flat().join('\n')).toMatch(/preset cloudflare: 23 ranges, taken .* \(changed\)/)
      expect(mod.live.trust('192.0.2.1', 1)).toBe(true)
      const bad = await mod.refresh({ names: ['cloudflare'], urls: { cloudflare: [`${base}/down`, `${base}/v6`] } })
      expect(bad.ok).toBe(false)
      expect(warn.mock.calls.flat().join('\n')).toMatch(/preset cloudflare not refreshed: .*not an IPv4 CIDR.*; still using the list taken/)
      expect(mod.live.trust('192.0.2.1', 1)).toBe(true)
      expect(mod.live.trust('104.16.0.1', 1)).toBe(true)
    } finally {
      log.mockRestore()
      warn.mockRestore()
    }
  })
})

describe('examples/opentelemetry/tracing.cjs', () => {
  it('spans carry the resolved client, not the forged entry', async () => {
    const port = await freePort()
    const s = await start(['--require', './examples/opentelemetry/tracing.cjs', 'examples/opentelemetry/server.cjs'], { PORT: String(port), TRUST_PROXY: '127.0.0.9/32' }, /listening/)
    await get(port, '127.0.0.20', { 'x-forwarded-for': '6.6.6.6' })
    await get(port, '127.0.0.9', { 'x-forwarded-for': '6.6.6.6, 203.0.113.5' })
    await vi.waitFor(() => expect(s.out().match(/'client\.address'/g)?.length).toBe(2), { timeout: 5000 })
    const addresses = [...s.out().matchAll(/'client\.address': '([^']+)'/g)].map((m) => m[1])
    expect(addresses).toEqual(['127.0.0.20', '203.0.113.5'])
    expect(s.out()).not.toContain('6.6.6.6')
  })
})

describe('docs/cdn.md recipes, as data', () => {
  const resolve = (trust: string, remote: string, xff: string, more: Record<string, string> = {}, options?: { header: string; edge?: string }) =>
    resolveClient(parseTrustProxy(trust), { remoteAddress: remote, headers: { 'x-forwarded-for': xff, 'x-forwarded-proto': 'https', ...more } }, options)

  it('CloudFront: TRUST_PROXY=cloudfront reads the viewer CloudFront appended', () => {
    expect(resolve('cloudfront', '130.176.88.17', '6.6.6.6, 203.0.113.5').ip).toBe('203.0.113.5')
    expect(resolve('loopback, cloudfront', '127.0.0.1', '6.6.6.6, 203.0.113.5, 130.176.88.17').ip).toBe('203.0.113.5')
    // A viewer-facing CloudFront address is not an origin-facing one.
    expect(resolve('cloudfront', '13.32.0.9', '203.0.113.5').ip).toBe('13.32.0.9')
  })

  it('Fastly: a shielded request passes both Fastly nodes; Fastly-Client-IP tied to the preset', () => {
    expect(resolve('fastly', '151.101.2.9', '203.0.113.5, 199.232.4.1').ip).toBe('203.0.113.5')
    expect(resolve('false', '151.101.2.9', '', { 'fastly-client-ip': '203.0.113.5' }, { header: 'fastly-client-ip', edge: 'fastly' }).ip).toBe('203.0.113.5')
    expect(resolve('false', '198.51.100.1', '', { 'fastly-client-ip': '6.6.6.6' }, { header: 'fastly-client-ip', edge: 'fastly' }).ip).toBe('198.51.100.1')
  })

  it('Google: name the forwarding rule too, or every client looks like the load balancer', () => {
    const xff = '6.6.6.6, 203.0.113.5, 203.0.113.10'
    expect(resolve('google-lb, 203.0.113.10', '35.191.8.4', xff).ip).toBe('203.0.113.5')
    expect(resolve('google-lb', '35.191.8.4', xff).ip).toBe('203.0.113.10')
  })
})
