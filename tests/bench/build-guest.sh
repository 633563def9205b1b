#!/bin/sh
# Builds the benchmark guest from Debian packages only (no other downloads):
#   OUT/vmlinuz          Debian's i386 686 kernel (non-PAE)
#   OUT/initrd.gz        busybox-static (i386) initramfs with the four workloads
#                        (static i386 builds of tests/bench/*.c) in /bench; its
#                        init prints "bench: init marker", runs int, mem, fp, sys
#                        in that order and powers off (poweroff -f)
#   OUT/boot.iso         El Torito ISO (ISOLINUX) of the same kernel and initrd,
#                        kernel command line "console=ttyS0" (for Bochs)
#   OUT/workloads/       the workloads: i386/NAME (guest) and native/NAME (host)
# The i386 packages are fetched with apt-get download into OUT/apt, without
# touching the host's package state; the .debs are kept in OUT/debs and reused.
# Host tools needed: gcc with gcc-multilib (gcc -m32 -static), make, dpkg-deb,
# cpio, gzip, isolinux, syslinux-common, xorriso, apt-get.
# Init reads "bench.NAME=REPS" from the kernel command line: REPS is passed to
# workload NAME (0 skips it); without it the workload's default size is used.
# Usage: tests/bench/build-guest.sh [--set a|b] [OUT]
#   (default OUT: build/bench-guest for set a, build/bench-guest-b for set b)
# Exit status: 0 built (or already up to date), 77 a tool is missing (stated).
#
# Set b is a second, different guest (see README.md): Debian's 686-pae kernel
# flavour, the workloads vm, hash, fft, proc, an init at /sbin/bench-init
# (no /init: the command line's rdinit= selects it) that mounts a tmpfs on
# /tmp, the command line "console=ttyS0,115200 quiet rdinit=/sbin/bench-init"
# and 128 MiB of RAM. Both sets write OUT/guest.conf, which tests/bench/run
# reads: set, workloads (in order), append (the command line), mem (MiB) and
# quick (--quick sizes).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
SET=a
if [ "${1:-}" = "--set" ]; then
    [ $# -ge 2 ] || { echo "usage: $0 [--set a|b] [OUT]" >&2; exit 2; }
    SET=$2
    shift 2
fi
case "$SET" in
a)  NAMES="int mem fp sys"; MAKETARGET=all; KFLAVOUR=686
    APPEND="console=ttyS0"; MEMMIB=256; QUICK="int=10,mem=1,fp=6,sys=3"
    DEFOUT=build/bench-guest ;;
b)  NAMES="vm hash fft proc"; MAKETARGET=b; KFLAVOUR=686-pae
    APPEND="console=ttyS0,115200 quiet rdinit=/sbin/bench-init"; MEMMIB=128
    QUICK="vm=2,hash=8,fft=12,proc=5"; DEFOUT=build/bench-guest-b ;;
*)  echo "usage: $0 [--set a|b] [OUT]" >&2; exit 2 ;;
esac
OUT=${1:-$DEFOUT}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
STAMP="$OUT/.complete"
SRCSUM=$( (echo "$SET"; cd "$HERE" && cat build-guest.sh Makefile bench.h $(for n in $NAMES; do echo "$n.c"; done)) |
         sha256sum | cut -c1-16)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$SRCSUM" ] &&
   [ -f "$OUT/vmlinuz" ] && [ -f "$OUT/initrd.gz" ] && [ -f "$OUT/boot.iso" ]; then
    echo "bench-guest: up to date in $OUT"
    exit 0
fi

missing=""
for tool in gcc make dpkg-deb cpio gzip xorriso apt-get apt-cache; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
ISOLINUX=/usr/lib/ISOLINUX/isolinux.bin
LDLINUX=/usr/lib/syslinux/modules/bios/ldlinux.c32
for f in $ISOLINUX $LDLINUX; do [ -f "$f" ] || missing="$missing $f"; done
if command -v gcc >/dev/null 2>&1; then
    probe=$(mktemp -d)
    echo 'int main(void){return 0;}' > "$probe/p.c"
    gcc -m32 -static -o "$probe/p" "$probe/p.c" >/dev/null 2>&1 || missing="$missing gcc-multilib(gcc -m32 -static)"
    rm -rf "$probe"
fi
if [ -n "$missing" ]; then
    echo "bench-guest: SKIPPED: missing host tools:$missing (apt-get install gcc-multilib isolinux syslinux-common xorriso cpio)" >&2
    exit 77
fi

# The workloads first: a compile error should not cost a download.
make -s -C "$HERE" O="$OUT/workloads" $MAKETARGET

# Debian i386 packages, downloaded once and kept.
APTDIR="$OUT/apt"
KDEB=$(ls "$OUT"/debs/linux-image-*-$KFLAVOUR-unsigned_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
BDEB=$(ls "$OUT"/debs/busybox-static_*_i386.deb 2>/dev/null | tail -n 1 || true)
if [ -z "$KDEB" ] || [ -z "$BDEB" ]; then
    mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial" "$OUT/debs"
    APT="-q -oAPT::Architecture=i386 -oAPT::Architectures=i386 -oDir::State::Lists=$APTDIR/lists -oDir::Cache=$APTDIR/cache"
    # shellcheck disable=SC2086
    apt-get $APT update >"$APTDIR/update.log" 2>&1 ||
        echo "bench-guest: warning: apt-get update reported errors (see $APTDIR/update.log)" >&2
    # shellcheck disable=SC2086
    KPKG=$(apt-cache $APT search --names-only "^linux-image-[0-9.]+-[0-9]+-$KFLAVOUR-unsigned\$" | awk '{print $1}' | sort -V | tail -n 1)
    [ -n "$KPKG" ] || { echo "bench-guest: no linux-image-*-$KFLAVOUR-unsigned package in the i386 lists" >&2; exit 1; }
    echo "bench-guest: downloading $KPKG and busybox-static (i386)"
    # shellcheck disable=SC2086
    (cd "$OUT/debs" && apt-get $APT download "$KPKG" busybox-static:i386 >/dev/null)
    KDEB=$(ls "$OUT"/debs/linux-image-*-$KFLAVOUR-unsigned_*.deb | sort -V | tail -n 1)
    BDEB=$(ls "$OUT"/debs/busybox-static_*_i386.deb | tail -n 1)
fi

WORK="$OUT/work"
rm -rf "$WORK"
mkdir -p "$WORK/kernel" "$WORK/busybox"
dpkg-deb --fsys-tarfile "$KDEB" | tar -x -C "$WORK/kernel" --wildcards './boot/vmlinuz-*'
dpkg-deb -x "$BDEB" "$WORK/busybox"
KVER=$(ls "$WORK/kernel/boot" | sed -n 's/^vmlinuz-//p' | head -n 1)
cp "$WORK/kernel/boot/vmlinuz-$KVER" "$OUT/vmlinuz.tmp"
mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"

# The initramfs: busybox, the workloads and init (no modules needed: the
# 8250 UART, ACPI power-off and the initramfs are built into the kernel).
R="$WORK/root"
mkdir -p "$R/bin" "$R/dev" "$R/proc" "$R/sys" "$R/tmp" "$R/bench"
cp "$WORK/busybox/bin/busybox" "$R/bin/busybox"
for n in $NAMES; do cp "$OUT/workloads/i386/$n" "$R/bench/$n"; done
if [ "$SET" = a ]; then
cat > "$R/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "bench: init marker kernel=$(uname -r)"
# Kernel messages (e.g. clocksource warnings in emulators) must not split the
# result lines: only emergencies reach the console from here on.
dmesg -n 1
for n in int mem fp sys; do
    reps=""
    for arg in $(cat /proc/cmdline); do
        case "$arg" in bench.$n=*) reps=${arg#bench.$n=} ;; esac
    done
    [ "$reps" = 0 ] && { echo "bench: skip $n"; continue; }
    echo "bench: begin $n"
    /bench/$n $reps || echo "bench: $n failed status=$?"
done
echo "bench: all done"
# Let the UART drain before the power goes (poweroff -f does not wait).
sleep 1
poweroff -f
INIT
chmod 755 "$R/init"
else
# Set b: a different init (selected by rdinit=, there is no /init), tmpfs on
# /tmp for the file workload, the workloads named in /bench/list.
mkdir -p "$R/sbin"
echo "$NAMES" > "$R/bench/list"
cat > "$R/sbin/bench-init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o size=48m tmpfs /tmp
dmesg -n 1
hostname bench-b
mem=$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)
echo "bench: init marker kernel=$(uname -r) set=b memtotal_kib=$mem"
cmdline=$(cat /proc/cmdline)
cd /tmp
for n in $(cat /bench/list); do
    reps=""
    for arg in $cmdline; do
        case "$arg" in bench.$n=*) reps=${arg#bench.$n=} ;; esac
    done
    if [ "$reps" = 0 ]; then
        echo "bench: skip $n"
        continue
    fi
    echo "bench: begin $n"
    BENCH_DIR=/tmp /bench/$n $reps || echo "bench: $n failed status=$?"
done
echo "bench: all done"
sleep 1
poweroff -f
INIT
chmod 755 "$R/sbin/bench-init"
fi
(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -9 -n > "$OUT/initrd.gz.tmp"
mv "$OUT/initrd.gz.tmp" "$OUT/initrd.gz"

# El Torito ISO with ISOLINUX (tests/bench/run makes its own when it needs a
# different kernel command line).
ISO="$WORK/iso"
mkdir -p "$ISO/isolinux"
cp "$ISOLINUX" "$LDLINUX" "$ISO/isolinux/"
cp "$OUT/vmlinuz" "$OUT/initrd.gz" "$ISO/"
cat > "$ISO/isolinux/isolinux.cfg" <<CFG
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND $APPEND
CFG
xorriso -as mkisofs -quiet -o "$OUT/boot.iso.tmp" -b isolinux/isolinux.bin -c isolinux/boot.cat \
    -no-emul-boot -boot-load-size 4 -boot-info-table -V SVBENCH "$ISO" 2>/dev/null
mv "$OUT/boot.iso.tmp" "$OUT/boot.iso"

rm -rf "$WORK"
cat > "$OUT/guest.conf" <<CONF
set=$SET
workloads=$NAMES
append=$APPEND
mem=$MEMMIB
quick=$QUICK
CONF
echo "$SRCSUM" > "$STAMP"
echo "bench-guest: built set $SET: vmlinuz ($KVER), initrd.gz, boot.iso, workloads in $OUT"
