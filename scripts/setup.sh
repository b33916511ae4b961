#!/usr/bin/env bash
# Idempotent set-up: Debian packages (only those missing), `npm ci` (only when the lock file changed),
# build (only when sources changed). Fast and silent when everything is done: each step checks before it acts.
#
#   setup.sh [run]       what `npm start` needs: GStreamer, Xvfb, X tools, xterm, PulseAudio, fonts, the
#                        compiler gstreamer-superficial is built with
#   setup.sh test|bench  that, plus what `npm test` and `npm run bench` drive: browsers, seed-client
#                        runtimes, TURN/Redis/Janus, X clipboard and input tools, iproute2, openssl, procps
#   setup.sh MODE --check  only list what is missing (exit 1 if anything is), install nothing
#
# STREAMGATE_SETUP_ASSUME_MISSING="pkg …" treats those packages as missing, to try the detection (with --check)
# without uninstalling anything. Non-interactive: fit for CI=true without stdin.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*" >&2; }

mode=${1:-run}
check_only=false
case "${2:-}" in
  --check) check_only=true ;;
  '') ;;
  *) mode="$mode $2" ;;
esac
case "$mode" in
  run | test | bench) ;;
  *)
    say "unknown arguments '$*': expected run, test or bench, optionally followed by --check"
    exit 2
    ;;
esac

# Each entry: a command, or a file (a glob, for the multiarch directory), that proves the package is there,
# then the package. Every probe is a file of that very package (checked with dpkg -S).
RUN_NEEDS=(
  "gst-launch-1.0:gstreamer1.0-tools"
  "/usr/lib/*/gstreamer-1.0/libgstvideotestsrc.so:gstreamer1.0-plugins-base"
  # plugins-good also carries ximagesrc (X capture) and pulsesrc (the desktop's sound).
  "/usr/lib/*/gstreamer-1.0/libgstvpx.so:gstreamer1.0-plugins-good"
  "/usr/lib/*/gstreamer-1.0/libgstvideoparsersbad.so:gstreamer1.0-plugins-bad"
  "/usr/lib/*/gstreamer-1.0/libgstx264.so:gstreamer1.0-plugins-ugly"
  "/usr/lib/*/gstreamer-1.0/libgstximagesink.so:gstreamer1.0-x"
  # gstreamer-superficial is compiled by `npm ci` against these (pkg-config gstreamer-1.0, -app-1.0, -video-1.0).
  "/usr/lib/*/pkgconfig/gstreamer-1.0.pc:libgstreamer1.0-dev"
  "/usr/lib/*/pkgconfig/gstreamer-app-1.0.pc:libgstreamer-plugins-base1.0-dev"
  "pkg-config:pkgconf"
  "g++:g++"
  "make:make"
  # node-gyp runs gyp with python3 (its /usr/bin/python3 is python3-minimal's; pydoc3 is python3's own).
  "/usr/bin/pydoc3:python3"
  "Xvfb:xvfb"
  "xauth:xauth"
  "xdpyinfo:x11-utils"
  "xrandr:x11-xserver-utils"
  "xterm:xterm"
  "pulseaudio:pulseaudio"
  "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:fonts-dejavu-core"
)
TEST_NEEDS=(
  "/usr/bin/chromium:chromium"
  "firefox-esr:firefox-esr"
  "/usr/lib/python3/dist-packages/websockets/__init__.py:python3-websockets"
  "go:golang-go"
  "/usr/share/gocode/src/github.com/gorilla/websocket/conn.go:golang-github-gorilla-websocket-dev"
  "turnserver:coturn"
  "redis-server:redis-server"
  "janus:janus"
  "xclip:xclip"
  "xsel:xsel"
  "xdotool:xdotool"
  "/bin/ip:iproute2"
  "openssl:openssl"
  "pgrep:procps"
)
# Daemons of the test set that Debian may start on installation, and where their init scripts keep the pid.
SERVICES=(
  "redis-server:/usr/bin/redis-server:/run/redis/redis-server.pid"
  "coturn:/usr/bin/turnserver:/run/turnserver.pid"
  "janus:/usr/bin/janus:/run/janus.pid"
)

needs=("${RUN_NEEDS[@]}")
[[ "$mode" == run ]] || needs+=("${TEST_NEEDS[@]}")
assume_missing=" ${STREAMGATE_SETUP_ASSUME_MISSING:-} "

missing=()
for need in "${needs[@]}"; do
  probe="${need%%:*}" pkg="${need#*:}"
  if [[ "$assume_missing" == *" $pkg "* ]]; then
    missing+=("$pkg")
  elif [[ "$probe" == /* ]]; then
    compgen -G "$probe" >/dev/null || missing+=("$pkg")
  else
    command -v "$probe" >/dev/null 2>&1 || missing+=("$pkg")
  fi
done

install_line="apt-get install -y --no-install-recommends ${missing[*]:-}"
if $check_only; then
  if ((${#missing[@]})); then
    say "missing for '$mode': ${missing[*]}"
    say "would run: apt-get update && $install_line"
    exit 1
  fi
  say "nothing missing for '$mode'"
  exit 0
fi

# Stops a daemon that the installation itself started (only one whose package was just installed, and only
# the process its pid file names, if it is that daemon): the tests start their own, on their own ports.
stop_started_services() {
  local service pkg exe pidfile pid
  for service in "${SERVICES[@]}"; do
    IFS=: read -r pkg exe pidfile <<<"$service"
    [[ " ${missing[*]} " == *" $pkg "* ]] || continue
    pid=$(cat "$pidfile" 2>/dev/null || true)
    # /proc/PID/exe is the resolved binary (redis-server is a link to redis-check-rdb).
    if [[ "$pid" =~ ^[0-9]+$ && "$(readlink "/proc/$pid/exe" 2>/dev/null)" == "$(readlink -f "$exe")" ]]; then
      say "stopping $exe (pid $pid), which installing $pkg started"
      "${SUDO[@]}" kill "$pid"
      for _ in {1..50}; do [[ -e "/proc/$pid" ]] && sleep 0.1; done
    fi
    if pid=$(pgrep -x "$(basename "$exe")"); then
      say "warning: $(basename "$exe") runs (pid ${pid//$'\n'/ }) after installing $pkg, without the pid file $pidfile; the tests do not need it"
    fi
  done
}

if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]} (first run only; takes a few minutes)"
  if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
  elif command -v sudo >/dev/null && [[ -t 0 ]]; then
    SUDO=(sudo)
  elif command -v sudo >/dev/null; then
    SUDO=(sudo -n) # no terminal to ask a password on (CI): fail rather than wait
  else
    say "not root and no sudo: as root, run: apt-get update && $install_line"
    exit 1
  fi
  # Debian's convention for "do not start services now": honoured by invoke-rc.d and deb-systemd-invoke.
  # Left alone if present (container images ship one); ours is removed however the script ends.
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\n# Written by streamgate scripts/setup.sh while it installs packages.\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 755 "$policy"
    trap '"${SUDO[@]}" rm -f "$policy"' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q </dev/null >&2
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" </dev/null >&2
  stop_started_services
fi

# npm ci only when package-lock.json differs from what was installed last. No browser downloads: the
# tests drive Debian's Chromium.
export PUPPETEER_SKIP_DOWNLOAD=1
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.streamgate-lock-hash
if [[ -L node_modules && ( ! -f "$stamp" || "$(cat "$stamp")" != "$lock_hash" ) ]]; then
  # A worktree sharing another checkout's node_modules: npm ci would empty the shared folder through the link.
  say "node_modules links to $(readlink node_modules), installed from another package-lock.json; not reinstalling it from here"
elif [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_hash" ]]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund </dev/null >&2
  echo "$lock_hash" >"$stamp"
fi

# Build only when a source is newer than the last build.
build_stamp=dist/.build-stamp
if [[ ! -f "$build_stamp" ]] || [[ -n "$(find src test bench web scripts/build-web.mjs tsconfig.json package-lock.json -newer "$build_stamp" -type f -print -quit 2>/dev/null)" ]]; then
  say "building (tsc + viewer bundle)"
  npm run --silent build >&2
  touch "$build_stamp"
fi
