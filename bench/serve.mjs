/**
 * `trust-proxy serve`: the cost of one request, for a normal request, a client-padded 16 KB
 * header (in each header mode) and a 10,000-entry TRUST_PROXY, side by side, against a floor: a
 * bare node:http server answering a fixed body of the same size over the same loopback.
 *
 * For each case, a real `dist/cli.js serve` process answers keep-alive requests one at a time for
 * about a second; the figures are the server process's CPU time per request (from
 * /proc/<pid>/stat, the cost that a flood of such requests would put on the server) and the
 * client-side median latency. Then the core's part of it, in this process: traceClient (the walk
 * the page shows) next to resolveClient (what an app does per request).
 *
 * Run alone (`node bench/serve.mjs`, after `npm run build`) or from `npm run bench` (bench/run.mjs);
 * writes bench/SERVE.md unless BENCH_NO_WRITE=1. BENCH_SERVE_MS sets the time per case (default 1000).
 */
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import os from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { timeIt } from './measure.mjs'
import { cpuModel } from './machine.mjs'

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const MS = Number(process.env.BENCH_SERVE_MS ?? 1000)
const PAD = 'a' + ' '.repeat(15_000) + 'b'
// Short entries (1.2.x.y): the whole value must fit one environment string (128 KiB on Linux).
const TEN_K = Array.from({ length: 10_000 }, (_, i) => `1.2.${i >> 8}.${i & 255}`).join(',') + ',127.0.0.1'

/** The cases: TRUST_PROXY, the client-address header, and the request's forwarding headers. */
const CASES = [
  { id: 'normal', title: 'normal request: 1 trusted hop', tp: '127.0.0.1', ipHeader: 'x-forwarded-for', headers: { 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https' } },
  { id: 'padded-xff', title: '16 KB padded X-Forwarded-For', tp: '127.0.0.1', ipHeader: 'x-forwarded-for', headers: { 'X-Forwarded-For': `${PAD}, 203.0.113.7`, 'X-Forwarded-Proto': 'https' } },
  { id: 'padded-forwarded', title: '16 KB padded Forwarded', tp: '127.0.0.1', ipHeader: 'forwarded', headers: { Forwarded: `for=${PAD}, for=203.0.113.7;proto=https` } },
  { id: 'padded-real-ip', title: '16 KB padded X-Real-IP', tp: '127.0.0.1', ipHeader: 'x-real-ip', headers: { 'X-Real-IP': PAD, 'X-Forwarded-Proto': 'https' } },
  { id: 'cidrs-10000', title: '10,000-entry TRUST_PROXY, 3 trusted hops', tp: TEN_K, ipHeader: 'x-forwarded-for', headers: { 'X-Forwarded-For': '203.0.113.7, 1.2.38.15, 1.2.0.9', 'X-Forwarded-Proto': 'https' } },
]

const TICK_MS = 1000 / 100 // USER_HZ: 100 on Linux

function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS // utime + stime
  } catch {
    return NaN
  }
}


/** Starts a server process that says "listening on http://127.0.0.1:PORT" on stderr; resolves with its pid, port and a stop function. */
function startProcess(args, env = process.env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env })
    let err = ''
    child.stderr.setEncoding('utf8').on('data', (d) => {
      err += d
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err)
      if (m) resolve({ pid: child.pid, port: Number(m[1]), stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))) })
    })
    child.once('exit', (code) => reject(new Error(`${args[0]} exited ${code}: ${err}`)))
  })
}

/** `serve` on a free port, TRUST_PROXY from the environment (a 10,000-entry value is too long for one argument). */
const startServe = (tp, ipHeader) => startProcess([CLI, 'serve', '--listen', '127.0.0.1:0', '--ip-header', ipHeader], { ...process.env, TRUST_PROXY: tp })

/** The floor: node:http answering a fixed body of `bytes` bytes, in its own process. */
function startFloor(bytes) {
  const code = `const b = Buffer.alloc(${bytes}, 120); require('node:http').createServer((q, s) => { s.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': b.length }); s.end(b) }).listen(0, '127.0.0.1', function () { console.error('listening on http://127.0.0.1:' + this.address().port) })`
  return startProcess(['-e', code])
}

function once(agent, port, headers) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers, agent }, (res) => {
      let n = 0
      res.on('data', (d) => (n += d.length))
      res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`status ${res.statusCode}`))))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Sequential keep-alive requests for MS: median and p99 latency, server CPU per request, body size. */
async function load(server, headers) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  for (let i = 0; i < 100; i++) await once(agent, server.port, headers)
  const lat = []
  let bytes = 0
  const cpu0 = cpuMs(server.pid)
  const t0 = performance.now()
  while (performance.now() - t0 < MS && lat.length < 20_000) {
    const t = performance.now()
    bytes = await once(agent, server.port, headers)
    lat.push(performance.now() - t)
  }
  const cpu = cpuMs(server.pid) - cpu0
  agent.destroy()
  lat.sort((a, b) => a - b)
  return { n: lat.length, medianUs: lat[lat.length >> 1] * 1000, p99Us: lat[Math.floor(lat.length * 0.99)] * 1000, cpuUs: (cpu * 1000) / lat.length, bytes }
}

/** Runs every case; `log` prints a line. Returns the markdown report. */
export async function benchServe(log = (l = '') => process.stdout.write(l + '\n')) {
  const lib = await import(pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href)
  log('## trust-proxy serve, per request')
  const rows = []
  for (const c of CASES) {
    const server = await startServe(c.tp, c.ipHeader)
    try {
      const json = await load(server, { Accept: 'application/json', ...c.headers })
      const html = await load(server, { Accept: 'text/html', ...c.headers })
      const floor = await startFloor(html.bytes)
      let bare
      try {
        bare = await load(floor, { Accept: 'text/html', ...c.headers })
      } finally {
        await floor.stop()
      }
      // The core's share, in this process: the trace the page shows, and the app's resolveClient.
      const policy = lib.parseTrustProxy(c.tp)
      const req = { remoteAddress: '127.0.0.1', headers: Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k.toLowerCase(), v])) }
      const opts = { header: c.ipHeader }
      lib.traceClient(policy, req, opts)
      const trace = (await timeIt(() => lib.traceClient(policy, req, opts), 150)).p50
      const resolve = (await timeIt(() => lib.resolveClient(policy, req, opts), 150)).p50
      const row = { ...c, json, html, bare, trace, resolve }
      rows.push(row)
      log(
        `${c.id.padEnd(17)} server CPU/request: JSON ${fmt(json.cpuUs)} us, HTML ${fmt(html.cpuUs)} us, bare node:http ${fmt(bare.cpuUs)} us | ` +
          `median latency JSON ${fmt(json.medianUs)} us, HTML ${fmt(html.medianUs)} us, bare ${fmt(bare.medianUs)} us | traceClient ${fmt(trace / 1000)} us, resolveClient ${fmt(resolve / 1000)} us`,
      )
    } finally {
      await server.stop()
    }
  }
  const normal = rows.find((r) => r.id === 'normal')
  const lines = []
  const p = (l = '') => lines.push(l)
  p('# trust-proxy serve: cost per request')
  p()
  p(`Written by \`node bench/serve.mjs\` (also part of \`npm run bench\`) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`)
  p()
  p(`- Machine: ${cpuModel()}, ${os.availableParallelism?.() ?? os.cpus().length} cores (shared, noisy: read the ratios); load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`)
  p(`- Node ${process.version}. Each case: one \`dist/cli.js serve\` process, keep-alive requests one at a time from this process for ${MS} ms per format, after 100 warm-up requests.`)
  p('- Server CPU is the serve process\'s user + system time over the run (`/proc/<pid>/stat`, 10 ms ticks) divided by the requests: what one request costs the server, parsing and sockets included.')
  p('- The floor is a bare `node:http` server answering a fixed body as large as the HTML page, to the same requests (same headers).')
  p('- traceClient and resolveClient are timed in-process (mitata p50) on the same request: the core\'s part of the cost.')
  p()
  p('| case | server CPU us/req, JSON | HTML | bare node:http | HTML / bare | HTML / normal HTML | median latency us, JSON | HTML | bare | traceClient us | resolveClient us |')
  p('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|')
  for (const r of rows) {
    p(
      `| ${r.title} | ${fmt(r.json.cpuUs)} | ${fmt(r.html.cpuUs)} | ${fmt(r.bare.cpuUs)} | ${(r.html.cpuUs / r.bare.cpuUs).toFixed(2)}x | ${(r.html.cpuUs / normal.html.cpuUs).toFixed(2)}x | ` +
        `${fmt(r.json.medianUs)} | ${fmt(r.html.medianUs)} | ${fmt(r.bare.medianUs)} | ${fmt(r.trace / 1000)} | ${fmt(r.resolve / 1000)} |`,
    )
  }
  p()
  p('Before issue 10, the same 16 KB padded header cost 540 ms of CPU per request (a backtracking trim), and a 6,000-entry')
  p('TRUST_PROXY ~100 ms per request (every range re-parsed per request to explain the walk).')
  p()
  return lines.join('\n')
}

function fmt(x) {
  if (!Number.isFinite(x)) return 'n/a'
  return x >= 100 ? Math.round(x).toLocaleString('en') : x.toFixed(1)
}

/** Runs the cases, prints the table and writes bench/SERVE.md (unless BENCH_NO_WRITE=1 or BENCH_LIB is set). */
export async function main(log = (l = '') => process.stdout.write(l + '\n')) {
  const md = await benchServe(log)
  log()
  log(md)
  if (process.env.BENCH_NO_WRITE !== '1' && process.env.BENCH_LIB === undefined) {
    writeFileSync(new URL('./SERVE.md', import.meta.url), md + '\n')
    log('Wrote bench/SERVE.md.')
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main()
