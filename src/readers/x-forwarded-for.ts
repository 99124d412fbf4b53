/**
 * X-Forwarded-For: comma-separated addresses, the right-most appended by the nearest proxy.
 *
 * Two fast paths (ip-backward.ts) read an item as plain IPv4 or plain IPv6 right to left, in the
 * same pass that finds the comma before it (what nginx, HAProxy and every common proxy write). Anything else
 * (a port, brackets, a zone, a dotted tail, junk) falls to the general reading: back to the
 * previous comma, but never further than an address can be long, so that a padded item costs no
 * more than a real one, then the general parser. The fast paths only ever accept what the
 * general parser accepts, with the same canonical text (test/properties.test.ts).
 */
import { MAX_ITEM_LENGTH, type ParsedAddress } from '../ip.js'
import { readIPv4Item, readIPv6Item } from '../ip-backward.js'
import { type HeaderCursor, type HeaderReader, cutEntry, parseEntry, setEntry } from './reader.js'

export const xForwardedForReader: HeaderReader = {
  lists: true,
  read(cursor: HeaderCursor, out: ParsedAddress): boolean {
    const s = cursor.text
    const end = cursor.next
    let comma = readIPv4Item(out, s, end)
    if (comma < -1) comma = readIPv6Item(out, s, end)
    if (comma >= -1) {
      cursor.entry = s
      cursor.start = out.textStart
      cursor.end = out.textEnd
      cursor.problem = 0
      cursor.next = comma
      return true
    }
    readItem(cursor, s, end)
    return parseEntry(cursor, out)
  },
}

/** The general reading of the item that ends at `end`: its trimmed bounds into the cursor. */
function readItem(cursor: HeaderCursor, s: string, end: number): void {
  const stop = end - MAX_ITEM_LENGTH - 1
  let k = end - 1
  while (k > stop && k >= 0 && s.charCodeAt(k) !== 44 /* , */) k--
  if (k >= 0 && s.charCodeAt(k) !== 44) {
    // Too long to be an address; the walk stops here, so where it begins does not matter.
    cutEntry(cursor)
    return
  }
  setEntry(cursor, s, k + 1, end)
  cursor.next = k
}
