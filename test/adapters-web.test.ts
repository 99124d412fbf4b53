/**
 * The Web adapter: `resolveWebRequest` and the Hono middleware on @hono/node-server, over real
 * loopback sockets, HTTP and WebSocket (the server's own `upgradeWebSocket` with `ws`), and TLS.
 */
import https from 'node:https'
import { createAdaptorServer, upgradeWebSocket } from '@hono/node-server'
import { getConnInfo } from '@hono/node-server/conninfo'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { type ClientIpVariables, honoClientIp, resolveWebRequest } from '../src/adapters/web.js'
import { canonicalizeIp, parseTrustProxy, type TrustPolicy } from '../src/index.js'
import { HOST, PROXY, SCENARIOS, close, get, listen, selfSignedCertificate, wsFirstMessage } from './support/adapters-net.js'

function createApp(policy: TrustPolicy) {
  const app = new Hono<{ Variables: ClientIpVariables }>()
  app.use('*', honoClientIp(policy, { getConnInfo }))
  const report = (c: any) => {
    const peer = getConnInfo(c).remote.address
    return {
      peer: peer ?? null,
      clientIp: c.get('clientIp') ?? null,
      info: c.get('clientInfo'),
      // The same request through the runtime-neutral function, with the peer passed in.
      web: resolveWebRequest(policy, c.req.raw, peer),
    }
  }
  app.get('/', (c) => c.json(report(c)))
  app.get(
    '/ws',
    upgradeWebSocket((c) => ({
      onOpen(_event, ws) {
        ws.send(JSON.stringify(report(c)))
      },
    })),
  )
  return app
}

async function start(policy: TrustPolicy, tls?: { key: string; cert: string }) {
  const app = createApp(policy)
  const wss = new WebSocketServer({ noServer: true })
  const server = createAdaptorServer({
    fetch: app.fetch,
    websocket: { server: wss as any },
    ...(tls ? { createServer: https.createServer, serverOptions: tls } : {}),
  }) as import('node:http').Server
  const port = await listen(server)
  return { server, wss, port }
}

for (const [value, scenarios] of Object.entries(SCENARIOS)) {
  describe(`Hono on @hono/node-server, TRUST_PROXY=${JSON.stringify(value)}`, () => {
    let s: Awaited<ReturnType<typeof start>>
    beforeAll(async () => {
      s = await start(parseTrustProxy(value))
    })
    afterAll(async () => {
      s?.wss.close()
      await close(s?.server)
    })

    for (const sc of scenarios) {
      for (const transport of ['HTTP', 'WebSocket'] as const) {
        it(`${transport}: ${sc.name} (from ${sc.from})`, async () => {
          const body =
            transport === 'HTTP'
              ? await get({ port: s.port, from: sc.from, headers: sc.headers })
              : await wsFirstMessage({ port: s.port, from: sc.from, headers: sc.headers })
          expect(canonicalizeIp(body.peer)).toBe(sc.from)
          expect(body.clientIp).toBe(sc.expect.ip)
          expect(body.info.trustedHops).toBe(sc.expect.trustedHops)
          expect(body.info.protocol).toBe(sc.expect.protocol)
          expect(body.info.host).toBe(sc.expect.host)
          for (const code of sc.expect.anomalies ?? []) expect(body.info.anomalies).toContain(code)
          expect(body.web).toEqual(body.info)
        })
      }
    }
  })
}

describe('Hono over TLS: the protocol comes from the Node socket', () => {
  const tls = selfSignedCertificate()
  let s: Awaited<ReturnType<typeof start>> | undefined
  beforeAll(async () => {
    if (tls) s = await start(parseTrustProxy('127.0.0.9/32'), tls)
  })
  afterAll(async () => {
    s?.wss.close()
    await close(s?.server)
  })

  it('a direct client over TLS is https, whatever it claims', async (ctx) => {
    if (tls === undefined) {
      if (process.env.CI) throw new Error('openssl is required for the TLS tests: apt-get install -y openssl')
      ctx.skip('openssl not found: install it (apt-get install -y openssl) to run the TLS tests')
    }
    for (const transport of ['HTTPS', 'WSS']) {
      const opts = { port: s!.port, from: '127.0.0.8', headers: { 'x-forwarded-proto': 'http' }, tls: true }
      const body = transport === 'HTTPS' ? await get(opts) : await wsFirstMessage(opts)
      expect(body.info.protocol).toBe('https')
      // A Web Request does not say it was TLS: without `encrypted`, resolveWebRequest says http.
      expect(body.web.protocol).toBe('http')
    }
  })
})

describe('resolveWebRequest', () => {
  const policy = parseTrustProxy('127.0.0.9/32')

  it('reads a Web Request and the peer the runtime reports', () => {
    const request = new Request('http://gateway.test/', {
      headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.5', 'x-forwarded-proto': 'https', host: HOST },
    })
    const info = resolveWebRequest(policy, request, PROXY)
    expect(info.ip).toBe('203.0.113.5')
    expect(info.protocol).toBe('https')
    expect(resolveWebRequest(policy, request, '127.0.0.10').ip).toBe('127.0.0.10')
    expect(resolveWebRequest(policy, request, undefined).ip).toBe(undefined)
  })

  it('takes the protocol from `encrypted`, never from the URL the client may have written', () => {
    const request = new Request('https://gateway.test/')
    expect(resolveWebRequest(policy, request, '127.0.0.10').protocol).toBe('http')
    expect(resolveWebRequest(policy, request, '127.0.0.10', { encrypted: true }).protocol).toBe('https')
  })

  it('honoClientIp checks its setup', () => {
    expect(() => honoClientIp('loopback' as any, { getConnInfo })).toThrow(/parseTrustProxy/)
    expect(() => honoClientIp(policy, {} as any)).toThrow(/getConnInfo/)
  })
})
