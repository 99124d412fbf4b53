// Fastify: the plugin decorates request.clientIp and request.clientInfo, once per request.
import Fastify from 'fastify'
import { parseTrustProxy } from '@infram/trust-proxy'
import { fastifyClientIp } from '@infram/trust-proxy/fastify'

const policy = parseTrustProxy(process.env.TRUST_PROXY)
const app = Fastify({ trustProxy: policy.trust }) // optional: request.ip, request.protocol, request.host agree
app.register(fastifyClientIp, { policy })
app.get('/', async (request) => ({ ip: request.clientIp, fastifyIp: request.ip, anomalies: request.clientInfo.anomalies }))

await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })
console.log(`listening on 127.0.0.1 port ${app.server.address().port}`)
