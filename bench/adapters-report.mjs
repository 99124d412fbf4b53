// Shared by bench/adapters.mjs and bench/adapters-instructions.mjs: how a series of rounds is
// summarised, and where the instruction counts sit in bench/ADAPTERS.md.

/** The heading of the section bench/adapters-instructions.mjs writes (and bench/adapters.mjs keeps). */
export const INSTRUCTIONS_HEADING = '## Instructions per request (valgrind)'

export function median(xs) {
  const s = xs.slice().sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** Median with its range over the rounds: `m [min–max]`. */
export function spread(xs, fmt) {
  return `${fmt(median(xs))} [${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}]`
}
