/**
 * The syntax of one RFC 7239 Forwarded element (`for=...;proto=...;host=...;by=...`), as it is
 * defined here: {@link elementStart} finds where an element begins (quotes respected), and
 * {@link parseElement} reads it left to right. forwarded-back.ts holds the one-pass reader of the
 * common elements, which declines whatever it is not sure to read as these do.
 */
import { isOWS } from '../ip.js'

/** @internal A Forwarded element longer than this is not one a proxy wrote (host names are <= 255). */
export const MAX_ELEMENT = 1024

/** @internal The parameters of one element, as offsets into the header text; -1 when absent. */
export class ElementParams {
  forStart = -1
  forEnd = -1
  forEscaped = false
  protoStart = -1
  protoEnd = -1
  protoEscaped = false
  hostStart = -1
  hostEnd = -1
  hostEscaped = false
}

/**
 * @internal
 * The comma before the element that ends at `end` (-1: the header's start), commas and quotes
 * inside quoted values being text; -2 for an unbalanced quote or an element over MAX_ELEMENT.
 */
export function elementStart(s: string, end: number): number {
  // The element is s[k+1, end): its delimiting comma may be MAX_ELEMENT + 1 to the left of end.
  const limit = end - MAX_ELEMENT - 1
  let k = end - 1
  let quoted = false
  for (; k >= 0; k--) {
    if (k < limit) break
    const c = s.charCodeAt(k)
    if (quoted) {
      if (c === 34 /* " */) {
        let j = k - 1
        while (j >= 0 && s.charCodeAt(j) === 92 /* \ */) j--
        if ((k - 1 - j) % 2 === 0) quoted = false
      }
    } else if (c === 34) {
      quoted = true
    } else if (c === 44) {
      break
    }
  }
  return quoted || end - k - 1 > MAX_ELEMENT ? -2 : k
}

/** RFC 7230 tchar, by char code (below 128): one load per character of a parameter name. */
const TCHAR = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c)
  TCHAR[c] = /[0-9A-Za-z!#$%&'*+^_`|~.-]/.test(ch) ? 1 : 0
}

export function isTchar(c: number): boolean {
  return c < 128 && TCHAR[c] === 1
}

/**
 * @internal
 * Parses one Forwarded element (`for=...;proto=...;host=...;by=...`) between a and b into `p`.
 * False when it is not well formed: a parameter without `=`, a bad name, an unterminated quote,
 * text after a quoted value, or a repeated `for`, `proto` or `host` (RFC 7239 section 4: a
 * repeated parameter makes the element invalid, and picking either copy could pick the forged one).
 * Unquoted values are taken up to the next `;` and left to the address or host check, so that a
 * proxy writing `for=2001:db8::1` without the quotes RFC 7239 wants still works.
 */
export function parseElement(s: string, a: number, b: number, p: ElementParams): boolean {
  resetParams(p)
  let i = a
  while (i < b) {
    while (i < b && isOWS(s.charCodeAt(i))) i++
    if (i === b) break
    const nameStart = i
    while (i < b && isTchar(s.charCodeAt(i))) i++ // `=` is no tchar: the name ends there
    // (An empty name is refused by setParam, which the one-pass reader shares.)
    if (i >= b || s.charCodeAt(i) !== 61 /* = */) return false
    const nameEnd = i
    i++
    let vs: number
    let ve: number
    let escaped = false
    if (i < b && s.charCodeAt(i) === 34 /* " */) {
      i++
      vs = i
      while (i < b && s.charCodeAt(i) !== 34) {
        if (s.charCodeAt(i) === 92 /* \ */) {
          escaped = true
          i++
        }
        i++
      }
      if (i >= b) return false
      ve = i
      i++
      while (i < b && isOWS(s.charCodeAt(i))) i++
      if (i < b && s.charCodeAt(i) !== 59 /* ; */) return false
    } else {
      vs = i
      while (i < b && s.charCodeAt(i) !== 59) i++
      ve = i
      while (ve > vs && isOWS(s.charCodeAt(ve - 1))) ve--
      for (let k = vs; k < ve; k++) {
        const c = s.charCodeAt(k)
        if (c <= 32 || c === 34 || c >= 127) return false
      }
    }
    i++ // past ';'
    if (!setParam(p, s, nameStart, nameEnd, vs, ve, escaped)) return false
  }
  return true
}

/**
 * Records the value of the parameter named s[a, b) when it is `for`, `proto` or `host`; false for
 * an empty name or a repeated `for`, `proto` or `host` (RFC 7239 section 4: a repeated parameter
 * makes the element invalid, and picking either copy could pick the forged one).
 */
export function setParam(p: ElementParams, s: string, a: number, b: number, vs: number, ve: number, escaped: boolean): boolean {
  const len = b - a
  if (len === 0) return false
  if (len === 3 && matchesLower(s, a, 'for')) {
    if (p.forStart >= 0) return false
    p.forStart = vs
    p.forEnd = ve
    p.forEscaped = escaped
  } else if (len === 5 && matchesLower(s, a, 'proto')) {
    if (p.protoStart >= 0) return false
    p.protoStart = vs
    p.protoEnd = ve
    p.protoEscaped = escaped
  } else if (len === 4 && matchesLower(s, a, 'host')) {
    if (p.hostStart >= 0) return false
    p.hostStart = vs
    p.hostEnd = ve
    p.hostEscaped = escaped
  }
  return true
}

export function resetParams(p: ElementParams): void {
  p.forStart = p.forEnd = p.protoStart = p.protoEnd = p.hostStart = p.hostEnd = -1
  p.forEscaped = p.protoEscaped = p.hostEscaped = false
}

function matchesLower(s: string, at: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) {
    if ((s.charCodeAt(at + k) | 0x20) !== word.charCodeAt(k)) return false
  }
  return true
}

/**
 * The text of a quoted-string between a and b with its `\x` escapes resolved. Every backslash in
 * it has a character after it, inside it: parseElement's scan steps over the character after each
 * backslash, so the closing quote is never an escaped one.
 */
export function unescape(s: string, a: number, b: number): string {
  let out = ''
  for (let k = a; k < b; k++) {
    if (s.charCodeAt(k) === 92) k++
    out += s[k]
  }
  return out
}

