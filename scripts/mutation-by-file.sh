#!/usr/bin/env bash
# Runs Stryker over the core one group of files at a time, each with its own report under
# reports/mutation/, so that on a busy machine every group that finishes has complete per-file
# scores. `npm run mutation` runs all files in one go. Summarise the reports with
# `node scripts/mutation-summary.mjs reports/mutation/*.report.json`. Groups may be given as
# arguments (`scripts/mutation-by-file.sh src/ip.ts src/host.ts,src/ranges.ts`); other
# arguments (those that name no .ts file) are passed to Stryker: `--concurrency 1` on a machine
# shared with others.
# Each group keeps its own incremental file (reports/mutation/<group>.incremental.json), so a
# rerun after new tests re-tests only the mutants whose code or covering tests changed.
set -u
cd "$(dirname "$0")/.."
mkdir -p reports/mutation
groups=()
options=()
for arg in "$@"; do
  case "$arg" in
    *.ts*) groups+=("$arg") ;;
    *) options+=("$arg") ;;
  esac
done
# The default groups: the `mutate` list of stryker.config.json, by concern (the address, the
# header readers, host validation, the policy, the ranges, the walk and its record).
[ ${#groups[@]} -eq 0 ] && groups=(
  "src/ip.ts,src/ip-address.ts,src/ip-v4.ts,src/ip-v6.ts,src/ip-text.ts,src/ip-backward.ts"
  "src/headers.ts,src/readers/reader.ts,src/readers/x-forwarded-for.ts,src/readers/forwarded.ts,src/readers/forwarded-element.ts,src/readers/forwarded-back.ts,src/readers/single.ts"
  "src/host.ts"
  "src/policy.ts,src/policy-text.ts,src/policy-parse.ts,src/policy-entries.ts,src/policy-error.ts,src/policy-warnings.ts"
  "src/range-math.ts,src/range-list.ts,src/ranges.ts,src/cidr.ts,src/named-ranges.ts"
  "src/walk.ts,src/resolve.ts,src/record-steps.ts,src/audit.ts"
)
# A file of the mutate list that no group holds is left out of the run: say so.
node -e '
  const c = JSON.parse(require("fs").readFileSync("stryker.config.json", "utf8"))
  const held = new Set(process.argv.slice(1).flatMap((g) => g.split(",")))
  const missing = c.mutate.filter((f) => !held.has(f))
  if (missing.length > 0) console.error(`mutation-by-file: not in any group, not run: ${missing.join(" ")}`)
' "${groups[@]}"
for group in "${groups[@]}"; do
  name=$(echo "$group" | sed 's#src/##g; s#\.ts##g; s#/#-#g; s#,#+#g')
  node -e '
    const c = JSON.parse(require("fs").readFileSync("stryker.config.json", "utf8"))
    const [group, name] = process.argv.slice(1)
    Object.assign(c, { mutate: group.split(","), incrementalFile: `reports/mutation/${name}.incremental.json`, reporters: ["json", "clear-text", "progress"] })
    c.jsonReporter = { fileName: `reports/mutation/${name}.report.json` }
    delete c.$schema
    require("fs").writeFileSync(`reports/mutation/${name}.config.json`, JSON.stringify(c, null, 2))
  ' "$group" "$name"
  npx stryker run "reports/mutation/$name.config.json" ${options[@]+"${options[@]}"} > "reports/mutation/$name.log" 2>&1
done
