#!/bin/sh
# One command-line test case: cli_test.sh CASE SOFTVISOR ROMDIR WORKDIR.
# Checks the exit status and that errors are exactly one line on stderr that
# names the file or option.
set -u
case_name=$1 sv=$2 romdir=$3 work=$4
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
demo=$romdir/demo.bin
bios=/usr/share/seabios/bios.bin
# The demo ROM only talks on the debug console; keep serial off stdin/stdout.
q="--serial null"

fail() { echo "FAIL ($case_name): $*" >&2; exit 1; }

# run EXPECTED_STATUS ARGS...: runs softvisor, keeps out/err, checks the status.
run() {
    want=$1; shift
    "$sv" "$@" >out 2>err
    got=$?
    [ "$got" -eq "$want" ] || { cat err >&2; fail "'$*' exited $got, expected $want"; }
}

# one_line PATTERN: stderr is exactly one line and contains PATTERN.
one_line() {
    n=$(wc -l <err)
    [ "$n" -eq 1 ] || { cat err >&2; fail "stderr has $n lines, expected 1"; }
    grep -q -- "$1" err || { cat err >&2; fail "stderr does not mention '$1'"; }
    [ ! -s out ] || fail "unexpected output on stdout: $(head -c 200 out)"
}

case $case_name in
help)
    run 0 --help
    for opt in --bios --rom --memory -m --headless --timeout --debugcon --stats --help \
               --serial --screen-dump --disk --cdrom --floppy --boot --kernel --initrd --append; do
        grep -q -- "$opt" out || fail "--help does not mention $opt"
    done
    for st in 0 1 2 3 4; do
        grep -q "^  $st  " out || fail "--help does not document exit status $st"
    done
    [ ! -s err ] || fail "--help wrote to stderr" ;;
seabios)
    # The distribution's SeaBIOS, headless, no disk: its log on the debug
    # console, its screen through the VGA BIOS, twice with the same result.
    [ -f "$bios" ] || { echo "SKIP: $bios not installed (package seabios)" >&2; exit 77; }
    for i in 1 2; do
        run 3 --headless --timeout 30 --debugcon log$i.txt --screen-dump screen$i.txt --stats $q
        grep "instructions retired" err >count$i
    done
    head -c 17 log1.txt | grep -q "^SeaBIOS (version" || fail "log does not begin with SeaBIOS (version"
    grep -q "SeaBIOS (version" screen1.txt || fail "no SeaBIOS banner on the screen"
    grep -q "No bootable device" screen1.txt || fail "screen does not show No bootable device"
    cmp -s log1.txt log2.txt || fail "two runs gave different logs"
    cmp -s count1 count2 || fail "two runs retired different instruction counts"
    cmp -s screen1.txt screen2.txt || fail "two runs gave different screens"
    # the interpreter alone gives the same bytes and count (the JIT is on by default)
    run 3 --no-jit --headless --timeout 30 --debugcon log3.txt --screen-dump screen3.txt --stats $q
    grep "instructions retired" err >count3
    cmp -s log1.txt log3.txt || fail "--no-jit gave a different log"
    cmp -s count1 count3 || fail "--no-jit retired a different instruction count"
    cmp -s screen1.txt screen3.txt || fail "--no-jit gave a different screen" ;;
memory_sizes)
    [ -f "$bios" ] || { echo "SKIP: $bios not installed (package seabios)" >&2; exit 77; }
    for m in 16 256 3000; do
        run 3 --timeout 2 -m $m --debugcon log$m.txt $q
        len=$(printf '%016x' $((m * 1024 * 1024)))
        grep -q "qemu/e820: addr 0x0000000000000000 len 0x$len \[RAM\]" log$m.txt ||
            fail "-m $m: SeaBIOS did not see $m MiB"
        top=$(printf '%016x' $((m * 1024 * 1024 - 4096)))
        grep -q "0000000000100000 - $top = 1 RAM" log$m.txt || fail "-m $m: e820 map wrong"
    done ;;
bad_bios_size)
    head -c 100000 /dev/zero >odd.bin
    run 1 --bios odd.bin; one_line "odd.bin: size 100000 bytes is not a multiple of 4 KiB" ;;
missing_disk)
    run 1 --disk nodisk.img --bios "$demo" $q; one_line "nodisk.img: No such file"
    run 1 --cdrom nocd.iso --bios "$demo" $q; one_line "nocd.iso: No such file" ;;
bad_kernel)
    printf 'not a kernel' >k.bin
    run 1 --kernel k.bin --bios "$demo" $q; one_line "k.bin: not a Linux bzImage or multiboot kernel"
    run 1 --kernel nok --bios "$demo" $q; one_line "nok: No such file"
    run 2 --initrd k.bin --bios "$demo" $q; one_line "--initrd: needs --kernel" ;;
bad_serial)
    run 1 --serial bogus:x --bios "$demo"; one_line "bogus:x: unknown character backend"
    run 1 --serial file:no-such-dir/x --bios "$demo"; one_line "no-such-dir/x" ;;
missing_rom)
    run 1 no-such-rom.bin; one_line "no-such-rom.bin: No such file" ;;
empty_rom)
    : >empty.bin
    run 1 empty.bin; one_line "empty.bin: empty file"
    run 1 --debugcon con.log empty.bin $q; one_line "empty.bin: empty file"
    [ ! -e con.log ] || fail "a refused ROM still created the debugcon file" ;;
truncated_rom)
    head -c 40000 "$demo" >trunc.bin
    run 1 trunc.bin; one_line "trunc.bin: size 40000 bytes is not a multiple of 4 KiB" ;;
oversized_rom)
    dd if=/dev/zero of=big.bin bs=4096 count=257 2>/dev/null
    run 1 big.bin; one_line "big.bin: size 1052672 bytes is larger than 1 MiB" ;;
directory_rom)
    mkdir adir
    run 1 adir; one_line "adir: not a regular file" ;;
unknown_option)
    run 2 --frobnicate "$demo"; one_line "--frobnicate: unknown option" ;;
bad_memory)
    run 2 -m lots "$demo"; one_line "-m: 'lots' is not a size in MiB"
    run 2 --memory=0 "$demo"; one_line "--memory: '0'"
    run 2 --memory 4096 "$demo"; one_line "--memory: '4096'"
    run 2 -m -5 "$demo"; one_line "-m: '-5'" ;;
memory_needs_value)
    run 2 "$demo" --memory; one_line "--memory: needs a value" ;;
bad_timeout)
    run 2 --timeout soon "$demo"; one_line "--timeout: 'soon' is not a positive number"
    run 2 --timeout=0 "$demo"; one_line "--timeout: '0'" ;;
two_roms)
    run 2 "$demo" "$demo"; one_line "only one is allowed" ;;
flag_with_value)
    run 2 --stats=yes "$demo"; one_line "--stats: takes no value" ;;
bad_debugcon_file)
    run 1 --debugcon no-such-dir/log "$demo" $q; one_line "no-such-dir/log: No such file" ;;
demo)
    run 0 --headless --debugcon stdio "$demo" $q
    cmp -s out "$here/demo.expected" || { diff "$here/demo.expected" out >&2; fail "demo output differs"; }
    [ ! -s err ] || { cat err >&2; fail "demo wrote to stderr"; } ;;
demo_rom_option)
    run 0 --rom="$demo" -m 8 --debugcon stdio $q
    cmp -s out "$here/demo.expected" || fail "demo output differs" ;;
demo_debugcon_file)
    run 0 --debugcon con.log --rom "$demo" $q
    [ ! -s out ] || fail "output on stdout despite --debugcon FILE"
    cmp -s con.log "$here/demo.expected" || fail "con.log differs from the expected demo output" ;;
demo_stats)
    run 0 --stats --debugcon stdio "$demo" $q
    cmp -s out "$here/demo.expected" || fail "demo output differs"
    for w in "instructions retired" "virtual time" "host time" MIPS "blocks executed" "hit rate" "TLB hits"; do
        grep -q "$w" err || fail "--stats does not report '$w'"
    done ;;
boot_floppy|boot_disk)
    # SeaBIOS boots our boot sector from a floppy or a hard disk image and
    # reads sector 2 through INT 13h.
    [ -f "$bios" ] || { echo "SKIP: $bios not installed (package seabios)" >&2; exit 77; }
    if [ $case_name = boot_floppy ]; then size=1474560; dev="--floppy"; boot=floppy; drv=00
    else size=$((4 * 1024 * 1024)); dev="--disk"; boot=disk; drv=80; fi
    head -c $size /dev/zero >img
    dd if="$romdir/bootsect.bin" of=img conv=notrunc 2>/dev/null
    printf 'hello from %s sector two' $boot | dd of=img bs=512 seek=1 conv=notrunc 2>/dev/null
    run 0 $dev img --boot $boot --timeout 10 --debugcon log.txt $q
    grep -q "^bootsect: booted from drive 0x$drv\$" log.txt || { tail -5 log.txt >&2; fail "boot sector did not run from drive $drv"; }
    grep -q "^bootsect: sector 2 says: hello from $boot sector two\$" log.txt || { tail -5 log.txt >&2; fail "sector 2 not read"; } ;;
irqtest)
    # Our ROM takes PIT, RTC and UART interrupts through the 8259s in real
    # and protected mode and reports on COM1.
    run 0 --bios "$romdir/irqtest.bin" --serial file:com1.txt
    cmp -s com1.txt "$here/irqtest.expected" || { diff "$here/irqtest.expected" com1.txt >&2; fail "irqtest output differs"; } ;;
demo_timeout)
    # 2 microseconds of virtual time = 200 instructions: stops before "done".
    run 3 --timeout 0.000002 --debugcon stdio "$demo" $q
    one_line_out=$(grep -c "demo: done" out)
    [ "$one_line_out" -eq 0 ] || fail "the demo finished despite the timeout"
    grep -q "timeout" err || fail "no timeout message" ;;
*)
    fail "unknown case" ;;
esac
exit 0
