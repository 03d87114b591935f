#!/usr/bin/env bash
# Make sure Debian's Chromium exists for the browser tests (tests/ui/, driven by Playwright's Python
# driver; `playwright install` is never run: the tests launch /usr/bin/chromium).
# Exits 0 if /usr/bin/chromium exists; otherwise installs Debian's `chromium` package (root only) or
# says what to run.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
    exit 0
fi

install_cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium"

if [[ "$(id -u)" -ne 0 ]]; then
    echo "/usr/bin/chromium not found; the UI tests drive a real Chromium." >&2
    echo "Install it as root:  sudo sh -c '$install_cmd'" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "/usr/bin/chromium not found and apt-get is unavailable; install Chromium so that" >&2
    echo "/usr/bin/chromium exists (the UI tests launch it from there)." >&2
    exit 1
fi
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
