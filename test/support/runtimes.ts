/**
 * The other JavaScript runtimes, from npm: Bun (`bun`), Deno (`deno`) and Cloudflare's workerd
 * (`workerd`) are dev dependencies whose binaries ship in per-platform registry packages
 * (`@oven/bun-linux-x64`, `@deno/linux-x64-glibc`, `@cloudflare/workerd-linux-64`, installed as
 * their optionalDependencies).
 *
 * Each wrapper package has a postinstall that moves or links the binary into the wrapper, and
 * npm 11 may not run it (install scripts of dependencies need approval). So the binary is looked
 * for in both places, platform package first, and each candidate is run once with `--version`:
 * `npm ci` on a clean machine, with or without the scripts, gives a working binary.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import http from 'node:http'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'vitest'
import { HOST } from './adapters-net.js'
import { type GuardedProcess, freePort, spawnGuarded } from './processes.js'
import { inCI } from './proxies.js'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const require = createRequire(join(ROOT, 'package.json'))

export type RuntimeName = 'bun' | 'deno' | 'workerd'

export interface Runtime {
  name: RuntimeName
  /** Absolute path of the executable. */
  path: string
  /** First line of `--version`. */
  version: string
}

const arch = process.arch === 'arm64' ? 'arm64' : process.arch

/** [package, path inside it] of each candidate, in the order tried. */
function candidates(name: RuntimeName): [string, string][] {
  const os = process.platform
  switch (name) {
    case 'bun': {
      const a = arch === 'arm64' ? 'aarch64' : arch
      return [
        [`@oven/bun-${os}-${a}`, 'bin/bun'],
        [`@oven/bun-${os}-${a}-musl`, 'bin/bun'],
        ['bun', 'bin/bun.exe'],
      ]
    }
    case 'deno':
      return [
        [`@deno/${os}-${arch}${os === 'linux' ? '-glibc' : ''}`, 'deno'],
        ['deno', 'deno'],
      ]
    case 'workerd':
      return [
        [`@cloudflare/workerd-${os}-${arch === 'x64' ? '64' : arch}`, 'bin/workerd'],
        ['workerd', 'bin/workerd'],
      ]
  }
}

const found = new Map<RuntimeName, Runtime | null>()

/** The runtime's binary from node_modules, checked to run here; null when there is none. */
export function findRuntime(name: RuntimeName): Runtime | null {
  if (found.has(name)) return found.get(name)!
  let result: Runtime | null = null
  for (const [pkg, file] of candidates(name)) {
    let path: string
    try {
      path = join(dirname(require.resolve(`${pkg}/package.json`)), file)
    } catch {
      continue
    }
    if (!existsSync(path)) continue
    try {
      const version = execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'ignore'] })
      result = { name, path, version: version.trim().split('\n')[0]! }
      break
    } catch {
      // A placeholder left by a postinstall that did not run, or a binary for another libc.
    }
  }
  found.set(name, result)
  return result
}

/** How to get the runtime, for skip messages and CI failures. */
export function installHint(name: RuntimeName): string {
  return `${name} not found in node_modules: run \`npm ci\` (the \`${name}\` dev dependency brings its binary from the registry; on an unusual platform \`npm install -D ${name}\`)`
}

/**
 * `describe` for tests that need a runtime, whose body gets the runtime. Outside CI a missing one
 * skips with a message saying how to install it; under CI=true it is a failing test.
 */
export function describeWithRuntime(title: string, name: RuntimeName, body: (runtime: Runtime) => void): void {
  const runtime = findRuntime(name)
  if (runtime !== null) {
    describe(`${title} (${name} ${runtime.version.replace(/^[a-z]+ /i, '')})`, () => body(runtime))
  } else if (inCI()) {
    describe(title, () => {
      it(`needs ${name}`, () => {
        throw new Error(`${installHint(name)} (CI must have it)`)
      })
    })
  } else {
    console.warn(`[skip] ${title}: ${installHint(name)}`)
    describe.skip(`${title} (skipped: ${installHint(name)})`, () => body({ name, path: '', version: '' }))
  }
}

// ---------------------------------------------------------------------------------------------
// Servers run by a runtime

export interface RunningServer {
  port: number
  stop(): Promise<void>
  output(): string
}

export /** A runtime's server process on a free port of 127.0.0.1 and ::1. */
async function startProcess(binary: string, args: string[], env: Record<string, string>): Promise<RunningServer> {
  const port = await freePort()
  const proc: GuardedProcess = spawnGuarded(binary, args, { cwd: ROOT, env: { ...process.env, PORT: String(port), ...env } })
  try {
    await proc.waitListening([['127.0.0.1', port], ['::1', port]], 30_000)
  } catch (e) {
    await proc.stop()
    throw new Error(`${binary} ${args.join(' ')}: ${(e as Error).message}\n${proc.output()}`)
  }
  return { port, stop: () => proc.stop(), output: () => proc.output() }
}

export /** A client that talks HTTP over a Unix socket and reports the server's JSON. */
function getUnix(socketPath: string, headers: Record<string, string>): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: '/', headers: { host: HOST, connection: 'close', ...headers } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve(JSON.parse(body)))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Resolves once the runtime has created its Unix socket at `path`. */
export async function waitForFile(path: string, proc: GuardedProcess): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      readFileSync(path)
    } catch (e) {
      // A socket cannot be read as a file: ENXIO (or EOPNOTSUPP) means it exists.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return
    }
    if (Date.now() > deadline) throw new Error(`no socket at ${path}\n${proc.output()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

