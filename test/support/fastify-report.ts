/** What a Fastify test route answers: the plugin's result beside Fastify's own view of the request. */
import type { FastifyRequest } from 'fastify'
import '../../src/adapters/fastify.js'

export function fastifyReport(request: FastifyRequest) {
  return {
    peer: request.raw.socket.remoteAddress,
    clientIp: request.clientIp ?? null,
    clientInfo: request.clientInfo,
    fastify: { ip: request.ip, ips: request.ips ?? null, protocol: request.protocol, host: request.host },
  }
}
