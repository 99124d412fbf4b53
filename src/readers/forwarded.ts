/**
 * RFC 7239 `Forwarded`: comma-separated elements, each `for=...;proto=...;host=...;by=...`.
 *
 * An element is found right to left with quotes respected (a comma or semicolon inside a quoted
 * value is text), then parsed left to right. `for=` is the entry: quoted IPv6 with a port and
 * escapes are handled; `unknown` and obfuscated `_names` are entries that are not addresses.
 * `proto=` and `host=` of the right-most element are what the nearest proxy says the client used.
 */
import { type ParsedAddress, isOWS } from '../ip.js'
import {
  HeaderCursor,
  type HeaderReader,
  PROBLEM_BAD_ELEMENT,
  PROBLEM_NO_FOR,
  cutEntry,
  openCursor,
  parseEntry,
  setEntry,
} from './reader.js'

/** A Forwarded element longer than this is not one a proxy wrote (host names are <= 255). */
const MAX_ELEMENT = 1024

/** The parameters of one element, as offsets into the header text; -1 when absent. */
class ElementParams {
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
 * The element each call of `read` or `protoHost` parses into, and the cursor `protoHost` reads
 * with: theirs alone, read before they return (no user code runs in between).
 */
const params = new ElementParams()
const protoHostCursor = new HeaderCursor()

export const forwardedReader: HeaderReader = {
  lists: true,
  read(cursor: HeaderCursor, out: ParsedAddress): boolean {
    readElement(cursor, params)
    return parseEntry(cursor, out)
  },
  protoHost(value: unknown): [string | undefined, string | undefined] {
    const cursor = protoHostCursor
    const p = params
    if (!openCursor(cursor, value, true) || !readElement(cursor, p)) return [undefined, undefined]
    const s = cursor.text
    return [
      p.protoStart >= 0 ? paramText(s, p.protoStart, p.protoEnd, p.protoEscaped) : undefined,
      p.hostStart >= 0 ? paramText(s, p.hostStart, p.hostEnd, p.hostEscaped) : undefined,
    ]
  },
}

/**
 * Finds the element that ends at `cursor.next`, parses it into `p` and sets the cursor's entry
 * to its `for=` value (unescaped when quoted with escapes). Returns whether the element is well
 * formed (its `for` may still be missing or not an address: then the entry is the whole element,
 * as received, with a problem).
 */
function readElement(cursor: HeaderCursor, p: ElementParams): boolean {
  const s = cursor.text
  const end = cursor.next
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
  if (quoted || end - k - 1 > MAX_ELEMENT) {
    // An unbalanced quote or a giant element: nothing to its left can be read reliably.
    cutEntry(cursor)
    return false
  }
  cursor.next = k
  const ok = parseElement(s, k + 1, end, p)
  if (!ok || p.forStart < 0) {
    // Not an address, but its bounds are kept: the walk trace shows the element as received.
    setEntry(cursor, s, k + 1, end)
    cursor.problem = ok ? PROBLEM_NO_FOR : PROBLEM_BAD_ELEMENT
    return ok
  }
  if (p.forEscaped) {
    const text = unescape(s, p.forStart, p.forEnd)
    setEntry(cursor, text, 0, text.length)
  } else {
    setEntry(cursor, s, p.forStart, p.forEnd)
  }
  return true
}

/** RFC 7230 tchar, by char code (below 128): one load per character of a parameter name. */
const TCHAR = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c)
  TCHAR[c] = /[0-9A-Za-z!#$%&'*+^_`|~.-]/.test(ch) ? 1 : 0
}

function isTchar(c: number): boolean {
  return c < 128 && TCHAR[c] === 1
}

/**
 * Parses one Forwarded element (`for=...;proto=...;host=...;by=...`) between a and b into `p`.
 * False when it is not well formed: a parameter without `=`, a bad name, an unterminated quote,
 * text after a quoted value, or a repeated `for`, `proto` or `host` (RFC 7239 section 4: a
 * repeated parameter makes the element invalid, and picking either copy could pick the forged one).
 * Unquoted values are taken up to the next `;` and left to the address or host check, so that a
 * proxy writing `for=2001:db8::1` without the quotes RFC 7239 wants still works.
 */
function parseElement(s: string, a: number, b: number, p: ElementParams): boolean {
  p.forStart = p.forEnd = p.protoStart = p.protoEnd = p.hostStart = p.hostEnd = -1
  p.forEscaped = p.protoEscaped = p.hostEscaped = false
  let i = a
  while (i < b) {
    while (i < b && isOWS(s.charCodeAt(i))) i++
    if (i === b) break
    const nameStart = i
    while (i < b && isTchar(s.charCodeAt(i))) i++ // `=` is no tchar: the name ends there
    if (i === nameStart || i >= b || s.charCodeAt(i) !== 61 /* = */) return false
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
    const len = nameEnd - nameStart
    if (len === 3 && matchesLower(s, nameStart, 'for')) {
      if (p.forStart >= 0) return false
      p.forStart = vs
      p.forEnd = ve
      p.forEscaped = escaped
    } else if (len === 5 && matchesLower(s, nameStart, 'proto')) {
      if (p.protoStart >= 0) return false
      p.protoStart = vs
      p.protoEnd = ve
      p.protoEscaped = escaped
    } else if (len === 4 && matchesLower(s, nameStart, 'host')) {
      if (p.hostStart >= 0) return false
      p.hostStart = vs
      p.hostEnd = ve
      p.hostEscaped = escaped
    }
  }
  return true
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
function unescape(s: string, a: number, b: number): string {
  let out = ''
  for (let k = a; k < b; k++) {
    if (s.charCodeAt(k) === 92) k++
    out += s[k]
  }
  return out
}

function paramText(s: string, a: number, b: number, escaped: boolean): string {
  return escaped ? unescape(s, a, b) : s.slice(a, b)
}
