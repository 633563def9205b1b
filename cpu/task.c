/* Hardware task switching of the i686 through JMP/CALL to a TSS or task gate,
 * interrupts through task gates and IRET with NT set (Intel SDM Vol. 3 ch. 7,
 * Table 7-1 for the checks on the new task). 32-bit and 16-bit TSSs.
 * Not modelled: the TSS T (debug trap) bit, I/O-map checks at switch time. */
#include <string.h>
#include "cpu/prot.h"

/* Everything read from the new TSS before anything changes. */
struct tss_image {
    uint32_t cr3, eip, eflags, regs[8];
    uint16_t segs[6], ldt;
};

static void read_tss32(struct cpu *cpu, uint32_t b, struct tss_image *t)
{
    t->cr3 = cpu_read_lin(cpu, b + 0x1C, 4, 0);
    t->eip = cpu_read_lin(cpu, b + 0x20, 4, 0);
    t->eflags = cpu_read_lin(cpu, b + 0x24, 4, 0);
    for (int i = 0; i < 8; i++)
        t->regs[i] = cpu_read_lin(cpu, b + 0x28 + 4 * (uint32_t)i, 4, 0);
    for (int i = 0; i < 6; i++)
        t->segs[i] = (uint16_t)cpu_read_lin(cpu, b + 0x48 + 4 * (uint32_t)i, 2, 0);
    t->ldt = (uint16_t)cpu_read_lin(cpu, b + 0x60, 2, 0);
}

/* A 286 TSS leaves the upper halves of the registers as they were. */
static void read_tss16(struct cpu *cpu, uint32_t b, struct tss_image *t)
{
    t->cr3 = cpu->cr3;
    t->eip = cpu_read_lin(cpu, b + 0x0E, 2, 0);
    t->eflags = cpu_read_lin(cpu, b + 0x10, 2, 0);
    for (int i = 0; i < 8; i++)
        t->regs[i] = (cpu->regs[i] & 0xFFFF0000u) | cpu_read_lin(cpu, b + 0x12 + 2 * (uint32_t)i, 2, 0);
    for (int i = 0; i < 4; i++)
        t->segs[i] = (uint16_t)cpu_read_lin(cpu, b + 0x22 + 2 * (uint32_t)i, 2, 0);
    t->segs[S_FS] = t->segs[S_GS] = 0;
    t->ldt = (uint16_t)cpu_read_lin(cpu, b + 0x2A, 2, 0);
}

static void save_state(struct cpu *cpu, int tss32, uint32_t b, uint32_t eip, uint32_t fl)
{
    if (tss32) {
        cpu_write_lin(cpu, b + 0x20, eip, 4, 0);
        cpu_write_lin(cpu, b + 0x24, fl, 4, 0);
        for (int i = 0; i < 8; i++)
            cpu_write_lin(cpu, b + 0x28 + 4 * (uint32_t)i, cpu->regs[i], 4, 0);
        for (int i = 0; i < 6; i++)
            cpu_write_lin(cpu, b + 0x48 + 4 * (uint32_t)i, cpu->segs[i].sel, 2, 0);
    } else {
        cpu_write_lin(cpu, b + 0x0E, eip & 0xFFFF, 2, 0);
        cpu_write_lin(cpu, b + 0x10, fl & 0xFFFF, 2, 0);
        for (int i = 0; i < 8; i++)
            cpu_write_lin(cpu, b + 0x12 + 2 * (uint32_t)i, cpu->regs[i] & 0xFFFF, 2, 0);
        for (int i = 0; i < 4; i++)
            cpu_write_lin(cpu, b + 0x22 + 2 * (uint32_t)i, cpu->segs[i].sel, 2, 0);
    }
}

static void set_busy(struct cpu *cpu, uint16_t sel, int busy)
{
    uint32_t a = cpu->sys[SYS_GDTR].base + (sel & ~7u) + 5;
    uint32_t b = cpu_read_lin(cpu, a, 1, 0);
    cpu_write_lin(cpu, a, busy ? (b | 2) : (b & ~2u), 1, 0);
}

static void load_task_ldt(struct cpu *cpu, uint16_t sel, int ext)
{
    struct seg *l = &cpu->sys[SYS_LDTR];
    if (!(sel & 0xFFFC)) {
        *l = (struct seg){ sel, 0, 0, 0 };
        return;
    }
    if (sel & 4)
        cpu_exception(cpu, EXC_TS, sel_err(sel, ext));
    uint64_t d = desc_read(cpu, sel, EXC_TS, ext);
    if (((d >> 40) & 0x1F) != DT_LDT || !desc_p(d))
        cpu_exception(cpu, EXC_TS, sel_err(sel, ext));
    cpu_desc_to_seg(l, sel, d);
}

static void load_task_cs(struct cpu *cpu, uint16_t sel, int ext)
{
    if (!(sel & 0xFFFC))
        cpu_exception(cpu, EXC_TS, sel_err(sel, ext));
    uint64_t d = desc_read(cpu, sel, EXC_TS, ext);
    int rpl = sel & 3;
    if (!desc_is_code(d) ||
        ((desc_type(d) & TYPE_CONFORM) ? desc_dpl(d) > rpl : desc_dpl(d) != rpl))
        cpu_exception(cpu, EXC_TS, sel_err(sel, ext));
    if (!desc_p(d))
        cpu_exception(cpu, EXC_NP, sel_err(sel, ext));
    load_cs(cpu, sel, d, rpl);
}

static void load_task_ss(struct cpu *cpu, uint16_t sel, int ext)
{
    if (!(sel & 0xFFFC))
        cpu_exception(cpu, EXC_TS, sel_err(sel, ext));
    uint64_t d = desc_read(cpu, sel, EXC_TS, ext);
    if (!desc_is_data(d) || !(desc_type(d) & TYPE_RW) || desc_dpl(d) != cpu->cpl ||
        (sel & 3) != cpu->cpl)
        cpu_exception(cpu, EXC_TS, sel_err(sel, ext));
    if (!desc_p(d))
        cpu_exception(cpu, EXC_SS, sel_err(sel, ext));
    d = desc_set_accessed(cpu, sel, d);
    cpu_desc_to_seg(&cpu->segs[S_SS], sel, d);
}

static void load_task_data(struct cpu *cpu, int sreg, uint16_t sel, int ext)
{
    if (!(sel & 0xFFFC)) {
        cpu->segs[sreg] = (struct seg){ sel, 0, 0, 0 };
        return;
    }
    uint64_t d = desc_read(cpu, sel, EXC_TS, ext);
    unsigned t = desc_type(d);
    int ok = desc_s(d) && (!(t & TYPE_CODE) || (t & TYPE_RW));
    if (ok && !((t & TYPE_CODE) && (t & TYPE_CONFORM)) &&
        (desc_dpl(d) < cpu->cpl || desc_dpl(d) < (sel & 3)))
        ok = 0;
    if (!ok)
        cpu_exception(cpu, EXC_TS, sel_err(sel, ext));
    if (!desc_p(d))
        cpu_exception(cpu, EXC_NP, sel_err(sel, ext));
    d = desc_set_accessed(cpu, sel, d);
    cpu_desc_to_seg(&cpu->segs[sreg], sel, d);
}

/* Loads the new task's segment registers: V86 style or with the checks of
 * Table 7-1. Faults here are taken in the context of the new task. */
static void load_task_segs(struct cpu *cpu, const struct tss_image *t, int ext)
{
    for (int i = 0; i < 6; i++) {
        cpu->segs[i].sel = t->segs[i];
        cpu->segs[i].flags = 0;
    }
    load_task_ldt(cpu, t->ldt, ext);
    if (cpu->eflags & FL_VM) {
        for (int i = 0; i < 6; i++)
            cpu_load_seg_real(cpu, i, t->segs[i]);
        cpu->cpl = 3;
        return;
    }
    load_task_cs(cpu, t->segs[S_CS], ext);
    load_task_ss(cpu, t->segs[S_SS], ext);
    load_task_data(cpu, S_ES, t->segs[S_ES], ext);
    load_task_data(cpu, S_DS, t->segs[S_DS], ext);
    load_task_data(cpu, S_FS, t->segs[S_FS], ext);
    load_task_data(cpu, S_GS, t->segs[S_GS], ext);
}

void task_switch_ext(struct cpu *cpu, uint16_t sel, uint64_t desc, enum task_reason why,
                     uint32_t next_eip, int errcode, int ext)
{
    int new32 = (desc_type(desc) & 8) != 0;
    uint32_t nbase = desc_base(desc);
    if (desc_limit(desc) < (new32 ? 0x67u : 0x2Bu))
        cpu_exception(cpu, EXC_TS, sel_err(sel, ext));
    struct tss_image t;
    if (new32)
        read_tss32(cpu, nbase, &t);
    else
        read_tss16(cpu, nbase, &t);

    struct seg *tr = &cpu->sys[SYS_TR];
    int old32 = (SEGF_TYPE(tr->flags) & 8) != 0;
    if (tr->limit < (old32 ? 0x5Fu : 0x29u))
        cpu_exception(cpu, EXC_TS, sel_err(tr->sel, ext));
    uint32_t fl = cpu_get_eflags(cpu);
    if (why == TASK_IRET)
        fl &= ~FL_NT;
    save_state(cpu, old32, tr->base, next_eip, fl);
    if (why == TASK_JMP || why == TASK_IRET)
        set_busy(cpu, tr->sel, 0);
    if (why == TASK_CALL || why == TASK_INT) {
        cpu_write_lin(cpu, nbase, tr->sel, 2, 0);
        t.eflags |= FL_NT;
    }
    if (why != TASK_IRET)
        set_busy(cpu, sel, 1);

    /* Commit point: from here on, faults belong to the new task. */
    cpu_desc_to_seg(tr, sel, desc | (1ull << 41));
    cpu_set_cr0(cpu, cpu->cr0 | CR0_TS);
    if (new32 && (cpu->cr0 & CR0_PG))
        cpu_set_cr3(cpu, t.cr3);
    memcpy(cpu->regs, t.regs, sizeof t.regs);
    cpu->eip = t.eip;
    cpu_set_eflags(cpu, new32 ? t.eflags : (t.eflags & 0xFFFF), 0x003F7FD5u);
    cpu->dr[7] &= ~0x155u;   /* local breakpoint enables are per task */
    cpu->fault_eip = cpu->eip;
    cpu->fault_esp = cpu->regs[R_ESP];
    load_task_segs(cpu, &t, ext);

    if (errcode >= 0) {
        struct stk st;
        stk_cur(cpu, &st);
        st.err = ext;
        stk_push(cpu, &st, (uint32_t)errcode, new32 ? 4 : 2);
        stk_commit(cpu, &st);
    }
    if (!seg_in_limit(&cpu->segs[S_CS], cpu->eip, 1))
        cpu_exception(cpu, EXC_GP, ext);
}

void cpu_task_switch(struct cpu *cpu, uint16_t sel, uint64_t desc, enum task_reason why,
                     uint32_t next_eip, int errcode)
{
    task_switch_ext(cpu, sel, desc, why, next_eip, errcode, why == TASK_INT);
}
