/* The 82077AA through its ports (offsets from 0x3F0) on a stepped virtual
 * clock, with a real 8237 (channel 2 programmed as a BIOS does), guest RAM
 * and a temporary image whose every sector holds a known pattern: reset and
 * polling statuses, the register commands, seeks, DMA and PIO reads and
 * writes with exact result bytes, errors, disk change, state round trips. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "devices/i82077_fdc.h"
#include "devices/i8237_dma.h"
#include "mmu/physmem.h"

#define SZ_720K  737280u
#define SZ_1M44 1474560u
#define SZ_2M88 2949120u

struct rig {
    struct vclock clk;
    struct physmem pm;
    struct dma dma;
    struct fdc fdc;
    struct blockdev *blk;
    char path[64];
    int level, nrise;
};

static uint8_t pattern(uint32_t lba, uint32_t i)
{
    if (i < 2)
        return (uint8_t)(lba >> (8 * i));
    return (uint8_t)(lba * 13 + i + (i >> 8) * 5);
}

static void sink(void *opaque, int n, int level)
{
    struct rig *r = opaque;
    (void)n;
    r->nrise += level;
    r->level = level;
}

static void make_image(struct rig *r, uint32_t size)
{
    snprintf(r->path, sizeof r->path, "/tmp/sv-fdc-XXXXXX");
    int fd = mkstemp(r->path);
    ck_assert_int_ge(fd, 0);
    uint8_t *img = malloc(size);
    for (uint32_t o = 0; o < size; o++)
        img[o] = pattern(o / 512, o % 512);
    ck_assert_int_eq(write(fd, img, size), (int)size);
    close(fd);
    free(img);
}

static struct blockdev *open_image(const char *path, int ro)
{
    char err[256];
    struct blockdev *b = block_open_raw(path, ro, err, sizeof err);
    ck_assert_msg(b != NULL, "%s", err);
    return b;
}

/* A rig with a fresh image of `size` bytes in drive 0 (size 0: none). */
static struct rig *rig_new_size(uint32_t size, int ro)
{
    struct rig *r = calloc(1, sizeof *r);
    vclock_init(&r->clk);
    ck_assert_int_eq(physmem_init(&r->pm, 1u << 20), 0);
    dma_init(&r->dma, &r->pm);
    fdc_init(&r->fdc, &r->clk, &r->dma, 2);
    irq_connect(&r->fdc.irq, sink, r, 6);
    if (size) {
        make_image(r, size);
        r->blk = open_image(r->path, ro);
        ck_assert_int_eq(fdc_insert(&r->fdc, 0, r->blk), 0);
    }
    return r;
}

static struct rig *rig_new(void) { return rig_new_size(SZ_1M44, 0); }

static void rig_free(struct rig *r)
{
    block_close(r->blk);
    if (r->path[0])
        unlink(r->path);
    physmem_free(&r->pm);
    free(r);
}

static void out(struct rig *r, uint32_t off, uint8_t v) { fdc_bus_ops.write(&r->fdc, off, v, 1); }
static uint8_t in(struct rig *r, uint32_t off) { return (uint8_t)fdc_bus_ops.read(&r->fdc, off, 1); }
static uint8_t msr(struct rig *r) { return in(r, FDC_MSR); }
static void advance(struct rig *r, uint64_t ns) { vclock_advance(&r->clk, vclock_now(&r->clk) + ns); }

/* Runs the clock to the FDC's interrupt. */
static void wait_irq(struct rig *r)
{
    for (int i = 0; i < 16 && !r->level; i++) {
        uint64_t t = vclock_next_deadline(&r->clk);
        ck_assert_msg(t != VCLOCK_NEVER, "no interrupt coming");
        vclock_advance(&r->clk, t);
    }
    ck_assert_int_eq(r->level, 1);
}

/* Command bytes, each when MSR says RQM with DIO = 0 (as drivers poll). */
static void send(struct rig *r, int n, const uint8_t *b)
{
    for (int i = 0; i < n; i++) {
        ck_assert_uint_eq(msr(r) & 0xC0, 0x80);
        out(r, FDC_FIFO, b[i]);
    }
}
#define SEND(r, ...) do { const uint8_t b_[] = { __VA_ARGS__ }; send(r, (int)sizeof b_, b_); } while (0)

/* Exactly n result bytes, each with MSR = RQM|DIO|CB, then idle. */
static void result(struct rig *r, int n, uint8_t *res)
{
    for (int i = 0; i < n; i++) {
        ck_assert_uint_eq(msr(r) & 0xF0, 0xD0);
        res[i] = in(r, FDC_FIFO);
    }
    ck_assert_uint_eq(msr(r) & 0xF0, 0x80);
}

static void expect(struct rig *r, int n, const uint8_t *want)
{
    uint8_t got[10];
    result(r, n, got);
    for (int i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "result byte %d: %02x, expected %02x", i, got[i], want[i]);
}
#define EXPECT(r, ...) do { const uint8_t w_[] = { __VA_ARGS__ }; expect(r, (int)sizeof w_, w_); } while (0)

static void sense_int(struct rig *r, uint8_t st0, uint8_t pcn)
{
    SEND(r, 0x08);
    EXPECT(r, st0, pcn);
}

/* What a BIOS does: channel 4 cascaded; channel 2 masked, mode, address,
 * count, page, unmasked. mode 0x46 = device -> memory, 0x4A = memory -> device. */
static void dma_setup(struct rig *r, uint8_t mode, uint32_t addr, uint16_t count)
{
    dma_slave_ops.write(&r->dma, 0x16, 0xC0, 1);
    dma_slave_ops.write(&r->dma, 0x14, 0x00, 1);
    dma_master_ops.write(&r->dma, 0x0A, 0x06, 1);
    dma_master_ops.write(&r->dma, 0x0C, 0x00, 1);
    dma_master_ops.write(&r->dma, 0x0B, mode, 1);
    dma_master_ops.write(&r->dma, 0x04, addr & 0xFF, 1);
    dma_master_ops.write(&r->dma, 0x04, (addr >> 8) & 0xFF, 1);
    dma_master_ops.write(&r->dma, 0x05, count & 0xFF, 1);
    dma_master_ops.write(&r->dma, 0x05, count >> 8, 1);
    dma_page_ops.write(&r->dma, 0x01, (addr >> 16) & 0xFF, 1);
    dma_master_ops.write(&r->dma, 0x0A, 0x02, 1);
}

/* Releases reset, reads the four polling statuses, DMA mode, 500 kbit/s. */
static void boot(struct rig *r)
{
    out(r, FDC_DOR, 0x1C);
    wait_irq(r);
    for (uint8_t d = 0; d < 4; d++)
        sense_int(r, (uint8_t)(0xC0 | d), 0);
    SEND(r, 0x03, 0xAF, 0x02);
    out(r, FDC_CCR, 0);
}

static void seek(struct rig *r, uint8_t dshd, uint8_t c)
{
    SEND(r, 0x0F, dshd, c);
    wait_irq(r);
    sense_int(r, (uint8_t)(0x20 | dshd), c);
}

/* A 9-byte data command; then the clock runs to its result interrupt. */
static void data_cmd(struct rig *r, uint8_t op, uint8_t dshd, uint8_t c, uint8_t h, uint8_t s, uint8_t eot)
{
    SEND(r, op, dshd, c, h, s, 2, eot, 0x1B, 0xFF);
    ck_assert_uint_eq(msr(r), 0x10);
    ck_assert_int_eq(r->level, 0);
    wait_irq(r);
}

static void check_mem(struct rig *r, uint32_t addr, uint32_t lba, int nsect)
{
    for (int s = 0; s < nsect; s++)
        for (uint32_t i = 0; i < 512; i++)
            ck_assert_msg(r->pm.ram[addr + s * 512 + i] == pattern(lba + (uint32_t)s, i),
                          "sector %d byte %u", s, i);
}

static void check_file(struct rig *r, uint32_t lba, const uint8_t *want)
{
    uint8_t got[512];
    int fd = open(r->path, O_RDONLY);
    ck_assert_int_eq(pread(fd, got, 512, (off_t)lba * 512), 512);
    close(fd);
    for (int i = 0; i < 512; i++) {
        uint8_t w = want ? want[i] : pattern(lba, (uint32_t)i);
        ck_assert_msg(got[i] == w, "lba %u byte %d: %02x != %02x", lba, i, got[i], w);
    }
}

/* ---- reset, registers, command phase ---- */

START_TEST(test_reset_polling)
{
    struct rig *r = rig_new();
    ck_assert_uint_eq(in(r, FDC_DOR), 0);
    ck_assert_uint_eq(msr(r), 0);                    /* held in reset */
    out(r, FDC_DOR, 0x0C);
    ck_assert_uint_eq(msr(r), 0);
    advance(r, FDC_RESET_NS - 1);
    ck_assert_int_eq(r->level, 0);
    advance(r, 1);
    ck_assert_int_eq(r->level, 1);
    ck_assert_uint_eq(msr(r), 0x80);
    sense_int(r, 0xC0, 0);
    ck_assert_int_eq(r->level, 0);
    sense_int(r, 0xC1, 0);
    sense_int(r, 0xC2, 0);
    sense_int(r, 0xC3, 0);
    SEND(r, 0x08);
    EXPECT(r, 0x80);                                  /* nothing left: invalid */
    /* DSR software reset: the same, and it clears itself */
    out(r, FDC_DSR, 0x80);
    ck_assert_uint_eq(msr(r), 0);
    wait_irq(r);
    ck_assert_uint_eq(vclock_now(&r->clk), 2 * FDC_RESET_NS);
    for (uint8_t d = 0; d < 4; d++)
        sense_int(r, (uint8_t)(0xC0 | d), 0);
    /* polling off, not locked: a reset restores polling (four statuses) */
    SEND(r, 0x13, 0x00, 0x10, 0x00);
    out(r, FDC_DOR, 0x08);
    out(r, FDC_DOR, 0x0C);
    wait_irq(r);
    for (uint8_t d = 0; d < 4; d++)
        sense_int(r, (uint8_t)(0xC0 | d), 0);
    /* locked: one status */
    SEND(r, 0x13, 0x00, 0x10, 0x00);
    SEND(r, 0x94);
    EXPECT(r, 0x10);
    out(r, FDC_DOR, 0x08);
    out(r, FDC_DOR, 0x0C);
    wait_irq(r);
    sense_int(r, 0xC0, 0);
    SEND(r, 0x08);
    EXPECT(r, 0x80);
    rig_free(r);
}
END_TEST

/* SeaBIOS reads one polling status, then recalibrates: the next SENSE
 * INTERRUPT must report the recalibration. */
START_TEST(test_reset_then_recal)
{
    struct rig *r = rig_new();
    out(r, FDC_DOR, 0x04);
    wait_irq(r);
    sense_int(r, 0xC0, 0);
    out(r, FDC_DOR, 0x1C);
    SEND(r, 0x07, 0x00);
    wait_irq(r);
    sense_int(r, 0x20, 0);
    SEND(r, 0x08);
    EXPECT(r, 0x80);
    rig_free(r);
}
END_TEST

START_TEST(test_registers_commands)
{
    struct rig *r = rig_new();
    ck_assert_uint_eq(in(r, FDC_SRA), 0xFF);
    ck_assert_uint_eq(in(r, FDC_SRB), 0xFF);
    out(r, FDC_TDR, 0xFF);
    ck_assert_uint_eq(in(r, FDC_TDR), 0x03);
    boot(r);
    ck_assert_uint_eq(in(r, FDC_DOR), 0x1C);
    SEND(r, 0x10);
    EXPECT(r, 0x90);
    SEND(r, 0x18);                                    /* 82078 PART ID: invalid here */
    EXPECT(r, 0x80);
    ck_assert_int_eq(r->nrise, 1);                    /* only the reset interrupted */
    SEND(r, 0x0E);
    EXPECT(r, 0, 0, 0, 0, 0xAF, 0x02, 0, 0x00, 0x20, 0x00);
    SEND(r, 0x13, 0x00, 0x57, 0x05);
    out(r, FDC_FIFO, 0x12);                           /* PERPENDICULAR wants a byte */
    ck_assert_uint_eq(msr(r), 0x90);
    out(r, FDC_FIFO, 0x84);                           /* OW, D0 */
    SEND(r, 0x12, 0x03);                              /* GAP, WGATE; D bits kept */
    SEND(r, 0x0E);
    EXPECT(r, 0, 0, 0, 0, 0xAF, 0x02, 0, 0x07, 0x57, 0x05);
    SEND(r, 0x94);
    EXPECT(r, 0x10);
    out(r, FDC_DSR, 0x80);                            /* locked: CONFIGURE survives */
    wait_irq(r);
    SEND(r, 0x08);
    EXPECT(r, 0xC0, 0);                               /* POLL off in 0x57: one status */
    SEND(r, 0x0E);
    EXPECT(r, 0, 0, 0, 0, 0xAF, 0x02, 0, 0x84, 0x57, 0x05);
    SEND(r, 0x14);
    EXPECT(r, 0x00);
    out(r, FDC_DOR, 0x18);
    out(r, FDC_DOR, 0x1C);
    wait_irq(r);
    SEND(r, 0x0E);
    EXPECT(r, 0, 0, 0, 0, 0xAF, 0x02, 0, 0x04, 0x20, 0x00);
    rig_free(r);
}
END_TEST

START_TEST(test_seek_recal)
{
    struct rig *r = rig_new();
    boot(r);
    SEND(r, 0x0F, 0x04, 10);
    ck_assert_uint_eq(msr(r), 0x81);                  /* drive 0 busy, RQM */
    advance(r, FDC_SEEK_NS - 1);
    ck_assert_int_eq(r->level, 0);
    advance(r, 1);
    ck_assert_int_eq(r->level, 1);
    ck_assert_uint_eq(msr(r), 0x81);                  /* busy until sensed */
    sense_int(r, 0x24, 10);
    ck_assert_uint_eq(msr(r), 0x80);
    ck_assert_int_eq(r->level, 0);
    SEND(r, 0x04, 0x00);
    EXPECT(r, 0x28);                                  /* RDY, two-sided, not T0 */
    SEND(r, 0x8F, 0x00, 3);                           /* relative, outward */
    wait_irq(r);
    sense_int(r, 0x20, 7);
    SEND(r, 0xCF, 0x00, 5);                           /* relative, inward */
    wait_irq(r);
    sense_int(r, 0x20, 12);
    SEND(r, 0x07, 0x00);
    wait_irq(r);
    sense_int(r, 0x20, 0);
    SEND(r, 0x04, 0x04);
    EXPECT(r, 0x3C);                                  /* T0, head 1 */
    SEND(r, 0x07, 0x01);                              /* no drive 1: equipment check */
    wait_irq(r);
    sense_int(r, 0x71, 0);
    SEND(r, 0x04, 0x01);
    EXPECT(r, 0x29);
    /* overlapped seeks on two drives */
    SEND(r, 0x0F, 0x00, 4);
    SEND(r, 0x0F, 0x01, 6);
    ck_assert_uint_eq(msr(r), 0x83);
    wait_irq(r);
    sense_int(r, 0x20, 4);
    ck_assert_uint_eq(msr(r), 0x82);
    sense_int(r, 0x21, 6);
    /* the head stops at its inner stop; after a reset the PCN is 0 but the
     * head is not: 79 steps out do not reach track 0 */
    seek(r, 0x00, 90);
    out(r, FDC_DOR, 0x18);
    out(r, FDC_DOR, 0x1C);
    wait_irq(r);
    for (uint8_t d = 0; d < 4; d++)
        sense_int(r, (uint8_t)(0xC0 | d), 0);
    SEND(r, 0x07, 0x00);
    wait_irq(r);
    sense_int(r, 0x70, 0);
    SEND(r, 0x07, 0x00);
    wait_irq(r);
    sense_int(r, 0x20, 0);
    rig_free(r);
}
END_TEST

/* ---- DMA reads ---- */

START_TEST(test_read_dma_one)
{
    struct rig *r = rig_new();
    boot(r);
    dma_setup(r, 0x46, 0x20000, 511);
    data_cmd(r, 0xE6, 0x00, 0, 0, 1, 18);
    ck_assert_uint_eq(vclock_now(&r->clk), FDC_RESET_NS + FDC_CMD_NS + FDC_RESULT_NS);
    EXPECT(r, 0x00, 0x00, 0x00, 0, 0, 2, 2);
    ck_assert_int_eq(r->level, 0);
    check_mem(r, 0x20000, 0, 1);
    ck_assert_uint_eq(r->pm.ram[0x20200], 0);
    ck_assert_int_eq(dma_channel_tc(&r->dma, 2), 1);
    /* sector 5 of cylinder 20, head 1 (implied seek) */
    dma_setup(r, 0x46, 0x20000, 511);
    data_cmd(r, 0xE6, 0x04, 20, 1, 5, 18);
    EXPECT(r, 0x04, 0x00, 0x00, 20, 1, 6, 2);
    check_mem(r, 0x20000, (20 * 2 + 1) * 18 + 4, 1);
    rig_free(r);
}
END_TEST

START_TEST(test_read_dma_multitrack)
{
    struct rig *r = rig_new();
    boot(r);
    /* 17, 18 of side 0 then 1, 2 of side 1 */
    dma_setup(r, 0x46, 0x30000, 4 * 512 - 1);
    data_cmd(r, 0xE6, 0x00, 5, 0, 17, 18);
    EXPECT(r, 0x04, 0x00, 0x00, 5, 1, 3, 2);
    check_mem(r, 0x30000, 5 * 36 + 16, 4);
    /* TC on the last sector of side 1: next cylinder, side 0 */
    dma_setup(r, 0x46, 0x30000, 2 * 512 - 1);
    data_cmd(r, 0xE6, 0x04, 2, 1, 17, 18);
    EXPECT(r, 0x04, 0x00, 0x00, 3, 0, 1, 2);
    check_mem(r, 0x30000, 2 * 36 + 18 + 16, 2);
    /* TC on the last sector of side 0 (MT): side 1, sector 1 */
    dma_setup(r, 0x46, 0x30000, 511);
    data_cmd(r, 0xE6, 0x00, 1, 0, 18, 18);
    EXPECT(r, 0x00, 0x00, 0x00, 1, 1, 1, 2);
    /* no MT, TC at EOT: next cylinder */
    dma_setup(r, 0x46, 0x30000, 511);
    data_cmd(r, 0x66, 0x00, 1, 0, 18, 18);
    EXPECT(r, 0x00, 0x00, 0x00, 2, 0, 1, 2);
    /* no MT, more DMA than sectors to EOT: end of cylinder, R = EOT */
    memset(r->pm.ram + 0x30000, 0, 4 * 512);
    dma_setup(r, 0x46, 0x30000, 4 * 512 - 1);
    data_cmd(r, 0x66, 0x00, 1, 0, 17, 18);
    EXPECT(r, 0x40, 0x80, 0x00, 1, 0, 18, 2);
    check_mem(r, 0x30000, 36 + 16, 2);
    ck_assert_uint_eq(r->pm.ram[0x30400], 0);
    ck_assert_uint_eq(dma_channel_remaining(&r->dma, 2), 1024);
    /* EOT below the start sector on side 1: runs off the track */
    dma_setup(r, 0x46, 0x30000, 4 * 512 - 1);
    data_cmd(r, 0xE6, 0x04, 0, 1, 17, 3);
    EXPECT(r, 0x44, 0x04, 0x00, 0, 1, 19, 2);
    rig_free(r);
}
END_TEST

START_TEST(test_dma_unavailable)
{
    struct rig *r = rig_new();
    boot(r);
    dma_setup(r, 0x46, 0x20000, 511);
    dma_master_ops.write(&r->dma, 0x0A, 0x06, 1);     /* masked again */
    data_cmd(r, 0xE6, 0x00, 0, 0, 1, 18);
    EXPECT(r, 0x40, 0x10, 0x00, 0, 0, 1, 2);          /* overrun */
    out(r, FDC_DOR, 0x14);                            /* DMA gate off */
    dma_setup(r, 0x46, 0x20000, 511);
    data_cmd(r, 0xE6, 0x00, 0, 0, 1, 18);
    EXPECT(r, 0x40, 0x10, 0x00, 0, 0, 1, 2);
    ck_assert_uint_eq(r->pm.ram[0x20002], 0);
    rig_free(r);
}
END_TEST

/* ---- PIO ---- */

START_TEST(test_read_pio)
{
    struct rig *r = rig_new();
    boot(r);
    SEND(r, 0x03, 0xAF, 0x03);                        /* ND: non-DMA */
    SEND(r, 0x66, 0x00, 0, 0, 1, 2, 2, 0x1B, 0xFF);
    ck_assert_uint_eq(msr(r), 0x10);
    advance(r, FDC_CMD_NS);
    ck_assert_int_eq(r->level, 1);
    for (uint32_t i = 0; i < 1024; i++) {
        ck_assert_uint_eq(msr(r), 0xF0);
        ck_assert_uint_eq(in(r, FDC_FIFO), pattern(i / 512, i % 512));
    }
    ck_assert_uint_eq(msr(r), 0x10);
    ck_assert_int_eq(r->level, 0);
    advance(r, FDC_RESULT_NS);
    ck_assert_int_eq(r->level, 1);
    EXPECT(r, 0x40, 0x80, 0x00, 0, 0, 2, 2);          /* no TC without DMA: EN */
    ck_assert_int_eq(r->level, 0);
    /* multi-track through the FIFO: 18 of side 0, 1 of side 1 */
    SEND(r, 0xE6, 0x00, 3, 0, 18, 2, 18, 0x1B, 0xFF);
    wait_irq(r);
    for (uint32_t i = 0; i < 36 * 512; i++) {
        ck_assert_uint_eq(msr(r), 0xF0);
        uint32_t lba = 3 * 36 + 17 + i / 512;
        ck_assert_uint_eq(in(r, FDC_FIFO), pattern(lba, i % 512));
        if (lba == 3 * 36 + 18 && i % 512 == 511)
            break;
    }
    ck_assert_uint_eq(msr(r), 0xF0);                  /* sector 2 of side 1 is ready */
    rig_free(r);
}
END_TEST

START_TEST(test_write_pio)
{
    struct rig *r = rig_new();
    boot(r);
    SEND(r, 0x03, 0xAF, 0x03);
    SEND(r, 0x45, 0x00, 0, 0, 18, 2, 18, 0x1B, 0xFF);
    wait_irq(r);
    uint8_t data[512];
    for (int i = 0; i < 512; i++) {
        data[i] = (uint8_t)(0x5A ^ i);
        ck_assert_uint_eq(msr(r), 0xB0);              /* RQM, NDMA, CB; host -> FDC */
        out(r, FDC_FIFO, data[i]);
    }
    ck_assert_uint_eq(msr(r), 0x10);
    wait_irq(r);
    EXPECT(r, 0x40, 0x80, 0x00, 0, 0, 18, 2);
    check_file(r, 17, data);
    check_file(r, 16, NULL);
    rig_free(r);
}
END_TEST

/* ---- writes ---- */

START_TEST(test_write_dma)
{
    struct rig *r = rig_new();
    boot(r);
    uint8_t data[1024];
    for (int i = 0; i < 1024; i++)
        data[i] = r->pm.ram[0x40000 + i] = (uint8_t)(0xA5 ^ i ^ (i >> 9));
    dma_setup(r, 0x4A, 0x40000, 1023);
    data_cmd(r, 0xC5, 0x04, 1, 1, 3, 18);
    EXPECT(r, 0x04, 0x00, 0x00, 1, 1, 5, 2);
    check_file(r, 56, data);
    check_file(r, 57, data + 512);
    check_file(r, 55, NULL);
    check_file(r, 58, NULL);
    /* TC inside a sector: the rest of the sector is zeros */
    dma_setup(r, 0x4A, 0x40000, 99);
    data_cmd(r, 0xC5, 0x00, 0, 0, 4, 18);
    EXPECT(r, 0x00, 0x00, 0x00, 0, 0, 5, 2);
    uint8_t want[512] = { 0 };
    memcpy(want, data, 100);
    check_file(r, 3, want);
    /* and reads back through the controller */
    dma_setup(r, 0x46, 0x50000, 511);
    data_cmd(r, 0xE6, 0x04, 1, 1, 3, 18);
    EXPECT(r, 0x04, 0x00, 0x00, 1, 1, 4, 2);
    ck_assert_int_eq(memcmp(r->pm.ram + 0x50000, data, 512), 0);
    rig_free(r);
}
END_TEST

START_TEST(test_write_protected)
{
    struct rig *r = rig_new_size(SZ_1M44, 1);
    boot(r);
    SEND(r, 0x04, 0x00);
    EXPECT(r, 0x78);                                  /* WP, RDY, T0, two-sided */
    memset(r->pm.ram + 0x40000, 0x33, 512);
    dma_setup(r, 0x4A, 0x40000, 511);
    data_cmd(r, 0xC5, 0x00, 0, 0, 1, 18);
    EXPECT(r, 0x40, 0x02, 0x00, 0, 0, 1, 2);
    check_file(r, 0, NULL);
    ck_assert_uint_eq(dma_channel_remaining(&r->dma, 2), 512);
    SEND(r, 0x4D, 0x00, 2, 18, 0x6C, 0xF6);           /* FORMAT too */
    wait_irq(r);
    EXPECT(r, 0x40, 0x02, 0x00, 0, 0, 1, 2);
    check_file(r, 1, NULL);
    rig_free(r);
}
END_TEST

/* ---- READ ID, errors, media ---- */

START_TEST(test_read_id)
{
    struct rig *r = rig_new();
    boot(r);
    seek(r, 0x04, 3);
    SEND(r, 0x4A, 0x04);
    ck_assert_uint_eq(msr(r), 0x10);
    wait_irq(r);
    EXPECT(r, 0x04, 0x00, 0x00, 3, 1, 1, 2);
    SEND(r, 0x4A, 0x04);
    wait_irq(r);
    EXPECT(r, 0x04, 0x00, 0x00, 3, 1, 2, 2);
    dma_setup(r, 0x46, 0x20000, 511);
    data_cmd(r, 0xE6, 0x00, 3, 0, 18, 18);
    EXPECT(r, 0x00, 0x00, 0x00, 3, 1, 1, 2);
    SEND(r, 0x4A, 0x00);                              /* the sector after 18 */
    wait_irq(r);
    EXPECT(r, 0x00, 0x00, 0x00, 3, 0, 1, 2);
    out(r, FDC_CCR, 2);                               /* 250 kbit/s: no ID fields */
    SEND(r, 0x4A, 0x04);
    wait_irq(r);
    EXPECT(r, 0x44, 0x01, 0x00, 3, 1, 1, 2);
    out(r, FDC_CCR, 0);
    SEND(r, 0x0A, 0x04);                              /* FM */
    wait_irq(r);
    EXPECT(r, 0x44, 0x01, 0x00, 3, 1, 1, 2);
    rig_free(r);
}
END_TEST

START_TEST(test_sector_not_found)
{
    struct rig *r = rig_new();
    boot(r);
    dma_setup(r, 0x46, 0x20000, 511);
    data_cmd(r, 0xE6, 0x00, 0, 0, 19, 19);
    EXPECT(r, 0x40, 0x04, 0x00, 0, 0, 19, 2);
    data_cmd(r, 0xE6, 0x00, 0, 1, 1, 18);             /* H does not match head 0 */
    EXPECT(r, 0x40, 0x04, 0x00, 0, 1, 1, 2);
    SEND(r, 0xE6, 0x00, 0, 0, 1, 3, 18, 0x1B, 0xFF);  /* N = 3 */
    wait_irq(r);
    EXPECT(r, 0x40, 0x04, 0x00, 0, 0, 1, 3);
    data_cmd(r, 0xE6, 0x00, 80, 0, 1, 18);            /* unformatted cylinder */
    EXPECT(r, 0x40, 0x01, 0x00, 80, 0, 1, 2);
    ck_assert_uint_eq(r->pm.ram[0x20002], 0);
    ck_assert_uint_eq(dma_channel_remaining(&r->dma, 2), 512);
    rig_free(r);
}
END_TEST

START_TEST(test_no_media)
{
    struct rig *r = rig_new();
    boot(r);
    fdc_eject(&r->fdc, 0);
    ck_assert_uint_eq(in(r, FDC_DIR), 0x80);
    dma_setup(r, 0x46, 0x20000, 511);
    data_cmd(r, 0xE6, 0x00, 0, 0, 1, 18);
    EXPECT(r, 0x40, 0x01, 0x00, 0, 0, 1, 2);
    SEND(r, 0x4A, 0x00);
    wait_irq(r);
    EXPECT(r, 0x40, 0x01, 0x00, 0, 0, 1, 2);
    data_cmd(r, 0xE6, 0x01, 0, 0, 1, 18);             /* no drive 1 */
    EXPECT(r, 0x41, 0x01, 0x00, 0, 0, 1, 2);
    SEND(r, 0x04, 0x00);
    EXPECT(r, 0x78);                                  /* empty drive: WP seen */
    ck_assert_uint_eq(r->pm.ram[0x20002], 0);
    rig_free(r);
}
END_TEST

START_TEST(test_disk_change)
{
    struct rig *r = rig_new();
    boot(r);
    ck_assert_uint_eq(in(r, FDC_DIR), 0x80);          /* since power-on */
    seek(r, 0x00, 0);                                 /* no step pulse */
    ck_assert_uint_eq(in(r, FDC_DIR), 0x80);
    seek(r, 0x00, 1);
    ck_assert_uint_eq(in(r, FDC_DIR), 0x00);
    out(r, FDC_DOR, 0x2D);                            /* select absent drive 1 */
    ck_assert_uint_eq(in(r, FDC_DIR), 0x00);
    out(r, FDC_DOR, 0x1C);
    fdc_eject(&r->fdc, 0);
    ck_assert_uint_eq(in(r, FDC_DIR), 0x80);
    seek(r, 0x00, 2);                                 /* steps without a disk */
    ck_assert_uint_eq(in(r, FDC_DIR), 0x80);
    ck_assert_int_eq(fdc_insert(&r->fdc, 0, r->blk), 0);
    ck_assert_uint_eq(in(r, FDC_DIR), 0x80);
    seek(r, 0x00, 2);
    ck_assert_uint_eq(in(r, FDC_DIR), 0x80);
    SEND(r, 0x07, 0x00);                              /* recalibrate steps out */
    wait_irq(r);
    sense_int(r, 0x20, 0);
    ck_assert_uint_eq(in(r, FDC_DIR), 0x00);
    /* an implied seek steps too */
    fdc_eject(&r->fdc, 0);
    ck_assert_int_eq(fdc_insert(&r->fdc, 0, r->blk), 0);
    dma_setup(r, 0x46, 0x20000, 511);
    data_cmd(r, 0xE6, 0x00, 7, 0, 1, 18);
    EXPECT(r, 0x00, 0x00, 0x00, 7, 0, 2, 2);
    ck_assert_uint_eq(in(r, FDC_DIR), 0x00);
    rig_free(r);
}
END_TEST

START_TEST(test_media_types)
{
    struct rig *r = rig_new_size(SZ_720K, 0);
    ck_assert_int_eq(fdc_cmos_type(&r->fdc, 0), 4);
    ck_assert_int_eq(fdc_cmos_type(&r->fdc, 1), 0);
    boot(r);
    dma_setup(r, 0x46, 0x20000, 511);
    data_cmd(r, 0xE6, 0x00, 1, 1, 9, 9);              /* 500 kbit/s: unreadable */
    EXPECT(r, 0x40, 0x01, 0x00, 1, 1, 9, 2);
    out(r, FDC_CCR, 2);
    data_cmd(r, 0xE6, 0x04, 1, 1, 9, 9);
    EXPECT(r, 0x04, 0x00, 0x00, 2, 0, 1, 2);
    check_mem(r, 0x20000, 3 * 9 + 8, 1);
    data_cmd(r, 0xE6, 0x00, 1, 0, 10, 18);
    EXPECT(r, 0x40, 0x04, 0x00, 1, 0, 10, 2);
    rig_free(r);

    r = rig_new_size(SZ_2M88, 0);
    ck_assert_int_eq(fdc_cmos_type(&r->fdc, 0), 5);
    boot(r);
    out(r, FDC_CCR, 3);
    dma_setup(r, 0x46, 0x20000, 1023);
    data_cmd(r, 0xE6, 0x00, 79, 0, 36, 36);
    EXPECT(r, 0x04, 0x00, 0x00, 79, 1, 2, 2);
    check_mem(r, 0x20000, 79 * 72 + 35, 2);
    rig_free(r);

    r = rig_new_size(0, 0);
    make_image(r, 1000000);
    r->blk = open_image(r->path, 0);
    ck_assert_int_eq(fdc_insert(&r->fdc, 1, r->blk), -1);
    ck_assert_int_eq(fdc_cmos_type(&r->fdc, 1), 0);
    fdc_set_drive_type(&r->fdc, 1, FDC_TYPE_1M44);
    ck_assert_int_eq(fdc_cmos_type(&r->fdc, 1), 4);
    rig_free(r);
}
END_TEST

/* ---- FORMAT, VERIFY, deleted data ---- */

START_TEST(test_format_verify_deleted)
{
    struct rig *r = rig_new();
    boot(r);
    seek(r, 0x00, 4);
    for (int i = 0; i < 18; i++) {                    /* interleave 2: 1 10 2 11 ... */
        uint8_t *id = r->pm.ram + 0x40000 + 4 * i;
        id[0] = 4; id[1] = 0; id[2] = (uint8_t)(i % 2 ? 10 + i / 2 : 1 + i / 2); id[3] = 2;
    }
    dma_setup(r, 0x4A, 0x40000, 71);
    SEND(r, 0x4D, 0x00, 2, 18, 0x6C, 0xF6);
    wait_irq(r);
    EXPECT(r, 0x00, 0x00, 0x00, 4, 0, 18, 2);
    uint8_t fill[512];
    memset(fill, 0xF6, sizeof fill);
    for (uint32_t s = 0; s < 18; s++)
        check_file(r, 4 * 36 + s, fill);
    check_file(r, 4 * 36 + 18, NULL);
    check_file(r, 4 * 36 - 1, NULL);
    SEND(r, 0x0E);                                    /* DUMPREG: SC, PCN */
    EXPECT(r, 4, 0, 0, 0, 0xAF, 0x02, 18, 0x00, 0x20, 0x00);
    /* VERIFY, EC = 0: to EOT of side 1 (MT) */
    data_cmd(r, 0xD6, 0x00, 0, 0, 1, 18);
    EXPECT(r, 0x04, 0x00, 0x00, 1, 0, 1, 2);
    /* EC = 1: three sectors (SC in the DTL byte) */
    SEND(r, 0x56, 0x80, 0, 0, 1, 2, 18, 0x1B, 3);
    wait_irq(r);
    EXPECT(r, 0x00, 0x00, 0x00, 0, 0, 4, 2);
    /* READ DELETED on a normal sector: read, CM, stop */
    dma_setup(r, 0x46, 0x20000, 1023);
    data_cmd(r, 0x4C, 0x00, 0, 0, 1, 3);
    EXPECT(r, 0x00, 0x00, 0x40, 0, 0, 2, 2);
    check_mem(r, 0x20000, 0, 1);
    ck_assert_uint_eq(r->pm.ram[0x20202], 0);
    /* ... with SK: skipped to EOT */
    memset(r->pm.ram + 0x20000, 0, 512);
    dma_setup(r, 0x46, 0x20000, 1023);
    data_cmd(r, 0x6C, 0x00, 0, 0, 1, 3);
    EXPECT(r, 0x40, 0x80, 0x00, 0, 0, 3, 2);
    ck_assert_uint_eq(r->pm.ram[0x20002], 0);
    /* READ TRACK from the index: sectors 1-2 */
    dma_setup(r, 0x46, 0x20000, 1023);
    data_cmd(r, 0x42, 0x00, 0, 0, 9, 2);
    EXPECT(r, 0x00, 0x00, 0x00, 1, 0, 1, 2);          /* TC at EOT: next cylinder */
    check_mem(r, 0x20000, 0, 2);
    rig_free(r);
}
END_TEST

START_TEST(test_format_pio)
{
    struct rig *r = rig_new();
    boot(r);
    SEND(r, 0x03, 0xAF, 0x03);
    seek(r, 0x04, 2);
    SEND(r, 0x4D, 0x04, 2, 2, 0x6C, 0x00);            /* two IDs */
    wait_irq(r);
    const uint8_t ids[8] = { 2, 1, 7, 2, 2, 1, 3, 2 };
    for (int i = 0; i < 8; i++) {
        ck_assert_uint_eq(msr(r), 0xB0);
        out(r, FDC_FIFO, ids[i]);
    }
    ck_assert_uint_eq(msr(r), 0x10);
    wait_irq(r);
    EXPECT(r, 0x04, 0x00, 0x00, 2, 1, 3, 2);
    uint8_t zero[512] = { 0 };
    check_file(r, 2 * 36 + 18 + 6, zero);
    check_file(r, 2 * 36 + 18 + 2, zero);
    check_file(r, 2 * 36 + 18 + 3, NULL);
    /* the disk goes away while the host sends IDs */
    SEND(r, 0x4D, 0x04, 2, 18, 0x6C, 0x00);
    wait_irq(r);
    for (int i = 0; i < 4; i++)
        out(r, FDC_FIFO, ids[i]);
    fdc_eject(&r->fdc, 0);
    for (int i = 4; i < 8; i++)
        out(r, FDC_FIFO, ids[i]);
    wait_irq(r);
    EXPECT(r, 0x44, 0x01, 0x00, 2, 1, 3, 2);
    rig_free(r);
}
END_TEST

/* ---- snapshots ---- */

static size_t save(struct rig *r, uint8_t *buf)
{
    return state_save(fdc_device_ops.fields, &r->fdc, buf);
}

/* A second machine on the same image with the first's FDC and DMA state. */
static struct rig *clone(struct rig *a)
{
    struct rig *b = rig_new_size(0, 0);
    b->blk = open_image(a->path, 0);
    ck_assert_int_eq(fdc_insert(&b->fdc, 0, b->blk), 0);
    vclock_advance(&b->clk, vclock_now(&a->clk));
    size_t n = state_size(fdc_device_ops.fields);
    uint8_t *s = malloc(n);
    ck_assert_uint_eq(save(a, s), n);
    ck_assert_uint_eq(state_load(fdc_device_ops.fields, &b->fdc, s, n), n);
    ck_assert_int_eq(fdc_device_ops.post_load(&b->fdc), 0);
    uint8_t d[256];
    size_t dn = state_save(dma_device_ops.fields, &a->dma, d);
    ck_assert_uint_eq(state_load(dma_device_ops.fields, &b->dma, d, dn), dn);
    ck_assert_int_eq(dma_device_ops.post_load(&b->dma), 0);
    free(s);
    return b;
}

static void same_state(struct rig *a, struct rig *b)
{
    size_t n = state_size(fdc_device_ops.fields);
    uint8_t *s1 = malloc(n), *s2 = malloc(n);
    save(a, s1);
    save(b, s2);
    ck_assert_int_eq(memcmp(s1, s2, n), 0);
    free(s1);
    free(s2);
}

START_TEST(test_state_round_trip)
{
    struct rig *a = rig_new();
    boot(a);
    SEND(a, 0x13, 0x00, 0x47, 0x09);
    SEND(a, 0x0F, 0x04, 33);                          /* a seek in flight */
    advance(a, FDC_SEEK_NS / 2);
    struct rig *b = clone(a);
    same_state(a, b);
    ck_assert_uint_eq(msr(b), 0x81);
    wait_irq(a);
    wait_irq(b);
    ck_assert_uint_eq(vclock_now(&a->clk), vclock_now(&b->clk));
    sense_int(a, 0x24, 33);
    sense_int(b, 0x24, 33);
    same_state(a, b);
    rig_free(b);
    /* values that would index out of range are refused */
    a->fdc.phase = 9;
    ck_assert_int_ne(fdc_device_ops.post_load(&a->fdc), 0);
    a->fdc.phase = 4;                                 /* result phase */
    a->fdc.res_len = 10;
    a->fdc.res_pos = 10;
    ck_assert_int_ne(fdc_device_ops.post_load(&a->fdc), 0);
    a->fdc.res_pos = 9;
    ck_assert_int_eq(fdc_device_ops.post_load(&a->fdc), 0);
    rig_free(a);
}
END_TEST

START_TEST(test_state_inflight_dma)
{
    struct rig *a = rig_new();
    boot(a);
    dma_setup(a, 0x46, 0x30000, 3 * 512 - 1);
    SEND(a, 0xE6, 0x04, 9, 1, 2, 2, 18, 0x1B, 0xFF);
    advance(a, FDC_CMD_NS / 2);
    struct rig *b = clone(a);
    same_state(a, b);
    wait_irq(a);
    wait_irq(b);
    ck_assert_uint_eq(vclock_now(&a->clk), vclock_now(&b->clk));
    EXPECT(a, 0x04, 0x00, 0x00, 9, 1, 5, 2);
    EXPECT(b, 0x04, 0x00, 0x00, 9, 1, 5, 2);
    check_mem(a, 0x30000, 9 * 36 + 18 + 1, 3);
    check_mem(b, 0x30000, 9 * 36 + 18 + 1, 3);
    same_state(a, b);
    rig_free(b);
    rig_free(a);
}
END_TEST

START_TEST(test_state_inflight_pio)
{
    struct rig *a = rig_new();
    boot(a);
    SEND(a, 0x03, 0xAF, 0x03);
    SEND(a, 0x46, 0x00, 2, 0, 17, 2, 18, 0x1B, 0xFF);
    wait_irq(a);
    for (int i = 0; i < 100; i++)
        in(a, FDC_FIFO);
    struct rig *b = clone(a);
    ck_assert_int_eq(b->level, 1);
    ck_assert_uint_eq(msr(b), 0xF0);
    for (uint32_t i = 100; i < 1024; i++) {
        uint8_t va = in(a, FDC_FIFO), vb = in(b, FDC_FIFO);
        ck_assert_uint_eq(va, vb);
        ck_assert_uint_eq(va, pattern(2 * 36 + 16 + i / 512, i % 512));
    }
    same_state(a, b);
    wait_irq(a);
    wait_irq(b);
    EXPECT(a, 0x40, 0x80, 0x00, 2, 0, 18, 2);
    EXPECT(b, 0x40, 0x80, 0x00, 2, 0, 18, 2);
    rig_free(b);
    rig_free(a);
}
END_TEST

Suite *i82077_fdc_suite(void)
{
    Suite *s = suite_create("i82077_fdc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_reset_polling);
    tcase_add_test(tc, test_reset_then_recal);
    tcase_add_test(tc, test_registers_commands);
    tcase_add_test(tc, test_seek_recal);
    tcase_add_test(tc, test_read_dma_one);
    tcase_add_test(tc, test_read_dma_multitrack);
    tcase_add_test(tc, test_dma_unavailable);
    tcase_add_test(tc, test_read_pio);
    tcase_add_test(tc, test_write_pio);
    tcase_add_test(tc, test_write_dma);
    tcase_add_test(tc, test_write_protected);
    tcase_add_test(tc, test_read_id);
    tcase_add_test(tc, test_sector_not_found);
    tcase_add_test(tc, test_no_media);
    tcase_add_test(tc, test_disk_change);
    tcase_add_test(tc, test_media_types);
    tcase_add_test(tc, test_format_verify_deleted);
    tcase_add_test(tc, test_format_pio);
    tcase_add_test(tc, test_state_round_trip);
    tcase_add_test(tc, test_state_inflight_dma);
    tcase_add_test(tc, test_state_inflight_pio);
    suite_add_tcase(s, tc);
    return s;
}
