/**
 * End-to-end harness: real nginx, Apache, Caddy and HAProxy processes in front of the test app,
 * each run by the test itself in the foreground with its own config under a temp directory, on
 * free loopback ports, with a certificate made by `openssl` at test time.
 *
 * Each proxy's config is rendered from ONE template under `test/proxies/templates/`; the README's
 * configs are the same templates rendered with the documentation's values (see
 * `proxy-configs.ts`), so what the README tells people to deploy is what the tests ran.
 *
 * On loopback every client is inside `loopback`, so a test can only tell a proxy from a client if
 * the proxy connects onward from an address of its own (nginx `proxy_bind`, HAProxy `source`,
 * Apache `ProxySourceAddress`). Caddy 2.6 has no such option: it connects from the address the
 * kernel picks, 127.0.0.1 for an app on 127.0.0.1, so test clients never use 127.0.0.1.
 */
import { execFile } from 'node:child_process'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { existsSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'
import { describe, it } from 'vitest'
import { startApp, type RunningApp } from '../proxies/app.js'
import { freePort, spawnGuarded } from './processes.js'
import {
  type Certificate,
  expectedSource,
  harnessValues,
  PROXIES,
  type ProxyKind,
  type ProxyOptions,
  proxyCommand,
  PUBLIC_HOST,
  readTemplate,
  type Upstream,
} from './proxy-configs.js'
import { renderTemplate } from './template.js'

export * from './proxy-configs.js'
export { freePort } from './processes.js'

const run = promisify(execFile)

// ---------------------------------------------------------------------------------------------
// Binaries

/** The executable's path on PATH (plus the sbin folders apt installs daemons into), or null. */
export function findBinary(name: string): string | null {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin', '/usr/local/sbin'])
  for (const dir of dirs) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name)
  }
  return null
}

export interface Availability {
  available: boolean
  /** Why the tests cannot run, naming the package to install. */
  message: string
}

export function availability(kinds: readonly ProxyKind[]): Availability {
  const needed = kinds.map((k) => ({ binary: PROXIES[k].binary, pkg: PROXIES[k].aptPackage }))
  needed.push({ binary: 'openssl', pkg: 'openssl' }) // makes the test certificate
  const missing = needed.filter((n) => findBinary(n.binary) === null)
  if (missing.length === 0) return { available: true, message: '' }
  return {
    available: false,
    message: `${missing.map((m) => m.binary).join(', ')} not installed: run \`apt-get install -y ${missing.map((m) => m.pkg).join(' ')}\``,
  }
}


// ---------------------------------------------------------------------------------------------
// Temp dirs and certificates

export async function makeWorkDir(prefix = 'trust-proxy-e2e-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  // nginx workers and Apache children drop to an unprivileged user and must reach their paths.
  await chmod(dir, 0o755)
  return dir
}

export async function removeWorkDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
}

/** A throw-away self-signed certificate for `hostname`, valid for a day. */
export async function makeCertificate(dir: string, hostname = PUBLIC_HOST): Promise<Certificate> {
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  const pem = join(dir, 'combined.pem')
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${hostname}`,
    '-addext', `subjectAltName=DNS:${hostname}`,
  ])
  const ca = await readFile(cert, 'utf8')
  await writeFile(pem, ca + (await readFile(key, 'utf8')), { mode: 0o600 })
  return { cert, key, pem, ca }
}

// ---------------------------------------------------------------------------------------------
// Proxies

export interface RunningProxy {
  kind: ProxyKind
  httpPort: number
  httpsPort: number
  /** The address the app sees this proxy's connections coming from. */
  source: string
  upstream: Upstream
  dir: string
  configPath: string
  config: string
  /** Output and error log so far, for failure messages. */
  log(): string
  stop(): Promise<void>
}

/**
 * Renders the proxy's config into a fresh temp directory and runs the proxy in the foreground
 * as a child of this process, on free loopback ports; resolves once it accepts connections on
 * every port. On any failure the process is killed and its directory removed.
 */
export async function startProxy(kind: ProxyKind, options: ProxyOptions): Promise<RunningProxy> {
  let lastError: unknown
  // Another process may take a port between freePort() and the proxy's bind: try fresh ones.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(kind, options)
    } catch (e) {
      lastError = e
      if (!/already in use/i.test(String(e))) break
    }
  }
  throw lastError
}

async function startOnce(kind: ProxyKind, options: ProxyOptions): Promise<RunningProxy> {
  const spec = PROXIES[kind]
  const binary = findBinary(spec.binary)
  if (binary === null) throw new Error(availability([kind]).message)
  const dir = await makeWorkDir(`trust-proxy-${kind}-`)
  const httpPort = await freePort()
  let httpsPort = await freePort()
  while (httpsPort === httpPort) httpsPort = await freePort()
  const values = harnessValues(kind, options, dir, httpPort, httpsPort)
  const config = renderTemplate(readTemplate(kind), values, spec.template)
  const configPath = join(dir, spec.template.replace(/\.tmpl$/, ''))
  await writeFile(configPath, config)

  const { args, env } = proxyCommand(kind, configPath, dir)
  const proc = spawnGuarded(binary, args, { cwd: dir, env })
  const log = (): string => {
    let errorLog = ''
    try {
      errorLog = readFileSync(join(dir, 'error.log'), 'utf8').slice(-16_000)
    } catch {
      // this proxy logs to stderr only
    }
    return `--- ${kind} output ---\n${proc.output()}${errorLog ? `\n--- ${kind} error.log ---\n${errorLog}` : ''}`
  }
  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> => (stopped ??= proc.stop().then(() => removeWorkDir(dir)))

  try {
    const listeners: [string, number][] = [
      ['127.0.0.1', httpsPort],
      ['::1', httpsPort],
      ...spec.redirectListens.map((h): [string, number] => [h, httpPort]),
    ]
    await proc.waitListening(listeners, 15_000)
  } catch (e) {
    const message = `${kind} failed to start: ${(e as Error).message}\n${log()}\n--- config ${configPath} ---\n${config}`
    await stop()
    throw new Error(message)
  }
  return {
    kind,
    httpPort,
    httpsPort,
    source: expectedSource(kind, options.upstream),
    upstream: options.upstream,
    dir,
    configPath,
    config,
    log,
    stop,
  }
}

type Stoppable = { stop?: () => Promise<void>; close?: () => Promise<void> }

function stopThing(thing: Stoppable): Promise<void> {
  if (thing.stop) return thing.stop()
  if (thing.close) return thing.close()
  return Promise.resolve()
}

/**
 * Collects what a test file starts (proxies, apps, temp dirs) so afterAll, or a failing
 * beforeAll, can stop all of it in one call, in reverse order.
 */
export class Cleanup {
  private readonly items: (() => Promise<void>)[] = []

  add<T extends Stoppable>(thing: T): T {
    this.items.push(() => stopThing(thing))
    return thing
  }

  /**
   * Registers something still starting: cleanup waits for it and stops it if it started. This
   * covers a start that finishes after a sibling in the same Promise.all has already failed.
   */
  track<T extends Stoppable>(starting: Promise<T>): Promise<T> {
    this.items.push(async () => {
      let thing: T
      try {
        thing = await starting
      } catch {
        return // it cleaned up after itself
      }
      await stopThing(thing)
    })
    return starting
  }

  addDir(dir: string): string {
    this.items.push(() => removeWorkDir(dir))
    return dir
  }

  async run(): Promise<void> {
    const errors: unknown[] = []
    while (this.items.length > 0) {
      try {
        await this.items.pop()!()
      } catch (e) {
        errors.push(e)
      }
    }
    if (errors.length > 0) throw errors[0]
  }
}

// ---------------------------------------------------------------------------------------------
// Test-file helpers

/** True when the tests run in CI, where a missing proxy is a failure rather than a skip. */
export function inCI(): boolean {
  const ci = process.env.CI
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false'
}

/**
 * `describe` for tests that need proxy binaries: skipped with a message naming the apt package
 * when one is missing, except in CI, where the missing binary is a failing test.
 */
export function describeWithProxies(title: string, kinds: readonly ProxyKind[], body: () => void): void {
  const gate = availability(kinds)
  if (gate.available) {
    describe(title, body)
  } else if (inCI()) {
    describe(title, () => {
      it('has the proxy installed', () => {
        throw new Error(`${gate.message} (CI must install it with apt-get before the tests)`)
      })
    })
  } else {
    console.warn(`[skip] ${title}: ${gate.message}`)
    describe.skip(`${title} (skipped: ${gate.message})`, body)
  }
}

/**
 * The app restarted under a new TRUST_PROXY on the same address and port, so the proxies in
 * front of it keep pointing at it. Infram reads TRUST_PROXY once at startup; so does this.
 */
export class AppSlot {
  private app: RunningApp | undefined
  private fixedPort = 0

  constructor(readonly host: string) {}

  get port(): number {
    if (this.app === undefined) throw new Error('app not started')
    return this.app.port
  }

  get upstream(): Upstream {
    return { host: this.host, port: this.port }
  }

  async start(trustProxy: string): Promise<void> {
    if (this.app !== undefined && this.app.env.TRUST_PROXY === trustProxy) return
    await this.close()
    this.app = await startApp({ TRUST_PROXY: trustProxy }, this.host, this.fixedPort)
    this.fixedPort = this.app.port
  }

  async close(): Promise<void> {
    const app = this.app
    this.app = undefined
    await app?.close()
  }
}
