/* Internal helpers shared by the instruction handlers (cpu/ops_*.c):
 * register access by encoding and size, effective addresses, ModRM operand
 * read/write, and the block-cache hooks of the execution loop. */
#ifndef SV_EXEC_H
#define SV_EXEC_H
#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "cpu/insn.h"

/* Hints for the hot paths; plain C elsewhere. */
#if defined(__GNUC__) || defined(__clang__)
#define SV_NOINLINE __attribute__((noinline))
#define SV_LIKELY(x) __builtin_expect(!!(x), 1)
#define SV_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define SV_NOINLINE
#define SV_LIKELY(x) (x)
#define SV_UNLIKELY(x) (x)
#endif

static inline uint32_t reg_get(const struct cpu *c, int r, int size)
{
    if (size == 1)
        return r < 4 ? c->regs[r] & 0xFF : (c->regs[r - 4] >> 8) & 0xFF;
    if (size == 2)
        return c->regs[r] & 0xFFFF;
    return c->regs[r];
}

static inline void reg_set(struct cpu *c, int r, uint32_t v, int size)
{
    if (size == 1) {
        if (r < 4)
            c->regs[r] = (c->regs[r] & ~0xFFu) | (v & 0xFF);
        else
            c->regs[r - 4] = (c->regs[r - 4] & ~0xFF00u) | (v & 0xFF) << 8;
    } else if (size == 2) {
        c->regs[r] = (c->regs[r] & 0xFFFF0000u) | (v & 0xFFFF);
    } else {
        c->regs[r] = v;
    }
}

static inline uint32_t insn_ea(const struct cpu *c, const struct insn *i)
{
    uint32_t a = i->disp;
    if (i->base != NOREG)
        a += c->regs[i->base];
    if (i->index != NOREG)
        a += c->regs[i->index] << i->scale;
    return i->addrsize == 2 ? a & 0xFFFF : a;
}

/* ---- the memory fast path ----
 * An aligned access through a present, expand-up, writable data segment
 * (what flat protected mode and real mode use) inside its limit, to a page
 * whose host pointer is in the TLB, is a load or store; anything else goes
 * to cpu_read/cpu_write, which check everything. Alignment also rules out
 * page crossing and #AC (only misaligned accesses can raise it). Real and
 * V86 mode check only the limit, so passing the stricter test is enough. */
#define SEGF_FAST_MASK 0x9Eu   /* P, S, code, expand-down, writable */
#define SEGF_FAST      0x92u   /* present writable expand-up data */

/* Sets *p to the host address of an n-byte access at sreg:off and returns
 * 1 when the fast path applies: the segment test above, lin aligned to
 * align + 1 (a power of two), all n bytes in one page; a TLB tag match
 * implies a host pointer (TLB_SLOW). */
static inline int mem_fast_n(struct cpu *c, int sreg, uint32_t off, uint32_t n, uint32_t align, int access,
                             uint8_t **p)
{
    const struct seg *s = &c->segs[sreg];
    if ((s->flags & SEGF_FAST_MASK) != SEGF_FAST || (uint64_t)off + n - 1 > s->limit)
        return 0;
    uint32_t lin = s->base + off;
    if ((lin & align) || (n > align + 1 && (lin & 0xFFF) > 0x1000u - n))
        return 0;
    const struct tlb_entry *e = &c->mmu.tlb[c->cpl == 3][access][(lin >> 12) & (TLB_SIZE - 1)];
    if (e->tag != (lin & ~0xFFFu))
        return 0;
    c->mmu.tlb_hits++;
    *p = e->host + (lin & 0xFFF);
    return 1;
}

/* An access of 1, 2 or 4 bytes, naturally aligned (so within a page). */
static inline int mem_fast(struct cpu *c, int sreg, uint32_t off, int size, int access, uint8_t **p)
{
    return mem_fast_n(c, sreg, off, (uint32_t)size, (uint32_t)size - 1, access, p);
}

static inline uint32_t mem_read(struct cpu *c, int sreg, uint32_t off, int size)
{
    uint8_t *p;
    if (SV_UNLIKELY(!mem_fast(c, sreg, off, size, MMU_READ, &p)))
        return cpu_read(c, sreg, off, size);
    return size == 4 ? pm_ld32(p) : size == 2 ? pm_ld16(p) : p[0];
}

static inline void mem_write(struct cpu *c, int sreg, uint32_t off, uint32_t v, int size)
{
    uint8_t *p;
    if (SV_UNLIKELY(!mem_fast(c, sreg, off, size, MMU_WRITE, &p)))
        cpu_write(c, sreg, off, v, size);
    else if (size == 4)
        pm_st32(p, v);
    else if (size == 2)
        pm_st16(p, (uint16_t)v);
    else
        p[0] = (uint8_t)v;
}

/* The r/m operand: a register (mod 3) or memory at insn_ea. */
static inline uint32_t rm_read(struct cpu *c, const struct insn *i, int size)
{
    if (i->mod == 3)
        return reg_get(c, i->rm, size);
    return mem_read(c, i->seg, insn_ea(c, i), size);
}

static inline void rm_write(struct cpu *c, const struct insn *i, uint32_t v, int size)
{
    if (i->mod == 3)
        reg_set(c, i->rm, v, size);
    else
        mem_write(c, i->seg, insn_ea(c, i), v, size);
}

static inline int32_t sext_to32(uint32_t v, int size)
{
    return size == 1 ? (int8_t)v : size == 2 ? (int16_t)v : (int32_t)v;
}

/* Operand size of a b/v instruction: opcode bit 0 clear means byte. */
static inline int insn_bsize(const struct insn *i)
{
    return (i->opc & 1) ? i->opsize : 1;
}

/* Address-size register mask for string ops, LOOP, XLAT. */
static inline uint32_t addr_mask(const struct insn *i)
{
    return i->addrsize == 4 ? 0xFFFFFFFFu : 0xFFFFu;
}

/* Stack-size (SS.B) helpers */
static inline int stack32(const struct cpu *c)
{
    return (c->segs[S_SS].flags & SEGF_DB) != 0;
}

/* Near jump to `target` (masked to the operand size); #GP(0) past CS.limit. */
void cpu_jump_near(struct cpu *c, uint32_t target, int opsize);
/* Faults unless CPL is 0 (in V86 mode too). */
void cpu_need_cpl0(struct cpu *c);
/* Checks that a multi-part write at sreg:off of `size` bytes can complete. */
void cpu_probe_write(struct cpu *c, int sreg, uint32_t off, int size);
/* Segment register load, choosing the real/V86 or protected form. */
void cpu_load_sreg(struct cpu *c, int sreg, uint16_t sel);
/* Port I/O through the callbacks, after the permission check. */
uint32_t cpu_in(struct cpu *c, uint16_t port, int size);
void cpu_out(struct cpu *c, uint16_t port, uint32_t v, int size);

/* Execution loop (cpu/cpu.c) and block cache (cpu/block.c) */
struct block;
int block_cache_init(struct cpu *c);
void block_cache_free(struct cpu *c);
void block_cache_flush(struct cpu *c);
/* Finds or decodes the block at CS:EIP; NULL: run one instruction uncached
 * (decoded into *single). Faults on fetch errors. */
struct block *block_find(struct cpu *c, struct insn *single);
/* The exact instruction count while a block runs (the loop stores icount
 * only at the block end): the instructions of the current block before the
 * one at fault_eip are added. Outside a block, icount itself. */
uint64_t block_icount_now(struct cpu *c);

#endif
