/* Specialised handlers for the most frequent instruction forms (32-bit
 * operand and address size: MOV, the ALU operations incl. ADC/SBB, TEST,
 * MOVZX, LEA, INC/DEC, IMUL, CMOVcc, PUSH/POP, CALL/RET/JMP near, shifts
 * of registers by constants, Jcc; MOV of 16-bit operands). The decoder
 * picks one after decoding; each does exactly what the general handler
 * does for that form (same memory accesses in the same order, same lazy
 * flags), only with the size, the operand kind and the operation fixed. */
#include "cpu/exec.h"

/* The effective address for 32-bit addressing. */
static inline uint32_t ea32(const struct cpu *c, const struct insn *i)
{
    uint32_t a = i->disp;
    if (i->base != NOREG)
        a += c->regs[i->base];
    if (i->index != NOREG)
        a += c->regs[i->index] << i->scale;
    return a;
}

/* ---- MOV, MOVZX, LEA ---- */

static void mov_rr_89(struct cpu *c, const struct insn *i) { c->regs[i->rm] = c->regs[i->reg]; }
static void mov_rr_8b(struct cpu *c, const struct insn *i) { c->regs[i->reg] = c->regs[i->rm]; }
static void mov_m_r(struct cpu *c, const struct insn *i) { mem_write(c, i->seg, ea32(c, i), c->regs[i->reg], 4); }
static void mov_r_m(struct cpu *c, const struct insn *i) { c->regs[i->reg] = mem_read(c, i->seg, ea32(c, i), 4); }
static void mov_m8_r8(struct cpu *c, const struct insn *i) { mem_write(c, i->seg, ea32(c, i), reg_get(c, i->reg, 1), 1); }
static void mov_r8_m8(struct cpu *c, const struct insn *i) { reg_set(c, i->reg, mem_read(c, i->seg, ea32(c, i), 1), 1); }
static void mov_m_i(struct cpu *c, const struct insn *i) { mem_write(c, i->seg, ea32(c, i), i->imm, 4); }
static void movzx_r_r8(struct cpu *c, const struct insn *i) { c->regs[i->reg] = reg_get(c, i->rm, 1); }
static void movzx_r_m8(struct cpu *c, const struct insn *i) { c->regs[i->reg] = mem_read(c, i->seg, ea32(c, i), 1); }
static void movzx_r_r16(struct cpu *c, const struct insn *i) { c->regs[i->reg] = c->regs[i->rm] & 0xFFFF; }
static void movzx_r_m16(struct cpu *c, const struct insn *i) { c->regs[i->reg] = mem_read(c, i->seg, ea32(c, i), 2); }
static void lea_r(struct cpu *c, const struct insn *i) { c->regs[i->reg] = ea32(c, i); }

/* ---- ALU ---- */

/* For each operation: register/register both ways, memory destination,
 * memory source, register/immediate, memory/immediate, EAX/immediate. */
#define ALU32(nm, kind, expr, store) ALU32C(nm, kind, expr, store, 0)
/* cin: the carry in, read only when need_cin (ADC, SBB) */
#define ALU32C(nm, kind, expr, store, need_cin)                                   \
    static void nm##_rr(struct cpu *c, const struct insn *i) /* Ev,Gv mod 3 */   \
    {                                                                             \
        int cin = (need_cin) ? flags_cf_quick(c) : 0;                             \
        (void)cin;                                                                \
        uint32_t a = c->regs[i->rm], b = c->regs[i->reg], r = (expr);            \
        if (store)                                                                \
            c->regs[i->rm] = r;                                                   \
        flags_set(c, kind, 4, r, a, b);                                           \
    }                                                                             \
    static void nm##_rr2(struct cpu *c, const struct insn *i) /* Gv,Ev mod 3 */  \
    {                                                                             \
        int cin = (need_cin) ? flags_cf_quick(c) : 0;                             \
        (void)cin;                                                                \
        uint32_t a = c->regs[i->reg], b = c->regs[i->rm], r = (expr);            \
        if (store)                                                                \
            c->regs[i->reg] = r;                                                  \
        flags_set(c, kind, 4, r, a, b);                                           \
    }                                                                             \
    static void nm##_mr(struct cpu *c, const struct insn *i) /* Ev,Gv memory */  \
    {                                                                             \
        int cin = (need_cin) ? flags_cf_quick(c) : 0;                             \
        (void)cin;                                                                \
        uint32_t ea = ea32(c, i), a = mem_read(c, i->seg, ea, 4);                \
        uint32_t b = c->regs[i->reg], r = (expr);                                 \
        if (store)                                                                \
            mem_write(c, i->seg, ea, r, 4);                                       \
        flags_set(c, kind, 4, r, a, b);                                           \
    }                                                                             \
    static void nm##_rm(struct cpu *c, const struct insn *i) /* Gv,Ev memory */  \
    {                                                                             \
        int cin = (need_cin) ? flags_cf_quick(c) : 0;                             \
        (void)cin;                                                                \
        uint32_t b = mem_read(c, i->seg, ea32(c, i), 4);                         \
        uint32_t a = c->regs[i->reg], r = (expr);                                 \
        if (store)                                                                \
            c->regs[i->reg] = r;                                                  \
        flags_set(c, kind, 4, r, a, b);                                           \
    }                                                                             \
    static void nm##_ri(struct cpu *c, const struct insn *i) /* Ev,I mod 3 */    \
    {                                                                             \
        int cin = (need_cin) ? flags_cf_quick(c) : 0;                             \
        (void)cin;                                                                \
        uint32_t a = c->regs[i->rm], b = i->imm, r = (expr);                     \
        if (store)                                                                \
            c->regs[i->rm] = r;                                                   \
        flags_set(c, kind, 4, r, a, b);                                           \
    }                                                                             \
    static void nm##_mi(struct cpu *c, const struct insn *i) /* Ev,I memory */   \
    {                                                                             \
        int cin = (need_cin) ? flags_cf_quick(c) : 0;                             \
        (void)cin;                                                                \
        uint32_t ea = ea32(c, i), a = mem_read(c, i->seg, ea, 4);                \
        uint32_t b = i->imm, r = (expr);                                          \
        if (store)                                                                \
            mem_write(c, i->seg, ea, r, 4);                                       \
        flags_set(c, kind, 4, r, a, b);                                           \
    }                                                                             \
    static void nm##_ai(struct cpu *c, const struct insn *i) /* eAX,Iz */        \
    {                                                                             \
        int cin = (need_cin) ? flags_cf_quick(c) : 0;                             \
        (void)cin;                                                                \
        uint32_t a = c->regs[R_EAX], b = i->imm, r = (expr);                     \
        if (store)                                                                \
            c->regs[R_EAX] = r;                                                   \
        flags_set(c, kind, 4, r, a, b);                                           \
    }

ALU32(add, LF_ADD, a + b, 1)
ALU32(or, LF_LOGIC, a | b, 1)
ALU32(and, LF_LOGIC, a & b, 1)
ALU32(sub, LF_SUB, a - b, 1)
ALU32(xor, LF_LOGIC, a ^ b, 1)
ALU32(cmp, LF_SUB, a - b, 0)
ALU32C(adc, cin ? LF_ADC : LF_ADD, a + b + (uint32_t)cin, 1, 1)
ALU32C(sbb, cin ? LF_SBB : LF_SUB, a - b - (uint32_t)cin, 1, 1)
ALU32(test, LF_LOGIC, a & b, 0)
#undef ALU32
#undef ALU32C

/* ---- shifts of a 32-bit register by an immediate (C1 /4-7, D1 /4-7) ---- */

static uint32_t shift_n(const struct insn *i)
{
    return i->opc == 0xD1 ? 1 : i->imm & 0x1F;
}

static void shl_ri(struct cpu *c, const struct insn *i)
{
    uint32_t n = shift_n(i), a = c->regs[i->rm];
    if (n) {
        c->regs[i->rm] = a << n;
        flags_set(c, LF_SHL, 4, a << n, a, n);
    }
}

static void shr_ri(struct cpu *c, const struct insn *i)
{
    uint32_t n = shift_n(i), a = c->regs[i->rm];
    if (n) {
        c->regs[i->rm] = a >> n;
        flags_set(c, LF_SHR, 4, a >> n, a, n);
    }
}

static void sar_ri(struct cpu *c, const struct insn *i)
{
    uint32_t n = shift_n(i), a = c->regs[i->rm], r = (uint32_t)((int32_t)a >> n);
    if (n) {
        c->regs[i->rm] = r;
        flags_set(c, LF_SAR, 4, r, a, n);
    }
}

/* ---- INC/DEC, IMUL, CMOVcc ---- */

/* INC/DEC keep CF: it is already in eflags after INC/DEC or with no
 * pending operation, else it is folded in first. */
static inline void incdec_flags32(struct cpu *c, int kind, uint32_t r, uint32_t a)
{
    int k = c->lf_op & 0xF;
    if (k != LF_NONE && k != LF_INC && k != LF_DEC)
        c->eflags = (c->eflags & ~FL_CF) | (flags_cf_quick(c) ? FL_CF : 0);
    flags_set(c, kind, 4, r, a, 1);
}

static void inc_r(struct cpu *c, const struct insn *i)    /* 40+r */
{
    uint32_t a = c->regs[i->opc & 7];
    c->regs[i->opc & 7] = a + 1;
    incdec_flags32(c, LF_INC, a + 1, a);
}

static void dec_r(struct cpu *c, const struct insn *i)    /* 48+r */
{
    uint32_t a = c->regs[i->opc & 7];
    c->regs[i->opc & 7] = a - 1;
    incdec_flags32(c, LF_DEC, a - 1, a);
}

static void incdec_rm(struct cpu *c, const struct insn *i)  /* FF /0, /1 mod 3 */
{
    uint32_t a = c->regs[i->rm], r = i->reg ? a - 1 : a + 1;
    c->regs[i->rm] = r;
    incdec_flags32(c, i->reg ? LF_DEC : LF_INC, r, a);
}

static void incdec_m(struct cpu *c, const struct insn *i)   /* FF /0, /1 memory */
{
    uint32_t ea = ea32(c, i), a = mem_read(c, i->seg, ea, 4), r = i->reg ? a - 1 : a + 1;
    mem_write(c, i->seg, ea, r, 4);
    incdec_flags32(c, i->reg ? LF_DEC : LF_INC, r, a);
}

static inline void imul32(struct cpu *c, const struct insn *i, uint32_t a, uint32_t b)
{
    int64_t p = (int64_t)(int32_t)a * (int32_t)b;
    uint32_t lo = (uint32_t)p;
    c->regs[i->reg] = lo;
    flags_set(c, LF_MUL, 4, lo, 0, p != (int64_t)(int32_t)lo);
}

static void imul_rr(struct cpu *c, const struct insn *i) { imul32(c, i, c->regs[i->reg], c->regs[i->rm]); }
static void imul_rm(struct cpu *c, const struct insn *i) { imul32(c, i, c->regs[i->reg], mem_read(c, i->seg, ea32(c, i), 4)); }
static void imul_rri(struct cpu *c, const struct insn *i) { imul32(c, i, c->regs[i->rm], i->imm); }
static void imul_rmi(struct cpu *c, const struct insn *i) { imul32(c, i, mem_read(c, i->seg, ea32(c, i), 4), i->imm); }

/* ---- stack: PUSH/POP r32, PUSH imm, CALL rel32, RET (32-bit SS) ---- */

static void push_r(struct cpu *c, const struct insn *i)
{
    uint32_t v = c->regs[i->opc & 7], esp = c->regs[R_ESP] - 4;
    if (SV_UNLIKELY(!stack32(c))) {
        cpu_push(c, v, 4);
        return;
    }
    mem_write(c, S_SS, esp, v, 4);
    c->regs[R_ESP] = esp;
}

static void push_i(struct cpu *c, const struct insn *i)
{
    uint32_t esp = c->regs[R_ESP] - 4;
    if (SV_UNLIKELY(!stack32(c))) {
        cpu_push(c, i->imm, 4);
        return;
    }
    mem_write(c, S_SS, esp, i->imm, 4);
    c->regs[R_ESP] = esp;
}

static void pop_r(struct cpu *c, const struct insn *i)
{
    if (SV_UNLIKELY(!stack32(c))) {
        c->regs[i->opc & 7] = cpu_pop(c, 4);
        return;
    }
    uint32_t esp = c->regs[R_ESP], v = mem_read(c, S_SS, esp, 4);
    c->regs[R_ESP] = esp + 4;
    c->regs[i->opc & 7] = v;    /* after ESP: POP ESP loads the popped value */
}

static void call_j(struct cpu *c, const struct insn *i)
{
    uint32_t target = c->eip + i->imm, esp = c->regs[R_ESP] - 4;
    if (SV_UNLIKELY(!stack32(c))) {
        op_call_jz(c, i);
        return;
    }
    if (target > c->segs[S_CS].limit)
        cpu_exception(c, EXC_GP, 0);
    mem_write(c, S_SS, esp, c->eip, 4);
    c->regs[R_ESP] = esp;
    c->eip = target;
}

static void ret_n(struct cpu *c, const struct insn *i)     /* C3 */
{
    if (SV_UNLIKELY(!stack32(c))) {
        op_ret(c, i);
        return;
    }
    uint32_t esp = c->regs[R_ESP], target = mem_read(c, S_SS, esp, 4);
    c->regs[R_ESP] = esp + 4;
    if (target > c->segs[S_CS].limit)
        cpu_exception(c, EXC_GP, 0);
    c->eip = target;
}

/* ---- 16-bit operands with 32-bit addressing ---- */

static void mov_m16_r(struct cpu *c, const struct insn *i) { mem_write(c, i->seg, ea32(c, i), c->regs[i->reg] & 0xFFFF, 2); }
static void mov_r16_m(struct cpu *c, const struct insn *i) { reg_set(c, i->reg, mem_read(c, i->seg, ea32(c, i), 2), 2); }
static void mov_m16_i(struct cpu *c, const struct insn *i) { mem_write(c, i->seg, ea32(c, i), i->imm & 0xFFFF, 2); }

/* ---- Jcc: conditions straight from the last CMP/SUB or logic result ---- */

/* 1/0 for condition cc when the lazy flags allow a shortcut, else -1. */
static inline int cond_quick(const struct cpu *c, int cc)
{
    uint32_t a = c->lf_op1, b = c->lf_op2, r = c->lf_res;
    int t;
    if (c->lf_op == (LF_SUB | 2 << 4)) {        /* 32-bit SUB/CMP */
        switch (cc >> 1) {
        case 1: t = a < b; break;
        case 2: t = r == 0; break;
        case 3: t = a <= b; break;
        case 4: t = (int32_t)r < 0; break;
        case 6: t = (int32_t)a < (int32_t)b; break;
        case 7: t = (int32_t)a <= (int32_t)b; break;
        default: return -1;
        }
    } else if (c->lf_op == (LF_LOGIC | 2 << 4)) {   /* 32-bit logic: CF = OF = 0 */
        switch (cc >> 1) {
        case 0: case 1: t = 0; break;
        case 2: case 3: t = r == 0; break;
        case 4: case 6: t = (int32_t)r < 0; break;
        case 7: t = (int32_t)r <= 0; break;
        default: return -1;
        }
    } else if (c->lf_op >> 4 == 2 && (cc >> 1 == 2 || cc >> 1 == 4)) {
        t = cc >> 1 == 2 ? r == 0 : (int32_t)r < 0;   /* ZF, SF of any 32-bit result */
    } else {
        return -1;
    }
    return t ^ (cc & 1);
}

/* cpu_jump_near for a 32-bit operand size, inline. */
static inline void jump32(struct cpu *c, uint32_t target)
{
    if (target > c->segs[S_CS].limit)
        cpu_exception(c, EXC_GP, 0);
    c->eip = target;
}

static void jmp_j(struct cpu *c, const struct insn *i) { jump32(c, c->eip + i->imm); }

#define JCC(cc)                                                   \
    static void jcc_##cc(struct cpu *c, const struct insn *i)    \
    {                                                             \
        int t = cond_quick(c, cc);                                \
        if (t < 0)                                                \
            t = cpu_cond(c, cc);                                  \
        if (t)                                                    \
            jump32(c, c->eip + i->imm);                           \
    }
JCC(0) JCC(1) JCC(2) JCC(3) JCC(4) JCC(5) JCC(6) JCC(7)
JCC(8) JCC(9) JCC(10) JCC(11) JCC(12) JCC(13) JCC(14) JCC(15)
#undef JCC
#define CMOV(cc)                                                  \
    static void cmov_##cc(struct cpu *c, const struct insn *i)   \
    {                                                             \
        uint32_t v = i->mod == 3 ? c->regs[i->rm] : mem_read(c, i->seg, ea32(c, i), 4); \
        int t = cond_quick(c, cc);                                \
        if (t < 0)                                                \
            t = cpu_cond(c, cc);                                  \
        if (t)                                                    \
            c->regs[i->reg] = v;                                  \
    }
CMOV(0) CMOV(1) CMOV(2) CMOV(3) CMOV(4) CMOV(5) CMOV(6) CMOV(7)
CMOV(8) CMOV(9) CMOV(10) CMOV(11) CMOV(12) CMOV(13) CMOV(14) CMOV(15)
#undef CMOV
static insn_fn *const cmov_forms[16] = {
    cmov_0, cmov_1, cmov_2, cmov_3, cmov_4, cmov_5, cmov_6, cmov_7,
    cmov_8, cmov_9, cmov_10, cmov_11, cmov_12, cmov_13, cmov_14, cmov_15
};
static insn_fn *const jcc_forms[16] = {
    jcc_0, jcc_1, jcc_2, jcc_3, jcc_4, jcc_5, jcc_6, jcc_7,
    jcc_8, jcc_9, jcc_10, jcc_11, jcc_12, jcc_13, jcc_14, jcc_15
};

/* Forms per operation 0-7 (ADD OR ADC SBB AND SUB XOR CMP); NULL: general. */
enum { F_RR, F_RR2, F_MR, F_RM, F_RI, F_MI, F_AI, F_N };
#define ROW(nm) { nm##_rr, nm##_rr2, nm##_mr, nm##_rm, nm##_ri, nm##_mi, nm##_ai }
static insn_fn *const alu_forms[8][F_N] = {
    ROW(add), ROW(or), ROW(adc), ROW(sbb), ROW(and), ROW(sub), ROW(xor), ROW(cmp)
};
static insn_fn *const test_forms[F_N] = ROW(test);
#undef ROW

static insn_fn *alu_form(int op, int form)
{
    return alu_forms[op & 7][form];
}

/* The specialised handler for a decoded instruction, or its own. */
static insn_fn *pick(const struct insn *i)
{
    int mem = i->mod != 3, op = (i->opc >> 3) & 7;
    switch (i->opc) {
    case 0x01: case 0x09: case 0x11: case 0x19: case 0x21: case 0x29: case 0x31: case 0x39:
        return alu_form(op, mem ? F_MR : F_RR);
    case 0x03: case 0x0B: case 0x13: case 0x1B: case 0x23: case 0x2B: case 0x33: case 0x3B:
        return alu_form(op, mem ? F_RM : F_RR2);
    case 0x05: case 0x0D: case 0x15: case 0x1D: case 0x25: case 0x2D: case 0x35: case 0x3D:
        return alu_form(op, F_AI);
    case 0x81: case 0x83:
        return alu_form(i->reg, mem ? F_MI : F_RI);
    case 0x85:
        return test_forms[mem ? F_MR : F_RR];
    case 0xA9:
        return test_forms[F_AI];
    case 0x88:
        return mem ? mov_m8_r8 : 0;
    case 0x89:
        return mem ? mov_m_r : mov_rr_89;
    case 0x8A:
        return mem ? mov_r8_m8 : 0;
    case 0x8B:
        return mem ? mov_r_m : mov_rr_8b;
    case 0x8D:
        return lea_r;
    case 0xC7:
        return mem && i->reg == 0 ? mov_m_i : 0;
    case 0xC1: case 0xD1:
        if (mem)
            return 0;
        return i->reg == 5 ? shr_ri : i->reg == 7 ? sar_ri : i->reg >= 4 ? shl_ri : 0;
    case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
    case 0x78: case 0x79: case 0x7A: case 0x7B: case 0x7C: case 0x7D: case 0x7E: case 0x7F:
    case 0x180: case 0x181: case 0x182: case 0x183: case 0x184: case 0x185: case 0x186: case 0x187:
    case 0x188: case 0x189: case 0x18A: case 0x18B: case 0x18C: case 0x18D: case 0x18E: case 0x18F:
        return jcc_forms[i->opc & 0xF];
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
        return inc_r;
    case 0x48: case 0x49: case 0x4A: case 0x4B: case 0x4C: case 0x4D: case 0x4E: case 0x4F:
        return dec_r;
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
        return push_r;
    case 0x58: case 0x59: case 0x5A: case 0x5B: case 0x5C: case 0x5D: case 0x5E: case 0x5F:
        return pop_r;
    case 0x68: case 0x6A:
        return push_i;
    case 0x69: case 0x6B:
        return mem ? imul_rmi : imul_rri;
    case 0x1AF:
        return mem ? imul_rm : imul_rr;
    case 0xE8:
        return call_j;
    case 0xE9: case 0xEB:
        return jmp_j;
    case 0xC3:
        return ret_n;
    case 0xFF:
        if (i->reg > 1)
            return 0;
        return mem ? incdec_m : incdec_rm;
    case 0x140: case 0x141: case 0x142: case 0x143: case 0x144: case 0x145: case 0x146: case 0x147:
    case 0x148: case 0x149: case 0x14A: case 0x14B: case 0x14C: case 0x14D: case 0x14E: case 0x14F:
        return cmov_forms[i->opc & 0xF];
    case 0x1B6:
        return mem ? movzx_r_m8 : movzx_r_r8;
    case 0x1B7:
        return mem ? movzx_r_m16 : movzx_r_r16;
    default:
        return 0;
    }
}

/* 16-bit operand forms with 32-bit addressing. */
static insn_fn *pick16(const struct insn *i)
{
    int mem = i->mod != 3;
    switch (i->opc) {
    case 0x89: return mem ? mov_m16_r : 0;
    case 0x8B: return mem ? mov_r16_m : 0;
    case 0xC7: return mem && i->reg == 0 ? mov_m16_i : 0;
    default: return 0;
    }
}

void insn_specialise(struct insn *i)
{
    fpu_specialise(i);   /* x87 forms, any address size */
    if (i->addrsize != 4 || i->fn == op_ud)
        return;
    insn_fn *f = i->opsize == 4 ? pick(i) : pick16(i);
    if (f)
        i->fn = f;
}
