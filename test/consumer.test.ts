/**
 * The package as a user gets it: `npm pack`, install the tarball into fresh projects, then
 * `import` it, `require` it, run its command line, and type-check TypeScript that uses it under
 * each module resolution a user may have (node16 from CommonJS and from ESM, nodenext, bundler,
 * node10), always with `skipLibCheck: false`, in a project with no framework installed (a Bun,
 * Deno or workers user) and in one with fastify, hono and @types/node. publint --strict and
 * arethetypeswrong check the tarball itself, offline. The `exports` map, not the source tree, is
 * what is tested.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LIBRARY_ENTRIES } from '../tsup.config.js'
import { IS_CHECKOUT, ROOT as root, copyRepository, plainEnv } from './support/repo-copy.js'
import { installPacked } from './support/packed.js'

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000, env: plainEnv() })
const bin = (pkg: string, file: string) => join(root, 'node_modules', pkg, file)
const tsc = bin('typescript', 'bin/tsc')

/** What `npm pack` may weigh (docs/development.md): room for new entry points, none for source maps (+1 MB) or a second core. */
const BUDGET = { packed: 240_000, unpacked: 800_000 }

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const SUBPATHS = Object.keys(LIBRARY_ENTRIES).filter((e) => e !== 'index')

let dir = ''
let tarball = ''
let packInfo: { size: number; unpackedSize: number; files: { path: string }[] }
/** A project with only the package installed. */
let bare = ''
/** A project with the package and the frameworks (linked from this checkout's dev dependencies). */
let full = ''

function project(name: string, links: string[]): string {
  const p = join(dir, name)
  mkdirSync(p)
  writeFileSync(join(p, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }))
  installPacked(p, tarball)
  for (const l of links) symlinkSync(join(root, 'node_modules', l), join(p, 'node_modules', l), 'dir')
  return p
}

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it first)')
  dir = mkdtempSync(join(tmpdir(), 'trust-proxy-consumer-'))
  // --ignore-scripts: pack what dist/ holds now; rebuilding here would race the other test files.
  const out = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], root))
  packInfo = out[0]
  tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!)
  bare = project('bare', [])
  full = project('full', ['fastify', 'hono', '@hono', '@types'])
}, 240_000)

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('the tarball', () => {
  it('ships dist, the README, the changelog and the licence, and no source maps', () => {
    const files = readdirSync(join(bare, 'node_modules', '@infram', 'trust-proxy')).sort()
    expect(files).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'dist', 'package.json'])
    expect(packInfo.files.map((f) => f.path).filter((f) => /\.map$|^src\//.test(f))).toEqual([])
    expect(readFileSync(join(bare, 'node_modules', '@infram', 'trust-proxy', 'LICENSE'), 'utf8')).toMatch(/^MIT License/)
  })

  it(`stays within its size budget (${BUDGET.packed / 1000} kB packed, ${BUDGET.unpacked / 1000} kB unpacked)`, () => {
    expect(packInfo.size).toBeLessThan(BUDGET.packed)
    expect(packInfo.unpackedSize).toBeLessThan(BUDGET.unpacked)
  })

  it('holds one copy of the core per format', () => {
    const dist = join(bare, 'node_modules', '@infram', 'trust-proxy', 'dist')
    const withCore = (ext: string) =>
      readdirSync(dist).filter((f) => f.endsWith(ext) && f !== 'cli.js' && /\bclass TrustPolicy\b|\bTrustPolicy = class\b/.test(readFileSync(join(dist, f), 'utf8')))
    expect(withCore('.cjs')).toHaveLength(1)
    expect(withCore('.js')).toHaveLength(1)
  })

  it('names its licence, repository, home page and issue tracker', () => {
    expect(manifest).toMatchObject({ license: 'MIT', repository: { type: 'git' }, homepage: expect.stringMatching(/^https:/), bugs: { url: expect.stringMatching(/^https:/) } })
    expect(manifest.scripts.prepack).toBe('npm run build')
  })

  it('exports every entry point the build makes, for node16, bundlers and node10', () => {
    expect(Object.keys(manifest.exports).sort()).toEqual(['.', './package.json', ...SUBPATHS.map((s) => `./${s}`)].sort())
    expect(Object.keys(manifest.typesVersions['*']).sort()).toEqual([...SUBPATHS].sort())
  })

  it('passes publint --strict', () => {
    const out = run('node', [bin('publint', 'src/cli.js'), '--strict', tarball], dir)
    expect(out).toMatch(/All good/)
  })

  it('passes arethetypeswrong under node10, node16 (CJS and ESM) and bundler', () => {
    // --no-definitely-typed: look at the tarball only, with no registry lookup.
    const out = run('node', [bin('@arethetypeswrong/cli', 'dist/index.js'), '--no-color', '--no-emoji', '--no-definitely-typed', '--format', 'json', tarball], dir)
    const result = JSON.parse(out) as { analysis: { problems: unknown[]; entrypoints: Record<string, unknown> } }
    expect(result.analysis.problems).toEqual([])
    expect(Object.keys(result.analysis.entrypoints).sort()).toEqual(['.', './package.json', ...SUBPATHS.map((s) => `./${s}`)].sort())
  })
})

describe('at run time', () => {
  it('can be imported as ESM', () => {
    writeFileSync(
      join(bare, 'esm.mjs'),
      `import { parseTrustProxy, resolveClientIp, TrustProxyError, TrustPolicy } from '@infram/trust-proxy'
import { resolveRequest } from '@infram/trust-proxy/node'
const policy = parseTrustProxy('1')
let error
try { parseTrustProxy('127.1') } catch (e) { error = e }
const info = resolveRequest(policy, { socket: { remoteAddress: '127.0.0.1' }, headers: { 'x-forwarded-for': '203.0.113.5' } })
console.log(JSON.stringify([policy.kind, resolveClientIp(policy, '::ffff:127.0.0.1', '6.6.6.6, 203.0.113.5'), error instanceof TrustProxyError, error.code, policy instanceof TrustPolicy, info.ip]))`,
    )
    expect(JSON.parse(run('node', ['esm.mjs'], bare))).toEqual(['hops', '203.0.113.5', true, 'ERR_INVALID_TRUST_PROXY', true, '203.0.113.5'])
  })

  it('can be required as CommonJS, with one TrustPolicy class for all its entry points', () => {
    writeFileSync(
      join(bare, 'cjs.cjs'),
      `const { parseTrustProxy, resolveClient, TrustPolicy } = require('@infram/trust-proxy')
const { clientIp } = require('@infram/trust-proxy/express')
const proxyaddr = require('@infram/trust-proxy/proxy-addr')
const info = resolveClient(parseTrustProxy('loopback'), { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https' } })
import('@infram/trust-proxy').then((m) => {
  console.log(JSON.stringify([info.ip, info.protocol, parseTrustProxy('1') instanceof TrustPolicy, typeof clientIp(parseTrustProxy('1')), typeof proxyaddr, typeof proxyaddr.all,
    m.parseTrustProxy('1') instanceof TrustPolicy, m.resolveClientIp(parseTrustProxy('1'), '127.0.0.1', '203.0.113.9')]))
})`,
    )
    // The last two: a policy is recognised by shape, so one made by the ESM build works with the
    // CommonJS build, although the two builds' classes differ (documented in docs/development.md).
    expect(JSON.parse(run('node', ['cjs.cjs'], bare))).toEqual(['203.0.113.5', 'https', true, 'function', 'function', 'function', false, '203.0.113.9'])
  })

  // The forms docs/cli.md gives, run as written in a project that has the package
  // ('npm install @infram/trust-proxy' is what the install above does, from the packed tarball).
  it.each(['npx trust-proxy check 1', 'npm exec -- trust-proxy check 1', 'node node_modules/@infram/trust-proxy/dist/cli.js check 1'])(
    'runs its command line as the docs show, inside a project that has it: %s',
    (command) => {
      // Offline: were the bin missing, npx must fail rather than fetch another package.
      const out = execFileSync('bash', ['-c', command], { cwd: bare, encoding: 'utf8', env: plainEnv({ npm_config_offline: 'true' }), timeout: 60_000 })
      expect(out).toMatch(/^valid TRUST_PROXY="1"$/m)
    },
  )
})

// TypeScript that uses every entry point; written as `import` (ESM, bundler) or `import = require`.
const esmSource = `import { auditFields, parseTrustProxy, resolveClient, resolveClientIp, TrustProxyError, type ClientInfo, type TrustPolicy } from '@infram/trust-proxy'
import { clientIp } from '@infram/trust-proxy/express'
import { fastifyClientIp, type FastifyClientIpOptions } from '@infram/trust-proxy/fastify'
import { createResolver, resolveRequest } from '@infram/trust-proxy/node'
import { honoClientIp, resolveWebRequest, type ClientIpVariables } from '@infram/trust-proxy/web'
import proxyaddr from '@infram/trust-proxy/proxy-addr'
const policy: TrustPolicy = parseTrustProxy('loopback')
const kind: 'none' | 'all' | 'hops' | 'ranges' = policy.kind
const ip: string | undefined = resolveClientIp(policy, '127.0.0.1', undefined)
const info: ClientInfo = resolveClient(policy, { remoteAddress: ip, headers: {} }, { header: 'forwarded' })
const fn: (addr: string | undefined, hop: number) => boolean = policy.trust
const err: string = new TrustProxyError('empty-entry', '', 0, 'x').code
const audit: string | null = auditFields(info).client_ip
const middleware = clientIp(policy)
const options: FastifyClientIpOptions = { policy }
const plugin = fastifyClientIp
const node: ClientInfo = resolveRequest(policy, { socket: { remoteAddress: '127.0.0.1' }, headers: {} })
const resolver = createResolver(policy)
const web: string | undefined = resolveWebRequest(policy, { headers: { get: () => null } }, '127.0.0.1').ip
const hono = honoClientIp(policy, { getConnInfo: () => ({ remote: { address: '127.0.0.1' } }) })
const vars: ClientIpVariables = { clientIp: web, clientInfo: node }
const dropin: string = proxyaddr({ headers: {}, socket: { remoteAddress: '127.0.0.1' } }, 'loopback')
export { kind, info, fn, err, audit, middleware, options, plugin, resolver, hono, vars, dropin }
`
const cjsSource = `import tp = require('@infram/trust-proxy')
import express = require('@infram/trust-proxy/express')
import fastify = require('@infram/trust-proxy/fastify')
import node = require('@infram/trust-proxy/node')
import web = require('@infram/trust-proxy/web')
import proxyaddr = require('@infram/trust-proxy/proxy-addr')
const policy: tp.TrustPolicy = tp.parseTrustProxy(['loopback'])
export const ip: string | undefined = tp.resolveClientIp(policy, '127.0.0.1', '1.2.3.4')
export const mw = express.clientIp(policy)
export const plugin: fastify.FastifyClientIpPlugin = fastify.fastifyClientIp
export const info: tp.ClientInfo = node.resolveRequest(policy, { socket: null, headers: {} })
export const w = web.resolveWebRequest(policy, { headers: { get: () => null } }, undefined)
const trust: proxyaddr.ProxyAddrTrustFunction = proxyaddr.compile(['loopback'])
const req: proxyaddr.ProxyAddrRequest = { headers: { 'x-forwarded-for': '203.0.113.5' }, socket: { remoteAddress: '127.0.0.1' } }
export const addr: string = proxyaddr(req, trust)
export const all: string[] = proxyaddr.all(req, 'loopback')
`
// With the frameworks and Node's types installed: the adapters fit the real framework types, and
// code typed against @types/proxy-addr compiles unchanged against the drop-in.
const fastifyEsm = `import Fastify from 'fastify'
import { parseTrustProxy } from '@infram/trust-proxy'
import { fastifyClientIp } from '@infram/trust-proxy/fastify'
const policy = parseTrustProxy(process.env.TRUST_PROXY)
const app = Fastify({ trustProxy: policy.trust })
app.register(fastifyClientIp, { policy })
app.get('/', async (request) => {
  const ip: string | undefined = request.clientIp
  return { ip, anomalies: request.clientInfo.anomalies }
})
export { app }
`
const fastifyCjs = `import Fastify = require('fastify')
import tp = require('@infram/trust-proxy')
import adapter = require('@infram/trust-proxy/fastify')
const policy = tp.parseTrustProxy(process.env.TRUST_PROXY)
const app = Fastify.default({ trustProxy: policy.trust })
app.register(adapter.fastifyClientIp, { policy })
app.get('/', async (request) => {
  const ip: string | undefined = request.clientIp
  return ip
})
export = app
`
const honoEsm = `import { Hono, type Context } from 'hono'
import { getConnInfo } from '@hono/node-server/conninfo'
import { parseTrustProxy } from '@infram/trust-proxy'
import { honoClientIp, type ClientIpVariables } from '@infram/trust-proxy/web'
const policy = parseTrustProxy(process.env.TRUST_PROXY)
const app = new Hono<{ Variables: ClientIpVariables }>()
app.use(honoClientIp(policy, { getConnInfo, encrypted: (c: Context) => c.req.header('x-test') === '1' }))
app.get('/', (c) => {
  const ip: string | undefined = c.get('clientIp')
  return c.text(ip ?? 'unknown')
})
const plain = new Hono()
plain.use(honoClientIp(policy, { getConnInfo }))
export { app, plain }
`
const swapCjs = `// Was: import proxyaddr = require('proxy-addr'), typed by @types/proxy-addr.
import http = require('node:http')
import proxyaddr = require('@infram/trust-proxy/proxy-addr')
export function handler(req: http.IncomingMessage): [string, string[], boolean] {
  const trust: (addr: string, i: number) => boolean = proxyaddr.compile(['loopback', '10.0.0.0/8'])
  const ip: string = proxyaddr(req, trust)
  const all: string[] = proxyaddr.all(req)
  const custom: string = proxyaddr(req, (addr: string, i: number) => i < 1 && addr.startsWith('127.'))
  return [ip, all, custom.length > 0]
}
`
const bad = `import { parseTrustProxy } from '@infram/trust-proxy'
const n: number = parseTrustProxy('1').kind
export { n }
`

type Setup = { name: string; options: string[]; files: Record<string, string> }
const ESM_FILES = { 'use.mts': esmSource, 'use.cts': cjsSource }
const SETUPS: Setup[] = [
  { name: 'node16 (CommonJS and ESM files)', options: ['--module', 'node16', '--moduleResolution', 'node16'], files: ESM_FILES },
  { name: 'nodenext', options: ['--module', 'nodenext', '--moduleResolution', 'nodenext'], files: ESM_FILES },
  { name: 'bundler', options: ['--module', 'esnext', '--moduleResolution', 'bundler'], files: { 'use.ts': esmSource } },
  { name: 'node10', options: ['--module', 'commonjs', '--moduleResolution', 'node10', '--esModuleInterop'], files: { 'use.ts': esmSource } },
]
const FRAMEWORK_FILES: Record<string, Record<string, string>> = {
  'node16 (CommonJS and ESM files)': { 'fastify.mts': fastifyEsm, 'fastify.cts': fastifyCjs, 'hono.mts': honoEsm, 'swap.cts': swapCjs },
  nodenext: { 'fastify.mts': fastifyEsm, 'fastify.cts': fastifyCjs, 'hono.mts': honoEsm, 'swap.cts': swapCjs },
  bundler: { 'fastify.ts': fastifyEsm, 'hono.ts': honoEsm },
  node10: { 'fastify.ts': fastifyEsm },
}

function typecheck(projectDir: string, setup: Setup, files: Record<string, string>, sub: string): string {
  const at = join(projectDir, sub)
  mkdirSync(at, { recursive: true })
  for (const [name, text] of Object.entries(files)) writeFileSync(join(at, name), text)
  // The bare project has no @types at all: nothing but the package's own declarations.
  const types = projectDir === full ? ['--types', 'node'] : []
  try {
    return run('node', [tsc, '--noEmit', '--strict', '--skipLibCheck', 'false', '--target', 'es2022', '--lib', 'es2022', ...types, ...setup.options, ...Object.keys(files).map((f) => join(at, f))], projectDir)
  } catch (e) {
    throw new Error(`tsc failed (${setup.name}):\n${String((e as { stdout?: string }).stdout)}`)
  }
}

describe('type declarations, skipLibCheck false', () => {
  for (const setup of SETUPS) {
    it(`${setup.name}, with no framework and no @types/node installed`, () => {
      expect(typecheck(bare, setup, setup.files, `bare-${setup.options[3]}`)).toBe('')
    }, 60_000)
    it(`${setup.name}, with fastify, hono and @types/node installed: the adapters fit the frameworks' types`, () => {
      expect(typecheck(full, setup, { ...setup.files, ...FRAMEWORK_FILES[setup.name] }, `full-${setup.options[3]}`)).toBe('')
    }, 60_000)
  }

  it('are precise enough to catch a misuse', () => {
    let output = ''
    try {
      typecheck(bare, SETUPS[0]!, { 'bad.mts': bad }, 'bad')
    } catch (e) {
      output = String((e as Error).message)
    }
    expect(output).toMatch(/bad\.mts.*not assignable to type 'number'/)
  }, 60_000)
})

describe('an unbuilt clone', () => {
  it.skipIf(!IS_CHECKOUT && process.env.CI !== 'true')('builds dist/ when packed (prepack)', () => {
    const copy = copyRepository(['node_modules'])
    try {
      expect(existsSync(join(copy.clone, 'dist'))).toBe(false)
      const out = JSON.parse(run('npm', ['pack', '--dry-run', '--json'], copy.clone))
      const files = (out[0].files as { path: string }[]).map((f) => f.path)
      expect(files).toContain('dist/index.js')
      expect(files).toContain('dist/index.d.cts')
      expect(files).toContain('dist/cli.js')
    } finally {
      rmSync(copy.parent, { recursive: true, force: true })
    }
  }, 120_000)
})
