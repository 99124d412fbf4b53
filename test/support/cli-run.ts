/**
 * Running the real `trust-proxy` binary (dist/cli.js, built by tsup) in tests: build it once,
 * run it, start `serve` on a free loopback port and stop it again.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const ROOT = resolve(import.meta.dirname, '../..')
/** The built binary, where `npx tsup` writes it. */
export const DIST_CLI = join(ROOT, 'dist', 'cli.js')
/**
 * The binary the tests run: a byte-for-byte copy of dist/cli.js taken right after the build,
 * with package.json beside it as in the package. Other test files and engineers run
 * `npx tsup`, whose `clean` empties dist/ for a moment; running a snapshot keeps these tests
 * from failing in that window. Set by {@link ensureBuilt}.
 */
export let CLI = DIST_CLI

function newestSource(dir: string): number {
  let newest = 0
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, name.name)
    newest = Math.max(newest, name.isDirectory() ? newestSource(p) : statSync(p).mtimeMs)
  }
  return newest
}

function fresh(): boolean {
  try {
    const built = statSync(DIST_CLI).mtimeMs
    return built >= newestSource(join(ROOT, 'src')) && built >= statSync(join(ROOT, 'tsup.config.ts')).mtimeMs
  } catch {
    return false
  }
}

/**
 * Builds with `npx tsup` unless dist/cli.js is newer than every source file. Test files run in
 * parallel workers, so the build is serialised with a lock directory: one worker builds, the
 * others wait and then find the build fresh.
 */
export async function ensureBuilt(): Promise<void> {
  if (!fresh()) await build()
  CLI = await snapshot()
}

/** A complete dist/cli.js: the shebang first and the build's end marker (tsup.config.ts `footer`) last. */
function readComplete(): Buffer | undefined {
  try {
    const bytes = readFileSync(DIST_CLI)
    const text = bytes.toString('utf8')
    return text.startsWith('#!/usr/bin/env node') && /\/\/ end of dist\/cli\.js\s*$/.test(text) ? bytes : undefined
  } catch {
    return undefined
  }
}

async function snapshot(): Promise<string> {
  const deadline = Date.now() + 60_000
  let bytes = readComplete()
  while (bytes === undefined) {
    if (Date.now() > deadline) throw new Error(`${DIST_CLI} is missing or incomplete: run npx tsup`)
    await new Promise((r) => setTimeout(r, 200))
    bytes = readComplete()
  }
  // One snapshot per build and checkout, named by both: workers of the same run share it, and
  // snapshots of earlier builds are removed once they are an hour old. The command imports its
  // runtime dependency (ws) from node_modules, so the snapshot links to this checkout's.
  const name = 'trust-proxy-cli-' + createHash('sha256').update(bytes).update(ROOT).digest('hex').slice(0, 16)
  const dir = join(tmpdir(), name)
  if (!existsSync(join(dir, 'dist', 'cli.js'))) {
    const staging = mkdtempSync(join(tmpdir(), 'trust-proxy-cli-staging-'))
    mkdirSync(join(staging, 'dist'))
    writeFileSync(join(staging, 'dist', 'cli.js'), bytes, { mode: 0o755 })
    copyFileSync(join(ROOT, 'package.json'), join(staging, 'package.json'))
    symlinkSync(join(ROOT, 'node_modules'), join(staging, 'node_modules'), 'dir')
    try {
      renameSync(staging, dir)
    } catch {
      rmSync(staging, { recursive: true, force: true }) // another worker made it first
    }
  }
  for (const old of readdirSync(tmpdir())) {
    if (!/^trust-proxy-cli-[0-9a-f]{16}$/.test(old) || old === name) continue
    try {
      if (Date.now() - statSync(join(tmpdir(), old)).mtimeMs > 3_600_000) rmSync(join(tmpdir(), old), { recursive: true, force: true })
    } catch {}
  }
  return join(dir, 'dist', 'cli.js')
}

async function build(): Promise<void> {
  const lock = join(tmpdir(), 'trust-proxy-cli-build.lock')
  const deadline = Date.now() + 120_000
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch {
      // A lock older than the deadline was left by a killed run.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true })
      } catch {}
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }
  try {
    if (!fresh()) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe', timeout: 120_000 })
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

/** The environment for the binary: no TRUST_PROXY or colour settings inherited from the shell. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env.TRUST_PROXY
  delete env.NO_COLOR
  delete env.FORCE_COLOR
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  return env
}

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `node dist/cli.js ...args` to completion. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): RunResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: cleanEnv(env), encoding: 'utf8', timeout: 20_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Runs `node dist/cli.js ...args` without blocking, so that independent runs can overlap. */
export function runCliAsync(args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const t = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(t)
      resolveRun({ code, stdout, stderr })
    })
  })
}

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      s.close(() => resolvePort(port))
    })
  })
}

export interface ServeProcess {
  child: ChildProcess
  port: number
  url: string
  /** Audit lines so far (stdout). */
  stdout(): string
  stderr(): string
  /** Parsed audit lines so far. */
  auditLines(): Record<string, unknown>[]
  /** Waits for an audit line matching `pred`. */
  waitForAudit(pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

function waitFor<T>(check: () => T | undefined, timeoutMs: number, what: () => string): Promise<T> {
  return new Promise((resolveWait, reject) => {
    const start = Date.now()
    const tick = () => {
      const v = check()
      if (v !== undefined) return resolveWait(v)
      if (Date.now() - start > timeoutMs) return reject(new Error(`timed out waiting for ${what()}`))
      setTimeout(tick, 25)
    }
    tick()
  })
}

/**
 * Starts `serve` on a free port and waits until it says it is listening. `args` are extra
 * arguments; `env` is added to a clean environment.
 */
export async function startServe(args: string[], env: Record<string, string | undefined> = {}, listen?: string): Promise<ServeProcess> {
  const port = listen === undefined ? await freePort() : 0
  const child = spawn(process.execPath, [CLI, 'serve', '--listen', listen ?? `127.0.0.1:${port}`, ...args], {
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  let exitCode: number | null | undefined
  void exited.then((c) => (exitCode = c === null ? -1 : c))
  const proc: ServeProcess = {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    stdout: () => out,
    stderr: () => err,
    auditLines: () =>
      out
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    waitForAudit: (pred, timeoutMs = 5000) =>
      waitFor(() => proc.auditLines().find(pred), timeoutMs, () => `an audit line; have:\n${out}`),
    stop: async (signal = 'SIGTERM') => {
      if (exitCode === undefined) child.kill(signal)
      const t = setTimeout(() => child.kill('SIGKILL'), 8000)
      const code = await exited
      clearTimeout(t)
      return code
    },
  }
  try {
    await waitFor(
      () => (/listening on/.test(err) ? true : exitCode !== undefined ? (() => { throw new Error(`serve exited ${exitCode}: ${err}`) })() : undefined),
      15_000,
      () => `serve to listen; stderr:\n${err}`,
    )
  } catch (e) {
    child.kill('SIGKILL')
    throw e
  }
  return proc
}

/** Whether a binary exists, for the "skip unless CI" rule. */
export function hasBinary(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** True when missing tools must fail the run instead of skipping. */
export const IN_CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false'
