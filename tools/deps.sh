#!/bin/sh
# Installs the Debian packages venice-lua needs to build and test, when they are missing.
# As root it installs them; otherwise it prints the one command to run.
set -u
PKGS="build-essential pkg-config libcurl4-openssl-dev
lua5.4 liblua5.4-dev lua5.1 liblua5.1-0-dev luajit libluajit-5.1-dev
lua5.2 liblua5.2-dev lua5.3 liblua5.3-dev
lua-cjson lua-luv lua-socket lua-busted lua-check luarocks
valgrind clang libclang-rt-14-dev neovim
openssl nginx lua-yaml libssl-dev python3-cryptography love xvfb xauth libgl1-mesa-dri
lua-sec python3-httpx python3-h2"

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# node and npm run the conformance suite (Prism) and the openai-node benchmark; Debian's when absent
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "venice-lua needs these packages (Debian names):$missing" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "Missing packages. Run:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends$missing" >&2
  exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
  echo "apt-get install failed for:$missing" >&2
  exit 1
}
