// Part of `npm run build`: the shipped provider presets must pass the same validation as a
// refresh (every range through the TRUST_PROXY parser, no private or over-wide range, a sane
// count, a source and a date), so that a bad data file fails the build, never a request.
import { fileURLToPath } from 'node:url'

const lib = await import(fileURLToPath(new URL('../dist/index.js', import.meta.url)))
let failed = false
for (const p of lib.presetInfo()) {
  try {
    if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(p.taken) || Number.isNaN(Date.parse(p.taken))) throw new Error(`taken is not a date: ${p.taken}`)
    if (p.sources.length === 0 || p.sources.some((s) => !s.startsWith('https://'))) throw new Error('no https source')
    lib.validatePresetRanges({ name: p.name, minRanges: 1, maxRanges: 5000 }, p.ranges)
    lib.parseTrustProxy(p.name)
  } catch (e) {
    console.error(`preset ${p.name}: ${e.message}`)
    failed = true
  }
}
if (failed) process.exit(1)
