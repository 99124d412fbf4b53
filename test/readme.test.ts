/**
 * The README and every docs/*.md page stay true. Each fenced block carries a marker on the line
 * before it (docs/development.md, "How the docs stay true"), and each marker is held to its word:
 *
 * - `<!-- example: path -->`: the block is the file, byte for byte, and a test runs the file;
 * - `<!-- output: COMMAND -->`: the block is what COMMAND prints (`trust-proxy` is the built CLI),
 *   a line `...` standing for lines left out;
 * - `<!-- commands: test/file.test.ts -->`: every command of the shell block is in that test;
 * - `<!-- run by: test/file.test.ts -->`: that test reads the commands from this page and runs them;
 * - `<!-- rendered from test/proxies/templates/... -->`: checked by test/proxies-docs.test.ts;
 * - `<!-- not run: reason -->`: shown, not run, and the reason is given.
 *
 * Relative links point to files (and headings) that exist, and no page speaks of things a reader
 * cannot see. Below, the quick-start example is run and does what the README says.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CLI, ensureBuilt } from './support/cli-run.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const PAGES = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)]
const read = (f: string) => readFileSync(join(root, f), 'utf8')

interface Block {
  page: string
  line: number
  kind: string | undefined
  arg: string
  body: string
}

const MARKER = /^\s*<!-- (example|output|commands|run by|not run): (.*?) -->\s*$|^\s*<!-- (rendered from) (.*?) -->\s*$/

/** The fenced blocks of a page, with the marker on the line before each (if any). */
function blocksOf(page: string): Block[] {
  const lines = read(page).split('\n')
  const out: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[i]!)
    if (!open) continue
    const indent = open[1]!.length
    const body: string[] = []
    let j = i + 1
    while (j < lines.length && !/^\s*```\s*$/.test(lines[j]!)) body.push(lines[j++]!.slice(indent))
    let k = i - 1
    while (k >= 0 && lines[k]!.trim() === '') k--
    const m = k >= 0 ? MARKER.exec(lines[k]!) : null
    out.push({ page, line: i + 1, kind: m?.[1] ?? m?.[3], arg: m?.[2] ?? m?.[4] ?? '', body: body.length ? `${body.join('\n')}\n` : '' })
    i = j
  }
  return out
}

const BLOCKS = PAGES.flatMap(blocksOf)
const byKind = (kind: string) => BLOCKS.filter((b) => b.kind === kind).map((b) => [`${b.page}:${b.line}`, b] as const)
const TEST_SOURCES = readdirSync(join(root, 'test'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts'))
  .map((f) => read(join('test', f)))
/** The commands of the output markers: an example whose output is shown is run by this test. */
const OUTPUT_COMMANDS = BLOCKS.filter((b) => b.kind === 'output').map((b) => b.arg)

/** Splits a command line as a POSIX shell would for the simple forms the docs use (quotes, no expansion). */
function words(command: string): string[] {
  const out: string[] = []
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g
  for (const m of command.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]!)
  return out
}

/** `...` in the expected text stands for any number of lines. */
function matchesWithOmissions(actual: string, expected: string): boolean {
  const parts = expected.split(/^\.\.\.\n/m).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  return new RegExp(`^${parts.join('(?:.*\\n)*?')}$`).test(actual)
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-')
}

function anchorsOf(page: string): Set<string> {
  const seen = new Map<string, number>()
  const anchors = new Set<string>()
  let fenced = false
  for (const line of read(page).split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced
    const h = !fenced && /^#{1,6} (.+)$/.exec(line)
    if (!h) continue
    const base = slug(h[1]!)
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    anchors.add(n === 0 ? base : `${base}-${n}`)
  }
  return anchors
}

beforeAll(ensureBuilt, 180_000)

describe('README.md and docs/*.md', () => {
  it('have code blocks, and examples among them', () => {
    expect(PAGES).toContain('README.md')
    expect(byKind('example').length).toBeGreaterThan(0)
  })

  it.each(PAGES)('%s: every code block says how it is checked', (page) => {
    const unmarked = BLOCKS.filter((b) => b.page === page && b.kind === undefined).map((b) => `${page}:${b.line}`)
    expect(unmarked).toEqual([])
  })

  it.each(byKind('example'))('%s: the example is its file, byte for byte, and a test runs it', (_, b) => {
    expect(existsSync(join(root, b.arg)), b.arg).toBe(true)
    expect(read(b.arg)).toBe(b.body)
    const run = TEST_SOURCES.some((src) => src.includes(b.arg)) || OUTPUT_COMMANDS.some((c) => words(c).includes(b.arg))
    expect(run, `no test runs ${b.arg}`).toBe(true)
  })

  it.each(byKind('output'))('%s: the output shown is what the command prints', (_, b) => {
    const [cmd, ...args] = words(b.arg)
    expect(['trust-proxy', 'node'], b.arg).toContain(cmd)
    const argv = cmd === 'trust-proxy' ? [CLI, ...args] : args
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
    delete env.TRUST_PROXY
    delete env.FORCE_COLOR
    const r = spawnSync(process.execPath, argv, { cwd: root, env, encoding: 'utf8', timeout: 20_000 })
    const actual = r.stdout + r.stderr
    expect(matchesWithOmissions(actual, b.body), `${b.arg} printed:\n${actual}`).toBe(true)
  })

  it.each(byKind('commands'))('%s: every command shown is in the test that runs it', (_, b) => {
    expect(existsSync(join(root, b.arg)), b.arg).toBe(true)
    const source = read(b.arg)
    const commands = b.body
      .split('\n')
      .map((l) => l.replace(/\s+#.*$/, '').trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
    expect(commands.length).toBeGreaterThan(0)
    for (const c of commands) expect(source, `${b.arg} does not run: ${c}`).toContain(`'${c}'`)
  })

  it.each(byKind('rendered from'))('%s: the rendered config names a template that exists', (_, b) => {
    expect(existsSync(join(root, b.arg.replace(/ \(.*\)$/, '')))).toBe(true)
  })

  it.each(byKind('run by'))('%s: the test that runs the block reads it from this page', (_, b) => {
    expect(existsSync(join(root, b.arg)), b.arg).toBe(true)
    expect(read(b.arg)).toContain(b.page)
  })

  it.each(byKind('not run'))('%s: a block that is not run says why', (_, b) => {
    expect(b.arg.length).toBeGreaterThan(10)
  })

  it.each(PAGES)('%s: relative links point to files and headings that exist', (page) => {
    const text = read(page).replace(/```[\s\S]*?```/g, '')
    const broken: string[] = []
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!
      if (/^[a-z]+:/.test(target)) continue
      const [file, anchor] = target.split('#') as [string, string | undefined]
      const path = file === '' ? page : relative(root, resolve(root, dirname(page), file))
      if (!existsSync(join(root, path))) broken.push(`${target} (no file ${path})`)
      else if (anchor !== undefined && path.endsWith('.md') && !anchorsOf(path).has(anchor)) broken.push(`${target} (no heading #${anchor} in ${path})`)
    }
    expect(broken).toEqual([])
  })

  it.each(PAGES)('%s: speaks only of what a reader can see', (page) => {
    const text = read(page)
    for (const word of [/\bissue \d+/i, /\bthe spec\b/i, /shared machine/i, /\.\.\/shared\//, /\bspec\.md\b/]) {
      expect(text, String(word)).not.toMatch(word)
    }
  })

  it.each(PAGES)('%s: shows no command form that fails (npx with the package name fails in a clone)', (page) => {
    expect(read(page)).not.toMatch(/npx @infram\/trust-proxy|npx -p @infram/)
  })
})

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer()
    s.once('error', fail)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => done(port))
    })
  })
}

function get(port: number, headers: Record<string, string>, localAddress: string): Promise<Record<string, unknown>> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers, localAddress }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c) => (body += c))
      res.on('end', () => done(JSON.parse(body)))
    })
    req.on('error', fail)
    req.end()
  })
}

function start(env: Record<string, string>): { child: ChildProcess; output: Promise<{ code: number | null; out: string; err: string }>; ready: Promise<void> } {
  const child = spawn(process.execPath, ['examples/quick-start.mjs'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  const ready = new Promise<void>((done, fail) => {
    child.stdout!.on('data', (c) => {
      out += c
      if (out.includes('listening')) done()
    })
    child.once('exit', () => fail(new Error(`exited early: ${err}`)))
  })
  child.stderr!.on('data', (c) => (err += c))
  const output = new Promise<{ code: number | null; out: string; err: string }>((done) => child.once('exit', (code) => done({ code, out, err })))
  ready.catch(() => {})
  return { child, output, ready }
}

let running: ChildProcess | undefined
afterEach(() => {
  running?.kill()
  running = undefined
})

describe('examples/quick-start.mjs', () => {
  it('resolves the proxy’s client and ignores what the client forged', async () => {
    const port = await freePort()
    // 127.0.0.9 plays the proxy; 127.0.0.7 is a client connecting directly.
    const s = start({ PORT: String(port), TRUST_PROXY: '127.0.0.9/32' })
    running = s.child
    await s.ready
    const viaProxy = await get(port, { 'x-forwarded-for': '6.6.6.6, 203.0.113.5', 'x-forwarded-proto': 'https' }, '127.0.0.9')
    expect(viaProxy).toMatchObject({ ip: '203.0.113.5', peer: '127.0.0.9', protocol: 'https', trustedHops: 1, anomalies: [] })
    const direct = await get(port, { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https' }, '127.0.0.7')
    expect(direct).toMatchObject({ ip: '127.0.0.7', protocol: 'http', anomalies: ['forwarded-by-untrusted-peer'] })
  })

  it('stops at startup on a bad TRUST_PROXY, naming the entry', async () => {
    const s = start({ PORT: '1', TRUST_PROXY: 'loopback, 127.1' })
    const { code, err } = await s.output
    expect(code).toBe(1)
    expect(err).toContain('"127.1"')
  })

  it('prints the warnings of a value it accepts', async () => {
    const port = await freePort()
    const s = start({ PORT: String(port), TRUST_PROXY: 'yes' })
    running = s.child
    await s.ready
    s.child.kill()
    const { err } = await s.output
    expect(err).toMatch(/TRUST_PROXY: Every hop is trusted/)
  })
})
