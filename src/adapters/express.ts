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
import type { ClientInfo, ResolveOptions, TrustFunction, TrustPolicy } from '../index.js'
import { checkSetup } from './policy-check.js'
import { type CheckListenerOptions, type NodeRequestLike, type ServerLike, checkListener, resolveRequest } from './node.js'
import { type KeyGeneratorOptions, keyFromInfo } from './rate-limit-key.js'

export type { ClientInfo, ResolveOptions, TrustPolicy, KeyGeneratorOptions }

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

/** Options of {@link clientIp}: the resolve options, and where the listener warning goes. */
export interface ClientIpOptions extends ResolveOptions, CheckListenerOptions {}

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
 *
 * Express has no hook for "listening", so the listener check of a hop count ({@link checkListener})
 * runs on the first request each server receives: one warning per server that listens on an
 * address other hosts can reach.
 */
export function clientIp(policy: TrustPolicy, options?: ClientIpOptions): ClientIpMiddleware {
  checkSetup(policy, options, 'clientIp')
  const { warn, ...resolveOptions } = options ?? {}
  const hops = policy.kind === 'hops'
  return function trustProxyClientIp(req, _res, next) {
    if (hops) checkListener((req.socket as { server?: ServerLike } | null | undefined)?.server, policy, { warn })
    if (req.clientInfo === undefined) {
      const info = resolveRequest(policy, req, resolveOptions)
      req.clientInfo = info
      req.clientIp = info.ip
    }
    next()
  }
}

/**
 * The value to give Express's `trust proxy` setting for a policy, chosen so that Express's own
 * checks and express-rate-limit's keep working: literal `false` for `none` (express-rate-limit then
 * still reports ERR_ERL_UNEXPECTED_X_FORWARDED_FOR when a proxy is in front), literal `true` for
 * `all` (it still reports ERR_ERL_PERMISSIVE_TRUST_PROXY), the number for a hop count (Express
 * reads a number as hops, exactly as the policy does), and the policy's `trust` function for a
 * range list. With any of them `req.ip` is the policy's client (up to canonical form: Express
 * returns header text as written, `::ffff:` prefixes included).
 *
 * ```js
 * app.set('trust proxy', expressTrust(policy))
 * ```
 *
 * Never the raw TRUST_PROXY string: Express reads `"1"` as the address 0.0.0.1.
 */
export function expressTrust(policy: TrustPolicy): boolean | number | TrustFunction {
  checkSetup(policy, undefined, 'expressTrust')
  switch (policy.kind) {
    case 'none':
      return false
    case 'all':
      return true
    case 'hops':
      return policy.hops!
    default:
      return policy.trust
  }
}

/** The request as a key generator sees it. */
type KeyRequest = ExpressRequestLike

/**
 * A `keyGenerator` for express-rate-limit 8: the policy's client, IPv4-mapped folded to IPv4, IPv6
 * grouped by subnet (`ipv6Subnet`, default 56, as express-rate-limit's own `ipKeyGenerator`). It
 * does not depend on Express's `trust proxy` setting (without it, `req.ip` is the proxy, and one
 * user would lock everyone out). A request with no client address gets the key `no-address`: it is
 * limited, not exempt.
 *
 * ```js
 * app.use('/api/auth', rateLimit({ limit: 10, keyGenerator: rateLimitKeyGenerator(policy) }))
 * ```
 *
 * express-rate-limit skips its own trust-proxy checks when a custom key generator is given, so this
 * reports the same mistakes itself, once each (process warnings): a trust-all policy (at setup),
 * and forwarding headers reaching a server that trusts no proxy (on the first such request).
 * Uses `req.clientInfo` when the {@link clientIp} middleware ran. Never throws for a request.
 */
export function rateLimitKeyGenerator(policy: TrustPolicy, options?: KeyGeneratorOptions): (req: KeyRequest) => string {
  checkSetup(policy, options, 'rateLimitKeyGenerator')
  const keyOfInfo = keyFromInfo(policy, options, 'rateLimitKeyGenerator')
  const header = options?.header === undefined ? undefined : { header: options.header }
  return function trustProxyRateLimitKey(req) {
    return keyOfInfo(req?.clientInfo ?? resolveRequest(policy, req, header))
  }
}
