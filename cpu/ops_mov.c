/* Data movement: MOV in all forms, MOVZX/MOVSX, LEA, XCHG, XLAT, PUSH/POP
 * (registers, memory, immediates, segment registers), PUSHA/POPA, ENTER/LEAVE,
 * LDS/LES/LFS/LGS/LSS, MOV Sreg (Intel SDM vol. 2). Segment loads go through
 * cpu_load_seg (protected) or cpu_load_seg_real (real/V86). */
#include "cpu/exec.h"

void cpu_load_sreg(struct cpu *c, int sreg, uint16_t sel)
{
    if (!cpu_pmode(c) || cpu_v86(c))
        cpu_load_seg_real(c, sreg, sel);
    else
        cpu_load_seg(c, sreg, sel);
}

void op_nop(struct cpu *c, const struct insn *i) { (void)c; (void)i; }

void op_mov_eb_gb(struct cpu *c, const struct insn *i) { rm_write(c, i, reg_get(c, i->reg, 1), 1); }
void op_mov_ev_gv(struct cpu *c, const struct insn *i) { rm_write(c, i, reg_get(c, i->reg, i->opsize), i->opsize); }
void op_mov_gb_eb(struct cpu *c, const struct insn *i) { reg_set(c, i->reg, rm_read(c, i, 1), 1); }
void op_mov_gv_ev(struct cpu *c, const struct insn *i) { reg_set(c, i->reg, rm_read(c, i, i->opsize), i->opsize); }
void op_mov_eb_ib(struct cpu *c, const struct insn *i) { rm_write(c, i, i->imm, 1); }
void op_mov_ev_iz(struct cpu *c, const struct insn *i) { rm_write(c, i, i->imm, i->opsize); }
void op_mov_zb_ib(struct cpu *c, const struct insn *i) { reg_set(c, i->opc & 7, i->imm, 1); }
void op_mov_zv_iv(struct cpu *c, const struct insn *i) { reg_set(c, i->opc & 7, i->imm, i->opsize); }
void op_mov_al_ob(struct cpu *c, const struct insn *i) { reg_set(c, R_EAX, mem_read(c, i->seg, i->disp, 1), 1); }
void op_mov_eax_ov(struct cpu *c, const struct insn *i) { reg_set(c, R_EAX, mem_read(c, i->seg, i->disp, i->opsize), i->opsize); }
void op_mov_ob_al(struct cpu *c, const struct insn *i) { mem_write(c, i->seg, i->disp, c->regs[R_EAX], 1); }
void op_mov_ov_eax(struct cpu *c, const struct insn *i) { mem_write(c, i->seg, i->disp, c->regs[R_EAX], i->opsize); }

void op_movzx(struct cpu *c, const struct insn *i)
{
    int s = (i->opc & 1) ? 2 : 1;
    reg_set(c, i->reg, rm_read(c, i, s), i->opsize);
}

void op_movsx(struct cpu *c, const struct insn *i)
{
    int s = (i->opc & 1) ? 2 : 1;
    reg_set(c, i->reg, (uint32_t)sext_to32(rm_read(c, i, s), s), i->opsize);
}

void op_lea(struct cpu *c, const struct insn *i) { reg_set(c, i->reg, insn_ea(c, i), i->opsize); }

void op_xchg_eb_gb(struct cpu *c, const struct insn *i)
{
    uint32_t a = rm_read(c, i, 1), b = reg_get(c, i->reg, 1);
    rm_write(c, i, b, 1);
    reg_set(c, i->reg, a, 1);
}

void op_xchg_ev_gv(struct cpu *c, const struct insn *i)
{
    int s = i->opsize;
    uint32_t a = rm_read(c, i, s), b = reg_get(c, i->reg, s);
    rm_write(c, i, b, s);
    reg_set(c, i->reg, a, s);
}

void op_xchg_zv(struct cpu *c, const struct insn *i)
{
    int r = i->opc & 7, s = i->opsize;
    uint32_t a = reg_get(c, r, s);
    reg_set(c, r, reg_get(c, R_EAX, s), s);
    reg_set(c, R_EAX, a, s);
}

void op_xlat(struct cpu *c, const struct insn *i)
{
    uint32_t off = (c->regs[R_EBX] + (c->regs[R_EAX] & 0xFF)) & addr_mask(i);
    reg_set(c, R_EAX, mem_read(c, i->seg, off, 1), 1);
}

/* ---- stack ---- */

void op_push_zv(struct cpu *c, const struct insn *i) { cpu_push(c, c->regs[i->opc & 7], i->opsize); }
void op_push_imm(struct cpu *c, const struct insn *i) { cpu_push(c, i->imm, i->opsize); }
void op_push_ev(struct cpu *c, const struct insn *i) { cpu_push(c, rm_read(c, i, i->opsize), i->opsize); }

void op_pop_zv(struct cpu *c, const struct insn *i)
{
    uint32_t v = cpu_pop(c, i->opsize);
    reg_set(c, i->opc & 7, v, i->opsize);
}

/* The address of a POP destination is computed after ESP moved. */
void op_pop_ev(struct cpu *c, const struct insn *i)
{
    uint32_t v = cpu_pop(c, i->opsize);
    rm_write(c, i, v, i->opsize);
}

static int sreg_of(const struct insn *i)
{
    switch (i->opc) {
    case 0x06: case 0x07: return S_ES;
    case 0x0E: return S_CS;
    case 0x16: case 0x17: return S_SS;
    case 0x1E: case 0x1F: return S_DS;
    case 0x1A0: case 0x1A1: return S_FS;
    default: return S_GS;
    }
}

/* P6: a 32-bit push of a segment register moves ESP by 4 but writes 16 bits. */
void op_push_sreg(struct cpu *c, const struct insn *i)
{
    uint16_t sel = c->segs[sreg_of(i)].sel;
    if (i->opsize == 2) {
        cpu_push(c, sel, 2);
        return;
    }
    uint32_t esp = c->regs[R_ESP];
    uint32_t nsp = stack32(c) ? esp - 4 : (esp & 0xFFFF0000u) | ((esp - 4) & 0xFFFF);
    mem_write(c, S_SS, stack32(c) ? nsp : nsp & 0xFFFF, sel, 2);
    c->regs[R_ESP] = nsp;
}

void op_pop_sreg(struct cpu *c, const struct insn *i)
{
    int s = sreg_of(i);
    uint16_t sel = (uint16_t)cpu_pop(c, i->opsize);
    cpu_load_sreg(c, s, sel);
    if (s == S_SS)
        c->intr_shadow = 1;
}

/* Reads the k-th stack slot above SS:ESP without moving ESP. */
static uint32_t stack_peek(struct cpu *c, uint32_t k, int size)
{
    uint32_t off = c->regs[R_ESP] + k * (uint32_t)size;
    return mem_read(c, S_SS, stack32(c) ? off : off & 0xFFFF, size);
}

static void stack_adjust(struct cpu *c, uint32_t bytes)
{
    uint32_t esp = c->regs[R_ESP];
    c->regs[R_ESP] = stack32(c) ? esp + bytes : (esp & 0xFFFF0000u) | ((esp + bytes) & 0xFFFF);
}

void op_pusha(struct cpu *c, const struct insn *i)
{
    uint32_t sp = c->regs[R_ESP];
    for (int r = 0; r < 8; r++)
        cpu_push(c, r == R_ESP ? sp : c->regs[r], i->opsize);
}

void op_popa(struct cpu *c, const struct insn *i)
{
    uint32_t v[8];
    for (int k = 0; k < 8; k++)
        v[7 - k] = stack_peek(c, (uint32_t)k, i->opsize);
    for (int r = 0; r < 8; r++)
        if (r != R_ESP)
            reg_set(c, r, v[r], i->opsize);
    stack_adjust(c, 8u * i->opsize);
}

void op_enter(struct cpu *c, const struct insn *i)
{
    int s = i->opsize, st = stack32(c) ? 4 : 2;
    uint32_t size = i->imm & 0xFFFF, level = i->imm2 & 31;
    uint32_t bp = reg_get(c, R_EBP, st);
    cpu_push(c, c->regs[R_EBP], s);
    uint32_t frame = reg_get(c, R_ESP, st);
    if (level) {
        for (uint32_t k = 1; k < level; k++) {
            bp = (bp - (uint32_t)s) & sz_mask(st);
            cpu_push(c, mem_read(c, S_SS, bp, s), s);
        }
        cpu_push(c, frame, s);
    }
    uint32_t nsp = (reg_get(c, R_ESP, st) - size) & sz_mask(st);
    if (size)
        mem_read(c, S_SS, nsp, 1);   /* the new stack top must be inside SS */
    reg_set(c, R_EBP, frame, s);
    reg_set(c, R_ESP, nsp, st);
}

void op_leave(struct cpu *c, const struct insn *i)
{
    int st = stack32(c) ? 4 : 2;
    uint32_t bp = reg_get(c, R_EBP, st);
    uint32_t v = mem_read(c, S_SS, bp, i->opsize);
    reg_set(c, R_ESP, bp + (uint32_t)i->opsize, st);
    reg_set(c, R_EBP, v, i->opsize);
}

/* ---- segment registers ---- */

void op_mov_ev_sw(struct cpu *c, const struct insn *i)
{
    if (i->reg > S_GS)
        cpu_exception(c, EXC_UD, -1);
    uint16_t sel = c->segs[i->reg].sel;
    if (i->mod == 3)
        reg_set(c, i->rm, sel, i->opsize);   /* P6 zero-extends into a 32-bit register */
    else
        mem_write(c, i->seg, insn_ea(c, i), sel, 2);
}

void op_mov_sw_ew(struct cpu *c, const struct insn *i)
{
    if (i->reg == S_CS || i->reg > S_GS)
        cpu_exception(c, EXC_UD, -1);
    cpu_load_sreg(c, i->reg, (uint16_t)rm_read(c, i, 2));
    if (i->reg == S_SS)
        c->intr_shadow = 1;
}

void op_lxs(struct cpu *c, const struct insn *i)
{
    int s;
    switch (i->opc) {
    case 0xC4: s = S_ES; break;
    case 0xC5: s = S_DS; break;
    case 0x1B2: s = S_SS; break;
    case 0x1B4: s = S_FS; break;
    default: s = S_GS; break;
    }
    uint32_t ea = insn_ea(c, i);
    uint32_t off = mem_read(c, i->seg, ea, i->opsize);
    uint16_t sel = (uint16_t)mem_read(c, i->seg, (ea + (uint32_t)i->opsize) & addr_mask(i), 2);
    cpu_load_sreg(c, s, sel);
    reg_set(c, i->reg, off, i->opsize);
}
