/**
 * The detailed result of a request, for audit records: the client and how it was decided (the
 * walk, walk.ts), the protocol and host the client used, and the anomalies seen on the way. The
 * record's types are in record-types.ts, the steps after the walk in record-steps.ts.
 */
import { edgeRangesFor } from './edge.js'
import { forwardingHeaderName, isWebHeaders, loadedHeader, plainHeaders, readHeader, readerFor } from './headers.js'
import { KIND_HOPS, type TrustFunction, type TrustPolicy, policyInternals } from './policy.js'
import { isProxyConnection, policyAfterBalancer, proxyHopZero } from './proxy-protocol.js'
import { localRanges, readEdgeHeader, readForwardedProtoHost, readHost, walkAnomalies } from './record-steps.js'
import type { ClientInfo, RequestLike, ResolveOptions } from './record-types.js'
import { holdWalk, releaseWalk, splitPolicy, walk } from './walk.js'

export { type ResolveIpOptions, resolveClientIp } from './walk.js'
export type { AnomalyCode, ClientInfo, ClientSource, RequestLike, ResolveOptions } from './record-types.js'
/** `host[:port]` validation (RFC 3986 / RFC 1123) lives in host.ts. */
export { isValidHost } from './host.js'
/** @internal Read by trace.ts, which shows the forwarded protocol and host as received. */
export { forwardedProtoHost } from './record-steps.js'

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
    const plain = plainHeaders(headers, web)
    // X-Forwarded-For by its name at this site (see loadedHeader); another header by the general read.
    const headerValue =
      walked === 'x-forwarded-for' ? loadedHeader(headers, web, walked, plain?.['x-forwarded-for']) : readHeader(headers, web, walked)
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
      anomalies: walkAnomalies(w, peerTrusted, peerIsEdge, kind, pc, headers, web, plain, walked),
    }
    if (edge !== undefined && !w.malformedPeer) readEdgeHeader(info, w, edge, readHeader(headers, web, name), name)
    // A balancer that ended the client's TLS itself says so in the SSL TLV (client bit 1).
    if (hop0?.used === true && ((pc!.header?.tlv?.ssl?.client ?? 0) & 1) === 1) info.protocol = 'https'
    readHost(info, headers, web, plain)
    if (peerTrusted) readForwardedProtoHost(info, headers, web, plain, reader, headerValue, w.hasEntries)
    if (pc !== undefined) {
      info.peer = pc.loadBalancer
      info.proxyProtocol = pc
    }
    return info
  } finally {
    releaseWalk()
  }
}
