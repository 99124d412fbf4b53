/**
 * The Fastify plugin on WebSocket upgrades: Fastify 5 + @fastify/websocket, over real loopback
 * sockets from chosen source addresses. @fastify/websocket sends each upgrade through Fastify's
 * router, so the plugin's `onRequest` hook must have resolved the client before the WebSocket
 * handler runs: an audit log written from the handler would otherwise record the wrong address.
 * Messages flow both ways on every connection, so the upgrade really completed.
 */
import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import fastifyWebsocket from '@fastify/websocket'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { fastifyClientIp } from '../src/adapters/fastify.js'
import { fastifyReport } from './support/fastify-report.js'
import { canonicalizeIp, parseTrustProxy } from '../src/index.js'
import { HOST, PROXY, type Expected } from './support/adapters-net.js'

const requireCjs = createRequire(import.meta.url)
const fastifyVersion = (requireCjs('fastify/package.json') as { version: string }).version
const websocketVersion = (requireCjs('@fastify/websocket/package.json') as { version: string }).version


/** Fastify given the same policy as the plugin, with one WebSocket route that reports and echoes. */
async function startApp(value: string): Promise<{ app: FastifyInstance; port: number }> {
  const policy = parseTrustProxy(value)
  const app = Fastify({ trustProxy: policy.trust })
  try {
    await app.register(fastifyWebsocket)
    await app.register(fastifyClientIp, { policy })
    app.get('/ws', { websocket: true }, (socket, request) => {
      socket.send(JSON.stringify(fastifyReport(request)))
      socket.on('message', (data) => socket.send(String(data)))
    })
    await app.listen({ port: 0, host: '::' })
  } catch (err) {
    await app.close()
    throw err
  }
  return { app, port: (app.server.address() as { port: number }).port }
}

/**
 * Opens a WebSocket from `from`, reads the server's report, sends a fresh token and waits for it
 * to come back, then closes. Resolves to the report and the echoed text.
 */
function wsRoundTrip(opts: { port: number; from: string; headers: Record<string, string> }) {
  const host = opts.from.includes(':') ? '[::1]' : '127.0.0.1'
  const token = `ping ${randomUUID()}`
  return new Promise<{ body: any; token: string; echo: string }>((resolve, reject) => {
    const ws = new WebSocket(`ws://${host}:${opts.port}/ws`, {
      localAddress: opts.from,
      headers: { host: HOST, ...opts.headers },
      handshakeTimeout: 10_000,
    } as WebSocket.ClientOptions)
    let body: any
    let echo: string | undefined
    const fail = (err: Error) => {
      clearTimeout(timer)
      ws.terminate()
      reject(err)
    }
    const timer = setTimeout(() => fail(new Error(`WebSocket round trip timed out (echo: ${echo})`)), 10_000)
    ws.on('message', (data) => {
      if (body === undefined) {
        try {
          body = JSON.parse(String(data))
        } catch (e) {
          return fail(e as Error)
        }
        ws.send(token)
      } else {
        echo = String(data)
        ws.close(1000)
      }
    })
    ws.once('close', () => {
      clearTimeout(timer)
      if (echo === undefined) reject(new Error('WebSocket closed before the echo'))
      else resolve({ body, token, echo })
    })
    ws.once('error', fail)
    ws.once('unexpected-response', (_req, res) => fail(new Error(`WebSocket upgrade refused: HTTP ${res.statusCode}`)))
  })
}

interface Case {
  name: string
  policy: string
  from: string
  headers: Record<string, string>
  expect: Expected
}

const CASES: Case[] = [
  {
    name: 'the proxy forwarding a client that forged the left of the header',
    policy: '127.0.0.9/32',
    from: PROXY,
    headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.5', 'x-forwarded-proto': 'https' },
    expect: { ip: '203.0.113.5', trustedHops: 1, protocol: 'https', host: HOST },
  },
  {
    name: 'a direct client forging X-Forwarded-For',
    policy: '127.0.0.9/32',
    from: '127.0.0.23',
    headers: { 'x-forwarded-for': '203.0.113.5' },
    expect: { ip: '127.0.0.23', trustedHops: 0, protocol: 'http', host: HOST, anomalies: ['forwarded-by-untrusted-peer'] },
  },
  {
    name: 'one hop from ::1: the right-most entry, not the forged left one',
    policy: '1',
    from: '::1',
    headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.4' },
    expect: { ip: '198.51.100.4', trustedHops: 1, protocol: 'http', host: HOST },
  },
]

describe(`Fastify ${fastifyVersion} + @fastify/websocket ${websocketVersion}: WebSocket upgrades`, () => {
  const apps = new Map<string, Promise<{ app: FastifyInstance; port: number }>>()
  // One app per policy, shared by the cases that use it.
  const appFor = (policy: string) => {
    if (!apps.has(policy)) apps.set(policy, startApp(policy))
    return apps.get(policy)!
  }
  afterAll(async () => {
    const started = await Promise.allSettled(apps.values())
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.app.close() : undefined)))
  })

  for (const c of CASES) {
    it(`TRUST_PROXY=${JSON.stringify(c.policy)}: ${c.name} (from ${c.from})`, async () => {
      const { port } = await appFor(c.policy)
      const { body, token, echo } = await wsRoundTrip({ port, from: c.from, headers: c.headers })
      expect(echo).toBe(token)

      expect(canonicalizeIp(body.peer)).toBe(c.from)
      expect(body.clientIp).toBe(c.expect.ip)
      expect(body.clientInfo.ip).toBe(c.expect.ip)
      expect(body.clientInfo.trustedHops).toBe(c.expect.trustedHops)
      expect(body.clientInfo.protocol).toBe(c.expect.protocol)
      expect(body.clientInfo.host).toBe(c.expect.host)
      for (const code of c.expect.anomalies ?? []) expect(body.clientInfo.anomalies).toContain(code)
      if (c.expect.trustedHops === 0) expect(body.clientInfo.source).toBe('socket')

      // Every header here is well formed, so Fastify, given the same policy, must agree.
      expect(canonicalizeIp(body.fastify.ip)).toBe(body.clientIp)
      expect(body.fastify.ips.map(canonicalizeIp)).toEqual(body.clientInfo.chain)
      expect(body.fastify.protocol).toBe(body.clientInfo.protocol)
      expect(body.fastify.host).toBe(body.clientInfo.host)
    })
  }
})
