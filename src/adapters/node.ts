/**
 * `@infram/trust-proxy/node`: the client of a `node:http` / `node:https` request, for `request`
 * handlers and for `upgrade` handlers (the `ws` library's `handleUpgrade`, `noServer` mode, or
 * its `connection` event, whose second argument is the upgrade request).
 *
 * The protocol comes from the socket (`https` only on a TLS socket) unless a trusted proxy said
 * otherwise; it is never taken from the request line or any header a client controls.
 */
import { type ClientInfo, type ResolveOptions, type TrustPolicy, resolveClient } from '../index.js'
import { type ListenAddress, listenerWarning } from './listener.js'
import { peerOf } from './peer.js'
import { checkSetup } from './policy-check.js'
import { proxyConnectionOf } from '../proxy-protocol.js'

export type { ClientInfo, ResolveOptions, TrustPolicy }
export { listenerWarning, type ListenAddress }

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
 * The socket peer is the one captured when the connection arrived (see `peer.ts`), so an IP
 * read late, after an `await` and after the client hung up, is the same as one read at once, and
 * a closed TCP socket is never taken for a Unix socket. A missing request is a request with no
 * address.
 *
 * Never throws for anything the request carries. It throws a TypeError when `policy` is not a
 * TrustPolicy (a programming error: the raw TRUST_PROXY string must go through
 * `parseTrustProxy` first) or `options.header` is not a header name.
 */
export function resolveRequest(policy: TrustPolicy, req: NodeRequestLike | null | undefined, options?: ResolveOptions): ClientInfo {
  const socket = typeof req === 'object' && req !== null ? req.socket : undefined
  return resolveClient(
    policy,
    {
      remoteAddress: peerOf(socket),
      headers: req?.headers,
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

/** A server whose listening address can be read (`http.Server`, `https.Server`, `net.Server`). */
export interface ServerLike {
  address(): ListenAddress | unknown
  listening?: boolean
  once?(event: 'listening', listener: () => void): unknown
}

export interface CheckListenerOptions {
  /** Where the warning goes; default `process.emitWarning` (stderr), code `TRUST_PROXY_HOP_COUNT_LISTENER`. */
  warn?: (message: string) => void
}

// Shared by every copy of this module (each entry point and build carries one), so that the
// drop-in's check and the middleware's warn once per server between them.
const CHECKED = Symbol.for('@infram/trust-proxy/checked-listeners')
const checkedServers: WeakSet<object> = ((globalThis as { [CHECKED]?: WeakSet<object> })[CHECKED] ??= new WeakSet())

/**
 * Warns, once per server, when a hop-count policy serves on an address other hosts can reach
 * (`0.0.0.0`, `::`, a LAN or container address): there a client that connects directly forges
 * its own IP. Checks now if the server is listening, else when it starts listening.
 *
 * ```js
 * const server = http.createServer(handler).listen(6989)
 * checkListener(server, policy) // (node:1) [TRUST_PROXY_HOP_COUNT_LISTENER] TrustProxyWarning: ...
 * ```
 *
 * Returns the warning when it was given now (undefined otherwise). Never throws.
 */
export function checkListener(server: ServerLike | null | undefined, policy: TrustPolicy, options?: CheckListenerOptions): string | undefined {
  if (typeof server !== 'object' || server === null || typeof server.address !== 'function') return undefined
  if (policy?.kind !== 'hops' || checkedServers.has(server)) return undefined
  const check = (): string | undefined => {
    if (checkedServers.has(server)) return undefined
    let address: unknown
    try {
      address = server.address()
    } catch {
      return undefined
    }
    if (address === null || address === undefined) return undefined
    checkedServers.add(server)
    const message = listenerWarning(policy, address as ListenAddress)
    if (message !== undefined) (options?.warn ?? defaultWarn)(message)
    return message
  }
  if (server.listening === false && typeof server.once === 'function') {
    server.once('listening', check)
    return undefined
  }
  return check()
}

function defaultWarn(message: string): void {
  process.emitWarning(message, { type: 'TrustProxyWarning', code: 'TRUST_PROXY_HOP_COUNT_LISTENER' })
}
