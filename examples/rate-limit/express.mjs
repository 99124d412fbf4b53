// Rate limiting a login route with express-rate-limit 8, keyed on the client that TRUST_PROXY
// vouches for: forged X-Forwarded-For entries do not make new buckets, an IPv6 client is one
// bucket per /56, and a request with no client address shares the "no-address" bucket.
import express from 'express'
import { rateLimit } from 'express-rate-limit'
import { parseTrustProxy } from '@infram/trust-proxy'
import { clientIp, expressTrust, rateLimitKeyGenerator } from '@infram/trust-proxy/express'

const policy = parseTrustProxy(process.env.TRUST_PROXY) // throws on a bad value, at startup

const app = express()
app.set('trust proxy', expressTrust(policy)) // req.ip agrees; express-rate-limit's checks stay meaningful
app.use(clientIp(policy))

const loginLimiter = rateLimit({
  windowMs: 15 * 60 * 1000,
  limit: 10,
  standardHeaders: 'draft-8',
  legacyHeaders: false,
  keyGenerator: rateLimitKeyGenerator(policy), // { ipv6Subnet: 56 } by default
})

app.post('/api/auth/login', loginLimiter, (req, res) => {
  res.json({ client: req.clientIp ?? null, key: req.rateLimit.key })
})

const server = app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', () => {
  console.log(`listening on port ${server.address().port} with TRUST_PROXY=${policy}`)
})
