/* The decoded-block cache's data, shared by cpu/block.c (which builds and
 * kills blocks) and the execution loop in cpu/cpu.c (which looks blocks up
 * and runs them without a call per instruction). */
#ifndef SV_BLOCK_H
#define SV_BLOCK_H
#include "cpu/exec.h"
#include "cpu/jit/jit.h"

#define BLOCK_MAX 32
#define BC_INSNS 524288
#define BC_BLOCKS 65536
#define BC_HASH 32768
#define BC_PAGE_HASH 4096
#define BC_JC 4096          /* jump cache entries (power of two) */
#define BC_DEAD BC_BLOCKS   /* index of a permanently dead block */

/* A remembered successor: the block that started at linear address `lin`
 * when a block last ended there, with a copy of what running it needs, so
 * the loop goes from the link straight to the instructions. It holds while
 * the MMU epoch, the block cache's kill generation and the privilege are
 * the ones it was made under (`key`); the mode and the CS limit are checked
 * at use, like the jump cache's. */
struct block_link {
    uint32_t lin;
    uint32_t epoch;       /* mmu.epoch when made (gepoch when global) */
    uint32_t key;         /* kill_gen << 1 | CPL 3 when made */
    int32_t block;        /* index into blocks[] */
    uint32_t first;       /* the block's first, n, bytes and mode */
    uint16_t n;
    uint16_t bytes;
    uint8_t mode;
    uint8_t global;       /* the block's page was reached by a global translation */
    uint8_t pad[6];
};
_Static_assert(sizeof(struct block_link) == 32, "two links per cache line");

struct block {
    uint32_t phys;        /* physical address of the first byte */
    uint8_t mode;         /* CS.D the block was decoded under */
    uint8_t dead;         /* killed by a code write; skipped by lookups */
    uint16_t n;           /* instructions */
    uint32_t bytes;       /* bytes covered (at most a page) */
    int32_t hash_next;    /* chain in hash[] */
    int32_t page_next;    /* chain in page[] */
    uint32_t first;       /* index of the first instruction in insns[] */
    uint32_t runs;        /* times run by the interpreter (cpu/jit/jit.h JIT_HOT) */
    uint32_t jit_eip;     /* the EIP jit was compiled for */
    uint8_t jit_flat;     /* and cpu->jit_flat then: the code holds only while it is the same */
    jit_block_fn *jit;    /* compiled code, or NULL */
    void *jit_entry;      /* where chained compiled blocks jump in */
};

/* The jump cache maps a linear fetch address straight to a block, skipping
 * the fetch TLB and the physical hash. An entry holds while the MMU's epoch
 * (bumped by every TLB flush, INVLPG and memory-map change) is the one it
 * was filled under, for the same privilege; the block's own mode, dead flag
 * and the CS limit are checked at each use. An entry made from a global
 * translation (a kernel page with CR4.PGE) follows gepoch instead, which
 * CR3 loads leave alone, as they leave the global TLB entry: so the
 * kernel's blocks stay found across the two CR3 loads of every interrupt
 * under page-table isolation. */
struct jc_entry {
    uint32_t lin;
    uint32_t epoch;       /* mmu.epoch at fill, or mmu.gepoch when global */
    int32_t block;        /* index into blocks[] (BC_DEAD: empty) */
    uint8_t user;         /* CPL 3 at fill */
    uint8_t global;       /* filled from a global fetch translation */
    uint16_t pad;
};

/* The epoch an entry made from a translation of that kind depends on. */
static inline uint32_t block_epoch(const struct cpu *c, int global)
{
    return global ? c->mmu.gepoch : c->mmu.epoch;
}

struct block_cache {
    /* successors of each block: [0] fall-through, [1] elsewhere; first, so
     * that each pair sits on one cache line (the cache is 64-byte aligned) */
    struct block_link links[BC_BLOCKS + 1][2];
    struct block blocks[BC_BLOCKS + 1];   /* + the dead sentinel */
    int nblocks;
    struct insn insns[BC_INSNS];
    int ninsns;
    int32_t hash[BC_HASH];
    int32_t page[BC_PAGE_HASH];
    struct jc_entry jc[BC_JC];
    uint32_t kill_gen;    /* bumped when any block dies or the cache is flushed */
    int32_t cur;          /* block being executed, or -1 */
    int cur_dirty;        /* cur was killed while running */
    uint32_t cur_eip;     /* EIP at the start of cur */
    uint8_t found_global; /* the last lookup's block was reached by a global translation */
};

static inline struct jc_entry *block_jc_slot(struct block_cache *bc, uint32_t lin)
{
    return &bc->jc[(lin ^ (lin >> 12)) & (BC_JC - 1)];
}

/* The block at CS:EIP from the jump cache, or NULL (then use block_find). */
static inline struct block *block_lookup_fast(struct cpu *c)
{
    struct block_cache *bc = c->blocks;
    const struct seg *cs = &c->segs[S_CS];
    uint32_t lin = cs->base + c->eip;
    const struct jc_entry *e = block_jc_slot(bc, lin);
    if (e->lin != lin || e->epoch != block_epoch(c, e->global) || e->user != (c->cpl == 3))
        return NULL;
    struct block *b = &bc->blocks[e->block];
    if (b->dead || b->mode != ((cs->flags & SEGF_DB) != 0) ||
        (uint64_t)c->eip + b->bytes - 1 > cs->limit)
        return NULL;
    bc->found_global = e->global;
    return b;
}

static inline uint32_t block_link_key(const struct cpu *c)
{
    return c->blocks->kill_gen << 1 | (c->cpl == 3);
}

/* The successor remembered in l for linear address lin: its index, or -1. */
static inline int32_t block_link_follow(struct cpu *c, const struct block_link *l, uint32_t lin)
{
    const struct seg *cs = &c->segs[S_CS];
    if (l->lin != lin || l->epoch != block_epoch(c, l->global) || l->key != block_link_key(c) ||
        l->mode != ((cs->flags & SEGF_DB) != 0) || (uint64_t)c->eip + l->bytes - 1 > cs->limit)
        return -1;
    c->blocks->found_global = l->global;
    return l->block;
}

static inline void block_link_set(struct cpu *c, struct block_link *l, uint32_t lin, const struct block *b)
{
    uint8_t global = c->blocks->found_global;
    *l = (struct block_link){ lin, block_epoch(c, global), block_link_key(c), (int32_t)(b - c->blocks->blocks),
                              b->first, b->n, (uint16_t)b->bytes, b->mode, global, { 0 } };
}

#endif
