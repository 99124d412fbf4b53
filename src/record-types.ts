/**
 * The shapes of resolveClient's input and result (resolve.ts): the request it reads, its options,
 * the audit record it returns and the anomaly codes that record carries.
 */
import type { EdgeRanges } from './edge.js'
import type { HeaderSource } from './headers.js'
import type { ProxyConnection } from './proxy-protocol.js'

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
