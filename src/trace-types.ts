/**
 * The trace as a value: what {@link traceClient} (trace.ts) returns, hop by hop, and the words it
 * uses for why a hop was or was not trusted and why an entry is not an address.
 */
import type { ClientInfo, ResolveOptions } from './resolve.js'

/**
 * Why a hop was, or was not, trusted (or why it was never examined).
 * - `trust-none`, `trust-all`: the policy's kind decides (`false`, `true`).
 * - `hop-count` (trusted: hop < n), `beyond-hop-count`: a hop-count policy.
 * - `range` (trusted; `matched` names the TRUST_PROXY entry), `not-in-ranges`: a range list.
 * - `trust-function`: a custom trust function answered.
 * - `malformed`: the entry (or the socket address) is not an address; the walk stops before it.
 * - `not-read`: left of the client; the walk never looks at it (anyone can write it).
 * - `edge`: the hop is inside the edge's ranges (an edge header is read): the walk stops there and
 *   reads the edge header; `edge` names the entry of the edge's ranges that covers it.
 * - `edge-header`: the edge header, believed: the edge delivered the request, its address is the client.
 * - `not-from-edge`: the edge header, ignored: the hop that delivered the request is not inside the edge's ranges.
 */
export type TraceRule =
  | 'trust-none'
  | 'trust-all'
  | 'hop-count'
  | 'beyond-hop-count'
  | 'range'
  | 'not-in-ranges'
  | 'trust-function'
  | 'malformed'
  | 'not-read'
  | 'edge'
  | 'edge-header'
  | 'not-from-edge'

/**
 * Why an entry is not an address.
 * - `empty`: an empty item (`a,,b`, a trailing comma, `for=""`).
 * - `too-long`: no comma within the length an address can have; reading stops there.
 * - `unreadable`: a Forwarded element with an unbalanced quote or over 1024 characters; reading stops.
 * - `bad-element`: a Forwarded element that is not `name=value;...` (RFC 7239), or repeats a parameter.
 * - `no-for`: a Forwarded element without `for=`.
 * - `unknown`: the RFC 7239 word for "the proxy does not know".
 * - `obfuscated`: an RFC 7239 obfuscated identifier (`_hidden`), which names no address.
 * - `repeated`: a single-address header that arrived more than once (which copy did the proxy write?).
 * - `not-an-address`: anything else (garbage, a bad port, a zone that is not allowed, `0.0.0.0`).
 */
export type MalformedReason =
  | 'empty'
  | 'too-long'
  | 'unreadable'
  | 'bad-element'
  | 'no-for'
  | 'unknown'
  | 'obfuscated'
  | 'repeated'
  | 'not-an-address'

/** One hop of the walk: the socket peer (hop 0), then the header's entries from the right. */
export interface TraceHop {
  hop: number
  /** `socket`, or the (lower-case) header the entry was read from. */
  from: string
  /**
   * The entry as received, trimmed (for Forwarded, the `for=` value, unquoted; a malformed
   * element in full). Null for a socket peer without an address; empty when the entry could
   * not be delimited (`too-long`, `unreadable`).
   */
  raw: string | null
  /** The canonical address, or null when there is none or it is not an address. */
  address: string | null
  /** `proxy` (trusted, the walk went on), `client`, `malformed` (the walk stopped before it), `ignored` (left of the client). */
  role: 'proxy' | 'client' | 'malformed' | 'ignored'
  /**
   * Null when the walk never examined the hop. For rule `edge`, true: the edge's ranges vouch for
   * the hop (TRUST_PROXY's own verdict on the socket peer is {@link ClientTrace.peerTrusted}).
   */
  trusted: boolean | null
  rule: TraceRule
  /** For rule `range`: the TRUST_PROXY entry (normalised, as in `policy.ranges`) that covers the address. */
  matched?: string
  /** For role `malformed`: why it is not an address. */
  malformed?: MalformedReason
  /** For rule `edge`: the entry of the edge's ranges (a preset name, a CIDR, `unix`) that covers the hop. */
  edge?: string
}

/**
 * Why the walk ended at the client: `untrusted` (the client hop is not trusted), `leftmost`
 * (the client hop is trusted but nothing is further left: a trusted proxy wrote it), `malformed`
 * (the next entry is not an address: the client is the last verified hop), `malformed-peer`
 * (the socket address is not an address: no client), `edge` (the walk reached a hop inside the
 * edge's ranges: the client is its edge header's address, or the edge hop itself when that header
 * is missing or not an address).
 */
export type TraceStop = 'untrusted' | 'leftmost' | 'malformed' | 'malformed-peer' | 'edge'

/** The result of {@link traceClient}. */
export interface ClientTrace {
  /** Exactly what {@link resolveClient} returns for the same request and options. */
  client: ClientInfo
  /** The header that carries the client address (lower case). */
  header: string
  /** The header whose entries the walk reads: `header`, or `x-forwarded-for` when `header` is an edge header. */
  walked: string
  /** For an edge header, the edge's ranges as TRUST_PROXY text (`cloudflare`); undefined otherwise. */
  edge: string | undefined
  /** Whether the socket peer is trusted by TRUST_PROXY (an edge peer too): what decides whether X-Forwarded-Proto and -Host are read. */
  peerTrusted: boolean
  /**
   * The hops the walk examined, then the malformed entry it stopped at, then (for an edge header)
   * the edge header's hop, then up to `maxListed` entries left of the client.
   */
  hops: TraceHop[]
  stop: TraceStop
  /** Entries the reader found in the walked header (it stops at one it cannot delimit). */
  entries: number
  /** Entries left of the client that are not in `hops` (past `maxListed`). */
  omitted: number
  /** The forwarded protocol a trusted peer sent, as read (before validation); undefined when not read or absent. */
  forwardedProto: string | undefined
  /** The forwarded host a trusted peer sent, as read (before validation); undefined when not read or absent. */
  forwardedHost: string | undefined
}

export interface TraceOptions extends ResolveOptions {
  /** How many entries left of the client to list (default 32); the rest are counted in `omitted`. */
  maxListed?: number
}
