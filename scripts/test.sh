#!/usr/bin/env bash
# Runs the whole suite with Node's test runner on the compiled tests.
# One file at a time: media and X tests share two cores and must not starve each other.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
exec node --test --test-concurrency=1 --test-reporter=spec "$@" "${files[@]}"
