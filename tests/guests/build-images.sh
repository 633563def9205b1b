#!/bin/sh
# Builds the Linux test guests from Debian packages only (no other downloads):
#   OUT/vmlinuz        Debian's i386 686 kernel (non-PAE)
#   OUT/initrd.gz      busybox-static (i386) initramfs with the kernel's storage
#                      and filesystem modules; init gives a shell on ttyS0.
#                      Also /usr/bin/mawk with glibc's ld.so/libc/libm (i386):
#                      busybox-static's awk has no floating-point maths (and
#                      its shell runs applets before PATH), the tests need it.
#   OUT/disk.img       raw MBR disk: one FAT16 partition with SYSLINUX, kernel, initrd
#   OUT/boot.iso       El Torito ISO with ISOLINUX, kernel, initrd
# The i386 packages are fetched with apt-get download into OUT/apt, without
# touching the host's package state. Host tools needed: dpkg-deb, cpio, gzip,
# kmod (depmod), mtools, dosfstools, syslinux, syslinux-common, isolinux,
# xorriso, fdisk.
# Usage: tests/guests/build-images.sh [OUT]   (default: build/guests)
# Exit status: 0 built (or already up to date), 77 a tool is missing or the
# Debian archive cannot be reached (a line "guests: SKIPPED: reason" says so).
set -eu

OUT=${1:-build/guests}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
STAMP="$OUT/.complete-v5"
[ -f "$STAMP" ] && { echo "guests: up to date in $OUT"; exit 0; }

missing=""
for tool in dpkg-deb depmod cpio gzip mcopy mkfs.fat syslinux xorriso sfdisk apt-get; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
MBR=/usr/lib/syslinux/mbr/mbr.bin
ISOLINUX=/usr/lib/ISOLINUX/isolinux.bin
LDLINUX=/usr/lib/syslinux/modules/bios/ldlinux.c32
for f in $MBR $ISOLINUX $LDLINUX; do [ -f "$f" ] || missing="$missing $f"; done
if [ -n "$missing" ]; then
    echo "guests: SKIPPED: missing host tools:$missing (run scripts/setup.sh)" >&2
    exit 77
fi

APTDIR="$OUT/apt"
mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial" "$OUT/debs"
APT="-q -oAPT::Architecture=i386 -oAPT::Architectures=i386 -oDir::State::Lists=$APTDIR/lists -oDir::Cache=$APTDIR/cache"
# shellcheck disable=SC2086
apt-get $APT update >"$APTDIR/update.log" 2>&1 ||
    echo "guests: warning: apt-get update reported errors (see $APTDIR/update.log); using the lists it got" >&2
# shellcheck disable=SC2086
KPKG=$(apt-cache $APT search --names-only '^linux-image-[0-9.]+-[0-9]+-686-unsigned$' | awk '{print $1}' | sort -V | tail -n 1)
if [ -z "$KPKG" ]; then
    if grep -qE '^[WE]: .*(Failed to fetch|failed to download)' "$APTDIR/update.log"; then
        echo "guests: SKIPPED: cannot fetch the Debian i386 package lists (network?): $(grep -E '^[WE]: ' "$APTDIR/update.log" | head -n 1)" >&2
        exit 77
    fi
    echo "guests: no linux-image-*-686-unsigned package in the i386 lists" >&2
    exit 1
fi
echo "guests: using $KPKG, busybox-static, mawk and libc6 (i386)"
rm -f "$OUT"/debs/*.deb
# shellcheck disable=SC2086
if ! (cd "$OUT/debs" && apt-get $APT download "$KPKG" busybox-static:i386 mawk:i386 libc6:i386 >"$APTDIR/download.log" 2>&1); then
    echo "guests: SKIPPED: apt-get download failed (network?): $(grep '^E:' "$APTDIR/download.log" | head -n 1)" >&2
    exit 77
fi

WORK="$OUT/work"
rm -rf "$WORK"
mkdir -p "$WORK/kernel" "$WORK/busybox" "$WORK/root" "$WORK/awk"
dpkg-deb -x "$OUT"/debs/linux-image-*686-unsigned*.deb "$WORK/kernel"
dpkg-deb -x "$OUT"/debs/busybox-static_*.deb "$WORK/busybox"
dpkg-deb -x "$OUT"/debs/mawk_*.deb "$WORK/awk"
dpkg-deb -x "$OUT"/debs/libc6_*.deb "$WORK/awk"
KVER=$(ls "$WORK/kernel/lib/modules")
cp "$WORK/kernel/boot/vmlinuz-$KVER" "$OUT/vmlinuz"

# The initramfs: busybox, the modules for PIIX IDE disks/CD-ROMs and FAT/ISO
# filesystems (with their dependencies from modules.dep), and init.
R="$WORK/root"
mkdir -p "$R/bin" "$R/dev" "$R/proc" "$R/sys" "$R/tmp" "$R/mnt" "$R/lib/modules/$KVER"
cp "$WORK/busybox/bin/busybox" "$R/bin/busybox"
# mawk and the three glibc files it needs (ld.so, libc, libm).
mkdir -p "$R/usr/bin" "$R/lib/i386-linux-gnu"
cp "$WORK/awk/usr/bin/mawk" "$R/usr/bin/mawk"
for f in ld-linux.so.2 libc.so.6 libm.so.6; do
    cp "$WORK/awk/lib/i386-linux-gnu/$f" "$R/lib/i386-linux-gnu/$f"
done
ln -s i386-linux-gnu/ld-linux.so.2 "$R/lib/ld-linux.so.2"
MODS="ata_piix ata_generic sd_mod sr_mod isofs vfat nls_cp437 nls_iso8859-1 nls_ascii"
MDIR="$WORK/kernel/lib/modules/$KVER"
# The package ships no modules.dep (depmod makes it on install): make it here.
depmod -b "$WORK/kernel" "$KVER"
: > "$R/lib/modules/$KVER/modules.dep"
for m in $MODS; do
    line=$(awk -v m="$m" -F: '{ n=$1; sub(/.*\//, "", n); sub(/\.ko.*/, "", n); gsub(/-/, "_", n); mm=m; gsub(/-/, "_", mm); if (n == mm) print }' "$MDIR/modules.dep")
    [ -n "$line" ] || { echo "guests: module $m not in $KVER" >&2; exit 1; }
    for f in $(echo "$line" | tr -d ':'); do
        mkdir -p "$R/lib/modules/$KVER/$(dirname "$f")"
        cp "$MDIR/$f" "$R/lib/modules/$KVER/$f"
        grep -q "^$f:" "$R/lib/modules/$KVER/modules.dep" || grep "^$f:" "$MDIR/modules.dep" >> "$R/lib/modules/$KVER/modules.dep"
    done
done
cat > "$R/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/usr/bin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in ata_piix sd_mod sr_mod isofs vfat nls_cp437 nls_iso8859-1 nls_ascii; do
    modprobe "$m" 2>/dev/null
done
echo "softvisor-guest: init ready ($(uname -r))"
export PS1='guest# '
while true; do
    setsid cttyhack sh
done
INIT
chmod 755 "$R/init"
(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -9 -n > "$OUT/initrd.gz"

CMDLINE="console=ttyS0,115200"
# Raw disk: MBR (SYSLINUX's mbr.bin) + one bootable FAT16 partition at 1 MiB.
SIZE_MB=64
PART="$WORK/part.img"
rm -f "$PART"
mkfs.fat -C -F 16 -n SOFTVISOR "$PART" $(( (SIZE_MB - 1) * 1024 )) >/dev/null
cat > "$WORK/syslinux.cfg" <<CFG
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL vmlinuz
  INITRD initrd.gz
  APPEND $CMDLINE
CFG
mcopy -i "$PART" "$OUT/vmlinuz" "$OUT/initrd.gz" "$WORK/syslinux.cfg" ::/
syslinux --install "$PART"
dd if=/dev/zero of="$OUT/disk.img.tmp" bs=1M count=$SIZE_MB status=none
echo 'start=2048, type=6, bootable' | sfdisk -q "$OUT/disk.img.tmp"
dd if="$MBR" of="$OUT/disk.img.tmp" bs=440 count=1 conv=notrunc status=none
dd if="$PART" of="$OUT/disk.img.tmp" bs=512 seek=2048 conv=notrunc status=none
mv "$OUT/disk.img.tmp" "$OUT/disk.img"

# El Torito ISO with ISOLINUX.
ISO="$WORK/iso"
mkdir -p "$ISO/isolinux"
cp "$ISOLINUX" "$LDLINUX" "$ISO/isolinux/"
cp "$OUT/vmlinuz" "$OUT/initrd.gz" "$ISO/"
sed -e 's#KERNEL vmlinuz#KERNEL /vmlinuz#' -e 's#INITRD initrd.gz#INITRD /initrd.gz#' \
    "$WORK/syslinux.cfg" > "$ISO/isolinux/isolinux.cfg"
xorriso -as mkisofs -quiet -o "$OUT/boot.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat \
    -no-emul-boot -boot-load-size 4 -boot-info-table -V SOFTVISOR "$ISO" 2>/dev/null

rm -rf "$WORK"
echo "$KPKG" > "$STAMP"
echo "guests: built vmlinuz ($KVER), initrd.gz, disk.img, boot.iso in $OUT"
