#!/usr/bin/env bash
# Make headless Chromium ready for yanit's browser tests (chromedp), which look
# for it at /usr/bin/chromium. Installs Debian's `chromium` package when it is
# missing; idempotent and instant when it is already there.
set -Eeuo pipefail

BIN=/usr/bin/chromium

log() { echo "setup-chromium: $*"; }
die() { echo "setup-chromium: FAILED: $*" >&2; exit 1; }
trap 'echo "setup-chromium: FAILED (line $LINENO): $BASH_COMMAND" >&2' ERR

if [ ! -x "$BIN" ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "not root and sudo is not installed"
    SUDO=sudo
  fi
  command -v apt-get >/dev/null || die "apt-get not found: install Chromium at $BIN by hand"
  LOG=$(mktemp -t setup-chromium.XXXXXX.log)
  apt_get() { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -y -q "$@" >>"$LOG" 2>&1; }
  log "installing Debian's chromium package (log: $LOG)"
  # Refresh the indexes only when install cannot find the package.
  if ! apt_get install --no-install-recommends chromium; then
    apt_get update || { tail -n 25 "$LOG" >&2; die "apt-get update"; }
    apt_get install --no-install-recommends chromium || { tail -n 25 "$LOG" >&2; die "apt-get install chromium"; }
  fi
  [ -x "$BIN" ] || die "chromium installed but $BIN is missing"
fi

# chromium --version may print a warning line first; keep the version line.
VERSION=$("$BIN" --headless --no-sandbox --version 2>/dev/null | grep -i chromium | tail -n 1 || true)
log "${VERSION:-$BIN present (version unknown)}"
