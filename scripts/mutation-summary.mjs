#!/usr/bin/env node
// Summarises a Stryker JSON report (reports/mutation/mutation.json, written by `npm run mutation`)
// as the Markdown of docs/mutation-testing.md: the score per file, then every mutant that was not
// killed, with its place and replacement, so that each can be given a test or a reason.
import { readFileSync } from 'node:fs'

const files = process.argv.length > 2 ? process.argv.slice(2) : ['reports/mutation/mutation.json']
// Several reports (one per group of files, scripts/mutation-by-file.sh) are merged.
const report = { files: Object.assign({}, ...files.map((f) => JSON.parse(readFileSync(f, 'utf8')).files)) }
const DETECTED = new Set(['Killed', 'Timeout'])
const UNDETECTED = new Set(['Survived', 'NoCoverage'])

const rows = []
const open = []
let total = { detected: 0, undetected: 0, ignored: 0, errors: 0 }
for (const [name, f] of Object.entries(report.files).sort()) {
  const c = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, other: 0 }
  for (const m of f.mutants) {
    if (m.status === 'Killed') c.killed++
    else if (m.status === 'Timeout') c.timeout++
    else if (m.status === 'Survived') c.survived++
    else if (m.status === 'NoCoverage') c.noCoverage++
    else c.other++
    if (UNDETECTED.has(m.status)) {
      const line = f.source.split('\n')[m.location.start.line - 1] ?? ''
      open.push({ file: name, line: m.location.start.line, col: `${m.location.start.column}-${m.location.end.line === m.location.start.line ? '' : m.location.end.line + ':'}${m.location.end.column}`, mutator: m.mutatorName, replacement: m.replacement, status: m.status, code: line.trim() })
    }
  }
  const detected = c.killed + c.timeout
  const undetected = c.survived + c.noCoverage
  total.detected += detected
  total.undetected += undetected
  total.errors += c.other
  const score = detected + undetected === 0 ? 100 : (100 * detected) / (detected + undetected)
  rows.push(`| \`${name}\` | ${score.toFixed(2)} | ${c.killed} | ${c.timeout} | ${c.survived} | ${c.noCoverage} | ${c.other} |`)
}
const all = (100 * total.detected) / (total.detected + total.undetected)
console.log('| File | Score % | Killed | Timeout | Survived | No coverage | Errors/ignored |')
console.log('|---|---|---|---|---|---|---|')
for (const r of rows) console.log(r)
console.log(`| **all core files** | **${all.toFixed(2)}** | | | ${total.undetected} undetected | | ${total.errors} |`)
console.log('')
for (const m of open) {
  const code = m.code.length > 110 ? m.code.slice(0, 107) + '...' : m.code
  console.log(`- \`${m.file}:${m.line}:${m.col}\` ${m.mutator} (${m.status}) -> \`${String(m.replacement).replace(/\n/g, ' ').slice(0, 60)}\`: \`${code}\``)
}
void DETECTED
