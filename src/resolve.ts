/**
 * The walk: from the socket peer leftwards through the forwarding header, while each hop is
 * trusted. The client is the first hop that is not trusted: the address that a trusted proxy
 * saw connecting to it. Everything left of that hop was written by the client and is ignored.
 *
 * This is proxy-addr's walk (and Express's and Fastify's), with three changes for audit logs:
 * the result is always a canonical address or undefined, never header text; a malformed entry
 * stops the walk at the last hop that was verified instead of being returned; and the header is
 * read lazily from the right, so a client cannot make a request expensive by padding it.
 */
import {
  C,
  FW,
  type HeaderMode,
  MODE_FORWARDED,
  MODE_SINGLE,
  MODE_XFF,
  forwardedRightmost,
  getHeader,
  modeOf,
  nextEntry,
  openHeader,
  openedText,
  readIPv4Item,
  readIPv6Item,
  restoreCursor,
  saveCursor,
  unescape,
  xffItem,
} from './headers.js'
import { isValidHost } from './host.js'
import { P, formatParsed, parseAddress, parseItem, restoreScratch, saveScratch } from './ip.js'
import {
  KIND_ALL,
  KIND_HOPS,
  KIND_NONE,
  KIND_RANGES,
  type TrustFunction,
  type TrustPolicy,
  matchParsed,
  parseTrustProxy,
} from './policy.js'
import { type EdgeRanges, edgeRangesFor } from './edge.js'
import { type ProxyConnection, isProxyConnection, policyAfterBalancer, proxyHopZero } from './proxy-protocol.js'

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
  /** Node's `IncomingHttpHeaders` or a Web `Headers`. */
  headers?: unknown
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
// The walk

/** What the last walk found besides the client. */
const W = {
  /** Index of the client in the chain. */
  hop: 0,
  peerTrusted: false,
  hasEntries: false,
  malformed: false,
  malformedPeer: false,
  short: false,
  fnError: false,
  /** The walk ran off the left end under a range policy and that entry is a trusted address. */
  trustedClient: false,
  /** When set, the walk appends each canonical hop here. */
  chain: null as (string | undefined)[] | null,
  /** When set (an edge header is read), the walk also stops at the first hop inside these ranges. */
  edge: null as TrustPolicy | null,
  /** The hop the walk stopped at because it is in `edge` (-1: none), and whether TRUST_PROXY trusts it. */
  edgeHop: -1,
  edgeTrusted: false,
}

function trustParsed(policy: TrustPolicy | undefined, fn: TrustFunction | undefined, s: string, hop: number): boolean {
  if (W.edge !== null && matchParsed(W.edge._set!, s)) return atEdge(policy, fn, s, hop)
  if (policy === undefined) return callTrust(fn!, formatParsed(s), hop)
  const kind = policy._kind
  if (kind === KIND_HOPS) return hop < policy._hops
  if (kind === KIND_ALL) return true
  if (kind === KIND_NONE) return false
  return matchParsed(policy._set!, s)
}

/** The walk reached the edge at `hop`: stop there, remembering what TRUST_PROXY says of the hop. */
function atEdge(policy: TrustPolicy | undefined, fn: TrustFunction | undefined, s: string | undefined, hop: number): boolean {
  const edge = W.edge
  W.edge = null
  W.edgeTrusted = s === undefined ? trustNoAddress(policy, fn) : trustParsed(policy, fn, s, hop)
  W.edge = edge
  W.edgeHop = hop
  return false
}

function trustNoAddress(policy: TrustPolicy | undefined, fn: TrustFunction | undefined): boolean {
  if (W.edge !== null && W.edge._unix) return atEdge(policy, fn, undefined, 0)
  return policy !== undefined ? policy._unix : callTrust(fn!, undefined, 0)
}

/**
 * Runs a user's trust function. It may throw (the hop is then untrusted: fail closed) or even
 * resolve another request itself, so the walk's scratch state is saved around it.
 */
function callTrust(fn: TrustFunction, addr: string | undefined, hop: number): boolean {
  const cursor = saveCursor()
  const scratch = saveScratch()
  const w = { ...W }
  // A walk inside the function (resolveClientIp) must not append its hops to this walk's chain.
  W.chain = null
  let trusted = false
  let threw = false
  try {
    trusted = !!fn(addr, hop)
  } catch {
    threw = true
  }
  restoreCursor(cursor)
  restoreScratch(scratch)
  Object.assign(W, w)
  if (threw) W.fnError = true
  return trusted
}

/** Canonical text of an address that parsed before (re-parsed: P has moved on since). */
function canonicalAt(s: string | undefined, a: number, b: number): string | undefined {
  if (s === undefined) return undefined
  parseItem(s, a, b)
  return formatParsed(s)
}

function walk(
  policy: TrustPolicy | undefined,
  fn: TrustFunction | undefined,
  remote: unknown,
  header: unknown,
  mode: HeaderMode,
): string | undefined {
  W.hop = 0
  W.peerTrusted = W.malformed = W.malformedPeer = W.short = W.fnError = W.trustedClient = false
  W.edgeHop = -1
  const chain = W.chain

  const hasEntries = (W.hasEntries = openHeader(header, mode))
  // X-Forwarded-For, the common case, is walked right here, in local variables; the other headers
  // go through the cursor in headers.ts.
  const xff = mode === MODE_XFF && hasEntries ? openedText() : undefined

  // Hop 0: the socket peer. Node gives undefined for a Unix socket or a closed connection; only
  // undefined and null mean "no address". Anything else that is not an address ('', a number, an
  // object) is a malformed peer: read as a Unix socket, it would be trusted under `unix`.
  let lastS: string | undefined
  let lastA = 0
  let lastB = 0
  if (remote === undefined || remote === null) {
    W.peerTrusted = trustNoAddress(policy, fn)
  } else if (typeof remote !== 'string' || !parseItem(remote, 0, remote.length)) {
    W.malformedPeer = true
    return undefined
  } else {
    lastS = remote
    lastB = remote.length
    W.peerTrusted = trustParsed(policy, fn, remote, 0)
  }
  // P still holds the peer here (trust checks only read it), so its text costs no second parse.
  const peer = lastS !== undefined && (chain !== null || !W.peerTrusted || !hasEntries) ? formatParsed(lastS) : undefined
  if (chain !== null) chain.push(peer)
  if (!W.peerTrusted) return peer
  if (!hasEntries) {
    W.short = policy !== undefined && policy._kind === KIND_HOPS
    return peer
  }

  let pos = xff === undefined ? 0 : xff.length
  for (let hop = 1; ; hop++) {
    let s: string
    let a: number
    let b: number
    let bad: boolean
    let last: boolean
    let parsed = false
    if (xff !== undefined) {
      s = xff
      let comma = readIPv4Item(s, pos)
      if (comma < -1) comma = readIPv6Item(s, pos)
      if (comma >= -1) {
        parsed = true
        a = P.as
        b = P.ae
        bad = false
        last = comma < 0
        pos = comma
      } else {
        pos = xffItem(s, pos)
        a = C.start
        b = C.end
        bad = C.bad
        last = pos < 0
      }
    } else {
      nextEntry()
      s = C.s
      a = C.start
      b = C.end
      bad = C.bad
      last = C.last
    }
    if (bad || (!parsed && !parseAddress(s, a, b))) {
      W.malformed = true
      W.hop = hop - 1
      return canonicalAt(lastS, lastA, lastB)
    }
    if (last || !trustParsed(policy, fn, s, hop)) {
      // The left-most entry is the client even when trusted: a trusted proxy wrote it.
      W.hop = hop
      if (last && policy !== undefined) {
        if (policy._kind === KIND_HOPS) W.short = hop < policy._hops
        else if (chain !== null && policy._kind === KIND_RANGES) W.trustedClient = matchParsed(policy._set!, s)
      }
      const ip = formatParsed(s)
      if (chain !== null) chain.push(ip)
      return ip
    }
    if (chain !== null) chain.push(formatParsed(s))
    lastS = s
    lastA = a
    lastB = b
  }
}

/**
 * A policy is recognised by shape, not by `instanceof`: the ESM and CommonJS builds each carry
 * one copy of the class (shared by their entry points), and a policy made by one must work in both.
 */
function splitPolicy(policy: TrustPolicy | TrustFunction): TrustPolicy | undefined {
  if (typeof policy === 'function') return undefined
  if (typeof policy === 'object' && policy !== null && typeof (policy as TrustPolicy)._kind === 'number') return policy
  throw new TypeError('policy must be a TrustPolicy from parseTrustProxy() or a trust function (addr, hop) => boolean')
}

/**
 * The client IP of a request: the hot-path form, for every request of every server.
 *
 * `remoteAddress` is `req.socket.remoteAddress`; `forwardedFor` is the raw X-Forwarded-For value
 * (a string, an array of header lines, or undefined). Returns a canonical address, or undefined
 * when the socket has no address and no trusted hop vouches for one. Never throws for anything a
 * request can carry.
 *
 * With a policy from {@link parseTrustProxy} this allocates nothing but the returned string. A
 * plain trust function `(addr, hop) => boolean` is also accepted; it receives canonical addresses.
 */
export function resolveClientIp(
  policy: TrustPolicy | TrustFunction,
  remoteAddress: string | undefined | null,
  forwardedFor?: string | string[] | undefined | null,
): string | undefined {
  const p = splitPolicy(policy)
  return walk(p, p === undefined ? (policy as TrustFunction) : undefined, remoteAddress, forwardedFor, MODE_XFF)
}

// ---------------------------------------------------------------------------------------------
// Protocol and host

/** Headers whose presence from an untrusted peer means someone tried to speak for a client. */
const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip', 'x-forwarded-proto', 'x-forwarded-host']

function rightmostItem(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined
  const s = typeof value === 'string' ? value : value[value.length - 1]
  if (typeof s !== 'string') return undefined
  return s.slice(s.lastIndexOf(',') + 1).trim()
}

function normalizeProto(value: string): 'http' | 'https' | undefined {
  const lower = value.toLowerCase()
  return lower === 'http' || lower === 'https' ? lower : undefined
}

/** `host[:port]` validation (RFC 3986 / RFC 1123) lives in host.ts. */
export { isValidHost } from './host.js'

// ---------------------------------------------------------------------------------------------
// The detailed result

function headerName(options: ResolveOptions | undefined): string {
  const h = options?.header
  if (h === undefined) return 'x-forwarded-for'
  if (typeof h !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(h) || h.toLowerCase() === 'host') {
    throw new TypeError(`options.header must be the name of a forwarding header, got ${JSON.stringify(h)}`)
  }
  return h.toLowerCase()
}

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
  const p = splitPolicy(policy)
  const name = headerName(options)
  // An edge header is not walked: X-Forwarded-For is, to find the hop that delivered the request.
  const edge = edgeRangesFor(name, options?.edge)
  const walked = edge === undefined ? name : 'x-forwarded-for'
  const mode = modeOf(walked)
  const headers = req?.headers
  const headerValue = getHeader(headers, walked)
  const chain: (string | undefined)[] = []
  W.chain = chain
  W.edge = edge ?? null
  let ip: string | undefined
  // Behind the PROXY protocol, hop 0 is the client the balancer accepted (see proxy-protocol.ts).
  const pc = isProxyConnection(req?.proxyProtocol) ? req.proxyProtocol : undefined
  const hop0 = pc === undefined ? undefined : proxyHopZero(pc, req?.remoteAddress)
  // Plain variables, not a destructured pair: this runs for every request.
  let wp = p
  let wf = p === undefined ? (policy as TrustFunction) : undefined
  if (hop0?.used === true && pc!.balancerIsHop) [wp, wf] = policyAfterBalancer(wp, wf)
  try {
    ip = walk(wp, wf, hop0 === undefined ? req?.remoteAddress : hop0.address, headerValue, mode)
  } finally {
    W.chain = null
    W.edge = null
  }
  const anomalies: AnomalyCode[] = []
  if (W.malformedPeer) anomalies.push('malformed-peer')
  // The socket peer is the edge itself: it may send forwarding headers, and TRUST_PROXY decides
  // whether its X-Forwarded-Proto and -Host are believed.
  const peerIsEdge = W.edgeHop === 0
  if (peerIsEdge) W.peerTrusted = W.edgeTrusted
  // The other forwarding headers matter only when the chosen one is absent.
  const otherForwarding = !W.hasEntries && FORWARDING_HEADERS.some((h) => h !== walked && getHeader(headers, h) !== undefined)
  if (!W.peerTrusted && !W.malformedPeer && !peerIsEdge) {
    if (W.hasEntries || otherForwarding) anomalies.push('forwarded-by-untrusted-peer')
  } else if (W.peerTrusted && otherForwarding && p?._kind !== KIND_ALL) {
    // A trusted proxy that sets X-Forwarded-Proto (say) but not the client header: every client
    // looks like the proxy itself.
    anomalies.push('missing-forwarded-for')
  }
  if (W.trustedClient) anomalies.push('all-hops-trusted')
  if (W.malformed) anomalies.push('malformed-entry')
  if (W.short) anomalies.push('short-chain')
  if (W.fnError) anomalies.push('trust-function-error')
  // The peer that connected: behind the PROXY protocol the balancer, not hop 0 (the client it accepted).
  const connected = pc === undefined ? chain[0] : pc.loadBalancer
  if (p?._kind === KIND_HOPS && connected !== undefined && !W.malformedPeer && !isLocalPeer(connected)) {
    anomalies.push('hop-count-public-peer')
  }
  const peerTrusted = W.peerTrusted && !W.malformedPeer
  const cameThroughProxy = peerTrusted && W.hasEntries
  let trustedHops = W.hop
  let source: ClientSource = trustedHops === 0 ? (hop0?.used === true ? 'proxy-protocol' : 'socket') : walked
  if (edge !== undefined && !W.malformedPeer) {
    // The hop that delivered the request is in the edge's ranges: the walk stopped at it, or it
    // is the left-most entry (which the walk reaches without a trust check).
    const fromEdge = W.edgeHop >= 0 || (!W.malformed && trustedHops > 0 && edge.trust(chain[trustedHops], 0))
    const value = getHeader(headers, name)
    if (!fromEdge) {
      if (value !== undefined) anomalies.push('edge-header-untrusted')
    } else if (!openHeader(value, MODE_SINGLE)) {
      anomalies.push('missing-edge-header')
    } else {
      nextEntry()
      if (C.bad || !parseAddress(C.s, C.start, C.end)) {
        anomalies.push('malformed-entry')
      } else {
        ip = formatParsed(C.s)
        chain.push(ip)
        trustedHops++
        source = name
        // The left-most entry was the edge (TRUST_PROXY also names the provider): the client is
        // the edge header's, not a trusted address.
        const k = anomalies.indexOf('all-hops-trusted')
        if (k >= 0) anomalies.splice(k, 1)
      }
    }
  }

  let protocol: 'http' | 'https' = req?.encrypted === true ? 'https' : 'http'
  // A balancer that ended the client's TLS itself says so in the SSL TLV (client bit 1).
  if (hop0?.used === true && ((pc!.header?.tlv?.ssl?.client ?? 0) & 1) === 1) protocol = 'https'
  let host: string | undefined
  const direct = getHeader(headers, 'host') ?? getHeader(headers, ':authority')
  const directHost = typeof direct === 'string' ? direct.trim() : undefined
  if (directHost !== undefined && directHost !== '') {
    if (isValidHost(directHost)) host = directHost
    else anomalies.push('invalid-host')
  }

  if (peerTrusted) {
    const [proto, fwdHost] = forwardedProtoHost(headers, mode, headerValue)
    if (proto !== undefined) {
      const normal = normalizeProto(proto)
      if (normal !== undefined) protocol = normal
      else anomalies.push('invalid-forwarded-proto')
    } else if (cameThroughProxy) {
      anomalies.push('missing-forwarded-proto')
    }
    if (fwdHost !== undefined) {
      if (isValidHost(fwdHost)) host = fwdHost
      else anomalies.push('invalid-forwarded-host')
    }
  }

  const info: ClientInfo = {
    ip,
    peer: W.malformedPeer ? undefined : chain[0],
    chain,
    trustedHops,
    source,
    protocol,
    host,
    anomalies,
  }
  if (pc !== undefined) {
    info.peer = pc.loadBalancer
    info.proxyProtocol = pc
  }
  return info
}

/** The addresses a proxy on the same host or network has: `private` (loopback, link-local, unique-local, RFC 1918, RFC 6598). */
let localRanges: TrustPolicy | undefined
function isLocalPeer(peer: string): boolean {
  localRanges ??= parseTrustProxy('private')
  return localRanges.trust(peer, 0)
}

function paramText(a: number, b: number, escaped: boolean): string {
  return escaped ? unescape(FW.s, a, b) : FW.s.slice(a, b)
}

/**
 * @internal The protocol and host a trusted peer forwarded, as received (not yet validated): the
 * right-most `proto=` and `host=` of Forwarded in that mode, else the right-most X-Forwarded-Proto
 * and X-Forwarded-Host items. (Also read by trace.ts, which shows them.)
 */
export function forwardedProtoHost(headers: unknown, mode: HeaderMode, headerValue: unknown): [string | undefined, string | undefined] {
  if (mode === MODE_FORWARDED) {
    if (!forwardedRightmost(headerValue)) return [undefined, undefined]
    return [
      FW.protoStart >= 0 ? paramText(FW.protoStart, FW.protoEnd, FW.protoEscaped) : undefined,
      FW.hostStart >= 0 ? paramText(FW.hostStart, FW.hostEnd, FW.hostEscaped) : undefined,
    ]
  }
  return [rightmostItem(getHeader(headers, 'x-forwarded-proto')), rightmostItem(getHeader(headers, 'x-forwarded-host'))]
}
