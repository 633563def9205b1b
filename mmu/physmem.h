/* The guest-physical memory map: page-granular (4 KiB) table over the 4 GiB
 * physical space. A page is RAM (host buffer, read/write), ROM (host buffer,
 * writes dropped), MMIO (bus_ops callbacks) or unmapped (reads all ones,
 * writes dropped). The A20 gate masks bit 20. Pages that hold decoded code are
 * marked, and a write to one calls the code-write hook (self-modifying code). */
#ifndef SV_PHYSMEM_H
#define SV_PHYSMEM_H
#include <stddef.h>
#include <stdint.h>
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

/* Code-page tracking for the decoded-block cache. */
void physmem_mark_code(struct physmem *pm, uint32_t addr);
void physmem_clear_code(struct physmem *pm, uint32_t addr);

#endif
