// Express 5 and express-ws: one middleware gives req.clientIp on HTTP routes and WebSockets alike.
import http from 'node:http'
import express from 'express'
import expressWs from 'express-ws'
import { parseTrustProxy } from '@infram/trust-proxy'
import { clientIp, expressTrust } from '@infram/trust-proxy/express'

const policy = parseTrustProxy(process.env.TRUST_PROXY) // throws on a bad value, at startup
const app = express()
const server = http.createServer(app)
expressWs(app, server)
app.set('trust proxy', expressTrust(policy)) // req.ip (express-rate-limit's key), req.protocol, req.hostname agree
app.use(clientIp(policy))

app.get('/', (req, res) => res.json({ ip: req.clientIp, expressIp: req.ip, anomalies: req.clientInfo.anomalies }))
app.ws('/terminal', (ws, req) => ws.send(JSON.stringify({ ip: req.clientIp })))

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on 127.0.0.1 port ${server.address().port}`)
})
