/**
 * `@infram/trust-proxy/opentelemetry`: hooks for `@opentelemetry/instrumentation-http` that
 * replace its `client.address` (the left-most X-Forwarded-For entry, which any client can write)
 * with the client TRUST_PROXY's walk decided.
 *
 * ```js
 * new HttpInstrumentation({ ...otelHttpHooks(parseTrustProxy(process.env.TRUST_PROXY)) })
 * ```
 *
 * Only the types of the instrumentation's hooks are followed here; nothing from OpenTelemetry is
 * imported, so this entry point adds no dependency.
 */
import { type ClientInfo, type ResolveOptions, type TrustPolicy, otelAttributes, type OtelAttributes } from '../index.js'
import { type NodeRequestLike, resolveRequest } from './node.js'
import { checkSetup } from './policy-check.js'

export { otelAttributes, type OtelAttributes }
export type { ClientInfo, ResolveOptions, TrustPolicy }

/** The request the instrumentation hands its hooks: an incoming or an outgoing one. */
type HookRequest = object

/** The part of an OpenTelemetry span the request hook uses. */
interface SpanLike {
  setAttributes(attributes: Record<string, string | number>): unknown
}

export interface OtelHttpHooks {
  /** For `startIncomingSpanHook`: the attributes at span start, so samplers see the real client too. */
  startIncomingSpanHook: (request: HookRequest) => Record<string, string | number>
  /** For `requestHook`: sets the same attributes again on server spans (ignores client spans). */
  requestHook: (span: SpanLike, request: HookRequest) => void
}

/** A server-side request (`IncomingMessage`): headers and a socket, and no `getHeader` (a `ClientRequest` has one). */
function incoming(request: HookRequest): NodeRequestLike & { socket?: { remotePort?: number } } | undefined {
  const r = request as { headers?: unknown; socket?: unknown; getHeader?: unknown }
  return typeof r.headers === 'object' && r.headers !== null && typeof r.getHeader !== 'function'
    ? (request as NodeRequestLike & { socket?: { remotePort?: number } })
    : undefined
}

/**
 * The two hooks, to spread into the instrumentation's configuration. The policy and options are
 * checked now (a bad one throws here, at startup). Each request is resolved once; both hooks
 * give the same attributes.
 */
export function otelHttpHooks(policy: TrustPolicy, options?: ResolveOptions): OtelHttpHooks {
  checkSetup(policy, options, 'otelHttpHooks')
  const seen = new WeakMap<object, Record<string, string | number>>()
  const attributesOf = (req: NodeRequestLike & { socket?: { remotePort?: number } }): Record<string, string | number> => {
    let attrs = seen.get(req)
    if (attrs === undefined) {
      const info = resolveRequest(policy, req, options)
      attrs = otelAttributes(info, { peerPort: req.socket?.remotePort }) as unknown as Record<string, string | number>
      seen.set(req, attrs)
    }
    return attrs
  }
  return {
    startIncomingSpanHook(request) {
      const req = incoming(request)
      return req === undefined ? {} : attributesOf(req)
    },
    requestHook(span, request) {
      const req = incoming(request)
      if (req !== undefined) span.setAttributes(attributesOf(req))
    },
  }
}
