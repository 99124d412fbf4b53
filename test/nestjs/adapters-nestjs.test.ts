/**
 * The NestJS module and parameter decorators on NestJS 11, on both of its HTTP platforms
 * (@nestjs/platform-express and @nestjs/platform-fastify), over real loopback sockets, and the
 * docs' example (examples/frameworks/nestjs.ts) run as a program, and a WebSocket gateway
 * (@nestjs/websockets on @nestjs/platform-ws) that resolves its upgrade requests with the
 * module's injected policy.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { join } from 'node:path'
import { Controller, Get, Inject, Module, Req } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { WsAdapter } from '@nestjs/platform-ws'
import { type OnGatewayConnection, WebSocketGateway } from '@nestjs/websockets'
import { transformSync } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { badInputSuite, checkInfo, scenarioSuites } from '../support/adapter-suites.js'
import { ClientInfo, type ClientInfoResult, ClientIp, TRUST_PROXY_POLICY, TrustProxyModule } from '../../src/adapters/nestjs.js'
import { resolveRequest } from '../../src/adapters/node.js'
import { canonicalizeIp, parseTrustProxy, type TrustPolicy } from '../../src/index.js'
import { type Scenario, get } from '../support/adapters-net.js'
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
  checkInfo(body.clientInfo, s)
}

for (const platform of ['express', 'fastify'] as const) {
  const startSuite = async (value: string) => {
    const app = await start(platform, value)
    return { port: app.port, stop: () => app.app.close() }
  }
  scenarioSuites(`NestJS 11 on ${platform}`, startSuite, (body, s) => check(body, s))
  badInputSuite(`NestJS on ${platform}`, startSuite, (body) => body.clientInfo)
}

it('every route is covered by the module, parameters and nesting included', async () => {
  for (const platform of ['express', 'fastify'] as const) {
    const app = await start(platform, '1')
    try {
      const nested = await get({ port: app.port, from: '127.0.0.4', headers: { 'x-forwarded-for': '198.51.100.4' }, path: '/nested/path/7' })
      expect(nested.clientIp).toBe('198.51.100.4')
    } finally {
      await app.app.close()
    }
  }
})

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

// WebSocket gateways: the upgrade request is handed to handleConnection; the module's policy is
// injectable, and the Node adapter resolves that request like any other.
@WebSocketGateway({ path: '/ws' })
class ReportGateway implements OnGatewayConnection {
  constructor(@Inject(TRUST_PROXY_POLICY) private readonly policy: TrustPolicy) {}
  handleConnection(client: { send(data: string): void }, request: IncomingMessage) {
    const info = resolveRequest(this.policy, request)
    client.send(JSON.stringify({ peer: request.socket.remoteAddress, clientIp: info.ip ?? null, clientInfo: info }))
  }
}

for (const platform of ['express', 'fastify'] as const) {
  scenarioSuites(
    `NestJS 11 WebSocket gateway (@nestjs/platform-ws) on ${platform}`,
    async (value) => {
      @Module({ imports: [TrustProxyModule.forRoot(parseTrustProxy(value))], providers: [ReportGateway], controllers: [ReportController] })
      class WsModule {}
      const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter()
      const app = await NestFactory.create(WsModule, adapter as any, { logger: false })
      app.useWebSocketAdapter(new WsAdapter(app))
      await app.listen(0, '::')
      return { port: (app.getHttpServer().address() as { port: number }).port, stop: () => app.close() }
    },
    (body, s) => check(body, s),
    { ws: true },
  )
}
