/* The x87 FPU and MMX state of the CPU, and the entry points the opcode
 * table and the core call (cpu/fpu.c, cpu/mmx.c). Saved in snapshots:
 * fixed-width fields only. MMX registers alias the significands of the
 * physical registers R0-R7 (Intel SDM vol. 1, 9.5). */
#ifndef SV_FPU_H
#define SV_FPU_H
#include <stdint.h>

struct fpu {
    uint64_t mant[8];   /* physical registers R0-R7: significands (MM0-MM7) */
    uint16_t se[8];     /* sign and exponent of R0-R7 */
    uint16_t fcw;       /* control word */
    uint16_t fsw;       /* status word, TOP in bits 11-13 */
    uint16_t tags;      /* bit i set: R_i is not empty (the full tag word is
                           computed from the contents when stored) */
    uint16_t fop;       /* last non-control opcode: 11 bits */
    uint32_t fip, fdp;  /* last non-control instruction / memory operand offsets */
    uint16_t fcs, fds;  /* ... and their selectors */
};

/* FSW bits */
#define FSW_IE 0x0001u
#define FSW_SF 0x0040u
#define FSW_ES 0x0080u
#define FSW_C0 0x0100u
#define FSW_C1 0x0200u
#define FSW_C2 0x0400u
#define FSW_TOP 0x3800u
#define FSW_C3 0x4000u
#define FSW_B  0x8000u

struct cpu;
struct insn;

void fpu_reset(struct fpu *f);     /* power-on state */
void fpu_init(struct fpu *f);      /* FNINIT */
/* The full 16-bit tag word (2 bits per physical register) from contents. */
uint16_t fpu_tag_word(const struct fpu *f);

/* Handlers named in cpu/opcodes.def */
void op_fpu_esc(struct cpu *c, const struct insn *i);    /* D8-DF */
void op_fwait(struct cpu *c, const struct insn *i);      /* 9B */
void op_fxsave(struct cpu *c, const struct insn *i);     /* 0F AE /0 /1 */
void op_mmx(struct cpu *c, const struct insn *i);        /* 0F 6x 7x Dx Ex Fx */
void op_emms(struct cpu *c, const struct insn *i);       /* 0F 77 */
/* Swaps a decoded D8-DF instruction's handler for a specialised one of its
 * form (cpu/fpu_fast.c); the decoder calls it through insn_specialise. */
void fpu_specialise(struct insn *i);

/* The arithmetic of the JIT's x87 code (cpu/jit/jit_x86_64.c), in
 * cpu/fpu_fast.c: pure functions of register values (significand, sign and
 * exponent) for round to nearest with all exceptions masked (FCW & ~0300h
 * = FPU_JIT_FCW; 037Fh is Linux's default, 027Fh that of Windows and the
 * BSDs); `drop` is the number of significand bits below the precision
 * (0, 11 or 40, fpu_jit_drop). Results: `mant`, and in `x` the sign and
 * exponent (bits 0-15), the FSW flags with C1 (bits 16-31) and bit 63 set;
 * x = 0 when the fast path does not apply (an operand not normal or zero,
 * a result out of the normal range): then the compiled code runs the
 * instruction's handler, which decides everything again. */
#define FPU_JIT_FCW 0x007Fu
/* drop for precision control pc (FCW bits 8-9): byte pc of this word */
#define FPU_JIT_DROPS 0x000B0028u
struct fpu_jit_res {
    uint64_t mant, x;
};
struct fpu_jit_res fpu_jit_add(uint64_t ma, uint32_t sa, uint64_t mb, uint32_t sb, unsigned drop);
struct fpu_jit_res fpu_jit_mul(uint64_t ma, uint32_t sa, uint64_t mb, uint32_t sb, unsigned drop);
struct fpu_jit_res fpu_jit_div(uint64_t ma, uint32_t sa, uint64_t mb, uint32_t sb, unsigned drop);
/* FCOMI of a and b (zeros, normals): EFLAGS ZF PF CF, or 0x80000000 */
uint32_t fpu_jit_comi(uint64_t ma, uint32_t sa, uint64_t mb, uint32_t sb);
/* The binary64 / binary32 image of a value for FST m64 / m32 in `mant` */
struct fpu_jit_res fpu_jit_to_f64(uint64_t m, uint32_t se);
struct fpu_jit_res fpu_jit_to_f32(uint64_t m, uint32_t se);

/* Shared by fpu.c and mmx.c: #NM/#UD/#MF checks before an MMX instruction,
 * and the state change after it (TOP = 0, all tags valid). */
void fpu_mmx_enter(struct cpu *c);
void fpu_mmx_done(struct cpu *c);

#endif
