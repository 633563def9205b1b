/* The 8237A pair: register programming through the flip-flop, transfers into
#include "mmu/physmem.h"
 * and out of RAM with the right address/count afterwards, terminal count,
#include "mmu/physmem.h"
 * autoinit, decrement, 16-bit channel addressing, masks, state round trip.
#include "mmu/physmem.h"
 * Ports are mapped as the PC board maps them (0x00, 0xC0, 0x80). */
#include "mmu/physmem.h"
#include <check.h>
#include "mmu/physmem.h"
#include <stdlib.h>
#include "mmu/physmem.h"
#include <string.h>
#include "mmu/physmem.h"
#include "devices/i8237_dma.h"
#include "mmu/physmem.h"

struct rig { struct bus *io; struct physmem pm; struct dma d; };

static struct rig *rig_new(void)
{
    struct rig *r = calloc(1, sizeof *r);
    r->io = calloc(1, sizeof *r->io);
    bus_init(r->io, "io");
    r->io->quiet = 1;
    ck_assert_int_eq(physmem_init(&r->pm, 1u << 20), 0);
    dma_init(&r->d, &r->pm);
    ck_assert_int_eq(bus_map(r->io, 0x00, 16, &dma_master_ops, &r->d), 0);
    ck_assert_int_eq(bus_map(r->io, 0xC0, 32, &dma_slave_ops, &r->d), 0);
    ck_assert_int_eq(bus_map(r->io, 0x80, 16, &dma_page_ops, &r->d), 0);
    return r;
}

static void rig_free(struct rig *r)
{
    physmem_free(&r->pm);
    free(r->io);
    free(r);
}

static void outb(struct rig *r, uint32_t port, uint8_t v) { bus_write(r->io, port, v, 1); }
static uint8_t inb(struct rig *r, uint32_t port) { return (uint8_t)bus_read(r->io, port, 1); }

/* What a BIOS does: channel 4 in cascade mode and unmasked. */
static void enable_cascade(struct rig *r)
{
    outb(r, 0xD6, 0xC0);
    outb(r, 0xD4, 0x00);
}

/* Programs an 8-bit channel as a driver does. */
static void prog8(struct rig *r, int ch, uint8_t mode, uint8_t page, uint16_t addr, uint16_t count)
{
    static const uint8_t page_port[4] = { 0x87, 0x83, 0x81, 0x82 };
    outb(r, 0x0A, (uint8_t)(4 | ch));
    outb(r, 0x0C, 0);
    outb(r, 0x0B, (uint8_t)(mode | ch));
    outb(r, (uint32_t)(ch * 2), (uint8_t)addr);
    outb(r, (uint32_t)(ch * 2), (uint8_t)(addr >> 8));
    outb(r, (uint32_t)(ch * 2 + 1), (uint8_t)count);
    outb(r, (uint32_t)(ch * 2 + 1), (uint8_t)(count >> 8));
    outb(r, page_port[ch], page);
    outb(r, 0x0A, (uint8_t)ch);
}

static uint16_t read_pair(struct rig *r, uint32_t port)
{
    uint8_t lo = inb(r, port), hi = inb(r, port);
    return (uint16_t)(lo | (hi << 8));
}

START_TEST(test_flipflop)
{
    struct rig *r = rig_new();
    ck_assert_uint_eq(inb(r, 0x0F), 0xFF);      /* all masked after reset */
    outb(r, 0x0C, 0);
    outb(r, 0x04, 0x34); outb(r, 0x04, 0x12);   /* channel 2 address */
    outb(r, 0x05, 0xFF); outb(r, 0x05, 0x01);   /* channel 2 count */
    ck_assert_uint_eq(r->d.base_addr[2], 0x1234);
    ck_assert_uint_eq(r->d.cur_count[2], 0x01FF);
    ck_assert_uint_eq(read_pair(r, 0x04), 0x1234);
    ck_assert_uint_eq(read_pair(r, 0x05), 0x01FF);
    /* an odd number of accesses leaves the flip-flop on the high byte */
    inb(r, 0x04);
    ck_assert_uint_eq(inb(r, 0x04), 0x12);
    inb(r, 0x04);
    outb(r, 0x0C, 0);                           /* clear it */
    ck_assert_uint_eq(inb(r, 0x04), 0x34);
    outb(r, 0x0C, 0);
    outb(r, 0x04, 0x78);                        /* low byte only */
    ck_assert_uint_eq(r->d.cur_addr[2], 0x1278);
    /* the master clear resets the flip-flop and masks everything */
    outb(r, 0x0E, 0);
    ck_assert_uint_eq(inb(r, 0x0F), 0xF0);
    outb(r, 0x0D, 0);
    ck_assert_uint_eq(inb(r, 0x0F), 0xFF);
    ck_assert_uint_eq(inb(r, 0x04), 0x78);
    /* the page registers are plain latches */
    outb(r, 0x81, 0x5A);
    ck_assert_uint_eq(inb(r, 0x81), 0x5A);
    outb(r, 0x80, 0x33);
    ck_assert_uint_eq(inb(r, 0x80), 0x33);
    rig_free(r);
}
END_TEST

START_TEST(test_transfer_to_ram)
{
    struct rig *r = rig_new();
    enable_cascade(r);
    /* channel 2, single mode, write to memory, 512 bytes at 0x11000 */
    prog8(r, 2, 0x44, 0x01, 0x1000, 511);
    ck_assert(!dma_channel_masked(&r->d, 2));
    uint8_t buf[600];
    for (int i = 0; i < 600; i++)
        buf[i] = (uint8_t)(i * 7 + 1);
    ck_assert_int_eq(dma_channel_write(&r->d, 2, buf, 100), 100);
    ck_assert_uint_eq(read_pair(r, 0x04), 0x1064);
    ck_assert_uint_eq(read_pair(r, 0x05), 511 - 100);
    ck_assert(!dma_channel_tc(&r->d, 2));
    ck_assert_uint_eq(inb(r, 0x08) & 0x0F, 0);
    /* asks for more than is left: stops at terminal count */
    ck_assert_int_eq(dma_channel_write(&r->d, 2, buf + 100, 500), 412);
    ck_assert_mem_eq(r->pm.ram + 0x11000, buf, 512);
    ck_assert_uint_eq(r->pm.ram[0x11200], 0);
    ck_assert_uint_eq(r->pm.ram[0x10FFF], 0);
    ck_assert_uint_eq(read_pair(r, 0x04), 0x1200);
    ck_assert_uint_eq(read_pair(r, 0x05), 0xFFFF);
    ck_assert(dma_channel_tc(&r->d, 2));
    ck_assert_uint_eq(inb(r, 0x08), 0x04);      /* TC for channel 2 */
    ck_assert_uint_eq(inb(r, 0x08), 0x00);      /* cleared by the read */
    /* no autoinit: end of process masked the channel */
    ck_assert(dma_channel_masked(&r->d, 2));
    ck_assert_uint_eq(inb(r, 0x0F) & 0x04, 0x04);
    ck_assert_int_eq(dma_channel_write(&r->d, 2, buf, 10), 0);
    rig_free(r);
}
END_TEST

START_TEST(test_read_from_ram_and_verify)
{
    struct rig *r = rig_new();
    enable_cascade(r);
    for (int i = 0; i < 64; i++)
        r->pm.ram[0x3000 + i] = (uint8_t)(0xA0 + i);
    prog8(r, 1, 0x48, 0x00, 0x3000, 63);        /* read from memory */
    uint8_t got[64] = {0};
    ck_assert_int_eq(dma_channel_read(&r->d, 1, got, 64), 64);
    ck_assert_mem_eq(got, r->pm.ram + 0x3000, 64);
    ck_assert_uint_eq(inb(r, 0x08), 0x02);
    /* a device writing to a read-mode channel moves no data but counts */
    prog8(r, 1, 0x48, 0x00, 0x3000, 63);
    uint8_t junk[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    ck_assert_int_eq(dma_channel_write(&r->d, 1, junk, 8), 8);
    ck_assert_uint_eq(r->pm.ram[0x3000], 0xA0);
    ck_assert_uint_eq(r->d.cur_addr[1], 0x3008);
    /* verify mode: counts, never touches memory or the buffer */
    prog8(r, 3, 0x40, 0x00, 0x3000, 7);
    memset(got, 0x11, sizeof got);
    ck_assert_int_eq(dma_channel_read(&r->d, 3, got, 8), 8);
    ck_assert_uint_eq(got[0], 0x11);
    ck_assert_int_eq(dma_channel_tc(&r->d, 3), 1);
    ck_assert_uint_eq(r->d.cur_addr[3], 0x3008);
    rig_free(r);
}
END_TEST

START_TEST(test_autoinit)
{
    struct rig *r = rig_new();
    enable_cascade(r);
    prog8(r, 1, 0x54, 0x00, 0x4000, 15);        /* write, autoinit, 16 bytes */
    uint8_t buf[16];
    for (int i = 0; i < 16; i++)
        buf[i] = (uint8_t)(0x80 | i);
    ck_assert_int_eq(dma_channel_write(&r->d, 1, buf, 10), 10);
    ck_assert_int_eq(dma_channel_write(&r->d, 1, buf + 10, 10), 6);
    ck_assert_mem_eq(r->pm.ram + 0x4000, buf, 16);
    ck_assert(dma_channel_tc(&r->d, 1));
    ck_assert_uint_eq(inb(r, 0x08) & 0x02, 0x02);
    /* reloaded from the base registers and still unmasked */
    ck_assert_uint_eq(read_pair(r, 0x02), 0x4000);
    ck_assert_uint_eq(read_pair(r, 0x03), 15);
    ck_assert(!dma_channel_masked(&r->d, 1));
    ck_assert_int_eq(dma_channel_write(&r->d, 1, buf, 4), 4);
    ck_assert(!dma_channel_tc(&r->d, 1));
    ck_assert_uint_eq(r->d.cur_addr[1], 0x4004);
    rig_free(r);
}
END_TEST

START_TEST(test_decrement)
{
    struct rig *r = rig_new();
    enable_cascade(r);
    prog8(r, 3, 0x64, 0x00, 0x2010, 3);         /* write, decrement, 4 bytes */
    const uint8_t buf[4] = {1, 2, 3, 4};
    ck_assert_int_eq(dma_channel_write(&r->d, 3, buf, 4), 4);
    ck_assert_uint_eq(r->pm.ram[0x2010], 1);
    ck_assert_uint_eq(r->pm.ram[0x200F], 2);
    ck_assert_uint_eq(r->pm.ram[0x200E], 3);
    ck_assert_uint_eq(r->pm.ram[0x200D], 4);
    ck_assert_uint_eq(r->pm.ram[0x200C], 0);
    ck_assert_uint_eq(r->pm.ram[0x2011], 0);
    ck_assert_uint_eq(read_pair(r, 0x06), 0x200C);
    ck_assert(dma_channel_tc(&r->d, 3));
    rig_free(r);
}
END_TEST

START_TEST(test_16bit_channel)
{
    struct rig *r = rig_new();
    enable_cascade(r);
    /* channel 5: mask, mode, address 0x8000 (words), count 3, page 0x03 */
    outb(r, 0xD4, 0x05);
    outb(r, 0xD8, 0);
    outb(r, 0xD6, 0x45);
    outb(r, 0xC4, 0x00); outb(r, 0xC4, 0x80);
    outb(r, 0xC6, 0x03); outb(r, 0xC6, 0x00);
    outb(r, 0x8B, 0x03);                         /* bit 0 is not used on 16-bit channels */
    outb(r, 0xD4, 0x01);
    ck_assert(!dma_channel_masked(&r->d, 5));
    ck_assert_uint_eq(dma_channel_remaining(&r->d, 5), 8);
    const uint8_t buf[10] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA};
    ck_assert_int_eq(dma_channel_write(&r->d, 5, buf, 10), 8);
    /* word address 0x8000 -> byte 0x10000, plus page 0x02 << 16 */
    ck_assert_mem_eq(r->pm.ram + 0x30000, buf, 8);
    ck_assert_uint_eq(r->pm.ram[0x30008], 0);
    ck_assert_uint_eq(r->pm.ram[0x40000 - 1], 0);
    ck_assert_uint_eq(read_pair(r, 0xC4), 0x8004);
    ck_assert_uint_eq(read_pair(r, 0xC6), 0xFFFF);
    ck_assert_uint_eq(inb(r, 0xD0), 0x02);       /* TC, channel 5 = bit 1 */
    ck_assert_uint_eq(inb(r, 0xDE) & 0x02, 0x02);
    /* the word address wraps inside the 128K page, not into the page register */
    outb(r, 0xD8, 0);
    outb(r, 0xC4, 0xFF); outb(r, 0xC4, 0xFF);
    outb(r, 0xC6, 0x01); outb(r, 0xC6, 0x00);
    outb(r, 0xD4, 0x01);
    ck_assert_int_eq(dma_channel_write(&r->d, 5, buf, 4), 4);
    ck_assert_uint_eq(r->pm.ram[0x3FFFE], 0x11);
    ck_assert_uint_eq(r->pm.ram[0x3FFFF], 0x22);
    ck_assert_uint_eq(r->pm.ram[0x20000], 0x33);
    ck_assert_uint_eq(r->pm.ram[0x20001], 0x44);
    /* 8-bit channels wrap inside 64K the same way */
    prog8(r, 2, 0x44, 0x05, 0xFFFF, 1);
    ck_assert_int_eq(dma_channel_write(&r->d, 2, buf, 2), 2);
    ck_assert_uint_eq(r->pm.ram[0x5FFFF], 0x11);
    ck_assert_uint_eq(r->pm.ram[0x50000], 0x22);
    ck_assert_uint_eq(r->pm.ram[0x60000], 0);
    /* odd length on a word channel: only whole words move */
    outb(r, 0xD8, 0);
    outb(r, 0xC4, 0x00); outb(r, 0xC4, 0x00);
    outb(r, 0xC6, 0x10); outb(r, 0xC6, 0x00);
    outb(r, 0xD4, 0x01);
    ck_assert_int_eq(dma_channel_write(&r->d, 5, buf, 3), 2);
    rig_free(r);
}
END_TEST

START_TEST(test_masks)
{
    struct rig *r = rig_new();
    for (int ch = 0; ch < 8; ch++)
        ck_assert(dma_channel_masked(&r->d, ch));
    outb(r, 0x0E, 0);                            /* clear all masks, first controller */
    ck_assert(dma_channel_masked(&r->d, 0));     /* channel 4 still masked: no bus */
    enable_cascade(r);
    ck_assert(!dma_channel_masked(&r->d, 0));
    ck_assert(dma_channel_masked(&r->d, 5));
    outb(r, 0x0F, 0x05);                         /* write all mask */
    ck_assert_uint_eq(inb(r, 0x0F), 0xF5);
    ck_assert(dma_channel_masked(&r->d, 0));
    ck_assert(!dma_channel_masked(&r->d, 1));
    ck_assert(dma_channel_masked(&r->d, 2));
    ck_assert(!dma_channel_masked(&r->d, 3));
    outb(r, 0x0A, 0x04 | 1);                     /* single mask set */
    ck_assert(dma_channel_masked(&r->d, 1));
    outb(r, 0x0A, 0x02);                         /* single mask clear */
    ck_assert(!dma_channel_masked(&r->d, 2));
    outb(r, 0x08, DMA_CMD_DISABLE);              /* controller disabled */
    ck_assert(dma_channel_masked(&r->d, 2));
    uint8_t b[4] = {0};
    ck_assert_int_eq(dma_channel_write(&r->d, 2, b, 4), 0);
    outb(r, 0x08, 0);
    ck_assert(!dma_channel_masked(&r->d, 2));
    /* the cascade channel does not transfer */
    ck_assert_int_eq(dma_channel_write(&r->d, 4, b, 4), -1);
    ck_assert_int_eq(dma_channel_write(&r->d, 9, b, 4), -1);
    ck_assert(dma_channel_masked(&r->d, -1));
    /* request bits in the status register */
    outb(r, 0x09, 0x04 | 3);
    dma_set_dreq(&r->d, 1, 1);
    ck_assert_uint_eq(inb(r, 0x08), 0xA0);
    outb(r, 0x09, 3);
    dma_set_dreq(&r->d, 1, 0);
    ck_assert_uint_eq(inb(r, 0x08), 0x00);
    rig_free(r);
}
END_TEST

START_TEST(test_state_roundtrip)
{
    struct rig *a = rig_new(), *b = rig_new();
    enable_cascade(a);
    prog8(a, 2, 0x54, 0x01, 0x1000, 31);
    uint8_t buf[32];
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    dma_channel_write(&a->d, 2, buf, 20);
    inb(a, 0x04);                                /* flip-flop left on the high byte */
    size_t sz = state_size(dma_device_ops.fields);
    uint8_t *s1 = malloc(sz), *s2 = malloc(sz);
    ck_assert_uint_eq(state_save(dma_device_ops.fields, &a->d, s1), sz);
    ck_assert_uint_eq(state_load(dma_device_ops.fields, &b->d, s1, sz), sz);
    ck_assert_int_eq(dma_device_ops.post_load(&b->d), 0);
    state_save(dma_device_ops.fields, &b->d, s2);
    ck_assert_mem_eq(s1, s2, sz);
    /* both continue identically */
    ck_assert_uint_eq(inb(a, 0x04), inb(b, 0x04));
    ck_assert_int_eq(dma_channel_write(&a->d, 2, buf + 20, 20), 12);
    ck_assert_int_eq(dma_channel_write(&b->d, 2, buf + 20, 20), 12);
    ck_assert_mem_eq(a->pm.ram + 0x11014, b->pm.ram + 0x11014, 12);
    ck_assert_uint_eq(b->pm.ram[0x11014], 20);
    ck_assert_uint_eq(inb(a, 0x08), inb(b, 0x08));
    ck_assert_uint_eq(read_pair(b, 0x05), 31);
    free(s1); free(s2);
    rig_free(a); rig_free(b);
}
END_TEST

Suite *i8237_dma_suite(void)
{
    Suite *s = suite_create("i8237_dma");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_flipflop);
    tcase_add_test(tc, test_transfer_to_ram);
    tcase_add_test(tc, test_read_from_ram_and_verify);
    tcase_add_test(tc, test_autoinit);
    tcase_add_test(tc, test_decrement);
    tcase_add_test(tc, test_16bit_channel);
    tcase_add_test(tc, test_masks);
    tcase_add_test(tc, test_state_roundtrip);
    suite_add_tcase(s, tc);
    return s;
}
