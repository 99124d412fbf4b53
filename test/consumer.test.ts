/**
 * The package as a user gets it: `npm pack`, install the tarball into a fresh project, then
 * `import` it, `require` it, and type-check TypeScript that uses it under Node's own module
 * resolution (so the `exports` map, not our source tree, is what is tested).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 })

let dir = ''

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it first)')
  dir = mkdtempSync(join(tmpdir(), 'trust-proxy-consumer-'))
  // --ignore-scripts: pack what dist/ holds now; rebuilding here would race the other test files.
  const tarball = run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], root).trim().split('\n').pop()!
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }))
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, tarball)], dir)
}, 180_000)

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('the packed package', () => {
  it('ships only dist and the docs', () => {
    const files = readdirSync(join(dir, 'node_modules', '@infram', 'trust-proxy')).sort()
    expect(files).toEqual(['CHANGELOG.md', 'README.md', 'dist', 'package.json'].sort())
  })

  it('can be imported as ESM', () => {
    writeFileSync(
      join(dir, 'esm.mjs'),
      `import { parseTrustProxy, resolveClientIp, TrustProxyError } from '@infram/trust-proxy'
const policy = parseTrustProxy('1')
let error
try { parseTrustProxy('127.1') } catch (e) { error = e }
console.log(JSON.stringify([policy.kind, resolveClientIp(policy, '::ffff:127.0.0.1', '6.6.6.6, 203.0.113.5'), error instanceof TrustProxyError, error.code]))`,
    )
    expect(JSON.parse(run('node', ['esm.mjs'], dir))).toEqual(['hops', '203.0.113.5', true, 'ERR_INVALID_TRUST_PROXY'])
  })

  it('can be required as CommonJS', () => {
    writeFileSync(
      join(dir, 'cjs.cjs'),
      `const { parseTrustProxy, resolveClient } = require('@infram/trust-proxy')
const info = resolveClient(parseTrustProxy('loopback'), { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https' } })
console.log(JSON.stringify([info.ip, info.protocol]))`,
    )
    expect(JSON.parse(run('node', ['cjs.cjs'], dir))).toEqual(['203.0.113.5', 'https'])
  })

  it('type-checks TypeScript that uses it, as ESM and as CommonJS', () => {
    writeFileSync(
      join(dir, 'use.mts'),
      `import { parseTrustProxy, resolveClient, resolveClientIp, TrustProxyError, type ClientInfo, type TrustPolicy } from '@infram/trust-proxy'
const policy: TrustPolicy = parseTrustProxy(process.env.TRUST_PROXY)
const kind: 'none' | 'all' | 'hops' | 'ranges' = policy.kind
const ip: string | undefined = resolveClientIp(policy, '127.0.0.1', undefined)
const info: ClientInfo = resolveClient(policy, { remoteAddress: ip, headers: {} }, { header: 'forwarded' })
const fn: (addr: string | undefined, hop: number) => boolean = policy.trust
const err: string = new TrustProxyError('empty-entry', '', 0, 'x').code
export { kind, info, fn, err }
`,
    )
    writeFileSync(
      join(dir, 'use.cts'),
      `import tp = require('@infram/trust-proxy')
const policy: tp.TrustPolicy = tp.parseTrustProxy(['loopback'])
export const ip: string | undefined = tp.resolveClientIp(policy, '127.0.0.1', '1.2.3.4')
`,
    )
    writeFileSync(
      join(dir, 'dropin.cts'),
      `import proxyaddr = require('@infram/trust-proxy/proxy-addr')
const trust: proxyaddr.ProxyAddrTrustFunction = proxyaddr.compile(['loopback'])
const req: proxyaddr.ProxyAddrRequest = { headers: { 'x-forwarded-for': '203.0.113.5' }, socket: { remoteAddress: '127.0.0.1' } }
export const ip: string | undefined = proxyaddr(req, trust)
export const all: (string | undefined)[] = proxyaddr.all(req, 'loopback')
`,
    )
    writeFileSync(
      join(dir, 'dropin.mts'),
      `import proxyaddr from '@infram/trust-proxy/proxy-addr'
export const ip: string | undefined = proxyaddr({ headers: {}, socket: { remoteAddress: '127.0.0.1' } }, 'loopback')
`,
    )
    writeFileSync(
      join(dir, 'bad.mts'),
      `import { parseTrustProxy } from '@infram/trust-proxy'
const n: number = parseTrustProxy('1').kind
export { n }
`,
    )
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
    const common = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(root, 'node_modules', '@types')]
    run('node', [tsc, ...common, 'use.mts', 'use.cts', 'dropin.cts', 'dropin.mts'], dir)
    // And the declarations are precise enough to catch a misuse.
    let output = ''
    try {
      run('node', [tsc, ...common, 'bad.mts'], dir)
    } catch (e) {
      output = String((e as { stdout?: string }).stdout)
    }
    expect(output).toMatch(/bad\.mts.*not assignable to type 'number'/)
  })
})
