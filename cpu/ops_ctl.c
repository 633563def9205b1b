/* Control transfer: Jcc, JMP/CALL/RET near, LOOP/JCXZ, far CALL/JMP/RET (via
 * cpu_far_*), INT n/INT3/INTO/INT1/IRET (via cpu_deliver/cpu_iret), BOUND,
 * HLT (Intel SDM vol. 2; vol. 3, 20.2 for the V86 IOPL rules). A near
 * target outside CS.limit is #GP(0) before anything is pushed. */
#include "cpu/exec.h"

void cpu_jump_near(struct cpu *c, uint32_t target, int opsize)
{
    if (opsize == 2)
        target &= 0xFFFF;
    if (target > c->segs[S_CS].limit)
        cpu_exception(c, EXC_GP, 0);
    c->eip = target;
}

static void check_target(struct cpu *c, uint32_t target, int opsize)
{
    if (opsize == 2)
        target &= 0xFFFF;
    if (target > c->segs[S_CS].limit)
        cpu_exception(c, EXC_GP, 0);
}

void op_jcc(struct cpu *c, const struct insn *i)
{
    if (cpu_cond(c, i->opc & 0xF))
        cpu_jump_near(c, c->eip + i->imm, i->opsize);
}

void op_jmp_j(struct cpu *c, const struct insn *i) { cpu_jump_near(c, c->eip + i->imm, i->opsize); }
void op_jmp_ev(struct cpu *c, const struct insn *i) { cpu_jump_near(c, rm_read(c, i, i->opsize), i->opsize); }

static void call_near(struct cpu *c, uint32_t target, int opsize)
{
    check_target(c, target, opsize);
    cpu_push(c, c->eip, opsize);
    cpu_jump_near(c, target, opsize);
}

void op_call_jz(struct cpu *c, const struct insn *i) { call_near(c, c->eip + i->imm, i->opsize); }
void op_call_ev(struct cpu *c, const struct insn *i) { call_near(c, rm_read(c, i, i->opsize), i->opsize); }

void op_ret(struct cpu *c, const struct insn *i)
{
    uint32_t target = cpu_pop(c, i->opsize);
    if (i->opc == 0xC2) {
        uint32_t esp = c->regs[R_ESP], n = i->imm & 0xFFFF;
        c->regs[R_ESP] = stack32(c) ? esp + n : (esp & 0xFFFF0000u) | ((esp + n) & 0xFFFF);
    }
    cpu_jump_near(c, target, i->opsize);
}

void op_loop(struct cpu *c, const struct insn *i)
{
    uint32_t am = addr_mask(i), cnt = c->regs[R_ECX] & am;
    int jump;
    if (i->opc == 0xE3) {
        jump = cnt == 0;
    } else {
        cnt = (cnt - 1) & am;
        jump = cnt != 0;
        if (i->opc == 0xE1)
            jump = jump && flags_zf(c);
        else if (i->opc == 0xE0)
            jump = jump && !flags_zf(c);
    }
    if (jump)
        cpu_jump_near(c, c->eip + i->imm, i->opsize);
    if (i->opc != 0xE3)
        c->regs[R_ECX] = (c->regs[R_ECX] & ~am) | cnt;
}

/* ---- far transfers ---- */

void op_callf_ap(struct cpu *c, const struct insn *i) { cpu_far_call(c, (uint16_t)i->imm2, i->imm, i->opsize * 8, c->eip); }
void op_jmpf_ap(struct cpu *c, const struct insn *i) { cpu_far_jmp(c, (uint16_t)i->imm2, i->imm, i->opsize * 8, c->eip); }

static void far_ptr(struct cpu *c, const struct insn *i, uint16_t *sel, uint32_t *off)
{
    uint32_t ea = insn_ea(c, i);
    *off = mem_read(c, i->seg, ea, i->opsize);
    *sel = (uint16_t)mem_read(c, i->seg, (ea + (uint32_t)i->opsize) & addr_mask(i), 2);
}

void op_callf_mp(struct cpu *c, const struct insn *i)
{
    uint16_t sel;
    uint32_t off;
    far_ptr(c, i, &sel, &off);
    cpu_far_call(c, sel, off, i->opsize * 8, c->eip);
}

void op_jmpf_mp(struct cpu *c, const struct insn *i)
{
    uint16_t sel;
    uint32_t off;
    far_ptr(c, i, &sel, &off);
    cpu_far_jmp(c, sel, off, i->opsize * 8, c->eip);
}

void op_retf(struct cpu *c, const struct insn *i)
{
    cpu_far_ret(c, i->opsize * 8, i->opc == 0xCA ? (uint16_t)i->imm : 0);
}

/* ---- interrupts ---- */

/* Software interrupts in V86 mode with IOPL < 3 trap to the monitor. */
static void v86_iopl_check(struct cpu *c)
{
    if (cpu_v86(c) && (c->eflags & FL_IOPL) != FL_IOPL)
        cpu_exception(c, EXC_GP, 0);
}

void op_int(struct cpu *c, const struct insn *i)
{
    v86_iopl_check(c);
    cpu_deliver(c, (int)(i->imm & 0xFF), INTR_SOFTWARE, -1, c->eip);
}

void op_int3(struct cpu *c, const struct insn *i)
{
    (void)i;
    v86_iopl_check(c);
    cpu_deliver(c, EXC_BP, INTR_SOFTWARE, -1, c->eip);
}

void op_into(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (!(flags_compute(c) & FL_OF))
        return;
    v86_iopl_check(c);
    cpu_deliver(c, EXC_OF, INTR_SOFTWARE, -1, c->eip);
}

void op_int1(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_deliver(c, EXC_DB, INTR_ICEBP, -1, c->eip);
}

void op_iret(struct cpu *c, const struct insn *i)
{
    v86_iopl_check(c);
    flags_fold(c);
    cpu_iret(c, i->opsize * 8);
}

void op_bound(struct cpu *c, const struct insn *i)
{
    int s = i->opsize;
    uint32_t ea = insn_ea(c, i);
    int32_t lo = sext_to32(mem_read(c, i->seg, ea, s), s);
    int32_t hi = sext_to32(mem_read(c, i->seg, (ea + (uint32_t)s) & addr_mask(i), s), s);
    int32_t v = sext_to32(reg_get(c, i->reg, s), s);
    if (v < lo || v > hi)
        cpu_exception(c, EXC_BR, -1);
}

void cpu_need_cpl0(struct cpu *c)
{
    if (cpu_pmode(c) && (c->cpl != 0 || cpu_v86(c)))
        cpu_exception(c, EXC_GP, 0);
}

void op_hlt(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_need_cpl0(c);
    c->halted = 1;
}
