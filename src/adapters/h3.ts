/**
 * `@infram/trust-proxy/h3`: replacements for h3 2's `getRequestIP`, `getRequestProtocol` and
 * `getRequestHost` (Nuxt and Nitro use h3).
 *
 * h3's own `getRequestIP(event, { xForwardedFor: true })` returns the LEFT-most X-Forwarded-For
 * entry, which any client writes, and `getRequestProtocol` / `getRequestHost` with
 * `xForwardedProto` / `xForwardedHost` believe those headers from anyone. These walk from the
 * right through the policy's trusted hops, validate what they return, and resolve each request
 * once (the result is kept on `event.context.clientInfo`).
 *
 * The socket peer is read from the runtime, not from `event.req.ip` on Node (srvx's `ip` there
 * may already have applied srvx's own `trustProxy` option): the Node socket's `remoteAddress`
 * on Node, `event.req.ip` on Bun and Deno (srvx fills it from `server.requestIP(request)` and
 * `info.remoteAddr`), and whatever the platform gives elsewhere.
 *
 * h3's types are not imported: the event is described by the properties read, so this entry
 * point type-checks without h3 installed.
 */
import { type ClientInfo, type HeadersLike, type ResolveOptions, type TrustPolicy, resolveClient } from '../index.js'
import { type NodeRequestLike, resolveRequest } from './node.js'
import { checkSetup } from './policy-check.js'

export type { ClientInfo, ResolveOptions, TrustPolicy }

/** The parts of an h3 2 `H3Event` that are read (h3's `H3Event` satisfies it). */
export interface H3EventLike {
  req: {
    headers: HeadersLike
    /** srvx: the peer address on Bun and Deno. */
    ip?: string | undefined
    /** srvx: the runtime's own request objects (`node.req` is Node's IncomingMessage). */
    runtime?: { node?: { req?: NodeRequestLike } } | undefined
  }
  context: Record<string, unknown>
}

export interface H3ClientIpOptions extends ResolveOptions {
  /**
   * Whether the connection is TLS, or how to tell from the event. By default Node's
   * `socket.encrypted` is asked (through the Node adapter); on other runtimes the answer is
   * false unless given here (a Web `Request`'s URL can come from an absolute-form request line,
   * which the client writes).
   */
  encrypted?: boolean | ((event: H3EventLike) => boolean)
}

/** What `h3ClientIp(policy)` returns: drop-in functions of one argument, the event. */
export interface H3ClientIp {
  /** The client address, canonical; undefined when there is none. h3's `getRequestIP`. */
  getRequestIP(event: H3EventLike): string | undefined
  /** `http` or `https`, believed from X-Forwarded-Proto only from a trusted peer. */
  getRequestProtocol(event: H3EventLike): 'http' | 'https'
  /** `host[:port]`, believed from X-Forwarded-Host only from a trusted peer; `''` when invalid. */
  getRequestHost(event: H3EventLike): string
  /** The full `resolveClient` result (peer, chain, trusted hops, anomalies). */
  getClientInfo(event: H3EventLike): ClientInfo
}

/**
 * ```js
 * const { getRequestIP, getRequestProtocol, getRequestHost } = h3ClientIp(parseTrustProxy(process.env.TRUST_PROXY))
 * app.get('/', (event) => getRequestIP(event))
 * ```
 */
export function h3ClientIp(policy: TrustPolicy, options?: H3ClientIpOptions): H3ClientIp {
  const { encrypted, ...resolveOptions } = options ?? {}
  checkSetup(policy, resolveOptions, 'h3ClientIp')
  const getClientInfo = (event: H3EventLike): ClientInfo => {
    const cached = event.context.clientInfo as ClientInfo | undefined
    if (cached !== undefined) return cached
    const req = event.req
    const nodeReq = req.runtime?.node?.req
    let info: ClientInfo
    if (nodeReq !== undefined && encrypted === undefined) {
      // On Node: the Node adapter, which reads the socket (and whether it is TLS) as it does for
      // any IncomingMessage.
      info = resolveRequest(policy, nodeReq, resolveOptions)
    } else {
      // Elsewhere srvx's `ip` is the runtime's peer address.
      const remoteAddress = nodeReq !== undefined ? nodeReq.socket?.remoteAddress : req.ip
      const tls = typeof encrypted === 'function' ? encrypted(event) : encrypted === true
      info = resolveClient(policy, { remoteAddress, headers: req.headers, encrypted: tls === true }, resolveOptions)
    }
    event.context.clientInfo = info
    return info
  }
  return {
    getClientInfo,
    getRequestIP: (event) => getClientInfo(event).ip,
    getRequestProtocol: (event) => getClientInfo(event).protocol,
    getRequestHost: (event) => getClientInfo(event).host ?? '',
  }
}
