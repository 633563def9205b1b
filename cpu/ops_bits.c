/* Shifts and rotates (count masked to 5 bits, RCL/RCR through CF), SHLD/SHRD,
 * BT/BTS/BTR/BTC with register bit offsets reaching outside the operand in
 * memory, BSF/BSR, SETcc, CMOVcc, BSWAP, the BCD adjusts and the simple flag
 * instructions (Intel SDM vol. 2). Undefined flags get a fixed, documented
 * value: AF = 0 after shifts, SZP from the result after MUL/BCD. */
#include "cpu/exec.h"

/* ---- shifts and rotates ---- */

static uint32_t shift_count(struct cpu *c, const struct insn *i)
{
    switch (i->opc) {
    case 0xD0: case 0xD1: return 1;
    case 0xD2: case 0xD3: return c->regs[R_ECX] & 0x1F;
    default: return i->imm & 0x1F;
    }
}

/* Computes dest op= count; returns the result and sets *f (CF/OF and for
 * shifts SZP/AF) with *mask the flags it defines. */
static uint32_t shift_do(struct cpu *c, int op, uint32_t a, uint32_t n, int size, uint32_t *f, uint32_t *mask)
{
    unsigned bits = (unsigned)size * 8;
    uint32_t m = sz_mask(size), sign = sz_sign(size), r, cf;
    a &= m;
    switch (op) {
    case 0: {   /* ROL */
        unsigned k = n % bits;
        r = k ? ((a << k) | (a >> (bits - k))) & m : a;
        cf = r & 1;
        *f = (cf ? FL_CF : 0) | ((!!(r & sign) ^ cf) ? FL_OF : 0);
        *mask = FL_CF | FL_OF;
        return r;
    }
    case 1: {   /* ROR */
        unsigned k = n % bits;
        r = k ? ((a >> k) | (a << (bits - k))) & m : a;
        cf = !!(r & sign);
        *f = (cf ? FL_CF : 0) | ((cf ^ !!(r & (sign >> 1))) ? FL_OF : 0);
        *mask = FL_CF | FL_OF;
        return r;
    }
    case 2: case 3: {   /* RCL, RCR: rotate through a bits+1 wide value */
        unsigned k = n % (bits + 1);
        uint64_t v = (uint64_t)a | (uint64_t)flags_cf(c) << bits;
        uint64_t all = ((uint64_t)1 << (bits + 1)) - 1;
        if (k)
            v = op == 2 ? ((v << k) | (v >> (bits + 1 - k))) & all
                        : ((v >> k) | (v << (bits + 1 - k))) & all;
        r = (uint32_t)v & m;
        cf = (uint32_t)(v >> bits) & 1;
        int of = op == 2 ? (!!(r & sign) ^ cf) : (!!(r & sign) ^ !!(r & (sign >> 1)));
        *f = (cf ? FL_CF : 0) | (of ? FL_OF : 0);
        *mask = FL_CF | FL_OF;
        return r;
    }
    case 4: case 6:     /* SHL/SAL */
        r = n < 32 ? (a << n) & m : 0;
        cf = n <= bits ? (uint32_t)(((uint64_t)a << n) >> bits) & 1 : 0;
        *f = flags_szp(r, size) | (cf ? FL_CF : 0) | ((!!(r & sign) ^ cf) ? FL_OF : 0);
        break;
    case 5:             /* SHR */
        r = a >> n;
        cf = (a >> (n - 1)) & 1;
        *f = flags_szp(r, size) | (cf ? FL_CF : 0) | ((a & sign) ? FL_OF : 0);
        break;
    default: {          /* SAR */
        int32_t s = sext_to32(a, size);
        r = (uint32_t)(s >> (n > 31 ? 31 : n)) & m;
        cf = (uint32_t)(s >> (n - 1 > 31 ? 31 : n - 1)) & 1;
        *f = flags_szp(r, size) | (cf ? FL_CF : 0);
        break;
    }
    }
    *mask = FL_ARITH;
    return r;
}

/* The result of SHL/SAL (4, 6), SHR (5) or SAR (7) by n (1-31) of a masked value. */
static uint32_t shift_lazy(int op, uint32_t a, uint32_t n, int size)
{
    if (op == 5)
        return a >> n;
    if (op == 7) {
        unsigned sh = 32 - 8 * (unsigned)size;
        return (uint32_t)(((int32_t)(a << sh) >> sh) >> n) & sz_mask(size);
    }
    return (a << n) & sz_mask(size);
}

void op_shift(struct cpu *c, const struct insn *i)
{
    int s = insn_bsize(i);
    uint32_t n = shift_count(c, i), a, r, f, mask, ea = 0;
    if (i->mod == 3) {
        a = reg_get(c, i->rm, s);
    } else {
        ea = insn_ea(c, i);
        a = mem_read(c, i->seg, ea, s);
    }
    if (n == 0)
        return;
    if (i->reg >= 4) {          /* SHL/SHR/SAR: lazy flags (flags.c) */
        r = shift_lazy(i->reg, a & sz_mask(s), n, s);
        if (i->mod == 3)
            reg_set(c, i->rm, r, s);
        else
            mem_write(c, i->seg, ea, r, s);
        flags_set(c, i->reg == 5 ? LF_SHR : i->reg == 7 ? LF_SAR : LF_SHL, s, r, a & sz_mask(s), n);
        return;
    }
    r = shift_do(c, i->reg, a, n, s, &f, &mask);
    if (i->mod == 3)
        reg_set(c, i->rm, r, s);
    else
        mem_write(c, i->seg, ea, r, s);
    flags_put(c, mask, f);
}

void op_shld_shrd(struct cpu *c, const struct insn *i)
{
    int s = i->opsize, left = i->opc < 0x1AC;
    uint32_t n = ((i->opc & 1) ? c->regs[R_ECX] : i->imm) & 0x1F;
    uint32_t b = reg_get(c, i->reg, s), a, r, cf, ea = 0;
    if (i->mod == 3) {
        a = reg_get(c, i->rm, s);
    } else {
        ea = insn_ea(c, i);
        a = mem_read(c, i->seg, ea, s);
    }
    if (n == 0)
        return;
    unsigned bits = (unsigned)s * 8;
    if (left) {
        uint64_t v = ((uint64_t)a << bits | b) << n;
        r = (uint32_t)(v >> bits) & sz_mask(s);
        cf = n <= bits ? (a >> (bits - n)) & 1 : (b >> (2 * bits - n)) & 1;
    } else {
        uint64_t v = (uint64_t)b << bits | a;
        r = (uint32_t)(v >> n) & sz_mask(s);
        cf = (uint32_t)(v >> (n - 1)) & 1;
    }
    if (i->mod == 3)
        reg_set(c, i->rm, r, s);
    else
        mem_write(c, i->seg, ea, r, s);
    uint32_t f = flags_szp(r, s) | (cf ? FL_CF : 0) | (((r ^ a) & sz_sign(s)) ? FL_OF : 0);
    flags_put(c, FL_ARITH, f);
}

/* ---- bit tests ---- */

static void bt_common(struct cpu *c, const struct insn *i, uint32_t off, int from_reg)
{
    int s = i->opsize, op = from_reg ? (i->opc >> 3) & 3 : i->reg & 3;
    /* op: 0 BT, 1 BTS, 2 BTR, 3 BTC (0F A3/AB/B3/BB and 0F BA /4-7) */
    uint32_t bits = (uint32_t)s * 8, a, ea = 0;
    if (i->mod == 3) {
        a = reg_get(c, i->rm, s);
        off &= bits - 1;
    } else {
        ea = insn_ea(c, i);
        if (from_reg) {
            int32_t so = s == 2 ? (int16_t)off : (int32_t)off;
            ea = (ea + (uint32_t)((so >> (s == 2 ? 4 : 5)) * s)) & addr_mask(i);
        }
        off &= bits - 1;
        a = mem_read(c, i->seg, ea, s);
    }
    uint32_t bit = 1u << off, r = a;
    if (op == 1)
        r = a | bit;
    else if (op == 2)
        r = a & ~bit;
    else if (op == 3)
        r = a ^ bit;
    if (op) {
        if (i->mod == 3)
            reg_set(c, i->rm, r, s);
        else
            mem_write(c, i->seg, ea, r, s);
    }
    flags_put(c, FL_CF, (a & bit) ? FL_CF : 0);
}

void op_bt_ev_gv(struct cpu *c, const struct insn *i) { bt_common(c, i, reg_get(c, i->reg, i->opsize), 1); }
void op_bt_ev_ib(struct cpu *c, const struct insn *i) { bt_common(c, i, i->imm & 0xFF, 0); }

void op_bsf_bsr(struct cpu *c, const struct insn *i)
{
    int s = i->opsize;
    uint32_t v = rm_read(c, i, s);
    if (v == 0) {
        flags_put(c, FL_ZF, FL_ZF);
        return;
    }
    int k;
    if (i->opc == 0x1BC)
        for (k = 0; !(v >> k & 1); k++)
            ;
    else
        for (k = s * 8 - 1; !(v >> k & 1); k--)
            ;
    reg_set(c, i->reg, (uint32_t)k, s);
    flags_put(c, FL_ZF, 0);
}

void op_setcc(struct cpu *c, const struct insn *i) { rm_write(c, i, (uint32_t)cpu_cond(c, i->opc & 0xF), 1); }

void op_cmovcc(struct cpu *c, const struct insn *i)
{
    uint32_t v = rm_read(c, i, i->opsize);
    if (cpu_cond(c, i->opc & 0xF))
        reg_set(c, i->reg, v, i->opsize);
}

void op_bswap(struct cpu *c, const struct insn *i)
{
    int r = i->opc & 7;
    uint32_t v = c->regs[r];
    if (i->opsize == 2)
        reg_set(c, r, 0, 2);   /* undefined; P6 and later clear the word */
    else
        c->regs[r] = v >> 24 | (v >> 8 & 0xFF00) | (v << 8 & 0xFF0000) | v << 24;
}

/* ---- BCD ---- */

static uint32_t eflags_now(struct cpu *c)
{
    flags_fold(c);
    return c->eflags;
}

void op_daa(struct cpu *c, const struct insn *i)
{
    (void)i;
    uint32_t f = eflags_now(c), al = c->regs[R_EAX] & 0xFF, old = al, nf = 0;
    int cf = (f & FL_CF) != 0;
    if ((al & 0xF) > 9 || (f & FL_AF)) {
        al += 6;
        nf |= FL_AF;
        if (al > 0xFF)
            cf = 1;
    }
    if (old > 0x99 || (f & FL_CF)) {
        al += 0x60;
        cf = 1;
    } else {
        cf = 0;
    }
    reg_set(c, R_EAX, al, 1);
    flags_put(c, FL_ARITH, nf | flags_szp(al, 1) | (cf ? FL_CF : 0));
}

void op_das(struct cpu *c, const struct insn *i)
{
    (void)i;
    uint32_t f = eflags_now(c), al = c->regs[R_EAX] & 0xFF, old = al, nf = 0;
    int cf = 0;
    if ((al & 0xF) > 9 || (f & FL_AF)) {
        cf = (f & FL_CF) || al < 6;
        al -= 6;
        nf |= FL_AF;
    }
    if (old > 0x99 || (f & FL_CF)) {
        al -= 0x60;
        cf = 1;
    }
    reg_set(c, R_EAX, al, 1);
    flags_put(c, FL_ARITH, nf | flags_szp(al, 1) | (cf ? FL_CF : 0));
}

static void ascii_adjust(struct cpu *c, int sub)
{
    uint32_t f = eflags_now(c), ax = c->regs[R_EAX] & 0xFFFF, nf = 0;
    if ((ax & 0xF) > 9 || (f & FL_AF)) {
        ax = sub ? ax - 0x106 : ax + 0x106;
        nf = FL_AF | FL_CF;
    }
    ax = (ax & 0xFF0F);
    reg_set(c, R_EAX, ax, 2);
    flags_put(c, FL_ARITH, nf | flags_szp(ax, 1));
}

void op_aaa(struct cpu *c, const struct insn *i) { (void)i; ascii_adjust(c, 0); }
void op_aas(struct cpu *c, const struct insn *i) { (void)i; ascii_adjust(c, 1); }

void op_aam(struct cpu *c, const struct insn *i)
{
    uint32_t base = i->imm & 0xFF, al = c->regs[R_EAX] & 0xFF;
    if (base == 0)
        cpu_exception(c, EXC_DE, -1);
    uint32_t r = al % base;
    reg_set(c, R_EAX, (al / base) << 8 | r, 2);
    flags_put(c, FL_ARITH, flags_szp(r, 1));
}

void op_aad(struct cpu *c, const struct insn *i)
{
    uint32_t base = i->imm & 0xFF, ax = c->regs[R_EAX];
    uint32_t r = ((ax & 0xFF) + ((ax >> 8) & 0xFF) * base) & 0xFF;
    reg_set(c, R_EAX, r, 2);
    flags_put(c, FL_ARITH, flags_szp(r, 1));
}

/* ---- flag instructions ---- */

void op_flagop(struct cpu *c, const struct insn *i)
{
    switch (i->opc) {
    case 0xF8: flags_put(c, FL_CF, 0); break;
    case 0xF9: flags_put(c, FL_CF, FL_CF); break;
    case 0xFC: c->eflags &= ~FL_DF; break;
    default: c->eflags |= FL_DF; break;
    }
}

void op_cmc(struct cpu *c, const struct insn *i)
{
    (void)i;
    flags_put(c, FL_CF, flags_cf(c) ? 0 : FL_CF);
}

void op_sahf(struct cpu *c, const struct insn *i)
{
    (void)i;
    uint32_t m = FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF;
    flags_put(c, m, (c->regs[R_EAX] >> 8) & m);
}

void op_lahf(struct cpu *c, const struct insn *i)
{
    (void)i;
    uint32_t f = eflags_now(c);
    reg_set(c, R_ESP, ((f & 0xD5) | 2), 1);   /* AH is byte register 4 */
}

void op_salc(struct cpu *c, const struct insn *i)
{
    (void)i;
    reg_set(c, R_EAX, flags_cf(c) ? 0xFF : 0, 1);
}
