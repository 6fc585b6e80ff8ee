#!/usr/bin/env bash
# The README's test command: sets the machine up, then runs every check and test:
# generated-code check, typecheck, lint, unit/kernel/integration tests (vitest).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh
npm run check-generated
npx turbo run typecheck --output-logs=errors-only
npx eslint .
if [[ $# -gt 0 ]]; then
  exec npx vitest run "$@"
fi
# Library and unit tests in parallel; then the suites that start nats-server clusters or build
# network namespaces one file at a time, so that their fault tests (e.g. "not quorate within
# 2 s") do not compete for the machine's two cores.
INTEGRATION=(services packages/lab packages/nft-netlink scripts/demo integration-tests)
npx vitest run --exclude 'services/**' --exclude 'packages/lab/**' --exclude 'packages/nft-netlink/**' --exclude 'integration-tests/**' --exclude 'scripts/demo/**'
npx vitest run --no-file-parallelism "${INTEGRATION[@]}"
