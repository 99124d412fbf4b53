// The first parse of the four provider presets in a fresh process, as a server does at startup:
//   npm run build && node bench/presets-startup.mjs [runs]
// Each run is a new Node process that imports the built library and times its first
// parseTrustProxy('loopback, cloudflare, cloudfront, fastly, google-lb') (and, for scale, the
// import itself and a first parse of 'loopback' alone in another fresh process).
import { cpus } from 'node:os'
import { pathToFileURL } from 'node:url'
import { firstCall } from './cold-start.mjs'
import { cpuModel } from './machine.mjs'

const lib = pathToFileURL(new URL('../dist/index.js', import.meta.url).pathname).href
const runs = Number(process.argv[2] ?? 15)

const f = (n) => n.toFixed(2)
console.log(`CPU: ${cpuModel()} (${cpus().length} cores), Node ${process.version}, ${runs} fresh processes each`)
for (const value of ['loopback', 'loopback, cloudflare, cloudfront, fastly, google-lb']) {
  const m = firstCall({ load: `await import(${JSON.stringify(lib)})`, call: `m.parseTrustProxy(${JSON.stringify(value)}).kind === 'ranges' || null`, runs })
  console.log(`${JSON.stringify(value)}: first parse median ${f(m.call.median)} ms, max ${f(m.call.max)} ms; import median ${f(m.load.median)} ms`)
}
