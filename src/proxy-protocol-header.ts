/**
 * The PROXY protocol header as a value: its types, its error, and the pieces the v1 and v2
 * decoders (proxy-protocol-v1.ts, proxy-protocol-v2.ts) share. proxy-protocol.ts is the entry.
 */

/** The 12 bytes every v2 header starts with. */
export const V2_SIGNATURE = Object.freeze([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a])
/** `PROXY ` */
export const V1_PREFIX = [0x50, 0x52, 0x4f, 0x58, 0x59, 0x20]
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

export const INCOMPLETE: ProxyDecodeResult = Object.freeze({ kind: 'incomplete' })
export const NONE: ProxyDecodeResult = Object.freeze({ kind: 'none' })

export function fail(reason: ProxyHeaderErrorReason, position: number, problem: string): ProxyDecodeResult {
  return { kind: 'error', error: new ProxyHeaderError(reason, position, problem) }
}

export function header(
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

/** A source or destination that names a host: not the unspecified address. */
export function isHostAddress(a: string): boolean {
  return a !== '0.0.0.0' && a !== '::'
}
