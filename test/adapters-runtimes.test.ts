/**
 * The adapters that run outside Node, on their runtimes: Elysia on Bun (HTTP, WebSocket, Unix
 * socket, and the docs' example as a program), h3 2 on Bun and Deno (h3's own `serve`, which
 * picks srvx's adapter for the runtime), and the README's Hono middleware on Bun and Deno with
 * their `getConnInfo`. Each answers the adapter scenarios from chosen loopback
 * source addresses as expected, and exactly as Node's core answers the same request.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { badInputSuite, checkInfo, scenarioSuites } from './support/adapter-suites.js'
import { canonicalizeIp, parseTrustProxy, resolveClient } from '../src/index.js'
import { HOST, type Scenario, get } from './support/adapters-net.js'
import { spawnGuarded } from './support/processes.js'
import { ROOT, type RunningServer, describeWithRuntime, getUnix, startProcess, waitForFile } from './support/runtimes.js'

function nodeReference(value: string, peer: string | undefined, headers: Record<string, string>) {
  return JSON.parse(JSON.stringify(resolveClient(parseTrustProxy(value), { remoteAddress: peer, headers: { host: HOST, ...headers } })))
}

function check(body: any, s: Scenario, value: string): void {
  expect(canonicalizeIp(body.peer)).toBe(s.from)
  expect(body.clientIp).toBe(s.expect.ip)
  const info = body.clientInfo
  checkInfo(info, s)
  expect(info).toEqual(nodeReference(value, body.peer, s.headers))
}

describeWithRuntime('Elysia on Bun', 'bun', (bun) => {
  const server = join(ROOT, 'test', 'runtimes', 'elysia-server.ts')
  scenarioSuites('Elysia + elysiaClientIp', (value) => startProcess(bun.path, [server], { TRUST_PROXY: value }), check, { ws: true })

  it.each([
    ['unix', '203.0.113.5', 1],
    ['127.0.0.9/32', null, 0],
  ])('on a Unix socket, TRUST_PROXY=%s: Bun gives no peer address; only `unix` trusts it', async (value, ip, hops) => {
    const dir = mkdtempSync(join(tmpdir(), 'trust-proxy-elysia-'))
    const path = join(dir, 'app.sock')
    const proc = spawnGuarded(bun.path, [server], { cwd: ROOT, env: { ...process.env, TRUST_PROXY: value, UNIX_SOCKET: path } })
    try {
      await waitForFile(path, proc)
      const body = await getUnix(path, { 'x-forwarded-for': '203.0.113.5' })
      expect(body.peer).toBe(null)
      expect(body.clientIp).toBe(ip)
      expect(body.clientInfo.trustedHops).toBe(hops)
    } finally {
      await proc.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  badInputSuite('Elysia', (value) => startProcess(bun.path, [server], { TRUST_PROXY: value }), (body) => body.clientInfo)

  describe('examples/frameworks/elysia.ts, run by Bun', () => {
    let app: RunningServer
    beforeAll(async () => {
      app = await startProcess(bun.path, [join(ROOT, 'examples', 'frameworks', 'elysia.ts')], { TRUST_PROXY: '127.0.0.9/32' })
    })
    afterAll(() => app?.stop())
    it('the proxy’s client is believed, a forging client is not', async () => {
      expect(await get({ port: app.port, from: '127.0.0.9', headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https' } })).toEqual({ ip: '203.0.113.5', anomalies: [] })
      const forged = await get({ port: app.port, from: '127.0.0.77', headers: { 'x-forwarded-for': '6.6.6.6' } })
      expect(forged.ip).toBe('127.0.0.77')
      expect(forged.anomalies).toContain('forwarded-by-untrusted-peer')
    })
  })
})

describeWithRuntime('h3 2 on Bun', 'bun', (bun) => {
  scenarioSuites('h3 serve + h3ClientIp', (value) => startProcess(bun.path, [join(ROOT, 'test', 'runtimes', 'h3-server.mjs')], { TRUST_PROXY: value }), check)
})

describeWithRuntime('h3 2 on Deno', 'deno', (deno) => {
  const args = ['run', '--allow-net', '--allow-env', '--allow-read', '--allow-sys', join(ROOT, 'test', 'runtimes', 'h3-server.mjs')]
  scenarioSuites('h3 serve + h3ClientIp', (value) => startProcess(deno.path, args, { TRUST_PROXY: value }), check)
})

describeWithRuntime('Hono on Bun (the README’s Web middleware)', 'bun', (bun) => {
  scenarioSuites('Hono + honoClientIp + hono/bun getConnInfo', (value) => startProcess(bun.path, [join(ROOT, 'test', 'runtimes', 'hono-server.mjs')], { TRUST_PROXY: value }), check)
})

describeWithRuntime('Hono on Deno (the README’s Web middleware)', 'deno', (deno) => {
  const args = ['run', '--allow-net', '--allow-env', '--allow-read', join(ROOT, 'test', 'runtimes', 'hono-server.mjs')]
  scenarioSuites('Hono + honoClientIp + hono/deno getConnInfo', (value) => startProcess(deno.path, args, { TRUST_PROXY: value }), check)
})
