/**
 * The Koa middleware on Koa 3, over real loopback sockets (and a Unix socket): our result on
 * `ctx.state`, and Koa's own `ctx.ip`, `ctx.ips`, `ctx.protocol`, `ctx.secure`, `ctx.host`,
 * `ctx.hostname` and `ctx.href` replaced by it. Koa has no WebSocket server of its own (apps
 * attach `ws` to the Node server: see the Node adapter), so there is no WebSocket case here.
 */
import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Koa from 'koa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { koaClientIp } from '../src/adapters/koa.js'
import { canonicalizeIp, parseTrustProxy, type TrustPolicy } from '../src/index.js'
import { ROOT, type RunningServer, getUnix, startProcess } from './support/runtimes.js'
import { badInputSuite, checkInfo, scenarioSuites } from './support/adapter-suites.js'
import { HOST, PROXY, type Scenario, close, get, hostnameOf, listen } from './support/adapters-net.js'

function report(ctx: Koa.Context) {
  return {
    peer: ctx.req.socket.remoteAddress ?? null,
    state: ctx.state,
    koa: { ip: ctx.ip, ips: ctx.ips, protocol: ctx.protocol, secure: ctx.secure, host: ctx.host, hostname: ctx.hostname, href: ctx.href },
  }
}

function createApp(policy: TrustPolicy | undefined, proxy = false): Koa {
  const app = new Koa()
  app.proxy = proxy
  if (policy) app.use(koaClientIp(policy))
  app.use((ctx) => {
    ctx.body = report(ctx)
  })
  return app
}

async function start(policy: TrustPolicy | undefined, proxy = false) {
  const server = http.createServer(createApp(policy, proxy).callback())
  const port = await listen(server)
  return { server, port }
}

function check(body: any, s: Scenario): void {
  expect(canonicalizeIp(body.peer)).toBe(s.from)
  const info = body.state.clientInfo
  expect(body.state.clientIp).toBe(s.expect.ip)
  checkInfo(info, s)
  expect(body.state.audit).toBeUndefined()
  // Koa's own getters now give our answer.
  expect(body.koa).toEqual({
    ip: s.expect.ip,
    ips: info.chain.slice(1).reverse(),
    protocol: s.expect.protocol,
    secure: s.expect.protocol === 'https',
    host: s.expect.host,
    hostname: hostnameOf(s.expect.host),
    href: `${s.expect.protocol}://${s.expect.host}/`,
  })
}

scenarioSuites('Koa 3', async (value) => {
  const app = await start(parseTrustProxy(value))
  return { port: app.port, stop: () => close(app.server) }
}, (body, s) => check(body, s))

describe("Koa's own trust proxy, for comparison", () => {
  it('app.proxy = true believes the left-most X-Forwarded-For entry from anyone; the middleware does not', async () => {
    const forged = { 'x-forwarded-for': '6.6.6.6, 203.0.113.5', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' }
    const koa = await start(undefined, true)
    const ours = await start(parseTrustProxy('127.0.0.9/32'), true)
    try {
      const theirs = await get({ port: koa.port, from: '127.0.0.77', headers: forged })
      expect(theirs.koa.ip).toBe('6.6.6.6')
      expect(theirs.koa.protocol).toBe('https')
      expect(theirs.koa.host).toBe('evil.example')
      const body = await get({ port: ours.port, from: '127.0.0.77', headers: forged })
      expect(body.koa.ip).toBe('127.0.0.77')
      expect(body.koa.protocol).toBe('http')
      expect(body.koa.host).toBe(HOST)
    } finally {
      await close(koa.server)
      await close(ours.server)
    }
  })
})

describe('Koa on a Unix socket (nginx `proxy_pass http://unix:...`)', () => {
  it.each([
    ['unix', '203.0.113.5', 1],
    ['127.0.0.9/32', '', 0],
  ])('TRUST_PROXY=%s', async (value, ip, hops) => {
    const dir = mkdtempSync(join(tmpdir(), 'trust-proxy-koa-'))
    const path = join(dir, 'app.sock')
    const server = http.createServer(createApp(parseTrustProxy(value)).callback())
    await new Promise<void>((r) => server.listen(path, r))
    try {
      const body = await getUnix(path, { 'x-forwarded-for': '203.0.113.5' })
      expect(body.state.clientInfo.peer).toBeUndefined()
      expect(body.state.clientInfo.trustedHops).toBe(hops)
      // No address: Koa's own "unknown", the empty string, never a header value.
      expect(body.koa.ip).toBe(ip)
      expect(body.state.clientIp).toBe(ip === '' ? undefined : ip)
    } finally {
      await close(server)
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('koaClientIp(policy) setup', () => {
  it('refuses the raw TRUST_PROXY value at startup', () => {
    expect(() => koaClientIp('1' as any)).toThrow(/parseTrustProxy/)
    expect(() => koaClientIp(parseTrustProxy('1'), { header: 'bad header' })).toThrow(TypeError)
  })

  it('resolves once per request: a second mount keeps the first result', async () => {
    const app = new Koa()
    app.use(koaClientIp(parseTrustProxy('1')))
    app.use(koaClientIp(parseTrustProxy('false')))
    app.use((ctx) => {
      ctx.body = { ip: ctx.ip }
    })
    const server = http.createServer(app.callback())
    try {
      const port = await listen(server)
      expect((await get({ port, from: '127.0.0.12', headers: { 'x-forwarded-for': '198.51.100.1' } })).ip).toBe('198.51.100.1')
    } finally {
      await close(server)
    }
  })

  it('never throws for header shapes a client can send', async () => {
    const app = await start(parseTrustProxy(PROXY + '/32'))
    try {
      const body = await get({ port: app.port, from: PROXY, headers: { 'x-forwarded-for': ',,, ', 'x-forwarded-host': 'a b', 'x-forwarded-proto': 'gopher' } })
      expect(body.koa.ip).toBe(PROXY)
      expect(body.koa.protocol).toBe('http')
    } finally {
      await close(app.server)
    }
  })
})

describe('examples/frameworks/koa.mjs, run as a program', () => {
  let app: RunningServer
  beforeAll(async () => {
    app = await startProcess(process.execPath, [join(ROOT, 'examples', 'frameworks', 'koa.mjs')], { TRUST_PROXY: '127.0.0.9/32' })
  })
  afterAll(() => app?.stop())
  it('believes the proxy, not a forging client; the audit record comes from ctx.state.clientInfo', async () => {
    const body = await get({ port: app.port, from: PROXY, headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https' } })
    expect(body).toMatchObject({ ip: '203.0.113.5', protocol: 'https', audit: { client_ip: '203.0.113.5', peer_ip: PROXY, trusted_hops: 1 } })
    const forged = await get({ port: app.port, from: '127.0.0.77', headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https' } })
    expect(forged).toMatchObject({ ip: '127.0.0.77', protocol: 'http', audit: { anomalies: ['forwarded-by-untrusted-peer'] } })
  })
})

badInputSuite(
  'Koa',
  async (value) => {
    const app = await start(parseTrustProxy(value))
    return { port: app.port, stop: () => close(app.server) }
  },
  (body) => body.state.clientInfo,
  (body) => expect(body.koa.ip).toBe(body.state.clientInfo.ip ?? ''),
)

describe('Koa getters on requests the middleware did not see', () => {
  it('are Koa’s own (the override is per request), and another app is untouched', async () => {
    const mw = koaClientIp(parseTrustProxy('127.0.0.9/32'))
    const app = new Koa()
    app.proxy = true
    app.use((ctx, next) => (ctx.path === '/ours' ? mw(ctx, next) : next()))
    app.use((ctx) => {
      ctx.body = report(ctx)
    })
    const server = http.createServer(app.callback())
    const other = await start(undefined, true)
    const headers = { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' }
    try {
      const port = await listen(server)
      const ours = await get({ port, from: '127.0.0.77', path: '/ours', headers })
      expect(ours.koa).toMatchObject({ ip: '127.0.0.77', protocol: 'http', host: HOST })
      const plain = await get({ port, from: '127.0.0.77', path: '/plain', headers })
      expect(plain.koa).toMatchObject({ ip: '6.6.6.6', protocol: 'https', host: 'evil.example' })
      const again = await get({ port, from: '127.0.0.77', path: '/ours', headers })
      expect(again.koa).toMatchObject({ ip: '127.0.0.77', protocol: 'http', host: HOST })
      expect((await get({ port: other.port, from: '127.0.0.77', headers })).koa).toMatchObject({ ip: '6.6.6.6', host: 'evil.example' })
    } finally {
      await close(server)
      await close(other.server)
    }
  })
})

describe('what the Koa middleware changes, and what it never does', () => {
  it('never touches Object.prototype or Koa’s shared request prototype', async () => {
    const plain = { req: { headers: { 'x-forwarded-for': '203.0.113.5' }, socket: { remoteAddress: '127.0.0.9' } }, request: {} as any, state: {} as any }
    await koaClientIp(parseTrustProxy('127.0.0.9/32'))(plain, async () => undefined)
    // A context that is not Koa's gets own properties only.
    expect(plain.request.ip).toBe('203.0.113.5')
    expect(Object.getOwnPropertyNames(plain.request).sort()).toEqual(['host', 'hostname', 'ip', 'ips', 'protocol', 'secure'])
    expect('protocol' in {}).toBe(false)
    expect(Object.getOwnPropertyDescriptor(Object.prototype, 'host')).toBeUndefined()

    const koaBase = Object.getPrototypeOf(new Koa().request)
    const before = Object.getOwnPropertyDescriptor(koaBase, 'protocol')!.get
    const app = await start(parseTrustProxy('127.0.0.9/32'))
    try {
      await get({ port: app.port, from: PROXY, headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.5' } })
      expect(Object.getOwnPropertyDescriptor(koaBase, 'protocol')!.get).toBe(before)
    } finally {
      await close(app.server)
    }
  })
})

describe('the getters on the app’s own context prototype', () => {
  it('answer from the result as ctx.request does; Koa’s shared context prototype and other apps keep Koa’s delegates', async () => {
    const koaContextBase = Object.getPrototypeOf(new Koa().context)
    const delegate = Object.getOwnPropertyDescriptor(koaContextBase, 'protocol')!.get
    const app = new Koa()
    app.use(koaClientIp(parseTrustProxy('127.0.0.9/32')))
    app.use((ctx) => {
      const r = ctx.request
      ctx.body = {
        ctx: [ctx.ip, ctx.ips, ctx.protocol, ctx.secure, ctx.host, ctx.hostname],
        request: [r.ip, r.ips, r.protocol, r.secure, r.host, r.hostname],
      }
    })
    const server = http.createServer(app.callback())
    try {
      const port = await listen(server)
      const headers = { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example.com:8443' }
      const body = await get({ port, from: PROXY, headers })
      expect(body.ctx).toEqual(['203.0.113.5', ['203.0.113.5'], 'https', true, 'app.example.com:8443', 'app.example.com'])
      expect(body.request).toEqual(body.ctx)
      // A client the policy does not trust: its forwarding headers are not believed on either.
      const forged = await get({ port, from: '127.0.0.77', headers })
      expect(forged.ctx).toEqual(['127.0.0.77', [], 'http', false, HOST, hostnameOf(HOST)])
      expect(forged.request).toEqual(forged.ctx)
    } finally {
      await close(server)
    }
    expect(typeof Object.getOwnPropertyDescriptor(app.context, 'protocol')?.get).toBe('function')
    expect(Object.getOwnPropertyDescriptor(koaContextBase, 'protocol')!.get).toBe(delegate)
    expect(Object.getOwnPropertyDescriptor(new Koa().context, 'protocol')).toBeUndefined()
  })
})
