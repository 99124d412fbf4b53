/**
 * The Express adapter on Express 5 + express-ws, over real loopback sockets: HTTP requests and
 * WebSocket upgrades from chosen source addresses. For valid input, Express's own `req.ip`,
 * `req.ips`, `req.protocol` and `req.hostname` agree with ours once Express is given the same
 * policy (`app.set('trust proxy', policy.trust)`), hop counts given as env strings included.
 */
import http from 'node:http'
import express from 'express'
import expressWs from 'express-ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clientIp } from '../src/adapters/express.js'
import { canonicalizeIp, parseTrustProxy, type TrustPolicy } from '../src/index.js'
import { PROXY, SCENARIOS, type Scenario, close, get, hostnameOf, listen, wsFirstMessage } from './support/adapters-net.js'

/** What a route reports: our result, Express's, and the socket peer as Node saw it. */
function report(req: express.Request) {
  return {
    peer: req.socket.remoteAddress,
    clientIp: req.clientIp ?? null,
    clientInfo: req.clientInfo,
    express: { ip: req.ip, ips: req.ips, protocol: req.protocol, hostname: req.hostname },
  }
}

interface App {
  server: http.Server
  port: number
  /** URLs of requests on which something read `req.client`. */
  clientReads: string[]
}

async function startApp(policy: TrustPolicy, expressTrust: unknown = policy.trust): Promise<App> {
  const app = express()
  const server = http.createServer(app)
  const { app: wsApp } = expressWs(app, server)
  app.set('trust proxy', expressTrust)
  const clientReads: string[] = []
  // A trap around our middleware: any read of req.client (Node's deprecated socket alias) is recorded.
  app.use((req, _res, next) => {
    const original = Object.getOwnPropertyDescriptor(req, 'client')
    Object.defineProperty(req, 'client', {
      configurable: true,
      get() {
        clientReads.push(req.url)
        return req.socket
      },
    })
    ;(req as any)._restoreClient = () => {
      delete (req as any).client
      if (original) Object.defineProperty(req, 'client', original)
    }
    next()
  })
  app.use(clientIp(policy))
  app.use((req, _res, next) => {
    ;(req as any)._restoreClient()
    next()
  })
  app.get('/', (req, res) => {
    res.json(report(req))
  })
  wsApp.ws('/ws', (ws, req) => {
    ws.send(JSON.stringify(report(req)))
  })
  const port = await listen(server)
  return { server, port, clientReads }
}

function checkOurs(body: any, s: Scenario): void {
  // The connection really came from the chosen source address.
  expect(canonicalizeIp(body.peer)).toBe(s.from)
  expect(body.clientIp).toBe(s.expect.ip)
  expect(body.clientInfo.ip).toBe(s.expect.ip)
  expect(body.clientInfo.peer).toBe(s.from)
  expect(body.clientInfo.trustedHops).toBe(s.expect.trustedHops)
  expect(body.clientInfo.protocol).toBe(s.expect.protocol)
  expect(body.clientInfo.host).toBe(s.expect.host)
  for (const code of s.expect.anomalies ?? []) expect(body.clientInfo.anomalies).toContain(code)
  if (!s.headers['x-forwarded-for']) expect(body.clientInfo.anomalies).not.toContain('forwarded-by-untrusted-peer')
}

function checkExpressAgrees(body: any): void {
  const info = body.clientInfo
  expect(canonicalizeIp(body.express.ip)).toBe(info.ip)
  expect(body.express.ips.map(canonicalizeIp)).toEqual(info.chain.slice(1).reverse())
  expect(body.express.protocol).toBe(info.protocol)
  expect(body.express.hostname).toBe(hostnameOf(info.host))
}

for (const [value, scenarios] of Object.entries(SCENARIOS)) {
  describe(`Express 5 + express-ws, TRUST_PROXY=${JSON.stringify(value)}`, () => {
    let app: App
    beforeAll(async () => {
      app = await startApp(parseTrustProxy(value))
    })
    afterAll(() => close(app?.server))

    for (const s of scenarios) {
      it(`HTTP: ${s.name} (from ${s.from})`, async () => {
        const body = await get({ port: app.port, from: s.from, headers: s.headers })
        checkOurs(body, s)
        if (s.valid) checkExpressAgrees(body)
        expect(app.clientReads).toEqual([])
      })

      it(`WebSocket: ${s.name} (from ${s.from})`, async () => {
        const body = await wsFirstMessage({ port: app.port, from: s.from, headers: s.headers })
        checkOurs(body, s)
        if (s.valid) checkExpressAgrees(body)
        expect(app.clientReads).toEqual([])
      })
    }
  })
}

describe('Express and the raw TRUST_PROXY string', () => {
  const apps: App[] = []
  afterAll(() => Promise.all(apps.map((a) => close(a.server))))

  it.each(['1', '2'])('app.set("trust proxy", %j) is an address to Express, not a hop count; policy.trust is', async (value) => {
    const policy = parseTrustProxy(value)
    const raw = await startApp(policy, value)
    apps.push(raw)
    const headers = { 'x-forwarded-for': '203.0.113.5, 198.51.100.6', 'x-forwarded-proto': 'https' }
    const body = await get({ port: raw.port, from: PROXY, headers })
    // Express compiled "1" into the address 0.0.0.1 (and "2" into 0.0.0.2): the proxy at
    // 127.0.0.9 is not trusted, so every client behind it would be logged as the proxy.
    expect(canonicalizeIp(body.express.ip)).toBe(PROXY)
    expect(body.express.protocol).toBe('http')
    // Our policy reads the same string as a hop count.
    expect(body.clientIp).toBe(value === '1' ? '198.51.100.6' : '203.0.113.5')

    const fixed = await startApp(policy)
    apps.push(fixed)
    const again = await get({ port: fixed.port, from: PROXY, headers })
    expect(canonicalizeIp(again.express.ip)).toBe(again.clientIp)
    expect(again.express.protocol).toBe('https')
  })
})

describe('clientIp(policy) setup', () => {
  it('refuses the raw TRUST_PROXY value at startup, not at the first request', () => {
    expect(() => clientIp('1' as any)).toThrow(/parseTrustProxy/)
    expect(() => clientIp(undefined as any)).toThrow(TypeError)
    expect(() => clientIp(parseTrustProxy('1'), { header: 'bad header' })).toThrow(TypeError)
  })

  it('resolves once per request: a second mount keeps the first result', async () => {
    const app = express()
    app.use(clientIp(parseTrustProxy('1')))
    app.use(clientIp(parseTrustProxy('false')))
    app.get('/', (req, res) => {
      res.json({ clientIp: req.clientIp })
    })
    const server = http.createServer(app)
    try {
      const port = await listen(server)
      const body = await get({ port, from: '127.0.0.12', headers: { 'x-forwarded-for': '198.51.100.1' } })
      expect(body.clientIp).toBe('198.51.100.1')
    } finally {
      await close(server)
    }
  })

  it('answers for a request with no usable headers at all', async () => {
    const app = express()
    app.use(clientIp(parseTrustProxy('127.0.0.9/32')))
    app.get('/', (req, res) => {
      res.json({ clientIp: req.clientIp, host: req.clientInfo?.host ?? null, anomalies: req.clientInfo?.anomalies })
    })
    const server = http.createServer(app)
    try {
      const port = await listen(server)
      const body = await get({ port, from: PROXY, headers: { host: 'bad host!', 'x-forwarded-for': ',,,' } })
      // Empty X-Forwarded-For items are malformed: the client is the last verified hop, the proxy.
      expect(body.clientIp).toBe(PROXY)
      expect(body.host).toBe(null)
      expect([...body.anomalies].sort()).toEqual(['invalid-host', 'malformed-entry', 'missing-forwarded-proto'])
    } finally {
      await close(server)
    }
  })
})
