/**
 * The PROXY protocol listener on real sockets: node:net, node:http, node:https, ws, Express and
 * Fastify; the trust rule, the walk from the PROXY source, the limits, and fast-check on what a
 * client or a broken balancer can send.
 */
import { once } from 'node:events'
import { createRequire } from 'node:module'
import http from 'node:http'
import https from 'node:https'
import net, { type AddressInfo } from 'node:net'
import express from 'express'
import expressWs from 'express-ws'
import fastify from 'fastify'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { fastifyClientIp } from '../src/adapters/fastify.js'
import { clientIp } from '../src/adapters/express.js'
import { resolveRequest } from '../src/adapters/node.js'
import { acceptProxyProtocol, type ProxyProtocolOptions, type ProxyRejection, proxyConnectionOf } from '../src/adapters/proxy-protocol.js'
import { auditFields, decodeProxyHeader, parseTrustProxy, resolveClientIp, type TrustPolicy } from '../src/index.js'
import { selfSignedCertificate } from './support/adapters-net.js'
import { ensureBuilt } from './support/cli-run.js'
import { encodeV1, encodeV2, sslValue } from './support/proxy-header.js'
import { BALANCER, exchange, GET, jsonBodies, jsonBody, tlsExchange } from './support/proxy-protocol-net.js'

const open: net.Server[] = []
afterEach(async () => {
  for (const s of open.splice(0)) {
    ;(s as http.Server).closeAllConnections?.()
    await new Promise((r) => s.close(r))
  }
})

async function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
  open.push(server)
  server.listen(0, host)
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

/** An http server answering with resolveRequest's result and the audit record. */
async function httpServer(policy: TrustPolicy, options: Partial<ProxyProtocolOptions> = {}) {
  const rejections: ProxyRejection[] = []
  const server = http.createServer((req, res) => {
    const info = resolveRequest(policy, req)
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ info, audit: auditFields(info) }))
  })
  const listener = acceptProxyProtocol(server, { policy, onReject: (r) => rejections.push(r), ...options })
  const port = await listen(server)
  return { server, port, listener, rejections }
}

const LB = parseTrustProxy('127.0.0.9/32')

describe('node:http', () => {
  it('v1 and v2: the PROXY source is the client, the balancer is the peer, and the audit record says so', async () => {
    const { port, listener } = await httpServer(LB)
    for (const header of [encodeV1('203.0.113.7', '10.0.0.1', 50000, 443), encodeV2({ source: '203.0.113.7', sourcePort: 50000 })]) {
      const { info, audit } = jsonBody((await exchange(port, BALANCER, [header, GET('/', 'X-Forwarded-For: 6.6.6.6\r\n')])).text)
      expect(info).toMatchObject({ ip: '203.0.113.7', peer: BALANCER, chain: ['203.0.113.7'], trustedHops: 0, source: 'proxy-protocol' })
      // The source is not trusted, so its X-Forwarded-For (client-written) is ignored.
      expect(info.anomalies).toEqual(['forwarded-by-untrusted-peer'])
      expect(audit).toMatchObject({ client_ip: '203.0.113.7', peer_ip: BALANCER, forwarded_chain: ['203.0.113.7'], client_ip_source: 'proxy-protocol', proxy_source_ip: '203.0.113.7' })
      expect(info.proxyProtocol.header.source).toEqual({ address: '203.0.113.7', port: 50000 })
    }
    expect(listener.stats).toMatchObject({ accepted: 2, rejected: 0 })
  })

  it("the socket's remoteAddress becomes the PROXY source (as HAProxy's accept-proxy does); LOCAL keeps the balancer", async () => {
    const policy = parseTrustProxy('127.0.0.9/32, 198.51.100.0/24')
    const server = http.createServer((req, res) => {
      const s = req.socket
      res.end(JSON.stringify({ remoteAddress: s.remoteAddress, remotePort: s.remotePort, remoteFamily: s.remoteFamily, hot: resolveClientIp(policy, s.remoteAddress, req.headers['x-forwarded-for']), full: resolveRequest(policy, req).ip, lb: proxyConnectionOf(s)?.loadBalancer }))
    })
    acceptProxyProtocol(server, { policy })
    const port = await listen(server)
    const forged = GET('/', 'X-Forwarded-For: 6.6.6.6\r\n')
    expect(jsonBody((await exchange(port, BALANCER, [encodeV1('203.0.113.7', '10.0.0.1', 40000, 443), forged])).text)).toEqual({
      remoteAddress: '203.0.113.7', remotePort: 40000, remoteFamily: 'IPv4', hot: '203.0.113.7', full: '203.0.113.7', lb: BALANCER,
    })
    // Through a trusted edge, the hot path and resolveClient agree too.
    const edge = jsonBody((await exchange(port, BALANCER, [encodeV2({ source: '198.51.100.2' }), GET('/', 'X-Forwarded-For: 203.0.113.50\r\n')])).text)
    expect(edge).toMatchObject({ remoteAddress: '198.51.100.2', hot: '203.0.113.50', full: '203.0.113.50' })
    const v6 = jsonBody((await exchange(port, BALANCER, [encodeV2({ source: '2001:db8::7', family: 'ipv6', sourcePort: 1 }), GET()])).text)
    expect(v6).toMatchObject({ remoteAddress: '2001:db8::7', remotePort: 1, remoteFamily: 'IPv6' })
    const local = jsonBody((await exchange(port, BALANCER, [encodeV2({ command: 'local', family: 'unspec', transport: 'unspec' }), GET()])).text)
    expect(local).toMatchObject({ remoteAddress: BALANCER, full: BALANCER, lb: BALANCER })
  })

  it('a dual-stack server (::) sees the balancer as ::ffff:127.0.0.9 and still trusts it', async () => {
    const server = http.createServer((req, res) => res.end(JSON.stringify(resolveRequest(LB, req))))
    acceptProxyProtocol(server, { policy: LB })
    const port = await listen(server, '::')
    const info = jsonBody((await exchange(port, BALANCER, [encodeV1('203.0.113.7', '10.0.0.1'), GET()])).text)
    expect(info).toMatchObject({ ip: '203.0.113.7', peer: BALANCER })
  })

  it('header and request in one packet, or the header a byte at a time: the same answer', async () => {
    const { port } = await httpServer(LB)
    const header = encodeV2({ source: '2001:db8::7', family: 'ipv6', tlvs: [{ type: 2, value: 'gateway.test' }] })
    const whole = jsonBody((await exchange(port, BALANCER, [Buffer.concat([header, Buffer.from(GET())])])).text)
    const split = jsonBody((await exchange(port, BALANCER, [...Array.from(header, (b) => Buffer.from([b])), GET()], { gap: 1 })).text)
    expect(whole.info.ip).toBe('2001:db8::7')
    // Everything but the balancer's ephemeral port, which differs from one connection to the next.
    for (const r of [whole, split]) expect(r.info.proxyProtocol.loadBalancerPort).toBeGreaterThan(0)
    delete whole.info.proxyProtocol.loadBalancerPort
    delete split.info.proxyProtocol.loadBalancerPort
    expect(split.info).toEqual(whole.info)
  })

  it('the header is read once per connection: keep-alive requests all carry it', async () => {
    const { port, listener } = await httpServer(LB)
    const keep = 'GET /a HTTP/1.1\r\nHost: gateway.test\r\n\r\n'
    const { text } = await exchange(port, BALANCER, [encodeV1('198.51.100.2', '10.0.0.1'), keep + keep + GET('/c')])
    const bodies = jsonBodies(text)
    expect(bodies.map((b) => b.info.ip)).toEqual(['198.51.100.2', '198.51.100.2', '198.51.100.2'])
    expect(listener.stats.accepted).toBe(1)
  })

  it('LOCAL (health check) and UNSPEC/UNKNOWN: the TCP peer is the client', async () => {
    const { port, listener } = await httpServer(LB)
    for (const header of [encodeV2({ command: 'local', family: 'unspec', transport: 'unspec' }), encodeV2({ family: 'unspec', transport: 'unspec' }), 'PROXY UNKNOWN\r\n']) {
      const { info, audit } = jsonBody((await exchange(port, BALANCER, [header, GET()])).text)
      expect(info).toMatchObject({ ip: BALANCER, peer: BALANCER, source: 'socket' })
      expect(audit.proxy_source_ip).toBeNull()
    }
    expect(listener.stats).toMatchObject({ accepted: 3, local: 3 })
  })

  it('X-Forwarded-For is read only when the PROXY source is itself trusted', async () => {
    // A CDN edge (198.51.100.0/24) in front of the balancer: its X-Forwarded-For is believed.
    const policy = parseTrustProxy('127.0.0.9/32, 198.51.100.0/24')
    const { port } = await httpServer(policy)
    const trusted = jsonBody((await exchange(port, BALANCER, [encodeV1('198.51.100.2', '10.0.0.1'), GET('/', 'X-Forwarded-For: 6.6.6.6, 203.0.113.50\r\nX-Forwarded-Proto: https\r\n')])).text)
    expect(trusted.info).toMatchObject({ ip: '203.0.113.50', peer: BALANCER, chain: ['198.51.100.2', '203.0.113.50'], trustedHops: 1, source: 'x-forwarded-for', protocol: 'https' })
    expect(trusted.audit).toMatchObject({ peer_ip: BALANCER, proxy_source_ip: '198.51.100.2', client_ip_source: 'x-forwarded-for' })
    const untrusted = jsonBody((await exchange(port, BALANCER, [encodeV1('203.0.113.9', '10.0.0.1'), GET('/', 'X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\n')])).text)
    expect(untrusted.info).toMatchObject({ ip: '203.0.113.9', trustedHops: 0, protocol: 'http' })
  })

  it('a hop count: the balancer is its first hop (1 = the PROXY source; 2 = the entry behind it)', async () => {
    const one = await httpServer(parseTrustProxy('1'))
    const r1 = jsonBody((await exchange(one.port, BALANCER, [encodeV1('203.0.113.7', '10.0.0.1'), GET('/', 'X-Forwarded-For: 6.6.6.6\r\n')])).text)
    expect(r1.info).toMatchObject({ ip: '203.0.113.7', trustedHops: 0 })
    expect(one.listener.warnings.join()).toMatch(/trusts whoever connects/)
    const two = await httpServer(parseTrustProxy('2'))
    const r2 = jsonBody((await exchange(two.port, BALANCER, [encodeV1('198.51.100.2', '10.0.0.1'), GET('/', 'X-Forwarded-For: 6.6.6.6, 203.0.113.50\r\n')])).text)
    expect(r2.info).toMatchObject({ ip: '203.0.113.50', trustedHops: 1 })
  })

  it('a separate loadBalancer policy: the app policy describes only what is in front of the balancer', async () => {
    const policy = parseTrustProxy('198.51.100.0/24')
    const { port } = await httpServer(policy, { loadBalancer: LB })
    const r = jsonBody((await exchange(port, BALANCER, [encodeV1('198.51.100.2', '10.0.0.1'), GET('/', 'X-Forwarded-For: 203.0.113.50\r\n')])).text)
    expect(r.info).toMatchObject({ ip: '203.0.113.50', peer: BALANCER, chain: ['198.51.100.2', '203.0.113.50'] })
  })

  it('a balancer that ended TLS says so in the SSL TLV: the protocol is https', async () => {
    const { port } = await httpServer(LB)
    const r = jsonBody((await exchange(port, BALANCER, [encodeV2({ tlvs: [{ type: 0x20, value: sslValue(1, 0, [{ type: 0x21, value: 'TLSv1.3' }]) }] }), GET()])).text)
    expect(r.info).toMatchObject({ protocol: 'https' })
    expect(r.info.proxyProtocol.header.tlv.ssl).toEqual({ client: 1, verified: true, version: 'TLSv1.3' })
  })
})

describe('the trust rule and bad input: each failure closes that one connection and is counted once', () => {
  it('an untrusted peer is refused, with a header or without one', async () => {
    const { port, listener, rejections } = await httpServer(LB)
    expect((await exchange(port, '127.0.0.5', [encodeV1('203.0.113.7', '10.0.0.1'), GET()])).refused).toBe(true)
    expect((await exchange(port, '127.0.0.5', [GET()])).refused).toBe(true)
    expect(rejections).toEqual([
      expect.objectContaining({ reason: 'untrusted-peer', peer: '127.0.0.5' }),
      expect.objectContaining({ reason: 'untrusted-peer', peer: '127.0.0.5' }),
    ])
    expect(listener.stats).toMatchObject({ accepted: 0, rejected: 2, reasons: { 'untrusted-peer': 2 } })
  })

  it('a trusted peer without a header is refused unless requireHeader is false', async () => {
    const strict = await httpServer(LB)
    expect((await exchange(strict.port, BALANCER, [GET()])).refused).toBe(true)
    expect(strict.rejections.map((r) => r.reason)).toEqual(['missing-header'])
    const lax = await httpServer(LB, { requireHeader: false })
    const r = jsonBody((await exchange(lax.port, BALANCER, [GET('/', 'X-Forwarded-For: 203.0.113.50\r\n')])).text)
    expect(r.info).toMatchObject({ ip: '203.0.113.50', peer: BALANCER, chain: [BALANCER, '203.0.113.50'], source: 'x-forwarded-for' })
    expect(r.info.proxyProtocol.header).toBeUndefined()
    expect(lax.listener.stats).toMatchObject({ withoutHeader: 1, accepted: 0 })
    // Still: an untrusted peer is refused, and a header from a trusted one is read.
    expect((await exchange(lax.port, '127.0.0.5', [GET()])).refused).toBe(true)
    expect(jsonBody((await exchange(lax.port, BALANCER, [encodeV1('203.0.113.7', '10.0.0.1'), GET()])).text).info.ip).toBe('203.0.113.7')
  })

  it('malformed, oversized, wrong-signature, truncated and late headers each close their connection', async () => {
    const { port, listener, rejections } = await httpServer(LB, { headerTimeout: 300, maxHeaderSize: 1024 })
    const cases: [string, (string | Uint8Array)[], { end?: boolean }, string][] = [
      ['malformed v1', ['PROXY TCP4 1.2.3.999 10.0.0.1 1 2\r\n' + GET()], {}, 'v1-address'],
      ['v1 without CRLF', ['PROXY TCP4 ' + '1'.repeat(120)], {}, 'v1-too-long'],
      ['v2 too large', [encodeV2({ tlvs: [{ type: 4, value: Buffer.alloc(2000) }] })], {}, 'too-large'],
      ['v2 bad version', [Buffer.concat([encodeV2({}).subarray(0, 12), Buffer.from([0x31, 0x11, 0, 12])])], {}, 'v2-version'],
      ['wrong signature after a good start', ['\r\n\r\n\0\r\nQUIX\n'], {}, 'missing-header'],
      ['truncated, then the peer closes', [encodeV2({}).subarray(0, 20)], { end: true }, 'closed-early'],
      ['a slowloris on the header', ['PROXY TCP4 1.2'], {}, 'timeout'],
    ]
    for (const [name, chunks, opts, reason] of cases) {
      const before = rejections.length
      const started = Date.now()
      const r = await exchange(port, BALANCER, chunks, opts)
      expect(r.refused, name).toBe(true)
      expect(rejections.slice(before).map((x) => x.reason), name).toEqual([reason])
      if (reason === 'timeout') expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    }
    // The server keeps serving everyone else.
    expect(jsonBody((await exchange(port, BALANCER, [encodeV1('203.0.113.7', '10.0.0.1'), GET()])).text).info.ip).toBe('203.0.113.7')
    expect(listener.stats.rejected).toBe(cases.length)
    expect(listener.stats.accepted).toBe(1)
  })

  it('a throwing onReject does not take the server down', async () => {
    const { port } = await httpServer(LB, { onReject: () => { throw new Error('logger down') } })
    expect((await exchange(port, '127.0.0.5', [GET()])).refused).toBe(true)
    expect(jsonBody((await exchange(port, BALANCER, [encodeV1('203.0.113.7', '10.0.0.1'), GET()])).text).info.ip).toBe('203.0.113.7')
  })

  it('refuses bad options at setup, and a second listener on the same server', () => {
    const s = http.createServer()
    expect(() => acceptProxyProtocol(s, { policy: '127.0.0.9' as never })).toThrow(/parseTrustProxy/)
    expect(() => acceptProxyProtocol(s, { policy: LB, headerTimeout: 0 })).toThrow(/headerTimeout/)
    expect(() => acceptProxyProtocol(s, { policy: LB, maxHeaderSize: 50 })).toThrow(/maxHeaderSize/)
    expect(() => acceptProxyProtocol(s, { policy: LB, requireHeader: 'no' as never })).toThrow(/requireHeader/)
    acceptProxyProtocol(s, { policy: LB })
    expect(() => acceptProxyProtocol(s, { policy: LB })).toThrow(/already/)
  })
})

describe('node:https, node:net, ws, Express and Fastify', () => {
  const cert = selfSignedCertificate()

  it.runIf(cert !== undefined)('https: the header comes before the TLS handshake, in the same packet', async () => {
    const server = https.createServer({ key: cert!.key, cert: cert!.cert }, (req, res) =>
      res.end(JSON.stringify({ ...resolveRequest(LB, req), socketAddress: req.socket.remoteAddress })),
    )
    acceptProxyProtocol(server, { policy: LB })
    const port = await listen(server)
    for (const header of [encodeV1('203.0.113.7', '10.0.0.1'), encodeV2({ source: '2001:db8::7', family: 'ipv6' })]) {
      const info = jsonBody(await tlsExchange(port, BALANCER, header, GET(), cert!.cert, 'localhost'))
      expect(info).toMatchObject({ peer: BALANCER, source: 'proxy-protocol', protocol: 'https' })
      expect(info.ip).toBe(header instanceof Uint8Array ? '2001:db8::7' : '203.0.113.7')
      // The TLSSocket reports the PROXY source as its peer too.
      expect(info.socketAddress).toBe(info.ip)
    }
  })

  it('a Unix socket server: the peer has no address, trusted only when the policy names unix', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const dir = mkdtempSync(join(tmpdir(), 'trust-proxy-pp-unix-'))
    try {
      for (const [value, served] of [['unix', true], ['127.0.0.9/32', false]] as const) {
        const policy = parseTrustProxy(value)
        const server = http.createServer((req, res) => res.end(JSON.stringify(resolveRequest(policy, req))))
        acceptProxyProtocol(server, { policy })
        const path = join(dir, `${value.replace(/\W/g, '')}.sock`)
        open.push(server)
        server.listen(path)
        await once(server, 'listening')
        const text = await new Promise<string>((resolve) => {
          const c = net.connect(path)
          let out = ''
          c.on('error', () => {}) // EPIPE when refused: the close below says it
          c.on('connect', () => c.write(encodeV1('203.0.113.7', '10.0.0.1') + GET()))
          c.on('data', (d) => (out += d))
          c.on('close', () => resolve(out))
        })
        if (served) {
          const info = jsonBody(text)
          expect(info).toMatchObject({ ip: '203.0.113.7', source: 'proxy-protocol' })
          expect(info.peer).toBeUndefined() // the balancer on a Unix socket has no address
        }
        else expect(text).toBe('')
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('net: a plain TCP server sees the header on the socket and the bytes after it', async () => {
    const server = net.createServer((socket) => {
      socket.once('data', (d) => socket.end(JSON.stringify({ pc: proxyConnectionOf(socket)?.header?.source, first: d.toString() })))
    })
    acceptProxyProtocol(server, { policy: LB })
    const port = await listen(server)
    const r = JSON.parse((await exchange(port, BALANCER, [encodeV2({ source: '203.0.113.7', sourcePort: 4000 }), 'SSH-2.0-x\r\n'])).text)
    expect(r).toEqual({ pc: { address: '203.0.113.7', port: 4000 }, first: 'SSH-2.0-x\r\n' })
  })

  it('ws: the upgrade request of a WebSocket carries the PROXY source', async () => {
    const server = http.createServer()
    const wss = new WebSocketServer({ server })
    wss.on('connection', (ws, req) => ws.send(JSON.stringify(resolveRequest(LB, req))))
    acceptProxyProtocol(server, { policy: LB })
    const port = await listen(server)
    const raw = net.connect({ port, host: '127.0.0.1', localAddress: BALANCER })
    await once(raw, 'connect')
    raw.write(encodeV1('203.0.113.7', '10.0.0.1'))
    const ws = new WebSocket(`ws://gateway.test:${port}/`, { createConnection: () => raw })
    const [msg] = await once(ws, 'message')
    ws.close()
    expect(JSON.parse(String(msg))).toMatchObject({ ip: '203.0.113.7', peer: BALANCER, source: 'proxy-protocol' })
    wss.close()
  })

  it('express-ws: a terminal stream (app.ws) is attributed to the PROXY source, like the login', async () => {
    const app = express()
    const server = http.createServer(app)
    const { app: wsApp } = expressWs(app, server)
    app.use(clientIp(LB))
    wsApp.ws('/terminal', (ws, req) => ws.send(JSON.stringify({ ip: (req as { clientIp?: string }).clientIp, peer: (req as { clientInfo?: { peer?: string } }).clientInfo?.peer })))
    acceptProxyProtocol(server, { policy: LB })
    const port = await listen(server)
    const raw = net.connect({ port, host: '127.0.0.1', localAddress: BALANCER })
    await once(raw, 'connect')
    raw.write(encodeV2({ source: '203.0.113.7' }))
    const ws = new WebSocket(`ws://gateway.test:${port}/terminal`, { createConnection: () => raw })
    const [msg] = await once(ws, 'message')
    ws.close()
    expect(JSON.parse(String(msg))).toEqual({ ip: '203.0.113.7', peer: BALANCER })
  })

  it('Express (clientIp middleware) and Fastify (plugin) pick it up from the socket', async () => {
    const app = express()
    app.set('trust proxy', LB.trust)
    app.use(clientIp(LB))
    app.get('/', (req, res) => res.json({ ip: req.clientIp, peer: req.clientInfo!.peer, expressIp: req.ip }))
    const es = http.createServer(app)
    acceptProxyProtocol(es, { policy: LB })
    const ep = await listen(es)
    // Express's own req.ip agrees: it reads the socket, whose source is the PROXY source.
    expect(jsonBody((await exchange(ep, BALANCER, [encodeV1('203.0.113.7', '10.0.0.1'), GET('/', 'X-Forwarded-For: 6.6.6.6\r\n')])).text)).toEqual({ ip: '203.0.113.7', peer: BALANCER, expressIp: '203.0.113.7' })

    const f = fastify({ trustProxy: LB.trust })
    await f.register(fastifyClientIp, { policy: LB })
    f.get('/', (request) => ({ ip: request.clientIp, peer: request.clientInfo.peer, fastifyIp: request.ip }))
    acceptProxyProtocol(f.server, { policy: LB })
    await f.listen({ port: 0, host: '127.0.0.1' })
    const fp = (f.server.address() as AddressInfo).port
    try {
      expect(jsonBody((await exchange(fp, BALANCER, [encodeV2({ source: '203.0.113.8' }), GET()])).text)).toEqual({ ip: '203.0.113.8', peer: BALANCER, fastifyIp: '203.0.113.8' })
    } finally {
      await f.close()
    }
  })
})

describe('builds', () => {
  it('the CommonJS listener and the ESM adapter share what is stored on the socket', async () => {
    await ensureBuilt()
    const require = createRequire(import.meta.url)
    const cjs = require('../dist/proxy-protocol.cjs') as typeof import('../src/adapters/proxy-protocol.js')
    const esmNode = (await import('../dist/node.js')) as typeof import('../src/adapters/node.js')
    const server = http.createServer((req, res) => res.end(JSON.stringify(esmNode.resolveRequest(LB, req))))
    cjs.acceptProxyProtocol(server, { policy: LB })
    const port = await listen(server)
    expect(jsonBody((await exchange(port, BALANCER, [encodeV1('203.0.113.7', '10.0.0.1'), GET()])).text)).toMatchObject({ ip: '203.0.113.7', source: 'proxy-protocol' })
  })
})

describe('fuzz: arbitrary bytes from the balancer', () => {
  it('never throw out of the listener, never hang it, and never yield an address that was not in a well-formed header', async () => {
    const seen: ({ source: string | undefined; first: string } | null)[] = []
    const server = net.createServer((socket) => {
      const pc = proxyConnectionOf(socket)
      seen.push({ source: pc?.header?.source?.address, first: '' })
      socket.destroy()
    })
    const listener = acceptProxyProtocol(server, { policy: LB, headerTimeout: 150, maxHeaderSize: 512 })
    const port = await listen(server)
    const header = fc.oneof(
      fc.tuple(fc.ipV4(), fc.ipV4()).map(([a, b]) => Buffer.from(encodeV1(a, b))),
      fc.tuple(fc.ipV6(), fc.ipV6()).map(([a, b]) => Buffer.from(encodeV1(a, b))),
      fc.ipV4().map((a) => encodeV2({ source: a })),
    )
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      fc.tuple(header, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([h, at, v]) => {
        const m = Buffer.from(h)
        m[at % m.length] = v
        return m
      }),
      fc.tuple(header, fc.nat()).map(([h, n]) => h.subarray(0, n % (h.length + 1))),
    )
    await fc.assert(
      fc.asyncProperty(input, fc.integer({ min: 1, max: 4 }), async (bytes, pieces) => {
        const before = seen.length
        const step = Math.ceil(Math.max(bytes.length, 1) / pieces)
        const chunks: Buffer[] = []
        for (let i = 0; i < bytes.length; i += step) chunks.push(bytes.subarray(i, i + step))
        const started = Date.now()
        await exchange(port, BALANCER, chunks, { end: true })
        expect(Date.now() - started).toBeLessThan(5000) // bounded: the 150 ms timer, with room for a loaded machine
        const expected = decodeProxyHeader(bytes, { maxLength: 512 })
        if (seen.length > before) {
          // Handed on: only with a complete, well-formed header, and with its source.
          expect(expected.kind).toBe('header')
          if (expected.kind === 'header') expect(seen[before]!.source).toBe(expected.header.source?.address)
        } else {
          expect(expected.kind).not.toBe('header')
        }
      }),
      { numRuns: 150 },
    )
    expect(listener.stats.accepted + listener.stats.rejected).toBe(150)
    // And it still serves a good connection.
    await exchange(port, BALANCER, [encodeV1('203.0.113.7', '10.0.0.1')], { end: true })
    expect(seen.at(-1)!.source).toBe('203.0.113.7')

    // A peer that sends the start of a header and then nothing, without closing: the timer
    // closes it (the client side never ends the connection here).
    const timeouts = listener.stats.reasons.timeout ?? 0
    await fc.assert(
      fc.asyncProperty(fc.tuple(header, fc.nat()).map(([h, n]) => h.subarray(0, n % h.length)), async (prefix) => {
        const started = Date.now()
        const r = await exchange(port, BALANCER, prefix.length === 0 ? [] : [prefix])
        expect(r.refused).toBe(true)
        expect(Date.now() - started).toBeLessThan(5000)
      }),
      { numRuns: 15 },
    )
    expect(listener.stats.reasons.timeout).toBe(timeouts + 15)
  }, 60_000)
})
