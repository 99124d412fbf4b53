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
 *
 * The pieces: the trace's types are trace-types.ts, the header read again trace-entries.ts, the
 * verdict per hop (which entry covers it) trace-explain.ts.
 */
import { getHeader, readerFor } from './headers.js'
import type { TrustFunction, TrustPolicy } from './policy.js'
import { isProxyConnection, policyAfterBalancer, proxyHopZero } from './proxy-protocol.js'
import { singleAddressReader } from './readers/single.js'
import { readEntries } from './trace-entries.js'
import { type Verdict, explainerFor } from './trace-explain.js'
import type { ClientTrace, TraceHop, TraceOptions, TraceStop } from './trace-types.js'
import { type ClientInfo, type RequestLike, forwardedProtoHost, resolveClient } from './resolve.js'
import { edgeRangesFor } from './edge.js'

export type { ClientTrace, MalformedReason, TraceHop, TraceOptions, TraceRule, TraceStop } from './trace-types.js'

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
