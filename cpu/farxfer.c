/* Far transfers of the i686: JMP/CALL far to code segments, call gates (with
 * the inner-privilege stack switch and parameter copy), task gates and TSSs;
 * RET far and IRET to the same or an outer level, IRET to and within V86
 * mode, and IRET task return (Intel SDM Vol. 2 CALL/JMP/RET/IRET pseudo-code,
 * Vol. 3 ch. 5.8, 7.3, 20.2). Not modelled: CR4.VME, long mode, CET. */
#include "cpu/prot.h"

/* EFLAGS bits an IRET or task switch can write at all. */
#define FL_WRITABLE 0x003F7FD5u

static void require_in_cs_limit(struct cpu *cpu, const struct seg *cs, uint32_t off)
{
    if (!seg_in_limit(cs, off, 1))
        cpu_exception(cpu, EXC_GP, 0);
}

/* ---- real and V86 mode ---- */

static void real_jmp(struct cpu *cpu, uint16_t sel, uint32_t off, int opsize)
{
    if (opsize == 16)
        off &= 0xFFFF;
    require_in_cs_limit(cpu, &cpu->segs[S_CS], off);
    cpu_load_seg_real(cpu, S_CS, sel);
    cpu->eip = off;
}

static void real_call(struct cpu *cpu, uint16_t sel, uint32_t off, int opsize, uint32_t next_eip)
{
    int sz = opsize / 8;
    struct stk st;
    stk_cur(cpu, &st);
    stk_room(cpu, &st, 2 * sz);
    if (opsize == 16)
        off &= 0xFFFF;
    require_in_cs_limit(cpu, &cpu->segs[S_CS], off);
    stk_push(cpu, &st, cpu->segs[S_CS].sel, sz);
    stk_push(cpu, &st, next_eip, sz);
    stk_commit(cpu, &st);
    cpu_load_seg_real(cpu, S_CS, sel);
    cpu->eip = off;
}

/* RET imm16: release the callee's arguments, within SP or ESP by SS.B. */
static void add_sp(struct stk *st, uint16_t n)
{
    st->esp = (st->ss.flags & SEGF_DB) ? st->esp + n
                                       : (st->esp & 0xFFFF0000u) | ((st->esp + n) & 0xFFFF);
}

static void real_ret(struct cpu *cpu, int opsize, uint16_t pop_bytes)
{
    int sz = opsize / 8;
    struct stk st;
    stk_cur(cpu, &st);
    stk_need(cpu, &st, 2 * sz);
    uint32_t eip = stk_pop(cpu, &st, sz);
    uint16_t cs = (uint16_t)stk_pop(cpu, &st, sz);
    require_in_cs_limit(cpu, &cpu->segs[S_CS], eip);
    add_sp(&st, pop_bytes);
    stk_commit(cpu, &st);
    cpu_load_seg_real(cpu, S_CS, cs);
    cpu->eip = eip;
}

/* Real mode, and V86 mode with IOPL 3 (the caller checked). In V86 mode
 * IOPL is not changed by the pop; in real mode VM/VIF/VIP are kept. */
static void real_iret(struct cpu *cpu, int opsize)
{
    int sz = opsize / 8;
    struct stk st;
    stk_cur(cpu, &st);
    stk_need(cpu, &st, 3 * sz);
    uint32_t eip = stk_pop(cpu, &st, sz);
    uint16_t cs = (uint16_t)stk_pop(cpu, &st, sz);
    uint32_t fl = stk_pop(cpu, &st, sz);
    if (cpu_v86(cpu) ? eip > 0xFFFF : !seg_in_limit(&cpu->segs[S_CS], eip, 1))
        cpu_exception(cpu, EXC_GP, 0);
    uint32_t mask = opsize == 32 ? 0x257FD5u : 0x7FD5u;
    if (cpu_v86(cpu))
        mask &= ~FL_IOPL;
    stk_commit(cpu, &st);
    cpu_set_eflags(cpu, fl, mask);
    cpu_load_seg_real(cpu, S_CS, cs);
    cpu->eip = eip;
}

/* ---- protected mode: JMP/CALL ---- */

/* The code segment of a direct transfer or of a call gate; `direct` applies
 * the RPL rule of a direct JMP/CALL to a non-conforming segment. */
static uint64_t check_code_target(struct cpu *cpu, uint16_t sel, int direct)
{
    uint64_t d = desc_read(cpu, sel, EXC_GP, 0);
    int dpl = desc_dpl(d);
    if (!desc_is_code(d))
        cpu_exception(cpu, EXC_GP, sel & 0xFFFC);
    if (desc_type(d) & TYPE_CONFORM) {
        if (dpl > cpu->cpl)
            cpu_exception(cpu, EXC_GP, sel & 0xFFFC);
    } else if (dpl != cpu->cpl || (direct && (sel & 3) > cpu->cpl)) {
        cpu_exception(cpu, EXC_GP, sel & 0xFFFC);
    }
    if (!desc_p(d))
        cpu_exception(cpu, EXC_NP, sel & 0xFFFC);
    return d;
}

/* A gate or TSS named by JMP/CALL: DPL >= CPL and DPL >= RPL, present. */
static void check_sys_target(struct cpu *cpu, uint16_t sel, uint64_t d)
{
    if (desc_dpl(d) < cpu->cpl || desc_dpl(d) < (sel & 3))
        cpu_exception(cpu, EXC_GP, sel & 0xFFFC);
    if (!desc_p(d))
        cpu_exception(cpu, EXC_NP, sel & 0xFFFC);
}

/* The TSS named by a task gate (or directly): GDT only, available, present. */
static uint64_t check_tss(struct cpu *cpu, uint16_t tsel)
{
    if (tsel & 4)
        cpu_exception(cpu, EXC_GP, tsel & 0xFFFC);
    uint64_t td = desc_read(cpu, tsel, EXC_GP, 0);
    unsigned t = (unsigned)(td >> 40) & 0x1F;
    if (t != DT_TSS16 && t != DT_TSS32)
        cpu_exception(cpu, EXC_GP, tsel & 0xFFFC);
    if (!desc_p(td))
        cpu_exception(cpu, EXC_NP, tsel & 0xFFFC);
    return td;
}

static void to_task(struct cpu *cpu, uint16_t sel, uint64_t d, enum task_reason why, uint32_t next_eip)
{
    unsigned t = (unsigned)(d >> 40) & 0x1F;
    check_sys_target(cpu, sel, d);
    if (t == DT_TASK) {
        uint16_t tsel = gate_sel(d);
        task_switch_ext(cpu, tsel, check_tss(cpu, tsel), why, next_eip, -1, 0);
    } else {
        task_switch_ext(cpu, sel, d, why, next_eip, -1, 0);
    }
}

static int is_task_target(uint64_t d)
{
    unsigned t = (unsigned)(d >> 40) & 0x1F;
    return t == DT_TASK || t == DT_TSS16 || t == DT_TSS32;
}

/* Call gate -> code segment checks shared by JMP and CALL. */
static uint64_t gate_code(struct cpu *cpu, uint16_t sel, uint64_t gate, uint16_t *csel)
{
    check_sys_target(cpu, sel, gate);
    *csel = gate_sel(gate);
    if (!(*csel & 0xFFFC))
        cpu_exception(cpu, EXC_GP, 0);
    uint64_t cd = desc_read(cpu, *csel, EXC_GP, 0);
    if (!desc_is_code(cd))
        cpu_exception(cpu, EXC_GP, *csel & 0xFFFC);
    return cd;
}

static void prot_jmp(struct cpu *cpu, uint16_t sel, uint32_t off, int opsize, uint32_t next_eip)
{
    if (!(sel & 0xFFFC))
        cpu_exception(cpu, EXC_GP, 0);
    uint64_t d = desc_read(cpu, sel, EXC_GP, 0);
    unsigned t = (unsigned)(d >> 40) & 0x1F;
    if (desc_s(d) && (desc_type(d) & TYPE_CODE)) {
        d = check_code_target(cpu, sel, 1);
        if (opsize == 16)
            off &= 0xFFFF;
        struct seg cs;
        cpu_desc_to_seg(&cs, sel, d);
        require_in_cs_limit(cpu, &cs, off);
        load_cs(cpu, sel, d, cpu->cpl);
        cpu->eip = off;
    } else if (t == DT_CALL16 || t == DT_CALL32) {
        uint16_t csel;
        uint64_t cd = gate_code(cpu, sel, d, &csel);
        cd = check_code_target(cpu, csel, 0);
        uint32_t goff = t == DT_CALL32 ? gate_off(d) : gate_off(d) & 0xFFFF;
        struct seg cs;
        cpu_desc_to_seg(&cs, csel, cd);
        require_in_cs_limit(cpu, &cs, goff);
        load_cs(cpu, csel, cd, cpu->cpl);
        cpu->eip = goff;
    } else if (is_task_target(d)) {
        to_task(cpu, sel, d, TASK_JMP, next_eip);
    } else {
        cpu_exception(cpu, EXC_GP, sel & 0xFFFC);
    }
}

static void call_same(struct cpu *cpu, uint16_t csel, uint64_t cd, uint32_t off, int sz, uint32_t next_eip)
{
    struct stk st;
    stk_cur(cpu, &st);
    stk_room(cpu, &st, 2 * sz);
    struct seg cs;
    cpu_desc_to_seg(&cs, csel, cd);
    require_in_cs_limit(cpu, &cs, off);
    stk_push(cpu, &st, cpu->segs[S_CS].sel, sz);
    stk_push(cpu, &st, next_eip, sz);
    stk_commit(cpu, &st);
    load_cs(cpu, csel, cd, cpu->cpl);
    cpu->eip = off;
}

/* CALL through a call gate to a more privileged non-conforming segment. */
static void call_inner(struct cpu *cpu, uint64_t gate, uint16_t csel, uint64_t cd, uint32_t next_eip)
{
    int dpl = desc_dpl(cd), sz = desc_type(gate) == DT_CALL32 ? 4 : 2;
    int nparam = (int)(gate >> 32) & 0x1F;
    uint32_t off = sz == 4 ? gate_off(gate) : gate_off(gate) & 0xFFFF;
    uint16_t nss;
    uint32_t nesp;
    tss_stack(cpu, dpl, &nss, &nesp, 0);
    uint64_t sd = check_inner_ss(cpu, nss, dpl, 0);
    struct stk st, old;
    cpu_desc_to_seg(&st.ss, nss, sd);
    st.esp = nesp;
    st.user = 0;
    st.err = nss & 0xFFFC;
    stk_room(cpu, &st, sz * (4 + nparam));
    struct seg cs;
    cpu_desc_to_seg(&cs, csel, cd);
    require_in_cs_limit(cpu, &cs, off);
    stk_cur(cpu, &old);
    stk_push(cpu, &st, cpu->segs[S_SS].sel, sz);
    stk_push(cpu, &st, cpu->regs[R_ESP], sz);
    for (int i = nparam - 1; i >= 0; i--)
        stk_push(cpu, &st, stk_peek(cpu, &old, i * sz, sz), sz);
    stk_push(cpu, &st, cpu->segs[S_CS].sel, sz);
    stk_push(cpu, &st, next_eip, sz);
    sd = desc_set_accessed(cpu, nss, sd);
    cpu_desc_to_seg(&cpu->segs[S_SS], nss, sd);
    stk_commit(cpu, &st);
    load_cs(cpu, csel, cd, dpl);
    cpu->eip = off;
}

static void prot_call(struct cpu *cpu, uint16_t sel, uint32_t off, int opsize, uint32_t next_eip)
{
    if (!(sel & 0xFFFC))
        cpu_exception(cpu, EXC_GP, 0);
    uint64_t d = desc_read(cpu, sel, EXC_GP, 0);
    unsigned t = (unsigned)(d >> 40) & 0x1F;
    if (desc_s(d) && (desc_type(d) & TYPE_CODE)) {
        d = check_code_target(cpu, sel, 1);
        call_same(cpu, sel, d, opsize == 16 ? off & 0xFFFF : off, opsize / 8, next_eip);
    } else if (t == DT_CALL16 || t == DT_CALL32) {
        uint16_t csel;
        uint64_t cd = gate_code(cpu, sel, d, &csel);
        if (desc_dpl(cd) > cpu->cpl)
            cpu_exception(cpu, EXC_GP, csel & 0xFFFC);
        if (!desc_p(cd))
            cpu_exception(cpu, EXC_NP, csel & 0xFFFC);
        if (!(desc_type(cd) & TYPE_CONFORM) && desc_dpl(cd) < cpu->cpl) {
            call_inner(cpu, d, csel, cd, next_eip);
        } else {
            int sz = t == DT_CALL32 ? 4 : 2;
            uint32_t goff = sz == 4 ? gate_off(d) : gate_off(d) & 0xFFFF;
            call_same(cpu, csel, cd, goff, sz, next_eip);
        }
    } else if (is_task_target(d)) {
        to_task(cpu, sel, d, TASK_CALL, next_eip);
    } else {
        cpu_exception(cpu, EXC_GP, sel & 0xFFFC);
    }
}

void cpu_far_jmp(struct cpu *cpu, uint16_t sel, uint32_t off, int opsize, uint32_t next_eip)
{
    if (!cpu_pmode(cpu) || cpu_v86(cpu))
        real_jmp(cpu, sel, off, opsize);
    else
        prot_jmp(cpu, sel, off, opsize, next_eip);
}

void cpu_far_call(struct cpu *cpu, uint16_t sel, uint32_t off, int opsize, uint32_t next_eip)
{
    if (!cpu_pmode(cpu) || cpu_v86(cpu))
        real_call(cpu, sel, off, opsize, next_eip);
    else
        prot_call(cpu, sel, off, opsize, next_eip);
}

/* ---- protected mode: RET/IRET ---- */

/* Checks of the code segment a RET/IRET returns to (same for both). */
static uint64_t check_return_cs(struct cpu *cpu, uint16_t sel)
{
    if (!(sel & 0xFFFC))
        cpu_exception(cpu, EXC_GP, 0);
    uint64_t d = desc_read(cpu, sel, EXC_GP, 0);
    int rpl = sel & 3, dpl = desc_dpl(d);
    if (!desc_is_code(d) || rpl < cpu->cpl ||
        ((desc_type(d) & TYPE_CONFORM) ? dpl > rpl : dpl != rpl))
        cpu_exception(cpu, EXC_GP, sel & 0xFFFC);
    if (!desc_p(d))
        cpu_exception(cpu, EXC_NP, sel & 0xFFFC);
    return d;
}

/* The outer stack a RET/IRET returns to. */
static uint64_t check_return_ss(struct cpu *cpu, uint16_t ss, int rpl)
{
    if (!(ss & 0xFFFC))
        cpu_exception(cpu, EXC_GP, 0);
    uint64_t d = desc_read(cpu, ss, EXC_GP, 0);
    if ((ss & 3) != rpl || !desc_is_data(d) || !(desc_type(d) & TYPE_RW) || desc_dpl(d) != rpl)
        cpu_exception(cpu, EXC_GP, ss & 0xFFFC);
    if (!desc_p(d))
        cpu_exception(cpu, EXC_SS, ss & 0xFFFC);
    return d;
}

void null_outer_segs(struct cpu *cpu)
{
    static const int dsegs[4] = { S_ES, S_FS, S_GS, S_DS };
    for (int i = 0; i < 4; i++) {
        struct seg *s = &cpu->segs[dsegs[i]];
        unsigned t = SEGF_TYPE(s->flags);
        int data_or_nc = (s->flags & SEGF_S) && (!(t & TYPE_CODE) || !(t & TYPE_CONFORM));
        if ((s->sel & 0xFFFC) && data_or_nc && SEGF_DPL(s->flags) < cpu->cpl)
            *s = (struct seg){ 0, 0, 0, 0 };
    }
}

static void prot_ret(struct cpu *cpu, int opsize, uint16_t pop_bytes)
{
    int sz = opsize / 8;
    struct stk st;
    stk_cur(cpu, &st);
    stk_need(cpu, &st, 2 * sz);
    uint32_t eip = stk_pop(cpu, &st, sz);
    uint16_t csel = (uint16_t)stk_pop(cpu, &st, sz);
    if (sz == 2)
        eip &= 0xFFFF;
    uint64_t cd = check_return_cs(cpu, csel);
    int rpl = csel & 3;
    struct seg cs;
    cpu_desc_to_seg(&cs, csel, cd);
    if (rpl == cpu->cpl) {
        require_in_cs_limit(cpu, &cs, eip);
        add_sp(&st, pop_bytes);
        stk_commit(cpu, &st);
        load_cs(cpu, csel, cd, rpl);
        cpu->eip = eip;
        return;
    }
    add_sp(&st, pop_bytes);
    stk_need(cpu, &st, 2 * sz);
    uint32_t nesp = stk_pop(cpu, &st, sz);
    uint16_t nss = (uint16_t)stk_pop(cpu, &st, sz);
    uint64_t sd = check_return_ss(cpu, nss, rpl);
    require_in_cs_limit(cpu, &cs, eip);
    sd = desc_set_accessed(cpu, nss, sd);
    load_cs(cpu, csel, cd, rpl);
    cpu->eip = eip;
    cpu_desc_to_seg(&cpu->segs[S_SS], nss, sd);
    st.ss = cpu->segs[S_SS];
    st.esp = sz == 4 ? nesp : (cpu->regs[R_ESP] & 0xFFFF0000u) | (nesp & 0xFFFF);
    add_sp(&st, pop_bytes);
    stk_commit(cpu, &st);
    null_outer_segs(cpu);
}

void cpu_far_ret(struct cpu *cpu, int opsize, uint16_t pop_bytes)
{
    if (!cpu_pmode(cpu) || cpu_v86(cpu))
        real_ret(cpu, opsize, pop_bytes);
    else
        prot_ret(cpu, opsize, pop_bytes);
}

/* IRET from CPL 0 with VM set in the popped EFLAGS image. */
static void iret_to_v86(struct cpu *cpu, struct stk *st, uint32_t eip, uint16_t cs, uint32_t fl)
{
    stk_need(cpu, st, 24);
    uint32_t nesp = stk_pop(cpu, st, 4);
    uint16_t sel[5];
    for (int i = 0; i < 5; i++)
        sel[i] = (uint16_t)stk_pop(cpu, st, 4);   /* SS, ES, DS, FS, GS */
    if (eip > 0xFFFF)
        cpu_exception(cpu, EXC_GP, 0);
    cpu_set_eflags(cpu, fl, FL_WRITABLE);
    static const int order[5] = { S_SS, S_ES, S_DS, S_FS, S_GS };
    for (int i = 0; i < 5; i++)
        cpu_load_seg_real(cpu, order[i], sel[i]);
    cpu_load_seg_real(cpu, S_CS, cs);
    cpu->regs[R_ESP] = nesp;
    cpu->eip = eip;
    cpu->cpl = 3;
}

/* EFLAGS after a protected-mode IRET, by the old CPL and operand size. */
static uint32_t iret_flag_mask(struct cpu *cpu, int opsize)
{
    uint32_t m = FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_TF | FL_DF | FL_OF | FL_NT;
    if (opsize == 32)
        m |= FL_RF | FL_AC | FL_ID;
    if (cpu->cpl <= (cpu->eflags & FL_IOPL) >> 12)
        m |= FL_IF;
    if (cpu->cpl == 0)
        m |= FL_IOPL | (opsize == 32 ? FL_VIF | FL_VIP : 0);
    return m;
}

static void iret_task_return(struct cpu *cpu)
{
    const struct seg *tr = &cpu->sys[SYS_TR];
    uint16_t link = (uint16_t)cpu_read_lin(cpu, tr->base, 2, 0);
    if (link & 4)
        cpu_exception(cpu, EXC_TS, link & 0xFFFC);
    uint64_t d = desc_read(cpu, link, EXC_TS, 0);
    unsigned t = (unsigned)(d >> 40) & 0x1F;
    if (t != DT_TSS16_BUSY && t != DT_TSS32_BUSY)
        cpu_exception(cpu, EXC_TS, link & 0xFFFC);
    if (!desc_p(d))
        cpu_exception(cpu, EXC_NP, link & 0xFFFC);
    task_switch_ext(cpu, link, d, TASK_IRET, cpu->eip, -1, 0);
}

static void prot_iret(struct cpu *cpu, int opsize)
{
    if (cpu->eflags & FL_NT) {
        iret_task_return(cpu);
        return;
    }
    int sz = opsize / 8;
    struct stk st;
    stk_cur(cpu, &st);
    stk_need(cpu, &st, 3 * sz);
    uint32_t eip = stk_pop(cpu, &st, sz);
    uint16_t csel = (uint16_t)stk_pop(cpu, &st, sz);
    uint32_t fl = stk_pop(cpu, &st, sz);
    if ((fl & FL_VM) && cpu->cpl == 0 && sz == 4) {
        iret_to_v86(cpu, &st, eip, csel, fl);
        return;
    }
    uint64_t cd = check_return_cs(cpu, csel);
    int rpl = csel & 3;
    struct seg cs;
    cpu_desc_to_seg(&cs, csel, cd);
    uint32_t mask = iret_flag_mask(cpu, opsize);
    if (rpl == cpu->cpl) {
        require_in_cs_limit(cpu, &cs, eip);
        stk_commit(cpu, &st);
        load_cs(cpu, csel, cd, rpl);
        cpu->eip = eip;
        cpu_set_eflags(cpu, fl, mask);
        return;
    }
    stk_need(cpu, &st, 2 * sz);
    uint32_t nesp = stk_pop(cpu, &st, sz);
    uint16_t nss = (uint16_t)stk_pop(cpu, &st, sz);
    uint64_t sd = check_return_ss(cpu, nss, rpl);
    require_in_cs_limit(cpu, &cs, eip);
    sd = desc_set_accessed(cpu, nss, sd);
    cpu_set_eflags(cpu, fl, mask);
    load_cs(cpu, csel, cd, rpl);
    cpu->eip = eip;
    cpu_desc_to_seg(&cpu->segs[S_SS], nss, sd);
    cpu->regs[R_ESP] = sz == 4 ? nesp : (cpu->regs[R_ESP] & 0xFFFF0000u) | (nesp & 0xFFFF);
    null_outer_segs(cpu);
}

void cpu_iret(struct cpu *cpu, int opsize)
{
    if (!cpu_pmode(cpu)) {
        real_iret(cpu, opsize);
    } else if (cpu_v86(cpu)) {
        if ((cpu->eflags & FL_IOPL) != FL_IOPL)
            cpu_exception(cpu, EXC_GP, 0);
        real_iret(cpu, opsize);
    } else {
        prot_iret(cpu, opsize);
    }
    cpu->nmi_blocked = 0;
}
