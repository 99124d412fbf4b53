/**
 * The common Forwarded elements read in one pass, right to left: the pass that finds the comma
 * before an element also parses its pairs, so an element costs one scan instead of two (finding
 * its start, then reading it). What proxies write takes this way; anything else is declined and
 * read by forwarded-element.ts, which defines the syntax (test/forwarded-fast-path.test.ts checks
 * that the two never disagree).
 */
import { isOWS } from '../ip.js'
import { type ElementParams, MAX_ELEMENT, isTchar, resetParams, setParam } from './forwarded-element.js'

/**
 * @internal
 * The common elements in one pass, right to left, pair by pair: values that are tokens without
 * `=` or quoted strings without backslashes, names that are tokens, `;` between pairs with white
 * space around it, one `for=` and no repeated `for`, `proto` or `host`, at most MAX_ELEMENT long.
 * Parses the element that ends at `end` into `p` and returns the comma before it (-1: the
 * header's start); anything else gives -2 (the caller then reads the element the defining way:
 * an element this declines may still be well formed).
 */
export function parseElementBack(s: string, end: number, p: ElementParams): number {
  resetParams(p)
  // No character of the element is left of `lo`; its comma may be at `lo`.
  const limit = end - MAX_ELEMENT - 1
  const lo = limit < -1 ? -1 : limit
  let k = skipOWSBack(s, end - 1, lo)
  // One `;` may end the element (`for=x;`).
  if (k > lo && s.charCodeAt(k) === 59 /* ; */) k = skipOWSBack(s, k - 1, lo)
  for (;;) {
    // A value, ending at k.
    let vs: number
    let ve: number
    if (k <= lo) return -2
    if (s.charCodeAt(k) === 34 /* " */) {
      ve = k
      k--
      while (k > lo) {
        const c = s.charCodeAt(k)
        if (c === 34) break
        if (c === 92 /* \ */) return -2
        k--
      }
      if (k <= lo) return -2
      vs = k + 1
      k--
    } else {
      ve = k + 1
      while (k > lo && isTokenValueChar(s.charCodeAt(k))) k--
      vs = k + 1
      if (vs === ve) return -2
    }
    // `=`, and the name before it.
    if (k <= lo || s.charCodeAt(k) !== 61 /* = */) return -2
    const nameEnd = k
    k--
    while (k > lo && isTchar(s.charCodeAt(k))) k--
    if (!setParam(p, s, k + 1, nameEnd, vs, ve, false)) return -2
    // What is left of the pair: the element's start, or `;` and another pair.
    k = skipOWSBack(s, k, lo)
    if (k < 0) return p.forStart < 0 ? -2 : -1
    const c = s.charCodeAt(k)
    if (c === 44 /* , */) return p.forStart < 0 ? -2 : k
    if (c !== 59) return -2
    k = skipOWSBack(s, k - 1, lo)
  }
}

/** The index of the first character at or left of k that is not white space, stopping at lo. */
function skipOWSBack(s: string, k: number, lo: number): number {
  while (k > lo && isOWS(s.charCodeAt(k))) k--
  return k
}

/** A character of an unquoted value the one-pass reader takes: visible ASCII but `"`, `,`, `;` and `=`. */
function isTokenValueChar(c: number): boolean {
  return c > 32 && c < 127 && c !== 34 && c !== 44 && c !== 59 && c !== 61
}

