#!/usr/bin/env bash
# Builds the Debian package and checks install, upgrade (config kept) and
# remove/purge (data kept) on this machine. Needs root and cargo-deb
# (`cargo install cargo-deb`). Not part of `cargo test`: it changes the
# system it runs on.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=$(cargo deb 2>/dev/null | tail -n 1)
echo "built $deb"
export DEBIAN_FRONTEND=noninteractive
dpkg -i "$deb"
id sohoa
id -nG sohoa | grep -qw scanner
test -x /usr/bin/sohoa
test -f /lib/systemd/system/sohoa.service
test -f /lib/udev/rules.d/60-sohoa.rules
/usr/bin/sohoa check-config /etc/sohoa/sohoa.toml >/dev/null
# The service user can read its config and write its data folder.
su -s /bin/sh sohoa -c 'cat /etc/sohoa/sohoa.toml >/dev/null && touch /var/lib/sohoa/.probe && rm /var/lib/sohoa/.probe'
echo "install: ok"

# An IT person edits the config; data exists.
sed -i 's/^locality = .*/locality = "Đông Hà"/' /etc/sohoa/sohoa.toml
mkdir -p /var/lib/sohoa/sohoa-data/archive && echo page > /var/lib/sohoa/sohoa-data/archive/keep.txt
dpkg -i --force-confold "$deb"
grep -q 'locality = "Đông Hà"' /etc/sohoa/sohoa.toml
test -f /var/lib/sohoa/sohoa-data/archive/keep.txt
echo "upgrade: config and data kept"

dpkg -r sohoa
test ! -e /usr/bin/sohoa
test -f /var/lib/sohoa/sohoa-data/archive/keep.txt
echo "remove: data kept"
dpkg -P sohoa
test -f /var/lib/sohoa/sohoa-data/archive/keep.txt
echo "purge: data still kept"
rm -rf /var/lib/sohoa
