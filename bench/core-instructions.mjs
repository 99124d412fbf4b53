/**
 * `node bench/core-instructions.mjs [scenario ...]`: the machine instructions one call costs, for
 * our address-only walk (`resolveClientIp`), our audit record (`resolveClient`), proxy-addr and
 * the validating lower bound, on the scenarios of bench/scenarios.mjs, counted by valgrind
 * (callgrind) instead of timed.
 *
 * Why: the time ratios of `npm run bench` move by tens of percent on these shared 2-core machines
 * (a neighbour's build takes cache and the JIT's threads), and the targets of issue 13 are ratios
 * close to 1. An instruction count of the same code on the same input is repeatable whatever the
 * other core does. It is not time (a cache miss costs more than an add, and a lower bound that
 * allocates less may also miss less), so it complements the timed run rather than replacing it.
 *
 * Method: each contender runs in a fresh `node` under callgrind twice, with the same warm-up
 * (WARMUP calls, enough for V8 to optimise it) followed by N1 and then N2 measured calls; the
 * difference of the two processes' totals, divided by N2 - N1, is the cost of one steady-state
 * call, with start-up, compilation and warm-up cancelled out. The children run with V8's
 * `--single-threaded`: with compilation and GC on other threads, when optimised code arrives
 * depends on how busy the machine is, and the counts moved by a third between runs. Environment: BENCH_WARMUP (default
 * 50000), BENCH_N1 / BENCH_N2 (default 10000 / 60000), BENCH_WHO (the contenders, default all:
 * ours,record,proxyAddr,lowerBound), BENCH_LIB (another build of the library, as for run.mjs).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { cpuModel } from './machine.mjs'

const WARMUP = Number(process.env.BENCH_WARMUP ?? 50_000)
const N1 = Number(process.env.BENCH_N1 ?? 10_000)
const N2 = Number(process.env.BENCH_N2 ?? 60_000)
const CONTENDERS = (process.env.BENCH_WHO ?? 'ours,record,proxyAddr,lowerBound').split(',')
const DEFAULT_SCENARIOS = ['no-header', 'loopback-1', 'ipv4-3hop', 'ipv6-2hop', 'mapped-peer', 'hops-2', 'forwarded-v6']

if (process.argv[2] === '--child') {
  // Child: node bench/core-instructions.mjs --child <scenario> <contender> <calls>
  const [, , , id, who, calls] = process.argv
  const lib = await import(process.env.BENCH_LIB === undefined ? '../dist/index.js' : pathToFileURL(resolve(process.env.BENCH_LIB)).href)
  const { buildScenarios, contenders, keep, peerList } = await import('./scenarios.mjs')
  const { lowerBoundFor } = await import('./lower-bound-v6.mjs')
  const [s] = buildScenarios(new Set([id]))
  const fn = who === 'lowerBound' ? lowerBoundFor(s, peerList(s, lib)).fn : contenders(s, lib)[who]
  for (let i = 0; i < WARMUP; i++) keep(fn())
  for (let i = 0, n = Number(calls); i < n; i++) keep(fn())
} else {
  try {
    execFileSync('valgrind', ['--version'])
  } catch {
    console.error('valgrind is not installed: apt-get install valgrind')
    process.exit(1)
  }
  const self = fileURLToPath(import.meta.url)
  const total = (id, who, calls) => {
    const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', '--smc-check=all-non-file', process.execPath, '--single-threaded', self, '--child', id, who, String(calls)], { encoding: 'utf8' })
    const m = /Collected : (\d+)/.exec(r.stderr)
    if (r.status !== 0 || m === null) throw new Error(`${id} ${who}: ${r.stderr.slice(-2000)}`)
    return Number(m[1])
  }
  const ids = process.argv.length > 2 ? process.argv.slice(2) : DEFAULT_SCENARIOS
  console.log(`Instructions per call (callgrind, every thread of the process), ${cpuModel()}, Node ${process.version}`)
  console.log(`warm-up ${WARMUP} calls; (total after ${N2} calls - total after ${N1}) / ${N2 - N1}\n`)
  console.log('| scenario | resolveClientIp | resolveClient | record / ip | proxy-addr | lower bound | ip / lower bound | proxy-addr / ip |')
  console.log('|---|---|---|---|---|---|---|---|')
  for (const id of ids) {
    const per = {}
    for (const who of CONTENDERS) per[who] = (total(id, who, N2) - total(id, who, N1)) / (N2 - N1)
    const n = (x) => (x === undefined ? '' : x.toFixed(0))
    const r = (a, b) => (a === undefined || b === undefined ? '' : (a / b).toFixed(2) + 'x')
    console.log(`| ${id} | ${n(per.ours)} | ${n(per.record)} | ${r(per.record, per.ours)} | ${n(per.proxyAddr)} | ${n(per.lowerBound)} | ${r(per.ours, per.lowerBound)} | ${r(per.proxyAddr, per.ours)} |`)
  }
}
