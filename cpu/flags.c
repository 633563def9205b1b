/* Lazy EFLAGS evaluation for the interpreter (Intel SDM vol. 1, 3.4.3 and
 * appendix A "EFLAGS cross-reference"). Only the six arithmetic flags are
 * lazy; everything else is always in cpu->eflags. */
#include "cpu/flags.h"

static int parity_even(uint32_t v)
{
    v &= 0xFF;
    v ^= v >> 4;
    return !((0x6996 >> (v & 0xF)) & 1);
}

uint32_t flags_szp(uint32_t res, int size)
{
    uint32_t f = 0;
    res &= sz_mask(size);
    if (res == 0)
        f |= FL_ZF;
    if (res & sz_sign(size))
        f |= FL_SF;
    if (parity_even(res))
        f |= FL_PF;
    return f;
}

static int lf_size(const struct cpu *c)
{
    return 1 << ((c->lf_op >> 4) & 3);
}

static int carry(const struct cpu *c, int kind, uint32_t m)
{
    uint32_t a = c->lf_op1 & m, b = c->lf_op2 & m, r = c->lf_res;
    switch (kind) {
    case LF_ADD: return r < a;
    case LF_ADC: return r <= a;
    case LF_SUB: return a < b;
    case LF_SBB: return a <= b;
    case LF_INC: case LF_DEC: return (c->eflags & FL_CF) != 0;
    case LF_SHL: return c->lf_op2 <= 8u * (uint32_t)lf_size(c) ? (int)(((uint64_t)a << c->lf_op2) >> (8 * lf_size(c))) & 1 : 0;
    case LF_SHR: return (a >> (c->lf_op2 - 1)) & 1;
    case LF_MUL: return c->lf_op2 != 0;
    case LF_SAR: {
        unsigned sh = 32 - 8 * (unsigned)lf_size(c), n = c->lf_op2 - 1;
        return (int)(((int32_t)(a << sh) >> sh) >> (n > 31 ? 31 : n)) & 1;
    }
    default: return 0;
    }
}

uint32_t flags_compute(const struct cpu *c)
{
    int kind = c->lf_op & 0xF;
    if (kind == LF_NONE)
        return c->eflags & FL_ARITH;
    int size = lf_size(c);
    uint32_t m = sz_mask(size), sign = sz_sign(size);
    uint32_t a = c->lf_op1, b = c->lf_op2, r = c->lf_res;
    uint32_t f = flags_szp(r, size);
    if (carry(c, kind, m))
        f |= FL_CF;
    switch (kind) {
    case LF_ADD: case LF_ADC: case LF_INC:
        if ((a ^ r) & (b ^ r) & sign)
            f |= FL_OF;
        break;
    case LF_SUB: case LF_SBB: case LF_DEC:
        if ((a ^ b) & (a ^ r) & sign)
            f |= FL_OF;
        break;
    case LF_SHL:
        if (!(r & sign) != !(f & FL_CF))
            f |= FL_OF;
        return f;
    case LF_SHR:
        if (a & sign)
            f |= FL_OF;
        return f;
    case LF_MUL:
        if (b)
            f |= FL_OF;
        return f;
    default:
        return f;   /* logic: AF, CF, OF clear */
    }
    if ((a ^ b ^ r) & 0x10)
        f |= FL_AF;
    return f;
}

int flags_cf(const struct cpu *c)
{
    int kind = c->lf_op & 0xF;
    if (kind == LF_NONE)
        return (c->eflags & FL_CF) != 0;
    return carry(c, kind, sz_mask(lf_size(c)));
}

int flags_zf(const struct cpu *c)
{
    if ((c->lf_op & 0xF) == LF_NONE)
        return (c->eflags & FL_ZF) != 0;
    return c->lf_res == 0;
}

void flags_fold(struct cpu *c)
{
    if ((c->lf_op & 0xF) == LF_NONE)
        return;
    c->eflags = (c->eflags & ~FL_ARITH) | flags_compute(c);
    c->lf_op = LF_NONE;
}

/* Conditions straight from the operands of a CMP/SUB or a logic operation
 * (the usual producers for Jcc), without forming EFLAGS. */
static int cond_sub(const struct cpu *c, int cc, int size)
{
    uint32_t m = sz_mask(size), a = c->lf_op1 & m, b = c->lf_op2 & m, r = c->lf_res;
    unsigned sh = 32 - 8 * (unsigned)size;
    int32_t sa = (int32_t)(a << sh) >> sh, sb = (int32_t)(b << sh) >> sh;
    int t;
    switch (cc >> 1) {
    case 1: t = a < b; break;
    case 2: t = r == 0; break;
    case 3: t = a <= b; break;
    case 4: t = (r & sz_sign(size)) != 0; break;
    case 6: t = sa < sb; break;
    case 7: t = sa <= sb; break;
    default: return -1;
    }
    return t ^ (cc & 1);
}

static int cond_logic(const struct cpu *c, int cc, int size)
{
    uint32_t r = c->lf_res;
    int t, neg = (r & sz_sign(size)) != 0;
    switch (cc >> 1) {
    case 0: case 1: t = 0; break;           /* OF = CF = 0 */
    case 2: case 3: t = r == 0; break;      /* CF = 0 */
    case 4: case 6: t = neg; break;         /* SF (OF = 0) */
    case 7: t = r == 0 || neg; break;
    default: return -1;
    }
    return t ^ (cc & 1);
}

int cpu_cond(const struct cpu *c, int cc)
{
    int r, kind = c->lf_op & 0xF;
    if (kind == LF_SUB) {
        r = cond_sub(c, cc, lf_size(c));
        if (r >= 0)
            return r;
    } else if (kind == LF_LOGIC) {
        r = cond_logic(c, cc, lf_size(c));
        if (r >= 0)
            return r;
    }
    switch (cc >> 1) {
    case 0: r = (flags_compute(c) & FL_OF) != 0; break;
    case 1: r = flags_cf(c); break;
    case 2: r = flags_zf(c); break;
    case 3: r = flags_cf(c) || flags_zf(c); break;
    case 4: r = (flags_compute(c) & FL_SF) != 0; break;
    case 5: r = (flags_compute(c) & FL_PF) != 0; break;
    case 6: {
        uint32_t f = flags_compute(c);
        r = !(f & FL_SF) != !(f & FL_OF);
        break;
    }
    default: {
        uint32_t f = flags_compute(c);
        r = (f & FL_ZF) || (!(f & FL_SF) != !(f & FL_OF));
        break;
    }
    }
    return r ^ (cc & 1);
}

uint32_t cpu_get_eflags(struct cpu *cpu)
{
    flags_fold(cpu);
    return (cpu->eflags & 0x003F7FD5u) | 0x2u;
}

void cpu_set_eflags(struct cpu *cpu, uint32_t value, uint32_t change_mask)
{
    flags_fold(cpu);
    cpu->eflags = (cpu->eflags & ~change_mask) | (value & change_mask);
    cpu->eflags = (cpu->eflags & 0x003F7FD5u) | 0x2u;
}
