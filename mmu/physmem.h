/* The guest-physical memory map: page-granular (4 KiB) table over the 4 GiB
 * physical space. A page is RAM (host buffer, read/write), ROM (host buffer,
 * writes dropped), MMIO (bus_ops callbacks) or unmapped (reads all ones,
 * writes dropped). The A20 gate masks bit 20. Pages that hold decoded code are
 * marked, and a write to one calls the code-write hook (self-modifying code). */
#ifndef SV_PHYSMEM_H
#define SV_PHYSMEM_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "devices/bus.h"

#define PM_PAGE_SHIFT 12
#define PM_PAGE_SIZE  (1u << PM_PAGE_SHIFT)
#define PM_NPAGES     (1u << (32 - PM_PAGE_SHIFT))
#define PM_MAX_MMIO   64

enum pm_kind { PM_UNMAPPED = 0, PM_RAM, PM_ROM, PM_MMIO };

struct pm_page {
    uint8_t *host;   /* RAM/ROM: host address of the page start */
    uint8_t kind;    /* enum pm_kind */
    uint8_t mmio;    /* index into physmem.mmio for PM_MMIO */
    uint16_t code;   /* nonzero while decoded blocks exist for this page */
};

typedef void pm_code_write_fn(void *opaque, uint32_t paddr, int len);

struct physmem {
    struct pm_page *pages;          /* PM_NPAGES entries */
    uint8_t *ram;                   /* guest RAM, ram_size bytes, zeroed */
    uint64_t ram_size;
    struct bus_range mmio[PM_MAX_MMIO];
    int nmmio;
    uint32_t a20_mask;              /* 0xFFFFFFFF, or ~(1 << 20) with A20 off */
    uint32_t generation;            /* bumped when the map or A20 changes: TLBs flush */
    uint32_t code_generation;       /* bumped when a page becomes code: TLBs drop write entries */
    pm_code_write_fn *code_write;   /* called on writes to code pages */
    void *code_opaque;
};

/* Allocates the page table and ram_size bytes of RAM mapped at 0 (below 4 GiB:
 * callers map high RAM themselves). Returns 0 or -1 (out of memory). */
int physmem_init(struct physmem *pm, uint64_t ram_size);
void physmem_free(struct physmem *pm);
/* Map host memory as RAM or ROM at a page-aligned guest range. */
void physmem_map_ram(struct physmem *pm, uint32_t base, uint32_t len, uint8_t *host);
void physmem_map_rom(struct physmem *pm, uint32_t base, uint32_t len, uint8_t *host);
int physmem_map_mmio(struct physmem *pm, uint32_t base, uint32_t len, const struct bus_ops *ops, void *dev);
void physmem_unmap(struct physmem *pm, uint32_t base, uint32_t len);
void physmem_set_a20(struct physmem *pm, int enabled);

/* Accesses of 1, 2, 4 (and 8) bytes at any alignment, crossing pages as needed. */
uint32_t phys_read(struct physmem *pm, uint32_t addr, int size);
void phys_write(struct physmem *pm, uint32_t addr, uint32_t value, int size);
uint64_t phys_read64(struct physmem *pm, uint32_t addr);
void phys_write64(struct physmem *pm, uint32_t addr, uint64_t value);
/* Block copies for DMA and loaders; unmapped parts read as 0xFF. */
void phys_read_block(struct physmem *pm, uint32_t addr, void *buf, size_t len);
void phys_write_block(struct physmem *pm, uint32_t addr, const void *buf, size_t len);

/* Host pointer for reading the byte at addr (RAM/ROM), or NULL. */
uint8_t *physmem_host_read(struct physmem *pm, uint32_t addr);
/* Host pointer for writing (RAM that holds no code), or NULL. */
uint8_t *physmem_host_write(struct physmem *pm, uint32_t addr);

/* Code-page tracking for the decoded-block cache. The flag is per page, not a
 * count: mark sets it (and, on 0 -> 1, bumps code_generation so that MMUs drop
 * their direct write pointers at their next generation check), clear resets it.
 * While it is set, every write to the page (phys_write*, block writes, the MMU
 * slow path) calls code_write(code_opaque, paddr, len) after the store. */
void physmem_mark_code(struct physmem *pm, uint32_t addr);
void physmem_clear_code(struct physmem *pm, uint32_t addr);

/* Little-endian loads and stores through host pointers (guest memory is
 * little-endian whatever the host). On a little-endian host they are one
 * memcpy each, which compilers turn into a single (unaligned) load or store;
 * elsewhere they assemble bytes. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PM_HOST_LE 1
#else
#define PM_HOST_LE 0
#endif
static inline uint16_t pm_ld16(const uint8_t *p)
{
    if (PM_HOST_LE) {
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t pm_ld32(const uint8_t *p)
{
    if (PM_HOST_LE) {
        uint32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t pm_ld64(const uint8_t *p) { return pm_ld32(p) | (uint64_t)pm_ld32(p + 4) << 32; }
static inline void pm_st16(uint8_t *p, uint16_t v)
{
    if (PM_HOST_LE) {
        memcpy(p, &v, 2);
        return;
    }
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8);
}
static inline void pm_st32(uint8_t *p, uint32_t v)
{
    if (PM_HOST_LE) {
        memcpy(p, &v, 4);
        return;
    }
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void pm_st64(uint8_t *p, uint64_t v) { pm_st32(p, (uint32_t)v); pm_st32(p + 4, (uint32_t)(v >> 32)); }

#endif
