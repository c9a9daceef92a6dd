#!/usr/bin/env bash
# Installs what rl4d needs on a fresh Debian machine; safe to run again (it skips what is
# there). Usage: scripts/setup.sh [--browser]   (--browser also installs Chromium for the
# viewer's browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "[setup] $*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
apt_updated=0
apt_install() {
  command -v apt-get >/dev/null || { say "no apt-get here: install $* by hand"; return 1; }
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@"
}

# Node 20 or later.
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  say "Node.js 20 or later is required (found: $(node --version 2>/dev/null || echo none))."
  say "Install it from your distribution or nodejs.org, then run this again."
  exit 1
fi

# npm packages (onnxruntime-node's download step is skipped by .npmrc; its CPU binary ships).
stamp=node_modules/.rl4d-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  say "installing npm packages"
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

# A WebGPU adapter: a GPU driver, or Mesa 25's software Vulkan (lavapipe). Debian bookworm's
# own Mesa 22 is refused by Dawn, so take Mesa from bookworm-backports there.
if ! node scripts/check-adapter.mjs 2>/dev/null; then
  say "no WebGPU adapter found; installing Mesa's software Vulkan"
  codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
  if [ "$codename" = bookworm ]; then
    if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
      echo "deb http://deb.debian.org/debian bookworm-backports main" | as_root tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
      apt_updated=0
    fi
    apt_install -t bookworm-backports mesa-vulkan-drivers libvulkan1
  else
    apt_install mesa-vulkan-drivers libvulkan1
  fi
  if ! node scripts/check-adapter.mjs; then
    say "still no WebGPU adapter. Check 'npx rl4d doctor'; RL4D_BACKEND=opengles is a fallback."
    exit 1
  fi
fi

if [ "${1:-}" = "--browser" ] && ! command -v chromium >/dev/null; then
  say "installing Chromium for the browser tests"
  apt_install chromium
fi
say "ready"
