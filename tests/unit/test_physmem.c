/* The physical memory map: RAM, ROM, MMIO, holes, widths and alignment,
 * page-crossing accesses, the A20 gate and the code-write hook. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "mmu/physmem.h"

#define MiB (1024u * 1024u)

/* A fake MMIO device: a register file that logs every access it receives. */
struct fdev {
    uint8_t regs[0x3000];
    uint32_t off[64], val[64];
    int size[64], wr[64], n;
};

static uint32_t fdev_read(void *d, uint32_t off, int size)
{
    struct fdev *f = d;
    uint32_t v = 0;
    for (int i = 0; i < size; i++)
        v |= (uint32_t)f->regs[off + (uint32_t)i] << (8 * i);
    if (f->n < 64) {
        f->off[f->n] = off; f->size[f->n] = size; f->val[f->n] = v; f->wr[f->n] = 0; f->n++;
    }
    return v;
}

static void fdev_write(void *d, uint32_t off, uint32_t v, int size)
{
    struct fdev *f = d;
    for (int i = 0; i < size; i++)
        f->regs[off + (uint32_t)i] = (uint8_t)(v >> (8 * i));
    if (f->n < 64) {
        f->off[f->n] = off; f->size[f->n] = size; f->val[f->n] = v; f->wr[f->n] = 1; f->n++;
    }
}

static const struct bus_ops fdev_any = { fdev_read, fdev_write, 0 };
static const struct bus_ops fdev_bytes = { fdev_read, fdev_write, 1 };

START_TEST(test_ram_widths)
{
    struct physmem pm;
    ck_assert_int_eq(physmem_init(&pm, 2 * MiB), 0);
    phys_write(&pm, 0x1001, 0x11223344, 4);
    ck_assert_uint_eq(pm.ram[0x1001], 0x44);
    ck_assert_uint_eq(pm.ram[0x1004], 0x11);
    ck_assert_uint_eq(phys_read(&pm, 0x1002, 2), 0x2233);
    ck_assert_uint_eq(phys_read(&pm, 0x1003, 1), 0x22);
    ck_assert_uint_eq(phys_read(&pm, 0x1001, 4), 0x11223344);
    phys_write(&pm, 0x1003, 0xABCD, 2);
    ck_assert_uint_eq(phys_read(&pm, 0x1001, 4), 0xABCD3344);
    phys_write64(&pm, 0x2005, 0x0102030405060708ull);
    ck_assert_uint_eq(phys_read64(&pm, 0x2005), 0x0102030405060708ull);
    ck_assert_uint_eq(pm.ram[0x2005], 0x08);
    ck_assert_uint_eq(pm.ram[0x200C], 0x01);
    ck_assert_ptr_eq(physmem_host_read(&pm, 0x1234), pm.ram + 0x1234);
    ck_assert_ptr_eq(physmem_host_write(&pm, 0x1FFFFF), pm.ram + 0x1FFFFF);
    physmem_free(&pm);
}
END_TEST

START_TEST(test_page_crossing)
{
    struct physmem pm;
    ck_assert_int_eq(physmem_init(&pm, 2 * MiB), 0);
    phys_write(&pm, 0x1FFE, 0xDDCCBBAA, 4);
    ck_assert_uint_eq(pm.ram[0x1FFE], 0xAA);
    ck_assert_uint_eq(pm.ram[0x1FFF], 0xBB);
    ck_assert_uint_eq(pm.ram[0x2000], 0xCC);
    ck_assert_uint_eq(pm.ram[0x2001], 0xDD);
    ck_assert_uint_eq(phys_read(&pm, 0x1FFF, 2), 0xCCBB);
    ck_assert_uint_eq(phys_read(&pm, 0x1FFE, 4), 0xDDCCBBAA);
    phys_write64(&pm, 0x2FFB, 0x8877665544332211ull);
    ck_assert_uint_eq(phys_read64(&pm, 0x2FFB), 0x8877665544332211ull);
    ck_assert_uint_eq(pm.ram[0x3002], 0x88);
    /* RAM ends at 2 MiB: the part beyond reads as ones, its write is dropped. */
    phys_write(&pm, 0x1FFFFE, 0x44332211, 4);
    ck_assert_uint_eq(pm.ram[0x1FFFFE], 0x11);
    ck_assert_uint_eq(pm.ram[0x1FFFFF], 0x22);
    ck_assert_uint_eq(phys_read(&pm, 0x1FFFFE, 4), 0xFFFF2211);
    physmem_free(&pm);
}
END_TEST

START_TEST(test_unmapped)
{
    struct physmem pm;
    ck_assert_int_eq(physmem_init(&pm, 1 * MiB), 0);
    ck_assert_uint_eq(phys_read(&pm, 0x200000, 1), 0xFF);
    ck_assert_uint_eq(phys_read(&pm, 0x200001, 2), 0xFFFF);
    ck_assert_uint_eq(phys_read(&pm, 0xFFFFFFFC, 4), 0xFFFFFFFF);
    ck_assert_uint_eq(phys_read64(&pm, 0x300000), ~0ull);
    phys_write(&pm, 0x200000, 0, 4);
    ck_assert_uint_eq(phys_read(&pm, 0x200000, 4), 0xFFFFFFFF);
    ck_assert_ptr_null(physmem_host_read(&pm, 0x200000));
    ck_assert_ptr_null(physmem_host_write(&pm, 0x200000));
    /* Wrapping at 4 GiB: the byte at 0 is RAM. */
    pm.ram[0] = 0x5A;
    ck_assert_uint_eq(phys_read(&pm, 0xFFFFFFFF, 2), 0x5AFF);
    /* Unmapping RAM makes a hole and moves the generation. */
    uint32_t gen = pm.generation;
    pm.ram[0x5000] = 1;
    physmem_unmap(&pm, 0x5000, 0x1000);
    ck_assert_uint_ne(pm.generation, gen);
    ck_assert_uint_eq(phys_read(&pm, 0x5000, 1), 0xFF);
    ck_assert_uint_eq(phys_read(&pm, 0x4FFF, 2), 0xFF00);
    physmem_free(&pm);
}
END_TEST

START_TEST(test_rom)
{
    struct physmem pm;
    ck_assert_int_eq(physmem_init(&pm, 1 * MiB), 0);
    uint8_t *rom = malloc(0x10000);
    for (int i = 0; i < 0x10000; i++)
        rom[i] = (uint8_t)(i * 7);
    uint32_t gen = pm.generation;
    physmem_map_rom(&pm, 0xFFFF0000u, 0x10000, rom);
    physmem_map_rom(&pm, 0xF0000, 0x10000, rom);
    ck_assert_uint_ne(pm.generation, gen);
    ck_assert_uint_eq(phys_read(&pm, 0xFFFFFFF0u, 1), (uint8_t)(0xFFF0 * 7));
    ck_assert_uint_eq(phys_read(&pm, 0xF0001, 2), (uint32_t)(uint8_t)(1 * 7) | (uint32_t)(uint8_t)(2 * 7) << 8);
    phys_write(&pm, 0xF0000, 0xFFFFFFFF, 4);
    phys_write64(&pm, 0xFFFFFFF8u, 0);
    uint8_t junk[64];
    memset(junk, 0xEE, sizeof(junk));
    phys_write_block(&pm, 0xF1000, junk, sizeof(junk));
    ck_assert_uint_eq(rom[0], 0);
    ck_assert_uint_eq(rom[0xFFF8], (uint8_t)(0xFFF8 * 7));
    ck_assert_uint_eq(rom[0x1000], (uint8_t)(0x1000 * 7));
    ck_assert_ptr_eq(physmem_host_read(&pm, 0xF0010), rom + 0x10);
    ck_assert_ptr_null(physmem_host_write(&pm, 0xF0010));
    /* The RAM under the ROM window is untouched by the write. */
    ck_assert_uint_eq(pm.ram[0xF0000], 0);
    free(rom);
    physmem_free(&pm);
}
END_TEST

START_TEST(test_mmio)
{
    struct physmem pm;
    ck_assert_int_eq(physmem_init(&pm, 1 * MiB), 0);
    struct fdev *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b)), *c = calloc(1, sizeof(*c));
    ck_assert_int_eq(physmem_map_mmio(&pm, 0xFEC00000u, 0x20, &fdev_any, a), 0);
    /* Width and offset reach the device unchanged, relative to the base. */
    a->regs[0x10] = 0x78; a->regs[0x11] = 0x56; a->regs[0x12] = 0x34; a->regs[0x13] = 0x12;
    ck_assert_uint_eq(phys_read(&pm, 0xFEC00010u, 4), 0x12345678);
    ck_assert_int_eq(a->n, 1);
    ck_assert_uint_eq(a->off[0], 0x10);
    ck_assert_int_eq(a->size[0], 4);
    phys_write(&pm, 0xFEC00004u, 0xBEEF, 2);
    ck_assert_int_eq(a->n, 2);
    ck_assert_uint_eq(a->off[1], 4);
    ck_assert_int_eq(a->size[1], 2);
    ck_assert_uint_eq(a->val[1], 0xBEEF);
    /* The rest of the page is a hole: ones, and the device hears nothing. */
    ck_assert_uint_eq(phys_read(&pm, 0xFEC00100u, 4), 0xFFFFFFFF);
    phys_write(&pm, 0xFEC00100u, 0, 4);
    ck_assert_int_eq(a->n, 2);
    /* An access that runs off the end of the range: bytes in range only. */
    a->regs[0x1F] = 0x99;
    ck_assert_uint_eq(phys_read(&pm, 0xFEC0001Fu, 2), 0xFF99);
    ck_assert_int_eq(a->n, 3);
    ck_assert_int_eq(a->size[2], 1);

    /* Two ranges in one page, an access straddling them. */
    a->n = 0;
    ck_assert_int_eq(physmem_map_mmio(&pm, 0xFED00000u, 0x10, &fdev_any, b), 0);
    ck_assert_int_eq(physmem_map_mmio(&pm, 0xFED00010u, 0x10, &fdev_any, c), 0);
    b->regs[0xE] = 0x11; b->regs[0xF] = 0x22; c->regs[0] = 0x33; c->regs[1] = 0x44;
    ck_assert_uint_eq(phys_read(&pm, 0xFED0000Eu, 4), 0x44332211);
    ck_assert_int_eq(b->n, 2);
    ck_assert_int_eq(c->n, 2);
    ck_assert_uint_eq(b->off[1], 0xF);
    ck_assert_uint_eq(c->off[0], 0);
    phys_write(&pm, 0xFED00002u, 0xCAFE, 2);
    ck_assert_uint_eq(b->regs[2], 0xFE);
    ck_assert_uint_eq(b->regs[3], 0xCA);
    ck_assert_int_eq(c->n, 2);
    ck_assert_ptr_null(physmem_host_read(&pm, 0xFED00000u));
    free(a); free(b); free(c);
    physmem_free(&pm);
}
END_TEST

START_TEST(test_mmio_split)
{
    struct physmem pm;
    ck_assert_int_eq(physmem_init(&pm, 1 * MiB), 0);
    struct fdev *d = calloc(1, sizeof(*d)), *e = calloc(1, sizeof(*e));
    /* A device that takes bytes only: the bus splits a dword. */
    ck_assert_int_eq(physmem_map_mmio(&pm, 0xE0000000u, 0x2000, &fdev_bytes, d), 0);
    phys_write(&pm, 0xE0000100u, 0x04030201, 4);
    ck_assert_int_eq(d->n, 4);
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(d->off[i], 0x100 + (uint32_t)i);
        ck_assert_int_eq(d->size[i], 1);
        ck_assert_uint_eq(d->val[i], (uint32_t)i + 1);
    }
    /* Crossing a page inside one range: offsets stay range-relative. */
    ck_assert_int_eq(physmem_map_mmio(&pm, 0xE0100000u, 0x2000, &fdev_any, e), 0);
    e->regs[0xFFE] = 1; e->regs[0xFFF] = 2; e->regs[0x1000] = 3; e->regs[0x1001] = 4;
    ck_assert_uint_eq(phys_read(&pm, 0xE0100FFEu, 4), 0x04030201);
    uint32_t offs = 0;
    for (int i = 0; i < e->n; i++)
        offs |= 1u << (e->off[i] - 0xFFE);
    ck_assert_uint_eq(offs, 0xF);
    /* A block read through MMIO. */
    uint8_t buf[4];
    phys_read_block(&pm, 0xE0100FFEu, buf, 4);
    ck_assert_uint_eq(buf[0], 1);
    ck_assert_uint_eq(buf[3], 4);
    free(d); free(e);
    physmem_free(&pm);
}
END_TEST

START_TEST(test_mmio_remap)
{
    struct physmem pm;
    ck_assert_int_eq(physmem_init(&pm, 1 * MiB), 0);
    struct fdev *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    /* A BAR that moves many times must not exhaust the range table. */
    for (uint32_t i = 0; i < 4 * PM_MAX_MMIO; i++) {
        uint32_t base = 0xE0000000u + (i % 7) * 0x10000;
        ck_assert_int_eq(physmem_map_mmio(&pm, base, 0x1000, &fdev_any, a), 0);
        physmem_unmap(&pm, base, 0x1000);
    }
    ck_assert_int_le(pm.nmmio, 2);
    ck_assert_uint_eq(phys_read(&pm, 0xE0000000u, 4), 0xFFFFFFFF);
    /* Unmapping one small range leaves its neighbour in the page working. */
    ck_assert_int_eq(physmem_map_mmio(&pm, 0xFED00000u, 0x10, &fdev_any, a), 0);
    ck_assert_int_eq(physmem_map_mmio(&pm, 0xFED00010u, 0x10, &fdev_any, b), 0);
    physmem_unmap(&pm, 0xFED00010u, 0x10);
    b->regs[0] = 0x42;
    a->regs[0] = 0x24;
    ck_assert_uint_eq(phys_read(&pm, 0xFED00010u, 1), 0xFF);
    ck_assert_uint_eq(phys_read(&pm, 0xFED00000u, 1), 0x24);
    physmem_unmap(&pm, 0xFED00000u, 0x10);
    ck_assert_uint_eq(pm.pages[0xFED00].kind, PM_UNMAPPED);
    /* RAM mapped over an MMIO range replaces it. */
    ck_assert_int_eq(physmem_map_mmio(&pm, 0x80000, 0x2000, &fdev_any, a), 0);
    physmem_map_ram(&pm, 0x80000, 0x2000, pm.ram + 0x80000);
    phys_write(&pm, 0x80010, 0x77, 1);
    ck_assert_uint_eq(pm.ram[0x80010], 0x77);
    free(a); free(b);
    physmem_free(&pm);
}
END_TEST

START_TEST(test_a20)
{
    struct physmem pm;
    ck_assert_int_eq(physmem_init(&pm, 4 * MiB), 0);
    phys_write(&pm, 0x10, 0xAA, 1);
    phys_write(&pm, 0x100010, 0xBB, 1);
    phys_write(&pm, 0x200010, 0xCC, 1);
    uint32_t gen = pm.generation;
    physmem_set_a20(&pm, 0);
    ck_assert_uint_ne(pm.generation, gen);
    ck_assert_uint_eq(phys_read(&pm, 0x100010, 1), 0xAA);
    ck_assert_uint_eq(phys_read(&pm, 0x300010, 1), 0xCC);  /* only bit 20 goes */
    ck_assert_ptr_eq(physmem_host_read(&pm, 0x100010), pm.ram + 0x10);
    /* The 8086 wrap: a word at FFFF:000F = 0xFFFFF continues at 0. */
    phys_write(&pm, 0xFFFFF, 0x1234, 2);
    ck_assert_uint_eq(pm.ram[0xFFFFF], 0x34);
    ck_assert_uint_eq(pm.ram[0], 0x12);
    ck_assert_uint_eq(pm.ram[0x100000], 0);
    ck_assert_uint_eq(phys_read(&pm, 0xFFFFF, 2), 0x1234);
    uint8_t buf[2];
    phys_read_block(&pm, 0xFFFFF, buf, 2);
    ck_assert_uint_eq(buf[1], 0x12);
    gen = pm.generation;
    physmem_set_a20(&pm, 0); /* no change, no flush */
    ck_assert_uint_eq(pm.generation, gen);
    physmem_set_a20(&pm, 1);
    ck_assert_uint_ne(pm.generation, gen);
    ck_assert_uint_eq(phys_read(&pm, 0x100010, 1), 0xBB);
    ck_assert_uint_eq(phys_read(&pm, 0xFFFFF, 2), 0x0034);
    physmem_free(&pm);
}
END_TEST

struct hook { uint32_t addr[16]; int len[16]; int n; };
static void on_code_write(void *opaque, uint32_t paddr, int len)
{
    struct hook *h = opaque;
    if (h->n < 16) {
        h->addr[h->n] = paddr;
        h->len[h->n] = len;
    }
    h->n++;
}

START_TEST(test_code_hook)
{
    struct physmem pm;
    struct hook h = { .n = 0 };
    ck_assert_int_eq(physmem_init(&pm, 1 * MiB), 0);
    pm.code_write = on_code_write;
    pm.code_opaque = &h;
    uint32_t cgen = pm.code_generation;
    physmem_mark_code(&pm, 0x5123);
    ck_assert_uint_ne(pm.code_generation, cgen);
    cgen = pm.code_generation;
    physmem_mark_code(&pm, 0x5000); /* already code: no new generation */
    ck_assert_uint_eq(pm.code_generation, cgen);
    ck_assert_ptr_null(physmem_host_write(&pm, 0x5000));
    ck_assert_ptr_eq(physmem_host_read(&pm, 0x5000), pm.ram + 0x5000);

    phys_write(&pm, 0x5004, 0x90909090, 4);
    ck_assert_int_eq(h.n, 1);
    ck_assert_uint_eq(h.addr[0], 0x5004);
    ck_assert_int_eq(h.len[0], 4);
    ck_assert_uint_eq(pm.ram[0x5004], 0x90);  /* the store happens too */
    phys_write(&pm, 0x6000, 1, 4);            /* not code */
    ck_assert_int_eq(h.n, 1);
    phys_write(&pm, 0x4FFF, 0xFFFF, 2);       /* crosses into the code page */
    ck_assert_int_eq(h.n, 2);
    ck_assert_uint_eq(h.addr[1], 0x5000);
    ck_assert_int_eq(h.len[1], 1);
    uint8_t buf[0x20] = { 0 };
    phys_write_block(&pm, 0x4FF0, buf, sizeof(buf));   /* DMA */
    ck_assert_int_eq(h.n, 3);
    ck_assert_uint_eq(h.addr[2], 0x5000);
    ck_assert_int_eq(h.len[2], 0x10);
    phys_write64(&pm, 0x5FFC, 0);
    ck_assert_int_eq(h.n, 4);
    /* Reads never call the hook. */
    phys_read(&pm, 0x5000, 4);
    phys_read_block(&pm, 0x5000, buf, sizeof(buf));
    ck_assert_int_eq(h.n, 4);

    physmem_clear_code(&pm, 0x5FFF);
    ck_assert_ptr_eq(physmem_host_write(&pm, 0x5000), pm.ram + 0x5000);
    phys_write(&pm, 0x5004, 0, 4);
    ck_assert_int_eq(h.n, 4);

    /* Remapping a code page tells the CPU its content changed. */
    physmem_mark_code(&pm, 0x7000);
    static uint8_t rom[0x1000];
    physmem_map_rom(&pm, 0x7000, 0x1000, rom);
    ck_assert_int_eq(h.n, 5);
    ck_assert_uint_eq(h.addr[4], 0x7000);
    physmem_free(&pm);
}
END_TEST

START_TEST(test_blocks)
{
    struct physmem pm;
    ck_assert_int_eq(physmem_init(&pm, 1 * MiB), 0);
    uint8_t src[0x2100], dst[0x2100];
    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i ^ (i >> 8));
    phys_write_block(&pm, 0x3F80, src, sizeof(src));
    ck_assert_int_eq(memcmp(pm.ram + 0x3F80, src, sizeof(src)), 0);
    phys_read_block(&pm, 0x3F80, dst, sizeof(dst));
    ck_assert_int_eq(memcmp(dst, src, sizeof(src)), 0);
    /* Off the end of RAM: the hole reads 0xFF. */
    phys_read_block(&pm, 0xFFFF0, dst, 0x20);
    ck_assert_uint_eq(dst[0xF], 0);
    ck_assert_uint_eq(dst[0x10], 0xFF);
    ck_assert_uint_eq(dst[0x1F], 0xFF);
    phys_write_block(&pm, 0xFFFF0, src, 0x20);  /* the part in the hole is dropped */
    ck_assert_int_eq(memcmp(pm.ram + 0xFFFF0, src, 0x10), 0);
    physmem_free(&pm);
}
END_TEST

START_TEST(test_high_ram_map)
{
    struct physmem pm;
    ck_assert_int_eq(physmem_init(&pm, 1 * MiB), 0);
    uint8_t *extra = calloc(1, 0x3000);
    physmem_map_ram(&pm, 0x40000000u, 0x3000, extra);
    phys_write(&pm, 0x40001FFEu, 0xA1B2C3D4, 4);
    ck_assert_uint_eq(extra[0x1FFE], 0xD4);
    ck_assert_uint_eq(extra[0x2001], 0xA1);
    ck_assert_ptr_eq(physmem_host_write(&pm, 0x40002000u), extra + 0x2000);
    free(extra);
    physmem_free(&pm);
}
END_TEST

Suite *physmem_suite(void)
{
    Suite *s = suite_create("physmem");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_ram_widths);
    tcase_add_test(tc, test_page_crossing);
    tcase_add_test(tc, test_unmapped);
    tcase_add_test(tc, test_rom);
    tcase_add_test(tc, test_mmio);
    tcase_add_test(tc, test_mmio_split);
    tcase_add_test(tc, test_mmio_remap);
    tcase_add_test(tc, test_a20);
    tcase_add_test(tc, test_code_hook);
    tcase_add_test(tc, test_blocks);
    tcase_add_test(tc, test_high_ram_map);
    suite_add_tcase(s, tc);
    return s;
}
