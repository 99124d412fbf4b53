/**
 * docs/runtimes.md and docs/frameworks.md show programs that the tests run: each code block
 * after `<!-- example: path -->` must be that file, byte for byte (the convention of every docs
 * page; the programs themselves are run by test/runtimes.test.ts, test/adapters-*.test.ts and
 * test/nestjs/).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from './support/runtimes.js'

const MARKER = /<!-- example: (\S+) -->\n```[a-z]*\n([\s\S]*?)```\n/g

for (const page of ['docs/runtimes.md', 'docs/frameworks.md']) {
  describe(page, () => {
    const text = readFileSync(join(ROOT, page), 'utf8')
    const blocks = [...text.matchAll(MARKER)]
    it('shows its programs as example files', () => {
      expect(blocks.length).toBe(page.includes('runtimes') ? 3 : 4)
      // Every fenced block that is a program carries the marker.
      expect(text.split('```').length - 1).toBe(blocks.length * 2)
    })
    for (const [, path, body] of blocks) {
      it(`the block of ${path} is the file`, () => {
        expect(body).toBe(readFileSync(join(ROOT, path!), 'utf8'))
      })
    }
  })
}
