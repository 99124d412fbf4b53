/**
 * `trust-proxy serve --proxy-protocol`: the serve command behind a TCP load balancer (HAProxy
 * `send-proxy`, nginx `stream` with `proxy_protocol on`, an AWS NLB with proxy protocol v2).
 *
 * The listener is the library's (`acceptProxyProtocol`), with one difference that suits a
 * diagnostic server: a trusted balancer may connect without a header (`requireHeader: false`),
 * so that the page can say "no PROXY header arrived" instead of the browser seeing a closed
 * connection. A peer that TRUST_PROXY does not trust is still refused, and each refusal is one
 * JSON line on stdout and one message on stderr.
 *
 * Everything here is kept apart from serve.ts so it can be carried onto another serve
 * implementation with three calls: `enableProxyProtocol(server, ...)` once, `requestInput(req)`
 * for the analysis, and `proxyProtocolReport(req.socket)` / `proxyProtocolSection(...)` for the
 * JSON and the page.
 */
import type { IncomingMessage } from 'node:http'
import type { Server } from 'node:net'
import { acceptProxyProtocol, proxyConnectionOf } from '../adapters/proxy-protocol.js'
import type { TrustPolicy } from '../index.js'
import type { RequestInput } from './diagnose.js'
import { escapeHtml } from './page.js'

/** What the page and the JSON report say about the connection's PROXY protocol header. */
export interface ProxyProtocolReport {
  /** Whether a PROXY header arrived on this connection. */
  received: boolean
  /** The load balancer: the TCP peer that sent (or did not send) the header. */
  loadBalancer: string | null
  version: 1 | 2 | null
  command: 'proxy' | 'local' | null
  family: string | null
  /** The client the balancer accepted the connection from (null for LOCAL/UNSPEC/unix). */
  source: { address: string; port: number } | null
  destination: { address: string; port: number } | null
  /** The decoded TLVs (ALPN, authority, SSL, AWS VPC endpoint id, ...). */
  tlv: Record<string, unknown>
  /** One sentence for the page. */
  summary: string
}

/** Wraps serve's server; prints the listener's warnings, and one line per refused connection. */
export function enableProxyProtocol(
  server: Server,
  policy: TrustPolicy,
  log: { out(line: string): void; err(line: string): void },
): void {
  const listener = acceptProxyProtocol(server, {
    policy,
    requireHeader: false,
    onReject(r) {
      log.out(JSON.stringify({ time: new Date().toISOString(), event: 'proxy-protocol-refused', reason: r.reason, peer: r.peer ?? null }))
      log.err(`trust-proxy serve: PROXY protocol: closed a connection from ${r.peer ?? 'a Unix socket'}: ${r.reason}`)
    },
  })
  for (const w of listener.warnings) log.err(`  warning [proxy-protocol]: ${w}`)
}

/** The request as the analysis reads it: behind a PROXY header, hop 0 is the header's source. */
export function requestInput(req: IncomingMessage): RequestInput {
  const socket = req.socket as IncomingMessage['socket'] & { encrypted?: boolean }
  const pc = proxyConnectionOf(socket)
  const h = pc?.header
  const source = h !== undefined && h.command === 'proxy' && h.family !== 'unspec' ? h.source?.address : socket.remoteAddress
  const input: RequestInput & { proxyProtocol?: unknown } = {
    remoteAddress: source,
    headers: req.headers,
    encrypted: socket.encrypted === true,
  }
  if (pc !== undefined) input.proxyProtocol = pc
  return input
}

/** The report of the connection's PROXY header; null when `--proxy-protocol` is off. */
export function proxyProtocolReport(socket: unknown): ProxyProtocolReport | null {
  const pc = proxyConnectionOf(socket)
  if (pc === undefined) return null
  const h = pc.header
  const lb = pc.loadBalancer ?? null
  if (h === undefined) {
    return {
      received: false, loadBalancer: lb, version: null, command: null, family: null, source: null, destination: null, tlv: {},
      summary: `No PROXY header arrived from ${lb ?? 'the Unix socket peer'}: the balancer is not sending one (HAProxy: send-proxy or send-proxy-v2 on the server line; nginx stream: proxy_protocol on; AWS NLB: the proxy_protocol_v2.enabled target group attribute), so the client is the balancer itself.`,
    }
  }
  const local = h.command === 'local' || h.family === 'unspec'
  return {
    received: true,
    loadBalancer: lb,
    version: h.version,
    command: h.command,
    family: h.family,
    source: h.source ?? null,
    destination: h.destination ?? null,
    tlv: { ...h.tlv },
    summary: local
      ? `A PROXY v${h.version} header from ${lb} without a client address (${h.command === 'local' ? 'LOCAL: a health check' : 'UNSPEC/UNKNOWN'}): the balancer is the client.`
      : h.source === undefined
        ? `A PROXY v${h.version} header from ${lb}: the client reached the balancer over a Unix socket and has no address.`
        : `A PROXY v${h.version} header from ${lb} says the client is ${h.source.address} port ${h.source.port}, connected to ${h.destination?.address} port ${h.destination?.port}.`,
  }
}

/** The page's "PROXY protocol" section (every value escaped with `escape`). */
export function proxyProtocolSection(report: ProxyProtocolReport | null, escape: (s: string) => string): string {
  if (report === null) return ''
  const row = (k: string, v: string | null, id: string): string => `<tr><th>${k}</th><td id="${id}">${escape(v ?? '-')}</td></tr>`
  const endpoint = (e: { address: string; port: number } | null): string | null => (e === null ? null : `${e.address} port ${e.port}`)
  const tlv = Object.entries(report.tlv).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ')
  return `<h2>PROXY protocol</h2>
<p id="proxy-protocol-summary" data-received="${report.received}">${escape(report.summary)}</p>
<table class="kv">
${row('Header', report.received ? `v${report.version} ${report.command?.toUpperCase()} ${report.family}` : 'none received', 'proxy-protocol-header')}
${row('Load balancer (TCP peer)', report.loadBalancer, 'proxy-protocol-balancer')}
${row('Source (the client)', endpoint(report.source), 'proxy-protocol-source')}
${row('Destination', endpoint(report.destination), 'proxy-protocol-destination')}
${row('TLVs', tlv === '' ? null : tlv, 'proxy-protocol-tlv')}
</table>
`
}

/** The page with the PROXY protocol section before its findings (unchanged when the report has none). */
export function injectProxyProtocolSection(html: string, report: object): string {
  const pp = (report as { proxyProtocol?: ProxyProtocolReport | null }).proxyProtocol
  if (pp === undefined || pp === null) return html
  const at = html.indexOf('<h2>Findings</h2>')
  const section = proxyProtocolSection(pp, escapeHtml)
  return at < 0 ? html.replace('</main>', section + '</main>') : html.slice(0, at) + section + '\n' + html.slice(at)
}

/** Fields for serve's JSON audit line: the balancer and the PROXY source, when the listener runs. */
export function proxyProtocolAudit(socket: unknown): Record<string, unknown> {
  const r = proxyProtocolReport(socket)
  if (r === null) return {}
  return { proxyProtocol: { received: r.received, loadBalancer: r.loadBalancer, version: r.version, command: r.command, source: r.source?.address ?? null } }
}

/**
 * Adds `proxyProtocol` to serve's report, and gives `request.peer` the balancer's own port (the
 * socket's `remotePort` is the PROXY source's once the header is read).
 */
export function withProxyProtocol(report: { request: { peer: { port: number | null } } }, socket: unknown): void {
  Object.assign(report, { proxyProtocol: proxyProtocolReport(socket) })
  const pc = proxyConnectionOf(socket)
  if (pc !== undefined) report.request.peer.port = pc.loadBalancerPort ?? null
}
