#!/usr/bin/env bash
# Headless Chromium and a Japanese font for page tests and readable reports (Debian's packages).
#
# Usage: infra/browser.sh install|fonts|path|font-path
#   install    Debian's chromium (and the CJK font below) when missing; needs root and apt-get
#   fonts      only the CJK font (fonts-noto-cjk), so plots and pages show Japanese place names;
#              without root or apt-get it prints a note and exits 0 (reports then fall back to English)
#   path       print the Chromium executable (exit 1 when there is none)
#   font-path  print the CJK font file (exit 1 when there is none)
#
# Environment: CHROMIUM (an executable to use instead of Debian's), APT_LOCK_TIMEOUT (seconds, default 600).
set -euo pipefail

LOCK_TIMEOUT="${APT_LOCK_TIMEOUT:-600}"
FONT_PACKAGE=fonts-noto-cjk

die() { echo "browser.sh: error: $*" >&2; exit 1; }

chromium_path() {
  local c
  for c in "${CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -n "$c" ] && [ -x "$c" ]; then echo "$c"; return 0; fi
  done
  return 1
}

font_path() {
  local f
  for f in /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf; do
    if [ -f "$f" ]; then echo "$f"; return 0; fi
  done
  return 1
}

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  echo "browser.sh: installing $* with apt-get ..." >&2
  apt-get -o DPkg::Lock::Timeout="$LOCK_TIMEOUT" update -qq </dev/null >/dev/null || die "apt-get update failed"
  apt-get -o DPkg::Lock::Timeout="$LOCK_TIMEOUT" install -y -qq --no-install-recommends "$@" </dev/null >/dev/null \
    || die "apt-get install $* failed"
}

can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

cmd_fonts() {
  font_path >/dev/null && return 0
  if ! can_apt; then
    echo "browser.sh: note: no CJK font and no root apt-get to install $FONT_PACKAGE; Japanese names are left out" >&2
    return 0
  fi
  apt_install "$FONT_PACKAGE" fontconfig
  command -v fc-cache >/dev/null 2>&1 && fc-cache -f >/dev/null 2>&1 || true
  font_path >/dev/null || die "$FONT_PACKAGE installed but no CJK font file found"
}

cmd_install() {
  local missing=()
  chromium_path >/dev/null || missing+=(chromium)
  font_path >/dev/null || missing+=("$FONT_PACKAGE" fontconfig)
  [ "${#missing[@]}" = 0 ] && return 0
  can_apt || die "missing ${missing[*]}; installing needs root and apt-get"
  apt_install "${missing[@]}"
  command -v fc-cache >/dev/null 2>&1 && fc-cache -f >/dev/null 2>&1 || true
  chromium_path >/dev/null || die "chromium installed but no executable found"
}

case "${1:-}" in
  install) cmd_install ;;
  fonts) cmd_fonts ;;
  path) chromium_path || die "no Chromium (run: infra/browser.sh install)" ;;
  font-path) font_path || die "no CJK font (run: infra/browser.sh fonts)" ;;
  *) echo "usage: $0 install|fonts|path|font-path" >&2; exit 2 ;;
esac
