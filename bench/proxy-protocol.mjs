/**
 * PROXY protocol costs (issue 15): the header parse against the oracle (proxy-protocol-js, the
 * maintained npm parser), and connections per second of a node:http server with and without the
 * listener. `node bench/proxy-protocol.mjs` on its own, or as part of `npm run bench` (run.mjs).
 *
 * The parse rows time bytes in, addresses out: the oracle's v1 parser takes a string, so its row
 * includes the Buffer-to-string step a listener would need. The oracle reads no TLVs (it returns
 * them as trailing data); ours decodes ALPN, authority, SSL and AWS and checks the CRC32C.
 *
 * Connections per second: interleaved rounds of short HTTP/1.1 connections (connect, one GET,
 * close) from a loopback client in this process, 16 at a time, with and without the listener
 * (the listener's client sends a v1 or v2 header first). Client and server share one event loop
 * and this machine is shared, so read the ratio, not the absolute figure.
 *
 * Environment: BENCH_MIN_MS (CPU time per parse row; default 300), BENCH_CONNECTIONS
 * (connections per round; default 1000), BENCH_NO_WRITE=1 (do not write the results file).
 */
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import { writeFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { timeIt } from './measure.mjs'

const ROOT = new URL('..', import.meta.url)

const V2_SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]
function v2(fam, src, dst, tlvs = []) {
  const block = fam === 1 ? [...src, ...dst, 0xc3, 0x50, 0x01, 0xbb] : [...src, ...dst, 0xc3, 0x50, 0x01, 0xbb]
  const t = tlvs.flatMap(([type, value]) => [type, value.length >> 8, value.length & 255, ...value])
  const len = block.length + t.length
  return Buffer.from([...V2_SIG, 0x21, (fam << 4) | 1, len >> 8, len & 255, ...block, ...t])
}
const v6 = (last) => [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last]

export async function run({ log = (l) => process.stdout.write(l + '\n'), minMs = Number(process.env.BENCH_MIN_MS ?? 300), write = process.env.BENCH_NO_WRITE !== '1' } = {}) {
  const lib = await import(pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href)
  const { acceptProxyProtocol } = await import(pathToFileURL(fileURLToPath(new URL('../dist/proxy-protocol.js', import.meta.url))).href)
  const oracle = await import('proxy-protocol-js')
  const { decodeProxyHeader, parseTrustProxy } = lib

  const enc = (s) => Buffer.from(s, 'latin1')
  const cases = [
    { id: 'v1 TCP4', bytes: enc('PROXY TCP4 203.0.113.7 10.0.0.1 50000 443\r\n'), oracle: (b) => oracle.V1ProxyProtocol.parse(b.toString('latin1')) },
    { id: 'v1 TCP6', bytes: enc('PROXY TCP6 2001:db8::7 2001:db8::1 50000 443\r\n'), oracle: (b) => oracle.V1ProxyProtocol.parse(b.toString('latin1')) },
    { id: 'v2 IPv4', bytes: v2(1, [203, 0, 113, 7], [10, 0, 0, 1]), oracle: (b) => oracle.V2ProxyProtocol.parse(b) },
    { id: 'v2 IPv6', bytes: v2(2, v6(7), v6(1)), oracle: (b) => oracle.V2ProxyProtocol.parse(b) },
    {
      id: 'v2 IPv4 + AWS VPCE and ALPN TLVs',
      bytes: v2(1, [203, 0, 113, 7], [10, 0, 0, 1], [[0x01, [...enc('h2')]], [0xea, [1, ...enc('vpce-08d2bf15fac5001c9')]]]),
      oracle: (b) => oracle.V2ProxyProtocol.parse(b),
    },
  ]
  // The CPU as the kernel names it (on Linux, /proc/cpuinfo's model name).
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism?.() ?? os.cpus().length} cores; Node ${process.version}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`
  const lines = ['# PROXY protocol benchmarks', '', machine, '', '## Header parse (ns per header, median)', '', '| header | ours | proxy-protocol-js | ours / oracle |', '|---|---:|---:|---:|']
  log(lines.join('\n'))
  for (const c of cases) {
    const r = decodeProxyHeader(c.bytes)
    if (r.kind !== 'header' || r.header.source === undefined) throw new Error(`${c.id}: our decoder did not read it`)
    c.oracle(c.bytes) // throws if the oracle cannot
    const ours = await timeIt(() => decodeProxyHeader(c.bytes), minMs)
    const theirs = await timeIt(() => c.oracle(c.bytes), minMs)
    const line = `| ${c.id} | ${ours.p50.toFixed(0)} | ${theirs.p50.toFixed(0)} | ${(ours.p50 / theirs.p50).toFixed(2)}x |`
    lines.push(line)
    log(line)
  }

  // Connections per second.
  const N = Number(process.env.BENCH_CONNECTIONS ?? 1000)
  const ROUNDS = 7
  const policy = parseTrustProxy('127.0.0.9/32')
  const handler = (req, res) => res.end('ok')
  const plain = http.createServer(handler)
  const proxied = http.createServer(handler)
  acceptProxyProtocol(proxied, { policy })
  const listen = (s) => new Promise((r) => s.listen(0, '127.0.0.1', () => r(s.address().port)))
  const [plainPort, proxiedPort] = await Promise.all([listen(plain), listen(proxied)])
  const GET = 'GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n'
  const one = (port, first) =>
    new Promise((resolve, reject) => {
      const c = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.9' })
      let got = ''
      c.on('connect', () => c.write(first))
      c.on('data', (d) => (got += d))
      c.on('error', reject)
      c.on('close', () => (got.startsWith('HTTP/1.1 200') ? resolve() : reject(new Error('bad response: ' + got))))
    })
  const round = async (port, first) => {
    const t0 = performance.now()
    let next = 0
    await Promise.all(Array.from({ length: 16 }, async () => { while (next++ < N) await one(port, first) }))
    return N / ((performance.now() - t0) / 1000)
  }
  const variants = [
    { id: 'node:http, no listener', port: plainPort, first: enc(GET) },
    { id: 'with the listener, v1 header', port: proxiedPort, first: Buffer.concat([enc('PROXY TCP4 203.0.113.7 10.0.0.1 50000 443\r\n'), enc(GET)]) },
    { id: 'with the listener, v2 header', port: proxiedPort, first: Buffer.concat([cases[2].bytes, enc(GET)]) },
  ]
  for (const v of variants) await round(v.port, v.first) // warm-up
  const rates = variants.map(() => [])
  for (let r = 0; r < ROUNDS; r++) for (let i = 0; i < variants.length; i++) rates[i].push(await round(variants[i].port, variants[i].first))
  const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]
  const base = median(rates[0])
  const conn = ['', `## Connections per second (${N} per round, 16 concurrent, median of ${ROUNDS} interleaved rounds)`, '', '| server | connections/s | vs no listener |', '|---|---:|---:|']
  for (let i = 0; i < variants.length; i++) conn.push(`| ${variants[i].id} | ${Math.round(median(rates[i])).toLocaleString('en')} | ${(median(rates[i]) / base).toFixed(2)}x |`)
  log(conn.join('\n'))
  lines.push(...conn, '')
  await Promise.all([plain, proxied].map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r) })))
  const md = lines.join('\n') + '\n'
  if (write) {
    writeFileSync(new URL('bench/PROXY-PROTOCOL.md', ROOT), md)
    log('Wrote bench/PROXY-PROTOCOL.md.')
  }
  return md
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run()
