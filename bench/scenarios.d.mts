/** Types of bench/scenarios.mjs, for the TypeScript test that checks the scenarios. */
import type { TrustFunction, TrustPolicy } from '../src/index.js'

export interface Scenario {
  id: string
  group: 'core' | 'cidrs' | 'hops' | 'hostile'
  title: string
  /** How our row is computed: `resolveClientIp` or `resolveClient({ header: 'forwarded' })`. */
  oursVia: string
  /** The TRUST_PROXY value we parse. */
  ours: string
  /** What proxy-addr and @fastify/proxy-addr compile (or the trust function Express builds). */
  peer: string[] | ((addr: string, hop: number) => boolean)
  remote: string
  xff: string | undefined
  /** A Forwarded header, read by us instead of `xff` (the peers read `xff`, the same chain). */
  forwarded?: string
  expected: string
}

/** The parts of our library the scenarios call (the built dist or the source tree). */
export interface OurLibrary {
  parseTrustProxy(value: unknown): TrustPolicy
  resolveClientIp(policy: TrustPolicy | TrustFunction, remote: string | undefined | null, xff?: string | string[] | null): string | undefined
  resolveClient(policy: TrustPolicy | TrustFunction, req: { remoteAddress?: string; headers?: unknown; encrypted?: boolean }, options?: { header?: string }): { ip: string | undefined }
  presetInfo(): { ranges: readonly string[] }[]
}

export interface Contenders {
  ours: () => string | undefined
  /** `resolveClient(...).ip` on the same request (X-Forwarded-For scenarios only). */
  record: (() => string | undefined) | undefined
  proxyAddr: () => string | undefined
  fastify: () => string | undefined
  floor: () => string | undefined
}

export const CLIENT: string
export const RANGE_LIST: string
export function xorshift32(seed: number): () => number
export function cloudCidrs(n: number, seed?: number): { cidrs: string[]; inside: string[] }
export function buildScenarios(only?: ReadonlySet<string>): Scenario[]
export function canonical(addr: unknown): string | undefined
export function keep(value: unknown): void
export function contenders(s: Scenario, lib: OurLibrary): Contenders
export function peerList(s: Scenario, lib: OurLibrary): string[]
export function checkScenario(s: Scenario, lib: OurLibrary): { ours: string | undefined; record?: string | undefined; proxyAddr: string | undefined; fastify: string | undefined }
export function compileInputs(n?: number): { text: string; array: string[] }
