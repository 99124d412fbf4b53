/**
 * The README stays true: every code block marked `<!-- example: path -->` is that file, byte
 * for byte, and the example files run and do what the README says.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const blocks = [...readme.matchAll(/<!-- example: (\S+) -->\n```\w*\n([\s\S]*?)```/g)].map((m) => [m[1]!, m[2]!] as const)

describe('README examples', () => {
  it('has examples', () => {
    expect(blocks.length).toBeGreaterThan(0)
  })
  it.each(blocks)('%s is the file shown', (path, code) => {
    expect(readFileSync(join(root, path), 'utf8')).toBe(code)
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
