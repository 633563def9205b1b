/* Paging and the software TLB: page tables built in guest RAM; translations,
 * PSE, PAE with NX, global pages, CR0.WP, A/D bits, exact #PF error codes and
 * fault addresses, INVLPG, TLB coherence with the physical map. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "mmu/mmu.h"

#define P   0x001u
#define RW  0x002u
#define US  0x004u
#define A   0x020u
#define D   0x040u
#define PS  0x080u
#define G   0x100u
#define NX  (1ull << 63)

#define CR0_PE 0x1u
#define CR0_WP 0x10000u
#define CR0_PG 0x80000000u
#define CR4_PSE 0x10u
#define CR4_PAE 0x20u
#define CR4_PGE 0x80u
#define EFER_NXE 0x800ull

#define PD32  0x10000u  /* 32-bit page directory */
#define PT0   0x11000u  /* page table for 0 - 4 MiB */
#define PT1   0x12000u  /* page table for 4 - 8 MiB */

static struct physmem *new_pm(void)
{
    struct physmem *pm = malloc(sizeof(*pm));
    ck_assert_int_eq(physmem_init(pm, 16u << 20), 0);
    return pm;
}

static void free_pm(struct physmem *pm)
{
    physmem_free(pm);
    free(pm);
}

static struct mmu *new_mmu(struct physmem *pm, uint32_t cr3, uint32_t cr4, uint32_t cr0_extra, uint64_t efer)
{
    struct mmu *m = malloc(sizeof(*m));
    mmu_init(m, pm);
    mmu_set_efer(m, efer);
    mmu_set_cr4(m, cr4);
    mmu_set_cr3(m, cr3);
    mmu_set_cr0(m, CR0_PE | CR0_PG | cr0_extra);
    return m;
}

static void pde(struct physmem *pm, uint32_t lin, uint32_t v) { phys_write(pm, PD32 + (lin >> 22) * 4, v, 4); }
static uint32_t pte_addr(uint32_t pt, uint32_t lin) { return pt + ((lin >> 12) & 0x3FF) * 4; }
static void pte(struct physmem *pm, uint32_t pt, uint32_t lin, uint32_t v) { phys_write(pm, pte_addr(pt, lin), v, 4); }

/* The 32-bit layout used by the case table. */
static void build32(struct physmem *pm)
{
    pde(pm, 0x00000000, PT0 | P | RW | US);
    pte(pm, PT0, 0x0000, 0x205000 | P | RW | US);
    pte(pm, PT0, 0x1000, 0x200000 | P | RW | US);
    pte(pm, PT0, 0x2000, 0x201000 | P | US);      /* user read-only */
    pte(pm, PT0, 0x3000, 0x202000 | P | RW);      /* supervisor only */
    pte(pm, PT0, 0x4000, 0x203000);               /* not present */
    pte(pm, PT0, 0x5000, 0x204000 | P);           /* supervisor read-only */
    pde(pm, 0x00400000, PT1 | P);                 /* read-only, supervisor directory */
    pte(pm, PT1, 0x400000, 0x206000 | P | RW | US);
    /* 0x800000: PDE not present */
    pde(pm, 0x00C00000, 0x00400000 | P | RW | US | PS);
    pde(pm, 0x01000000, 0x00800000 | 0x00200000 | P | PS); /* bit 21 reserved */
}

struct xcase {
    uint32_t lin;
    int access, user, wp, pse;
    uint32_t result;     /* 0 or MMU_FAULT | error code */
    uint32_t phys;
};

static const struct xcase cases32[] = {
    { 0x00001123, MMU_READ, 1, 0, 0, 0, 0x200123 },
    { 0x00001123, MMU_WRITE, 1, 1, 0, 0, 0x200123 },
    { 0x00001FFF, MMU_FETCH, 1, 0, 0, 0, 0x200FFF },
    { 0x00002000, MMU_READ, 1, 1, 0, 0, 0x201000 },
    { 0x00002000, MMU_WRITE, 1, 0, 0, MMU_FAULT | PF_P | PF_W | PF_U, 0 },
    { 0x00002000, MMU_WRITE, 0, 0, 0, 0, 0x201000 },
    { 0x00002000, MMU_WRITE, 0, 1, 0, MMU_FAULT | PF_P | PF_W, 0 },
    { 0x00003004, MMU_READ, 1, 0, 0, MMU_FAULT | PF_P | PF_U, 0 },
    { 0x00003004, MMU_FETCH, 1, 0, 0, MMU_FAULT | PF_P | PF_U, 0 },  /* no I/D without NX */
    { 0x00003004, MMU_WRITE, 0, 1, 0, 0, 0x202004 },
    { 0x00004000, MMU_READ, 0, 0, 0, MMU_FAULT, 0 },
    { 0x00004FFF, MMU_WRITE, 1, 0, 0, MMU_FAULT | PF_W | PF_U, 0 },
    { 0x00004000, MMU_FETCH, 0, 0, 0, MMU_FAULT, 0 },
    { 0x00005000, MMU_WRITE, 0, 0, 0, 0, 0x204000 },
    { 0x00005000, MMU_WRITE, 0, 1, 0, MMU_FAULT | PF_P | PF_W, 0 },
    { 0x00400010, MMU_READ, 1, 0, 0, MMU_FAULT | PF_P | PF_U, 0 },   /* PDE lacks U/S */
    { 0x00400010, MMU_WRITE, 1, 0, 0, MMU_FAULT | PF_P | PF_W | PF_U, 0 },
    { 0x00400010, MMU_WRITE, 0, 1, 0, MMU_FAULT | PF_P | PF_W, 0 },  /* PDE lacks R/W */
    { 0x00400010, MMU_WRITE, 0, 0, 0, 0, 0x206010 },
    { 0x00800123, MMU_READ, 1, 0, 0, MMU_FAULT | PF_U, 0 },
    { 0x00800123, MMU_WRITE, 0, 0, 0, MMU_FAULT | PF_W, 0 },
    /* Without CR4.PSE the PS bit is ignored: the PDE points at a zero table. */
    { 0x00C00010, MMU_READ, 0, 0, 0, MMU_FAULT, 0 },
    { 0x00C00010, MMU_READ, 1, 0, 1, 0, 0x400010 },
    { 0x00FFFFFF, MMU_WRITE, 1, 1, 1, 0, 0x7FFFFF },
    { 0x01000000, MMU_READ, 0, 0, 1, MMU_FAULT | PF_P | PF_RSVD, 0 },
    { 0x01000000, MMU_WRITE, 1, 0, 1, MMU_FAULT | PF_P | PF_RSVD | PF_W | PF_U, 0 },
};

START_TEST(test_cases32)
{
    const struct xcase *c = &cases32[_i];
    struct physmem *pm = new_pm();
    build32(pm);
    struct mmu *m = new_mmu(pm, PD32, c->pse ? CR4_PSE : 0, c->wp ? CR0_WP : 0, 0);
    uint32_t phys = 0xDEAD;
    uint32_t r = mmu_translate(m, c->lin, c->access, c->user, &phys);
    ck_assert_msg(r == c->result, "case %d: lin %08x got %08x want %08x", _i, c->lin, r, c->result);
    if (!r)
        ck_assert_uint_eq(phys, c->phys);
    /* The same through the data path, with the faulting address. */
    uint32_t val = 0, flin = 0;
    r = c->access == MMU_WRITE ? mmu_write(m, c->lin, 1, c->user, 0x5A, &flin)
                               : mmu_read(m, c->lin, 1, c->access, c->user, &val, &flin);
    ck_assert_uint_eq(r, c->result);
    if (r)
        ck_assert_uint_eq(flin, c->lin);
    else if (c->access == MMU_WRITE)
        ck_assert_uint_eq(pm->ram[c->phys], 0x5A);
    free(m);
    free_pm(pm);
}
END_TEST

START_TEST(test_paging_off)
{
    struct physmem *pm = new_pm();
    struct mmu *m = malloc(sizeof(*m));
    mmu_init(m, pm);
    uint32_t flin = 0, v = 0, phys = 0;
    ck_assert_uint_eq(mmu_translate(m, 0x123456, MMU_WRITE, 1, &phys), 0);
    ck_assert_uint_eq(phys, 0x123456);
    ck_assert_uint_eq(mmu_write(m, 0x1FFE, 4, 0, 0x11223344, &flin), 0);
    ck_assert_uint_eq(pm->ram[0x1FFE], 0x44);
    ck_assert_uint_eq(pm->ram[0x2001], 0x11);
    ck_assert_uint_eq(mmu_read(m, 0x1FFF, 2, MMU_READ, 0, &v, &flin), 0);
    ck_assert_uint_eq(v, 0x2233);
    ck_assert_uint_eq(mmu_write64(m, 0x2FFD, 0, 0x0807060504030201ull, &flin), 0);
    uint64_t q = 0;
    ck_assert_uint_eq(mmu_read64(m, 0x2FFD, MMU_READ, 0, &q, &flin), 0);
    ck_assert_uint_eq(q, 0x0807060504030201ull);
    ck_assert_uint_eq(pm->ram[0x3004], 0x08);
    /* The fast path serves RAM after a slow-path fill, in and only in a page. */
    ck_assert_ptr_eq(tlb_lookup(m, 0x1000, 4, MMU_READ, 0), pm->ram + 0x1000);
    ck_assert_ptr_eq(tlb_lookup(m, 0x1FFC, 4, MMU_WRITE, 0), pm->ram + 0x1FFC);
    ck_assert_ptr_null(tlb_lookup(m, 0x1FFE, 4, MMU_READ, 0));
    ck_assert_ptr_null(tlb_lookup(m, 0x1000, 4, MMU_READ, 1));
    ck_assert_ptr_null(tlb_lookup(m, 0x1000, 4, MMU_FETCH, 0));
    /* Unmapped memory goes the slow way and reads ones. */
    ck_assert_uint_eq(mmu_read(m, 0x20000000, 4, MMU_READ, 0, &v, &flin), 0);
    ck_assert_uint_eq(v, 0xFFFFFFFF);
    ck_assert_ptr_null(tlb_lookup(m, 0x20000000, 4, MMU_READ, 0));
    free(m);
    free_pm(pm);
}
END_TEST

static uint32_t rd32(struct physmem *pm, uint32_t a) { return phys_read(pm, a, 4); }

START_TEST(test_accessed_dirty)
{
    struct physmem *pm = new_pm();
    build32(pm);
    struct mmu *m = new_mmu(pm, PD32, CR4_PSE, CR0_WP, 0);
    uint32_t v, flin;
    ck_assert_uint_eq(rd32(pm, PD32) & (A | D), 0);
    ck_assert_uint_eq(mmu_read(m, 0x1010, 4, MMU_READ, 1, &v, &flin), 0);
    ck_assert_uint_eq(rd32(pm, PD32) & (A | D), A);
    ck_assert_uint_eq(rd32(pm, pte_addr(PT0, 0x1000)) & (A | D), A);
    /* A write after a read-filled entry walks again and sets D. */
    ck_assert_uint_eq(mmu_write(m, 0x1010, 4, 1, 7, &flin), 0);
    ck_assert_uint_eq(rd32(pm, pte_addr(PT0, 0x1000)) & (A | D), A | D);
    ck_assert_uint_eq(rd32(pm, PD32) & D, 0);  /* D only on the final entry */
    /* Cleared by software without INVLPG: the TLB still holds the entry. */
    pte(pm, PT0, 0x1000, 0x200000 | P | RW | US);
    ck_assert_uint_eq(mmu_write(m, 0x1014, 4, 1, 7, &flin), 0);
    ck_assert_uint_eq(rd32(pm, pte_addr(PT0, 0x1000)) & (A | D), 0);
    mmu_invlpg(m, 0x1FFF);
    ck_assert_uint_eq(mmu_write(m, 0x1014, 4, 1, 7, &flin), 0);
    ck_assert_uint_eq(rd32(pm, pte_addr(PT0, 0x1000)) & (A | D), A | D);
    /* A fetch sets A only. */
    ck_assert_uint_eq(mmu_read(m, 0x0000, 1, MMU_FETCH, 0, &v, &flin), 0);
    ck_assert_uint_eq(rd32(pm, pte_addr(PT0, 0x0000)) & (A | D), A);
    /* 4 MiB page: A and D in the PDE. */
    ck_assert_uint_eq(mmu_write(m, 0xC00000, 2, 0, 1, &flin), 0);
    ck_assert_uint_eq(rd32(pm, PD32 + 3 * 4) & (A | D), A | D);
    /* A faulting access changes no bit. */
    ck_assert_uint_eq(mmu_write(m, 0x2000, 1, 1, 1, &flin), MMU_FAULT | PF_P | PF_W | PF_U);
    ck_assert_uint_eq(rd32(pm, pte_addr(PT0, 0x2000)) & (A | D), 0);
    /* A probe neither. */
    uint32_t phys;
    ck_assert_uint_eq(mmu_probe(m, 0x5123, &phys), 0);
    ck_assert_uint_eq(phys, 0x204123);
    ck_assert_uint_eq(rd32(pm, pte_addr(PT0, 0x5000)) & A, 0);
    ck_assert_uint_eq(mmu_probe(m, 0x4000, &phys), MMU_FAULT);
    free(m);
    free_pm(pm);
}
END_TEST

START_TEST(test_global_pages)
{
    struct physmem *pm = new_pm();
    build32(pm);
    pte(pm, PT0, 0x1000, 0x200000 | P | RW | US | G);
    struct mmu *m = new_mmu(pm, PD32, CR4_PGE, 0, 0);
    uint32_t phys;
    ck_assert_uint_eq(mmu_translate(m, 0x1000, MMU_READ, 0, &phys), 0);
    ck_assert_uint_eq(phys, 0x200000);
    ck_assert_uint_eq(mmu_translate(m, 0x0000, MMU_READ, 0, &phys), 0);
    ck_assert_uint_eq(phys, 0x205000);
    /* Remap both without INVLPG, then reload CR3. */
    pte(pm, PT0, 0x1000, 0x208000 | P | RW | US | G);
    pte(pm, PT0, 0x0000, 0x209000 | P | RW | US);
    mmu_set_cr3(m, PD32);
    ck_assert_uint_eq(mmu_translate(m, 0x1000, MMU_READ, 0, &phys), 0);
    ck_assert_uint_eq(phys, 0x200000);               /* global survived */
    ck_assert_uint_eq(mmu_translate(m, 0x0000, MMU_READ, 0, &phys), 0);
    ck_assert_uint_eq(phys, 0x209000);               /* the other did not */
    mmu_invlpg(m, 0x1000);
    ck_assert_uint_eq(mmu_translate(m, 0x1000, MMU_READ, 0, &phys), 0);
    ck_assert_uint_eq(phys, 0x208000);
    /* Toggling PGE flushes globals too. */
    pte(pm, PT0, 0x1000, 0x20A000 | P | RW | US | G);
    mmu_set_cr4(m, 0);
    ck_assert_uint_eq(mmu_translate(m, 0x1000, MMU_READ, 0, &phys), 0);
    ck_assert_uint_eq(phys, 0x20A000);
    /* Without PGE the G bit means nothing. */
    pte(pm, PT0, 0x1000, 0x20B000 | P | RW | US | G);
    mmu_set_cr3(m, PD32);
    ck_assert_uint_eq(mmu_translate(m, 0x1000, MMU_READ, 0, &phys), 0);
    ck_assert_uint_eq(phys, 0x20B000);
    free(m);
    free_pm(pm);
}
END_TEST

/* A CR3 load drops every non-global entry however many were filled since
 * the last flush (the MMU keeps a log of up to MMU_FILL_LOG of them and
 * looks at the whole TLB past that), and keeps the global ones; pages read,
 * written and fetched, as user and supervisor. */
START_TEST(test_cr3_flush_counts)
{
    /* fills; the six of the global page 5 are not logged */
    static const unsigned counts[] = { 3, MMU_FILL_LOG + 5, MMU_FILL_LOG + 6, MMU_FILL_LOG + 7, 4000 };
    for (unsigned t = 0; t < sizeof(counts) / sizeof(counts[0]); t++) {
        struct physmem *pm = new_pm();
        build32(pm);
        pde(pm, 0x00400000, PT1 | P | RW | US);
        for (uint32_t k = 0; k < 1024; k++)
            pte(pm, PT1, 0x400000 + (k << 12), (0x1000000 + (k << 12)) | P | RW | US | (k == 5 ? G : 0));
        struct mmu *m = new_mmu(pm, PD32, CR4_PGE, 0, 0);
        uint32_t phys, n = counts[t];
        for (uint32_t round = 0; round < 2; round++) {
            /* fill i: page i / 6, one of three kinds and two privileges */
            for (uint32_t i = 0; i < n; i++)
                ck_assert_uint_eq(mmu_translate(m, 0x400000 + (i / 6 << 12), i % 3, i % 6 / 3, &phys), 0);
            for (uint32_t k = 0; k < 1024; k++)
                pte(pm, PT1, 0x400000 + (k << 12), (0x2000000 + (round << 24) + (k << 12)) | P | RW | US);
            mmu_set_cr3(m, PD32);
            for (uint32_t i = 0; i < n; i++) {
                uint32_t k = i / 6;
                ck_assert_uint_eq(mmu_translate(m, 0x400000 + (k << 12), i % 3, i % 6 / 3, &phys), 0);
                uint32_t want = k == 5 ? 0x1005000 : 0x2000000 + (round << 24) + (k << 12);   /* G stays */
                ck_assert_msg(phys == want, "n %u page %u fill %u: %#x, want %#x", n, k, i, phys, want);
            }
        }
        free(m);
        free_pm(pm);
    }
}
END_TEST

START_TEST(test_flush_on_cr_changes)
{
    struct physmem *pm = new_pm();
    build32(pm);
    struct mmu *m = new_mmu(pm, PD32, 0, 0, 0);
    uint32_t phys, flin;
    /* Supervisor write to a read-only page with WP=0 is cached ... */
    ck_assert_uint_eq(mmu_write(m, 0x2000, 1, 0, 1, &flin), 0);
    /* ... and setting WP must drop it. */
    mmu_set_cr0(m, CR0_PE | CR0_PG | CR0_WP);
    ck_assert_uint_eq(mmu_write(m, 0x2000, 1, 0, 1, &flin), MMU_FAULT | PF_P | PF_W);
    ck_assert_uint_eq(flin, 0x2000);
    /* Paging off: identity. */
    mmu_set_cr0(m, CR0_PE);
    ck_assert_uint_eq(mmu_translate(m, 0x1000, MMU_READ, 0, &phys), 0);
    ck_assert_uint_eq(phys, 0x1000);
    mmu_set_cr0(m, CR0_PE | CR0_PG);
    ck_assert_uint_eq(mmu_translate(m, 0x1000, MMU_READ, 0, &phys), 0);
    ck_assert_uint_eq(phys, 0x200000);
    /* PSE on: the 4 MiB page appears. */
    ck_assert_uint_eq(mmu_translate(m, 0xC00000, MMU_READ, 0, &phys), MMU_FAULT);
    mmu_set_cr4(m, CR4_PSE);
    ck_assert_uint_eq(mmu_translate(m, 0xC00000, MMU_READ, 0, &phys), 0);
    ck_assert_uint_eq(phys, 0x400000);
    free(m);
    free_pm(pm);
}
END_TEST

START_TEST(test_invlpg_large)
{
    struct physmem *pm = new_pm();
    build32(pm);
    struct mmu *m = new_mmu(pm, PD32, CR4_PSE, 0, 0);
    uint32_t phys;
    ck_assert_uint_eq(mmu_translate(m, 0xC00000, MMU_READ, 0, &phys), 0);
    ck_assert_uint_eq(mmu_translate(m, 0xC01000, MMU_READ, 0, &phys), 0);
    ck_assert_uint_eq(mmu_translate(m, 0x3000, MMU_READ, 0, &phys), 0);
    pde(pm, 0xC00000, 0x00800000 | P | RW | US | PS);
    pte(pm, PT0, 0x3000, 0x208000 | P | RW | US);
    /* INVLPG of any address in a large page drops the whole large page. */
    mmu_invlpg(m, 0xC00000);
    ck_assert_uint_eq(mmu_translate(m, 0xC01000, MMU_READ, 0, &phys), 0);
    ck_assert_uint_eq(phys, 0x801000);
    ck_assert_uint_eq(mmu_translate(m, 0x3000, MMU_READ, 0, &phys), 0);
    ck_assert_uint_eq(phys, 0x202000);  /* an unrelated 4 KiB entry stays */
    free(m);
    free_pm(pm);
}
END_TEST

START_TEST(test_crossing_write_faults)
{
    struct physmem *pm = new_pm();
    build32(pm);
    struct mmu *m = new_mmu(pm, PD32, 0, CR0_WP, 0);
    uint32_t flin = 0, v;
    /* 0x1000 writable, 0x2000 read-only for the user: nothing is written. */
    memset(pm->ram + 0x200FFC, 0xEE, 4);
    ck_assert_uint_eq(mmu_write(m, 0x1FFE, 4, 1, 0x11223344, &flin), MMU_FAULT | PF_P | PF_W | PF_U);
    ck_assert_uint_eq(flin, 0x2000);
    ck_assert_uint_eq(pm->ram[0x200FFE], 0xEE);
    ck_assert_uint_eq(pm->ram[0x200FFF], 0xEE);
    ck_assert_uint_eq(mmu_write64(m, 0x1FFC, 1, 0, &flin), MMU_FAULT | PF_P | PF_W | PF_U);
    ck_assert_uint_eq(pm->ram[0x200FFC], 0xEE);
    ck_assert_uint_eq(mmu_check_write(m, 0x1FFF, 2, 1, &flin), MMU_FAULT | PF_P | PF_W | PF_U);
    ck_assert_uint_eq(flin, 0x2000);
    /* A first-page fault reports the access address itself. */
    ck_assert_uint_eq(mmu_write(m, 0x3FFF, 2, 1, 0, &flin), MMU_FAULT | PF_P | PF_W | PF_U);
    ck_assert_uint_eq(flin, 0x3FFF);
    /* Read across into a not-present page. */
    ck_assert_uint_eq(mmu_read(m, 0x3FFD, 4, MMU_READ, 0, &v, &flin), MMU_FAULT);
    ck_assert_uint_eq(flin, 0x4000);
    /* A successful crossing write lands on two unrelated physical pages. */
    ck_assert_uint_eq(mmu_write(m, 0x0FFE, 4, 1, 0x11223344, &flin), 0);
    ck_assert_uint_eq(pm->ram[0x205FFE], 0x44);
    ck_assert_uint_eq(pm->ram[0x205FFF], 0x33);
    ck_assert_uint_eq(pm->ram[0x200000], 0x22);
    ck_assert_uint_eq(pm->ram[0x200001], 0x11);
    ck_assert_uint_eq(mmu_read(m, 0x0FFF, 2, MMU_READ, 1, &v, &flin), 0);
    ck_assert_uint_eq(v, 0x2233);
    free(m);
    free_pm(pm);
}
END_TEST

/* PAE layout: PDPT at 0x20000, PD at 0x21000, PTs at 0x22000 and 0x23000. */
#define PDPT 0x20000u
#define PAEPD 0x21000u
#define PAEPT 0x22000u
#define PAEPT2 0x23000u

static void w64(struct physmem *pm, uint32_t a, uint64_t v) { phys_write64(pm, a, v); }

static void build_pae(struct physmem *pm)
{
    w64(pm, PDPT + 0 * 8, PAEPD | P);
    w64(pm, PDPT + 1 * 8, PAEPD | P | RW);      /* R/W is reserved in a PDPTE */
    w64(pm, PAEPD + 0 * 8, PAEPT | P | RW | US);
    w64(pm, PAEPT + 1 * 8, 0x300000 | P | RW | US);
    w64(pm, PAEPT + 2 * 8, 0x301000 | P | RW | US | NX);
    w64(pm, PAEPT + 3 * 8, 0x302000 | P | RW | US | (1ull << 40));  /* above MAXPHYADDR */
    w64(pm, PAEPT + 4 * 8, 0x303000 | P | RW | US);
    w64(pm, PAEPT + 6 * 8, 0x306000 | P | US | G);
    w64(pm, PAEPD + 1 * 8, 0x600000 | P | RW | US | PS);          /* 2 MiB */
    w64(pm, PAEPD + 2 * 8, PAEPT2 | P | RW | US | NX);
    w64(pm, PAEPT2 + 0 * 8, 0x304000 | P | RW | US);
    w64(pm, PAEPD + 3 * 8, 0x800000 | P | RW | PS | 0x2000);       /* bit 13 reserved */
    w64(pm, PAEPD + 4 * 8, 0xA00000 | P | RW | US | PS | NX);
}

struct pcase {
    uint32_t lin;
    int access, user, nxe;
    uint32_t result, phys;
};

static const struct pcase cases_pae[] = {
    { 0x00001234, MMU_READ, 1, 1, 0, 0x300234 },
    { 0x00001234, MMU_FETCH, 1, 1, 0, 0x300234 },
    { 0x00002010, MMU_READ, 1, 1, 0, 0x301010 },
    { 0x00002010, MMU_FETCH, 1, 1, MMU_FAULT | PF_P | PF_U | PF_I, 0 },
    { 0x00002010, MMU_FETCH, 0, 1, MMU_FAULT | PF_P | PF_I, 0 },
    /* With NXE off bit 63 is reserved and fetches carry no I/D bit. */
    { 0x00002010, MMU_READ, 1, 0, MMU_FAULT | PF_P | PF_U | PF_RSVD, 0 },
    { 0x00002010, MMU_FETCH, 0, 0, MMU_FAULT | PF_P | PF_RSVD, 0 },
    { 0x00003000, MMU_READ, 0, 1, MMU_FAULT | PF_P | PF_RSVD, 0 },
    { 0x00004000, MMU_WRITE, 1, 1, 0, 0x303000 },
    { 0x00005000, MMU_FETCH, 1, 1, MMU_FAULT | PF_U | PF_I, 0 },   /* not present */
    { 0x00005000, MMU_FETCH, 1, 0, MMU_FAULT | PF_U, 0 },
    { 0x00005000, MMU_WRITE, 0, 1, MMU_FAULT | PF_W, 0 },
    { 0x00006000, MMU_WRITE, 1, 1, MMU_FAULT | PF_P | PF_W | PF_U, 0 },
    { 0x00212345, MMU_WRITE, 1, 1, 0, 0x612345 },
    { 0x00212345, MMU_FETCH, 1, 0, 0, 0x612345 },
    { 0x00400010, MMU_READ, 1, 1, 0, 0x304010 },
    { 0x00400010, MMU_FETCH, 0, 1, MMU_FAULT | PF_P | PF_I, 0 },   /* NX in the PDE */
    { 0x00600000, MMU_READ, 1, 1, MMU_FAULT | PF_P | PF_U | PF_RSVD, 0 }, /* RSVD before rights */
    { 0x00600000, MMU_READ, 0, 1, MMU_FAULT | PF_P | PF_RSVD, 0 }, /* bit 13 in a 2 MiB PDE */
    { 0x00812345, MMU_FETCH, 0, 1, MMU_FAULT | PF_P | PF_I, 0 },
    { 0x00812345, MMU_WRITE, 1, 1, 0, 0xA12345 },
    { 0x00A00000, MMU_READ, 0, 1, MMU_FAULT, 0 },                  /* PDE not present */
    { 0x40000000, MMU_READ, 0, 1, MMU_FAULT | PF_P | PF_RSVD, 0 }, /* PDPTE with R/W */
    { 0xC0000000, MMU_WRITE, 1, 1, MMU_FAULT | PF_W | PF_U, 0 },   /* PDPTE not present */
};

START_TEST(test_cases_pae)
{
    const struct pcase *c = &cases_pae[_i];
    struct physmem *pm = new_pm();
    build_pae(pm);
    struct mmu *m = new_mmu(pm, PDPT, CR4_PAE, CR0_WP, c->nxe ? EFER_NXE : 0);
    uint32_t phys = 0xDEAD;
    uint32_t r = mmu_translate(m, c->lin, c->access, c->user, &phys);
    ck_assert_msg(r == c->result, "case %d: lin %08x got %08x want %08x", _i, c->lin, r, c->result);
    if (!r)
        ck_assert_uint_eq(phys, c->phys);
    free(m);
    free_pm(pm);
}
END_TEST

START_TEST(test_pae_bits)
{
    struct physmem *pm = new_pm();
    build_pae(pm);
    struct mmu *m = new_mmu(pm, PDPT, CR4_PAE | CR4_PGE, CR0_WP, EFER_NXE);
    uint32_t v, flin, phys;
    ck_assert_uint_eq(mmu_write(m, 0x1008, 4, 1, 0xCAFEBABE, &flin), 0);
    ck_assert_uint_eq(pm->ram[0x300008], 0xBE);
    ck_assert_uint_eq(phys_read64(pm, PAEPT + 8), 0x300000 | P | RW | US | A | D);
    ck_assert_uint_eq(phys_read64(pm, PAEPD) & (A | D), A);
    ck_assert_uint_eq(phys_read64(pm, PDPT), PAEPD | P);  /* PDPTEs have no A bit */
    /* NX high bit survives the A update of the low dword. */
    ck_assert_uint_eq(mmu_read(m, 0x2000, 4, MMU_READ, 1, &v, &flin), 0);
    ck_assert_uint_eq(phys_read64(pm, PAEPT + 16), 0x301000 | P | RW | US | NX | A);
    /* A PAE global page survives a CR3 load. */
    ck_assert_uint_eq(mmu_translate(m, 0x6000, MMU_READ, 1, &phys), 0);
    w64(pm, PAEPT + 6 * 8, 0x307000 | P | US | G);
    mmu_set_cr3(m, PDPT);
    ck_assert_uint_eq(mmu_translate(m, 0x6000, MMU_READ, 1, &phys), 0);
    ck_assert_uint_eq(phys, 0x306000);
    /* PDPTE 1 has R/W set: not loadable. */
    ck_assert_int_eq(mmu_check_pdptes(m, PDPT), -1);
    w64(pm, PDPT + 8, PAEPD | P);
    ck_assert_int_eq(mmu_check_pdptes(m, PDPT), 0);
    /* Turning NXE off flushes: the NX page now has a reserved bit. */
    mmu_set_efer(m, 0);
    ck_assert_uint_eq(mmu_read(m, 0x2000, 4, MMU_READ, 1, &v, &flin), MMU_FAULT | PF_P | PF_U | PF_RSVD);
    ck_assert_uint_eq(flin, 0x2000);
    free(m);
    free_pm(pm);
}
END_TEST

/* MMIO device counting accesses. */
struct cdev { int reads, writes; uint32_t last; };
static uint32_t cdev_read(void *d, uint32_t off, int size) { (void)size; ((struct cdev *)d)->reads++; return 0xA0 + off; }
static void cdev_write(void *d, uint32_t off, uint32_t v, int size)
{
    (void)off; (void)size;
    ((struct cdev *)d)->writes++;
    ((struct cdev *)d)->last = v;
}
static const struct bus_ops cdev_ops = { cdev_read, cdev_write, 0 };

struct hook { int n; uint32_t addr; };
static void on_code(void *o, uint32_t paddr, int len) { (void)len; ((struct hook *)o)->n++; ((struct hook *)o)->addr = paddr; }

START_TEST(test_tlb_follows_map)
{
    struct physmem *pm = new_pm();
    build32(pm);
    struct hook h = { 0, 0 };
    pm->code_write = on_code;
    pm->code_opaque = &h;
    struct mmu *m = new_mmu(pm, PD32, 0, 0, 0);
    uint32_t v, flin;
    ck_assert_uint_eq(mmu_write(m, 0x1000, 4, 1, 0x12345678, &flin), 0);
    ck_assert_uint_eq(mmu_read(m, 0x1000, 4, MMU_READ, 1, &v, &flin), 0);
    ck_assert_ptr_eq(tlb_lookup(m, 0x1000, 4, MMU_READ, 1), pm->ram + 0x200000);
    ck_assert_ptr_eq(tlb_lookup(m, 0x1000, 4, MMU_WRITE, 1), pm->ram + 0x200000);
    uint64_t misses = m->tlb_misses;
    ck_assert_uint_eq(mmu_read(m, 0x1004, 4, MMU_READ, 1, &v, &flin), 0);
    ck_assert_uint_eq(m->tlb_misses, misses);  /* slow path hit: no walk */

    /* A page becomes code: write pointers go, reads stay, writes hit the hook. */
    physmem_mark_code(pm, 0x200000);
    mmu_check_generation(m);
    ck_assert_ptr_null(tlb_lookup(m, 0x1000, 4, MMU_WRITE, 1));
    ck_assert_ptr_eq(tlb_lookup(m, 0x1000, 4, MMU_READ, 1), pm->ram + 0x200000);
    ck_assert_uint_eq(mmu_write(m, 0x1002, 2, 1, 0x9090, &flin), 0);
    ck_assert_int_eq(h.n, 1);
    ck_assert_uint_eq(h.addr, 0x200002);
    ck_assert_uint_eq(pm->ram[0x200002], 0x90);
    ck_assert_ptr_null(tlb_lookup(m, 0x1000, 4, MMU_WRITE, 1));
    /* Cleared: the next slow write hands out the pointer again. */
    physmem_clear_code(pm, 0x200000);
    ck_assert_uint_eq(mmu_write(m, 0x1002, 2, 1, 0, &flin), 0);
    ck_assert_int_eq(h.n, 1);
    ck_assert_ptr_eq(tlb_lookup(m, 0x1000, 4, MMU_WRITE, 1), pm->ram + 0x200000);

    /* The physical page turns into MMIO: the cached pointers must die. */
    struct cdev dev = { 0, 0, 0 };
    ck_assert_int_eq(physmem_map_mmio(pm, 0x200000, 0x1000, &cdev_ops, &dev), 0);
    mmu_check_generation(m);
    ck_assert_ptr_null(tlb_lookup(m, 0x1000, 4, MMU_READ, 1));
    ck_assert_uint_eq(mmu_read(m, 0x1004, 1, MMU_READ, 1, &v, &flin), 0);
    ck_assert_uint_eq(v, 0xA4);
    ck_assert_uint_eq(mmu_write(m, 0x1008, 4, 1, 0x55, &flin), 0);
    misses = m->tlb_misses;
    ck_assert_uint_eq(mmu_read(m, 0x1005, 1, MMU_READ, 1, &v, &flin), 0);
    ck_assert_uint_eq(m->tlb_misses, misses);  /* MMIO translation cached too */
    ck_assert_uint_eq(v, 0xA5);
    ck_assert_int_eq(dev.reads, 2);
    ck_assert_int_eq(dev.writes, 1);
    ck_assert_uint_eq(dev.last, 0x55);
    ck_assert_ptr_null(tlb_lookup(m, 0x1000, 4, MMU_READ, 1));
    ck_assert_ptr_null(tlb_lookup(m, 0x1000, 4, MMU_WRITE, 1));

    /* ROM: readable directly, writes dropped on the slow path. */
    static uint8_t rom[0x1000] = { 0x11, 0x22 };
    physmem_map_rom(pm, 0x200000, 0x1000, rom);
    ck_assert_uint_eq(mmu_write(m, 0x1000, 1, 1, 0x77, &flin), 0);
    ck_assert_uint_eq(rom[0], 0x11);
    ck_assert_ptr_null(tlb_lookup(m, 0x1000, 1, MMU_WRITE, 1));
    ck_assert_uint_eq(mmu_read(m, 0x1000, 2, MMU_READ, 1, &v, &flin), 0);
    ck_assert_uint_eq(v, 0x2211);
    ck_assert_ptr_eq(tlb_lookup(m, 0x1000, 1, MMU_READ, 1), rom);
    free(m);
    free_pm(pm);
}
END_TEST

START_TEST(test_mmu_mark_code)
{
    struct physmem *pm = new_pm();
    build32(pm);
    struct hook h = { 0, 0 };
    pm->code_write = on_code;
    pm->code_opaque = &h;
    struct mmu *m = new_mmu(pm, PD32, 0, 0, 0);
    uint32_t flin;
    ck_assert_uint_eq(mmu_write(m, 0x0000, 4, 1, 1, &flin), 0);
    ck_assert_uint_eq(mmu_write(m, 0x1000, 4, 1, 1, &flin), 0);
    uint32_t v;
    ck_assert_uint_eq(mmu_read(m, 0x1000, 4, MMU_READ, 1, &v, &flin), 0);
    ck_assert_ptr_nonnull(tlb_lookup(m, 0x0000, 4, MMU_WRITE, 1));
    ck_assert_ptr_nonnull(tlb_lookup(m, 0x1000, 4, MMU_WRITE, 1));
    mmu_mark_code(m, 0x200123);
    ck_assert_uint_eq(m->code_generation, pm->code_generation);
    ck_assert_ptr_null(tlb_lookup(m, 0x1000, 4, MMU_WRITE, 1));
    ck_assert_ptr_nonnull(tlb_lookup(m, 0x0000, 4, MMU_WRITE, 1));  /* other pages keep theirs */
    ck_assert_ptr_nonnull(tlb_lookup(m, 0x1000, 4, MMU_READ, 1));
    ck_assert_uint_eq(mmu_write(m, 0x1000, 4, 1, 2, &flin), 0);
    ck_assert_int_eq(h.n, 1);
    ck_assert_ptr_null(tlb_lookup(m, 0x1000, 4, MMU_WRITE, 1));
    free(m);
    free_pm(pm);
}
END_TEST

START_TEST(test_a20_through_tlb)
{
    struct physmem *pm = new_pm();
    struct mmu *m = malloc(sizeof(*m));
    mmu_init(m, pm);
    uint32_t v, flin;
    pm->ram[0x100010] = 0xBB;
    pm->ram[0x000010] = 0xAA;
    ck_assert_uint_eq(mmu_read(m, 0x100010, 1, MMU_READ, 0, &v, &flin), 0);
    ck_assert_uint_eq(v, 0xBB);
    physmem_set_a20(pm, 0);
    mmu_check_generation(m);
    ck_assert_ptr_null(tlb_lookup(m, 0x100010, 1, MMU_READ, 0));
    ck_assert_uint_eq(mmu_read(m, 0x100010, 1, MMU_READ, 0, &v, &flin), 0);
    ck_assert_uint_eq(v, 0xAA);
    ck_assert_ptr_eq(tlb_lookup(m, 0x100010, 1, MMU_READ, 0), pm->ram + 0x10);
    free(m);
    free_pm(pm);
}
END_TEST

Suite *mmu_suite(void)
{
    Suite *s = suite_create("mmu");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_cases32, 0, (int)(sizeof(cases32) / sizeof(cases32[0])));
    tcase_add_loop_test(tc, test_cases_pae, 0, (int)(sizeof(cases_pae) / sizeof(cases_pae[0])));
    tcase_add_test(tc, test_paging_off);
    tcase_add_test(tc, test_accessed_dirty);
    tcase_add_test(tc, test_global_pages);
    tcase_add_test(tc, test_cr3_flush_counts);
    tcase_add_test(tc, test_flush_on_cr_changes);
    tcase_add_test(tc, test_invlpg_large);
    tcase_add_test(tc, test_crossing_write_faults);
    tcase_add_test(tc, test_pae_bits);
    tcase_add_test(tc, test_tlb_follows_map);
    tcase_add_test(tc, test_mmu_mark_code);
    tcase_add_test(tc, test_a20_through_tlb);
    suite_add_tcase(s, tc);
    return s;
}
