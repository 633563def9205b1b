/* Event delivery of the i686: real-mode IVT, protected-mode IDT with
 * interrupt, trap and task gates, inner-privilege stack switches from the
 * TSS and interrupts out of virtual-8086 mode
 * (Intel SDM Vol. 3 ch. 6 and 20.3, Vol. 2 "INT n" pseudo-code).
 * Not modelled: CR4.VME/PVI virtual interrupts, long mode, SMM.
 * The #DF/shutdown escalation lives in the execution loop (cpu.c), which
 * calls cpu_deliver again for a fault raised during delivery; cpu_deliver
 * changes no register before its last check has passed. */
#include "cpu/prot.h"

/* Faults (as opposed to traps and aborts) push EFLAGS with RF set. */
static int is_fault(int v)
{
    return v == EXC_DE || v == EXC_BR || v == EXC_UD || v == EXC_NM ||
           (v >= EXC_TS && v <= EXC_PF) || v == EXC_MF || v == EXC_AC || v == EXC_XM;
}

static void deliver_real(struct cpu *cpu, int vector, uint32_t return_eip)
{
    const struct seg *idt = &cpu->sys[SYS_IDTR];
    if ((uint32_t)vector * 4 + 3 > idt->limit)
        cpu_exception(cpu, EXC_GP, 0);
    struct stk st;
    stk_cur(cpu, &st);
    st.user = 0;
    stk_room(cpu, &st, 6);
    stk_push(cpu, &st, cpu_get_eflags(cpu) & 0xFFFF, 2);
    stk_push(cpu, &st, cpu->segs[S_CS].sel, 2);
    stk_push(cpu, &st, return_eip & 0xFFFF, 2);
    uint32_t ent = cpu_read_lin(cpu, idt->base + (uint32_t)vector * 4, 4, 0);
    stk_commit(cpu, &st);
    cpu->eflags &= ~(FL_IF | FL_TF | FL_AC);
    cpu_load_seg_real(cpu, S_CS, (uint16_t)(ent >> 16));
    cpu->eip = ent & 0xFFFF;
}

void tss_stack(struct cpu *cpu, int dpl, uint16_t *ss, uint32_t *esp, int ext)
{
    const struct seg *tr = &cpu->sys[SYS_TR];
    if (SEGF_TYPE(tr->flags) & 8) {
        uint32_t a = ((uint32_t)dpl << 3) + 4;
        if (a + 5 > tr->limit)
            cpu_exception(cpu, EXC_TS, sel_err(tr->sel, ext));
        *esp = cpu_read_lin(cpu, tr->base + a, 4, 0);
        *ss = (uint16_t)cpu_read_lin(cpu, tr->base + a + 4, 2, 0);
    } else {
        uint32_t a = ((uint32_t)dpl << 2) + 2;
        if (a + 3 > tr->limit)
            cpu_exception(cpu, EXC_TS, sel_err(tr->sel, ext));
        *esp = cpu_read_lin(cpu, tr->base + a, 2, 0);
        *ss = (uint16_t)cpu_read_lin(cpu, tr->base + a + 2, 2, 0);
    }
}

uint64_t check_inner_ss(struct cpu *cpu, uint16_t ss, int dpl, int ext)
{
    if (!(ss & 0xFFFC))
        cpu_exception(cpu, EXC_TS, ext & 1);
    uint64_t d = desc_read(cpu, ss, EXC_TS, ext);
    if ((ss & 3) != dpl || desc_dpl(d) != dpl || !desc_is_data(d) || !(desc_type(d) & TYPE_RW))
        cpu_exception(cpu, EXC_TS, sel_err(ss, ext));
    if (!desc_p(d))
        cpu_exception(cpu, EXC_SS, sel_err(ss, ext));
    return d;
}

/* What a trap/interrupt gate transfer needs, gathered before anything changes. */
struct gate_xfer {
    uint16_t csel;
    uint64_t cdesc;
    uint32_t off;
    int g32, intr_gate, ext, errcode;
    uint32_t return_eip;
    uint32_t eflags;     /* image to push */
};

static void check_gate_eip(struct cpu *cpu, const struct gate_xfer *x)
{
    struct seg cs;
    cpu_desc_to_seg(&cs, x->csel, x->cdesc);
    if (!seg_in_limit(&cs, x->off, 1))
        cpu_exception(cpu, EXC_GP, x->ext);
}

static void finish_gate(struct cpu *cpu, const struct gate_xfer *x, int new_cpl)
{
    load_cs(cpu, x->csel, x->cdesc, new_cpl);
    cpu->eip = x->off;
    uint32_t clear = FL_TF | FL_NT | FL_VM | FL_RF | (x->intr_gate ? FL_IF : 0);
    cpu->eflags &= ~clear;
}

static void push_tail(struct cpu *cpu, struct stk *st, const struct gate_xfer *x, int sz)
{
    stk_push(cpu, st, x->eflags, sz);
    stk_push(cpu, st, cpu->segs[S_CS].sel, sz);
    stk_push(cpu, st, x->return_eip, sz);
    if (x->errcode >= 0)
        stk_push(cpu, st, (uint32_t)x->errcode, sz);
}

static void intra_priv(struct cpu *cpu, const struct gate_xfer *x)
{
    int sz = x->g32 ? 4 : 2;
    struct stk st;
    stk_cur(cpu, &st);
    st.err = x->ext;
    stk_room(cpu, &st, sz * (3 + (x->errcode >= 0)));
    check_gate_eip(cpu, x);
    push_tail(cpu, &st, x, sz);
    stk_commit(cpu, &st);
    finish_gate(cpu, x, cpu->cpl);
}

/* Inner privilege, from protected mode or (from_v86) out of V86 mode to CPL 0. */
static void inner_priv(struct cpu *cpu, const struct gate_xfer *x, int from_v86)
{
    int dpl = desc_dpl(x->cdesc), sz = x->g32 ? 4 : 2;
    uint16_t nss;
    uint32_t nesp;
    tss_stack(cpu, dpl, &nss, &nesp, x->ext);
    uint64_t sd = check_inner_ss(cpu, nss, dpl, x->ext);
    struct stk st;
    cpu_desc_to_seg(&st.ss, nss, sd);
    st.esp = nesp;
    st.user = 0;
    st.err = sel_err(nss, x->ext);
    stk_room(cpu, &st, sz * (5 + (x->errcode >= 0) + (from_v86 ? 4 : 0)));
    check_gate_eip(cpu, x);
    if (from_v86) {
        stk_push(cpu, &st, cpu->segs[S_GS].sel, sz);
        stk_push(cpu, &st, cpu->segs[S_FS].sel, sz);
        stk_push(cpu, &st, cpu->segs[S_DS].sel, sz);
        stk_push(cpu, &st, cpu->segs[S_ES].sel, sz);
    }
    stk_push(cpu, &st, cpu->segs[S_SS].sel, sz);
    stk_push(cpu, &st, cpu->regs[R_ESP], sz);
    push_tail(cpu, &st, x, sz);
    sd = desc_set_accessed(cpu, nss, sd);
    /* Commit point: nothing below can fault. */
    cpu_desc_to_seg(&cpu->segs[S_SS], nss, sd);
    stk_commit(cpu, &st);
    if (from_v86) {
        static const int dsegs[4] = { S_ES, S_DS, S_FS, S_GS };
        for (int i = 0; i < 4; i++)
            cpu->segs[dsegs[i]] = (struct seg){ 0, 0, 0, 0 };
    }
    finish_gate(cpu, x, dpl);
}

static void via_task_gate(struct cpu *cpu, uint64_t gate, int ext, int errcode, uint32_t return_eip)
{
    uint16_t tsel = gate_sel(gate);
    if (tsel & 4)
        cpu_exception(cpu, EXC_GP, sel_err(tsel, ext));
    uint64_t td = desc_read(cpu, tsel, EXC_GP, ext);
    unsigned t = (unsigned)(td >> 40) & 0x1F;
    if (t != DT_TSS16 && t != DT_TSS32)
        cpu_exception(cpu, EXC_GP, sel_err(tsel, ext));
    if (!desc_p(td))
        cpu_exception(cpu, EXC_NP, sel_err(tsel, ext));
    task_switch_ext(cpu, tsel, td, TASK_INT, return_eip, errcode, ext);
}

static void via_code_gate(struct cpu *cpu, uint64_t gate, struct gate_xfer *x)
{
    unsigned t = desc_type(gate);
    x->g32 = (t & 8) != 0;
    x->intr_gate = (t & 1) == 0;
    x->csel = gate_sel(gate);
    x->off = x->g32 ? gate_off(gate) : gate_off(gate) & 0xFFFF;
    if (!(x->csel & 0xFFFC))
        cpu_exception(cpu, EXC_GP, x->ext);
    x->cdesc = desc_read(cpu, x->csel, EXC_GP, x->ext);
    int dpl = desc_dpl(x->cdesc);
    if (!desc_is_code(x->cdesc) || dpl > cpu->cpl)
        cpu_exception(cpu, EXC_GP, sel_err(x->csel, x->ext));
    if (!desc_p(x->cdesc))
        cpu_exception(cpu, EXC_NP, sel_err(x->csel, x->ext));
    int conforming = (desc_type(x->cdesc) & TYPE_CONFORM) != 0;
    if (!conforming && dpl < cpu->cpl) {
        if (cpu_v86(cpu) && dpl != 0)
            cpu_exception(cpu, EXC_GP, sel_err(x->csel, x->ext));
        inner_priv(cpu, x, cpu_v86(cpu));
    } else {
        if (cpu_v86(cpu))
            cpu_exception(cpu, EXC_GP, sel_err(x->csel, x->ext));
        intra_priv(cpu, x);
    }
}

static void deliver_prot(struct cpu *cpu, int vector, enum intr_kind kind, int errcode,
                         uint32_t return_eip)
{
    int ext = kind != INTR_SOFTWARE;
    int idt_err = vector * 8 + 2 + ext;
    /* INT n (not INT3/INTO, which arrive with their own vectors) is
     * IOPL-sensitive in V86 mode. */
    if (cpu_v86(cpu) && kind == INTR_SOFTWARE && vector != EXC_BP && vector != EXC_OF &&
        ((cpu->eflags & FL_IOPL) >> 12) < 3)
        cpu_exception(cpu, EXC_GP, 0);
    const struct seg *idt = &cpu->sys[SYS_IDTR];
    if ((uint32_t)vector * 8 + 7 > idt->limit)
        cpu_exception(cpu, EXC_GP, idt_err);
    uint32_t a = idt->base + (uint32_t)vector * 8;
    uint64_t gate = cpu_read_lin(cpu, a, 4, 0);
    gate |= (uint64_t)cpu_read_lin(cpu, a + 4, 4, 0) << 32;
    unsigned t = (unsigned)(gate >> 40) & 0x1F;
    if (t != DT_TASK && t != DT_INT16 && t != DT_TRAP16 && t != DT_INT32 && t != DT_TRAP32)
        cpu_exception(cpu, EXC_GP, idt_err);
    if (kind == INTR_SOFTWARE && desc_dpl(gate) < cpu->cpl)
        cpu_exception(cpu, EXC_GP, vector * 8 + 2);
    if (!desc_p(gate))
        cpu_exception(cpu, EXC_NP, idt_err);
    if (t == DT_TASK) {
        via_task_gate(cpu, gate, ext, errcode, return_eip);
        return;
    }
    struct gate_xfer x = { .ext = ext, .errcode = errcode, .return_eip = return_eip };
    x.eflags = cpu_get_eflags(cpu);
    if (kind == INTR_EXCEPTION && is_fault(vector))
        x.eflags |= FL_RF;
    via_code_gate(cpu, gate, &x);
}

void cpu_deliver(struct cpu *cpu, int vector, enum intr_kind kind, int errcode, uint32_t return_eip)
{
    cpu->halted = 0;
    if (!cpu_pmode(cpu))
        deliver_real(cpu, vector, return_eip);
    else
        deliver_prot(cpu, vector, kind, errcode, return_eip);
    if (kind == INTR_NMI)
        cpu->nmi_blocked = 1;
}
