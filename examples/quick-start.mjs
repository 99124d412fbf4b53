import { createServer } from 'node:http'
import { parseTrustProxy, resolveClient, resolveClientIp, TrustProxyError } from '@infram/trust-proxy'

// Parse once, at startup. A typo must stop the server, not silently trust the wrong hops.
let policy
try {
  policy = parseTrustProxy(process.env.TRUST_PROXY)
} catch (error) {
  if (!(error instanceof TrustProxyError)) throw error
  console.error(error.message) // names the bad entry, its position, and the accepted forms
  process.exit(1)
}
for (const warning of policy.warnings) console.warn(`TRUST_PROXY: ${warning.message}`)

/** The client IP of an HTTP request or a WebSocket upgrade (the same IncomingMessage). */
export function getClientIp(req) {
  return resolveClientIp(policy, req.socket.remoteAddress, req.headers['x-forwarded-for'])
}

/** Everything an audit record needs: client, proxy chain, protocol, host and anomalies. */
export function getClientInfo(req) {
  return resolveClient(policy, { remoteAddress: req.socket.remoteAddress, headers: req.headers, encrypted: req.socket.encrypted })
}

export const server = createServer((req, res) => {
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ ip: getClientIp(req), ...getClientInfo(req) }))
})

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 6989)
  server.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port} with TRUST_PROXY=${policy}`))
}
