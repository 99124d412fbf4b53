/**
 * The range names a TRUST_PROXY list may use, as the text of the ranges they stand for: the one
 * table the policy parser compiles (through the same CIDR parser as any entry), the CLI shows
 * (`loopback (127.0.0.0/8, ::1)`) and the proxy-addr drop-in expands, so the three cannot drift.
 *
 * `loopback`, `linklocal` and `uniquelocal` are proxy-addr's names with proxy-addr's ranges;
 * `private` is all three plus RFC 6598 shared address space (carrier-grade NAT), the addresses a
 * proxy on the same host or network has. `unix` is a name too, but for a peer with no address,
 * so it has no ranges (see {@link UNIX_MEANING}).
 */

const LOOPBACK = ['127.0.0.0/8', '::1'] as const
const LINKLOCAL = ['169.254.0.0/16', 'fe80::/10'] as const
const UNIQUELOCAL = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'] as const

/** The ranges behind each name, in the order they are listed. */
export const NAMED_RANGES: Readonly<Record<'loopback' | 'linklocal' | 'uniquelocal' | 'private', readonly string[]>> = Object.freeze({
  loopback: LOOPBACK,
  linklocal: LINKLOCAL,
  uniquelocal: UNIQUELOCAL,
  private: Object.freeze([...LOOPBACK, ...LINKLOCAL, ...UNIQUELOCAL, '100.64.0.0/10']),
})

/** The names of {@link NAMED_RANGES}. */
export type RangeName = keyof typeof NAMED_RANGES

/** What `unix` stands for, for display. */
export const UNIX_MEANING = 'a peer with no IP address (a Unix domain socket)'

/** The ranges of a name (`loopback`...), or undefined for any other text (`constructor` included). */
export function namedRanges(name: string): readonly string[] | undefined {
  return Object.prototype.hasOwnProperty.call(NAMED_RANGES, name) ? NAMED_RANGES[name as RangeName] : undefined
}
