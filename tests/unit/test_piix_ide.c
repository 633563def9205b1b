/* The PIIX3 IDE function: PCI configuration (identity, class, command mask,
 * IDETIM, BAR4 sizing and decoding), the bus-master registers, and DMA
 * through PRD tables into RAM (several regions, 64 KiB regions, a region
 * crossing 64 KiB, EOT, tables larger and smaller than the transfer), the
 * interrupt bit, read-only disks, and state round trips mid-transfer. */
#include "ide_rig.h"

#define MiB (1024ull * 1024)
#define DEVFN 0x09

static uint32_t cfg(struct rig *r, uint32_t off, int size) { return pci_config_read(&r->pci, DEVFN, off, size); }

static void prd(struct rig *r, uint32_t at, uint32_t addr, uint32_t count, int eot)
{
    phys_write(&r->pm, at, addr, 4);
    phys_write(&r->pm, at + 4, (count & 0xFFFF) | (eot ? PRD_EOT : 0), 4);
}

START_TEST(test_pci_config)
{
    struct rig *r = rig_new();
    ck_assert_uint_eq(cfg(r, 0x00, 4), 0x70108086);
    ck_assert_uint_eq(cfg(r, 0x08, 4), 0x01018000);     /* class 0101h, prog-if 80h, rev 0 */
    ck_assert_uint_eq(cfg(r, PCI_HEADER_TYPE, 1), 0x00);
    ck_assert_uint_eq(cfg(r, PCI_STATUS, 2), 0x0280);
    ck_assert_uint_eq(cfg(r, PCI_COMMAND, 2), 0x0005);  /* as the rig set it */
    pci_config_write(&r->pci, DEVFN, PCI_COMMAND, 0xFFFF, 2);
    ck_assert_uint_eq(cfg(r, PCI_COMMAND, 2), 0x0005);  /* only I/O and bus master */
    ck_assert_uint_eq(cfg(r, PCI_INT_PIN, 1), 0);       /* legacy IRQ14/15, no INTx */
    /* BAR4: 16 I/O ports; the other BARs are not implemented */
    ck_assert_uint_eq(cfg(r, 0x20, 4), BMB | 1);
    pci_config_write(&r->pci, DEVFN, 0x20, 0xFFFFFFFF, 4);
    ck_assert_uint_eq(cfg(r, 0x20, 4), 0xFFFFFFF1);
    pci_config_write(&r->pci, DEVFN, 0x10, 0xFFFFFFFF, 4);
    ck_assert_uint_eq(cfg(r, 0x10, 4), 0);
    pci_config_write(&r->pci, DEVFN, 0x20, 0xD000, 4);
    /* IDETIM and SIDETIM are plain registers */
    ck_assert_uint_eq(cfg(r, 0x40, 4), 0);
    pci_config_write(&r->pci, DEVFN, 0x40, 0x8000A307, 4);
    pci_config_write(&r->pci, DEVFN, 0x44, 0x5A, 1);
    ck_assert_uint_eq(cfg(r, 0x40, 4), 0x8000A307);
    ck_assert_uint_eq(cfg(r, 0x44, 1), 0x5A);
    /* the BAR decodes where it is put, and only with I/O enabled */
    outb(r, 0xD004, 0x44);
    ck_assert_uint_eq(inb(r, 0xD004), 0x44);
    ck_assert_uint_eq(inb(r, BMB + 4), 0xFF);
    pci_config_write(&r->pci, DEVFN, PCI_COMMAND, 0x0004, 2);
    ck_assert_uint_eq(inb(r, 0xD004), 0xFF);
    pci_config_write(&r->pci, DEVFN, PCI_COMMAND, 0x0005, 2);
    ck_assert_uint_eq(inb(r, 0xD004), 0x44);
    /* reset: registers back to power-on values, BAR unmapped */
    piix_ide_reset(&r->ide);
    ck_assert_uint_eq(cfg(r, PCI_COMMAND, 2), 0);
    ck_assert_uint_eq(cfg(r, 0x40, 4), 0);
    ck_assert_uint_eq(cfg(r, 0x20, 4), 1);
    ck_assert_uint_eq(inb(r, 0xD004), 0xFF);
    rig_free(r);
}
END_TEST

START_TEST(test_bm_registers)
{
    struct rig *r = rig_new();
    outb(r, BMB + 0, 0xF6);
    ck_assert_uint_eq(inb(r, BMB + 0), 0x00);           /* only bits 0 and 3 */
    outb(r, BMB + 0, 0x08);
    ck_assert_uint_eq(inb(r, BMB + 0), 0x08);
    ck_assert_uint_eq(inb(r, BMB + 2), 0x00);
    outb(r, BMB + 2, 0xFF);                             /* capability bits stick */
    ck_assert_uint_eq(inb(r, BMB + 2), 0x60);
    outb(r, BMB + 2, 0x20);
    ck_assert_uint_eq(inb(r, BMB + 2), 0x20);
    outl(r, BMB + 4, 0x12345677);                       /* dword aligned */
    ck_assert_uint_eq(inl(r, BMB + 4), 0x12345674);
    outb(r, BMB + 5, 0xAB);
    ck_assert_uint_eq(inl(r, BMB + 4), 0x1234AB74);
    outw(r, BMB + 6, 0x0001);
    ck_assert_uint_eq(inl(r, BMB + 4), 0x0001AB74);
    /* the secondary channel's registers are separate */
    ck_assert_uint_eq(inl(r, BMB + 12), 0);
    outl(r, BMB + 12, 0x2000);
    outb(r, BMB + 8, 0x09);                             /* start: active (no drive) */
    ck_assert_uint_eq(inb(r, BMB + 10), 0x01);
    outb(r, BMB + 8, 0x00);
    ck_assert_uint_eq(inb(r, BMB + 10), 0x00);
    ck_assert_uint_eq(inl(r, BMB + 4), 0x0001AB74);
    ck_assert_uint_eq(inl(r, BMB + 0), 0x00200008);     /* cmd, 0, status, 0 */
    ck_assert_uint_eq(inb(r, BMB + 1), 0);
    rig_free(r);
}
END_TEST

static void expect_mem(struct rig *r, uint32_t addr, uint64_t disk_off, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        if (r->pm.ram[addr + i] != pat(disk_off + i, 0))
            ck_abort_msg("mem %x: %02x != %02x", addr + i, r->pm.ram[addr + i], pat(disk_off + i, 0));
}

START_TEST(test_dma_read_prd_table)
{
    struct rig *r = rig_new();
    rig_disk(r, 0, 4 * MiB, 4 * MiB, 0);
    /* 160 sectors into three regions: 64 KiB (count 0), 4 KiB across the
     * 0x50000 boundary, 12 KiB with EOT */
    prd(r, 0x1000, 0x30000, 0, 0);
    prd(r, 0x1008, 0x4F800, 0x1000, 0);
    prd(r, 0x1010, 0x60000, 0x3000, 1);
    r->pm.ram[0x63000] = 0xEE;                          /* just past the table's end */
    outl(r, BMB + 4, 0x1000);
    outb(r, BMB + 0, 0x08);                             /* device to memory */
    ata_cmd28(r, 0, 10, 160, 0xC8);
    step(r, ATA_CMD_NS);                                /* drive ready, bus master not */
    ck_assert_int_eq(r->nrise, 0);
    ck_assert_uint_eq(inb(r, CTL), 0x58);
    outb(r, BMB + 0, 0x09);                             /* start */
    ck_assert_uint_eq(inb(r, BMB + 2), 0x01);
    step(r, ATA_BLOCK_NS);
    ck_assert_int_eq(r->nrise, 1);
    ck_assert_uint_eq(inb(r, BMB + 2), 0x04);           /* table used up: inactive, interrupt */
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    ck_assert_int_eq(r->level, 0);
    ck_assert_uint_eq(inb(r, BMB + 2), 0x04);           /* status read leaves IDEINTS */
    expect_mem(r, 0x30000, 10 * 512, 0x10000);
    expect_mem(r, 0x4F800, 10 * 512 + 0x10000, 0x1000);
    expect_mem(r, 0x60000, 10 * 512 + 0x11000, 0x3000);
    ck_assert_uint_eq(r->pm.ram[0x63000], 0xEE);
    ck_assert_uint_eq(r->pm.ram[0x4F7FF], 0);
    outb(r, BMB + 0, 0x08);                             /* stop */
    outb(r, BMB + 2, 0x04);                             /* clear the interrupt bit */
    ck_assert_uint_eq(inb(r, BMB + 2), 0x00);
    /* bus master started first, READ DMA EXT, one region larger than needed */
    memset(r->pm.ram + 0x20000, 0, 0x10000);
    prd(r, 0x1000, 0x20000, 0x2000, 1);
    outb(r, BMB + 0, 0x09);
    outb(r, CMD + 6, 0x40);
    outb(r, CMD + 2, 0); outb(r, CMD + 2, 3);
    outb(r, CMD + 3, 0); outb(r, CMD + 3, 7);
    outb(r, CMD + 4, 0); outb(r, CMD + 4, 0);
    outb(r, CMD + 5, 0); outb(r, CMD + 5, 0);
    outb(r, CMD + 7, 0x25);
    step(r, ATA_CMD_NS);
    ck_assert_uint_eq(inb(r, BMB + 2), 0x05);           /* still active: table longer */
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    expect_mem(r, 0x20000, 7 * 512, 3 * 512);
    ck_assert_uint_eq(r->pm.ram[0x20000 + 3 * 512], 0);
    outb(r, BMB + 0, 0x08);
    ck_assert_uint_eq(inb(r, BMB + 2), 0x04);
    rig_free(r);
}
END_TEST

START_TEST(test_dma_short_table_and_master_enable)
{
    struct rig *r = rig_new();
    rig_disk(r, 0, MiB, MiB, 0);
    prd(r, 0x1000, 0x20000, 0x400, 1);                  /* 2 sectors for 4 */
    outl(r, BMB + 4, 0x1000);
    outb(r, BMB + 0, 0x09);
    ata_cmd28(r, 0, 0, 4, 0xC8);
    step(r, 10 * ATA_CMD_NS);
    ck_assert_uint_eq(inb(r, BMB + 2), 0x00);           /* inactive, no interrupt: an error */
    ck_assert_uint_eq(inb(r, CMD + 7), 0x58);           /* drive still wants to transfer */
    ck_assert_int_eq(r->nrise, 0);
    outb(r, BMB + 0, 0x08);
    outb(r, CTL, 0x04);                                 /* the host resets */
    outb(r, CTL, 0x00);
    step(r, ATA_RESET_NS);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    /* without PCI bus mastering the transfer waits */
    pci_config_write(&r->pci, DEVFN, PCI_COMMAND, PCI_CMD_IO, 2);
    prd(r, 0x1000, 0x20000, 0x800, 1);
    outb(r, BMB + 0, 0x09);
    ata_cmd28(r, 0, 0, 4, 0xC8);
    step(r, 10 * ATA_CMD_NS);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x58);
    ck_assert_uint_eq(inb(r, BMB + 2), 0x01);
    pci_config_write(&r->pci, DEVFN, PCI_COMMAND, PCI_CMD_IO | PCI_CMD_MASTER, 2);
    outb(r, BMB + 0, 0x08);                             /* restart from the table top */
    outb(r, BMB + 0, 0x09);
    step(r, ATA_BLOCK_NS);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    ck_assert_uint_eq(inb(r, BMB + 2), 0x04);
    expect_mem(r, 0x20000, 0, 0x800);
    /* a bus master set for the wrong direction moves nothing */
    outb(r, BMB + 0, 0x00);
    outb(r, BMB + 2, 0x04);
    outb(r, BMB + 0, 0x01);                             /* memory to device */
    ata_cmd28(r, 0, 0, 1, 0xC8);
    step(r, ATA_CMD_NS);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x58);
    ck_assert_uint_eq(inb(r, BMB + 2), 0x01);
    rig_free(r);
}
END_TEST

START_TEST(test_dma_write)
{
    struct rig *r = rig_new();
    rig_disk(r, 0, MiB, MiB, 0);
    for (int i = 0; i < 4096; i++)
        r->pm.ram[0x40000 + i] = (uint8_t)(i * 3 + 1);
    prd(r, 0x2000, 0x40000, 0x0C00, 0);
    prd(r, 0x2008, 0x40C00, 0x0400, 1);
    outl(r, BMB + 4, 0x2000);
    outb(r, BMB + 0, 0x00);                             /* memory to device */
    ata_cmd28(r, 0, 200, 8, 0xCA);
    outb(r, BMB + 0, 0x01);
    step(r, ATA_CMD_NS);
    ck_assert_int_eq(r->nrise, 1);
    ck_assert_uint_eq(inb(r, BMB + 2), 0x04);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    uint8_t b[4608];
    file_read(r->path[0], 200 * 512, b, sizeof(b));
    for (int i = 0; i < 4096; i++)
        ck_assert_uint_eq(b[i], (uint8_t)(i * 3 + 1));
    ck_assert_uint_eq(b[4096], pat(208 * 512, 0));
    /* WRITE DMA EXT of one sector */
    outb(r, BMB + 0, 0x00);
    outb(r, BMB + 2, 0x04);
    prd(r, 0x2000, 0x40200, 0x200, 1);
    outb(r, BMB + 0, 0x01);
    outb(r, CMD + 2, 0); outb(r, CMD + 2, 1);
    outb(r, CMD + 3, 0); outb(r, CMD + 3, 0x10);
    outb(r, CMD + 4, 0); outb(r, CMD + 4, 0x01);
    outb(r, CMD + 5, 0); outb(r, CMD + 5, 0);
    outb(r, CMD + 6, 0x40);
    outb(r, CMD + 7, 0x35);
    step(r, ATA_CMD_NS);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x50);
    file_read(r->path[0], 0x110 * 512, b, 512);
    ck_assert_mem_eq(b, r->pm.ram + 0x40200, 512);
    rig_free(r);
}
END_TEST

START_TEST(test_dma_readonly_and_nien)
{
    struct rig *r = rig_new();
    rig_disk(r, 0, MiB, MiB, 1);
    memset(r->pm.ram + 0x40000, 0x77, 512);
    prd(r, 0x2000, 0x40000, 0x200, 1);
    outl(r, BMB + 4, 0x2000);
    outb(r, BMB + 0, 0x01);
    ata_cmd28(r, 0, 3, 1, 0xCA);
    step(r, ATA_CMD_NS);
    ck_assert_uint_eq(inb(r, CMD + 7), 0x51);
    ck_assert_uint_eq(inb(r, CMD + 1), ATA_ER_ABRT);
    ck_assert_uint_eq(inb(r, BMB + 2), 0x05);           /* interrupt; nothing moved */
    uint8_t b[512];
    file_read(r->path[0], 3 * 512, b, 512);
    ck_assert_uint_eq(b[0], pat(3 * 512, 0));
    /* with nIEN the line stays low, so IDEINTS is not set either */
    outb(r, BMB + 0, 0x08);
    outb(r, BMB + 2, 0x04);
    outb(r, CTL, 0x02);
    prd(r, 0x2000, 0x40000, 0x200, 1);
    outb(r, BMB + 0, 0x09);
    ata_cmd28(r, 0, 3, 1, 0xC8);
    step(r, ATA_CMD_NS);
    ck_assert_uint_eq(inb(r, CTL), 0x50);
    ck_assert_uint_eq(inb(r, BMB + 2), 0x00);
    expect_mem(r, 0x40000, 3 * 512, 512);
    rig_free(r);
}
END_TEST

START_TEST(test_state_roundtrip)
{
    struct rig *a = rig_new();
    rig_disk(a, 0, MiB, MiB, 0);
    prd(a, 0x1000, 0x30000, 0x1000, 0);
    prd(a, 0x1008, 0x50000, 0x1000, 1);
    outl(a, BMB + 4, 0x1000);
    outb(a, BMB + 2, 0x60);
    outb(a, BMB + 0, 0x09);
    ata_cmd28(a, 0, 20, 16, 0xC8);                      /* transfer pending on the timer */
    struct rig *b = rig_new_at(vclock_now(&a->clk));
    char err[256];
    b->blk[0] = block_open_raw(a->path[0], 0, err, sizeof(err));
    ata_attach_disk(&b->ch, 0, b->blk[0]);
    memcpy(b->pm.ram, a->pm.ram, 0x2000);               /* RAM is saved by the machine */
    roundtrip(a, b);
    ck_assert_uint_eq(inb(b, BMB + 2), 0x61);
    ck_assert_uint_eq(inl(b, BMB + 4), 0x1000);
    step(b, ATA_CMD_NS);
    ck_assert_uint_eq(inb(b, BMB + 2), 0x64);
    ck_assert_uint_eq(inb(b, CMD + 7), 0x50);
    expect_mem(b, 0x30000, 20 * 512, 0x1000);
    expect_mem(b, 0x50000, 20 * 512 + 0x1000, 0x1000);
    /* the interrupt edge state survives: a's line is high; a copy must not see a new edge */
    step(a, ATA_CMD_NS);
    outb(a, BMB + 2, 0x64);                             /* clear IDEINTS, keep the capability bits; line still high */
    struct rig *c = rig_new_at(vclock_now(&a->clk));
    c->blk[0] = block_open_raw(a->path[0], 0, err, sizeof(err));
    ata_attach_disk(&c->ch, 0, c->blk[0]);
    roundtrip(a, c);
    ck_assert_int_eq(c->level, 1);
    ck_assert_uint_eq(inb(c, BMB + 2), 0x60);
    rig_free(c);
    rig_free(b);
    rig_free(a);
}
END_TEST

Suite *piix_ide_suite(void)
{
    Suite *s = suite_create("piix_ide");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_pci_config);
    tcase_add_test(tc, test_bm_registers);
    tcase_add_test(tc, test_dma_read_prd_table);
    tcase_add_test(tc, test_dma_short_table_and_master_enable);
    tcase_add_test(tc, test_dma_write);
    tcase_add_test(tc, test_dma_readonly_and_nien);
    tcase_add_test(tc, test_state_roundtrip);
    suite_add_tcase(s, tc);
    return s;
}
