// The first parse of the four provider presets in a fresh process, as a server does at startup:
//   npm run build && node bench/presets-startup.mjs [runs]
// Each run is a new Node process that imports the built library and times its first
// parseTrustProxy('loopback, cloudflare, cloudfront, fastly, google-lb') (and, for scale, the
// import itself and a first parse of 'loopback' alone in another fresh process).
import { execFileSync } from 'node:child_process'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'

const lib = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const runs = Number(process.argv[2] ?? 15)
const probe = (value) => `
const t0 = performance.now()
const { parseTrustProxy } = await import(${JSON.stringify(lib)})
const t1 = performance.now()
const p = parseTrustProxy(${JSON.stringify(value)})
const t2 = performance.now()
if (p.kind !== 'ranges') throw new Error('not parsed')
console.log(JSON.stringify({ importMs: t1 - t0, parseMs: t2 - t1 }))`

function measure(value) {
  const out = []
  for (let k = 0; k < runs; k++) out.push(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', probe(value)], { encoding: 'utf8' })))
  const stat = (key) => {
    const v = out.map((o) => o[key]).sort((a, b) => a - b)
    return { median: v[Math.floor(v.length / 2)], max: v[v.length - 1] }
  }
  return { import: stat('importMs'), parse: stat('parseMs') }
}

const f = (n) => n.toFixed(2)
console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores), Node ${process.version}, ${runs} fresh processes each`)
for (const value of ['loopback', 'loopback, cloudflare, cloudfront, fastly, google-lb']) {
  const m = measure(value)
  console.log(`${JSON.stringify(value)}: first parse median ${f(m.parse.median)} ms, max ${f(m.parse.max)} ms; import median ${f(m.import.median)} ms`)
}
