/* fw_cfg: signature, ID, the file directory byte-exact, reads through the
#include "mmu/physmem.h"
 * data port, DMA reads into RAM with select and skip, the error bit, the
#include "mmu/physmem.h"
 * item API, state round trip. Ports as the PC board maps them (0x510). */
#include "mmu/physmem.h"
#include <check.h>
#include "mmu/physmem.h"
#include <stdlib.h>
#include "mmu/physmem.h"
#include <string.h>
#include "mmu/physmem.h"
#include "devices/fw_cfg.h"
#include "mmu/physmem.h"

struct rig { struct bus *io; struct physmem pm; struct fw_cfg fw; };

static struct rig *rig_new(int dma)
{
    struct rig *r = calloc(1, sizeof *r);
    r->io = calloc(1, sizeof *r->io);
    bus_init(r->io, "io");
    r->io->quiet = 1;
    ck_assert_int_eq(physmem_init(&r->pm, 1u << 20), 0);
    ck_assert_int_eq(fw_cfg_init(&r->fw, &r->pm, dma), 0);
    ck_assert_int_eq(bus_map(r->io, 0x510, 12, &fw_cfg_ops, &r->fw), 0);
    return r;
}

static void rig_free(struct rig *r)
{
    fw_cfg_free(&r->fw);
    physmem_free(&r->pm);
    free(r->io);
    free(r);
}

static void sel(struct rig *r, uint16_t key) { bus_write(r->io, 0x510, key, 2); }
static uint8_t data(struct rig *r) { return (uint8_t)bus_read(r->io, 0x511, 1); }
static void read_port(struct rig *r, uint8_t *buf, int n) { for (int i = 0; i < n; i++) buf[i] = data(r); }

static uint32_t bswap32(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0xFF00) | ((v << 8) & 0xFF0000) | (v << 24);
}

static void put_be32_(uint8_t *p, uint32_t v) { uint32_t b = bswap32(v); memcpy(p, &b, 4); }
static uint32_t host_be32(const uint8_t *p) { return ((uint32_t)p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]; }

/* Builds a FWCfgDmaAccess at `at` and starts it as SeaBIOS does: high half
 * 0, then the low half (big-endian) with one 32-bit write. */
static uint32_t dma(struct rig *r, uint32_t at, uint32_t control, uint32_t len, uint64_t addr)
{
    uint8_t *d = r->pm.ram + at;
    d[0] = (uint8_t)(control >> 24); d[1] = (uint8_t)(control >> 16);
    d[2] = (uint8_t)(control >> 8); d[3] = (uint8_t)control;
    d[4] = (uint8_t)(len >> 24); d[5] = (uint8_t)(len >> 16); d[6] = (uint8_t)(len >> 8); d[7] = (uint8_t)len;
    for (int i = 0; i < 8; i++)
        d[8 + i] = (uint8_t)(addr >> (56 - 8 * i));
    bus_write(r->io, 0x514, 0, 4);
    bus_write(r->io, 0x518, bswap32(at), 4);
    return host_be32(d);
}

START_TEST(test_signature)
{
    struct rig *r = rig_new(1);
    uint8_t b[6];
    sel(r, FW_CFG_SIGNATURE);
    read_port(r, b, 6);
    ck_assert_mem_eq(b, "QEMU\0\0", 6);
    sel(r, FW_CFG_SIGNATURE);       /* selecting again restarts at offset 0 */
    ck_assert_uint_eq(data(r), 'Q');
    /* the DMA register reads "QEMU CFG" */
    for (int i = 0; i < 8; i++)
        ck_assert_uint_eq(bus_read(r->io, 0x514 + (uint32_t)i, 1), (uint8_t)"QEMU CFG"[i]);
    ck_assert_uint_eq(bus_read(r->io, 0x514, 4), 0x554D4551);
    /* data writes are ignored */
    sel(r, FW_CFG_SIGNATURE | FW_CFG_WRITE);
    bus_write(r->io, 0x511, 'X', 1);
    sel(r, FW_CFG_SIGNATURE);
    ck_assert_uint_eq(data(r), 'Q');
    /* an unknown key reads zeros */
    sel(r, 0x1234);
    ck_assert_uint_eq(data(r), 0);
    rig_free(r);
}
END_TEST

START_TEST(test_id)
{
    struct rig *r = rig_new(1);
    uint8_t b[4];
    sel(r, FW_CFG_ID);
    read_port(r, b, 4);
    ck_assert_mem_eq(b, "\x03\0\0\0", 4);
    rig_free(r);
    r = rig_new(0);
    sel(r, FW_CFG_ID);
    read_port(r, b, 4);
    ck_assert_mem_eq(b, "\x01\0\0\0", 4);
    rig_free(r);
}
END_TEST

static void add_three(struct fw_cfg *fw)
{
    static const uint8_t e820[20] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xA, 0, 0, 0, 0, 0, 1, 0, 0, 0};
    char acpi[100];
    for (int i = 0; i < 100; i++)
        acpi[i] = (char)(i + 1);
    ck_assert_int_eq(fw_cfg_add_file(fw, "etc/e820", e820, sizeof e820), 0);
    ck_assert_int_eq(fw_cfg_add_file(fw, "bootorder", "/rom@\n", 6), 0);
    ck_assert_int_eq(fw_cfg_add_file(fw, "etc/acpi/tables", acpi, 100), 0);
}

START_TEST(test_directory)
{
    struct rig *r = rig_new(1);
    uint8_t b[4 + 64 * 4];
    sel(r, FW_CFG_FILE_DIR);
    read_port(r, b, 5);
    ck_assert_mem_eq(b, "\0\0\0\0\0", 5);    /* empty: count 0 */
    add_three(&r->fw);
    /* keys follow name order, as QEMU numbers them */
    ck_assert_int_eq(fw_cfg_file_key(&r->fw, "bootorder"), 0x20);
    ck_assert_int_eq(fw_cfg_file_key(&r->fw, "etc/acpi/tables"), 0x21);
    ck_assert_int_eq(fw_cfg_file_key(&r->fw, "etc/e820"), 0x22);
    ck_assert_int_eq(fw_cfg_file_key(&r->fw, "nope"), -1);
    uint8_t want[4 + 64 * 3];
    memset(want, 0, sizeof want);
    want[3] = 3;
    const struct { const char *name; uint32_t size; uint16_t key; } e[3] = {
        {"bootorder", 6, 0x20}, {"etc/acpi/tables", 100, 0x21}, {"etc/e820", 20, 0x22}};
    for (int i = 0; i < 3; i++) {
        uint8_t *p = want + 4 + 64 * i;
        put_be32_(p, e[i].size);
        p[4] = (uint8_t)(e[i].key >> 8);
        p[5] = (uint8_t)e[i].key;
        memcpy(p + 8, e[i].name, strlen(e[i].name));
    }
    sel(r, FW_CFG_FILE_DIR);
    read_port(r, b, (int)sizeof want + 1);
    ck_assert_mem_eq(b, want, sizeof want);
    ck_assert_uint_eq(b[sizeof want], 0);
    /* file contents through the data port, under their keys */
    sel(r, 0x20);
    read_port(r, b, 7);
    ck_assert_mem_eq(b, "/rom@\n\0", 7);
    sel(r, 0x22);
    read_port(r, b, 20);
    ck_assert_uint_eq(b[10], 0x0A);
    ck_assert_uint_eq(b[16], 1);
    sel(r, 0x21);
    read_port(r, b, 3);
    ck_assert_mem_eq(b, "\1\2\3", 3);
    rig_free(r);
}
END_TEST

START_TEST(test_add_api)
{
    struct rig *r = rig_new(1);
    uint8_t b[8];
    ck_assert_int_eq(fw_cfg_add_u16(&r->fw, 0x05, 0x1234), 0);
    ck_assert_int_eq(fw_cfg_add_u32(&r->fw, 0x03, 0x08000000), 0);
    ck_assert_int_eq(fw_cfg_add_u64(&r->fw, 0x8003, 0x0102030405060708ull), 0);
    sel(r, 0x05); read_port(r, b, 3);
    ck_assert_mem_eq(b, "\x34\x12\0", 3);
    sel(r, 0x03); read_port(r, b, 4);
    ck_assert_mem_eq(b, "\0\0\0\x08", 4);
    sel(r, 0x8003); read_port(r, b, 8);
    ck_assert_mem_eq(b, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
    sel(r, 0x8003 | FW_CFG_WRITE); read_port(r, b, 1);    /* the write bit selects the same item */
    ck_assert_uint_eq(b[0], 0x08);
    /* replacing an item */
    ck_assert_int_eq(fw_cfg_add_u16(&r->fw, 0x05, 0x0004), 0);
    sel(r, 0x05); read_port(r, b, 2);
    ck_assert_mem_eq(b, "\x04\0", 2);
    /* reserved keys and bad names */
    ck_assert_int_eq(fw_cfg_add_u32(&r->fw, FW_CFG_SIGNATURE, 1), -1);
    ck_assert_int_eq(fw_cfg_add_u32(&r->fw, FW_CFG_ID, 1), -1);
    ck_assert_int_eq(fw_cfg_add_u32(&r->fw, FW_CFG_FILE_DIR, 1), -1);
    ck_assert_int_eq(fw_cfg_add_u32(&r->fw, 0x20, 1), -1);
    ck_assert_int_eq(fw_cfg_add_file(&r->fw, "a", "x", 1), 0);
    ck_assert_int_eq(fw_cfg_add_file(&r->fw, "a", "y", 1), -1);
    char longname[FW_CFG_NAME_MAX + 1];
    memset(longname, 'n', sizeof longname);
    longname[FW_CFG_NAME_MAX] = 0;
    ck_assert_int_eq(fw_cfg_add_file(&r->fw, longname, "x", 1), -1);
    longname[FW_CFG_NAME_MAX - 1] = 0;                     /* 55 characters fit */
    ck_assert_int_eq(fw_cfg_add_file(&r->fw, longname, "x", 1), 0);
    /* the data is the device's own copy */
    char src[4] = "abc";
    ck_assert_int_eq(fw_cfg_add_file(&r->fw, "opt/s", src, 4), 0);
    src[0] = 'z';
    sel(r, (uint16_t)fw_cfg_file_key(&r->fw, "opt/s")); read_port(r, b, 1);
    ck_assert_uint_eq(b[0], 'a');
    rig_free(r);
}
END_TEST

START_TEST(test_dma_read)
{
    struct rig *r = rig_new(1);
    add_three(&r->fw);
    /* select + read the signature into RAM */
    ck_assert_uint_eq(dma(r, 0x1000, (FW_CFG_SIGNATURE << 16) | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ,
                          4, 0x2000), 0);
    ck_assert_mem_eq(r->pm.ram + 0x2000, "QEMU", 4);
    ck_assert_uint_eq(r->fw.dma_addr, 0);       /* the register reads 0 after an operation */
    /* the directory count, then one entry's name, with a skip between */
    ck_assert_uint_eq(dma(r, 0x1000, (FW_CFG_FILE_DIR << 16) | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ,
                          4, 0x2100), 0);
    ck_assert_mem_eq(r->pm.ram + 0x2100, "\0\0\0\3", 4);
    ck_assert_uint_eq(dma(r, 0x1000, FW_CFG_DMA_SKIP, 64 + 8, 0), 0);
    ck_assert_uint_eq(dma(r, 0x1000, FW_CFG_DMA_READ, 16, 0x2200), 0);
    ck_assert_mem_eq(r->pm.ram + 0x2200, "etc/acpi/tables", 16);
    /* the port continues where DMA left off */
    ck_assert_uint_eq(data(r), 0);
    ck_assert_uint_eq(r->fw.offset, 4 + 64 + 8 + 17);
    /* a whole file, read past its end: the rest is zero-filled */
    memset(r->pm.ram + 0x3000, 0xEE, 32);
    ck_assert_uint_eq(dma(r, 0x1000, (0x20 << 16) | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, 10, 0x3000), 0);
    ck_assert_mem_eq(r->pm.ram + 0x3000, "/rom@\n\0\0\0\0", 10);
    ck_assert_uint_eq(r->pm.ram[0x300A], 0xEE);
    /* skip past the end stops at the end */
    ck_assert_uint_eq(dma(r, 0x1000, (0x22 << 16) | FW_CFG_DMA_SELECT | FW_CFG_DMA_SKIP, 1000, 0), 0);
    ck_assert_uint_eq(r->fw.offset, 20);
    /* select only */
    ck_assert_uint_eq(dma(r, 0x1000, (0x21 << 16) | FW_CFG_DMA_SELECT, 0, 0), 0);
    ck_assert_uint_eq(data(r), 1);
    /* byte-wise writes of the address register work too; the last byte starts it */
    uint8_t *d = r->pm.ram + 0x1800;
    memset(d, 0, 16);
    d[1] = 0x00; d[2] = 0x00; d[3] = FW_CFG_DMA_SELECT | FW_CFG_DMA_READ;   /* key 0 */
    d[7] = 2; d[14] = 0x40;                                                  /* 2 bytes -> 0x4000 */
    static const uint8_t be[8] = {0, 0, 0, 0, 0, 0, 0x18, 0x00};
    for (int i = 0; i < 7; i++)
        bus_write(r->io, 0x514 + (uint32_t)i, be[i], 1);
    ck_assert_uint_eq(r->pm.ram[0x4000], 0);       /* not started yet */
    bus_write(r->io, 0x51B, be[7], 1);
    ck_assert_mem_eq(r->pm.ram + 0x4000, "QE", 2);
    ck_assert_uint_eq(host_be32(d), 0);
    rig_free(r);
}
END_TEST

START_TEST(test_dma_error)
{
    struct rig *r = rig_new(1);
    add_three(&r->fw);
    /* a write: every item is read-only */
    memset(r->pm.ram + 0x2000, 0x55, 8);
    ck_assert_uint_eq(dma(r, 0x1000, (0x20 << 16) | FW_CFG_DMA_SELECT | FW_CFG_DMA_WRITE, 4, 0x2000),
                      FW_CFG_DMA_ERROR);
    sel(r, 0x20);
    ck_assert_uint_eq(data(r), '/');
    /* a read to an address beyond 4 GiB */
    ck_assert_uint_eq(dma(r, 0x1000, FW_CFG_DMA_READ, 4, 0x100000000ull), FW_CFG_DMA_ERROR);
    ck_assert_uint_eq(dma(r, 0x1000, FW_CFG_DMA_READ, 0x10, 0xFFFFFFF8ull), FW_CFG_DMA_ERROR);
    /* and a good one after the errors */
    ck_assert_uint_eq(dma(r, 0x1000, FW_CFG_DMA_READ, 2, 0x2000), 0);
    ck_assert_mem_eq(r->pm.ram + 0x2000, "ro", 2);
    /* no DMA interface: the address register neither reads nor acts */
    struct rig *n = rig_new(0);
    ck_assert_uint_eq(bus_read(n->io, 0x514, 4), 0);
    uint8_t *d = n->pm.ram + 0x1000;
    d[3] = FW_CFG_DMA_SELECT | FW_CFG_DMA_READ; d[7] = 4; d[14] = 0x20;
    bus_write(n->io, 0x518, bswap32(0x1000), 4);
    ck_assert_uint_eq(n->pm.ram[0x2000], 0);
    ck_assert_uint_eq(d[3], FW_CFG_DMA_SELECT | FW_CFG_DMA_READ);
    rig_free(n);
    rig_free(r);
}
END_TEST

START_TEST(test_state_roundtrip)
{
    struct rig *a = rig_new(1), *b = rig_new(1);
    add_three(&a->fw);
    add_three(&b->fw);
    sel(a, 0x21);
    uint8_t x[8];
    read_port(a, x, 3);
    bus_write(a->io, 0x514, bswap32(0x12345678), 4);  /* high half only: no transfer */
    ck_assert_uint_eq(a->fw.dma_addr, 0x1234567800000000ull);
    size_t sz = state_size(fw_cfg_device_ops.fields);
    ck_assert_uint_eq(sz, 14);
    uint8_t s1[14], s2[14];
    ck_assert_uint_eq(state_save(fw_cfg_device_ops.fields, &a->fw, s1), sz);
    ck_assert_uint_eq(state_load(fw_cfg_device_ops.fields, &b->fw, s1, sz), sz);
    ck_assert_int_eq(fw_cfg_device_ops.post_load(&b->fw), 0);
    state_save(fw_cfg_device_ops.fields, &b->fw, s2);
    ck_assert_mem_eq(s1, s2, sz);
    uint8_t ya[4], yb[4];
    read_port(a, ya, 4);
    read_port(b, yb, 4);
    ck_assert_mem_eq(ya, yb, 4);
    ck_assert_mem_eq(ya, "\4\5\6\7", 4);
    /* reset clears selector, offset and the DMA register */
    fw_cfg_reset(&b->fw);
    ck_assert_uint_eq(b->fw.dma_addr, 0);
    ck_assert_uint_eq(data(b), 'Q');
    rig_free(a); rig_free(b);
}
END_TEST

Suite *fw_cfg_suite(void)
{
    Suite *s = suite_create("fw_cfg");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_signature);
    tcase_add_test(tc, test_id);
    tcase_add_test(tc, test_directory);
    tcase_add_test(tc, test_add_api);
    tcase_add_test(tc, test_dma_read);
    tcase_add_test(tc, test_dma_error);
    tcase_add_test(tc, test_state_roundtrip);
    suite_add_tcase(s, tc);
    return s;
}
