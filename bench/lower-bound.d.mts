/** Types of bench/lower-bound.mjs, for the TypeScript test that checks it. */
export type LowerBoundTrust = (flippedValue: number, hop: number) => boolean
export function rangeTrust(ranges: readonly (readonly [number, number])[]): LowerBoundTrust
export function lowerBoundResolve(trusted: LowerBoundTrust, remote: string, xff: string | undefined): string | null
export function lowerBounds(): Record<string, LowerBoundTrust>
