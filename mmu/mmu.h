/* Linear to physical: the paging walk (two-level, PSE, PAE with NX, PGE,
 * CR0.WP, accessed/dirty) and the software TLB that caches host pointers per
 * page, split by access kind (read, write, fetch) and privilege (supervisor,
 * user). Segmentation is the CPU's business; the MMU sees linear addresses. */
#ifndef SV_MMU_H
#define SV_MMU_H
#include <stdint.h>
#include "mmu/physmem.h"

enum mmu_access { MMU_READ = 0, MMU_WRITE = 1, MMU_FETCH = 2 };

#define TLB_BITS 10
#define TLB_SIZE (1u << TLB_BITS)
#define TLB_INVALID 1u               /* never a page-aligned address */
#define TLB_SLOW 2u                  /* tag flag: translation cached, no host pointer */

/* #PF error code bits */
#define PF_P    0x01
#define PF_W    0x02
#define PF_U    0x04
#define PF_RSVD 0x08
#define PF_I    0x10

/* 16 bytes, so that four share a cache line: the two marks live in the low
 * bits of the page-aligned physical address. */
struct tlb_entry {
    uint32_t tag;       /* linear page address (| TLB_SLOW when host is NULL), or TLB_INVALID */
    uint32_t phys;      /* physical page address | TLB_GLOBAL | TLB_LARGE */
    uint8_t *host;      /* host address of the page start; NULL: use the slow path */
};
#define TLB_GLOBAL 1u   /* from a G page with CR4.PGE: survives CR3 loads */
#define TLB_LARGE  2u   /* from a 4 MiB / 2 MiB page: INVLPG drops the whole region */
#define TLB_PHYS(e) ((e)->phys & ~0xFFFu)

#define MMU_FILL_LOG 512
#define MMU_REGIONS 2048             /* 2 MiB regions of the linear address space */

struct mmu {
    struct physmem *pm;
    uint32_t cr0, cr3, cr4;          /* the CPU writes these through mmu_set_cr*() */
    uint64_t efer;                   /* NXE */
    uint32_t pm_generation;          /* physmem generation the TLB was filled under */
    uint32_t code_generation;        /* physmem code_generation the write entries follow */
    int large_seen;                  /* a large-page entry was filled since the last full flush */
    uint32_t epoch;                  /* bumped by every flush, INVLPG and generation sync, so caches
                                        built on translations (the CPU's jump cache) can tell */
    uint32_t gepoch;                 /* the same less CR3 loads (flushes that keep global entries):
                                        what caches built on a global translation depend on */
    uint32_t gcode[MMU_REGIONS / 32];/* 2 MiB regions in which such a cache was built under this
                                        gepoch (mmu_note_global): INVLPG elsewhere keeps gepoch */
    /* [user][access] */
    struct tlb_entry tlb[2][3][TLB_SIZE];
    /* Entries filled from non-global translations since the last flush (as
     * indices into tlb[][][]), so that a CR3 load drops just those rather
     * than looking at all 6144; nfill > MMU_FILL_LOG: too many, look at all. */
    uint16_t fill_log[MMU_FILL_LOG];
    uint32_t nfill;
    /* Statistics for --stats. Misses are page walks (slow path). Hits are
     * counted by the slow path when it finds its entry and by the CPU on each
     * fast-path hit (cpu/exec.h mem_fast, cpu/access.c); instruction fetches
     * through the CPU's jump cache do not look at the TLB and are not counted. */
    uint64_t tlb_hits, tlb_misses;
};

/* The largest physical address width the walk accepts in PAE entries (bits
 * from here to 62 are reserved); CPUID should report the same. Addresses at
 * or above 4 GiB are truncated to 32 bits (not modelled). */
#define MMU_MAXPHYADDR 36

void mmu_init(struct mmu *mmu, struct physmem *pm);
void mmu_set_cr0(struct mmu *mmu, uint32_t cr0);   /* flushes when PG/WP/PE change */
void mmu_set_cr3(struct mmu *mmu, uint32_t cr3);   /* flushes non-global entries */
void mmu_set_cr4(struct mmu *mmu, uint32_t cr4);   /* flushes when PSE/PAE/PGE change */
void mmu_set_efer(struct mmu *mmu, uint64_t efer);
void mmu_flush(struct mmu *mmu, int include_global);
void mmu_invlpg(struct mmu *mmu, uint32_t lin);
/* Something was built on a global translation of linear address lin under
 * the current gepoch (the CPU's jump cache): INVLPG in its region must
 * change gepoch. */
static inline void mmu_note_global(struct mmu *mmu, uint32_t lin)
{
    mmu->gcode[lin >> 26] |= 1u << ((lin >> 21) & 31);
}

/* Walks the page tables (setting accessed/dirty bits) for an access of the given
 * kind; user = CPL 3. Returns 0 and the physical address, or the #PF error code
 * with bit 31 set (MMU_FAULT) when the access faults; CR2 is the caller's job. */
#define MMU_FAULT 0x80000000u
uint32_t mmu_translate(struct mmu *mmu, uint32_t lin, int access, int user, uint32_t *phys);
/* PAE: 0 when the four PDPTEs at CR3 are loadable, -1 when a present one
 * has reserved bits (MOV CR3 / CR0 / CR4 then raise #GP(0) on a real CPU).
 * The walk itself rereads PDPTEs from memory and reports such an entry as a
 * RSVD #PF, so callers that skip this check still get a fault. */
int mmu_check_pdptes(struct mmu *mmu, uint32_t cr3);
/* Side-effect-free translation for debuggers and monitors: no A/D updates, no
 * TLB fill, no permission checks. Returns 0, or MMU_FAULT when not present. */
uint32_t mmu_probe(struct mmu *mmu, uint32_t lin, uint32_t *phys);

/* Slow-path accesses of 1, 2 or 4 bytes, crossing pages as needed (both pages
 * are checked before anything is written). Return 0 or MMU_FAULT|errcode, with
 * *fault_lin the faulting linear address. They fill the TLB. */
uint32_t mmu_read(struct mmu *mmu, uint32_t lin, int size, int access, int user, uint32_t *val, uint32_t *fault_lin);
uint32_t mmu_write(struct mmu *mmu, uint32_t lin, int size, int user, uint32_t val, uint32_t *fault_lin);
/* 8-byte variants (CMPXCHG8B, MOVQ, descriptor loads), same rules. */
uint32_t mmu_read64(struct mmu *mmu, uint32_t lin, int access, int user, uint64_t *val, uint32_t *fault_lin);
uint32_t mmu_write64(struct mmu *mmu, uint32_t lin, int user, uint64_t val, uint32_t *fault_lin);
/* Checks `size` bytes at lin for writing (both pages when it crosses, setting
 * D bits) without storing: for read-modify-write instructions that must fault
 * before they change anything. Returns 0 or MMU_FAULT|errcode. */
uint32_t mmu_check_write(struct mmu *mmu, uint32_t lin, int size, int user, uint32_t *fault_lin);

/* The TLB follows the physical map: when physmem's generation (map, A20) or
 * code_generation (a page became code) moved, the TLB drops all entries or
 * its write entries. The slow path checks by itself; the CPU calls
 * mmu_check_generation() once per block, after decoding (which may mark code
 * pages) and before running it, so that no stale direct write pointer to a
 * code page is used by its fast path. */
void mmu_sync_generation(struct mmu *mmu);
static inline void mmu_check_generation(struct mmu *mmu)
{
    if (mmu->pm_generation != mmu->pm->generation || mmu->code_generation != mmu->pm->code_generation)
        mmu_sync_generation(mmu);
}

/* The fast path: a host pointer for `size` bytes at lin if they sit in one RAM
 * (or, for reads and fetches, ROM) page present in the TLB for this access
 * and privilege, else NULL. Entries without a host pointer carry TLB_SLOW in
 * their tag, so the tag compare alone rejects them. */
static inline uint8_t *tlb_lookup(struct mmu *mmu, uint32_t lin, int size, int access, int user)
{
    const struct tlb_entry *e = &mmu->tlb[user][access][(lin >> 12) & (TLB_SIZE - 1)];
    if (e->tag == (lin & ~0xFFFu) && ((lin & 0xFFF) + (uint32_t)size) <= 0x1000)
        return e->host + (lin & 0xFFF);
    return 0;
}

/* Marks a physical page as holding decoded code (physmem_mark_code) and drops
 * this MMU's write entries for it at once, so no generation flush is needed
 * when this is the only MMU. */
void mmu_mark_code(struct mmu *mmu, uint32_t phys);

#endif
