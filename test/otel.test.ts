/**
 * OpenTelemetry: with the real SDK, the real HTTP instrumentation and a real server on loopback,
 * a forged left-most X-Forwarded-For entry never reaches `client.address` once the
 * instrumentation is given otelHttpHooks(policy). Without the hooks it does: the control run
 * shows the forgery is real, so the test could fail.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it, beforeAll } from 'vitest'
import { otelAttributes, parseTrustProxy, resolveClient } from '../src/index.js'
import { otelHttpHooks } from '../src/adapters/opentelemetry.js'
import { ROOT, ensureBuilt } from './support/cli-run.js'

const CHILD = join(ROOT, 'test/otel/instrumented-server.cjs')

function runChild(hooks: 'ours' | 'none', trust: string, requests: { from: string; headers: Record<string, string> }[]): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [CHILD, hooks, trust], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${err.message}\n${stderr}`))
      resolve(stdout.trim().split('\n').map((l) => JSON.parse(l)))
    })
    child.stdin!.end(JSON.stringify(requests))
  })
}

// 127.0.0.9 is the trusted proxy; 127.0.0.20 is a client that connects directly.
const TRUST = '127.0.0.9/32'
const REQUESTS: { from: string; headers: Record<string, string> }[] = [
  // A client connecting directly, forging its address.
  { from: '127.0.0.20', headers: { 'x-forwarded-for': '6.6.6.6' } },
  // Through the trusted proxy, which appended the real client to a forged entry.
  { from: '127.0.0.9', headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.5', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'gw.example.com:8443' } },
  // Forwarded: the instrumentation reads for= too.
  { from: '127.0.0.20', headers: { forwarded: 'for=6.6.6.6' } },
]

describe('OpenTelemetry HTTP instrumentation', () => {
  beforeAll(async () => {
    await ensureBuilt()
  })

  it('without the hooks, the forged entry is client.address (the problem)', async () => {
    const spans = await runChild('none', TRUST, REQUESTS)
    expect(spans.map((s) => s['client.address'])).toEqual(['6.6.6.6', '6.6.6.6', '6.6.6.6'])
  })

  it('with otelHttpHooks, client.address is the resolved client, never the forged entry', async () => {
    const spans = await runChild('ours', TRUST, REQUESTS)
    expect(spans).toHaveLength(3)
    for (const s of spans) expect(JSON.stringify(s)).not.toContain('6.6.6.6')
    expect(spans[0]).toMatchObject({ 'client.address': '127.0.0.20', 'network.peer.address': '127.0.0.20', 'url.scheme': 'http' })
    expect(spans[0]!['client.port']).toBe(spans[0]!['network.peer.port'])
    expect(spans[1]).toMatchObject({
      'client.address': '203.0.113.5',
      'network.peer.address': '127.0.0.9',
      'url.scheme': 'https',
      'server.address': 'gw.example.com',
      'server.port': 8443,
    })
    expect(spans[1]!['client.port']).toBeUndefined()
    expect(spans[2]).toMatchObject({ 'client.address': '127.0.0.20' })
  })

  it('the hooks ignore outgoing requests and pass the setup checks', () => {
    const hooks = otelHttpHooks(parseTrustProxy('loopback'))
    const clientRequest = { headers: {}, getHeader: () => undefined }
    expect(hooks.startIncomingSpanHook(clientRequest)).toEqual({})
    let set = 0
    hooks.requestHook({ setAttributes: () => set++ }, clientRequest)
    expect(set).toBe(0)
    expect(() => otelHttpHooks('loopback' as never)).toThrow(/parseTrustProxy/)
  })
})

describe('otelAttributes', () => {
  it.each([
    ['direct client', { remoteAddress: '198.51.100.7', headers: { host: 'gw.example.com' } }, { peerPort: 50000 }, { 'client.address': '198.51.100.7', 'client.port': 50000, 'network.peer.address': '198.51.100.7', 'network.peer.port': 50000, 'server.address': 'gw.example.com', 'server.port': 80, 'url.scheme': 'http' }],
    ['behind a proxy, IPv6 host', { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '2001:db8::7', 'x-forwarded-proto': 'https', 'x-forwarded-host': '[2001:db8::1]' } }, { peerPort: 41000 }, { 'client.address': '2001:db8::7', 'network.peer.address': '127.0.0.1', 'network.peer.port': 41000, 'server.address': '2001:db8::1', 'server.port': 443, 'url.scheme': 'https' }],
    ['no host, no port', { remoteAddress: '::ffff:127.0.0.1', headers: {} }, undefined, { 'client.address': '127.0.0.1', 'network.peer.address': '127.0.0.1', 'url.scheme': 'http' }],
    ['unix socket peer', { remoteAddress: undefined, headers: { host: 'localhost:6989' } }, { peerPort: undefined }, { 'server.address': 'localhost', 'server.port': 6989, 'url.scheme': 'http' }],
  ] as const)('%s', (_name, req, conn, expected) => {
    expect(otelAttributes(resolveClient(parseTrustProxy('loopback'), req), conn)).toEqual(expected)
  })
})
