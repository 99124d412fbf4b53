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
  if (name === 'x-forwarded-for') return xForwardedForReader // the default, without a lookup
  return Object.prototype.hasOwnProperty.call(READERS, name) ? READERS[name]! : singleAddressReader
}

/**
 * The lower-case name of the header `options.header` names (`x-forwarded-for` when absent).
 * Throws a TypeError for anything that is not a header name, or is `host`: a configuration
 * error, caught at setup.
 */
export function forwardingHeaderName(header: unknown): string {
  if (header === undefined) return 'x-forwarded-for'
  // The names used most, checked by value: no pattern to run per request.
  if (header === 'x-forwarded-for' || header === 'forwarded' || header === 'x-real-ip') return header
  if (typeof header !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header) || header.toLowerCase() === 'host') {
    throw new TypeError(`options.header must be the name of a forwarding header, got ${JSON.stringify(header)}`)
  }
  return header.toLowerCase()
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
  return readHeader(headers, isWebHeaders(headers), name)
}

/**
 * Whether headers are read with `get(name)` (a Web `Headers`, or anything with `get`) rather than
 * as Node's plain object. Asked once per request: for a plain object, `headers.get` is a lookup
 * that misses all the way up the prototype chain, the most costly step of a header read.
 */
export function isWebHeaders(headers: unknown): boolean {
  return typeof headers === 'object' && headers !== null && typeof (headers as HeadersLike).get === 'function' && !Array.isArray(headers)
}

/** {@link getHeader} once {@link isWebHeaders} has been asked (`web`). */
export function readHeader(headers: unknown, web: boolean, name: string): string | string[] | undefined {
  if (web) return getFromHeaders(headers as HeadersLike, name)
  const plain = plainHeaders(headers, false)
  return plain === undefined ? undefined : loadedHeader(plain, false, name, plain[name])
}

/**
 * Node's plain header object, for header reads at their call sites ({@link loadedHeader}), or
 * undefined for a Web `Headers` or no headers at all. Asked once per request, with `web`.
 */
export function plainHeaders(headers: unknown, web: boolean): Readonly<Record<string, unknown>> | undefined {
  return web || typeof headers !== 'object' || headers === null ? undefined : (headers as Readonly<Record<string, unknown>>)
}

/**
 * Header `name` of a request, where the caller has loaded its value from Node's plain object
 * itself, with the name written out: `loadedHeader(headers, web, 'host', plain?.host)`.
 *
 * Why at the call site: V8 caches a property load per place in the code. A load written with
 * its name (`plain.host`) is cached for that name and the object's shape, and costs a few
 * instructions; one shared `headers[name]` sees every name the library asks for, goes
 * megamorphic, and does a generic lookup each time. Measured with bench/core-instructions.mjs,
 * the record of a direct request took 3,913 instructions with the shared load and 2,441 with
 * loads at the call sites.
 *
 * Only own string or array-of-string values count: a value found on the prototype chain (a
 * polluted Object.prototype) is no header of this request, and an absent header (most of those
 * asked for) is settled by the caller's one load.
 */
export function loadedHeader(headers: unknown, web: boolean, name: string, loaded: unknown): string | string[] | undefined {
  if (web) return getFromHeaders(headers as HeadersLike, name)
  if (typeof loaded !== 'string' && !Array.isArray(loaded)) return undefined
  return Object.prototype.hasOwnProperty.call(headers, name) ? (loaded as string | string[]) : undefined
}

/** A header from a Web `Headers` (or anything with `get`): its code may throw, which is "absent". */
function getFromHeaders(headers: HeadersLike, name: string): string | undefined {
  try {
    const v = headers.get(name)
    return typeof v === 'string' ? v : undefined
  } catch {
    return undefined
  }
}
