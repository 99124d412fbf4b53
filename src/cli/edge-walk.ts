/**
 * The walk in words when the client header is a provider's edge header (`cf-connecting-ip`,
 * `true-client-ip`): the hops are X-Forwarded-For's, the walk stops at the first hop inside the
 * edge's ranges, and the header is shown as believed or not. Every fact here is the core's
 * (`traceClient`: rule `edge` on the edge hop with the edge entry that covers it, then the edge
 * header's own hop); this module reads no header, it only puts them into words.
 */
import { type ClientTrace, EDGE_HEADERS, type TraceHop } from '../index.js'

/** True when `header` is read as an edge header by default (the CLI has no `edge` option). */
export function isEdgeHeader(header: string): boolean {
  return Object.prototype.hasOwnProperty.call(EDGE_HEADERS, header)
}

/** An edge header with no default ranges (`fly-client-ip`): it cannot be read without `edge`. */
export function edgeHeaderWithoutRanges(header: string): boolean {
  return isEdgeHeader(header) && EDGE_HEADERS[header] === undefined
}

/**
 * The reason shown for a hop of an edge walk, or undefined when the hop is not about the edge
 * (the generic words apply). `header` is the edge header's display name.
 */
export function edgeHopReason(trace: ClientTrace, hop: TraceHop, header: string): string | undefined {
  const edge = trace.edge
  if (edge === undefined) return undefined
  const ranges = `the ${hop.edge ?? edge} ranges`
  switch (hop.rule) {
    case 'edge':
      if (hop.role === 'proxy') return `the edge: inside ${ranges}, so ${header} is read`
      return trace.client.anomalies.includes('missing-edge-header')
        ? `the edge: inside ${ranges}, but it sent no ${header}: the edge itself is the client`
        : `the edge: inside ${ranges}, but its ${header} is not an address: the edge itself is the client`
    case 'edge-header':
      return `written by the ${edge} edge at hop ${hop.hop - 1}: the client it saw`
    case 'not-from-edge':
      if (trace.stop === 'malformed-peer') return 'not believed: the socket address is not an address, so no hop can be the edge'
      return `not believed: the request was not delivered by a ${edge} address`
    default:
      return undefined
  }
}

/** What the client hop's reason adds when the walk ended without reaching the edge. */
export function edgeNotReached(trace: ClientTrace, hop: TraceHop, header: string): string {
  if (trace.edge === undefined || hop.role !== 'client' || trace.stop === 'edge' || !trace.hops.some((h) => h.rule === 'not-from-edge')) return ''
  return `; not a ${trace.edge} address, so ${header} is not believed`
}
