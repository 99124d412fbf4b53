/**
 * The caps of `trust-proxy serve` (connections, WebSockets in all and per client) and the
 * `--limit` option: what is refused, with what answer, and that the server serves others again
 * once the holders are gone. (test/serve-hostile.test.ts covers the timeouts and the WebSocket
 * protocol limits under attack.)
 */
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { ROOT, type ServeProcess, ensureBuilt, runCliAsync, startServe } from './support/cli-run.js'

const WS_PATH = '/.trust-proxy/ws'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function get(port: number, from: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { Accept: 'application/json' }, localAddress: from, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode!))
    })
    req.on('error', reject)
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')))
    req.end()
  })
}

/** Opens a WebSocket; resolves with it once open, or with the HTTP status that refused it. */
function openWs(port: number, from: string): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${WS_PATH}`, { localAddress: from })
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode!)
      res.resume()
    })
    ws.once('error', reject)
  })
}

beforeAll(ensureBuilt)

describe('serve: the WebSocket caps', () => {
  let s: ServeProcess
  beforeAll(async () => {
    s = await startServe(['--trust-proxy', '127.0.0.9', '--limit', 'max-websockets=4', '--limit', 'max-websockets-per-client=2'])
  })
  afterAll(async () => {
    await s?.stop()
  })

  it('per client IP, then in all: 429, then 503; a closed session frees its place', async () => {
    const a1 = await openWs(s.port, '127.0.0.21')
    const a2 = await openWs(s.port, '127.0.0.21')
    expect(await openWs(s.port, '127.0.0.21')).toBe(429)
    const b1 = await openWs(s.port, '127.0.0.22')
    const b2 = await openWs(s.port, '127.0.0.22')
    expect(await openWs(s.port, '127.0.0.23')).toBe(503)
    const refused = await s.waitForAudit((l) => l.status === 429)
    expect(refused).toMatchObject({ event: 'websocket', client: '127.0.0.21', error: expect.stringContaining('too many WebSockets open from 127.0.0.21') })
    ;(a1 as WebSocket).close()
    await new Promise((r) => (a1 as WebSocket).once('close', r))
    await s.waitForAudit((l) => l.event === 'websocket-close' && l.client === '127.0.0.21')
    const c1 = await openWs(s.port, '127.0.0.23')
    expect(c1).toBeInstanceOf(WebSocket)
    for (const w of [a2, b1, b2, c1]) (w as WebSocket).terminate()
  })

  it('the per-client cap counts the resolved client: behind the trusted proxy, each forwarded client has its own', async () => {
    const open = (client: string) =>
      new Promise<WebSocket | number>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${s.port}${WS_PATH}`, { localAddress: '127.0.0.9', headers: { 'X-Forwarded-For': client } })
        ws.once('open', () => resolve(ws))
        ws.once('unexpected-response', (_q, res) => resolve(res.statusCode!))
        ws.once('error', reject)
      })
    await sleep(100)
    const x = [await open('203.0.113.1'), await open('203.0.113.1'), await open('203.0.113.2')]
    expect(x.map((w) => (typeof w === 'number' ? w : 'open'))).toEqual(['open', 'open', 'open'])
    expect(await open('203.0.113.1')).toBe(429)
    for (const w of x) (w as WebSocket).terminate()
  })
})

describe('serve: the connection cap', () => {
  let s: ServeProcess
  beforeAll(async () => {
    s = await startServe(['--limit', 'max-connections=20', '--limit', 'header-timeout=30', '--limit', 'request-timeout=30'])
  })
  afterAll(async () => {
    await s?.stop()
  })

  it('past max-connections a new connection is closed at once; when the holders go, others are served', async () => {
    const held: Socket[] = []
    for (let i = 0; i < 20; i++) {
      const sock = connect({ host: '127.0.0.1', port: s.port, localAddress: '127.0.0.24' })
      sock.on('error', () => {})
      sock.resume()
      await new Promise((r) => sock.once('connect', r))
      held.push(sock)
    }
    await sleep(200)
    await expect(get(s.port, '127.0.0.25')).rejects.toThrow(/socket hang up|ECONNRESET/)
    // The server's warning reaches our end of its stderr pipe a moment after the refusal.
    for (let i = 0; i < 40 && !s.stderr().includes('20 connections open'); i++) await sleep(50)
    expect(s.stderr()).toContain('20 connections open (max-connections)')
    for (const sock of held) sock.destroy()
    await sleep(200)
    expect(await get(s.port, '127.0.0.25')).toBe(200)
  })
})

describe('serve: --limit', () => {
  it.each([
    [['--limit', 'max-nothing=3'], /--limit takes NAME=VALUE with NAME one of max-connections, /],
    [['--limit', 'max-connections'], /--limit takes NAME=VALUE/],
    [['--limit', 'max-connections=0'], /max-connections takes a whole number from 1 to 100000, got "0"/],
    [['--limit', 'max-message=1.5'], /max-message takes a whole number/],
    [['--limit', 'header-timeout=-1'], /header-timeout takes seconds from 0.1 to 3600/],
    [['--limit', 'header-timeout=40'], /request-timeout cannot be shorter than header-timeout/],
  ])('%j is a usage error', async (args, message) => {
    const r = await runCliAsync(['serve', '--listen', '127.0.0.1:1', ...args])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(message)
  })

  it('--help lists every limit with its default', async () => {
    const r = await runCliAsync(['serve', '--help'])
    expect(r.code).toBe(0)
    for (const line of ['max-connections=512', 'max-websockets=128', 'max-websockets-per-client=8', 'max-message=65536', 'max-buffered=1048576', 'header-timeout=10', 'request-timeout=30', 'keep-alive-timeout=5', 'idle-timeout=120']) {
      expect(r.stdout).toContain(line)
    }
  })
})

describe('docs/serve-limits.md: its programs, run', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'serve-limits.md'), 'utf8')
  const run = (file: string, args: string[] = []) => spawnSync(process.execPath, [join(ROOT, file), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 })

  it('each marked code block is its example file, byte for byte', () => {
    const marked = [...doc.matchAll(/<!-- example: (\S+) -->\n```\w*\n([\s\S]*?)```\n/g)]
    expect(marked.map((m) => m[1])).toEqual(['examples/serve-limits/check-limits.mjs', 'examples/serve-limits/trace-client.mjs'])
    for (const [, file, body] of marked) expect(body).toBe(readFileSync(join(ROOT, file!), 'utf8'))
  })

  it('check-limits.mjs passes every check against a running serve (and fails against a server that refuses nothing)', async () => {
    const s = await startServe([])
    try {
      const r = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const child = spawn(process.execPath, [join(ROOT, 'examples/serve-limits/check-limits.mjs'), s.url], { cwd: ROOT })
        let stdout = ''
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
        child.once('close', (code) => resolve({ code, stdout }))
      })
      expect(r.stdout.trim().split('\n')).toEqual([
        'ok   a request body is refused: 413',
        'ok   headers over 16 KiB are refused: 431',
        'ok   a WebSocket elsewhere than /.trust-proxy/ws is refused: HTTP 404',
        'ok   a WebSocket message over 64 KiB closes the connection: close 1009',
      ])
      expect(r.code).toBe(0)
    } finally {
      await s.stop()
    }
    // The checks can fail: a plain server that answers 200 to everything fails them.
    const plain = createServer((_q, res) => res.end('ok')).listen(0, '127.0.0.1')
    await new Promise((r) => plain.once('listening', r))
    try {
      const port = (plain.address() as { port: number }).port
      const r = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const child = spawn(process.execPath, [join(ROOT, 'examples/serve-limits/check-limits.mjs'), `http://127.0.0.1:${port}`], { cwd: ROOT })
        let stdout = ''
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
        child.once('close', (code) => resolve({ code, stdout }))
      })
      expect(r.stdout).toContain('FAIL a request body is refused: 200 (expected 413)')
      expect(r.code).toBe(1)
    } finally {
      plain.close()
    }
  })

  it('trace-client.mjs prints what the page says it prints', () => {
    const r = run('examples/serve-limits/trace-client.mjs')
    expect(r.status).toBe(0)
    const shown = /It prints:\n\n(?:<!-- [^\n]* -->\n)?```text\n([\s\S]*?)```/.exec(doc)![1]
    expect(r.stdout).toBe(shown)
  })
})
