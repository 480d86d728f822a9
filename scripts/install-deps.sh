#!/bin/sh
# Install the Debian packages exalsiusfs needs to build, test and demo.
# Idempotent: quiet and quick when everything is already present.
set -eu

PKGS="build-essential pkg-config libfuse3-dev fuse3 libcurl4-openssl-dev \
libjansson-dev libcmocka-dev python3 jq curl valgrind clang libclang-rt-dev procps tar diffutils \
nano tmux vim-tiny bsdextrautils man-db cppcheck clang-format \
libsecret-1-dev libyaml-dev dbus gnome-keyring python3-keyring"
[ "${EXALSIUSFS_EXTRA_PKGS:-}" ] && PKGS="$PKGS $EXALSIUSFS_EXTRA_PKGS"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
