/**
 * The exact text of every TRUST_PROXY error and warning. The message is what an operator reads
 * when the server refuses to start: each is pinned here, one row per place that writes one, so
 * that a change to the wording is a decision (and so that mutation testing sees each message
 * checked; docs/mutation-testing.md).
 */
import { describe, expect, it } from 'vitest'
import { TrustProxyError, parseTrustProxy } from '../src/index.js'

const ACCEPTED =
  '. Accepted: unset, false, 0, off or no (trust no proxy); true, on or yes (trust every hop); ' +
  'a hop count from 1 to 64; or a list, separated by commas or spaces, of IP addresses ' +
  '(10.0.0.1, ::1), CIDR ranges (10.0.0.0/8, fd00::/8), IPv4 netmasks (10.0.0.0/255.0.0.0), ' +
  'the names loopback, linklocal, uniquelocal, private and unix, and the provider presets ' +
  'cloudflare, cloudfront, fastly, google-lb.'

const errors: [string, unknown, string][] = [
  ["a function", () => true, "Invalid TRUST_PROXY entry \"function\" at position 0: a trust function is not a TRUST_PROXY setting: pass it as it is to resolveClientIp(fn, ...) or resolveClient(fn, ...), which call it with canonical addresses (Express and Fastify take it directly too); parseTrustProxy reads the values a deployment writes"],
  ["an object", {}, "Invalid TRUST_PROXY entry \"[object Object]\" at position 0: a value of type object is not a TRUST_PROXY setting"],
  ["a negative number", -1, "Invalid TRUST_PROXY entry \"-1\" at position 0: a hop count is a whole number from 1 to 64"],
  ["a number above 64", 100, "Invalid TRUST_PROXY entry \"100\" at position 0: a hop count above 64 is not a real proxy chain"],
  ["a hop count with a leading zero", "01", "Invalid TRUST_PROXY entry \"01\" at position 0: a hop count has no leading zeros"],
  ["a hop count above 64", "65", "Invalid TRUST_PROXY entry \"65\" at position 0: a hop count above 64 is not a real proxy chain (and a bare number is not an IPv4 address: write it in dotted form)"],
  ["a fraction", "1.5", "Invalid TRUST_PROXY entry \"1.5\" at position 0: a hop count is a whole number from 1 to 64, with no sign, fraction or exponent"],
  ["a leading comma", ",1.1.1.1", "Invalid TRUST_PROXY entry \"\" at position 0: the list has an empty item (a comma with no entry before it)"],
  ["a trailing comma", "1.1.1.1,", "Invalid TRUST_PROXY entry \"\" at position 7: the list ends with a comma"],
  ["a no-break space", " ", "Invalid TRUST_PROXY entry \" \" at position 0: it holds U+00A0, white space that is not a space, tab or line break (pasted from a web page, or a byte-order mark?); TRUST_PROXY trims and separates on ASCII white space only: retype it"],
  ["an array element that is not a string", [1], "Invalid TRUST_PROXY entry \"[object Number]\" at position 0: every element of a TRUST_PROXY array must be a string"],
  ["an empty array element", [" "], "Invalid TRUST_PROXY entry \" \" at position 0: the list has an empty item"],
  ["an array element holding a list", ["a b"], "Invalid TRUST_PROXY entry \"a b\" at position 0: an array element holds one entry; split lists into separate elements"],
  ["a hop count in a list", "1 10.0.0.1", "Invalid TRUST_PROXY entry \"1\" at position 0: a bare number in a list is neither an address (write IPv4 in dotted form) nor allowed as a hop count (a hop count stands alone)"],
  ["a keyword in a list", "true 10.0.0.1", "Invalid TRUST_PROXY entry \"true\" at position 0: \"true\" is a whole-value keyword and cannot be combined with other entries"],
  ["an address with a port", "1.2.3.4:80", "Invalid TRUST_PROXY entry \"1.2.3.4:80\" at position 0: a trusted entry is an address or range, without brackets or a port"],
  ["a zone on a mapped address", "::ffff:1.2.3.4%eth0", "Invalid TRUST_PROXY entry \"::ffff:1.2.3.4%eth0\" at position 0: a zone (%name) is only meaningful on a link-local address (fe80::/10), not on an IPv4-mapped one"],
  ["a zone with a quote", "fe80::1%\"", "Invalid TRUST_PROXY entry \"fe80::1%\\\"\" at position 0: a zone is an interface name or number made of letters, digits and . _ ~ -"],
  ["not an IPv6 address", "1:::2", "Invalid TRUST_PROXY entry \"1:::2\" at position 0: not an IPv6 address"],
  ["a zone on loopback", "::1%lo", "Invalid TRUST_PROXY entry \"::1%lo\" at position 0: a zone (%name) is only meaningful on a link-local address (fe80::/10)"],
  ["a zone on IPv4", "1.2.3.4%eth0", "Invalid TRUST_PROXY entry \"1.2.3.4%eth0\" at position 0: a zone (%name) is only meaningful on a link-local IPv6 address"],
  ["a prefix with a leading zero", "10.0.0.0/08", "Invalid TRUST_PROXY entry \"10.0.0.0/08\" at position 0: a prefix length has no leading zeros"],
  ["an IPv4 prefix above 32", "10.0.0.0/33", "Invalid TRUST_PROXY entry \"10.0.0.0/33\" at position 0: a prefix length is 0-32 for IPv4"],
  ["an IPv6 prefix above 128", "::/129", "Invalid TRUST_PROXY entry \"::/129\" at position 0: a prefix length is 0-128 for IPv6"],
  ["a netmask on IPv6", "::/255.0.0.0", "Invalid TRUST_PROXY entry \"::/255.0.0.0\" at position 0: netmasks are accepted for IPv4 only; write IPv6 ranges with a prefix length"],
  ["a netmask that is no address", "10.0.0.0/255.0.0", "Invalid TRUST_PROXY entry \"10.0.0.0/255.0.0\" at position 0: the netmask is not a dotted IPv4 mask"],
  ["a non-contiguous netmask", "10.0.0.0/255.0.255.0", "Invalid TRUST_PROXY entry \"10.0.0.0/255.0.255.0\" at position 0: the netmask is not contiguous (its one bits must come first)"],
  ["a word after the slash", "10.0.0.0/x", "Invalid TRUST_PROXY entry \"10.0.0.0/x\" at position 0: the part after \"/\" is neither a prefix length nor a netmask"],
  ["a mapped address with a short prefix", "::ffff:10.1.2.3/8", "Invalid TRUST_PROXY entry \"::ffff:10.1.2.3/8\" at position 0: an IPv4-mapped address with a prefix below 96 is ambiguous (as IPv6 it would be ::/8, which covers no IPv4 address): write 10.0.0.0/8 for the IPv4 range, or ::ffff:10.0.0.0/104 for the same range in mapped form"],
  ["a mapped address with a prefix of 40", "::ffff:10.0.0.0/40", "Invalid TRUST_PROXY entry \"::ffff:10.0.0.0/40\" at position 0: an IPv4-mapped address with a prefix below 96 is ambiguous (as IPv6 it would be ::/40, which covers no IPv4 address): write the IPv4 range with a prefix of 0-32, or the mapped form with a prefix of 96-128"],
  ["a zoned range wider than fe80::/10", "fe80::%eth0/8", "Invalid TRUST_PROXY entry \"fe80::%eth0/8\" at position 0: a zoned range must lie inside fe80::/10"],
  ["the unspecified address", "0.0.0.0", "Invalid TRUST_PROXY entry \"0.0.0.0\" at position 0: the unspecified address never connects to anything; for all addresses write 0.0.0.0/0 or ::/0"],
  ["hex", "0x1.0.0.1", "Invalid TRUST_PROXY entry \"0x1.0.0.1\" at position 0: hexadecimal octets are not accepted (different tools read them differently)"],
  ["shorthand", "127.1", "Invalid TRUST_PROXY entry \"127.1\" at position 0: IPv4 shorthand (inet_aton form, such as 127.1 or a bare number) is not accepted; write all four octets"],
  ["a leading zero", "010.0.0.1", "Invalid TRUST_PROXY entry \"010.0.0.1\" at position 0: an octet with a leading zero is octal to some parsers (010 = 8); write it without the zero"],
  ["an octet above 255", "256.0.0.1", "Invalid TRUST_PROXY entry \"256.0.0.1\" at position 0: an IPv4 octet is 0-255"],
  ["an unknown word", "nginx", "Invalid TRUST_PROXY entry \"nginx\" at position 0: not a keyword, a range name or an address (the names are loopback, linklocal, uniquelocal, private, unix, cloudflare, cloudfront, fastly, google-lb)"],
  ["five octets", "1.2.3.4.5", "Invalid TRUST_PROXY entry \"1.2.3.4.5\" at position 0: not an IPv4 or IPv6 address"],
]

const warnings: [string, string, string[]][] = [
  ["true", "true", ["Every hop is trusted: the client IP is the left-most X-Forwarded-For entry, which any client can write. Name your proxies instead (a hop count, or their addresses or ranges)."]],
  ["a hop count", "2", ["A hop count (2) trusts whoever connects, without checking who it is: if this server can be reached without going through the proxy, any client can forge its IP. Prefer the proxy addresses or ranges (for example 127.0.0.9 for nginx on this host with `proxy_bind 127.0.0.9`, or 172.18.0.0/16 for a Docker network)."]],
  ["IPv4 in halves", "0.0.0.0/1 128.0.0.0/1", ["The list trusts every IPv4 address (as 0.0.0.0/0 does): any client can then forge its IP. Name your proxies instead."]],
  ["IPv6 in halves", "::/1 8000::/1", ["The list trusts every IPv6 address (as ::/0 does): any client can then forge its IP. Name your proxies instead."]],
  ["host bits", "10.0.0.1/8", ["\"10.0.0.1/8\" has host bits set; it is read as 10.0.0.0/8"]],
  ["a duplicate", "10.0.0.0/8 10.0.0.0/8", ["\"10.0.0.0/8\" repeats \"10.0.0.0/8\""]],
  ["a nested entry", "10.0.0.0/8 10.1.0.0/16", ["\"10.1.0.0/16\" is already covered by \"10.0.0.0/8\""]],
]

describe('TRUST_PROXY messages', () => {
  it.each(errors)('error for %s', (_name, value, message) => {
    let error: unknown
    try {
      parseTrustProxy(value as never)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(TrustProxyError)
    expect((error as Error).message).toBe(message + ACCEPTED)
  })

  it.each(warnings)('warnings for %s', (_name, value, messages) => {
    expect(parseTrustProxy(value).warnings.map((w) => w.message)).toEqual(messages)
  })
})
