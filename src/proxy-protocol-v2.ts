/** PROXY protocol version 2: the binary preamble, the address block and the TLVs (section 2.2). */
import { formatIPv4, formatIPv6 } from './ip-text.js'
import {
  INCOMPLETE,
  type ProxyDecodeResult,
  type ProxyEndpoint,
  type ProxyHeader,
  type ProxySslInfo,
  type ProxyTlv,
  type ProxyTlvInfo,
  fail,
  header,
} from './proxy-protocol-header.js'

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

export function decodeV2(b: Uint8Array, max: number): ProxyDecodeResult {
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
