/* Segment registers of the i686: descriptor-table lookup, the protected-mode
 * checks of MOV/POP to a segment register (Intel SDM Vol. 3 ch. 5.4-5.6,
 * Vol. 2 "MOV" pseudo-code), real/V86 loads (SDM Vol. 3 ch. 20.1) and the
 * limit-checked side stack used by far transfers and event delivery.
 * Not modelled: 64-bit descriptors, segment-register loads in long mode. */
#include "cpu/prot.h"

int seg_in_limit(const struct seg *s, uint32_t off, int size)
{
    uint64_t last = (uint64_t)off + (uint64_t)size - 1;
    if ((s->flags & SEGF_S) && (s->flags & (TYPE_CODE | TYPE_EXPDOWN)) == TYPE_EXPDOWN) {
        uint64_t top = (s->flags & SEGF_DB) ? 0xFFFFFFFFull : 0xFFFFull;
        return off > s->limit && last <= top;
    }
    return last <= s->limit;
}

uint32_t desc_addr(struct cpu *cpu, uint16_t sel)
{
    const struct seg *t = &cpu->sys[(sel & 4) ? SYS_LDTR : SYS_GDTR];
    return t->base + (sel & ~7u);
}

uint64_t desc_read(struct cpu *cpu, uint16_t sel, int vector, int ext)
{
    const struct seg *t = &cpu->sys[(sel & 4) ? SYS_LDTR : SYS_GDTR];
    /* A null LDTR (or one loaded with a bad descriptor) has no entries. */
    int usable = !(sel & 4) || ((t->sel & 0xFFFC) && (t->flags & SEGF_P));
    if (!usable || (uint32_t)(sel & ~7u) + 7 > t->limit)
        cpu_exception(cpu, vector, sel_err(sel, ext));
    uint32_t a = t->base + (sel & ~7u);
    uint32_t lo = cpu_read_lin(cpu, a, 4, 0);
    uint32_t hi = cpu_read_lin(cpu, a + 4, 4, 0);
    return (uint64_t)hi << 32 | lo;
}

uint64_t cpu_read_descriptor(struct cpu *cpu, uint16_t sel, int vector)
{
    return desc_read(cpu, sel, vector, 0);
}

uint64_t desc_set_accessed(struct cpu *cpu, uint16_t sel, uint64_t d)
{
    if (desc_s(d) && !(desc_type(d) & TYPE_ACCESSED)) {
        d |= 1ull << 40;
        cpu_write_lin(cpu, desc_addr(cpu, sel) + 5, (uint32_t)(d >> 40) & 0xFF, 1, 0);
    }
    return d;
}

void cpu_desc_to_seg(struct seg *s, uint16_t sel, uint64_t desc)
{
    s->sel = sel;
    s->base = desc_base(desc);
    s->limit = desc_limit(desc);
    s->flags = (uint16_t)(((desc >> 40) & 0xFF) | ((desc >> 52) & 0xF) << 8);
}

/* Real mode changes only selector and base: the limit and attributes stay
 * in the cache (that is what makes "unreal" mode work, for CS too, until a
 * protected-mode load). V86 mode loads the fixed V86 attributes: limit 64K,
 * present, DPL 3, read/write data, accessed (0xF3). */
void cpu_load_seg_real(struct cpu *cpu, int sreg, uint16_t sel)
{
    struct seg *s = &cpu->segs[sreg];
    s->sel = sel;
    s->base = (uint32_t)sel << 4;
    if (cpu_v86(cpu)) {
        s->limit = 0xFFFF;
        s->flags = 0xF3;
    }
}

static void load_ss(struct cpu *cpu, uint16_t sel)
{
    if (!(sel & 0xFFFC))
        cpu_exception(cpu, EXC_GP, 0);
    uint64_t d = desc_read(cpu, sel, EXC_GP, 0);
    if ((sel & 3) != cpu->cpl || !desc_is_data(d) || !(desc_type(d) & TYPE_RW) ||
        desc_dpl(d) != cpu->cpl)
        cpu_exception(cpu, EXC_GP, sel & 0xFFFC);
    if (!desc_p(d))
        cpu_exception(cpu, EXC_SS, sel & 0xFFFC);
    d = desc_set_accessed(cpu, sel, d);
    cpu_desc_to_seg(&cpu->segs[S_SS], sel, d);
}

static void load_data_seg(struct cpu *cpu, int sreg, uint16_t sel)
{
    if (!(sel & 0xFFFC)) {
        /* A null selector loads an unusable register; using it is #GP(0). */
        struct seg *s = &cpu->segs[sreg];
        s->sel = sel;
        s->base = 0;
        s->limit = 0;
        s->flags = 0;
        return;
    }
    uint64_t d = desc_read(cpu, sel, EXC_GP, 0);
    unsigned t = desc_type(d);
    int ok = desc_s(d) && (!(t & TYPE_CODE) || (t & TYPE_RW));
    int conforming_code = (t & TYPE_CODE) && (t & TYPE_CONFORM);
    if (ok && !conforming_code && ((sel & 3) > desc_dpl(d) || cpu->cpl > desc_dpl(d)))
        ok = 0;
    if (!ok)
        cpu_exception(cpu, EXC_GP, sel & 0xFFFC);
    if (!desc_p(d))
        cpu_exception(cpu, EXC_NP, sel & 0xFFFC);
    d = desc_set_accessed(cpu, sel, d);
    cpu_desc_to_seg(&cpu->segs[sreg], sel, d);
}

void load_cs(struct cpu *cpu, uint16_t sel, uint64_t d, int rpl)
{
    d = desc_set_accessed(cpu, sel, d);
    cpu_desc_to_seg(&cpu->segs[S_CS], (uint16_t)((sel & ~3u) | (unsigned)rpl), d);
    cpu->cpl = (uint8_t)rpl;
}

void cpu_load_seg(struct cpu *cpu, int sreg, uint16_t sel)
{
    if (!cpu_pmode(cpu) || cpu_v86(cpu)) {
        cpu_load_seg_real(cpu, sreg, sel);
        return;
    }
    if (sreg == S_SS) {
        load_ss(cpu, sel);
    } else if (sreg == S_CS) {
        /* Not reachable by MOV/POP (#UD); kept for completeness: a direct
         * load of a present code segment at its own RPL. */
        uint64_t d = desc_read(cpu, sel, EXC_GP, 0);
        if (!desc_is_code(d))
            cpu_exception(cpu, EXC_GP, sel & 0xFFFC);
        if (!desc_p(d))
            cpu_exception(cpu, EXC_NP, sel & 0xFFFC);
        load_cs(cpu, sel, d, sel & 3);
    } else {
        load_data_seg(cpu, sreg, sel);
    }
}

/* ---- the side stack ---- */

void stk_cur(struct cpu *cpu, struct stk *st)
{
    st->ss = cpu->segs[S_SS];
    st->esp = cpu->regs[R_ESP];
    st->user = cpu->cpl == 3;
    st->err = 0;
}

static uint32_t stk_off(const struct stk *st, uint32_t esp)
{
    return (st->ss.flags & SEGF_DB) ? esp : (esp & 0xFFFF);
}

static uint32_t stk_add(const struct stk *st, int delta)
{
    if (st->ss.flags & SEGF_DB)
        return st->esp + (uint32_t)delta;
    return (st->esp & 0xFFFF0000u) | ((st->esp + (uint32_t)delta) & 0xFFFF);
}

/* Room checks walk the area in words, wrapping like the pushes and pops
 * themselves (a 16-bit stack wraps at 64K). */
void stk_room(struct cpu *cpu, const struct stk *st, int bytes)
{
    struct stk t = *st;
    for (int i = 0; i < bytes; i += 2) {
        t.esp = stk_add(&t, -2);
        if (!seg_in_limit(&t.ss, stk_off(&t, t.esp), 2))
            cpu_exception(cpu, EXC_SS, st->err);
    }
}

void stk_need(struct cpu *cpu, const struct stk *st, int bytes)
{
    struct stk t = *st;
    for (int i = 0; i < bytes; i += 2) {
        if (!seg_in_limit(&t.ss, stk_off(&t, t.esp), 2))
            cpu_exception(cpu, EXC_SS, st->err);
        t.esp = stk_add(&t, 2);
    }
}

void stk_push(struct cpu *cpu, struct stk *st, uint32_t val, int size)
{
    uint32_t esp = stk_add(st, -size);
    uint32_t off = stk_off(st, esp);
    if (!seg_in_limit(&st->ss, off, size))
        cpu_exception(cpu, EXC_SS, st->err);
    cpu_write_lin(cpu, st->ss.base + off, val, size, st->user);
    st->esp = esp;
}

uint32_t stk_peek(struct cpu *cpu, const struct stk *st, int offset, int size)
{
    uint32_t off = stk_off(st, stk_add(st, offset));
    if (!seg_in_limit(&st->ss, off, size))
        cpu_exception(cpu, EXC_SS, st->err);
    return cpu_read_lin(cpu, st->ss.base + off, size, st->user);
}

uint32_t stk_pop(struct cpu *cpu, struct stk *st, int size)
{
    uint32_t v = stk_peek(cpu, st, 0, size);
    st->esp = stk_add(st, size);
    return v;
}

void stk_commit(struct cpu *cpu, const struct stk *st)
{
    cpu->regs[R_ESP] = st->esp;
}
