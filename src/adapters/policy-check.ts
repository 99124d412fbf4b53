/**
 * The adapters take a parsed {@link TrustPolicy}, never the raw TRUST_PROXY value: parsing is
 * where a bad value is refused, and it must be refused when the server starts, not on the first
 * request (or silently: Express reads the string "1" as the address 0.0.0.1).
 *
 * Policies are recognised by their brand (policy.ts), as the walk recognises them, not with
 * `instanceof`: the ESM and CommonJS builds each carry one copy of the class, and a policy made
 * by one must work in both (an app may load both).
 */
import { type ResolveOptions, type TrustPolicy, resolveClient } from '../index.js'
import { policyInternals } from '../policy.js'

/** Throws a TypeError, at setup time, unless `policy` is a TrustPolicy and `options` are valid. */
export function checkSetup(policy: unknown, options: ResolveOptions | undefined, where: string): asserts policy is TrustPolicy {
  if (policyInternals(policy) === undefined) {
    const got =
      typeof policy === 'string'
        ? `the string ${JSON.stringify(policy)}`
        : typeof policy === 'function'
          ? 'a function'
          : typeof policy === 'object' && policy !== null
            ? 'an object that is not one'
            : String(policy)
    throw new TypeError(
      `${where}: expected a TrustPolicy from parseTrustProxy(), got ${got}. ` +
        'Parse TRUST_PROXY once at startup: parseTrustProxy(process.env.TRUST_PROXY).',
    )
  }
  // The core's own check (and an invalid header name) throws here, at setup, not per request.
  resolveClient(policy as TrustPolicy, {}, options)
}
