/* Guest memory through segmentation and paging (Intel SDM vol. 3, 5.3 limit
 * checking, 5.4-5.6 type checking, 4.x paging via mmu/): the TLB host-pointer
 * fast path inline, mmu_read/mmu_write as the slow path, #PF with CR2. Also
 * the stack helpers and alignment checks. Not modelled: segment-limit wrap at
 * 4 GiB, LOCK bus semantics (accesses are atomic anyway in one thread). */
#include "cpu/exec.h"

static _Noreturn void seg_fault(struct cpu *c, int sreg)
{
    cpu_exception(c, sreg == S_SS ? EXC_SS : EXC_GP, 0);
}

static int in_limit(const struct seg *s, uint32_t off, int size, int pm)
{
    uint32_t last = off + (uint32_t)size - 1;
    if (pm && !(s->flags & 0x8) && (s->flags & 0x4)) {     /* expand-down data */
        uint32_t top = (s->flags & SEGF_DB) ? 0xFFFFFFFFu : 0xFFFFu;
        return off > s->limit && last >= off && last <= top;
    }
    return off <= s->limit && s->limit - off >= (uint32_t)size - 1;
}

/* Linear address of sreg:off after limit and rights checks. */
static uint32_t seg_lin(struct cpu *c, int sreg, uint32_t off, int size, int write)
{
    const struct seg *s = &c->segs[sreg];
    if (!cpu_pmode(c) || cpu_v86(c)) {
        if (!in_limit(s, off, size, 0))
            seg_fault(c, sreg);
        return s->base + off;
    }
    uint16_t f = s->flags;
    if (!(f & SEGF_P))                          /* null or unusable selector */
        seg_fault(c, sreg);
    if (f & 0x8) {                              /* code: never writable */
        if (write || !(f & 0x2))
            seg_fault(c, sreg);
    } else if (write && !(f & 0x2)) {
        seg_fault(c, sreg);
    }
    if (!in_limit(s, off, size, 1))
        seg_fault(c, sreg);
    return s->base + off;
}

static void align_check(struct cpu *c, uint32_t lin, int size)
{
    if ((lin & (uint32_t)(size - 1)) && c->cpl == 3 && (c->cr0 & CR0_AM) && (c->eflags & FL_AC))
        cpu_exception(c, EXC_AC, 0);
}

static uint32_t load_le(const uint8_t *p, int size)
{
    return size == 4 ? pm_ld32(p) : size == 2 ? pm_ld16(p) : p[0];
}

static void store_le(uint8_t *p, uint32_t v, int size)
{
    if (size == 4)
        pm_st32(p, v);
    else if (size == 2)
        pm_st16(p, (uint16_t)v);
    else
        p[0] = (uint8_t)v;
}

static _Noreturn void page_fault(struct cpu *c, uint32_t r, uint32_t lin)
{
    c->cr2 = lin;
    cpu_exception(c, EXC_PF, (int)(r & ~MMU_FAULT));
}

uint32_t cpu_read_lin(struct cpu *c, uint32_t lin, int size, int user)
{
    uint8_t *p = tlb_lookup(&c->mmu, lin, size, MMU_READ, user);
    if (p) {
        c->mmu.tlb_hits++;
        return load_le(p, size);
    }
    uint32_t v = 0, flin = 0;
    uint32_t r = mmu_read(&c->mmu, lin, size, MMU_READ, user, &v, &flin);
    if (r)
        page_fault(c, r, flin);
    return v;
}

void cpu_write_lin(struct cpu *c, uint32_t lin, uint32_t val, int size, int user)
{
    uint8_t *p = tlb_lookup(&c->mmu, lin, size, MMU_WRITE, user);
    if (p) {
        c->mmu.tlb_hits++;
        store_le(p, val, size);
        return;
    }
    uint32_t flin = 0;
    uint32_t r = mmu_write(&c->mmu, lin, size, user, val, &flin);
    if (r)
        page_fault(c, r, flin);
}

uint32_t cpu_read(struct cpu *c, int sreg, uint32_t off, int size)
{
    uint32_t lin = seg_lin(c, sreg, off, size, 0);
    align_check(c, lin, size);
    return cpu_read_lin(c, lin, size, c->cpl == 3);
}

void cpu_write(struct cpu *c, int sreg, uint32_t off, uint32_t val, int size)
{
    uint32_t lin = seg_lin(c, sreg, off, size, 1);
    align_check(c, lin, size);
    cpu_write_lin(c, lin, val, size, c->cpl == 3);
}

void cpu_probe_write(struct cpu *c, int sreg, uint32_t off, int size)
{
    uint32_t lin = seg_lin(c, sreg, off, size, 1);
    int user = c->cpl == 3;
    uint32_t phys;
    uint32_t r = mmu_translate(&c->mmu, lin, MMU_WRITE, user, &phys);
    if (r)
        page_fault(c, r, lin);
    uint32_t last = lin + (uint32_t)size - 1;
    if ((last ^ lin) & ~0xFFFu) {
        r = mmu_translate(&c->mmu, last & ~0xFFFu, MMU_WRITE, user, &phys);
        if (r)
            page_fault(c, r, last & ~0xFFFu);
    }
}

void cpu_push(struct cpu *c, uint32_t val, int size)
{
    uint32_t esp = c->regs[R_ESP];
    if (stack32(c)) {
        mem_write(c, S_SS, esp - (uint32_t)size, val, size);
        c->regs[R_ESP] = esp - (uint32_t)size;
    } else {
        uint32_t sp = (esp - (uint32_t)size) & 0xFFFF;
        mem_write(c, S_SS, sp, val, size);
        c->regs[R_ESP] = (esp & 0xFFFF0000u) | sp;
    }
}

uint32_t cpu_pop(struct cpu *c, int size)
{
    uint32_t esp = c->regs[R_ESP];
    uint32_t v;
    if (stack32(c)) {
        v = mem_read(c, S_SS, esp, size);
        c->regs[R_ESP] = esp + (uint32_t)size;
    } else {
        v = mem_read(c, S_SS, esp & 0xFFFF, size);
        c->regs[R_ESP] = (esp & 0xFFFF0000u) | ((esp + (uint32_t)size) & 0xFFFF);
    }
    return v;
}
