#!/bin/sh
# Installs QEMU's system emulator (TCG) from Debian for `npm run bench`, if it is missing.
set -e
if command -v qemu-system-x86_64 >/dev/null 2>&1; then
  echo "qemu-system-x86_64: $(command -v qemu-system-x86_64)"
  exit 0
fi
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends qemu-system-x86
qemu-system-x86_64 --version
