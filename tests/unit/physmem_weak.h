/* Weak stand-ins for the physmem calls the DMA-capable device tests use
 * (RAM at 0, nothing else), so these tests link before mmu/physmem.c exists.
 * When the real physmem.c is linked its strong definitions win; then this
 * file can go. GCC/Clang only; tests only. */
#ifndef SV_TEST_PHYSMEM_WEAK_H
#define SV_TEST_PHYSMEM_WEAK_H
#include <stdlib.h>
#include <string.h>
#include "mmu/physmem.h"

__attribute__((weak)) int physmem_init(struct physmem *pm, uint64_t ram_size)
{
    memset(pm, 0, sizeof *pm);
    pm->ram = calloc(1, (size_t)ram_size);
    pm->ram_size = ram_size;
    pm->a20_mask = 0xFFFFFFFFu;
    return pm->ram ? 0 : -1;
}

__attribute__((weak)) void physmem_free(struct physmem *pm)
{
    free(pm->ram);
    pm->ram = NULL;
}

__attribute__((weak)) void phys_read_block(struct physmem *pm, uint32_t addr, void *buf, size_t len)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++, addr++)
        p[i] = addr < pm->ram_size ? pm->ram[addr] : 0xFF;
}

__attribute__((weak)) void phys_write_block(struct physmem *pm, uint32_t addr, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    for (size_t i = 0; i < len; i++, addr++)
        if (addr < pm->ram_size)
            pm->ram[addr] = p[i];
}

#endif
