#!/usr/bin/env bash
# Provision the real Codex CLI (npm's @openai/codex) for usertest's codex-agent tests.
# Idempotent: nothing to do when `codex --version` answers. Prints the path of the native
# binary (the npm package's @openai/codex-linux-*/vendor/<triple>/bin/codex) as its last line.
set -euo pipefail
if ! command -v codex >/dev/null 2>&1; then
  command -v npm >/dev/null || { echo "codex.sh: npm is missing (install nodejs/npm)" >&2; exit 1; }
  exec 9>/tmp/npm-codex.lock
  flock 9
  command -v codex >/dev/null 2>&1 || npm install -g --no-fund --no-audit @openai/codex >&2
fi
root="$(npm root -g)"
native="$(find "$root/@openai" -path '*/vendor/*/bin/codex' -type f 2>/dev/null | head -1 || true)"
[ -n "$native" ] || native="$(find "$root/@openai/codex" -path '*/vendor/*/bin/codex' -type f 2>/dev/null | head -1 || true)"
[ -n "$native" ] || { echo "codex.sh: no native codex binary under $root/@openai" >&2; exit 1; }
echo "$native"
