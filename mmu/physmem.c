/* The guest-physical memory map of a PC: 4 KiB page table over the 32-bit
 * physical space holding RAM, ROM, MMIO and holes, plus the A20 gate (Intel SDM
 * vol. 3, 8.7.13.4 A20M#) and code-page write tracking for the block cache.
 * Not modelled: physical addresses above 4 GiB, caching attributes (MTRR/PAT). */
#include "mmu/physmem.h"
#include <stdlib.h>
#include <string.h>

#define PAGE_MASK (PM_PAGE_SIZE - 1)

int physmem_init(struct physmem *pm, uint64_t ram_size)
{
    memset(pm, 0, sizeof(*pm));
    pm->a20_mask = 0xFFFFFFFFu;
    pm->pages = calloc(PM_NPAGES, sizeof(*pm->pages));
    if (!pm->pages)
        return -1;
    uint64_t alloc = (ram_size + PAGE_MASK) & ~(uint64_t)PAGE_MASK;
    if (alloc > (size_t)-1) {
        physmem_free(pm);
        return -1;
    }
    if (alloc) {
        pm->ram = calloc(1, (size_t)alloc);
        if (!pm->ram) {
            physmem_free(pm);
            return -1;
        }
    }
    pm->ram_size = ram_size;
    uint64_t low = alloc > 0x100000000ull ? 0x100000000ull : alloc;
    for (uint64_t a = 0; a < low; a += PM_PAGE_SIZE) {
        struct pm_page *p = &pm->pages[a >> PM_PAGE_SHIFT];
        p->kind = PM_RAM;
        p->host = pm->ram + a;
    }
    return 0;
}

void physmem_free(struct physmem *pm)
{
    free(pm->pages);
    free(pm->ram);
    pm->pages = NULL;
    pm->ram = NULL;
}

/* The page range [first, last] covering [base, base + len). */
static int page_range(uint32_t base, uint32_t len, uint32_t *first, uint32_t *last)
{
    if (!len)
        return 0;
    uint64_t end = (uint64_t)base + len - 1;
    if (end > 0xFFFFFFFFu)
        end = 0xFFFFFFFFu;
    *first = base >> PM_PAGE_SHIFT;
    *last = (uint32_t)(end >> PM_PAGE_SHIFT);
    return 1;
}

/* Content at these pages changes under the CPU's feet: let it drop blocks. */
static void map_changed(struct physmem *pm, uint32_t first, uint32_t last)
{
    pm->generation++;
    for (uint32_t i = first; i <= last; i++)
        if (pm->pages[i].code && pm->code_write)
            pm->code_write(pm->code_opaque, i << PM_PAGE_SHIFT, PM_PAGE_SIZE);
}

/* MMIO ranges lying wholly inside [base, base + len) die (len = 0); their
 * slots are reused by later mappings (PCI BARs move often). */
static void kill_mmio(struct physmem *pm, uint32_t base, uint32_t len)
{
    for (int r = 0; r < pm->nmmio; r++) {
        struct bus_range *m = &pm->mmio[r];
        if (m->len && m->base >= base && (uint64_t)m->base + m->len <= (uint64_t)base + len)
            m->len = 0;
    }
}

/* A live MMIO range overlapping page i, or -1. */
static int mmio_in_page(const struct physmem *pm, uint32_t i)
{
    uint64_t lo = (uint64_t)i << PM_PAGE_SHIFT, hi = lo + PM_PAGE_SIZE;
    for (int r = pm->nmmio - 1; r >= 0; r--) {
        const struct bus_range *m = &pm->mmio[r];
        if (m->len && m->base < hi && (uint64_t)m->base + m->len > lo)
            return r;
    }
    return -1;
}

static void map_host(struct physmem *pm, uint32_t base, uint32_t len, uint8_t *host, int kind)
{
    uint32_t first, last;
    if (!page_range(base, len, &first, &last))
        return;
    kill_mmio(pm, first << PM_PAGE_SHIFT, (last - first + 1) << PM_PAGE_SHIFT);
    for (uint32_t i = first; i <= last; i++) {
        pm->pages[i].kind = (uint8_t)kind;
        pm->pages[i].host = host + ((size_t)(i - first) << PM_PAGE_SHIFT);
        pm->pages[i].mmio = 0;
    }
    map_changed(pm, first, last);
}

void physmem_map_ram(struct physmem *pm, uint32_t base, uint32_t len, uint8_t *host)
{
    map_host(pm, base, len, host, PM_RAM);
}

void physmem_map_rom(struct physmem *pm, uint32_t base, uint32_t len, uint8_t *host)
{
    map_host(pm, base, len, host, PM_ROM);
}

/* MMIO ranges need not be page-aligned: a page may hold several small ranges
 * (or one range and a hole); the page points at the last one mapped and the
 * lookup scans the table when the address falls outside it. */
int physmem_map_mmio(struct physmem *pm, uint32_t base, uint32_t len, const struct bus_ops *ops, void *dev)
{
    uint32_t first, last;
    if (!page_range(base, len, &first, &last))
        return -1;
    if ((uint64_t)base + len > 0x100000000ull)
        len = (uint32_t)(0x100000000ull - base);
    kill_mmio(pm, base, len);
    int idx = 0;
    while (idx < pm->nmmio && pm->mmio[idx].len)
        idx++;
    if (idx == PM_MAX_MMIO)
        return -1;
    if (idx == pm->nmmio)
        pm->nmmio++;
    pm->mmio[idx] = (struct bus_range){ base, len, ops, dev };
    for (uint32_t i = first; i <= last; i++) {
        pm->pages[i].kind = PM_MMIO;
        pm->pages[i].host = NULL;
        pm->pages[i].mmio = (uint8_t)idx;
    }
    map_changed(pm, first, last);
    return 0;
}

/* Page-granular for RAM and ROM; an MMIO range smaller than a page can be
 * unmapped alone, and the page stays MMIO while other ranges live in it. */
void physmem_unmap(struct physmem *pm, uint32_t base, uint32_t len)
{
    uint32_t first, last;
    if (!page_range(base, len, &first, &last))
        return;
    kill_mmio(pm, base, len);
    for (uint32_t i = first; i <= last; i++) {
        struct pm_page *p = &pm->pages[i];
        int r = p->kind == PM_MMIO ? mmio_in_page(pm, i) : -1;
        if (r >= 0)
            p->mmio = (uint8_t)r;
        else
            *p = (struct pm_page){ .code = p->code };
    }
    map_changed(pm, first, last);
}

void physmem_set_a20(struct physmem *pm, int enabled)
{
    uint32_t mask = enabled ? 0xFFFFFFFFu : ~(1u << 20);
    if (mask != pm->a20_mask) {
        pm->a20_mask = mask;
        pm->generation++;
    }
}

/* ---- MMIO dispatch ---- */

static const struct bus_range *mmio_find(const struct physmem *pm, uint32_t addr)
{
    const struct bus_range *r = &pm->mmio[pm->pages[addr >> PM_PAGE_SHIFT].mmio];
    if (addr - r->base < r->len)
        return r;
    for (int i = 0; i < pm->nmmio; i++) {
        r = &pm->mmio[i];
        if (addr - r->base < r->len)
            return r;
    }
    return NULL;
}

/* An access inside one page of MMIO kind; bytes outside any range read as
 * ones, and an access straddling ranges is split into bytes. */
static uint32_t mmio_read(struct physmem *pm, uint32_t addr, int size)
{
    const struct bus_range *r = mmio_find(pm, addr);
    if (r && addr - r->base + (uint32_t)size <= r->len)
        return bus_range_read(r->ops, r->dev, addr - r->base, size);
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        uint32_t a = addr + (uint32_t)i;
        r = mmio_find(pm, a);
        v |= (r ? bus_range_read(r->ops, r->dev, a - r->base, 1) & 0xFF : 0xFF) << (8 * i);
    }
    return v;
}

static void mmio_write(struct physmem *pm, uint32_t addr, uint32_t value, int size)
{
    const struct bus_range *r = mmio_find(pm, addr);
    if (r && addr - r->base + (uint32_t)size <= r->len) {
        bus_range_write(r->ops, r->dev, addr - r->base, value, size);
        return;
    }
    for (int i = 0; i < size; i++) {
        uint32_t a = addr + (uint32_t)i;
        r = mmio_find(pm, a);
        if (r)
            bus_range_write(r->ops, r->dev, a - r->base, (value >> (8 * i)) & 0xFF, 1);
    }
}

/* ---- scalar accesses ---- */

static inline uint32_t ones(int size)
{
    return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

/* size 1, 2 or 4; addr already masked; the access stays inside one page. */
static uint32_t read_in_page(struct physmem *pm, uint32_t addr, int size)
{
    const struct pm_page *p = &pm->pages[addr >> PM_PAGE_SHIFT];
    const uint8_t *h;
    switch (p->kind) {
    case PM_RAM:
    case PM_ROM:
        h = p->host + (addr & PAGE_MASK);
        return size == 1 ? h[0] : size == 2 ? pm_ld16(h) : pm_ld32(h);
    case PM_MMIO:
        return mmio_read(pm, addr, size);
    default:
        return ones(size);
    }
}

static void write_in_page(struct physmem *pm, uint32_t addr, uint32_t value, int size)
{
    struct pm_page *p = &pm->pages[addr >> PM_PAGE_SHIFT];
    uint8_t *h;
    switch (p->kind) {
    case PM_RAM:
        h = p->host + (addr & PAGE_MASK);
        if (size == 1)
            h[0] = (uint8_t)value;
        else if (size == 2)
            pm_st16(h, (uint16_t)value);
        else
            pm_st32(h, value);
        break;
    case PM_MMIO:
        mmio_write(pm, addr, value, size);
        break;
    default:
        break; /* ROM and holes drop writes */
    }
    if (p->code && pm->code_write)
        pm->code_write(pm->code_opaque, addr, size);
}

uint32_t phys_read(struct physmem *pm, uint32_t addr, int size)
{
    addr &= pm->a20_mask;
    if ((addr & PAGE_MASK) + (uint32_t)size <= PM_PAGE_SIZE)
        return read_in_page(pm, addr, size);
    /* Crosses a page: each byte goes through the mask and the map on its own. */
    uint32_t v = 0;
    for (int i = 0; i < size; i++)
        v |= read_in_page(pm, (addr + (uint32_t)i) & pm->a20_mask, 1) << (8 * i);
    return v;
}

void phys_write(struct physmem *pm, uint32_t addr, uint32_t value, int size)
{
    addr &= pm->a20_mask;
    if ((addr & PAGE_MASK) + (uint32_t)size <= PM_PAGE_SIZE) {
        write_in_page(pm, addr, value, size);
        return;
    }
    for (int i = 0; i < size; i++)
        write_in_page(pm, (addr + (uint32_t)i) & pm->a20_mask, (value >> (8 * i)) & 0xFF, 1);
}

uint64_t phys_read64(struct physmem *pm, uint32_t addr)
{
    uint32_t lo = phys_read(pm, addr, 4);
    return lo | (uint64_t)phys_read(pm, addr + 4, 4) << 32;
}

void phys_write64(struct physmem *pm, uint32_t addr, uint64_t value)
{
    phys_write(pm, addr, (uint32_t)value, 4);
    phys_write(pm, addr + 4, (uint32_t)(value >> 32), 4);
}

/* ---- block copies ---- */

void phys_read_block(struct physmem *pm, uint32_t addr, void *buf, size_t len)
{
    uint8_t *out = buf;
    while (len) {
        uint32_t a = addr & pm->a20_mask;
        size_t n = PM_PAGE_SIZE - (a & PAGE_MASK);
        if (n > len)
            n = len;
        const struct pm_page *p = &pm->pages[a >> PM_PAGE_SHIFT];
        if (p->kind == PM_RAM || p->kind == PM_ROM)
            memcpy(out, p->host + (a & PAGE_MASK), n);
        else if (p->kind == PM_MMIO)
            for (size_t i = 0; i < n; i++)
                out[i] = (uint8_t)mmio_read(pm, a + (uint32_t)i, 1);
        else
            memset(out, 0xFF, n);
        out += n;
        addr += (uint32_t)n;
        len -= n;
    }
}

void phys_write_block(struct physmem *pm, uint32_t addr, const void *buf, size_t len)
{
    const uint8_t *in = buf;
    while (len) {
        uint32_t a = addr & pm->a20_mask;
        size_t n = PM_PAGE_SIZE - (a & PAGE_MASK);
        if (n > len)
            n = len;
        const struct pm_page *p = &pm->pages[a >> PM_PAGE_SHIFT];
        if (p->kind == PM_RAM)
            memcpy(p->host + (a & PAGE_MASK), in, n);
        else if (p->kind == PM_MMIO)
            for (size_t i = 0; i < n; i++)
                mmio_write(pm, a + (uint32_t)i, in[i], 1);
        if (p->code && pm->code_write)
            pm->code_write(pm->code_opaque, a, (int)n);
        in += n;
        addr += (uint32_t)n;
        len -= n;
    }
}

/* ---- host pointers and code tracking ---- */

uint8_t *physmem_host_read(struct physmem *pm, uint32_t addr)
{
    addr &= pm->a20_mask;
    const struct pm_page *p = &pm->pages[addr >> PM_PAGE_SHIFT];
    if (p->kind == PM_RAM || p->kind == PM_ROM)
        return p->host + (addr & PAGE_MASK);
    return NULL;
}

uint8_t *physmem_host_write(struct physmem *pm, uint32_t addr)
{
    addr &= pm->a20_mask;
    const struct pm_page *p = &pm->pages[addr >> PM_PAGE_SHIFT];
    if (p->kind == PM_RAM && !p->code)
        return p->host + (addr & PAGE_MASK);
    return NULL;
}

void physmem_mark_code(struct physmem *pm, uint32_t addr)
{
    struct pm_page *p = &pm->pages[(addr & pm->a20_mask) >> PM_PAGE_SHIFT];
    if (!p->code) {
        p->code = 1;
        pm->code_generation++;
    }
}

void physmem_clear_code(struct physmem *pm, uint32_t addr)
{
    pm->pages[(addr & pm->a20_mask) >> PM_PAGE_SHIFT].code = 0;
}
