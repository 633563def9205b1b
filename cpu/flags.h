/* Lazy arithmetic flags: the last flag-setting ALU operation is recorded as
 * (op, size, result, operands) and CF/PF/AF/ZF/SF/OF are computed only when
 * somebody asks (Jcc, PUSHF, interrupts). Other EFLAGS bits live in
 * cpu->eflags. Encoding of cpu->lf_op: kind | size code << 4. */
#ifndef SV_FLAGS_H
#define SV_FLAGS_H
#include "cpu/cpu.h"

enum lf_kind {
    LF_NONE = 0,  /* all flags are in cpu->eflags */
    LF_ADD,       /* res = op1 + op2 */
    LF_ADC,       /* res = op1 + op2 + 1 (carry in was set) */
    LF_SUB,       /* res = op1 - op2 */
    LF_SBB,       /* res = op1 - op2 - 1 (borrow in was set) */
    LF_LOGIC,     /* CF = OF = AF = 0 */
    LF_INC,       /* like ADD with op2 = 1, CF kept in eflags */
    LF_DEC,       /* like SUB with op2 = 1, CF kept in eflags */
    LF_SHL,       /* res = op1 << op2 (count 1-31); AF = 0 */
    LF_SHR,       /* res = op1 >> op2, unsigned */
    LF_SAR,       /* res = op1 >> op2, signed */
    LF_MUL        /* MUL/IMUL: CF = OF = op2 (overflow), AF = 0, SF/ZF/PF of res */
};

#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

static inline uint32_t sz_mask(int size)
{
    return size == 4 ? 0xFFFFFFFFu : size == 2 ? 0xFFFFu : 0xFFu;
}

static inline uint32_t sz_sign(int size)
{
    return 1u << (size * 8 - 1);
}

static inline void flags_set(struct cpu *c, int kind, int size, uint32_t res, uint32_t a, uint32_t b)
{
    c->lf_op = (uint32_t)kind | (uint32_t)(size >> 1) << 4;   /* 1 -> 0, 2 -> 1, 4 -> 2 */
    c->lf_res = res & sz_mask(size);
    c->lf_op1 = a;
    c->lf_op2 = b;
}

/* CF of the pending lazy operation, inline for the 32-bit kinds that ADC,
 * SBB and INC/DEC usually follow. */
int flags_cf(const struct cpu *c);
static inline int flags_cf_quick(const struct cpu *c)
{
    switch (c->lf_op) {
    case LF_ADD | 2 << 4: return c->lf_res < c->lf_op1;
    case LF_ADC | 2 << 4: return c->lf_res <= c->lf_op1;
    case LF_SUB | 2 << 4: return c->lf_op1 < c->lf_op2;
    case LF_SBB | 2 << 4: return c->lf_op1 <= c->lf_op2;
    case LF_LOGIC | 2 << 4: return 0;
    default: return flags_cf(c);
    }
}

/* Computes the arithmetic flags of the pending lazy operation. */
uint32_t flags_compute(const struct cpu *c);
int flags_zf(const struct cpu *c);
/* Folds the lazy flags into cpu->eflags (lf_op becomes LF_NONE). */
void flags_fold(struct cpu *c);
/* Sets arithmetic flags explicitly (after folding): bits in `mask` from `val`. */
static inline void flags_put(struct cpu *c, uint32_t mask, uint32_t val)
{
    if ((mask & FL_ARITH) == FL_ARITH)
        c->lf_op = LF_NONE;   /* all six replaced: no need to compute the old ones */
    else
        flags_fold(c);
    c->eflags = (c->eflags & ~mask) | (val & mask);
}
/* SF, ZF and PF of a result, as EFLAGS bits. */
uint32_t flags_szp(uint32_t res, int size);
/* Condition code 0-15 as in Jcc/SETcc/CMOVcc. */
int cpu_cond(const struct cpu *c, int cc);

#endif
