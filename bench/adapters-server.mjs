/**
 * One server for bench/adapters.mjs: `node adapters-server.mjs <framework> <mode>`, framework
 * `node:http` | `express` | `fastify` | `koa`, mode `none` | `own` | `ours`, and two that split our
 * cost: for node:http `ours-ip` (the hot path, `resolveClientIp`) and `ours-core` (the core's
 * `resolveClient` called directly with the live socket address: the full record without the
 * adapter's own work), for Koa `ours-record` (a middleware that only stores `resolveRequest`'s
 * record on `ctx.state`, read from there: our Koa adapter without its Koa getters). Every
 * handler answers `<client ip> <protocol> <host>` as text, so that each mode does the same work:
 * `none` reads the socket (no IP resolution), `own` the framework's own trust-proxy getters given
 * the same trusted list, `ours` our adapter.
 *
 * It listens on 127.0.0.1, port 0, sends `{ port }` to the parent over IPC, and answers the IPC
 * message `cpu` with its own `process.cpuUsage()` (the counters the benchmark divides by the
 * requests served) and `section` with the median time its requests spent deciding the client
 * since the last `section`.
 */
import http from 'node:http'
import { createRequire } from 'node:module'

const [framework, mode] = process.argv.slice(2)
const TRUSTED = ['127.0.0.1', '10.0.0.0/8', '198.51.100.0/24']
const lib = await import('../dist/index.js')
const policy = lib.parseTrustProxy(TRUSTED.join(', '))
const require = createRequire(import.meta.url)

// The time each request spends deciding its client (wall clock, performance.now()): from just
// before the adapter's middleware or hook to just after it, plus the handler reading the
// answer. Every mode has the same marks around the same place (around nothing, for `none` and
// `own`), so the differences are the resolution's own cost. The median is reported: a request
// preempted by another process mid-measure is an outlier, not a cost.
const SLOTS = 1 << 16
const durations = new Float64Array(SLOTS)
let recorded = 0
const START = Symbol('start')
const SPENT = Symbol('spent')
const before = (raw) => {
  raw[START] = performance.now()
}
const after = (raw) => {
  raw[SPENT] = performance.now() - raw[START]
}
function answer(raw, fn) {
  const t0 = performance.now()
  const body = fn()
  durations[recorded++ & (SLOTS - 1)] = (raw[SPENT] ?? 0) + performance.now() - t0
  return body
}
function sectionMedian() {
  const n = Math.min(recorded, SLOTS)
  const xs = Array.from(durations.subarray(0, n)).sort((a, b) => a - b)
  recorded = 0
  return n === 0 ? NaN : xs[Math.floor(n / 2)] * 1e6 // ns
}

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
    'ours-core': (req) => {
      const info = lib.resolveClient(policy, { remoteAddress: req.socket.remoteAddress, headers: req.headers, encrypted: req.socket.encrypted === true })
      return `${info.ip} ${info.protocol} ${info.host}`
    },
    ours: (req) => {
      const info = resolveRequest(policy, req)
      return `${info.ip} ${info.protocol} ${info.host}`
    },
  }
  const handle = handlers[mode]
  server = http.createServer((req, res) => {
    const body = answer(req, () => handle(req))
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
} else if (framework === 'express') {
  const express = require('express')
  const app = express()
  app.set('etag', false)
  app.set('x-powered-by', false)
  if (mode === 'own') app.set('trust proxy', TRUSTED)
  app.use((req, _res, next) => (before(req), next()))
  if (mode === 'ours') app.use((await import('../dist/express.js')).clientIp(policy))
  app.use((req, _res, next) => (after(req), next()))
  app.get('/', (req, res) => {
    res.send(
      answer(req, () => {
        if (mode === 'none') return `${req.socket.remoteAddress} http ${req.headers.host}`
        if (mode === 'own') return `${req.ip} ${req.protocol} ${req.host}`
        return `${req.clientIp} ${req.clientInfo.protocol} ${req.clientInfo.host}`
      }),
    )
  })
  server = http.createServer(app)
} else if (framework === 'fastify') {
  const Fastify = require('fastify')
  const app = Fastify({ trustProxy: mode === 'own' ? TRUSTED : false, logger: false })
  app.addHook('onRequest', (request, _reply, done) => (before(request.raw), done()))
  if (mode === 'ours') await app.register((await import('../dist/fastify.js')).fastifyClientIp, { policy })
  app.addHook('onRequest', (request, _reply, done) => (after(request.raw), done()))
  app.get('/', async (request) =>
    answer(request.raw, () => {
      if (mode === 'none') return `${request.socket.remoteAddress} http ${request.headers.host}`
      if (mode === 'own') return `${request.ip} ${request.protocol} ${request.host}`
      return `${request.clientIp} ${request.clientInfo.protocol} ${request.clientInfo.host}`
    }),
  )
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
  app.use((ctx, next) => (before(ctx.req), next()))
  if (mode === 'ours') app.use((await import('../dist/koa.js')).koaClientIp(policy))
  if (mode === 'ours-record') {
    const { resolveRequest } = await import('../dist/node.js')
    app.use((ctx, next) => ((ctx.state.clientInfo = resolveRequest(policy, ctx.req)), next()))
  }
  app.use((ctx, next) => (after(ctx.req), next()))
  app.use((ctx) => {
    ctx.body = answer(ctx.req, () => {
      if (mode === 'none') return `${ctx.req.socket.remoteAddress} http ${ctx.req.headers.host}`
      if (mode === 'ours-record') return `${ctx.state.clientInfo.ip} ${ctx.state.clientInfo.protocol} ${ctx.state.clientInfo.host}`
      return `${ctx.ip} ${ctx.protocol} ${ctx.host}`
    })
  })
  server = http.createServer(app.callback())
} else {
  throw new Error(`unknown framework ${framework}`)
}

if (server) {
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
}
process.on('message', (m) => process.send(m === 'section' ? { section: sectionMedian() } : { cpu: process.cpuUsage() }))
process.on('disconnect', () => process.exit(0))
