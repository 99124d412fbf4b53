/**
 * The node adapter on `node:http` and `node:https`, with the `ws` library for upgrades, over
 * real loopback sockets (and a Unix domain socket, as nginx's `proxy_pass http://unix:`).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { createResolver, resolveRequest } from '../src/adapters/node.js'
import { auditFields, canonicalizeIp, parseTrustProxy, type TrustPolicy } from '../src/index.js'
import { PROXY, SCENARIOS, close, get, listen, selfSignedCertificate, wsFirstMessage } from './support/adapters-net.js'

/** A server that answers every request, and every WebSocket upgrade, with resolveRequest's result. */
function createServers(policy: TrustPolicy, tls?: { key: string; cert: string }) {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ peer: req.socket.remoteAddress ?? null, info: resolveRequest(policy, req) }))
  }
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler)
  const wss = new WebSocketServer({ noServer: true })
  server.on('upgrade', (req, socket, head) => {
    // Resolved on the upgrade request itself, before the handshake: what an audit log records.
    const info = resolveRequest(policy, req)
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(JSON.stringify({ peer: req.socket.remoteAddress ?? null, info, audit: auditFields(info) }))
    })
  })
  return { server, wss }
}

for (const [value, scenarios] of Object.entries(SCENARIOS)) {
  describe(`node:http + ws, TRUST_PROXY=${JSON.stringify(value)}`, () => {
    let servers: ReturnType<typeof createServers>
    let port: number
    beforeAll(async () => {
      servers = createServers(parseTrustProxy(value))
      port = await listen(servers.server)
    })
    afterAll(async () => {
      servers?.wss.close()
      await close(servers?.server)
    })

    for (const s of scenarios) {
      for (const transport of ['HTTP', 'WebSocket'] as const) {
        it(`${transport}: ${s.name} (from ${s.from})`, async () => {
          const body =
            transport === 'HTTP'
              ? await get({ port, from: s.from, headers: s.headers })
              : await wsFirstMessage({ port, from: s.from, headers: s.headers })
          expect(canonicalizeIp(body.peer)).toBe(s.from)
          expect(body.info.ip).toBe(s.expect.ip)
          expect(body.info.peer).toBe(s.from)
          expect(body.info.trustedHops).toBe(s.expect.trustedHops)
          expect(body.info.protocol).toBe(s.expect.protocol)
          expect(body.info.host).toBe(s.expect.host)
          for (const code of s.expect.anomalies ?? []) expect(body.info.anomalies).toContain(code)
          if (transport === 'WebSocket') {
            expect(body.audit.client_ip).toBe(s.expect.ip)
            expect(body.audit.peer_ip).toBe(s.from)
            expect(body.audit.forwarded_chain[body.audit.trusted_hops]).toBe(s.expect.ip)
          }
        })
      }
    }
  })
}

describe('node:https + wss: the protocol comes from the TLS socket', () => {
  const tls = selfSignedCertificate()
  let servers: ReturnType<typeof createServers> | undefined
  let port: number
  beforeAll(async () => {
    if (tls === undefined) return
    servers = createServers(parseTrustProxy('127.0.0.9/32'), tls)
    port = await listen(servers.server)
  })
  afterAll(async () => {
    servers?.wss.close()
    await close(servers?.server)
  })

  it('has a certificate (openssl)', (ctx) => {
    if (tls === undefined) {
      if (process.env.CI) throw new Error('openssl is required for the TLS tests: apt-get install -y openssl')
      ctx.skip('openssl not found: install it (apt-get install -y openssl) to run the TLS tests')
    }
    expect(tls!.cert).toContain('BEGIN CERTIFICATE')
  })

  const cases: { name: string; from: string; headers: Record<string, string>; ip: string; protocol: string }[] = [
    { name: 'a direct client over TLS is https', from: '127.0.0.5', headers: {}, ip: '127.0.0.5', protocol: 'https' },
    {
      name: 'a direct client cannot downgrade it with X-Forwarded-Proto',
      from: '127.0.0.6',
      headers: { 'x-forwarded-proto': 'http' },
      ip: '127.0.0.6',
      protocol: 'https',
    },
    {
      name: 'the trusted proxy may say the client used http',
      from: PROXY,
      headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'http' },
      ip: '203.0.113.5',
      protocol: 'http',
    },
  ]
  for (const c of cases) {
    for (const transport of ['HTTPS', 'WSS'] as const) {
      it(`${transport}: ${c.name}`, async (ctx) => {
        if (tls === undefined) ctx.skip('openssl not found')
        const body =
          transport === 'HTTPS'
            ? await get({ port, from: c.from, headers: c.headers, tls: true })
            : await wsFirstMessage({ port, from: c.from, headers: c.headers, tls: true })
        expect(body.info.ip).toBe(c.ip)
        expect(body.info.protocol).toBe(c.protocol)
      })
    }
  }
})

describe('a Unix domain socket peer (no address)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trust-proxy-unix-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  async function viaUnixSocket(value: string, xff: string): Promise<any> {
    const path = join(dir, `${value.replace(/\W/g, '_')}.sock`)
    const { server, wss } = createServers(parseTrustProxy(value))
    try {
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve))
      return await new Promise((resolve, reject) => {
        const req = http.request({ socketPath: path, path: '/', headers: { 'x-forwarded-for': xff, host: 'gateway.test' } }, (res) => {
          let body = ''
          res.on('data', (c) => (body += c))
          res.on('end', () => resolve(JSON.parse(body)))
        })
        req.on('error', reject)
        req.end()
      })
    } finally {
      wss.close()
      await close(server)
    }
  }

  it('is trusted when TRUST_PROXY names unix (nginx proxy_pass http://unix:...)', async () => {
    const body = await viaUnixSocket('unix', '203.0.113.5')
    expect(body.peer).toBe(null)
    expect(body.info.ip).toBe('203.0.113.5')
    expect(body.info.chain).toEqual([null, '203.0.113.5'])
  })

  it('is not trusted by an address list without unix: no client address at all', async () => {
    const body = await viaUnixSocket('127.0.0.9/32', '203.0.113.5')
    expect(body.info.ip).toBe(undefined)
    expect(body.info.anomalies).toContain('forwarded-by-untrusted-peer')
  })
})

describe('resolveRequest on requests a client shapes badly', () => {
  it('never throws for odd headers, and never returns header text', () => {
    const policy = parseTrustProxy('1')
    const odd = [
      { 'x-forwarded-for': ['198.51.100.1', '203.0.113.9'] },
      { 'x-forwarded-for': '\u0000\uffff, <script>' },
      { 'x-forwarded-for': 'x'.repeat(100_000) },
      { host: 'a b', 'x-forwarded-host': 'evil/path', 'x-forwarded-proto': 'javascript' },
      JSON.parse('{"__proto__": {"x-forwarded-for": "6.6.6.6"}}'),
      {},
    ]
    for (const headers of odd) {
      const info = resolveRequest(policy, { headers, socket: { remoteAddress: '::ffff:127.0.0.1' } })
      expect(info.ip === undefined || canonicalizeIp(info.ip) === info.ip).toBe(true)
      expect(info.host === undefined || /^[A-Za-z0-9.\-_~[\]:]+$/.test(info.host)).toBe(true)
    }
    expect(resolveRequest(policy, { headers: {}, socket: null }).ip).toBe(undefined)
  })

  it('createResolver checks the policy at setup', () => {
    expect(() => createResolver('1' as any)).toThrow(/parseTrustProxy/)
    const clientOf = createResolver(parseTrustProxy('loopback'))
    expect(clientOf({ headers: { 'x-forwarded-for': '203.0.113.1' }, socket: { remoteAddress: '::1' } }).ip).toBe('203.0.113.1')
  })
})
