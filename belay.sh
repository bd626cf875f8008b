#!/usr/bin/env bash
# One entry point for a new user: each command installs what is missing,
# builds, and then does its job.
#   ./belay.sh demo     run the bundled demo campaign in headless Chromium
#   ./belay.sh test     run every test (unit, integration, chaos; fuzz smoke)
#   ./belay.sh build    build only (preset: default, or BELAY_PRESET=asan|release)
#   ./belay.sh setup    install the Debian packages only
set -euo pipefail
cd "$(dirname "$0")"

preset=${BELAY_PRESET:-default}
jobs=${BELAY_JOBS:-$(nproc)}

setup() { tools/setup-deps.sh; }

build() {
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
}

cmd=${1:-help}
shift || true
case "$cmd" in
  setup) setup ;;
  build) setup; build ;;
  test)
    setup; build
    # Integration tests each drive a real Chromium: two at a time fit 2 cores.
    if [ "$preset" != asan ]; then
      exec ctest --preset "$preset" -j "${BELAY_TEST_JOBS:-2}" "$@"
    fi
    # Under ASan+UBSan every report, including one from a belay process a test
    # started and whose exit status it did not look at, fails the run: the
    # sanitizers write them to files (log_path in CMakePresets.json).
    reports=build/asan/sanitizer-reports
    rm -rf "$reports" && mkdir -p "$reports"
    status=0
    ctest --preset "$preset" -j "${BELAY_TEST_JOBS:-2}" "$@" || status=$?
    if [ -n "$(ls -A "$reports")" ]; then
      echo "sanitizer reports (in $reports):"
      for f in "$reports"/*; do echo "== $f"; head -60 "$f"; done
      exit 1
    fi
    exit "$status"
    ;;
  demo)
    setup; build
    state=${BELAY_DEMO_STATE:-$(mktemp -d /tmp/belay-demo-XXXXXX)}
    echo "demo state: $state (belay.db, events.jsonl, screenshots/)"
    exec "build/$preset/belay" run scripts/demo/campaign.lua --state "$state" --no-reload "$@"
    ;;
  *)
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    [ "$cmd" = help ] || exit 2
    ;;
esac
