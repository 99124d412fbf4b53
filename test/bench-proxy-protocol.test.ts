/**
 * bench/proxy-protocol.mjs runs and compares like with like: both parsers read every benchmark
 * header (it throws otherwise), and every connection of every round gets its 200.
 */
import { expect, it } from 'vitest'
import { ensureBuilt } from './support/cli-run.js'

it('bench/proxy-protocol.mjs measures the parse and connections per second', async () => {
  await ensureBuilt()
  process.env.BENCH_CONNECTIONS = '20'
  try {
    // @ts-expect-error: a plain .mjs script without declarations
    const { run } = await import('../bench/proxy-protocol.mjs')
    const lines: string[] = []
    const md: string = await run({ log: (l: string) => lines.push(l), minMs: 5, write: false })
    expect(md).toMatch(/Intel|AMD|ARM|cores/)
    for (const row of ['v1 TCP4', 'v1 TCP6', 'v2 IPv4', 'v2 IPv6', 'v2 IPv4 + AWS VPCE and ALPN TLVs', 'node:http, no listener', 'with the listener, v1 header', 'with the listener, v2 header']) {
      expect(md).toMatch(new RegExp(`\\| ${row.replace(/[+]/g, '\\+')} \\| [0-9,]+ \\|`))
    }
  } finally {
    delete process.env.BENCH_CONNECTIONS
  }
}, 60_000)
