#!/usr/bin/env bash
# Unpacks Debian 12's own QEMU 7.2 (bookworm's qemu-system-x86 and
# qemu-system-common) into target/qemu-7.2, beside the 10.0.2 that
# install-qemu.sh installs (whose libraries it shares).  Run it as
#   QEMU_MODULE_DIR=target/qemu-7.2/usr/lib/x86_64-linux-gnu/qemu \
#     target/qemu-7.2/usr/bin/qemu-system-x86_64 -machine none ...
set -euo pipefail
cd "$(dirname "$0")/.."

dest=target/qemu-7.2
bin="$dest/usr/bin/qemu-system-x86_64"
if [ -x "$bin" ]; then
    "$bin" --version | head -1
    exit 0
fi
version=$(apt-cache policy qemu-system-x86 | awk '$1 ~ /^1:7\.2/ {print $1}' | sort -V | tail -1)
[ -n "$version" ] || { echo "bookworm's qemu-system-x86 7.2 is not in the apt lists" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -qq "qemu-system-x86=$version" "qemu-system-common=$version" 2>/dev/null)
mkdir -p "$dest"
for deb in "$work"/*.deb; do
    dpkg -x "$deb" "$dest"
done
QEMU_MODULE_DIR="$dest/usr/lib/x86_64-linux-gnu/qemu" "$bin" --version | head -1
