/* Integer arithmetic and logic handlers: the eight ALU operations in all
 * forms, INC/DEC, TEST, NOT/NEG, MUL/IMUL/DIV/IDIV, CBW/CWD, XADD, CMPXCHG,
 * CMPXCHG8B (Intel SDM vol. 2 instruction pages). Flags are lazy where the
 * operation fits the flags.c kinds, eager otherwise. Memory operands are
 * written before flags/registers so a fault leaves no trace. */
#include "cpu/exec.h"

/* Computes op (0 ADD .. 7 CMP) and the lazy-flags kind; CMP is SUB. */
static uint32_t alu_do(struct cpu *c, int op, uint32_t a, uint32_t b, int *kind)
{
    int cin;
    switch (op) {
    case 0: *kind = LF_ADD; return a + b;
    case 1: *kind = LF_LOGIC; return a | b;
    case 2: cin = flags_cf_quick(c); *kind = cin ? LF_ADC : LF_ADD; return a + b + (uint32_t)cin;
    case 3: cin = flags_cf_quick(c); *kind = cin ? LF_SBB : LF_SUB; return a - b - (uint32_t)cin;
    case 4: *kind = LF_LOGIC; return a & b;
    case 6: *kind = LF_LOGIC; return a ^ b;
    default: *kind = LF_SUB; return a - b;   /* SUB, CMP */
    }
}

/* dest (r/m) op= src */
static void alu_rm(struct cpu *c, const struct insn *i, int op, uint32_t b, int size)
{
    uint32_t a, r;
    int kind;
    b &= sz_mask(size);
    if (i->mod == 3) {
        a = reg_get(c, i->rm, size);
        r = alu_do(c, op, a, b, &kind);
        if (op != 7)
            reg_set(c, i->rm, r, size);
    } else {
        uint32_t ea = insn_ea(c, i);
        a = mem_read(c, i->seg, ea, size);
        r = alu_do(c, op, a, b, &kind);
        if (op != 7)
            mem_write(c, i->seg, ea, r, size);
    }
    flags_set(c, kind, size, r, a, b);
}

/* dest (register r) op= src */
static void alu_reg(struct cpu *c, int reg, int op, uint32_t b, int size)
{
    int kind;
    uint32_t a = reg_get(c, reg, size);
    b &= sz_mask(size);
    uint32_t r = alu_do(c, op, a, b, &kind);
    if (op != 7)
        reg_set(c, reg, r, size);
    flags_set(c, kind, size, r, a, b);
}

void op_alu_eb_gb(struct cpu *c, const struct insn *i) { alu_rm(c, i, (i->opc >> 3) & 7, reg_get(c, i->reg, 1), 1); }
void op_alu_ev_gv(struct cpu *c, const struct insn *i) { alu_rm(c, i, (i->opc >> 3) & 7, reg_get(c, i->reg, i->opsize), i->opsize); }
void op_alu_gb_eb(struct cpu *c, const struct insn *i) { alu_reg(c, i->reg, (i->opc >> 3) & 7, rm_read(c, i, 1), 1); }
void op_alu_gv_ev(struct cpu *c, const struct insn *i) { alu_reg(c, i->reg, (i->opc >> 3) & 7, rm_read(c, i, i->opsize), i->opsize); }
void op_alu_al_ib(struct cpu *c, const struct insn *i) { alu_reg(c, R_EAX, (i->opc >> 3) & 7, i->imm, 1); }
void op_alu_eax_iz(struct cpu *c, const struct insn *i) { alu_reg(c, R_EAX, (i->opc >> 3) & 7, i->imm, i->opsize); }
void op_grp1_eb(struct cpu *c, const struct insn *i) { alu_rm(c, i, i->reg, i->imm, 1); }
void op_grp1_ev(struct cpu *c, const struct insn *i) { alu_rm(c, i, i->reg, i->imm, i->opsize); }

static void test(struct cpu *c, uint32_t a, uint32_t b, int size)
{
    flags_set(c, LF_LOGIC, size, a & b, a, b);
}

void op_test_eb_gb(struct cpu *c, const struct insn *i) { test(c, rm_read(c, i, 1), reg_get(c, i->reg, 1), 1); }
void op_test_ev_gv(struct cpu *c, const struct insn *i) { test(c, rm_read(c, i, i->opsize), reg_get(c, i->reg, i->opsize), i->opsize); }
void op_test_al_ib(struct cpu *c, const struct insn *i) { test(c, reg_get(c, R_EAX, 1), i->imm, 1); }
void op_test_eax_iz(struct cpu *c, const struct insn *i) { test(c, reg_get(c, R_EAX, i->opsize), i->imm, i->opsize); }

/* INC/DEC keep CF: fold it into eflags before recording the new operation. */
static void incdec_flags(struct cpu *c, int dec, int size, uint32_t r, uint32_t a)
{
    int kind = c->lf_op & 0xF;
    if (kind != LF_NONE && kind != LF_INC && kind != LF_DEC) {   /* else CF is in eflags already */
        int cf = flags_cf_quick(c);
        c->eflags = (c->eflags & ~FL_CF) | (cf ? FL_CF : 0);
    }
    flags_set(c, dec ? LF_DEC : LF_INC, size, r, a, 1);
}

void op_inc_zv(struct cpu *c, const struct insn *i)
{
    int r = i->opc & 7, s = i->opsize;
    uint32_t a = reg_get(c, r, s);
    reg_set(c, r, a + 1, s);
    incdec_flags(c, 0, s, a + 1, a);
}

void op_dec_zv(struct cpu *c, const struct insn *i)
{
    int r = i->opc & 7, s = i->opsize;
    uint32_t a = reg_get(c, r, s);
    reg_set(c, r, a - 1, s);
    incdec_flags(c, 1, s, a - 1, a);
}

void op_incdec_e(struct cpu *c, const struct insn *i)
{
    int s = insn_bsize(i), dec = i->reg == 1;
    uint32_t a, r;
    if (i->mod == 3) {
        a = reg_get(c, i->rm, s);
        r = dec ? a - 1 : a + 1;
        reg_set(c, i->rm, r, s);
    } else {
        uint32_t ea = insn_ea(c, i);
        a = mem_read(c, i->seg, ea, s);
        r = dec ? a - 1 : a + 1;
        mem_write(c, i->seg, ea, r, s);
    }
    incdec_flags(c, dec, s, r, a);
}

/* ---- MUL / IMUL / DIV / IDIV ---- */

static int32_t sext(uint32_t v, int size)
{
    return size == 1 ? (int8_t)v : size == 2 ? (int16_t)v : (int32_t)v;
}

/* Sets CF/OF from `overflow`, SF/ZF/PF from the low half (undefined), AF
 * clear: lazily (LF_MUL). */
static void mul_flags(struct cpu *c, int overflow, uint32_t lo, int size)
{
    flags_set(c, LF_MUL, size, lo, 0, overflow != 0);
}

static void mul(struct cpu *c, uint32_t b, int size, int sign)
{
    uint64_t p;
    uint32_t a = reg_get(c, R_EAX, size);
    if (sign)
        p = (uint64_t)((int64_t)sext(a, size) * sext(b, size));
    else
        p = (uint64_t)a * b;
    uint32_t lo = (uint32_t)p & sz_mask(size);
    uint32_t hi = (uint32_t)(p >> (size * 8)) & sz_mask(size);
    int ovf = sign ? (int64_t)p != (int64_t)sext(lo, size) : hi != 0;
    if (size == 1) {
        reg_set(c, R_EAX, (uint32_t)p, 2);
    } else {
        reg_set(c, R_EAX, lo, size);
        reg_set(c, R_EDX, hi, size);
    }
    mul_flags(c, ovf, lo, size);
}

static void divide(struct cpu *c, uint32_t b, int size, int sign)
{
    uint64_t n;
    if (size == 1)
        n = reg_get(c, R_EAX, 2);
    else
        n = (uint64_t)reg_get(c, R_EDX, size) << (size * 8) | reg_get(c, R_EAX, size);
    if ((b & sz_mask(size)) == 0)
        cpu_exception(c, EXC_DE, -1);
    uint32_t q, r;
    if (sign) {
        int64_t sn = size == 4 ? (int64_t)n : size == 2 ? (int32_t)(uint32_t)n : (int16_t)(uint16_t)n;
        int64_t d = sext(b, size);
        if (sn == INT64_MIN && d == -1)
            cpu_exception(c, EXC_DE, -1);
        int64_t sq = sn / d, sr = sn % d;
        int64_t lim = (int64_t)1 << (size * 8 - 1);
        if (sq >= lim || sq < -lim)
            cpu_exception(c, EXC_DE, -1);
        q = (uint32_t)sq;
        r = (uint32_t)sr;
    } else {
        uint64_t uq = n / b;
        if (uq > sz_mask(size))
            cpu_exception(c, EXC_DE, -1);
        q = (uint32_t)uq;
        r = (uint32_t)(n % b);
    }
    if (size == 1) {
        reg_set(c, R_EAX, (q & 0xFF) | (r & 0xFF) << 8, 2);
    } else {
        reg_set(c, R_EAX, q, size);
        reg_set(c, R_EDX, r, size);
    }
}

void op_grp3(struct cpu *c, const struct insn *i)
{
    int s = insn_bsize(i);
    uint32_t a, r, ea = 0;
    if (i->reg >= 4) {
        a = rm_read(c, i, s);
        if (i->reg < 6)
            mul(c, a, s, i->reg == 5);
        else
            divide(c, a, s, i->reg == 7);
        return;
    }
    if (i->reg < 2) {
        test(c, rm_read(c, i, s), i->imm, s);
        return;
    }
    if (i->mod == 3) {
        a = reg_get(c, i->rm, s);
    } else {
        ea = insn_ea(c, i);
        a = mem_read(c, i->seg, ea, s);
    }
    r = i->reg == 2 ? ~a : 0 - a;
    if (i->mod == 3)
        reg_set(c, i->rm, r, s);
    else
        mem_write(c, i->seg, ea, r, s);
    if (i->reg == 3)
        flags_set(c, LF_SUB, s, r, 0, a & sz_mask(s));
}

static void imul_to_reg(struct cpu *c, const struct insn *i, uint32_t a, uint32_t b)
{
    int s = i->opsize;
    int64_t p = (int64_t)sext(a, s) * sext(b, s);
    uint32_t lo = (uint32_t)p & sz_mask(s);
    reg_set(c, i->reg, lo, s);
    mul_flags(c, p != (int64_t)sext(lo, s), lo, s);
}

void op_imul_gv_ev_i(struct cpu *c, const struct insn *i) { imul_to_reg(c, i, rm_read(c, i, i->opsize), i->imm); }
void op_imul_gv_ev(struct cpu *c, const struct insn *i) { imul_to_reg(c, i, reg_get(c, i->reg, i->opsize), rm_read(c, i, i->opsize)); }

void op_cbw(struct cpu *c, const struct insn *i)
{
    if (i->opsize == 2)
        reg_set(c, R_EAX, (uint32_t)(int8_t)c->regs[R_EAX], 2);
    else
        c->regs[R_EAX] = (uint32_t)(int16_t)c->regs[R_EAX];
}

void op_cwd(struct cpu *c, const struct insn *i)
{
    if (i->opsize == 2)
        reg_set(c, R_EDX, (c->regs[R_EAX] & 0x8000) ? 0xFFFF : 0, 2);
    else
        c->regs[R_EDX] = (c->regs[R_EAX] & 0x80000000u) ? 0xFFFFFFFFu : 0;
}

/* ---- 486+: XADD, CMPXCHG, CMPXCHG8B ---- */

void op_xadd(struct cpu *c, const struct insn *i)
{
    int s = insn_bsize(i);
    uint32_t b = reg_get(c, i->reg, s), a, r;
    if (i->mod == 3) {
        a = reg_get(c, i->rm, s);
        r = a + b;
        reg_set(c, i->reg, a, s);
        reg_set(c, i->rm, r, s);
    } else {
        uint32_t ea = insn_ea(c, i);
        a = mem_read(c, i->seg, ea, s);
        r = a + b;
        mem_write(c, i->seg, ea, r, s);
        reg_set(c, i->reg, a, s);
    }
    flags_set(c, LF_ADD, s, r, a, b);
}

void op_cmpxchg(struct cpu *c, const struct insn *i)
{
    int s = insn_bsize(i);
    uint32_t acc = reg_get(c, R_EAX, s), src = reg_get(c, i->reg, s), d;
    uint32_t ea = i->mod == 3 ? 0 : insn_ea(c, i);
    d = i->mod == 3 ? reg_get(c, i->rm, s) : mem_read(c, i->seg, ea, s);
    uint32_t w = d == acc ? src : d;   /* the destination is always written */
    if (i->mod == 3)
        reg_set(c, i->rm, w, s);
    else
        mem_write(c, i->seg, ea, w, s);
    if (d != acc)
        reg_set(c, R_EAX, d, s);
    flags_set(c, LF_SUB, s, acc - d, acc, d);
}

void op_cmpxchg8b(struct cpu *c, const struct insn *i)
{
    uint32_t ea = insn_ea(c, i);
    uint32_t lo = mem_read(c, i->seg, ea, 4);
    uint32_t hi = mem_read(c, i->seg, (ea + 4) & addr_mask(i), 4);
    int eq = lo == c->regs[R_EAX] && hi == c->regs[R_EDX];
    uint32_t wlo = eq ? c->regs[R_EBX] : lo, whi = eq ? c->regs[R_ECX] : hi;
    cpu_probe_write(c, i->seg, ea, 8);
    mem_write(c, i->seg, ea, wlo, 4);
    mem_write(c, i->seg, (ea + 4) & addr_mask(i), whi, 4);
    if (!eq) {
        c->regs[R_EAX] = lo;
        c->regs[R_EDX] = hi;
    }
    flags_put(c, FL_ZF, eq ? FL_ZF : 0);
}
