/**
 * The error a TRUST_PROXY value that cannot be used is refused with, and its reasons.
 *
 * Each reason comes from the parser that refused the entry: the list lexer (policy-parse.ts), the
 * CIDR parser (cidr.ts) or the address scanner itself, whose `IPV4_*` failure codes say which
 * rule of strict dotted decimal the text broke. There is no second parser to explain the first.
 */
import { IPV4_HEX, IPV4_LEADING_ZERO, IPV4_OCTET_RANGE, IPV4_SHORT } from './ip.js'
import { MAX_HOPS } from './policy.js'
import { presetNames } from './presets/registry.js'

/** Why a TRUST_PROXY value was refused; `TrustProxyError.reason`. */
export type TrustProxyErrorReason =
  | 'invalid-type'
  | 'empty-entry'
  | 'unknown-word'
  | 'keyword-in-list'
  | 'hop-count-format'
  | 'hop-count-range'
  | 'hop-count-in-list'
  | 'ipv4-shorthand'
  | 'ipv4-leading-zero'
  | 'ipv4-hex'
  | 'ipv4-octet-range'
  | 'invalid-address'
  | 'unspecified-address'
  | 'port-not-allowed'
  | 'prefix-invalid'
  | 'prefix-range'
  | 'netmask-noncontiguous'
  | 'netmask-not-ipv4'
  | 'zone-not-link-local'
  | 'zone-invalid'
  | 'mapped-prefix'
  | 'unicode-space'

const ACCEPTED =
  'Accepted: unset, false, 0, off or no (trust no proxy); true, on or yes (trust every hop); ' +
  `a hop count from 1 to ${MAX_HOPS}; or a list, separated by commas or spaces, of IP addresses ` +
  '(10.0.0.1, ::1), CIDR ranges (10.0.0.0/8, fd00::/8), IPv4 netmasks (10.0.0.0/255.0.0.0), ' +
  'the names loopback, linklocal, uniquelocal, private and unix, and the provider presets ' +
  `${presetNames().join(', ')}.`

/**
 * A TRUST_PROXY value that cannot be used. Thrown by `parseTrustProxy` at startup, never at
 * request time, so that a typo stops the server instead of silently trusting the wrong hops.
 */
export class TrustProxyError extends Error {
  readonly code = 'ERR_INVALID_TRUST_PROXY' as const
  /** The bad entry, as written. */
  readonly entry: string
  /**
   * Where the bad entry starts: a character offset (from 0) in a string value, or the index of
   * the element in an array value.
   */
  readonly position: number
  /** A machine-readable reason. */
  readonly reason: TrustProxyErrorReason

  constructor(reason: TrustProxyErrorReason, entry: string, position: number, problem: string) {
    super(`Invalid TRUST_PROXY entry ${JSON.stringify(entry)} at position ${position}: ${problem}. ${ACCEPTED}`)
    this.name = 'TrustProxyError'
    this.entry = entry
    this.position = position
    this.reason = reason
  }
}

/**
 * The reason and problem for an entry without `:` that the IPv4 scanner refused with `code`. An
 * entry the scanner could not start on may be a word: one of letters, digits, `_` and `-` is an
 * unknown name, anything else no address.
 */
export function ipv4Problem(code: number, text: string): [TrustProxyErrorReason, string] {
  switch (code) {
    case IPV4_HEX:
      return ['ipv4-hex', 'hexadecimal octets are not accepted (different tools read them differently)']
    case IPV4_SHORT:
      return ['ipv4-shorthand', 'IPv4 shorthand (inet_aton form, such as 127.1 or a bare number) is not accepted; write all four octets']
    case IPV4_LEADING_ZERO:
      return ['ipv4-leading-zero', 'an octet with a leading zero is octal to some parsers (010 = 8); write it without the zero']
    case IPV4_OCTET_RANGE:
      return ['ipv4-octet-range', 'an IPv4 octet is 0-255']
  }
  if (/^[a-z][a-z0-9_-]*$/i.test(text)) {
    return ['unknown-word', `not a keyword, a range name or an address (the names are loopback, linklocal, uniquelocal, private, unix, ${presetNames().join(', ')})`]
  }
  return ['invalid-address', 'not an IPv4 or IPv6 address']
}
