/**
 * What the walk asks of a forwarding header: its entries one at a time, from the right.
 *
 * The right end of a forwarding header is what our own proxies wrote; the left end is whatever
 * the client sent. So a reader starts at the right and yields one entry at a time, never
 * splitting the header into an array: a request costs as many entries as the walk trusts,
 * whatever a client stuffs on the left.
 *
 * One reader per header syntax (x-forwarded-for.ts, forwarded.ts, single.ts), each with its own
 * fast paths, all behind {@link HeaderReader}. The state of one reading is a {@link HeaderCursor}
 * that its caller owns (a walk keeps one, preallocated), so a reading allocates nothing and two
 * readings never share anything. Adding a header syntax is one new file here and one line in
 * headers.ts's registry.
 */
import { MAX_ITEM_LENGTH, type ParsedAddress, isOWS, parseAddress } from '../ip.js'

/** Why the current entry is not an address, when the reader knows more than "not an address". */
export const PROBLEM_NONE = 0
/** An empty item (`a,,b`, a trailing comma, `for=""`). */
export const PROBLEM_EMPTY = 1
/**
 * The entry's start could not be found (an item longer than an address can be, an unbalanced
 * quote, a giant Forwarded element): its bounds are empty and the reading stops.
 */
export const PROBLEM_CUT = 2
/** A Forwarded element that is not `name=value;...`, or repeats a parameter. */
export const PROBLEM_BAD_ELEMENT = 3
/** A Forwarded element without `for=`. */
export const PROBLEM_NO_FOR = 4
/** A single-address header that arrived more than once. */
export const PROBLEM_REPEATED = 5
/** An entry longer than any address can be (`MAX_ITEM_LENGTH`, white space included). */
export const PROBLEM_TOO_LONG = 6

/** The state of one reading of a header, right to left. */
export class HeaderCursor {
  /** The header text (lines joined with commas). */
  text = ''
  /** Where the next entry to the left ends (exclusive); -1 when there is none. */
  next = -1
  /** The current entry: the string it is in (the header, or an unescaped copy of a quoted value) and its trimmed bounds. */
  entry = ''
  start = 0
  end = 0
  /** One of the PROBLEM_ codes, for an entry that is not an address. */
  problem = PROBLEM_NONE
  /** The value was several lines of a header that must come once (see `HeaderReader.lists`). */
  repeated = false
}

export interface HeaderReader {
  /**
   * Whether a header that arrives as several lines is one list, read as if joined with commas
   * (X-Forwarded-For, Forwarded), or ambiguous (a single-address header: which line did our proxy
   * write?), then read as one entry that is not an address.
   */
  readonly lists: boolean
  /**
   * Reads the entry left of the current one (call it only while `cursor.next >= 0`): its bounds
   * into the cursor, and true when it is an address, parsed into `out`; false when it is not.
   */
  read(cursor: HeaderCursor, out: ParsedAddress): boolean
  /**
   * For a syntax whose entries also carry the protocol and host the client used (Forwarded's
   * `proto=` and `host=`): those of the right-most entry, as received. Absent for the others,
   * whose proxies send X-Forwarded-Proto and X-Forwarded-Host.
   */
  protoHost?(value: unknown): [proto: string | undefined, host: string | undefined]
}

/**
 * Starts a reading of a header value: a string, an array of header lines, or undefined. Returns
 * false when the header holds no entries at all (absent, or only white space). A string (what
 * Node gives for every forwarding header) takes the short way, small enough to inline into the
 * walk; the other shapes are in {@link openOther}.
 */
export function openCursor(cursor: HeaderCursor, value: unknown, lists: boolean): boolean {
  cursor.repeated = false
  if (typeof value !== 'string') return openOther(cursor, value, lists)
  cursor.text = value
  // Only white space (or nothing): no entries.
  const hasEntries = value.length !== 0 && (!isOWS(value.charCodeAt(0)) || !onlyWhiteSpace(value))
  cursor.next = hasEntries ? value.length : -1
  return hasEntries
}

function onlyWhiteSpace(text: string): boolean {
  let k = 0
  while (k < text.length && isOWS(text.charCodeAt(k))) k++
  return k === text.length
}

function openOther(cursor: HeaderCursor, value: unknown, lists: boolean): boolean {
  let text: string
  if (value === undefined || value === null) {
    cursor.next = -1
    return false
  } else if (Array.isArray(value)) {
    if (value.length === 0) {
      cursor.next = -1
      return false
    }
    // A single-IP header that arrives twice is ambiguous: which one did our proxy write?
    cursor.repeated = !lists && value.length > 1
    text = cursor.repeated ? '\u0000' : joinLines(value)
  } else {
    // Not something a request carries: read it as one entry that is not an address.
    text = '\u0000'
  }
  cursor.text = text
  const hasEntries = !onlyWhiteSpace(text)
  cursor.next = hasEntries ? text.length : -1
  return hasEntries
}

function joinLines(lines: readonly unknown[]): string {
  let out = ''
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k]
    out += (k === 0 ? '' : ',') + (typeof line === 'string' ? line : '\u0000')
  }
  return out
}

/**
 * Sets the cursor's entry to s between a and b without its white space; an empty or over-long
 * one is a problem (the same bound as `parseItem`).
 */
export function setEntry(cursor: HeaderCursor, s: string, a: number, b: number): void {
  const tooLong = b - a > MAX_ITEM_LENGTH
  while (a < b && isOWS(s.charCodeAt(a))) a++
  while (b > a && isOWS(s.charCodeAt(b - 1))) b--
  cursor.entry = s
  cursor.start = a
  cursor.end = b
  cursor.problem = a === b ? PROBLEM_EMPTY : tooLong ? PROBLEM_TOO_LONG : PROBLEM_NONE
}

/** Whether the cursor's entry is an address, parsed into `out` (an entry with a problem never is). */
export function parseEntry(cursor: HeaderCursor, out: ParsedAddress): boolean {
  return cursor.problem === PROBLEM_NONE && parseAddress(out, cursor.entry, cursor.start, cursor.end)
}

/** Marks the current entry as one whose start cannot be found: the reading stops there. */
export function cutEntry(cursor: HeaderCursor): void {
  cursor.entry = cursor.text
  cursor.start = cursor.end = 0
  cursor.problem = PROBLEM_CUT
  cursor.next = -1
}
