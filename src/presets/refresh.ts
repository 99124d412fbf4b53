/**
 * Fetching a provider's published list, validating it with the library's own parser, and (for
 * {@link refreshPresets}) swapping it in. Opt-in: nothing here runs unless called, and the core
 * never touches the network by itself.
 *
 * A refresh that fails for any reason (network, HTTP status, a body that is not the provider's
 * format, empty, cut short, oversized, or a list that would trust a private network or a whole
 * address family) keeps the ranges in use and says why. The swap replaces a preset's list in one
 * assignment, so no policy can see a half-updated list, and a list is never swapped for an empty
 * one: a policy naming a preset never comes to trust nothing or everything through a refresh.
 */
import { TrustProxyError } from '../policy-error.js'
import { parseTrustProxy } from '../policy-parse.js'
import { type PresetData, currentPreset, presetNames, swapPreset } from './registry.js'
import { type PresetSource, PresetSourceError, SOURCES } from './sources.js'

export { PresetSourceError }

export interface FetchPresetOptions {
  /** The fetch to use; defaults to the global `fetch` (Node 18+, Deno, Bun, workers). */
  fetch?(url: string, init?: { signal?: AbortSignalLike; headers?: Record<string, string> }): Promise<FetchResponse>
  /** Give up on a preset after this many milliseconds (all its URLs together). Default 15,000. */
  timeoutMs?: number
  /** Other URLs to read a preset from (a mirror, or a test server), in the order of its sources. */
  urls?: Readonly<Record<string, readonly string[]>>
  /** The date to record as taken (YYYY-MM-DD); defaults to today (UTC). */
  taken?: string
}

export interface RefreshOptions extends FetchPresetOptions {
  /** The presets to refresh; default all. */
  names?: readonly string[]
}

export interface PresetRefreshResult {
  name: string
  /** True when the new list was fetched, valid, and is now in use. */
  ok: boolean
  /** True when the list in use changed (a valid but identical list only updates the date). */
  changed: boolean
  /** Ranges in use after the refresh, and before it. */
  size: number
  previousSize: number
  /** The date of the list in use after the refresh. */
  taken: string
  /** Why the refresh failed; the previous ranges are still in use. */
  error?: string
}

export interface PresetRefreshReport {
  /** True when every preset asked for was refreshed. */
  ok: boolean
  results: PresetRefreshResult[]
}

function sourceOf(name: string): PresetSource {
  const s = SOURCES.find((x) => x.name === name)
  if (s === undefined) {
    throw new TypeError(`${JSON.stringify(name)} is not a provider preset; the presets are ${presetNames().join(', ')}`)
  }
  return s
}

const today = (): string => new Date().toISOString().slice(0, 10)

/** Reads a body, refusing it (not truncating it) past `max` bytes. */
async function readCapped(res: FetchResponse, url: string, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'))
  if (Number.isFinite(declared) && declared > max) throw new PresetSourceError(`${url}: the body is ${declared} bytes, over the ${max}-byte limit`)
  const body = res.body
  if (body === null) {
    const text = await res.text()
    if (text.length > max) throw new PresetSourceError(`${url}: the body is over the ${max}-byte limit`)
    return text
  }
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done || value === undefined) break
    total += value.byteLength
    if (total > max) {
      await reader.cancel().catch(() => {})
      throw new PresetSourceError(`${url}: the body is over the ${max}-byte limit`)
    }
    chunks.push(value)
  }
  const all = new Uint8Array(total)
  let at = 0
  for (const c of chunks) {
    all.set(c, at)
    at += c.byteLength
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(all)
  } catch {
    throw new PresetSourceError(`${url}: the body is not UTF-8 text`)
  }
}

/** Prefixes shorter than these are not a provider's edge: they would trust a good part of the internet. */
const MIN_PREFIX_V4 = 8
const MIN_PREFIX_V6 = 16

let privatePolicy: ReturnType<typeof parseTrustProxy> | undefined

/**
 * Checks a provider list as TRUST_PROXY would read it, and returns it. Throws a
 * {@link PresetSourceError} for a list with too few or too many entries, an entry that is not a
 * CIDR or address, a range wider than /8 (IPv4) or /16 (IPv6), a range in private, loopback or
 * link-local space, a list that covers a whole family, or one less than half the size of the
 * list in use (a response cut short at a line boundary still parses).
 */
export function validatePresetRanges(source: Pick<PresetSource, 'name' | 'minRanges' | 'maxRanges'>, ranges: readonly string[], previous?: readonly string[]): string[] {
  const name = source.name
  if (ranges.length < source.minRanges) throw new PresetSourceError(`${name}: ${ranges.length} ranges, fewer than the ${source.minRanges} expected`)
  if (ranges.length > source.maxRanges) throw new PresetSourceError(`${name}: ${ranges.length} ranges, more than the ${source.maxRanges} expected`)
  privatePolicy ??= parseTrustProxy('private')
  const out: string[] = []
  for (const r of ranges) {
    if (typeof r !== 'string' || !/^[0-9A-Fa-f:.]+(?:\/[0-9]{1,3})?$/.test(r)) {
      throw new PresetSourceError(`${name}: ${JSON.stringify(String(r).slice(0, 80))} is not a CIDR range`)
    }
    let policy
    try {
      policy = parseTrustProxy([r])
    } catch (e) {
      if (e instanceof TrustProxyError) throw new PresetSourceError(`${name}: ${JSON.stringify(r)} is refused by the TRUST_PROXY parser: ${e.message}`)
      throw e
    }
    const slash = r.indexOf('/')
    const prefix = slash < 0 ? (r.includes(':') ? 128 : 32) : Number(r.slice(slash + 1))
    if (prefix < (r.includes(':') ? MIN_PREFIX_V6 : MIN_PREFIX_V4)) throw new PresetSourceError(`${name}: ${r} is too wide for a provider's edge`)
    const first = slash < 0 ? r : r.slice(0, slash)
    if (privatePolicy.trust(first, 0)) throw new PresetSourceError(`${name}: ${r} is private, loopback or link-local space, not a provider's edge`)
    out.push(policy.ranges[0]!)
  }
  const whole = parseTrustProxy(out)
  if (whole.warnings.some((w) => w.code === 'trust-all')) throw new PresetSourceError(`${name}: the list covers a whole address family`)
  if (previous !== undefined && out.length * 2 < previous.length) {
    throw new PresetSourceError(`${name}: ${out.length} ranges where ${previous.length} are in use: the response looks cut short`)
  }
  return out
}

/**
 * Fetches one provider's published list and validates it, without putting it in use: the
 * generator script and {@link refreshPresets} both go through here. Rejects with a
 * {@link PresetSourceError} saying what was wrong.
 */
export async function fetchPreset(name: string, options: FetchPresetOptions = {}): Promise<PresetData> {
  const source = sourceOf(name)
  const doFetch = options.fetch ?? (globalThis.fetch as FetchPresetOptions['fetch'])
  if (typeof doFetch !== 'function') throw new PresetSourceError('no fetch function: pass options.fetch in a runtime without a global fetch')
  const urls = options.urls?.[name] ?? source.urls
  if (urls.length !== source.urls.length) throw new TypeError(`${name} is read from ${source.urls.length} URL(s), got ${urls.length}`)
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 15_000)
  try {
    const bodies: string[] = []
    for (const url of urls) {
      let res: FetchResponse
      try {
        res = await doFetch(url, { signal: controller.signal, headers: { accept: 'application/json, text/plain, text/html' } })
      } catch (e) {
        throw new PresetSourceError(`${url}: ${controller.signal.aborted ? 'timed out' : (e as Error).message}`)
      }
      if (!res.ok) throw new PresetSourceError(`${url}: HTTP ${res.status}`)
      try {
        bodies.push(await readCapped(res, url, source.maxBytes))
      } catch (e) {
        if (controller.signal.aborted && !(e instanceof PresetSourceError)) throw new PresetSourceError(`${url}: timed out`)
        throw e
      }
    }
    const ranges = validatePresetRanges(source, source.extract(bodies), currentPreset(name)?.ranges)
    const taken = options.taken ?? today()
    if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(taken)) throw new TypeError(`taken must be a YYYY-MM-DD date, got ${JSON.stringify(taken)}`)
    return { name, title: source.title, sources: source.urls, taken, ranges }
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Opt-in: fetches the providers' current lists, validates each with the TRUST_PROXY parser, and
 * puts each valid one in use. Policies parsed afterwards (and {@link livePolicy} policies, on
 * their next read) use the new ranges; a policy already parsed keeps the ranges it was built with.
 *
 * Never rejects for a failed fetch: each preset's result says whether it was refreshed and, if
 * not, why (its previous ranges stay in use). Rejects with a TypeError for an unknown preset name.
 *
 * ```js
 * const report = await refreshPresets()
 * if (!report.ok) log.warn({ presets: report.results }, 'preset refresh failed; using the previous ranges')
 * ```
 */
export async function refreshPresets(options: RefreshOptions = {}): Promise<PresetRefreshReport> {
  const names = options.names ?? presetNames()
  for (const n of names) sourceOf(n)
  const results = await Promise.all(
    names.map(async (name): Promise<PresetRefreshResult> => {
      const before = currentPreset(name)!
      try {
        const data = await fetchPreset(name, options)
        const changed = data.ranges.join(',') !== before.ranges.join(',')
        swapPreset(data)
        return { name, ok: true, changed, size: data.ranges.length, previousSize: before.ranges.length, taken: data.taken }
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e)
        return { name, ok: false, changed: false, size: before.ranges.length, previousSize: before.ranges.length, taken: before.taken, error }
      }
    }),
  )
  return { ok: results.every((r) => r.ok), results }
}
/**
 * The parts of the Web platform that a refresh uses, described here instead of taken from the DOM
 * or Node type libraries, so that the core's declarations compile in a project that has neither
 * (`skipLibCheck: false`, no `@types/node`, no `lib: ["dom"]`). The global `fetch`, `Response`
 * and `AbortSignal` of Node 18+, Bun, Deno and workers fit them.
 */
interface AbortSignalLike {
  readonly aborted: boolean
}
/** What is read of a fetch `Response`. */
export interface FetchResponse {
  readonly ok: boolean
  readonly status: number
  readonly headers: { get(name: string): string | null }
  readonly body: { getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> } } | null
  text(): Promise<string>
}

