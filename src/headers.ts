/**
 * Forwarding headers: which reader reads which header, and reading one header from a request.
 *
 * The readers (readers/) each know one syntax. This registry is the one place a header name is
 * tied to a syntax: `x-forwarded-for`, `forwarded`, and every other name is a single-address
 * header (`x-real-ip`, `cf-connecting-ip`). A new syntax is a new reader file and one line here.
 */
import { ParsedAddress } from './ip.js'
import { formatParsed } from './ip-text.js'
import { forwardedReader } from './readers/forwarded.js'
import { HeaderCursor, type HeaderReader, openCursor } from './readers/reader.js'
import { singleAddressReader } from './readers/single.js'
import { xForwardedForReader } from './readers/x-forwarded-for.js'

export type { HeaderReader } from './readers/reader.js'

/** The list syntaxes by header name (lower case); any other header holds one address. */
const READERS: Readonly<Record<string, HeaderReader>> = {
  'x-forwarded-for': xForwardedForReader,
  'forwarded': forwardedReader,
}

/** The reader of a header (its lower-case name). */
export function readerFor(name: string): HeaderReader {
  return Object.prototype.hasOwnProperty.call(READERS, name) ? READERS[name]! : singleAddressReader
}

/** Whether the header is a list that the walk reads hop by hop (not a single-address header). */
export function isListHeader(name: string): boolean {
  return readerFor(name).lists
}

/**
 * Every entry of a forwarding header value in header order (left-most first), canonical, with
 * undefined for an entry that is not an address. For diagnostics and audit tooling: resolving a
 * request never needs the whole list. Reading stops at an entry whose start cannot be found
 * (an over-long item, an unbalanced quote), which is listed as undefined.
 */
export function listEntries(value: unknown, header = 'x-forwarded-for'): (string | undefined)[] {
  const out: (string | undefined)[] = []
  const reader = readerFor(header.toLowerCase())
  const cursor = new HeaderCursor()
  const address = new ParsedAddress()
  if (!openCursor(cursor, value, reader.lists)) return out
  while (cursor.next >= 0) out.push(reader.read(cursor, address) ? formatParsed(address) : undefined)
  return out.reverse()
}

/** Minimal Headers-like object: the Web `Headers` class and anything with `get(name)`. */
export interface HeadersLike {
  get(name: string): string | null
}

/** Node's `IncomingHttpHeaders`, or a Web `Headers` object. */
export type HeaderSource = HeadersLike | Record<string, string | string[] | undefined>

/**
 * One header by its lower-case name, from Node's header object or a Web `Headers`. Only own
 * properties are read, so a header named `__proto__` or `constructor` is just absent.
 */
export function getHeader(headers: unknown, name: string): string | string[] | undefined {
  if (headers === null || typeof headers !== 'object') return undefined
  const get = (headers as HeadersLike).get
  if (typeof get === 'function' && !Array.isArray(headers)) {
    try {
      const v = get.call(headers, name)
      return typeof v === 'string' ? v : undefined
    } catch {
      return undefined
    }
  }
  if (!Object.prototype.hasOwnProperty.call(headers, name)) return undefined
  const v = (headers as Record<string, unknown>)[name]
  return typeof v === 'string' || Array.isArray(v) ? (v as string | string[]) : undefined
}
