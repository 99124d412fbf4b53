/**
 * The benchmark scenarios of issue 3, as data plus the four contenders for each.
 *
 * Kept apart from the timing code so that `test/bench-scenarios.test.ts` can run every
 * scenario's inputs once against the source tree and check that we and proxy-addr agree: a
 * benchmark that measures a wrong answer fast is worse than none.
 *
 * Every input is generated deterministically (a fixed-seed xorshift generator), so two runs
 * time the same strings, and every expected client is fixed by construction here, not read
 * back from our own output.
 */
import fastifyProxyAddr from '@fastify/proxy-addr'
import ipaddr from 'ipaddr.js'
import proxyAddr from 'proxy-addr'

/** The client that every chain below hides behind its proxies (TEST-NET-2, never trusted). */
export const CLIENT = '198.51.100.23'
/** The range list of the headline scenarios. */
export const RANGE_LIST = 'loopback, 10.0.0.0/8, fd00::/8'
const RANGE_ARRAY = ['loopback', '10.0.0.0/8', 'fd00::/8']
/** The presets scenario: TRUST_PROXY names them; the peers are compiled from their expanded ranges. */
export const PRESET_LIST = 'loopback, cloudflare, cloudfront, fastly, google-lb'
const PRESETS = 'presets'

// ---------------------------------------------------------------------------------------------
// Deterministic inputs

/** Marsaglia's xorshift32: tiny, fast, and the same sequence on every run and platform. */
export function xorshift32(seed) {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x
  }
}

const pick = (next, list) => list[next() % list.length]

/** First octets of address blocks that cloud providers publish (none is 10, 127 or 198). */
const V4_FIRST = [3, 13, 15, 16, 18, 23, 34, 35, 43, 44, 46, 50, 52, 54, 63, 64, 65, 67, 69, 70, 75, 76, 79, 87, 96, 99, 103, 104, 107, 108, 122, 130, 136, 143, 150, 151, 155, 157, 161, 162, 175, 176, 184, 185, 205, 216]
/** Prefix lengths weighted like a provider list: mostly /16 to /24, a few wide and narrow ones. */
const V4_PREFIX = [12, 14, 15, 16, 16, 17, 18, 19, 20, 20, 21, 22, 22, 23, 24, 24, 24, 24, 25, 26, 27, 28]
/** Top 32 bits of IPv6 provider allocations. */
const V6_TOP = [0x26001f00, 0x2a050d00, 0x24049800, 0x2a012578, 0x26002d00, 0x24068300, 0x2a0c5a80, 0x26052f00]
const V6_PREFIX = [32, 36, 40, 44, 48, 48, 52, 56, 56, 56, 60, 64, 64]

const mask32 = (bits) => (bits <= 0 ? 0 : bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0)
const v4Text = (v) => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`
const hex = (w) => [(w >>> 16).toString(16), (w & 0xffff).toString(16)]
/** RFC 5952 text (as proxies write it), via ipaddr.js so that it is independent of our formatter. */
const v6Text = (w) => ipaddr.parse(w.flatMap(hex).join(':')).toString()

/**
 * A cloud-provider-like list of `n` distinct CIDRs, two IPv4 for each IPv6 (entry k is IPv6 when
 * k % 3 === 1), plus for each entry one address inside it. The first n entries of a longer list
 * are the shorter list, so the 3-, 100- and 10,000-entry lists grow the same data.
 */
export function cloudCidrs(n, seed = 0x5eed) {
  const next = xorshift32(seed)
  const cidrs = []
  const inside = []
  const seen = new Set()
  for (let k = 0; k < n; ) {
    let cidr
    let addr
    if (k % 3 === 1) {
      const prefix = pick(next, V6_PREFIX)
      const w = [pick(next, V6_TOP) | (next() & 0xff), next(), next(), next()].map((x, i) => (x & mask32(prefix - 32 * i)) >>> 0)
      cidr = `${v6Text(w)}/${prefix}`
      addr = v6Text([w[0], w[1], w[2], (w[3] | 1) >>> 0])
    } else {
      const prefix = pick(next, V4_PREFIX)
      const v = ((pick(next, V4_FIRST) << 24) | (next() & 0xffffff)) >>> 0
      const net = (v & mask32(prefix)) >>> 0
      cidr = `${v4Text(net)}/${prefix}`
      addr = v4Text((net | 1) >>> 0)
    }
    // Distinct entries, so that "10,000 CIDRs" is 10,000 (nested ones remain, as in real lists).
    if (seen.has(cidr)) continue
    seen.add(cidr)
    cidrs.push(cidr)
    inside.push(addr)
    k++
  }
  return { cidrs, inside }
}

/** Client-written padding: valid public addresses (none trusted by RANGE_LIST), ~`bytes` long. */
function junkAddresses(bytes, seed) {
  const next = xorshift32(seed)
  const parts = []
  let len = 0
  while (len < bytes) {
    const a = next() % 3 === 0
      ? `2001:db8:${(next() & 0xffff).toString(16)}::${(next() & 0xffff).toString(16)}`
      : v4Text(((pick(next, V4_FIRST) << 24) | (next() & 0xffffff)) >>> 0)
    const sep = next() % 2 === 0 ? ', ' : ','
    parts.push(a)
    len += a.length + sep.length
    parts.push(sep)
  }
  parts.pop()
  return parts.join('')
}

/** A header made up to exactly `bytes` characters: `left` padding, then `right` (the real chain). */
function paddedHeader(bytes, right, seed, leftmost) {
  const head = leftmost === undefined ? '' : leftmost + ', '
  let junk = junkAddresses(Math.max(0, bytes - right.length - head.length - 2), seed)
  // Trim the padding so the whole header is exactly `bytes` long, ending on a whole entry.
  while (head.length + junk.length + 2 + right.length > bytes) {
    junk = junk.slice(0, junk.lastIndexOf(',')).trimEnd()
  }
  let out = head + junk + ', ' + right
  // Fill any remaining gap with spaces after a comma (optional white space, ignored by all).
  if (out.length < bytes) out = head + junk + ',' + ' '.repeat(bytes - out.length + 1) + right
  return out
}

/** `n` trusted hops under RANGE_LIST, socket first: IPv4 and IPv6 proxies in turn. */
function trustedChain(n) {
  const hop = (k) => (k % 2 === 0 ? `10.${k & 255}.${(k >> 8) & 255}.1` : `fd00::${k.toString(16)}:1`)
  const xff = [CLIENT]
  for (let k = n - 1; k >= 1; k--) xff.push(hop(k))
  return { remote: hop(0), xff: xff.join(', ') }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/**
 * One scenario:
 * - `ours`: the TRUST_PROXY value we parse; `peer`: what proxy-addr and @fastify/proxy-addr are
 *   compiled from (their `compile()` input, or a trust function as Express builds it);
 * - `remote` and `xff`: the socket peer and X-Forwarded-For; `forwarded`: a Forwarded header,
 *   read by us through `resolveClientIp(policy, remote, forwarded, { header: 'forwarded' })` while the peers, which do
 *   not read Forwarded, get the same chain as X-Forwarded-For (`xff`);
 * - `expected`: the client, fixed by construction.
 * `only`, a Set of ids, builds just those (the 10,000-entry list takes a moment).
 */
export function buildScenarios(only) {
  const list = []
  const want = (id) => only === undefined || only.has(id)
  const add = (s) => want(s.id) && list.push({ group: 'core', oursVia: 'resolveClientIp', ...s })

  add({ id: 'no-header', title: 'no header (direct client)', ours: RANGE_LIST, peer: RANGE_ARRAY, remote: '203.0.113.7', xff: undefined, expected: '203.0.113.7' })
  add({ id: 'loopback-1', title: '1 loopback hop', ours: 'loopback', peer: ['loopback'], remote: '127.0.0.1', xff: '203.0.113.7', expected: '203.0.113.7' })
  add({ id: 'ipv4-3hop', title: '3-hop IPv4 chain, range list', ours: RANGE_LIST, peer: RANGE_ARRAY, remote: '10.0.0.3', xff: `${CLIENT}, 10.0.0.1, 10.0.0.2`, expected: CLIENT })
  add({ id: 'ipv6-2hop', title: '2-hop IPv6 chain, range list', ours: RANGE_LIST, peer: RANGE_ARRAY, remote: 'fd00::2', xff: '2001:db8:85a3::8a2e:370:7334, fd00::1', expected: '2001:db8:85a3::8a2e:370:7334' })
  add({ id: 'mapped-peer', title: 'IPv4-mapped peer ::ffff:127.0.0.1, loopback', ours: 'loopback', peer: ['loopback'], remote: '::ffff:127.0.0.1', xff: '203.0.113.7', expected: '203.0.113.7' })
  add({ id: 'hops-2', title: "hop count 2 vs Express's (a, i) => i < 2", ours: '2', peer: (a, i) => i < 2, remote: '10.0.0.2', xff: `${CLIENT}, 10.0.0.1`, expected: CLIENT })
  const forwarded = 'for="[2001:db8:cafe::17]:4711";proto=https;host=gw.example.com, for="[fd00::1]";proto=https;by="[fd00::2]"'
  add({ id: 'forwarded-v6', title: 'Forwarded, quoted IPv6 with port (peers: same chain as XFF)', ours: RANGE_LIST, peer: RANGE_ARRAY, remote: 'fd00::2', xff: '2001:db8:cafe::17, fd00::1', forwarded, oursVia: "resolveClientIp({ header: 'forwarded' })", expected: '2001:db8:cafe::17' })
  add({ id: 'forwarded-v6-xff', title: 'the same chain as X-Forwarded-For', ours: RANGE_LIST, peer: RANGE_ARRAY, remote: 'fd00::2', xff: '2001:db8:cafe::17, fd00::1', expected: '2001:db8:cafe::17' })
  // Issue 14: the four provider presets beside loopback, on loopback-1's request and behind a Cloudflare hop (peers get the expanded lists).
  add({ id: 'presets-1', title: '1 loopback hop, loopback + 4 provider presets', ours: PRESET_LIST, peer: PRESETS, remote: '127.0.0.1', xff: '203.0.113.7', expected: '203.0.113.7' })
  add({ id: 'presets-cf', title: 'loopback + Cloudflare hop, loopback + 4 provider presets', ours: PRESET_LIST, peer: PRESETS, remote: '127.0.0.1', xff: `${CLIENT}, 104.16.0.9`, expected: CLIENT })

  // Scaling with the size of the trusted list: the same 3-hop request each time, its proxies
  // in the first, middle and last entries (proxy-addr scans in order), the client in none.
  for (const n of [3, 100, 10_000]) {
    if (!want(`cidrs-${n}`)) continue
    const { cidrs, inside } = cloudCidrs(n)
    const last4 = lastIndex(n, (k) => k % 3 !== 1)
    const mid6 = lastIndex(Math.floor(n / 2) + 1, (k) => k % 3 === 1)
    list.push({
      group: 'cidrs', oursVia: 'resolveClientIp', id: `cidrs-${n}`, title: `${n.toLocaleString('en')} CIDRs (mixed v4/v6), 3-hop chain`,
      ours: cidrs.join(', '), peer: cidrs, remote: inside[last4], xff: `${CLIENT}, ${inside[mid6]}, ${inside[0]}`, expected: CLIENT,
    })
  }

  // Scaling with the number of trusted hops.
  for (const n of [1, 10, 50]) {
    const { remote, xff } = trustedChain(n)
    if (want(`chain-${n}`)) list.push({ group: 'hops', oursVia: 'resolveClientIp', id: `chain-${n}`, title: `${n} trusted hop${n === 1 ? '' : 's'}, range list`, ours: RANGE_LIST, peer: RANGE_ARRAY, remote, xff, expected: CLIENT })
  }

  // A client-padded header: under `all` every entry must be read (the spec says so); under a
  // range policy only the two trusted hops on the right and the client are.
  for (const bytes of [100, 8192]) {
    const xff = paddedHeader(bytes, '203.0.113.9', 0xbad + bytes, '192.0.2.1')
    if (want(`all-${bytes}`)) list.push({ group: 'hostile', oursVia: 'resolveClientIp', id: `all-${bytes}`, title: `${bytes}-byte header, policy all (true)`, ours: 'true', peer: () => true, remote: '127.0.0.1', xff, expected: '192.0.2.1' })
  }
  for (const bytes of [100, 8192]) {
    const xff = paddedHeader(bytes, `${CLIENT}, 10.1.2.3`, 0xbad + bytes)
    if (want(`range-${bytes}`)) list.push({ group: 'hostile', oursVia: 'resolveClientIp', id: `range-${bytes}`, title: `${bytes}-byte header, range list`, ours: RANGE_LIST, peer: RANGE_ARRAY, remote: '127.0.0.1', xff, expected: CLIENT })
  }
  return list
}

function lastIndex(n, ok) {
  for (let k = n - 1; k >= 0; k--) if (ok(k)) return k
  throw new Error('no such entry')
}

// ---------------------------------------------------------------------------------------------
// The contenders

/** An independent canonical form (ipaddr.js), to compare answers given in different spellings. */
export function canonical(addr) {
  if (addr === undefined || addr === null) return undefined
  const text = String(addr).trim()
  try {
    return ipaddr.process(text).toString()
  } catch {
    return `not an address: ${JSON.stringify(addr)}`
  }
}

const sink = { _: undefined }
/** Keeps a result alive so that no contender's work can be optimised away. */
export const keep = (v) => {
  sink._ = v
}

/**
 * The four contenders of a scenario, each a zero-argument function returning the client, with
 * every configuration step (parsing TRUST_PROXY, compiling the peers' trust) done beforehand,
 * as a server does at startup. `lib` is our library (the built `dist/index.js` or `src/`).
 */
export function contenders(s, lib) {
  const policy = lib.parseTrustProxy(s.ours)
  if (s.peer === PRESETS) s = { ...s, peer: peerList(s, lib) }
  const paTrust = typeof s.peer === 'function' ? s.peer : proxyAddr.compile(s.peer)
  const fpaTrust = typeof s.peer === 'function' ? s.peer : fastifyProxyAddr.compile(s.peer)
  const remote = s.remote
  const xff = s.xff
  const peerReq = { socket: { remoteAddress: remote }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }

  let ours
  let record
  if (s.forwarded !== undefined) {
    // The address-only walk of the Forwarded header, and the audit record of the same request.
    const options = { header: 'forwarded' }
    const forwarded = s.forwarded
    ours = () => lib.resolveClientIp(policy, remote, forwarded, options)
    const req = { remoteAddress: remote, headers: { forwarded, host: 'gw.example.com' }, encrypted: false }
    record = () => lib.resolveClient(policy, req, options).ip
  } else {
    ours = () => lib.resolveClientIp(policy, remote, xff)
    // The audit record of the same request, as a proxy sends it (with X-Forwarded-Proto and Host:
    // the record reads them, resolveClientIp does not).
    const headers = xff === undefined ? { host: 'gw.example.com' } : { 'x-forwarded-for': xff, 'x-forwarded-proto': 'https', host: 'gw.example.com' }
    const req = { remoteAddress: remote, headers, encrypted: false }
    record = () => lib.resolveClient(policy, req).ip
  }
  // The floor: the least work that reads one entry of the header (the socket address when there
  // is no header). It does not validate anything; it is the cost of touching the string.
  const floorHeader = s.forwarded ?? xff
  const floor = floorHeader === undefined ? () => remote : () => floorHeader.slice(floorHeader.lastIndexOf(',') + 1).trim()

  return {
    ours,
    record,
    proxyAddr: () => proxyAddr(peerReq, paTrust),
    fastify: () => fastifyProxyAddr(peerReq, fpaTrust),
    floor,
  }
}

/** The list the peers are compiled from, presets expanded (a trust function gives none). */
export function peerList(s, lib) {
  if (s.peer === PRESETS) return ['loopback', ...lib.presetInfo().flatMap((p) => p.ranges)]
  return typeof s.peer === 'function' ? [] : s.peer
}

/**
 * Runs each contender once and checks the answers: ours (and our audit record), proxy-addr and
 * @fastify/proxy-addr must all give the scenario's expected client. Returns the canonical
 * answers; throws on any disagreement, naming it.
 */
export function checkScenario(s, lib) {
  const c = contenders(s, lib)
  const got = {
    ours: canonical(c.ours()),
    proxyAddr: canonical(c.proxyAddr()),
    fastify: canonical(c.fastify()),
  }
  if (c.record !== undefined) got.record = canonical(c.record())
  const want = canonical(s.expected)
  for (const [who, value] of Object.entries(got)) {
    if (value !== want) {
      throw new Error(`scenario ${s.id}: ${who} returned ${value}, expected ${want}`)
    }
  }
  return got
}

/** The compile-time scenario: TRUST_PROXY with 10,000 CIDRs, as one env string for us. */
export function compileInputs(n = 10_000) {
  const { cidrs } = cloudCidrs(n)
  return { text: cidrs.join(', '), array: cidrs }
}
