/**
 * The migration guide's code runs: `examples/infram/` (Infram's requestIp.js on Express 5 +
 * express-ws) and `examples/proxy-addr-migration.cjs` (a plain proxy-addr caller), each started
 * as its own process against the built package, and exercised over real loopback sockets. The
 * guide's code blocks are the example files, byte for byte.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import http from 'node:http'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { HOST, PROXY, get, wsFirstMessage } from './support/adapters-net.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const realProxyaddr = createRequire(import.meta.url)('proxy-addr') as (req: unknown, trust: unknown) => string | undefined

interface Started {
  child: ChildProcess
  port: Promise<number>
  exit: Promise<{ code: number | null; stdout: string; stderr: string }>
  stdout: () => string
}

const running: ChildProcess[] = []
afterEach(() => {
  for (const child of running.splice(0)) child.kill()
})

function start(file: string, env: Record<string, string>): Started {
  const child = spawn(process.execPath, [file], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  running.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c))
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c))
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((done) =>
    child.once('exit', (code) => done({ code, stdout, stderr })),
  )
  const port = new Promise<number>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`${file} did not start: ${stderr}`)), 20_000)
    child.stdout!.on('data', () => {
      const m = /listening on \S+ port (\d+)/.exec(stdout)
      if (m) {
        clearTimeout(timer)
        done(Number(m[1]))
      }
    })
    void exit.then(({ code }) => {
      clearTimeout(timer)
      fail(new Error(`${file} exited with ${code}: ${stderr}`))
    })
  })
  port.catch(() => {})
  return { child, port, exit, stdout: () => stdout }
}

function post(port: number, from: string, path: string, headers: Record<string, string>): Promise<any> {
  return new Promise((done, fail) => {
    const req = http.request(
      { host: from.includes(':') ? '::1' : '127.0.0.1', port, path, method: 'POST', localAddress: from, headers: { host: HOST, ...headers } },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (body += c))
        res.on('end', () => (res.statusCode === 200 ? done(JSON.parse(body)) : fail(new Error(`HTTP ${res.statusCode}: ${body}`))))
      },
    )
    req.on('error', fail)
    req.end('{"username":"admin"}')
  })
}

beforeAll(() => {
  // The examples import the package by name, which resolves to dist/ (built by `npm test`).
  const built = ['index.js', 'express.js', 'node.js', 'proxy-addr.cjs', 'index.cjs'].every((f) => existsSync(join(root, 'dist', f)))
  if (!built) throw new Error('dist/ is not built: run `npx tsup` (npm test builds first)')
})

describe('examples/infram: requestIp.js on Express 5 + express-ws', () => {
  it('logs the client behind the proxy, and the direct client, over HTTP and WebSocket', async () => {
    const s = start('examples/infram/server.mjs', { PORT: '0', HOST: '::', TRUST_PROXY: '127.0.0.9/32' })
    const port = await s.port
    const forwarded = { 'x-forwarded-for': '6.6.6.6, 203.0.113.5', 'x-forwarded-proto': 'https' }

    const login = await post(port, PROXY, '/api/auth/login', forwarded)
    expect(login).toMatchObject({
      event: 'login',
      client_ip: '203.0.113.5',
      peer_ip: PROXY,
      forwarded_chain: [PROXY, '203.0.113.5'],
      trusted_hops: 1,
      protocol: 'https',
      anomalies: [],
      ip: '203.0.113.5',
      expressIp: '203.0.113.5',
    })
    const direct = await post(port, '127.0.0.50', '/api/auth/login', forwarded)
    expect(direct).toMatchObject({ client_ip: '127.0.0.50', protocol: 'http', anomalies: ['forwarded-by-untrusted-peer'] })

    const terminal = await wsFirstMessage({ port, from: PROXY, path: '/api/terminal', headers: forwarded })
    expect(terminal).toMatchObject({ event: 'terminal', client_ip: '203.0.113.5', ip: '203.0.113.5', protocol: 'https' })
    const terminalV6 = await wsFirstMessage({ port, from: '::1', path: '/api/terminal', headers: forwarded })
    expect(terminalV6).toMatchObject({ client_ip: '::1', ip: '::1', anomalies: ['forwarded-by-untrusted-peer'] })

    // The audit log (stdout) has one line per event, with the same fields. The pipe may deliver
    // the last line after the WebSocket message: wait for it.
    const auditLines = () =>
      s
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l))
    for (let waited = 0; auditLines().length < 4 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20))
    const lines = auditLines()
    expect(lines.map((l) => [l.event, l.client_ip])).toEqual([
      ['login', '203.0.113.5'],
      ['login', '127.0.0.50'],
      ['terminal', '203.0.113.5'],
      ['terminal', '::1'],
    ])
  })

  it('TRUST_PROXY=1 is one hop: the client cannot write its own audit IP', async () => {
    const s = start('examples/infram/server.mjs', { PORT: '0', TRUST_PROXY: '1' })
    const port = await s.port
    // The old parser read "1" as "trust every hop", which would log 6.6.6.6 here.
    const login = await post(port, '127.0.0.77', '/api/auth/login', { 'x-forwarded-for': '6.6.6.6, 198.51.100.4' })
    expect(login.client_ip).toBe('198.51.100.4')
    expect(login.expressIp).toBe('198.51.100.4')
    const { stderr } = await (s.child.kill(), s.exit)
    expect(stderr).toMatch(/TRUST_PROXY: A hop count \(1\)/)
  })

  it('does not start on a bad TRUST_PROXY, and says which entry is wrong', async () => {
    const s = start('examples/infram/server.mjs', { PORT: '0', TRUST_PROXY: 'loopback, 127.1' })
    const { code, stderr } = await s.exit
    expect(code).toBe(1)
    expect(stderr).toContain('"127.1"')
    expect(stderr).not.toContain('listening')
  })
})

describe('examples/proxy-addr-migration.cjs: a plain proxy-addr caller', () => {
  const cases = [
    { from: PROXY, xff: '203.0.113.7, 10.0.0.5' },
    { from: PROXY, xff: 'unknown, 10.0.0.5' },
    { from: PROXY, xff: '198.51.100.1, 203.0.113.7, 10.0.0.5' },
    { from: '127.0.0.2', xff: '' },
  ]

  it('step 1 gives proxy-addr 2.0.8’s answers; step 2 gives canonical addresses only', async () => {
    const s = start('examples/proxy-addr-migration.cjs', { PORT: '0' })
    const port = await s.port
    for (const c of cases) {
      const headers: Record<string, string> = c.xff ? { 'x-forwarded-for': c.xff } : {}
      const body = await get({ port, from: c.from, headers })
      const expected = realProxyaddr({ socket: { remoteAddress: c.from }, headers }, ['loopback', '10.0.0.0/8'])
      expect(body.proxyaddr).toBe(expected)
      expect(body.chain[0]).toBe(c.from)
      expect(body.chain[body.chain.length - 1]).toBe(expected)
      if (c.xff.startsWith('unknown')) {
        // proxy-addr returns the header text; the core stops at the last verified hop.
        expect(body.proxyaddr).toBe('unknown')
        expect(body.core).toBe('10.0.0.5')
      } else {
        expect(body.core).toBe(expected)
      }
    }
  })
})

describe('built package', () => {
  it('a policy from one bundle works in every adapter of the other (recognised by shape)', async () => {
    const { execFileSync } = await import('node:child_process')
    const script = `
      const esm = await import('@infram/trust-proxy')
      const { createRequire } = await import('node:module')
      const require = createRequire(process.cwd() + '/')
      const cjs = require('@infram/trust-proxy')
      const req = { headers: { 'x-forwarded-for': '203.0.113.1' }, socket: { remoteAddress: '::ffff:127.0.0.9' } }
      const out = []
      for (const policy of [esm.parseTrustProxy('127.0.0.9/32'), cjs.parseTrustProxy('127.0.0.9/32')]) {
        out.push(require('@infram/trust-proxy/node').resolveRequest(policy, req).ip)
        out.push((await import('@infram/trust-proxy/node')).resolveRequest(policy, req).ip)
        out.push(require('@infram/trust-proxy/web').resolveWebRequest(policy, { headers: new Headers(req.headers) }, '127.0.0.9').ip)
        const mw = require('@infram/trust-proxy/express').clientIp(policy)
        const r = { ...req }
        mw(r, {}, () => out.push(r.clientIp))
        out.push(typeof require('@infram/trust-proxy/fastify').fastifyClientIp)
      }
      console.log(out.join(' '))
    `
    const result = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' })
    expect(result.trim()).toBe(Array(2).fill('203.0.113.1 203.0.113.1 203.0.113.1 203.0.113.1 function').join(' '))
  })
})

describe('README.md, docs/infram.md and docs/security.md', () => {
  const text = ['README.md', 'docs/infram.md', 'docs/security.md'].map((f) => readFileSync(join(root, f), 'utf8')).join('\n')
  const blocks = [...text.matchAll(/<!-- example: (\S+) -->\n```\w*\n([\s\S]*?)```/g)].map((m) => [m[1]!, m[2]!] as const)

  it('shows the migration examples, byte for byte', () => {
    const shown = blocks.map(([p]) => p)
    for (const file of ['examples/infram/requestIp.mjs', 'examples/infram/server.mjs', 'examples/proxy-addr-migration.cjs']) {
      expect(shown).toContain(file)
    }
    for (const [file, code] of blocks) expect(readFileSync(join(root, file), 'utf8'), file).toBe(code)
  })
})
