/* The ATAPI CD-ROM through the channel's ports: signature, IDENTIFY PACKET,
 * the PACKET protocol (CDB DRQ, byte count limit, interrupt reason, one
 * interrupt per DRQ block), PIO and bus-master DMA reads of an ISO image,
 * the MMC replies byte for byte, sense data, media changes (UNIT ATTENTION,
 * GET EVENT STATUS), eject/lock, and state round trips mid-transfer. */
#include "ide_rig.h"

#define N_SECT 300
#define ST_DONE 0x40          /* DRDY */
#define ST_CHECK 0x41         /* DRDY | ERR */

static void cd_attach(struct rig *r, int unit, uint32_t sectors)
{
    make_image(r->path[unit], sectors * 2048ull, sectors * 2048ull, unit);
    ck_assert_int_eq(ata_attach_cdrom(&r->ch, unit, rig_open(r, unit, 1)), 0);
}

static uint8_t cdpat(uint32_t lba, uint32_t i) { return pat((uint64_t)lba * 2048 + i, 0); }

/* Issues PACKET with the CDB and waits the command latency. */
static void packet(struct rig *r, const uint8_t *cdb, uint16_t bcl, int dma)
{
    outb(r, CMD + 1, dma ? 1 : 0);
    outb(r, CMD + 4, bcl);
    outb(r, CMD + 5, bcl >> 8);
    outb(r, CMD + 7, 0xA0);
    ck_assert_uint_eq(inb(r, CTL), 0x48);       /* DRQ for the packet, no BSY */
    ck_assert_uint_eq(inb(r, CMD + 2), ATAPI_IR_COD);
    for (int i = 0; i < 6; i++)
        outw(r, CMD, (uint16_t)(cdb[2 * i] | cdb[2 * i + 1] << 8));
    ck_assert_uint_eq(inb(r, CTL) & 0x88, 0x80);
    step(r, ATA_CMD_NS);
}

/* Reads the data-in phase by PIO; returns the bytes; block sizes in sizes. */
static uint32_t pio_in(struct rig *r, uint8_t *out, int *nblocks, uint32_t *sizes)
{
    uint32_t total = 0;
    int nb = 0;
    for (;;) {
        int irqs = r->nrise;
        uint8_t st = inb(r, CMD + 7);
        if (!(st & 0x08))
            break;
        ck_assert_uint_eq(st, 0x48);
        ck_assert_uint_eq(inb(r, CMD + 2), ATAPI_IR_IO);
        uint32_t n = inb(r, CMD + 4) | (uint32_t)inb(r, CMD + 5) << 8;
        if (sizes)
            sizes[nb] = n;
        nb++;
        for (uint32_t i = 0; i < n; i += 2) {
            uint16_t w = inw(r, CMD);
            out[total + i] = (uint8_t)w;
            if (i + 1 < n)
                out[total + i + 1] = (uint8_t)(w >> 8);
        }
        total += n;
        ck_assert_uint_eq(inb(r, CTL) & 0x88, 0x80);
        step(r, ATA_BLOCK_NS);
        ck_assert_int_eq(r->nrise, irqs + 1);   /* each block or the end interrupts */
    }
    if (nblocks)
        *nblocks = nb;
    return total;
}

/* A command with a short reply: returns its length, checks completion. */
static uint32_t cmd_in(struct rig *r, const uint8_t *cdb, uint8_t *out)
{
    packet(r, cdb, 0xFFFE, 0);
    uint32_t n = pio_in(r, out, NULL, NULL);
    ck_assert_uint_eq(inb(r, CMD + 7), ST_DONE);
    ck_assert_uint_eq(inb(r, CMD + 2), ATAPI_IR_IO | ATAPI_IR_COD);
    return n;
}

static void expect_check(struct rig *r, uint8_t key, uint8_t asc, uint8_t ascq)
{
    ck_assert_uint_eq(inb(r, CMD + 7), ST_CHECK);
    ck_assert_uint_eq(inb(r, CMD + 2), ATAPI_IR_IO | ATAPI_IR_COD);
    ck_assert_uint_eq(inb(r, CMD + 1) >> 4, key);
    uint8_t rs[12] = { 0x03, 0, 0, 0, 18 }, b[32];
    ck_assert_uint_eq(cmd_in(r, rs, b), 18);
    ck_assert_uint_eq(b[0], 0x70);
    ck_assert_uint_eq(b[2], key);
    ck_assert_uint_eq(b[7], 10);
    ck_assert_uint_eq(b[12], asc);
    ck_assert_uint_eq(b[13], ascq);
}

static void run_ok(struct rig *r, const uint8_t *cdb)
{
    packet(r, cdb, 0xFFFE, 0);
    ck_assert_uint_eq(inb(r, CMD + 7), ST_DONE);
    ck_assert_uint_eq(inb(r, CMD + 2), 3);
}

START_TEST(test_signature_identify)
{
    struct rig *r = rig_new();
    rig_disk(r, 0, 1 << 20, 0, 0);
    cd_attach(r, 1, N_SECT);
    outb(r, CMD + 6, 0xB0);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x00);   /* no DRDY after reset */
    ck_assert_uint_eq(inb(r, CMD + 2), 0x01);
    ck_assert_uint_eq(inb(r, CMD + 3), 0x01);
    ck_assert_uint_eq(inb(r, CMD + 4), 0x14);
    ck_assert_uint_eq(inb(r, CMD + 5), 0xEB);
    outb(r, CMD + 6, 0xA0);
    ck_assert_uint_eq(inb(r, CMD + 4), 0x00);   /* the disk's own */
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    /* IDENTIFY DEVICE: aborted, signature shown */
    outb(r, CMD + 6, 0xB0);
    outb(r, CMD + 4, 0x00);
    outb(r, CMD + 5, 0x00);
    outb(r, CMD + 7, 0xEC);
    step(r, ATA_CMD_NS);
    ck_assert_int_eq(r->nrise, 1);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x41);
    ck_assert_uint_eq(inb(r, CMD + 1), ATA_ER_ABRT);
    ck_assert_uint_eq(inb(r, CMD + 4), 0x14);
    ck_assert_uint_eq(inb(r, CMD + 5), 0xEB);
    /* IDENTIFY PACKET DEVICE */
    outb(r, CMD + 7, 0xA1);
    step(r, ATA_CMD_NS);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x48);
    uint16_t w[256];
    for (int i = 0; i < 256; i++)
        w[i] = inw(r, CMD);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x40);
    ck_assert_uint_eq(w[0], 0x85C0);
    ck_assert_uint_eq(w[49], 0x0B00);
    ck_assert_uint_eq(w[53], 0x0006);
    ck_assert_uint_eq(w[63], 0x0407);
    ck_assert_uint_eq(w[82], 0x4210);
    ck_assert_uint_eq(w[93], 0x6B00);
    ck_assert_uint_eq(w[27], ('S' << 8) | 'O');
    ck_assert_uint_eq(w[32], ('C' << 8) | 'D');   /* "SOFTVISOR CD-ROM": chars 10-11 */
    ck_assert_uint_eq(w[33], ('-' << 8) | 'R');
    ck_assert_uint_eq(w[35], 0x2020);
    ck_assert_uint_eq(w[255] & 0xFF, 0xA5);
    uint8_t sum = 0;
    for (int i = 0; i < 256; i++)
        sum = (uint8_t)(sum + (w[i] & 0xFF) + (w[i] >> 8));
    ck_assert_uint_eq(sum, 0);
    /* READ SECTORS on a packet device: abort with signature */
    outb(r, CMD + 4, 0);
    outb(r, CMD + 7, 0x20);
    step(r, ATA_CMD_NS);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x41);
    ck_assert_uint_eq(inb(r, CMD + 4), 0x14);
    /* SRST: the packet device comes back with its signature, DRDY clear */
    outb(r, CTL, 0x04);
    outb(r, CTL, 0x00);
    step(r, ATA_RESET_NS);
    outb(r, CMD + 6, 0xB0);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x00);
    ck_assert_uint_eq(inb(r, CMD + 5), 0xEB);
    /* DEVICE RESET */
    outb(r, CMD + 4, 0x55);
    outb(r, CMD + 7, 0x08);
    ck_assert_uint_eq(inb(r, CTL), 0x80);
    step(r, ATA_CMD_NS);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x00);
    ck_assert_uint_eq(inb(r, CMD + 4), 0x14);
    rig_free(r);
}
END_TEST

START_TEST(test_inquiry_capacity)
{
    struct rig *r = rig_new();
    cd_attach(r, 0, N_SECT);
    uint8_t b[256];
    static const uint8_t inq[12] = { 0x12, 0, 0, 0, 96 };
    ck_assert_uint_eq(cmd_in(r, inq, b), 36);
    static const uint8_t want[36] = {
        0x05, 0x80, 0x00, 0x21, 31, 0, 0, 0,
        'S', 'O', 'F', 'T', 'V', 'I', 'S', 'R',
        'C', 'D', '-', 'R', 'O', 'M', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
        '1', '.', '0', ' ' };
    ck_assert_mem_eq(b, want, 36);
    static const uint8_t inq5[12] = { 0x12, 0, 0, 0, 5 };   /* allocation length cuts */
    ck_assert_uint_eq(cmd_in(r, inq5, b), 5);
    static const uint8_t cap[12] = { 0x25 };
    ck_assert_uint_eq(cmd_in(r, cap, b), 8);
    static const uint8_t capw[8] = { 0, 0, 0x01, 0x2B, 0, 0, 0x08, 0 };   /* 299, 2048 */
    ck_assert_mem_eq(b, capw, 8);
    static const uint8_t tur[12] = { 0x00 };
    run_ok(r, tur);
    static const uint8_t vpd[12] = { 0x12, 1, 0x80, 0, 96 };
    packet(r, vpd, 0xFFFE, 0);
    expect_check(r, SENSE_ILLEGAL_REQUEST, 0x24, 0);
    rig_free(r);
}
END_TEST

static void expect_cd_data(const uint8_t *b, uint32_t lba, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        if (b[i] != cdpat(lba + i / 2048, i % 2048))
            ck_abort_msg("byte %u of lba %u", i % 2048, lba + i / 2048);
}

START_TEST(test_read_pio)
{
    struct rig *r = rig_new();
    cd_attach(r, 0, N_SECT);
    static uint8_t b[65536];
    uint32_t sizes[64];
    int nb;
    /* READ(10) 4 sectors at 7 with a 2048-byte limit: 4 DRQ blocks */
    static const uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 7, 0, 0, 4 };
    int irqs = r->nrise;
    packet(r, rd, 2048, 0);
    ck_assert_uint_eq(pio_in(r, b, &nb, sizes), 4 * 2048);
    ck_assert_int_eq(nb, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(sizes[i], 2048);
    ck_assert_int_eq(r->nrise, irqs + 5);       /* 4 blocks + completion */
    ck_assert_uint_eq(inb(r, CMD + 7), ST_DONE);
    ck_assert_uint_eq(inb(r, CMD + 2), 3);
    expect_cd_data(b, 7, 4 * 2048);
    /* an odd limit is used even: 2999 -> 2998-byte blocks */
    packet(r, rd, 2999, 0);
    ck_assert_uint_eq(pio_in(r, b, &nb, sizes), 8192);
    ck_assert_int_eq(nb, 3);
    ck_assert_uint_eq(sizes[0], 2998);
    ck_assert_uint_eq(sizes[1], 2998);
    ck_assert_uint_eq(sizes[2], 8192 - 2 * 2998);
    expect_cd_data(b, 7, 8192);
    /* READ(12) of 20 sectors with the largest limit: the drive's buffer
     * holds 16 sectors, so two blocks */
    static const uint8_t rd12[12] = { 0xA8, 0, 0, 0, 0x01, 0x00, 0, 0, 0, 20 };
    packet(r, rd12, 0xFFFF, 0);
    ck_assert_uint_eq(pio_in(r, b, &nb, sizes), 20 * 2048);
    ck_assert_int_eq(nb, 2);
    ck_assert_uint_eq(sizes[0], 16 * 2048);
    ck_assert_uint_eq(sizes[1], 4 * 2048);
    expect_cd_data(b, 256, 20 * 2048);
    /* 32-bit reads work as well */
    static const uint8_t rd1[12] = { 0x28, 0, 0, 0, 0x01, 0x2B, 0, 0, 1 };
    packet(r, rd1, 2048, 0);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x48);
    for (int i = 0; i < 512; i++)
        ck_assert_uint_eq(inl(r, CMD), cdpat(299, 4 * i) | cdpat(299, 4 * i + 1) << 8 |
                          cdpat(299, 4 * i + 2) << 16 | (uint32_t)cdpat(299, 4 * i + 3) << 24);
    step(r, ATA_BLOCK_NS);
    ck_assert_uint_eq(inb(r, CMD + 7), ST_DONE);
    /* zero sectors: done, no data */
    static const uint8_t rd0[12] = { 0x28, 0, 0, 0, 0, 7, 0, 0, 0 };
    run_ok(r, rd0);
    /* past the end */
    static const uint8_t bad[12] = { 0x28, 0, 0, 0, 0x01, 0x2B, 0, 0, 2 };
    packet(r, bad, 2048, 0);
    ck_assert_uint_eq(inb(r, CMD + 1), 0x54);   /* ILLEGAL REQUEST, ABRT */
    expect_check(r, SENSE_ILLEGAL_REQUEST, 0x21, 0);
    rig_free(r);
}
END_TEST

START_TEST(test_read_dma)
{
    struct rig *r = rig_new();
    cd_attach(r, 0, N_SECT);
    /* 18 sectors (more than the 16-sector buffer) into two regions */
    phys_write(&r->pm, 0x1000, 0x20000, 4);
    phys_write(&r->pm, 0x1004, 0x8000, 4);
    phys_write(&r->pm, 0x1008, 0x40000, 4);
    phys_write(&r->pm, 0x100C, PRD_EOT | 0x1000, 4);
    outl(r, BMB + 4, 0x1000);
    outb(r, BMB + 0, 0x08);
    static const uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 50, 0, 0, 18 };
    packet(r, rd, 0, 1);
    ck_assert_uint_eq(inb(r, CTL), 0x48);       /* requesting DMA */
    ck_assert_int_eq(r->nrise, 0);
    outb(r, BMB + 0, 0x09);
    step(r, ATA_BLOCK_NS);
    ck_assert_int_eq(r->nrise, 1);
    ck_assert_uint_eq(inb(r, BMB + 2), 0x04);
    ck_assert_uint_eq(inb(r, CMD + 7), ST_DONE);
    ck_assert_uint_eq(inb(r, CMD + 2), 3);
    expect_cd_data(r->pm.ram + 0x20000, 50, 0x8000);
    expect_cd_data(r->pm.ram + 0x40000, 66, 0x1000);
    /* a short reply by DMA: INQUIRY into a region, bus master started first */
    outb(r, BMB + 0, 0x08);
    outb(r, BMB + 2, 0x04);
    phys_write(&r->pm, 0x1000, 0x30000, 4);
    phys_write(&r->pm, 0x1004, PRD_EOT | 0x100, 4);
    outb(r, BMB + 0, 0x09);
    static const uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
    packet(r, inq, 0, 1);
    ck_assert_uint_eq(inb(r, CMD + 7), ST_DONE);
    ck_assert_uint_eq(inb(r, BMB + 2), 0x05);   /* table longer than the reply */
    ck_assert_uint_eq(r->pm.ram[0x30000], 0x05);
    ck_assert_mem_eq(r->pm.ram + 0x30008, "SOFTVISR", 8);
    rig_free(r);
}
END_TEST

START_TEST(test_read_toc)
{
    struct rig *r = rig_new();
    cd_attach(r, 0, N_SECT);
    uint8_t b[256];
    static const uint8_t toc0[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 0xFF };
    static const uint8_t w0[20] = { 0x00, 0x12, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0,
                                    0, 0x14, 0xAA, 0, 0, 0, 0x01, 0x2C };
    ck_assert_uint_eq(cmd_in(r, toc0, b), 20);
    ck_assert_mem_eq(b, w0, 20);
    static const uint8_t toc0m[12] = { 0x43, 2, 0, 0, 0, 0, 0, 0, 0xFF };
    static const uint8_t w0m[20] = { 0x00, 0x12, 1, 1, 0, 0x14, 1, 0, 0, 0, 2, 0,
                                     0, 0x14, 0xAA, 0, 0, 0, 6, 0 };   /* 450 = 00:06:00 */
    ck_assert_uint_eq(cmd_in(r, toc0m, b), 20);
    ck_assert_mem_eq(b, w0m, 20);
    static const uint8_t tocaa[12] = { 0x43, 0, 0, 0, 0, 0, 0xAA, 0, 0xFF };
    ck_assert_uint_eq(cmd_in(r, tocaa, b), 12);
    ck_assert_uint_eq(b[1], 0x0A);
    ck_assert_uint_eq(b[6], 0xAA);
    static const uint8_t toc1[12] = { 0x43, 0, 1, 0, 0, 0, 0, 0, 0xFF };
    static const uint8_t w1[12] = { 0x00, 0x0A, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0 };
    ck_assert_uint_eq(cmd_in(r, toc1, b), 12);
    ck_assert_mem_eq(b, w1, 12);
    static const uint8_t toc2[12] = { 0x43, 2, 2, 0, 0, 0, 1, 0, 0xFF };
    static const uint8_t w2[48] = {
        0x00, 0x2E, 1, 1,
        1, 0x14, 0, 0xA0, 0, 0, 0, 0, 1, 0, 0,
        1, 0x14, 0, 0xA1, 0, 0, 0, 0, 1, 0, 0,
        1, 0x14, 0, 0xA2, 0, 0, 0, 0, 0, 6, 0,
        1, 0x14, 0, 0x01, 0, 0, 0, 0, 0, 2, 0 };
    ck_assert_uint_eq(cmd_in(r, toc2, b), 48);
    ck_assert_mem_eq(b, w2, 48);
    static const uint8_t toc0s[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 4 };   /* allocation 4 */
    ck_assert_uint_eq(cmd_in(r, toc0s, b), 4);
    static const uint8_t tocbad[12] = { 0x43, 0, 0, 0, 0, 0, 2, 0, 0xFF };
    packet(r, tocbad, 0xFFFE, 0);
    expect_check(r, SENSE_ILLEGAL_REQUEST, 0x24, 0);
    rig_free(r);
}
END_TEST

START_TEST(test_sense_and_errors)
{
    struct rig *r = rig_new();
    cd_attach(r, 0, N_SECT);
    uint8_t b[64];
    static const uint8_t unk[12] = { 0xFF };
    packet(r, unk, 0xFFFE, 0);
    ck_assert_int_eq(r->level, 1);
    expect_check(r, SENSE_ILLEGAL_REQUEST, 0x20, 0);
    /* sense is consumed: the next REQUEST SENSE says NO SENSE */
    static const uint8_t rs[12] = { 0x03, 0, 0, 0, 18 };
    ck_assert_uint_eq(cmd_in(r, rs, b), 18);
    ck_assert_uint_eq(b[2], 0);
    ck_assert_uint_eq(b[12], 0);
    /* a good command clears an unread sense */
    packet(r, unk, 0xFFFE, 0);
    static const uint8_t tur[12] = { 0x00 };
    run_ok(r, tur);
    ck_assert_uint_eq(cmd_in(r, rs, b), 18);
    ck_assert_uint_eq(b[2], 0);
    /* MODE SENSE with saved values: not supported */
    static const uint8_t ms[12] = { 0x5A, 0, 0xEA, 0, 0, 0, 0, 0, 64 };
    packet(r, ms, 0xFFFE, 0);
    expect_check(r, SENSE_ILLEGAL_REQUEST, 0x39, 0);
    /* GET EVENT STATUS must be polled */
    static const uint8_t gesn[12] = { 0x4A, 0, 0, 0, 0x10, 0, 0, 0, 8 };
    packet(r, gesn, 0xFFFE, 0);
    expect_check(r, SENSE_ILLEGAL_REQUEST, 0x24, 0);
    rig_free(r);
}
END_TEST

START_TEST(test_media_change)
{
    struct rig *r = rig_new();
    cd_attach(r, 0, N_SECT);
    uint8_t b[64];
    static const uint8_t tur[12] = { 0x00 };
    static const uint8_t gesn[12] = { 0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8 };
    static const uint8_t cap[12] = { 0x25 };
    ck_assert_uint_eq(cmd_in(r, gesn, b), 8);   /* nothing happened yet */
    static const uint8_t g0[8] = { 0, 6, 0x04, 0x10, 0, 0x02, 0, 0 };
    ck_assert_mem_eq(b, g0, 8);
    /* the disc is taken out */
    atapi_change_media(&r->ch.drive[0], NULL);
    ck_assert_uint_eq(cmd_in(r, gesn, b), 8);   /* GESN does not report UNIT ATTENTION */
    static const uint8_t g1[8] = { 0, 6, 0x04, 0x10, 3, 0x00, 0, 0 };
    ck_assert_mem_eq(b, g1, 8);
    packet(r, tur, 0xFFFE, 0);
    expect_check(r, SENSE_UNIT_ATTENTION, 0x28, 0);
    packet(r, tur, 0xFFFE, 0);                  /* once only; then NOT READY */
    expect_check(r, SENSE_NOT_READY, 0x3A, 0x01);
    packet(r, cap, 0xFFFE, 0);
    expect_check(r, SENSE_NOT_READY, 0x3A, 0x01);
    /* a new disc of 100 sectors */
    char path2[64];
    make_image(path2, 100 * 2048, 100 * 2048, 0);
    char err[256];
    struct blockdev *b2 = block_open_raw(path2, 1, err, sizeof(err));
    ck_assert_ptr_nonnull(b2);
    atapi_change_media(&r->ch.drive[0], b2);
    /* REQUEST SENSE reports the pending UNIT ATTENTION and clears it */
    static const uint8_t rs[12] = { 0x03, 0, 0, 0, 18 };
    ck_assert_uint_eq(cmd_in(r, rs, b), 18);
    ck_assert_uint_eq(b[2], SENSE_UNIT_ATTENTION);
    ck_assert_uint_eq(b[12], 0x28);
    run_ok(r, tur);
    ck_assert_uint_eq(cmd_in(r, gesn, b), 8);
    static const uint8_t g2[8] = { 0, 6, 0x04, 0x10, 2, 0x02, 0, 0 };
    ck_assert_mem_eq(b, g2, 8);
    ck_assert_uint_eq(cmd_in(r, gesn, b), 8);   /* reported once */
    ck_assert_uint_eq(b[4], 0);
    ck_assert_uint_eq(cmd_in(r, cap, b), 8);
    ck_assert_uint_eq(b[3], 99);
    /* without the media class requested: no event available */
    static const uint8_t gesn0[12] = { 0x4A, 1, 0, 0, 0x02, 0, 0, 0, 8 };
    ck_assert_uint_eq(cmd_in(r, gesn0, b), 4);
    static const uint8_t gn[4] = { 0, 2, 0x80, 0x10 };
    ck_assert_mem_eq(b, gn, 4);
    block_close(r->blk[0]);
    r->blk[0] = b2;
    unlink(path2);
    rig_free(r);
}
END_TEST

START_TEST(test_eject_lock_and_pages)
{
    struct rig *r = rig_new();
    cd_attach(r, 0, N_SECT);
    uint8_t b[128];
    static const uint8_t lock[12] = { 0x1E, 0, 0, 0, 1 };
    static const uint8_t unlock[12] = { 0x1E, 0, 0, 0, 0 };
    static const uint8_t eject[12] = { 0x1B, 0, 0, 0, 0x02 };
    static const uint8_t load[12] = { 0x1B, 0, 0, 0, 0x03 };
    static const uint8_t tur[12] = { 0x00 };
    static const uint8_t gesn[12] = { 0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8 };
    static const uint8_t mech[12] = { 0xBD, 0, 0, 0, 0, 0, 0, 0, 0, 8 };
    run_ok(r, lock);
    static const uint8_t ms2a[12] = { 0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 64 };
    ck_assert_uint_eq(cmd_in(r, ms2a, b), 30);
    static const uint8_t w2a[30] = {
        0, 28, 0x01, 0, 0, 0, 0, 0,
        0x2A, 0x14, 0x03, 0x00, 0x70, 0x00, 0x2B, 0x00, 0x0B, 0x00, 0, 0, 0x02, 0x00, 0x0B, 0x00,
        0, 0, 0, 0, 0, 0 };
    ck_assert_mem_eq(b, w2a, 30);
    packet(r, eject, 0xFFFE, 0);
    expect_check(r, SENSE_ILLEGAL_REQUEST, 0x53, 0x02);
    run_ok(r, unlock);
    run_ok(r, eject);
    packet(r, tur, 0xFFFE, 0);
    expect_check(r, SENSE_NOT_READY, 0x3A, 0x02);
    ck_assert_uint_eq(cmd_in(r, gesn, b), 8);
    ck_assert_uint_eq(b[4], 3);                 /* media removal */
    ck_assert_uint_eq(b[5], 0x01);              /* tray open, no medium */
    ck_assert_uint_eq(cmd_in(r, mech, b), 8);
    ck_assert_uint_eq(b[1], 0x10);
    run_ok(r, load);
    run_ok(r, tur);
    ck_assert_uint_eq(cmd_in(r, gesn, b), 8);
    ck_assert_uint_eq(b[4], 2);
    ck_assert_uint_eq(b[5], 0x02);
    ck_assert_uint_eq(cmd_in(r, mech, b), 8);
    ck_assert_uint_eq(b[1], 0x00);
    /* all pages; then the changeable values (none) */
    static const uint8_t ms3f[12] = { 0x5A, 0, 0x3F, 0, 0, 0, 0, 0, 128 };
    ck_assert_uint_eq(cmd_in(r, ms3f, b), 8 + 8 + 8 + 22);
    ck_assert_uint_eq(b[1], 44);
    static const uint8_t p01[8] = { 0x01, 0x06, 0x00, 0x05, 0, 0, 0, 0 };
    static const uint8_t p0d[8] = { 0x0D, 0x06, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x4B };
    ck_assert_mem_eq(b + 8, p01, 8);
    ck_assert_mem_eq(b + 16, p0d, 8);
    ck_assert_uint_eq(b[24], 0x2A);
    static const uint8_t msch[12] = { 0x5A, 0, 0x4D, 0, 0, 0, 0, 0, 128 };
    ck_assert_uint_eq(cmd_in(r, msch, b), 16);
    ck_assert_uint_eq(b[8], 0x0D);
    ck_assert_uint_eq(b[13], 0x00);
    static const uint8_t msbad[12] = { 0x5A, 0, 0x05, 0, 0, 0, 0, 0, 128 };
    packet(r, msbad, 0xFFFE, 0);
    expect_check(r, SENSE_ILLEGAL_REQUEST, 0x24, 0);
    /* GET CONFIGURATION: all features, then one */
    static const uint8_t gc[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 64 };
    static const uint8_t wgc[32] = {
        0, 0, 0, 28, 0, 0, 0x00, 0x08,
        0x00, 0x00, 0x03, 0x04, 0x00, 0x08, 0x01, 0x00,
        0x00, 0x01, 0x03, 0x04, 0x00, 0x00, 0x00, 0x02,
        0x00, 0x03, 0x03, 0x04, 0x29, 0x00, 0x00, 0x00 };
    ck_assert_uint_eq(cmd_in(r, gc, b), 32);
    ck_assert_mem_eq(b, wgc, 32);
    static const uint8_t gc1[12] = { 0x46, 2, 0, 1, 0, 0, 0, 0, 64 };
    ck_assert_uint_eq(cmd_in(r, gc1, b), 16);
    ck_assert_uint_eq(b[9], 0x01);
    /* READ DISC INFORMATION */
    static const uint8_t di[12] = { 0x51, 0, 0, 0, 0, 0, 0, 0, 64 };
    ck_assert_uint_eq(cmd_in(r, di, b), 34);
    static const uint8_t wdi[8] = { 0, 32, 0x0E, 1, 1, 1, 1, 0 };
    ck_assert_mem_eq(b, wdi, 8);
    ck_assert_uint_eq(b[16], 0xFF);
    /* SET CD SPEED, SEEK */
    static const uint8_t speed[12] = { 0xBB, 0, 0xFF, 0xFF, 0xFF, 0xFF };
    run_ok(r, speed);
    static const uint8_t seek[12] = { 0x2B, 0, 0, 0, 0, 10 };
    run_ok(r, seek);
    rig_free(r);
}
END_TEST

START_TEST(test_state_roundtrip)
{
    struct rig *a = rig_new();
    cd_attach(a, 0, N_SECT);
    static const uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 30, 0, 0, 3 };
    atapi_change_media(&a->ch.drive[0], a->blk[0]);   /* a UNIT ATTENTION pending */
    a->ch.drive[0].ua_pending = 0;                     /* ...consumed by hand */
    packet(a, rd, 2048, 0);
    ck_assert_uint_eq(inb(a, CMD + 7), 0x48);
    for (int i = 0; i < 300; i++)
        inw(a, CMD);
    struct rig *b = rig_new_at(vclock_now(&a->clk));
    char err[256];
    b->blk[0] = block_open_raw(a->path[0], 1, err, sizeof(err));
    ata_attach_cdrom(&b->ch, 0, b->blk[0]);
    roundtrip(a, b);
    ck_assert_uint_eq(b->ch.drive[0].media_event, 2);
    struct rig *rs[2] = { a, b };
    for (int k = 0; k < 2; k++) {
        struct rig *r = rs[k];
        static uint8_t buf[8192];
        for (int i = 300; i < 1024; i++) {
            uint16_t w = inw(r, CMD);
            ck_assert_uint_eq(w, cdpat(30, 2 * i) | cdpat(30, 2 * i + 1) << 8);
        }
        step(r, ATA_BLOCK_NS);
        int nb;
        ck_assert_uint_eq(pio_in(r, buf, &nb, NULL), 4096);
        ck_assert_int_eq(nb, 2);
        expect_cd_data(buf, 31, 4096);
        ck_assert_uint_eq(inb(r, CMD + 7), ST_DONE);
    }
    /* and a CHECK CONDITION's sense data */
    static const uint8_t unk[12] = { 0xEE };
    packet(a, unk, 0xFFFE, 0);
    struct rig *c = rig_new_at(vclock_now(&a->clk));
    c->blk[0] = block_open_raw(a->path[0], 1, err, sizeof(err));
    ata_attach_cdrom(&c->ch, 0, c->blk[0]);
    roundtrip(a, c);
    expect_check(c, SENSE_ILLEGAL_REQUEST, 0x20, 0);
    rig_free(c);
    rig_free(b);
    rig_free(a);
}
END_TEST

Suite *atapi_suite(void)
{
    Suite *s = suite_create("atapi");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_signature_identify);
    tcase_add_test(tc, test_inquiry_capacity);
    tcase_add_test(tc, test_read_pio);
    tcase_add_test(tc, test_read_dma);
    tcase_add_test(tc, test_read_toc);
    tcase_add_test(tc, test_sense_and_errors);
    tcase_add_test(tc, test_media_change);
    tcase_add_test(tc, test_eject_lock_and_pages);
    tcase_add_test(tc, test_state_roundtrip);
    suite_add_tcase(s, tc);
    return s;
}
