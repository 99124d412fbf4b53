/**
 * `trust-proxy serve` as a real process on a free loopback port. Clients connect from chosen
 * 127.0.0.x source addresses (spec section 6): 127.0.0.9 plays the proxy (the only trusted
 * address), 127.0.0.20 a client that reaches the server directly.
 */
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { type IncomingHttpHeaders, request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type ServeProcess, ensureBuilt, freePort, runCliAsync, startServe } from './support/cli-run.js'
import { clientFrame, serverFrames } from './support/ws-frames.js'

const PROXY = '127.0.0.9'
const DIRECT = '127.0.0.20'
const MARKER = '198.51.100.77'

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

function get(
  target: { port: number } | { socketPath: string },
  path: string,
  opts: { from?: string; headers?: Record<string, string>; method?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...('port' in target ? { host: '127.0.0.1', port: target.port, localAddress: opts.from ?? DIRECT } : { socketPath: target.socketPath }),
        path,
        method: opts.method ?? 'GET',
        headers: opts.headers ?? {},
        agent: false,
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (d: string) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
      },
    )
    req.on('error', reject)
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')))
    req.end()
  })
}

async function getJson(port: number, path: string, opts: { from?: string; headers?: Record<string, string> } = {}) {
  const r = await get({ port }, path, { ...opts, headers: { Accept: 'application/json', ...opts.headers } })
  expect(r.status).toBe(200)
  expect(r.headers['content-type']).toMatch(/^application\/json/)
  return JSON.parse(r.body) as Record<string, any>
}

const codes = (report: Record<string, any>) => (report.findings as { code: string }[]).map((f) => f.code)

beforeAll(ensureBuilt)

describe('serve: HTTP answers', () => {
  let s: ServeProcess
  beforeAll(async () => {
    s = await startServe(['--trust-proxy', PROXY, '--ping-interval', '0.2'])
  })
  afterAll(async () => {
    await s?.stop()
  })

  it('a direct client is its own socket peer, with nothing to report', async () => {
    const r = await getJson(s.port, '/direct')
    expect(r).toMatchObject({ client: DIRECT, protocol: 'http', host: `127.0.0.1:${s.port}` })
    expect(r.request.peer.address).toBe(DIRECT)
    expect(r.trustProxy).toMatchObject({ kind: 'ranges', value: PROXY, ipHeader: 'x-forwarded-for' })
    expect(r.findings).toEqual([])
  })

  it('a direct client that forges forwarding headers is not believed, and it is reported', async () => {
    const r = await getJson(s.port, '/forged', {
      headers: { 'X-Forwarded-For': '6.6.6.6', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'evil.example' },
    })
    expect(r).toMatchObject({ client: DIRECT, protocol: 'http', host: `127.0.0.1:${s.port}` })
    expect(r.resolved.anomalies).toContain('forwarded-by-untrusted-peer')
    const f = r.findings.find((x: { code: string }) => x.code === 'peer-not-trusted')
    expect(f.setting).toContain(PROXY)
    expect(Object.keys(f.fixes)).toEqual(['nginx', 'apache', 'caddy', 'traefik'])
    expect(r.request.forwarding).toMatchObject({ 'X-Forwarded-For': '6.6.6.6', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'evil.example' })
  })

  it('through the trusted proxy: the client, protocol and host it forwarded', async () => {
    const r = await getJson(s.port, '/via-proxy', {
      from: PROXY,
      headers: { 'X-Forwarded-For': '6.6.6.6, 203.0.113.7', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'infram.example.com' },
    })
    expect(r).toMatchObject({ client: '203.0.113.7', protocol: 'https', host: 'infram.example.com' })
    expect(r.resolved).toMatchObject({ peer: PROXY, trustedHops: 1, source: 'x-forwarded-for' })
    expect(r.walk.map((w: { role: string }) => w.role)).toEqual(['proxy', 'client', 'ignored'])
    expect(r.walk[0]).toMatchObject({ matched: PROXY, trusted: true })
    expect(r.findings).toEqual([])
  })

  it('TRUST_PROXY missing the proxy: the client is recorded as the proxy, and the finding says so', async () => {
    const r = await getJson(s.port, '/wrong-proxy', { from: '127.0.0.10', headers: { 'X-Forwarded-For': '203.0.113.7' } })
    expect(r.client).toBe('127.0.0.10')
    expect(codes(r)).toContain('peer-not-trusted')
  })

  it('a trusted proxy that drops X-Forwarded-Proto: missing-forwarded-proto', async () => {
    const r = await getJson(s.port, '/no-proto', { from: PROXY, headers: { 'X-Forwarded-For': '203.0.113.7' } })
    expect(r.protocol).toBe('http')
    expect(codes(r)).toContain('missing-forwarded-proto')
  })

  it('serves HTML to browsers, with a nonce CSP and every request value escaped', async () => {
    const r = await get({ port: s.port }, '/page?x=<b>', {
      from: PROXY,
      headers: {
        Accept: 'text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8',
        'X-Forwarded-For': '<script>alert(1)</script>, 203.0.113.7',
        'X-Forwarded-Proto': 'https',
        'X-Real-IP': '"><img src=x onerror=alert(2)>',
      },
    })
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8')
    const csp = r.headers['content-security-policy'] as string
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1]!
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("connect-src 'self'")
    expect(r.body).toContain(`<script nonce="${nonce}">`)
    // the only script elements are the nonce'd one and the JSON data block
    expect(r.body.match(/<script\b/g)!.length).toBe(2)
    expect(r.body).not.toContain('<script>alert(1)')
    expect(r.body).not.toContain('<img src=x')
    expect(r.body).toContain('&#60;script&#62;alert(1)&#60;/script&#62;')
    expect(r.body).toContain('id="client-ip" data-ip="203.0.113.7"')
    const embedded = JSON.parse(/<script type="application\/json" id="report"[^>]*>([\s\S]*?)<\/script>/.exec(r.body)![1]!)
    expect(embedded.client).toBe('203.0.113.7')
    expect(embedded.request.forwarding['X-Real-IP']).toBe('"><img src=x onerror=alert(2)>')
    expect(r.headers['cache-control']).toBe('no-store')
  })

  it('a header padded with thousands of entries still answers, with the walk summarised', async () => {
    const padded = Array.from({ length: 1000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`).join(', ') + ', 203.0.113.7'
    const r = await getJson(s.port, '/padded', { from: PROXY, headers: { 'X-Forwarded-For': padded, 'X-Forwarded-Proto': 'https' } })
    expect(r.client).toBe('203.0.113.7')
    expect(r.walk.length).toBeLessThanOrEqual(40)
    expect(r.walk.at(-1)).toMatchObject({ role: 'ignored', raw: expect.stringMatching(/^\(\d+ more entries\)$/) })
  })

  it('?format=json answers JSON whatever Accept says; HEAD has no body', async () => {
    const r = await get({ port: s.port }, '/any/path?format=json', { headers: { Accept: 'text/html' } })
    expect(r.headers['content-type']).toMatch(/^application\/json/)
    expect(JSON.parse(r.body).request.path).toBe('/any/path?format=json')
    const head = await get({ port: s.port }, '/', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.body).toBe('')
  })

  it('never shows or logs cookies and credentials', async () => {
    const r = await get({ port: s.port }, '/secret', { headers: { Cookie: 'session=SECRET1', Authorization: 'Bearer SECRET2' } })
    expect(r.body).not.toMatch(/SECRET1|SECRET2/)
    await s.waitForAudit((l) => l.path === '/secret')
    expect(s.stdout()).not.toMatch(/SECRET1|SECRET2/)
  })

  describe('the forgery probe', () => {
    const probe = { 'X-Trust-Proxy-Probe': MARKER }
    it('refused when the proxy appends and TRUST_PROXY stops at it', async () => {
      const r = await getJson(s.port, '/', { from: PROXY, headers: { ...probe, 'X-Forwarded-For': `${MARKER}, 203.0.113.7`, 'X-Forwarded-Proto': 'https' } })
      expect(r.client).toBe('203.0.113.7')
      expect(r.probe).toEqual({ marker: MARKER, received: `${MARKER}, 203.0.113.7`, verdict: 'refused', safe: true })
      expect(r.findings).toEqual([])
    })

    it('believed when the proxy passes the header through without appending', async () => {
      const r = await getJson(s.port, '/', { from: PROXY, headers: { ...probe, 'X-Forwarded-For': MARKER, 'X-Forwarded-Proto': 'https' } })
      expect(r.client).toBe(MARKER)
      expect(r.probe).toMatchObject({ verdict: 'not-appended', safe: false })
      const f = r.findings.find((x: { code: string }) => x.code === 'header-not-appended')
      expect(f.severity).toBe('error')
      expect(f.fixes.nginx).toContain('proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;')
    })

    it('replaced when the proxy overwrites the header', async () => {
      const r = await getJson(s.port, '/', { from: PROXY, headers: { ...probe, 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https' } })
      expect(r.probe).toMatchObject({ verdict: 'replaced', safe: true })
      expect(codes(r)).toContain('header-replaced')
    })

    it('ignored when the peer is not trusted', async () => {
      const r = await getJson(s.port, '/', { headers: { ...probe, 'X-Forwarded-For': MARKER } })
      expect(r.client).toBe(DIRECT)
      expect(r.probe).toMatchObject({ verdict: 'ignored', safe: true })
    })
  })

  describe('the public URL the page reports', () => {
    it('https outside, http inside: http-behind-https', async () => {
      const r = await getJson(s.port, '/', { from: PROXY, headers: { 'X-Forwarded-For': '203.0.113.7', 'X-Trust-Proxy-Public-Url': 'https://infram.example.com/x' } })
      expect(codes(r)).toEqual(expect.arrayContaining(['http-behind-https', 'missing-forwarded-proto']))
      const ok = await getJson(s.port, '/', {
        from: PROXY,
        headers: { 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https', 'X-Trust-Proxy-Public-Url': 'https://infram.example.com/x' },
      })
      expect(ok.findings).toEqual([])
    })

    it('plain http on a public name: public-http with redirect fixes; not on loopback', async () => {
      const r = await getJson(s.port, '/', { from: PROXY, headers: { 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'http', 'X-Trust-Proxy-Public-Url': 'http://infram.example.com/' } })
      const f = r.findings.find((x: { code: string }) => x.code === 'public-http')
      expect(f.fixes.nginx).toContain('return 301 https://$host$request_uri;')
      const local = await getJson(s.port, '/', { headers: { 'X-Trust-Proxy-Public-Url': `http://127.0.0.1:${s.port}/` } })
      expect(codes(local)).not.toContain('public-http')
    })
  })

  it('prints one valid JSON audit line per request, with the resolved client', async () => {
    await getJson(s.port, '/audit-one', { from: PROXY, headers: { 'X-Forwarded-For': '203.0.113.99', 'X-Forwarded-Proto': 'https' } })
    await get({ port: s.port }, '/audit-two')
    const one = await s.waitForAudit((l) => l.path === '/audit-one')
    expect(one).toMatchObject({ event: 'http', method: 'GET', status: 200, peer: PROXY, client: '203.0.113.99', protocol: 'https', source: 'x-forwarded-for', trustedHops: 1, anomalies: [], findings: [] })
    expect(Number.isNaN(Date.parse(one.time as string))).toBe(false)
    const two = await s.waitForAudit((l) => l.path === '/audit-two')
    expect(two).toMatchObject({ peer: DIRECT, client: DIRECT, source: 'socket' })
    const lines = s.stdout().trim().split('\n')
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow()
    expect(lines.filter((l) => JSON.parse(l).path === '/audit-one')).toHaveLength(1)
    expect(s.stderr()).not.toMatch(/internal error/)
  })
})

describe('serve: the WebSocket check', () => {
  let s: ServeProcess
  beforeAll(async () => {
    s = await startServe(['--trust-proxy', PROXY, '--ping-interval', '0.2'])
  })
  afterAll(async () => {
    await s?.stop()
  })

  function open(id: string, from: string, headers: Record<string, string> = {}) {
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/.trust-proxy/ws?id=${id}`, { localAddress: from, headers })
    const messages: Record<string, any>[] = []
    ws.on('message', (d) => messages.push(JSON.parse(String(d))))
    const next = (pred: (m: Record<string, any>) => boolean, ms = 5000) =>
      new Promise<Record<string, any>>((resolve, reject) => {
        const t0 = Date.now()
        const poll = () => {
          const m = messages.find(pred)
          if (m) return resolve(m)
          if (Date.now() - t0 > ms) return reject(new Error('no message; got ' + JSON.stringify(messages)))
          setTimeout(poll, 20)
        }
        poll()
      })
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
    return { ws, messages, next, closed }
  }

  it('through the trusted proxy: same client, wss, and it stays open with pings', async () => {
    const c = open('through1', PROXY, { 'X-Forwarded-For': '203.0.113.50', 'X-Forwarded-Proto': 'https' })
    const hello = await c.next((m) => m.type === 'hello')
    expect(hello).toMatchObject({ client: '203.0.113.50', peer: PROXY, peerTrusted: true, throughProxy: true, protocol: 'wss', anomalies: [] })
    const tick = await c.next((m) => m.type === 'tick' && m.n >= 3)
    expect(tick.openMs).toBeGreaterThanOrEqual(400)
    c.ws.send(JSON.stringify({ type: 'echo', data: 'round trip' }))
    expect(await c.next((m) => m.type === 'echo')).toEqual({ type: 'echo', data: 'round trip' })
    c.ws.close(1000)
    expect(await c.closed).toBe(1000)
    const opened = await s.waitForAudit((l) => l.event === 'websocket' && String(l.path).includes('through1'))
    expect(opened).toMatchObject({ status: 101, client: '203.0.113.50', peer: PROXY })
    const closed = await s.waitForAudit((l) => l.event === 'websocket-close' && String(l.path).includes('through1'))
    expect(closed).toMatchObject({ closeCode: 1000, client: '203.0.113.50' })
    expect(closed.pings as number).toBeGreaterThanOrEqual(3)
    // the ws client answers the server's ping frames by itself
    expect(closed.pongs as number).toBeGreaterThanOrEqual(1)
    const status = await getJson(s.port, '/.trust-proxy/ws-status?id=through1')
    expect(status).toMatchObject({ seen: 'upgraded', finding: null })
  })

  it('direct: not through a proxy, the socket peer is the client', async () => {
    const c = open('direct1', DIRECT)
    const hello = await c.next((m) => m.type === 'hello')
    expect(hello).toMatchObject({ client: DIRECT, peerTrusted: false, throughProxy: false, protocol: 'ws' })
    c.ws.close()
    await c.closed
  })

  it('a forged header on a direct WebSocket is not believed', async () => {
    const c = open('forged1', DIRECT, { 'X-Forwarded-For': '6.6.6.6' })
    const hello = await c.next((m) => m.type === 'hello')
    expect(hello).toMatchObject({ client: DIRECT, peerTrusted: false, throughProxy: true })
    expect(hello.findings.map((f: { code: string }) => f.code)).toContain('peer-not-trusted')
    c.ws.close()
    await c.closed
  })

  it('a WebSocket request without its Upgrade header is detected as stripped by a proxy', async () => {
    const r = await get({ port: s.port }, '/.trust-proxy/ws?id=stripped1', { from: PROXY, headers: { 'X-Forwarded-For': '203.0.113.7' } })
    expect(r.status).toBe(426)
    expect(JSON.parse(r.body).finding.code).toBe('websocket-upgrade-stripped')
    const status = await getJson(s.port, '/.trust-proxy/ws-status?id=stripped1')
    expect(status.seen).toBe('plain-request')
    expect(status.finding.code).toBe('websocket-upgrade-stripped')
    expect(status.finding.fixes.nginx).toContain('proxy_set_header Upgrade $http_upgrade;')
    expect(status.finding.fixes.apache).toContain('upgrade=websocket')
    const never = await getJson(s.port, '/.trust-proxy/ws-status?id=neverseen')
    expect(never).toMatchObject({ seen: 'not-seen', finding: { code: 'websocket-not-reached' } })
  })

  describe('RFC 6455 on a raw socket', () => {
    function rawOpen(headers: Record<string, string>): Promise<{ sock: Socket; response: string; rest: Buffer }> {
      return new Promise((resolve, reject) => {
        const sock = connect({ host: '127.0.0.1', port: s.port, localAddress: DIRECT })
        let buf = Buffer.alloc(0)
        sock.on('error', reject)
        sock.on('connect', () => {
          const lines = Object.entries({ Host: `127.0.0.1:${s.port}`, ...headers }).map(([k, v]) => `${k}: ${v}`)
          sock.write(`GET /.trust-proxy/ws HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`)
        })
        const onData = (d: Buffer) => {
          buf = Buffer.concat([buf, d])
          const end = buf.indexOf('\r\n\r\n')
          if (end >= 0) {
            sock.off('data', onData)
            resolve({ sock, response: buf.subarray(0, end).toString('latin1'), rest: buf.subarray(end + 4) })
          }
        }
        sock.on('data', onData)
      })
    }

    const frame = clientFrame
    const frames = serverFrames

    const handshake = (key: string) => ({
      Upgrade: 'websocket',
      Connection: 'keep-alive, Upgrade',
      'Sec-WebSocket-Key': key,
      'Sec-WebSocket-Version': '13',
    })

    it('answers the RFC 6455 sample handshake with the RFC sample accept value', async () => {
      const { sock, response } = await rawOpen(handshake('dGhlIHNhbXBsZSBub25jZQ=='))
      expect(response).toMatch(/^HTTP\/1\.1 101 /)
      // RFC 6455 section 1.3
      expect(response).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=')
      sock.destroy()
    })

    it('reassembles a fragmented text message, answers pings, and completes a close', async () => {
      const key = randomBytes(16).toString('base64')
      const { sock, response, rest } = await rawOpen(handshake(key))
      const expected = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')
      expect(response).toContain(`Sec-WebSocket-Accept: ${expected}`)
      const f = frames(sock, rest)
      await f.wait((x) => x.opcode === 1 && JSON.parse(String(x.payload)).type === 'hello')
      const msg = Buffer.from(JSON.stringify({ type: 'echo', data: 'in two parts' }))
      sock.write(frame(0x1, msg.subarray(0, 10), { fin: false }))
      sock.write(frame(0x0, msg.subarray(10)))
      const echo = await f.wait((x) => x.opcode === 1 && JSON.parse(String(x.payload)).type === 'echo')
      expect(JSON.parse(String(echo.payload)).data).toBe('in two parts')
      sock.write(frame(0x9, Buffer.from('are you there')))
      const pong = await f.wait((x) => x.opcode === 0xa)
      expect(String(pong.payload)).toBe('are you there')
      sock.write(frame(0x8, Buffer.from([0x03, 0xe8])))
      const close = await f.wait((x) => x.opcode === 0x8)
      expect(close.payload.readUInt16BE(0)).toBe(1000)
      await f.ended
    })

    it('closes with 1002 on an unmasked client frame', async () => {
      const { sock, rest } = await rawOpen(handshake(randomBytes(16).toString('base64')))
      const f = frames(sock, rest)
      sock.write(frame(0x1, Buffer.from('{}'), { mask: false }))
      const close = await f.wait((x) => x.opcode === 0x8)
      expect(close.payload.readUInt16BE(0)).toBe(1002)
      await f.ended
    })

    it('closes with 1007 on invalid UTF-8', async () => {
      const { sock, rest } = await rawOpen(handshake(randomBytes(16).toString('base64')))
      const f = frames(sock, rest)
      sock.write(frame(0x1, Buffer.from([0xc3, 0x28])))
      const close = await f.wait((x) => x.opcode === 0x8)
      expect(close.payload.readUInt16BE(0)).toBe(1007)
      await f.ended
    })

    it('refuses a handshake it cannot accept, with 400', async () => {
      const { sock, response } = await rawOpen({ ...handshake(randomBytes(16).toString('base64')), 'Sec-WebSocket-Version': '7' })
      expect(response).toMatch(/^HTTP\/1\.1 400 /)
      expect(response).toContain('Sec-WebSocket-Version: 13')
      sock.destroy()
      const bad = await rawOpen(handshake('short'))
      expect(bad.response).toMatch(/^HTTP\/1\.1 400 /)
      bad.sock.destroy()
      await s.waitForAudit((l) => l.event === 'websocket' && l.status === 400)
    })
  })
})

describe('serve: process life', () => {
  it('SIGTERM closes open WebSockets with 1001 and exits 0', async () => {
    const s = await startServe(['--trust-proxy', PROXY])
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${s.port}/.trust-proxy/ws`, { localAddress: DIRECT })
      await new Promise((r, j) => ws.once('open', r).once('error', j))
      const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)))
      const code = await s.stop('SIGTERM')
      expect(await closed).toBe(1001)
      expect(code).toBe(0)
      expect(s.stderr()).toContain('SIGTERM, shutting down')
    } finally {
      await s.stop('SIGKILL')
    }
  })

  it('SIGINT exits 0 too', async () => {
    const s = await startServe([])
    await get({ port: s.port }, '/')
    expect(await s.stop('SIGINT')).toBe(0)
  })

  it('uses $TRUST_PROXY when --trust-proxy is absent', async () => {
    const s = await startServe([], { TRUST_PROXY: '1' })
    try {
      const r = await getJson(s.port, '/', { headers: { 'X-Forwarded-For': '203.0.113.7' } })
      expect(r.trustProxy).toMatchObject({ kind: 'hops', hops: 1 })
      expect(r.client).toBe('203.0.113.7')
      expect(s.stderr()).toContain('warning [hop-count]')
    } finally {
      await s.stop()
    }
  })

  it('a bad TRUST_PROXY stops it at start with exit 1 and the message', async () => {
    const port = await freePort()
    const r = await runCliAsync(['serve', '--listen', `127.0.0.1:${port}`], { TRUST_PROXY: '10.0.0.1,,10.0.0.2' })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('Invalid TRUST_PROXY entry "" at position 9')
    expect(r.stderr).not.toContain('listening')
    const r2 = await runCliAsync(['serve', '--listen', `127.0.0.1:${port}`, '--trust-proxy', 'nginx'])
    expect(r2.code).toBe(1)
    expect(r2.stderr).toContain('"nginx"')
  })

  it('an address in use exits 1', async () => {
    const s = await startServe([])
    try {
      const r = await runCliAsync(['serve', '--listen', `127.0.0.1:${s.port}`])
      expect(r.code).toBe(1)
      expect(r.stderr).toContain('in use')
    } finally {
      await s.stop()
    }
  })

  it.each([['--listen', 'nowhere'], ['--listen', '127.0.0.1:70000'], ['--ping-interval', '0'], ['--bogus'], ['extra']])(
    '%s %s is a usage error',
    async (...args) => {
      const r = await runCliAsync(['serve', ...args])
      expect(r.code).toBe(2)
      expect(r.stderr).toContain('trust-proxy serve')
    },
  )

  it('listens on a Unix socket, where TRUST_PROXY=unix trusts the proxy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trust-proxy-serve-'))
    const socketPath = join(dir, 'app.sock')
    const s = await startServe(['--trust-proxy', 'unix'], {}, `unix:${socketPath}`)
    try {
      const r = await get({ socketPath }, '/', { headers: { Accept: 'application/json', 'X-Forwarded-For': '203.0.113.8', 'X-Forwarded-Proto': 'https' } })
      const j = JSON.parse(r.body)
      expect(j).toMatchObject({ client: '203.0.113.8', protocol: 'https' })
      expect(j.resolved.peer).toBeNull()
      expect(j.walk[0]).toMatchObject({ matched: 'unix', trusted: true })
      expect(await s.stop()).toBe(0)
      expect(existsSync(socketPath)).toBe(false)
    } finally {
      await s.stop('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
