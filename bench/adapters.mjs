/**
 * `npm run bench:adapters`: what each adapter costs on a real server, side by side in one run.
 *
 * For node:http, Express, Fastify and Koa, three servers each (bench/adapters-server.mjs): no IP
 * resolution, the framework's own trust proxy, and our adapter (node:http: proxy-addr as "its
 * own", and both our hot path and our full record), plus two servers that split our cost: node:http
 * calling the core's `resolveClient` directly (the full record without the adapter's own work), and
 * Koa with a middleware that only stores `resolveRequest`'s record (our adapter without its Koa
 * getters); and node:http's floor, `lower-bound`: bench/lower-bound.mjs's walk with the forwarded
 * protocol and host unvalidated, the same answers at the least work. All get the same 3-hop request from
 * 127.0.0.1, `X-Forwarded-For: 203.0.113.7, 198.51.100.2, 10.0.0.3` with proto and host, under
 * the same trusted list, so every mode's answer is the client 203.0.113.7 (checked first).
 *
 * Servers are pinned to core 0 and autocannon, in its own process, to core 1 (taskset). The
 * measurements are interleaved: each round runs every server once, in an order rotated per
 * round, and the table gives the medians over rounds. Besides req/s and p99 at saturation, the
 * server's own CPU time per request (process.cpuUsage() before and after, asked over IPC) at a
 * fixed offered rate is reported: it is much steadier than req/s on a shared machine. Inside each
 * server, the time each request spends deciding its client is also measured (mean and median
 * over the requests). Every comparison (added cost, share of the baseline, ratio to the
 * framework's own) is computed per round between servers that ran back to back, and reported
 * as the median over rounds with its range, so that a round slowed by a neighbour shows as spread.
 *
 * Separate server processes still differ by several µs of CPU per request (each compiles its
 * code its own way), more than the costs compared. So the CPU counters are measured a second
 * way, which decides: two modes in one server process taking turns of a number of requests
 * (`alternatingSeries`), each turn against its neighbours.
 *
 * Environment: BENCH_ROUNDS / BENCH_SECONDS (fixed-rate CPU series, default 5 x 3 s), BENCH_RATE
 * (default 1000 req/s), BENCH_WARMUP (requests per server before anything is measured, default
 * 20000), BENCH_SATURATED_ROUNDS / BENCH_SATURATED_SECONDS (req/s and p99 series,
 * default 2 x 2 s), BENCH_AB_TURNS / BENCH_AB_TURN (the alternating series: turns, and requests
 * a turn, default 120 x 500), BENCH_AB (its pairs, `framework/a/b,...`), BENCH_CONNECTIONS
 * (default 10), BENCH_ONLY (frameworks, comma-separated:
 * `BENCH_ONLY=node:http,koa` re-measures the two targets still open), BENCH_NO_WRITE=1 (do not
 * write bench/ADAPTERS.md; a BENCH_ONLY run never writes it).
 */
import { spawn, execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { INSTRUCTIONS_HEADING, median, spread } from './adapters-report.mjs'
import { cpuModel } from './machine.mjs'

const require = createRequire(import.meta.url)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const RATE = Number(process.env.BENCH_RATE ?? 1000)
const SATURATED_ROUNDS = Number(process.env.BENCH_SATURATED_ROUNDS ?? 2)
const SATURATED_SECONDS = Number(process.env.BENCH_SATURATED_SECONDS ?? 2)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 20000)
const HEADERS = {
  'x-forwarded-for': '203.0.113.7, 198.51.100.2, 10.0.0.3',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'app.example.com',
}
const CLIENT = '203.0.113.7'

/**
 * The alternating series: two modes in one server process, taking turns of AB_TURN requests at
 * the fixed rate, AB_TURNS turns in all (see `alternate` in adapters-server.mjs). [framework, A, B]:
 * B's CPU per request against A's, turn against neighbouring turns.
 */
const AB_TURNS = Number(process.env.BENCH_AB_TURNS ?? 120)
const AB_TURN = Number(process.env.BENCH_AB_TURN ?? 500)
const ALL_AB = [
  ['node:http', 'none', 'ours'],
  // What the least our library does per request costs by the same counters, and what
  // proxy-addr costs: the scale the full record's share is to be read against.
  ['node:http', 'none', 'ours-ip'],
  // And the floor: what the least work that gives the same answers costs (the lower bound's walk).
  ['node:http', 'none', 'lower-bound'],
  ['node:http', 'none', 'own'],
  ['express', 'own', 'ours'],
  ['fastify', 'own', 'ours'],
  ['koa', 'own', 'ours'],
]

const ONLY = process.env.BENCH_ONLY?.split(',')
const ALL_CONFIGS = [
  ['node:http', 'none'],
  ['node:http', 'own'],
  ['node:http', 'lower-bound'],
  ['node:http', 'ours-ip'],
  ['node:http', 'ours-core'],
  ['node:http', 'ours'],
  ['express', 'none'],
  ['express', 'own'],
  ['express', 'ours'],
  ['fastify', 'none'],
  ['fastify', 'own'],
  ['fastify', 'ours'],
  ['koa', 'none'],
  ['koa', 'own'],
  ['koa', 'ours-record'],
  ['koa', 'ours'],
]
const CONFIGS = ONLY ? ALL_CONFIGS.filter(([f]) => ONLY.includes(f)) : ALL_CONFIGS
// BENCH_AB=framework/a/b,...: other pairs (to split a cost: node:http/none/ours-core, for one).
const AB = process.env.BENCH_AB !== undefined
  ? process.env.BENCH_AB.split(',').filter(Boolean).map((x) => x.split('/'))
  : ONLY ? ALL_AB.filter(([f]) => ONLY.includes(f)) : ALL_AB
const MODE_LABEL = {
  none: 'no IP resolution',
  own: 'framework’s own trust proxy',
  'lower-bound': 'lower bound (no record, nothing validated but the walk)',
  'ours-ip': 'ours: resolveClientIp (hot path)',
  'ours-core': 'ours: core resolveClient alone',
  'ours-record': 'ours: resolveRequest record only',
  ours: 'ours: adapter (full record)',
}

const taskset = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true'])
    return true
  } catch {
    return false
  }
})()
const pinned = (core, args) => (taskset ? ['taskset', ['-c', String(core), ...args]] : [args[0], args.slice(1)])

// ---------------------------------------------------------------------------------------------
// Servers

function startServer(framework, mode) {
  return new Promise((resolve, reject) => {
    const [cmd, args] = pinned(0, [process.execPath, fileURLToPath(new URL('./adapters-server.mjs', import.meta.url)), framework, mode])
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const pending = []
    child.on('message', (m) => {
      const ask = (what) => new Promise((r) => (pending.push(r), child.send(what)))
      if (m.port !== undefined) {
        resolve({ framework, mode, child, port: m.port, cpu: () => ask('cpu'), section: () => ask('section'), flip: () => ask('flip'), alternate: (ab) => ask({ ab }) })
      } else {
        pending.shift()?.(m.cpu ?? m.section ?? m.turns ?? m.turn)
      }
    })
    child.once('exit', (code) => reject(new Error(`${framework} ${mode} exited (${code})`)))
  })
}

function request(port) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', headers: HEADERS, agent: false }, (res) => {
        let body = ''
        res.on('data', (c) => (body += c))
        res.on('end', () => resolve(body))
      })
      .on('error', reject)
  })
}

// ---------------------------------------------------------------------------------------------
// Load

/** `seconds` of load (or, with `amount`, that many requests), at `rate` req/s or as fast as the server answers. */
function autocannon(port, seconds, rate, amount) {
  const bin = require.resolve('autocannon/autocannon.js')
  const headerArgs = Object.entries(HEADERS).flatMap(([k, v]) => ['-H', `${k}=${v}`])
  const rateArgs = rate ? ['-R', String(rate)] : []
  const length = amount ? ['-a', String(amount)] : ['-d', String(seconds)]
  const [cmd, args] = pinned(1, [process.execPath, bin, '-c', String(CONNECTIONS), ...length, '-j', ...rateArgs, ...headerArgs, `http://127.0.0.1:${port}/`])
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] })
    let out = ''
    child.stdout.on('data', (c) => (out += c))
    child.once('exit', (code) => {
      try {
        resolve(JSON.parse(out))
      } catch (e) {
        reject(new Error(`autocannon exited ${code}: ${out.slice(0, 500)}`))
      }
    })
  })
}

/** Busy share of all cores from /proc/stat between two readings (other engineers' load included). */
function cpuTimes() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
    const idle = line[3] + (line[4] ?? 0)
    return { idle, total: line.reduce((a, b) => a + b, 0) }
  } catch {
    return null
  }
}


const us = (x) => x.toFixed(1)
const ns = (x) => String(Math.round(x))
const pct = (x) => `${(x * 100).toFixed(1)}%`
const times = (x) => `${x.toFixed(2)}x`

// ---------------------------------------------------------------------------------------------

const started = Date.now()
const load0 = os.loadavg()
const loads = [load0[0]]
const stat0 = cpuTimes()
const servers = []
for (const [f, m] of CONFIGS) servers.push(await startServer(f, m))

try {
  // Every mode must answer the same client before anything is timed (`none` reads the socket).
  for (const s of servers) {
    const body = await request(s.port)
    const ip = body.split(' ')[0]
    const want = s.mode === 'none' ? '127.0.0.1' : CLIENT
    if (ip !== want) throw new Error(`${s.framework} ${s.mode} answered ${JSON.stringify(body)}, expected ${want}`)
  }
  // Warm-up, not counted: a number of requests rather than a time, so that V8 has optimised every
  // server's code however slowly a loaded machine serves them (a one-second warm-up at load 8
  // left servers measured in unoptimised code, ten times slower).
  for (const s of servers) await autocannon(s.port, 0, 0, WARMUP)

  // Two series. Saturated (as fast as the server answers): req/s and p99. At a fixed offered
  // rate (autocannon -R, the same for every server): CPU per request. At saturation a server
  // that a neighbour slows down batches more requests per event-loop turn and its CPU per
  // request drops, so CPU figures are only comparable at the same rate.
  const samples = new Map(servers.map((s) => [s, []]))
  const saturated = new Map(servers.map((s) => [s, []]))
  for (let round = 0; round < ROUNDS; round++) {
    // One framework's servers back to back (so that their paired differences are measured
    // under the same machine load), frameworks and modes both in an order rotated per round.
    const frameworks = [...new Set(servers.map((s) => s.framework))]
    const order = []
    for (let f = 0; f < frameworks.length; f++) {
      const group = servers.filter((s) => s.framework === frameworks[(f + round) % frameworks.length])
      for (let m = 0; m < group.length; m++) order.push(group[(m + round) % group.length])
    }
    for (const s of order) {
      if (round < SATURATED_ROUNDS) {
        const r = await autocannon(s.port, SATURATED_SECONDS)
        if (r.non2xx > 0 || r.errors > 0) throw new Error(`${s.framework} ${s.mode}: ${r.non2xx} non-2xx, ${r.errors} errors`)
        saturated.get(s).push({ rps: r.requests.average, p99: r.latency.p99 })
      }
      await s.section() // resets the server's section samples
      const before = await s.cpu()
      const r = await autocannon(s.port, SECONDS, RATE)
      const after = await s.cpu()
      const { mean: section, median: sectionMedian } = await s.section()
      const requests = r.requests.total
      if (r.non2xx > 0 || r.errors > 0) throw new Error(`${s.framework} ${s.mode}: ${r.non2xx} non-2xx, ${r.errors} errors`)
      const cpuUs = after.user - before.user + (after.system - before.system)
      samples.get(s).push({ cpu: cpuUs / requests, served: requests / SECONDS, section, sectionMedian })
    }
    loads.push(os.loadavg()[0])
    process.stderr.write(`round ${round + 1}/${ROUNDS} done (load ${loads.at(-1).toFixed(1)})\n`)
  }

  const rows = servers.map((s) => {
    const xs = samples.get(s)
    const peer = (mode) => samples.get(servers.find((o) => o.framework === s.framework && o.mode === mode))
    const none = peer('none')
    return {
      framework: s.framework,
      mode: s.mode,
      rps: median(saturated.get(s).map((x) => x.rps)),
      p99: median(saturated.get(s).map((x) => x.p99)),
      served: median(xs.map((x) => x.served)),
      cpus: xs.map((x) => x.cpu),
      // Paired per round: this server and the same framework's others ran back to back.
      added: xs.map((x, i) => x.cpu - none[i].cpu),
      sections: xs.map((x) => x.section),
      sectionMedians: xs.map((x) => x.sectionMedian),
      sectionAdded: xs.map((x, i) => x.section - none[i].section),
      // Per round, what this server adds as a share of the same round's bare server.
      shareBySection: xs.map((x, i) => (x.section - none[i].section) / 1000 / none[i].cpu),
      shareByCpu: xs.map((x, i) => (x.cpu - none[i].cpu) / none[i].cpu),
      // Per round, against the framework's own trust proxy (node:http: proxy-addr), and against
      // another of our modes (what that mode's extra work costs).
      vsOwn: xs.map((x, i) => x.cpu / peer('own')[i].cpu),
      vsOwnBySection: xs.map((x, i) => (x.section - none[i].section) / (peer('own')[i].section - none[i].section)),
      minus: (mode) => xs.map((x, i) => x.section - peer(mode)[i].section),
    }
  })
  const alternating = []
  for (const [framework, a, b] of AB) alternating.push(await alternatingSeries(framework, a, b))
  const stat1 = cpuTimes()
  const load1 = os.loadavg()
  const busy = stat0 && stat1 ? 1 - (stat1.idle - stat0.idle) / (stat1.total - stat0.total) : NaN
  loads.push(load1[0])
  report(rows, alternating, { load0, load1, loads, busy, seconds: (Date.now() - started) / 1000 })
} finally {
  for (const s of servers) s.child.kill()
}

/**
 * Modes `a` and `b` of one framework in one server process, taking turns at the fixed rate (see
 * `alternate` in adapters-server.mjs). Each of b's turns is compared with the mean of the a turns
 * on either side of it, so that a slow drift of the machine's load cancels; the aggregate is all
 * of b's CPU over all of b's requests against the same for a.
 */
async function alternatingSeries(framework, a, b) {
  const s = await startServer(framework, `ab:${a},${b}`)
  try {
    // Both modes warmed up as the separate servers were, then a's turn first.
    await autocannon(s.port, 0, 0, WARMUP)
    await s.flip()
    await autocannon(s.port, 0, 0, WARMUP)
    await s.flip()
    // A few requests more than the turns need, so that the last turn ends.
    const requests = AB_TURNS * AB_TURN + 100
    // As fast as the server answers: autocannon's connections each send the next request on the
    // last one's answer. (Not at its fixed rate: that arrives in bursts of a second's requests,
    // and the quiet rest of each second would fall in the same turn whenever a turn's length
    // divides the rate.)
    return { framework, a, b, ...(await turnsUnder(s, () => autocannon(s.port, 0, 0, requests))) }
  } finally {
    s.child.kill()
  }
}

/** The turns of one alternating series under the load `load()` starts, compared. */
async function turnsUnder(s, load) {
  let turns
  const answered = s.alternate({ requestsPerTurn: AB_TURN, turns: AB_TURNS }).then((t) => (turns = t))
  const r = await load()
  // A load that ended early leaves turns unfinished: the server answers with those it has.
  await Promise.race([answered, new Promise((done) => setTimeout(done, 2000))])
  if (turns === undefined) {
    s.child.send('ab-end')
    await answered
  }
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${s.framework} ${s.mode}: ${r.non2xx} non-2xx, ${r.errors} errors`)
  // The first two turns hold the load's start.
  const used = turns.slice(2)
  const perRequest = (t) => t.cpu / t.requests
  const diffs = []
  for (let i = 1; i + 1 < used.length; i++) {
    if (used[i].mode !== 1 || used[i - 1].mode !== 0 || used[i + 1].mode !== 0) continue
    const around = (perRequest(used[i - 1]) + perRequest(used[i + 1])) / 2
    diffs.push({ added: perRequest(used[i]) - around, share: (perRequest(used[i]) - around) / around })
  }
  const total = (mode, key) => used.filter((t) => t.mode === mode).reduce((sum, t) => sum + t[key], 0)
  const cpuA = total(0, 'cpu') / total(0, 'requests')
  const cpuB = total(1, 'cpu') / total(1, 'requests')
  process.stderr.write(`alternating ${s.mode} on ${s.framework}: ${us(cpuB - cpuA)} µs/request of ${us(cpuA)}\n`)
  return { turns: used.length, requestsPerTurn: median(used.map((t) => t.requests)), cpuA, cpuB, diffs }
}

/** The 25th, 50th and 75th percentiles, as `median [q1–q3]`. */
function quartiles(xs, fmt) {
  const sorted = [...xs].sort((x, y) => x - y)
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
  return `${fmt(at(0.5))} [${fmt(at(0.25))}–${fmt(at(0.75))}]`
}

function alternatingSection(alternating) {
  if (alternating.length === 0) return ''
  const label = (m) => MODE_LABEL[m]
  const lines = [
    '',
    '## CPU per request, two modes taking turns in one process',
    '',
    `The process's CPU counters again, measured so that they can decide. For each framework one server process holds both modes and switches between them every ${AB_TURN} requests, ${AB_TURNS} turns in all, after a warm-up of ${WARMUP} requests in each mode, with autocannon's ${CONNECTIONS} connections each sending the next request on the last one's answer (its fixed rate comes in bursts of a second's requests, and the quiet rest of each second would fall in the same turn whenever a turn's length divides the rate). Separate server processes differ by more than the costs measured here (each compiles and lays out its code its own way, and runs at another minute of the machine's load); turns of one process share the JIT, the heap and the moment. (A saturated server batches what arrives together, and the slower mode's turns batch a little more, which lowers their CPU per request: if anything, the differences understate the slower mode's cost.) The aggregate divides each mode's total CPU by its total requests; besides it, each of the second mode's turns is compared with the mean of the turns on either side of it (\`median [quartiles]\` over those comparisons).`,
    '',
    '| server | first mode | second mode | turns (requests each) | first, µs/request | second, µs/request | second − first, aggregate | second − first, per turn | share of the first (aggregate; per turn) |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|',
  ]
  for (const t of alternating) {
    lines.push(
      `| ${t.framework} | ${label(t.a)} | ${label(t.b)} | ${t.turns} (${Math.round(t.requestsPerTurn)}) | ${us(t.cpuA)} | ${us(t.cpuB)} | ${(t.cpuB - t.cpuA).toFixed(2)} µs | ${quartiles(t.diffs.map((d) => d.added), (v) => v.toFixed(2))} µs | ${pct((t.cpuB - t.cpuA) / t.cpuA)}; ${quartiles(t.diffs.map((d) => d.share), pct)} |`,
    )
  }
  lines.push('')
  for (const t of alternating) {
    const added = t.cpuB - t.cpuA
    const perTurn = median(t.diffs.map((d) => d.added))
    if (t.a === 'none' && t.b !== 'ours') {
      const share = added / t.cpuA
      const shareTurn = median(t.diffs.map((d) => d.share))
      // The floor (the least work that gives the same three answers) against the 3% target.
      const floor =
        t.b !== 'lower-bound'
          ? ''
          : share > 0.03 && shareTurn > 0.03
            ? ' The 3% target is below this floor: no resolver that gives the same client, protocol and host meets it on this machine, whatever its record costs.'
            : ' The 3% target is above this floor here.'
      lines.push(`- ${t.framework}, ${label(t.b)}: adds ${(added * 1000).toFixed(0)} ns per request, ${pct(share)} of the bare server's ${us(t.cpuA)} µs (per turn ${pct(shareTurn)}).${floor}`)
    } else if (t.a === 'none') {
      const share = added / t.cpuA
      const shareTurn = median(t.diffs.map((d) => d.share))
      lines.push(
        `- **${t.framework}**, target "our full record adds at most 3% of the bare server's CPU per request", by the CPU counters of one process: ${(added * 1000).toFixed(0)} ns of ${us(t.cpuA)} µs, ${pct(share)} (per turn ${pct(shareTurn)}): ${share <= 0.03 && shareTurn <= 0.03 ? 'met' : 'NOT met'}.`,
      )
    } else {
      lines.push(
        `- **${t.framework}**, target "our adapter costs no more than the framework's own trust proxy", by the CPU counters of one process: ours − own ${added.toFixed(2)} µs per request (per turn ${perTurn.toFixed(2)} µs): ${added <= 0 && perTurn <= 0 ? 'met' : 'NOT met'}.`,
      )
    }
  }
  return `${lines.join('\n')}\n`
}

function report(rows, alternating, machine) {
  const find = (f, m) => rows.find((r) => r.framework === f && r.mode === m)
  const lines = []
  lines.push(`| server | mode | req/s (saturated) | p99 ms (saturated) | server CPU µs/request at ${RATE} req/s | added CPU µs vs none (paired) | time deciding the client, ns/request: mean (median) | added ns vs none, mean (paired) |`)
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|')
  for (const r of rows) {
    const none = r.mode === 'none'
    lines.push(
      `| ${r.framework} | ${MODE_LABEL[r.mode]} | ${Math.round(r.rps)} | ${r.p99.toFixed(1)} | ${spread(r.cpus, us)} | ${none ? '' : spread(r.added, us)} | ${ns(median(r.sections))} (${ns(median(r.sectionMedians))}) | ${none ? '' : spread(r.sectionAdded, ns)} |`,
    )
  }
  const verdict = (ok) => (ok ? 'met' : 'NOT met')
  const targets = []
  const http0 = find('node:http', 'none')
  const httpOurs = find('node:http', 'ours')
  if (httpOurs !== undefined) {
    const base = median(http0.cpus)
    const bySection = median(httpOurs.shareBySection)
    const byCpu = median(httpOurs.shareByCpu)
    targets.push(
      `- **node:http**, target "our full record (\`resolveRequest\`) adds at most 3% of the bare server's CPU per request" (${us(base)} µs here, so at most ${ns(base * 30)} ns): by the time it takes, it adds ${spread(httpOurs.sectionAdded, ns)} ns, ${spread(httpOurs.shareBySection, pct)} of the same round's baseline: ${verdict(bySection <= 0.03)}; by the process's CPU counters, ${spread(httpOurs.added, us)} µs, ${spread(httpOurs.shareByCpu, pct)}: ${verdict(byCpu <= 0.03)}.`,
    )
    const core = find('node:http', 'ours-core')
    const ip = find('node:http', 'ours-ip')
    if (core !== undefined) {
      const coreAdded = median(core.sectionAdded)
      const adapterOwn = median(httpOurs.minus('ours-core'))
      targets.push(
        `  - Where it goes: the core's \`resolveClient\`, called alone, adds ${spread(core.sectionAdded, ns)} ns (${pct(median(core.shareBySection))} of the baseline); the adapter's own work around it (the peer captured at accept, the PROXY-protocol lookup, the request object) ${spread(httpOurs.minus('ours-core'), ns)} ns (${pct(adapterOwn / 1000 / base)})` +
          (ip === undefined ? '.' : `; the hot path \`resolveClientIp\` adds ${spread(ip.sectionAdded, ns)} ns.`) +
          ` The core call is ${pct(coreAdded / median(httpOurs.sectionAdded))} of what the record adds, so the target turns on \`resolveClient\`: with the adapter's part as it is, it is met once \`resolveClient\` adds at most ${ns(base * 30 - adapterOwn)} ns here (re-measure with \`BENCH_ONLY=node:http,koa npm run bench:adapters\`).`,
      )
    }
  }
  for (const f of ['express', 'fastify', 'koa']) {
    const ours = find(f, 'ours')
    const o = find(f, 'own')
    if (ours === undefined) continue
    targets.push(
      `- **${f}**, target "our adapter costs no more than the framework's own trust proxy": by the time taken, ours ${spread(ours.sectionAdded, ns)} ns against ${spread(o.sectionAdded, ns)} ns, a paired ratio of ${spread(ours.vsOwnBySection, times)}: ${verdict(median(ours.vsOwnBySection) <= 1)}; by CPU counters (paired ratio), ours / own ${spread(ours.vsOwn, times)}: ${verdict(median(ours.vsOwn) <= 1)}.`,
    )
    const record = find(f, 'ours-record')
    if (record !== undefined) {
      targets.push(
        `  - Where it goes: a middleware that only stores \`resolveRequest\`'s record (the core call, the adapter's peer lookup and one middleware step) adds ${spread(record.sectionAdded, ns)} ns; the Koa side of our adapter (the getters \`ctx.ip\`, \`ctx.protocol\`, \`ctx.host\` answering from it) ${spread(ours.minus('ours-record'), ns)} ns more.`,
      )
    }
  }
  const behind = rows.filter((r) => r.served < 0.95 * RATE)
  targets.push(
    behind.length === 0
      ? `- Every server answered the fixed ${RATE} req/s in full (median served rate at least 95% of it).`
      : `- Did not keep up with ${RATE} req/s (their CPU per request is then not at the same rate): ${behind.map((r) => `${r.framework} ${r.mode} (${Math.round(r.served)} req/s)`).join(', ')}.`,
  )
  const versions = ['express', 'fastify', 'koa', 'proxy-addr', 'autocannon'].map((p) => `${p} ${require(`${p}/package.json`).version}`).join(', ')
  const loadRange = `${Math.min(...machine.loads).toFixed(1)}-${Math.max(...machine.loads).toFixed(1)}`
  const md = `# Adapter cost on a real server

Written by \`npm run bench:adapters\` (bench/adapters.mjs) on ${new Date().toISOString().slice(0, 16)} UTC.

- CPU: ${cpuModel()}, ${os.cpus().length} cores; Node ${process.version}; ${versions}.
- Server pinned to core 0, autocannon (${CONNECTIONS} connections) to core 1${taskset ? '' : ' (taskset missing: NOT pinned)'}; interleaved rounds (one framework's servers back to back, orders rotated per round) after a warm-up of ${WARMUP} requests per server. req/s and p99: medians of ${SATURATED_ROUNDS} rounds of ${SATURATED_SECONDS} s at saturation. CPU per request: ${ROUNDS} rounds of ${SECONDS} s at a fixed ${RATE} req/s for every server (at saturation a server slowed by a neighbour batches more requests per event-loop turn, which lowers its CPU per request: only the same rate compares). Figures are \`median [min–max]\` over the rounds; every added cost, share and ratio is computed per round between servers that ran back to back, then its median and range taken.
- The machine was shared: load average ${machine.load0.map((x) => x.toFixed(1)).join('/')} (1/5/15 min) at the start and ${machine.load1.map((x) => x.toFixed(1)).join('/')} at the end, the 1-minute figure between ${loadRange} over the rounds, both cores ${(machine.busy * 100).toFixed(0)}% busy on average during the run (this benchmark included). req/s, p99 and even the process's CPU per request swing with that load; the time deciding the client (below) is the steady figure.
- "Time deciding the client" is measured inside the server: from just before the adapter's middleware or hook to just after it, plus the handler reading ip, protocol and host (the framework's getters for its own trust proxy, the socket for none): the mean over the requests of each measurement, which the added costs and targets use (the median beside it is the typical request; the mean also holds the requests a garbage collection interrupted). It is the resolution's own cost, mostly free of what the neighbours do; the process's CPU counters include everything else the server does and move by several µs between separate server processes (the section after the targets measures them in one process).
- The request: from 127.0.0.1, \`X-Forwarded-For: ${HEADERS['x-forwarded-for']}\`, \`X-Forwarded-Proto: https\`, \`X-Forwarded-Host: app.example.com\`; trusted: \`127.0.0.1, 10.0.0.0/8, 198.51.100.0/24\` (Koa, which cannot trust a list: \`app.proxy = true\`, \`maxIpsCount = 3\`). Every mode but "no IP resolution" answers ${CLIENT}, its protocol and host (checked before timing).
- Run time: ${Math.round(machine.seconds)} s.

${lines.join('\n')}

${targets.join('\n')}
${alternatingSection(alternating)}`
  console.log(md)
  if (process.env.BENCH_NO_WRITE === '1' || ONLY !== undefined) return
  // Keep the instruction counts bench/adapters-instructions.mjs wrote (they are not re-measured here).
  const file = new URL('./ADAPTERS.md', import.meta.url)
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : ''
  const at = previous.indexOf(INSTRUCTIONS_HEADING)
  writeFileSync(file, at < 0 ? md : `${md}\n${previous.slice(at)}`)
}
