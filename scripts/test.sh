#!/usr/bin/env bash
# `npm test`: the project's tests — unit tests of the pure helpers, then the suites against a real
# ephemeral 3-node k3s (host bootstrap and image build first; both are no-ops when done).
# Writes reports/vitest.json and reports/vitest-junit.xml (every test), and the conformance
# verdict (reports/junit.xml, verdict.json, summary.md) of the AC suites.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p reports
bash scripts/host-bootstrap.sh
bash images/build.sh
exec npx vitest run --reporter=default --reporter=./suites/setup/verdict-reporter.ts \
  --reporter=json --outputFile.json=reports/vitest.json \
  --reporter=junit --outputFile.junit=reports/vitest-junit.xml "$@"
