/**
 * One request, analysed: the core's resolution, the walk hop by hop with the reason for each
 * hop, the forwarding headers that came in, and the findings (anomalies with causes and fixes).
 *
 * Shared by `resolve` (a request described on the command line) and `serve` (a real request),
 * so that both say the same thing about the same request. Nothing here reads a forwarding header:
 * the client, the chain, each entry's text, why an entry is malformed and which TRUST_PROXY entry
 * trusted a hop all come from the core's `traceClient`, built by the readers the resolver uses.
 * This module only puts words to them.
 */
import { type ClientInfo, type ClientTrace, type TraceHop, type TrustPolicy, canonicalizeIp, listEntries, parseTrustProxy, traceClient } from '../index.js'
import { hopReason, stepRule } from './explain.js'
import { FINDINGS, type Finding, type FindingCode, type FindingInput, entryForPeer } from './fixes.js'
import { edgeFindingInput } from './presets.js'

/** Node-style request headers: lower-case names, repeated headers joined. */
export type Headers = Record<string, string | string[] | undefined>

export interface RequestInput {
  remoteAddress: string | undefined
  headers: Headers
  encrypted: boolean
}

/** One step of the walk, for display and for `--json`: the core's {@link TraceHop} with its words. */
export interface WalkStep {
  hop: number
  /** `socket`, or the header the entry was read from. */
  from: string
  /** The text as received (null for a peer with no address). */
  raw: string | null
  /** Canonical address, or null when there is none or it is not an address. */
  address: string | null
  /** null when the hop was never examined (malformed, or left of the client). */
  trusted: boolean | null
  role: 'proxy' | 'client' | 'malformed' | 'ignored'
  /**
   * Machine code: the core's rule (`trust-none`, `trust-all`, `hop-count`, `beyond-hop-count`,
   * `range`, `not-in-ranges`, `trust-function`, `malformed`, `not-read`), or for a trusted client
   * `leftmost` (nothing further left) or `last-verified` (the next entry is malformed).
   */
  rule: TraceHop['rule'] | 'leftmost' | 'last-verified'
  matched?: string
  /** For a malformed entry: why it is not an address (the core's code). */
  malformed?: TraceHop['malformed']
  /** For the edge hop (rule `edge`): the entry of the edge's ranges that covers it (`cloudflare`). */
  edge?: string
  reason: string
}

/** The result of the page's forgery probe (a request carrying a known forged entry). */
export interface ProbeResult {
  /** The address the page forged. */
  marker: string
  /** The client-address header as the app received it. */
  received: string | null
  /**
   * `refused` (the proxy appended and the forged entry was not believed), `replaced` (the proxy
   * overwrote the header: safe), `not-appended` and `too-many-hops` (the forged entry was believed),
   * `ignored` (the peer is not trusted: nothing from the headers is believed).
   */
  verdict: 'refused' | 'replaced' | 'not-appended' | 'too-many-hops' | 'ignored'
  safe: boolean
}

export interface Resolved {
  client: string | null
  peer: string | null
  chain: (string | null)[]
  trustedHops: number
  source: string
  protocol: 'http' | 'https'
  host: string | null
  anomalies: string[]
}

export interface Analysis {
  header: string
  resolved: Resolved
  walk: WalkStep[]
  /** The forwarding headers received (display names, joined values). */
  forwarding: Record<string, string>
  findings: Finding[]
  probe: ProbeResult | null
  /** Whether the socket peer is trusted by the policy. */
  peerTrusted: boolean
}

/** Request headers that can carry forwarding information, in display order. */
const FORWARDING_NAMES = [
  'host',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-server',
  'forwarded',
  'x-real-ip',
  'via',
  'cf-connecting-ip',
  'true-client-ip',
  'x-client-ip',
  'fastly-client-ip',
  'x-cluster-client-ip',
]

/** Request headers the diagnostic page sends with its probe. */
export const PROBE_HEADER = 'x-trust-proxy-probe'
export const PUBLIC_URL_HEADER = 'x-trust-proxy-public-url'

const MAX_SHOWN = 2048
/** How many entries left of the client the walk lists before summarising the rest. */
const MAX_IGNORED_SHOWN = 32

/** `x-forwarded-for` -> `X-Forwarded-For`, `x-real-ip` -> `X-Real-IP`. */
export function displayName(name: string): string {
  return name
    .split('-')
    .map((w) => (w === 'ip' || w === 'cf' ? w.toUpperCase() : w.charAt(0).toUpperCase() + w.slice(1)))
    .join('-')
}

function joined(v: string | string[] | undefined): string | undefined {
  if (v === undefined) return undefined
  return typeof v === 'string' ? v : v.join(', ')
}

function clip(s: string): string {
  return s.length > MAX_SHOWN ? s.slice(0, MAX_SHOWN) + '...' : s
}

function clipped(s: string | undefined): string | undefined {
  return s === undefined ? undefined : clip(s)
}

function nullable<T>(v: T | undefined): T | null {
  return v === undefined ? null : v
}

export function toResolved(info: ClientInfo): Resolved {
  return {
    client: nullable(info.ip),
    peer: nullable(info.peer),
    chain: info.chain.map(nullable),
    trustedHops: info.trustedHops,
    source: info.source,
    protocol: info.protocol,
    host: nullable(info.host),
    anomalies: [...info.anomalies],
  }
}

const loopbackPolicy = parseTrustProxy('loopback')

function isLoopbackPeer(peer: string | undefined): boolean {
  return peer !== undefined && loopbackPolicy.trust(peer, 0)
}

/** The policy's canonical text, built once per policy (a 10,000-entry list is long). */
const policyTexts = new WeakMap<TrustPolicy, string>()
function policyText(policy: TrustPolicy): string {
  let t = policyTexts.get(policy)
  if (t === undefined) policyTexts.set(policy, (t = policy.toString()))
  return t
}

/** One hop of the core's trace, with its words. */
function toStep(policy: TrustPolicy, trace: ClientTrace, hop: TraceHop, header: string): WalkStep {
  const step: WalkStep = {
    hop: hop.hop,
    from: hop.from,
    raw: hop.raw === null ? null : clip(hop.raw),
    address: hop.address,
    trusted: hop.trusted,
    role: hop.role,
    rule: stepRule(trace, hop),
    ...(hop.matched !== undefined ? { matched: hop.matched } : {}),
    ...(hop.malformed !== undefined ? { malformed: hop.malformed } : {}),
    ...(hop.edge !== undefined ? { edge: hop.edge } : {}),
    reason: hopReason(policy, trace, hop, displayName(header)),
  }
  return step
}

/** Analyses one request under a policy. Never throws for anything the request carries. */
export function analyse(policy: TrustPolicy, req: RequestInput, header = 'x-forwarded-for'): Analysis {
  const trace = traceClient(policy, req, { header, maxListed: MAX_IGNORED_SHOWN })
  const info = trace.client
  const resolved = toResolved(info)
  const walk = trace.hops.map((hop) => toStep(policy, trace, hop, header))
  if (trace.omitted > 0) {
    walk.push({
      hop: (walk.at(-1)?.hop ?? 0) + 1, from: trace.walked, raw: `(${trace.omitted} more entries)`, address: null, trusted: null,
      role: 'ignored', rule: 'not-read', reason: 'left of the client: not read, not shown',
    })
  }

  const forwarding: Record<string, string> = {}
  for (const name of new Set([...FORWARDING_NAMES, header])) {
    const v = joined(req.headers[name])
    if (v !== undefined) forwarding[displayName(name)] = clip(v)
  }

  const peerTrusted = trace.peerTrusted
  const out: Analysis = { header, resolved, walk, forwarding, findings: [], probe: null, peerTrusted }
  out.findings = findingsFor(policy, req, trace, out)
  return out
}

function findingsFor(policy: TrustPolicy, req: RequestInput, trace: ClientTrace, a: Analysis): Finding[] {
  const info = trace.client
  const anomalies = new Set(info.anomalies)
  const peerEntry = entryForPeer(info.peer, isLoopbackPeer(info.peer))
  const value = policyText(policy)
  const input: FindingInput = {
    peer: info.peer,
    peerEntry,
    value,
    valueWithPeer: policy.kind === 'ranges' ? `${value}, ${peerEntry}` : peerEntry,
    header: displayName(a.header),
    headerText: clipped(joined(req.headers[a.header])),
  }
  const found: Finding[] = []
  const add = (code: FindingCode, extra: Record<string, string | number | undefined> = {}) => found.push(FINDINGS[code]({ ...input, extra }))

  if (anomalies.has('malformed-peer')) add('malformed-peer')
  if (anomalies.has('forwarded-by-untrusted-peer')) add(policy.kind === 'none' ? 'trust-proxy-off' : 'peer-not-trusted')
  if (anomalies.has('malformed-entry')) {
    const bad = a.walk.find((h) => h.role === 'malformed') // its raw text clipped for display
    // Behind an edge header, the bad entry may be X-Forwarded-For's or the edge header's: name its own.
    const header = bad === undefined || bad.from === 'socket' ? input.header : displayName(bad.from)
    found.push(FINDINGS['malformed-entry']({ ...input, header, extra: { entry: bad?.raw ?? undefined, client: info.ip } }))
  }
  if (anomalies.has('short-chain')) add('short-chain')
  if (anomalies.has('hop-count-public-peer')) add('hop-count-public-peer')
  if (anomalies.has('missing-forwarded-proto')) add('missing-forwarded-proto')
  if (anomalies.has('invalid-forwarded-proto')) add('invalid-forwarded-proto', { proto: trace.forwardedProto })
  if (anomalies.has('invalid-forwarded-host')) add('invalid-forwarded-host', { host: trace.forwardedHost })
  if (anomalies.has('invalid-host')) add('invalid-host')
  if (anomalies.has('trust-function-error')) add('trust-function-error')
  if (a.peerTrusted && trace.entries === 0 && policy.kind !== 'hops' && !anomalies.has('malformed-peer') && trace.stop !== 'edge') {
    // Behind an edge header it is X-Forwarded-For that is missing: it names the hop that delivered the request.
    found.push(FINDINGS['no-forwarded-for']({ ...input, header: displayName(trace.walked), extra: {} }))
  }
  const edge = edgeFindingInput(info)
  if (edge !== undefined) add('provider-edge', edge)

  // The page's forgery probe: it sent a known address in the client-address header.
  const probeValue = req.headers[PROBE_HEADER]
  const marker = typeof probeValue === 'string' ? canonicalizeIp(probeValue) : undefined
  if (marker !== undefined) {
    const received = clipped(joined(req.headers[a.header])) ?? null
    // Every entry, left-most first, as the core's reader delimits them (linear in the header).
    const canon = listEntries(req.headers[a.header], a.header)
    let verdict: ProbeResult['verdict']
    if (!a.peerTrusted) verdict = 'ignored'
    else if (info.ip === marker) {
      if (canon[canon.length - 1] === marker) {
        verdict = 'not-appended'
        add('header-not-appended', { marker })
      } else {
        verdict = 'too-many-hops'
        add('forged-entry-believed', { marker, suggestHops: info.trustedHops - 1 })
      }
    } else if (!canon.includes(marker)) {
      verdict = 'replaced'
      if (trace.entries > 0) add('header-replaced', { marker })
    } else verdict = 'refused'
    a.probe = { marker, received, verdict, safe: verdict === 'refused' || verdict === 'replaced' || verdict === 'ignored' }
  }

  // The public URL the browser is at, as the page reports it.
  const publicValue = req.headers[PUBLIC_URL_HEADER]
  if (typeof publicValue === 'string') {
    let url: URL | undefined
    try {
      url = new URL(publicValue)
    } catch {
      url = undefined
    }
    if (url !== undefined) {
      const shown = clip(url.origin + url.pathname)
      if (url.protocol === 'https:' && info.protocol === 'http') add('http-behind-https', { publicUrl: shown })
      const host = url.hostname.replace(/^\[|\]$/g, '')
      const local = host === 'localhost' || host.endsWith('.localhost') || isLoopbackPeer(canonicalizeIp(host))
      if (url.protocol === 'http:' && !local) add('public-http', { publicUrl: shown })
    }
  }
  return found
}
