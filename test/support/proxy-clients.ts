/**
 * Test clients for the end-to-end proxy tests: HTTPS and WebSocket requests from a chosen
 * loopback source address (`localAddress`), so each test knows exactly which client address the
 * app must resolve.
 */
import http from 'node:http'
import https from 'node:https'
import type { ConnectionOptions } from 'node:tls'
import WebSocket from 'ws'
import type { WhoAmI } from '../proxies/app.js'
import { hostPort, PUBLIC_HOST } from './proxies.js'

export interface ClientOptions {
  /** The proxy's listening address: 127.0.0.1 or ::1. */
  connect: string
  port: number
  /** The client's own address: 127.0.0.x or ::1. */
  from: string
  /** The Host header; `infram.test:<port>` by default. */
  host?: string
  path?: string
  headers?: Record<string, string | string[]>
  /** The CA to verify the proxy's certificate with; plain HTTP when absent. */
  ca?: string
}

export interface Response<T> {
  status: number
  headers: http.IncomingHttpHeaders
  body: T
}

export function publicHost(port: number): string {
  return `${PUBLIC_HOST}:${port}`
}

/** One request on a fresh connection (no agent, no connection reuse between clients). */
export function request(o: ClientOptions): Promise<Response<string>> {
  const tls = o.ca !== undefined
  const options: https.RequestOptions = {
    host: o.connect,
    port: o.port,
    localAddress: o.from,
    path: o.path ?? '/whoami',
    method: 'GET',
    agent: false,
    headers: { host: o.host ?? publicHost(o.port), ...o.headers },
    timeout: 10_000,
  }
  if (tls) {
    options.ca = o.ca
    options.servername = PUBLIC_HOST
  }
  return new Promise((resolve, reject) => {
    const req = (tls ? https : http).request(options, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`request to ${hostPort(o.connect, o.port)} timed out`)))
    req.on('error', reject)
    req.end()
  })
}

/** GET /whoami over HTTPS; fails unless the app answered 200 with JSON. */
export async function whoami(o: ClientOptions): Promise<WhoAmI> {
  const res = await request(o)
  if (res.status !== 200) throw new Error(`expected 200 from ${hostPort(o.connect, o.port)}, got ${res.status}: ${res.body.slice(0, 500)}`)
  return JSON.parse(res.body) as WhoAmI
}

export interface WsSessionResult {
  hello: WhoAmI
  sent: number
  echoes: { data: string; ip: string | undefined }[]
  ticks: number
  tickIps: Set<string | undefined>
}

/**
 * Opens a WebSocket to /ws through the proxy, sends a numbered message every `everyMs` for
 * `durationMs`, collects the server's echoes and its own ticks, then closes.
 */
export function wsSession(o: ClientOptions & { durationMs: number; everyMs?: number }): Promise<WsSessionResult> {
  const url = `wss://${hostPort(o.connect, o.port)}${o.path ?? '/ws'}`
  return new Promise((resolve, reject) => {
    // ws hands these on to tls.connect (servername: SNI for the certificate's name).
    const options: WebSocket.ClientOptions & ConnectionOptions = {
      ca: o.ca,
      servername: PUBLIC_HOST,
      localAddress: o.from,
      headers: { host: o.host ?? publicHost(o.port), ...o.headers },
      handshakeTimeout: 10_000,
    }
    const ws = new WebSocket(url, options)
    const result: WsSessionResult = { hello: undefined as unknown as WhoAmI, sent: 0, echoes: [], ticks: 0, tickIps: new Set() }
    let timer: NodeJS.Timeout | undefined
    let stopAt: NodeJS.Timeout | undefined
    const fail = (e: Error): void => {
      clearInterval(timer)
      clearTimeout(stopAt)
      ws.terminate()
      reject(e)
    }
    ws.on('error', fail)
    ws.on('unexpected-response', (_req, res) => fail(new Error(`upgrade refused: ${res.statusCode}`)))
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { type: string; me?: WhoAmI; data?: string; ip?: string; n?: number }
      if (msg.type === 'hello') result.hello = msg.me!
      else if (msg.type === 'echo') result.echoes.push({ data: msg.data!, ip: msg.ip })
      else if (msg.type === 'tick') {
        result.ticks++
        result.tickIps.add(msg.ip)
      }
    })
    ws.on('open', () => {
      const every = o.everyMs ?? 200
      timer = setInterval(() => ws.send(`msg-${++result.sent}`), every)
      stopAt = setTimeout(() => {
        clearInterval(timer)
        // Give the last echoes time to come back (up to 3 s on a loaded machine) before closing.
        const deadline = Date.now() + 3000
        const drain = (): void => {
          if (result.echoes.length >= result.sent || Date.now() > deadline) ws.close(1000)
          else setTimeout(drain, 25)
        }
        drain()
      }, o.durationMs)
    })
    ws.on('close', () => {
      clearInterval(timer)
      clearTimeout(stopAt)
      if (result.hello === undefined) reject(new Error('closed before the hello message'))
      else resolve(result)
    })
  })
}
