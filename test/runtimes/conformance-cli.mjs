/**
 * `<runtime> conformance-cli.mjs <vectors.json>`: prints the conformance results of the built
 * package as JSON. Runs as it is under Node, Bun and Deno (`deno run --allow-read`).
 */
import * as lib from '../../dist/index.js'
import * as web from '../../dist/web.js'
import { runConformance } from './conformance.mjs'

const args = globalThis.Deno ? globalThis.Deno.args : globalThis.process.argv.slice(2)
const text = globalThis.Deno
  ? globalThis.Deno.readTextFileSync(args[0])
  : (await import('node:fs')).readFileSync(args[0], 'utf8')
console.log(JSON.stringify(runConformance(lib, web, JSON.parse(text))))
