#!/usr/bin/env node
// Summarises Stryker JSON reports (reports/mutation/mutation.json from `npm run mutation`, or the
// per-group reports of scripts/mutation-by-file.sh) as the Markdown of docs/mutation-testing.md:
// the score per file, then every mutant that was not killed, with its function, place and
// replacement, grouped by the reason it is equivalent, so that each has a test or a reason.
//
//   node scripts/mutation-summary.mjs reports/mutation/*.report.json
//
// The rules below name the function a mutant is in and the code it changes, never a file or a
// line number, so that they still apply when code moves between files (see "Re-checking the
// rules" in docs/mutation-testing.md). A survivor that matches no rule is "not analysed".
import { readFileSync } from 'node:fs'

const files = process.argv.length > 2 ? process.argv.slice(2) : ['reports/mutation/mutation.json']
const report = { files: Object.assign({}, ...files.map((f) => JSON.parse(readFileSync(f, 'utf8')).files)) }
const UNDETECTED = new Set(['Survived', 'NoCoverage'])

/** Why a surviving mutant is equivalent: the groups of docs/mutation-testing.md. */
const GROUPS = {
  fast: 'fast or general reader: a right-to-left reader that gives up leaves the item to the general reader, which reads it the same',
  slice: 'sliced or built canonical text: the same string',
  twice: 'a bound or condition checked again further on',
  oob: 'a read at the end of the range: the character there (a delimiter, or NaN past the string) fails the same test',
  search: 'linear or binary search: the same interval',
  sort: "sort and merge details: V8's sort tests only < 0; keeping a maximum with >= or >",
  after: 'a comparison after !== : < and <= agree',
  parity: 'an arithmetic change that keeps the parity, the only thing tested',
  static: 'state initialised at import and overwritten before it is read',
  unreachable: 'a value the surrounding code never produces',
  work: 'work done or skipped whose result is not used',
}

/**
 * [function, code, group]: a survivor in a function whose name matches `function` (a module-level
 * const or class counts as a function; a method is `Class.method`), on a line whose code matches
 * `code`, is in `group`. Each was written after reading the survivors it covers.
 */
const RULES = [
  // ip: the address parser and its canonical text.
  [/^(parseIPv6|parseAddress|compressedAsRfc5952|formatParsed|canonicalizeIp)$/, /P\.plain|canonical|digitBits|compressedAsRfc5952|tail >= 0|tail < 0|8 - P\.groups|P\.family === 4 \|\| compressed/, 'slice'],
  [/^(longestZeroRun|formatIPv6)$/, /bestLen|k - start > bestLen|best < 0 \? 8/, 'slice'],
  [/^(P|MAX_ITEM_LENGTH|HEX_VALUE|HEX1|HEX2|G)$/, /./, 'static'],
  [/^parseAddress$/, /end - i > MAX_ENTRY_LENGTH|close === end|let close = i \+ 1|while \(close < end/, 'twice'],
  [/^(parseItem|longestZeroRun|zeroRunLength|formatIPv6)$/, /while \(i < end && isOWS|while \(end > i && isOWS|k < 8/, 'oob'],
  [/^scanIPv4$/, /if \(i >= end\) return -1|if \(i < end\) \{|i >= end \|\| s\.charCodeAt\(i\) !== 46/, 'oob'],
  [/^scanIPv4$/, /if \(octet === 0\) return -1|if \(octet > 255\) return -1/, 'unreachable'],
  [/^parseIPv6$/, /k < end && s\.charCodeAt\(k\) === 58|k \+ 1 >= end \|\| s\.charCodeAt\(k \+ 1\) !== 58|k < end && c === 46|\+\+k < end && s\.charCodeAt\(k\) === 58/, 'oob'],
  [/^parseIPv6$/, /^if \(addrEnd < end\) \{/, 'work'],
  [/^parseIPv6$/, /if \(n > 6\) return false|k === end \|\| s\.charCodeAt\(k\) === 37/, 'twice'],
  [/^hexValue$/, /c < 128 \? HEX_VALUE/, 'oob'],
  [/^parseAddress$/, /stop > 0/, 'unreachable'],
  // ranges: the compiled range set.
  [/^(LINEAR_MAX|RangeSet\.has4|RangeSet\.has6)$/, /LINEAR_MAX/, 'search'],
  [/^(merge|RangeSet\.constructor|RangeSet)$/, /intervals\.sort|e > last\[1\]|end > e4\[last\]/, 'sort'],
  [/^cmp6$/, /return x < b|x === b3 \? 0/, 'after'],
  [/^(RangeSet\.constructor|RangeSet|RangeSet\.has4|RangeSet\.has6|inCidr6)$/, /k < n|let hi = n - 1|j < 4|k < 4|last >= 0 &&/, 'oob'],
  [/^maskBits$/, /bits >= 32/, 'twice'],
  [/^(RangeSet\.constructor|RangeSet|RangeSet\.has6)$/, /zone !== ''/, 'work'],
  // headers: the cursor over X-Forwarded-For, Forwarded and single-address headers.
  [/^(xffItem|overLong|readIPv4Item|readIPv6Item)$/, /const stop = end - MAX_ITEM - 1|k > stop|overLong|return end - k - 1 > MAX_ITEM/, 'twice'],
  [/^(C|FW|text|pos|mode)$/, /./, 'static'],
  [/^(readIPv4Item|readIPv6Item|openedText)$/, /./, 'fast'],
  [/^openHeader$/, /pos = -1/, 'work'],
  [/^openHeader$/, /value\.length === 0|m === MODE_SINGLE && value\.length > 1/, 'twice'],
  [/^(openHeader|trimmed|parseForwardedElement)$/, /while \(k < text\.length && isOWS|while \(a < b && isOWS|while \(b > a && isOWS|while \(i < b|if \(i < b && s\.charCodeAt\(i\) === 34|i >= b \|\| s\.charCodeAt\(i\) !== 61|while \(ve > vs && isOWS/, 'oob'],
  [/^xffItem$/, /C\.bad = true/, 'twice'],
  [/^nextForwarded$/, /while \(j >= 0 && s\.charCodeAt\(j\) === 92/, 'oob'],
  [/^nextForwarded$/, /FW\.forStart < 0|^C\.bad = true$/, 'twice'],
  [/^nextForwarded$/, /\(k - 1 - j\) % 2 === 0/, 'parity'],
  [/^parseForwardedElement$/, /FW\.(for|proto|host)Start >= 0\) return false|FW\.forEscaped = FW\.protoEscaped/, 'unreachable'],
  [/^unescape$/, /k \+ 1 < b/, 'unreachable'],
  [/^parseForwardedElement$/, /isTchar\(s\.charCodeAt\(i\)\) && s\.charCodeAt\(i\) !== 61/, 'twice'],
  // resolve: the walk.
  [/^(W|FORWARDING_HEADERS)$/, /./, 'static'],
  [/^walk$/, /const xff = mode === MODE_XFF|if \(xff !== undefined\)|comma < -1|comma >= -1|parsed = true|last = comma < 0|last = pos < 0/, 'fast'],
  [/^(resolveClientIp|resolveClient)$/, /p === undefined \? \(policy as TrustFunction\)/, 'work'],
  [/^walk$/, /chain !== null \|\| !W\.peerTrusted|else if \(chain !== null && policy\._kind === KIND_RANGES\)/, 'work'],
  [/^forwardedProtoHost$/, /FW\.protoStart >= 0|FW\.hostStart >= 0/, 'unreachable'],
  [/^splitPolicy$/, /typeof policy === 'object' && policy !== null/, 'unreachable'],
  // host: Host and X-Forwarded-Host validation.
  [/^(isValidHost|hostNameEnd)$/, /if \(n === 0\) return false|if \(close < 0\) return false|if \(i < 0\) return false|let lastNumeric = false|> MAX_HOST_NAME\) return -1/, 'twice'],
  [/^isValidHost$/, /lastIndexOf\('%', close\) > 0/, 'unreachable'],
  // policy: parsing TRUST_PROXY.
  [/^(TrustPolicy|TrustPolicy\.constructor|matchParsed|fromEntries|parseRangeEntry)$/, /this\._set = kind === 'ranges'|P\.zs === P\.ze \? '' : s\.slice|cidr = \{ family: 4, v4: net, w:|if \(c0 >= 48 && c0 <= 58\)/, 'work'],
  [/^(describe|nestedWarnings)$/, /if \(typeof value === 'function'\) return 'function'|if \(outer!\.p === item\.p\) continue/, 'unreachable'],
  [/^(fromString|unicodeSpace|trimSpace)$/, /while \((start < end|end > start|a < b|b > a|j < end|b < text\.length) && !?isSpace/, 'oob'],
  [/^(isDigits|fromString|looksLikeHopCount|fromEntries)$/, /named !== undefined && Object|const isDigits|whole\.length > 1 && whole\[0\] === '0'|entries\.length > 1\)|\/\^\[\+-\]\|e\/i|return dot <= 0|if \(isList && entry\.indexOf/, 'twice'],
  [/^(fromString|parseRangeEntry|NAMED)$/, /let lastComma = -1|let words: \[number|^const NAMED|^w: \[0, 0, 0, 0\],|^zone: '',/, 'static'],
  [/^parseRangeEntry$/, /asWritten/, 'slice'],
  [/^parseRangeEntry$/, /slash < 0 \?|pct >= 0/, 'twice'],
  [/^nestedWarnings$/, /spans\.sort/, 'sort'],
  [/^nestedWarnings$/, /const pair = item\.p\.entry \+ '\\u0000'/, 'unreachable'],
  [/^collectOverlapWarnings$/, /const v[46]: Span/, 'work'],
  [/^coversFamily$/, /next <= free\[1\]/, 'unreachable'],
  [/^MAPPED_BLOCK$/, /./, 'static'],
]

/** The function (or module-level const, class, `Class.method` or `object.method`) that line `line` (1-based) is in. */
function enclosing(lines, line) {
  let method
  for (let k = line - 1; k >= 0; k--) {
    const l = lines[k]
    const top =
      /^(?:export )?(?:async )?function\s*\*?\s*(\w+)/.exec(l) ??
      /^(?:export )?(?:const|let|var) (\w+)\b/.exec(l) ??
      /^(?:export )?(?:abstract )?class (\w+)/.exec(l)
    // A method of a class, or of an object literal bound to a const (a header reader's `read`).
    if (top) return method !== undefined && (/class /.test(l) || /=\s*\{\s*$/.test(l)) ? `${top[1]}.${method}` : top[1]
    if (method === undefined) {
      const m = /^  (?:(?:public|private|static|get|set|readonly) )*(\w+)\s*\(/.exec(l)
      if (m && !/^(if|for|while|switch|catch|return|function)$/.test(m[1])) method = m[1]
    }
  }
  return '(module)'
}

function groupOf(fn, code) {
  for (const [f, re, g] of RULES) if (f.test(fn) && re.test(code)) return g
  return undefined
}

const rows = []
const open = []
const total = { detected: 0, undetected: 0, ignored: 0, errors: 0 }
for (const [name, f] of Object.entries(report.files).sort()) {
  const lines = f.source.split('\n')
  const c = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, ignored: 0, other: 0 }
  for (const m of f.mutants) {
    if (m.status === 'Killed') c.killed++
    else if (m.status === 'Timeout') c.timeout++
    else if (m.status === 'Survived') c.survived++
    else if (m.status === 'NoCoverage') c.noCoverage++
    else if (m.status === 'Ignored') c.ignored++
    else c.other++
    if (UNDETECTED.has(m.status)) {
      const line = m.location.start.line
      const code = (lines[line - 1] ?? '').trim()
      const fn = enclosing(lines, line)
      const end = m.location.end.line === line ? '' : m.location.end.line + ':'
      open.push({ group: groupOf(fn, code), file: name, fn, line, col: `${m.location.start.column}-${end}${m.location.end.column}`, mutator: m.mutatorName, replacement: m.replacement, status: m.status, code })
    }
  }
  const detected = c.killed + c.timeout
  const undetected = c.survived + c.noCoverage
  total.detected += detected
  total.undetected += undetected
  total.ignored += c.ignored
  total.errors += c.other
  const score = detected + undetected === 0 ? 100 : (100 * detected) / (detected + undetected)
  rows.push(`| \`${name}\` | ${score.toFixed(2)} | ${c.killed} | ${c.timeout} | ${c.survived} | ${c.noCoverage} | ${c.ignored} | ${c.other} |`)
}
const all = (100 * total.detected) / (total.detected + total.undetected)
console.log('| File | Score % | Killed | Timeout | Survived | No coverage | Ignored (static) | Errors |')
console.log('|---|---|---|---|---|---|---|---|')
for (const r of rows) console.log(r)
console.log(`| **all core files** | **${all.toFixed(2)}** | | | ${total.undetected} undetected | | ${total.ignored} | ${total.errors} |`)
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
  console.log(`#### ${g === 'open' ? 'Not analysed: a killing test or a reason is still owed' : GROUPS[g]} (${list.length})`)
  console.log('')
  for (const m of list) {
    const code = m.code.length > 100 ? m.code.slice(0, 97) + '...' : m.code
    const rep = String(m.replacement).replace(/\n/g, ' ').replace(/`/g, "'").slice(0, 50)
    console.log(`- \`${m.file}:${m.line}:${m.col}\` \`${m.fn}\` ${m.mutator}${m.status === 'NoCoverage' ? ' (no coverage)' : ''} -> \`${rep}\` in \`${code.replace(/`/g, "'")}\``)
  }
  console.log('')
}
