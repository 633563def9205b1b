/* The decoded instruction: one plain record per instruction, shared by the
 * interpreter, the block cache, the tracer and (later) the JIT. The decoder
 * (cpu/decode.c) fills it from the table in cpu/opcodes.def; every handler
 * has the same signature and finds its operands in named fields. */
#ifndef SV_INSN_H
#define SV_INSN_H
#include <stdint.h>

struct cpu;
struct insn;
typedef void insn_fn(struct cpu *cpu, const struct insn *i);

/* The "VMM lens" class (DESIGN.md): what a trap-and-emulate or VT-x monitor
 * would make of the instruction. */
enum insn_class {
    IC_NONE = 0,    /* plain user instruction */
    IC_PRIV,        /* privileged: #GP at CPL > 0, traps under trap-and-emulate */
    IC_SENS,        /* sensitive but unprivileged: silently misbehaves deprivileged */
    IC_IO,          /* port I/O (IOPL / I/O bitmap) */
    IC_IOPL,        /* IOPL-sensitive flag change (CLI/STI) */
    IC_CREG,        /* control/debug register access (also privileged) */
    IC_VMEXIT,      /* unconditionally intercepted by VT-x (CPUID, INVD, ...) */
    IC_COUNT
};

/* Operand tokens in Intel-manual notation (SDM vol. 2, appendix A). Only the
 * ones that change decoding matter to the decoder; the rest name operands for
 * disassembly. */
enum opd {
    o_ = 0,
    Eb, Ew, Ed, Ev, Ex,          /* ModRM r/m (Ex: any size, ESC) */
    Gb, Gw, Gv, Gd, Sw,          /* ModRM reg */
    M, Mp, Ma, Mq, Ms,           /* ModRM memory only */
    Rd, Cd, Dd,                  /* ModRM r/m always a register (MOV CRn) */
    Ib, Ibs, Iw, Iz, Iv,         /* immediates (Ibs: sign-extended byte) */
    Jb, Jz, Ap, Ob, Ov,          /* relative, far pointer, moffs */
    Zb, Zv, Zd,                  /* register in the low opcode bits */
    AL, CL, DX, eAX, One,        /* implicit */
    Xb, Xv, Yb, Yv,              /* string operands DS:SI / ES:DI */
    sES, sCS, sSS, sDS, sFS, sGS /* implicit segment registers */
};

/* Table entry flags */
#define OPF_LOCK 0x01   /* LOCK allowed (with a memory destination) */
#define OPF_END  0x02   /* ends the decoded block (control transfer, mode change) */

struct opdesc {
    const char *name;
    insn_fn *fn;
    uint8_t opd[3];
    uint8_t cls;
    uint8_t flags;
};

/* Key into the opcode table: one-byte opcodes 0x00-0xFF, 0F xx as 0x100-0x1FF;
 * slot 8 for "no group", 0-7 for ModRM.reg of a group opcode. */
#define OPKEY(opc, reg) ((opc) * 9 + ((reg) < 0 ? 8 : (reg)))
#define OPTAB_SIZE (0x200 * 9)
extern const struct opdesc opcode_table[OPTAB_SIZE];

#define NOREG 0xFF
enum { REP_NONE = 0, REP_E = 1, REP_NE = 2 };

struct insn {
    insn_fn *fn;        /* handler */
    uint32_t disp;      /* displacement (sign-extended); moffs offset */
    uint32_t imm;       /* first immediate; relative target displacement; far offset */
    uint32_t imm2;      /* second immediate (ENTER level, far selector) */
    uint16_t opc;       /* 0x000-0x1FF */
    uint16_t key;       /* opcode_table index (name, operands, class) */
    uint8_t len;        /* bytes, prefixes included */
    uint8_t opsize;     /* 2 or 4 */
    uint8_t addrsize;   /* 2 or 4 */
    uint8_t seg;        /* effective segment of the memory operand (S_*) */
    uint8_t seg_ovr;    /* segment override prefix, or S_NONE */
    uint8_t rep;        /* REP_* */
    uint8_t lock;
    uint8_t has_modrm, modrm, mod, reg, rm;
    uint8_t has_sib, sib;
    uint8_t base, index, scale;   /* address registers (NOREG: none) */
    uint8_t cls;        /* enum insn_class */
    uint8_t flags;      /* F_* from the table */
    uint8_t nprefix;    /* prefix bytes */
    uint8_t follow;     /* a JMP its decoded block goes on past, at the target (cpu/block.c) */
};

/* Decodes one instruction. fetch(ctx, n) returns byte n of the instruction
 * or -1 when it cannot be fetched. default32: CS.D. Returns 0, DEC_FETCH
 * (i->len = index of the byte that failed) or DEC_TOOLONG (> 15 bytes). An
 * undefined opcode decodes to the #UD handler, not an error. */
enum { DEC_OK = 0, DEC_FETCH = -1, DEC_TOOLONG = -2 };
typedef int decode_fetch_fn(void *ctx, unsigned n);
int decode_insn(struct insn *i, decode_fetch_fn *fetch, void *ctx, int default32);
/* Swaps in a specialised handler for frequent forms (cpu/ops_fast.c); the
 * decoder calls it last. */
void insn_specialise(struct insn *i);
/* A conditional jump with a relative target (Jcc rel8/rel32; not JCXZ or
 * LOOP): in 32-bit code it does not end a decoded block (cpu/block.c). */
static inline int insn_is_jcc(const struct insn *i)
{
    return (i->opc >= 0x70 && i->opc <= 0x7F) || (i->opc >= 0x180 && i->opc <= 0x18F);
}
/* JMP rel8/rel32 with a 32-bit operand size (no truncation of the target). */
static inline int insn_is_jmp_rel32(const struct insn *i)
{
    return (i->opc == 0xE9 || i->opc == 0xEB) && i->opsize == 4;
}
/* The EIP of the instruction after i (at eip) in its decoded block: the
 * next one in memory, or a followed JMP's target. */
static inline uint32_t insn_next_in_block(const struct insn *i, uint32_t eip, uint32_t mask)
{
    return (eip + i->len + (i->follow ? i->imm : 0u)) & mask;
}
/* Mnemonic of a decoded instruction ("ADD", "(bad)"). */
const char *insn_name(const struct insn *i);

/* Handlers named in opcodes.def */
#define X(name, opc, reg, o1, o2, o3, fn, cls, fl) insn_fn fn;
#include "cpu/opcodes.def"
#undef X
insn_fn op_ud;

#endif
