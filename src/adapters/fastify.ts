/**
 * `@infram/trust-proxy/fastify`: a plugin that decorates `request.clientIp` and
 * `request.clientInfo`, resolved once per request in an `onRequest` hook.
 *
 * To make Fastify's own `request.ip`, `request.ips`, `request.protocol` and `request.host` agree
 * with it, give Fastify the same policy: `fastify({ trustProxy: policy.trust })`. That is also
 * how a hop count works on Fastify 5.12.1 and later, which refuse a numeric `trustProxy` (they
 * then trust no proxy at all): the policy's `trust` is a function, and Fastify accepts functions.
 *
 * The plugin is not encapsulated (like a `fastify-plugin` plugin, without depending on it): the
 * decorations apply to the whole app, whichever context registers it.
 */
import type { ClientInfo, ResolveOptions, TrustPolicy } from '../index.js'
import { checkSetup } from './policy-check.js'
import { type CheckListenerOptions, type NodeRequestLike, type ServerLike, checkListener, resolveRequest } from './node.js'
import { type KeyGeneratorOptions, keyFromInfo } from './rate-limit-key.js'

export type { ClientInfo, ResolveOptions, TrustPolicy, KeyGeneratorOptions }

// The types below describe the parts of Fastify the plugin uses instead of importing them from
// 'fastify', so that this entry point's declarations compile where fastify is not installed
// (with `skipLibCheck: false`). A real Fastify instance fits them: `app.register(fastifyClientIp,
// { policy })` type-checks against Fastify 5 (the consumer test checks it). The types of
// `request.clientIp` and `request.clientInfo` are added to FastifyRequest by
// `fastify-request.d.ts` beside this file, which the build appends to dist/fastify.d.{ts,cts}: a
// declaration file may augment a module that is not installed, a source file may not.

export interface FastifyClientIpOptions extends ResolveOptions, CheckListenerOptions {
  /** The policy from `parseTrustProxy(process.env.TRUST_PROXY)`. */
  policy: TrustPolicy
}

/** The request the plugin's hook decorates: Fastify's `FastifyRequest`. */
export interface FastifyRequestLike {
  raw: NodeRequestLike
  clientIp?: string | undefined
  clientInfo?: ClientInfo
}

/** What the plugin calls on the Fastify instance it is registered on. */
export interface FastifyInstanceLike {
  /** The node:http server Fastify listens with (for the hop-count listener warning). */
  server?: unknown
  decorateRequest(property: string, value: unknown): unknown
  addHook(name: 'onRequest', hook: (request: FastifyRequestLike, reply: unknown, done: (err?: Error) => void) => void): unknown
}

/** A Fastify callback plugin (`FastifyPluginCallback<FastifyClientIpOptions>`), structurally. */
export type FastifyClientIpPlugin = (instance: FastifyInstanceLike, options: FastifyClientIpOptions, done: (err?: Error) => void) => void

/**
 * ```js
 * const policy = parseTrustProxy(process.env.TRUST_PROXY) // throws on a bad value, at startup
 * const app = fastify({ trustProxy: policy.trust })
 * app.register(fastifyClientIp, { policy })
 * app.get('/', (request) => request.clientIp)
 * ```
 */
const plugin: FastifyClientIpPlugin = function trustProxyClientIp(fastify, opts, done) {
  const { policy, warn, ...options } = opts ?? ({} as FastifyClientIpOptions)
  try {
    checkSetup(policy, options, 'fastifyClientIp')
  } catch (err) {
    // A callback plugin reports errors through done(): app.register() / app.ready() then reject.
    done(err as Error)
    return
  }
  // A hop count on a listener other hosts can reach: one warning when the server starts listening.
  if (policy.kind === 'hops') checkListener(fastify.server as ServerLike, policy, { warn })
  // Declared up front with empty values (Fastify keeps request objects one shape) and filled in
  // by the hook before any route handler runs.
  fastify.decorateRequest('clientIp', undefined)
  fastify.decorateRequest('clientInfo', null as unknown as ClientInfo)
  fastify.addHook('onRequest', function resolveClientIp(request, _reply, next) {
    const info = resolveRequest(policy, request.raw, options)
    request.clientInfo = info
    request.clientIp = info.ip
    next()
  })
  done()
}

// What fastify-plugin would set: skip encapsulation, and a name for Fastify's logs and errors.
Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@infram/trust-proxy',
})

export const fastifyClientIp: FastifyClientIpPlugin = plugin

/**
 * A `keyGenerator` for @fastify/rate-limit: the policy's client, IPv4-mapped folded to IPv4, IPv6
 * grouped by subnet (`ipv6Subnet`, default 56), `no-address` for a request with no client address
 * (limited, not exempt). Uses `request.clientInfo` when the plugin is registered, else resolves.
 *
 * ```js
 * await app.register(rateLimit, { max: 10, timeWindow: 60_000, keyGenerator: fastifyRateLimitKey(policy) })
 * ```
 *
 * Reports trust-all and forwarding headers reaching a trust-none server as process warnings, once
 * each, as the Express generator does. Never throws for a request.
 */
export function fastifyRateLimitKey(
  policy: TrustPolicy,
  options?: KeyGeneratorOptions,
): (request: { raw: Parameters<typeof resolveRequest>[1]; clientInfo?: ClientInfo | null }) => string {
  checkSetup(policy, options, 'fastifyRateLimitKey')
  const keyOfInfo = keyFromInfo(policy, options, 'fastifyRateLimitKey')
  const header = options?.header === undefined ? undefined : { header: options.header }
  return function trustProxyRateLimitKey(request) {
    return keyOfInfo(request?.clientInfo ?? resolveRequest(policy, request?.raw, header))
  }
}
