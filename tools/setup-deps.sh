#!/usr/bin/env bash
# Installs the Debian packages belay builds and tests with, and only those that
# are missing, so a second run is a no-op. Works as root or through sudo.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  liblua5.4-dev libuv1-dev libwebsocketpp-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libsqlite3-dev libcli11-dev libedit-dev
  chromium
)
# Fuzzing and the REPL tests need these; they are small.
packages+=(clang libclang-rt-14-dev tmux)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "setup-deps: missing ${missing[*]} and not root, no sudo: install them and rerun" >&2
  exit 1
fi

echo "setup-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
