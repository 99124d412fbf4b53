/**
 * One request, analysed: the core's resolution, the walk hop by hop with the reason for each
 * hop, the forwarding headers that came in, and the findings (anomalies with causes and fixes).
 *
 * Shared by `resolve` (a request described on the command line) and `serve` (a real request),
 * so that both say the same thing about the same request. The client, protocol and host always
 * come from `resolveClient`; the header splitting here is for display only and never decides.
 */
import { type ClientInfo, type TrustPolicy, canonicalizeIp, parseTrustProxy, resolveClient } from '../index.js'
import { type HopReason, hopExplainer } from './explain.js'
import { FINDINGS, type Finding, type FindingCode, type FindingInput, entryForPeer } from './fixes.js'
import { edgeFindingInput } from './presets.js'
import { isEdgeHeader, rewriteEdgeWalk } from './edge-walk.js'

/** Node-style request headers: lower-case names, repeated headers joined. */
export type Headers = Record<string, string | string[] | undefined>

export interface RequestInput {
  remoteAddress: string | undefined
  headers: Headers
  encrypted: boolean
}

/** One step of the walk, for display and for `--json`. */
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
  /** Machine code: a {@link HopReason} rule, or `leftmost`, `malformed`, `not-read`. */
  rule: HopReason['rule'] | 'leftmost' | 'last-verified' | 'malformed' | 'not-read'
  matched?: string
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

/** Splits on commas outside double quotes (Forwarded), for display. */
function splitQuoted(s: string): string[] {
  const items: string[] = []
  let quoted = false
  let start = 0
  for (let k = 0; k < s.length; k++) {
    const c = s[k]
    if (c === '\\' && quoted) k++
    else if (c === '"') quoted = !quoted
    else if (c === ',' && !quoted) {
      items.push(s.slice(start, k))
      start = k + 1
    }
  }
  items.push(s.slice(start))
  return items
}

/** The `for=` value of one Forwarded element, unquoted, for display. */
function forwardedFor(element: string): string {
  const m = /(?:^|;)\s*for\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/i.exec(element)
  if (m === null) return element.trim()
  const v = m[1]!.trim()
  return v.startsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v
}

const trimOWS = (s: string): string => s.replace(/^[ \t]+|[ \t]+$/g, '')

/** The entries of the client-address header, right-most first, as text (display only). */
export function headerEntries(value: string | string[] | undefined, header: string): string[] {
  if (value === undefined) return []
  const lines = typeof value === 'string' ? [value] : value
  const text = lines.join(',')
  if (trimOWS(text) === '') return []
  let items: string[]
  if (header === 'x-forwarded-for') items = text.split(',').map(trimOWS)
  else if (header === 'forwarded') items = splitQuoted(text).map(forwardedFor)
  else items = [trimOWS(lines.join(', '))]
  return items.reverse()
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

function rightmost(v: string | string[] | undefined): string {
  const s = joined(v) ?? ''
  return s.slice(s.lastIndexOf(',') + 1).trim()
}

/** Analyses one request under a policy. Never throws for anything the request carries. */
export function analyse(policy: TrustPolicy, req: RequestInput, header = 'x-forwarded-for'): Analysis {
  const info = resolveClient(policy, req, { header })
  const resolved = toResolved(info)
  const why = hopExplainer(policy)
  const value = req.headers[header]
  const entries = headerEntries(value, header)
  const from = header
  const walk: WalkStep[] = []
  const anomalies = new Set(info.anomalies)
  let next = 0 // index into entries of the first entry not yet shown

  if (anomalies.has('malformed-peer')) {
    walk.push({
      hop: 0, from: 'socket', raw: req.remoteAddress ?? null, address: null, trusted: null,
      role: 'malformed', rule: 'malformed', reason: 'the socket address is not an IP address: no client can be given',
    })
  } else {
    info.chain.forEach((addr, i) => {
      const r = why(addr, i)
      const isClient = i === info.trustedHops
      const raw = i === 0 ? (req.remoteAddress ?? null) : (entries[i - 1] ?? addr ?? null)
      const step: WalkStep = {
        hop: i,
        from: i === 0 ? 'socket' : from,
        raw,
        address: nullable(addr),
        trusted: r.trusted,
        role: isClient ? 'client' : 'proxy',
        rule: r.rule,
        ...(r.matched !== undefined ? { matched: r.matched } : {}),
        reason: (r.trusted ? 'trusted: ' : 'not trusted: ') + r.text,
      }
      if (isClient && r.trusted) {
        if (anomalies.has('malformed-entry')) {
          step.rule = 'last-verified'
          step.reason = `trusted (${r.text}), but the next entry is not an address: the walk stops here, at the last verified hop`
        } else if (i === 0) {
          step.rule = 'leftmost'
          step.reason = `trusted (${r.text}), but no ${displayName(header)} entry names anyone else: the peer is the client`
        } else {
          step.rule = 'leftmost'
          step.reason = `trusted (${r.text}), and the left-most entry: nothing further left, so it is the client (a trusted proxy wrote it)`
        }
      }
      walk.push(step)
    })
    next = info.chain.length - 1
    if (anomalies.has('malformed-entry') && next < entries.length) {
      walk.push({
        hop: next + 1, from, raw: entries[next]!, address: null, trusted: null,
        role: 'malformed', rule: 'malformed', reason: 'not an IP address: the walk stops before it',
      })
      next++
    }
  }
  // Entries left of the client are shown for context only; a padded header must not make the page huge.
  const shownEnd = Math.min(entries.length, next + MAX_IGNORED_SHOWN)
  for (let k = next; k < shownEnd; k++) {
    walk.push({
      hop: k + 1, from, raw: clip(entries[k]!), address: nullable(canonicalizeIp(entries[k]!)), trusted: null,
      role: 'ignored', rule: 'not-read', reason: 'left of the client: not read (anyone can write these)',
    })
  }
  if (shownEnd < entries.length) {
    walk.push({
      hop: shownEnd + 1, from, raw: `(${entries.length - shownEnd} more entries)`, address: null, trusted: null,
      role: 'ignored', rule: 'not-read', reason: 'left of the client: not read, not shown',
    })
  }

  if (isEdgeHeader(header)) rewriteEdgeWalk(walk, info, header, req.headers, req.remoteAddress, why)

  const forwarding: Record<string, string> = {}
  for (const name of new Set([...FORWARDING_NAMES, header])) {
    const v = joined(req.headers[name])
    if (v !== undefined) forwarding[displayName(name)] = clip(v)
  }

  const peerTrusted = !anomalies.has('malformed-peer') && policy.trust(info.peer, 0)
  const out: Analysis = { header, resolved, walk, forwarding, findings: [], probe: null, peerTrusted }
  out.findings = findingsFor(policy, req, info, out, entries)
  return out
}

function findingsFor(policy: TrustPolicy, req: RequestInput, info: ClientInfo, a: Analysis, entries: string[]): Finding[] {
  const anomalies = new Set(info.anomalies)
  const peerEntry = entryForPeer(info.peer, isLoopbackPeer(info.peer))
  const input: FindingInput = {
    peer: info.peer,
    peerEntry,
    value: policy.toString(),
    valueWithPeer: policy.kind === 'ranges' ? [...policy.ranges, peerEntry].join(', ') : peerEntry,
    header: displayName(a.header),
    headerText: joined(req.headers[a.header]),
  }
  const found: Finding[] = []
  const add = (code: FindingCode, extra: Record<string, string | number | undefined> = {}) => found.push(FINDINGS[code]({ ...input, extra }))

  if (anomalies.has('malformed-peer')) add('malformed-peer')
  if (anomalies.has('forwarded-by-untrusted-peer')) add(policy.kind === 'none' ? 'trust-proxy-off' : 'peer-not-trusted')
  if (anomalies.has('malformed-entry')) {
    add('malformed-entry', { entry: entries[info.chain.length - 1], client: info.ip })
  }
  if (anomalies.has('short-chain')) add('short-chain')
  if (anomalies.has('missing-forwarded-proto')) add('missing-forwarded-proto')
  if (anomalies.has('invalid-forwarded-proto')) add('invalid-forwarded-proto', { proto: rightmost(req.headers['x-forwarded-proto']) })
  if (anomalies.has('invalid-forwarded-host')) add('invalid-forwarded-host', { host: rightmost(req.headers['x-forwarded-host']) })
  if (anomalies.has('invalid-host')) add('invalid-host')
  if (anomalies.has('trust-function-error')) add('trust-function-error')
  if (a.peerTrusted && entries.length === 0 && policy.kind !== 'hops' && !anomalies.has('malformed-peer')) {
    add('no-forwarded-for')
  }
  const edge = edgeFindingInput(info)
  if (edge !== undefined) add('provider-edge', edge)

  // The page's forgery probe: it sent a known address in the client-address header.
  const probeValue = req.headers[PROBE_HEADER]
  const marker = typeof probeValue === 'string' ? canonicalizeIp(probeValue) : undefined
  if (marker !== undefined) {
    const received = joined(req.headers[a.header]) ?? null
    const canon = entries.map((e) => canonicalizeIp(e))
    let verdict: ProbeResult['verdict']
    if (!a.peerTrusted) verdict = 'ignored'
    else if (info.ip === marker) {
      if (canon[0] === marker) {
        verdict = 'not-appended'
        add('header-not-appended', { marker })
      } else {
        verdict = 'too-many-hops'
        add('forged-entry-believed', { marker, suggestHops: info.trustedHops - 1 })
      }
    } else if (!canon.includes(marker)) {
      verdict = 'replaced'
      if (entries.length > 0) add('header-replaced', { marker })
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
