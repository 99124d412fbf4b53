/**
 * `trust-proxy serve`: a diagnostic server to run in the app's place behind the real proxy.
 *
 * Every path answers with what the app would see for that request (HTML for a browser, JSON
 * for `Accept: application/json`), the page checks a WebSocket through the same proxy, and every
 * request prints one JSON audit line on stdout: exactly the record an app like Infram writes,
 * so an operator can compare it with the client they know they are.
 *
 * It is plain HTTP on loopback by default, like the app it stands in for: TLS is the proxy's job.
 */
import { parseArgs } from 'node:util'
import { randomBytes } from 'node:crypto'
import { type IncomingMessage, STATUS_CODES, type ServerResponse, createServer } from 'node:http'
import type { Duplex } from 'node:stream'
import { listenerWarning } from '../adapters/listener.js'
import { type ServerOptions as WebSocketServerOptions, type WebSocket, WebSocketServer } from 'ws'
import { type TrustPolicy, TrustProxyError, parseTrustProxy } from '../index.js'
import { type Analysis, analyse, displayName } from './diagnose.js'
import { describePolicy } from './explain.js'
import { shellValue, standaloneFinding } from './fixes.js'
import { type Report, renderPage, reportJson } from './page.js'
import { ipHeaderOption } from './resolve.js'
import { type Style, printable } from './style.js'
import { EXIT_INVALID, EXIT_OK, HELP_OPTION, UsageError, err, out, parsing } from './usage.js'
import { enableProxyProtocol, injectProxyProtocolSection, proxyProtocolAudit, requestInput, withProxyProtocol } from './proxy-protocol.js'

const WS_PATH = '/.trust-proxy/ws'
const WS_STATUS_PATH = '/.trust-proxy/ws-status'
/** Upper bound on remembered WebSocket attempts (for the page's failure diagnosis). */
const MAX_TRACKED = 1000
const MAX_LOGGED_PATH = 256

// ---------------------------------------------------------------------------------------------
// Limits

/**
 * Everything a client can make `serve` hold or wait for, bounded. The README tells operators
 * to open this server at their site's public address, unauthenticated: each bound is what one
 * hostile client gets at most (see docs/serve-limits.md).
 */
export interface ServeLimits {
  /** TCP connections at once, HTTP and WebSocket together; one more is closed at once. */
  maxConnections: number
  /** WebSocket sessions at once, and per client IP (as resolved: behind a proxy, the client's). */
  maxWebSockets: number
  maxWebSocketsPerClient: number
  /** The largest WebSocket message, in bytes, however it is fragmented (ws `maxPayload`). */
  maxMessage: number
  /** Bytes queued for a WebSocket client that does not read; past this it is disconnected. */
  maxBuffered: number
  /** Seconds to send the request headers (slowloris), and the whole request. */
  headerTimeout: number
  requestTimeout: number
  /** Seconds an idle keep-alive HTTP connection stays open. */
  keepAliveTimeout: number
  /** Seconds a WebSocket may go without a message from the client (the page sends one per ping). */
  idleTimeout: number
}

export const DEFAULT_LIMITS: Readonly<ServeLimits> = Object.freeze({
  maxConnections: 512,
  maxWebSockets: 128,
  maxWebSocketsPerClient: 8,
  maxMessage: 64 * 1024,
  maxBuffered: 1024 * 1024,
  headerTimeout: 10,
  requestTimeout: 30,
  keepAliveTimeout: 5,
  idleTimeout: 120,
})

/** `--limit` names, their keys, what they are, and the range accepted. */
const LIMITS: readonly { name: string; key: keyof ServeLimits; unit: 'count' | 'bytes' | 'seconds'; min: number; max: number; what: string }[] = [
  { name: 'max-connections', key: 'maxConnections', unit: 'count', min: 1, max: 100_000, what: 'TCP connections at once (HTTP and WebSocket)' },
  { name: 'max-websockets', key: 'maxWebSockets', unit: 'count', min: 1, max: 100_000, what: 'WebSocket sessions at once' },
  { name: 'max-websockets-per-client', key: 'maxWebSocketsPerClient', unit: 'count', min: 1, max: 100_000, what: 'WebSocket sessions per client IP' },
  { name: 'max-message', key: 'maxMessage', unit: 'bytes', min: 1024, max: 16 * 1024 * 1024, what: 'largest WebSocket message' },
  { name: 'max-buffered', key: 'maxBuffered', unit: 'bytes', min: 16 * 1024, max: 256 * 1024 * 1024, what: 'unread bytes queued for a WebSocket client' },
  { name: 'header-timeout', key: 'headerTimeout', unit: 'seconds', min: 0.1, max: 3600, what: 'to send the request headers' },
  { name: 'request-timeout', key: 'requestTimeout', unit: 'seconds', min: 0.1, max: 3600, what: 'to send a whole request' },
  { name: 'keep-alive-timeout', key: 'keepAliveTimeout', unit: 'seconds', min: 0.1, max: 3600, what: 'an idle keep-alive connection stays open' },
  { name: 'idle-timeout', key: 'idleTimeout', unit: 'seconds', min: 0.1, max: 86_400, what: 'a WebSocket may go without a client message' },
]

function limitsHelp(): string {
  return LIMITS.map((l) => `  ${(l.name + '=' + DEFAULT_LIMITS[l.key]).padEnd(32)} ${l.unit === 'seconds' ? 'seconds ' : l.unit === 'bytes' ? 'bytes: ' : ''}${l.what}`).join('\n') + '\n'
}

/** `--limit NAME=VALUE` options on top of the defaults. */
export function parseLimits(values: readonly string[]): ServeLimits {
  const limits: ServeLimits = { ...DEFAULT_LIMITS }
  for (const v of values) {
    const eq = v.indexOf('=')
    const l = LIMITS.find((x) => x.name === v.slice(0, Math.max(0, eq)))
    if (l === undefined) {
      throw new UsageError(`--limit takes NAME=VALUE with NAME one of ${LIMITS.map((x) => x.name).join(', ')}; got ${JSON.stringify(v)}`, 'serve')
    }
    const text = v.slice(eq + 1)
    const n = /^[0-9]+(?:\.[0-9]+)?$/.test(text) ? Number(text) : NaN
    if (!(n >= l.min && n <= l.max) || (l.unit !== 'seconds' && !Number.isInteger(n))) {
      throw new UsageError(`--limit ${l.name} takes ${l.unit === 'seconds' ? 'seconds' : 'a whole number'} from ${l.min} to ${l.max}, got ${JSON.stringify(text)}`, 'serve')
    }
    limits[l.key] = n
  }
  if (limits.requestTimeout < limits.headerTimeout) {
    throw new UsageError('--limit request-timeout cannot be shorter than header-timeout (the headers are part of the request)', 'serve')
  }
  return limits
}

/** Node's default, stated: the request line and headers together, at most 16 KiB. */
const MAX_HEADER_SIZE = 16 * 1024
/** Fragments of one WebSocket message (the page never fragments: its messages are small). */
const MAX_FRAGMENTS = 1024
/** Chunks ws may hold from one WebSocket before it has parsed them. */
const MAX_BUFFERED_CHUNKS = 4096
/** Pings from a client awaiting their pong: a client that pings and does not read is cut here. */
const MAX_PENDING_PONGS = 16
/** How long a WebSocket closing handshake may take before the socket is simply destroyed. */
const CLOSE_TIMEOUT_MS = 2000

export const SERVE_HELP = `Usage: trust-proxy serve [--listen 127.0.0.1:6989] [--trust-proxy V] [--ip-header NAME]
                         [--ping-interval SECONDS] [--limit NAME=VALUE]... [--proxy-protocol]

A diagnostic server to run in the app's place behind your proxy (nginx, Apache, Caddy,
Traefik). Open the site's public address in a browser: the page shows the socket peer, the
forwarding headers received, the client IP, protocol and host the app resolves, each problem
with its likely cause and a fix for each proxy, and whether a WebSocket opens through the
proxy, carries the same client IP and stays open. Any path answers; send
"Accept: application/json" (or add ?format=json) for the report as JSON.

Each request prints one JSON audit line on stdout; messages go to stderr.
Stops cleanly on Ctrl-C (SIGINT) or SIGTERM.

Options:
  --listen ADDR          where to listen: HOST:PORT, [IPv6]:PORT, PORT (on 127.0.0.1), or
                         unix:/path/to.sock (default 127.0.0.1:6989, Infram's address)
  --trust-proxy V        the TRUST_PROXY value (default: the TRUST_PROXY environment variable)
  --ip-header NAME       the header that carries the client address: x-forwarded-for
                         (default), forwarded, or a single-address header such as x-real-ip
  --ping-interval SECS   how often the WebSocket check pings (default 5); a WebSocket that
                         has not answered a ping by the next one is closed
  --limit NAME=VALUE     change one of the limits below (repeat for more)
  --proxy-protocol       read a PROXY protocol (v1 or v2) header at the start of each
                         connection, as behind HAProxy send-proxy, nginx stream or an AWS
                         NLB; connections from peers TRUST_PROXY does not trust are refused,
                         and the page shows whether the header arrived and what it said
  -h, --help             show this help

Limits (what a client can make the server hold; past them it is refused or disconnected):
${limitsHelp()}
Refused always: request bodies (413), headers over 16 KiB in all (431), WebSocket upgrades
on any path but /.trust-proxy/ws (404), WebSocket messages over max-message (close 1009).

Exit status: 0 after a clean shutdown, 1 invalid TRUST_PROXY or cannot listen, 2 usage error.
`


export type Listen = { host: string; port: number } | { path: string }

export function parseListen(v: string): Listen {
  const unix = /^unix:(.+)$/.exec(v)
  if (unix !== null) return { path: unix[1]! }
  const m = /^(?:\[([0-9A-Fa-f:.]+(?:%[\w.~-]+)?)\]:|([^:[\]]+):|)([0-9]{1,5})$/.exec(v)
  const port = m === null ? NaN : Number(m[3])
  if (m === null || port > 65535) {
    throw new UsageError(`--listen takes HOST:PORT, [IPv6]:PORT, PORT or unix:/path, got ${JSON.stringify(v)}`, 'serve')
  }
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port }
}

function listenUrl(addr: ReturnType<ReturnType<typeof createServer>['address']>): string {
  if (addr === null) return '(unknown)'
  if (typeof addr === 'string') return `unix:${addr}`
  const host = addr.family === 'IPv6' || addr.family === (6 as unknown) ? `[${addr.address}]` : addr.address
  return `http://${host}:${addr.port}`
}

function pathOf(url: string): { path: string; query: URLSearchParams } {
  const q = url.indexOf('?')
  return { path: q < 0 ? url : url.slice(0, q), query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)) }
}

function wantsJson(req: IncomingMessage, query: URLSearchParams): boolean {
  if (query.get('format') === 'json') return true
  const accept = (req.headers.accept ?? '').toLowerCase()
  return accept.includes('application/json') && !accept.includes('text/html')
}

/** The audit record of one request: what an app's audit log would say about it. */
function auditRecord(event: string, req: IncomingMessage, status: number, a: Analysis | undefined): Record<string, unknown> {
  const path = req.url ?? ''
  return {
    time: new Date().toISOString(),
    event,
    method: req.method ?? null,
    path: path.length > MAX_LOGGED_PATH ? path.slice(0, MAX_LOGGED_PATH) + '...' : path,
    status,
    peer: a?.resolved.peer ?? req.socket.remoteAddress ?? null,
    client: a?.resolved.client ?? null,
    protocol: a?.resolved.protocol ?? null,
    host: a?.resolved.host ?? null,
    source: a?.resolved.source ?? null,
    trustedHops: a?.resolved.trustedHops ?? null,
    anomalies: a?.resolved.anomalies ?? [],
    findings: a?.findings.map((f) => f.code) ?? [],
    probe: a?.probe?.verdict ?? null,
    ...proxyProtocolAudit(req.socket),
  }
}

function audit(record: Record<string, unknown>): void {
  out(JSON.stringify(record))
}

/** What the report says about the policy: the same for every request, so built once. */
type PolicyView = Report['trustProxy']

function policyView(policy: TrustPolicy, header: string): PolicyView {
  return { ...policy.toJSON(), meaning: describePolicy(policy, displayName(header)), ipHeader: header }
}

function buildReport(view: PolicyView, req: IncomingMessage, a: Analysis, pingSeconds: number): Report {
  return {
    version: 1,
    trustProxy: view,
    request: {
      method: req.method ?? '',
      path: req.url ?? '',
      httpVersion: req.httpVersion,
      peer: { address: a.resolved.peer, port: req.socket.remotePort ?? null },
      forwarding: a.forwarding,
    },
    client: a.resolved.client,
    protocol: a.resolved.protocol,
    host: a.resolved.host,
    resolved: a.resolved,
    walk: a.walk,
    findings: a.findings,
    probe: a.probe,
    websocket: { path: WS_PATH, statusPath: WS_STATUS_PATH, pingSeconds },
  }
}

const COMMON_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
}

function send(res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...extra })
  res.end(res.req.method === 'HEAD' ? undefined : body)
}

export interface ServeOptions {
  listen: Listen
  policy: TrustPolicy
  header: string
  pingSeconds: number
  limits: ServeLimits
  /** Read a PROXY protocol header at the start of each connection. */
  proxyProtocol?: boolean
}

/** A request that says it has a body: the diagnostic server never needs one. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/**
 * Refuses an upgrade with a plain HTTP response and closes the socket: at once when the response
 * is written, and in any case within a few seconds (a client that does not read cannot hold it).
 */
function refuseUpgrade(socket: Duplex, status: number, reason: string, extra: Record<string, string> = {}): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const body = reason + '\n'
  const head = Object.entries({ ...extra, Connection: 'close', 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)) })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n${head}\r\n${body}`, () => socket.destroy())
  setTimeout(() => socket.destroy(), CLOSE_TIMEOUT_MS).unref()
}

/** Sends a text message unless the client has stopped reading, in which case it is disconnected. */
function sendOrDrop(ws: WebSocket, text: string, maxBuffered: number): void {
  if (ws.readyState !== ws.OPEN) return
  if (ws.bufferedAmount + text.length > maxBuffered) {
    ws.terminate()
    return
  }
  ws.send(text)
}

/** Runs the server until SIGINT/SIGTERM; resolves with the exit code. */
export function startServer(opts: ServeOptions, style: Style): Promise<number> {
  const { policy, header, pingSeconds, limits } = opts
  const view = policyView(policy, header)
  const attempts = new Map<string, 'upgraded' | 'plain-request'>()
  const sessions = new Set<WebSocket>()
  /** Open WebSocket sessions per resolved client IP. */
  const perClient = new Map<string, number>()
  const track = (id: string | null, what: 'upgraded' | 'plain-request') => {
    if (id === null || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) return
    if (attempts.get(id) === 'upgraded') return
    attempts.set(id, what)
    if (attempts.size > MAX_TRACKED) attempts.delete(attempts.keys().next().value!)
  }
  const analyseReq = (req: IncomingMessage): Analysis => analyse(policy, requestInput(req), header)

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    let a: Analysis | undefined
    let status = 500
    try {
      const { path, query } = pathOf(req.url ?? '/')
      a = analyseReq(req)
      if (hasBody(req)) {
        // Nothing here reads a body; closing the connection spares reading (and waiting for) it.
        status = 413
        send(res, status, 'text/plain; charset=utf-8', 'request bodies are not accepted\n', { Connection: 'close' })
      } else if (path === WS_STATUS_PATH) {
        const id = query.get('id')
        const seen = (id !== null && attempts.get(id)) || 'not-seen'
        const finding =
          seen === 'plain-request' ? standaloneFinding('websocket-upgrade-stripped') : seen === 'not-seen' ? standaloneFinding('websocket-not-reached') : null
        status = 200
        send(res, status, 'application/json; charset=utf-8', JSON.stringify({ id, seen, finding }) + '\n')
      } else if (path === WS_PATH) {
        // A WebSocket request that arrived without its Upgrade header: a proxy dropped it.
        track(query.get('id'), 'plain-request')
        status = 426
        send(res, status, 'application/json; charset=utf-8', JSON.stringify({ error: 'upgrade-required', finding: standaloneFinding('websocket-upgrade-stripped') }) + '\n', {
          Upgrade: 'websocket',
          Connection: 'Upgrade',
        })
      } else if (path === '/favicon.ico') {
        status = 204
        res.writeHead(status, COMMON_HEADERS)
        res.end()
      } else {
        const report = buildReport(view, req, a, pingSeconds)
        if (opts.proxyProtocol === true) withProxyProtocol(report, req.socket)
        status = 200
        if (wantsJson(req, query)) {
          send(res, status, 'application/json; charset=utf-8', reportJson(report) + '\n', { Vary: 'Accept' })
        } else {
          const nonce = randomBytes(16).toString('base64')
          send(res, status, 'text/html; charset=utf-8', injectProxyProtocolSection(renderPage(report, nonce), report), {
            Vary: 'Accept',
            'Content-Security-Policy':
              `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; ` +
              "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            'X-Frame-Options': 'DENY',
          })
        }
      }
    } catch (e) {
      // Nothing a request carries should get here; if something does, answer and keep serving.
      status = 500
      err(`trust-proxy serve: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`)
      if (!res.headersSent) send(res, status, 'text/plain; charset=utf-8', 'internal error\n')
      else res.destroy()
    }
    audit(auditRecord('http', req, status, a))
  }

  // The WebSocket protocol is ws's: the handshake, framing, masking, UTF-8, close codes (it never
  // echoes 1005 or an invalid code), fragments and sizes, all with the limits set here.
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false, // compression would let a small message cost a lot of memory
    maxPayload: limits.maxMessage,
    maxFragments: MAX_FRAGMENTS,
    maxBufferedChunks: MAX_BUFFERED_CHUNKS,
    maxPendingAutoPongs: MAX_PENDING_PONGS,
    closeTimeout: CLOSE_TIMEOUT_MS,
    // One message at a time per connection, then the event loop: a flood from one client
    // cannot starve the others.
    allowSynchronousEvents: false,
  } as WebSocketServerOptions & { maxPendingAutoPongs: number; closeTimeout: number })
  /** The analysis of each upgrade request, for the audit line of a handshake that ws refuses. */
  const upgrading = new WeakMap<IncomingMessage, Analysis>()
  wss.on('wsClientError', (error: Error, socket: Duplex, req: IncomingMessage) => {
    refuseUpgrade(socket, 400, error.message, { 'Sec-WebSocket-Version': '13' })
    audit({ ...auditRecord('websocket', req, 400, upgrading.get(req)), error: error.message })
  })

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    let a: Analysis | undefined
    try {
      a = analyseReq(req)
    } catch (e) {
      err(`trust-proxy serve: internal error: ${e instanceof Error ? e.message : String(e)}`)
    }
    const refuse = (status: number, reason: string) => {
      refuseUpgrade(socket, status, reason)
      audit({ ...auditRecord('websocket', req, status, a), error: reason })
    }
    const { path, query } = pathOf(req.url ?? '/')
    if (a === undefined) return refuse(500, 'internal error')
    if (path !== WS_PATH) return refuse(404, `no WebSocket here: the WebSocket check is at ${WS_PATH}`)
    if (stopping) return refuse(503, 'server shutting down')
    if (sessions.size >= limits.maxWebSockets) return refuse(503, `too many WebSockets open (${limits.maxWebSockets})`)
    const who = a.resolved.client ?? '(none)'
    if ((perClient.get(who) ?? 0) >= limits.maxWebSocketsPerClient) {
      return refuse(429, `too many WebSockets open from ${who} (${limits.maxWebSocketsPerClient})`)
    }
    const analysis = a
    upgrading.set(req, analysis)
    wss.handleUpgrade(req, socket, head, (ws) => {
      track(query.get('id'), 'upgraded')
      session(ws, req, analysis, who)
    })
  }

  /** One WebSocket session of the diagnostic page: hello, then a ping and a tick every interval. */
  const session = (ws: WebSocket, req: IncomingMessage, analysis: Analysis, who: string) => {
    sessions.add(ws)
    perClient.set(who, (perClient.get(who) ?? 0) + 1)
    const opened = Date.now()
    let lastMessage = opened
    let ticks = 0
    let pongs = 0
    let awaitingPong = false
    const sendJson = (m: unknown) => sendOrDrop(ws, JSON.stringify(m), limits.maxBuffered)
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      lastMessage = Date.now()
      if (isBinary) return // binary messages mean nothing to the diagnostic page
      let m: unknown
      try {
        m = JSON.parse(data.toString('utf8'))
      } catch {
        return
      }
      if (typeof m !== 'object' || m === null) return
      const msg = m as { type?: unknown; data?: unknown }
      if (msg.type === 'echo') sendJson({ type: 'echo', data: msg.data ?? null })
    })
    ws.on('pong', () => {
      pongs++
      awaitingPong = false
    })
    // A protocol error (bad frame, bad UTF-8, a message too big): ws has already closed the
    // connection with the code RFC 6455 calls for; the close event below records it.
    ws.on('error', () => {})
    const timer = setInterval(() => {
      if (awaitingPong) return ws.terminate() // no pong since the last ping: gone, or not reading
      if (Date.now() - lastMessage > limits.idleTimeout * 1000) return ws.close(1000, 'idle')
      ticks++
      awaitingPong = true
      ws.ping(String(ticks))
      sendJson({ type: 'tick', n: ticks, openMs: Date.now() - opened })
    }, pingSeconds * 1000)
    ws.once('close', (code: number) => {
      clearInterval(timer)
      sessions.delete(ws)
      const n = (perClient.get(who) ?? 1) - 1
      if (n > 0) perClient.set(who, n)
      else perClient.delete(who)
      audit({ ...auditRecord('websocket-close', req, 101, analysis), closeCode: code, openMs: Date.now() - opened, pings: ticks, pongs })
    })
    audit(auditRecord('websocket', req, 101, analysis))
    const forwarded = Object.keys(analysis.forwarding).some((k) => k !== 'Host')
    sendJson({
      type: 'hello',
      client: analysis.resolved.client,
      peer: analysis.resolved.peer,
      peerTrusted: analysis.peerTrusted,
      throughProxy: forwarded,
      protocol: analysis.resolved.protocol === 'https' ? 'wss' : 'ws',
      host: analysis.resolved.host,
      forwarding: analysis.forwarding,
      anomalies: analysis.resolved.anomalies,
      findings: analysis.findings,
      pingSeconds,
    })
  }

  const server = createServer(
    {
      maxHeaderSize: MAX_HEADER_SIZE,
      headersTimeout: limits.headerTimeout * 1000,
      requestTimeout: limits.requestTimeout * 1000,
      // How often Node checks those two timeouts (its default, 30 s, would let a slow client
      // overstay a short timeout by that much).
      connectionsCheckingInterval: Math.min(1000, limits.headerTimeout * 250),
    },
    onRequest,
  )
  server.keepAliveTimeout = limits.keepAliveTimeout * 1000
  server.maxConnections = limits.maxConnections
  let lastDropWarning = 0
  server.on('drop', () => {
    // Past max-connections Node closes the new connection at once; say so, at most once a minute.
    if (Date.now() - lastDropWarning < 60_000) return
    lastDropWarning = Date.now()
    err(`trust-proxy serve: ${limits.maxConnections} connections open (max-connections): refusing new ones until some close`)
  })
  server.on('upgrade', onUpgrade)
  if (opts.proxyProtocol === true) enableProxyProtocol(server, policy, { out, err })
  let stopping = false

  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        err(`trust-proxy serve: ${signal} again, exiting now`)
        process.exit(EXIT_INVALID)
      }
      stopping = true
      err(`trust-proxy serve: ${signal}, shutting down`)
      for (const ws of sessions) ws.close(1001, 'server shutting down')
      server.close(() => resolve(EXIT_OK))
      server.closeIdleConnections()
      // Requests in flight and closing handshakes get a moment to finish; then everything still open is cut.
      setTimeout(() => {
        server.closeAllConnections()
        for (const ws of sessions) ws.terminate()
      }, 1000).unref()
    }
    server.once('error', (e: NodeJS.ErrnoException) => {
      const where = 'path' in opts.listen ? opts.listen.path : `${opts.listen.host}:${opts.listen.port}`
      err(`trust-proxy serve: cannot listen on ${where}: ${e.code === 'EADDRINUSE' ? 'the address is in use' : e.message}`)
      resolve(EXIT_INVALID)
    })
    const listening = () => {
      process.on('SIGINT', stop)
      process.on('SIGTERM', stop)
      const url = listenUrl(server.address())
      err(`${style.bold('trust-proxy serve')}: listening on ${url}`)
      err(`  TRUST_PROXY=${shellValue(policy.toString())} (${policy.kind}): ${view.meaning}`)
      for (const w of policy.warnings) err(`  ${style.yellow('warning')} [${w.code}]: ${printable(w.message)}`)
      const exposed = listenerWarning(policy, server.address())
      if (exposed !== undefined) err(`  ${style.yellow('warning')} [hop-count-listener]: ${exposed}`)
      if (opts.proxyProtocol === true) err('  PROXY protocol: on (v1 and v2; peers TRUST_PROXY does not trust are refused)')
      err("  Run it in the app's place behind your proxy and open the site's public address in a browser.")
      err('  One JSON line per request follows on stdout. Stop with Ctrl-C.')
    }
    if ('path' in opts.listen) server.listen(opts.listen.path, listening)
    else server.listen(opts.listen.port, opts.listen.host, listening)
  })
}

export async function runServe(args: string[], style: Style): Promise<number> {
  const { values, positionals } = parsing('serve', () =>
    parseArgs({
      args,
      options: {
        listen: { type: 'string' },
        'trust-proxy': { type: 'string' },
        'ip-header': { type: 'string' },
        'ping-interval': { type: 'string' },
        limit: { type: 'string', multiple: true },
        'proxy-protocol': { type: 'boolean' },
        help: HELP_OPTION,
      },
      allowPositionals: true,
      strict: true,
    }),
  )
  if (values.help) {
    out(SERVE_HELP)
    return EXIT_OK
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, 'serve')
  const listen = parseListen(values.listen ?? '127.0.0.1:6989')
  const header = ipHeaderOption(values['ip-header'], 'serve')
  const pingSeconds = Number(values['ping-interval'] ?? '5')
  if (!(pingSeconds >= 0.05 && pingSeconds <= 3600)) {
    throw new UsageError(`--ping-interval takes seconds from 0.05 to 3600, got ${JSON.stringify(values['ping-interval'])}`, 'serve')
  }
  const limits = parseLimits(values.limit ?? [])
  const value = values['trust-proxy'] ?? process.env.TRUST_PROXY
  let policy: TrustPolicy
  try {
    policy = parseTrustProxy(value)
  } catch (e) {
    if (!(e instanceof TrustProxyError)) throw e
    err(`trust-proxy serve: ${e.message}`)
    return EXIT_INVALID
  }
  return startServer({ listen, policy, header, pingSeconds, limits, proxyProtocol: values['proxy-protocol'] === true }, style)
}
