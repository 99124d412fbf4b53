/**
 * `npm run bench`: every scenario of issue 3, ours against proxy-addr 2.0.8, @fastify/proxy-addr
 * and the floor, in one process; prints the table and the targets, and writes bench/RESULTS.md.
 *
 * Each scenario runs in its own worker thread (a fresh V8 isolate, see worker.mjs), one at a
 * time, in two passes; its contenders are timed in turn within it. Then a few scenarios are timed
 * again in this thread after every scenario has run through it (mixed traffic), for comparison.
 *
 * Environment: BENCH_MIN_MS (CPU time per contender and scenario, split over 2 passes x 3
 * rounds; default 300), BENCH_ONLY (comma-separated scenario ids, `compile` and `serve`), BENCH_NO_WRITE=1 (do not write
 * RESULTS.md), BENCH_STRICT=1 (exit 1 when a target is missed), BENCH_LIB (path of another build
 * of ours to measure, to try a change to the core; RESULTS.md is then not written).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
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
const { buildScenarios, checkScenario, contenders, keep } = await import('./scenarios.mjs')
const { timeIt } = await import('./measure.mjs')

const MIN_MS = Number(process.env.BENCH_MIN_MS ?? 300)
/** Each scenario is timed in PASSES fresh isolates, ROUNDS rounds in each: PASSES x ROUNDS rounds of MIN_MS / (PASSES x ROUNDS). */
const PASSES = 2
const ROUNDS = 3
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : undefined
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

// ---------------------------------------------------------------------------------------------
// Check every scenario first (each worker checks its own again before timing it)

const flat = (s) => (typeof s === 'string' ? Buffer.from(s, 'latin1').toString('latin1') : s)
const scenarios = buildScenarios(ONLY).map((s) => ({ ...s, remote: flat(s.remote), xff: flat(s.xff), forwarded: flat(s.forwarded) }))
for (const s of scenarios) checkScenario(s, lib) // throws, and so fails the run, on any disagreement
log(`Checked ${scenarios.length} scenarios: ours, proxy-addr and @fastify/proxy-addr give the same, expected client in each.`)

function inWorker(workerData) {
  return new Promise((ok, fail) => {
    const w = new Worker(new URL('./worker.mjs', import.meta.url), { workerData: { minMs: MIN_MS / PASSES, rounds: ROUNDS, libUrl, ...workerData } })
    let result
    w.once('message', (m) => (result = m))
    w.once('error', fail)
    w.once('exit', (code) => (code === 0 && result !== undefined ? ok(result) : fail(new Error(`worker ${JSON.stringify(workerData)} exited with ${code}`))))
  })
}

const calibration = await inWorker({ task: 'calibrate' })
/** One flat one-byte string of `n` characters: 16-byte header + chars, 8-byte aligned (64-bit V8, no pointer compression). */
const stringBytes = (n) => (n === 0 ? 0 : Math.ceil((16 + n) / 8) * 8)
log(
  `Bytes/op calibration: empty call ${fmtB(calibration.empty)} B (expect 0), 2-field object ${fmtB(calibration.object2)} B (expect 40), ` +
    `11-char substring ${fmtB(calibration.substring11)} B (expect ${stringBytes(11)}).`,
)
log()

// ---------------------------------------------------------------------------------------------
// Per scenario, each in its own isolate

// Two passes over all scenarios, a fresh isolate each time, the best of both per contender: a
// whole worker can run slow (other engineers' processes, or a V8 state that slows every access
// to one string), and the passes are a minute apart.
const passes = []
const phases = { setup: 0, timing: 0, bytes: 0 }
for (let pass = 0; pass < PASSES; pass++) {
  const rows = []
  for (const s of scenarios) {
    const row = await inWorker({ task: 'scenario', id: s.id })
    for (const k of Object.keys(phases)) phases[k] += row.phases[k]
    rows.push(row)
  }
  passes.push(rows)
  log(`pass ${pass + 1} of ${PASSES} done`)
}
const results = []
for (let k = 0; k < scenarios.length; k++) {
  const row = passes[0][k]
  for (const other of passes.slice(1).map((rows) => rows[k])) {
    for (const name of ['ours', 'proxyAddr', 'fastify', 'floor', 'lower', 'pair']) {
      if (row[name] === undefined) continue
      row[name].ns = Math.min(row[name].ns, other[name].ns)
      // Allocation does not vary with load: the larger figure, to be safe.
      if (Number.isFinite(other[name].bytes)) row[name].bytes = Math.max(row[name].bytes, other[name].bytes)
    }
    if (row.uncompiled !== undefined) row.uncompiled = Math.min(row.uncompiled, other.uncompiled)
  }
  row.paOverOurs = row.proxyAddr.ns / row.ours.ns
  row.fastifyOverOurs = row.fastify.ns / row.ours.ns
  row.oursOverFloor = row.ours.ns / row.floor.ns
  results.push(row)
  log(
    `${row.id.padEnd(18)} ours ${fmtNs(row.ours.ns).padStart(9)} ns ${fmtB(row.ours.bytes).padStart(6)} B | proxy-addr ${fmtNs(row.proxyAddr.ns).padStart(10)} ns | ` +
      `@fastify ${fmtNs(row.fastify.ns).padStart(10)} ns | floor ${fmtNs(row.floor.ns).padStart(7)} ns | x${fmtX(row.paOverOurs)}` +
      (row.lower === undefined ? '' : ` | lower bound ${fmtNs(row.lower.ns)} ns`),
  )
}

// Compile time of TRUST_PROXY with 10,000 CIDRs: our parseTrustProxy of the env string against
// the peers' compile() of the same entries as an array.
let compile
if (ONLY === undefined || ONLY.has('compile')) {
  compile = await inWorker({ task: 'compile' })
  log(`compile 10,000 CIDRs: ours ${fmtMs(compile.ours)} ms, proxy-addr ${fmtMs(compile.proxyAddr)} ms, @fastify ${fmtMs(compile.fastify)} ms`)
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
    for (let r = 0; r < ROUNDS * PASSES; r++) for (const name of ['ours', 'proxyAddr']) samples[name].push((await timeIt(fns[name], MIN_MS / ROUNDS / PASSES)).p50)
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
const best = (r) => (r.lower === undefined ? '' : `; lower bound ${fmtNs(r.lower.ns)} ns, so at best ${fmtX(r.proxyAddr.ns / r.lower.ns)}x`)
target('3-hop IPv4 chain with the range list: >= 50x faster than proxy-addr', ['ipv4-3hop'], (r) => ({
  pass: r.paOverOurs >= 50,
  detail: `${fmtNs(r.ours.ns)} ns vs ${fmtNs(r.proxyAddr.ns)} ns: ${fmtX(r.paOverOurs)}x${best(r)}`,
}))
target('1 loopback hop: >= 10x faster than proxy-addr and within 3x of the floor', ['loopback-1'], (r) => ({
  pass: r.paOverOurs >= 10 && r.oursOverFloor <= 3,
  detail:
    `${fmtNs(r.ours.ns)} ns vs proxy-addr ${fmtNs(r.proxyAddr.ns)} ns (${fmtX(r.paOverOurs)}x); floor ${fmtNs(r.floor.ns)} ns (ours/floor ${fmtX(r.oursOverFloor)}x)` +
    (r.lower === undefined ? '' : `; lower bound ${fmtNs(r.lower.ns)} ns (${fmtX(r.lower.ns / r.floor.ns)}x the floor)`),
}))
target("Hop count 2: >= 3x faster than proxy-addr with Express's (a, i) => i < 2", ['hops-2'], (r) => ({
  pass: r.paOverOurs >= 3,
  detail: `${fmtNs(r.ours.ns)} ns vs ${fmtNs(r.proxyAddr.ns)} ns: ${fmtX(r.paOverOurs)}x${best(r)}`,
}))
target('2-hop IPv6 chain: >= 20x faster than proxy-addr', ['ipv6-2hop'], (r) => ({
  pass: r.paOverOurs >= 20,
  detail: `${fmtNs(r.ours.ns)} ns vs ${fmtNs(r.proxyAddr.ns)} ns: ${fmtX(r.paOverOurs)}x`,
}))
/**
 * A long-input row against its short twin. `ours` of the short one was timed again alongside the
 * long one (same isolate, same rounds); that pair decides, the separate rows are shown too.
 */
const paired = (short, long) => {
  const ratio = long.pair !== undefined ? long.ours.ns / long.pair.ns : long.ours.ns / short.ours.ns
  const how = long.pair !== undefined ? `paired in one isolate: ${fmtNs(long.pair.ns)} -> ${fmtNs(long.ours.ns)} ns, ${fmtX(ratio)}x; ` : ''
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
  const rows = results.filter((r) => r.oursVia === 'resolveClientIp')
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
target('parseTrustProxy of 10,000 CIDRs under 50 ms', ['compile'], (c) => ({
  pass: c.ours < 50e6,
  detail: `${fmtMs(c.ours)} ms (proxy-addr compile ${fmtMs(c.proxyAddr)} ms, @fastify ${fmtMs(c.fastify)} ms)`,
}))

// ---------------------------------------------------------------------------------------------
// Report

machine.loadAfter = os.loadavg().map((x) => x.toFixed(2)).join(' ')
const seconds = (performance.now() - started) / 1000
const md = report()
log(md)
if (process.env.BENCH_NO_WRITE !== '1' && ONLY === undefined && LIB === undefined) {
  writeFileSync(new URL('./RESULTS.md', import.meta.url), md)
  log('Wrote bench/RESULTS.md.')
}
log(`Run time ${seconds.toFixed(0)} s (in the scenario workers: set-up ${(phases.setup / 1000).toFixed(0)} s, timing ${(phases.timing / 1000).toFixed(0)} s, bytes/op ${(phases.bytes / 1000).toFixed(0)} s).`)
// serve's cost per request (bench/serve.mjs writes bench/SERVE.md).
if (ONLY === undefined || ONLY.has('serve')) await (await import('./serve.mjs')).main(log)
// PROXY protocol (issue 15): the header parse and connections per second, in bench/PROXY-PROTOCOL.md.
if (ONLY === undefined || ONLY.has('proxy-protocol')) await (await import('./proxy-protocol.mjs')).run({ log, write: process.env.BENCH_NO_WRITE !== '1' && LIB === undefined })
if (process.env.BENCH_STRICT === '1' && targets.some((t) => !t.pass)) process.exit(1)

function report() {
  const lines = []
  const p = (l = '') => lines.push(l)
  p('# Benchmark results')
  p()
  p(`Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`)
  p()
  p(`- Machine: ${machine.cpu}, ${machine.cores} cores (${machine.platform}); load average ${machine.loadBefore} before, ${machine.loadAfter} after`)
  p(`- Build: ${LIB === undefined ? `dist/ from ${machine.source}` : LIB}`)
  p(`- Node ${machine.node} (V8 ${machine.v8}), flags \`${machine.flags}\`; proxy-addr ${version('proxy-addr')}, @fastify/proxy-addr ${version('@fastify/proxy-addr')}, mitata ${version('mitata')}`)
  p(`- Run time ${seconds.toFixed(0)} s. Each time is mitata's p50 (median) over ${Math.round(MIN_MS / ROUNDS / PASSES)} ms of CPU time, best of ${ROUNDS * PASSES} rounds: ${PASSES} passes over all scenarios, each scenario in a fresh isolate per pass, ${ROUNDS} rounds per pass in which the contenders take turns (other processes on this shared machine only ever add time; the rounds and passes keep their load from landing on one contender)${LIB === undefined ? '' : `; ours from ${LIB}`}`)
  p()
  p('## Per request')
  p()
  p('ns per call (median, best round) and bytes allocated per call. Each scenario runs in its own worker thread')
  p('(a fresh V8 isolate) of one process, one at a time, so its numbers do not depend on which scenarios ran')
  p('before; it does so twice, in two passes a minute apart.')
  p('Every contender gets the same socket address, header and trust: ours a policy from `parseTrustProxy`,')
  p("proxy-addr and @fastify/proxy-addr their `compile()` of the same list (or, for a hop count and `true`,")
  p("the function Express builds: `(a, i) => i < 2`, `() => true`). Before timing, each scenario checks that")
  p('all three return the expected client (compared canonically). The floor is')
  p("`h.slice(h.lastIndexOf(',') + 1).trim()` on the header (the socket address when there is none): touching")
  p('the string, validating nothing.')
  p()
  p('The lower bound (IPv4 scenarios only; `bench/lower-bound.mjs`, not part of the library) is the least')
  p('work a resolver that validates every hop it walks can do: one right-to-left pass per item, strict IPv4')
  p('only, no state, no anomalies. A ratio target it cannot reach is out of reach for any conforming resolver.')
  p()
  p('| scenario | ours via | ours ns | ours B | proxy-addr ns | proxy-addr B | @fastify ns | @fastify B | floor ns | floor B | proxy-addr / ours | @fastify / ours | ours / floor | lower bound ns |')
  p('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|')
  let group
  for (const r of results) {
    if (r.group !== group) {
      group = r.group
      p(`| **${{ core: 'core', cidrs: 'trusted list size', hops: 'trusted hops', hostile: 'client-padded header' }[group]}** | | | | | | | | | | | | | |`)
    }
    p(
      `| ${r.title} | \`${r.oursVia}\` | ${fmtNs(r.ours.ns)} | ${fmtB(r.ours.bytes)} | ${fmtNs(r.proxyAddr.ns)} | ${fmtB(r.proxyAddr.bytes)} | ` +
        `${fmtNs(r.fastify.ns)} | ${fmtB(r.fastify.bytes)} | ${fmtNs(r.floor.ns)} | ${fmtB(r.floor.bytes)} | ${fmtX(r.paOverOurs)}x | ${fmtX(r.fastifyOverOurs)}x | ${fmtX(r.oursOverFloor)}x | ` +
        `${r.lower === undefined ? '' : fmtNs(r.lower.ns)} |`,
    )
  }
  if (mixed.length > 0) {
    p()
    p('After mixed traffic: the same scenarios timed again in one isolate that first ran every scenario above')
    p("(IPv4, IPv6, Forwarded, hop counts, `all`, long headers), so each contender's code is general, not")
    p('specialised to one shape of input.')
    p()
    p('| scenario | ours ns | proxy-addr ns | proxy-addr / ours |')
    p('|---|--:|--:|--:|')
    for (const m of mixed) p(`| ${m.title} | ${fmtNs(m.ours)} | ${fmtNs(m.proxyAddr)} | ${fmtX(m.proxyAddr / m.ours)}x |`)
  }
  const uncompiled = results.filter((r) => r.uncompiled !== undefined)
  if (uncompiled.length > 0) {
    p()
    p('For reference (no target uses it): proxy-addr handed the trust list itself, not a compiled function,')
    p('compiles it on every call. Express compiles once, as the table above does.')
    p()
    p('| scenario | proxy-addr, list compiled per call | / ours |')
    p('|---|--:|--:|')
    for (const r of uncompiled) p(`| ${r.title} | ${fmtNs(r.uncompiled)} ns | ${fmtX(r.uncompiled / r.ours.ns)}x |`)
  }
  if (compile !== undefined) {
    p()
    p('## Startup')
    p()
    p(`Compiling a TRUST_PROXY list of ${compile.entries.toLocaleString('en')} CIDRs (${compile.chars.toLocaleString('en')} characters, mixed IPv4/IPv6; the policy carries ${compile.warnings} warnings):`)
    p()
    p('| | ours `parseTrustProxy(string)` | proxy-addr `compile(array)` | @fastify/proxy-addr `compile(array)` |')
    p('|---|--:|--:|--:|')
    p(`| ms | ${fmtMs(compile.ours)} | ${fmtMs(compile.proxyAddr)} | ${fmtMs(compile.fastify)} |`)
  }
  p()
  p('## Targets (issue 3)')
  p()
  p('| target | result | measured |')
  p('|---|---|---|')
  for (const t of targets) p(`| ${t.name} | ${t.pass ? 'PASS' : '**FAIL**'} | ${t.detail} |`)
  p()
  p('## How bytes/op is measured')
  p()
  p("`process.memoryUsage().heapUsed` deltas under `--expose-gc`, in loops separate from the timed ones. V8")
  p('allocates young objects by bumping a pointer that heapUsed counts, so after emptying the young')
  p('generation (a minor GC) the growth of heapUsed over a chunk of calls is what they allocated, provided')
  p('no GC ran inside the chunk. Chunks are sized to allocate about 256 KB and last about 8 ms; a chunk in')
  p('which a GC ran shows a negative delta and is dropped; the cost of reading heapUsed is measured with')
  p('empty chunks and subtracted; the median of 15 chunks is divided by the calls in a chunk. Calibration')
  p(`in this run: an empty call ${fmtB(calibration.empty)} B (expect 0), a two-field object ${fmtB(calibration.object2)} B (expect 40), an`)
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
