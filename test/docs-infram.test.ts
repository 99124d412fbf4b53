/**
 * docs/infram.md and docs/rate-limiting.md: every program block is its examples/ file byte for
 * byte, the rate-limiting examples do what the page says on real servers, the topology table's
 * values resolve as it says, and the command line runs inside an Infram-like image as the page
 * shows it: with `node` on PATH and no npm or npx.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parseTrustProxy, resolveClient } from '../src/index.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const PAGES = ['docs/infram.md', 'docs/rate-limiting.md']
const PROXY = '127.0.0.9'

describe('program blocks are the example files', () => {
  it.each(PAGES)('%s', (page) => {
    const text = readFileSync(join(root, page), 'utf8')
    const markers = [...text.matchAll(/<!-- example: (\S+) -->\n```\w*\n([\s\S]*?)```\n/g)]
    expect(markers.length).toBeGreaterThanOrEqual(2)
    for (const [, file, block] of markers) expect(block, file).toBe(readFileSync(join(root, file!), 'utf8'))
    // No marker left without its block.
    expect(text.split('<!-- example:').length - 1).toBe(markers.length)
  })
})

const running: ChildProcess[] = []
afterEach(() => {
  for (const c of running.splice(0)) c.kill()
})

function startExample(file: string): Promise<number> {
  const child = spawn(process.execPath, [file], {
    cwd: root,
    env: { ...process.env, TRUST_PROXY: '127.0.0.9/32', PORT: '0', HOST: '::' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.push(child)
  let out = ''
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c))
  return new Promise((done, fail) => {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c
      const m = /listening on port (\d+)/.exec(out)
      if (m) done(Number(m[1]))
    })
    child.once('exit', (code) => fail(new Error(`${file} exited ${code}: ${err}`)))
  })
}

function login(port: number, from: string, xff?: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = http.request(
      {
        host: from.includes(':') ? '::1' : '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/auth/login',
        localAddress: from,
        agent: false,
        headers: xff ? { 'x-forwarded-for': xff } : {},
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (c: string) => (body += c))
        res.on('end', () => done({ status: res.statusCode!, body }))
      },
    )
    req.on('error', fail)
    req.end()
  })
}

async function codes(n: number, send: (i: number) => Promise<{ status: number }>): Promise<number[]> {
  const out: number[] = []
  for (let i = 1; i <= n; i++) out.push((await send(i)).status)
  return out
}
const TEN_THEN_429 = [...Array(10).fill(200), 429]

describe('docs/rate-limiting.md: the examples hold on real servers', () => {
  it.each([['examples/rate-limit/express.mjs'], ['examples/rate-limit/fastify.mjs']])('%s', async (file) => {
    const port = await startExample(file)
    // Forged left-hand entries from one client: ten pass, then 429.
    expect(await codes(11, (i) => login(port, PROXY, `10.0.0.${i}, 203.0.113.7`))).toEqual(TEN_THEN_429)
    // Another client behind the same proxy: its own bucket.
    const other = await login(port, PROXY, '203.0.113.8')
    expect(other.status).toBe(200)
    expect(JSON.parse(other.body).client).toBe('203.0.113.8')
    // A direct client forging headers is its own address.
    const direct = await login(port, '127.0.0.5', '6.6.6.6')
    expect(JSON.parse(direct.body).client).toBe('127.0.0.5')
    // IPv6 rotating inside one /64: one bucket.
    expect(await codes(11, (i) => login(port, PROXY, `2001:db8:7:7::${i.toString(16)}`))).toEqual(TEN_THEN_429)
    if (file.includes('express')) expect(JSON.parse((await login(port, PROXY, '2001:db8:8::1')).body).key).toBe('2001:db8:8::/56')
  })
})

describe("docs/infram.md: the topology table's values", () => {
  const xff = { 'x-forwarded-for': '6.6.6.6, 203.0.113.7' }
  it.each([
    // value, peer, client, what the page says
    ['loopback', '127.0.0.1', '203.0.113.7', 'host networking: nginx on 127.0.0.1 is trusted'],
    ['loopback', '172.17.0.1', '172.17.0.1', 'bridge: loopback trusts nothing, every user is the gateway'],
    ['172.17.0.1', '172.17.0.1', '203.0.113.7', 'bridge: the gateway is the proxy'],
    ['172.17.0.1', '172.17.0.5', '172.17.0.5', 'bridge: another container is not the proxy'],
    ['172.18.0.0/16', '172.18.0.3', '203.0.113.7', 'same network: the subnet trusts every container on it'],
    ['172.30.0.2', '172.30.0.2', '203.0.113.7', "Traefik's fixed address"],
    ['172.30.0.2', '172.30.0.9', '172.30.0.9', 'another container next to Traefik'],
    ['false', '203.0.113.9', '203.0.113.9', 'no proxy'],
  ])('TRUST_PROXY=%s, peer %s: %s (%s)', (value, peer, client) => {
    expect(resolveClient(parseTrustProxy(value), { remoteAddress: peer, headers: xff }).ip).toBe(client)
  })
})

describe('docs/infram.md: the command line in the image, without npx', () => {
  let app: string
  let bin: string
  beforeAll(() => {
    // An Infram-like image: WORKDIR /app with the package in node_modules, and node as the only
    // program on PATH (the image deletes npm, npx, corepack and yarn).
    app = mkdtempSync(join(tmpdir(), 'infram-image-'))
    mkdirSync(join(app, 'node_modules/@infram'), { recursive: true })
    symlinkSync(root, join(app, 'node_modules/@infram/trust-proxy'))
    bin = join(app, 'bin')
    mkdirSync(bin)
    symlinkSync(process.execPath, join(bin, 'node'))
  })
  afterAll(() => rmSync(app, { recursive: true, force: true }))

  const commands = () =>
    [...readFileSync(join(root, 'docs/infram.md'), 'utf8').matchAll(/^docker exec infram (.+)$/gm)].map((m) => m[1]!)

  it('the page shows the check and the resolve commands', () => {
    expect(commands()).toHaveLength(2)
    for (const c of commands()) expect(c).not.toMatch(/\bnpx\b|\bnpm\b/)
  })

  it('each runs with node alone, on the container\'s TRUST_PROXY', () => {
    const [check, resolveCmd] = commands()
    const run = (cmd: string) =>
      spawnSync('/bin/sh', ['-c', cmd], { cwd: app, encoding: 'utf8', env: { PATH: bin, TRUST_PROXY: '172.17.0.1' } })
    const c = run(check!)
    expect(c.stderr).toBe('')
    expect(c.status).toBe(0)
    expect(c.stdout).toContain('valid TRUST_PROXY="172.17.0.1"')
    const r = run(resolveCmd!)
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/client\s+203\.0\.113\.7/)
    expect(spawnSync('/bin/sh', ['-c', 'command -v npx || command -v npm'], { env: { PATH: bin } }).status).not.toBe(0)
  })
})
