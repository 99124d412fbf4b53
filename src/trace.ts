/**
 * The walk, hop by hop, for people and audit tools: what each forwarding-header entry said as
 * received, how it was read, and why each hop was or was not trusted, down to the TRUST_PROXY
 * entry that covers it.
 *
 * The decision is always {@link resolveClient}'s: the trace takes its client, chain and
 * anomalies as they are, and reads the header again with the same readers (readers/) only to
 * recover what the hot path never keeps: the raw text of each entry, why an entry was not an
 * address, and the entries left of the client. Every address it shows for a hop the walk
 * examined is the resolver's own; a raw text is shown beside it only when the reader gives the
 * same address for it. So a display built on this cannot show a different chain from the one
 * the resolver walked.
 *
 * An edge header (`cf-connecting-ip`, or any header given `options.edge`) is traced as
 * resolveClient decides it: the hops are X-Forwarded-For's, the hop inside the edge's ranges that
 * the walk reached is marked with the edge entry that covers it (rule `edge`), and the edge
 * header follows as a hop of its own: believed (rule `edge-header`, the client), not an address
 * (`malformed`), or ignored because the hop that delivered it is not the edge (`not-from-edge`).
 *
 * Cost: linear in the header length (one more right-to-left pass, no regular expressions), plus
 * one lookup per examined hop in an index of the TRUST_PROXY entries that is compiled once per
 * policy and cached. Not for the hot path: it allocates a record per hop.
 */
import { getHeader, readerFor } from './headers.js'
import { MAX_ENTRY_LENGTH, ParsedAddress } from './ip.js'
import { formatParsed } from './ip-text.js'
import type { TrustFunction, TrustPolicy } from './policy.js'
import { isProxyConnection, policyAfterBalancer, proxyHopZero } from './proxy-protocol.js'
import { forwardedReader } from './readers/forwarded.js'
import {
  HeaderCursor,
  type HeaderReader,
  PROBLEM_BAD_ELEMENT,
  PROBLEM_CUT,
  PROBLEM_EMPTY,
  PROBLEM_NO_FOR,
  PROBLEM_NONE,
  PROBLEM_REPEATED,
  PROBLEM_TOO_LONG,
  openCursor,
} from './readers/reader.js'
import { singleAddressReader } from './readers/single.js'
import { type Verdict, explainerFor } from './trace-explain.js'
import { type ClientInfo, type RequestLike, type ResolveOptions, forwardedProtoHost, resolveClient } from './resolve.js'
import { edgeRangesFor } from './edge.js'

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

// ---------------------------------------------------------------------------------------------
// Reading the header's entries, as the walk's readers delimit them

interface Entry {
  raw: string
  address: string | undefined
  malformed: MalformedReason | undefined
}

/** The entries of a header value, right-most first: the first `keep` of them, and how many there are. */
function readEntries(value: unknown, reader: HeaderReader, keep: number): { list: Entry[]; total: number } {
  const list: Entry[] = []
  const cursor = new HeaderCursor()
  const address = new ParsedAddress()
  if (!openCursor(cursor, value, reader.lists)) return { list, total: 0 }
  if (cursor.repeated) {
    const raw = (value as unknown[]).map((line) => (typeof line === 'string' ? line : '')).join(', ')
    return { list: [{ raw, address: undefined, malformed: 'repeated' }], total: 1 }
  }
  let total = 0
  while (cursor.next >= 0) {
    const isAddress = reader.read(cursor, address)
    total++
    if (list.length < keep) list.push(currentEntry(reader, cursor, isAddress ? address : undefined))
  }
  return { list, total }
}

/** What each reader problem is called in a trace. */
const PROBLEM_REASONS: Readonly<Record<number, MalformedReason>> = {
  [PROBLEM_EMPTY]: 'empty',
  [PROBLEM_TOO_LONG]: 'too-long',
  [PROBLEM_BAD_ELEMENT]: 'bad-element',
  [PROBLEM_NO_FOR]: 'no-for',
  [PROBLEM_REPEATED]: 'repeated',
}

/** The entry the cursor is on, and its address when the reader read one. */
function currentEntry(reader: HeaderReader, cursor: HeaderCursor, address: ParsedAddress | undefined): Entry {
  if (cursor.problem === PROBLEM_CUT) return { raw: '', address: undefined, malformed: reader === forwardedReader ? 'unreadable' : 'too-long' }
  const raw = cursor.entry.slice(cursor.start, cursor.end)
  if (address !== undefined) return { raw, address: formatParsed(address), malformed: undefined }
  if (cursor.problem !== PROBLEM_NONE) return { raw, address: undefined, malformed: PROBLEM_REASONS[cursor.problem]! }
  return { raw, address: undefined, malformed: whyNotAddress(raw) }
}

function whyNotAddress(raw: string): MalformedReason {
  if (raw.length === 7 && raw.toLowerCase() === 'unknown') return 'unknown'
  if (raw.charCodeAt(0) === 95 /* _ */) return 'obfuscated'
  if (raw.length > MAX_ENTRY_LENGTH) return 'too-long'
  return 'not-an-address'
}

// ---------------------------------------------------------------------------------------------
// The trace

/** Entries left of the client that a trace lists by default. */
const DEFAULT_LISTED = 32

/**
 * Resolves a request with {@link resolveClient} and records the walk hop by hop: for
 * diagnostics (`trust-proxy resolve` and `serve` show exactly this) and for audit tooling that
 * must say why a client IP was chosen. Never throws for anything a request carries; throws, like
 * resolveClient, only for a bad policy or `options.header`.
 */
export function traceClient(policy: TrustPolicy | TrustFunction, req: RequestLike, options?: TraceOptions): ClientTrace {
  const client = resolveClient(policy, req, options)
  const header = (options?.header ?? 'x-forwarded-for').toLowerCase() // resolveClient has checked it
  // An edge header is not walked: X-Forwarded-For is, to find the hop that delivered it (as resolveClient).
  const edgePolicy = edgeRangesFor(header, options?.edge)
  const walked = edgePolicy === undefined ? header : 'x-forwarded-for'
  const reader = readerFor(walked)
  const headers = req?.headers
  const value = getHeader(headers, walked)
  const maxListed = Math.max(0, Math.floor(options?.maxListed ?? DEFAULT_LISTED))
  const chain = client.chain
  const { list, total } = readEntries(value, reader, chain.length + maxListed)
  // Behind the PROXY protocol, hop 0 is the PROXY source and, when the balancer took the policy's
  // first hop, the walk counts from the balancer: explain each hop as resolveClient walked it.
  const pc = isProxyConnection(req?.proxyProtocol) ? req.proxyProtocol : undefined
  const hop0 = pc === undefined ? undefined : proxyHopZero(pc, req?.remoteAddress)
  const explain = explainerFor(hop0?.used === true && pc!.balancerIsHop ? policyAfterBalancer(policy) : policy)
  const anomalies = client.anomalies
  const hops: TraceHop[] = []
  const remote = hop0?.used === true ? hop0.address : req?.remoteAddress
  const malformedPeer = anomalies.includes('malformed-peer')

  // The edge hop, as resolveClient found it. Believed: the client came from the edge header, one
  // hop past the edge. Otherwise the walk reached the edge only if it stopped at an edge address:
  // every hop before the client was checked against the edge's ranges first, so only the client
  // hop can be one (and it is not one when the walk stopped at a malformed entry, since the
  // last verified hop passed that check).
  const believed = edgePolicy !== undefined && !malformedPeer && client.source === header
  let edgeHop = -1
  let edgeVerdict: Verdict | undefined
  if (edgePolicy !== undefined && !malformedPeer) {
    const k = believed ? client.trustedHops - 1 : client.trustedHops
    const v = explainerFor(edgePolicy)(chain[k], k)
    if (believed || v.trusted) {
      edgeHop = k
      edgeVerdict = v
    }
  }
  const walkedHops = believed ? chain.length - 1 : chain.length

  let stop: TraceStop
  let next: number // index in `list` of the first entry the walk did not examine
  if (malformedPeer) {
    stop = 'malformed-peer'
    hops.push({
      hop: 0, from: 'socket', raw: typeof remote === 'string' ? remote : null, address: null,
      role: 'malformed', trusted: null, rule: 'malformed', malformed: 'not-an-address',
    })
    next = 0
  } else {
    let clientTrusted = false
    for (let i = 0; i < walkedHops; i++) {
      const addr = chain[i]
      const isClient = i === client.trustedHops
      const e = i === 0 ? undefined : list[i - 1]
      const raw = i === 0 ? (typeof remote === 'string' ? remote : null) : e !== undefined && e.address === addr ? e.raw : (addr ?? null)
      const from = i === 0 ? 'socket' : walked
      if (i === edgeHop) {
        // The edge vouches for the hop: the walk reads its header instead of going on.
        hops.push({
          hop: i, from, raw, address: addr ?? null, role: isClient ? 'client' : 'proxy', trusted: true, rule: 'edge',
          ...(edgeVerdict?.matched !== undefined ? { edge: edgeVerdict.matched } : {}),
        })
        continue
      }
      const v = explain(addr, i)
      if (isClient) clientTrusted = v.trusted
      hops.push({
        hop: i,
        from,
        raw,
        address: addr ?? null,
        role: isClient ? 'client' : 'proxy',
        trusted: isClient ? v.trusted : true, // the walk went past it: trusted, whatever the explainer says
        rule: v.rule,
        ...(v.matched !== undefined ? { matched: v.matched } : {}),
      })
    }
    next = walkedHops - 1
    stop = edgeHop >= 0 ? 'edge' : anomalies.includes('malformed-entry') ? 'malformed' : clientTrusted ? 'leftmost' : 'untrusted'
    const bad = list[next]
    if (stop === 'malformed' && bad !== undefined) {
      hops.push({ hop: next + 1, from: walked, raw: bad.raw, address: null, role: 'malformed', trusted: null, rule: 'malformed', malformed: bad.malformed ?? 'not-an-address' })
      next++
    }
  }
  if (edgePolicy !== undefined) {
    const edgeHeader = edgeHeaderHop(headers, header, client, edgeHop, believed)
    if (edgeHeader !== undefined) hops.push(edgeHeader)
  }
  const listedEnd = Math.min(list.length, next + maxListed)
  for (let k = next; k < listedEnd; k++) {
    const e = list[k]!
    hops.push({
      hop: k + 1, from: walked, raw: e.raw, address: e.address ?? null, role: 'ignored', trusted: null, rule: 'not-read',
      ...(e.malformed !== undefined ? { malformed: e.malformed } : {}),
    })
  }

  // The protocol and host the resolver read, as received: only from a peer TRUST_PROXY trusts
  // (an edge peer too: the edge's own ranges vouch for its header, not for X-Forwarded-Proto).
  const peerTrusted = !malformedPeer && (edgeHop === 0 ? explain(chain[0], 0).trusted : hops[0]?.trusted === true)
  const [forwardedProto, forwardedHost] = peerTrusted ? forwardedProtoHost(headers, reader, value) : [undefined, undefined]

  return {
    client, header, walked, edge: edgePolicy?.toString(), peerTrusted, hops, stop, entries: total,
    omitted: Math.max(0, total - Math.max(next, listedEnd)), forwardedProto, forwardedHost,
  }
}

/**
 * The edge header's hop: believed (the client), not an address although the edge sent it, or
 * ignored because the walk did not reach the edge. None when the header was not sent, or when the
 * edge sent none (`missing-edge-header`: the edge hop is the client). Read with the reader
 * resolveClient uses, so its text and address are the ones it judged.
 */
function edgeHeaderHop(headers: unknown, header: string, client: ClientInfo, edgeHop: number, believed: boolean): TraceHop | undefined {
  const value = getHeader(headers, header)
  if (value === undefined) return undefined
  const e = readEntries(value, singleAddressReader, 1).list[0]
  if (believed) {
    return { hop: client.trustedHops, from: header, raw: e?.raw ?? null, address: client.ip ?? null, role: 'client', trusted: null, rule: 'edge-header' }
  }
  if (edgeHop >= 0) {
    if (e === undefined) return undefined
    return { hop: edgeHop + 1, from: header, raw: e.raw, address: null, role: 'malformed', trusted: null, rule: 'malformed', malformed: e.malformed ?? 'not-an-address' }
  }
  return {
    hop: client.trustedHops + 1, from: header, raw: e?.raw ?? '', address: e?.address ?? null, role: 'ignored', trusted: null, rule: 'not-from-edge',
    ...(e?.malformed !== undefined ? { malformed: e.malformed } : {}),
  }
}
