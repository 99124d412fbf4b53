/**
 * The app behind the proxies in the end-to-end tests: a small Express 5 + express-ws server
 * that uses the library the way Infram does. It reads TRUST_PROXY once at startup (so a bad
 * value fails the start, not a request), mounts the library's Express middleware
 * (`clientIp(policy)` from `src/adapters/express.ts`), hands the same policy to Express, and
 * answers with the resolved client of every HTTP request and WebSocket upgrade.
 *
 * Every answer carries what the library resolved and, beside it, the raw forwarding headers the
 * app received, so a failing test shows what the proxy actually sent.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import expressWs from 'express-ws'
import type WebSocket from 'ws'
import { clientIp } from '../../src/adapters/express.js'
import { parseTrustProxy, type ClientInfo } from '../../src/index.js'

export interface AppEnv {
  TRUST_PROXY?: string | undefined
}

/** What the app answers on `/whoami`, and in each WebSocket message. */
export interface WhoAmI extends ClientInfo {
  /** `req.clientIp`, as the middleware set it (what Infram writes into its audit log). */
  clientIp: string | undefined
  /** Express's own `req.ip` under the same policy (proxy-addr's walk), for comparison. */
  expressIp: string | undefined
  received: {
    host: string | undefined
    xForwardedFor: string | undefined
    xForwardedProto: string | undefined
    xForwardedHost: string | undefined
    forwarded: string | undefined
    xRealIp: string | undefined
  }
}

export interface RunningApp {
  readonly host: string
  readonly port: number
  readonly env: AppEnv
  close(): Promise<void>
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v.join(', ') : v
}

/**
 * Starts the app on `host:port` (port 0 picks a free one). Throws, like Infram at startup, when
 * TRUST_PROXY is invalid.
 */
export async function startApp(env: AppEnv, host: string, port = 0): Promise<RunningApp> {
  const policy = parseTrustProxy(env.TRUST_PROXY)
  const app = express()
  const server = http.createServer(app)
  const { app: wsApp, getWss } = expressWs(app, server)
  app.set('trust proxy', policy.trust)

  // Resolved once per request, upgrade requests included (express-ws routes them through the app).
  app.use(clientIp(policy))

  const whoami = (req: express.Request): WhoAmI => ({
    ...req.clientInfo!,
    clientIp: req.clientIp,
    expressIp: req.ip,
    received: {
      host: header(req, 'host'),
      xForwardedFor: header(req, 'x-forwarded-for'),
      xForwardedProto: header(req, 'x-forwarded-proto'),
      xForwardedHost: header(req, 'x-forwarded-host'),
      forwarded: header(req, 'forwarded'),
      xRealIp: header(req, 'x-real-ip'),
    },
  })

  app.get('/whoami', (req, res) => {
    res.json(whoami(req))
  })

  // The terminal stream: the client is resolved once, on the upgrade request, and every message
  // in either direction is attributed to it.
  wsApp.ws('/ws', (ws: WebSocket, req) => {
    const me = whoami(req)
    let ticks = 0
    const send = (msg: object): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg))
    }
    send({ type: 'hello', me })
    const timer = setInterval(() => send({ type: 'tick', n: ++ticks, ip: me.ip }), 200)
    ws.on('message', (data) => send({ type: 'echo', data: String(data), ip: me.ip }))
    ws.on('close', () => clearInterval(timer))
    ws.on('error', () => clearInterval(timer))
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  let closed: Promise<void> | undefined
  return {
    host,
    port: address.port,
    env: { ...env },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
        // Upgraded sockets are no longer HTTP connections: end them too, or close() waits.
        for (const ws of getWss().clients) ws.terminate()
      })
      return closed
    },
  }
}
