/**
 * RFC 7239 Forwarded, read from the right (spec section 4): one row per rule of the element
 * syntax (`name=value` pairs separated by `;`, names case-insensitive tokens, values tokens or
 * quoted strings with `\` escapes, a repeated `for`, `proto` or `host` invalid) and of the
 * right-to-left delimiting (commas inside quotes, backslash parity, the 1024-character element
 * bound). Mutation testing (docs/mutation-testing.md) found these unpinned. Each row says what
 * the walk must answer behind a trusted loopback peer, and, through the public traceClient, why
 * the first entry that is not a trusted proxy is what it is. Public API only; nothing is parsed
 * while the file is collected.
 */
import { describe, expect, it } from 'vitest'
import { type MalformedReason, listEntries, parseTrustProxy, resolveClient, traceClient } from '../src/index.js'

const PEER = '127.0.0.1'

type Row = [
  name: string,
  forwarded: string,
  /** The client: an address, or the last hop verified when the entry is malformed. */
  ip: string,
  /** Why the entry the walk stopped at is malformed, or null for a client address. */
  malformed: MalformedReason | null,
]

const rows: Row[] = [
  // Parameter names: case-insensitive tokens; only for, proto and host are read.
  ['for= with an IPv4 address', 'for=192.0.2.1', '192.0.2.1', null],
  ['FOR= in upper case', 'FOR=192.0.2.1', '192.0.2.1', null],
  ['For= in mixed case', 'fOr=192.0.2.1', '192.0.2.1', null],
  ['a name of three letters that is not for', 'fox=192.0.2.1', PEER, 'no-for'],
  ['a name that ends like for', 'xor=192.0.2.1', PEER, 'no-for'],
  ['a name that starts like for', 'fo=192.0.2.1', PEER, 'no-for'],
  ['a longer name that starts with for', 'form=192.0.2.1', PEER, 'no-for'],
  ['a five-letter name that is not proto', 'proxy=192.0.2.1', PEER, 'no-for'],
  ['a four-letter name that is not host', 'hose=192.0.2.1', PEER, 'no-for'],
  ['by= only', 'by=192.0.2.1', PEER, 'no-for'],
  ['for after by', 'by=198.51.100.1;for=192.0.2.1', '192.0.2.1', null],
  ['every token character in a name', "!#$%&'*+-.^_`|~09AZaz=x;for=192.0.2.1", '192.0.2.1', null],
  // Syntax that makes the element invalid.
  ['a name without =', 'for', PEER, 'bad-element'],
  ['a name and ; without =', 'for;for=192.0.2.1', PEER, 'bad-element'],
  ['an empty name', '=192.0.2.1', PEER, 'bad-element'],
  ['a name with a space', 'f r=192.0.2.1', PEER, 'bad-element'],
  ['a space before =', 'for =192.0.2.1', PEER, 'bad-element'],
  ['a name with @', 'f@r=192.0.2.1', PEER, 'bad-element'],
  ['a name with a quoted part', 'f""r=192.0.2.1', PEER, 'bad-element'],
  ['a lone quote in a name (unbalanced)', 'f"r=192.0.2.1', PEER, 'unreadable'],
  ['a name with a comma-free bracket', 'f[r=192.0.2.1', PEER, 'bad-element'],
  ['a name that ends the element', 'for=192.0.2.1;proto', PEER, 'bad-element'],
  ['a leading ;', ';for=192.0.2.1', PEER, 'bad-element'],
  ['for twice', 'for=192.0.2.1;for=192.0.2.2', PEER, 'bad-element'],
  ['for twice, different case', 'for=192.0.2.1;FOR=192.0.2.2', PEER, 'bad-element'],
  ['proto twice', 'for=192.0.2.1;proto=https;proto=http', PEER, 'bad-element'],
  ['host twice', 'for=192.0.2.1;host=a.example;host=b.example', PEER, 'bad-element'],
  ['text after a quoted value', 'for="192.0.2.1"x', PEER, 'bad-element'],
  ['text after a quoted value and a space', 'for="192.0.2.1" x;proto=https', PEER, 'bad-element'],
  ['a lone quote after an unquoted value (unbalanced)', 'for=192.0.2.1"', PEER, 'unreadable'],
  ['a quote inside an unquoted value', 'for=192.0.2."1"', PEER, 'bad-element'],
  ['a space inside an unquoted value', 'for=192.0.2.1 x', PEER, 'bad-element'],
  ['a tab inside an unquoted value', 'for=192.\t0.2.1', PEER, 'bad-element'],
  ['DEL (U+007F) in an unquoted value', 'for=192.0.2.1\u007f', PEER, 'bad-element'],
  ['U+0080 in an unquoted value', 'for=192.0.2.1\u0080', PEER, 'bad-element'],
  ['a control character in an unquoted value', 'for=192.0.2.1\u0001', PEER, 'bad-element'],
  ['a tilde (the last visible character) in an unquoted value', 'for=192.0.2.1~', PEER, 'not-an-address'],
  ['an exclamation mark (the first visible character) in an unquoted value', 'for=!192.0.2.1', PEER, 'not-an-address'],
  // Values.
  ['white space around parameters', ' for=192.0.2.1 ; proto=https ', '192.0.2.1', null],
  ['tabs around parameters', '\tfor=192.0.2.1\t;\tproto=https\t', '192.0.2.1', null],
  ['a trailing ;', 'for=192.0.2.1;', '192.0.2.1', null],
  ['an empty unquoted value', 'for=', PEER, 'empty'],
  ['an empty quoted value', 'for=""', PEER, 'empty'],
  ['an empty value before ;', 'for=;proto=https', PEER, 'empty'],
  ['a value of white space before ;', 'for=  ;proto=https', PEER, 'empty'],
  ['a quoted value of white space', 'for="  "', PEER, 'empty'],
  ['a bare address without for=', '192.0.2.1', PEER, 'bad-element'],
  ['a bare bracketed address without for=', '[2001:db8::1]:443', PEER, 'bad-element'],
  ['a trailing ; and white space', 'for=192.0.2.1; ', '192.0.2.1', null],
  ['a backslash in an unquoted value (escapes exist only in quotes)', 'for=192.0.2.\\1', PEER, 'not-an-address'],
  ['a quoted IPv4 address', 'for="192.0.2.1"', '192.0.2.1', null],
  ['a quoted value, white space, then ;', 'for="192.0.2.1"  ;proto=https', '192.0.2.1', null],
  ['a quoted value and white space at the end', 'for="192.0.2.1"  ', '192.0.2.1', null],
  ['a quoted IPv6 address with a port', 'for="[2001:db8::1]:443"', '2001:db8::1', null],
  ['an unquoted IPv6 address (not RFC 7239, written by some proxies)', 'for=2001:db8::1', '2001:db8::1', null],
  ['an escaped digit', 'for="192.0.2.\\1"', '192.0.2.1', null],
  ['an escaped digit in the middle', 'for="19\\2.0.2.1"', '192.0.2.1', null],
  ['an escaped quote', 'for="\\"192.0.2.1"', PEER, 'not-an-address'],
  ['an escaped backslash', 'for="192.0.2.1\\\\"', PEER, 'not-an-address'],
  ['a backslash that escapes the closing quote', 'for="192.0.2.1\\"', PEER, 'bad-element'],
  ['a quoted comma', 'for="192.0.2.1,192.0.2.2"', PEER, 'not-an-address'],
  ['a quoted semicolon', 'for="192.0.2.1;proto=https"', PEER, 'not-an-address'],
  ['an unterminated quote', 'for="192.0.2.1', PEER, 'unreadable'],
  ['a quote that opens and never closes after a value', 'for=192.0.2.1;x="a', PEER, 'unreadable'],
  ['unknown', 'for=unknown', PEER, 'unknown'],
  ['an obfuscated identifier', 'for=_hidden', PEER, 'obfuscated'],
  ['a quoted obfuscated identifier with a port', 'for="_hidden:80"', PEER, 'obfuscated'],
]

/** Elements in a header, right-most last: the row's element behind a trusted loopback proxy. */
const loopback = (() => {
  let p: ReturnType<typeof parseTrustProxy> | undefined
  return () => (p ??= parseTrustProxy('loopback'))
})()

function reasonOf(forwarded: string): MalformedReason | null {
  const trace = traceClient(loopback(), { remoteAddress: PEER, headers: { forwarded } }, { header: 'forwarded' })
  return trace.hops.find((h) => h.role === 'malformed')?.malformed ?? null
}

describe('Forwarded elements, one rule each', () => {
  it.each(rows)('%s: %j', (_name, forwarded, ip, malformed) => {
    const info = resolveClient(loopback(), { remoteAddress: PEER, headers: { forwarded } }, { header: 'forwarded' })
    expect(info.ip).toBe(ip)
    expect(info.anomalies.includes('malformed-entry')).toBe(malformed !== null)
    expect(reasonOf(forwarded)).toBe(malformed)
    // Behind another trusted proxy's element: the same answer, one hop further on.
    const behind = resolveClient(loopback(), { remoteAddress: PEER, headers: { forwarded: `${forwarded}, for=127.0.0.2` } }, { header: 'forwarded' })
    expect(behind.ip).toBe(ip === PEER ? '127.0.0.2' : ip)
    expect(reasonOf(`${forwarded}, for=127.0.0.2`)).toBe(malformed)
  })
})

/** Rows where the element's own text decides how far left the reading goes. */
const delimiting: [name: string, forwarded: string, entries: (string | undefined)[], malformed: MalformedReason | null][] = [
  ['a quoted comma does not split the element', 'for=192.0.2.9, for="[2001:db8::1]:1,x", for=127.0.0.2', ['192.0.2.9', undefined, '127.0.0.2'], 'not-an-address'],
  ['an escaped quote does not close the quoted string', 'for=192.0.2.9, for="a\\",for=192.0.2.66", for=127.0.0.2', ['192.0.2.9', undefined, '127.0.0.2'], 'not-an-address'],
  ['three backslashes before a quote: still escaped', 'for=192.0.2.9, for="a\\\\\\",for=192.0.2.66", for=127.0.0.2', ['192.0.2.9', undefined, '127.0.0.2'], 'not-an-address'],
  ['two backslashes before a quote: the quote is real', 'for=192.0.2.9, x=\\\\"b", for=127.0.0.2', ['192.0.2.9', undefined, '127.0.0.2'], 'bad-element'],
  ['a backslash at the start before a quote', '\\"a", for=127.0.0.2', [undefined, '127.0.0.2'], 'unreadable'],
  ['two backslashes at the start before a quote', '\\\\"a", for=127.0.0.2', [undefined, '127.0.0.2'], 'bad-element'],
  ['a quote at the start', '"a", for=127.0.0.2', [undefined, '127.0.0.2'], 'bad-element'],
  ['an empty element at the start (no for=)', ', for=127.0.0.2', [undefined, '127.0.0.2'], 'no-for'],
  ['an empty element between two', 'for=192.0.2.9,, for=127.0.0.2', ['192.0.2.9', undefined, '127.0.0.2'], 'no-for'],
  ['an element of white space between two', 'for=192.0.2.9, \t , for=127.0.0.2', ['192.0.2.9', undefined, '127.0.0.2'], 'no-for'],
  ['an unbalanced quote hides everything left of it', 'for=192.0.2.9, for="x, for=127.0.0.2', [undefined, '127.0.0.2'], 'unreadable'],
]

describe('Forwarded elements are delimited from the right as a left-to-right reader would', () => {
  it.each(delimiting)('%s: %j', (_name, forwarded, entries, malformed) => {
    expect(listEntries(forwarded, 'forwarded')).toEqual(entries)
    const info = resolveClient(loopback(), { remoteAddress: PEER, headers: { forwarded } }, { header: 'forwarded' })
    expect(info.ip).toBe('127.0.0.2')
    expect(info.anomalies).toContain('malformed-entry')
    expect(reasonOf(forwarded)).toBe(malformed)
  })
})

describe('a malformed element is shown as received, without its neighbours', () => {
  it.each([
    ['a bad name', 'for=192.0.2.9,  f@r=1 , for=127.0.0.2', 'f@r=1', 'bad-element'],
    ['no for=', 'for=192.0.2.9,by=192.0.2.1,for=127.0.0.2', 'by=192.0.2.1', 'no-for'],
    ['a bare address', 'for=192.0.2.9, 192.0.2.1, for=127.0.0.2', '192.0.2.1', 'bad-element'],
    ['unknown', 'for=192.0.2.9, for=unknown, for=127.0.0.2', 'unknown', 'unknown'],
  ])('%s', (_name, forwarded, raw, malformed) => {
    const trace = traceClient(loopback(), { remoteAddress: PEER, headers: { forwarded } }, { header: 'forwarded' })
    const hop = trace.hops.find((h) => h.role === 'malformed')!
    expect([hop.raw, hop.malformed]).toEqual([raw, malformed])
    expect(trace.client.ip).toBe('127.0.0.2')
  })
})

describe('a Forwarded element is at most 1024 characters', () => {
  // Longer is no element a proxy wrote (host names are at most 255): its start is not looked
  // for, and nothing left of it is read.
  const element = (n: number) => {
    const head = 'for=192.0.2.1;'
    return head + 'x='.padEnd(n - head.length, 'a')
  }
  it.each([
    ['1024 characters, alone', 1024, '', '192.0.2.1', null],
    ['1025 characters, alone', 1025, '', PEER, 'unreadable'],
    ['1023 characters after another element', 1023, 'for=192.0.2.99,', '192.0.2.1', null],
    // The bound is the same after a comma (the scan used to stop one character early there).
    ['1024 characters after another element', 1024, 'for=192.0.2.99,', '192.0.2.1', null],
    ['1025 characters after another element', 1025, 'for=192.0.2.99,', PEER, 'unreadable'],
  ] as const)('%s', (_name, n, before, ip, malformed) => {
    const e = element(n)
    expect(e.length).toBe(n)
    const forwarded = before + e
    const info = resolveClient(loopback(), { remoteAddress: PEER, headers: { forwarded } }, { header: 'forwarded' })
    expect(info.ip).toBe(ip)
    expect(reasonOf(forwarded)).toBe(malformed)
  })
})

describe('proto= and host= of the right-most element', () => {
  it.each([
    ['proto and host', 'for=192.0.2.1;proto=https;host=gw.example', 'https', 'gw.example'],
    ['PROTO and HOST in upper case', 'for=192.0.2.1;PROTO=https;HOST=gw.example', 'https', 'gw.example'],
    ['quoted proto and host', 'for=192.0.2.1;proto="https";host="gw.example:8443"', 'https', 'gw.example:8443'],
    ['an escaped host', 'for=192.0.2.1;host="gw.exampl\\e"', 'http', 'gw.example'],
    ['an escaped proto', 'for=192.0.2.1;proto="http\\s"', 'https', 'socket.example'],
    ['a four-letter name that is not host', 'for=192.0.2.1;hose=gw.example', 'http', 'socket.example'],
    ['a five-letter name that is not proto', 'for=192.0.2.1;proxy=https', 'http', 'socket.example'],
    ['a longer name that starts with host', 'for=192.0.2.1;hostname=gw.example', 'http', 'socket.example'],
    ['a longer name that starts with proto', 'for=192.0.2.1;protocol=https', 'http', 'socket.example'],
    ['a longer name that starts with for', 'for=192.0.2.1;format=198.51.100.1', 'http', 'socket.example'],
    ['proto and host before for', 'proto=https;host=gw.example;for=192.0.2.1', 'https', 'gw.example'],
  ])('%s: %j', (_name, forwarded, protocol, host) => {
    const info = resolveClient(loopback(), { remoteAddress: PEER, headers: { forwarded, host: 'socket.example' } }, { header: 'forwarded' })
    expect(info.ip).toBe('192.0.2.1')
    expect(info.protocol).toBe(protocol)
    expect(info.host).toBe(host)
  })
})

describe('a request never reads the parameters of the request before it', () => {
  // The reader keeps the last element it parsed in scratch state: an element that cannot be
  // delimited (an unbalanced quote) must not leave the previous request's proto= and host= readable.
  it.each([
    ['an unbalanced quote', 'for="192.0.2.1;proto=https'],
    ['an element over 1024 characters', `for=192.0.2.1;proto=https;host=b.example;x=${'a'.repeat(1024)}`],
    ['an element that is not name=value', 'for=192.0.2.1;proto'],
  ])('%s', (_name, forwarded) => {
    const req = (f: string) => ({ remoteAddress: PEER, headers: { forwarded: f, host: 'socket.example' } })
    const before = resolveClient(loopback(), req('for=192.0.2.7;proto=https;host=a.example'), { header: 'forwarded' })
    expect([before.ip, before.protocol, before.host]).toEqual(['192.0.2.7', 'https', 'a.example'])
    const info = resolveClient(loopback(), req(forwarded), { header: 'forwarded' })
    expect(info.ip).toBe(PEER)
    expect(info.protocol).toBe('http')
    expect(info.host).toBe('socket.example')
    const trace = traceClient(loopback(), req(forwarded), { header: 'forwarded' })
    expect(trace.forwardedProto).toBeUndefined()
    expect(trace.forwardedHost).toBeUndefined()
  })
})
