import { createServer } from 'node:http'
import { parseTrustProxy } from '@infram/trust-proxy'
import { createResolver } from '@infram/trust-proxy/node'

// TRUST_PROXY names your own proxies: `127.0.0.9` for nginx on this host (`proxy_bind 127.0.0.9`), unset when Cloudflare
// connects to the app directly. CF-Connecting-IP is then believed only when the hop that
// delivered the request is a Cloudflare address (the `cloudflare` preset), whatever else
// TRUST_PROXY says: a client that reaches nginx or the app directly cannot set it.
const policy = parseTrustProxy(process.env.TRUST_PROXY)
const clientOf = createResolver(policy, {
  header: 'cf-connecting-ip',
  // Cloudflare Tunnel: the edge is the local cloudflared, e.g. CF_EDGE=127.0.0.1/32.
  edge: process.env.CF_EDGE ?? 'cloudflare',
})

export const server = createServer((req, res) => {
  const { ip, anomalies } = clientOf(req)
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ ip, anomalies }))
})

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 6989)
  server.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`))
}
