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
import { INCOMPLETE, NONE, type DecodeOptions, type ProxyDecodeResult, V1_PREFIX, V2_MAX_LENGTH, V2_SIGNATURE } from './proxy-protocol-header.js'
import { decodeV1 } from './proxy-protocol-v1.js'
import { decodeV2 } from './proxy-protocol-v2.js'

// The module's surface is what it was before the split: the decoders' shared helpers stay internal.
export {
  type DecodeOptions,
  type ProxyDecodeResult,
  type ProxyEndpoint,
  type ProxyHeader,
  ProxyHeaderError,
  type ProxyHeaderErrorReason,
  type ProxySslInfo,
  type ProxyTlv,
  type ProxyTlvInfo,
  V1_MAX_LENGTH,
  V2_MAX_LENGTH,
  V2_SIGNATURE,
} from './proxy-protocol-header.js'
export { crc32c } from './proxy-protocol-v2.js'
export * from './proxy-connection.js'

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
