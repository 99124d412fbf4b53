/**
 * The provider presets on the command line: `check` shows the date, size and source of each
 * preset a value names (or of all of them, with `--presets`), and `serve`/`resolve` say when a
 * hop of the request is a provider's edge and which preset would trust it.
 */
import { type ClientInfo, EDGE_HEADERS, type PresetInfo, type TrustPolicy, parseTrustProxy, presetInfo } from '../index.js'
import type { Finding, FindingInput } from './fixes.js'
import { shellValue } from './fixes.js'
import { presetGeneration } from '../presets/registry.js'
import type { Style } from './style.js'

/** The presets a policy names, in the order of its entries. */
export function namedPresets(policy: TrustPolicy): PresetInfo[] {
  const all = presetInfo()
  return policy.ranges.flatMap((r) => all.filter((p) => p.name === r))
}

/** `Cloudflare's 22 published ranges, taken 2026-07-02`, for a preset name; undefined otherwise. */
export function presetSummary(name: string): string | undefined {
  const p = presetInfo().find((x) => x.name === name)
  return p === undefined ? undefined : `${p.title}: ${p.size} published ranges, taken ${p.taken}`
}

/** For an edge header (`CF-Connecting-IP`), what the policy's meaning adds; undefined otherwise. */
export function edgeMeaning(header: string): string | undefined {
  const preset = EDGE_HEADERS[header.toLowerCase()]
  if (preset === undefined || !Object.prototype.hasOwnProperty.call(EDGE_HEADERS, header.toLowerCase())) return undefined
  return `${header} is believed only when the walk reaches a ${preset} address (the hop that delivered the request); it is then the client.`
}

/** One line per preset: name, size, date and age, and where the ranges come from. */
export function presetLines(presets: readonly PresetInfo[], style: Style): string[] {
  return presets.map((p) => {
    const age = `${p.ageDays} day${p.ageDays === 1 ? '' : 's'} old`
    const when = p.stale ? style.yellow(`${age}, stale after ${p.staleAfterDays}`) : `${age}, stale after ${p.staleAfterDays}`
    return `  preset:    ${p.name}: ${p.title}, ${p.size} ranges (${p.ipv4} IPv4, ${p.ipv6} IPv6), taken ${p.taken} (${when}), from ${p.sources.join(' and ')}`
  })
}

/** For `--json`: the same facts with stable keys. */
export function presetJson(presets: readonly PresetInfo[]): object[] {
  return presets.map((p) => ({ name: p.name, title: p.title, size: p.size, ipv4: p.ipv4, ipv6: p.ipv6, taken: p.taken, age_days: p.ageDays, stale_after_days: p.staleAfterDays, stale: p.stale, sources: p.sources, via: p.via ?? null }))
}

/** The presets as policies, compiled once per preset generation (a refreshPresets() swaps the data). */
let compiled: { name: string; title: string; policy: TrustPolicy }[] | undefined
let compiledGeneration = -1

/** The first hop of the request (the peer, or a hop the walk reached) inside a provider preset. */
export function edgeHop(info: ClientInfo): { hop: number; address: string; preset: string; title: string } | undefined {
  if (compiled === undefined || compiledGeneration !== presetGeneration()) {
    compiled = presetInfo().map((p) => ({ name: p.name, title: p.title, policy: parseTrustProxy(p.name) }))
    compiledGeneration = presetGeneration()
  }
  for (let hop = 0; hop < info.chain.length; hop++) {
    const address = info.chain[hop]
    if (address === undefined) continue
    const hit = compiled.find((p) => p.policy.trust(address, 0))
    if (hit !== undefined) return { hop, address, preset: hit.name, title: hit.title }
  }
  return undefined
}

/** The finding `serve` and `resolve` show when a hop of the request is a provider's edge. */
export function providerEdgeFinding(i: FindingInput & { extra: Record<string, string | number | undefined> }): Finding {
  const { hop, address, preset, title } = i.extra as { hop: number; address: string; preset: string; title: string }
  const trusted = i.value.split(', ').includes(preset)
  // Already reading this provider's own header (--ip-header cf-connecting-ip): it needs no TRUST_PROXY change.
  const reading = EDGE_HEADERS[i.header.toLowerCase()] === preset
  // Behind an edge header the walk's hops are X-Forwarded-For's.
  const walked = Object.prototype.hasOwnProperty.call(EDGE_HEADERS, i.header.toLowerCase()) ? 'X-Forwarded-For' : i.header
  const where = hop === 0 ? `The socket peer ${address}` : `Hop ${hop} of ${walked}, ${address},`
  return {
    code: 'provider-edge',
    severity: 'info',
    title: `This request came through ${title}`,
    detail: `${where} is inside the ${preset} preset (${title}'s published ranges)${trusted ? ', which TRUST_PROXY names' : ''}.`,
    cause: reading
      ? `${i.header} is read, and believed only when the walk reaches ${title}'s ranges (see docs/cdn.md).`
      : preset === 'cloudflare'
        ? "Cloudflare writes the client it saw into CF-Connecting-IP. Read it with { header: 'cf-connecting-ip' }: it is then believed only from Cloudflare's ranges (see docs/cdn.md)."
        : `${title} appends the client it saw to X-Forwarded-For; trusting the ${preset} preset lets the walk read it.`,
    ...(trusted || reading ? {} : { setting: `TRUST_PROXY=${shellValue(i.value === 'false' ? preset : `${i.value}, ${preset}`)}` }),
  }
}

/** The one-line hook for the findings: a provider-edge finding when a hop is an edge. */
export function edgeFindingInput(info: ClientInfo): Record<string, string | number> | undefined {
  const e = edgeHop(info)
  return e === undefined ? undefined : { ...e }
}
