/**
 * `trust-proxy serve` against hostile clients, over real loopback sockets: every attack of
 * issue 10, each bounded in count and in time (a few seconds), then all of them at once, while
 * a well-behaved client keeps asking for its page and its WebSocket echo.
 *
 * What must hold: the server stays up; its resident memory stays within MEMORY_BOUND_MB of what
 * it was before the attacks; each attacker gets at most a close or an error response; and the
 * well-behaved client is answered (a generous liveness bound, not a timing assertion). The
 * figures (memory, the well-behaved client's latency under each attack) are printed, written to
 * test-artifacts/serve-hostile.json, and with BENCH_WRITE=1 to bench/SERVE-HOSTILE.md.
 *
 * Attackers connect from their own 127.0.0.x addresses (the per-client WebSocket cap is about
 * resolved client IPs); 127.0.0.9 plays the trusted proxy.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { connect, type Socket } from 'node:net'
import os from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { ROOT, type ServeProcess, ensureBuilt, startServe } from './support/cli-run.js'
import { clientFrame, serverFrames } from './support/ws-frames.js'

/** The bound this suite asserts: RSS growth over the pre-attack baseline, in MB (measured on a 2-core Xeon: 23 MB with every attack at once). */
const MEMORY_BOUND_MB = 64
/** Liveness: the well-behaved client must be answered within this, under any attack. */
const LIVENESS_MS = 15_000
const PROXY = '127.0.0.9'
const GOOD_HTTP = '127.0.0.30'
const GOOD_WS = '127.0.0.31'
const WS_PATH = '/.trust-proxy/ws'

// The limits are the defaults except the timeouts, shortened so that each attack fits in seconds.
const ARGS = [
  '--trust-proxy', PROXY,
  '--ping-interval', '0.5',
  '--limit', 'header-timeout=1.5',
  '--limit', 'request-timeout=3',
  '--limit', 'keep-alive-timeout=1',
  '--limit', 'idle-timeout=4',
]

let s: ServeProcess
let baselineMb = 0
let peakMb = 0
let sampler: NodeJS.Timeout | undefined
const figures: { attack: string; detail: string; peakRssMb: number; good: { httpMs: number; wsMs: number }[] }[] = []

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? 0 : Number(m[1]) / 1024
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function httpGet(path: string, opts: { from: string; headers?: Record<string, string> }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: s.port, path, headers: { Accept: 'application/json', ...opts.headers }, localAddress: opts.from, agent: false },
      (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (d: string) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode!, body }))
      },
    )
    req.on('error', reject)
    req.setTimeout(LIVENESS_MS, () => req.destroy(new Error('no answer within the liveness bound')))
    req.end()
  })
}

/** The well-behaved client: its page (as JSON), then a WebSocket, its hello and an echo. */
async function wellBehaved(): Promise<{ httpMs: number; wsMs: number }> {
  const t0 = performance.now()
  const r = await httpGet('/', { from: GOOD_HTTP })
  expect(r.status).toBe(200)
  expect(JSON.parse(r.body).client).toBe(GOOD_HTTP)
  const t1 = performance.now()
  const ws = new WebSocket(`ws://127.0.0.1:${s.port}${WS_PATH}?id=good`, { localAddress: GOOD_WS, handshakeTimeout: LIVENESS_MS })
  try {
    const echoed = await new Promise<unknown>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no WebSocket echo within the liveness bound')), LIVENESS_MS)
      ws.on('error', reject)
      ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as { type: string; data?: unknown }
        if (m.type === 'hello') ws.send(JSON.stringify({ type: 'echo', data: 'still here' }))
        if (m.type === 'echo') {
          clearTimeout(t)
          resolve(m.data)
        }
      })
    })
    expect(echoed).toBe('still here')
  } finally {
    ws.terminate()
  }
  return { httpMs: performance.now() - t0 - (performance.now() - t1), wsMs: performance.now() - t1 }
}

/** Runs `attack` and the well-behaved client side by side; records the figures. */
async function underAttack(name: string, attack: () => Promise<string>): Promise<string> {
  await sleep(200)
  peakMb = rssMb(s.child.pid!)
  const good: { httpMs: number; wsMs: number }[] = []
  let done = false
  const running = attack().finally(() => (done = true))
  const probing = (async () => {
    // At least two answers, and one at least every half second while the attack runs.
    do {
      good.push(await wellBehaved())
      await sleep(100)
    } while (!done || good.length < 2)
  })()
  const [detail] = await Promise.all([running, probing])
  expect(s.child.exitCode, 'the server is still running').toBeNull()
  const row = { attack: name, detail, peakRssMb: peakMb, good }
  figures.push(row)
  const worst = Math.max(...good.map((g) => g.httpMs + g.wsMs))
  console.log(
    `[serve-hostile] ${name}: ${detail}; server RSS peak ${peakMb.toFixed(1)} MB (baseline ${baselineMb.toFixed(1)} MB); ` +
      `well-behaved client answered ${good.length}x, page+WebSocket worst ${worst.toFixed(0)} ms`,
  )
  expect(peakMb - baselineMb).toBeLessThan(MEMORY_BOUND_MB)
  return detail
}

// ---------------------------------------------------------------------------------------------
// A raw client: sockets and frames written by hand, to do what no well-behaved library would

function rawConnect(from: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port: s.port, localAddress: from })
    sock.once('connect', () => resolve(sock))
    sock.once('error', reject)
  })
}

const closed = (sock: Socket) => new Promise<void>((r) => (sock.destroyed ? r() : sock.once('close', () => r())))

/** Opens a WebSocket by hand; resolves with the socket and the bytes after the 101 response. */
async function rawWebSocket(from: string, path = WS_PATH): Promise<{ sock: Socket; status: string; rest: Buffer }> {
  const sock = await rawConnect(from)
  sock.on('error', () => {})
  const key = randomBytes(16).toString('base64')
  sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`)
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0)
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      const end = buf.indexOf('\r\n\r\n')
      if (end < 0) return
      sock.off('data', onData)
      resolve({ sock, status: buf.subarray(0, buf.indexOf('\r\n')).toString('latin1'), rest: buf.subarray(end + 4) })
    }
    sock.on('data', onData)
    sock.once('close', () => reject(new Error('closed before the handshake answer')))
  })
}

/** A masked client frame. */
const frame = (opcode: number, payload: Buffer, fin = true) => clientFrame(opcode, payload, { fin })

/** Server frames from a socket, collected as they arrive. */
const collectFrames = (sock: Socket, initial: Buffer) => serverFrames(sock, initial).got

const closeCode = (frames: { opcode: number; payload: Buffer }[]) => {
  const f = frames.find((x) => x.opcode === 0x8)
  return f === undefined ? undefined : f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null
}

/** Writes `chunk` over and over without reading, until the server cuts the connection or `ms` pass. */
async function floodWithoutReading(sock: Socket, chunk: Buffer, ms: number): Promise<{ sentMb: number; cut: boolean; ms: number }> {
  sock.pause() // never read: whatever the server sends piles up on its side
  const t0 = Date.now()
  let sent = 0
  let cut = false
  sock.once('close', () => (cut = true))
  sock.setMaxListeners(0)
  while (!cut && Date.now() - t0 < ms) {
    if (!sock.write(chunk)) await Promise.race([new Promise((r) => sock.once('drain', r)), sleep(50)])
    sent += chunk.length
    if (sent % (chunk.length * 16) === 0) await new Promise((r) => setImmediate(r))
  }
  const elapsed = Date.now() - t0
  sock.destroy()
  return { sentMb: sent / 1048576, cut, ms: elapsed }
}

// ---------------------------------------------------------------------------------------------
// The attacks

async function fragmentFlood(from: string): Promise<string> {
  const { sock, status, rest } = await rawWebSocket(from)
  expect(status).toMatch(/ 101 /)
  const frames = collectFrames(sock, rest)
  sock.write(frame(0x1, Buffer.from('{'), false))
  // Empty continuation frames, 6 bytes each: the attack that used to be kept without bound.
  const batch = Buffer.concat(Array.from({ length: 4096 }, () => frame(0x0, Buffer.alloc(0), false)))
  const t0 = Date.now()
  let sent = 0
  while (!sock.destroyed && Date.now() - t0 < 2000) {
    sock.write(batch)
    sent += batch.length
    await sleep(1)
  }
  await Promise.race([closed(sock), sleep(2000)])
  expect(sock.destroyed || sock.readableEnded).toBe(true)
  expect(closeCode(frames)).toBe(1008) // too many fragments
  sock.destroy()
  return `closed with 1008 after ${(sent / 1024).toFixed(0)} KB of empty fragments`
}

async function pingFlood(from: string): Promise<string> {
  const { sock, status } = await rawWebSocket(from)
  expect(status).toMatch(/ 101 /)
  const batch = Buffer.concat(Array.from({ length: 512 }, () => frame(0x9, randomBytes(125))))
  const r = await floodWithoutReading(sock, batch, 3000)
  expect(r.cut, 'a client that pings and never reads is disconnected').toBe(true)
  return `non-reading ping flood cut after ${r.sentMb.toFixed(1)} MB, ${r.ms} ms`
}

async function echoFlood(from: string): Promise<string> {
  const { sock, status } = await rawWebSocket(from)
  expect(status).toMatch(/ 101 /)
  const msg = frame(0x1, Buffer.from(JSON.stringify({ type: 'echo', data: 'x'.repeat(60_000) })))
  const r = await floodWithoutReading(sock, Buffer.concat([msg, msg, msg, msg]), 3000)
  expect(r.cut, 'a client that asks for echoes and never reads them is disconnected').toBe(true)
  return `non-reading echo flood cut after ${r.sentMb.toFixed(1)} MB, ${r.ms} ms`
}

async function oversized(from: string): Promise<string> {
  const codes: (number | null | undefined)[] = []
  for (const parts of [[100_000], [40_000, 40_000]]) {
    const { sock, rest } = await rawWebSocket(from)
    const frames = collectFrames(sock, rest)
    parts.forEach((n, k) => sock.write(frame(k === 0 ? 0x1 : 0x0, Buffer.alloc(n, 0x61), k === parts.length - 1)))
    await Promise.race([closed(sock), sleep(3000)])
    codes.push(closeCode(frames))
    sock.destroy()
  }
  expect(codes).toEqual([1009, 1009])
  return 'a 100 KB message and a 2 x 40 KB fragmented one: both closed with 1009'
}

async function badCloseCodes(from: string): Promise<string> {
  const replies: string[] = []
  for (const payload of [Buffer.from([0x03, 0xed]) /* 1005 */, Buffer.from([0, 0]) /* 0 */, Buffer.from([0x03, 0xee]) /* 1006 */, Buffer.from([0x03, 0xe7]) /* 999 */, Buffer.from([0x13, 0x88]) /* 5000 */, Buffer.from([0x03]) /* 1 byte */, Buffer.alloc(0)]) {
    const { sock, rest } = await rawWebSocket(from)
    const frames = collectFrames(sock, rest)
    sock.write(frame(0x8, payload))
    await Promise.race([closed(sock), sleep(3000)])
    const code = closeCode(frames)
    replies.push(`${payload.length === 2 ? payload.readUInt16BE(0) : payload.length === 0 ? 'none' : 'short'} -> ${code ?? 'none'}`)
    // RFC 6455 7.4: 1005, 1006 and 0 never go on the wire; a bad code is a protocol error.
    expect([1005, 1006, 0]).not.toContain(code)
    if (payload.length === 0) expect(code === null || code === 1000).toBe(true)
    else expect(code).toBe(1002)
    sock.destroy()
  }
  return `close codes answered: ${replies.join(', ')}`
}

async function otherPaths(from: string): Promise<string> {
  const seen: string[] = []
  for (const path of ['/', '/other', '/.trust-proxy/ws-status', '/.trust-proxy/ws/']) {
    const { sock, status } = await rawWebSocket(from, path)
    expect(status).toMatch(/^HTTP\/1\.1 404 /)
    await Promise.race([closed(sock), sleep(3000)])
    expect(sock.destroyed || sock.readableEnded, 'closed after the refusal').toBe(true)
    sock.destroy()
    seen.push(`${path} -> 404`)
  }
  return `upgrades elsewhere refused and closed: ${seen.join(', ')}`
}

async function idleConnections(count: number): Promise<string> {
  const t0 = Date.now()
  const socks: Socket[] = []
  for (let i = 0; i < count; i++) {
    const sock = await rawConnect(`127.0.0.${100 + (i % 100)}`)
    sock.on('error', () => {})
    sock.resume() // read (nothing comes), so that the server's close is seen
    socks.push(sock)
  }
  // Idle WebSockets too: opened, then silent (never a message, never a pong).
  const wsSocks: Socket[] = []
  for (let i = 0; i < 6; i++) {
    const { sock } = await rawWebSocket(`127.0.0.${200 + i}`)
    sock.resume()
    wsSocks.push(sock)
  }
  await Promise.race([Promise.all([...socks, ...wsSocks].map(closed)), sleep(8000)])
  const open = [...socks, ...wsSocks].filter((x) => !x.destroyed).length
  for (const x of [...socks, ...wsSocks]) x.destroy()
  expect(open, 'idle connections are closed by the header timeout, idle WebSockets by the pong timeout').toBe(0)
  return `${count} idle TCP connections and 6 silent WebSockets, all closed by the server within ${Date.now() - t0} ms`
}

async function slowloris(count: number): Promise<string> {
  const t0 = Date.now()
  const socks = await Promise.all(Array.from({ length: count }, (_, i) => rawConnect(`127.0.0.${60 + (i % 20)}`)))
  const answers: string[] = []
  for (const sock of socks) {
    sock.on('error', () => {})
    sock.setEncoding('latin1').on('data', (d: string) => answers.push(d.slice(0, 12)))
  }
  const text = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(200)
  for (let k = 0; k < text.length && socks.some((x) => !x.destroyed) && Date.now() - t0 < 6000; k++) {
    for (const sock of socks) if (!sock.destroyed) sock.write(text[k]!)
    await sleep(40)
  }
  await Promise.race([Promise.all(socks.map(closed)), sleep(3000)])
  const open = socks.filter((x) => !x.destroyed).length
  for (const x of socks) x.destroy()
  expect(open, 'slow headers are cut by the header timeout').toBe(0)
  expect(answers.every((a) => a.startsWith('HTTP/1.1 408'))).toBe(true)
  return `${count} connections sending headers a byte at a time: cut with 408 after ${Date.now() - t0} ms`
}

/** The padded header of the issue, in every header mode, from the trusted proxy and from a client. */
async function paddedHeaders(rounds: number): Promise<string> {
  const pad = 'a' + ' '.repeat(15_000) + 'b'
  const modes: [string, string, string][] = [
    ['x-forwarded-for', 'X-Forwarded-For', `${pad}, 203.0.113.7`],
    ['x-real-ip', 'X-Real-IP', pad],
    ['forwarded', 'Forwarded', `for=${pad}, for=203.0.113.7`],
    ['forwarded', 'Forwarded', `for="${pad}", for=203.0.113.7`],
  ]
  const times: number[] = []
  const jobs: Promise<void>[] = []
  for (let r = 0; r < rounds; r++) {
    for (const [, name, value] of modes) {
      for (const from of [PROXY, '127.0.0.41']) {
        jobs.push(
          (async () => {
            const t0 = performance.now()
            const res = await httpGet('/', { from, headers: { [name]: value, 'X-Forwarded-Proto': 'https' } })
            times.push(performance.now() - t0)
            expect(res.status).toBe(200)
          })(),
        )
      }
    }
  }
  // And past the 16 KiB header limit: refused with 431 before anything reads it.
  jobs.push(
    (async () => {
      const res = await httpGet('/', { from: '127.0.0.42', headers: { 'X-Forwarded-For': 'a' + ' '.repeat(17_000) + 'b' } })
      expect(res.status).toBe(431)
    })(),
  )
  await Promise.all(jobs)
  times.sort((a, b) => a - b)
  return `${times.length} padded ~15 KB headers (x-forwarded-for, x-real-ip, forwarded unquoted and quoted), in parallel: median ${times[times.length >> 1]!.toFixed(0)} ms, worst ${times.at(-1)!.toFixed(0)} ms; 17 KB refused with 431`
}

async function requestBodies(from: string): Promise<string> {
  const sock = await rawConnect(from)
  sock.on('error', () => {})
  let answer = ''
  sock.setEncoding('latin1').on('data', (d: string) => (answer += d))
  sock.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n')
  const t0 = Date.now()
  // Body chunks until the answer comes (a client that kept writing into a closed connection
  // would get a reset, which can discard the answer before it is read).
  while (!sock.destroyed && answer === '' && Date.now() - t0 < 3000) {
    sock.write('4000\r\n' + 'x'.repeat(0x4000) + '\r\n')
    await sleep(20)
  }
  await Promise.race([closed(sock), sleep(2000)])
  expect(answer).toMatch(/^HTTP\/1\.1 413 /)
  expect(sock.destroyed || sock.readableEnded).toBe(true)
  sock.destroy()
  return 'an endless chunked body: 413 and the connection closed'
}

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  if (os.platform() !== 'linux') return
  await ensureBuilt()
  s = await startServe(ARGS)
  // Warm up (the first page, the first WebSocket), then take the baseline.
  for (let i = 0; i < 3; i++) await wellBehaved()
  await sleep(300)
  baselineMb = rssMb(s.child.pid!)
  peakMb = baselineMb
  sampler = setInterval(() => {
    if (s.child.exitCode === null) peakMb = Math.max(peakMb, rssMb(s.child.pid!))
  }, 50)
})

afterAll(async () => {
  if (sampler !== undefined) clearInterval(sampler)
  if (s === undefined) return
  const stderr = s.stderr()
  await s.stop()
  expect(stderr).not.toMatch(/internal error|heap out of memory/i)
  const report = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    memoryBoundMb: MEMORY_BOUND_MB,
    baselineRssMb: Number(baselineMb.toFixed(1)),
    attacks: figures.map((f) => {
      const lat = f.good.map((g) => g.httpMs + g.wsMs).sort((a, b) => a - b)
      return { attack: f.attack, detail: f.detail, peakRssMb: Number(f.peakRssMb.toFixed(1)), goodAnswers: lat.length, goodMedianMs: Math.round(lat[lat.length >> 1]!), goodWorstMs: Math.round(lat.at(-1)!) }
    }),
  }
  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true })
  writeFileSync(join(ROOT, 'test-artifacts', 'serve-hostile.json'), JSON.stringify(report, null, 2) + '\n')
  if (process.env.BENCH_WRITE === '1') writeFileSync(join(ROOT, 'bench', 'SERVE-HOSTILE.md'), markdown(report))
})

function markdown(r: { cpu: string; node: string; memoryBoundMb: number; baselineRssMb: number; attacks: { attack: string; detail: string; peakRssMb: number; goodAnswers: number; goodMedianMs: number; goodWorstMs: number }[] }): string {
  const lines = [
    '# trust-proxy serve under attack',
    '',
    `Written by \`BENCH_WRITE=1 npx vitest run test/serve-hostile.test.ts\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
    `${r.cpu}, ${os.availableParallelism?.() ?? os.cpus().length} cores (shared); Node ${r.node}. One \`serve\` process on loopback; the attackers and the`,
    'well-behaved client run in the test process. "Well-behaved" is one page request (JSON) then a new WebSocket,',
    'its hello and one echo, repeated while the attack runs. Memory is the server\'s resident set (VmRSS), sampled every 50 ms.',
    '',
    `Baseline RSS ${r.baselineRssMb} MB; the suite asserts growth under ${r.memoryBoundMb} MB.`,
    '',
    '| attack | what happened | server RSS peak MB | well-behaved answers | page + WebSocket median ms | worst ms |',
    '|---|---|--:|--:|--:|--:|',
    ...r.attacks.map((a) => `| ${a.attack} | ${a.detail} | ${a.peakRssMb} | ${a.goodAnswers} | ${a.goodMedianMs} | ${a.goodWorstMs} |`),
    '',
  ]
  return lines.join('\n')
}

describe.skipIf(os.platform() !== 'linux')('serve under attack (memory read from /proc)', () => {
  it('fragment flood: empty continuation frames', () => underAttack('fragment flood', () => fragmentFlood('127.0.0.51')))
  it('ping flood from a client that never reads', () => underAttack('non-reading ping flood', () => pingFlood('127.0.0.52')))
  it('echo flood from a client that never reads', () => underAttack('non-reading echo flood', () => echoFlood('127.0.0.53')))
  it('oversized messages', () => underAttack('oversized messages', () => oversized('127.0.0.54')))
  it('bad close codes are never echoed', () => underAttack('bad close codes', () => badCloseCodes('127.0.0.55')))
  it('upgrades on other paths get a clean 404 and a close', () => underAttack('upgrades on other paths', () => otherPaths('127.0.0.56')))
  it('many idle connections', () => underAttack('many idle connections', () => idleConnections(300)))
  it('slowloris headers', () => underAttack('slowloris headers', () => slowloris(60)))
  it('padded 16 KB headers in every header mode', () => underAttack('padded 16 KB headers', () => paddedHeaders(3)))
  it('request bodies', () => underAttack('endless request body', () => requestBodies('127.0.0.57')))

  it('all of them at once', () =>
    underAttack('all at once', async () => {
      const results = await Promise.all([
        fragmentFlood('127.0.0.51'),
        pingFlood('127.0.0.52'),
        echoFlood('127.0.0.53'),
        oversized('127.0.0.54'),
        badCloseCodes('127.0.0.55'),
        otherPaths('127.0.0.56'),
        idleConnections(200),
        slowloris(40),
        paddedHeaders(2),
        requestBodies('127.0.0.57'),
      ])
      return `${results.length} attacks together, each refused or disconnected as above`
    }))
})
