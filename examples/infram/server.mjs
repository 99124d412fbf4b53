// A minimal Infram-style server: Express 5 + express-ws, audit lines on stdout.
import http from 'node:http'
import express from 'express'
import expressWs from 'express-ws'

let requestIp
try {
  requestIp = await import('./requestIp.mjs')
} catch (error) {
  if (error?.code !== 'ERR_INVALID_TRUST_PROXY') throw error
  console.error(error.message) // names the bad entry, its position, and the accepted forms
  process.exit(1)
}
const { trustPolicy, clientIpMiddleware, getClientIp, getAuditFields } = requestIp
for (const warning of trustPolicy.warnings) console.warn(`TRUST_PROXY: ${warning.message}`)

const app = express()
const server = http.createServer(app)
expressWs(app, server)
app.set('trust proxy', trustPolicy.trust) // Express's req.ip, req.protocol, req.hostname agree
app.use(clientIpMiddleware)

function audit(event, req) {
  const record = { event, ...getAuditFields(req) }
  console.log(JSON.stringify(record))
  return record
}

app.post('/api/auth/login', (req, res) => {
  res.json({ ...audit('login', req), ip: getClientIp(req), expressIp: req.ip })
})

app.ws('/api/terminal', (ws, req) => {
  ws.send(JSON.stringify({ ...audit('terminal', req), ip: getClientIp(req) }))
})

const host = process.env.HOST ?? '127.0.0.1'
server.listen(Number(process.env.PORT ?? 6989), host, () => {
  console.log(`listening on ${host} port ${server.address().port} with TRUST_PROXY=${trustPolicy}`)
})
