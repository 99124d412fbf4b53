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

/** `runs` fresh processes, each timing `load` and then the first `call` (JavaScript expressions). */
export function firstCall({ prepare = '', load, call, runs }) {
  const script = `${prepare}
const t0 = performance.now()
const m = ${load}
const t1 = performance.now()
const result = ${call}
const t2 = performance.now()
if (result === undefined || result === null) throw new Error('the first call returned nothing')
console.log(JSON.stringify({ loadMs: t1 - t0, callMs: t2 - t1 }))`
  const out = []
  for (let k = 0; k < runs; k++) {
    out.push(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: ROOT })))
  }
  return { load: spreadOf(out.map((o) => o.loadMs)), call: spreadOf(out.map((o) => o.callMs)) }
}
