/**
 * The NestJS module and parameter decorators on NestJS 11, on both of its HTTP platforms
 * (@nestjs/platform-express and @nestjs/platform-fastify), over real loopback sockets, and the
 * docs' example (examples/frameworks/nestjs.ts) run as a program. NestJS's WebSocket gateways
 * need @nestjs/websockets and a ws or socket.io platform; they are not covered here.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Controller, Get, Inject, Module, Req } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { transformSync } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BAD_INPUT, checkNoHeaderText, rawRequest } from '../support/bad-input.js'
import { ClientInfo, type ClientInfoResult, ClientIp, TRUST_PROXY_POLICY, TrustProxyModule } from '../../src/adapters/nestjs.js'
import { canonicalizeIp, parseTrustProxy, type TrustPolicy } from '../../src/index.js'
import { SCENARIOS, type Scenario, get } from '../support/adapters-net.js'
import { type GuardedProcess, freePort, spawnGuarded } from '../support/processes.js'
import { ROOT } from '../support/runtimes.js'

@Controller()
class ReportController {
  @Get()
  report(@ClientIp() ip: string | undefined, @ClientInfo() info: ClientInfoResult, @Req() req: any) {
    return { peer: (req.raw ?? req).socket.remoteAddress, clientIp: ip ?? null, clientInfo: info }
  }

  @Get('nested/path/:id')
  nested(@ClientIp() ip: string | undefined) {
    return { clientIp: ip ?? null }
  }
}

type Platform = 'express' | 'fastify'

async function start(platform: Platform, value: string) {
  @Module({ imports: [TrustProxyModule.forRoot(parseTrustProxy(value))], controllers: [ReportController] })
  class AppModule {}
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter()
  const app = await NestFactory.create(AppModule, adapter as any, { logger: false })
  await app.listen(0, '::')
  const port = (app.getHttpServer().address() as { port: number }).port
  return { app, port }
}

function check(body: any, s: Scenario): void {
  expect(canonicalizeIp(body.peer)).toBe(s.from)
  expect(body.clientIp).toBe(s.expect.ip)
  expect(body.clientInfo.peer).toBe(s.from)
  expect(body.clientInfo.trustedHops).toBe(s.expect.trustedHops)
  expect(body.clientInfo.protocol).toBe(s.expect.protocol)
  expect(body.clientInfo.host).toBe(s.expect.host)
  for (const code of s.expect.anomalies ?? []) expect(body.clientInfo.anomalies).toContain(code)
  if (!s.headers['x-forwarded-for']) expect(body.clientInfo.anomalies).not.toContain('forwarded-by-untrusted-peer')
}

for (const platform of ['express', 'fastify'] as const) {
  for (const [value, scenarios] of Object.entries(SCENARIOS)) {
    describe(`NestJS 11 on ${platform}, TRUST_PROXY=${JSON.stringify(value)}`, () => {
      let app: Awaited<ReturnType<typeof start>>
      beforeAll(async () => {
        app = await start(platform, value)
      })
      afterAll(() => app?.app.close())
      for (const s of scenarios) {
        it(`${s.name} (from ${s.from})`, async () => {
          check(await get({ port: app.port, from: s.from, headers: s.headers }), s)
          // Every route is covered by the module's middleware, parameters and nesting included.
          const nested = await get({ port: app.port, from: s.from, headers: s.headers, path: '/nested/path/7' })
          expect(nested.clientIp).toBe(s.expect.ip)
        })
      }
    })
  }
}

describe('TrustProxyModule setup', () => {
  it('refuses the raw TRUST_PROXY value when the module is declared, before the app starts', () => {
    expect(() => TrustProxyModule.forRoot('1' as any)).toThrow(/parseTrustProxy/)
    expect(() => TrustProxyModule.forRoot(parseTrustProxy('1'), { header: 'bad header' })).toThrow(TypeError)
  })

  it('the policy is injectable anywhere as TRUST_PROXY_POLICY (the module is global)', async () => {
    @Controller('policy')
    class PolicyController {
      constructor(@Inject(TRUST_PROXY_POLICY) private readonly policy: TrustPolicy) {}
      @Get()
      get() {
        return { policy: this.policy.toString() }
      }
    }
    @Module({ controllers: [PolicyController] })
    class Feature {}
    @Module({ imports: [TrustProxyModule.forRoot(parseTrustProxy('10.0.0.0/8, unix')), Feature] })
    class Root {}
    const app = await NestFactory.create(Root, new ExpressAdapter(), { logger: false })
    await app.listen(0, '127.0.0.1')
    try {
      const port = (app.getHttpServer().address() as { port: number }).port
      expect(await get({ port, from: '127.0.0.3', path: '/policy' })).toEqual({ policy: parseTrustProxy('10.0.0.0/8, unix').toString() })
    } finally {
      await app.close()
    }
  })

  it('a decorator without the module is a clear error, not a silent "unknown"', async () => {
    @Module({ controllers: [ReportController] })
    class Bare {}
    const app = await NestFactory.create(Bare, new ExpressAdapter(), { logger: false })
    await app.listen(0, '127.0.0.1')
    try {
      const port = (app.getHttpServer().address() as { port: number }).port
      await expect(get({ port, from: '127.0.0.3' })).rejects.toThrow(/HTTP 500/)
    } finally {
      await app.close()
    }
  })
})

describe('examples/frameworks/nestjs.ts, run as a program on Node', () => {
  let proc: GuardedProcess | undefined
  let port = 0
  beforeAll(async () => {
    // Compiled as a NestJS build compiles it (legacy decorators), into the package's folder so
    // that `@infram/trust-proxy` resolves to this package, then run by Node.
    const dir = join(ROOT, 'test-artifacts')
    mkdirSync(dir, { recursive: true })
    const out = join(dir, 'nestjs-example.mjs')
    const source = readFileSync(join(ROOT, 'examples', 'frameworks', 'nestjs.ts'), 'utf8')
    const { code } = transformSync(source, {
      loader: 'ts',
      format: 'esm',
      target: 'node18',
      tsconfigRaw: { compilerOptions: { experimentalDecorators: true } },
    })
    writeFileSync(out, code)
    port = await freePort()
    proc = spawnGuarded(process.execPath, [out], { cwd: ROOT, env: { ...process.env, PORT: String(port), TRUST_PROXY: '127.0.0.9/32' } })
    await proc.waitListening([['127.0.0.1', port], ['::1', port]], 30_000)
  })
  afterAll(() => proc?.stop())

  it('answers with the client for the proxy, and with the peer for a forging client', async () => {
    expect(await get({ port, from: '127.0.0.9', headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https' } })).toEqual({ ip: '203.0.113.5', anomalies: [] })
    const forged = await get({ port, from: '127.0.0.77', headers: { 'x-forwarded-for': '6.6.6.6' } })
    expect(forged.ip).toBe('127.0.0.77')
    expect(forged.anomalies).toContain('forwarded-by-untrusted-peer')
    expect((await get({ port, from: '::1' })).ip).toBe('::1')
  })
})

for (const platform of ['express', 'fastify'] as const) {
  describe(`NestJS on ${platform}: header shapes a client can send`, () => {
    let app: Awaited<ReturnType<typeof start>>
    beforeAll(async () => {
      app = await start(platform, '127.0.0.9/32')
    })
    afterAll(() => app?.app.close())
    for (const b of BAD_INPUT) {
      it(`${b.name}: no error, no header text`, async () => {
        const { status, body } = await rawRequest(app.port, b.lines)
        expect(status, JSON.stringify(body)).toBe(200)
        checkNoHeaderText(body.clientInfo)
      })
    }
  })
}
