/**
 * The PROXY protocol listener behind the real senders, on loopback: HAProxy in TCP mode with
 * `send-proxy` (v1) and `send-proxy-v2`, including TLS passed through to a node:https server and
 * WebSockets, and nginx's `stream` module with `proxy_protocol on`.
 *
 * The senders connect from addresses of their own (HAProxy `source 127.0.0.9`, nginx
 * `proxy_bind 127.0.0.13`), the only ones TRUST_PROXY names; the test client connects from
 * 127.0.0.23. So the PROXY source the app reports is the client's own address, and the same
 * client connecting straight to the app (with or without a forged header) is refused.
 */
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import http from 'node:http'
import https from 'node:https'
import net, { type AddressInfo } from 'node:net'
import tls from 'node:tls'
import { once } from 'node:events'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { resolveRequest } from '../src/adapters/node.js'
import { acceptProxyProtocol, type ProxyProtocolListener } from '../src/adapters/proxy-protocol.js'
import { auditFields, parseTrustProxy } from '../src/index.js'
import { selfSignedCertificate } from './support/adapters-net.js'
import { spawnGuarded, type GuardedProcess, freePort } from './support/processes.js'
import { Cleanup, findBinary, inCI, makeWorkDir } from './support/proxies.js'
import { NGINX_STREAM_MODULE, renderSender, type Sender } from './support/proxy-protocol-configs.js'
import { encodeV1 } from './support/proxy-header.js'
import { exchange, GET, jsonBody } from './support/proxy-protocol-net.js'

const HAPROXY_SOURCE = '127.0.0.9'
const NGINX_SOURCE = '127.0.0.13'
const CLIENT = '127.0.0.23'
const policy = parseTrustProxy(`${HAPROXY_SOURCE}/32, ${NGINX_SOURCE}/32`)

function missing(): string | null {
  const need: [boolean, string][] = [
    [findBinary('haproxy') !== null, 'haproxy'],
    [findBinary('nginx') !== null, 'nginx'],
    [existsSync(NGINX_STREAM_MODULE), 'libnginx-mod-stream'],
    [findBinary('openssl') !== null, 'openssl'],
  ]
  const absent = need.filter(([ok]) => !ok).map(([, pkg]) => pkg)
  return absent.length === 0 ? null : `not installed: run \`apt-get install -y ${absent.join(' ')}\``
}

const gate = missing()
if (gate !== null && !inCI()) console.warn(`[skip] PROXY protocol senders: ${gate}`)

describe.skipIf(gate !== null && !inCI())('PROXY protocol from HAProxy and nginx stream', () => {
  const cleanup = new Cleanup()
  const cert = selfSignedCertificate()
  let httpPort = 0
  let httpsPort = 0
  let httpListener: ProxyProtocolListener
  let tcpCheckListener: ProxyProtocolListener
  let tcpCheckPort = 0
  const fronts: Record<string, number> = {}

  async function startSender(name: string, sender: Sender, upstreamPort: number, extra: Record<string, string | boolean> = {}): Promise<void> {
    const dir = cleanup.addDir(await makeWorkDir(`trust-proxy-pp-${name}-`))
    if (extra.terminate_tls === true) {
      extra.pem = join(dir, 'combined.pem')
      await writeFile(extra.pem, cert!.cert + cert!.key, { mode: 0o600 })
    }
    const port = await freePort()
    const isHaproxy = sender === 'haproxy'
    const config = renderSender(sender, {
      harness: true,
      dir,
      listen: `127.0.0.1:${port}`,
      upstream: `127.0.0.1:${upstreamPort}`,
      source: isHaproxy ? HAPROXY_SOURCE : NGINX_SOURCE,
      ...(isHaproxy ? { terminate_tls: false, health_check: false } : { stream_module: NGINX_STREAM_MODULE }),
      ...extra,
    })
    const file = join(dir, isHaproxy ? 'haproxy.cfg' : 'nginx.conf')
    await writeFile(file, config)
    const args = isHaproxy ? ['-db', '-f', file] : ['-e', join(dir, 'error.log'), '-p', dir, '-c', file]
    const proc: GuardedProcess = cleanup.add(spawnGuarded(findBinary(isHaproxy ? 'haproxy' : 'nginx')!, args, { cwd: dir }))
    try {
      await proc.waitListening([['127.0.0.1', port]], 15_000)
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}\n${proc.output()}\n${config}`)
    }
    fronts[name] = port
  }

  beforeAll(async () => {
    if (gate !== null) throw new Error(`${gate} (CI must install it with apt-get before the tests)`)
    const app = http.createServer((req, res) => {
      const info = resolveRequest(policy, req)
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ info, audit: auditFields(info) }))
    })
    new WebSocketServer({ server: app }).on('connection', (ws, req) => ws.send(JSON.stringify(resolveRequest(policy, req))))
    httpListener = acceptProxyProtocol(app, { policy })
    cleanup.add({ close: () => new Promise<void>((r) => { app.closeAllConnections(); app.close(() => r()) }) })
    app.listen(0, '127.0.0.1')
    await once(app, 'listening')
    httpPort = (app.address() as AddressInfo).port

    const secure = https.createServer({ key: cert!.key, cert: cert!.cert }, (req, res) => res.end(JSON.stringify(resolveRequest(policy, req))))
    acceptProxyProtocol(secure, { policy })
    cleanup.add({ close: () => new Promise<void>((r) => { secure.closeAllConnections(); secure.close(() => r()) }) })
    secure.listen(0, '127.0.0.1')
    await once(secure, 'listening')
    httpsPort = (secure.address() as AddressInfo).port

    const checked = http.createServer((_req, res) => res.end())
    tcpCheckListener = acceptProxyProtocol(checked, { policy })
    cleanup.add({ close: () => new Promise<void>((r) => { checked.closeAllConnections(); checked.close(() => r()) }) })
    checked.listen(0, '127.0.0.1')
    await once(checked, 'listening')
    tcpCheckPort = (checked.address() as AddressInfo).port

    await Promise.all([
      startSender('haproxy-v1', 'haproxy', httpPort, { send_proxy: 'send-proxy' }),
      startSender('haproxy-v2', 'haproxy', httpPort, { send_proxy: 'send-proxy-v2' }),
      startSender('haproxy-tls', 'haproxy', httpsPort, { send_proxy: 'send-proxy-v2' }),
      startSender('nginx', 'nginx-stream', httpPort),
      // HAProxy ends TLS itself and sends the v2 TLVs: SSL, authority (SNI), CRC32C.
      // Health checks with a header: HAProxy's v2 checks say LOCAL.
      startSender('haproxy-check', 'haproxy', httpPort, { send_proxy: 'send-proxy-v2 check check-send-proxy inter 100ms', health_check: true }),
      // Plain TCP checks (no option httpchk), to a listener of their own: refused as peer-gone.
      startSender('haproxy-tcp-check', 'haproxy', tcpCheckPort, { send_proxy: 'send-proxy-v2 check check-send-proxy inter 100ms' }),
      startSender('haproxy-ssl', 'haproxy', httpPort, { terminate_tls: true, send_proxy: 'send-proxy-v2-ssl-cn proxy-v2-options authority,crc32c' }),
    ])
  }, 60_000)
  afterAll(() => cleanup.run(), 30_000)

  for (const [name, version, balancer] of [
    ['haproxy-v1', 1, HAPROXY_SOURCE],
    ['haproxy-v2', 2, HAPROXY_SOURCE],
    ['nginx', 1, NGINX_SOURCE],
  ] as const) {
    it(`${name}: the client is the PROXY source; the peer is the balancer; a forged X-Forwarded-For is ignored`, async () => {
      const r = await exchange(fronts[name]!, CLIENT, [GET('/', 'X-Forwarded-For: 6.6.6.6\r\n')])
      const { info, audit } = jsonBody(r.text)
      expect(info).toMatchObject({ ip: CLIENT, peer: balancer, chain: [CLIENT], source: 'proxy-protocol' })
      expect(info.proxyProtocol.header).toMatchObject({ version, command: 'proxy', family: 'ipv4', source: { address: CLIENT } })
      expect(audit).toMatchObject({ client_ip: CLIENT, peer_ip: balancer, proxy_source_ip: CLIENT, client_ip_source: 'proxy-protocol' })
      expect(info.anomalies).toEqual(['forwarded-by-untrusted-peer'])
    })
  }

  it('haproxy: TLS passed through to node:https; the handshake is the app’s own', async () => {
    const text = await new Promise<string>((resolve, reject) => {
      // localAddress is passed on to net.connect (not in tls's option types).
      const t = tls.connect({ host: '127.0.0.1', port: fronts['haproxy-tls']!, ca: cert!.cert, ...({ localAddress: CLIENT } as object) })
      let out = ''
      t.on('secureConnect', () => t.write(GET()))
      t.on('data', (d) => (out += d.toString('latin1')))
      t.on('error', reject)
      t.on('close', () => resolve(out))
    })
    expect(jsonBody(text)).toMatchObject({ ip: CLIENT, peer: HAPROXY_SOURCE, protocol: 'https', source: 'proxy-protocol' })
  })

  it('haproxy ending TLS: the SSL, authority and CRC32C TLVs reach the app, and the protocol is https', async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const t = tls.connect({
        host: '127.0.0.1', port: fronts['haproxy-ssl']!, servername: 'gateway.test', ca: cert!.cert,
        checkServerIdentity: () => undefined, // the test certificate names 127.0.0.1, not gateway.test
        ...({ localAddress: CLIENT } as object),
      })
      let out = ''
      t.on('secureConnect', () => t.write(GET()))
      t.on('data', (d) => (out += d.toString('latin1')))
      t.on('error', reject)
      t.on('close', () => resolve(out))
    })
    const { info } = jsonBody(text)
    expect(info).toMatchObject({ ip: CLIENT, peer: HAPROXY_SOURCE, protocol: 'https', source: 'proxy-protocol' })
    const tlv = info.proxyProtocol.header.tlv
    expect(tlv).toMatchObject({ authority: 'gateway.test', checksumVerified: true, ssl: { client: expect.any(Number), version: expect.stringMatching(/^TLSv1\.[23]$/) } })
    expect(tlv.ssl.client & 1).toBe(1)
  })

  it('haproxy health checks (check-send-proxy) arrive as LOCAL headers: accepted, the balancer itself', async () => {
    // With `option httpchk` every check waits for the app's answer, so the app reads the
    // balancer's address; plain TCP checks reset the connection before Node can read it, and
    // were refused as untrusted peers (the old flake: a LOCAL check accepted only now and then).
    for (let i = 0; i < 200 && httpListener.stats.local === 0; i++) await new Promise((r) => setTimeout(r, 50))
    expect(httpListener.stats.local, JSON.stringify(httpListener.stats)).toBeGreaterThan(0)
    expect(httpListener.stats.reasons['missing-header'] ?? 0).toBe(0)
    expect(httpListener.stats.reasons['untrusted-peer'] ?? 0).toBe(0)
  })

  it('plain TCP health checks reset before their address can be read: refused as peer-gone, never as an untrusted peer', async () => {
    const s = tcpCheckListener.stats
    for (let i = 0; i < 200 && (s.reasons['peer-gone'] ?? 0) < 3; i++) await new Promise((r) => setTimeout(r, 50))
    expect(s.reasons['peer-gone'] ?? 0, JSON.stringify(s)).toBeGreaterThanOrEqual(3)
    expect(s.reasons['untrusted-peer'] ?? 0, JSON.stringify(s)).toBe(0)
  })

  for (const name of ['haproxy-v2', 'nginx']) {
    it(`${name}: a WebSocket upgrade carries the PROXY source`, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${fronts[name]}/`, { localAddress: CLIENT })
      const [msg] = await once(ws, 'message')
      ws.close()
      expect(JSON.parse(String(msg))).toMatchObject({ ip: CLIENT, source: 'proxy-protocol' })
    })
  }

  it('a client that connects to the app directly is refused, with or without a forged PROXY header', async () => {
    const before = httpListener.stats.reasons['untrusted-peer'] ?? 0
    expect((await exchange(httpPort, CLIENT, [GET()])).refused).toBe(true)
    expect((await exchange(httpPort, CLIENT, [encodeV1('203.0.113.7', '10.0.0.1'), GET()])).refused).toBe(true)
    expect(httpListener.stats.reasons['untrusted-peer']).toBe(before + 2)
  })

  it('the balancers do not cost the app a second header: keep-alive requests through HAProxy share one', async () => {
    // Not counting the LOCAL health checks that arrive meanwhile.
    const withClient = (): number => httpListener.stats.accepted - httpListener.stats.local
    const accepted = withClient()
    const c = net.connect({ host: '127.0.0.1', port: fronts['haproxy-v2']!, localAddress: CLIENT })
    await once(c, 'connect')
    const keep = 'GET / HTTP/1.1\r\nHost: gateway.test\r\n\r\n'
    c.write(keep + keep + GET())
    let out = ''
    c.on('data', (d) => (out += d))
    await once(c, 'close')
    expect(out.split('HTTP/1.1 200').length - 1).toBe(3)
    expect(withClient()).toBe(accepted + 1)
  })
})
