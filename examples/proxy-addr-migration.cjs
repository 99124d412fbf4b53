// Migrating a plain proxy-addr caller, in two steps.
const http = require('node:http')
const { parseTrustProxy, resolveClientIp } = require('@infram/trust-proxy')

// Step 1, a drop-in: was `require('proxy-addr')`. Same answers, raw header text included.
const proxyaddr = require('@infram/trust-proxy/proxy-addr')
const trust = proxyaddr.compile(['loopback', '10.0.0.0/8']) // compile once, not per request

// Step 2, the core: the same list as a TRUST_PROXY value. Only canonical addresses come out.
const policy = parseTrustProxy('loopback, 10.0.0.0/8')

const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json')
  res.end(
    JSON.stringify({
      proxyaddr: proxyaddr(req, trust) ?? null,
      chain: proxyaddr.all(req, trust),
      core: resolveClientIp(policy, req.socket.remoteAddress, req.headers['x-forwarded-for']) ?? null,
    }),
  )
})

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on 127.0.0.1 port ${server.address().port}`)
})
