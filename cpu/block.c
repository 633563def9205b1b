/* Decoded-block cache: runs of decoded instructions along one path keyed by
 * the guest-physical address of their first byte and CS.D. Blocks end at a
 * control transfer or mode change (OPF_END), at the page end and at BLOCK_MAX
 * instructions. In 32-bit code a conditional jump (Jcc rel8/rel32) does not
 * end its block: the block goes on along the not-taken path and is left at
 * the jump when it is taken (a superblock: one block entry and exit fewer
 * per branch not taken; cpu/cpu.c run_block and the JIT leave when EIP is
 * not the next instruction's). A JMP rel8/rel32 in 32-bit code whose
 * target is on the same page does not end it either: decoding goes on at
 * the target (insn.follow), so a jump back to a loop's or a dispatcher's
 * head costs no block exit and entry, and a switch dispatcher reached by a
 * JMP from each case gets an indirect jump of its own per case, which the
 * host predicts better. `bytes` is then the extent from the block's start
 * on (for the CS limit check; a JMP may go back before the start). An
 * instruction that crosses a page (or is on MMIO) is decoded afresh each
 * time. Pages holding blocks are marked in physmem; a write to
 * one calls block_code_write(), which kills that page's blocks. The jump
 * cache (cpu/block.h) finds a block from CS.base + EIP without the fetch TLB
 * or the hash; block_find fills it after each lookup or decode. */
#include <stdlib.h>
#include <string.h>
#include "cpu/block.h"

static unsigned hash_of(uint32_t phys, int mode)
{
    return ((phys * 2654435761u) >> 19 ^ (uint32_t)mode) & (BC_HASH - 1);
}

static unsigned page_hash(uint32_t page)
{
    return (page * 40503u) & (BC_PAGE_HASH - 1);
}

/* Called by physmem on writes to code pages. */
static void block_code_write(void *opaque, uint32_t paddr, int len)
{
    struct cpu *c = opaque;
    struct block_cache *bc = c->blocks;
    uint32_t first = paddr >> 12, last = (paddr + (uint32_t)(len > 0 ? len - 1 : 0)) >> 12;
    for (uint32_t pg = first; pg <= last; pg++) {
        int32_t *link = &bc->page[page_hash(pg)];
        int found = 0;
        while (*link >= 0) {
            struct block *b = &bc->blocks[*link];
            if ((b->phys >> 12) == pg) {
                b->dead = 1;
                bc->kill_gen++;
                if (*link == bc->cur)
                    bc->cur_dirty = 1;
                *link = b->page_next;
                found = 1;
            } else {
                link = &b->page_next;
            }
        }
        if (found)
            physmem_clear_code(c->mmu.pm, pg << 12);
        if (pg == last)
            break;
    }
}

void block_cache_flush(struct cpu *c)
{
    struct block_cache *bc = c->blocks;
    for (int k = 0; k < bc->nblocks; k++)
        if (!bc->blocks[k].dead)
            physmem_clear_code(c->mmu.pm, bc->blocks[k].phys);
    bc->nblocks = bc->ninsns = 0;
    if (c->jit)
        jit_reset(c->jit);   /* no block refers to code any more */
    memset(bc->hash, 0xFF, sizeof(bc->hash));
    memset(bc->page, 0xFF, sizeof(bc->page));
    for (int k = 0; k < BC_JC; k++)
        bc->jc[k] = (struct jc_entry){ 0, 0, BC_DEAD, 2, 0, 0 };
    bc->blocks[BC_DEAD].dead = 1;
    bc->cur = -1;
    bc->kill_gen++;
    c->block_flushes++;
}

int block_cache_init(struct cpu *c)
{
    size_t size = (sizeof(struct block_cache) + 63) & ~(size_t)63;
    c->blocks = aligned_alloc(64, size);   /* blocks[] on cache lines */
    if (!c->blocks)
        return -1;
    memset(c->blocks, 0, size);
    block_cache_flush(c);
    c->mmu.pm->code_write = block_code_write;
    c->mmu.pm->code_opaque = c;
    return 0;
}

void block_cache_free(struct cpu *c)
{
    if (c->blocks && c->mmu.pm && c->mmu.pm->code_opaque == c) {
        c->mmu.pm->code_write = NULL;
        c->mmu.pm->code_opaque = NULL;
    }
    free(c->blocks);
    c->blocks = NULL;
}

/* ---- fetching instruction bytes ---- */

struct page_src {
    const uint8_t *page;  /* host page */
    uint32_t off;         /* offset of the instruction in the page */
    uint32_t eip;
    uint32_t limit;       /* CS limit */
};

static int page_fetch(void *ctx, unsigned n)
{
    const struct page_src *s = ctx;
    if (s->off + n >= PM_PAGE_SIZE || (uint64_t)s->eip + n > s->limit)
        return -1;
    return s->page[s->off + n];
}

struct lin_src {
    struct cpu *c;
    uint32_t eip;
};

static int lin_fetch(void *ctx, unsigned n)
{
    const struct lin_src *s = ctx;
    struct cpu *c = s->c;
    if ((uint64_t)s->eip + n > c->segs[S_CS].limit)
        return -1;
    uint32_t lin = c->segs[S_CS].base + s->eip + n;
    int user = c->cpl == 3;
    const uint8_t *p = tlb_lookup(&c->mmu, lin, 1, MMU_FETCH, user);
    if (p)
        return *p;
    uint32_t v, flin;
    if (mmu_read(&c->mmu, lin, 1, MMU_FETCH, user, &v, &flin))
        return -1;
    return (int)(v & 0xFF);
}

/* Raises the fault of fetching instruction byte n at CS:eip. */
static _Noreturn void fetch_fault(struct cpu *c, uint32_t eip, unsigned n, int err)
{
    if (err == DEC_TOOLONG || (uint64_t)eip + n > c->segs[S_CS].limit)
        cpu_exception(c, EXC_GP, 0);
    uint32_t lin = c->segs[S_CS].base + eip + n, v, flin;
    uint32_t r = mmu_read(&c->mmu, lin, 1, MMU_FETCH, c->cpl == 3, &v, &flin);
    if (r) {
        c->cr2 = flin;
        cpu_exception(c, EXC_PF, (int)(r & ~MMU_FAULT));
    }
    cpu_exception(c, EXC_GP, 0);   /* not reached: the byte was readable after all */
}

static void decode_single(struct cpu *c, struct insn *out)
{
    struct lin_src src = { c, c->eip };
    int r = decode_insn(out, lin_fetch, &src, (c->segs[S_CS].flags & SEGF_DB) != 0);
    if (r != DEC_OK)
        fetch_fault(c, c->eip, out->len, r);
}

/* Physical address of CS:EIP for fetching; faults like a fetch would. */
static uint32_t fetch_phys(struct cpu *c)
{
    const struct seg *cs = &c->segs[S_CS];
    if (c->eip > cs->limit)
        cpu_exception(c, EXC_GP, 0);
    uint32_t lin = cs->base + c->eip;
    int user = c->cpl == 3;
    const struct tlb_entry *e = &c->mmu.tlb[user][MMU_FETCH][(lin >> 12) & (TLB_SIZE - 1)];
    if (e->tag == (lin & ~0xFFFu))
        return TLB_PHYS(e) | (lin & 0xFFF);
    uint32_t phys;
    uint32_t r = mmu_translate(&c->mmu, lin, MMU_FETCH, user, &phys);
    if (r) {
        c->cr2 = lin;
        cpu_exception(c, EXC_PF, (int)(r & ~MMU_FAULT));
    }
    uint32_t v, flin;
    mmu_read(&c->mmu, lin, 1, MMU_FETCH, user, &v, &flin);   /* fills the TLB */
    return phys;
}

/* Drops write TLB entries that map the page, so writes take the slow path
 * (which reports them to block_code_write). */
static void protect_page(struct cpu *c, uint32_t phys)
{
    if (!c->mmu.pm->pages[(phys & c->mmu.pm->a20_mask) >> PM_PAGE_SHIFT].code)
        mmu_mark_code(&c->mmu, phys);
}

/* A JMP ending at src's position with displacement d may be followed
 * within the block: its target is on the same page and not an instruction
 * the block has already (a loop is not unrolled: it stays a block that
 * chains to itself), and EIP does not wrap (then the block's CS limit
 * check, EIP + bytes - 1 with bytes from the start on, covers every byte
 * after the start, and those before it are below EIP). */
static int jmp_stays(const struct page_src *src, uint32_t d, const uint16_t *offs, unsigned n)
{
    int64_t to = (int64_t)src->off + (int32_t)d, eip = (int64_t)src->eip + (int32_t)d;
    if (to < 0 || to >= PM_PAGE_SIZE || eip < 0 || eip > 0xFFFFFFFFll)
        return 0;
    for (unsigned k = 0; k < n; k++)
        if (offs[k] == to)
            return 0;
    return 1;
}

static struct block *decode_block(struct cpu *c, uint32_t phys, int mode, const uint8_t *page)
{
    struct block_cache *bc = c->blocks;
    if (bc->nblocks >= BC_BLOCKS || bc->ninsns + BLOCK_MAX > BC_INSNS)
        block_cache_flush(c);
    struct block *b = &bc->blocks[bc->nblocks];
    b->phys = phys;
    b->mode = (uint8_t)mode;
    b->dead = 0;
    b->n = 0;
    b->bytes = 0;
    b->first = (uint32_t)bc->ninsns;
    b->runs = 0;
    b->jit = NULL;
    for (int k = 0; k < 2; k++)
        bc->links[b - bc->blocks][k] = (struct block_link){ .key = (bc->kill_gen - 1) << 1, .block = BC_DEAD };
    struct page_src src = { page, phys & 0xFFF, c->eip, c->segs[S_CS].limit };
    uint32_t off0 = src.off;
    uint16_t offs[BLOCK_MAX];   /* page offsets of the instructions */
    while (b->n < BLOCK_MAX) {
        struct insn *i = &bc->insns[b->first + b->n];
        if (decode_insn(i, page_fetch, &src, mode) != DEC_OK)
            break;
        offs[b->n++] = (uint16_t)src.off;
        src.off += i->len;
        src.eip += i->len;
        if ((int32_t)(src.off - off0) > (int32_t)b->bytes)
            b->bytes = src.off - off0;   /* bytes from the start on (a JMP may go back before it) */
        if (mode && insn_is_jmp_rel32(i) && b->n < BLOCK_MAX && jmp_stays(&src, i->imm, offs, b->n)) {
            i->follow = 1;   /* go on at the target: one block less on the way */
            src.off += i->imm;
            src.eip += i->imm;
            continue;
        }
        if (((i->flags & OPF_END) && !(mode && insn_is_jcc(i))) || src.off >= PM_PAGE_SIZE)
            break;
    }
    if (b->n && bc->insns[b->first + b->n - 1].follow)
        bc->insns[b->first + b->n - 1].follow = 0;   /* nothing decoded at the target: the JMP ends the block */
    if (b->n == 0)
        return NULL;
    bc->nblocks++;
    bc->ninsns += b->n;
    unsigned h = hash_of(phys, mode);
    b->hash_next = bc->hash[h];
    bc->hash[h] = (int32_t)(b - bc->blocks);
    unsigned ph = page_hash(phys >> 12);
    b->page_next = bc->page[ph];
    bc->page[ph] = (int32_t)(b - bc->blocks);
    protect_page(c, phys);
    return b;
}

/* Called right after fetch_phys(), which left the fetch TLB entry for the
 * block's page. */
static void jc_fill(struct cpu *c, struct block *b)
{
    uint32_t lin = c->segs[S_CS].base + c->eip;
    int user = c->cpl == 3;
    const struct tlb_entry *t = &c->mmu.tlb[user][MMU_FETCH][(lin >> 12) & (TLB_SIZE - 1)];
    uint8_t global = t->tag == (lin & ~0xFFFu) && (t->phys & TLB_GLOBAL);
    if (global)
        mmu_note_global(&c->mmu, lin);
    *block_jc_slot(c->blocks, lin) = (struct jc_entry){
        lin, block_epoch(c, global), (int32_t)(b - c->blocks->blocks), (uint8_t)user, global, 0 };
    c->blocks->found_global = global;
}

struct block *block_find(struct cpu *c, struct insn *single)
{
    struct block_cache *bc = c->blocks;
    uint32_t phys = fetch_phys(c);
    int mode = (c->segs[S_CS].flags & SEGF_DB) != 0;
    for (int32_t k = bc->hash[hash_of(phys, mode)]; k >= 0; k = bc->blocks[k].hash_next) {
        struct block *b = &bc->blocks[k];
        if (b->phys == phys && b->mode == mode && !b->dead) {
            if ((uint64_t)c->eip + b->bytes - 1 > c->segs[S_CS].limit)
                break;
            c->block_hits++;
            jc_fill(c, b);
            return b;
        }
    }
    c->block_misses++;
    const uint8_t *host = physmem_host_read(c->mmu.pm, phys);
    if (host) {
        struct block *b = decode_block(c, phys, mode, host - (phys & 0xFFF));
        if (b) {
            jc_fill(c, b);
            return b;
        }
    }
    decode_single(c, single);
    return NULL;
}

uint64_t block_icount_now(struct cpu *c)
{
    struct block_cache *bc = c->blocks;
    if (bc->cur < 0)
        return c->icount;
    const struct block *b = &bc->blocks[bc->cur];
    uint32_t mask = b->mode ? 0xFFFFFFFFu : 0xFFFFu, eip = bc->cur_eip;
    unsigned k = 0;
    while (k + 1u < b->n && eip != c->fault_eip) {   /* not found: the last one (a task switch moved fault_eip) */
        eip = insn_next_in_block(&bc->insns[b->first + k], eip, mask);
        k++;
    }
    return c->icount + k;   /* icount is the count at the block's start until it ends */
}
