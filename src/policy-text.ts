/**
 * What a TRUST_PROXY value is made of, for the parser (policy-parse.ts) and the entries
 * (policy-entries.ts) alike: the whole-value keywords, digits, and its white space, ASCII only.
 */
import { TrustProxyError } from './policy-error.js'

export const NONE_WORDS = new Set(['false', '0', 'off', 'no'])
export const ALL_WORDS = new Set(['true', 'on', 'yes'])

export const isDigits = (s: string): boolean => s.length > 0 && /^[0-9]+$/.test(s)

export function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12
}

/**
 * White space outside ASCII: U+00A0 (no-break space), U+FEFF (byte-order mark), U+2028, U+3000...
 * The white space of TRUST_PROXY is {@link isSpace}'s, for a string and an array element alike;
 * these characters, invisible in an editor, are refused with their code point rather than
 * trimmed in one form and part of an entry in the other.
 */
export const UNICODE_SPACE = /[^\S\t\n\v\f\r ]/

export function unicodeSpace(text: string, at: number, element: number | undefined): TrustProxyError {
  let a = at
  let b = at + 1
  while (a > 0 && !isSpace(text.charCodeAt(a - 1)) && text.charCodeAt(a - 1) !== 44) a--
  while (b < text.length && !isSpace(text.charCodeAt(b)) && text.charCodeAt(b) !== 44) b++
  const code = 'U+' + text.charCodeAt(at).toString(16).toUpperCase().padStart(4, '0')
  return new TrustProxyError(
    'unicode-space',
    element === undefined ? text.slice(a, b) : text,
    element ?? a,
    `it holds ${code}, white space that is not a space, tab or line break (pasted from a web page, or a byte-order mark?); ` +
      'TRUST_PROXY trims and separates on ASCII white space only: retype it',
  )
}

/** The text without the {@link isSpace} white space at its ends. */
export function trimSpace(text: string): string {
  let a = 0
  let b = text.length
  while (a < b && isSpace(text.charCodeAt(a))) a++
  while (b > a && isSpace(text.charCodeAt(b - 1))) b--
  return text.slice(a, b)
}
