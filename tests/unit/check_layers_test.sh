#!/usr/bin/env bash
# tools/check-layers must fail on a copy of the tree with a forbidden include:
# a lower folder including a higher one, two peers including each other, and
# host/ including a Lua header. Each case alone, on a fresh copy.
set -euo pipefail
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fails_with() {  # FILE LINE EXPECTED
  rm -rf "$work/tree" && mkdir -p "$work/tree"
  cp -r "$src/host" "$src/bindings" "$src/cli" "$work/tree/"
  echo "$2" >>"$work/tree/$1"
  local out status=0
  out=$("$src/tools/check-layers" "$work/tree" 2>&1) || status=$?
  if [ "$status" -ne 1 ] || ! grep -qF "$3" <<<"$out"; then
    echo "FAIL: adding '$2' to $1: exit $status, expected 1 and '$3' in:"
    echo "$out"
    exit 1
  fi
  echo "ok: '$2' in $1 is refused"
}

fails_with host/cdp/connection.cpp '#include "campaign/runner.hpp"' \
  "host/cdp (rank 1) includes campaign/runner.hpp of host/campaign"
fails_with host/chrome/chrome_process.cpp '#include "cdp/transport.hpp"' \
  "host/chrome (rank 1) includes cdp/transport.hpp of host/cdp"
fails_with host/core/timer.cpp '#include <lua.hpp>' "host/ includes the Lua header lua.hpp"
fails_with host/browser/page.cpp '#include "vm/runtime.hpp"' "includes vm/runtime.hpp of bindings/vm"
fails_with bindings/vm/sandbox.cpp '#include "api/handles.hpp"' "bindings/vm (rank 5) includes"
fails_with bindings/api/page.cpp '#include "console.hpp"' "includes console.hpp of cli"
"$src/tools/check-layers" "$src" >/dev/null
echo "ok: the tree itself passes"
