/**
 * A very small template language for the proxy configs, so that the configs the tests run and
 * the configs the README shows are one file each and cannot drift apart.
 *
 * - `{{name}}` is replaced by a string value.
 * - `{{#flag}}...{{/flag}}` is kept when the flag is true, `{{^flag}}...{{/flag}}` when false.
 *   A section tag alone on its line takes its line with it, so sections do not leave blank lines.
 *
 * Every name used in a template must be given: a typo in a template must fail the test run
 * rather than render an empty directive that a proxy may silently accept.
 */
export type TemplateValues = Record<string, string | boolean>

const SECTION = /^[ \t]*\{\{([#^])([a-z_][a-z0-9_]*)\}\}[ \t]*\n|\{\{([#^])([a-z_][a-z0-9_]*)\}\}/m

export function renderTemplate(template: string, values: TemplateValues, name = 'template'): string {
  return substitute(expandSections(template, values, name), values, name)
}

function expandSections(text: string, values: TemplateValues, name: string): string {
  let out = ''
  let rest = text
  for (;;) {
    const open = SECTION.exec(rest)
    if (open === null) return out + rest
    const standalone = open[1] !== undefined
    const kind = (open[1] ?? open[3]) as '#' | '^'
    const flag = (open[2] ?? open[4])!
    const value = values[flag]
    if (typeof value !== 'boolean') throw new Error(`${name}: section {{${kind}${flag}}} needs a boolean value`)
    out += rest.slice(0, open.index)
    const bodyStart = open.index + open[0].length
    const close = findClose(rest, bodyStart, flag)
    if (close === null) throw new Error(`${name}: {{${kind}${flag}}} is never closed`)
    const body = rest.slice(bodyStart, close.start)
    const keep = kind === '#' ? value : !value
    if (keep) out += expandSections(body, values, name)
    // A standalone opening tag pairs with a standalone closing tag: drop the closing line too.
    rest = rest.slice(standalone && close.standaloneEnd !== null ? close.standaloneEnd : close.end)
  }
}

function findClose(
  text: string,
  from: number,
  flag: string,
): { start: number; end: number; standaloneEnd: number | null } | null {
  const tag = `{{/${flag}}}`
  const at = text.indexOf(tag, from)
  if (at < 0) return null
  const lineStart = text.lastIndexOf('\n', at - 1) + 1
  const before = text.slice(lineStart, at)
  let after = at + tag.length
  while (after < text.length && (text[after] === ' ' || text[after] === '\t')) after++
  const alone = /^[ \t]*$/.test(before) && (after === text.length || text[after] === '\n')
  return {
    start: alone ? lineStart : at,
    end: at + tag.length,
    standaloneEnd: alone ? Math.min(after + 1, text.length) : null,
  }
}

function substitute(text: string, values: TemplateValues, name: string): string {
  return text.replace(/\{\{([a-z_][a-z0-9_]*)\}\}/g, (_, key: string) => {
    const value = values[key]
    if (typeof value !== 'string') throw new Error(`${name}: {{${key}}} needs a string value`)
    return value
  })
}
