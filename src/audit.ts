/**
 * A flat record of how a request's client was decided, for audit log lines.
 *
 * An audit log outlives the code that writes it: the record has fixed snake_case keys, always
 * all of them, `null` for a missing value (never `undefined`, which JSON drops, so that a
 * missing client IP stays visible as a missing client IP), and only strings, numbers and arrays
 * of strings. Every value comes from {@link resolveClient}, so it is a canonical address, a
 * validated host or a fixed code: nothing a client wrote reaches the log verbatim.
 */
import type { AnomalyCode, ClientInfo } from './resolve.js'

export interface AuditFields {
  /** The client address the walk settled on, canonical; null when there is none. */
  client_ip: string | null
  /**
   * The socket peer (the host that connected to this server: behind the PROXY protocol, the load
   * balancer), canonical; null for a Unix socket.
   */
  peer_ip: string | null
  /**
   * Every hop the walk looked at, socket peer (or PROXY source) first and the client last: entry `i` is hop `i`,
   * so `forwarded_chain[trusted_hops] === client_ip`. A hop with no address (a Unix socket peer)
   * is null; the chain is empty when the socket address itself is unreadable (`malformed-peer`).
   */
  forwarded_chain: (string | null)[]
  /** How many hops were believed to be proxies (0: the client connected directly). */
  trusted_hops: number
  /** `http` or `https`, as the client used it. */
  protocol: 'http' | 'https'
  /** `host[:port]` the client asked for; null when absent or invalid. */
  host: string | null
  /** Anomaly codes (`forwarded-by-untrusted-peer`, `malformed-entry`, ...), in the order found. */
  anomalies: AnomalyCode[]
  /**
   * Where `client_ip` came from: `socket` (the client connected directly), `proxy-protocol` (the
   * load balancer's PROXY header), or the name of the forwarding header it was read from.
   */
  client_ip_source: string
  /**
   * The PROXY protocol source (the client the load balancer accepted), canonical; null when the
   * connection carried no PROXY header with an address. `peer_ip` is then the load balancer.
   */
  proxy_source_ip: string | null
}

/**
 * The audit fields of a {@link resolveClient} result. The record is a fresh object with fresh
 * arrays: a logger may keep or mutate it without touching the request's `ClientInfo`.
 *
 * ```js
 * logger.info({ event: 'login', user, ...auditFields(req.clientInfo) })
 * ```
 */
export function auditFields(info: ClientInfo): AuditFields {
  return {
    client_ip: info.ip ?? null,
    peer_ip: info.peer ?? null,
    forwarded_chain: info.chain.map((hop) => hop ?? null),
    trusted_hops: info.trustedHops,
    protocol: info.protocol,
    host: info.host ?? null,
    anomalies: info.anomalies.slice(),
    client_ip_source: info.source,
    proxy_source_ip: info.proxyProtocol?.header?.source?.address ?? null,
  }
}
