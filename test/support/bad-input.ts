/**
 * Header shapes a client can put on the wire, sent over a raw socket exactly as written
 * (duplicates and raw bytes included), and the check that an answer holds no header text.
 */
import net from 'node:net'
import { expect } from 'vitest'
import { canonicalizeIp } from '../../src/index.js'
import { HOST, PROXY } from './adapters-net.js'

/** One GET from the proxy's address (127.0.0.9) over a raw socket, header lines exactly as written. */
export function rawRequest(port: number, lines: string[]): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port, localAddress: PROXY })
    const chunks: Buffer[] = []
    sock.setTimeout(10_000, () => sock.destroy(new Error('raw request timed out')))
    sock.on('data', (c) => chunks.push(c))
    sock.on('error', reject)
    sock.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1])
      const start = text.indexOf('\r\n\r\n') + 4
      let raw = text.slice(start)
      if (/transfer-encoding: chunked/i.test(text.slice(0, start))) raw = dechunk(raw)
      let body: any = raw
      try {
        body = JSON.parse(raw)
      } catch {
        // not JSON: left as text for the assertion to show
      }
      resolve({ status, body })
    })
    sock.write(Buffer.from(['GET / HTTP/1.1', `host: ${HOST}`, 'connection: close', ...lines, '', ''].join('\r\n'), 'latin1'))
  })
}

function dechunk(s: string): string {
  let out = ''
  for (let i = 0; ; ) {
    const nl = s.indexOf('\r\n', i)
    const size = parseInt(s.slice(i, nl), 16)
    if (!(size > 0)) return out
    out += s.slice(nl + 2, nl + 2 + size)
    i = nl + 2 + size + 2
  }
}

/** Header shapes a client can put on the wire. */
export const BAD_INPUT: { name: string; lines: string[] }[] = [
  { name: 'duplicated X-Forwarded-For lines', lines: ['x-forwarded-for: 6.6.6.6', 'x-forwarded-for: 203.0.113.5'] },
  { name: 'an empty X-Forwarded-For', lines: ['x-forwarded-for: '] },
  { name: 'non-ASCII bytes in X-Forwarded-For', lines: ['x-forwarded-for: 203.0.113.5\xe9, caf\xe9'] },
  { name: 'duplicated X-Forwarded-Proto and Host-like headers', lines: ['x-forwarded-proto: https', 'x-forwarded-proto: gopher', 'x-forwarded-host: a.example', 'x-forwarded-host: b b'] },
  { name: 'a Forwarded header where X-Forwarded-For is read', lines: ['forwarded: for="[2001:db8::1]:80"', 'x-forwarded-for: ,,,'] },
]

/**
 * A client result (ClientInfo as JSON) holds only canonical addresses or nothing, and at most the
 * one trusted hop of the `127.0.0.9/32` policy these requests are sent under.
 */
export function checkNoHeaderText(info: { ip?: string | null; chain: (string | null)[]; trustedHops: number }): void {
  if (info.ip !== undefined && info.ip !== null) expect(canonicalizeIp(info.ip)).toBe(info.ip)
  for (const hop of info.chain) if (hop !== null) expect(canonicalizeIp(hop)).toBe(hop)
  expect(info.trustedHops).toBeLessThanOrEqual(1)
}
