// node:http and ws: an upgrade request has the socket and headers of any other request.
import http from 'node:http'
import { WebSocketServer } from 'ws'
import { parseTrustProxy } from '@infram/trust-proxy'
import { resolveRequest } from '@infram/trust-proxy/node'

const policy = parseTrustProxy(process.env.TRUST_PROXY)
const server = http.createServer((req, res) => {
  const { ip, protocol, anomalies } = resolveRequest(policy, req)
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ ip, protocol, anomalies }))
})

const wss = new WebSocketServer({ noServer: true })
server.on('upgrade', (req, socket, head) => {
  const client = resolveRequest(policy, req) // resolved from the upgrade request, before the handshake
  wss.handleUpgrade(req, socket, head, (ws) => ws.send(JSON.stringify({ ip: client.ip })))
})

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on 127.0.0.1 port ${server.address().port}`)
})
