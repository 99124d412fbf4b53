/**
 * `@infram/trust-proxy/web`: the client of a Web `Request` (Hono, Bun, Deno, workers), and a
 * Hono middleware.
 *
 * A Web `Request` does not carry the socket: the peer address comes from the runtime (Hono's
 * `getConnInfo(c).remote.address`, Bun's `server.requestIP(req)`, Deno's `info.remoteAddr`),
 * and the caller passes it in. Nor does it say reliably whether the connection was TLS (some
 * servers build `request.url` from an absolute-form request line, which the client writes), so
 * the protocol is `http` unless the caller passes `encrypted` or a trusted proxy says `https`.
 *
 * Nothing from hono is imported, not even its types: this entry point's declarations describe
 * the parts of Hono's `Context` they use, so they compile where hono is not installed (a Bun,
 * Deno or workers user of `resolveWebRequest`, with `skipLibCheck: false`). Hono's own
 * `Context`, `getConnInfo` and `app.use` fit them (the consumer test checks it).
 */
import type { ClientInfo, HeadersLike, ResolveOptions, TrustPolicy } from '../index.js'
import { resolveClient } from '../index.js'
import { checkSetup } from './policy-check.js'

export type { ClientInfo, ResolveOptions, TrustPolicy }

export interface WebResolveOptions extends ResolveOptions {
  /** True when the connection to this server is TLS (the runtime knows; the Request does not). */
  encrypted?: boolean
}

/**
 * The client of a Web `Request` whose connection came from `remoteAddress`.
 *
 * ```js
 * // Bun
 * Bun.serve({ fetch(req, server) {
 *   const { ip } = resolveWebRequest(policy, req, server.requestIP(req)?.address, { encrypted: true })
 * } })
 * ```
 *
 * Never throws for anything the request carries.
 */
export function resolveWebRequest(
  policy: TrustPolicy,
  request: { headers: HeadersLike },
  remoteAddress: string | undefined | null,
  options?: WebResolveOptions,
): ClientInfo {
  return resolveClient(
    policy,
    { remoteAddress: remoteAddress ?? undefined, headers: request?.headers, encrypted: options?.encrypted === true },
    options,
  )
}

/** The variables the Hono middleware sets: `c.get('clientIp')`, `c.get('clientInfo')`. */
export type ClientIpVariables = {
  clientIp: string | undefined
  clientInfo: ClientInfo
}

/** The parts of Hono's `Context` the middleware uses. */
export interface HonoContextLike {
  get(key: string): unknown
  set(key: string, value: unknown): void
  req: { raw: { headers: HeadersLike } }
  env?: unknown
}

/** Hono's `ConnInfo`, as far as it is read: the peer's address. */
export interface ConnInfoLike {
  remote: { address?: string | undefined }
}

/** A Hono middleware (`MiddlewareHandler`), structurally. */
export type HonoMiddleware = (c: HonoContextLike, next: () => Promise<void>) => Promise<void>

// Method syntax, so that a function typed with Hono's own Context is accepted (parameters of
// methods are compared both ways; a Context has everything HonoContextLike names).
type ContextCallback<R> = { callback(c: HonoContextLike): R }['callback']

export interface HonoClientIpOptions extends ResolveOptions {
  /**
   * The runtime's connection-info helper: `getConnInfo` from `@hono/node-server/conninfo` on
   * Node, `hono/bun`, `hono/deno` or `hono/cloudflare-workers` elsewhere. It is passed in, not
   * imported, so that this package depends on no runtime adapter.
   */
  getConnInfo: ContextCallback<ConnInfoLike>
  /**
   * Whether the connection is TLS, or how to tell from the context. By default the Node
   * bindings of @hono/node-server are asked (`c.env.incoming.socket.encrypted`); elsewhere the
   * answer is false unless given here.
   */
  encrypted?: boolean | ContextCallback<boolean>
}

/**
 * A Hono middleware that resolves the client once per request (HTTP and WebSocket upgrades
 * alike) and sets the `clientIp` and `clientInfo` variables.
 *
 * Declare the variables on the app (`new Hono<{ Variables: ClientIpVariables }>()`) for
 * `c.get('clientIp')` to be typed in the routes.
 *
 * ```ts
 * import { getConnInfo } from '@hono/node-server/conninfo'
 * const app = new Hono<{ Variables: ClientIpVariables }>()
 * app.use(honoClientIp(parseTrustProxy(process.env.TRUST_PROXY), { getConnInfo }))
 * app.get('/', (c) => c.text(c.get('clientIp') ?? 'unknown'))
 * ```
 */
export function honoClientIp(
  policy: TrustPolicy,
  options: HonoClientIpOptions,
): HonoMiddleware {
  const { getConnInfo, encrypted, ...resolveOptions } = options ?? ({} as HonoClientIpOptions)
  checkSetup(policy, resolveOptions, 'honoClientIp')
  if (typeof getConnInfo !== 'function') {
    throw new TypeError(
      "honoClientIp: options.getConnInfo is required (import { getConnInfo } from '@hono/node-server/conninfo', or your runtime's hono helper)",
    )
  }
  return async function trustProxyClientIp(c, next) {
    if (c.get('clientInfo') === undefined) {
      // A failing getConnInfo (a helper for another runtime) throws: answering without the
      // peer address would let a hop-count policy trust whatever the client wrote.
      const remote = getConnInfo(c).remote.address
      const tls = typeof encrypted === 'function' ? encrypted(c) : encrypted ?? nodeSocketEncrypted(c)
      const info = resolveClient(policy, { remoteAddress: remote, headers: c.req.raw.headers, encrypted: tls === true }, resolveOptions)
      c.set('clientInfo', info)
      c.set('clientIp', info.ip)
    }
    await next()
  }
}

/** `socket.encrypted` from @hono/node-server's bindings, found where its `getConnInfo` looks. */
function nodeSocketEncrypted(c: HonoContextLike): boolean {
  const env = c.env as { server?: { incoming?: unknown }; incoming?: unknown } | undefined
  const incoming = (env?.server ?? env)?.incoming as { socket?: { encrypted?: unknown } } | undefined
  return incoming?.socket?.encrypted === true
}
