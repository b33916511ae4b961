#!/usr/bin/env bash
# Idempotent set-up used by `npm start`, `npm test` and `npm run bench`:
# Debian packages (only when missing), `npm ci` (only when the lock file changed), build (only when sources changed).
# Fast when already set up: each step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*" >&2; }

# Debian packages the server and its tests use. Each entry: a command or file that proves it is there, then the package.
DEB_NEEDS=(
  "gst-launch-1.0:gstreamer1.0-tools"
  "/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstvideotestsrc.so:gstreamer1.0-plugins-base"
  # plugins-good also carries pulsesrc, which captures the desktop's sound.
  "/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstvpx.so:gstreamer1.0-plugins-good"
  "/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstvideoparsersbad.so:gstreamer1.0-plugins-bad"
  "/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstx264.so:gstreamer1.0-plugins-ugly"
  "/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstximagesrc.so:gstreamer1.0-x"
  "/usr/include/gstreamer-1.0/gst/gst.h:libgstreamer1.0-dev"
  "/usr/include/gstreamer-1.0/gst/app/gstappsrc.h:libgstreamer-plugins-base1.0-dev"
  "Xvfb:xvfb"
  "xauth:xauth"
  "xdpyinfo:x11-utils"
  "xrandr:x11-xserver-utils"
  "xterm:xterm"
  "pulseaudio:pulseaudio"
  "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:fonts-dejavu-core"
  "chromium:chromium"
  "/usr/lib/python3/dist-packages/websockets/__init__.py:python3-websockets"
  "go:golang-go"
  "/usr/share/gocode/src/github.com/gorilla/websocket/conn.go:golang-github-gorilla-websocket-dev"
)
missing=()
for need in "${DEB_NEEDS[@]}"; do
  probe="${need%%:*}"; pkg="${need#*:}"
  if [[ "$probe" == /* ]]; then [[ -e "$probe" ]] || missing+=("$pkg")
  else command -v "$probe" >/dev/null 2>&1 || missing+=("$pkg"); fi
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]} (first run only; takes a few minutes)"
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q >&2
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

# npm ci only when package-lock.json differs from what was installed last.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.streamgate-lock-hash
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_hash" ]]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund >&2
  echo "$lock_hash" > "$stamp"
fi

# Build only when a source is newer than the last build.
build_stamp=dist/.build-stamp
if [[ ! -f "$build_stamp" ]] || [[ -n "$(find src test bench web scripts/build-web.mjs tsconfig.json package-lock.json -newer "$build_stamp" -type f -print -quit 2>/dev/null)" ]]; then
  say "building (tsc + viewer bundle)"
  npm run --silent build >&2
  touch "$build_stamp"
fi
