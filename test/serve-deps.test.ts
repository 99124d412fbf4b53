/**
 * `ws` is the command's dependency, not the library's: the entry points (`.`, `/express`,
 * `/fastify`, `/node`, `/web`, `/proxy-addr`) never reference it, in ESM or CommonJS, nor do the
 * chunks they load; the core runs in a directory where `ws` cannot be resolved; and the command
 * imports `ws` from node_modules rather than carrying a copy of it.
 */
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, ensureBuilt } from './support/cli-run.js'

const DIST = join(ROOT, 'dist')
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
  exports: Record<string, string | { import: { default: string }; require: { default: string } }>
}
const ENTRIES = ['.', './express', './fastify', './node', './web', './proxy-addr']

/** A built file and every relative file it imports or requires, transitively. */
function closure(entry: string): string[] {
  const seen = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/(?:from\s*|import\s*\(\s*|require\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g)) visit(join(dirname(file), m[1]!))
  }
  visit(entry)
  return [...seen]
}

/** Any mention of the module `ws`: an import, a require, a dynamic import. */
const WS_REFERENCE = /(?:from\s*|import\s*\(\s*|require\s*\(\s*|import\s+)["']ws(?:\/[^"']*)?["']/

beforeAll(ensureBuilt)

describe('ws belongs to the command only', () => {
  it('is a runtime dependency, the only one', () => {
    expect(pkg.dependencies).toEqual({ ws: expect.stringMatching(/^\^8\./) })
    expect(pkg.devDependencies?.ws).toBeUndefined()
  })

  it.each(ENTRIES)('the built %s (ESM and CommonJS, with its chunks) does not reference ws', (entry) => {
    const target = pkg.exports[entry] as { import: { default: string }; require: { default: string } }
    for (const file of [target.import.default, target.require.default]) {
      const files = closure(join(ROOT, file))
      expect(files.length).toBeGreaterThan(0)
      for (const f of files) expect(readFileSync(f, 'utf8'), f).not.toMatch(WS_REFERENCE)
    }
  })

  it('the command imports ws and does not carry a copy of it', () => {
    const cli = readFileSync(join(DIST, 'cli.js'), 'utf8')
    expect(cli).toMatch(/^import \{[^}]*WebSocketServer[^}]*\} from "ws";$/m)
    expect(cli).toMatch(WS_REFERENCE) // the pattern the library files are checked with does see it
    // Strings of ws's own source (its error codes, its handshake GUID): absent from the bundle.
    for (const own of ['WS_ERR_INVALID_CLOSE_CODE', '258EAFA5-E914-47DA-95CA-C5AB0DC85B11', 'maxPendingAutoPongs >']) expect(cli).not.toContain(own)
  })

  describe('the library runs where ws cannot be resolved', () => {
    let dir = ''
    beforeAll(() => {
      // dist/ and package.json alone, in a directory with no node_modules above it.
      dir = mkdtempSync(join(tmpdir(), 'trust-proxy-no-ws-'))
      cpSync(DIST, join(dir, 'dist'), { recursive: true })
      cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'))
    })
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true })
    })
    const node = (file: string, code: string) => {
      writeFileSync(join(dir, file), code)
      return execFileSync(process.execPath, [join(dir, file)], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } }).trim()
    }

    it('ws really is absent there', () => {
      expect(node('probe.cjs', `try { require.resolve('ws'); console.log('found') } catch (e) { console.log(e.code) }`)).toBe('MODULE_NOT_FOUND')
    })

    it('every entry point loads, as ESM and CommonJS, and the core resolves a request', () => {
      const names = ENTRIES.map((e) => (e === '.' ? '' : e.slice(1)))
      const esm = names.map((n) => `await import('@infram/trust-proxy${n}')`).join('\n')
      const cjs = names.map((n) => `require('@infram/trust-proxy${n}')`).join('\n')
      // The package resolves itself by name (its own exports map).
      const check = `const { parseTrustProxy, resolveClientIp, traceClient } = LIB
const p = parseTrustProxy('loopback')
console.log(JSON.stringify([resolveClientIp(p, '127.0.0.1', '203.0.113.7'), traceClient(p, { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.7' } }).hops.length]))`
      expect(node('all.mjs', `${esm}\nconst LIB = await import('@infram/trust-proxy')\n${check}`)).toBe('["203.0.113.7",2]')
      expect(node('all.cjs', `${cjs}\nconst LIB = require('@infram/trust-proxy')\n${check}`)).toBe('["203.0.113.7",2]')
    })

    it('while the command, which needs ws, says so', () => {
      let message = ''
      try {
        execFileSync(process.execPath, [join(dir, 'dist', 'cli.js'), 'check', '1'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' })
      } catch (e) {
        message = String((e as { stderr?: string }).stderr)
      }
      expect(message).toMatch(/Cannot find package 'ws'/)
    })
  })
})
