/**
 * RFC 7239 `Forwarded`: comma-separated elements, each `for=...;proto=...;host=...;by=...`.
 *
 * Elements are read from the right, one at a time: the common ones in one pass that finds the
 * element's start and its pairs together (forwarded-back.ts), the others by the syntax's
 * definition (forwarded-element.ts: the start found with quotes respected, then the pairs read
 * left to right). `for=` is the entry: quoted IPv6 with a port and escapes are handled;
 * `unknown` and obfuscated `_names` are entries that are not addresses. `proto=` and `host=` of
 * the right-most element are what the nearest proxy says the client used.
 */
import type { ParsedAddress } from '../ip.js'
import { ElementParams, elementStart, parseElement, unescape } from './forwarded-element.js'
import { parseElementBack } from './forwarded-back.js'
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
 *
 * Two ways, one meaning. What proxies write (`for=...;proto=...;host=...`, quoted values without
 * escapes) is read by {@link parseElementBack}, in the one right-to-left pass that also finds the
 * comma before the element. Anything it is not sure of, it declines, and the element is read the
 * way that defines the syntax: {@link elementStart} finds its comma (quotes respected), then
 * {@link parseElement} reads it left to right. test/forwarded-fast-path.test.ts checks that the
 * first never disagrees with the second.
 */
function readElement(cursor: HeaderCursor, p: ElementParams): boolean {
  const s = cursor.text
  const end = cursor.next
  const comma = parseElementBack(s, end, p)
  if (comma >= -1) {
    cursor.next = comma
    setEntry(cursor, s, p.forStart, p.forEnd)
    return true
  }
  const k = elementStart(s, end)
  if (k < -1) {
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

function paramText(s: string, a: number, b: number, escaped: boolean): string {
  return escaped ? unescape(s, a, b) : s.slice(a, b)
}
