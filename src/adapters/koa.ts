/**
 * `@infram/trust-proxy/koa`: a Koa middleware that replaces `app.proxy`, `app.maxIpsCount` and
 * `app.proxyIpHeader`.
 *
 * Koa's own `ctx.ip` with `app.proxy = true` is the LEFT-most X-Forwarded-For entry, which any
 * client writes (`maxIpsCount` only cuts the list, and a hop count cannot tell a proxy from a
 * client that connected directly); its `ctx.protocol` and `ctx.host` believe X-Forwarded-Proto
 * and X-Forwarded-Host from anyone once `app.proxy` is on. This middleware walks from the right
 * through the policy's trusted hops and then sets, on this request only:
 *
 * - `ctx.state.clientIp` and `ctx.state.clientInfo` (the full `resolveClient` result: peer,
 *   chain, trusted hops, anomalies: the audit record, flattened by `auditFields` for a log line);
 * - `ctx.ip`, `ctx.ips`, `ctx.protocol`, `ctx.secure`, `ctx.host` and `ctx.hostname`, so that
 *   code already reading Koa's getters (and `ctx.href`) gets the checked values. `ctx.ip` goes
 *   through Koa's own setter; the others are getters installed once on the app's own request
 *   and context prototypes (`app.request`, `app.context`), which answer from the request's
 *   result and defer to Koa's own getters for a request the middleware did not see.
 *
 * Leave `app.proxy` false: the request getters this middleware does not override (none that read
 * the client address) then never look at forwarding headers.
 *
 * Koa's types are not imported: the context is described by the few properties used, so this
 * entry point type-checks without `koa` or `@types/koa` installed.
 */
import type { ClientInfo, ResolveOptions, TrustPolicy } from '../index.js'
import { checkSetup } from './policy-check.js'
import { type NodeRequestLike, resolveRequest } from './node.js'

export type { ClientInfo, ResolveOptions, TrustPolicy }

/** What `koaClientIp` puts on `ctx.state`. */
export interface KoaClientIpState {
  /** The client address; undefined when there is none (a Unix socket with no trusted hop, say). */
  clientIp: string | undefined
  /**
   * The full `resolveClient` result for this request: the audit record (peer, chain, trusted
   * hops, protocol, host, anomalies). `auditFields(ctx.state.clientInfo)` flattens it for a log
   * line; it is not built for every request, because most requests are never logged.
   */
  clientInfo: ClientInfo
}

/** The parts of a Koa context that are read and written (Koa's `Context` satisfies it). */
export interface KoaContextLike {
  req: NodeRequestLike
  request: object
  state: Record<string, unknown>
}

export type KoaClientIpMiddleware = (ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<unknown>

/**
 * ```js
 * app.use(koaClientIp(parseTrustProxy(process.env.TRUST_PROXY)))
 * app.use((ctx) => { ctx.body = ctx.ip }) // or ctx.state.clientIp
 * ```
 *
 * The client is resolved once per request (a second mount keeps the first result). A missing
 * client address leaves `ctx.ip` as Koa's own "unknown", the empty string, never a header value.
 */
export function koaClientIp(policy: TrustPolicy, options?: ResolveOptions): KoaClientIpMiddleware {
  checkSetup(policy, options, 'koaClientIp')
  // The app request prototype this middleware last saw patched: a middleware serves one app (or a
  // few), so the WeakSet below is asked once per app rather than once per request.
  let lastPatched: object | null = null
  return function trustProxyClientIp(ctx, next) {
    if (ctx.state.clientInfo === undefined) {
      const info = resolveRequest(policy, ctx.req, options)
      ctx.state.clientInfo = info
      ctx.state.clientIp = info.ip
      const request = ctx.request as KoaRequestWithInfo
      const proto = Object.getPrototypeOf(request) as object | null
      if (proto !== null && (proto === lastPatched || patched.has(proto) || (isKoaRequestPrototype(proto) && patch(proto, ctx)))) {
        lastPatched = proto
        request[INFO] = info
        // Koa's own setter: caches the value `ctx.ip` returns for this request.
        ;(request as { ip?: string }).ip = info.ip ?? ''
      } else {
        // Not a Koa request (a test double, a plain object): its own properties, and nothing
        // on a prototype that other objects share.
        for (const [name, value] of Object.entries(VALUES)) define(request, name, value(info))
        define(request, 'ip', info.ip ?? '')
      }
    }
    return next()
  }
}

const INFO = Symbol('@infram/trust-proxy.koa')
type KoaRequestWithInfo = { [INFO]?: ClientInfo }

/** App request prototypes whose getters already consult the per-request result. */
const patched = new WeakSet<object>()

/**
 * Once per app: the app's own request prototype (`app.request`, one per Koa application, not
 * Koa's shared one) gets `ips`, `protocol`, `secure`, `host` and `hostname` getters that answer
 * from this request's result when the middleware ran, and defer to Koa's getters otherwise (a
 * request on a route the middleware is not mounted on). Per request that costs one property
 * write, where six `Object.defineProperty` calls on each request object cost more than the walk.
 *
 * The app's own context prototype (`app.context`) gets the same five, reading the result from
 * `ctx.request`: `ctx.protocol` then answers at once instead of going through Koa's delegate to
 * `ctx.request.protocol` (a function call and two lookups per read: for a handler that reads
 * `ctx.protocol` and `ctx.host`, about 6% of what this middleware costs per request, counted in
 * instructions). A context the middleware did not see still goes through Koa's delegate, so the
 * answer is the same either way.
 */
function patch(proto: object, ctx: KoaContextLike): true {
  patched.add(proto)
  for (const [name, value] of Object.entries(VALUES)) {
    const original = findGetter(proto, name)
    Object.defineProperty(proto, name, {
      configurable: true,
      enumerable: false,
      get(this: KoaRequestWithInfo) {
        const info = this[INFO]
        return info !== undefined ? value(info) : original?.call(this)
      },
    })
  }
  const contextProto = Object.getPrototypeOf(ctx) as object | null
  if (contextProto !== null && isKoaContextPrototype(contextProto)) {
    for (const [name, value] of Object.entries(VALUES)) {
      const delegate = findGetter(contextProto, name)
      Object.defineProperty(contextProto, name, {
        configurable: true,
        enumerable: false,
        get(this: { request?: KoaRequestWithInfo }) {
          const info = this.request?.[INFO]
          return info !== undefined ? value(info) : delegate?.call(this)
        },
      })
    }
  }
  return true
}

/** The values that replace Koa's getters, from the request's result. */
const VALUES: Record<string, (info: ClientInfo) => unknown> = {
  // Koa lists the client first and the nearest proxy last, like X-Forwarded-For; only hops the
  // walk verified are listed (the socket peer is not an X-Forwarded-For entry).
  ips: (info) => info.chain.slice(1).reverse().map((hop) => hop ?? ''),
  protocol: (info) => info.protocol,
  secure: (info) => info.protocol === 'https',
  host: (info) => info.host ?? '',
  hostname: (info) => hostnameOf(info.host ?? ''),
}

/**
 * An app's request prototype: `Object.create(app.request)` is how Koa makes `ctx.request`, and
 * `app.request` inherits Koa's getters without owning them. Object.prototype, or any prototype
 * without Koa's `protocol` getter and `ip` setter, is never changed.
 */
function isKoaRequestPrototype(proto: object): boolean {
  if (proto === Object.prototype || Object.getOwnPropertyDescriptor(proto, 'protocol') !== undefined) return false
  const base = Object.getPrototypeOf(proto) as object | null
  const protocol = base === null ? undefined : Object.getOwnPropertyDescriptor(base, 'protocol')
  const ip = base === null ? undefined : Object.getOwnPropertyDescriptor(base, 'ip')
  return typeof protocol?.get === 'function' && typeof ip?.set === 'function'
}

/**
 * An app's context prototype: `Object.create(app.context)` is how Koa makes `ctx`, and
 * `app.context` inherits Koa's delegates (`protocol` a getter, `onerror` a method) without
 * owning them. Koa's shared context prototype and Object.prototype are never changed.
 */
function isKoaContextPrototype(proto: object): boolean {
  if (proto === Object.prototype || Object.getOwnPropertyDescriptor(proto, 'protocol') !== undefined) return false
  const base = Object.getPrototypeOf(proto) as object | null
  const protocol = base === null ? undefined : Object.getOwnPropertyDescriptor(base, 'protocol')
  const onerror = base === null ? undefined : Object.getOwnPropertyDescriptor(base, 'onerror')
  return typeof protocol?.get === 'function' && typeof onerror?.value === 'function'
}

function define(target: object, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, configurable: true, enumerable: false, writable: true })
}

function findGetter(proto: object | null, name: string): (() => unknown) | undefined {
  for (let p = proto; p !== null; p = Object.getPrototypeOf(p) as object | null) {
    const d = Object.getOwnPropertyDescriptor(p, name)
    if (d !== undefined) return d.get
  }
  return undefined
}

/** The name part of a validated `host[:port]`; `[v6]` keeps its brackets, as Koa's `URL.hostname` does. */
function hostnameOf(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1)
  const colon = host.indexOf(':')
  return colon < 0 ? host : host.slice(0, colon)
}
