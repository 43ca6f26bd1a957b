#!/usr/bin/env bash
# Unpacks Debian's Exim 4 and OpenSMTPD into a private prefix for the
# interop tests (test/fixtures/exim.ts, test/fixtures/opensmtpd.ts).
# Debian's exim4 and opensmtpd packages conflict with postfix (all three
# provide mail-transport-agent), so they are not installed: `apt-get
# download` + `dpkg -x` puts their files under $PREFIX, with the shared
# libraries they need that the machine lacks under $PREFIX/usr/lib. Nothing
# is started, no service is enabled, no system file is touched.
#
#   bash scripts/install-test-mtas.sh          (root; idempotent)
#   MXPROBE_TEST_MTAS=/somewhere bash scripts/install-test-mtas.sh
set -euo pipefail
PREFIX="${MXPROBE_TEST_MTAS:-/opt/mxprobe-test-mtas}"
PKGS=(exim4-daemon-light opensmtpd)
# Libraries those binaries link against that a stock Debian 12 with postfix may lack.
LIBS=(libgnutls-dane0 libidn12 libnsl2 libunbound8 libevent-2.1-7 libevent-core-2.1-7 libtirpc3 libtirpc-common libhogweed6 libnettle8)
STAMP="$PREFIX/.installed"
WANT="$(printf '%s\n' "${PKGS[@]}" "${LIBS[@]}" | sort | tr '\n' ' ')"

ok () {
  [ -x "$PREFIX/usr/sbin/exim4" ] && [ -x "$PREFIX/usr/sbin/smtpd" ] || return 1
  [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] || return 1
  for b in "$PREFIX/usr/sbin/exim4" "$PREFIX/usr/sbin/smtpd"; do
    if LD_LIBRARY_PATH="$PREFIX/usr/lib/x86_64-linux-gnu:$PREFIX/lib/x86_64-linux-gnu" ldd "$b" | grep -q 'not found'; then return 1; fi
  done
}

# The users the packages' postinst scripts would create: Exim looks its compiled-in user up at
# start, OpenSMTPD drops privileges to opensmtpd/opensmtpq.
getent group Debian-exim >/dev/null || groupadd --system Debian-exim
getent passwd Debian-exim >/dev/null || useradd --system -g Debian-exim -d /nonexistent -s /usr/sbin/nologin Debian-exim
for u in opensmtpd opensmtpq; do
  getent group "$u" >/dev/null || groupadd --system "$u"
  getent passwd "$u" >/dev/null || useradd --system -g "$u" -d /var/lib/opensmtpd/empty -s /usr/sbin/nologin "$u"
done

# OpenSMTPD's compiled-in paths: its spool and control socket are made private per instance by
# test/fixtures/opensmtpd.ts (a mount namespace); the mount points and the empty chroot must exist.
mkdir -p /var/spool/smtpd /var/lib/opensmtpd/empty

if ok; then echo "test MTAs already in $PREFIX"; exit 0; fi

export DEBIAN_FRONTEND=noninteractive
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$PREFIX"
cd "$tmp"
# The package lists may be missing on a fresh machine.
if ! apt-get download "${PKGS[@]}" >/dev/null 2>&1; then
  apt-get update -qq
  apt-get download "${PKGS[@]}"
fi
for l in "${LIBS[@]}"; do
  # A library the system already has at the candidate version needs no copy, but one more does no harm.
  apt-get download "$l" >/dev/null 2>&1 || echo "note: $l not available, skipped" >&2
done
chown -R _apt "$tmp" 2>/dev/null || true
for deb in ./*.deb; do dpkg -x "$deb" "$PREFIX"; done
for b in "$PREFIX/usr/sbin/exim4" "$PREFIX/usr/sbin/smtpd"; do
  missing="$(LD_LIBRARY_PATH="$PREFIX/usr/lib/x86_64-linux-gnu:$PREFIX/lib/x86_64-linux-gnu" ldd "$b" | grep 'not found' || true)"
  if [ -n "$missing" ]; then echo "$b still lacks: $missing" >&2; exit 1; fi
done
echo "$WANT" > "$STAMP"
LD_LIBRARY_PATH="$PREFIX/usr/lib/x86_64-linux-gnu:$PREFIX/lib/x86_64-linux-gnu" "$PREFIX/usr/sbin/exim4" -bV 2>/dev/null | head -1 || true
echo "test MTAs installed in $PREFIX"
