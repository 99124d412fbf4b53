/**
 * Edge headers (CF-Connecting-IP, True-Client-IP, Fly-Client-IP, and any single-address header
 * tied to ranges with `edge`) are believed only when the hop that delivered the request is inside
 * the edge's ranges. First as a table of cases, then end to end with a real nginx on loopback in
 * front of a real app, the provider's edge played by a client bound to 127.0.0.7 (or 127.0.0.8
 * for a local cloudflared). No traffic goes anywhere but loopback.
 */
import http from 'node:http'
import { type AddressInfo } from 'node:net'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { type AnomalyCode, type ClientInfo, canonicalizeIp, parseTrustProxy, resolveClient, resolveClientIp } from '../src/index.js'
import { address, garbage, rangeList } from './support/arbitraries.js'
import { createResolver } from '../src/adapters/node.js'
import { findBinary, freePort, makeWorkDir, removeWorkDir } from './support/proxies.js'
import { spawnGuarded, type GuardedProcess } from './support/processes.js'
import { IN_CI } from './support/cli-run.js'

interface Case {
  trust: string
  header?: string
  edge?: string
  remote: string
  headers: Record<string, string | string[]>
  expect: Partial<ClientInfo>
  anomalies?: AnomalyCode[]
}

const CF = '104.16.0.9' // inside the cloudflare preset
const CF6 = '2606:4700::6810:9'
const CLIENT = '203.0.113.5'

const cases: [string, Case][] = [
  // --- Cloudflare -> origin: the socket peer is the edge
  ['peer inside cloudflare: header believed', { trust: 'false', header: 'cf-connecting-ip', remote: CF, headers: { 'cf-connecting-ip': CLIENT, 'x-forwarded-for': CLIENT }, expect: { ip: CLIENT, trustedHops: 1, source: 'cf-connecting-ip', chain: [CF, CLIENT] }, anomalies: [] }],
  ['IPv6 edge peer, IPv6 client', { trust: 'false', header: 'cf-connecting-ip', remote: CF6, headers: { 'cf-connecting-ip': '2001:DB8::1' }, expect: { ip: '2001:db8::1', peer: CF6 }, anomalies: [] }],
  ['IPv4-mapped edge peer', { trust: 'false', header: 'cf-connecting-ip', remote: '::ffff:' + CF, headers: { 'cf-connecting-ip': CLIENT }, expect: { ip: CLIENT, peer: CF } }],
  ['peer outside cloudflare: header ignored, anomaly', { trust: 'false', header: 'cf-connecting-ip', remote: '198.51.100.9', headers: { 'cf-connecting-ip': '6.6.6.6' }, expect: { ip: '198.51.100.9', trustedHops: 0, source: 'socket' }, anomalies: ['edge-header-untrusted'] }],
  ['TRUST_PROXY=cloudflare: X-Forwarded-Proto from the edge is believed', { trust: 'cloudflare', header: 'cf-connecting-ip', remote: CF, headers: { 'cf-connecting-ip': CLIENT, 'x-forwarded-for': CLIENT, 'x-forwarded-proto': 'https' }, expect: { ip: CLIENT, protocol: 'https' }, anomalies: [] }],
  ['TRUST_PROXY=false: X-Forwarded-Proto from the edge is not', { trust: 'false', header: 'cf-connecting-ip', remote: CF, headers: { 'cf-connecting-ip': CLIENT, 'x-forwarded-proto': 'https' }, expect: { ip: CLIENT, protocol: 'http' } }],
  ['edge without its header: the client is the edge, anomaly', { trust: 'false', header: 'cf-connecting-ip', remote: CF, headers: {}, expect: { ip: CF, trustedHops: 0 }, anomalies: ['missing-edge-header'] }],
  ['edge with a malformed header', { trust: 'false', header: 'cf-connecting-ip', remote: CF, headers: { 'cf-connecting-ip': 'unknown' }, expect: { ip: CF }, anomalies: ['malformed-entry'] }],
  ['edge with a repeated header', { trust: 'false', header: 'cf-connecting-ip', remote: CF, headers: { 'cf-connecting-ip': [CLIENT, '6.6.6.6'] }, expect: { ip: CF }, anomalies: ['malformed-entry'] }],
  ['edge with a header that holds a list', { trust: 'false', header: 'cf-connecting-ip', remote: CF, headers: { 'cf-connecting-ip': `6.6.6.6, ${CLIENT}` }, expect: { ip: CF }, anomalies: ['malformed-entry'] }],
  // --- Cloudflare -> nginx on this host -> app: the edge is the hop nginx appended
  ['behind trusted nginx, the appended hop is cloudflare: believed', { trust: 'loopback', header: 'cf-connecting-ip', remote: '127.0.0.1', headers: { 'cf-connecting-ip': CLIENT, 'x-forwarded-for': `${CLIENT}, ${CF}`, 'x-forwarded-proto': 'https' }, expect: { ip: CLIENT, trustedHops: 2, chain: ['127.0.0.1', CF, CLIENT], protocol: 'https' }, anomalies: [] }],
  ['behind trusted nginx, the appended hop is not cloudflare: ignored', { trust: 'loopback', header: 'cf-connecting-ip', remote: '127.0.0.1', headers: { 'cf-connecting-ip': '6.6.6.6', 'x-forwarded-for': '198.51.100.9', 'x-forwarded-proto': 'https' }, expect: { ip: '198.51.100.9', trustedHops: 1, source: 'x-forwarded-for' }, anomalies: ['edge-header-untrusted'] }],
  ['behind trusted nginx, a forged cloudflare entry left of the real hop: ignored', { trust: 'loopback', header: 'cf-connecting-ip', remote: '127.0.0.1', headers: { 'cf-connecting-ip': '6.6.6.6', 'x-forwarded-for': `${CF}, 198.51.100.9`, 'x-forwarded-proto': 'https' }, expect: { ip: '198.51.100.9' }, anomalies: ['edge-header-untrusted'] }],
  ['behind trusted nginx and a trusted inner proxy', { trust: 'loopback, 10.0.0.0/8', header: 'cf-connecting-ip', remote: '127.0.0.1', headers: { 'cf-connecting-ip': CLIENT, 'x-forwarded-for': `${CLIENT}, ${CF}, 10.1.1.1`, 'x-forwarded-proto': 'https' }, expect: { ip: CLIENT, trustedHops: 3 } }],
  ['nginx without X-Forwarded-For: the edge hop is unknown, ignored', { trust: 'loopback', header: 'cf-connecting-ip', remote: '127.0.0.1', headers: { 'cf-connecting-ip': '6.6.6.6' }, expect: { ip: '127.0.0.1' }, anomalies: ['edge-header-untrusted'] }],
  ['TRUST_PROXY names cloudflare too: the walk stops at the edge hop', { trust: 'loopback, cloudflare', header: 'cf-connecting-ip', remote: '127.0.0.1', headers: { 'cf-connecting-ip': CLIENT, 'x-forwarded-for': `${CLIENT}, ${CF}`, 'x-forwarded-proto': 'https' }, expect: { ip: CLIENT, trustedHops: 2 }, anomalies: [] }],
  ['the edge hop is the left-most entry', { trust: 'loopback, cloudflare', header: 'cf-connecting-ip', remote: '127.0.0.1', headers: { 'cf-connecting-ip': CLIENT, 'x-forwarded-for': CF, 'x-forwarded-proto': 'https' }, expect: { ip: CLIENT, trustedHops: 2 }, anomalies: [] }],
  ['an untrusted peer with a cloudflare entry in X-Forwarded-For: ignored', { trust: 'loopback', header: 'cf-connecting-ip', remote: '198.51.100.9', headers: { 'cf-connecting-ip': '6.6.6.6', 'x-forwarded-for': CF }, expect: { ip: '198.51.100.9' }, anomalies: ['edge-header-untrusted', 'forwarded-by-untrusted-peer'] }],
  ['a malformed X-Forwarded-For entry before the edge: ignored', { trust: 'loopback', header: 'cf-connecting-ip', remote: '127.0.0.1', headers: { 'cf-connecting-ip': '6.6.6.6', 'x-forwarded-for': `${CF}, garbage`, 'x-forwarded-proto': 'https' }, expect: { ip: '127.0.0.1' }, anomalies: ['edge-header-untrusted', 'malformed-entry'] }],
  ['hop count: the edge is the hop after the counted proxies', { trust: '1', header: 'cf-connecting-ip', remote: '127.0.0.1', headers: { 'cf-connecting-ip': CLIENT, 'x-forwarded-for': `6.6.6.6, ${CF}`, 'x-forwarded-proto': 'https' }, expect: { ip: CLIENT, trustedHops: 2 } }],
  // --- Cloudflare Tunnel: the peer is the local cloudflared, named as the edge
  ['tunnel: cloudflared on loopback is the edge', { trust: 'false', header: 'cf-connecting-ip', edge: '127.0.0.1/32, ::1', remote: '127.0.0.1', headers: { 'cf-connecting-ip': CLIENT, 'x-forwarded-for': CLIENT }, expect: { ip: CLIENT, trustedHops: 1 }, anomalies: [] }],
  ['tunnel: another local process is not cloudflared', { trust: 'false', header: 'cf-connecting-ip', edge: '127.0.0.8/32', remote: '127.0.0.1', headers: { 'cf-connecting-ip': '6.6.6.6' }, expect: { ip: '127.0.0.1' }, anomalies: ['edge-header-untrusted'] }],
  ['tunnel over a Unix socket: edge unix', { trust: 'false', header: 'cf-connecting-ip', edge: 'unix', remote: undefined as unknown as string, headers: { 'cf-connecting-ip': CLIENT }, expect: { ip: CLIENT, peer: undefined, chain: [undefined, CLIENT] } }],
  // --- other headers
  ['true-client-ip defaults to cloudflare', { trust: 'false', header: 'true-client-ip', remote: CF, headers: { 'true-client-ip': CLIENT }, expect: { ip: CLIENT, source: 'true-client-ip' } }],
  ['true-client-ip from elsewhere is ignored', { trust: 'loopback', header: 'true-client-ip', remote: '127.0.0.1', headers: { 'true-client-ip': '6.6.6.6' }, expect: { ip: '127.0.0.1' }, anomalies: ['edge-header-untrusted'] }],
  ['true-client-ip tied to other ranges (Akamai)', { trust: 'false', header: 'true-client-ip', edge: '23.0.0.0/12', remote: '23.1.2.3', headers: { 'true-client-ip': CLIENT }, expect: { ip: CLIENT } }],
  ['fly-client-ip tied to Fly proxy ranges', { trust: 'false', header: 'fly-client-ip', edge: '172.16.0.0/12', remote: '172.19.0.2', headers: { 'fly-client-ip': CLIENT }, expect: { ip: CLIENT } }],
  ['fly-client-ip from outside its ranges', { trust: 'false', header: 'fly-client-ip', edge: '172.16.0.0/12', remote: '198.51.100.9', headers: { 'fly-client-ip': '6.6.6.6' }, expect: { ip: '198.51.100.9' }, anomalies: ['edge-header-untrusted'] }],
  ['a user-named header tied to a preset', { trust: 'false', header: 'x-client-ip', edge: 'fastly', remote: '151.101.0.7', headers: { 'x-client-ip': CLIENT }, expect: { ip: CLIENT, source: 'x-client-ip' } }],
  ['a user-named header tied to a preset, from elsewhere', { trust: 'false', header: 'x-client-ip', edge: 'fastly', remote: CF, headers: { 'x-client-ip': '6.6.6.6' }, expect: { ip: CF }, anomalies: ['edge-header-untrusted'] }],
  ['edge mode never falls back to another header', { trust: 'false', header: 'cf-connecting-ip', remote: '198.51.100.9', headers: { 'x-real-ip': '6.6.6.6', 'true-client-ip': '6.6.6.7' }, expect: { ip: '198.51.100.9', trustedHops: 0 }, anomalies: ['forwarded-by-untrusted-peer'] }],
]

describe('edge headers (table)', () => {
  it.each(cases)('%s', (_name, c) => {
    const policy = parseTrustProxy(c.trust)
    const info = resolveClient(policy, { remoteAddress: c.remote, headers: c.headers }, { header: c.header ?? 'x-forwarded-for', ...(c.edge !== undefined ? { edge: c.edge } : {}) })
    expect(info).toMatchObject(c.expect)
    if (c.anomalies) expect([...info.anomalies].sort()).toEqual([...c.anomalies].sort())
    expect(info.chain[info.trustedHops]).toBe(info.ip)
  })

  it('an edge policy object works like its text', () => {
    const edge = parseTrustProxy('127.0.0.7/32')
    const info = resolveClient(parseTrustProxy('false'), { remoteAddress: '127.0.0.7', headers: { 'x-edge-ip': CLIENT } }, { header: 'x-edge-ip', edge })
    expect(info.ip).toBe(CLIENT)
  })

  it.each([
    ['fly-client-ip without edge', { header: 'fly-client-ip' }, /addresses are not published/],
    ['an edge that is a hop count', { header: 'cf-connecting-ip', edge: '1' }, /must name the edge's address ranges/],
    ['an edge that trusts everything', { header: 'cf-connecting-ip', edge: '0.0.0.0/0, ::/0' }, /whole address family/],
    ['an edge with a bad entry', { header: 'cf-connecting-ip', edge: 'cloudflare, akamai' }, /akamai/],
    ['edge on X-Forwarded-For', { header: 'x-forwarded-for', edge: 'cloudflare' }, /single-address header/],
  ] as const)('%s is a setup error', (_what, options, message) => {
    expect(() => createResolver(parseTrustProxy('loopback'), options as never)).toThrow(message)
  })

  it('the hot path is unchanged by edge headers (it reads X-Forwarded-For only)', () => {
    expect(resolveClientIp(parseTrustProxy('loopback'), '127.0.0.1', `${CLIENT}, ${CF}`)).toBe(CF)
  })
})

// ---------------------------------------------------------------------------------------------
// End to end: nginx on loopback in front of the app

const EDGE = '127.0.0.7' // stands in for Cloudflare's edge
const TUNNEL = '127.0.0.8' // stands in for a local cloudflared
const NGINX = '127.0.0.9' // nginx connects to the app from here (proxy_bind)
const ATTACKER = '127.0.0.20' // anyone else who can reach nginx or the app

const nginxBinary = findBinary('nginx')
const skip = nginxBinary === null && !IN_CI
if (skip) console.warn('edge-headers: nginx not installed (apt-get install -y nginx): skipping the end-to-end topologies')

/** The app: each request answers with what resolveClient decided. */
function startApp(trust: string, options: { header: string; edge?: string }): Promise<{ port: number; server: http.Server }> {
  const clientOf = createResolver(parseTrustProxy(trust), options)
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(clientOf(req)))
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as AddressInfo).port, server })))
}

function get(port: number, from: string, headers: Record<string, string>): Promise<ClientInfo> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, localAddress: from, path: '/', headers: { host: 'gw.example.com', ...headers }, agent: false }, (res) => {
      let body = ''
      res.on('data', (c) => (body += c))
      res.on('end', () => {
        try {
          resolve(JSON.parse(body))
        } catch (e) {
          reject(new Error(`${res.statusCode}: ${body.slice(0, 500)}`))
        }
      })
    })
    req.on('error', reject)
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')))
  })
}

interface Nginx {
  port: number
  proc: GuardedProcess
  dir: string
}

/** nginx as the local proxy: appends the connecting address to X-Forwarded-For, passes the edge header on. */
async function startNginx(appPort: number): Promise<Nginx> {
  const dir = await makeWorkDir('trust-proxy-edge-nginx-')
  const port = await freePort()
  const conf = `daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_processes 1;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://127.0.0.1:${appPort};
      proxy_bind ${NGINX};
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`
  const config = join(dir, 'nginx.conf')
  await writeFile(config, conf)
  const proc = spawnGuarded(nginxBinary!, ['-e', join(dir, 'error.log'), '-p', dir, '-c', config], { cwd: dir })
  await proc.waitListening([['127.0.0.1', port]], 15_000)
  return { port, proc, dir }
}

describe.skipIf(skip)('edge headers behind a real nginx', () => {
  const stops: (() => Promise<unknown>)[] = []
  afterAll(async () => {
    for (const s of stops.reverse()) await s()
  })
  const close = (server: http.Server) => () => new Promise((r) => (server.closeAllConnections(), server.close(r)))

  async function topology(trust: string, options: { header: string; edge?: string }) {
    const app = await startApp(trust, options)
    stops.push(close(app.server))
    const nginx = await startNginx(app.port)
    stops.push(async () => {
      await nginx.proc.stop()
      await removeWorkDir(nginx.dir)
    })
    return { app, nginx }
  }

  let cfNginx: { app: { port: number }; nginx: Nginx }
  beforeAll(async () => {
    // Cloudflare -> nginx on this host -> app. TRUST_PROXY names nginx's own address.
    cfNginx = await topology(`${NGINX}/32`, { header: 'cf-connecting-ip', edge: `${EDGE}/32` })
  })

  it('Cloudflare -> nginx -> app: the edge header is believed from the edge', async () => {
    const info = await get(cfNginx.nginx.port, EDGE, { 'cf-connecting-ip': CLIENT, 'x-forwarded-for': CLIENT })
    expect(info).toMatchObject({ ip: CLIENT, peer: NGINX, chain: [NGINX, EDGE, CLIENT], source: 'cf-connecting-ip', anomalies: [] })
  })

  it('Cloudflare -> nginx -> app: someone who reaches nginx directly cannot set it', async () => {
    const info = await get(cfNginx.nginx.port, ATTACKER, { 'cf-connecting-ip': '6.6.6.6' })
    expect(info).toMatchObject({ ip: ATTACKER, peer: NGINX, source: 'x-forwarded-for', anomalies: ['edge-header-untrusted'] })
  })

  it('Cloudflare -> nginx -> app: nor by writing the edge into X-Forwarded-For', async () => {
    const info = await get(cfNginx.nginx.port, ATTACKER, { 'cf-connecting-ip': '6.6.6.6', 'x-forwarded-for': EDGE })
    expect(info.ip).toBe(ATTACKER)
    expect(info.anomalies).toContain('edge-header-untrusted')
  })

  it('Cloudflare -> nginx -> app: a direct connection to the app cannot set it either', async () => {
    const info = await get(cfNginx.app.port, ATTACKER, { 'cf-connecting-ip': '6.6.6.6', 'x-forwarded-for': EDGE })
    expect(info).toMatchObject({ ip: ATTACKER, peer: ATTACKER, source: 'socket' })
    expect(info.anomalies).toEqual(expect.arrayContaining(['edge-header-untrusted', 'forwarded-by-untrusted-peer']))
  })

  it('Cloudflare -> origin (no local proxy): the peer is the edge', async () => {
    const app = await startApp('false', { header: 'cf-connecting-ip', edge: `${EDGE}/32` })
    stops.push(close(app.server))
    expect(await get(app.port, EDGE, { 'cf-connecting-ip': CLIENT })).toMatchObject({ ip: CLIENT, peer: EDGE, chain: [EDGE, CLIENT], anomalies: [] })
    expect(await get(app.port, ATTACKER, { 'cf-connecting-ip': '6.6.6.6' })).toMatchObject({ ip: ATTACKER, anomalies: ['edge-header-untrusted'] })
  })

  it('Cloudflare Tunnel -> nginx -> app: the edge is the local cloudflared', async () => {
    const t = await topology(`${NGINX}/32`, { header: 'cf-connecting-ip', edge: `${TUNNEL}/32` })
    expect(await get(t.nginx.port, TUNNEL, { 'cf-connecting-ip': CLIENT, 'x-forwarded-for': CLIENT })).toMatchObject({ ip: CLIENT, chain: [NGINX, TUNNEL, CLIENT], anomalies: [] })
    expect(await get(t.nginx.port, ATTACKER, { 'cf-connecting-ip': '6.6.6.6' })).toMatchObject({ ip: ATTACKER, anomalies: ['edge-header-untrusted'] })
  })

  it('a user-named header tied to ranges, behind nginx', async () => {
    const t = await topology(`${NGINX}/32`, { header: 'x-edge-client', edge: `${EDGE}/32` })
    expect(await get(t.nginx.port, EDGE, { 'x-edge-client': CLIENT })).toMatchObject({ ip: CLIENT, source: 'x-edge-client' })
    expect(await get(t.nginx.port, ATTACKER, { 'x-edge-client': '6.6.6.6' })).toMatchObject({ ip: ATTACKER, anomalies: ['edge-header-untrusted'] })
  })
})

// ---------------------------------------------------------------------------------------------
// Invariants over generated requests

describe('edge headers (properties)', () => {
  const EDGE_RANGES = ['198.51.100.0/24', '2001:db8:e::/48']
  const edgeAddress = fc.oneof(fc.integer({ min: 1, max: 254 }).map((n) => `198.51.100.${n}`), fc.integer({ min: 1, max: 0xffff }).map((n) => `2001:db8:e::${n.toString(16)}`))
  const hop = fc.oneof(address, edgeAddress, garbage)
  const request = fc.record({
    trust: rangeList,
    remote: fc.oneof(address, edgeAddress, fc.constant(undefined)),
    xff: fc.option(fc.array(hop, { maxLength: 6 }).map((a) => a.join(', ')), { nil: undefined }),
    value: fc.option(fc.oneof(address, garbage, fc.array(address, { minLength: 2, maxLength: 2 })), { nil: undefined }),
  })
  const edge = parseTrustProxy(EDGE_RANGES)

  it('the header is the client only when the hop before it is an edge address reached through trusted hops; never throws', () => {
    fc.assert(
      fc.property(request, (r) => {
        const policy = parseTrustProxy(r.trust)
        const headers: Record<string, unknown> = {}
        if (r.xff !== undefined) headers['x-forwarded-for'] = r.xff
        if (r.value !== undefined) headers['x-edge-ip'] = r.value
        const info = resolveClient(policy, { remoteAddress: r.remote, headers }, { header: 'x-edge-ip', edge: EDGE_RANGES })
        // Always an address or nothing, and the chain ends at the client.
        if (info.ip !== undefined) expect(canonicalizeIp(info.ip)).toBe(info.ip)
        expect(info.chain[info.trustedHops]).toBe(info.ip)
        if (info.source === 'x-edge-ip') {
          const delivering = info.trustedHops - 1
          expect(edge.trust(info.chain[delivering], 0)).toBe(true)
          // Every hop before the delivering one is trusted by TRUST_PROXY and not an edge.
          for (let k = 0; k < delivering; k++) {
            expect(policy.trust(info.chain[k], k)).toBe(true)
            expect(edge.trust(info.chain[k], 0)).toBe(false)
          }
        } else {
          // Not believed: the result is the plain X-Forwarded-For walk's (edge hops aside).
          if (r.value !== undefined && !info.anomalies.includes('malformed-entry') && !info.anomalies.includes('malformed-peer')) {
            const delivered = info.chain[info.trustedHops]
            expect(info.anomalies.includes('edge-header-untrusted') || info.anomalies.includes('missing-edge-header') || edge.trust(delivered, 0)).toBe(true)
          }
        }
      }),
      { numRuns: 3000 },
    )
  })
})
