#!/usr/bin/env bash
# Installs Debian's qemu-system-x86, qemu-system-s390x and qemu-guest-agent
# at 10.0.2, which live in bookworm-backports (bookworm's main suite
# carries 7.2).  The
# backports entry is derived from the machine's own Debian entry (same
# mirror, same keyring), so no mirror is hard-coded here.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

want="${QEMU_PACKAGES:-qemu-system-x86 qemu-system-s390x qemu-guest-agent}"

if ! apt-cache policy 2>/dev/null | grep -q bookworm-backports; then
    src=/etc/apt/sources.list.d/debian.sources
    if [ -f "$src" ]; then
        # deb822: copy the stanza that carries "bookworm", renamed.
        uri=$(awk '/^URIs:/ {print $2; exit}' "$src")
        key=$(awk '/^Signed-By:/ {print $2; exit}' "$src")
        printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: %s\n' \
            "$uri" "$key" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
    else
        # One-line format: reuse the first plain bookworm line's mirror.
        line=$(grep -hE '^deb .* bookworm( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -1)
        [ -n "$line" ] || { echo "no Debian bookworm apt entry to derive backports from" >&2; exit 1; }
        echo "$line" | sed -E 's/ bookworm( |$)/ bookworm-backports\1/' \
            | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
    fi
fi

$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -t bookworm-backports $want >/dev/null
qemu-system-x86_64 --version | head -1
