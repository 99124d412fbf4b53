/**
 * Real sockets for the adapter tests: servers on free loopback ports, and HTTP and WebSocket
 * clients that connect from a chosen source address (`localAddress` 127.0.0.2 to 127.0.0.254, or
 * ::1), so that the socket peer the server sees is a fact the test chose, not a mocked value.
 *
 * Every loopback address is inside `loopback`, so the scenarios model the reverse proxy as one
 * exact source address, 127.0.0.9/32 (spec section 6): a request from 127.0.0.9 is "the proxy",
 * any other source is a client that reached the server directly.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'

/** The address that plays the reverse proxy. */
export const PROXY = '127.0.0.9'
/** A sent Host header, so that host results are known in advance. */
export const HOST = 'gateway.test:6989'

type Server = http.Server | https.Server

/** Listens on a free port of `host` (default: `::`, which also accepts IPv4 as ::ffff:a.b.c.d). */
export function listen(server: Server, host = '::'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => {
      server.off('error', reject)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

/** Closes a server and every connection it still holds (keep-alive, WebSocket). */
export function close(server: Server | undefined): Promise<void> {
  if (server === undefined || !server.listening) return Promise.resolve()
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

export interface ClientOptions {
  port: number
  /** Source address of the connection. */
  from: string
  path?: string
  headers?: Record<string, string>
  tls?: boolean
}

/** The address to connect to from `from`: the same family's loopback. */
const target = (from: string): string => (from.includes(':') ? '::1' : '127.0.0.1')

/** One HTTP GET from `from`; resolves to the parsed JSON body. */
export function get(opts: ClientOptions): Promise<any> {
  const mod = opts.tls ? https : http
  return new Promise((resolve, reject) => {
    const req = mod.request(
      {
        host: target(opts.from),
        port: opts.port,
        path: opts.path ?? '/',
        localAddress: opts.from,
        headers: { host: HOST, connection: 'close', ...opts.headers },
        rejectUnauthorized: false,
        agent: false,
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${body}`))
          try {
            resolve(JSON.parse(body))
          } catch (e) {
            reject(e)
          }
        })
      },
    )
    req.setTimeout(10_000, () => req.destroy(new Error('HTTP request timed out')))
    req.on('error', reject)
    req.end()
  })
}

/** Opens a WebSocket from `from` and resolves to the first message, parsed as JSON. */
export function wsFirstMessage(opts: ClientOptions): Promise<any> {
  const host = target(opts.from)
  const url = `${opts.tls ? 'wss' : 'ws'}://${host.includes(':') ? `[${host}]` : host}:${opts.port}${opts.path ?? '/ws'}`
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      localAddress: opts.from,
      headers: { host: HOST, ...opts.headers },
      rejectUnauthorized: false,
      handshakeTimeout: 10_000,
    } as WebSocket.ClientOptions)
    const timer = setTimeout(() => {
      ws.terminate()
      reject(new Error('no WebSocket message'))
    }, 10_000)
    ws.once('message', (data) => {
      clearTimeout(timer)
      ws.close()
      try {
        resolve(JSON.parse(String(data)))
      } catch (e) {
        reject(e)
      }
    })
    ws.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer)
      reject(new Error(`WebSocket upgrade refused: HTTP ${res.statusCode}`))
    })
  })
}

/** A throw-away self-signed certificate for 127.0.0.1 and ::1, or undefined without openssl. */
export function selfSignedCertificate(): { key: string; cert: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'trust-proxy-tls-'))
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=IP:127.0.0.1,IP:::1',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    )
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') }
  } catch {
    return undefined
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/** What a scenario must resolve to; worked out from the source address and headers chosen. */
export interface Expected {
  ip: string
  trustedHops: number
  protocol: 'http' | 'https'
  host: string
  /** Anomaly codes that must be reported (others may be too). */
  anomalies?: string[]
}

export interface Scenario {
  name: string
  /** Source address of the client connection. */
  from: string
  headers: Record<string, string>
  expect: Expected
  /**
   * Whether every header is well formed, so that Express's and Fastify's own results must agree
   * with ours (for malformed entries they return header text; we never do).
   */
  valid: boolean
}

const direct = (ip: string): Expected => ({ ip, trustedHops: 0, protocol: 'http', host: HOST })
const FORGED = { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' }

/** Scenarios by TRUST_PROXY value (the policy the server is started with). */
export const SCENARIOS: Record<string, Scenario[]> = {
  // The proxy is one known source address: only it may speak for clients.
  '127.0.0.9/32': [
    { name: 'a direct client, no headers', from: '127.0.0.2', headers: {}, expect: direct('127.0.0.2'), valid: true },
    {
      name: 'a direct client forging every forwarding header',
      from: '127.0.0.77',
      headers: FORGED,
      expect: { ...direct('127.0.0.77'), anomalies: ['forwarded-by-untrusted-peer'] },
      valid: true,
    },
    {
      name: 'the proxy forwarding a client',
      from: PROXY,
      headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example.com' },
      expect: { ip: '203.0.113.5', trustedHops: 1, protocol: 'https', host: 'app.example.com' },
      valid: true,
    },
    {
      name: 'the proxy forwarding a client that forged the left of the header',
      from: PROXY,
      headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.5', 'x-forwarded-proto': 'http' },
      expect: { ip: '203.0.113.5', trustedHops: 1, protocol: 'http', host: HOST },
      valid: true,
    },
    {
      name: 'the proxy forwarding an IPv6 client',
      from: PROXY,
      headers: { 'x-forwarded-for': '2001:db8::42', 'x-forwarded-proto': 'https' },
      expect: { ip: '2001:db8::42', trustedHops: 1, protocol: 'https', host: HOST },
      valid: true,
    },
    {
      name: 'an IPv6 client from ::1 forging X-Forwarded-For',
      from: '::1',
      headers: { 'x-forwarded-for': '6.6.6.6' },
      expect: { ...direct('::1'), anomalies: ['forwarded-by-untrusted-peer'] },
      valid: true,
    },
    {
      name: 'the proxy passing on a malformed entry',
      from: PROXY,
      headers: { 'x-forwarded-for': 'unknown', 'x-forwarded-proto': 'https' },
      expect: { ip: PROXY, trustedHops: 0, protocol: 'https', host: HOST, anomalies: ['malformed-entry'] },
      valid: false,
    },
  ],
  // Two layers: an edge proxy in 10.0.0.0/8 behind the local one.
  '127.0.0.9/32, 10.0.0.0/8': [
    {
      name: 'a chain of two trusted proxies',
      from: PROXY,
      headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.7, 10.1.2.3', 'x-forwarded-proto': 'https' },
      expect: { ip: '198.51.100.7', trustedHops: 2, protocol: 'https', host: HOST },
      valid: true,
    },
    {
      name: 'a direct client claiming to be behind the edge proxy',
      from: '127.0.0.200',
      headers: { 'x-forwarded-for': '198.51.100.7, 10.1.2.3' },
      expect: { ...direct('127.0.0.200'), anomalies: ['forwarded-by-untrusted-peer'] },
      valid: true,
    },
  ],
  // On one machine every client is inside loopback: forged entries are, correctly, believed.
  loopback: [
    {
      name: 'a loopback peer is a trusted proxy',
      from: '127.0.0.254',
      headers: { 'x-forwarded-for': '203.0.113.8', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example.com:8443' },
      expect: { ip: '203.0.113.8', trustedHops: 1, protocol: 'https', host: 'app.example.com:8443' },
      valid: true,
    },
    {
      name: '::1 is a trusted proxy',
      from: '::1',
      headers: { 'x-forwarded-for': '198.51.100.9, 127.0.0.3' },
      expect: { ip: '198.51.100.9', trustedHops: 2, protocol: 'http', host: HOST, anomalies: ['missing-forwarded-proto'] },
      valid: true,
    },
    { name: 'no headers', from: '127.0.0.33', headers: {}, expect: direct('127.0.0.33'), valid: true },
  ],
  // A hop count: the socket peer is the proxy, whoever it is.
  '1': [
    {
      name: 'one hop: the right-most entry is the client',
      from: '127.0.0.44',
      headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.4', 'x-forwarded-proto': 'https' },
      expect: { ip: '198.51.100.4', trustedHops: 1, protocol: 'https', host: HOST },
      valid: true,
    },
    {
      name: 'one hop, no header: the peer itself',
      from: '::1',
      headers: {},
      expect: { ...direct('::1'), anomalies: ['short-chain'] },
      valid: true,
    },
  ],
  '2': [
    {
      name: 'two hops',
      from: '127.0.0.45',
      headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.4, 10.0.0.2', 'x-forwarded-proto': 'https' },
      expect: { ip: '198.51.100.4', trustedHops: 2, protocol: 'https', host: HOST },
      valid: true,
    },
    {
      name: 'two hops, one entry: the chain is short',
      from: '127.0.0.46',
      headers: { 'x-forwarded-for': '198.51.100.4' },
      expect: { ip: '198.51.100.4', trustedHops: 1, protocol: 'http', host: HOST, anomalies: ['short-chain'] },
      valid: true,
    },
  ],
  false: [
    {
      name: 'no proxy trusted',
      from: PROXY,
      headers: { 'x-forwarded-for': '203.0.113.5' },
      expect: { ...direct(PROXY), anomalies: ['forwarded-by-untrusted-peer'] },
      valid: true,
    },
  ],
}

/** The host name part of `host[:port]` (Express's `req.hostname`). */
export function hostnameOf(host: string | undefined): string | undefined {
  if (host === undefined) return undefined
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : 0
  const colon = host.indexOf(':', end)
  return colon < 0 ? host : host.slice(0, colon)
}
