import { parseTrustProxy, resolveClientIp } from '@infram/trust-proxy'

const policy = parseTrustProxy('loopback')
// The address-only walk of another header: Forwarded (RFC 7239) or a single-address header.
console.log(resolveClientIp(policy, '127.0.0.1', 'for="[2001:db8:cafe::17]:4711";proto=https', { header: 'forwarded' }))
console.log(resolveClientIp(policy, '127.0.0.1', '198.51.100.23', { header: 'x-real-ip' }))
