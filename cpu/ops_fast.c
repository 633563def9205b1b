/* Specialised handlers for the most frequent instruction forms (32-bit
 * operand and address size: MOV, the ALU operations, TEST, MOVZX, LEA with
 * register or memory operands, shifts of registers by constants, Jcc). The decoder picks one after decoding; each
 * does exactly what the general handler does for that form (same memory
 * accesses in the same order, same lazy flags), only with the size, the
 * operand kind and the operation fixed. ADC/SBB and 16-bit forms stay general. */
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
#define ALU32(nm, kind, expr, store)                                              \
    static void nm##_rr(struct cpu *c, const struct insn *i) /* Ev,Gv mod 3 */   \
    {                                                                             \
        uint32_t a = c->regs[i->rm], b = c->regs[i->reg], r = (expr);            \
        if (store)                                                                \
            c->regs[i->rm] = r;                                                   \
        flags_set(c, kind, 4, r, a, b);                                           \
    }                                                                             \
    static void nm##_rr2(struct cpu *c, const struct insn *i) /* Gv,Ev mod 3 */  \
    {                                                                             \
        uint32_t a = c->regs[i->reg], b = c->regs[i->rm], r = (expr);            \
        if (store)                                                                \
            c->regs[i->reg] = r;                                                  \
        flags_set(c, kind, 4, r, a, b);                                           \
    }                                                                             \
    static void nm##_mr(struct cpu *c, const struct insn *i) /* Ev,Gv memory */  \
    {                                                                             \
        uint32_t ea = ea32(c, i), a = mem_read(c, i->seg, ea, 4);                \
        uint32_t b = c->regs[i->reg], r = (expr);                                 \
        if (store)                                                                \
            mem_write(c, i->seg, ea, r, 4);                                       \
        flags_set(c, kind, 4, r, a, b);                                           \
    }                                                                             \
    static void nm##_rm(struct cpu *c, const struct insn *i) /* Gv,Ev memory */  \
    {                                                                             \
        uint32_t b = mem_read(c, i->seg, ea32(c, i), 4);                         \
        uint32_t a = c->regs[i->reg], r = (expr);                                 \
        if (store)                                                                \
            c->regs[i->reg] = r;                                                  \
        flags_set(c, kind, 4, r, a, b);                                           \
    }                                                                             \
    static void nm##_ri(struct cpu *c, const struct insn *i) /* Ev,I mod 3 */    \
    {                                                                             \
        uint32_t a = c->regs[i->rm], b = i->imm, r = (expr);                     \
        if (store)                                                                \
            c->regs[i->rm] = r;                                                   \
        flags_set(c, kind, 4, r, a, b);                                           \
    }                                                                             \
    static void nm##_mi(struct cpu *c, const struct insn *i) /* Ev,I memory */   \
    {                                                                             \
        uint32_t ea = ea32(c, i), a = mem_read(c, i->seg, ea, 4);                \
        uint32_t b = i->imm, r = (expr);                                          \
        if (store)                                                                \
            mem_write(c, i->seg, ea, r, 4);                                       \
        flags_set(c, kind, 4, r, a, b);                                           \
    }                                                                             \
    static void nm##_ai(struct cpu *c, const struct insn *i) /* eAX,Iz */        \
    {                                                                             \
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
ALU32(test, LF_LOGIC, a & b, 0)
#undef ALU32

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
    } else {
        return -1;
    }
    return t ^ (cc & 1);
}

#define JCC(cc)                                                   \
    static void jcc_##cc(struct cpu *c, const struct insn *i)    \
    {                                                             \
        int t = cond_quick(c, cc);                                \
        if (t < 0)                                                \
            t = cpu_cond(c, cc);                                  \
        if (t)                                                    \
            cpu_jump_near(c, c->eip + i->imm, 4);                 \
    }
JCC(0) JCC(1) JCC(2) JCC(3) JCC(4) JCC(5) JCC(6) JCC(7)
JCC(8) JCC(9) JCC(10) JCC(11) JCC(12) JCC(13) JCC(14) JCC(15)
#undef JCC
static insn_fn *const jcc_forms[16] = {
    jcc_0, jcc_1, jcc_2, jcc_3, jcc_4, jcc_5, jcc_6, jcc_7,
    jcc_8, jcc_9, jcc_10, jcc_11, jcc_12, jcc_13, jcc_14, jcc_15
};

/* Forms per operation 0-7 (ADD OR ADC SBB AND SUB XOR CMP); NULL: general. */
enum { F_RR, F_RR2, F_MR, F_RM, F_RI, F_MI, F_AI, F_N };
#define ROW(nm) { nm##_rr, nm##_rr2, nm##_mr, nm##_rm, nm##_ri, nm##_mi, nm##_ai }
static insn_fn *const alu_forms[8][F_N] = {
    ROW(add), ROW(or), { 0 }, { 0 }, ROW(and), ROW(sub), ROW(xor), ROW(cmp)
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
    case 0x01: case 0x09: case 0x21: case 0x29: case 0x31: case 0x39:
        return alu_form(op, mem ? F_MR : F_RR);
    case 0x03: case 0x0B: case 0x23: case 0x2B: case 0x33: case 0x3B:
        return alu_form(op, mem ? F_RM : F_RR2);
    case 0x05: case 0x0D: case 0x25: case 0x2D: case 0x35: case 0x3D:
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
    case 0x1B6:
        return mem ? movzx_r_m8 : movzx_r_r8;
    case 0x1B7:
        return mem ? movzx_r_m16 : movzx_r_r16;
    default:
        return 0;
    }
}

void insn_specialise(struct insn *i)
{
    if (i->opsize != 4 || i->addrsize != 4 || i->fn == op_ud)
        return;
    insn_fn *f = pick(i);
    if (f)
        i->fn = f;
}
