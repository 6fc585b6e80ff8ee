#!/usr/bin/env bash
# The README's test command: sets the machine up, then runs every check and test:
# generated-code check, typecheck, lint, unit/kernel/integration tests (vitest).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh
npm run check-generated --workspaces --if-present
npx turbo run typecheck --output-logs=errors-only
npx eslint .
npx vitest run "$@"
