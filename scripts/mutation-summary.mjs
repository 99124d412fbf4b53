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

/**
 * Why a surviving mutant is equivalent, by the code it is in: the groups of docs/mutation-testing.md.
 * A survivor that matches no rule is listed as "not analysed".
 */
const GROUPS = {
  fast: 'fast or general reader: the general reader gives the same result',
  slice: 'sliced or built canonical text: the same string',
  twice: 'a bound or condition checked again further on',
  oob: 'a read past the end gives undefined or NaN, which fails the comparison that ends the loop',
  search: 'linear or binary search: the same interval',
  sort: "sort and merge details: V8's sort tests only < 0; keeping a maximum with >= or >",
  after: 'a comparison after !== : < and <= agree',
  static: 'code run once at import: never active with isolate: false (or overwritten before use)',
  unreachable: 'a value the surrounding code never produces',
  work: 'work done or skipped whose result is not used',
}
const RULES = [
  ['ip.ts', /P\.plain|canonical|digitBits|compressedAsRfc5952|tail >= 0|tail < 0|8 - P\.groups|longestZeroRun|P\.family === 4 \|\| compressed/, 'slice'],
  ['ip.ts', /^export const P = \{|plain: false|gap: -1,|HEX_VALUE\[97|b < 256|MAX_ITEM_LENGTH = |groups: 8/, 'static'],
  ['ip.ts', /end - i > MAX_ENTRY_LENGTH|close === end|let close = i \+ 1|while \(close < end/, 'twice'],
  ['ip.ts', /while \(i < end && isOWS|while \(end > i && isOWS|k < 8/, 'oob'],
  ['ip.ts', /stop > 0/, 'unreachable'],
  ['ranges.ts', /LINEAR_MAX/, 'search'],
  ['ranges.ts', /intervals\.sort|e > last\[1\]|end > e4\[last\]/, 'sort'],
  ['ranges.ts', /return x < b|x === b3 \? 0/, 'after'],
  ['ranges.ts', /k < n|let hi = n - 1|j < 4|k < 4|last >= 0 &&/, 'oob'],
  ['ranges.ts', /bits >= 32/, 'twice'],
  ['ranges.ts', /zone !== ''/, 'work'],
  ['headers.ts', /const stop = end - MAX_ITEM - 1|k > stop|overLong|return end - k - 1 > MAX_ITEM/, 'twice'],
  ['headers.ts', /^export const C = \{|^  s: '',|^  start: 0,|^  end: 0,|^  bad: false,|^  last: false,|^let text = ''|^let pos = -1|^let mode/, 'static'],
  ['resolve.ts', /^const W = \{|peerTrusted: false,|hasEntries: false,|malformed: false,|malformedPeer: false,|short: false,|fnError: false,|trustedClient: false,|FORWARDING_HEADERS = /, 'static'],
  ['resolve.ts', /const xff = mode === MODE_XFF|if \(xff !== undefined\)|comma < -1|comma >= -1|parsed = true|last = comma < 0|last = pos < 0/, 'fast'],
  ['resolve.ts', /p === undefined \? \(policy as TrustFunction\)/, 'work'],
  ['resolve.ts', /chain !== null \|\| !W\.peerTrusted|else if \(chain !== null && policy\._kind === KIND_RANGES\)/, 'work'],
  ['resolve.ts', /FW\.protoStart >= 0|FW\.hostStart >= 0/, 'unreachable'],
  ['host.ts', /if \(n === 0\) return false|if \(close < 0\) return false|if \(i < 0\) return false|let lastNumeric = false|> MAX_HOST_NAME\) return -1/, 'twice'],
  ['host.ts', /lastIndexOf\('%', close\) > 0/, 'unreachable'],
  ['headers.ts', /^export function openedText/, 'fast'],
  ['policy.ts', /this\._set = kind === 'ranges'|P\.zs === P\.ze \? '' : s\.slice|cidr = \{ family: 4, v4: net, w:|if \(c0 >= 48 && c0 <= 58\)/, 'work'],
  ['policy.ts', /if \(typeof value === 'function'\) return 'function'|if \(outer!\.p === item\.p\) continue/, 'unreachable'],
  ['policy.ts', /while \((start < end|end > start|a < b|b > a|j < end|b < text\.length) && !?isSpace/, 'oob'],
  ['policy.ts', /named !== undefined && Object|const isDigits|whole\.length > 1 && whole\[0\] === '0'|entries\.length > 1\)|\/\^\[\+-\]\|e\/i|return dot <= 0|if \(isList && entry\.indexOf/, 'twice'],
  ['policy.ts', /let lastComma = -1|let words: \[number|^const NAMED|^w: \[0, 0, 0, 0\],|^zone: '',/, 'static'],
  ['policy.ts', /asWritten/, 'slice'],
]
/** The rule for a mutant in a file: headers.ts's fast readers by their line range. */
function groupOf(file, line, code, source) {
  for (const [f, re, g] of RULES) if (file.endsWith(f) && re.test(code)) return g
  if (file.endsWith('headers.ts')) {
    const lines = source.split('\n')
    const start = lines.findIndex((l) => l.startsWith('export function readIPv4Item('))
    const end = lines.findIndex((l) => l.startsWith('/** The parameters of the last Forwarded element'))
    if (start >= 0 && line > start && line <= end) return 'fast'
  }
  return undefined
}

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
      open.push({ group: groupOf(name, m.location.start.line, line.trim(), f.source), file: name, line: m.location.start.line, col: `${m.location.start.column}-${m.location.end.line === m.location.start.line ? '' : m.location.end.line + ':'}${m.location.end.column}`, mutator: m.mutatorName, replacement: m.replacement, status: m.status, code: line.trim() })
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
const equivalent = open.filter((m) => m.group !== undefined).length
const owed = total.undetected - equivalent
console.log('')
console.log(`Undetected: ${total.undetected}, of which ${equivalent} are in a group of equivalent mutants below and ${owed} are not analysed.`)
console.log(`Counting the equivalent ones out, the score is ${((100 * total.detected) / (total.detected + owed)).toFixed(2)}%.`)
console.log('')
const byGroup = new Map()
for (const m of open) {
  const g = m.group ?? 'open'
  if (!byGroup.has(g)) byGroup.set(g, [])
  byGroup.get(g).push(m)
}
for (const [g, list] of [...byGroup].sort((a, b) => (a[0] === 'open' ? 1 : b[0] === 'open' ? -1 : b[1].length - a[1].length))) {
  console.log(`### ${g === 'open' ? 'Not analysed: a killing test or a reason is still owed' : GROUPS[g]} (${list.length})`)
  console.log('')
  for (const m of list) {
    const code = m.code.length > 100 ? m.code.slice(0, 97) + '...' : m.code
    const rep = String(m.replacement).replace(/\n/g, ' ').replace(/`/g, "'").slice(0, 50)
    console.log(`- \`${m.file}:${m.line}:${m.col}\` ${m.mutator}${m.status === 'NoCoverage' ? ' (no coverage)' : ''} -> \`${rep}\` in \`${code.replace(/`/g, "'")}\``)
  }
  console.log('')
}
void DETECTED
