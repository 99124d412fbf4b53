/**
 * Raw TCP clients for the PROXY protocol tests: they connect from a chosen loopback source (the
 * balancer is 127.0.0.9, spec section 7), write a header and the application's bytes exactly as
 * given (in one write, or in several), and collect whatever comes back until the server closes.
 */
import net from 'node:net'
import tls from 'node:tls'

export const BALANCER = '127.0.0.9'

export interface Exchange {
  /** Everything the server sent, as latin1 text. */
  text: string
  /** True when the server closed the connection without sending anything. */
  refused: boolean
}

/** Writes `chunks` (each on its own write, `gap` ms apart) from `from`, then reads until close. */
export function exchange(port: number, from: string, chunks: (string | Uint8Array)[], opts: { gap?: number; end?: boolean; host?: string } = {}): Promise<Exchange> {
  return new Promise((resolve) => {
    const c = net.connect({ port, host: opts.host ?? (from.includes(':') ? '::1' : '127.0.0.1'), localAddress: from })
    const got: Buffer[] = []
    c.on('data', (d) => got.push(d))
    c.on('error', () => {})
    c.on('close', () => {
      const text = Buffer.concat(got).toString('latin1')
      resolve({ text, refused: text === '' })
    })
    c.on('connect', async () => {
      for (const chunk of chunks) {
        if (c.destroyed) return
        c.write(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk)
        if (opts.gap) await new Promise((r) => setTimeout(r, opts.gap))
      }
      if (opts.end) c.end()
    })
  })
}

/** The JSON body of an HTTP/1.1 response (Connection: close). */
export function jsonBody(text: string): any {
  const at = text.indexOf('\r\n\r\n')
  if (at < 0) throw new Error(`not an HTTP response: ${JSON.stringify(text.slice(0, 200))}`)
  return JSON.parse(text.slice(at + 4))
}

/** The JSON bodies of several HTTP/1.1 responses on one connection, read by Content-Length. */
export function jsonBodies(text: string): any[] {
  const out: any[] = []
  let rest = text
  while (rest.length > 0) {
    const at = rest.indexOf('\r\n\r\n')
    const length = Number(/content-length: *(\d+)/i.exec(rest.slice(0, at))?.[1])
    out.push(JSON.parse(rest.slice(at + 4, at + 4 + length)))
    rest = rest.slice(at + 4 + length)
  }
  return out
}

export const GET = (path = '/', extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: gateway.test\r\n${extra}Connection: close\r\n\r\n`

/**
 * A TLS client whose first TCP write carries the PROXY header and the ClientHello together,
 * as HAProxy and nginx send them, then one GET; resolves to the response text.
 */
export function tlsExchange(port: number, from: string, header: Uint8Array | string, request: string, ca?: string, servername = 'gateway.test'): Promise<string> {
  return new Promise((resolve, reject) => {
    const raw = net.connect({ port, host: '127.0.0.1', localAddress: from })
    raw.on('error', reject)
    raw.on('connect', () => {
      raw.cork()
      raw.write(typeof header === 'string' ? Buffer.from(header, 'latin1') : header)
      const t = tls.connect({ socket: raw, servername, ca, rejectUnauthorized: ca !== undefined })
      process.nextTick(() => raw.uncork())
      let out = ''
      t.on('secureConnect', () => t.write(request))
      t.on('data', (d) => (out += d.toString('latin1')))
      t.on('error', reject)
      t.on('close', () => resolve(out))
    })
  })
}
