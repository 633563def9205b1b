/* The port bus: widths 1/2/4, splitting for narrow devices, offsets relative
 * to the range base, overlapping maps refused, unclaimed ports. */
#include <check.h>
#include <string.h>
#include "devices/bus.h"

/* A fake device with 16 byte registers that records every access. */
struct fake {
    uint8_t regs[16];
    int n;
    uint32_t off[32];
    int size[32];
    uint32_t val[32];
    int is_write[32];
};

static void rec(struct fake *f, uint32_t off, int size, uint32_t val, int w)
{
    if (f->n < 32) {
        f->off[f->n] = off; f->size[f->n] = size; f->val[f->n] = val; f->is_write[f->n] = w;
        f->n++;
    }
}

static uint32_t fake_read(void *dev, uint32_t off, int size)
{
    struct fake *f = dev;
    uint32_t v = 0;
    for (int i = 0; i < size; i++)
        v |= (uint32_t)f->regs[(off + (uint32_t)i) & 15] << (8 * i);
    rec(f, off, size, v, 0);
    return v;
}

static void fake_write(void *dev, uint32_t off, uint32_t value, int size)
{
    struct fake *f = dev;
    for (int i = 0; i < size; i++)
        f->regs[(off + (uint32_t)i) & 15] = (uint8_t)(value >> (8 * i));
    rec(f, off, size, value, 1);
}

static const struct bus_ops all_ops = { fake_read, fake_write, 0 };
static const struct bus_ops byte_ops = { fake_read, fake_write, 1 };
static const struct bus_ops word_ops = { fake_read, fake_write, 2 };
static const struct bus_ops dword_ops = { fake_read, fake_write, 4 };

static struct bus *new_bus(void)
{
    static struct bus b; /* 200 KiB: too big for the stack of a forked test */
    bus_init(&b, "test");
    b.quiet = 1;
    return &b;
}

START_TEST(test_widths_and_offsets)
{
    struct bus *b = new_bus();
    struct fake f; memset(&f, 0, sizeof(f));
    ck_assert_int_eq(bus_map(b, 0x3F8, 8, &all_ops, &f), 0);
    bus_write(b, 0x3F8, 0x11, 1);
    bus_write(b, 0x3FA, 0x3322, 2);
    bus_write(b, 0x3FC, 0x77665544, 4);
    ck_assert_int_eq(f.n, 3);
    ck_assert_uint_eq(f.off[0], 0); ck_assert_int_eq(f.size[0], 1);
    ck_assert_uint_eq(f.off[1], 2); ck_assert_int_eq(f.size[1], 2);
    ck_assert_uint_eq(f.off[2], 4); ck_assert_int_eq(f.size[2], 4);
    ck_assert_uint_eq(bus_read(b, 0x3F8, 1), 0x11);
    ck_assert_uint_eq(bus_read(b, 0x3FA, 2), 0x3322);
    ck_assert_uint_eq(bus_read(b, 0x3FC, 4), 0x77665544);
    ck_assert_uint_eq(bus_read(b, 0x3FD, 2), 0x6655);
    ck_assert_uint_eq(f.off[f.n - 1], 5);
}
END_TEST

START_TEST(test_split_bytes)
{
    struct bus *b = new_bus();
    struct fake f; memset(&f, 0, sizeof(f));
    ck_assert_int_eq(bus_map(b, 0x60, 8, &byte_ops, &f), 0);
    bus_write(b, 0x61, 0xAABBCCDD, 4);
    ck_assert_int_eq(f.n, 4);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(f.size[i], 1);
        ck_assert_uint_eq(f.off[i], 1u + (uint32_t)i);
    }
    /* little-endian order: lowest byte to the lowest port first */
    ck_assert_uint_eq(f.val[0], 0xDD);
    ck_assert_uint_eq(f.val[3], 0xAA);
    f.n = 0;
    ck_assert_uint_eq(bus_read(b, 0x62, 2), 0xBBCC);
    ck_assert_int_eq(f.n, 2);
    ck_assert_int_eq(f.size[0], 1);
    ck_assert_int_eq(f.size[1], 1);
}
END_TEST

START_TEST(test_split_words)
{
    struct bus *b = new_bus();
    struct fake f; memset(&f, 0, sizeof(f));
    ck_assert_int_eq(bus_map(b, 0x1F0, 8, &word_ops, &f), 0);
    bus_write(b, 0x1F0, 0x12345678, 4);
    ck_assert_int_eq(f.n, 2);
    ck_assert_int_eq(f.size[0], 2); ck_assert_uint_eq(f.val[0], 0x5678); ck_assert_uint_eq(f.off[0], 0);
    ck_assert_int_eq(f.size[1], 2); ck_assert_uint_eq(f.val[1], 0x1234); ck_assert_uint_eq(f.off[1], 2);
    f.n = 0;
    ck_assert_uint_eq(bus_read(b, 0x1F0, 4), 0x12345678);
    ck_assert_int_eq(f.n, 2);
    /* A byte read of a word-only device reads the word and picks the byte. */
    f.n = 0;
    ck_assert_uint_eq(bus_read(b, 0x1F3, 1), 0x12);
    ck_assert_int_eq(f.n, 1);
    ck_assert_int_eq(f.size[0], 2);
    ck_assert_uint_eq(f.off[0], 2);
}
END_TEST

START_TEST(test_narrow_write_to_wide_device)
{
    struct bus *b = new_bus();
    struct fake f; memset(&f, 0, sizeof(f));
    ck_assert_int_eq(bus_map(b, 0xCF8, 4, &dword_ops, &f), 0);
    /* The device never sees a width it does not take. */
    bus_write(b, 0xCFA, 0xAB, 1);
    ck_assert_int_eq(f.n, 1);
    ck_assert_int_eq(f.size[0], 4);
    ck_assert_uint_eq(f.off[0], 0);
    ck_assert_uint_eq(f.val[0], 0x00AB0000);
    ck_assert_uint_eq(bus_read(b, 0xCFA, 2), 0x00AB);
    ck_assert_int_eq(f.size[1], 4);
}
END_TEST

START_TEST(test_overlap_refused)
{
    struct bus *b = new_bus();
    struct fake f1, f2; memset(&f1, 0, sizeof(f1)); memset(&f2, 0, sizeof(f2));
    ck_assert_int_eq(bus_map(b, 0x40, 4, &all_ops, &f1), 0);
    ck_assert_int_eq(bus_map(b, 0x43, 2, &all_ops, &f2), -1);
    ck_assert_int_eq(bus_map(b, 0x3E, 3, &all_ops, &f2), -1);
    ck_assert_int_eq(bus_map(b, 0x3C, 4, &all_ops, &f2), 0);  /* adjacent is fine */
    ck_assert_int_eq(bus_map(b, 0xFFFF, 2, &all_ops, &f2), -1); /* past the end */
    ck_assert_int_eq(bus_map(b, 0x100, 0, &all_ops, &f2), -1);
    /* The refused maps changed nothing. */
    bus_write(b, 0x43, 0x5A, 1);
    ck_assert_int_eq(f1.n, 1);
    ck_assert_uint_eq(f1.regs[3], 0x5A);
    ck_assert_int_eq(f2.n, 0);
}
END_TEST

START_TEST(test_unclaimed)
{
    struct bus *b = new_bus();
    ck_assert_uint_eq(bus_read(b, 0x80, 1), 0xFF);
    ck_assert_uint_eq(bus_read(b, 0x80, 2), 0xFFFF);
    ck_assert_uint_eq(bus_read(b, 0x80, 4), 0xFFFFFFFFu);
    bus_write(b, 0x80, 0x12, 1); /* dropped, no crash */
    /* A read straddling a device and free ports: free bytes read as 0xFF. */
    struct fake f; memset(&f, 0, sizeof(f));
    f.regs[0] = 0x34; f.regs[1] = 0x12;
    ck_assert_int_eq(bus_map(b, 0x92, 2, &all_ops, &f), 0);
    ck_assert_uint_eq(bus_read(b, 0x91, 4), 0xFF1234FFu);
    bus_write(b, 0x91, 0x11223344, 4);
    ck_assert_uint_eq(f.regs[0], 0x33);
    ck_assert_uint_eq(f.regs[1], 0x22);
    /* Unmapping frees the ports. */
    bus_unmap(b, 0x92, 2);
    ck_assert_uint_eq(bus_read(b, 0x92, 2), 0xFFFF);
    ck_assert_int_eq(bus_map(b, 0x92, 2, &all_ops, &f), 0);
}
END_TEST

START_TEST(test_remap_does_not_exhaust)
{
    struct bus *b = new_bus();
    struct fake f; memset(&f, 0, sizeof(f));
    /* A guest that moves a BAR back and forth must not run out of slots. */
    for (int i = 0; i < 3 * BUS_MAX_RANGES; i++) {
        ck_assert_int_eq(bus_map(b, 0xC000, 16, &all_ops, &f), 0);
        bus_unmap(b, 0xC000, 16);
    }
    ck_assert_int_eq(bus_map(b, 0xC000, 16, &all_ops, &f), 0);
    bus_write(b, 0xC001, 0x7, 1);
    ck_assert_uint_eq(f.regs[1], 7);
}
END_TEST

Suite *bus_suite(void)
{
    Suite *s = suite_create("bus");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_widths_and_offsets);
    tcase_add_test(tc, test_split_bytes);
    tcase_add_test(tc, test_split_words);
    tcase_add_test(tc, test_narrow_write_to_wide_device);
    tcase_add_test(tc, test_overlap_refused);
    tcase_add_test(tc, test_unclaimed);
    tcase_add_test(tc, test_remap_does_not_exhaust);
    suite_add_tcase(s, tc);
    return s;
}
