// Express behind a TCP load balancer that sends the PROXY protocol: HAProxy (send-proxy-v2),
// nginx stream (proxy_protocol on), an AWS NLB (proxy protocol v2), ...
import { createServer } from 'node:http'
import express from 'express'
import { auditFields, parseTrustProxy } from '@infram/trust-proxy'
import { clientIp } from '@infram/trust-proxy/express'
import { acceptProxyProtocol } from '@infram/trust-proxy/proxy-protocol'

// TRUST_PROXY names the load balancer (127.0.0.9/32 here; the NLB's subnets on AWS).
const policy = parseTrustProxy(process.env.TRUST_PROXY)

const app = express()
app.use(clientIp(policy))
app.get('/', (req, res) => {
  // peer_ip is the balancer, client_ip the client it accepted, client_ip_source "proxy-protocol".
  console.log(JSON.stringify({ event: 'visit', ...auditFields(req.clientInfo) }))
  res.json({ ip: req.clientIp })
})

const server = createServer(app)
const proxyProtocol = acceptProxyProtocol(server, {
  policy,
  // Each closed connection, once: a direct client, a missing or malformed header, a timeout.
  onReject: ({ reason, peer }) => console.error(`refused a connection from ${peer}: ${reason}`),
})
for (const warning of proxyProtocol.warnings) console.error(`warning: ${warning}`)

server.listen(Number(process.env.PORT ?? 6989), process.env.HOST ?? '127.0.0.1', () => {
  console.error(`listening on port ${server.address().port}`)
})
