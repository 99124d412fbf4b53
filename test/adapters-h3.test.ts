/**
 * The h3 replacements on h3 2 (Node: h3's own `serve` with crossws for WebSocket upgrades, and
 * `toNodeHandler` for TLS and a Unix socket), over real loopback sockets: `getRequestIP`, `getRequestProtocol` and `getRequestHost` give the walked,
 * validated answer where h3's own, with `xForwardedFor` / `xForwardedProto` / `xForwardedHost`,
 * believe whatever the client wrote. (h3 2 on Bun and Deno: test/adapters-runtimes.test.ts.)
 */
import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { plugin as crossws } from 'crossws/server'
import { H3, type H3Event, defineWebSocketHandler, getRequestHost as h3Host, getRequestIP as h3Ip, getRequestProtocol as h3Protocol, serve } from 'h3'
import { toNodeHandler } from 'h3/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { h3ClientIp } from '../src/adapters/h3.js'
import { canonicalizeIp, parseTrustProxy, type TrustPolicy } from '../src/index.js'
import { ROOT, type RunningServer, getUnix, startProcess } from './support/runtimes.js'
import { badInputSuite, checkInfo, scenarioSuites } from './support/adapter-suites.js'
import { HOST, PROXY, type Scenario, close, get, listen, selfSignedCertificate } from './support/adapters-net.js'

function createApp(policy: TrustPolicy): H3 {
  const { getRequestIP, getRequestProtocol, getRequestHost, getClientInfo } = h3ClientIp(policy)
  const app = new H3()
  const report = (event: H3Event) => ({
    peer: event.runtime?.node?.req.socket.remoteAddress ?? null,
    ours: { ip: getRequestIP(event) ?? null, protocol: getRequestProtocol(event), host: getRequestHost(event), info: getClientInfo(event) },
    h3: {
      ip: h3Ip(event) ?? null,
      forwardedIp: h3Ip(event, { xForwardedFor: true }) ?? null,
      forwardedProtocol: h3Protocol(event, { xForwardedProto: true }),
      forwardedHost: h3Host(event, { xForwardedHost: true }),
    },
  })
  app.get('/', report)
  // h3's WebSocket handler (crossws): the upgrade request is an event like any other.
  app.get(
    '/ws',
    defineWebSocketHandler((event) => {
      const body = JSON.stringify(report(event))
      return {
        open(peer) {
          peer.send(body)
        },
      }
    }),
  )
  return app
}

/** h3's own server (srvx) with crossws for WebSocket upgrades, on a free port of `::`. */
async function serveWithWebSocket(policy: TrustPolicy) {
  const app = createApp(policy)
  const server = serve(app, {
    hostname: '::',
    port: 0,
    silent: true,
    plugins: [crossws({ resolve: async (req) => ((await app.fetch(req)) as unknown as { crossws: never }).crossws })],
  })
  await server.ready()
  return { port: Number(new URL(server.url!).port), stop: () => server.close(true) }
}

async function start(policy: TrustPolicy, tls?: { key: string; cert: string }) {
  const handler = toNodeHandler(createApp(policy))
  const server = tls ? (await import('node:https')).createServer(tls, handler) : http.createServer(handler)
  const port = await listen(server)
  return { server, port }
}

function check(body: any, s: Scenario): void {
  expect(canonicalizeIp(body.peer)).toBe(s.from)
  expect(body.ours.ip).toBe(s.expect.ip)
  expect(body.ours.protocol).toBe(s.expect.protocol)
  expect(body.ours.host).toBe(s.expect.host)
  checkInfo(body.ours.info, s)
  // h3's own getRequestIP without xForwardedFor is the socket peer, as ours is for a direct client.
  expect(canonicalizeIp(body.h3.ip)).toBe(s.from)
}

scenarioSuites('h3 2 (serve + crossws)', (value) => serveWithWebSocket(parseTrustProxy(value)), (body, s) => check(body, s), { ws: true })

describe("h3's own forwarded-header options, for comparison", () => {
  it('xForwardedFor/Proto/Host believe a direct client; the replacements do not', async () => {
    const app = await start(parseTrustProxy('127.0.0.9/32'))
    try {
      const body = await get({
        port: app.port,
        from: '127.0.0.77',
        headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.5', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' },
      })
      expect(body.h3).toMatchObject({ forwardedIp: '6.6.6.6', forwardedProtocol: 'https', forwardedHost: 'evil.example' })
      expect(body.ours).toMatchObject({ ip: '127.0.0.77', protocol: 'http', host: HOST })
    } finally {
      await close(app.server)
    }
  })
})

describe('h3 over TLS and on a Unix socket', () => {
  it('a TLS socket is https without any header', async () => {
    const cert = selfSignedCertificate()
    if (cert === undefined) throw new Error('openssl is needed for the TLS test: apt-get install -y openssl')
    const app = await start(parseTrustProxy('false'), cert)
    try {
      const body = await get({ port: app.port, from: '127.0.0.5', tls: true })
      expect(body.ours.protocol).toBe('https')
      expect(body.ours.ip).toBe('127.0.0.5')
    } finally {
      await close(app.server)
    }
  })

  it.each([
    ['unix', '203.0.113.5', 1],
    ['127.0.0.9/32', null, 0],
  ])('TRUST_PROXY=%s: a Unix socket peer has no address', async (value, ip, hops) => {
    const dir = mkdtempSync(join(tmpdir(), 'trust-proxy-h3-'))
    const path = join(dir, 'app.sock')
    const server = http.createServer(toNodeHandler(createApp(parseTrustProxy(value))))
    await new Promise<void>((r) => server.listen(path, r))
    try {
      const body = await getUnix(path, { 'x-forwarded-for': '203.0.113.5' })
      expect(body.ours.ip).toBe(ip)
      expect(body.ours.info.trustedHops).toBe(hops)
      expect(body.ours.info.peer).toBeUndefined()
    } finally {
      await close(server)
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('h3ClientIp(policy) setup', () => {
  it('refuses the raw TRUST_PROXY value at startup', () => {
    expect(() => h3ClientIp('1' as any)).toThrow(/parseTrustProxy/)
    expect(() => h3ClientIp(parseTrustProxy('1'), { header: 'bad header' })).toThrow(TypeError)
  })

  it('resolves each event once and never throws for client-written headers', async () => {
    const app = await start(parseTrustProxy(PROXY + '/32'))
    try {
      const body = await get({ port: app.port, from: PROXY, headers: { 'x-forwarded-for': ',,, ', 'x-forwarded-host': 'a b', 'x-forwarded-proto': 'gopher' } })
      expect(body.ours.ip).toBe(PROXY)
      expect(body.ours.protocol).toBe('http')
      expect(body.ours.host).toBe(HOST)
    } finally {
      await close(app.server)
    }
  })
})

describe('examples/frameworks/h3.mjs, run as a program', () => {
  let app: RunningServer
  beforeAll(async () => {
    app = await startProcess(process.execPath, [join(ROOT, 'examples', 'frameworks', 'h3.mjs')], { TRUST_PROXY: '127.0.0.9/32' })
  })
  afterAll(() => app?.stop())
  it('believes the proxy, not a forging client', async () => {
    expect(await get({ port: app.port, from: PROXY, headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https' } })).toEqual({ ip: '203.0.113.5', protocol: 'https' })
    expect(await get({ port: app.port, from: '::1', headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https' } })).toEqual({ ip: '::1', protocol: 'http' })
  })
})

badInputSuite(
  'h3',
  async (value) => {
    const app = await start(parseTrustProxy(value))
    return { port: app.port, stop: () => close(app.server) }
  },
  (body) => body.ours.info,
)
