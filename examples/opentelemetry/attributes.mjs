// OpenTelemetry attributes for any span, from the client TRUST_PROXY decided. In a handler:
// span.setAttributes(otelAttributes(resolveClient(policy, req), { peerPort: req.socket.remotePort }))
import { otelAttributes, parseTrustProxy, resolveClient } from '@infram/trust-proxy'

const policy = parseTrustProxy('127.0.0.9')
const req = {
  remoteAddress: '127.0.0.9',
  headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.7', 'x-forwarded-proto': 'https', host: 'infram.example.com' },
}
console.log(otelAttributes(resolveClient(policy, req), { peerPort: 51234 }))
