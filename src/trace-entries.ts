/**
 * A forwarding header's entries as the walk's readers (readers/) delimit them, for the trace
 * (trace.ts): the raw text of each, its canonical address, or why it is not an address. A second
 * right-to-left pass over the header, with no regular expressions; a record per entry.
 */
import { MAX_ENTRY_LENGTH, ParsedAddress } from './ip.js'
import { formatParsed } from './ip-text.js'
import { forwardedReader } from './readers/forwarded.js'
import {
  HeaderCursor,
  type HeaderReader,
  PROBLEM_BAD_ELEMENT,
  PROBLEM_CUT,
  PROBLEM_EMPTY,
  PROBLEM_NO_FOR,
  PROBLEM_NONE,
  PROBLEM_REPEATED,
  PROBLEM_TOO_LONG,
  openCursor,
} from './readers/reader.js'
import type { MalformedReason } from './trace-types.js'

export interface Entry {
  raw: string
  address: string | undefined
  malformed: MalformedReason | undefined
}

/** The entries of a header value, right-most first: the first `keep` of them, and how many there are. */
export function readEntries(value: unknown, reader: HeaderReader, keep: number): { list: Entry[]; total: number } {
  const list: Entry[] = []
  const cursor = new HeaderCursor()
  const address = new ParsedAddress()
  if (!openCursor(cursor, value, reader.lists)) return { list, total: 0 }
  if (cursor.repeated) {
    const raw = (value as unknown[]).map((line) => (typeof line === 'string' ? line : '')).join(', ')
    return { list: [{ raw, address: undefined, malformed: 'repeated' }], total: 1 }
  }
  let total = 0
  while (cursor.next >= 0) {
    const isAddress = reader.read(cursor, address)
    total++
    if (list.length < keep) list.push(currentEntry(reader, cursor, isAddress ? address : undefined))
  }
  return { list, total }
}

/** What each reader problem is called in a trace. */
const PROBLEM_REASONS: Readonly<Record<number, MalformedReason>> = {
  [PROBLEM_EMPTY]: 'empty',
  [PROBLEM_TOO_LONG]: 'too-long',
  [PROBLEM_BAD_ELEMENT]: 'bad-element',
  [PROBLEM_NO_FOR]: 'no-for',
  [PROBLEM_REPEATED]: 'repeated',
}

/** The entry the cursor is on, and its address when the reader read one. */
function currentEntry(reader: HeaderReader, cursor: HeaderCursor, address: ParsedAddress | undefined): Entry {
  if (cursor.problem === PROBLEM_CUT) return { raw: '', address: undefined, malformed: reader === forwardedReader ? 'unreadable' : 'too-long' }
  const raw = cursor.entry.slice(cursor.start, cursor.end)
  if (address !== undefined) return { raw, address: formatParsed(address), malformed: undefined }
  if (cursor.problem !== PROBLEM_NONE) return { raw, address: undefined, malformed: PROBLEM_REASONS[cursor.problem]! }
  return { raw, address: undefined, malformed: whyNotAddress(raw) }
}

function whyNotAddress(raw: string): MalformedReason {
  if (raw.length === 7 && raw.toLowerCase() === 'unknown') return 'unknown'
  if (raw.charCodeAt(0) === 95 /* _ */) return 'obfuscated'
  if (raw.length > MAX_ENTRY_LENGTH) return 'too-long'
  return 'not-an-address'
}
