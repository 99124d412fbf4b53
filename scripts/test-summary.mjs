// Prints vitest's JSON results as one plain closing line, "N passed, N failed, N skipped",
// so that a CI reader that does not know vitest still sees what ran.
import { existsSync, readFileSync } from 'node:fs'

const file = process.argv[2] ?? 'test-results.json'
if (!existsSync(file)) {
  console.log('0 passed, 1 failed')
  process.exit(1)
}
const r = JSON.parse(readFileSync(file, 'utf8'))
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0)
console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`)
