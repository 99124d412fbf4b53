/** Types of bench/lower-bound-v6.mjs, for the TypeScript test that checks it. */
import type { LowerBoundTrust } from './lower-bound.mjs'
import type { Scenario } from './scenarios.mjs'

/** Trust on four sign-flipped 32-bit words of an IPv6 address, and the hop index. */
export type LowerBoundTrust6 = (w0: number, w1: number, w2: number, w3: number, hop: number) => boolean
export interface MixedTrust {
  /** A hop count or `all`: trust never looks at the address, so the reader does not build it. */
  anyAddress?: boolean
  v4: LowerBoundTrust
  v6: LowerBoundTrust6
}
export function lowerBoundResolveMixed(trust: MixedTrust, remote: string, xff: string | undefined): string | null
export function lowerBoundResolveForwarded(trust: MixedTrust, remote: string, forwarded: string | undefined): string | null
export function listTrust(entries: readonly string[]): MixedTrust
export function rangeTrust6(ranges: readonly (readonly [bigint, bigint])[]): LowerBoundTrust6
export function scenarioTrust(s: Pick<Scenario, 'ours'>, peerList: readonly string[]): MixedTrust
export function lowerBoundFor(s: Scenario, peerList: readonly string[]): { kind: 'ipv4' | 'ipv6' | 'forwarded'; fn: () => string | null }
