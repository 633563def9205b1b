/* System and flag-control instructions: PUSHF/POPF and CLI/STI with their
 * IOPL/VM rules, MOV CRn/DRn, LGDT/LIDT/SGDT/SIDT, LLDT/LTR/SLDT/STR,
 * LMSW/SMSW/CLTS, LAR/LSL/VERR/VERW/ARPL, INVLPG/INVD/WBINVD, CPUID, RDTSC,
 * RDMSR/WRMSR, RDPMC, SYSENTER/SYSEXIT, WAIT and ESC (Intel SDM vol. 2/3).
 * No FPU yet: ESC is #NM when CR0.EM or CR0.TS is set, otherwise a no-op that
 * still evaluates (reads) its memory operand, like a CPU without a coprocessor
 * that ignores the escape. Not modelled: VME/PVI, debug-register breakpoints. */
#include "cpu/exec.h"

static int iopl(const struct cpu *c)
{
    return (int)((c->eflags & FL_IOPL) >> 12);
}

static void need_pmode(struct cpu *c)
{
    if (!cpu_pmode(c) || cpu_v86(c))
        cpu_exception(c, EXC_UD, -1);
}

/* ---- flags ---- */

void op_pushf(struct cpu *c, const struct insn *i)
{
    if (cpu_v86(c) && iopl(c) < 3)
        cpu_exception(c, EXC_GP, 0);
    uint32_t f = cpu_get_eflags(c) & ~(FL_VM | FL_RF);
    cpu_push(c, f, i->opsize);
}

void op_popf(struct cpu *c, const struct insn *i)
{
    if (cpu_v86(c) && iopl(c) < 3)
        cpu_exception(c, EXC_GP, 0);
    uint32_t v = cpu_pop(c, i->opsize);
    uint32_t mask = FL_ARITH | FL_TF | FL_DF | FL_IF | FL_IOPL | FL_NT | FL_AC | FL_ID;
    if (cpu_pmode(c)) {
        if (c->cpl > 0 || cpu_v86(c))
            mask &= ~FL_IOPL;
        if (!cpu_v86(c) && c->cpl > iopl(c))
            mask &= ~FL_IF;
    }
    if (i->opsize == 2)
        mask &= 0xFFFF;
    cpu_set_eflags(c, v, mask | FL_RF);
    c->eflags &= ~FL_RF;
}

void op_cli(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (cpu_pmode(c) && c->cpl > iopl(c))
        cpu_exception(c, EXC_GP, 0);
    c->eflags &= ~FL_IF;
}

void op_sti(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (cpu_pmode(c) && c->cpl > iopl(c))
        cpu_exception(c, EXC_GP, 0);
    if (!(c->eflags & FL_IF))
        c->intr_shadow = 1;
    c->eflags |= FL_IF;
}

/* ---- control and debug registers ---- */

void op_mov_r_cr(struct cpu *c, const struct insn *i)
{
    cpu_need_cpl0(c);
    uint32_t v;
    switch (i->reg) {
    case 0: v = c->cr0; break;
    case 2: v = c->cr2; break;
    case 3: v = c->cr3; break;
    case 4: v = c->cr4; break;
    default: cpu_exception(c, EXC_UD, -1);
    }
    c->regs[i->rm] = v;
}

#define CR4_VALID 0x000006FFu   /* VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT */

void op_mov_cr_r(struct cpu *c, const struct insn *i)
{
    cpu_need_cpl0(c);
    uint32_t v = c->regs[i->rm];
    switch (i->reg) {
    case 0:
        if (((v & CR0_PG) && !(v & CR0_PE)) || ((v & CR0_NW) && !(v & CR0_CD)))
            cpu_exception(c, EXC_GP, 0);
        cpu_set_cr0(c, v);
        break;
    case 2: c->cr2 = v; break;
    case 3: cpu_set_cr3(c, v); break;
    case 4:
        if (v & ~CR4_VALID)
            cpu_exception(c, EXC_GP, 0);
        cpu_set_cr4(c, v);
        break;
    default: cpu_exception(c, EXC_UD, -1);
    }
}

static int dr_index(struct cpu *c, int r)
{
    if (r == 4 || r == 5) {
        if (c->cr4 & 0x8)          /* CR4.DE: DR4/DR5 are reserved */
            cpu_exception(c, EXC_UD, -1);
        return r + 2;
    }
    return r;
}

void op_mov_r_dr(struct cpu *c, const struct insn *i)
{
    cpu_need_cpl0(c);
    c->regs[i->rm] = c->dr[dr_index(c, i->reg)];
}

void op_mov_dr_r(struct cpu *c, const struct insn *i)
{
    cpu_need_cpl0(c);
    int r = dr_index(c, i->reg);
    uint32_t v = c->regs[i->rm];
    if (r == 6)
        v = (v & 0x0000E00Fu) | 0xFFFF0FF0u;
    else if (r == 7)
        v = (v & 0xFFFF2BFFu) | 0x400;
    c->dr[r] = v;
}

/* ---- descriptor tables and task register ---- */

void op_lgdt_lidt(struct cpu *c, const struct insn *i)
{
    cpu_need_cpl0(c);
    uint32_t ea = insn_ea(c, i);
    uint32_t limit = mem_read(c, i->seg, ea, 2);
    uint32_t base = mem_read(c, i->seg, (ea + 2) & addr_mask(i), 4);
    if (i->opsize == 2)
        base &= 0xFFFFFF;
    struct seg *s = &c->sys[i->reg == 2 ? SYS_GDTR : SYS_IDTR];
    s->base = base;
    s->limit = limit;
}

void op_sgdt_sidt(struct cpu *c, const struct insn *i)
{
    const struct seg *s = &c->sys[i->reg == 0 ? SYS_GDTR : SYS_IDTR];
    uint32_t ea = insn_ea(c, i);
    uint32_t base = i->opsize == 2 ? s->base & 0xFFFFFF : s->base;
    cpu_probe_write(c, i->seg, ea, 6);
    mem_write(c, i->seg, ea, s->limit, 2);
    mem_write(c, i->seg, (ea + 2) & addr_mask(i), base, 4);
}

void op_sldt_str(struct cpu *c, const struct insn *i)
{
    need_pmode(c);
    uint16_t sel = c->sys[i->reg == 0 ? SYS_LDTR : SYS_TR].sel;
    if (i->mod == 3)
        reg_set(c, i->rm, sel, i->opsize);
    else
        mem_write(c, i->seg, insn_ea(c, i), sel, 2);
}

void op_lldt_ltr(struct cpu *c, const struct insn *i)
{
    need_pmode(c);
    cpu_need_cpl0(c);
    uint16_t sel = (uint16_t)rm_read(c, i, 2);
    if (i->reg == 2)
        cpu_lldt(c, sel);
    else
        cpu_ltr(c, sel);
}

void op_verr_verw(struct cpu *c, const struct insn *i)
{
    need_pmode(c);
    uint16_t sel = (uint16_t)rm_read(c, i, 2);
    int zf = i->reg == 4 ? cpu_verr(c, sel) : cpu_verw(c, sel);
    flags_put(c, FL_ZF, zf ? FL_ZF : 0);
}

void op_lar_lsl(struct cpu *c, const struct insn *i)
{
    need_pmode(c);
    uint16_t sel = (uint16_t)rm_read(c, i, 2);
    uint32_t v = 0;
    int zf = i->opc == 0x102 ? cpu_lar(c, sel, &v) : cpu_lsl(c, sel, &v);
    if (zf)
        reg_set(c, i->reg, v, i->opsize);
    flags_put(c, FL_ZF, zf ? FL_ZF : 0);
}

void op_arpl(struct cpu *c, const struct insn *i)
{
    need_pmode(c);
    uint32_t d = rm_read(c, i, 2), s = reg_get(c, i->reg, 2);
    if ((d & 3) < (s & 3)) {
        rm_write(c, i, (d & ~3u) | (s & 3), 2);
        flags_put(c, FL_ZF, FL_ZF);
    } else {
        flags_put(c, FL_ZF, 0);
    }
}

/* ---- machine status word, caches, TLB ---- */

void op_smsw(struct cpu *c, const struct insn *i)
{
    if (i->mod == 3)
        reg_set(c, i->rm, c->cr0, i->opsize);
    else
        mem_write(c, i->seg, insn_ea(c, i), c->cr0, 2);
}

void op_lmsw(struct cpu *c, const struct insn *i)
{
    cpu_need_cpl0(c);
    uint32_t v = rm_read(c, i, 2);
    uint32_t cr0 = (c->cr0 & ~0xEu) | (v & 0xE) | (c->cr0 & CR0_PE) | (v & CR0_PE);
    cpu_set_cr0(c, cr0);
}

void op_clts(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_need_cpl0(c);
    cpu_set_cr0(c, c->cr0 & ~CR0_TS);
}

void op_invlpg(struct cpu *c, const struct insn *i)
{
    cpu_need_cpl0(c);
    mmu_invlpg(&c->mmu, c->segs[i->seg].base + insn_ea(c, i));
}

void op_invd(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_need_cpl0(c);
}

/* ---- identification, time stamp, MSRs, fast system calls ---- */

void op_cpuid(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_cpuid(c);
}

void op_rdtsc(struct cpu *c, const struct insn *i)
{
    (void)i;
    if ((c->cr4 & 0x4) && cpu_pmode(c) && (c->cpl || cpu_v86(c)))   /* CR4.TSD */
        cpu_exception(c, EXC_GP, 0);
    uint64_t t = block_icount_now(c) + c->tsc_offset;
    c->regs[R_EAX] = (uint32_t)t;
    c->regs[R_EDX] = (uint32_t)(t >> 32);
}

void op_rdpmc(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (((c->cr4 & 0x100) == 0 && cpu_pmode(c) && (c->cpl || cpu_v86(c))) || c->regs[R_ECX] > 1)
        cpu_exception(c, EXC_GP, 0);
    c->regs[R_EAX] = c->regs[R_EDX] = 0;   /* no performance counters modelled */
}

void op_rdmsr(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_need_cpl0(c);
    uint64_t v = cpu_rdmsr(c, c->regs[R_ECX]);
    c->regs[R_EAX] = (uint32_t)v;
    c->regs[R_EDX] = (uint32_t)(v >> 32);
}

void op_wrmsr(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_need_cpl0(c);
    cpu_wrmsr(c, c->regs[R_ECX], (uint64_t)c->regs[R_EDX] << 32 | c->regs[R_EAX]);
}

void op_sysenter(struct cpu *c, const struct insn *i) { (void)i; cpu_sysenter(c); }
void op_sysexit(struct cpu *c, const struct insn *i) { (void)i; cpu_sysexit(c); }

void op_ud(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_exception(c, EXC_UD, -1);
}
