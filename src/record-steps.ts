/**
 * resolveClient's steps after the walk (resolve.ts): the anomalies its findings mean, the edge
 * header, the Host header, and the protocol and host a trusted peer forwarded.
 */
import { type HeaderReader, getHeader, loadedHeader } from './headers.js'
import { isValidHost } from './host.js'
import { formatParsed } from './ip-text.js'
import { KIND_ALL, KIND_HOPS, type PolicyInternals, type TrustPolicy, policyInternals } from './policy.js'
import { parseTrustProxy } from './policy-parse.js'
import type { ProxyConnection } from './proxy-protocol.js'
import { openCursor } from './readers/reader.js'
import { singleAddressReader } from './readers/single.js'
import type { AnomalyCode, ClientInfo } from './record-types.js'
import type { Walk } from './walk.js'

// ---------------------------------------------------------------------------------------------
// Protocol and host

/**
 * Whether a forwarding header other than the walked one is present: someone tried to speak for
 * a client. One load per header with its name written out (see loadedHeader): no loop over
 * names, no closure per request.
 */
function hasOtherForwarding(headers: unknown, web: boolean, plain: Plain, walked: string): boolean {
  return (
    (walked !== 'x-forwarded-for' && loadedHeader(headers, web, 'x-forwarded-for', plain?.['x-forwarded-for']) !== undefined) ||
    (walked !== 'forwarded' && loadedHeader(headers, web, 'forwarded', plain?.forwarded) !== undefined) ||
    (walked !== 'x-real-ip' && loadedHeader(headers, web, 'x-real-ip', plain?.['x-real-ip']) !== undefined) ||
    // (`options.header` may name any header, these two included: the walked one is never "other".)
    (walked !== 'x-forwarded-proto' && loadedHeader(headers, web, 'x-forwarded-proto', plain?.['x-forwarded-proto']) !== undefined) ||
    (walked !== 'x-forwarded-host' && loadedHeader(headers, web, 'x-forwarded-host', plain?.['x-forwarded-host']) !== undefined)
  )
}

/** Node's plain header object of the request, or undefined (plainHeaders in headers.ts). */
type Plain = Readonly<Record<string, unknown>> | undefined

function rightmostItem(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined
  const s = typeof value === 'string' ? value : value[value.length - 1]
  return typeof s === 'string' ? trimmed(s, afterLastComma(s)) : undefined
}

/**
 * Where the right-most item of a list starts: after its last comma, or 0. A loop rather than
 * `lastIndexOf`, which V8 runs as a call into the runtime (several times the cost of this scan
 * for the short values proxies write).
 */
function afterLastComma(s: string): number {
  let i = s.length - 1
  while (i >= 0 && s.charCodeAt(i) !== 44 /* , */) i--
  return i + 1
}

/** `s.slice(from).trim()`, without a new string when the text is printable ASCII at both ends (the common case). */
function trimmed(s: string, from: number): string {
  const first = s.charCodeAt(from)
  const last = s.charCodeAt(s.length - 1)
  if (first > 32 && first < 127 && last > 32 && last < 127) return from === 0 ? s : s.slice(from)
  return s.slice(from).trim()
}

function normalizeProto(value: string): 'http' | 'https' | undefined {
  // As proxies write it, first: no lower-case copy.
  if (value === 'https' || value === 'http') return value
  const lower = value.toLowerCase()
  return lower === 'http' || lower === 'https' ? lower : undefined
}

// resolveClient's steps after the walk, each its own small function: V8 inlines what they call
// (the header reads, with their constant names) within each one's budget, which one large
// function would have spent long before its last read.

/** What the walk's findings mean for the record, in the order the record lists them. */
export function walkAnomalies(
  w: Walk,
  peerTrusted: boolean,
  peerIsEdge: boolean,
  kind: number | undefined,
  pc: ProxyConnection | undefined,
  headers: unknown,
  web: boolean,
  plain: Plain,
  walked: string,
): AnomalyCode[] {
  const anomalies: AnomalyCode[] = []
  if (w.malformedPeer) anomalies.push('malformed-peer')
  // The other forwarding headers matter only when the chosen one is absent.
  const otherForwarding = !w.hasEntries && hasOtherForwarding(headers, web, plain, walked)
  if (!peerTrusted && !w.malformedPeer && !peerIsEdge) {
    if (w.hasEntries || otherForwarding) anomalies.push('forwarded-by-untrusted-peer')
  } else if (peerTrusted && otherForwarding && kind !== KIND_ALL) {
    // A trusted proxy that sets X-Forwarded-Proto (say) but not the client header: every client
    // looks like the proxy itself.
    anomalies.push('missing-forwarded-for')
  }
  if (w.trustedClient) anomalies.push('all-hops-trusted')
  if (w.malformed) anomalies.push('malformed-entry')
  if (w.short) anomalies.push('short-chain')
  if (w.trustFunctionError) anomalies.push('trust-function-error')
  // The peer that connected: behind the PROXY protocol the balancer, not hop 0 (the client it
  // accepted). A Unix socket (no address) is local.
  if (kind === KIND_HOPS && !w.malformedPeer) {
    const local = pc === undefined ? w.peerLocal : pc.loadBalancer === undefined || isLocalPeer(pc.loadBalancer)
    if (!local) anomalies.push('hop-count-public-peer')
  }
  return anomalies
}

/**
 * An edge header (`cf-connecting-ip`, ...): believed when the hop that delivered the request is
 * in the edge's ranges, the walk having stopped at it, or it being the left-most entry (which the
 * walk reaches without a trust check).
 */
export function readEdgeHeader(info: ClientInfo, w: Walk, edge: TrustPolicy, value: string | string[] | undefined, name: string): void {
  const anomalies = info.anomalies
  const fromEdge = w.edgeHop >= 0 || (!w.malformed && info.trustedHops > 0 && edge.trust(info.chain[info.trustedHops], 0))
  const cursor = w.cursor
  const address = w.addresses[0]
  if (!fromEdge) {
    if (value !== undefined) anomalies.push('edge-header-untrusted')
  } else if (!openCursor(cursor, value, singleAddressReader.lists)) {
    anomalies.push('missing-edge-header')
  } else if (!singleAddressReader.read(cursor, address)) {
    anomalies.push('malformed-entry')
  } else {
    const ip = formatParsed(address)
    info.ip = ip
    info.chain.push(ip)
    info.trustedHops++
    info.source = name
    // The left-most entry was the edge (TRUST_PROXY also names the provider): the client is
    // the edge header's, not a trusted address.
    const k = anomalies.indexOf('all-hops-trusted')
    if (k >= 0) anomalies.splice(k, 1)
  }
}

/** The Host header (or HTTP/2's `:authority`), when it is a valid host. */
export function readHost(info: ClientInfo, headers: unknown, web: boolean, plain: Plain): void {
  const direct = loadedHeader(headers, web, 'host', plain?.host) ?? loadedHeader(headers, web, ':authority', plain?.[':authority'])
  const directHost = typeof direct === 'string' ? trimmed(direct, 0) : undefined
  if (directHost !== undefined && directHost !== '') {
    if (isValidHost(directHost)) info.host = directHost
    else info.anomalies.push('invalid-host')
  }
}

/** The protocol and host a trusted peer forwarded, validated, over the socket's and the Host header's. */
export function readForwardedProtoHost(
  info: ClientInfo,
  headers: unknown,
  web: boolean,
  plain: Plain,
  reader: HeaderReader,
  headerValue: unknown,
  hasEntries: boolean,
): void {
  // X-Forwarded-Proto and -Host read in place (no pair built): only Forwarded carries its own.
  let proto: string | undefined
  let fwdHost: string | undefined
  if (reader.protoHost === undefined) {
    proto = rightmostItem(loadedHeader(headers, web, 'x-forwarded-proto', plain?.['x-forwarded-proto']))
    fwdHost = rightmostItem(loadedHeader(headers, web, 'x-forwarded-host', plain?.['x-forwarded-host']))
  } else {
    ;[proto, fwdHost] = reader.protoHost(headerValue)
  }
  if (proto !== undefined) {
    const normal = normalizeProto(proto)
    if (normal !== undefined) info.protocol = normal
    else info.anomalies.push('invalid-forwarded-proto')
  } else if (hasEntries) {
    // The peer is trusted and came with entries: a proxy forwarded this request.
    info.anomalies.push('missing-forwarded-proto')
  }
  if (fwdHost !== undefined) {
    if (isValidHost(fwdHost)) info.host = fwdHost
    else info.anomalies.push('invalid-forwarded-host')
  }
}

/** The addresses a proxy on the same host or network has: `private` (loopback, link-local, unique-local, RFC 1918, RFC 6598). */
let local: TrustPolicy | undefined
let localInternals: PolicyInternals | undefined
function localPolicy(): TrustPolicy {
  return (local ??= parseTrustProxy('private'))
}
/** The compiled `private` ranges, for the walk to check the socket peer against (no brand check per request). */
export function localRanges(): PolicyInternals {
  return (localInternals ??= policyInternals(localPolicy())!)
}
function isLocalPeer(peer: string): boolean {
  return localPolicy().trust(peer, 0)
}

/**
 * @internal The protocol and host a trusted peer forwarded, as received (not yet validated):
 * those the walked header's own entries carry (Forwarded's `proto=` and `host=`), else the
 * right-most X-Forwarded-Proto and X-Forwarded-Host items. (Also read by trace.ts, which shows them.)
 */
export function forwardedProtoHost(headers: unknown, reader: HeaderReader, headerValue: unknown): [string | undefined, string | undefined] {
  if (reader.protoHost !== undefined) return reader.protoHost(headerValue)
  return [rightmostItem(getHeader(headers, 'x-forwarded-proto')), rightmostItem(getHeader(headers, 'x-forwarded-host'))]
}
