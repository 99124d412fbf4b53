// The core: parse once, then resolve per request. Run it: node examples/api.mjs
import { parseTrustProxy, resolveClient, resolveClientIp } from '@infram/trust-proxy'

const policy = parseTrustProxy('127.0.0.9, 10.0.0.0/8') // throws TrustProxyError on bad input
console.log(policy.kind, policy.ranges, policy.toString(), policy.warnings)

// The hot path: just the client IP (a string, or undefined).
console.log(resolveClientIp(policy, '127.0.0.9', '6.6.6.6, 203.0.113.7, 10.1.2.3'))

// Everything an audit record needs.
const info = resolveClient(policy, {
  remoteAddress: '::ffff:127.0.0.9',
  headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https', host: 'infram.example.com' },
})
console.log(info)
