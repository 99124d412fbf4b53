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
 *   server throw or answer with header text.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildSync } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HOST, SCENARIOS, type Scenario } from './support/adapters-net.js'
import { badInputSuite, checkInfo, scenarioSuites } from './support/adapter-suites.js'
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

describeWithRuntime('Deno', 'deno', (deno) => {
  conformanceTest(deno, (cli) => ['run', '--allow-read', cli, vectorsPath])
  const example = join(ROOT, 'examples', 'runtimes', 'deno-server.ts')
  const args = ['run', '--allow-net', '--allow-env=TRUST_PROXY,PORT,UNIX_SOCKET', '--allow-read', '--allow-write', example]
  const start = (value: string) => startProcess(deno.path, args, { TRUST_PROXY: value })
  it('type-checks the example with Deno’s own types', () => {
    // Sloppy imports: tsup's declaration chunks are imported as `./resolve-X.js` but exist as
    // `.d.ts` only, which Deno's strict resolver does not map (TypeScript's does).
    execFileSync(deno.path, ['check', '--unstable-sloppy-imports', example], { cwd: ROOT, stdio: 'pipe', timeout: 120_000 })
  })
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
