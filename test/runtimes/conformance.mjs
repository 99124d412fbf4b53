/**
 * The conformance vectors through the BUILT package, on whatever runtime loads this module (Node,
 * Bun, Deno, workerd): every vector's policy, peer and headers, with each header option, are
 * resolved, and every result (or configuration error) is returned as plain data. The test runs
 * this on each runtime and requires the results to equal Node's, value for value.
 *
 * No runtime API is used here (no fs, no process): the caller passes the library and the
 * vectors in, so the same code runs inside a worker.
 */

/** Policies every vector's request is also resolved under, beside the vector's own trust value. */
const POLICIES = ['false', '1', '2', 'true', 'loopback', '10.0.0.0/8, 127.0.0.1, ::1', 'private, unix']
const HEADERS = [undefined, 'forwarded', 'x-real-ip']

function errorOf(e) {
  return { error: e?.name ?? 'Error', code: e?.code ?? null, entry: e?.entry ?? null, position: e?.position ?? null }
}

/** A vector's trust value, when it is one parseTrustProxy takes (strings, arrays, booleans, numbers). */
function trustOf(v) {
  const t = v.trust ?? v.config?.trusted_proxies ?? v.params?.trustedRanges
  if (typeof t === 'string' || typeof t === 'boolean' || typeof t === 'number') return [t]
  if (Array.isArray(t) && t.every((x) => typeof x === 'string')) return [t]
  return []
}

function headersOf(v) {
  const h = {}
  if (v.headers && typeof v.headers === 'object') {
    for (const [k, val] of Object.entries(v.headers)) h[k.toLowerCase()] = val
  }
  if (typeof v.xff === 'string') h['x-forwarded-for'] = v.xff
  return h
}

function peerOf(v) {
  const r = v.remote ?? v.remoteAddr
  return typeof r === 'string' && r !== '' ? r : undefined
}

/**
 * @param lib the package's main entry point (`import * as lib from '.../dist/index.js'`)
 * @param web the package's `/web` entry point
 * @param vectors `{ file: vector[] }`
 */
export function runConformance(lib, web, vectors) {
  const out = []
  const policies = new Map()
  const policyOf = (value) => {
    const key = JSON.stringify(value)
    if (!policies.has(key)) {
      try {
        const p = lib.parseTrustProxy(value)
        policies.set(key, { policy: p, summary: { kind: p.kind, text: p.toString(), warnings: p.warnings.map((w) => w.code) } })
      } catch (e) {
        policies.set(key, { policy: null, summary: errorOf(e) })
      }
    }
    return policies.get(key)
  }
  for (const [file, list] of Object.entries(vectors)) {
    for (const v of list) {
      const peer = peerOf(v)
      const headers = headersOf(v)
      for (const value of [...trustOf(v), ...POLICIES]) {
        const { policy, summary } = policyOf(value)
        const row = { file, id: v.id, trust: value, policy: summary }
        if (policy !== null) {
          row.results = HEADERS.map((header) => {
            try {
              const options = header === undefined ? undefined : { header }
              const info = lib.resolveClient(policy, { remoteAddress: peer, headers }, options)
              const fast = lib.resolveClientIp(policy, peer, headers['x-forwarded-for'])
              // The Web adapter gets the same request as a Web Headers object, where the runtime has one.
              // Values beyond Latin-1 are left out: Node's, Bun's and Deno's Headers refuse them
              // (a header is a ByteString), workerd's accepts them (a USVString), so no request
              // could carry them to both. The core's answer for them is compared above.
              const h = new Headers()
              for (const [k, val] of Object.entries(headers)) {
                const lines = (Array.isArray(val) ? val : [val]).map(String)
                if (lines.some((line) => /[^\x00-\xff]/.test(line))) continue
                try {
                  for (const line of lines) h.append(k, line)
                } catch {
                  // A value the Headers class refuses (a control character) cannot reach a Web handler.
                }
              }
              const viaWeb = web.resolveWebRequest(policy, { headers: h }, peer, options).ip ?? null
              return { ...lib.auditFields(info), source: info.source, fast: fast ?? null, viaWeb }
            } catch (e) {
              return errorOf(e)
            }
          })
        }
        out.push(row)
      }
    }
  }
  return out
}
