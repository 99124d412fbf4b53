/**
 * One server for bench/adapters.mjs: `node adapters-server.mjs <framework> <mode>`, framework
 * `node:http` | `express` | `fastify` | `koa`, mode `none` | `own` | `ours` (and `ours-ip` for
 * node:http). Every handler answers `<client ip> <protocol> <host>` as text, so that each mode
 * does the same work: `none` reads the socket (no IP resolution), `own` the framework's own
 * trust-proxy getters given the same trusted list, `ours` our adapter.
 *
 * It listens on 127.0.0.1, port 0, sends `{ port }` to the parent over IPC, and answers every
 * IPC message with its own `process.cpuUsage()`, the CPU counters the benchmark divides by the
 * requests served.
 */
import http from 'node:http'
import { createRequire } from 'node:module'

const [framework, mode] = process.argv.slice(2)
const TRUSTED = ['127.0.0.1', '10.0.0.0/8', '198.51.100.0/24']
const lib = await import('../dist/index.js')
const policy = lib.parseTrustProxy(TRUSTED.join(', '))
const require = createRequire(import.meta.url)

let server
if (framework === 'node:http') {
  const { resolveRequest } = await import('../dist/node.js')
  const proxyAddr = require('proxy-addr')
  const trust = proxyAddr.compile(TRUSTED)
  const handlers = {
    none: (req) => `${req.socket.remoteAddress} http ${req.headers.host}`,
    // node:http has no trust proxy of its own: proxy-addr is what frameworks use.
    own: (req) => `${proxyAddr(req, trust)} ${trust(req.socket.remoteAddress, 0) ? req.headers['x-forwarded-proto'] : 'http'} ${req.headers.host}`,
    'ours-ip': (req) => `${lib.resolveClientIp(policy, req.socket.remoteAddress, req.headers['x-forwarded-for'])} http ${req.headers.host}`,
    ours: (req) => {
      const info = resolveRequest(policy, req)
      return `${info.ip} ${info.protocol} ${info.host}`
    },
  }
  const handle = handlers[mode]
  server = http.createServer((req, res) => {
    const body = handle(req)
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
} else if (framework === 'express') {
  const express = require('express')
  const app = express()
  app.set('etag', false)
  app.set('x-powered-by', false)
  if (mode === 'own') app.set('trust proxy', TRUSTED)
  if (mode === 'ours') app.use((await import('../dist/express.js')).clientIp(policy))
  app.get('/', (req, res) => {
    if (mode === 'none') res.send(`${req.socket.remoteAddress} http ${req.headers.host}`)
    else if (mode === 'own') res.send(`${req.ip} ${req.protocol} ${req.host}`)
    else res.send(`${req.clientIp} ${req.clientInfo.protocol} ${req.clientInfo.host}`)
  })
  server = http.createServer(app)
} else if (framework === 'fastify') {
  const Fastify = require('fastify')
  const app = Fastify({ trustProxy: mode === 'own' ? TRUSTED : false, logger: false })
  if (mode === 'ours') await app.register((await import('../dist/fastify.js')).fastifyClientIp, { policy })
  app.get('/', async (request) => {
    if (mode === 'none') return `${request.socket.remoteAddress} http ${request.headers.host}`
    if (mode === 'own') return `${request.ip} ${request.protocol} ${request.host}`
    return `${request.clientIp} ${request.clientInfo.protocol} ${request.clientInfo.host}`
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  process.send({ port: app.server.address().port })
} else if (framework === 'koa') {
  const Koa = require('koa')
  const app = new Koa()
  // Koa cannot trust a list: app.proxy trusts every hop; maxIpsCount keeps the right-most 3.
  if (mode === 'own') {
    app.proxy = true
    app.maxIpsCount = 3
  }
  if (mode === 'ours') app.use((await import('../dist/koa.js')).koaClientIp(policy))
  app.use((ctx) => {
    ctx.body = mode === 'none' ? `${ctx.req.socket.remoteAddress} http ${ctx.req.headers.host}` : `${ctx.ip} ${ctx.protocol} ${ctx.host}`
  })
  server = http.createServer(app.callback())
} else {
  throw new Error(`unknown framework ${framework}`)
}

if (server) {
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
}
process.on('message', () => process.send({ cpu: process.cpuUsage() }))
process.on('disconnect', () => process.exit(0))
