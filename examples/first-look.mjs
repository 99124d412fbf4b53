import { parseTrustProxy, resolveClientIp } from '@infram/trust-proxy'

const policy = parseTrustProxy('127.0.0.9') // nginx connects from 127.0.0.9; a typo throws here, at startup
console.log(resolveClientIp(policy, '127.0.0.9', '6.6.6.6, 203.0.113.7')) // through nginx: the client nginx saw
console.log(resolveClientIp(policy, '127.0.0.66', '203.0.113.7')) // not nginx: its header is ignored
