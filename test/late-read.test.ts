/**
 * An IP read late is still the client's. Each server here reads the client after an await, from
 * a client that sent its request and hung up at once (so Node's `socket.remoteAddress` is
 * undefined by then), on the node, Express (with and without the middleware) and Fastify
 * adapters, for plain requests and WebSocket upgrades, under a range, a hop count and `unix`.
 * The answer must be the one an immediate read gives, and a closed TCP socket must never be
 * taken for a Unix socket (which `unix` and hop counts trust).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import tls from 'node:tls'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import express from 'express'
import fastify from 'fastify'
import { WebSocketServer } from 'ws'
import { afterEach, describe, expect, it } from 'vitest'
import { type ClientInfo, type TrustPolicy, parseTrustProxy } from '../src/index.js'
import { clientIp } from '../src/adapters/express.js'
import { fastifyClientIp } from '../src/adapters/fastify.js'
import { resolveRequest } from '../src/adapters/node.js'
import { selfSignedCertificate } from './support/adapters-net.js'

const PROXY = '127.0.0.9'
const later = (ms = 80) => new Promise((r) => setTimeout(r, ms))

const closers: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const c of closers.splice(0)) await c()
})

interface Seen {
  early: ClientInfo
  late: ClientInfo
  /** The socket had closed by the late read. */
  closedLate: boolean
  expressIp?: string | undefined
}

/** Sends one request (or an upgrade) and hangs up without waiting for an answer. */
function sendAndHangUp(target: { port?: number; path?: string }, from: string | undefined, xff: string | undefined, upgrade = false): void {
  const lines = [
    upgrade ? 'GET /ws HTTP/1.1' : 'GET /late HTTP/1.1',
    'Host: app.test',
    ...(upgrade ? ['Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='] : []),
    ...(xff === undefined ? [] : [`X-Forwarded-For: ${xff}`]),
    '',
    '',
  ]
  const socket = target.path
    ? net.connect({ path: target.path })
    : net.connect({ host: '127.0.0.1', port: target.port!, localAddress: from })
  socket.on('error', () => {})
  socket.on('connect', () => socket.end(lines.join('\r\n'), () => socket.destroy()))
}

function seenOnce(): { record: (s: Seen) => void; seen: Promise<Seen> } {
  let record!: (s: Seen) => void
  const seen = new Promise<Seen>((r) => (record = r))
  return { record, seen }
}

async function nodeServer(policy: TrustPolicy, host: string | { path: string }) {
  const { record, seen } = seenOnce()
  const server = http.createServer(async (req, res) => {
    const early = resolveRequest(policy, req)
    await later()
    record({ early, late: resolveRequest(policy, req), closedLate: req.socket.destroyed })
    res.end()
  })
  await new Promise<void>((r) => (typeof host === 'string' ? server.listen(0, host, r) : server.listen(host.path, r)))
  closers.push(() => new Promise((r) => (server.closeAllConnections(), server.close(r))))
  const addr = server.address()
  return { target: typeof addr === 'string' ? { path: addr } : { port: addr!.port }, seen }
}

const CASES = [
  // TRUST_PROXY, source, X-Forwarded-For, client
  ['127.0.0.9/32', PROXY, '6.6.6.6, 203.0.113.7', '203.0.113.7'],
  ['127.0.0.9/32', '127.0.0.5', '6.6.6.6', '127.0.0.5'],
  ['1', '127.0.0.5', undefined, '127.0.0.5'],
  ['1', PROXY, '6.6.6.6, 203.0.113.7', '203.0.113.7'],
  ['unix', '127.0.0.5', '6.6.6.6', '127.0.0.5'],
  ['unix, 127.0.0.9', PROXY, '203.0.113.7', '203.0.113.7'],
] as const

describe('node adapter: resolveRequest after an await, client gone', () => {
  it.each(CASES)('TRUST_PROXY=%s from %s (X-Forwarded-For %s) is %s early and late', async (value, from, xff, client) => {
    const s = await nodeServer(parseTrustProxy(value), '::')
    sendAndHangUp(s.target, from, xff)
    const seen = await s.seen
    expect(seen.closedLate).toBe(true)
    expect(seen.early.ip).toBe(client)
    expect(seen.late).toEqual(seen.early)
    expect(seen.late.anomalies).not.toContain('malformed-peer')
  })

  it('a real Unix socket is still a Unix socket when read late', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trust-proxy-late-'))
    closers.push(async () => rmSync(dir, { recursive: true, force: true }))
    const s = await nodeServer(parseTrustProxy('unix'), { path: join(dir, 'app.sock') })
    sendAndHangUp(s.target, undefined, '203.0.113.7')
    const seen = await s.seen
    expect(seen.early).toMatchObject({ ip: '203.0.113.7', peer: undefined, trustedHops: 1 })
    expect(seen.late).toEqual(seen.early)
  })
})

describe('WebSocket upgrades (ws, noServer): the upgrade request read after an await', () => {
  it.each(CASES)('TRUST_PROXY=%s from %s (X-Forwarded-For %s) is %s', async (value, from, xff, client) => {
    const policy = parseTrustProxy(value)
    const { record, seen } = seenOnce()
    const wss = new WebSocketServer({ noServer: true })
    const server = http.createServer()
    server.on('upgrade', async (req, socket) => {
      socket.on('error', () => {})
      // The client hangs up; the WebSocket library closes its side, as ws does on a close.
      socket.once('end', () => socket.destroy())
      const early = resolveRequest(policy, req)
      await later()
      record({ early, late: resolveRequest(policy, req), closedLate: req.socket.destroyed })
      socket.destroy()
    })
    await new Promise<void>((r) => server.listen(0, '::', r))
    closers.push(() => new Promise((r) => (wss.close(), server.closeAllConnections(), server.close(r))))
    sendAndHangUp({ port: (server.address() as net.AddressInfo).port }, from, xff, true)
    const s = await seen
    expect(s.closedLate).toBe(true)
    expect(s.late.ip).toBe(client)
    expect(s.late).toEqual(s.early)
  })
})

describe('Express: with the middleware, without it, and Express\'s own req.ip', () => {
  it.each(CASES)('TRUST_PROXY=%s from %s (X-Forwarded-For %s) is %s', async (value, from, xff, client) => {
    const policy = parseTrustProxy(value)
    const { record, seen } = seenOnce()
    const app = express()
    app.set('trust proxy', policy.trust)
    const mounted = express.Router()
    mounted.use(clientIp(policy))
    app.get('/late', async (req, res) => {
      await later()
      const late = resolveRequest(policy, req)
      // The middleware, run late, must agree too.
      await new Promise<void>((next) => mounted(req, res, () => next()))
      record({ early: req.clientInfo!, late, closedLate: req.socket.destroyed, expressIp: req.ip })
      res.end()
    })
    const server = http.createServer(app)
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    closers.push(() => new Promise((r) => (server.closeAllConnections(), server.close(r))))
    sendAndHangUp({ port: (server.address() as net.AddressInfo).port }, from, xff)
    const s = await seen
    expect(s.closedLate).toBe(true)
    expect(s.late.ip).toBe(client)
    expect(s.early).toEqual(s.late)
  })
})

describe('Fastify: request.clientIp and resolveRequest(request.raw), late', () => {
  it.each(CASES)('TRUST_PROXY=%s from %s (X-Forwarded-For %s) is %s', async (value, from, xff, client) => {
    const policy = parseTrustProxy(value)
    const { record, seen } = seenOnce()
    const app = fastify({ trustProxy: policy.trust })
    await app.register(fastifyClientIp, { policy })
    app.get('/late', async (request) => {
      await later()
      record({ early: request.clientInfo, late: resolveRequest(policy, request.raw), closedLate: request.raw.socket.destroyed })
      return ''
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    closers.push(() => app.close())
    sendAndHangUp({ port: (app.server.address() as net.AddressInfo).port }, from, xff)
    const s = await seen
    expect(s.closedLate).toBe(true)
    expect(s.late.ip).toBe(client)
    expect(s.early).toEqual(s.late)
  })
})

describe('HTTPS (a TLS socket wraps the accepted TCP socket)', () => {
  const cert = selfSignedCertificate()
  it.skipIf(cert === undefined)('the client of an HTTPS request read late is the client', async () => {
    const policy = parseTrustProxy('127.0.0.9/32')
    const { record, seen } = seenOnce()
    const server = https.createServer(cert!, async (req, res) => {
      const early = resolveRequest(policy, req)
      await later()
      record({ early, late: resolveRequest(policy, req), closedLate: req.socket.destroyed })
      res.end()
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    closers.push(() => new Promise((r) => (server.closeAllConnections(), server.close(r))))
    const port = (server.address() as net.AddressInfo).port
    const tcp = net.connect({ host: '127.0.0.1', port, localAddress: PROXY })
    tcp.on('error', () => {})
    const socket = tls.connect({ socket: tcp, rejectUnauthorized: false }, () =>
      socket.write('GET / HTTP/1.1\r\nHost: app.test\r\nX-Forwarded-For: 6.6.6.6, 203.0.113.7\r\n\r\n', () => socket.destroy()),
    )
    socket.on('error', () => {})
    const s = await seen
    expect(s.closedLate).toBe(true)
    expect(s.early).toMatchObject({ ip: '203.0.113.7', protocol: 'https' })
    expect(s.late).toEqual(s.early)
  })
})

describe('the hazard is real, and the capture is what removes it', () => {
  // Two fresh processes, same server and client: one never loads the library, one loads the node
  // adapter (which subscribes to net.server.socket). Node reports undefined in the first.
  const script = (withLibrary: boolean) => `
    ${withLibrary ? "require('@infram/trust-proxy/node');" : ''}
    const http = require('node:http'), net = require('node:net');
    const server = http.createServer(async (req, res) => {
      await new Promise((r) => setTimeout(r, 80));
      console.log(JSON.stringify({ closed: req.socket.destroyed, address: req.socket.remoteAddress ?? null }));
      server.close(); res.end();
    }).listen(0, '127.0.0.1', () => {
      const c = net.connect(server.address().port, '127.0.0.1', () => c.end('GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n', () => c.destroy()));
    });`
  it.each([
    [false, null],
    [true, '127.0.0.1'],
  ])('library loaded: %s, late remoteAddress: %s', async (withLibrary, address) => {
    const { execFileSync } = await import('node:child_process')
    const out = execFileSync(process.execPath, ['--no-experimental-require-module', '-e', script(withLibrary)], { encoding: 'utf8', timeout: 10_000 })
    expect(JSON.parse(out)).toEqual({ closed: true, address })
  })
})

describe('no request, no capture', () => {
  const policies = ['false', 'true', '1', 'unix', 'loopback'].map((v) => parseTrustProxy(v))
  it.each(policies.map((p) => [String(p), p] as const))('resolveRequest(%s, undefined / null / {}) does not throw', (_v, p) => {
    for (const req of [undefined, null, {}, { headers: null }, { socket: null, headers: {} }]) {
      const info = resolveRequest(p, req as never)
      expect(info.ip).toBeUndefined()
    }
  })

  it('a closed TCP socket nobody captured is an unknown peer, never a Unix socket', () => {
    // A socket-like object from outside a net.Server (nothing captured it), already closed.
    const closed = { remoteAddress: undefined, destroyed: true }
    for (const v of ['unix', '1', 'true']) {
      const info = resolveRequest(parseTrustProxy(v), { headers: { 'x-forwarded-for': '6.6.6.6' }, socket: closed })
      expect(info.ip).toBeUndefined()
      expect(info.anomalies).toContain('malformed-peer')
    }
    // Open and address-less (a Unix socket, or a stream that has no address): no address.
    const open = { remoteAddress: undefined, destroyed: false }
    expect(resolveRequest(parseTrustProxy('unix'), { headers: { 'x-forwarded-for': '203.0.113.7' }, socket: open }).ip).toBe('203.0.113.7')
  })
})
