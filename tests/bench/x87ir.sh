#!/bin/sh
# Host instructions (callgrind Ir) per guest x87 instruction, for each bench
# of softvisor-x87bench: two runs of different length, so that start-up
# cancels. Deterministic, unlike the timings on a shared machine.
# Usage: tests/bench/x87ir.sh [BUILD_DIR] [PC]   (default build, 64)
B=${1:-build}/tests/bench/softvisor-x87bench
PC=${2:-64}
N1=20 N2=120
ir() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$B" -1 -p "$PC" -i "$1" "$2" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
printf '%-14s %4s %12s %12s\n' bench pc Ir/iter Ir/insn
for b in nop fld_fstp_m64 fld_fstp_st0 fadd_m64 fmul_m64 fdiv_m64 faddp_st fmulp_st fsqrt \
         fild_fistp fcom_sahf fxch fadd_st fmul_st fld_st fcomi_st \
         fsin fcos fpatan f2xm1 fyl2x; do
    n=$("$B" -1 -p "$PC" -i 1 "$b" | sed -n 's/.*insns\/iter \([0-9]*\)/\1/p')
    a=$(ir $N1 "$b"); z=$(ir $N2 "$b")
    awk -v a="$a" -v z="$z" -v n="$n" -v b="$b" -v pc="$PC" -v d=$((N2 - N1)) \
        'BEGIN { it = (z - a) / d; printf "%-14s %4d %12.0f %12.1f\n", b, pc, it, it / n }'
done
