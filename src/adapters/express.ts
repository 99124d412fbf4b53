/**
 * `@infram/trust-proxy/express`: a middleware that sets `req.clientIp` and `req.clientInfo`.
 *
 * It works on plain HTTP requests and on the upgrade requests that express-ws routes through the
 * app (its `app.ws()` handlers receive the same `req`), so a terminal stream is attributed to the
 * same client as the login that opened it. It reads only `req.socket` and `req.headers`: never
 * `req.client` or `req.connection`, Node's deprecated aliases of the socket, and never Express's
 * `req.ip`, which depends on the separate `trust proxy` setting.
 *
 * To make Express's own `req.ip`, `req.ips`, `req.protocol` and `req.hostname` agree with it,
 * give Express the same policy: `app.set('trust proxy', policy.trust)`. Never give Express the
 * raw TRUST_PROXY string: it reads `"1"` as the address 0.0.0.1, not as one hop.
 */
import type { ClientInfo, ResolveOptions, TrustPolicy } from '../index.js'
import { checkSetup } from './policy-check.js'
import { type NodeRequestLike, resolveRequest } from './node.js'

export type { ClientInfo, ResolveOptions, TrustPolicy }

declare global {
  // Express's request type is the global `Express.Request` interface; merging into it types
  // `req.clientIp` for apps that use this middleware, without importing Express's types here.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The client address decided by `clientIp(policy)`; undefined when there is none. */
      clientIp?: string | undefined
      /** The full `resolveClient` result for this request (peer, chain, protocol, host, anomalies). */
      clientInfo?: ClientInfo
    }
  }
}

/** The request as the middleware sees it (Express's `Request` satisfies it). */
export interface ExpressRequestLike extends NodeRequestLike {
  clientIp?: string | undefined
  clientInfo?: ClientInfo
}

export type ClientIpMiddleware = (req: ExpressRequestLike, res: unknown, next: (err?: unknown) => void) => void

/**
 * The middleware. Mount it before the routes that log or rate-limit by client:
 *
 * ```js
 * const policy = parseTrustProxy(process.env.TRUST_PROXY) // throws on a bad value, at startup
 * app.use(clientIp(policy))
 * app.post('/login', (req, res) => audit('login', req.clientIp))
 * app.ws('/terminal', (ws, req) => audit('terminal', req.clientIp))
 * ```
 *
 * The client is resolved once per request: if the middleware runs again for the same request
 * (mounted twice, or on a router and the app), the first result stays.
 */
export function clientIp(policy: TrustPolicy, options?: ResolveOptions): ClientIpMiddleware {
  checkSetup(policy, options, 'clientIp')
  return function trustProxyClientIp(req, _res, next) {
    if (req.clientInfo === undefined) {
      const info = resolveRequest(policy, req, options)
      req.clientInfo = info
      req.clientIp = info.ip
    }
    next()
  }
}
