/**
 * A header holding one address (`X-Real-IP`, `CF-Connecting-IP`, `True-Client-IP`): the whole
 * value is the entry. Used only when the hop that delivered it is trusted; a header that arrives
 * more than once is ambiguous (which copy did our proxy write?) and is no address.
 */
import type { ParsedAddress } from '../ip.js'
import { type HeaderCursor, type HeaderReader, PROBLEM_REPEATED, parseEntry, setEntry } from './reader.js'

export const singleAddressReader: HeaderReader = {
  lists: false,
  read(cursor: HeaderCursor, out: ParsedAddress): boolean {
    const s = cursor.text
    setEntry(cursor, s, 0, s.length)
    cursor.next = -1
    if (cursor.repeated) cursor.problem = PROBLEM_REPEATED
    return parseEntry(cursor, out)
  },
}
