/**
 * `@infram/trust-proxy/elysia`: an Elysia plugin (Elysia runs on Bun) that derives `clientIp`
 * and `clientInfo` for every handler, from the socket peer Bun reports
 * (`server.requestIP(request)`) and the forwarding headers, walked from the right through the
 * policy's trusted hops.
 *
 * Bun's `server.requestIP(request)` is the TCP peer; it is null for a Unix socket and when the
 * app is called without a server (`app.handle(request)`): the peer is then "no address", which
 * only `unix` and hop counts trust (spec section 2), and the client is undefined unless a
 * trusted hop says otherwise.
 *
 * This entry point loads `elysia` (the plugin is an Elysia instance, so that its derived values
 * are typed in the app that uses it), the one framework it is for.
 */
import { Elysia } from 'elysia'
import { type ClientInfo, type ResolveOptions, type TrustPolicy, resolveClient } from '../index.js'
import { checkSetup } from './policy-check.js'

export type { ClientInfo, ResolveOptions, TrustPolicy }

export interface ElysiaClientIpOptions extends ResolveOptions {
  /**
   * True when the server listens with TLS (Bun knows; the `Request` does not say reliably). The
   * protocol is otherwise `http` unless a trusted proxy says `https`.
   */
  encrypted?: boolean
}

interface BunServerLike {
  requestIP(request: Request): { address: string } | null
}

/**
 * ```ts
 * new Elysia().use(elysiaClientIp(parseTrustProxy(process.env.TRUST_PROXY))).get('/', ({ clientIp }) => clientIp ?? 'unknown')
 * ```
 *
 * The values are derived once per request, for HTTP routes and `.ws()` upgrades alike (a
 * WebSocket handler reads them from `ws.data`).
 */
export function elysiaClientIp(policy: TrustPolicy, options?: ElysiaClientIpOptions) {
  const { encrypted, ...resolveOptions } = options ?? {}
  checkSetup(policy, resolveOptions, 'elysiaClientIp')
  const tls = encrypted === true
  return new Elysia().derive({ as: 'global' }, function trustProxyClientIp({ request, server }) {
    const peer = (server as BunServerLike | null)?.requestIP(request)?.address
    const clientInfo: ClientInfo = resolveClient(policy, { remoteAddress: peer, headers: request.headers, encrypted: tls }, resolveOptions)
    return { clientIp: clientInfo.ip, clientInfo }
  })
}
