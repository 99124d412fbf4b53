/**
 * `@infram/trust-proxy/node`: the client of a `node:http` / `node:https` request, for `request`
 * handlers and for `upgrade` handlers (the `ws` library's `handleUpgrade`, `noServer` mode, or
 * its `connection` event, whose second argument is the upgrade request).
 *
 * The protocol comes from the socket (`https` only on a TLS socket) unless a trusted proxy said
 * otherwise; it is never taken from the request line or any header a client controls.
 */
import { type ClientInfo, type ResolveOptions, type TrustPolicy, resolveClient } from '../index.js'
import { checkSetup } from './policy-check.js'
import { proxyConnectionOf } from '../proxy-protocol.js'

export type { ClientInfo, ResolveOptions, TrustPolicy }

/** The parts of an `http.IncomingMessage` (or an `Http2ServerRequest`) that are read. */
export interface NodeRequestLike {
  headers: { [name: string]: string | string[] | undefined }
  socket?: { remoteAddress?: string | undefined; encrypted?: boolean } | null | undefined
}

/**
 * The client of a Node request: `ip`, `peer`, `chain`, `protocol`, `host`, `anomalies`. The
 * policy comes from `parseTrustProxy`, called once at startup.
 *
 * ```js
 * const policy = parseTrustProxy(process.env.TRUST_PROXY)
 * http.createServer((req, res) => { const { ip } = resolveRequest(policy, req) })
 * server.on('upgrade', (req, socket, head) => { const { ip } = resolveRequest(policy, req) })
 * ```
 *
 * Never throws for anything the request carries. It throws a TypeError when `policy` is not a
 * TrustPolicy (a programming error: the raw TRUST_PROXY string must go through
 * `parseTrustProxy` first) or `options.header` is not a header name.
 */
export function resolveRequest(policy: TrustPolicy, req: NodeRequestLike, options?: ResolveOptions): ClientInfo {
  const socket = req.socket
  return resolveClient(
    policy,
    {
      remoteAddress: socket?.remoteAddress,
      headers: req.headers,
      encrypted: socket?.encrypted === true,
      proxyProtocol: proxyConnectionOf(socket),
    },
    options,
  )
}

/**
 * A resolver bound to one policy, checked now: for servers that want a bad policy or header
 * option to fail at startup rather than on the first request.
 *
 * ```js
 * const clientOf = createResolver(parseTrustProxy(process.env.TRUST_PROXY))
 * server.on('upgrade', (req) => audit('terminal', clientOf(req).ip))
 * ```
 */
export function createResolver(policy: TrustPolicy, options?: ResolveOptions): (req: NodeRequestLike) => ClientInfo {
  checkSetup(policy, options, 'createResolver')
  return (req) => resolveRequest(policy, req, options)
}
