// Checks that a running `trust-proxy serve` refuses what docs/serve-limits.md says it refuses.
// Usage: node check-limits.mjs [http://127.0.0.1:6989]   (exit status 1 if a check fails)
import { request } from 'node:http'
import WebSocket from 'ws'

const base = new URL(process.argv[2] ?? 'http://127.0.0.1:6989')
const wsBase = `ws://${base.host}`

/** The HTTP status of a request. */
function status(method, headers) {
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, path: '/', method, headers, agent: false }, (res) => {
      res.resume()
      resolve(res.statusCode)
    })
    req.on('error', reject)
    req.end(method === 'POST' ? 'a body' : undefined)
  })
}

/** How a WebSocket to `path` ends: the refusing HTTP status, or the close code after `send`. */
function webSocket(path, send) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsBase + path)
    ws.on('unexpected-response', (_req, res) => resolve(`HTTP ${res.statusCode}`))
    ws.on('open', () => send?.(ws))
    ws.on('close', (code) => resolve(`close ${code}`))
    ws.on('error', (e) => (/Unexpected server response/.test(e.message) ? undefined : reject(e)))
  })
}

const checks = [
  ['a request body is refused', () => status('POST', { 'Content-Type': 'text/plain' }), 413],
  ['headers over 16 KiB are refused', () => status('GET', { 'X-Padding': 'x'.repeat(17 * 1024) }), 431],
  ['a WebSocket elsewhere than /.trust-proxy/ws is refused', () => webSocket('/'), 'HTTP 404'],
  ['a WebSocket message over 64 KiB closes the connection', () => webSocket('/.trust-proxy/ws', (ws) => ws.send('x'.repeat(65 * 1024))), 'close 1009'],
]

let failed = 0
for (const [what, run, expected] of checks) {
  const got = await run()
  const ok = got === expected
  if (!ok) failed++
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}: ${got}${ok ? '' : ` (expected ${expected})`}`)
}
process.exitCode = failed === 0 ? 0 : 1
