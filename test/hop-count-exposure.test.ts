/**
 * A hop count on a server other hosts can reach is flagged: per request (the
 * `hop-count-public-peer` anomaly, for a public socket peer) and at startup (a warning for a
 * listener that is not loopback), in the node, Express and Fastify adapters and the CLI. Servers
 * listen on 0.0.0.0 and :: for real, and are reached over loopback only.
 */
import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import express from 'express'
import fastify from 'fastify'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { auditFields, decodeProxyHeader, parseTrustProxy, resolveClient } from '../src/index.js'
import { clientIp } from '../src/adapters/express.js'
import { fastifyClientIp } from '../src/adapters/fastify.js'
import { checkListener, listenerWarning } from '../src/adapters/node.js'
import { ensureBuilt, freePort, runCli, startServe } from './support/cli-run.js'

const CODE = 'hop-count-public-peer'

describe('per request: a public socket peer under a hop count', () => {
  const hops = parseTrustProxy('1')
  it.each([
    // peer, flagged
    ['192.0.2.2', true],
    ['203.0.113.5', true],
    ['8.8.8.8', true],
    ['::ffff:198.51.100.1', true],
    ['2001:db8::2', true],
    ['172.32.0.1', true], // just outside 172.16.0.0/12
    ['100.128.0.1', true], // just outside 100.64.0.0/10
    ['127.0.0.5', false],
    ['10.0.0.1', false],
    ['172.17.0.1', false], // the Docker bridge gateway
    ['192.168.1.10', false],
    ['100.64.0.1', false],
    ['169.254.0.1', false],
    ['fd00::2', false],
    ['fe80::1', false],
    ['::1', false],
    [undefined, false], // a Unix socket
  ] as const)('peer %s: flagged %s', (peer, flagged) => {
    const info = resolveClient(hops, { remoteAddress: peer, headers: { 'x-forwarded-for': '6.6.6.6' } })
    expect(info.anomalies.includes(CODE)).toBe(flagged)
    expect(auditFields(info).anomalies.includes(CODE)).toBe(flagged)
  })

  it('the direct client\'s forgery stays visible in the audit record', () => {
    const info = resolveClient(parseTrustProxy('1'), { remoteAddress: '192.0.2.2', headers: { 'x-forwarded-for': '6.6.6.6' } })
    expect(info).toMatchObject({ ip: '6.6.6.6', peer: '192.0.2.2', trustedHops: 1 })
    expect(info.anomalies).toContain(CODE)
  })

  it.each([
    // balancer (the TCP peer), PROXY source, flagged
    ['127.0.0.9', '203.0.113.7', false],
    ['10.0.0.2', '2001:db8::7', false],
    ['192.0.2.2', '203.0.113.7', true],
  ] as const)('behind the PROXY protocol the balancer %s decides, not the PROXY source %s: flagged %s', (balancer, source, flagged) => {
    const decoded = decodeProxyHeader(new TextEncoder().encode(`PROXY ${source.includes(':') ? 'TCP6' : 'TCP4'} ${source} ${source.includes(':') ? '2001:db8::1' : '10.0.0.1'} 40000 443\r\n`))
    if (decoded.kind !== 'header') throw new Error('no header')
    const info = resolveClient(hops, {
      remoteAddress: balancer,
      headers: { 'x-forwarded-for': '6.6.6.6' },
      proxyProtocol: { loadBalancer: balancer, header: decoded.header, balancerIsHop: true },
    })
    expect(info).toMatchObject({ ip: source, peer: balancer, source: 'proxy-protocol' })
    expect(info.anomalies.includes(CODE)).toBe(flagged)
  })

  it.each([['loopback'], ['false'], ['true'], ['192.0.2.2']])('no such anomaly under TRUST_PROXY=%s', (value) => {
    const info = resolveClient(parseTrustProxy(value), { remoteAddress: '192.0.2.2', headers: { 'x-forwarded-for': '6.6.6.6' } })
    expect(info.anomalies).not.toContain(CODE)
  })
})

describe('the listener rule', () => {
  const p = parseTrustProxy('2')
  it.each([
    [{ address: '0.0.0.0', port: 1 }, true],
    [{ address: '::', port: 1 }, true],
    [{ address: '10.1.2.3', port: 1 }, true],
    [{ address: '172.17.0.2', port: 1 }, true],
    [{ address: 'fd00::2', port: 1 }, true],
    [{ address: '127.0.0.1', port: 1 }, false],
    [{ address: '127.1.2.3', port: 1 }, false],
    [{ address: '::1', port: 1 }, false],
    [{ address: '::ffff:127.0.0.1', port: 1 }, false],
    ['/run/app.sock', false],
    [null, false],
  ] as const)('%j: warned %s', (address, warned) => {
    expect(listenerWarning(p, address) !== undefined).toBe(warned)
    expect(listenerWarning(parseTrustProxy('loopback'), address)).toBeUndefined()
  })
})

const closers: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const c of closers.splice(0)) await c()
})

function listenOn(server: http.Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port))
    closers.push(() => new Promise((r) => (server.closeAllConnections(), server.close(r))))
  })
}

function get(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode!))
      })
      .on('error', reject)
  })
}

describe('at startup: real servers on 0.0.0.0 and ::', () => {
  it.each([
    ['0.0.0.0', true],
    ['::', true],
    ['127.0.0.1', false],
  ])('node checkListener on %s warns: %s', async (host, warned) => {
    const got: string[] = []
    const server = http.createServer((_q, r) => r.end())
    // Before listening: the check waits for 'listening'.
    expect(checkListener(server, parseTrustProxy('1'), { warn: (m) => got.push(m) })).toBeUndefined()
    const port = await listenOn(server, host)
    expect(await get(port)).toBe(200)
    expect(got.length).toBe(warned ? 1 : 0)
    if (warned) expect(got[0]).toMatch(/TRUST_PROXY=1 is a hop count.*every interface.*TRUST_PROXY=loopback.*listen on 127\.0\.0\.1 only/)
    // Once per server; and never for a range.
    checkListener(server, parseTrustProxy('1'), { warn: (m) => got.push(m) })
    expect(got.length).toBe(warned ? 1 : 0)
    expect(checkListener(server, parseTrustProxy('loopback'), { warn: (m) => got.push(m) })).toBeUndefined()
  })

  it('node checkListener: a Unix socket listener is not warned about', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trust-proxy-listen-'))
    const got: string[] = []
    const server = http.createServer((_q, r) => r.end())
    await new Promise<void>((r) => server.listen(join(dir, 's.sock'), r))
    checkListener(server, parseTrustProxy('1'), { warn: (m) => got.push(m) })
    await new Promise((r) => server.close(r))
    rmSync(dir, { recursive: true, force: true })
    expect(got).toEqual([])
  })

  it('node checkListener defaults to a process warning with a code', async () => {
    const warnings: Error[] = []
    const onWarning = (w: Error) => warnings.push(w)
    process.on('warning', onWarning)
    const server = http.createServer((_q, r) => r.end())
    await listenOn(server, '0.0.0.0')
    checkListener(server, parseTrustProxy('1'))
    await new Promise((r) => setImmediate(r))
    process.off('warning', onWarning)
    expect(warnings.map((w) => [w.name, (w as { code?: string }).code])).toContainEqual(['TrustProxyWarning', 'TRUST_PROXY_HOP_COUNT_LISTENER'])
  })

  it.each([
    ['0.0.0.0', 1],
    ['::', 1],
    ['127.0.0.1', 0],
  ])('the Express middleware, app on %s: %i warning(s) over two requests', async (host, n) => {
    const got: string[] = []
    const app = express()
    app.use(clientIp(parseTrustProxy('1'), { warn: (m) => got.push(m) }))
    app.get('/', (req, res) => res.json({ ip: req.clientIp }))
    const port = await listenOn(http.createServer(app), host)
    await get(port)
    await get(port)
    expect(got.length).toBe(n)
  })

  it.each([
    ['0.0.0.0', 1],
    ['::', 1],
    ['127.0.0.1', 0],
  ])('the Fastify plugin, listening on %s: %i warning(s)', async (host, n) => {
    const got: string[] = []
    const policy = parseTrustProxy('1')
    const app = fastify({ trustProxy: policy.trust })
    await app.register(fastifyClientIp, { policy, warn: (m) => got.push(m) })
    app.get('/', async (request) => ({ ip: request.clientIp }))
    await app.listen({ host, port: 0 })
    closers.push(() => app.close())
    expect(got.length).toBe(n)
    if (n) expect(got[0]).toContain(`listens on ${host === '::' ? '[::]' : host}:`)
  })
})

describe('the CLI (serve) warns on a reachable listener', () => {
  beforeAll(ensureBuilt)

  it.each([
    ['0.0.0.0', true],
    ['[::]', true],
    ['127.0.0.1', false],
  ])('--listen %s:PORT --trust-proxy 1', async (host, warned) => {
    const port = await freePort()
    const s = await startServe(['--trust-proxy', '1'], {}, `${host}:${port}`)
    closers.push(() => s.stop())
    // The listening block ends with this line; the pipe may deliver it in several chunks.
    for (let i = 0; i < 200 && !s.stderr().includes('Stop with Ctrl-C'); i++) await new Promise((r) => setTimeout(r, 25))
    expect(/\[hop-count-listener\]/.test(s.stderr())).toBe(warned)
    if (warned) expect(s.stderr()).toContain('listen on 127.0.0.1 only')
  })
})

describe('the CLI (resolve) explains the anomaly', () => {
  beforeAll(ensureBuilt)

  it('a public peer under TRUST_PROXY=1 is an error finding with the fix', () => {
    const r = runCli(['resolve', '--json', '--remote', '192.0.2.2', '--trust-proxy', '1', '-H', 'X-Forwarded-For: 6.6.6.6'])
    const j = JSON.parse(r.stdout)
    expect(j.resolved.anomalies).toContain(CODE)
    const f = j.findings.find((x: { code: string }) => x.code === CODE)
    expect(f).toMatchObject({ severity: 'error' })
    expect(JSON.stringify(f)).toContain('listen on 127.0.0.1 only')
  })

  it('a loopback peer is not', () => {
    const r = runCli(['resolve', '--json', '--remote', '127.0.0.1', '--trust-proxy', '1', '-H', 'X-Forwarded-For: 6.6.6.6'])
    expect(JSON.parse(r.stdout).findings.map((x: { code: string }) => x.code)).not.toContain(CODE)
  })
})
