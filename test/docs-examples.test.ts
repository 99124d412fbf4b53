/**
 * The example programs of docs/adapters.md and docs/audit.md run and do what the pages say: each
 * adapter example, started with TRUST_PROXY naming the proxy (127.0.0.9), takes the client from a
 * request the proxy forwarded and refuses the header of a client connecting directly. The
 * outputs of examples/api.mjs and examples/audit.mjs are compared with the pages by
 * test/readme.test.ts (`<!-- output: ... -->`); the invariant docs/audit.md states is checked here.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { auditFields, parseTrustProxy, resolveClient } from '../src/index.js'
import { get, wsFirstMessage } from './support/adapters-net.js'
import { address, garbage, rangeList } from './support/arbitraries.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const PROXY = '127.0.0.9'
const DIRECT = '127.0.0.7'

let running: ChildProcess | undefined
afterEach(() => {
  running?.kill()
  running = undefined
})

function start(file: string): Promise<number> {
  const child = spawn(process.execPath, [file], { cwd: root, env: { ...process.env, PORT: '0', TRUST_PROXY: `${PROXY}/32` }, stdio: ['ignore', 'pipe', 'pipe'] })
  running = child
  return new Promise((done, fail) => {
    let out = ''
    let err = ''
    child.stdout!.on('data', (c) => {
      out += c
      const m = /listening on 127\.0\.0\.1 port (\d+)/.exec(out)
      if (m) done(Number(m[1]))
    })
    child.stderr!.on('data', (c) => (err += c))
    child.once('exit', (code) => fail(new Error(`${file} exited (${code}): ${err}`)))
  })
}

const FORWARDED = { 'x-forwarded-for': '6.6.6.6, 203.0.113.5', 'x-forwarded-proto': 'https' }

const ADAPTER_EXAMPLES = {
  express: 'examples/adapters/express.mjs',
  fastify: 'examples/adapters/fastify.mjs',
  ws: 'examples/adapters/ws.mjs',
  hono: 'examples/adapters/hono.mjs',
}

describe.each(Object.entries(ADAPTER_EXAMPLES))('the %s example (%s)', (name, file) => {
  it('takes the client the proxy forwarded, and ignores a direct client’s header', async () => {
    const port = await start(file)
    expect(await get({ port, from: PROXY, headers: FORWARDED })).toMatchObject({ ip: '203.0.113.5' })
    const direct = await get({ port, from: DIRECT, headers: FORWARDED })
    expect(direct).toMatchObject({ ip: DIRECT })
    expect(direct.anomalies).toContain('forwarded-by-untrusted-peer')
    if (name === 'express' || name === 'ws') {
      const path = name === 'express' ? '/terminal' : '/'
      expect(await wsFirstMessage({ port, path, from: PROXY, headers: FORWARDED })).toEqual({ ip: '203.0.113.5' })
      expect(await wsFirstMessage({ port, path, from: DIRECT, headers: FORWARDED })).toEqual({ ip: DIRECT })
    }
    if (name === 'express') expect(direct.expressIp).toBe(DIRECT)
  })
})

describe('the audit invariant (docs/audit.md)', () => {
  const peer = fc.oneof(address, garbage, fc.constant(undefined))
  const header = fc.option(fc.array(fc.oneof(address, garbage), { maxLength: 5 }).map((a) => a.join(', ')), { nil: undefined })
  const policy = fc.oneof(
    rangeList.map((l) => parseTrustProxy(l.join(', '))),
    fc.integer({ min: 1, max: 4 }).map((n) => parseTrustProxy(String(n))),
    fc.constantFrom(parseTrustProxy('true'), parseTrustProxy('false'), parseTrustProxy('unix, loopback')),
  )

  it('forwarded_chain[trusted_hops] is client_ip, except for a malformed peer, whose record is empty', () => {
    fc.assert(
      fc.property(policy, peer, header, (p, remoteAddress, xff) => {
        const r = auditFields(resolveClient(p, { remoteAddress, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }))
        if (r.anomalies.includes('malformed-peer')) {
          expect(r).toMatchObject({ client_ip: null, peer_ip: null, forwarded_chain: [], trusted_hops: 0 })
        } else {
          expect(r.forwarded_chain).toHaveLength(r.trusted_hops + 1)
          expect(r.forwarded_chain[r.trusted_hops]).toBe(r.client_ip)
          expect(r.forwarded_chain[0]).toBe(r.peer_ip)
        }
      }),
      { numRuns: 2000 },
    )
  })
})
