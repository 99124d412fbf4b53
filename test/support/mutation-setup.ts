/** Set up for mutation runs only (vitest.mutation.config.ts): fast-check repeats its inputs. */
import fc from 'fast-check'

fc.configureGlobal({ seed: 20261202 })
