/**
 * Two measurements per contender: time (mitata, median of its samples) and bytes allocated per
 * call (heap deltas, below). They are taken in separate loops so that reading the heap never
 * lands inside a timed sample.
 */
import { measure } from 'mitata'
import { keep } from './scenarios.mjs'

/**
 * Median nanoseconds per call. mitata batches fast functions (many calls per sample) and runs
 * until `minMs` of CPU time and at least 12 samples have been spent; we take its p50. The result
 * is passed to `keep` so that no contender's work can be dropped as dead code.
 */
export async function timeIt(fn, minMs, { fullGc = true } = {}) {
  // mitata times fast functions in batches (4,096 calls by default) and wants at least 12
  // samples: for a 50 us function that is 2.5 s, whatever the budget. So size the batch to the
  // function: about 1/24 of the budget per sample (a multiple of mitata's unroll of 4).
  let calls = 0
  const t0 = performance.now()
  while (performance.now() - t0 < 2) {
    keep(fn())
    calls++
  }
  const perCallNs = ((performance.now() - t0) * 1e6) / calls
  const batch = Math.max(4, Math.min(4096, Math.round((minMs * 1e6) / 24 / perCallNs / 4) * 4))
  // Under --expose-gc mitata runs a full GC before measuring, which costs tens of ms in a
  // process holding a 10,000-entry list; `fullGc: false` leaves that to the caller (once per round).
  const stats = await measure(() => keep(fn()), { min_cpu_time: minMs * 1e6, batch_samples: batch, ...(fullGc ? {} : { gc: false }) })
  return { p50: stats.p50, p75: stats.p75, samples: stats.samples.length, ticks: stats.ticks }
}

const heapUsed = () => process.memoryUsage().heapUsed

/**
 * Bytes allocated per call, from `process.memoryUsage().heapUsed` deltas.
 *
 * V8 allocates young objects by bumping a pointer, and heapUsed counts up to that pointer; so
 * with the young generation emptied first (a minor GC via `--expose-gc`), the growth of heapUsed
 * over a chunk of calls is what those calls allocated, as long as no GC runs inside the chunk.
 * Each chunk is sized to allocate about `chunkBytes` (well under the 1 MB semi-space V8 starts
 * with) and to last about `chunkMs`; a chunk in which a GC ran shows a negative delta and is
 * discarded. The cost of reading heapUsed itself (an object of a few hundred bytes) is measured
 * with empty chunks and subtracted. We report the median chunk, per call.
 */
export function bytesPerOp(fn, nsPerOp, { chunks = 15, chunkBytes = 256 * 1024, chunkMs = 8 } = {}) {
  const gc = globalThis.gc
  if (typeof gc !== 'function') return NaN
  const minor = () => gc({ type: 'minor' })
  // Probe: how much does one call allocate, roughly?
  let probe = NaN
  for (let attempt = 0; attempt < 5 && !(probe >= 0); attempt++) {
    minor()
    const h0 = heapUsed()
    for (let i = 0; i < 8; i++) keep(fn())
    probe = (heapUsed() - h0) / 8
  }
  const byBytes = Math.floor(chunkBytes / Math.max(probe, 16))
  const byTime = Math.floor((chunkMs * 1e6) / Math.max(nsPerOp, 1))
  const iters = Math.max(1, Math.min(20_000, byBytes, byTime))

  const overhead = []
  for (let c = 0; c < 9; c++) {
    minor()
    const h0 = heapUsed()
    const h1 = heapUsed()
    overhead.push(h1 - h0)
  }
  const base = median(overhead)

  const deltas = []
  for (let c = 0; c < chunks * 3 && deltas.length < chunks; c++) {
    minor()
    const h0 = heapUsed()
    for (let i = 0; i < iters; i++) keep(fn())
    const d = heapUsed() - h0
    if (d >= 0) deltas.push(Math.max(0, d - base) / iters)
  }
  return deltas.length === 0 ? NaN : median(deltas)
}

export function median(values) {
  const v = [...values].sort((a, b) => a - b)
  const n = v.length
  return n === 0 ? NaN : n % 2 === 1 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
}
