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
import { type NodeRequestLike, resolveRequest } from './node.js'

export type { ClientInfo, ResolveOptions, TrustPolicy }

// The types below describe the parts of Fastify the plugin uses instead of importing them from
// 'fastify', so that this entry point's declarations compile where fastify is not installed
// (with `skipLibCheck: false`). A real Fastify instance fits them: `app.register(fastifyClientIp,
// { policy })` type-checks against Fastify 5 (the consumer test checks it). The types of
// `request.clientIp` and `request.clientInfo` are added to FastifyRequest by
// `fastify-request.d.ts` beside this file, which the build appends to dist/fastify.d.{ts,cts}: a
// declaration file may augment a module that is not installed, a source file may not.

export interface FastifyClientIpOptions extends ResolveOptions {
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
  const { policy, ...options } = opts ?? ({} as FastifyClientIpOptions)
  try {
    checkSetup(policy, options, 'fastifyClientIp')
  } catch (err) {
    // A callback plugin reports errors through done(): app.register() / app.ready() then reject.
    done(err as Error)
    return
  }
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
