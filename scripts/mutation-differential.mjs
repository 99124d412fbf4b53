#!/usr/bin/env node
// Checks surviving mutants against a differential corpus, to tell a missing test from an
// equivalent mutant before writing either (docs/mutation-testing.md, "Checking a group"):
// each mutant that a Stryker report lists as not killed is applied to a scratch copy of src/,
// the copy is bundled, and the public API (canonicalizeIp, listEntries, resolveClientIp,
// resolveClient, parseTrustProxy, isValidHost) is run over a fixed corpus of generated near-miss
// inputs; any answer that differs from the unmutated code's is printed with its input, which is
// then a test row. A mutant with no difference is not proven equivalent (the corpus is finite),
// only not yet told apart.
//
//   node scripts/mutation-differential.mjs reports/mutation/<group>.report.json [file-filter] [--cases N]
//
// Scratch copies go to $TMPDIR/mutation-differential (removed at the end).
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'

const args = process.argv.slice(2)
const casesAt = args.indexOf('--cases')
const CASES = casesAt >= 0 ? Number(args.splice(casesAt, 2)[1]) : 4000
const [reportPath, filter] = args
const root = resolve(new URL('..', import.meta.url).pathname)
const scratch = join(tmpdir(), 'mutation-differential')
rmSync(scratch, { recursive: true, force: true })
mkdirSync(scratch, { recursive: true })

// ---- the corpus: deterministic, so that two runs compare the same inputs
let seed = 0x2545f491
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32)
const pick = (a) => a[Math.floor(rand() * a.length)]
const VALID = [
  '1.2.3.4', '10.0.0.1', '192.168.100.200', '255.255.255.255', '0.0.0.1', '8.8.8.8', '100.64.0.1',
  '2001:db8::1', '::1', '1::', '1::1', 'fe80::1', 'fe80::1%eth0', '2001:db8:0:0:1:0:0:1', '1:2:3:4:5:6:7:8',
  '::ffff:1.2.3.4', '::ffff:7f00:1', '1:0:0:0:0:0:0:1', '2001:DB8::A', '2001:0db8::1', '::1.2.3.4', '1:2:3:4:5:6:1.2.3.4',
  '[2001:db8::1]', '[::1]:443', '1.2.3.4:80', '1.2.3.4:65535', '[fe80::1%en0]:8080', '::', '0.0.0.0', 'ffff::',
  '1::0:1', '::0:1', '1:0::1', '0:0:0:0:0:0:0:1', '2001:db8::1:0:0:1', '2001::1:0:0:0:1', 'a:b:c:d:e:f:0:1',
  '.2.3.4', '1.2.', '10.0.0.1230', '10.0.0.1239', '1.2.3.0x5', '1.2.0x3.4', '1.2345.3.4', '::1:2:3:4:5:6:7', '1:2:3:4:5:6:7::',
  '1.2.3.a4', '1.2.3.:4', '1.2.3.:14', '1::2:3:4:5:6:7:1.2.3.4', '1::2:%eth0', 'fe80::1:%eth0', '1.2.3.4.', '1.2.3.1234', '1.2.3.04', '::a:b:c',
  '1.2.3.0', '99.99.99.99', '250.251.252.253', '0:0:1::', 'fd00::', 'abcd:ef01:2345:6789:abcd:ef01:2345:6789',
]
const CHARS = '0123456789abcdefABCDEFxX:.,[]%; \t_-"=/\\g\u0080\u00e9'
function nearMiss(s) {
  const a = [...s]
  const n = 1 + Math.floor(rand() * 2)
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rand() * (a.length + 1))
    const op = rand()
    if (op < 0.35) a.splice(at, 0, pick(CHARS))
    else if (op < 0.7) a.splice(at, 1)
    else a.splice(at, 1, pick(CHARS))
  }
  return a.join('')
}
function item() {
  const r = rand()
  if (r < 0.35) return pick(VALID)
  if (r < 0.85) return nearMiss(pick(VALID))
  let s = ''
  const n = Math.floor(rand() * 12)
  for (let k = 0; k < n; k++) s += pick(CHARS)
  return s
}
function pad(s) {
  const r = rand()
  if (r < 0.6) return s
  if (r < 0.8) return ' '.repeat(Math.floor(rand() * 3)) + s + '\t'.repeat(Math.floor(rand() * 2))
  // Near the item bound (192 characters, white space included).
  const total = 185 + Math.floor(rand() * 12)
  const left = rand() < 0.5
  const fill = Math.max(0, total - s.length)
  return left ? ' '.repeat(fill) + s : s + ' '.repeat(fill)
}
function header() {
  const n = 1 + Math.floor(rand() * 3)
  const items = []
  for (let k = 0; k < n; k++) items.push(pad(item()))
  return items.join(',')
}
const corpus = []
for (let k = 0; k < CASES; k++) corpus.push({ item: item(), header: header(), peer: rand() < 0.5 ? item() : pick(VALID) })

// ---- what is compared
function run(api) {
  const out = []
  const all = api.parseTrustProxy('true')
  const ranges = api.parseTrustProxy('10.0.0.0/8, 2001:db8::/32, fe80::/10, 1.2.3.4')
  const hops = api.parseTrustProxy('2')
  const safe = (f) => {
    try {
      return JSON.stringify(f())
    } catch (e) {
      return 'throws ' + (e.reason ?? e.name) + ': ' + String(e.message).slice(0, 160)
    }
  }
  for (const c of corpus) {
    const fwd = c.header.split(',').map((x) => `for="${x.replace(/["\\]/g, '')}"`).join(',')
    out.push([
      safe(() => api.canonicalizeIp(c.item)),
      safe(() => api.listEntries(c.header)),
      safe(() => api.listEntries(fwd, 'forwarded')),
      safe(() => api.resolveClientIp(all, '10.0.0.1', c.header)),
      safe(() => api.resolveClientIp(ranges, c.peer, c.header)),
      safe(() => api.resolveClientIp(hops, c.peer, c.header)),
      safe(() => api.resolveClient(ranges, { remoteAddress: '10.0.0.1', headers: { 'x-forwarded-for': c.header, host: c.item } })),
      safe(() => api.resolveClient(all, { remoteAddress: c.peer, headers: { forwarded: fwd } }, { header: 'forwarded' })),
      safe(() => api.resolveClientIp(all, c.peer, c.item, { header: 'x-real-ip' })),
      safe(() => api.parseTrustProxy(c.item).toString()),
      safe(() => api.parseTrustProxy(c.header).toJSON()),
      safe(() => api.isValidHost(c.item)),
    ])
  }
  return out
}
const NAMES = ['canonicalizeIp(item)', 'listEntries(header)', 'listEntries(forwarded)', 'resolveClientIp(all, 10.0.0.1, header)', 'resolveClientIp(ranges, peer, header)', 'resolveClientIp(2, peer, header)', 'resolveClient(ranges, xff + host)', 'resolveClient(all, forwarded)', 'resolveClientIp(x-real-ip)', 'parseTrustProxy(item)', 'parseTrustProxy(header)', 'isValidHost(item)']

async function bundle(srcDir, name) {
  const outfile = join(scratch, name + '.mjs')
  await build({ entryPoints: [join(srcDir, 'index.ts')], bundle: true, format: 'esm', platform: 'node', outfile, logLevel: 'silent' })
  return import(pathToFileURL(outfile).href + '?' + name)
}

const work = join(scratch, 'src')
cpSync(join(root, 'src'), work, { recursive: true })
const base = run(await bundle(work, 'base'))
const report = JSON.parse(readFileSync(reportPath, 'utf8'))
let told = 0
let same = 0
for (const [file, f] of Object.entries(report.files)) {
  if (filter && !file.includes(filter)) continue
  const source = f.source
  const lineStarts = [0]
  for (let k = 0; k < source.length; k++) if (source[k] === '\n') lineStarts.push(k + 1)
  const target = join(scratch, file)
  for (const m of f.mutants) {
    if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue
    const a = lineStarts[m.location.start.line - 1] + m.location.start.column - 1
    const b = lineStarts[m.location.end.line - 1] + m.location.end.column - 1
    // Stryker replaces a syntax node; as text, an expression needs parentheses to keep its place.
    const text = m.mutatorName === 'BlockStatement' || /^\s*(\{|case |default:)/.test(m.replacement) ? m.replacement : `(${m.replacement})`
    writeFileSync(target, source.slice(0, a) + text + source.slice(b))
    const label = `${file}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName} -> ${String(m.replacement).replace(/\s+/g, ' ').slice(0, 50)}`
    let api
    try {
      api = await bundle(work, 'm' + m.id)
    } catch {
      console.log(`COMPILE ${label}`)
      continue
    }
    let res
    try {
      res = run(api)
    } catch (e) {
      console.log(`TOLD    ${label}: throws ${e.message}`)
      told++
      continue
    }
    let diff
    outer: for (let k = 0; k < base.length; k++) {
      for (let j = 0; j < base[k].length; j++) {
        if (base[k][j] !== res[k][j]) {
          diff = { k, j }
          break outer
        }
      }
    }
    if (diff === undefined) {
      same++
      console.log(`SAME    ${label}`)
    } else {
      told++
      const c = corpus[diff.k]
      console.log(`TOLD    ${label}\n        ${NAMES[diff.j]} item=${JSON.stringify(c.item)} header=${JSON.stringify(c.header)} peer=${JSON.stringify(c.peer)}\n        was ${base[diff.k][diff.j].slice(0, 200)}\n        now ${res[diff.k][diff.j].slice(0, 200)}`)
    }
  }
  writeFileSync(target, source)
}
console.log(`${told} told apart, ${same} not told apart`)
rmSync(scratch, { recursive: true, force: true })
