// Infram's server/utils/requestIp.js, on @infram/trust-proxy.
//
// TRUST_PROXY is parsed once, when this module is first imported (at server startup). A bad value
// throws a TrustProxyError that names the bad entry, and the server does not start: it never
// degrades to "trust nothing" or "trust everything". `1` is one hop, not `true`.
import { auditFields, parseTrustProxy } from '@infram/trust-proxy'
import { clientIp } from '@infram/trust-proxy/express'
import { resolveRequest } from '@infram/trust-proxy/node'

export const trustPolicy = parseTrustProxy(process.env.TRUST_PROXY)

/** Express middleware: sets req.clientIp and req.clientInfo, on HTTP and express-ws requests. */
export const clientIpMiddleware = clientIp(trustPolicy)

/** The client IP of an HTTP request or a WebSocket upgrade request, with or without the middleware. */
export function getClientIp(req) {
  return (req.clientInfo ?? resolveRequest(trustPolicy, req)).ip
}

/** The audit-log fields of a request: client_ip, peer_ip, forwarded_chain, trusted_hops, ... */
export function getAuditFields(req) {
  return auditFields(req.clientInfo ?? resolveRequest(trustPolicy, req))
}
