/**
 * The walk: from the socket peer leftwards through the forwarding header, while each hop is
 * trusted. The client is the first hop that is not trusted: the address that a trusted proxy
 * saw connecting to it. Everything left of that hop was written by the client and is ignored.
 *
 * This is proxy-addr's walk (and Express's and Fastify's), with three changes for audit logs:
 * the result is always a canonical address or undefined, never header text; a malformed entry
 * stops the walk at the last hop that was verified instead of being returned; and the header is
 * read lazily from the right, so a client cannot make a request expensive by padding it.
 *
 * State. Everything one walk reads and finds is in one {@link Walk}: the hop being read, the last
 * verified hop, the header cursor and the findings. Walks are preallocated and pooled by depth:
 * a user's trust function runs one level deeper, so a walk it starts itself (it may resolve
 * another request) takes another Walk, and nothing has to be saved or restored around it.
 */
import { ParsedAddress, parseItem, parseMappedIPv4, readWholeIPv4 } from './ip.js'
import { readIPv6Item } from './ip-backward.js'
import { formatParsed } from './ip-text.js'
import {
  KIND_ALL,
  KIND_HOPS,
  KIND_RANGES,
  POLICY,
  type PolicyInternals,
  type TrustFunction,
  type TrustPolicy,
  inRanges,
  policyInternals,
} from './policy.js'
import { EDGE_HEADERS } from './edge.js'
import { forwardingHeaderName, readerFor } from './headers.js'
import { HeaderCursor, type HeaderReader, openCursor } from './readers/reader.js'
import { xForwardedForReader } from './readers/x-forwarded-for.js'

/** @internal One walk: what it reads, and what it found besides the client. */
export class Walk {
  readonly cursor = new HeaderCursor()
  /** The two addresses the walk alternates between: the hop being read, and the last one verified. */
  readonly addresses: readonly [ParsedAddress, ParsedAddress] = [new ParsedAddress(), new ParsedAddress()]
  /** Index of the client in the chain. */
  clientHop = 0
  peerTrusted = false
  /** The walked header holds at least one entry. */
  hasEntries = false
  /** The walk stopped at an entry that is not an address. */
  malformed = false
  /** The socket address itself is not an address. */
  malformedPeer = false
  /** A hop-count policy ran out of entries. */
  short = false
  /** A trust function threw (that hop was untrusted). */
  trustFunctionError = false
  /** The walk ran off the left end under a range policy and that entry is a trusted address. */
  trustedClient = false
  /** When set, the walk appends each canonical hop here (the audit record's chain). */
  chain: (string | undefined)[] | null = null
  /** When set (an edge header is read), the walk also stops at the first hop inside these ranges. */
  edge: PolicyInternals | null = null
  /** The hop the walk stopped at because it is in `edge` (-1: none), and whether TRUST_PROXY trusts it. */
  edgeHop = -1
  edgeTrusted = false
  /** When set (the audit record under a hop count), the walk says whether the socket peer is inside these ranges. */
  local: PolicyInternals | null = null
  /** The socket peer is in `local`, or has no address (a Unix socket). Read only when `local` was set. */
  peerLocal = false
}

/** Walks by depth: a walk started from inside a trust function runs one level deeper. */
const walks: Walk[] = [new Walk()]
let depth = 0

/** @internal The walk for the current depth (a nested call from a trust function gets its own). */
export function currentWalk(): Walk {
  return walks[depth] ?? (walks[depth] = new Walk())
}

/**
 * @internal
 * Holds the current depth's walk for a caller that runs user code after the walk itself (a
 * Headers object's `get`): anything that code resolves goes one level deeper. Pair with
 * {@link releaseWalk} in a `finally`.
 */
export function holdWalk(): Walk {
  const w = currentWalk()
  depth++
  return w
}

/** @internal */
export function releaseWalk(): void {
  depth--
}

/**
 * Runs a user's trust function one level deeper. It may throw (the hop is then untrusted: fail
 * closed) or resolve another request itself, which then uses its own walk.
 */
function callTrust(w: Walk, fn: TrustFunction, addr: string | undefined, hop: number): boolean {
  depth++
  try {
    return !!fn(addr, hop)
  } catch {
    w.trustFunctionError = true
    return false
  } finally {
    depth--
  }
}

/**
 * The socket address: as Node writes it, plain IPv4, IPv4-mapped (a dual-stack listener) or
 * IPv6, each by its fast path (IPv6 by the one-pass reader of X-Forwarded-For items: a whole
 * string is an item with no comma before it); anything else (zoned, bracketed, upper-case, white
 * space around it) the general way.
 */
function parsePeer(out: ParsedAddress, remote: string): boolean {
  // Plain IPv4 first, left to right: with no comma or white space to find, this is the scan
  // that V8 inlines here (readIPv4Item, which looks for both, is too large to inline).
  const end = remote.length
  return (
    readWholeIPv4(out, remote, 0) ||
    parseMappedIPv4(out, remote) ||
    readIPv6Item(out, remote, end) === -1 ||
    parseItem(out, remote, 0, end)
  )
}

/** TRUST_PROXY's verdict on an address (no edge check). */
function trustedBy(w: Walk, policy: PolicyInternals | undefined, fn: TrustFunction | undefined, a: ParsedAddress, hop: number): boolean {
  if (policy === undefined) return callTrust(w, fn!, formatParsed(a), hop)
  const kind = policy.kind
  if (kind === KIND_RANGES) return inRanges(policy, a)
  if (kind === KIND_HOPS) return hop < policy.hops
  return kind === KIND_ALL
}

/** TRUST_PROXY's verdict on a peer with no address (a Unix socket). */
function trustedWithoutAddress(w: Walk, policy: PolicyInternals | undefined, fn: TrustFunction | undefined): boolean {
  return policy !== undefined ? policy.unix : callTrust(w, fn!, undefined, 0)
}

/** Whether the walk goes past this hop. At the edge it stops, remembering TRUST_PROXY's verdict. */
function trustHop(w: Walk, policy: PolicyInternals | undefined, fn: TrustFunction | undefined, a: ParsedAddress, hop: number): boolean {
  if (w.edge === null || !inRanges(w.edge, a)) return trustedBy(w, policy, fn, a, hop)
  w.edgeTrusted = trustedBy(w, policy, fn, a, hop)
  w.edgeHop = hop
  return false
}

function trustPeerWithoutAddress(w: Walk, policy: PolicyInternals | undefined, fn: TrustFunction | undefined): boolean {
  if (w.edge === null || !w.edge.unix) return trustedWithoutAddress(w, policy, fn)
  w.edgeTrusted = trustedWithoutAddress(w, policy, fn)
  w.edgeHop = 0
  return false
}

/**
 * @internal
 * Walks one request with `w`: `remote` is hop 0, `header` the value `reader` reads. Returns the
 * client (canonical) and leaves the findings in `w`. Trusts by `policy`, or else by `fn`.
 */
export function walk(
  w: Walk,
  policy: PolicyInternals | undefined,
  fn: TrustFunction | undefined,
  remote: unknown,
  header: unknown,
  reader: HeaderReader,
): string | undefined {
  w.clientHop = 0
  w.peerTrusted = w.malformed = w.malformedPeer = w.short = w.trustFunctionError = w.trustedClient = false
  w.edgeHop = -1
  const chain = w.chain
  const cursor = w.cursor
  const hasEntries = (w.hasEntries = openCursor(cursor, header, reader.lists))
  let hop = w.addresses[0]
  let verified = w.addresses[1]

  // Hop 0: the socket peer. Node gives undefined for a Unix socket or a closed connection; only
  // undefined and null mean "no address". Anything else that is not an address ('', a number, an
  // object) is a malformed peer: read as a Unix socket, it would be trusted under `unix`.
  let verifiedIsAddress = true
  if (remote === undefined || remote === null) {
    verifiedIsAddress = false
    w.peerTrusted = trustPeerWithoutAddress(w, policy, fn)
    w.peerLocal = true // a Unix socket
  } else if (typeof remote !== 'string' || !parsePeer(hop, remote)) {
    w.malformedPeer = true
    return undefined
  } else {
    w.peerTrusted = trustHop(w, policy, fn, hop, 0)
    if (w.local !== null) w.peerLocal = inRanges(w.local, hop)
  }
  const peer = verifiedIsAddress && (chain !== null || !w.peerTrusted || !hasEntries) ? formatParsed(hop) : undefined
  if (chain !== null) chain.push(peer)
  if (!w.peerTrusted) return peer
  if (!hasEntries) {
    w.short = policy !== undefined && policy.kind === KIND_HOPS
    return peer
  }

  for (let i = 1; ; i++) {
    // The hop just trusted becomes the verified one; the next entry is read into the other.
    const t = verified
    verified = hop
    hop = t
    if (!reader.read(cursor, hop)) {
      w.malformed = true
      w.clientHop = i - 1
      return verifiedIsAddress ? formatParsed(verified) : undefined
    }
    verifiedIsAddress = true
    const last = cursor.next < 0
    if (last || !trustHop(w, policy, fn, hop, i)) {
      // The left-most entry is the client even when trusted: a trusted proxy wrote it.
      w.clientHop = i
      if (last && policy !== undefined) {
        if (policy.kind === KIND_HOPS) w.short = i < policy.hops
        else if (chain !== null && policy.kind === KIND_RANGES) w.trustedClient = inRanges(policy, hop)
      }
      const ip = formatParsed(hop)
      if (chain !== null) chain.push(ip)
      return ip
    }
    if (chain !== null) chain.push(formatParsed(hop))
  }
}

/**
 * @internal
 * A policy's internals, or undefined for a trust function; anything else is a programming error,
 * thrown at once (the adapters check at setup, so it never reaches a request).
 */
export function splitPolicy(policy: TrustPolicy | TrustFunction): PolicyInternals | undefined {
  if (typeof policy === 'function') return undefined
  // The common case in one load: a policy's brand (policyInternals checks the rest).
  const branded = typeof policy === 'object' && policy !== null ? policy[POLICY] : undefined
  if (branded !== undefined && typeof branded.kind === 'number') return branded
  const internals = policyInternals(policy)
  if (internals !== undefined) return internals
  throw new TypeError('policy must be a TrustPolicy from parseTrustProxy() or a trust function (addr, hop) => boolean')
}

/** The options of {@link resolveClientIp}. */
export interface ResolveIpOptions {
  /**
   * The header whose value is the third argument: `x-forwarded-for` (default), `forwarded`
   * (RFC 7239, read from its `for=` values) or a single-address header such as `x-real-ip`.
   * Provider headers (`cf-connecting-ip`, `true-client-ip`, `fly-client-ip`) are refused with a
   * TypeError: they are believed only from the provider's ranges, which `resolveClient` checks.
   */
  header?: string
}

/**
 * The client IP of a request: the hot-path form, for every request of every server.
 *
 * `remoteAddress` is `req.socket.remoteAddress`; `headerValue` is the raw value of the one
 * forwarding header (X-Forwarded-For unless `options.header` names another): a string, an array
 * of header lines, or undefined. Returns a canonical address, or undefined when the socket has no
 * address and no trusted hop vouches for one. Never throws for anything a request can carry; a
 * bad `options.header` is a TypeError (a configuration error).
 *
 * With a policy from `parseTrustProxy` this allocates nothing but the returned string. A plain
 * trust function `(addr, hop) => boolean` is also accepted; it receives canonical addresses.
 */
export function resolveClientIp(
  policy: TrustPolicy | TrustFunction,
  remoteAddress: string | undefined | null,
  headerValue?: string | string[] | undefined | null,
  options?: ResolveIpOptions,
): string | undefined {
  const internals = splitPolicy(policy)
  const fn = internals === undefined ? (policy as TrustFunction) : undefined
  const reader = options === undefined || options.header === undefined ? xForwardedForReader : addressReader(options.header)
  return walk(currentWalk(), internals, fn, remoteAddress, headerValue, reader)
}

/** The reader of the header `options.header` names, for the address-only walk. */
function addressReader(header: unknown): HeaderReader {
  const name = forwardingHeaderName(header)
  if (Object.prototype.hasOwnProperty.call(EDGE_HEADERS, name)) {
    throw new TypeError(
      `${name} is believed only from its provider's ranges: use resolveClient(policy, req, { header: '${name}' }), which checks the hop that delivered it`,
    )
  }
  return readerFor(name)
}
