/**
 * The detailed result of a request, for audit records: the client and how it was decided (the
 * walk, walk.ts), the protocol and host the client used, and the anomalies seen on the way.
 */
import { type EdgeRanges, edgeRangesFor } from './edge.js'
import { type HeaderReader, type HeaderSource, forwardingHeaderName, getHeader, isWebHeaders, readHeader, readerFor } from './headers.js'
import { isValidHost } from './host.js'
import { formatParsed } from './ip-text.js'
import { KIND_ALL, KIND_HOPS, type PolicyInternals, type TrustFunction, type TrustPolicy, policyInternals } from './policy.js'
import { parseTrustProxy } from './policy-parse.js'
import { type ProxyConnection, isProxyConnection, policyAfterBalancer, proxyHopZero } from './proxy-protocol.js'
import { openCursor } from './readers/reader.js'
import { singleAddressReader } from './readers/single.js'
import { type Walk, holdWalk, releaseWalk, splitPolicy, walk } from './walk.js'

export { type ResolveIpOptions, resolveClientIp } from './walk.js'

/**
 * Something the walk noticed that an operator should know about. None of them changes the rule
 * that decides the client; they say why the answer may not be what the deployment intended.
 */
export type AnomalyCode =
  /** The socket peer is not trusted but sent forwarding headers: a spoof attempt, a client that
   * reached the server without the proxy, or a proxy missing from TRUST_PROXY. */
  | 'forwarded-by-untrusted-peer'
  /** A header entry is not an address (`unknown`, `_hidden`, garbage, an empty item, a bad port):
   * the client is the last hop that was verified. */
  | 'malformed-entry'
  /** The socket address itself could not be read as an address: no client IP is given. */
  | 'malformed-peer'
  /** A hop-count policy ran out of entries: the left-most entry may be client-written, or the
   * proxy chain is shorter than TRUST_PROXY says. */
  | 'short-chain'
  /** A trusted proxy forwarded the request without saying which protocol the client used. */
  | 'missing-forwarded-proto'
  /** The forwarded protocol is not `http` or `https`; the socket's protocol is used instead. */
  | 'invalid-forwarded-proto'
  /** The forwarded host is not a valid `host[:port]`; the Host header is used instead. */
  | 'invalid-forwarded-host'
  /** The Host header is not a valid `host[:port]`; no host is given. */
  | 'invalid-host'
  /** A custom trust function threw; that hop was treated as untrusted. */
  | 'trust-function-error'
  /** A trusted proxy sent forwarding headers (X-Forwarded-Proto, ...) but not the one that names
   * the client: the proxy does not append X-Forwarded-For, so every client looks like the proxy. */
  | 'missing-forwarded-for'
  /** Under a range policy every hop, the left-most entry included, is a trusted address: the client
   * is on a trusted network, or an inner proxy replaced the header instead of appending to it. */
  | 'all-hops-trusted'
  /** Under a hop-count policy the socket peer is a public address (outside loopback, private,
   * link-local, unique-local and Unix sockets): a hop count cannot tell a proxy from a client that
   * reached the server directly, so this client may have written its own address. Fix: name the
   * proxy (`TRUST_PROXY=loopback`, its address or subnet), or make the server reachable only
   * through the proxy (listen on 127.0.0.1). */
  | 'hop-count-public-peer'
  /** A provider's header (`cf-connecting-ip`, ...) was sent, but the hop that delivered the request
   * is not inside that provider's ranges: someone other than the edge wrote it. It was ignored. */
  | 'edge-header-untrusted'
  /** The request came from the edge, but without the edge's header: the client is the edge hop. */
  | 'missing-edge-header'

/**
 * Where the client address came from: the socket, the PROXY protocol header of the connection
 * (`proxy-protocol`), or the name of the header it was read from.
 */
export type ClientSource = 'socket' | 'proxy-protocol' | (string & {})

/** The detailed result of {@link resolveClient}, for audit records. */
export interface ClientInfo {
  /** The client address, canonical; undefined when the socket has no address and no hop vouches for one. */
  ip: string | undefined
  /** The socket peer's address, canonical (undefined for a Unix socket or a closed one). */
  peer: string | undefined
  /** Canonical addresses from the socket peer (first) to the client (last). */
  chain: (string | undefined)[]
  /** How many hops were believed to be proxies: the index of the client in `chain`. */
  trustedHops: number
  source: ClientSource
  protocol: 'http' | 'https'
  /** `host[:port]` as the client asked for it; undefined when absent or invalid. */
  host: string | undefined
  anomalies: AnomalyCode[]
  /**
   * Set when the connection came through the PROXY protocol listener: `peer` is then the load
   * balancer (the TCP peer) and `chain[0]` the PROXY source, the client the balancer accepted.
   */
  proxyProtocol?: ProxyConnection
}

/** The parts of a request {@link resolveClient} reads. */
export interface RequestLike {
  /** The socket peer as Node reports it (`req.socket.remoteAddress`). */
  remoteAddress?: string | undefined
  /**
   * Node's `IncomingHttpHeaders` or a Web `Headers` (anything with `get(name)`). Only string and
   * array-of-string values are read; any other value of a header is taken as absent.
   */
  headers?: HeaderSource | Readonly<Record<string, unknown>> | undefined
  /** True when the connection to this server is TLS. */
  encrypted?: boolean | undefined
  /**
   * What the PROXY protocol listener read at the start of the connection: hop 0 of the walk is
   * then its source, not `remoteAddress` (which is the load balancer).
   */
  proxyProtocol?: ProxyConnection | undefined
}

export interface ResolveOptions {
  /**
   * The one header that carries the client address: `x-forwarded-for` (default), `forwarded`
   * (RFC 7239), or the name of a header holding a single address such as `x-real-ip` or
   * `cf-connecting-ip`. Exactly one header is read; there is no fallback to another, because a
   * fallback lets a client choose which header is believed.
   */
  header?: string
  /**
   * The address ranges of the edge that writes `header` (a preset such as `'cloudflare'`, CIDRs,
   * or a range policy): the header is believed only when the hop that delivered the request is
   * inside them (see docs/cdn.md for the rule). `cf-connecting-ip` and `true-client-ip` default
   * to `'cloudflare'`; `fly-client-ip` has no default and needs this option. Giving it for any
   * other single-address header (`x-client-ip`) makes that header an edge header too.
   */
  edge?: EdgeRanges
}

// ---------------------------------------------------------------------------------------------
// Protocol and host

/** Headers whose presence from an untrusted peer means someone tried to speak for a client. */
const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip', 'x-forwarded-proto', 'x-forwarded-host']

/** Whether a forwarding header other than the walked one is present (a loop: no closure per request). */
function hasOtherForwarding(headers: unknown, web: boolean, walked: string): boolean {
  for (let i = 0; i < FORWARDING_HEADERS.length; i++) {
    const h = FORWARDING_HEADERS[i]!
    if (h !== walked && readHeader(headers, web, h) !== undefined) return true
  }
  return false
}

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

/** `host[:port]` validation (RFC 3986 / RFC 1123) lives in host.ts. */
export { isValidHost } from './host.js'

// ---------------------------------------------------------------------------------------------
// The detailed result

/**
 * Resolves a request into everything an audit record needs: the client, the peer, the chain of
 * hops, the protocol and host the client used, and the anomalies seen on the way.
 *
 * `X-Forwarded-Proto` and `X-Forwarded-Host` (or, with `header: 'forwarded'`, the `proto=` and
 * `host=` of the right-most Forwarded element) are believed only when the socket peer is trusted,
 * and then only their right-most value, which the nearest proxy wrote. Otherwise the protocol is
 * the socket's and the host is the Host header.
 */
export function resolveClient(
  policy: TrustPolicy | TrustFunction,
  req: RequestLike,
  options?: ResolveOptions,
): ClientInfo {
  const ownInternals = splitPolicy(policy)
  const name = forwardingHeaderName(options?.header)
  // An edge header is not walked: X-Forwarded-For is, to find the hop that delivered the request.
  const edge = edgeRangesFor(name, options?.edge)
  const walked = edge === undefined ? name : 'x-forwarded-for'
  const reader = readerFor(walked)
  // Behind the PROXY protocol, hop 0 is the client the balancer accepted (see proxy-protocol.ts),
  // and a balancer that counts as a hop takes the policy's first one.
  const pc = isProxyConnection(req?.proxyProtocol) ? req.proxyProtocol : undefined
  const hop0 = pc === undefined ? undefined : proxyHopZero(pc, req?.remoteAddress)
  const walkedPolicy = hop0?.used === true && pc!.balancerIsHop ? policyAfterBalancer(policy) : policy
  const internals = walkedPolicy === policy ? ownInternals : splitPolicy(walkedPolicy)
  const kind = ownInternals?.kind
  // Reading a Headers object runs its code, which may resolve another request: hold this walk.
  const w = holdWalk()
  try {
    const headers = req?.headers
    const web = isWebHeaders(headers)
    const headerValue = readHeader(headers, web, walked)
    const chain: (string | undefined)[] = []
    w.chain = chain
    w.edge = edge === undefined ? null : policyInternals(edge)!
    // Under a hop count the record says whether the socket peer is local (see walkAnomalies): the
    // walk checks the address it has parsed anyway. Behind the PROXY protocol the peer is the balancer.
    w.local = kind === KIND_HOPS && pc === undefined ? localRanges() : null
    let ip: string | undefined
    try {
      const fn = internals === undefined ? (walkedPolicy as TrustFunction) : undefined
      ip = walk(w, internals, fn, hop0 === undefined ? req?.remoteAddress : hop0.address, headerValue, reader)
    } finally {
      w.chain = null
      w.edge = null
      w.local = null
    }
    // The socket peer is the edge itself: it may send forwarding headers, and TRUST_PROXY decides
    // whether its X-Forwarded-Proto and -Host are believed.
    const peerIsEdge = w.edgeHop === 0
    const peerTrusted = (peerIsEdge ? w.edgeTrusted : w.peerTrusted) && !w.malformedPeer
    const trustedHops = w.clientHop
    const info: ClientInfo = {
      ip,
      peer: w.malformedPeer ? undefined : chain[0],
      chain,
      trustedHops,
      source: trustedHops === 0 ? (hop0?.used === true ? 'proxy-protocol' : 'socket') : walked,
      protocol: req?.encrypted === true ? 'https' : 'http',
      host: undefined,
      anomalies: walkAnomalies(w, peerTrusted, peerIsEdge, kind, pc, headers, web, walked),
    }
    if (edge !== undefined && !w.malformedPeer) readEdgeHeader(info, w, edge, readHeader(headers, web, name), name)
    // A balancer that ended the client's TLS itself says so in the SSL TLV (client bit 1).
    if (hop0?.used === true && ((pc!.header?.tlv?.ssl?.client ?? 0) & 1) === 1) info.protocol = 'https'
    readHost(info, headers, web)
    if (peerTrusted) readForwardedProtoHost(info, headers, web, reader, headerValue, w.hasEntries)
    if (pc !== undefined) {
      info.peer = pc.loadBalancer
      info.proxyProtocol = pc
    }
    return info
  } finally {
    releaseWalk()
  }
}

// resolveClient's steps after the walk, each its own small function: V8 inlines what they call
// (the header reads, with their constant names) within each one's budget, which one large
// function would have spent long before its last read.

/** What the walk's findings mean for the record, in the order the record lists them. */
function walkAnomalies(
  w: Walk,
  peerTrusted: boolean,
  peerIsEdge: boolean,
  kind: number | undefined,
  pc: ProxyConnection | undefined,
  headers: unknown,
  web: boolean,
  walked: string,
): AnomalyCode[] {
  const anomalies: AnomalyCode[] = []
  if (w.malformedPeer) anomalies.push('malformed-peer')
  // The other forwarding headers matter only when the chosen one is absent.
  const otherForwarding = !w.hasEntries && hasOtherForwarding(headers, web, walked)
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
function readEdgeHeader(info: ClientInfo, w: Walk, edge: TrustPolicy, value: string | string[] | undefined, name: string): void {
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
function readHost(info: ClientInfo, headers: unknown, web: boolean): void {
  const direct = readHeader(headers, web, 'host') ?? readHeader(headers, web, ':authority')
  const directHost = typeof direct === 'string' ? trimmed(direct, 0) : undefined
  if (directHost !== undefined && directHost !== '') {
    if (isValidHost(directHost)) info.host = directHost
    else info.anomalies.push('invalid-host')
  }
}

/** The protocol and host a trusted peer forwarded, validated, over the socket's and the Host header's. */
function readForwardedProtoHost(info: ClientInfo, headers: unknown, web: boolean, reader: HeaderReader, headerValue: unknown, hasEntries: boolean): void {
  // X-Forwarded-Proto and -Host read in place (no pair built): only Forwarded carries its own.
  let proto: string | undefined
  let fwdHost: string | undefined
  if (reader.protoHost === undefined) {
    proto = rightmostItem(readHeader(headers, web, 'x-forwarded-proto'))
    fwdHost = rightmostItem(readHeader(headers, web, 'x-forwarded-host'))
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
function localRanges(): PolicyInternals {
  local ??= parseTrustProxy('private')
  return policyInternals(local)!
}
function isLocalPeer(peer: string): boolean {
  localRanges()
  return local!.trust(peer, 0)
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
