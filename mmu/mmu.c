/* IA-32 paging and the software TLB: 32-bit two-level paging with PSE 4 MiB
 * pages, PAE three-level paging with 2 MiB pages and NX, global pages, CR0.WP,
 * accessed/dirty bits and exact #PF error codes (Intel SDM vol. 3, ch. 4).
 * Not modelled: PSE-36/PAE addresses >= 4 GiB (truncated), PCD/PWT/PAT,
 * SMEP/SMAP, PKU, paging-structure caches, 4-level (long mode) paging. */
#include "mmu/mmu.h"
#include <string.h>

#define PG_P   0x001u
#define PG_RW  0x002u
#define PG_US  0x004u
#define PG_A   0x020u
#define PG_D   0x040u
#define PG_PS  0x080u
#define PG_G   0x100u
#define PG_NX  (1ull << 63)

#define CR0_PE  0x00000001u
#define CR0_WP  0x00010000u
#define CR0_PG  0x80000000u
#define CR4_PSE 0x00000010u
#define CR4_PAE 0x00000020u
#define CR4_PGE 0x00000080u
#define EFER_NXE 0x800ull

/* PAE: physical-address bits MAXPHYADDR..62 are reserved in every entry. */
#define PAE_RSVD_HIGH (((1ull << 63) - 1) & ~((1ull << MMU_MAXPHYADDR) - 1))
/* Legacy-PAE PDPTE: bits 2:1 and 8:5 are reserved too (and 63). */
#define PDPTE_RSVD (PAE_RSVD_HIGH | PG_NX | 0x1E6ull)
/* PSE 4 MiB PDE with PSE-36: bit 21 and bits 20:(MAXPHYADDR - 19) reserved. */
#define PDE4M_RSVD ((1u << 22) - (1u << (MMU_MAXPHYADDR - 19)))
/* PAE 2 MiB PDE: bits 20:13 reserved. */
#define PDE2M_RSVD 0x1FE000ull

struct walk {
    uint32_t phys;  /* physical address of lin */
    uint8_t global; /* G bit of the final entry, with CR4.PGE */
    uint8_t large;  /* translated by a 4 MiB / 2 MiB page */
};

void mmu_init(struct mmu *mmu, struct physmem *pm)
{
    memset(mmu, 0, sizeof(*mmu));
    mmu->pm = pm;
    mmu->pm_generation = pm->generation;
    mmu->code_generation = pm->code_generation;
    mmu_flush(mmu, 1);
}

/* ---- TLB maintenance ---- */

/* A flush that keeps global entries leaves gepoch as it is. */
static void mmu_new_epoch(struct mmu *mmu, int include_global)
{
    mmu->epoch++;
    if (include_global) {
        mmu->gepoch = mmu->epoch;
        memset(mmu->gcode, 0, sizeof(mmu->gcode));
    }
}

/* Whether INVLPG of lin can change a translation something noted global
 * under this gepoch was built on: its 2 MiB region, or the 4 MiB one a
 * large 32-bit page may cover. */
static int invlpg_hits_global(const struct mmu *mmu, uint32_t lin)
{
    uint32_t r = lin >> 21;
    if (mmu->large_seen && !(mmu->cr4 & CR4_PAE))
        return ((mmu->gcode[r >> 5] >> (r & 30)) & 3) != 0;
    return (mmu->gcode[r >> 5] >> (r & 31)) & 1;
}

void mmu_flush(struct mmu *mmu, int include_global)
{
    struct tlb_entry *e = &mmu->tlb[0][0][0];
    size_t n = sizeof(mmu->tlb) / sizeof(mmu->tlb[0][0][0]);
    mmu_new_epoch(mmu, include_global);
    if (!include_global && mmu->nfill <= MMU_FILL_LOG) {
        /* a logged entry refilled since from a global translation stays */
        for (uint32_t k = 0; k < mmu->nfill; k++)
            if (!(e[mmu->fill_log[k]].phys & TLB_GLOBAL))
                e[mmu->fill_log[k]].tag = TLB_INVALID;
    } else {
        for (size_t i = 0; i < n; i++)
            if (include_global || !(e[i].phys & TLB_GLOBAL))
                e[i].tag = TLB_INVALID;
    }
    mmu->nfill = 0;
    if (include_global)
        mmu->large_seen = 0;
}

void mmu_sync_generation(struct mmu *mmu)
{
    if (mmu->pm_generation != mmu->pm->generation) {
        mmu_flush(mmu, 1);
    } else {
        /* Only direct write pointers can be wrong: a page became code. */
        mmu_new_epoch(mmu, 1);
        for (int u = 0; u < 2; u++)
            for (uint32_t i = 0; i < TLB_SIZE; i++)
                mmu->tlb[u][MMU_WRITE][i].tag = TLB_INVALID;
    }
    mmu->pm_generation = mmu->pm->generation;
    mmu->code_generation = mmu->pm->code_generation;
}

void mmu_mark_code(struct mmu *mmu, uint32_t phys)
{
    int in_step = mmu->code_generation == mmu->pm->code_generation;
    physmem_mark_code(mmu->pm, phys);
    uint32_t pg = (phys & mmu->pm->a20_mask) & ~0xFFFu;
    for (int u = 0; u < 2; u++)
        for (uint32_t i = 0; i < TLB_SIZE; i++) {
            struct tlb_entry *e = &mmu->tlb[u][MMU_WRITE][i];
            if (e->tag != TLB_INVALID && (TLB_PHYS(e) & mmu->pm->a20_mask) == pg)
                e->tag = TLB_INVALID;
        }
    if (in_step)
        mmu->code_generation = mmu->pm->code_generation;
}

void mmu_invlpg(struct mmu *mmu, uint32_t lin)
{
    uint32_t page = lin & ~0xFFFu, idx = (lin >> 12) & (TLB_SIZE - 1);
    mmu_new_epoch(mmu, invlpg_hits_global(mmu, lin));
    for (int u = 0; u < 2; u++)
        for (int a = 0; a < 3; a++)
            if ((mmu->tlb[u][a][idx].tag & ~TLB_SLOW) == page)
                mmu->tlb[u][a][idx].tag = TLB_INVALID;
    if (!mmu->large_seen)
        return;
    /* A large page is cached as many 4 KiB entries: drop all of its region. */
    uint32_t mask = (mmu->cr4 & CR4_PAE) ? 0xFFE00000u : 0xFFC00000u;
    struct tlb_entry *e = &mmu->tlb[0][0][0];
    size_t n = sizeof(mmu->tlb) / sizeof(mmu->tlb[0][0][0]);
    for (size_t i = 0; i < n; i++)
        if ((e[i].phys & TLB_LARGE) && e[i].tag != TLB_INVALID && (e[i].tag & mask) == (lin & mask))
            e[i].tag = TLB_INVALID;
}

void mmu_set_cr0(struct mmu *mmu, uint32_t cr0)
{
    uint32_t changed = mmu->cr0 ^ cr0;
    mmu->cr0 = cr0;
    if (changed & (CR0_PG | CR0_WP | CR0_PE))
        mmu_flush(mmu, 1);
}

void mmu_set_cr3(struct mmu *mmu, uint32_t cr3)
{
    mmu->cr3 = cr3;
    mmu_flush(mmu, 0);
}

void mmu_set_cr4(struct mmu *mmu, uint32_t cr4)
{
    uint32_t changed = mmu->cr4 ^ cr4;
    mmu->cr4 = cr4;
    if (changed & (CR4_PSE | CR4_PAE | CR4_PGE))
        mmu_flush(mmu, 1);
}

void mmu_set_efer(struct mmu *mmu, uint64_t efer)
{
    uint64_t changed = mmu->efer ^ efer;
    mmu->efer = efer;
    if (changed & EFER_NXE)
        mmu_flush(mmu, 1);
}

/* ---- the page walk ---- */

static int nx_enabled(const struct mmu *mmu)
{
    return (mmu->cr4 & CR4_PAE) && (mmu->efer & EFER_NXE);
}

/* The error-code bits that describe the access itself (SDM 4.7). */
static uint32_t access_bits(const struct mmu *mmu, int access, int user)
{
    return (access == MMU_WRITE ? PF_W : 0) | (user ? PF_U : 0) |
           (access == MMU_FETCH && nx_enabled(mmu) ? PF_I : 0);
}

/* Rights combined over all levels: rw_us is the AND of the RW/US bits. */
static int allowed(const struct mmu *mmu, uint32_t rw_us, int nx, int access, int user)
{
    if (user && !(rw_us & PG_US))
        return 0;
    if (access == MMU_WRITE && !(rw_us & PG_RW) && (user || (mmu->cr0 & CR0_WP)))
        return 0;
    if (access == MMU_FETCH && nx)
        return 0;
    return 1;
}

/* Sets bits in the low dword of an entry if they are not all set yet. */
static void set_bits(struct physmem *pm, uint32_t addr, uint32_t entry, uint32_t bits)
{
    if ((entry & bits) != bits)
        phys_write(pm, addr, entry | bits, 4);
}

static uint32_t walk32(struct mmu *mmu, uint32_t lin, int access, int user, int update, struct walk *w)
{
    struct physmem *pm = mmu->pm;
    uint32_t err = access_bits(mmu, access, user);
    uint32_t pde_addr = (mmu->cr3 & 0xFFFFF000u) | ((lin >> 20) & 0xFFC);
    uint32_t pde = phys_read(pm, pde_addr, 4);
    if (!(pde & PG_P))
        return MMU_FAULT | err;
    if ((mmu->cr4 & CR4_PSE) && (pde & PG_PS)) {
        if (pde & PDE4M_RSVD)
            return MMU_FAULT | err | PF_P | PF_RSVD;
        if (!allowed(mmu, pde, 0, access, user))
            return MMU_FAULT | err | PF_P;
        if (update)
            set_bits(pm, pde_addr, pde, PG_A | (access == MMU_WRITE ? PG_D : 0));
        w->phys = (pde & 0xFFC00000u) | (lin & 0x3FFFFF);
        w->global = (pde & PG_G) && (mmu->cr4 & CR4_PGE);
        w->large = 1;
        return 0;
    }
    uint32_t pte_addr = (pde & 0xFFFFF000u) | ((lin >> 10) & 0xFFC);
    uint32_t pte = phys_read(pm, pte_addr, 4);
    if (!(pte & PG_P))
        return MMU_FAULT | err;
    if (!allowed(mmu, pde & pte, 0, access, user))
        return MMU_FAULT | err | PF_P;
    if (update) {
        set_bits(pm, pde_addr, pde, PG_A);
        set_bits(pm, pte_addr, pte, PG_A | (access == MMU_WRITE ? PG_D : 0));
    }
    w->phys = (pte & 0xFFFFF000u) | (lin & 0xFFF);
    w->global = (pte & PG_G) && (mmu->cr4 & CR4_PGE);
    w->large = 0;
    return 0;
}

/* PAE: the PDPTEs are read from memory on each walk (real CPUs load them on
 * MOV CR3 and #GP on reserved bits there; here a bad PDPTE is a RSVD #PF). */
static uint32_t walk_pae(struct mmu *mmu, uint32_t lin, int access, int user, int update, struct walk *w)
{
    struct physmem *pm = mmu->pm;
    uint32_t err = access_bits(mmu, access, user);
    uint64_t rsvd = PAE_RSVD_HIGH | (mmu->efer & EFER_NXE ? 0 : PG_NX);
    uint64_t pdpte = phys_read64(pm, (mmu->cr3 & 0xFFFFFFE0u) | ((lin >> 27) & 0x18));
    if (!(pdpte & PG_P))
        return MMU_FAULT | err;
    if (pdpte & PDPTE_RSVD)
        return MMU_FAULT | err | PF_P | PF_RSVD;
    uint32_t pde_addr = ((uint32_t)pdpte & 0xFFFFF000u) | ((lin >> 18) & 0xFF8);
    uint64_t pde = phys_read64(pm, pde_addr);
    if (!(pde & PG_P))
        return MMU_FAULT | err;
    if (pde & PG_PS) {
        if (pde & (rsvd | PDE2M_RSVD))
            return MMU_FAULT | err | PF_P | PF_RSVD;
        if (!allowed(mmu, (uint32_t)pde, nx_enabled(mmu) && (pde & PG_NX), access, user))
            return MMU_FAULT | err | PF_P;
        if (update)
            set_bits(pm, pde_addr, (uint32_t)pde, PG_A | (access == MMU_WRITE ? PG_D : 0));
        w->phys = ((uint32_t)pde & 0xFFE00000u) | (lin & 0x1FFFFF);
        w->global = (pde & PG_G) && (mmu->cr4 & CR4_PGE);
        w->large = 1;
        return 0;
    }
    if (pde & rsvd)
        return MMU_FAULT | err | PF_P | PF_RSVD;
    uint32_t pte_addr = ((uint32_t)pde & 0xFFFFF000u) | ((lin >> 9) & 0xFF8);
    uint64_t pte = phys_read64(pm, pte_addr);
    if (!(pte & PG_P))
        return MMU_FAULT | err;
    if (pte & rsvd)
        return MMU_FAULT | err | PF_P | PF_RSVD;
    int nx = nx_enabled(mmu) && ((pde | pte) & PG_NX);
    if (!allowed(mmu, (uint32_t)(pde & pte), nx, access, user))
        return MMU_FAULT | err | PF_P;
    if (update) {
        set_bits(pm, pde_addr, (uint32_t)pde, PG_A);
        set_bits(pm, pte_addr, (uint32_t)pte, PG_A | (access == MMU_WRITE ? PG_D : 0));
    }
    w->phys = ((uint32_t)pte & 0xFFFFF000u) | (lin & 0xFFF);
    w->global = (pte & PG_G) && (mmu->cr4 & CR4_PGE);
    w->large = 0;
    return 0;
}

int mmu_check_pdptes(struct mmu *mmu, uint32_t cr3)
{
    for (uint32_t i = 0; i < 4; i++) {
        uint64_t e = phys_read64(mmu->pm, (cr3 & 0xFFFFFFE0u) + i * 8);
        if ((e & PG_P) && (e & PDPTE_RSVD))
            return -1;
    }
    return 0;
}

static uint32_t walk(struct mmu *mmu, uint32_t lin, int access, int user, int update, struct walk *w)
{
    if (!(mmu->cr0 & CR0_PG) || !(mmu->cr0 & CR0_PE)) {
        *w = (struct walk){ .phys = lin };
        return 0;
    }
    if (mmu->cr4 & CR4_PAE)
        return walk_pae(mmu, lin, access, user, update, w);
    return walk32(mmu, lin, access, user, update, w);
}

uint32_t mmu_probe(struct mmu *mmu, uint32_t lin, uint32_t *phys)
{
    struct walk w;
    uint32_t r = walk(mmu, lin, MMU_READ, 0, 0, &w);
    if (r)
        return r;
    *phys = w.phys;
    return 0;
}

/* ---- the slow path ---- */

/* Direct host pointer a TLB entry may carry for this access kind. */
static uint8_t *entry_host(struct mmu *mmu, int access, uint32_t phys_page)
{
    return access == MMU_WRITE ? physmem_host_write(mmu->pm, phys_page)
                               : physmem_host_read(mmu->pm, phys_page);
}

/* Translate through the TLB, walking and filling on a miss. */
static uint32_t xlate(struct mmu *mmu, uint32_t lin, int access, int user, struct tlb_entry **out)
{
    mmu_check_generation(mmu);
    struct tlb_entry *e = &mmu->tlb[user][access][(lin >> 12) & (TLB_SIZE - 1)];
    uint32_t page = lin & ~0xFFFu;
    if ((e->tag & ~TLB_SLOW) == page) {
        mmu->tlb_hits++;
        if (!e->host && (e->host = entry_host(mmu, access, TLB_PHYS(e))) != NULL)
            e->tag = page; /* the page lost its code mark since the fill */
        *out = e;
        return 0;
    }
    mmu->tlb_misses++;
    struct walk w;
    uint32_t r = walk(mmu, lin, access, user, 1, &w);
    if (r)
        return r;
    e->tag = page;
    e->phys = (w.phys & ~0xFFFu) | (w.global ? TLB_GLOBAL : 0) | (w.large ? TLB_LARGE : 0);
    if (!w.global && mmu->nfill <= MMU_FILL_LOG) {
        if (mmu->nfill < MMU_FILL_LOG)
            mmu->fill_log[mmu->nfill] = (uint16_t)(e - &mmu->tlb[0][0][0]);
        mmu->nfill++;
    }
    e->host = entry_host(mmu, access, TLB_PHYS(e));
    if (!e->host)
        e->tag |= TLB_SLOW;
    mmu->large_seen |= w.large;
    *out = e;
    return 0;
}

uint32_t mmu_translate(struct mmu *mmu, uint32_t lin, int access, int user, uint32_t *phys)
{
    struct tlb_entry *e;
    uint32_t r = xlate(mmu, lin, access, user, &e);
    if (!r)
        *phys = TLB_PHYS(e) | (lin & 0xFFF);
    return r;
}

/* n bytes (1..8) at physical p, all inside one page. */
static uint64_t phys_get(struct physmem *pm, uint32_t p, int n)
{
    if (n == 1 || n == 2 || n == 4)
        return phys_read(pm, p, n);
    if (n == 8)
        return phys_read64(pm, p);
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)phys_read(pm, p + (uint32_t)i, 1) << (8 * i);
    return v;
}

static void phys_put(struct physmem *pm, uint32_t p, int n, uint64_t v)
{
    if (n == 1 || n == 2 || n == 4)
        phys_write(pm, p, (uint32_t)v, n);
    else if (n == 8)
        phys_write64(pm, p, v);
    else
        for (int i = 0; i < n; i++)
            phys_write(pm, p + (uint32_t)i, (uint32_t)(v >> (8 * i)) & 0xFF, 1);
}

static int whole(int n)
{
    return n == 1 || n == 2 || n == 4 || n == 8;
}

static uint64_t host_get(const uint8_t *h, int n)
{
    return n == 1 ? h[0] : n == 2 ? pm_ld16(h) : n == 4 ? pm_ld32(h) : pm_ld64(h);
}

static void host_put(uint8_t *h, int n, uint64_t v)
{
    if (n == 1)
        h[0] = (uint8_t)v;
    else if (n == 2)
        pm_st16(h, (uint16_t)v);
    else if (n == 4)
        pm_st32(h, (uint32_t)v);
    else
        pm_st64(h, v);
}

/* One place of an access: physical address, direct pointer or NULL, length. */
struct piece {
    uint32_t phys;
    uint8_t *host;
    int len;
};

/* Translates every page the access touches (at most two) before the caller
 * touches memory, so a fault on the second page leaves the first unchanged. */
static uint32_t prepare(struct mmu *mmu, uint32_t lin, int size, int access, int user,
                        struct piece pc[2], uint32_t *fault_lin)
{
    uint32_t off = lin & 0xFFF;
    int n1 = off + (uint32_t)size > 0x1000 ? (int)(0x1000 - off) : size;
    struct tlb_entry *e;
    uint32_t r = xlate(mmu, lin, access, user, &e);
    if (r) {
        *fault_lin = lin;
        return r;
    }
    pc[0] = (struct piece){ TLB_PHYS(e) | off, e->host ? e->host + off : NULL, n1 };
    pc[1].len = 0;
    if (n1 == size)
        return 0;
    uint32_t lin2 = lin + (uint32_t)n1;
    r = xlate(mmu, lin2, access, user, &e);
    if (r) {
        *fault_lin = lin2;
        return r;
    }
    pc[1] = (struct piece){ TLB_PHYS(e), e->host, size - n1 };
    return 0;
}

static uint32_t read_n(struct mmu *mmu, uint32_t lin, int size, int access, int user, uint64_t *val, uint32_t *fault_lin)
{
    struct piece pc[2];
    uint32_t r = prepare(mmu, lin, size, access, user, pc, fault_lin);
    if (r)
        return r;
    uint64_t v = 0;
    for (int i = 0, shift = 0; i < 2 && pc[i].len; shift += 8 * pc[i].len, i++) {
        uint64_t part = pc[i].host && whole(pc[i].len) ? host_get(pc[i].host, pc[i].len)
                                                       : phys_get(mmu->pm, pc[i].phys, pc[i].len);
        v |= part << shift;
    }
    *val = v;
    return 0;
}

static uint32_t write_n(struct mmu *mmu, uint32_t lin, int size, int user, uint64_t val, uint32_t *fault_lin)
{
    struct piece pc[2];
    uint32_t r = prepare(mmu, lin, size, MMU_WRITE, user, pc, fault_lin);
    if (r)
        return r;
    for (int i = 0; i < 2 && pc[i].len; i++) {
        if (pc[i].host && whole(pc[i].len))
            host_put(pc[i].host, pc[i].len, val);
        else
            phys_put(mmu->pm, pc[i].phys, pc[i].len, val);
        val = pc[i].len == 8 ? 0 : val >> (8 * pc[i].len);
    }
    return 0;
}

uint32_t mmu_read(struct mmu *mmu, uint32_t lin, int size, int access, int user, uint32_t *val, uint32_t *fault_lin)
{
    uint64_t v;
    uint32_t r = read_n(mmu, lin, size, access, user, &v, fault_lin);
    if (!r)
        *val = (uint32_t)v;
    return r;
}

uint32_t mmu_write(struct mmu *mmu, uint32_t lin, int size, int user, uint32_t val, uint32_t *fault_lin)
{
    return write_n(mmu, lin, size, user, val, fault_lin);
}

uint32_t mmu_read64(struct mmu *mmu, uint32_t lin, int access, int user, uint64_t *val, uint32_t *fault_lin)
{
    return read_n(mmu, lin, 8, access, user, val, fault_lin);
}

uint32_t mmu_write64(struct mmu *mmu, uint32_t lin, int user, uint64_t val, uint32_t *fault_lin)
{
    return write_n(mmu, lin, 8, user, val, fault_lin);
}

uint32_t mmu_check_write(struct mmu *mmu, uint32_t lin, int size, int user, uint32_t *fault_lin)
{
    struct piece pc[2];
    return prepare(mmu, lin, size, MMU_WRITE, user, pc, fault_lin);
}
