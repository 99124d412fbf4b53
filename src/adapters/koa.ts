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
 *   chain, trusted hops, anomalies), and `ctx.state.audit` (its `auditFields` record);
 * - `ctx.ip`, `ctx.ips`, `ctx.protocol`, `ctx.secure`, `ctx.host` and `ctx.hostname`, so that
 *   code already reading Koa's getters (and `ctx.href`) gets the checked values.
 *
 * Leave `app.proxy` false: the request getters this middleware does not override (none that read
 * the client address) then never look at forwarding headers.
 *
 * Koa's types are not imported: the context is described by the few properties used, so this
 * entry point type-checks without `koa` or `@types/koa` installed.
 */
import { type ClientInfo, type ResolveOptions, type TrustPolicy, auditFields, type AuditFields } from '../index.js'
import { checkSetup } from './policy-check.js'
import { type NodeRequestLike, resolveRequest } from './node.js'

export type { AuditFields, ClientInfo, ResolveOptions, TrustPolicy }

/** What `koaClientIp` puts on `ctx.state`. */
export interface KoaClientIpState {
  /** The client address; undefined when there is none (a Unix socket with no trusted hop, say). */
  clientIp: string | undefined
  /** The full `resolveClient` result for this request. */
  clientInfo: ClientInfo
  /** The flat audit record of `auditFields(clientInfo)`, ready for a log line. */
  audit: AuditFields
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
  return function trustProxyClientIp(ctx, next) {
    if (ctx.state.clientInfo === undefined) {
      const info = resolveRequest(policy, ctx.req, options)
      ctx.state.clientInfo = info
      ctx.state.clientIp = info.ip
      ctx.state.audit = auditFields(info)
      override(ctx.request, info)
    }
    return next()
  }
}

/**
 * Own properties on this request's `ctx.request` shadow the getters of Koa's request prototype
 * (`ctx.ip` and the others are delegated to `ctx.request`), so nothing global is changed.
 */
function override(request: object, info: ClientInfo): void {
  const host = info.host ?? ''
  const define = (name: string, value: unknown) =>
    Object.defineProperty(request, name, { value, configurable: true, enumerable: false, writable: true })
  define('ip', info.ip ?? '')
  // Koa lists the client first and the nearest proxy last, like X-Forwarded-For; only hops the
  // walk verified are listed (the socket peer is not an X-Forwarded-For entry).
  define('ips', info.chain.slice(1).reverse().map((hop) => hop ?? ''))
  define('protocol', info.protocol)
  define('secure', info.protocol === 'https')
  define('host', host)
  define('hostname', hostnameOf(host))
}

/** The name part of a validated `host[:port]`; `[v6]` keeps its brackets, as Koa's `URL.hostname` does. */
function hostnameOf(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1)
  const colon = host.indexOf(':')
  return colon < 0 ? host : host.slice(0, colon)
}
