/**
 * What the resolver needs of a connection the PROXY protocol listener accepted: the balancer,
 * the header, and the policy for a walk whose hop 0 is the PROXY source.
 */
import type { ProxyHeader } from './proxy-protocol-header.js'
import { KIND_HOPS, type TrustFunction, type TrustPolicy, policyInternals } from './policy.js'
import { parseTrustProxy } from './policy-parse.js'

/**
 * What the PROXY protocol listener found on one connection, as the resolver reads it
 * (`RequestLike.proxyProtocol`; the Node adapters pick it up from the socket).
 */
export interface ProxyConnection {
  /** The TCP peer: the load balancer that sent the header, canonical. */
  loadBalancer: string | undefined
  /** The TCP peer's port (the socket's own `remotePort` becomes the PROXY source's). */
  loadBalancerPort?: number | undefined
  /** The header, or undefined when a trusted peer connected without one (`requireHeader: false`). */
  header: ProxyHeader | undefined
  /**
   * True when the balancer was vouched for by the walk's own policy (no separate `loadBalancer`
   * policy): under a hop count it is then the first of the policy's hops, so `TRUST_PROXY=1`
   * with one balancer believes the PROXY source and not the X-Forwarded-For behind it.
   */
  balancerIsHop: boolean
}

/** The symbol the listener stores a socket's {@link ProxyConnection} under (shared across bundles). */
export const PROXY_CONNECTION: unique symbol = Symbol.for('@infram/trust-proxy.proxy-connection') as never

/**
 * What the PROXY protocol listener stored on a connection's socket: on the socket itself, or for
 * TLS on the TCP socket the TLSSocket wraps (Node's `_parent`). Undefined when it does not run.
 */
export function proxyConnectionOf(socket: unknown): ProxyConnection | undefined {
  if (typeof socket !== 'object' || socket === null) return undefined
  const s = socket as { [PROXY_CONNECTION]?: ProxyConnection; _parent?: { [PROXY_CONNECTION]?: ProxyConnection } | null }
  return s[PROXY_CONNECTION] ?? s._parent?.[PROXY_CONNECTION] ?? undefined
}

/** The connection's client as hop 0 of the walk: the PROXY source, or the TCP peer when the header says so. */
export function proxyHopZero(pc: ProxyConnection, tcpPeer: unknown): { used: boolean; address: string | undefined } {
  const h = pc.header
  if (typeof h !== 'object' || h === null || h.command !== 'proxy' || h.family === 'unspec') {
    return { used: false, address: typeof tcpPeer === 'string' ? tcpPeer : undefined }
  }
  // A Unix-socket client of the balancer has no address: hop 0 is then an address-less peer.
  return { used: true, address: h.source?.address }
}

/** Duck-typed: a ProxyConnection made by any bundle of this package. */
export function isProxyConnection(v: unknown): v is ProxyConnection {
  return typeof v === 'object' && v !== null && typeof (v as ProxyConnection).balancerIsHop === 'boolean'
}

const shiftedHops = new Map<number, TrustPolicy>()
const shiftedFns = new WeakMap<TrustFunction, TrustFunction>()

/**
 * The policy for a walk whose hop 0 is the PROXY source when the balancer took the policy's
 * first hop: a hop count `n` becomes `n - 1`; a trust function sees hops counted from the
 * balancer. Ranges and keywords do not depend on the hop index and are returned as they are.
 */
export function policyAfterBalancer(policy: TrustPolicy | TrustFunction): TrustPolicy | TrustFunction {
  if (typeof policy !== 'function') {
    const internals = policyInternals(policy)
    if (internals === undefined || internals.kind !== KIND_HOPS) return policy
    let p = shiftedHops.get(internals.hops)
    if (p === undefined) shiftedHops.set(internals.hops, (p = parseTrustProxy(internals.hops - 1)))
    return p
  }
  let g = shiftedFns.get(policy)
  if (g === undefined) {
    const f = policy
    shiftedFns.set(f, (g = (addr, hop) => f(addr, hop + 1)))
  }
  return g
}
