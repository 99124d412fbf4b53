/**
 * Where each provider publishes the addresses its edge connects from, and how to read them.
 *
 * Shared by the generator (`scripts/update-presets.mjs`, run where there is internet) and the
 * opt-in runtime refresh, so that both refuse the same bad input: a body that is not the
 * provider's format, empty, cut short or oversized never replaces the ranges in use.
 *
 * Nothing here imports from Node: the refresh runs in any runtime with a global `fetch`.
 */

/** A published body could not be read as the provider's list. */
export class PresetSourceError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PresetSourceError'
  }
}

export interface PresetSource {
  readonly name: string
  readonly title: string
  /** The official URLs, fetched in this order; `extract` receives their bodies in the same order. */
  readonly urls: readonly string[]
  /** The largest body accepted from each URL, in bytes (a bigger one is refused, not truncated). */
  readonly maxBytes: number
  /** Bounds on the number of ranges: fewer or more than these is not the list we know. */
  readonly minRanges: number
  readonly maxRanges: number
  /**
   * Data older than this many days makes a policy naming the preset carry a `preset-stale`
   * warning. It follows how often the provider changes its list: CloudFront's origin-facing
   * ranges change several times a year, Cloudflare's and Fastly's every few years, Google's
   * load-balancer ranges have not changed since they were first published.
   */
  readonly staleAfterDays: number
  /** The body texts to the range list; throws {@link PresetSourceError} on anything unexpected. */
  extract(bodies: readonly string[]): string[]
}

const CIDR4 = /^(?:[0-9]{1,3}\.){3}[0-9]{1,3}\/[0-9]{1,2}$/
const CIDR6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\/[0-9]{1,3}$/

/** One CIDR per line (Cloudflare's ips-v4 / ips-v6): every non-blank line must be one. */
function cidrLines(body: string, family: 4 | 6, url: string): string[] {
  const out: string[] = []
  const lines = body.split(/\r?\n/)
  lines.forEach((raw, k) => {
    const line = raw.trim()
    if (line === '') return
    if (!(family === 4 ? CIDR4 : CIDR6).test(line)) {
      throw new PresetSourceError(`${url}: line ${k + 1} is not an IPv${family} CIDR: ${JSON.stringify(line.slice(0, 80))}`)
    }
    out.push(line)
  })
  if (out.length === 0) throw new PresetSourceError(`${url}: no ranges in the body`)
  return out
}

function json(body: string, url: string): unknown {
  try {
    return JSON.parse(body)
  } catch (e) {
    throw new PresetSourceError(`${url}: not JSON (${(e as Error).message})`)
  }
}

function stringArray(value: unknown, what: string, url: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new PresetSourceError(`${url}: ${what} is not a list of strings`)
  }
  return value as string[]
}

export const CLOUDFLARE: PresetSource = {
  name: 'cloudflare',
  title: 'Cloudflare',
  urls: ['https://www.cloudflare.com/ips-v4', 'https://www.cloudflare.com/ips-v6'],
  maxBytes: 64 * 1024,
  minRanges: 10,
  maxRanges: 500,
  staleAfterDays: 365,
  extract: ([v4 = '', v6 = '']) => [...cidrLines(v4, 4, CLOUDFLARE.urls[0]!), ...cidrLines(v6, 6, CLOUDFLARE.urls[1]!)],
}

/** The AWS service whose addresses CloudFront uses to reach origins (not the viewer-facing ones). */
export const CLOUDFRONT_SERVICE = 'CLOUDFRONT_ORIGIN_FACING'

export const CLOUDFRONT: PresetSource = {
  name: 'cloudfront',
  title: 'Amazon CloudFront (origin-facing)',
  urls: ['https://ip-ranges.amazonaws.com/ip-ranges.json'],
  // ip-ranges.json covers every AWS service: about 3 MB in 2026, growing.
  maxBytes: 32 * 1024 * 1024,
  minRanges: 10,
  maxRanges: 5000,
  staleAfterDays: 180,
  extract([body = '']) {
    const url = CLOUDFRONT.urls[0]!
    const doc = json(body, url) as { prefixes?: unknown; ipv6_prefixes?: unknown; createDate?: unknown } | null
    if (doc === null || typeof doc !== 'object' || !Array.isArray(doc.prefixes) || !Array.isArray(doc.ipv6_prefixes) || typeof doc.createDate !== 'string') {
      throw new PresetSourceError(`${url}: not AWS's ip-ranges.json (no prefixes, ipv6_prefixes and createDate)`)
    }
    const pick = (list: unknown[], key: string): string[] =>
      list.flatMap((p) => {
        if (p === null || typeof p !== 'object') throw new PresetSourceError(`${url}: a prefix entry is not an object`)
        const e = p as Record<string, unknown>
        if (e.service !== CLOUDFRONT_SERVICE) return []
        if (typeof e[key] !== 'string') throw new PresetSourceError(`${url}: a ${CLOUDFRONT_SERVICE} entry has no ${key}`)
        return [e[key] as string]
      })
    const v4 = pick(doc.prefixes, 'ip_prefix')
    const v6 = pick(doc.ipv6_prefixes, 'ipv6_prefix')
    if (v4.length === 0) throw new PresetSourceError(`${url}: no ${CLOUDFRONT_SERVICE} prefixes`)
    return [...new Set(v4), ...new Set(v6)]
  },
}

export const FASTLY: PresetSource = {
  name: 'fastly',
  title: 'Fastly',
  urls: ['https://api.fastly.com/public-ip-list'],
  maxBytes: 64 * 1024,
  minRanges: 10,
  maxRanges: 500,
  staleAfterDays: 365,
  extract([body = '']) {
    const url = FASTLY.urls[0]!
    const doc = json(body, url) as { addresses?: unknown; ipv6_addresses?: unknown } | null
    if (doc === null || typeof doc !== 'object') throw new PresetSourceError(`${url}: not Fastly's public IP list`)
    const v4 = stringArray(doc.addresses, 'addresses', url)
    const v6 = stringArray(doc.ipv6_addresses, 'ipv6_addresses', url)
    if (v4.length === 0) throw new PresetSourceError(`${url}: no addresses`)
    return [...v4, ...v6]
  },
}

/** Ranges Google's firewall-rules page must name; without them the page is not the one we read. */
const GOOGLE_ANCHORS = ['35.191.0.0/16', '130.211.0.0/22']

export const GOOGLE_LB: PresetSource = {
  name: 'google-lb',
  title: 'Google Cloud load balancers and health checks',
  // Google publishes these ranges in its documentation only (there is no JSON list for them):
  // the page's CIDRs are read, and the known ones must be among them.
  urls: ['https://cloud.google.com/load-balancing/docs/firewall-rules'],
  maxBytes: 4 * 1024 * 1024,
  minRanges: 2,
  maxRanges: 50,
  staleAfterDays: 730,
  extract([body = '']) {
    const url = GOOGLE_LB.urls[0]!
    const text = body.replace(/<[^>]*>/g, ' ')
    const found = new Set<string>()
    for (const m of text.matchAll(/(?<![0-9A-Za-z.:])((?:[0-9]{1,3}\.){3}[0-9]{1,3}\/[0-9]{1,2}|[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{0,4}){2,7}\/[0-9]{1,3})(?![0-9A-Za-z])/g)) {
      found.add(m[1]!)
    }
    for (const anchor of GOOGLE_ANCHORS) {
      if (!found.has(anchor)) throw new PresetSourceError(`${url}: the page does not list ${anchor}; its layout may have changed`)
    }
    // The page also shows example networks (10.1.2.0/24, proxy-only subnets) and 0.0.0.0/0 for
    // clients; only public ranges of Google's own blocks are load-balancer sources.
    return [...found].filter((c) => isGoogleBlock(c))
  },
}

/** Google's load balancer and health-check ranges lie in these blocks (per the same page). */
function isGoogleBlock(cidr: string): boolean {
  return /^(?:35\.191\.|130\.211\.|209\.85\.|34\.96\.|34\.127\.|2600:2d00:|2600:1901:)/i.test(cidr)
}

/** Every provider, by TRUST_PROXY name. */
export const SOURCES: readonly PresetSource[] = [CLOUDFLARE, CLOUDFRONT, FASTLY, GOOGLE_LB]
