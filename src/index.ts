/**
 * @infram/trust-proxy: turn a TRUST_PROXY setting into a trust policy, and resolve the real
 * client IP, protocol and host of a request behind reverse proxies.
 *
 * The core (this entry point) imports nothing from Node or any framework: it runs in Node, Bun,
 * Deno and workers alike.
 */
export { parseTrustProxy, type TrustProxyInput } from './policy-parse.js'
export {
  TrustPolicy,
  MAX_HOPS,
  type PolicyKind,
  type TrustFunction,
  type TrustProxyWarning,
  type TrustProxyWarningCode,
} from './policy.js'
export { TrustProxyError, type TrustProxyErrorReason } from './policy-error.js'
export {
  resolveClientIp,
  resolveClient,
  isValidHost,
  type AnomalyCode,
  type ClientInfo,
  type ClientSource,
  type RequestLike,
  type ResolveOptions,
  type ResolveIpOptions,
} from './resolve.js'
export { canonicalizeIp } from './ip-text.js'
export { listEntries, type HeadersLike, type HeaderSource } from './headers.js'
export { auditFields, type AuditFields } from './audit.js'
export { rateLimitKey, NO_ADDRESS_KEY, DEFAULT_IPV6_SUBNET, type RateLimitKeyOptions } from './rate-limit.js'
export {
  traceClient,
  type ClientTrace,
  type MalformedReason,
  type TraceHop,
  type TraceOptions,
  type TraceRule,
  type TraceStop,
} from './trace.js'
export { otelAttributes, type OtelAttributes, type OtelConnection } from './otel.js'
export { EDGE_HEADERS, type EdgeRanges } from './edge.js'
export { presetNames, presetInfo, presetStaleDays, type PresetInfo } from './presets/registry.js'
export type { PresetData } from './presets/types.js'
export {
  refreshPresets,
  fetchPreset,
  validatePresetRanges,
  PresetSourceError,
  type FetchPresetOptions,
  type RefreshOptions,
  type PresetRefreshReport,
  type PresetRefreshResult,
} from './presets/refresh.js'
export { livePolicy, type LivePolicy } from './presets/live.js'
export {
  decodeProxyHeader,
  ProxyHeaderError,
  type DecodeOptions,
  type ProxyConnection,
  type ProxyDecodeResult,
  type ProxyEndpoint,
  type ProxyHeader,
  type ProxyHeaderErrorReason,
  type ProxySslInfo,
  type ProxyTlv,
  type ProxyTlvInfo,
} from './proxy-protocol.js'
