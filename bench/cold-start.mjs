/**
 * First calls in fresh processes: what a server pays once, at startup, before V8 has compiled
 * anything of the code it runs (a warm loop, as in worker.mjs's `compile` task, hides that).
 *
 * Each run is a new Node process that does `prepare` (untimed: reading the input), then times
 * `load` (an import, bound to `m`) and the first `call`, and prints both. The figures are the
 * median over the processes, with their spread.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { median } from './measure.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Median, min, max and the spread (max - min) as a percentage of the median. */
export function spreadOf(values) {
  const finite = values.filter(Number.isFinite)
  const med = median(finite)
  const min = Math.min(...finite)
  const max = Math.max(...finite)
  return { median: med, min, max, spread: (100 * (max - min)) / med, n: finite.length }
}

/**
 * `runs` fresh processes, each timing `load` and then the first `call` (JavaScript expressions),
 * with `nodeArgs` before the script.
 *
 * Beside the wall time of the call, each process reads its main thread's scheduler counters
 * (Linux's /proc/<pid>/task/<pid>/schedstat: time on a CPU, time runnable but waiting for one)
 * before and after it. A cold call runs while V8's background threads compile what it runs, and
 * on a 2-core machine those threads and the main one take turns: `wait` is how much of the call's
 * wall time the main thread spent waiting for a core, `cpu` how much it ran. Both are NaN where
 * the file does not exist.
 */
export function firstCall({ prepare = '', load, call, runs, nodeArgs = [] }) {
  const script = `${prepare}
import { readFileSync as readSchedstat } from 'node:fs'
const sched = () => { try { return readSchedstat('/proc/' + process.pid + '/task/' + process.pid + '/schedstat', 'utf8').split(' ').map(Number) } catch { return [NaN, NaN] } }
const t0 = performance.now()
const m = ${load}
const s1 = sched()
const t1 = performance.now()
const result = ${call}
const t2 = performance.now()
const s2 = sched()
if (result === undefined || result === null) throw new Error('the first call returned nothing')
console.log(JSON.stringify({ loadMs: t1 - t0, callMs: t2 - t1, cpuMs: (s2[0] - s1[0]) / 1e6, waitMs: (s2[1] - s1[1]) / 1e6 }))`
  const out = []
  for (let k = 0; k < runs; k++) {
    out.push(JSON.parse(execFileSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], { encoding: 'utf8', cwd: ROOT })))
  }
  return {
    load: spreadOf(out.map((o) => o.loadMs)),
    call: spreadOf(out.map((o) => o.callMs)),
    cpu: spreadOf(out.map((o) => o.cpuMs)),
    wait: spreadOf(out.map((o) => o.waitMs)),
  }
}

/**
 * The floor of a first call over the same input: a fresh process that splits the 10,000-entry
 * value and reads every character of every entry in a plain loop, what any parser of it must at
 * least do, run cold like the real thing.
 */
export const FLOOR_CALL = `(() => {
  const parts = input.split(', ')
  let sum = 0
  for (let k = 0; k < parts.length; k++) {
    const s = parts[k]
    for (let i = 0; i < s.length; i++) sum = (sum + s.charCodeAt(i)) | 0
  }
  return sum
})()`

// `node bench/cold-start.mjs [runs]` (after `npm run build`): parseTrustProxy of the benchmark's
// 10,000 CIDRs as the first call of fresh processes, beside the floor above, with the main
// thread's time on a CPU and waiting for one; then the same with V8's background thread pool cut
// to one thread (`--v8-pool-size=1`), which shows how much of the wall time is the main thread
// taking turns with V8's compilers for the machine's cores.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { writeFileSync, mkdtempSync } = await import('node:fs')
  const { join } = await import('node:path')
  const { tmpdir, cpus } = await import('node:os')
  const { compileInputs } = await import('./scenarios.mjs')
  const { cpuModel } = await import('./machine.mjs')
  const runs = Number(process.argv[2] ?? 9)
  const file = join(mkdtempSync(join(tmpdir(), 'cold-start-')), 'cidrs-10000.txt')
  writeFileSync(file, compileInputs(10_000).text)
  const prepare = `import { readFileSync } from 'node:fs'\nconst input = readFileSync(${JSON.stringify(file)}, 'utf8')`
  const lib = new URL('../dist/index.js', import.meta.url).href
  const fmt = (s) => `${s.median.toFixed(2)} ms (${s.min.toFixed(2)}-${s.max.toFixed(2)}, ${s.spread.toFixed(0)}%)`
  const fmtSched = (r) => (Number.isFinite(r.cpu.median) ? `, on a CPU ${r.cpu.median.toFixed(1)} ms, waiting for one ${r.wait.median.toFixed(1)} ms` : '')
  console.log(`${cpuModel()}, ${cpus().length} cores, Node ${process.version}`)
  for (let r = 0; r < 2; r++) {
    const parse = { prepare, load: `await import(${JSON.stringify(lib)})`, call: 'm.parseTrustProxy(input)', runs }
    const ours = firstCall(parse)
    const pool1 = firstCall({ ...parse, nodeArgs: ['--v8-pool-size=1'] })
    const floor = firstCall({ prepare, load: '0', call: FLOOR_CALL, runs })
    console.log(`parseTrustProxy first call ${fmt(ours.call)}${fmtSched(ours)} | floor ${fmt(floor.call)} | ${runs} processes each`)
    console.log(`  with --v8-pool-size=1    ${fmt(pool1.call)}${fmtSched(pool1)}`)
  }
}
