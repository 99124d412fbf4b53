/**
 * The built package (dist/) on Bun, Deno and Cloudflare's workerd, each installed from npm:
 *
 * - the conformance vectors, through the core and the Web adapter, give results equal to Node's,
 *   value for value (test/runtimes/conformance.mjs);
 * - a real server per runtime (examples/runtimes/: `Bun.serve` + `server.requestIP`,
 *   `Deno.serve` + `info.remoteAddr`, a workerd Worker behind an edge that does what Cloudflare's
 *   does) resolves legitimate and forged requests sent from chosen loopback source addresses as
 *   the adapter scenarios expect, and exactly as Node resolves the same request;
 * - nothing a client can send over the wire (duplicated, empty, non-ASCII headers) makes a
 *   server throw or answer with header text;
 * - `deno check --all`, with no unstable flag, accepts a program using the package installed from
 *   npm, linked, and as this checkout's example imports it.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildSync } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HOST, SCENARIOS, type Scenario } from './support/adapters-net.js'
import { badInputSuite, checkInfo, scenarioSuites } from './support/adapter-suites.js'
import { installPacked } from './support/packed.js'
import { type GuardedProcess, freePort, spawnGuarded } from './support/processes.js'
import { ROOT, type Runtime, describeWithRuntime, getUnix, startProcess, waitForFile } from './support/runtimes.js'
import { loadVectors } from './support/vectors.js'

// The built package, as every runtime below loads it.
type Lib = typeof import('../src/index.js')
const lib: Lib = await import(join(ROOT, 'dist', 'index.js'))

const VECTOR_FILES = [
  'proxy-addr-vectors.json',
  'proxy-addr-error-vectors.json',
  'extra-vectors.json',
  'xff-parse-vectors.json',
  'realclientip-vectors.json',
  'other-systems-vectors.json',
]

let work = ''
let vectorsPath = ''
let nodeResults: unknown[] = []

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'trust-proxy-runtimes-'))
  vectorsPath = join(work, 'vectors.json')
  writeFileSync(vectorsPath, JSON.stringify(Object.fromEntries(VECTOR_FILES.map((f) => [f, loadVectors(f)]))))
  nodeResults = runCli(process.execPath, [conformanceCli(), vectorsPath])
})
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

const conformanceCli = () => join(ROOT, 'test', 'runtimes', 'conformance-cli.mjs')

function runCli(binary: string, args: string[]): unknown[] {
  const out = execFileSync(binary, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 })
  return JSON.parse(out) as unknown[]
}

describe('the conformance runner on Node', () => {
  it('covers every vector file and reproduces proxy-addr for valid input', () => {
    const rows = nodeResults as { file: string; id: string; trust: unknown; results?: { client_ip: string | null }[] }[]
    expect(new Set(rows.map((r) => r.file))).toEqual(new Set(VECTOR_FILES))
    // Sanity: on proxy-addr's own static-trust vectors the runner's answer is proxy-addr's, in
    // canonical form (the four departures are explained in vectors-proxy-addr.test.ts).
    const departures = new Set(['pa-022', 'pa-041', 'pa-042', 'pa-043'])
    let agreed = 0
    for (const v of loadVectors<{ id: string; call: string; trust: unknown; expectAddr: string | null }>('proxy-addr-vectors.json')) {
      if (v.call !== 'proxyaddr' || typeof v.trust !== 'string' || departures.has(v.id) || v.expectAddr === null) continue
      const row = rows.find((r) => r.id === v.id && r.trust === v.trust)!
      expect(row.results?.[0]?.client_ip, v.id).toBe(lib.canonicalizeIp(v.expectAddr) ?? v.expectAddr)
      agreed++
    }
    expect(agreed).toBeGreaterThanOrEqual(10)
  })
})

// ---------------------------------------------------------------------------------------------
// Servers

/** Node's answer for the same request: the reference every runtime must equal. */
function nodeReference(policyValue: string, peer: string | undefined, headers: Record<string, string | string[]>) {
  const policy = lib.parseTrustProxy(policyValue)
  return JSON.parse(JSON.stringify(lib.resolveClient(policy, { remoteAddress: peer, headers })))
}

function checkScenario(body: any, s: Scenario, value: string): void {
  expect(lib.canonicalizeIp(body.peer)).toBe(s.from)
  const c = body.client
  checkInfo(c, s)
  // Node, given the same peer and headers, answers the same in every field.
  expect(c).toEqual(nodeReference(value, body.peer, { host: HOST, ...s.headers }))
}

function conformanceTest(runtime: Runtime, args: (cli: string) => string[]): void {
  it('runs the conformance vectors with results equal to Node’s', () => {
    const results = runCli(runtime.path, args(conformanceCli()))
    expect(results.length).toBe(nodeResults.length)
    expect(results).toEqual(nodeResults)
  })
}

function unixSuite(label: string, startUnix: (value: string, path: string) => Promise<{ stop(): Promise<void> }>): void {
  describe(`${label} on a Unix socket`, () => {
    it.each([
      ['unix', { ip: '203.0.113.5', trustedHops: 1, anomalies: [] as string[] }],
      ['127.0.0.9/32', { ip: undefined, trustedHops: 0, anomalies: ['forwarded-by-untrusted-peer'] }],
    ])('TRUST_PROXY=%s: the peer has no address; only `unix` trusts it', async (value, expected) => {
      const dir = mkdtempSync(join(tmpdir(), 'trust-proxy-sock-'))
      const path = join(dir, 's.sock')
      const server = await startUnix(value, path)
      try {
        const headers = { 'x-forwarded-for': '203.0.113.5' }
        const body = await getUnix(path, headers)
        expect(body.peer).toBe(null)
        expect(body.client.ip).toBe(expected.ip)
        expect(body.client.trustedHops).toBe(expected.trustedHops)
        for (const code of expected.anomalies) expect(body.client.anomalies).toContain(code)
        expect(body.client).toEqual(nodeReference(value, undefined, { host: HOST, ...headers }))
      } finally {
        await server.stop()
        rmSync(dir, { recursive: true, force: true })
      }
    })
  })
}

// ---------------------------------------------------------------------------------------------
// Bun

describeWithRuntime('Bun', 'bun', (bun) => {
  conformanceTest(bun, (cli) => [cli, vectorsPath])
  const example = join(ROOT, 'examples', 'runtimes', 'bun-server.ts')
  const start = (value: string) => startProcess(bun.path, [example], { TRUST_PROXY: value })
  scenarioSuites('Bun.serve + server.requestIP (examples/runtimes/bun-server.ts)', start, checkScenario)
  badInputSuite('Bun.serve', start, (body) => body.client)
  unixSuite('Bun.serve', async (value, path) => {
    const proc = spawnGuarded(bun.path, [example], { cwd: ROOT, env: { ...process.env, TRUST_PROXY: value, UNIX_SOCKET: path } })
    await waitForFile(path, proc)
    return proc
  })
})

// ---------------------------------------------------------------------------------------------
// Deno

/**
 * A program that uses the package's types, for `deno check`: `@ts-expect-error` fails the check
 * if the declarations were not found and the imports became `any`.
 */
const denoProbe = (from: string) => `import { parseTrustProxy, type AnomalyCode, type TrustPolicy } from '${from}'
import { resolveWebRequest } from '${from}/web'
const policy: TrustPolicy = parseTrustProxy('loopback')
const anomalies: AnomalyCode[] = resolveWebRequest(policy, new Request('http://localhost/'), '127.0.0.1').anomalies
// @ts-expect-error: a policy is not a number (were the declarations missing, it would be \`any\`)
const wrong: number = policy
// @ts-expect-error: an anomaly code is one of the documented codes, not any string
const code: AnomalyCode = 'no-such-anomaly'
export { anomalies, code, wrong }
`
const denoProbeCjs = `import tp = require('@infram/trust-proxy')
import web = require('@infram/trust-proxy/web')
const policy: tp.TrustPolicy = tp.parseTrustProxy('loopback')
// @ts-expect-error: the CommonJS declarations are read too
const wrong: number = web.resolveWebRequest(policy, new Request('http://localhost/'), undefined).anomalies
export = wrong
`

/**
 * `deno check` with no unstable flag, the way Deno users get the package, each with `--all`
 * (diagnostics inside the package's declarations count too, as `skipLibCheck: false`):
 *
 * - from npm: an `npm:` specifier, or a bare one with a package.json and node_modules (Deno's
 *   own npm resolver, which maps `./x.js` to `./x.d.ts` as TypeScript does);
 * - linked (a `file:` dependency, `npm link`, a workspace), and this checkout's example, whose
 *   bare specifier resolves to dist/ through the root package.json: Deno reads these as local
 *   files, with its strict resolver, which maps no extension. There the declarations' imports of
 *   their shared chunks (`./proxy-connection-X.js`, a file that exists only as `.d.ts`) failed
 *   with TS2307 unless `--unstable-sloppy-imports` was given, until scripts/dts-fixups.mjs put
 *   Deno's `@ts-types` directive, naming the declaration file, before each.
 */
function denoCheckSuite(deno: Runtime, example: string): void {
  const check = (cwd: string, files: string[]) => {
    try {
      execFileSync(deno.path, ['check', '--all', ...files], { cwd, encoding: 'utf8', stdio: 'pipe', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } })
    } catch (e) {
      const { stdout, stderr } = e as { stdout?: string; stderr?: string }
      throw new Error(`deno check --all ${files.join(' ')} (in ${cwd}) failed:\n${stdout ?? ''}${stderr ?? ''}`)
    }
  }
  const write = (at: string, files: Record<string, string>) => {
    mkdirSync(at, { recursive: true })
    for (const [name, text] of Object.entries(files)) writeFileSync(join(at, name), text)
    return Object.keys(files)
  }

  describe('deno check, no unstable flag', () => {
    let dir = ''
    let installed = ''
    let linked = ''
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'trust-proxy-deno-'))
      // --ignore-scripts: pack what dist/ holds now; rebuilding here would race the other test files.
      execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: ROOT, stdio: 'pipe', timeout: 120_000 })
      const tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!)
      // Installed from npm: package.json and node_modules.
      installed = join(dir, 'installed')
      write(installed, { 'package.json': JSON.stringify({ name: 'deno-app', private: true, type: 'module' }) })
      installPacked(installed, tarball)
      // Linked: node_modules/@infram/trust-proxy is a symbolic link to the package's folder
      // elsewhere, as a `file:` dependency, `npm link` and workspaces make it.
      const source = join(dir, 'trust-proxy')
      mkdirSync(source)
      execFileSync('tar', ['-xzf', tarball, '-C', source, '--strip-components=1'])
      linked = join(dir, 'linked')
      write(linked, { 'package.json': JSON.stringify({ name: 'deno-app', private: true, type: 'module', dependencies: { '@infram/trust-proxy': 'file:../trust-proxy' } }) })
      mkdirSync(join(linked, 'node_modules', '@infram'), { recursive: true })
      symlinkSync(source, join(linked, 'node_modules', '@infram', 'trust-proxy'), 'dir')
    }, 240_000)
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    it('installed from npm, imported with `npm:` and with bare specifiers', () => {
      const files = write(installed, { 'npm.ts': denoProbe('npm:@infram/trust-proxy'), 'bare.ts': denoProbe('@infram/trust-proxy'), 'server.ts': readFileSync(example, 'utf8') })
      check(installed, files)
    })

    it('linked (a `file:` dependency, npm link, a workspace), from ESM and CommonJS', () => {
      const files = write(linked, { 'bare.ts': denoProbe('@infram/trust-proxy'), 'bare.cts': denoProbeCjs, 'server.ts': readFileSync(example, 'utf8') })
      check(linked, files)
    })

    it('this checkout’s example, with Deno’s own types', () => {
      check(ROOT, [example])
    })
  })
}

describeWithRuntime('Deno', 'deno', (deno) => {
  conformanceTest(deno, (cli) => ['run', '--allow-read', cli, vectorsPath])
  const example = join(ROOT, 'examples', 'runtimes', 'deno-server.ts')
  const args = ['run', '--allow-net', '--allow-env=TRUST_PROXY,PORT,UNIX_SOCKET', '--allow-read', '--allow-write', example]
  const start = (value: string) => startProcess(deno.path, args, { TRUST_PROXY: value })
  denoCheckSuite(deno, example)
  scenarioSuites('Deno.serve + info.remoteAddr (examples/runtimes/deno-server.ts)', start, checkScenario)
  badInputSuite('Deno.serve', start, (body) => body.client)
  unixSuite('Deno.serve', async (value, path) => {
    const proc = spawnGuarded(deno.path, args, { cwd: ROOT, env: { ...process.env, TRUST_PROXY: value, UNIX_SOCKET: path } })
    await waitForFile(path, proc)
    return proc
  })
})

// ---------------------------------------------------------------------------------------------
// workerd

/** Bundles a Worker module as wrangler does (esbuild, ESM, every import inlined). */
function bundle(entry: string, out: string): void {
  buildSync({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'neutral', outfile: out, logLevel: 'error', absWorkingDir: ROOT })
}

/**
 * Cloudflare's edge, as far as a Worker sees it: it takes the client's connection and sends the
 * request on with CF-Connecting-IP set to the address that connected (any value the client sent
 * is replaced). Everything else passes through as the client wrote it.
 */
function startEdge(upstreamPort: number): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    const headers = { ...req.headers, 'cf-connecting-ip': lib.canonicalizeIp(req.socket.remoteAddress ?? '') ?? '' }
    const up = http.request({ host: '127.0.0.1', port: upstreamPort, path: req.url, method: req.method, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers)
      r.pipe(res)
    })
    up.on('error', (e) => {
      res.writeHead(502)
      res.end(String(e))
    })
    req.pipe(up)
  })
  return new Promise((resolve) => server.listen(0, '::', () => resolve({ server, port: (server.address() as net.AddressInfo).port })))
}

describeWithRuntime('workerd', 'workerd', (workerd) => {
  const values = Object.keys(SCENARIOS)
  let proc: GuardedProcess
  let conformancePort = 0
  const ports = new Map<string, number>()
  const edges: http.Server[] = []

  beforeAll(async () => {
    bundle(join(ROOT, 'examples', 'runtimes', 'worker.mjs'), join(work, 'worker.js'))
    bundle(join(ROOT, 'test', 'runtimes', 'conformance-worker.mjs'), join(work, 'conformance.js'))
    conformancePort = await freePort()
    for (const v of values) ports.set(v, await freePort())
    // One service per TRUST_PROXY value, each the example Worker with its own binding.
    const services = values.map((v, i) => `(name = "example${i}", worker = (modules = [(name = "worker.js", esModule = embed "worker.js")], compatibilityDate = "2025-01-01", bindings = [(name = "TRUST_PROXY", text = ${JSON.stringify(v)})]))`)
    const sockets = values.map((v, i) => `(name = "s${i}", address = "127.0.0.1:${ports.get(v)}", http = (), service = "example${i}")`)
    const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "conformance", worker = (modules = [(name = "conformance.js", esModule = embed "conformance.js")], compatibilityDate = "2025-01-01")),
    ${services.join(',\n    ')}
  ],
  sockets = [
    (name = "c", address = "127.0.0.1:${conformancePort}", http = (), service = "conformance"),
    ${sockets.join(',\n    ')}
  ],
);
`
    writeFileSync(join(work, 'config.capnp'), config)
    proc = spawnGuarded(workerd.path, ['serve', join(work, 'config.capnp')], { cwd: work })
    try {
      await proc.waitListening([['127.0.0.1', conformancePort], ...values.map((v): [string, number] => ['127.0.0.1', ports.get(v)!])], 30_000)
    } catch (e) {
      await proc.stop()
      throw new Error(`workerd: ${(e as Error).message}\n${proc.output()}\n${config}`)
    }
  })
  afterAll(async () => {
    await Promise.all(edges.map((e) => new Promise((r) => e.close(r))))
    await proc?.stop()
  })

  it('runs the conformance vectors in a Worker with results equal to Node’s', async () => {
    const res = await fetch(`http://127.0.0.1:${conformancePort}/`, { method: 'POST', body: readFileSync(vectorsPath) })
    expect(res.status).toBe(200)
    const results = (await res.json()) as unknown[]
    expect(results.length).toBe(nodeResults.length)
    const differing = results.findIndex((r, i) => JSON.stringify(r) !== JSON.stringify(nodeResults[i]))
    expect(differing === -1 ? null : [results[differing], nodeResults[differing]]).toBe(null)
  })

  const startBehindEdge = async (value: string) => {
    const edge = await startEdge(ports.get(value)!)
    edges.push(edge.server)
    return { port: edge.port, stop: () => new Promise<void>((r) => edge.server.close(() => r())), output: () => proc.output() }
  }
  scenarioSuites('a workerd Worker behind the edge (examples/runtimes/worker.mjs)', startBehindEdge, checkScenario)
  badInputSuite('a workerd Worker behind the edge', startBehindEdge, (body) => body.client)

  it('a client that reaches the Worker without the edge writes its own CF-Connecting-IP: why the Worker must be reachable only through the platform', async () => {
    const res = await fetch(`http://127.0.0.1:${ports.get('false')}/`, { headers: { 'cf-connecting-ip': '6.6.6.6' } })
    const body = (await res.json()) as any
    expect(body.client.ip).toBe('6.6.6.6')
  })
})
