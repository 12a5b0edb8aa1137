#!/usr/bin/env bash
# Debian's Chromium for the browser tests (no browser download: Playwright drives /usr/bin/chromium).
#
# Usage: infra/browser/chromium.sh install|path
set -euo pipefail

die() { echo "chromium.sh: error: $*" >&2; exit 1; }

find_chromium() {
  local c
  for c in /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -x "$c" ]; then echo "$c"; return 0; fi
  done
  return 1
}

cmd_install() {
  if find_chromium >/dev/null; then
    return 0
  fi
  [ "$(id -u)" = 0 ] || die "Chromium is not installed and installing it needs root (apt-get install chromium)"
  command -v apt-get >/dev/null 2>&1 || die "Chromium is not installed and apt-get is not available"
  echo "Installing Chromium with apt-get ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null >/dev/null || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk </dev/null >/dev/null \
    || die "apt-get install chromium failed"
  find_chromium >/dev/null || die "chromium installed but not found in /usr/bin"
}

case "${1:-}" in
  install) cmd_install ;;
  path) find_chromium || die "Chromium is not installed (infra/browser/chromium.sh install)" ;;
  *) echo "usage: $0 install|path" >&2; exit 2 ;;
esac
