#!/usr/bin/env node
// Summarises Stryker JSON reports (reports/mutation/mutation.json from `npm run mutation`, or the
// per-group reports of scripts/mutation-by-file.sh) as the Markdown of docs/mutation-testing.md:
// the score per file, then every mutant that was not killed, with its function, place and
// replacement, grouped by the reason it is equivalent, so that each has a test or a reason.
//
//   node scripts/mutation-summary.mjs reports/mutation/*.report.json
//
// The rules below name the function a mutant is in and the code it changes, never a file or a
// line number, so that they still apply when code moves between files (see "Re-checking the
// rules" in docs/mutation-testing.md). A survivor that matches no rule is "not analysed".
import { readFileSync } from 'node:fs'

const files = process.argv.length > 2 ? process.argv.slice(2) : ['reports/mutation/mutation.json']
const report = { files: Object.assign({}, ...files.map((f) => JSON.parse(readFileSync(f, 'utf8')).files)) }
const UNDETECTED = new Set(['Survived', 'NoCoverage'])

/** Why a surviving mutant is equivalent: the groups of docs/mutation-testing.md. */
const GROUPS = {
  fast: 'fast or general path: a shortcut that gives up (or is skipped) leaves the input to the general code, which gives the same answer',
  slice: 'sliced or built canonical text: the same string',
  twice: 'a bound or condition checked again further on',
  oob: 'a read at the end of the range: the character there (a delimiter, or NaN past the string) fails the same test',
  search: 'linear or binary search: the same interval',
  sort: "sort and merge details: V8's sort tests only < 0; keeping a maximum with >= or >",
  after: 'a comparison after !== : < and <= agree',
  parity: 'an arithmetic change that keeps the parity, the only thing tested',
  static: 'an initial value overwritten before it is read',
  unreachable: 'a value the surrounding code never produces',
  work: 'work done or skipped whose result is not used',
  same: 'the same value by another way',
  cached: 'a module-level value computed on first use: the runs (isolate: false) computed it before the mutant was active',
}

/**
 * [function, code, group, change?]: a survivor in a function whose name matches `function` (a
 * module-level const or class counts as a function; a method is `Class.method` or
 * `object.method`), on a line whose code (trimmed) matches `code`, and, where given, whose
 * `Mutator -> replacement` matches `change` (for a line where other mutants are killable), is in
 * `group`. Each was written after reading the survivors
 * it covers on the layout of 3 December 2026 (and, for the address and reader modules, checking
 * them with scripts/mutation-differential.mjs); a line's code is matched whole where one mutant of
 * it could be told apart from another, so that a changed line falls back to "not analysed".
 */
const RULES = [
  // ip.ts: the address parser.
  [/^ParsedAddress$/, /^(family: 4 \| 6 = 4|v4 = 0|w[0-3] = 0|input = ''|textStart = 0|textEnd = 0|zoneStart = 0|zoneEnd = 0|plainText = false|gapAt = -1|groupsWritten = 8)$/, 'static'],
  [/^scanIPv4$/, /^if \(i < end\) \{$/, 'oob'],
  [/^afterOctet$/, /^if \(\(c \| 0x20\) === 120 \/\* x \*\/ && i === octetStart \+ 1 && s\.charCodeAt\(octetStart\) === 48\) return IPV4_HEX$/, 'unreachable', /^ConditionalExpression -> true$/],
  [/^parseIPv4$/, /^if \(stop < 0\) return stop$/, 'unreachable'],
  [/^parseIPv4$/, /^while \(octetStart > i && s\.charCodeAt\(octetStart - 1\) !== 46\) octetStart--$/, 'twice', /^(EqualityOperator -> octetStart >= i|ConditionalExpression -> true)$/],
  [/^parseIPv6$/, /^if \(k < end && s\.charCodeAt\(k\) === 58 \/\* : \*\/\) \{$|^if \(k \+ 1 >= end \|\| s\.charCodeAt\(k \+ 1\) !== 58\) return false$|^if \(\+\+k < end && s\.charCodeAt\(k\) === 58\) \{$/, 'oob'],
  [/^parseIPv6$/, /^if \(k < end && c === 46 \/\* \. \*\/\) \{$/, 'unreachable'],
  [/^parseIPv6$/, /^(let canonical = true|if \(k - start > 1 && s\.charCodeAt\(start\) === 48\) canonical = false|if \(\(digitBits & 0x20\) === 0\) canonical = false|out\.plainText = tail >= 0|if \(tail >= 0\) out\.textStart = tail|out\.plainText = canonical && tail < 0)$/, 'slice'],
  [/^parseIPv6$/, /^if \(addrEnd < end\) \{$/, 'work'],
  [/^parseAddress$/, /^(if \(end - i > MAX_ENTRY_LENGTH \|\| i >= end\) return false|while \(close < end && s\.charCodeAt\(close\) !== 93 \/\* \] \*\/\) close\+\+|if \(close === end\) return false)$/, 'twice'],
  [/^parseAddress$/, /^let close = i \+ 1$/, 'oob'],
  [/^parseAddress$/, /^if \(stop === end \|\| \(stop > 0 && isPort\(s, stop, end\)\)\) \{$/, 'unreachable'],
  [/^setIPv4$/, /^out\.plainText = true$/, 'slice'],
  [/^parseItem$/, /^if \(end - i > MAX_ITEM_LENGTH\) return false$/, 'unreachable'],
  [/^parseItem$/, /^while \(i < end && isOWS\(s\.charCodeAt\(i\)\)\) i\+\+$/, 'oob'],
  [/^parseItem$/, /^while \(end > i && isOWS\(s\.charCodeAt\(end - 1\)\)\) end--$/, 'twice'],
  // ip-text.ts: canonical text.
  [/^(longestZeroRun|zeroRunLength)$/, /^(for \(let k = 0; k < 8; \) \{|while \(k < 8 && g\[k\] === 0\) k\+\+)$/, 'oob'],
  [/^compressedAsRfc5952$/, /^((export )?function compressedAsRfc5952\(a: ParsedAddress\): boolean \{|return gap === longestZeroRun\(a\.groups\) && \(gap < 0 \|\| 8 - a\.groupsWritten === zeroRunLength\(a\.groups, gap\)\))$/, 'slice', /^(BlockStatement -> \{\}|ConditionalExpression -> false|LogicalOperator -> gap < 0 && |ArithmeticOperator -> 8 \+ a\.groupsWritten)/],
  [/^(formatParsed|formatOther)$/, /^if \(a\.plainText && \(a\.family === 4 \|\| compressedAsRfc5952\(a\)\)\) \{$|^if \(a\.plainText && compressedAsRfc5952\(a\)\) \{$/, 'slice'],
  // The short way for IPv4 as written, skipped: formatOther gives the same slice.
  [/^formatParsed$/, /^if \(a\.family === 4 && a\.plainText\) \{$/, 'fast', /^(ConditionalExpression -> false|BlockStatement -> \{\})$/],
  [/^formatParsed$/, /^return a\.textStart === 0 && a\.textEnd === s\.length \? s : s\.slice\(a\.textStart, a\.textEnd\)$/, 'slice', /^ConditionalExpression -> false$/],
  // ip-backward.ts: the right-to-left fast readers (every survivor checked with the differential script).
  [/^(readIPv4Item|readIPv6Item)$/, /^while \((k > stop && k >= 0|k >= 0 && k > stop) && isOWS\(s\.charCodeAt\(k\)\)\) k--$/, 'twice'],
  [/^readIPv4Item$/, /^(let c = k >= 0 \? s\.charCodeAt\(k\) : 0|c = --k >= 0 \? s\.charCodeAt\(k\) : 0|if \(c >= 48 && c <= 57\) \{|if \(c >= 48 && c <= 57\) return -2)$/, 'fast'],
  [/^readIPv6Item$/, /^(if \(k >= 1 && s\.charCodeAt\(k\) === 58 && s\.charCodeAt\(k - 1\) === 58\) \{|if \(k < 0 \|\| hexValue\(s\.charCodeAt\(k\)\) < 0\) return -2|if \(k < 0 \|\| c !== 58 \/\* : \*\/\) break|if \(--k >= 0 && s\.charCodeAt\(k\) === 58\) \{|if \(k < 0 \|\| hexValue\(s\.charCodeAt\(k\)\) < 0\) break \/\/ the text starts with "::"|if \(\(w0 \| w1\) === 0 && \(w2 === 0xffff \|\| \(w2 \| w3\) === 0\)\) return -2)$/, 'fast'],
  [/^readIPv6Item$/, /^(if \(digits === 0 \|\| n === 8\) return -2|\} else if \(k < 0 \|\| hexValue\(s\.charCodeAt\(k\)\) < 0\) \{)$/, 'twice'],
  [/^readIPv6Item$/, /^(if \(gapAt >= 0\) \{|for \(let j = 0; j < left; j\+\+\) g\[j\] = g\[8 - n \+ j\]!)$/, 'work'],
  [/^readIPv6Item$/, /^(let canonical = true|if \(digits > 1 && s\.charCodeAt\(k \+ 1\) === 48\) canonical = false|out\.plainText = canonical && \(digitBits & 0x20\) !== 0|out\.gapAt = gapAt < 0 \? -1 : n - gapAt)$/, 'slice'],
  // readers/ and headers.ts: the header readers.
  [/^forwardingHeaderName$/, /^if \(header === 'x-forwarded-for' \|\| header === 'forwarded' \|\| header === 'x-real-ip'\) return header$/, 'fast'],
  [/^getFromHeaders$/, /^\} catch \{$/, 'same'],
  [/^HeaderCursor$/, /^(text = ''|next = -1|entry = ''|start = 0|end = 0|problem = PROBLEM_NONE|repeated = false)$/, 'static'],
  [/^(openCursor|openOther)$/, /^cursor\.next = -1$/, 'work'],
  [/^(openCursor|openOther)$/, /^if \(value\.length === 0\) \{$/, 'twice'],
  [/^(openCursor|onlyWhiteSpace)$/, /^while \(k < text\.length && isOWS\(text\.charCodeAt\(k\)\)\) k\+\+$/, 'oob'],
  // A cursor with no entries is never read again (every caller stops at openCursor's false).
  [/^(openCursor|openOther)$/, /^cursor\.next = hasEntries \? (text|value)\.length : -1$/, 'work', /^UnaryOperator -> \+1$/],
  [/^singleAddressReader\.read$/, /^if \(cursor\.repeated\) cursor\.problem = PROBLEM_REPEATED$/, 'work'],
  [/^xForwardedForReader\.read$/, /^(if \(comma < -1\) comma = readIPv6Item\(out, s, end\)|if \(comma >= -1\) \{)$/, 'fast'],
  [/^forwardedReader\.protoHost$/, /^if \(!openCursor\(cursor, value, true\) \|\| !readElement\(cursor, p\)\) return \[undefined, undefined\]$/, 'same'],
  [/^forwardedReader\.protoHost$/, /^p\.(proto|host)Start >= 0 \? paramText/, 'unreachable'],
  [/^(readElement|elementStart)$/, /^if \(k < limit\) break$/, 'twice'],
  [/^(readElement|elementStart)$/, /^while \(j >= 0 && s\.charCodeAt\(j\) === 92 \/\* \\ \*\/\) j--$/, 'oob'],
  [/^(readElement|elementStart)$/, /^if \(\(k - 1 - j\) % 2 === 0\) quoted = false$/, 'parity'],
  // The one-pass reader declined (or was skipped): the defining reader reads the element.
  [/^readElement$/, /^if \(comma >= -1\) \{$/, 'fast'],
  // An unescaped value "unescaped" is a copy of the same text: the same entry.
  [/^readElement$/, /^if \(p\.forEscaped\) \{$/, 'same', /^ConditionalExpression -> true$/],
  // The one-pass Forwarded reader at the element's bound `lo` (its comma's place at the longest,
  // or -1): a step onto or past `lo`, or a check of it left out, is refused by the next check
  // (a value must end right of lo, a name must be followed by `=` right of lo, setParam refuses
  // an empty name), and reads left of the header give NaN, which no test accepts.
  [/^parseElementBack$/, /^const lo = limit < -1 \? -1 : limit$/, 'oob'],
  [/^parseElementBack$/, /^if \(k > lo && s\.charCodeAt\(k\) === 59 \/\* ; \*\/\) k = skipOWSBack\(s, k - 1, lo\)$/, 'twice', /^(ConditionalExpression -> true|EqualityOperator -> k >= lo)$/],
  [/^parseElementBack$/, /^(if \(k <= lo\) return -2|while \(k > lo\) \{)$/, 'twice', /^(ConditionalExpression -> false|EqualityOperator -> k (<|>=) lo)$/],
  [/^parseElementBack$/, /^while \(k > lo && isTokenValueChar\(s\.charCodeAt\(k\)\)\) k--$/, 'twice', /^(ConditionalExpression -> true|EqualityOperator -> k >= lo)$/],
  [/^parseElementBack$/, /^if \(k <= lo \|\| s\.charCodeAt\(k\) !== 61 \/\* = \*\/\) return -2$/, 'twice', /^(ConditionalExpression -> false|EqualityOperator -> k < lo)$/],
  [/^parseElementBack$/, /^if \(k < 0\) return p\.forStart < 0 \? -2 : -1$|^if \(c === 44 \/\* , \*\/\) return p\.forStart < 0 \? -2 : k$/, 'unreachable', /^EqualityOperator -> p\.forStart <= 0$/],
  [/^ElementParams$/, /^(for|proto|host)(Start|End) = -1$|^(for|proto|host)Escaped = false$/, 'static'],
  [/^setParam$/, /^if \(p\.(for|proto|host)Start >= 0\) return false$/, 'unreachable'],
  [/^readElement$/, /^if \(!ok \|\| p\.forStart < 0\) \{$/, 'unreachable'],
  [/^isTchar$/, /^return c < 128 && TCHAR\[c\] === 1$/, 'oob'],
  // Escaped flags of absent parameters are never read (paramText runs for a present one only).
  [/^(parseElement|resetParams)$/, /^p\.forEscaped = p\.protoEscaped = p\.hostEscaped = false$/, 'static'],
  [/^parseElement$/, /^(while \(i < b\) \{|while \(i < b && isOWS\(s\.charCodeAt\(i\)\)\) i\+\+|while \(i < b && isTchar\(s\.charCodeAt\(i\)\)\) i\+\+ .*|if \(i >= b \|\| s\.charCodeAt\(i\) !== 61 \/\* = \*\/\) return false|if \(i < b && s\.charCodeAt\(i\) === 34 \/\* " \*\/\) \{|while \(i < b && s\.charCodeAt\(i\) !== 34\) \{|while \(ve > vs && isOWS\(s\.charCodeAt\(ve - 1\)\)\) ve--)$/, 'oob'],
  [/^parseElement$/, /^if \(p\.(for|proto|host)Start >= 0\) return false$/, 'unreachable'],
  [/^unescape$/, /^if \(s\.charCodeAt\(k\) === 92 && k \+ 1 < b\) k\+\+$/, 'unreachable'],
  // host.ts: Host and X-Forwarded-Host validation.
  [/^isValidHost$/, /^if \(h === lastValid( \|\| h === otherValid)?\) return true$/, 'fast'],
  [/^readerFor$/, /^if \(name === 'x-forwarded-for'\) return xForwardedForReader/, 'fast'],
  [/^checkHost$/, /^(if \(n === 0\) return false|if \(close < 0\) return false|if \(i < 0\) return false)$/, 'twice'],
  [/^checkHost$/, /^if \(h\.lastIndexOf\('%', close\) > 0 \|\| !parseIPv6\(literal, h, 1, close\) \|\| !isHost\(literal\)\) return false$/, 'unreachable'],
  [/^hostNameEnd$/, /^if \(\(absolute \? i - 1 : i\) > MAX_HOST_NAME\) return -1$/, 'twice'],
  [/^hostNameEnd$/, /^let lastNumeric = false$/, 'static'],
// policy-parse.ts (or wherever the lexer and fromEntries land): parsing TRUST_PROXY.
  [/^lexList$/, /^if \(comma >= 0 && comma < end\) throw new TrustProxyError\('empty-entry', '', comma, 'the list ends with a comma'\)$/, 'unreachable', /^(ConditionalExpression -> true|EqualityOperator -> comma (<=|>) )/],
  [/^fromString$/, /^while \((start < end && isSpace\(raw\.charCodeAt\(start\)\)\) start\+\+|end > start && isSpace\(raw\.charCodeAt\(end - 1\)\)\) end--)$/, 'oob'],
  [/^fromString$/, /^if \(whole\.length > 1 && whole\[0\] === '0'\) \{$/, 'unreachable'],
  [/^lexList$/, /^for \(let m = entry\.exec\(raw\); m !== null && m\.index < end; m = entry\.exec\(raw\)\) \{$/, 'unreachable'],
  // The lexer's shortcuts: a gap of one character between entries is not checked (it holds at
  // most one comma), and a strict IPv4 entry is handed over read; checking every gap, or handing
  // an entry over unread (bits -1, NaN or negative; 0.0.0.0/32, which fromEntries refuses to
  // take), leaves it to checkSeparator and the entry parser.
  [/^lexList$/, /^if \(at - after > 1 \|\| \(at > after && after === start\)\) checkSeparator\(raw, after, at, texts\.length > 0\)$/, 'fast', /^(ConditionalExpression -> true|EqualityOperator -> at - after >= 1|ArithmeticOperator -> at \+ after|LogicalOperator -> at > after \|\| after === start|EqualityOperator -> at >= after)$/],
  [/^lexList$/, /^(if \(a === undefined\) \{|\} else \{)$/, 'fast'],
  [/^lexList$/, /^bits\.push\(b === undefined \? 32 : \+b\)$/, 'fast', /^(ConditionalExpression -> false|UnaryOperator -> -b)$/],
  [/^fromString$/, /^return fromEntries\(entries, entries\.texts\.length > 1\)$/, 'twice'],
  [/^checkSeparator$/, /^if \(comma < 0 \|\| comma >= to\) return$/, 'twice'],
  [/^checkSeparator$/, /^if \(comma >= 0 && comma < to\) throw new TrustProxyError/, 'unreachable', /^EqualityOperator -> comma <= to$/],
  [/^looksLikeHopCount$/, /^if \(\/\^\[\+-\]\|e\/i\.test\(s\)\) return true$/, 'unreachable', /^Regex -> /],
  [/^looksLikeHopCount$/, /^return dot <= 0 \|\| Number\(s\.slice\(0, dot\)\) <= MAX_HOPS$/, 'twice'],
  [/^isDigits$/, /^(export )?const isDigits = \(s: string\): boolean => s\.length > 0 && \/\^\[0-9\]\+\$\/\.test\(s\)$/, 'twice'],
  [/^(unicodeSpace|trimSpace)$/, /^while \((b < text\.length && !isSpace|a < b && isSpace|b > a && isSpace)/, 'oob'],
  [/^checkNotHopCount$/, /^if \(isList && entry\.indexOf\('\.'\) < 0 && entry\.indexOf\(':'\) < 0 && isDigits\(entry\)\) \{$/, 'twice', /^(ConditionalExpression -> true|EqualityOperator -> entry\.indexOf\('[.:]'\) <= 0|LogicalOperator -> isList \|\| |LogicalOperator -> isList && entry\.indexOf\('\.'\) < 0 \|\| )/],
  [/^fromEntries$/, /^if \(c0 >= 48 && c0 <= 58 \? !checkNotHopCount\(entry, positions\[k\]!, isList\) : !addWord\(kept, warnings, entry, k, positions\[k\]!\)\) \{$/, 'fast', /^(ConditionalExpression -> true|EqualityOperator -> c0 < 58)$/],
  // The lexer's strict IPv4 entries: skipping the shortcut leaves the entry to parseRangeInto,
  // and the text it builds is the one it would reuse.
  [/^fromEntries$/, /^(if \(b >= 0\) \{|if \(text !== undefined\) \{)$/, 'fast', /^(ConditionalExpression -> false|EqualityOperator -> b > 0|BlockStatement -> \{\})$/],
  [/^ipv4EntryText$/, /^(function ipv4EntryText\(entry: string, v4: number, bits: number, net: number\): string \| undefined \{|if \(v4 === 0\) return undefined)$/, 'fast', /^(BlockStatement -> \{\}|ConditionalExpression -> true)$/],
  [/^ipv4EntryText$/, /^if \(bits !== 32\) return net === v4 \? entry : formatIPv4\(net\) \+ '\/' \+ bits$/, 'slice', /^ConditionalExpression -> false$/],
  [/^ipv4EntryText$/, /^return entry\.indexOf\('\/'\) < 0 \? entry : formatIPv4\(v4\)$/, 'slice', /^(ConditionalExpression -> false|EqualityOperator -> entry\.indexOf\('\/'\) <= 0|StringLiteral -> "")$/],
  [/^fromEntries$/, /^multi\.push\(cidrs > 1\)$/, 'work'],
  [/^(namedCidrs|presetCidrs)$/, /^if \(cidrs === undefined\) \{$/, 'fast'],
  // policy-warnings.ts: nested entries and trust-all.
  [/^collectOverlapWarnings$/, /^if \(owners\.multi\[item\]\) \{$/, 'work'],
  [/^collectOverlapWarnings$/, /^const pair = item \* n \+ outer$/, 'same'],
  [/^collectOverlapWarnings$/, /^let (outer|outerEnd) = -1$/, 'static'],
  [/^collectOverlapWarnings$/, /^if \(group === undefined \|\| list\.start4\[r\]! > outerEnd\) \{$/, 'twice'],
  [/^collectOverlapWarnings$/, /^for \(let k = 0; k < o[46]\.length; k\+\+\) \{$/, 'oob'],
  [/^collectOverlapWarnings$/, /^if \(item < other && covers\(other, item\)\) continue$/, 'unreachable', /^EqualityOperator -> item <= other$/],
  // A pair of an entry with itself never reaches its range count: the first of its ranges in
  // sorted order is counted against other entries only (none of its own is in the group yet).
  [/^collectOverlapWarnings$/, /^if \(item !== outer\) inside\.set\(item \* n \+ outer, \(inside\.get\(item \* n \+ outer\) \?\? 0\) \+ 1\)$/, 'unreachable', /^ConditionalExpression -> true$/],
  // One past the group: an undefined owner makes a NaN key, no pair of entries.
  [/^add$/, /^for \(let g = 0; g < this\.(owners|ranges)\.length; g\+\+\) note\(/, 'oob', /^EqualityOperator -> g <= this\.(owners|ranges)\.length$/],
  // policy.ts: the policy and its brand.
  [/^(inRanges|inRanges6)$/, /^return set\.has6\(a\.w0, a\.w1, a\.w2, a\.w3, a\.zoneStart === a\.zoneEnd \? '' : a\.input\.slice\(a\.zoneStart, a\.zoneEnd\)\)$/, 'same', /^ConditionalExpression -> false$/],
  [/^(inRanges|inRanges6)$/, /^return set\.has6\(a\.w0, a\.w1, a\.w2, a\.w3, a\.zoneStart === a\.zoneEnd \? '' : a\.input\.slice\(a\.zoneStart, a\.zoneEnd\)\)$/, 'unreachable', /^StringLiteral -> /],
  [/^TrustPolicy\.constructor$/, /^set: kind === 'ranges' \? set : undefined,$/, 'same'],
// cidr.ts: range entries.
  [/^RangeScratch$/, /^(family: 4 \| 6 = 4|v4 = 0|w[0-3] = 0|prefix = 0|zone = ''|hostBits = false)$/, 'static'],
  [/^isHostPort$/, /^while \(i < end && \(s\.charCodeAt\(i\) === 46 \|\| \(s\.charCodeAt\(i\) >= 48 && s\.charCodeAt\(i\) <= 57\)\)\) i\+\+$/, 'oob', /^(ConditionalExpression -> true|EqualityOperator -> i <= end)$/],
  [/^isHostPort$/, /^if \(i === 0 \|\| i >= end \|\| s\.charCodeAt\(i\) !== 58\) return false$/, 'unreachable', /^(ConditionalExpression -> false|EqualityOperator -> i > end)$/],
  [/^allDigits$/, /^for \(let i = from; i < to; i\+\+\) \{$/, 'oob'],
  [/^parseRangeEntry$/, /^\? \{ family: 4, v4: r\.v4, w: \[0, 0, 0, 0\], prefix: r\.prefix, zone: '' \}$/, 'work'],
  [/^parseRangeInto$/, /^const aEnd = slash < 0 \? entry\.length : slash$/, 'twice'],
  [/^parseRangeInto$/, /^const zoned = pct >= 0 && pct < aEnd$/, 'unreachable', /^EqualityOperator -> pct <= aEnd$/],
  [/^parseRangeInto$/, /^if \(colon >= 0 && colon < aEnd\) \{$/, 'unreachable', /^EqualityOperator -> colon <= aEnd$/],
  [/^parseRangeInto$/, /^if \(slash >= 0\) \{$/, 'unreachable', /^EqualityOperator -> slash > 0$/],
  [/^parseRangeInto$/, /^(digitSuffix = true|const asWritten = !mapped && !hostBits && \(slash < 0 \|\| \(prefix !== 32 && digitSuffix\)\))$/, 'slice'],
  [/^parseRangeInto$/, /^const asWritten = !hostBits && \(slash < 0 \|\| \(prefix !== 128 && digitSuffix\)\) && parsed\.plainText && compressedAsRfc5952\(parsed\)$/, 'slice', /^(ConditionalExpression -> false|LogicalOperator -> slash < 0 && prefix !== 128 && digitSuffix|EqualityOperator -> slash <= 0)$/],
  [/^parseRangeInto$/, /^for \(let i = from; i < to && prefix <= bits; i\+\+\) prefix = prefix \* 10 \+ entry\.charCodeAt\(i\) - 48$/, 'twice', /^ConditionalExpression -> true$/],
  // ranges.ts (or wherever RangeList and RangeSet land): compiled range sets.
  [/^maskBits$/, /^if \(bits >= 32\) return 0xffffffff$/, 'same'],
  [/^(compare6|cmp6)$/, /^(if \((a[0-2]|x) !== (b[0-2])\) return (a[0-2]|x) < b[0-2] \? -1 : 1|return (a3|x) === b3 \? 0 : (a3|x) < b3 \? -1 : 1)$/, 'after'],
  [/^RangeList\.(order4|order6)$/, /^if \(n <= 1 << 1[56]\) \{$/, 'sort', /^(ConditionalExpression -> false|EqualityOperator -> n (<|>) 1 << 1[56])$/],
  [/^RangeList\.(order4|order6)$/, /^for \(let k = 0; k < n; k\+\+\) (keys|order)\[k\] = /, 'oob'],
  [/^RangeList\.order6$/, /^(for \(let a = 0; a < n; \) \{|while \(b < n && s\[order\[b\]! \* 4\] === top\) b\+\+|if \(b - a > 16\) order\.set\(Array\.from\(order\.subarray\(a, b\)\)\.sort\(cmp\), a\))$/, 'sort'],
  [/^RangeList\.order6$/, /^for \(let i = a \+ 1; i < b; i\+\+\) \{$/, 'work', /^ArithmeticOperator -> a - 1$/],
  [/^RangeList\.order6$/, /^while \(j >= a && cmp\(order\[j\]!, x\) > 0\) \{$/, 'sort', /^EqualityOperator -> cmp\(order\[j\]!, x\) >= 0$/],
  [/^joins6At$/, /^return carry === 0$/, 'unreachable'],
  // idx starts in list order and the sort is stable: a later index never goes before an earlier
  // one whether the tie says a - b or a + b (both positive then).
  [/^RangeList\.order4$/, /^idx\.sort\(\(a, b\) => this\.start4\[a\]! - this\.start4\[b\]! \|\| this\.prefix4\[a\]! - this\.prefix4\[b\]! \|\| a - b\)$/, 'sort', /^ArithmeticOperator -> a \+ b$/],
  [/^RangeSet\.constructor$/, /^if \(compare6\(le\[j\]!, le\[j \+ 1\]!, le\[j \+ 2\]!, le\[j \+ 3\]!, e6\[i\]!, e6\[i \+ 1\]!, e6\[i \+ 2\]!, e6\[i \+ 3\]!\) > 0\) \{$/, 'sort', /^EqualityOperator -> /],
  [/^RangeSet\.constructor$/, /^let lastEnd = -1$/, 'static'],
  [/^RangeSet\.constructor$/, /^if \(end > lastEnd\) e4\[n - 1\] = bias\(\(lastEnd = end\)\)$/, 'sort'],
  [/^RangeSet\.constructor$/, /^this\.e[46] = e[46]\.slice\(0, n( \* 4)?\)$/, 'work'],
  [/^RangeSet\.constructor$/, /^for \(let k = 0; k < o6\.length; k\+\+\) \{$/, 'oob'],
  [/^RangeSet\.constructor$/, /^for \(let w = 0; w < 4; w\+\+\) \{$/, 'work'],
  [/^RangeSet\.coversAllIPv4$/, /^return this\.s4\.length === 1 && this\.s4\[0\] === BOTTOM && this\.e4\[0\] === TOP$/, 'twice'],
  [/^RangeSet\.coversAllIPv6$/, /^if \(n < 1 \|\| n > 2 \|\| cmp6\(s, 0, BOTTOM, BOTTOM, BOTTOM, BOTTOM\) !== 0\) return false$/, 'twice', /^ConditionalExpression -> false$/],
  [/^RangeSet\.(has4|has6)$/, /^if \(n <= LINEAR_MAX\) \{$/, 'search'],
  [/^search4$/, /^let hi = s\.length - 1$/, 'oob'],
  [/^RangeSet\.(has4|has6)$/, /^(let hi = n - 1|for \(let k = 0; k < n; k\+\+\)( if \(b >= s\[k\]! && b <= e\[k\]!\) return true| \{))$/, 'oob'],
  [/^RangeSet\.has6$/, /^if \(zone !== ''\) \{$/, 'work'],
  [/^inCidr6$/, /^for \(let k = 0; k < 4; k\+\+\) \{$/, 'oob'],
  [/^cidrBig$/, /^if \(c\.family === 4\) v = BigInt\(c\.v4 >>> 0\)$/, 'unreachable'],
// walk.ts: the walk and its state.
  [/^Walk$/, /^(clientHop = 0|peerTrusted = false|hasEntries = false|malformed = false|malformedPeer = false|short = false|trustFunctionError = false|trustedClient = false|edgeHop = -1|edgeTrusted = false|peerLocal = false)$/, 'static'],
  // The socket address's fast paths (plain IPv4, mapped IPv4, plain IPv6) each give up to the
  // next and, last, to parseItem, which reads every one of them the same way.
  [/^parsePeer$/, /^(readWholeIPv4\(out, remote, 0\) \|\||parseMappedIPv4\(out, remote\) \|\|)$/, 'fast', /^(ConditionalExpression -> false|LogicalOperator -> )/],
  [/^parsePeer$/, /^(readIPv4Item\(out, remote, end\) === -1 \|\||readIPv6Item\(out, remote, end\) === -1 \|\|)$/, 'fast', /^(ConditionalExpression -> false|LogicalOperator -> (\(readIPv4Item\(out, remote, end\) === -1 \|\| parseMap|readIPv4Item\(out, remote, end\) === -1 && parseMapp))/],
  [/^walk$/, /^const peer = verifiedIsAddress && \(chain !== null \|\| !w\.peerTrusted \|\| !hasEntries\) \? formatParsed\(hop\) : undefined$/, 'work'],
  [/^walk$/, /^else if \(chain !== null && policy\.kind === KIND_RANGES\) w\.trustedClient = inRanges\(policy, hop\)$/, 'work'],
  [/^splitPolicy$/, /^(const branded = typeof policy === 'object' && policy !== null \? policy\[POLICY\] : undefined|if \(branded !== undefined && typeof branded\.kind === 'number'\) return branded)$/, 'fast', /^(ConditionalExpression -> false|StringLiteral -> "")$/],
  [/^splitPolicy$/, /^if \(internals !== undefined\) return internals$/, 'unreachable'],
  [/^resolveClientIp$/, /^const fn = internals === undefined \? \(policy as TrustFunction\) : undefined$/, 'work'],
  [/^resolveClientIp$/, /^const reader = options === undefined \|\| options\.header === undefined \? xForwardedForReader : addressReader\(options\.header\)$/, 'fast'],
  // resolve.ts: the detailed result.
  // record-steps.ts: the right-most X-Forwarded-Proto and X-Forwarded-Host item.
  [/^afterLastComma$/, /^let i = s\.length - 1$/, 'oob'],
  [/^trimmed$/, /^const last = s\.charCodeAt\(s\.length - 1\)$/, 'fast'],
  [/^trimmed$/, /^if \(first > 32 && first < 127 && last > 32 && last < 127\) return from === 0 \? s : s\.slice\(from\)$/, 'fast', /^ConditionalExpression -> false$/],
  // DEL (127) is no white space: trim() keeps it too.
  [/^trimmed$/, /^if \(first > 32 && first < 127 && last > 32 && last < 127\) return from === 0 \? s : s\.slice\(from\)$/, 'same', /^EqualityOperator -> (first|last) <= 127$/],
  [/^normalizeProto$/, /^if \(value === 'https' \|\| value === 'http'\) return value$/, 'fast'],
  [/^readEdgeHeader$/, /^const fromEdge = w\.edgeHop >= 0 \|\| \(!w\.malformed && info\.trustedHops > 0 && edge\.trust\(info\.chain\[info\.trustedHops\], 0\)\)$/, 'twice'],
  [/^resolveClient$/, /^const hop0 = pc === undefined \? undefined : proxyHopZero\(pc, req\?\.remoteAddress\)$/, 'unreachable'],
  [/^resolveClient$/, /^const internals = walkedPolicy === policy \? ownInternals : splitPolicy\(walkedPolicy\)$/, 'fast'],
  [/^resolveClient$/, /^const fn = internals === undefined \? \(walkedPolicy as TrustFunction\) : undefined$/, 'work'],
  [/^resolveClient$/, /^if \(hop0\?\.used === true && \(\(pc!\.header\?\.tlv\?\.ssl\?\.client \?\? 0\) & 1\) === 1\) (info\.)?protocol = 'https'$/, 'unreachable', /^OptionalChaining -> /],
  // Whether the peer is local is read under a hop count without the PROXY protocol only.
  [/^resolveClient$/, /^w\.local = kind === KIND_HOPS && pc === undefined \? localRanges\(\) : null$/, 'work', /^(ConditionalExpression -> true|LogicalOperator -> kind === KIND_HOPS \|\| pc === undefined)$/],
  // X-Forwarded-For loaded at its call site, or by the general read: the same value.
  [/^resolveClient$/, /^walked === 'x-forwarded-for' \? loadedHeader\(headers, web, walked, plain\?\.\['x-forwarded-for'\]\) : readHeader\(headers, web, walked\)$/, 'fast', /^(ConditionalExpression -> false|StringLiteral -> "")$/],
  [/^isLocalPeer$/, /^localRanges \?\?= parseTrustProxy\('private'\)$/, 'cached'],

]

/** The function (or module-level const, class, `Class.method` or `object.method`) that line `line` (1-based) is in. */
function enclosing(lines, line) {
  let method
  for (let k = line - 1; k >= 0; k--) {
    const l = lines[k]
    const top =
      /^(?:export )?(?:async )?function\s*\*?\s*(\w+)/.exec(l) ??
      /^(?:export )?(?:const|let|var) (\w+)\b/.exec(l) ??
      /^(?:export )?(?:abstract )?class (\w+)/.exec(l)
    // A method of a class, or of an object literal bound to a const (a header reader's `read`).
    if (top) return method !== undefined && (/class /.test(l) || /=\s*\{\s*$/.test(l)) ? `${top[1]}.${method}` : top[1]
    if (method === undefined) {
      const m = /^  (?:(?:public|private|static|get|set|readonly) )*(\w+)\s*\(/.exec(l)
      if (m && !/^(if|for|while|switch|catch|return|function)$/.test(m[1])) method = m[1]
    }
  }
  return '(module)'
}

function groupOf(fn, code, change) {
  for (const [f, re, g, only] of RULES) if (f.test(fn) && re.test(code) && (only === undefined || only.test(change))) return g
  return undefined
}

const rows = []
const open = []
const total = { detected: 0, undetected: 0, ignored: 0, errors: 0 }
for (const [name, f] of Object.entries(report.files).sort()) {
  const lines = f.source.split('\n')
  const c = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, ignored: 0, other: 0 }
  for (const m of f.mutants) {
    if (m.status === 'Killed') c.killed++
    else if (m.status === 'Timeout') c.timeout++
    else if (m.status === 'Survived') c.survived++
    else if (m.status === 'NoCoverage') c.noCoverage++
    else if (m.status === 'Ignored') c.ignored++
    else c.other++
    if (UNDETECTED.has(m.status)) {
      const line = m.location.start.line
      const code = (lines[line - 1] ?? '').trim()
      const fn = enclosing(lines, line)
      const end = m.location.end.line === line ? '' : m.location.end.line + ':'
      open.push({ group: groupOf(fn, code, `${m.mutatorName} -> ${m.replacement}`), file: name, fn, line, col: `${m.location.start.column}-${end}${m.location.end.column}`, mutator: m.mutatorName, replacement: m.replacement, status: m.status, code })
    }
  }
  const detected = c.killed + c.timeout
  const undetected = c.survived + c.noCoverage
  total.detected += detected
  total.undetected += undetected
  total.ignored += c.ignored
  total.errors += c.other
  const score = detected + undetected === 0 ? 100 : (100 * detected) / (detected + undetected)
  rows.push(`| \`${name}\` | ${score.toFixed(2)} | ${c.killed} | ${c.timeout} | ${c.survived} | ${c.noCoverage} | ${c.ignored} | ${c.other} |`)
}
const all = (100 * total.detected) / (total.detected + total.undetected)
console.log('| File | Score % | Killed | Timeout | Survived | No coverage | Ignored (static) | Errors |')
console.log('|---|---|---|---|---|---|---|---|')
for (const r of rows) console.log(r)
console.log(`| **all core files** | **${all.toFixed(2)}** | | | ${total.undetected} undetected | | ${total.ignored} | ${total.errors} |`)
const equivalent = open.filter((m) => m.group !== undefined).length
const owed = total.undetected - equivalent
console.log('')
console.log(`Undetected: ${total.undetected}, of which ${equivalent} are in a group of equivalent mutants below and ${owed} are not analysed.`)
console.log(`Counting the equivalent ones out, the score is ${((100 * total.detected) / (total.detected + owed)).toFixed(2)}%.`)
console.log('')
const byGroup = new Map()
for (const m of open) {
  const g = m.group ?? 'open'
  if (!byGroup.has(g)) byGroup.set(g, [])
  byGroup.get(g).push(m)
}
for (const [g, list] of [...byGroup].sort((a, b) => (a[0] === 'open' ? 1 : b[0] === 'open' ? -1 : b[1].length - a[1].length))) {
  console.log(`#### ${g === 'open' ? 'Not analysed: a killing test or a reason is still owed' : GROUPS[g]} (${list.length})`)
  console.log('')
  for (const m of list) {
    const code = m.code.length > 100 ? m.code.slice(0, 97) + '...' : m.code
    const rep = String(m.replacement).replace(/\n/g, ' ').replace(/`/g, "'").slice(0, 50)
    console.log(`- \`${m.file}:${m.line}:${m.col}\` \`${m.fn}\` ${m.mutator}${m.status === 'NoCoverage' ? ' (no coverage)' : ''} -> \`${rep}\` in \`${code.replace(/`/g, "'")}\``)
  }
  console.log('')
}
