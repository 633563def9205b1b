#!/bin/sh
# Installs Softvisor's dependencies when some are missing: with apt-get on
# Debian/Ubuntu (through sudo when not root), with Homebrew on macOS. Does
# nothing when everything is there.
#   scripts/setup.sh          build + test: compiler, CMake, nasm, iasl, Check,
#                             SDL2, zlib, SeaBIOS, and the tools that build the
#                             Linux test guests from Debian packages
#   scripts/setup.sh --bench  also the benchmark peers (QEMU, Bochs) and the
#                             32-bit toolchain for the benchmark programs
set -eu

APT_PACKAGES="build-essential cmake pkg-config nasm acpica-tools check libsdl2-dev zlib1g-dev seabios
python3 cpio kmod mtools dosfstools fdisk syslinux syslinux-common isolinux xorriso"
APT_BENCH="gcc-multilib qemu-system-x86 bochs bochsbios vgabios"
BREW_PACKAGES="sdl2 zlib check nasm pkg-config cmake acpica"
bench=0
[ "${1:-}" = "--bench" ] && bench=1

missing=""
need() { missing="$missing $1"; }

command -v cc >/dev/null 2>&1 || need "C compiler"
command -v make >/dev/null 2>&1 || need make
command -v cmake >/dev/null 2>&1 || need cmake
command -v nasm >/dev/null 2>&1 || need nasm
command -v iasl >/dev/null 2>&1 || need iasl
if command -v pkg-config >/dev/null 2>&1; then
    for p in check zlib sdl2; do
        pkg-config --exists "$p" || need "$p"
    done
else
    need pkg-config
fi
if [ "$(uname -s)" != Darwin ]; then
    [ -e /usr/share/seabios/bios.bin ] || need seabios
    # Guest images (tests/guests/build-images.sh) and their test driver.
    for t in python3 cpio mcopy mkfs.fat sfdisk syslinux xorriso; do
        command -v "$t" >/dev/null 2>&1 || PATH="$PATH:/sbin:/usr/sbin" command -v "$t" >/dev/null 2>&1 || need "$t"
    done
    [ -e /usr/sbin/depmod ] || [ -e /sbin/depmod ] || need depmod
    [ -e /usr/lib/ISOLINUX/isolinux.bin ] || need isolinux
    [ -e /usr/lib/syslinux/mbr/mbr.bin ] || need syslinux-common
    if [ $bench = 1 ]; then
        command -v qemu-system-i386 >/dev/null 2>&1 || need qemu
        command -v bochs >/dev/null 2>&1 || need bochs
        echo 'int main(void){return 0;}' | cc -m32 -x c - -o /dev/null 2>/dev/null || need gcc-multilib
        APT_PACKAGES="$APT_PACKAGES $APT_BENCH"
    fi
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
