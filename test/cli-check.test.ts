/**
 * `trust-proxy check` through the real binary: every row of the TRUST_PROXY table (spec section
 * 1), every rejection the spec lists, exit codes, `--json`, help and colour.
 */
import { readFileSync, statSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { beforeAll, describe, expect, it } from 'vitest'
import { CLI, DIST_CLI, cleanEnv, ensureBuilt, hasBinary, runCliAsync } from './support/cli-run.js'

beforeAll(ensureBuilt)

interface CheckJson {
  valid: boolean
  input: string | null
  policy?: { kind: string; hops?: number; ranges?: string[]; warnings: { code: string; entry?: string; message: string }[]; value: string }
  meaning?: string
  error?: { code: string; reason: string; entry: string; position: number; message: string }
}

const runCli = runCliAsync

async function checkJson(value: string | undefined, env: Record<string, string | undefined> = {}): Promise<{ code: number | null; json: CheckJson }> {
  const args = value === undefined ? ['check', '--json'] : ['check', '--json', '--', value]
  const r = await runCli(args, env)
  return { code: r.code, json: JSON.parse(r.stdout) as CheckJson }
}

describe.concurrent('the built file', () => {
  it('starts with a node shebang, is executable, and runs as node dist/cli.js', async () => {
    // CLI is a byte-for-byte snapshot of dist/cli.js (see support/cli-run.ts).
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true)
    expect(statSync(DIST_CLI).mode & 0o111).not.toBe(0)
    const r = await runCli(['--version'])
    expect(r.code).toBe(0)
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
    expect(r.stdout.trim()).toBe(pkg.version)
  })

  it('runs through its shebang, as the package bin', async () => {
    const r = spawnSync(CLI, ['check', '1'], { env: cleanEnv(), encoding: 'utf8' })
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('1 hop')
  })
})

describe.concurrent('check: values that trust no proxy', () => {
  it.each(['', 'false', 'FALSE', '0', 'off', 'Off', 'no', '  no  '])('%j is policy none', async (v) => {
    const { code, json } = await checkJson(v)
    expect(code).toBe(0)
    expect(json.valid).toBe(true)
    expect(json.policy!.kind).toBe('none')
    expect(json.policy!.value).toBe('false')
    expect(json.policy!.warnings).toEqual([])
    expect(json.meaning).toMatch(/No proxy is trusted: the client is the socket peer/)
  })

  it('an unset TRUST_PROXY is policy none, and says it is unset', async () => {
    const r = await runCli(['check'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('TRUST_PROXY is unset')
    expect(r.stdout).toMatch(/policy:\s+none/)
    expect((await checkJson(undefined)).json).toMatchObject({ valid: true, input: null, policy: { kind: 'none' } })
  })

  it('reads TRUST_PROXY from the environment when no value is given', async () => {
    const r = await runCli(['check'], { TRUST_PROXY: '2' })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('(from the environment)')
    expect(r.stdout).toMatch(/policy:\s+hops/)
    expect((await checkJson(undefined, { TRUST_PROXY: 'loopback' })).json.policy).toMatchObject({ kind: 'ranges', ranges: ['loopback'] })
  })
})

describe.concurrent('check: trust every hop', () => {
  it.each(['true', 'TRUE', 'on', 'yes', ' Yes '])('%j is policy all, with the trust-all warning', async (v) => {
    const { code, json } = await checkJson(v)
    expect(code).toBe(0)
    expect(json.policy!.kind).toBe('all')
    expect(json.policy!.value).toBe('true')
    expect(json.policy!.warnings.map((w) => w.code)).toEqual(['trust-all'])
    expect(json.meaning).toMatch(/left-most X-Forwarded-For entry/)
  })

  it('prints the warning in words', async () => {
    const r = await runCli(['check', 'true'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/warning \[trust-all\]: .*any client/)
  })
})

describe.concurrent('check: hop counts', () => {
  it('1 is one hop: the socket peer is the proxy, the client the right-most entry', async () => {
    const r = await runCli(['check', '1'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('1 hop: the socket peer is a proxy; the client is the right-most X-Forwarded-For entry.')
    expect(r.stdout).toMatch(/canonical: TRUST_PROXY=1\n/)
    expect(r.stdout).toMatch(/warning \[hop-count\]/)
    expect((await checkJson('1')).json.policy).toMatchObject({ kind: 'hops', hops: 1, value: '1' })
  })

  it.each([
    [2, /2 hops: the socket peer and the right-most X-Forwarded-For entry are proxies; the client is the 2nd/],
    [3, /3 hops: the socket peer and the 2 right-most X-Forwarded-For entries are proxies; the client is the 3rd/],
    [64, /64 hops: .* the client is the 64th/],
  ])('%d hops', async (n, words) => {
    const { code, json } = await checkJson(String(n))
    expect(code).toBe(0)
    expect(json.policy).toMatchObject({ kind: 'hops', hops: n, value: String(n) })
    expect(json.policy!.warnings.map((w) => w.code)).toEqual(['hop-count'])
    expect(json.meaning).toMatch(words)
  })
})

describe.concurrent('check: lists', () => {
  it.each([
    ['10.0.0.1', ['10.0.0.1']],
    ['10.0.0.0/8, 192.168.0.0/16', ['10.0.0.0/8', '192.168.0.0/16']],
    ['10.0.0.1 10.0.0.2', ['10.0.0.1', '10.0.0.2']],
    ['10.0.0.1,10.0.0.2 ,\t10.0.0.3', ['10.0.0.1', '10.0.0.2', '10.0.0.3']],
    ['::1', ['::1']],
    ['2001:DB8::/32', ['2001:db8::/32']],
    ['10.0.0.0/255.0.0.0', ['10.0.0.0/8']],
    ['::ffff:10.0.0.0/104', ['10.0.0.0/8']],
    ['::ffff:127.0.0.1', ['127.0.0.1']],
    ['fe80::1%eth0', ['fe80::1%eth0']],
    ['loopback', ['loopback']],
    ['LoopBack, linklocal', ['loopback', 'linklocal']],
    ['uniquelocal', ['uniquelocal']],
    ['private', ['private']],
    ['unix', ['unix']],
    ['unix, 127.0.0.1', ['unix', '127.0.0.1']],
  ])('%j is a range list %j', async (v, ranges) => {
    const { code, json } = await checkJson(v)
    expect(code).toBe(0)
    expect(json.policy!.kind).toBe('ranges')
    expect(json.policy!.ranges).toEqual(ranges)
    expect(json.policy!.value).toBe(ranges.join(', '))
    expect(json.meaning).toMatch(/^A hop is a proxy when its address is in: /)
  })

  it('names are spelled out in the meaning', async () => {
    const r = await runCli(['check', 'loopback, private'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('loopback (127.0.0.0/8, ::1)')
    expect(r.stdout).toContain('100.64.0.0/10')
    expect(r.stdout).toContain("canonical: TRUST_PROXY='loopback, private'")
  })

  it('the canonical form checks back to the same policy', async () => {
    for (const v of ['10.0.0.1/8', 'LOOPBACK 10.0.0.0/255.255.0.0', '::ffff:10.0.0.0/104, fe80::%eth0/64', 'On', ' 7 ']) {
      const first = (await checkJson(v)).json.policy!
      const again = (await checkJson(first.value)).json.policy!
      expect(again.kind).toBe(first.kind)
      expect(again.value).toBe(first.value)
    }
  })

  it.each([
    ['0.0.0.0/0', 'trust-all', undefined],
    ['::/0', 'trust-all', undefined],
    ['0.0.0.0/1, 128.0.0.0/1', 'trust-all', undefined],
    ['10.0.0.1/8', 'host-bits', '10.0.0.1/8'],
    ['10.0.0.1, 10.0.0.1', 'duplicate', '10.0.0.1'],
    ['10.0.0.0/8, 10.1.0.0/16', 'nested', '10.1.0.0/16'],
    ['loopback, 127.0.0.1', 'nested', '127.0.0.1'],
  ])('%j is accepted with a %s warning', async (v, code, entry) => {
    const r = await checkJson(v)
    expect(r.code).toBe(0)
    const w = r.json.policy!.warnings.find((x) => x.code === code)
    expect(w, JSON.stringify(r.json.policy!.warnings)).toBeDefined()
    if (entry !== undefined) expect(w!.entry).toBe(entry)
    const text = await runCli(['check', v])
    expect(text.stdout).toContain(`warning [${code}]`)
  })
})

describe.concurrent('check: rejections (exit 1, the message names the entry)', () => {
  it.each([
    // [value, the bad entry, words of the reason]
    ['127.1', '127.1', /shorthand/],
    ['010.0.0.1', '010.0.0.1', /leading zero|octal/],
    ['0x7f.0.0.1', '0x7f.0.0.1', /hexadecimal/],
    ['2130706433', '2130706433', /not an IPv4 address|hop count/],
    ['10.0.0.0/33', '10.0.0.0/33', /prefix/],
    ['::/129', '::/129', /prefix/],
    ['256.0.0.1', '256.0.0.1', /0-255/],
    ['10.0.0.0/255.0.255.0', '10.0.0.0/255.0.255.0', /contiguous/],
    ['-1', '-1', /hop count/],
    ['1.5', '1.5', /hop count/],
    ['+2', '+2', /hop count/],
    ['1e3', '1e3', /hop count/],
    ['65', '65', /above 64/],
    ['1, 10.0.0.1', '1', /hop count/],
    ['yes please', 'yes', /keyword/],
    ['nginx', 'nginx', /not a keyword/],
    ['10.0.0.1,,10.0.0.2', '', /empty/],
    ['10.0.0.1%eth0', '10.0.0.1%eth0', /zone/],
    ['2001:db8::1%eth0', '2001:db8::1%eth0', /link-local/],
    ['1.2.3.4:80', '1.2.3.4:80', /port/],
    ['0.0.0.0', '0.0.0.0', /unspecified/],
    // Issue 11: what check used to print as a canonical value that would stop the server.
    ['::/128', '::/128', /unspecified/],
    ['0.0.0.0/32', '0.0.0.0/32', /unspecified/],
    ['::ffff:10.0.0.0/8', '::ffff:10.0.0.0/8', /ambiguous.*10\.0\.0\.0\/8.*::ffff:10\.0\.0\.0\/104/],
    ['10.0.0.1,\u00a010.0.0.2', '\u00a010.0.0.2', /U\+00A0/],
  ])('%j', async (value, entry, words) => {
    const [text, { code, json }] = await Promise.all([runCli(['check', '--', value]), checkJson(value)])
    expect(text.code).toBe(1)
    expect(text.stdout).toBe('')
    expect(text.stderr).toMatch(/^invalid TRUST_PROXY=/)
    expect(text.stderr).toContain(`Invalid TRUST_PROXY entry ${JSON.stringify(entry)}`)
    expect(text.stderr).toMatch(words)
    expect(text.stderr).toContain('Accepted:')

    expect(code).toBe(1)
    expect(json.valid).toBe(false)
    expect(json.input).toBe(value)
    expect(json.error!.code).toBe('ERR_INVALID_TRUST_PROXY')
    expect(json.error!.entry).toBe(entry)
    expect(value.slice(json.error!.position)).toMatch(new RegExp('^' + entry.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
  })

  it('a negative hop count needs no "--"', async () => {
    const r = await runCli(['check', '-1'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('Invalid TRUST_PROXY entry "-1"')
  })

  it('points at the bad entry', async () => {
    const r = await runCli(['check', '10.0.0.1, 10.0.0.0/40'])
    expect(r.code).toBe(1)
    const lines = r.stderr.split('\n')
    const valueLine = lines.findIndex((l) => l === '  10.0.0.1, 10.0.0.0/40')
    expect(valueLine).toBeGreaterThan(-1)
    expect(lines[valueLine + 1]).toBe('  ' + ' '.repeat(10) + '^'.repeat('10.0.0.0/40'.length))
  })

  it('an invalid value in the environment is rejected the same way', async () => {
    const r = await runCli(['check'], { TRUST_PROXY: '127.1' })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('(from the environment)')
    expect(r.stderr).toContain('Invalid TRUST_PROXY entry "127.1"')
  })

  it('control characters in a value are not echoed raw to the terminal', async () => {
    const r = await runCli(['check', 'evil\u001b[2J'])
    expect(r.code).toBe(1)
    expect(r.stderr).not.toContain('\u001b[2J')
  })
})

describe.concurrent('check: usage', () => {
  it('--help prints the usage and exits 0', async () => {
    const r = await runCli(['check', '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Usage: trust-proxy check [VALUE]')
    expect(r.stdout).toContain('--json')
  })

  it.each([
    [['check', '--bogus']],
    [['check', 'a', 'b']],
    [['nope']],
    [[]],
    [['help', 'nope']],
  ])('%j is a usage error (exit 2)', async (args) => {
    const r = await runCli(args)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/Usage|--help/)
  })

  it('help for every subcommand, both ways', async () => {
    for (const cmd of ['check', 'resolve', 'serve']) {
      const a = await runCli([cmd, '--help'])
      const b = await runCli(['help', cmd])
      expect(a.code).toBe(0)
      expect(a.stdout).toContain(`Usage: trust-proxy ${cmd}`)
      expect(b.stdout).toBe(a.stdout)
    }
    const top = await runCli(['--help'])
    expect(top.code).toBe(0)
    expect(top.stdout).toMatch(/serve[\s\S]*check[\s\S]*resolve/)
  })
})

describe.concurrent('colour', () => {
  const ESC = '\u001b['
  it('is off when stdout is not a TTY', async () => {
    expect((await runCli(['check', 'true'])).stdout).not.toContain(ESC)
    expect((await runCli(['check', '127.1'])).stderr).not.toContain(ESC)
  })

  it('is on when stdout is a TTY, unless NO_COLOR is set', async ({ skip }) => {
    // util-linux `script` runs the command on a pseudo-terminal.
    if (!hasBinary('/usr/bin/script')) skip('needs script(1) from util-linux to provide a TTY')
    const tty = (env: Record<string, string | undefined>) =>
      spawnSync('/usr/bin/script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} check true`, '/dev/null'], {
        env: cleanEnv(env),
        encoding: 'utf8',
      })
    const on = tty({})
    expect(on.status).toBe(0)
    expect(on.stdout).toContain('valid')
    expect(on.stdout).toContain(ESC)
    const off = tty({ NO_COLOR: '1' })
    expect(off.stdout).toContain('valid')
    expect(off.stdout).not.toContain(ESC)
  })

  it('FORCE_COLOR turns it on, NO_COLOR wins over it', async () => {
    expect((await runCli(['check', 'true'], { FORCE_COLOR: '1' })).stdout).toContain(ESC)
    expect((await runCli(['check', 'true'], { FORCE_COLOR: '1', NO_COLOR: '1' })).stdout).not.toContain(ESC)
  })

  it('--json never has colour', async () => {
    const r = await runCli(['check', '--json', 'true'], { FORCE_COLOR: '1' })
    expect(r.stdout).not.toContain(ESC)
    expect(() => JSON.parse(r.stdout)).not.toThrow()
  })
})
