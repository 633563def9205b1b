#!/bin/sh
# Installs Softvisor's build dependencies when some are missing: with apt-get
# on Debian/Ubuntu (through sudo when not root), with Homebrew on macOS.
# Does nothing when everything is there. SeaBIOS is needed only to boot a PC
# BIOS (not by the demo or the unit tests); Homebrew has no package for it.
set -eu

APT_PACKAGES="build-essential cmake pkg-config nasm check libsdl2-dev zlib1g-dev seabios"
BREW_PACKAGES="sdl2 zlib check nasm pkg-config cmake"

missing=""
need() { missing="$missing $1"; }

command -v cc >/dev/null 2>&1 || need "C compiler"
command -v make >/dev/null 2>&1 || need make
command -v cmake >/dev/null 2>&1 || need cmake
command -v nasm >/dev/null 2>&1 || need nasm
if command -v pkg-config >/dev/null 2>&1; then
    for p in check zlib sdl2; do
        pkg-config --exists "$p" || need "$p"
    done
else
    need pkg-config
fi
if [ "$(uname -s)" != Darwin ] && [ ! -e /usr/share/seabios/bios.bin ]; then
    need seabios
fi

[ -z "$missing" ] && exit 0
echo "setup: missing:$missing; installing" >&2

if [ "$(uname -s)" = Darwin ]; then
    if ! command -v brew >/dev/null 2>&1; then
        echo "setup: install Homebrew, then: brew install $BREW_PACKAGES" >&2
        exit 1
    fi
    # shellcheck disable=SC2086
    brew install $BREW_PACKAGES
    echo "setup: SeaBIOS is not in Homebrew; build it or copy bios.bin from a Linux package to boot a PC BIOS" >&2
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: no apt-get here; install these yourself: $APT_PACKAGES" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "setup: not root and no sudo; as root run: apt-get install $APT_PACKAGES" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $APT_PACKAGES
