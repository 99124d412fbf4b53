/**
 * One measurement task in its own process (forked by run.mjs with --expose-gc; the task is its
 * argument, the result its one IPC message).
 *
 * Each scenario gets a fresh process, so a fresh JIT: its contenders are compiled for its inputs
 * only, as in a server that sees that traffic, and no scenario's numbers depend on which other
 * scenarios ran before it. run.mjs runs each scenario in several such processes, to show how
 * much the figures move from one process to the next (V8 does not compile the same code the
 * same way every time). It also times a few scenarios after mixed traffic in one process.
 */
import fastifyProxyAddr from '@fastify/proxy-addr'
import proxyAddr from 'proxy-addr'
import { lowerBoundFor } from './lower-bound-v6.mjs'
import { bytesPerOp, timeIt } from './measure.mjs'
import { buildScenarios, checkScenario, compileInputs, contenders, keep, peerList } from './scenarios.mjs'

const { task, id, minMs, rounds, libUrl, bytes } = JSON.parse(process.argv[2])
const lib = await import(libUrl)

/** Header strings as Node's HTTP parser hands them over: flat, not a rope of concatenations. */
export const flat = (s) => (typeof s === 'string' ? Buffer.from(s, 'latin1').toString('latin1') : s)

/** Warms the named functions, then times them in rounds (in turn), taking the best round. */
async function timeRounds(fns, names) {
  for (let round = 0; round < 3; round++) {
    for (const name of names) {
      const t0 = performance.now()
      for (let i = 0; i < 5000 && performance.now() - t0 < 15; i++) keep(fns[name]())
    }
  }
  // Rounds, the contenders in turn within each: a burst of load from another process then hits
  // one round of every contender rather than all the rounds of one.
  const samples = Object.fromEntries(names.map((name) => [name, []]))
  for (let r = 0; r < rounds; r++) {
    // One full GC per round, not one per contender (see timeIt).
    globalThis.gc?.()
    for (const name of names) samples[name].push((await timeIt(fns[name], minMs / rounds, { fullGc: false })).p50)
  }
  // The best round: other processes on this shared machine only ever add time, and which
  // contender they happen to slow down is luck. Each round's figure is already a median.
  return Object.fromEntries(names.map((name) => [name, Math.min(...samples[name])]))
}

/**
 * Scenarios whose targets compare them with another one (a long list with a short one, a long
 * header with a short one): the other's `ours` is timed in the same rounds, in the same isolate,
 * so that load from other processes cannot fake or hide the difference.
 */
const PAIRS = { 'cidrs-10000': 'cidrs-3', 'range-8192': 'range-100', 'all-8192': 'all-100' }

async function scenario() {
  const t0 = performance.now()
  const pairId = PAIRS[id]
  const built = buildScenarios(new Set(pairId === undefined ? [id] : [id, pairId])).map((raw) => ({
    ...raw,
    remote: flat(raw.remote),
    xff: flat(raw.xff),
    forwarded: flat(raw.forwarded),
  }))
  const s = built.find((x) => x.id === id)
  for (const x of built) checkScenario(x, lib) // throws on any disagreement: nothing wrong gets timed
  const fns = contenders(s, lib)
  const names = ['ours', 'proxyAddr', 'fastify', 'floor', 'lower']
  if (pairId !== undefined) {
    fns.pair = contenders(built.find((x) => x.id === pairId), lib).ours
    names.push('pair')
  }
  // The audit record of the same request, for the main scenarios.
  if (s.group === 'core' && fns.record !== undefined) names.push('record')
  const lower = lowerBoundFor(s, peerList(s, lib))
  fns.lower = lower.fn
  if (fns.lower() !== s.expected) throw new Error(`lower bound gives ${fns.lower()} for ${id}, expected ${s.expected}`)
  const t1 = performance.now()
  const ns = await timeRounds(fns, names)
  const t2 = performance.now()
  const row = {
    id,
    title: s.title,
    group: s.group,
    oursVia: s.oursVia,
    expected: s.expected,
    xffLength: s.xff?.length ?? 0,
    lowerKind: lower.kind,
  }
  // Allocation does not vary from one process to the next: measured in one of them.
  for (const name of names) {
    row[name] = { ns: ns[name], bytes: !bytes || name === 'lower' || name === 'pair' ? NaN : bytesPerOp(fns[name], ns[name]) }
  }
  if (pairId !== undefined) row.pair.id = pairId
  const t3 = performance.now()
  // proxy-addr handed the list itself (not a compiled function) compiles it on every call.
  if (bytes && (id === 'loopback-1' || id === 'ipv4-3hop')) {
    const req = { socket: { remoteAddress: s.remote }, headers: { 'x-forwarded-for': s.xff } }
    const list = s.peer
    const f = { uncompiled: () => proxyAddr(req, list) }
    row.uncompiled = (await timeRounds(f, ['uncompiled'])).uncompiled
  }
  row.phases = { setup: t1 - t0, timing: t2 - t1 + (performance.now() - t3), bytes: t3 - t2 }
  return row
}

async function compile() {
  const { text, array } = compileInputs(10_000)
  const policy = lib.parseTrustProxy(text)
  const fns = {
    ours: () => lib.parseTrustProxy(text),
    proxyAddr: () => proxyAddr.compile(array),
    fastify: () => fastifyProxyAddr.compile(array),
  }
  const ns = await timeRounds(fns, ['ours', 'proxyAddr', 'fastify'])
  return { entries: array.length, chars: text.length, warnings: policy.warnings.length, ...ns }
}

function calibrate() {
  const one = { a: 1 }
  const src = flat('#203.0.113.7#')
  const fns = { empty: () => undefined, object2: () => ({ a: one, b: one }), substring11: () => src.slice(1, 12) }
  // Optimised code first: unoptimised code adds a 16-byte allocation memento to some objects.
  for (const f of Object.values(fns)) for (let i = 0; i < 200_000; i++) keep(f())
  return Object.fromEntries(Object.entries(fns).map(([k, f]) => [k, bytesPerOp(f, 5)]))
}

const result = task === 'scenario' ? await scenario() : task === 'compile' ? await compile() : calibrate()
process.send(result, () => process.exit(0))
