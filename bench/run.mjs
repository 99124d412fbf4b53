/**
 * `npm run bench`: every scenario of issues 3 and 13, ours against proxy-addr 2.0.8,
 * @fastify/proxy-addr, the floor and the lower bound (bench/lower-bound.mjs for IPv4 walks,
 * bench/lower-bound-v6.mjs for IPv6 and Forwarded ones); our audit record (resolveClient) against
 * resolveClientIp on the same request; parseTrustProxy of 10,000 CIDRs warm and as the first
 * call of fresh processes. Prints the table and the targets, and writes bench/RESULTS.md.
 *
 * Each scenario runs in its own process (a fresh V8, see worker.mjs), one at a time, and in
 * BENCH_PROCESSES such processes (passes over all scenarios); its contenders are timed in turn
 * within each. The figures are medians over the processes, shown with their spread (max - min,
 * as a percentage of the median). Then a few scenarios are timed again in this process after
 * every scenario has run through it (mixed traffic), for comparison.
 *
 * `--quick` (or BENCH_QUICK=1): for development, in well under half the time: 2 processes,
 * BENCH_MIN_MS 60, 3 cold starts, no serve or PROXY protocol benchmarks, nothing written.
 *
 * Environment: BENCH_MIN_MS (CPU time per contender and scenario, split over the processes x 2
 * rounds; default 300), BENCH_PROCESSES (default 3), BENCH_COLD_RUNS (fresh processes for the
 * cold start; default 5), BENCH_ONLY (comma-separated scenario ids, `compile`, `serve` and
 * `proxy-protocol`), BENCH_NO_WRITE=1 (do not write RESULTS.md), BENCH_STRICT=1 (exit 1 when a
 * target is missed), BENCH_LIB (path of another build of ours to measure, to try a change to the
 * core; RESULTS.md is then not written).
 */
import { execFileSync, fork, spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { firstCall, spreadOf } from './cold-start.mjs'
import { cpuModel } from './machine.mjs'

// Bytes per call need `gc()`: re-run this file under --expose-gc when it is not there.
if (typeof globalThis.gc !== 'function') {
  const self = fileURLToPath(import.meta.url)
  const child = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, self, ...process.argv.slice(2)], { stdio: 'inherit' })
  process.exit(child.status ?? 1)
}

const proxyAddr = (await import('proxy-addr')).default
const LIB = process.env.BENCH_LIB
// A private copy of the build: a rebuild of dist/ by someone else mid-run (tsup cleans it first)
// must neither break the run nor mix two builds in one table.
const snapshot = mkdtempSync(join(os.tmpdir(), 'trust-proxy-bench-'))
process.on('exit', () => rmSync(snapshot, { recursive: true, force: true }))
if (LIB === undefined) cpSync(fileURLToPath(new URL('../dist', import.meta.url)), snapshot, { recursive: true })
const libUrl = pathToFileURL(LIB === undefined ? join(snapshot, 'index.js') : resolve(LIB)).href
const lib = await import(libUrl)
const { buildScenarios, checkScenario, compileInputs, contenders, keep } = await import('./scenarios.mjs')
const { timeIt } = await import('./measure.mjs')

const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1'
const MIN_MS = Number(process.env.BENCH_MIN_MS ?? (QUICK ? 60 : 300))
/** Each scenario is timed in PROCESSES fresh processes, ROUNDS rounds in each: PROCESSES x ROUNDS rounds of MIN_MS / (PROCESSES x ROUNDS). */
const PROCESSES = Math.max(1, Number(process.env.BENCH_PROCESSES ?? (QUICK ? 2 : 3)))
const ROUNDS = 2
const COLD_RUNS = Math.max(1, Number(process.env.BENCH_COLD_RUNS ?? (QUICK ? 3 : 5)))
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : undefined
const WRITE = !QUICK && process.env.BENCH_NO_WRITE !== '1' && LIB === undefined
/** serve and the PROXY protocol: by default, not in quick mode, or when BENCH_ONLY names them. */
const runPart = (name) => (ONLY === undefined ? !QUICK : ONLY.has(name))
const started = performance.now()
const log = (line = '') => process.stdout.write(line + '\n')

// ---------------------------------------------------------------------------------------------
// Machine

const machine = {
  cpu: cpuModel(),
  cores: os.availableParallelism?.() ?? os.cpus().length,
  node: process.version,
  v8: process.versions.v8,
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  flags: ['--expose-gc', ...process.execArgv.filter((f) => f !== '--expose-gc')].join(' '),
  loadBefore: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  source: sourceState(),
}

/** Which source the measured build came from: the commit, and whether src/ had changes on top. */
function sourceState() {
  try {
    const git = (...args) => execFileSync('git', args, { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' }).trim()
    const changed = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length
    return `commit ${git('rev-parse', '--short', 'HEAD')}${changed > 0 ? ` with ${changed} uncommitted change${changed === 1 ? '' : 's'} in src/` : ''}`
  } catch {
    return 'unknown source (not a git work tree)'
  }
}
log(`# @infram/trust-proxy benchmarks`)
log(`${machine.cpu}, ${machine.cores} cores; Node ${machine.node} (V8 ${machine.v8}); load average ${machine.loadBefore}`)
if (LIB !== undefined) log(`Measuring ours from ${LIB} (BENCH_LIB), not dist/index.js.`)
if (QUICK) log('Quick mode (--quick): fewer processes and shorter rounds, nothing written; not for RESULTS.md.')

// ---------------------------------------------------------------------------------------------
// Check every scenario first (each worker checks its own again before timing it)

const flat = (s) => (typeof s === 'string' ? Buffer.from(s, 'latin1').toString('latin1') : s)
const scenarios = buildScenarios(ONLY).map((s) => ({ ...s, remote: flat(s.remote), xff: flat(s.xff), forwarded: flat(s.forwarded) }))
for (const s of scenarios) checkScenario(s, lib) // throws, and so fails the run, on any disagreement
log(`Checked ${scenarios.length} scenarios: ours (and our audit record), proxy-addr and @fastify/proxy-addr give the same, expected client in each.`)

/** One task in a fresh process (worker.mjs), under --expose-gc for bytes/op. */
function inProcess(task) {
  return new Promise((ok, fail) => {
    const data = { minMs: MIN_MS / PROCESSES, rounds: ROUNDS, libUrl, ...task }
    const child = fork(fileURLToPath(new URL('./worker.mjs', import.meta.url)), [JSON.stringify(data)], { execArgv: ['--expose-gc'] })
    let result
    child.once('message', (m) => (result = m))
    child.once('error', fail)
    child.once('exit', (code) => (code === 0 && result !== undefined ? ok(result) : fail(new Error(`worker ${JSON.stringify(task)} exited with ${code}`))))
  })
}

const calibration = await inProcess({ task: 'calibrate' })
/** One flat one-byte string of `n` characters: 16-byte header + chars, 8-byte aligned (64-bit V8, no pointer compression). */
const stringBytes = (n) => (n === 0 ? 0 : Math.ceil((16 + n) / 8) * 8)
log(
  `Bytes/op calibration: empty call ${fmtB(calibration.empty)} B (expect 0), 2-field object ${fmtB(calibration.object2)} B (expect 40), ` +
    `11-char substring ${fmtB(calibration.substring11)} B (expect ${stringBytes(11)}).`,
)
log()

// ---------------------------------------------------------------------------------------------
// Per scenario, each in its own process, in PROCESSES passes

// Passes over all scenarios, a fresh process each time: a whole process can run slow (other
// engineers' processes, or a V8 state that slows every access to one string), and the passes
// are tens of seconds apart. Bytes/op (which load does not change) is measured in the first.
const passes = []
const phases = { setup: 0, timing: 0, bytes: 0 }
for (let pass = 0; pass < PROCESSES; pass++) {
  const rows = []
  for (const s of scenarios) {
    const row = await inProcess({ task: 'scenario', id: s.id, bytes: pass === 0 })
    for (const k of Object.keys(phases)) phases[k] += row.phases[k]
    rows.push(row)
  }
  passes.push(rows)
  log(`pass ${pass + 1} of ${PROCESSES} done`)
}
const CONTENDERS = ['ours', 'record', 'proxyAddr', 'fastify', 'floor', 'lower', 'pair']
const results = []
for (let k = 0; k < scenarios.length; k++) {
  const runs = passes.map((rows) => rows[k])
  const row = { ...runs[0] }
  for (const name of CONTENDERS) {
    if (row[name] === undefined) continue
    const { median: ns, spread } = spreadOf(runs.map((r) => r[name].ns))
    row[name] = { ...row[name], ns, spread }
  }
  /** a / b per process (both timed in the same process, in turn), the median over the processes. */
  const ratio = (a, b) => (row[a] === undefined || row[b] === undefined ? undefined : spreadOf(runs.map((r) => r[a].ns / r[b].ns)))
  row.paOverOurs = ratio('proxyAddr', 'ours').median
  row.fastifyOverOurs = ratio('fastify', 'ours').median
  row.oursOverFloor = ratio('ours', 'floor').median
  row.oursOverLower = ratio('ours', 'lower')
  row.paOverLower = ratio('proxyAddr', 'lower').median
  row.lowerOverFloor = ratio('lower', 'floor').median
  row.recordOverOurs = ratio('record', 'ours')
  row.oursOverPair = ratio('ours', 'pair')
  results.push(row)
  log(
    `${row.id.padEnd(18)} ours ${fmtNs(row.ours.ns).padStart(9)} ns (${fmtPct(row.ours.spread)}) ${fmtB(row.ours.bytes).padStart(6)} B | proxy-addr ${fmtNs(row.proxyAddr.ns).padStart(10)} ns | ` +
      `@fastify ${fmtNs(row.fastify.ns).padStart(10)} ns | floor ${fmtNs(row.floor.ns).padStart(7)} ns | x${fmtX(row.paOverOurs)} | ` +
      `lower bound (${row.lowerKind}) ${fmtNs(row.lower.ns)} ns, ours/lower ${fmtX(row.oursOverLower.median)}` +
      (row.record === undefined ? '' : ` | resolveClient ${fmtNs(row.record.ns)} ns, x${fmtX(row.recordOverOurs.median)}`),
  )
}

// Compile time of TRUST_PROXY with 10,000 CIDRs: our parseTrustProxy of the env string against
// the peers' compile() of the same entries as an array.
let compile
if (ONLY === undefined || ONLY.has('compile')) {
  compile = await inProcess({ task: 'compile', minMs: MIN_MS })
  log(`compile 10,000 CIDRs, warm: ours ${fmtMs(compile.ours)} ms, proxy-addr ${fmtMs(compile.proxyAddr)} ms, @fastify ${fmtMs(compile.fastify)} ms`)
  compile.cold = coldStart()
  const c = compile.cold
  log(
    `compile 10,000 CIDRs, first call of a fresh process (median of ${COLD_RUNS}): ours ${fmtMs(c.ours.call.median * 1e6)} ms (${fmtPct(c.ours.call.spread)}), ` +
      `proxy-addr ${fmtMs(c.proxyAddr.call.median * 1e6)} ms, @fastify ${fmtMs(c.fastify.call.median * 1e6)} ms`,
  )
}

/** The same 10,000-entry inputs, each contender's first call in COLD_RUNS fresh processes. */
function coldStart() {
  const { text, array } = compileInputs(10_000)
  const textFile = join(snapshot, 'cidrs-10000.txt')
  const arrayFile = join(snapshot, 'cidrs-10000.json')
  writeFileSync(textFile, text)
  writeFileSync(arrayFile, JSON.stringify(array))
  const read = (file, json) => `import { readFileSync } from 'node:fs'\nconst input = ${json ? 'JSON.parse(' : ''}readFileSync(${JSON.stringify(file)}, 'utf8')${json ? ')' : ''}`
  return {
    ours: firstCall({ prepare: read(textFile, false), load: `await import(${JSON.stringify(libUrl)})`, call: 'm.parseTrustProxy(input)', runs: COLD_RUNS }),
    proxyAddr: firstCall({ prepare: read(arrayFile, true), load: "(await import('proxy-addr')).default", call: 'm.compile(input)', runs: COLD_RUNS }),
    fastify: firstCall({ prepare: read(arrayFile, true), load: "(await import('@fastify/proxy-addr')).default", call: 'm.compile(input)', runs: COLD_RUNS }),
  }
}

// Mixed traffic: every scenario through this one isolate first (so each contender's code has
// seen every shape: IPv4, IPv6, Forwarded, hop counts, long headers), then a few timed again.
const MIXED = ['loopback-1', 'ipv4-3hop', 'ipv6-2hop'].filter((id) => scenarios.some((s) => s.id === id))
const mixed = []
if (MIXED.length > 0 && scenarios.length > MIXED.length) {
  const all = scenarios.map((s) => ({ s, fns: contenders(s, lib) }))
  for (let round = 0; round < 3; round++) {
    for (const { fns } of all) {
      for (const name of ['ours', 'proxyAddr', 'fastify']) {
        const t0 = performance.now()
        for (let i = 0; i < 2000 && performance.now() - t0 < 20; i++) keep(fns[name]())
      }
    }
  }
  for (const id of MIXED) {
    const { fns } = all.find((x) => x.s.id === id)
    const samples = { ours: [], proxyAddr: [] }
    for (let r = 0; r < ROUNDS * PROCESSES; r++) {
      globalThis.gc()
      for (const name of ['ours', 'proxyAddr']) samples[name].push((await timeIt(fns[name], MIN_MS / ROUNDS / PROCESSES, { fullGc: false })).p50)
    }
    const row = { id, title: results.find((r) => r.id === id).title, ours: Math.min(...samples.ours), proxyAddr: Math.min(...samples.proxyAddr) }
    mixed.push(row)
    log(`mixed traffic, ${id}: ours ${fmtNs(row.ours)} ns, proxy-addr ${fmtNs(row.proxyAddr)} ns (x${fmtX(row.proxyAddr / row.ours)})`)
  }
}
log()

// ---------------------------------------------------------------------------------------------
// Targets

const byId = new Map(results.map((r) => [r.id, r]))
const targets = []
const target = (name, ids, evaluate) => {
  if (!ids.every((id) => (id === 'compile' ? compile !== undefined : byId.has(id)))) return
  const { pass, detail } = evaluate(...ids.map((id) => (id === 'compile' ? compile : byId.get(id))))
  targets.push({ name, pass, detail })
}
/** What the lower bound says about a ratio target: the best any validating resolver could show. */
const best = (r) => (r.lower === undefined ? '' : `; lower bound ${fmtNs(r.lower.ns)} ns, so at best ${fmtX(r.paOverLower)}x`)
target('3-hop IPv4 chain with the range list: >= 50x faster than proxy-addr', ['ipv4-3hop'], (r) => ({
  pass: r.paOverOurs >= 50,
  detail: `${fmtNs(r.ours.ns)} ns vs ${fmtNs(r.proxyAddr.ns)} ns: ${fmtX(r.paOverOurs)}x${best(r)}`,
}))
target('1 loopback hop: >= 10x faster than proxy-addr and within 3x of the floor', ['loopback-1'], (r) => ({
  pass: r.paOverOurs >= 10 && r.oursOverFloor <= 3,
  detail:
    `${fmtNs(r.ours.ns)} ns vs proxy-addr ${fmtNs(r.proxyAddr.ns)} ns (${fmtX(r.paOverOurs)}x); floor ${fmtNs(r.floor.ns)} ns (ours/floor ${fmtX(r.oursOverFloor)}x)` +
    (r.lower === undefined ? '' : `; lower bound ${fmtNs(r.lower.ns)} ns (${fmtX(r.lowerOverFloor)}x the floor)`),
}))
target("Hop count 2: >= 3x faster than proxy-addr with Express's (a, i) => i < 2", ['hops-2'], (r) => ({
  pass: r.paOverOurs >= 3,
  detail: `${fmtNs(r.ours.ns)} ns vs ${fmtNs(r.proxyAddr.ns)} ns: ${fmtX(r.paOverOurs)}x${best(r)}`,
}))
target('2-hop IPv6 chain: >= 20x faster than proxy-addr', ['ipv6-2hop'], (r) => ({
  pass: r.paOverOurs >= 20,
  detail: `${fmtNs(r.ours.ns)} ns vs ${fmtNs(r.proxyAddr.ns)} ns: ${fmtX(r.paOverOurs)}x${best(r)}`,
}))
/**
 * A long-input row against its short twin. `ours` of the short one was timed again alongside the
 * long one (same isolate, same rounds); that pair decides, the separate rows are shown too.
 */
const paired = (short, long) => {
  const ratio = long.pair !== undefined ? long.oursOverPair.median : long.ours.ns / short.ours.ns
  const how = long.pair !== undefined ? `paired in each process: ${fmtNs(long.pair.ns)} -> ${fmtNs(long.ours.ns)} ns, ${fmtX(ratio)}x; ` : ''
  return { ratio, how }
}
target('10,000 CIDRs cost at most 1.5x what 3 CIDRs cost per request', ['cidrs-3', 'cidrs-10000'], (a, b) => {
  const { ratio, how } = paired(a, b)
  return {
    pass: ratio <= 1.5,
    detail: `ours ${how}separate rows ${fmtNs(a.ours.ns)} -> ${fmtNs(b.ours.ns)} ns (${fmtX(b.ours.ns / a.ours.ns)}x); proxy-addr ${fmtNs(a.proxyAddr.ns)} -> ${fmtNs(b.proxyAddr.ns)} ns (${fmtX(b.proxyAddr.ns / a.proxyAddr.ns)}x)`,
  }
})
{
  // Every resolveClientIp row: at most one new string, the size of the client address text.
  const rows = results.filter((r) => r.oursVia.startsWith('resolveClientIp'))
  if (rows.length > 0) {
    const over = rows.filter((r) => !(r.ours.bytes <= stringBytes(r.expected.length) + 1))
    targets.push({
      name: 'No heap allocation per call beyond the returned string (resolveClientIp rows)',
      pass: over.length === 0,
      detail:
        over.length === 0
          ? `every row <= one string of the client's length (max ${fmtB(Math.max(...rows.map((r) => r.ours.bytes)))} B/op)`
          : 'over budget: ' + over.map((r) => `${r.id} ${fmtB(r.ours.bytes)} B (a ${r.expected.length}-char string is ${stringBytes(r.expected.length)} B)`).join('; '),
    })
  }
}
target('Range policy, 8 KB hostile header: cost set by trusted hops, not length (vs 100 bytes, <= 1.25x)', ['range-100', 'range-8192'], (a, b) => {
  const { ratio, how } = paired(a, b)
  return {
    pass: ratio <= 1.25,
    detail: `ours ${how}separate rows ${fmtNs(a.ours.ns)} -> ${fmtNs(b.ours.ns)} ns (${fmtX(b.ours.ns / a.ours.ns)}x); proxy-addr ${fmtNs(a.proxyAddr.ns)} -> ${fmtNs(b.proxyAddr.ns)} ns (${fmtX(b.proxyAddr.ns / a.proxyAddr.ns)}x)`,
  }
})
target('parseTrustProxy of 10,000 CIDRs under 50 ms, warm (issue 3)', ['compile'], (c) => ({
  pass: c.ours < 50e6,
  detail: `${fmtMs(c.ours)} ms (proxy-addr compile ${fmtMs(c.proxyAddr)} ms, @fastify ${fmtMs(c.fastify)} ms)`,
}))
target('parseTrustProxy of 10,000 CIDRs under 50 ms as the first call of a fresh process (issue 13)', ['compile'], (c) => ({
  pass: c.cold.ours.call.median < 50,
  detail:
    `median ${fmtMs(c.cold.ours.call.median * 1e6)} ms over ${c.cold.ours.call.n} processes (${fmtMs(c.cold.ours.call.min * 1e6)}-${fmtMs(c.cold.ours.call.max * 1e6)})` +
    (Number.isFinite(c.cold.ours.wait.median) ? `, of which the main thread waited ${fmtMs(c.cold.ours.wait.median * 1e6)} ms for a CPU` : '') +
    `; proxy-addr ${fmtMs(c.cold.proxyAddr.call.median * 1e6)} ms`,
}))
/** Issue 13: ours / lower bound for every scenario of a kind, the worst named. */
const withinLower = (name, kinds, limit) => {
  const rows = results.filter((r) => kinds.includes(r.lowerKind))
  if (rows.length === 0) return
  const over = rows.filter((r) => !(r.oursOverLower.median <= limit))
  const worst = rows.reduce((a, b) => (b.oursOverLower.median > a.oursOverLower.median ? b : a))
  targets.push({
    name,
    pass: over.length === 0,
    detail:
      `${rows.length - over.length} of ${rows.length} within ${limit}x; worst ${worst.id} ${fmtX(worst.oursOverLower.median)}x` +
      (over.length === 0 ? '' : `; over: ${over.map((r) => `${r.id} ${fmtX(r.oursOverLower.median)}x`).join(', ')}`),
  })
}
withinLower('Every IPv4 scenario within 1.3x of the lower bound (issue 13)', ['ipv4'], 1.3)
withinLower('Every IPv6 scenario within 1.5x of the lower bound (issue 13)', ['ipv6', 'forwarded'], 1.5)
{
  const rows = results.filter((r) => r.recordOverOurs !== undefined)
  if (rows.length > 0) {
    const over = rows.filter((r) => !(r.recordOverOurs.median <= 2))
    targets.push({
      name: '`resolveClient` (the audit record) within 2x of `resolveClientIp` on the same request (issue 13)',
      pass: over.length === 0,
      detail: rows.map((r) => `${r.id} ${fmtX(r.recordOverOurs.median)}x`).join(', '),
    })
  }
}

// ---------------------------------------------------------------------------------------------
// Report

machine.loadAfter = os.loadavg().map((x) => x.toFixed(2)).join(' ')
const seconds = (performance.now() - started) / 1000
const md = report()
log(md)
if (WRITE && ONLY === undefined) {
  writeFileSync(new URL('./RESULTS.md', import.meta.url), md)
  log('Wrote bench/RESULTS.md.')
}
log(`Run time ${seconds.toFixed(0)} s (in the scenario processes: set-up ${(phases.setup / 1000).toFixed(0)} s, timing ${(phases.timing / 1000).toFixed(0)} s, bytes/op ${(phases.bytes / 1000).toFixed(0)} s).`)
// serve's cost per request (bench/serve.mjs writes bench/SERVE.md).
if (runPart('serve')) await (await import('./serve.mjs')).main(log)
// PROXY protocol (issue 15): the header parse and connections per second, in bench/PROXY-PROTOCOL.md.
if (runPart('proxy-protocol')) await (await import('./proxy-protocol.mjs')).run({ log, write: WRITE })
if (process.env.BENCH_STRICT === '1' && targets.some((t) => !t.pass)) process.exit(1)

function report() {
  const lines = []
  const p = (l = '') => lines.push(l)
  const cells = (...c) => p(`| ${c.join(' | ')} |`)
  p('# Benchmark results')
  p()
  p(`Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, on ${machine.cpu}.`)
  p()
  p(`- Machine: ${machine.cpu}, ${machine.cores} cores (${machine.platform}); load average ${machine.loadBefore} before, ${machine.loadAfter} after`)
  p(`- Build: ${LIB === undefined ? `dist/ from ${machine.source}` : LIB}`)
  p(`- Node ${machine.node} (V8 ${machine.v8}), flags \`${machine.flags}\`; proxy-addr ${version('proxy-addr')}, @fastify/proxy-addr ${version('@fastify/proxy-addr')}, mitata ${version('mitata')}`)
  p(
    `- Run time ${seconds.toFixed(0)} s (this part; serve and the PROXY protocol follow). Each scenario runs in ${PROCESSES} fresh processes, one pass over all scenarios after another; ` +
      `in each process its contenders take turns over ${ROUNDS} rounds of mitata's p50 (median) over ${Math.round(MIN_MS / ROUNDS / PROCESSES)} ms of CPU time, and the best round counts ` +
      `(other processes on this shared machine only ever add time; the rounds keep their load from landing on one contender). A figure is the median over the processes, ` +
      `a ratio the median of the per-process ratios, and the spread (max - min) / median over the processes${LIB === undefined ? '' : `; ours from ${LIB}`}`,
  )
  p()
  p('## Per request')
  p()
  p(`ns per call on ${machine.cpu} (median over ${PROCESSES} processes) and bytes allocated per call. Each scenario runs`)
  p('in its own process (a fresh V8), one at a time, so its numbers do not depend on which scenarios ran before.')
  p('Every contender gets the same socket address, header and trust: ours a policy from `parseTrustProxy`,')
  p("proxy-addr and @fastify/proxy-addr their `compile()` of the same list (or, for a hop count and `true`,")
  p("the function Express builds: `(a, i) => i < 2`, `() => true`). Before timing, each scenario checks that")
  p('all of them and the lower bound return the expected client (compared canonically). The floor is')
  p("`h.slice(h.lastIndexOf(',') + 1).trim()` on the header (the socket address when there is none): touching")
  p('the string, validating nothing.')
  p()
  p('The lower bound (not part of the library) is the least work a resolver that validates every hop it walks')
  p('can do: one right-to-left pass per item, no state, no chain, no anomalies. Its reader is `ipv4`')
  p('(`bench/lower-bound.mjs`: strict dotted IPv4) when every hop the walk reads is IPv4, else `ipv6`')
  p('(`bench/lower-bound-v6.mjs`: strict RFC 4291 text with `::` and dotted tails, ranges matched on 128 bits)')
  p('or `forwarded` (the same, in quoted `for=` values with brackets and ports). A ratio target it cannot')
  p('reach is out of reach for any conforming resolver.')
  p()
  cells('scenario', 'ours via', 'ours ns', 'ours B', 'proxy-addr ns', 'proxy-addr B', '@fastify ns', '@fastify B', 'floor ns', 'lower bound ns', 'lower bound reader', 'proxy-addr / ours', '@fastify / ours', 'ours / floor', '**ours / lower bound**')
  p('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|')
  let group
  const GROUPS = { core: 'core', cidrs: 'trusted list size', hops: 'trusted hops', hostile: 'client-padded header' }
  for (const r of results) {
    if (r.group !== group) {
      group = r.group
      cells(`**${GROUPS[group]}**`, ...Array(14).fill(''))
    }
    cells(
      r.title, `\`${r.oursVia}\``, fmtNs(r.ours.ns), fmtB(r.ours.bytes), fmtNs(r.proxyAddr.ns), fmtB(r.proxyAddr.bytes), fmtNs(r.fastify.ns), fmtB(r.fastify.bytes),
      fmtNs(r.floor.ns), fmtNs(r.lower.ns), r.lowerKind, `${fmtX(r.paOverOurs)}x`, `${fmtX(r.fastifyOverOurs)}x`, `${fmtX(r.oursOverFloor)}x`, `**${fmtX(r.oursOverLower.median)}x**`,
    )
  }
  const records = results.filter((r) => r.record !== undefined)
  if (records.length > 0) {
    p()
    p('## The audit record against the address alone')
    p()
    p('`resolveClient(policy, req).ip` (the whole audit record: peer, chain, trusted hops, protocol, host,')
    p('anomalies) against `resolveClientIp(policy, remote, xff)` on the same request, timed in turn in the same')
    p('processes. The request carries what a proxy sends: X-Forwarded-For, X-Forwarded-Proto and Host (Host alone')
    p('with no proxy); `resolveClientIp` reads only the first.')
    p()
    cells('scenario', '`resolveClientIp` ns', '`resolveClient` ns', '`resolveClient` B', '**`resolveClient` / `resolveClientIp`**', 'spread of the ratio')
    p('|---|--:|--:|--:|--:|--:|')
    for (const r of records) cells(r.title, fmtNs(r.ours.ns), fmtNs(r.record.ns), fmtB(r.record.bytes), `**${fmtX(r.recordOverOurs.median)}x**`, fmtPct(r.recordOverOurs.spread))
  }
  p()
  p('## Run-to-run spread')
  p()
  p(`How much each figure moved across the ${PROCESSES} processes: (max - min) / median. V8 does not compile the same`)
  p('code the same way in every process, and other processes on this shared machine come and go; a ratio target')
  p('met by less than its spread is not met reliably.')
  p()
  cells('scenario', 'ours', 'proxy-addr', '@fastify', 'floor', 'lower bound', 'ours / lower bound', '`resolveClient`')
  p('|---|--:|--:|--:|--:|--:|--:|--:|')
  for (const r of results) {
    cells(r.title, fmtPct(r.ours.spread), fmtPct(r.proxyAddr.spread), fmtPct(r.fastify.spread), fmtPct(r.floor.spread), fmtPct(r.lower.spread), fmtPct(r.oursOverLower.spread), r.record === undefined ? '' : fmtPct(r.record.spread))
  }
  if (mixed.length > 0) {
    p()
    p('## After mixed traffic')
    p()
    p('The same scenarios timed again in one process that first ran every scenario above')
    p("(IPv4, IPv6, Forwarded, hop counts, `all`, long headers), so each contender's code is general, not")
    p('specialised to one shape of input.')
    p()
    cells('scenario', 'ours ns', 'proxy-addr ns', 'proxy-addr / ours')
    p('|---|--:|--:|--:|')
    for (const m of mixed) cells(m.title, fmtNs(m.ours), fmtNs(m.proxyAddr), `${fmtX(m.proxyAddr / m.ours)}x`)
  }
  const uncompiled = results.filter((r) => r.uncompiled !== undefined)
  if (uncompiled.length > 0) {
    p()
    p('For reference (no target uses it): proxy-addr handed the trust list itself, not a compiled function,')
    p('compiles it on every call. Express compiles once, as the table above does.')
    p()
    cells('scenario', 'proxy-addr, list compiled per call', '/ ours')
    p('|---|--:|--:|')
    for (const r of uncompiled) cells(r.title, `${fmtNs(r.uncompiled)} ns`, `${fmtX(r.uncompiled / r.ours.ns)}x`)
  }
  if (compile !== undefined) {
    const c = compile.cold
    const cold = (x) => `${fmtMs(x.call.median * 1e6)} (${fmtMs(x.call.min * 1e6)}-${fmtMs(x.call.max * 1e6)}, ${fmtPct(x.call.spread)})`
    p()
    p('## Startup')
    p()
    p(`Compiling a TRUST_PROXY list of ${compile.entries.toLocaleString('en')} CIDRs (${compile.chars.toLocaleString('en')} characters, mixed IPv4/IPv6; the policy carries ${compile.warnings} warnings).`)
    p('Warm: timed in a loop in one process (best round). First call: the one call a server makes at startup, in')
    p(`${c.ours.call.n} fresh processes each (\`bench/cold-start.mjs\`: import, then the timed call; the input is read before), median (min-max, spread).`)
    if (Number.isFinite(c.ours.wait.median)) {
      p('The wait is the main thread\'s time runnable but off the CPU during the call (Linux schedstat): V8 compiles the code')
      p('a cold call runs on background threads, which take turns with the main thread for the cores.')
    }
    p()
    cells('ms', 'ours `parseTrustProxy(string)`', 'proxy-addr `compile(array)`', '@fastify/proxy-addr `compile(array)`')
    p('|---|--:|--:|--:|')
    cells('warm', fmtMs(compile.ours), fmtMs(compile.proxyAddr), fmtMs(compile.fastify))
    cells('**first call of a fresh process**', `**${cold(c.ours)}**`, cold(c.proxyAddr), cold(c.fastify))
    if (Number.isFinite(c.ours.wait.median)) {
      const wait = (x) => `${fmtMs(x.wait.median * 1e6)} (on a CPU ${fmtMs(x.cpu.median * 1e6)})`
      cells('of which the main thread waited for a CPU', wait(c.ours), wait(c.proxyAddr), wait(c.fastify))
    }
    cells('import before it', fmtMs(c.ours.load.median * 1e6), fmtMs(c.proxyAddr.load.median * 1e6), fmtMs(c.fastify.load.median * 1e6))
  }
  p()
  p('## Targets (issues 3 and 13)')
  p()
  cells('target', 'result', 'measured')
  p('|---|---|---|')
  for (const t of targets) cells(t.name, t.pass ? 'PASS' : '**FAIL**', t.detail)
  p()
  p('## How bytes/op is measured')
  p()
  p("`process.memoryUsage().heapUsed` deltas under `--expose-gc`, in loops separate from the timed ones, in the first")
  p('of the processes (allocation does not vary with load). V8 allocates young objects by bumping a pointer that')
  p('heapUsed counts, so after emptying the young generation (a minor GC) the growth of heapUsed over a chunk of')
  p('calls is what they allocated, provided no GC ran inside the chunk. Chunks are sized to allocate about 256 KB')
  p('and last about 8 ms; a chunk in which a GC ran shows a negative delta and is dropped; the cost of reading')
  p('heapUsed is measured with empty chunks and subtracted; the median of 15 chunks is divided by the calls in a')
  p(`chunk. Calibration in this run: an empty call ${fmtB(calibration.empty)} B (expect 0), a two-field object ${fmtB(calibration.object2)} B (expect 40), an`)
  p(`11-character substring ${fmtB(calibration.substring11)} B (expect ${stringBytes(11)}: a 16-byte header and the characters, 8-byte aligned).`)
  p("The allocation target allows one such string of the client's length per call.")
  p()
  return lines.join('\n')
}

function version(pkg) {
  try {
    return JSON.parse(readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')).version
  } catch {
    return '?'
  }
}

function fmtNs(ns) {
  if (!Number.isFinite(ns)) return 'n/a'
  if (ns < 100) return ns.toFixed(1)
  return Math.round(ns).toLocaleString('en')
}
function fmtPct(x) {
  if (x === undefined || !Number.isFinite(x)) return 'n/a'
  return `${x < 10 ? x.toFixed(1) : Math.round(x)}%`
}
function fmtMs(ns) {
  return (ns / 1e6).toFixed(2)
}
function fmtB(b) {
  if (!Number.isFinite(b)) return 'n/a'
  return b < 10 ? String(Math.round(b * 10) / 10) : Math.round(b).toLocaleString('en')
}
function fmtX(x) {
  if (!Number.isFinite(x)) return 'n/a'
  return x >= 100 ? Math.round(x).toLocaleString('en') : x >= 10 ? x.toFixed(1) : x.toFixed(2)
}
