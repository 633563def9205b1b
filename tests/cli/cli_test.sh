#!/bin/sh
# One command-line test case: cli_test.sh CASE SOFTVISOR ROMDIR WORKDIR.
# Checks the exit status and that errors are exactly one line on stderr that
# names the file or option.
set -u
case_name=$1 sv=$2 romdir=$3 work=$4
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
demo=$romdir/demo.bin

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
    for opt in --rom --memory -m --headless --timeout --debugcon --stats --help; do
        grep -q -- "$opt" out || fail "--help does not mention $opt"
    done
    for st in 0 1 2 3 4; do
        grep -q "^  $st  " out || fail "--help does not document exit status $st"
    done
    [ ! -s err ] || fail "--help wrote to stderr" ;;
no_rom)
    run 2; one_line "no ROM" ;;
missing_rom)
    run 1 no-such-rom.bin; one_line "no-such-rom.bin: No such file" ;;
empty_rom)
    : >empty.bin
    run 1 empty.bin; one_line "empty.bin: empty file"
    run 1 --debugcon con.log empty.bin; one_line "empty.bin: empty file"
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
    run 1 --debugcon no-such-dir/log "$demo"; one_line "no-such-dir/log: No such file" ;;
demo)
    run 0 --headless "$demo"
    cmp -s out "$here/demo.expected" || { diff "$here/demo.expected" out >&2; fail "demo output differs"; }
    [ ! -s err ] || { cat err >&2; fail "demo wrote to stderr"; } ;;
demo_rom_option)
    run 0 --rom="$demo" -m 8
    cmp -s out "$here/demo.expected" || fail "demo output differs" ;;
demo_debugcon_file)
    run 0 --debugcon con.log --rom "$demo"
    [ ! -s out ] || fail "output on stdout despite --debugcon FILE"
    cmp -s con.log "$here/demo.expected" || fail "con.log differs from the expected demo output" ;;
demo_stats)
    run 0 --stats "$demo"
    cmp -s out "$here/demo.expected" || fail "demo output differs"
    for w in "instructions retired" "virtual time" "host time" MIPS "blocks run" "TLB hits"; do
        grep -q "$w" err || fail "--stats does not report '$w'"
    done ;;
demo_timeout)
    # 2 microseconds of virtual time = 200 instructions: stops before "done".
    run 3 --timeout 0.000002 "$demo"
    one_line_out=$(grep -c "demo: done" out)
    [ "$one_line_out" -eq 0 ] || fail "the demo finished despite the timeout"
    grep -q "timeout" err || fail "no timeout message" ;;
*)
    fail "unknown case" ;;
esac
exit 0
