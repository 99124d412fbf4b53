/**
 * The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2): the header a TCP load
 * balancer writes at the start of a connection to say which client it accepted the connection
 * from. Bytes in, a typed result out; nothing here imports Node, nothing here throws.
 *
 * The header is the most trustworthy client address a server can have (no HTTP header for a
 * client to forge), but only when it comes from the load balancer: anyone who reaches the
 * server directly can write one too. Deciding who may send it is the listener's job
 * (`@infram/trust-proxy/proxy-protocol`); this module only reads it, strictly:
 *
 * - v1 is one text line of at most 107 bytes: `PROXY TCP4|TCP6 src dst sport dport\r\n`, single
 *   spaces, strict dotted-decimal IPv4 (no `010.0.0.1`), IPv6 without zones, ports 0-65535
 *   without leading zeros; or `PROXY UNKNOWN ...\r\n`, which means "use the TCP peer".
 * - v2 is a 16-byte binary preamble (signature, version/command, family, length), the address
 *   block and TLVs. A CRC32C TLV, when present, is checked. `LOCAL` (health checks) and the
 *   `UNSPEC` family mean "use the TCP peer".
 * - A header whose source is not a host address (`0.0.0.0`, `::`) is malformed: it cannot name
 *   a client, and a balancer that sends one is misconfigured.
 * - Text TLVs (ALPN, authority, SSL strings, the AWS VPC endpoint id) are given only when they
 *   are printable ASCII (the authority: a host name); otherwise they are left out, so nothing a
 *   client wrote reaches a log verbatim. Every TLV is also kept as raw bytes in `tlvs`.
 */
import { ParsedAddress, parseIPv6 } from './ip.js'
import { formatIPv4, formatIPv6, formatParsed } from './ip-text.js'
import { KIND_HOPS, type TrustFunction, type TrustPolicy, policyInternals } from './policy.js'
import { parseTrustProxy } from './policy-parse.js'

/** The 12 bytes every v2 header starts with. */
export const V2_SIGNATURE = Object.freeze([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a])
/** `PROXY ` */
const V1_PREFIX = [0x50, 0x52, 0x4f, 0x58, 0x59, 0x20]
/** The longest v1 line, CRLF included (proxy-protocol.txt section 2.1). */
export const V1_MAX_LENGTH = 107
/** The longest v2 header the format allows: the 16-byte preamble and a 16-bit length. */
export const V2_MAX_LENGTH = 16 + 0xffff

/** Why a header was refused; `ProxyHeaderError.reason`. */
export type ProxyHeaderErrorReason =
  /** v1: not `PROXY <family> <src> <dst> <sport> <dport>\r\n` with single spaces. */
  | 'v1-syntax'
  /** v1: no CRLF within 107 bytes. */
  | 'v1-too-long'
  /** v1: an address that is not strict text of its family, or a source that is no host. */
  | 'v1-address'
  /** v1: a port that is not 0-65535 in decimal without leading zeros. */
  | 'v1-port'
  /** v2: the version nibble is not 2. */
  | 'v2-version'
  /** v2: the command nibble is neither LOCAL (0) nor PROXY (1). */
  | 'v2-command'
  /** v2: an address family or transport the protocol does not define. */
  | 'v2-family'
  /** v2: the length is too short for the family's address block. */
  | 'v2-length'
  /** v2: a source that is no host address (0.0.0.0, ::). */
  | 'v2-address'
  /** v2: a TLV runs past the header, or an SSL or AWS TLV is too short for its fixed fields. */
  | 'v2-tlv'
  /** v2: a CRC32C TLV that does not match the header. */
  | 'v2-checksum'
  /** The header is longer than the size the caller allows. */
  | 'too-large'

/**
 * A header that cannot be used. Returned (never thrown) by {@link decodeProxyHeader}, with the
 * byte offset where the problem is, so a log line can say what the balancer got wrong.
 */
export class ProxyHeaderError extends Error {
  readonly code = 'ERR_PROXY_PROTOCOL' as const
  readonly reason: ProxyHeaderErrorReason
  /** Byte offset in the connection's first bytes. */
  readonly position: number

  constructor(reason: ProxyHeaderErrorReason, position: number, problem: string) {
    super(`Invalid PROXY protocol header at byte ${position}: ${problem}`)
    this.name = 'ProxyHeaderError'
    this.reason = reason
    this.position = position
  }
}

export interface ProxyEndpoint {
  /** Canonical address text (IPv4-mapped IPv6 as dotted IPv4, IPv6 as RFC 5952). */
  address: string
  port: number
}

/** One TLV of a v2 header, as sent. */
export interface ProxyTlv {
  type: number
  value: Uint8Array
}

/** The SSL TLV (PP2_TYPE_SSL): what the balancer knows of the client's TLS connection. */
export interface ProxySslInfo {
  /** The client bit field: 1 connected over TLS, 2 sent a certificate on this connection, 4 on the session. */
  client: number
  /** True when the client's certificate was verified (the `verify` field is 0). */
  verified: boolean
  version?: string
  commonName?: string
  cipher?: string
  signatureAlgorithm?: string
  keyAlgorithm?: string
}

/** The decoded TLVs that matter to a server (v2 only; empty for v1). */
export interface ProxyTlvInfo {
  /** PP2_TYPE_ALPN: the application protocol the client negotiated (`h2`, `http/1.1`). */
  alpn?: string
  /** PP2_TYPE_AUTHORITY: the host name the client asked for (TLS SNI). */
  authority?: string
  /** PP2_TYPE_UNIQUE_ID, as lower-case hex. */
  uniqueId?: string
  /** PP2_TYPE_SSL. */
  ssl?: ProxySslInfo
  /** PP2_TYPE_NETNS: the balancer's network namespace name. */
  netns?: string
  /** AWS (PP2_TYPE_AWS, subtype PP2_SUBTYPE_AWS_VPCE_ID): the VPC endpoint the client came through. */
  awsVpcEndpointId?: string
  /** True when the header carried a CRC32C and it matched (a mismatch is an error). */
  checksumVerified?: boolean
}

/** A decoded PROXY protocol header. */
export interface ProxyHeader {
  version: 1 | 2
  /** `local`: the balancer's own connection (a health check); use the TCP peer. */
  command: 'proxy' | 'local'
  /** `unspec` (v1 `UNKNOWN`, v2 AF_UNSPEC or LOCAL): no addresses; use the TCP peer. */
  family: 'ipv4' | 'ipv6' | 'unix' | 'unspec'
  transport: 'stream' | 'dgram' | 'unspec'
  /** The client the balancer accepted the connection from; undefined for unspec and unix. */
  source: ProxyEndpoint | undefined
  /** The address the client connected to on the balancer; undefined for unspec and unix. */
  destination: ProxyEndpoint | undefined
  tlv: ProxyTlvInfo
  /** Every v2 TLV as sent (the SSL TLV's sub-TLVs stay inside its value). */
  tlvs: ProxyTlv[]
}

export type ProxyDecodeResult =
  /** A complete header of `length` bytes; the application's bytes follow it. */
  | { kind: 'header'; header: ProxyHeader; length: number }
  /** The bytes so far are the start of a header: read more. */
  | { kind: 'incomplete' }
  /** The bytes do not start with a PROXY protocol signature. */
  | { kind: 'none' }
  | { kind: 'error'; error: ProxyHeaderError }

export interface DecodeOptions {
  /** The longest header accepted, in bytes; larger ones are a `too-large` error. Default: the format's maximum. */
  maxLength?: number
}

/**
 * Reads a PROXY protocol header (v1 or v2) from the first bytes of a connection.
 *
 * Call it with everything received so far: `incomplete` means "call again with more", and it
 * never needs more than the header itself. Never throws.
 */
export function decodeProxyHeader(bytes: Uint8Array, options?: DecodeOptions): ProxyDecodeResult {
  const max = options?.maxLength ?? V2_MAX_LENGTH
  if (!(bytes instanceof Uint8Array)) return { kind: 'none' }
  const n = bytes.length
  if (n === 0) return INCOMPLETE
  const v2 = bytes[0] === V2_SIGNATURE[0]
  const signature = v2 ? V2_SIGNATURE : V1_PREFIX
  const k = Math.min(n, signature.length)
  for (let i = 0; i < k; i++) if (bytes[i] !== signature[i]) return NONE
  if (n < signature.length) return INCOMPLETE
  return v2 ? decodeV2(bytes, max) : decodeV1(bytes, max)
}

const INCOMPLETE: ProxyDecodeResult = Object.freeze({ kind: 'incomplete' })
const NONE: ProxyDecodeResult = Object.freeze({ kind: 'none' })

function fail(reason: ProxyHeaderErrorReason, position: number, problem: string): ProxyDecodeResult {
  return { kind: 'error', error: new ProxyHeaderError(reason, position, problem) }
}

// ---------------------------------------------------------------------------------------------
// Version 1

function decodeV1(b: Uint8Array, max: number): ProxyDecodeResult {
  // The CR must leave room for its LF within the 107 bytes.
  const limit = Math.min(b.length, V1_MAX_LENGTH - 1)
  let cr = -1
  for (let i = 6; i < limit; i++) {
    const c = b[i]!
    if (c === 0x0d) {
      cr = i
      break
    }
    // Only printable ASCII and single spaces belong in the line; fail early on anything else
    // rather than wait for a CRLF that a slow sender may never send.
    if (c < 0x20 || c > 0x7e) return fail('v1-syntax', i, 'a byte that is not printable ASCII in the v1 line')
  }
  if (cr < 0) {
    if (b.length >= V1_MAX_LENGTH - 1) return fail('v1-too-long', V1_MAX_LENGTH - 1, `no CRLF within ${V1_MAX_LENGTH} bytes`)
    if (b.length >= max) return fail('too-large', max, `the v1 line is longer than the ${max} bytes allowed`)
    return INCOMPLETE
  }
  if (cr + 1 >= b.length) return INCOMPLETE
  if (b[cr + 1] !== 0x0a) return fail('v1-syntax', cr + 1, 'CR not followed by LF')
  const length = cr + 2
  if (length > max) return fail('too-large', max, `the v1 line is longer than the ${max} bytes allowed`)
  // The fields are read from the bytes in place: no line string, no split.
  const familyEnd = spaceOrEnd(b, 6, cr)
  if (matches(b, 6, familyEnd, UNKNOWN)) {
    // "the receiver must ignore anything presented before the CRLF is found"
    return { kind: 'header', length, header: header(1, 'proxy', 'unspec', 'unspec', undefined, undefined) }
  }
  const v4 = matches(b, 6, familyEnd, TCP4)
  if (!v4 && !matches(b, 6, familyEnd, TCP6)) return fail('v1-syntax', 6, 'the family is not TCP4, TCP6 or UNKNOWN')
  // Five fields, single spaces: family, source, destination, source port, destination port.
  const a1 = familyEnd + 1
  const e1 = spaceOrEnd(b, a1, cr)
  const e2 = spaceOrEnd(b, e1 + 1, cr)
  const e3 = spaceOrEnd(b, e2 + 1, cr)
  const e4 = spaceOrEnd(b, e3 + 1, cr)
  if (familyEnd >= cr || e3 >= cr || e4 !== cr || a1 === e1 || e1 + 1 === e2 || e2 + 1 === e3 || e3 + 1 === e4) {
    return fail('v1-syntax', 6, 'not five fields separated by single spaces after PROXY')
  }
  const family = v4 ? 'TCP4' : 'TCP6'
  const src = v1Address(b, a1, e1, v4)
  if (src === undefined || !isHostAddress(src)) return fail('v1-address', a1, `the source is not a ${family} host address`)
  const dst = v1Address(b, e1 + 1, e2, v4)
  if (dst === undefined) return fail('v1-address', e1 + 1, `the destination is not a ${family} address`)
  const sport = v1Port(b, e2 + 1, e3)
  if (sport < 0) return fail('v1-port', e2 + 1, 'the source port is not 0-65535')
  const dport = v1Port(b, e3 + 1, e4)
  if (dport < 0) return fail('v1-port', e3 + 1, 'the destination port is not 0-65535')
  return {
    kind: 'header',
    length,
    header: header(1, 'proxy', v4 ? 'ipv4' : 'ipv6', 'stream', { address: src, port: sport }, { address: dst, port: dport }),
  }
}

const UNKNOWN = [0x55, 0x4e, 0x4b, 0x4e, 0x4f, 0x57, 0x4e]
const TCP4 = [0x54, 0x43, 0x50, 0x34]
const TCP6 = [0x54, 0x43, 0x50, 0x36]

/** The offset of the next space from i, or `end`. */
function spaceOrEnd(b: Uint8Array, i: number, end: number): number {
  while (i < end && b[i] !== 0x20) i++
  return i
}

function matches(b: Uint8Array, a: number, end: number, word: number[]): boolean {
  if (end - a !== word.length) return false
  for (let i = 0; i < word.length; i++) if (b[a + i] !== word[i]) return false
  return true
}

/** Canonical text of a v1 address field: strict dotted IPv4, or IPv6 text with no zone. */
function v1Address(b: Uint8Array, a: number, end: number, v4: boolean): string | undefined {
  if (v4) {
    // Strict dotted decimal: four octets 0-255, no leading zeros; then that text is canonical.
    let v = 0
    let octets = 0
    let i = a
    while (octets < 4) {
      const start = i
      let o = 0
      while (i < end && b[i]! >= 48 && b[i]! <= 57 && i - start < 3) o = o * 10 + (b[i++]! - 48)
      if (i === start || o > 255 || (i - start > 1 && b[start] === 48)) return undefined
      v = (v << 8) | o
      octets++
      if (octets < 4) {
        if (i >= end || b[i] !== 0x2e) return undefined
        i++
      }
    }
    return i === end ? formatIPv4(v) : undefined
  }
  if (end - a > 45) return undefined
  let s = ''
  for (let i = a; i < end; i++) {
    const c = b[i]!
    // IPv6 text only (embedded IPv4 allowed): no zone, no brackets, no port.
    if (!((c >= 48 && c <= 58) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) || c === 46)) return undefined
    s += String.fromCharCode(c)
  }
  const address = new ParsedAddress()
  if (!parseIPv6(address, s, 0, s.length)) return undefined
  return formatParsed(address)
}

/** A decimal port 0-65535 without leading zeros, or -1. */
function v1Port(b: Uint8Array, a: number, end: number): number {
  const n = end - a
  if (n === 0 || n > 5 || (n > 1 && b[a] === 48)) return -1
  let v = 0
  for (let i = a; i < end; i++) {
    const c = b[i]!
    if (c < 48 || c > 57) return -1
    v = v * 10 + (c - 48)
  }
  return v <= 65535 ? v : -1
}

function isHostAddress(a: string): boolean {
  return a !== '0.0.0.0' && a !== '::'
}

// ---------------------------------------------------------------------------------------------
// Version 2

const PP2_TYPE_ALPN = 0x01
const PP2_TYPE_AUTHORITY = 0x02
const PP2_TYPE_CRC32C = 0x03
const PP2_TYPE_UNIQUE_ID = 0x05
const PP2_TYPE_SSL = 0x20
const PP2_SUBTYPE_SSL_VERSION = 0x21
const PP2_SUBTYPE_SSL_CN = 0x22
const PP2_SUBTYPE_SSL_CIPHER = 0x23
const PP2_SUBTYPE_SSL_SIG_ALG = 0x24
const PP2_SUBTYPE_SSL_KEY_ALG = 0x25
const PP2_TYPE_NETNS = 0x30
const PP2_TYPE_AWS = 0xea
const PP2_SUBTYPE_AWS_VPCE_ID = 0x01

function decodeV2(b: Uint8Array, max: number): ProxyDecodeResult {
  if (b.length < 16) return INCOMPLETE
  const verCmd = b[12]!
  if (verCmd >> 4 !== 2) return fail('v2-version', 12, `version ${verCmd >> 4}, not 2`)
  const cmd = verCmd & 15
  if (cmd > 1) return fail('v2-command', 12, `command ${cmd} is neither LOCAL (0) nor PROXY (1)`)
  const fam = b[13]! >> 4
  const proto = b[13]! & 15
  if (fam > 3 || proto > 2) return fail('v2-family', 13, `address family ${fam} / transport ${proto} is not defined`)
  const len = (b[14]! << 8) | b[15]!
  const length = 16 + len
  if (length > max) return fail('too-large', 14, `the header is ${length} bytes, more than the ${max} allowed`)
  if (b.length < length) return INCOMPLETE

  const transport = proto === 1 ? 'stream' : proto === 2 ? 'dgram' : 'unspec'
  const blockLength = fam === 1 ? 12 : fam === 2 ? 36 : fam === 3 ? 216 : 0
  // LOCAL: "the receiver must accept this connection as valid and must use the real connection
  // endpoints and discard the protocol block including the family". The TLVs are still read
  // (and checked) for a consistent answer, but the addresses are not.
  if (len < blockLength && cmd === 1) return fail('v2-length', 14, `length ${len} is shorter than the ${blockLength}-byte address block`)
  let source: ProxyEndpoint | undefined
  let destination: ProxyEndpoint | undefined
  let family: ProxyHeader['family'] = 'unspec'
  if (cmd === 1 && fam === 1) {
    family = 'ipv4'
    const s = (b[16]! << 24) | (b[17]! << 16) | (b[18]! << 8) | b[19]!
    const d = (b[20]! << 24) | (b[21]! << 16) | (b[22]! << 8) | b[23]!
    if (s === 0) return fail('v2-address', 16, 'the source 0.0.0.0 is no host address')
    source = { address: formatIPv4(s), port: (b[24]! << 8) | b[25]! }
    destination = { address: formatIPv4(d), port: (b[26]! << 8) | b[27]! }
  } else if (cmd === 1 && fam === 2) {
    family = 'ipv6'
    const s = ipv6At(b, 16)
    if (s === undefined) return fail('v2-address', 16, 'the source is no host address')
    source = { address: s, port: (b[48]! << 8) | b[49]! }
    destination = { address: ipv6At(b, 32) ?? '::', port: (b[50]! << 8) | b[51]! }
  } else if (cmd === 1 && fam === 3) {
    family = 'unix'
  }
  const tlvStart = len >= blockLength ? 16 + blockLength : length
  const tlvs: ProxyTlv[] = []
  const tlv: ProxyTlvInfo = {}
  let crcAt = -1
  for (let i = tlvStart; i < length; ) {
    if (i + 3 > length) return fail('v2-tlv', i, 'a TLV header runs past the end of the PROXY header')
    const type = b[i]!
    const n = (b[i + 1]! << 8) | b[i + 2]!
    const v = i + 3
    if (v + n > length) return fail('v2-tlv', i, `TLV 0x${type.toString(16)} of ${n} bytes runs past the end of the PROXY header`)
    // A copy: Buffer#slice is a view, and a view would keep the connection's first chunk alive.
    const value = new Uint8Array(n)
    for (let k = 0; k < n; k++) value[k] = b[v + k]!
    tlvs.push({ type, value })
    // Fields are set only when they hold a value: no `undefined` keys, and no `delete` (which
    // would turn the object into a slow dictionary).
    if (type === PP2_TYPE_ALPN) {
      const t = printable(b, v, v + n)
      if (t !== undefined) tlv.alpn = t
    } else if (type === PP2_TYPE_AUTHORITY) {
      const t = hostName(b, v, v + n)
      if (t !== undefined) tlv.authority = t
    } else if (type === PP2_TYPE_UNIQUE_ID) {
      if (n > 0 && n <= 128) tlv.uniqueId = hex(b, v, v + n)
    } else if (type === PP2_TYPE_NETNS) {
      const t = printable(b, v, v + n)
      if (t !== undefined) tlv.netns = t
    } else if (type === PP2_TYPE_CRC32C) {
      if (n !== 4) return fail('v2-tlv', i, 'a CRC32C TLV is 4 bytes')
      crcAt = v
    } else if (type === PP2_TYPE_SSL) {
      if (n < 5) return fail('v2-tlv', i, 'an SSL TLV is at least 5 bytes')
      const ssl = decodeSsl(b, v, v + n)
      if (ssl === undefined) return fail('v2-tlv', v + 5, 'an SSL sub-TLV runs past the end of the SSL TLV')
      tlv.ssl = ssl
    } else if (type === PP2_TYPE_AWS) {
      if (n < 1) return fail('v2-tlv', i, 'an AWS TLV has a subtype byte')
      const t = b[v] === PP2_SUBTYPE_AWS_VPCE_ID ? vpceId(b, v + 1, v + n) : undefined
      if (t !== undefined) tlv.awsVpcEndpointId = t
    }
    i = v + n
  }
  if (crcAt >= 0) {
    const want = ((b[crcAt]! << 24) | (b[crcAt + 1]! << 16) | (b[crcAt + 2]! << 8) | b[crcAt + 3]!) >>> 0
    if (crc32c(b, length, crcAt) !== want) return fail('v2-checksum', crcAt, 'the CRC32C does not match the header')
    tlv.checksumVerified = true
  }
  const h = header(2, cmd === 0 ? 'local' : 'proxy', family, cmd === 0 ? 'unspec' : transport, source, destination)
  h.tlv = tlv
  h.tlvs = tlvs
  return { kind: 'header', length, header: h }
}

/** Canonical text of the 16-byte IPv6 address at i; undefined for `::` and `::ffff:0.0.0.0`. */
function ipv6At(b: Uint8Array, i: number): string | undefined {
  const w0 = word(b, i)
  const w1 = word(b, i + 4)
  const w2 = word(b, i + 8)
  const w3 = word(b, i + 12)
  // The core's canonical form: an IPv4-mapped address is that IPv4 host.
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return w3 === 0 ? undefined : formatIPv4(w3)
  if ((w0 | w1 | w2 | w3) === 0) return undefined
  return formatIPv6(w0, w1, w2, w3)
}

function word(b: Uint8Array, k: number): number {
  return (b[k]! << 24) | (b[k + 1]! << 16) | (b[k + 2]! << 8) | b[k + 3]!
}

function decodeSsl(b: Uint8Array, a: number, end: number): ProxySslInfo | undefined {
  const verify = ((b[a + 1]! << 24) | (b[a + 2]! << 16) | (b[a + 3]! << 8) | b[a + 4]!) >>> 0
  const ssl: ProxySslInfo = { client: b[a]!, verified: verify === 0 }
  for (let i = a + 5; i < end; ) {
    if (i + 3 > end) return undefined
    const type = b[i]!
    const n = (b[i + 1]! << 8) | b[i + 2]!
    const v = i + 3
    if (v + n > end) return undefined
    const text = printable(b, v, v + n)
    if (text !== undefined) {
      if (type === PP2_SUBTYPE_SSL_VERSION) ssl.version = text
      else if (type === PP2_SUBTYPE_SSL_CN) ssl.commonName = text
      else if (type === PP2_SUBTYPE_SSL_CIPHER) ssl.cipher = text
      else if (type === PP2_SUBTYPE_SSL_SIG_ALG) ssl.signatureAlgorithm = text
      else if (type === PP2_SUBTYPE_SSL_KEY_ALG) ssl.keyAlgorithm = text
    }
    i = v + n
  }
  return ssl
}

/** The bytes as text when they are 1-255 printable ASCII characters; otherwise undefined. */
function printable(b: Uint8Array, a: number, end: number): string | undefined {
  if (end <= a || end - a > 255) return undefined
  for (let i = a; i < end; i++) {
    const c = b[i]!
    if (c < 0x20 || c > 0x7e) return undefined
  }
  return String.fromCharCode.apply(null, b.subarray(a, end) as unknown as number[])
}

/** A DNS host name (letters, digits, `-`, `.`, `_`; not starting or ending with `.` or `-`), as TLS SNI carries it. */
function hostName(b: Uint8Array, a: number, end: number): string | undefined {
  if (end <= a || end - a > 255) return undefined
  for (let i = a; i < end; i++) {
    const c = b[i]!
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95
    if (!alnum && (i === a || i === end - 1 || (c !== 45 && c !== 46))) return undefined
  }
  return String.fromCharCode.apply(null, b.subarray(a, end) as unknown as number[])
}

/** `vpce-` and 1-64 lower-case letters and digits, as AWS writes endpoint ids. */
function vpceId(b: Uint8Array, a: number, end: number): string | undefined {
  const n = end - a
  if (n < 6 || n > 69) return undefined
  for (let i = 0; i < 5; i++) if (b[a + i] !== VPCE_PREFIX[i]) return undefined
  for (let i = a + 5; i < end; i++) {
    const c = b[i]!
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 122))) return undefined
  }
  return String.fromCharCode.apply(null, b.subarray(a, end) as unknown as number[])
}

/** `vpce-` */
const VPCE_PREFIX = [0x76, 0x70, 0x63, 0x65, 0x2d]

function hex(b: Uint8Array, a: number, end: number): string {
  let s = ''
  for (let i = a; i < end; i++) s += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16)
  return s
}

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    t[i] = c >>> 0
  }
  return t
})()

/** CRC32C (Castagnoli) of b[0..length) with the 4 bytes at `zeroAt` read as zero, as the spec says. */
export function crc32c(b: Uint8Array, length: number, zeroAt = -1): number {
  let c = 0xffffffff
  for (let i = 0; i < length; i++) {
    const byte = i >= zeroAt && i < zeroAt + 4 && zeroAt >= 0 ? 0 : b[i]!
    c = CRC32C_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8)
  }
  return (c ^ 0xffffffff) >>> 0
}

function header(
  version: 1 | 2,
  command: 'proxy' | 'local',
  family: ProxyHeader['family'],
  transport: ProxyHeader['transport'],
  source: ProxyEndpoint | undefined,
  destination: ProxyEndpoint | undefined,
): ProxyHeader {
  return { version, command, family, transport, source, destination, tlv: {}, tlvs: [] }
}

// ---------------------------------------------------------------------------------------------
// What the resolver needs

/**
 * What the PROXY protocol listener found on one connection, as the resolver reads it
 * (`RequestLike.proxyProtocol`; the Node adapters pick it up from the socket).
 */
export interface ProxyConnection {
  /** The TCP peer: the load balancer that sent the header, canonical. */
  loadBalancer: string | undefined
  /** The TCP peer's port (the socket's own `remotePort` becomes the PROXY source's). */
  loadBalancerPort?: number | undefined
  /** The header, or undefined when a trusted peer connected without one (`requireHeader: false`). */
  header: ProxyHeader | undefined
  /**
   * True when the balancer was vouched for by the walk's own policy (no separate `loadBalancer`
   * policy): under a hop count it is then the first of the policy's hops, so `TRUST_PROXY=1`
   * with one balancer believes the PROXY source and not the X-Forwarded-For behind it.
   */
  balancerIsHop: boolean
}

/** The symbol the listener stores a socket's {@link ProxyConnection} under (shared across bundles). */
export const PROXY_CONNECTION: unique symbol = Symbol.for('@infram/trust-proxy.proxy-connection') as never

/**
 * What the PROXY protocol listener stored on a connection's socket: on the socket itself, or for
 * TLS on the TCP socket the TLSSocket wraps (Node's `_parent`). Undefined when it does not run.
 */
export function proxyConnectionOf(socket: unknown): ProxyConnection | undefined {
  if (typeof socket !== 'object' || socket === null) return undefined
  const s = socket as { [PROXY_CONNECTION]?: ProxyConnection; _parent?: { [PROXY_CONNECTION]?: ProxyConnection } | null }
  return s[PROXY_CONNECTION] ?? s._parent?.[PROXY_CONNECTION] ?? undefined
}

/** The connection's client as hop 0 of the walk: the PROXY source, or the TCP peer when the header says so. */
export function proxyHopZero(pc: ProxyConnection, tcpPeer: unknown): { used: boolean; address: string | undefined } {
  const h = pc.header
  if (typeof h !== 'object' || h === null || h.command !== 'proxy' || h.family === 'unspec') {
    return { used: false, address: typeof tcpPeer === 'string' ? tcpPeer : undefined }
  }
  // A Unix-socket client of the balancer has no address: hop 0 is then an address-less peer.
  return { used: true, address: h.source?.address }
}

/** Duck-typed: a ProxyConnection made by any bundle of this package. */
export function isProxyConnection(v: unknown): v is ProxyConnection {
  return typeof v === 'object' && v !== null && typeof (v as ProxyConnection).balancerIsHop === 'boolean'
}

const shiftedHops = new Map<number, TrustPolicy>()
const shiftedFns = new WeakMap<TrustFunction, TrustFunction>()

/**
 * The policy for a walk whose hop 0 is the PROXY source when the balancer took the policy's
 * first hop: a hop count `n` becomes `n - 1`; a trust function sees hops counted from the
 * balancer. Ranges and keywords do not depend on the hop index and are returned as they are.
 */
export function policyAfterBalancer(policy: TrustPolicy | TrustFunction): TrustPolicy | TrustFunction {
  if (typeof policy !== 'function') {
    const internals = policyInternals(policy)
    if (internals === undefined || internals.kind !== KIND_HOPS) return policy
    let p = shiftedHops.get(internals.hops)
    if (p === undefined) shiftedHops.set(internals.hops, (p = parseTrustProxy(internals.hops - 1)))
    return p
  }
  let g = shiftedFns.get(policy)
  if (g === undefined) {
    const f = policy
    shiftedFns.set(f, (g = (addr, hop) => f(addr, hop + 1)))
  }
  return g
}
