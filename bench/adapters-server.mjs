/**
 * One server for bench/adapters.mjs: `node adapters-server.mjs <framework> <mode>`, framework
 * `node:http` | `express` | `fastify` | `koa`, mode `none` | `own` | `ours`, and two that split our
 * cost: for node:http `lower-bound` (bench/lower-bound.mjs's walk and the forwarded protocol and
 * host unvalidated: the least any resolver giving the same answers does), `ours-ip` (the hot path, `resolveClientIp`) and `ours-core` (the core's
 * `resolveClient` called directly with the live socket address: the full record without the
 * adapter's own work), for Koa `ours-record` (a middleware that only stores `resolveRequest`'s
 * record on `ctx.state`, read from there: our Koa adapter without its Koa getters). Every
 * handler answers `<client ip> <protocol> <host>` as text, so that each mode does the same work:
 * `none` reads the socket (no IP resolution), `own` the framework's own trust-proxy getters given
 * the same trusted list, `ours` our adapter.
 *
 * It listens on 127.0.0.1, port 0, sends `{ port }` to the parent over IPC, and answers the IPC
 * message `cpu` with its own `process.cpuUsage()` (the counters the benchmark divides by the
 * requests served) and `section` with the mean and the median time its requests spent deciding
 * the client since the last `section`.
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
// `own`), so the differences are the resolution's own cost. The mean is what a request costs on
// average (the targets are about CPU per request); the median beside it shows the typical request
// (the mean also holds the requests that a garbage collection or another process interrupted).
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
function sectionFigures() {
  const n = Math.min(recorded, SLOTS)
  const xs = Array.from(durations.subarray(0, n)).sort((a, b) => a - b)
  recorded = 0
  if (n === 0) return { mean: NaN, median: NaN }
  return { mean: (xs.reduce((sum, x) => sum + x, 0) / n) * 1e6, median: xs[Math.floor(n / 2)] * 1e6 } // ns
}

// For the node:http floor (`lower-bound`): the trusted list as the lower bound's intervals.
const { lowerBoundResolve, rangeTrust } = await import('./lower-bound.mjs')
const floorTrust = rangeTrust([
  [0x7f000001, 0x7f000001],
  [0x0a000000, 0x0affffff],
  [0xc6336400, 0xc63364ff],
])
/** The walk's verdict on hop 0 (the socket peer), kept so that the peer is read once. */
let floorPeerTrusted = false
function floorTrustHop(v, hop) {
  const trusted = floorTrust(v)
  if (hop === 0) floorPeerTrusted = trusted
  return trusted
}
/** The right-most item of a header, trimmed, or undefined. */
function lastItem(value) {
  if (typeof value !== 'string') return undefined
  return value.slice(value.lastIndexOf(',') + 1).trim()
}

/** The request listener of one framework in one mode (`mode` is its own parameter, so that two can share a process). */
async function listenerFor(framework, mode) {
  if (framework === 'node:http') {
    const { resolveRequest } = await import('../dist/node.js')
    const proxyAddr = require('proxy-addr')
    const trust = proxyAddr.compile(TRUSTED)
    const handlers = {
      none: (req) => `${req.socket.remoteAddress} http ${req.headers.host}`,
      // node:http has no trust proxy of its own: proxy-addr is what frameworks use.
      own: (req) => `${proxyAddr(req, trust)} ${trust(req.socket.remoteAddress, 0) ? req.headers['x-forwarded-proto'] : 'http'} ${req.headers.host}`,
      // The floor under any resolver: bench/lower-bound.mjs's walk (strict IPv4 only, no state, no
      // chain, no anomalies) and the right-most X-Forwarded-Proto and X-Forwarded-Host taken
      // as they are (no validation) when the peer is trusted: the three answers, at the least work.
      'lower-bound': (req) => {
        floorPeerTrusted = false
        const ip = lowerBoundResolve(floorTrustHop, req.socket.remoteAddress, req.headers['x-forwarded-for'])
        const peerTrusted = floorPeerTrusted
        const proto = peerTrusted ? lastItem(req.headers['x-forwarded-proto']) ?? 'http' : 'http'
        const host = (peerTrusted ? lastItem(req.headers['x-forwarded-host']) : undefined) ?? req.headers.host
        return `${ip} ${proto} ${host}`
      },
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
    return (req, res) => {
      const body = answer(req, () => handle(req))
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) })
      res.end(body)
    }
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
    return app
  } else if (framework === 'fastify') {
    const Fastify = require('fastify')
    // Fastify's own request handler, served by our server as the others are (serverFactory hands
    // it over; the server it returns is never listened on).
    let handler
    const serverFactory = (h) => ((handler = h), http.createServer())
    const app = Fastify({ trustProxy: mode === 'own' ? TRUSTED : false, logger: false, serverFactory })
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
    await app.ready()
    return handler
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
    return app.callback()
  }
  throw new Error(`unknown framework ${framework}`)
}

// `ab:<mode>,<mode>`: both modes in this one process, taking turns (see the `ab` message below).
const modes = mode.startsWith('ab:') ? mode.slice(3).split(',') : [mode]
const listeners = []
for (const m of modes) listeners.push(await listenerFor(framework, m))
let turn = 0
const served = [0, 0]
/** While two modes take turns: the turns so far, and where the current one started. */
let ab = null
const server = http.createServer((req, res) => {
  if (ab !== null && served[turn] === ab.requestsPerTurn) flip()
  served[turn]++
  listeners[turn](req, res)
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))

/**
 * `{ ab: { requestsPerTurn, turns } }`: the two modes take turns of `requestsPerTurn` requests
 * each, `turns` turns in all; then the answer lists each turn's mode index, requests served and
 * process CPU (µs). Turns are counted in requests, not time: autocannon's fixed rate arrives in
 * bursts (a second's requests at once), so a turn of fixed time would hold a whole burst or none.
 * One process, one JIT, one heap, the same moment of the machine's load: the difference between
 * neighbouring turns is what the second mode costs, without what separate server processes add
 * (each compiles and lays out its code its own way, and runs at another minute of the load).
 */
function alternate({ requestsPerTurn, turns }) {
  served[0] = served[1] = 0
  ab = { requestsPerTurn, turns, done: [], cpu: process.cpuUsage() }
}

function flip() {
  const now = process.cpuUsage()
  ab.done.push({ mode: turn, requests: served[turn], cpu: now.user - ab.cpu.user + (now.system - ab.cpu.system) })
  ab.cpu = now
  served[turn] = 0
  turn = 1 - turn
  if (ab.done.length === ab.turns) {
    process.send({ turns: ab.done })
    ab = null
    turn = 0
  }
}

process.on('message', (m) => {
  if (m?.ab !== undefined) alternate(m.ab)
  else if (m === 'ab-end') {
    if (ab !== null) process.send({ turns: ab.done })
    ab = null
    turn = 0
  }
  else if (m === 'flip') process.send({ turn: (turn = 1 - turn) })
  else process.send(m === 'section' ? { section: sectionFigures() } : { cpu: process.cpuUsage() })
})
process.on('disconnect', () => process.exit(0))
