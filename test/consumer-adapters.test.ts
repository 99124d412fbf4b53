/**
 * The new adapter entry points as a user gets them (`npm pack`, installed into a fresh project),
 * type-checked with `skipLibCheck: false`:
 *
 * - in a project with NO framework installed, the core, `/node`, `/koa` and `/h3` type-check
 *   (Koa's and h3's adapters describe the context they read instead of importing the
 *   framework's types), and importing the core never pulls in an adapter's declarations;
 * - in a project that has the frameworks, a Koa app, an h3 app, a NestJS controller and an
 *   Elysia app using the adapters type-check, the values they add typed (errors inside the
 *   frameworks' own declarations, which skipLibCheck false also reports, are theirs).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT } from './support/runtimes.js'
import { installPacked } from './support/packed.js'

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 })
const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
const COMMON = ['--noEmit', '--strict', '--skipLibCheck', 'false', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types')]

let packDir = ''
let tarball = ''
const dirs: string[] = []

function project(parent: string): string {
  const dir = mkdtempSync(join(parent, 'trust-proxy-consumer-'))
  dirs.push(dir)
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }))
  installPacked(dir, tarball, ['--no-save'])
  return dir
}

function typecheck(dir: string, files: Record<string, string>, extra: string[] = []): string {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  try {
    run('node', [tsc, ...COMMON, ...extra, ...Object.keys(files)], dir)
    return ''
  } catch (e) {
    return String((e as { stdout?: string }).stdout)
  }
}

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'koa.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it first)')
  packDir = mkdtempSync(join(tmpdir(), 'trust-proxy-pack-'))
  const name = run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', packDir], ROOT).trim().split('\n').pop()!
  tarball = join(packDir, name)
}, 180_000)

afterAll(() => {
  for (const d of [packDir, ...dirs]) if (d) rmSync(d, { recursive: true, force: true })
})

describe('a project with no framework installed', () => {
  it('type-checks the core, /node, /koa and /h3 with skipLibCheck false', () => {
    const dir = project(tmpdir())
    expect(existsSync(join(dir, 'node_modules', 'koa'))).toBe(false)
    expect(existsSync(join(dir, 'node_modules', 'h3'))).toBe(false)
    const errors = typecheck(dir, {
      'use.mts': `import { parseTrustProxy, type ClientInfo } from '@infram/trust-proxy'
import { resolveRequest } from '@infram/trust-proxy/node'
import { koaClientIp, type KoaClientIpState } from '@infram/trust-proxy/koa'
import { h3ClientIp } from '@infram/trust-proxy/h3'
const policy = parseTrustProxy('loopback')
const mw = koaClientIp(policy)
const ctx = { req: { headers: {}, socket: { remoteAddress: '127.0.0.1' } }, request: {}, state: {} as Record<string, unknown> }
await mw(ctx, async () => undefined)
const state = ctx.state as unknown as KoaClientIpState
const fromKoa: string | undefined = state.clientIp
const { getRequestIP } = h3ClientIp(policy)
const fromH3: string | undefined = getRequestIP({ req: { headers: new Headers(), ip: '127.0.0.1' }, context: {} })
const info: ClientInfo = resolveRequest(policy, ctx.req)
export { fromKoa, fromH3, info }
`,
    })
    expect(errors).toBe('')
  })

  it('runs the Koa and h3 adapters without their frameworks (they import nothing from them)', () => {
    const dir = dirs[0]!
    writeFileSync(
      join(dir, 'run.mjs'),
      `import { parseTrustProxy } from '@infram/trust-proxy'
import { koaClientIp } from '@infram/trust-proxy/koa'
import { h3ClientIp } from '@infram/trust-proxy/h3'
const policy = parseTrustProxy('127.0.0.9/32')
const ctx = { req: { headers: { 'x-forwarded-for': '203.0.113.5' }, socket: { remoteAddress: '127.0.0.9' } }, request: {}, state: {} }
await koaClientIp(policy)(ctx, async () => {})
const h3 = h3ClientIp(policy).getRequestIP({ req: { headers: new Headers({ 'x-forwarded-for': '6.6.6.6' }), ip: '127.0.0.77' }, context: {} })
console.log(JSON.stringify([ctx.state.clientIp, ctx.request.ip, h3]))`,
    )
    expect(JSON.parse(run('node', ['run.mjs'], dir))).toEqual(['203.0.113.5', '203.0.113.5', '127.0.0.77'])
  })

  it('importing the NestJS or Elysia entry point without its framework fails clearly, at import', () => {
    const dir = dirs[0]!
    writeFileSync(join(dir, 'nest.mjs'), `await import('@infram/trust-proxy/nestjs')`)
    expect(() => run('node', ['nest.mjs'], dir)).toThrow(/@nestjs\/common/)
  })
})

describe('a project with the frameworks', () => {
  it('type-checks a Koa app, an h3 app, a NestJS controller and an Elysia app that use the adapters', () => {
    // Inside the repository, so that the frameworks resolve from its node_modules, while the
    // package itself comes from the tarball installed in the project.
    const parent = join(ROOT, 'test-artifacts')
    mkdirSync(parent, { recursive: true })
    const dir = project(parent)
    const errors = typecheck(
      dir,
      {
        'koa-app.mts': `import Koa from 'koa'
import { parseTrustProxy } from '@infram/trust-proxy'
import { koaClientIp } from '@infram/trust-proxy/koa'
const app = new Koa()
app.use(koaClientIp(parseTrustProxy(process.env.TRUST_PROXY)))
app.use((ctx) => { ctx.body = ctx.ip })
`,
        'h3-app.mts': `import { H3 } from 'h3'
import { parseTrustProxy } from '@infram/trust-proxy'
import { h3ClientIp } from '@infram/trust-proxy/h3'
const { getRequestIP, getRequestProtocol } = h3ClientIp(parseTrustProxy(process.env.TRUST_PROXY))
export const app = new H3().get('/', (event) => ({ ip: getRequestIP(event) ?? null, protocol: getRequestProtocol(event) }))
`,
        'nest-app.mts': `import { Controller, Get, Module } from '@nestjs/common'
import { parseTrustProxy } from '@infram/trust-proxy'
import { ClientIp, TrustProxyModule } from '@infram/trust-proxy/nestjs'
@Controller()
class C { @Get() ip(@ClientIp() ip: string | undefined) { return ip } }
@Module({ imports: [TrustProxyModule.forRoot(parseTrustProxy('1'))], controllers: [C] })
export class AppModule {}
`,
        'elysia-app.mts': `import { Elysia } from 'elysia'
import { parseTrustProxy } from '@infram/trust-proxy'
import { elysiaClientIp } from '@infram/trust-proxy/elysia'
export const app = new Elysia().use(elysiaClientIp(parseTrustProxy('1'))).get('/', ({ clientIp }) => {
  const ip: string | undefined = clientIp
  return ip ?? 'unknown'
})
`,
      },
      ['--experimentalDecorators', '--lib', 'es2022,dom'],
    )
    // Under skipLibCheck false some frameworks' own declarations do not compile (@types/koa
    // against content-disposition's, elysia's internals). Those are theirs; every error must be
    // in them, none in this package's declarations or in the apps.
    const lines = errors.split('\n').filter((l) => /error TS\d+/.test(l))
    const ours = lines.filter((l) => !/node_modules\/(@types\/koa|elysia|@nestjs|h3|srvx|koa)\//.test(l))
    expect(ours).toEqual([])
  })
})
