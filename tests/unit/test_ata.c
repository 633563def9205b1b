/* The IDE channel and the ATA disk through their ports on a stepped virtual
 * clock: signatures and soft reset, IDENTIFY words for a 64 MiB disk, PIO
 * reads and writes (single, multiple, 32-bit) with DRQ and INTRQ per block,
 * CHS/LBA28/LBA48 addressing, IDNF, UNC from a failing backend, read-only
 * disks, FLUSH, nIEN, diagnostics, and state round trips mid-command. */
#include "ide_rig.h"
#include <stdio.h>

#define MiB (1024ull * 1024)

static void wait_cmd(struct rig *r) { step(r, ATA_CMD_NS); }
static void wait_blk(struct rig *r) { step(r, ATA_BLOCK_NS); }

static void read_words(struct rig *r, uint16_t *w, int n)
{
    for (int i = 0; i < n; i++)
        w[i] = inw(r, CMD);
}

static void identify(struct rig *r, uint16_t *w)
{
    outb(r, CMD + 7, 0xEC);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x58);
    read_words(r, w, 256);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
}

/* Checks one sector of data read by PIO against the image pattern. */
static void expect_sector(struct rig *r, uint64_t lba, int unit)
{
    for (int i = 0; i < 256; i++) {
        uint64_t off = lba * 512 + 2 * (uint64_t)i;
        uint16_t want = (uint16_t)(pat(off, unit) | pat(off + 1, unit) << 8);
        uint16_t got = inw(r, CMD);
        if (got != want)
            ck_abort_msg("lba %llu word %d: %04x != %04x", (unsigned long long)lba, i, got, want);
    }
}

START_TEST(test_signatures_and_srst)
{
    struct rig *r = rig_new();
    /* no drive: the bus floats */
    ck_assert_uint_eq(inb(r, CMD + 7), 0xFF);
    ck_assert_uint_eq(inb(r, CTL), 0xFF);
    rig_disk(r, 0, MiB, MiB, 0);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    ck_assert_uint_eq(inb(r, CMD + 1), 0x01);
    ck_assert_uint_eq(inb(r, CMD + 2), 0x01);
    ck_assert_uint_eq(inb(r, CMD + 3), 0x01);
    ck_assert_uint_eq(inb(r, CMD + 4), 0x00);
    ck_assert_uint_eq(inb(r, CMD + 5), 0x00);
    ck_assert_uint_eq(inb(r, CMD + 6), 0x00);
    /* device 1 missing: device 0 answers 00h for its status */
    outb(r, CMD + 6, 0xB0);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x00);
    ck_assert_uint_eq(inb(r, CTL), 0x00);
    outb(r, CMD + 2, 0x55);                     /* the presence probe finds nothing */
    outb(r, CMD + 3, 0xAA);
    ck_assert_uint_eq(inb(r, CMD + 2), 0x00);
    ck_assert_uint_eq(inb(r, CMD + 3), 0x00);
    ck_assert_uint_eq(inb(r, CMD + 6), 0x00);
    outb(r, CMD + 7, 0xEC);                     /* ignored: nobody there */
    step(r, 10 * ATA_CMD_NS);
    ck_assert_int_eq(r->nrise, 0);
    /* the task file latches in both drives */
    outb(r, CMD + 6, 0xA0);
    ck_assert_uint_eq(inb(r, CMD + 2), 0x55);
    outb(r, CMD + 4, 0x5A);
    ck_assert_uint_eq(inb(r, CMD + 4), 0x5A);
    /* SRST: BSY while set and until the reset time has passed */
    outb(r, CTL, 0x04);
    ck_assert_uint_eq(inb(r, CTL), 0x80);
    step(r, 1000000);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x80);
    outb(r, CTL, 0x00);
    step(r, ATA_RESET_NS - 1);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x80);
    step(r, 1);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    ck_assert_uint_eq(inb(r, CMD + 4), 0x00);
    ck_assert_uint_eq(inb(r, CMD + 2), 0x01);
    ck_assert_uint_eq(inb(r, CMD + 1), 0x01);
    ck_assert_int_eq(r->nrise, 0);              /* SRST raises no interrupt */
    rig_free(r);
}
END_TEST

START_TEST(test_identify_64m)
{
    struct rig *r = rig_new();
    rig_disk(r, 0, 64 * MiB, 4096, 0);
    uint16_t w[256];
    outb(r, CMD + 6, 0xA0);
    outb(r, CMD + 7, 0xEC);
    ck_assert_uint_eq(inb(r, CTL), 0xD0);       /* BSY at once */
    step(r, ATA_CMD_NS - 1);
    ck_assert_int_eq(r->nrise, 0);
    step(r, 1);
    ck_assert_int_eq(r->nrise, 1);
    ck_assert_int_eq(r->level, 1);
    ck_assert_uint_eq(inb(r, CTL), 0x58);       /* alternate status keeps INTRQ */
    ck_assert_int_eq(r->level, 1);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x58);   /* status clears it */
    ck_assert_int_eq(r->level, 0);
    read_words(r, w, 256);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    ck_assert_int_eq(r->nrise, 1);              /* none after the only block */
    /* 131072 sectors: 130 cylinders of 16 heads x 63 sectors */
    ck_assert_uint_eq(w[0], 0x0040);
    ck_assert_uint_eq(w[1], 130);
    ck_assert_uint_eq(w[3], 16);
    ck_assert_uint_eq(w[6], 63);
    ck_assert_uint_eq(w[47], 0x8010);
    ck_assert_uint_eq(w[49], 0x0B00);
    ck_assert_uint_eq(w[53], 0x0007);
    ck_assert_uint_eq(w[54], 130);
    ck_assert_uint_eq(w[55], 16);
    ck_assert_uint_eq(w[56], 63);
    ck_assert_uint_eq(w[57], 0xFFE0);           /* 130*16*63 = 131040 = 0x1FFE0 */
    ck_assert_uint_eq(w[58], 0x0001);
    ck_assert_uint_eq(w[59], 0x0000);
    ck_assert_uint_eq(w[60], 0x0000);           /* 131072 = 0x20000 */
    ck_assert_uint_eq(w[61], 0x0002);
    ck_assert_uint_eq(w[63], 0x0407);           /* MWDMA0-2, MWDMA2 selected */
    ck_assert_uint_eq(w[64], 0x0003);
    ck_assert_uint_eq(w[80], 0x007E);
    ck_assert_uint_eq(w[82], 0x4060);
    ck_assert_uint_eq(w[83], 0x7400);
    ck_assert_uint_eq(w[85], 0x4060);
    ck_assert_uint_eq(w[86], 0x3400);
    ck_assert_uint_eq(w[88], 0x003F);
    ck_assert_uint_eq(w[93], 0x600B);
    ck_assert_uint_eq(w[100], 0x0000);
    ck_assert_uint_eq(w[101], 0x0002);
    ck_assert_uint_eq(w[102], 0);
    ck_assert_uint_eq(w[103], 0);
    /* strings: first character in the high byte, space padded */
    char model[41];
    for (int i = 0; i < 20; i++) {
        model[2 * i] = (char)(w[27 + i] >> 8);
        model[2 * i + 1] = (char)w[27 + i];
    }
    model[40] = 0;
    ck_assert_str_eq(model, "SOFTVISOR HARDDISK                      ");
    ck_assert_uint_eq(w[23], ('1' << 8) | '.');
    ck_assert_uint_eq(w[10], ('S' << 8) | 'V');
    /* integrity word: signature A5h and a zero byte sum */
    ck_assert_uint_eq(w[255] & 0xFF, 0xA5);
    uint8_t sum = 0;
    for (int i = 0; i < 256; i++)
        sum = (uint8_t)(sum + (w[i] & 0xFF) + (w[i] >> 8));
    ck_assert_uint_eq(sum, 0);
    rig_free(r);
}
END_TEST

START_TEST(test_chs_geometry)
{
    uint16_t c, h, s;
    ata_default_chs(64 * MiB / 512, &c, &h, &s);
    ck_assert_uint_eq(c, 130); ck_assert_uint_eq(h, 16); ck_assert_uint_eq(s, 63);
    ata_default_chs(200ull * 1024 * MiB / 512, &c, &h, &s);
    ck_assert_uint_eq(c, 16383); ck_assert_uint_eq(h, 16); ck_assert_uint_eq(s, 63);
    ata_default_chs(2048, &c, &h, &s);          /* 1 MiB: 2 cylinders of 16x63 */
    ck_assert_uint_eq(c, 2); ck_assert_uint_eq(h, 16); ck_assert_uint_eq(s, 63);
    ata_default_chs(200, &c, &h, &s);           /* tiny: 3 heads, 1 cylinder */
    ck_assert_uint_eq(c, 1); ck_assert_uint_eq(h, 3); ck_assert_uint_eq(s, 63);
}
END_TEST

START_TEST(test_pio_read_sectors)
{
    struct rig *r = rig_new();
    rig_disk(r, 0, MiB, MiB, 0);
    ata_cmd28(r, 0, 5, 3, 0x20);
    for (int b = 0; b < 3; b++) {
        ck_assert_uint_eq(inb(r, CTL) & 0x88, 0x80);   /* BSY, no DRQ */
        step(r, b ? ATA_BLOCK_NS : ATA_CMD_NS);
        ck_assert_int_eq(r->nrise, b + 1);             /* one interrupt per block */
        ck_assert_uint_eq(inb(r, CMD + 7), 0x58);
        expect_sector(r, 5 + (uint64_t)b, 0);
    }
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    step(r, 10 * ATA_CMD_NS);
    ck_assert_int_eq(r->nrise, 3);
    /* count 0 means 256 sectors; read them with 32-bit accesses */
    ata_cmd28(r, 0, 1000, 0, 0x20);
    for (int b = 0; b < 256; b++) {
        step(r, b ? ATA_BLOCK_NS : ATA_CMD_NS);
        ck_assert_uint_eq(inb(r, CMD + 7), 0x58);
        for (int i = 0; i < 128; i++) {
            uint64_t off = (1000 + (uint64_t)b) * 512 + 4 * (uint64_t)i;
            uint32_t want = pat(off, 0) | pat(off + 1, 0) << 8 | pat(off + 2, 0) << 16 |
                            (uint32_t)pat(off + 3, 0) << 24;
            ck_assert_uint_eq(inl(r, CMD), want);
        }
    }
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    ck_assert_int_eq(r->nrise, 3 + 256);
    rig_free(r);
}
END_TEST

START_TEST(test_pio_read_multiple)
{
    struct rig *r = rig_new();
    rig_disk(r, 0, MiB, MiB, 0);
    uint16_t w[256];
    ata_cmd28(r, 0, 0, 4, 0xC4);                /* multiple mode not set: abort */
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x51);
    ck_assert_uint_eq(inb(r, CMD + 1), ATA_ER_ABRT);
    outb(r, CMD + 2, 3);                        /* not a power of two */
    outb(r, CMD + 7, 0xC6);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x51);
    outb(r, CMD + 2, 32);                       /* above the maximum (16) */
    outb(r, CMD + 7, 0xC6);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x51);
    outb(r, CMD + 2, 4);
    outb(r, CMD + 7, 0xC6);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    identify(r, w);
    ck_assert_uint_eq(w[59], 0x0104);
    int irqs = r->nrise;
    ata_cmd28(r, 0, 40, 10, 0xC4);              /* blocks of 4, 4, 2 */
    static const int blocks[3] = { 4, 4, 2 };
    uint64_t lba = 40;
    for (int b = 0; b < 3; b++) {
        step(r, b ? ATA_BLOCK_NS : ATA_CMD_NS);
        ck_assert_int_eq(r->nrise, irqs + b + 1);
        ck_assert_uint_eq(inb(r, CMD + 7), 0x58);
        for (int s = 0; s < blocks[b]; s++)
            expect_sector(r, lba++, 0);
        ck_assert_uint_eq(inb(r, CTL) & 0x08, 0);
    }
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    rig_free(r);
}
END_TEST

static void write_sector_words(struct rig *r, uint8_t seed)
{
    for (int i = 0; i < 256; i++)
        outw(r, CMD, (uint16_t)(((seed + 2 * i) & 0xFF) | ((seed + 2 * i + 1) & 0xFF) << 8));
}

static void expect_file_sector(struct rig *r, uint64_t lba, uint8_t seed)
{
    uint8_t b[512];
    file_read(r->path[0], lba * 512, b, 512);
    for (int i = 0; i < 512; i++)
        ck_assert_uint_eq(b[i], (uint8_t)(seed + i));
}

START_TEST(test_pio_write)
{
    struct rig *r = rig_new();
    rig_disk(r, 0, MiB, MiB, 0);
    ata_cmd28(r, 0, 100, 2, 0x30);
    ck_assert_uint_eq(inb(r, CTL), 0x58);       /* first DRQ at once, no interrupt */
    ck_assert_int_eq(r->nrise, 0);
    write_sector_words(r, 0x11);
    ck_assert_uint_eq(inb(r, CTL) & 0x88, 0x80);
    wait_blk(r);
    ck_assert_int_eq(r->nrise, 1);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x58);   /* next block requested */
    expect_file_sector(r, 100, 0x11);
    write_sector_words(r, 0x22);
    wait_blk(r);
    ck_assert_int_eq(r->nrise, 2);              /* completion interrupt */
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    expect_file_sector(r, 101, 0x22);
    uint8_t b[512];
    file_read(r->path[0], 102 * 512, b, 512);   /* neighbour untouched */
    ck_assert_uint_eq(b[0], pat(102 * 512, 0));
    /* WRITE MULTIPLE, 2 sectors per block, 32-bit writes */
    outb(r, CMD + 2, 2);
    outb(r, CMD + 7, 0xC6);
    wait_cmd(r);
    inb(r, CMD + 7);
    int irqs = r->nrise;
    ata_cmd28(r, 0, 200, 4, 0xC5);
    for (int blk = 0; blk < 2; blk++) {
        ck_assert_uint_eq(inb(r, CMD + 7), 0x58);
        for (int i = 0; i < 256; i++) {
            uint8_t s = (uint8_t)(0x40 + blk * 0x40 + 4 * i);
            outl(r, CMD, s | (uint32_t)(uint8_t)(s + 1) << 8 | (uint32_t)(uint8_t)(s + 2) << 16 |
                         (uint32_t)(uint8_t)(s + 3) << 24);
        }
        wait_blk(r);
        ck_assert_int_eq(r->nrise, irqs + blk + 1);
    }
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    uint8_t big[2048];
    file_read(r->path[0], 200 * 512, big, 2048);
    for (int i = 0; i < 2048; i++)
        ck_assert_uint_eq(big[i], (uint8_t)(0x40 + (i / 1024) * 0x40 + i % 1024));
    rig_free(r);
}
END_TEST

/* LBA48 task file: high bytes first, then low bytes. */
static void ata_cmd48(struct rig *r, uint64_t lba, uint16_t count, uint8_t cmd)
{
    outb(r, CMD + 2, count >> 8); outb(r, CMD + 2, count);
    outb(r, CMD + 3, lba >> 24); outb(r, CMD + 3, lba);
    outb(r, CMD + 4, lba >> 32); outb(r, CMD + 4, lba >> 8);
    outb(r, CMD + 5, lba >> 40); outb(r, CMD + 5, lba >> 16);
    outb(r, CMD + 6, 0x40);
    outb(r, CMD + 7, cmd);
}

START_TEST(test_ext_pio_commands)
{
    struct rig *r = rig_new();
    rig_disk(r, 0, MiB, MiB, 0);
    outb(r, CMD + 2, 2);
    outb(r, CMD + 7, 0xC6);
    wait_cmd(r);
    inb(r, CMD + 7);
    /* WRITE SECTORS EXT, 1 sector per block */
    ata_cmd48(r, 300, 2, 0x34);
    for (int b = 0; b < 2; b++) {
        ck_assert_uint_eq(inb(r, CMD + 7), 0x58);
        write_sector_words(r, (uint8_t)(0x10 * (b + 1)));
        wait_blk(r);
    }
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    expect_file_sector(r, 300, 0x10);
    expect_file_sector(r, 301, 0x20);
    /* WRITE MULTIPLE EXT: 3 sectors in blocks of 2 and 1 */
    int irqs = r->nrise;
    ata_cmd48(r, 400, 3, 0x39);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x58);
    write_sector_words(r, 0x01);
    write_sector_words(r, 0x02);
    ck_assert_uint_eq(inb(r, CTL) & 0x88, 0x80);
    wait_blk(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x58);
    write_sector_words(r, 0x03);
    wait_blk(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    ck_assert_int_eq(r->nrise, irqs + 2);
    expect_file_sector(r, 400, 0x01);
    expect_file_sector(r, 402, 0x03);
    /* READ MULTIPLE EXT reads them back: blocks of 2 and 1 */
    ata_cmd48(r, 401, 2, 0x29);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x58);
    for (int i = 0; i < 512; i++) {
        uint16_t w = inw(r, CMD);
        if (i < 256)
            ck_assert_uint_eq(w, (uint16_t)(((0x02 + 2 * i) & 0xFF) | ((0x03 + 2 * i) & 0xFF) << 8));
        else
            ck_assert_uint_eq(w, (uint16_t)(((0x03 + 2 * (i - 256)) & 0xFF) | ((0x04 + 2 * (i - 256)) & 0xFF) << 8));
    }
    ck_assert_uint_eq(inb(r, CTL), 0x50);       /* both sectors in one block */
    /* READ VERIFY EXT with a 16-bit count */
    ata_cmd48(r, 0, 2048, 0x42);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    ata_cmd48(r, 0, 2049, 0x42);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x51);
    ck_assert_uint_eq(inb(r, CMD + 1), ATA_ER_IDNF);
    rig_free(r);
}
END_TEST

START_TEST(test_chs_and_init_params)
{
    struct rig *r = rig_new();
    rig_disk(r, 0, 64 * MiB, 2 * MiB, 0);
    /* cylinder 1, head 2, sector 3 of 16x63: LBA (1*16+2)*63+2 = 1136 */
    outb(r, CMD + 6, 0xA2);
    outb(r, CMD + 2, 1);
    outb(r, CMD + 3, 3);
    outb(r, CMD + 4, 1);
    outb(r, CMD + 5, 0);
    outb(r, CMD + 7, 0x20);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x58);
    expect_sector(r, 1136, 0);
    /* sector 0 does not exist */
    outb(r, CMD + 3, 0);
    outb(r, CMD + 7, 0x20);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x51);
    ck_assert_uint_eq(inb(r, CMD + 1), ATA_ER_IDNF);
    /* head 16 does not exist either */
    outb(r, CMD + 3, 1);
    outb(r, CMD + 6, 0xAF);
    outb(r, CMD + 7, 0x20);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x58);   /* head 15 is fine */
    for (int i = 0; i < 256; i++)
        inw(r, CMD);
    /* INITIALIZE DEVICE PARAMETERS: 4 heads, 32 sectors per track */
    outb(r, CMD + 6, 0xA3);
    outb(r, CMD + 2, 32);
    outb(r, CMD + 7, 0x91);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    uint16_t w[256];
    identify(r, w);
    ck_assert_uint_eq(w[54], 1024);             /* 131072 / (4*32) */
    ck_assert_uint_eq(w[55], 4);
    ck_assert_uint_eq(w[56], 32);
    ck_assert_uint_eq(w[57], 0);                /* 131072 = 0x20000 */
    ck_assert_uint_eq(w[58], 2);
    ck_assert_uint_eq(w[1], 130);               /* defaults unchanged */
    /* now c1 h2 s3 is (1*4+2)*32+2 = 194 */
    outb(r, CMD + 6, 0xA2);
    outb(r, CMD + 2, 1);
    outb(r, CMD + 3, 3);
    outb(r, CMD + 4, 1);
    outb(r, CMD + 5, 0);
    outb(r, CMD + 7, 0x20);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x58);
    expect_sector(r, 194, 0);
    rig_free(r);
}
END_TEST

START_TEST(test_lba48)
{
    struct rig *r = rig_new();
    uint64_t sectors = (1ull << 28) + 64;       /* just past LBA28 (sparse file) */
    rig_disk(r, 0, sectors * 512, 0, 0);
    uint64_t lba = 0x10000010ull;
    uint8_t sec[1024];
    for (int i = 0; i < 1024; i++)
        sec[i] = pat(lba * 512 + (uint64_t)i, 0);
    int fd = open(r->path[0], O_WRONLY);
    ck_assert_int_eq(pwrite(fd, sec, 1024, (off_t)(lba * 512)), 1024);
    close(fd);
    uint16_t w[256];
    identify(r, w);
    ck_assert_uint_eq(w[1], 16383);
    ck_assert_uint_eq(w[60], 0xFFFF);           /* LBA28 capacity saturates */
    ck_assert_uint_eq(w[61], 0x0FFF);
    ck_assert_uint_eq(w[100], 0x0040);
    ck_assert_uint_eq(w[101], 0x1000);
    ck_assert_uint_eq(w[102], 0);
    /* HOB: the previous value of each register reads back with HOB set */
    outb(r, CMD + 2, 0);                        /* count high */
    outb(r, CMD + 2, 2);                        /* count low */
    outb(r, CMD + 3, 0x10);                     /* LBA bits 31:24 */
    outb(r, CMD + 3, 0x10);                     /* LBA bits 7:0 */
    outb(r, CMD + 4, 0); outb(r, CMD + 4, 0);
    outb(r, CMD + 5, 0); outb(r, CMD + 5, 0);
    outb(r, CMD + 6, 0x40);
    outb(r, CTL, 0x80);
    ck_assert_uint_eq(inb(r, CMD + 2), 0x00);
    ck_assert_uint_eq(inb(r, CMD + 3), 0x10);
    outb(r, CTL, 0x00);
    ck_assert_uint_eq(inb(r, CMD + 2), 0x02);
    outb(r, CMD + 7, 0x24);                     /* READ SECTORS EXT */
    for (int b = 0; b < 2; b++) {
        step(r, b ? ATA_BLOCK_NS : ATA_CMD_NS);
        ck_assert_uint_eq(inb(r, CMD + 7), 0x58);
        expect_sector(r, lba + (uint64_t)b, 0);
    }
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    /* the last sector is fine, one past it is not */
    outb(r, CMD + 2, 0); outb(r, CMD + 2, 2);
    outb(r, CMD + 3, 0x10); outb(r, CMD + 3, 0x3F);
    outb(r, CMD + 7, 0x24);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x51);
    ck_assert_uint_eq(inb(r, CMD + 1), ATA_ER_IDNF);
    outb(r, CMD + 2, 0); outb(r, CMD + 2, 1);
    outb(r, CMD + 3, 0x10); outb(r, CMD + 3, 0x3F);
    outb(r, CMD + 7, 0x24);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x58);
    rig_free(r);
}
END_TEST

START_TEST(test_out_of_range_and_verify)
{
    struct rig *r = rig_new();
    rig_disk(r, 0, MiB, MiB, 0);                /* 2048 sectors */
    ata_cmd28(r, 0, 2047, 2, 0x20);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x51);
    ck_assert_uint_eq(inb(r, CMD + 1), ATA_ER_IDNF);
    ck_assert_int_eq(r->nrise, 1);
    ata_cmd28(r, 0, 2048, 1, 0x30);             /* writes too: no DRQ, error */
    ck_assert_uint_eq(inb(r, CTL) & 0x08, 0);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x51);
    ck_assert_uint_eq(inb(r, CMD + 1), ATA_ER_IDNF);
    ata_cmd28(r, 0, 2000, 48, 0x40);            /* READ VERIFY: no data */
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    ck_assert_uint_eq(inb(r, CMD + 1), 0);
    ck_assert_int_eq(r->nrise, 3);
    ata_cmd28(r, 0, 2000, 49, 0x40);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x51);
    ck_assert_uint_eq(inb(r, CMD + 1), ATA_ER_IDNF);
    ata_cmd28(r, 0, 0, 0, 0x10);                /* RECALIBRATE */
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    ata_cmd28(r, 0, 77, 0, 0x70);               /* SEEK */
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    rig_free(r);
}
END_TEST

START_TEST(test_readonly)
{
    struct rig *r = rig_new();
    rig_disk(r, 0, MiB, MiB, 1);
    ata_cmd28(r, 0, 10, 1, 0x30);
    ck_assert_uint_eq(inb(r, CTL) & 0x08, 0);   /* no DRQ: nothing to write */
    write_sector_words(r, 0x99);                /* ignored */
    wait_cmd(r);
    ck_assert_int_eq(r->nrise, 1);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x51);
    ck_assert_uint_eq(inb(r, CMD + 1), ATA_ER_ABRT);
    ata_cmd28(r, 0, 10, 1, 0xCA);               /* WRITE DMA */
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x51);
    ata_cmd28(r, 0, 10, 1, 0x34);               /* WRITE SECTORS EXT */
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x51);
    uint8_t b[512];
    file_read(r->path[0], 10 * 512, b, 512);
    for (int i = 0; i < 512; i++)
        ck_assert_uint_eq(b[i], pat(10 * 512 + (uint64_t)i, 0));
    ata_cmd28(r, 0, 10, 1, 0x20);               /* reads still work */
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x58);
    expect_sector(r, 10, 0);
    ata_cmd28(r, 0, 0, 0, 0xE7);                /* FLUSH of a read-only disk: fine */
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    rig_free(r);
}
END_TEST

/* A backend in memory that fails on request, to see UNC and write errors. */
struct fake_blk {
    struct blockdev b;
    uint8_t data[64 * 512];
    uint64_t bad_lba;
    int flushes, fail_flush;
};

static int fake_read(struct blockdev *b, uint64_t off, void *buf, size_t len)
{
    struct fake_blk *f = (struct fake_blk *)b;
    if (f->bad_lba * 512 >= off && f->bad_lba * 512 < off + len)
        return -1;
    memcpy(buf, f->data + off, len);
    return 0;
}

static int fake_write(struct blockdev *b, uint64_t off, const void *buf, size_t len)
{
    struct fake_blk *f = (struct fake_blk *)b;
    if (f->bad_lba * 512 >= off && f->bad_lba * 512 < off + len)
        return -1;
    memcpy(f->data + off, buf, len);
    return 0;
}

static int fake_flush(struct blockdev *b)
{
    struct fake_blk *f = (struct fake_blk *)b;
    f->flushes++;
    return f->fail_flush ? -1 : 0;
}

static void fake_close(struct blockdev *b) { (void)b; }

static const struct block_ops fake_ops = { fake_read, fake_write, fake_flush, fake_close };

START_TEST(test_io_errors_and_flush)
{
    struct rig *r = rig_new();
    static struct fake_blk f;
    memset(&f, 0, sizeof(f));
    f.b.ops = &fake_ops;
    f.b.size = sizeof(f.data);
    f.bad_lba = 7;
    ck_assert_int_eq(ata_attach_disk(&r->ch, 0, &f.b), 0);
    ata_cmd28(r, 0, 5, 4, 0x20);                /* sectors 5, 6 fine; 7 fails */
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x58);
    for (int i = 0; i < 256; i++) inw(r, CMD);
    wait_blk(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x58);
    for (int i = 0; i < 256; i++) inw(r, CMD);
    wait_blk(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x51);
    ck_assert_uint_eq(inb(r, CMD + 1), ATA_ER_UNC);
    ck_assert_uint_eq(inb(r, CMD + 3), 7);      /* the sector in error */
    ck_assert_int_eq(r->nrise, 3);
    ata_cmd28(r, 0, 6, 2, 0x40);                /* VERIFY finds it too */
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x51);
    ck_assert_uint_eq(inb(r, CMD + 1), ATA_ER_UNC);
    ata_cmd28(r, 0, 7, 1, 0x30);                /* a failing write */
    write_sector_words(r, 1);
    wait_blk(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x51);
    ck_assert_uint_eq(inb(r, CMD + 1), ATA_ER_ABRT);
    /* FLUSH reaches the backend; a failing flush aborts */
    outb(r, CMD + 7, 0xE7);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    ck_assert_int_eq(f.flushes, 1);
    outb(r, CMD + 7, 0xEA);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    ck_assert_int_eq(f.flushes, 2);
    f.fail_flush = 1;
    outb(r, CMD + 7, 0xE7);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x51);
    f.fail_flush = 0;
    /* write cache off: each write is flushed; IDENTIFY shows it */
    outb(r, CMD + 1, 0x82);
    outb(r, CMD + 7, 0xEF);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    uint16_t w[256];
    identify(r, w);
    ck_assert_uint_eq(w[85], 0x4040);
    int before = f.flushes;
    ata_cmd28(r, 0, 1, 1, 0x30);
    write_sector_words(r, 0x30);
    wait_blk(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    ck_assert_int_eq(f.flushes, before + 1);
    ck_assert_uint_eq(f.data[512 + 5], 0x35);
    rig_free(r);
}
END_TEST

START_TEST(test_nien)
{
    struct rig *r = rig_new();
    rig_disk(r, 0, MiB, MiB, 0);
    outb(r, CTL, 0x02);                         /* nIEN */
    outb(r, CMD + 7, 0xEC);
    wait_cmd(r);
    ck_assert_int_eq(r->nrise, 0);
    ck_assert_uint_eq(inb(r, CTL), 0x58);
    outb(r, CTL, 0x00);                         /* pending interrupt shows now */
    ck_assert_int_eq(r->nrise, 1);
    ck_assert_int_eq(r->level, 1);
    outb(r, CTL, 0x02);                         /* and hides again */
    ck_assert_int_eq(r->level, 0);
    outb(r, CTL, 0x00);
    ck_assert_int_eq(r->level, 1);
    inb(r, CMD + 7);
    ck_assert_int_eq(r->level, 0);
    /* a new command clears a pending interrupt */
    outb(r, CMD + 7, 0xE5);
    wait_cmd(r);
    ck_assert_int_eq(r->level, 1);
    outb(r, CMD + 7, 0xE5);
    ck_assert_int_eq(r->level, 0);
    rig_free(r);
}
END_TEST

START_TEST(test_misc_commands)
{
    struct rig *r = rig_new();
    rig_disk(r, 0, MiB, MiB, 0);
    uint16_t w[256];
    outb(r, CMD + 1, 0x03);                     /* UDMA5 */
    outb(r, CMD + 2, 0x45);
    outb(r, CMD + 7, 0xEF);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    identify(r, w);
    ck_assert_uint_eq(w[63], 0x0007);
    ck_assert_uint_eq(w[88], 0x203F);
    outb(r, CMD + 1, 0x03);
    outb(r, CMD + 2, 0x46);                     /* no UDMA6 */
    outb(r, CMD + 7, 0xEF);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x51);
    ck_assert_uint_eq(inb(r, CMD + 1), ATA_ER_ABRT);
    outb(r, CMD + 1, 0x77);                     /* unknown subcommand */
    outb(r, CMD + 7, 0xEF);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x51);
    static const uint8_t bad[] = { 0x00, 0xA0, 0xA1, 0xFF, 0xB0 };
    for (size_t i = 0; i < sizeof(bad); i++) {
        outb(r, CMD + 7, bad[i]);
        wait_cmd(r);
        ck_assert_uint_eq(inb(r, CMD + 7), 0x51);
        ck_assert_uint_eq(inb(r, CMD + 1), ATA_ER_ABRT);
        ck_assert_uint_eq(inb(r, CMD + 4), 0);  /* a disk shows no packet signature */
    }
    outb(r, CMD + 2, 0);
    outb(r, CMD + 7, 0xE5);                     /* CHECK POWER MODE: active */
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    ck_assert_uint_eq(inb(r, CMD + 2), 0xFF);
    /* EXECUTE DEVICE DIAGNOSTIC: signature, code 01h, an interrupt */
    outb(r, CMD + 4, 0x33);
    int irqs = r->nrise;
    outb(r, CMD + 7, 0x90);
    ck_assert_uint_eq(inb(r, CTL), 0x80);
    wait_cmd(r);
    ck_assert_int_eq(r->nrise, irqs + 1);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    ck_assert_uint_eq(inb(r, CMD + 1), 0x01);
    ck_assert_uint_eq(inb(r, CMD + 4), 0x00);
    ck_assert_uint_eq(inb(r, CMD + 2), 0x01);
    /* a command while BSY is ignored */
    ata_cmd28(r, 0, 0, 1, 0x20);
    outb(r, CMD + 7, 0xEC);
    wait_cmd(r);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x58);
    expect_sector(r, 0, 0);
    rig_free(r);
}
END_TEST

/* A second rig with the same image reopened, at the same virtual time. */
static struct rig *rig_twin(struct rig *a)
{
    struct rig *b = rig_new_at(vclock_now(&a->clk));
    for (int u = 0; u < 2; u++) {
        if (a->ch.drive[u].kind == ATA_KIND_NONE)
            continue;
        char err[256];
        b->blk[u] = block_open_raw(a->path[u], 0, err, sizeof(err));
        ck_assert_ptr_nonnull(b->blk[u]);
        if (a->ch.drive[u].kind == ATA_KIND_DISK)
            ata_attach_disk(&b->ch, u, b->blk[u]);
        else
            ata_attach_cdrom(&b->ch, u, b->blk[u]);
    }
    return b;
}

START_TEST(test_state_roundtrip)
{
    struct rig *a = rig_new();
    rig_disk(a, 0, MiB, MiB, 0);
    rig_disk(a, 1, MiB, MiB, 0);
    outb(a, CMD + 6, 0xB0);
    outb(a, CMD + 2, 4);
    outb(a, CMD + 7, 0xC6);
    wait_cmd(a);
    ata_cmd28(a, 1, 300, 12, 0xC4);             /* 3 blocks of 4 from unit 1 */
    wait_cmd(a);
    for (int i = 0; i < 700; i++)               /* part way into the first block */
        inw(a, CMD);
    struct rig *b = rig_twin(a);
    roundtrip(a, b);
    ck_assert_int_eq(b->level, 1);              /* INTRQ recomputed on load */
    ck_assert_uint_eq(inb(b, CMD + 7), 0x58);
    ck_assert_uint_eq(inb(a, CMD + 7), 0x58);
    struct rig *rs[2] = { a, b };
    for (int k = 0; k < 2; k++) {
        struct rig *r = rs[k];
        for (int i = 700; i < 1024; i++) {
            uint64_t off = 300 * 512 + 2 * (uint64_t)i;
            ck_assert_uint_eq(inw(r, CMD), (uint16_t)(pat(off, 1) | pat(off + 1, 1) << 8));
        }
        ck_assert_uint_eq(inb(r, CTL), 0xD0);
    }
    /* busy with a timer pending: the deadline survives the trip */
    struct rig *c = rig_twin(a);
    roundtrip(a, c);
    ck_assert_uint_eq(c->ch.drive[1].deadline, a->ch.drive[1].deadline);
    step(c, ATA_BLOCK_NS - 1);
    ck_assert_uint_eq(inb(c, CTL), 0xD0);
    step(c, 1);
    ck_assert_uint_eq(inb(c, CMD + 7), 0x58);
    for (int i = 0; i < 1024; i++) {
        uint64_t off = 304 * 512 + 2 * (uint64_t)i;
        ck_assert_uint_eq(inw(c, CMD), (uint16_t)(pat(off, 1) | pat(off + 1, 1) << 8));
    }
    /* and a PIO write half done (after a soft reset ends the read) */
    outb(a, CTL, 0x04);
    outb(a, CTL, 0x00);
    step(a, ATA_RESET_NS);
    ata_cmd28(a, 1, 50, 1, 0x30);
    for (int i = 0; i < 100; i++)
        outw(a, CMD, 0x0101 * (uint16_t)i);
    struct rig *d = rig_twin(a);
    roundtrip(a, d);
    for (int i = 100; i < 256; i++)
        outw(d, CMD, 0x0101 * (uint16_t)i);
    step(d, ATA_BLOCK_NS);
    ck_assert_uint_eq(inb(d, CMD + 7), 0x50);
    uint8_t buf[512];
    file_read(a->path[1], 50 * 512, buf, 512);
    for (int i = 0; i < 512; i++)
        ck_assert_uint_eq(buf[i], (uint8_t)(i / 2));
    rig_free(b); rig_free(c); rig_free(d);
    rig_free(a);
}
END_TEST

Suite *ata_suite(void)
{
    Suite *s = suite_create("ata");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_signatures_and_srst);
    tcase_add_test(tc, test_identify_64m);
    tcase_add_test(tc, test_chs_geometry);
    tcase_add_test(tc, test_pio_read_sectors);
    tcase_add_test(tc, test_pio_read_multiple);
    tcase_add_test(tc, test_pio_write);
    tcase_add_test(tc, test_ext_pio_commands);
    tcase_add_test(tc, test_chs_and_init_params);
    tcase_add_test(tc, test_lba48);
    tcase_add_test(tc, test_out_of_range_and_verify);
    tcase_add_test(tc, test_readonly);
    tcase_add_test(tc, test_io_errors_and_flush);
    tcase_add_test(tc, test_nien);
    tcase_add_test(tc, test_misc_commands);
    tcase_add_test(tc, test_state_roundtrip);
    suite_add_tcase(s, tc);
    return s;
}
