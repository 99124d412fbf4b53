/**
 * The walk as `resolve` and `serve` display it when the client header is a provider's edge
 * header (`cf-connecting-ip`, `true-client-ip`): the hops come from X-Forwarded-For, the walk
 * stops at the first hop inside the edge's ranges, and the header is shown as believed or not.
 */
import { type ClientInfo, EDGE_HEADERS, canonicalizeIp, parseTrustProxy } from '../index.js'
import type { HopReason } from './explain.js'
import { type WalkStep, displayName } from './diagnose.js'


/** True when `header` is read as an edge header by default (the CLI has no `edge` option). */
export function isEdgeHeader(header: string): boolean {
  return Object.prototype.hasOwnProperty.call(EDGE_HEADERS, header)
}

/** An edge header with no default ranges (`fly-client-ip`): it cannot be read without `edge`. */
export function edgeHeaderWithoutRanges(header: string): boolean {
  return isEdgeHeader(header) && EDGE_HEADERS[header] === undefined
}

/** Replaces `walk`'s steps with the edge walk of `info`. */
export function rewriteEdgeWalk(
  walk: WalkStep[],
  info: ClientInfo,
  header: string,
  headers: Record<string, string | string[] | undefined>,
  remoteAddress: string | undefined,
  why: (addr: string | undefined, hop: number) => HopReason,
): void {
  const preset = EDGE_HEADERS[header]
  if (preset === undefined || info.anomalies.includes('malformed-peer')) return
  const edge = parseTrustProxy(preset)
  const xff = headers['x-forwarded-for']
  const entries = (Array.isArray(xff) ? xff.join(',') : (xff ?? '')).split(',').map((e) => e.trim()).filter((e) => e !== '').reverse()
  const believed = info.source === header
  const hops = believed ? info.chain.slice(0, -1) : info.chain
  const steps: WalkStep[] = hops.map((addr, i) => {
    const r = why(addr, i)
    const atEdge = addr !== undefined && edge.trust(addr, 0)
    const last = i === hops.length - 1
    return {
      hop: i,
      from: i === 0 ? 'socket' : 'x-forwarded-for',
      raw: i === 0 ? (remoteAddress ?? null) : (entries[i - 1] ?? addr ?? null),
      address: addr ?? null,
      trusted: r.trusted,
      role: believed || !last ? 'proxy' : 'client',
      rule: r.rule,
      ...(r.matched !== undefined ? { matched: r.matched } : {}),
      reason: atEdge
        ? `the edge: inside the ${preset} ranges, so ${displayName(header)} is read`
        : (r.trusted ? 'trusted: ' : 'not trusted: ') + r.text + (last && !believed ? `; not a ${preset} address, so ${displayName(header)} is not believed` : ''),
    }
  })
  const raw = headers[header]
  const text = Array.isArray(raw) ? raw.join(', ') : raw
  if (believed) {
    steps.push({
      hop: hops.length, from: header, raw: text ?? null, address: info.ip ?? null, trusted: null,
      role: 'client', rule: 'leftmost', reason: `written by the ${preset} edge at hop ${hops.length - 1}: the client it saw`,
    })
  } else if (text !== undefined) {
    steps.push({
      hop: hops.length, from: header, raw: text, address: canonicalizeIp(text) ?? null, trusted: null,
      role: 'ignored', rule: 'not-read', reason: `not believed: the request was not delivered by a ${preset} address`,
    })
  }
  walk.length = 0
  walk.push(...steps)
}
