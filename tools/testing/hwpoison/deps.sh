#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Install what the harness needs from Debian's archive, if anything is missing.
set -e
need=""
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_cmd python3 || need="$need python3"
have_cmd gcc || need="$need gcc"
have_cmd make || need="$need make"
have_cmd flex || need="$need flex"
have_cmd bison || need="$need bison"
have_cmd bc || need="$need bc"
have_cmd cpio || need="$need cpio"
have_cmd patch || need="$need patch"
have_cmd git || need="$need git"
have_cmd ccache || need="$need ccache"
have_cmd perl || need="$need perl"
have_cmd xz || need="$need xz-utils"
have_cmd qemu-system-x86_64 || need="$need qemu-system-x86"
dpkg -s busybox-static >/dev/null 2>&1 || need="$need busybox-static"
[ -f /usr/include/gelf.h ] || need="$need libelf-dev"
[ -f /usr/include/openssl/ssl.h ] || need="$need libssl-dev"
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || need="$need libc6-dev"
[ -f /usr/src/linux-source-6.12.tar.xz ] || need="$need linux-source-6.12"
# checkpatch's SPDX check (make series-check)
/usr/bin/python3 -c 'import ply' 2>/dev/null || need="$need python3-ply"
/usr/bin/python3 -c 'import git' 2>/dev/null || need="$need python3-git"
[ -z "$need" ] && exit 0
echo "hwpt: installing:$need" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $need >&2
