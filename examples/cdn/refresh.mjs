import { livePolicy, refreshPresets } from '@infram/trust-proxy'

// Parsed now: a bad TRUST_PROXY stops the server here. After each successful refresh the live
// policy is re-parsed with the new provider ranges. It is a policy like any other: hand it to
// clientIp(live), createResolver(live) or resolveClient(live, req), or live.trust to Express.
export const live = livePolicy(process.env.TRUST_PROXY)

/** Fetches the providers' lists; a failure keeps the ranges in use and says why. */
export async function refresh(options) {
  const report = await refreshPresets(options)
  for (const r of report.results) {
    if (r.ok) console.log(`preset ${r.name}: ${r.size} ranges, taken ${r.taken}${r.changed ? ' (changed)' : ''}`)
    else console.warn(`preset ${r.name} not refreshed: ${r.error}; still using the list taken ${r.taken}`)
  }
  return report
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await refresh()
  setInterval(refresh, 24 * 3600_000).unref()
}
