#!/usr/bin/env bash
# Runs the whole suite with Node's test runner on the compiled tests.
# One file at a time: media and X tests share two cores and must not starve each other.
# Only compiled tests whose source still exists: tsc never deletes the output of a moved or removed test.
set -euo pipefail
cd "$(dirname "$0")/.."
files=()
while IFS= read -r compiled; do
  source="${compiled#dist/}"
  [[ -f "${source%.js}.ts" ]] && files+=("$compiled")
done < <(find dist/test -name '*.test.js' | sort)
# A test that hangs fails after 10 minutes instead of holding the run until CI gives up on it.
exec node --test --test-concurrency=1 --test-timeout=600000 --test-reporter=spec "$@" "${files[@]}"
