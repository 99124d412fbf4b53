// Rate limiting with @fastify/rate-limit, keyed on the client that TRUST_PROXY vouches for.
import Fastify from 'fastify'
import rateLimit from '@fastify/rate-limit'
import { parseTrustProxy } from '@infram/trust-proxy'
import { fastifyClientIp, fastifyRateLimitKey } from '@infram/trust-proxy/fastify'

const policy = parseTrustProxy(process.env.TRUST_PROXY) // throws on a bad value, at startup

const app = Fastify({ trustProxy: policy.trust }) // request.ip agrees
await app.register(fastifyClientIp, { policy }) // request.clientIp, request.clientInfo
await app.register(rateLimit, {
  max: 10,
  timeWindow: '15 minutes',
  keyGenerator: fastifyRateLimitKey(policy), // { ipv6Subnet: 56 } by default
})

app.post('/api/auth/login', async (request) => ({ client: request.clientIp ?? null }))

await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' })
console.log(`listening on port ${app.server.address().port} with TRUST_PROXY=${policy}`)
