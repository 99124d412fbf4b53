/**
 * `node bench/adapters-instructions.mjs`: the adapters' cost in machine instructions per request,
 * counted by valgrind (callgrind) on the same real servers as bench/adapters.mjs
 * (bench/adapters-server.mjs), so that the figure does not move with what the neighbours on a
 * shared machine do.
 *
 * Time and CPU counters on these shared 2-core machines swing by tens of percent with the load
 * (Stryker on one core, test suites, type checks): a neighbour takes cache, memory bandwidth and
 * the JIT compiler's background threads. An instruction count does not depend on any of that.
 * Each server runs under `valgrind --tool=callgrind` (about 50 times slower, which does not
 * matter here), gets a warm-up of WARMUP requests so that V8 has optimised its code, then ROUNDS
 * batches of REQUESTS requests, each request sent only when the previous one was answered, on one
 * keep-alive connection (the same pattern for every server, so each request is its own event-loop
 * turn). The instructions each batch executed, in every thread of the process (`callgrind_control
 * -e Ir`: V8's compiler and GC threads included), are divided by the requests in it.
 *
 * What this counts is user-space instructions only: the kernel's share of a request (socket
 * reads and writes, most of the bare server's cost) is not in it, so "share of the baseline" here
 * is a share of the bare server's user-space instructions, an upper bound on the share of its CPU.
 * Instructions are not time either (a cache miss costs more than an add), which is why
 * bench/adapters.mjs measures time: this is the cross-check that holds still.
 *
 * Environment: BENCH_WARMUP (default 20000 requests: 2000 were not enough, the batches still
 * differed by 2x with V8's compiler at work; the run refuses to write such counts), BENCH_REQUESTS (default 1000 per batch),
 * BENCH_ROUNDS (default 3), BENCH_CORE (the core every server is pinned to, default 1),
 * BENCH_ONLY (frameworks), BENCH_NO_WRITE=1. Writes its section at the
 * end of bench/ADAPTERS.md (bench/adapters.mjs keeps it when it rewrites the rest).
 */
import { spawn, execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { INSTRUCTIONS_HEADING, median, spread } from './adapters-report.mjs'
import { cpuModel } from './machine.mjs'

const WARMUP = Number(process.env.BENCH_WARMUP ?? 20000)
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const CORE = process.env.BENCH_CORE ?? '1'
const ONLY = process.env.BENCH_ONLY?.split(',')
const HEADERS = {
  'x-forwarded-for': '203.0.113.7, 198.51.100.2, 10.0.0.3',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'app.example.com',
}
// The servers the two open targets turn on (bench/adapters.mjs times the others).
const CONFIGS = [
  ['node:http', 'none'],
  ['node:http', 'ours-core'],
  ['node:http', 'ours'],
  ['koa', 'none'],
  ['koa', 'own'],
  ['koa', 'ours-record'],
  ['koa', 'ours'],
].filter(([f]) => ONLY === undefined || ONLY.includes(f))
const LABEL = {
  none: 'no IP resolution',
  own: 'framework’s own trust proxy',
  'ours-core': 'ours: core resolveClient alone',
  'ours-record': 'ours: resolveRequest record only',
  ours: 'ours: adapter (full record)',
}

try {
  execFileSync('valgrind', ['--version'])
  execFileSync('callgrind_control', ['--version'])
} catch {
  console.error('valgrind (with callgrind_control) is not installed: apt-get install valgrind')
  process.exit(1)
}
const taskset = (() => {
  try {
    execFileSync('taskset', ['-c', CORE, 'true'])
    return true
  } catch {
    return false
  }
})()

function startServer(framework, mode) {
  const args = [
    'valgrind',
    '--tool=callgrind',
    '--callgrind-out-file=/dev/null',
    // V8 writes and rewrites its machine code: valgrind must notice.
    '--smc-check=all-non-file',
    process.execPath,
    fileURLToPath(new URL('./adapters-server.mjs', import.meta.url)),
    framework,
    mode,
  ]
  // Every server on one core (BENCH_CORE, default 1): they are counted, not timed, so they may share it.
  const [cmd, rest] = taskset ? ['taskset', ['-c', CORE, ...args]] : [args[0], args.slice(1)]
  const child = spawn(cmd, rest, { stdio: ['ignore', 'inherit', 'ignore', 'ipc'] })
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ framework, mode, child, port: m.port }))
    child.once('exit', (code) => reject(new Error(`${framework} ${mode} exited (${code})`)))
  })
}

/** Instructions executed so far by every thread of the process. */
function instructions(pid) {
  const out = execFileSync('callgrind_control', ['-e', 'Ir', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  let total = 0
  for (const m of out.matchAll(/^\s*Th\s*\d+\s+([\d,]+)\s*$/gm)) total += Number(m[1].replaceAll(',', ''))
  if (total === 0) throw new Error(`no counts from callgrind_control: ${out}`)
  return total
}

async function send(port, n, agent) {
  let last = ''
  for (let i = 0; i < n; i++) {
    last = await new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/', headers: HEADERS, agent }, (res) => {
          let body = ''
          res.on('data', (c) => (body += c))
          res.on('end', () => resolve(body))
        })
        .on('error', reject)
    })
  }
  return last
}

const started = Date.now()
const load0 = os.loadavg()
const servers = await Promise.all(CONFIGS.map(([f, m]) => startServer(f, m)))
const counts = new Map(servers.map((s) => [s, []]))
try {
  await Promise.all(
    servers.map(async (s) => {
      s.agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
      const body = await send(s.port, WARMUP, s.agent)
      const want = s.mode === 'none' ? '127.0.0.1' : '203.0.113.7'
      if (body.split(' ')[0] !== want) throw new Error(`${s.framework} ${s.mode} answered ${JSON.stringify(body)}, expected ${want}`)
    }),
  )
  for (let round = 0; round < ROUNDS; round++) {
    // One server at a time, so that a batch's count has nothing of another server's requests.
    for (const s of servers) {
      const before = instructions(s.child.pid)
      await send(s.port, REQUESTS, s.agent)
      counts.get(s).push((instructions(s.child.pid) - before) / REQUESTS)
    }
    process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`)
  }
} finally {
  for (const s of servers) {
    s.agent?.destroy()
    s.child.kill()
  }
}

const find = (f, m) => servers.find((s) => s.framework === f && s.mode === m)
const per = (s) => counts.get(s)
const added = (s) => per(s).map((x, i) => x - per(find(s.framework, 'none'))[i])
const int = (x) => Math.round(x).toLocaleString('en-US')
const rows = servers.map(
  (s) => `| ${s.framework} | ${LABEL[s.mode]} | ${spread(per(s), int)} | ${s.mode === 'none' ? '' : spread(added(s), int)} |`,
)
const notes = []
// Counts that have not settled (V8 still compiling, a GC cycle in one batch) are not a figure.
const unsettled = servers.filter((s) => Math.max(...per(s)) > 1.1 * Math.min(...per(s)))
if (unsettled.length > 0) {
  notes.push(`- NOT SETTLED: the batches of ${unsettled.map((s) => `${s.framework} ${s.mode}`).join(', ')} differ by more than 10%; raise BENCH_WARMUP. Not written to bench/ADAPTERS.md.`)
}
const none = find('node:http', 'none')
const ours = find('node:http', 'ours')
const core = find('node:http', 'ours-core')
if (none && ours) {
  const base = median(per(none))
  notes.push(
    `- node:http: our full record adds ${int(median(added(ours)))} instructions per request, ${((100 * median(added(ours))) / base).toFixed(1)}% of the bare server's user-space instructions` +
      (core ? `; the core's \`resolveClient\` alone ${int(median(added(core)))}, the adapter's own work around it ${int(median(per(ours).map((x, i) => x - per(core)[i])))}.` : '.'),
  )
}
const koaOurs = find('koa', 'ours')
const koaOwn = find('koa', 'own')
if (koaOurs && koaOwn) {
  const ratio = median(added(koaOurs)) / median(added(koaOwn))
  notes.push(`- koa: our adapter adds ${int(median(added(koaOurs)))} instructions per request, Koa's own trust proxy ${int(median(added(koaOwn)))}: ${ratio.toFixed(2)}x.`)
}

const md = `${INSTRUCTIONS_HEADING}

Written by \`node bench/adapters-instructions.mjs\` on ${new Date().toISOString().slice(0, 16)} UTC (${cpuModel()}, Node ${process.version}, valgrind callgrind; load average ${load0.map((x) => x.toFixed(1)).join('/')} at the start, which does not change these counts; ${Math.round((Date.now() - started) / 1000)} s). Every thread's instructions per request, after a warm-up of ${WARMUP} requests, ${ROUNDS} batches of ${REQUESTS} sequential requests on one keep-alive connection: \`median [min–max]\` over the batches. User-space only (the kernel's socket work, most of a bare server's cost, is not counted), so a share of the bare server's count overstates the share of its CPU.

| server | mode | instructions/request | added vs none |
|---|---|---:|---:|
${rows.join('\n')}

${notes.join('\n')}
`
console.log(md)
const file = new URL('./ADAPTERS.md', import.meta.url)
if (process.env.BENCH_NO_WRITE !== '1' && ONLY === undefined && unsettled.length === 0 && existsSync(file)) {
  const text = readFileSync(file, 'utf8')
  const at = text.indexOf(INSTRUCTIONS_HEADING)
  writeFileSync(file, `${(at < 0 ? text : text.slice(0, at)).trimEnd()}\n\n${md}`)
}
