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
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'
import type { Duplex } from 'node:stream'
import { type TrustPolicy, TrustProxyError, parseTrustProxy } from '../index.js'
import { type Analysis, analyse, displayName } from './diagnose.js'
import { describePolicy } from './explain.js'
import { shellValue, standaloneFinding } from './fixes.js'
import { type Report, renderPage } from './page.js'
import { ipHeaderOption } from './resolve.js'
import { type Style, printable } from './style.js'
import { EXIT_INVALID, EXIT_OK, HELP_OPTION, UsageError, err, out, parsing } from './usage.js'
import { WebSocketConnection, handshakeProblem, rejectUpgrade } from './websocket.js'
import { enableProxyProtocol, injectProxyProtocolSection, proxyProtocolAudit, requestInput, withProxyProtocol } from './proxy-protocol.js'

export const SERVE_HELP = `Usage: trust-proxy serve [--listen 127.0.0.1:6989] [--trust-proxy V] [--ip-header NAME]
                         [--ping-interval SECONDS] [--proxy-protocol]

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
  --ping-interval SECS   how often the WebSocket check pings (default 5)
  --proxy-protocol       read a PROXY protocol (v1 or v2) header at the start of each
                         connection, as behind HAProxy send-proxy, nginx stream or an AWS
                         NLB; connections from peers TRUST_PROXY does not trust are refused,
                         and the page shows whether the header arrived and what it said
  -h, --help             show this help

Exit status: 0 after a clean shutdown, 1 invalid TRUST_PROXY or cannot listen, 2 usage error.
`

const WS_PATH = '/.trust-proxy/ws'
const WS_STATUS_PATH = '/.trust-proxy/ws-status'
/** Upper bound on remembered WebSocket attempts (for the page's failure diagnosis). */
const MAX_TRACKED = 1000
const MAX_LOGGED_PATH = 256

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

function buildReport(policy: TrustPolicy, req: IncomingMessage, a: Analysis, pingSeconds: number): Report {
  return {
    version: 1,
    trustProxy: { ...policy.toJSON(), meaning: describePolicy(policy, displayName(a.header)), ipHeader: a.header },
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
  /** Read a PROXY protocol header at the start of each connection. */
  proxyProtocol?: boolean
}

/** Runs the server until SIGINT/SIGTERM; resolves with the exit code. */
export function startServer(opts: ServeOptions, style: Style): Promise<number> {
  const { policy, header, pingSeconds } = opts
  const attempts = new Map<string, 'upgraded' | 'plain-request'>()
  const sessions = new Set<WebSocketConnection>()
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
      if (path === WS_STATUS_PATH) {
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
        const report = buildReport(policy, req, a, pingSeconds)
        if (opts.proxyProtocol === true) withProxyProtocol(report, req.socket)
        status = 200
        if (wantsJson(req, query)) {
          send(res, status, 'application/json; charset=utf-8', JSON.stringify(report) + '\n', { Vary: 'Accept' })
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

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    let a: Analysis | undefined
    try {
      a = analyseReq(req)
    } catch (e) {
      err(`trust-proxy serve: internal error: ${e instanceof Error ? e.message : String(e)}`)
    }
    const problem = handshakeProblem(req)
    if (problem !== undefined || a === undefined || stopping) {
      rejectUpgrade(socket, stopping ? 503 : 400, stopping ? 'Service Unavailable' : 'Bad Request', problem ?? 'not available')
      audit({ ...auditRecord('websocket', req, stopping ? 503 : 400, a), error: problem ?? 'not available' })
      return
    }
    const analysis = a
    const { query } = pathOf(req.url ?? '/')
    track(query.get('id'), 'upgraded')
    const opened = Date.now()
    let ticks = 0
    let pongs = 0
    let timer: NodeJS.Timeout | undefined
    const conn = WebSocketConnection.accept(req, socket, head, {
      onText(text) {
        let m: unknown
        try {
          m = JSON.parse(text)
        } catch {
          return
        }
        if (typeof m !== 'object' || m === null) return
        const msg = m as { type?: unknown; data?: unknown }
        if (msg.type === 'echo') conn.sendText(JSON.stringify({ type: 'echo', data: msg.data ?? null }))
      },
      onPong() {
        pongs++
      },
      onClose(code) {
        if (timer !== undefined) clearInterval(timer)
        sessions.delete(conn)
        audit({
          ...auditRecord('websocket-close', req, 101, analysis),
          closeCode: code,
          openMs: Date.now() - opened,
          pings: ticks,
          pongs,
        })
      },
    })
    sessions.add(conn)
    audit(auditRecord('websocket', req, 101, analysis))
    const forwarded = Object.keys(analysis.forwarding).some((k) => k !== 'Host')
    conn.sendText(
      JSON.stringify({
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
      }),
    )
    timer = setInterval(() => {
      ticks++
      conn.ping(String(ticks))
      conn.sendText(JSON.stringify({ type: 'tick', n: ticks, openMs: Date.now() - opened }))
    }, pingSeconds * 1000)
  }

  const server = createServer(onRequest)
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
      for (const c of sessions) c.close(1001, 'server shutting down')
      server.close(() => resolve(EXIT_OK))
      server.closeIdleConnections()
      // Requests in flight get a moment to finish; then everything still open is cut.
      setTimeout(() => server.closeAllConnections(), 1000).unref()
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
      err(`  TRUST_PROXY=${shellValue(policy.toString())} (${policy.kind}): ${describePolicy(policy, displayName(header))}`)
      for (const w of policy.warnings) err(`  ${style.yellow('warning')} [${w.code}]: ${printable(w.message)}`)
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
  const value = values['trust-proxy'] ?? process.env.TRUST_PROXY
  let policy: TrustPolicy
  try {
    policy = parseTrustProxy(value)
  } catch (e) {
    if (!(e instanceof TrustProxyError)) throw e
    err(`trust-proxy serve: ${e.message}`)
    return EXIT_INVALID
  }
  return startServer({ listen, policy, header, pingSeconds, proxyProtocol: values['proxy-protocol'] === true }, style)
}
