/* Intel 82371SB PIIX3 function 1, the PCI IDE controller (datasheet 290550,
 * sec. 2.3 (configuration: IDETIM 40h-43h, SIDETIM 44h) and 2.7 (BMICOM,
 * BMISTA, BMIDTP); descriptor format after SFF-8038i). Not modelled: native
 * PCI mode, timing registers' effect, PCI master/target aborts (the error bit
 * is never set), IDETIM decode enable (the board maps the legacy ports). A
 * region that crosses 64 KiB is transferred linearly (hardware forbids it). */
#include "devices/piix_ide.h"
#include "mmu/physmem.h"
#include <string.h>

#define BM_FIELDS(i) \
    STATE_U8(struct piix_ide, bm[i].cmd), STATE_U8(struct piix_ide, bm[i].status), \
    STATE_U32(struct piix_ide, bm[i].prd_table), STATE_U32(struct piix_ide, bm[i].prd_next), \
    STATE_U32(struct piix_ide, bm[i].cur_addr), STATE_U32(struct piix_ide, bm[i].cur_left), \
    STATE_U8(struct piix_ide, bm[i].cur_eot), STATE_U8(struct piix_ide, bm[i].intrq)

static const struct state_field piix_ide_fields[] = {
    STATE_U8_ARRAY(struct piix_ide, pci.config, 256),
    BM_FIELDS(0),
    BM_FIELDS(1),
    STATE_END
};

static int bm_can_master(const struct piix_ide_bm *bm)
{
    return (pci_get16(&bm->ide->pci, PCI_COMMAND) & PCI_CMD_MASTER) != 0;
}

static int bm_active(void *opaque)
{
    struct piix_ide_bm *bm = opaque;
    return (bm->cmd & BM_CMD_START) && (bm->status & BM_ST_ACTIVE) && bm_can_master(bm);
}

/* Fetches the next physical region descriptor. */
static void bm_fetch_prd(struct piix_ide_bm *bm)
{
    uint8_t prd[8];
    phys_read_block(bm->ide->pm, bm->prd_next, prd, 8);
    bm->prd_next += 8;
    bm->cur_addr = get_le32(prd) & ~1u;
    bm->cur_left = get_le16(prd + 4) & 0xFFFE;
    if (!bm->cur_left)
        bm->cur_left = 0x10000;
    bm->cur_eot = (get_le32(prd + 4) & PRD_EOT) != 0;
}

/* Moves data for the drive through the PRD table. Active clears when the
 * last region (EOT) is used up; a drive wanting more then gets nothing. */
static uint32_t bm_rw(void *opaque, uint8_t *buf, uint32_t len, int to_memory)
{
    struct piix_ide_bm *bm = opaque;
    uint32_t done = 0;
    if (!bm_active(bm) || !(bm->cmd & BM_CMD_WRITE) != !to_memory)
        return 0;
    while (done < len) {
        if (!bm->cur_left) {
            if (bm->cur_eot) {
                bm->status &= (uint8_t)~BM_ST_ACTIVE;
                break;
            }
            bm_fetch_prd(bm);
        }
        uint32_t n = len - done < bm->cur_left ? len - done : bm->cur_left;
        if (to_memory)
            phys_write_block(bm->ide->pm, bm->cur_addr, buf + done, n);
        else
            phys_read_block(bm->ide->pm, bm->cur_addr, buf + done, n);
        bm->cur_addr += n;
        bm->cur_left -= n;
        done += n;
        if (!bm->cur_left && bm->cur_eot)
            bm->status &= (uint8_t)~BM_ST_ACTIVE;
    }
    return done;
}

/* IDEINTS is set by a rising edge of the channel's interrupt line. */
static void bm_irq(void *opaque, int level)
{
    struct piix_ide_bm *bm = opaque;
    if (level && !bm->intrq)
        bm->status |= BM_ST_INTR;
    bm->intrq = (uint8_t)(level != 0);
}

static const struct ata_dma_ops piix_ide_dma_ops = { bm_rw, bm_active, bm_irq };

static void bm_write_cmd(struct piix_ide_bm *bm, uint8_t v)
{
    uint8_t old = bm->cmd;
    bm->cmd = v & (BM_CMD_START | BM_CMD_WRITE);
    if ((v & BM_CMD_START) && !(old & BM_CMD_START)) {
        /* Starting always begins at the top of the table (SFF-8038i: no resume). */
        bm->status |= BM_ST_ACTIVE;
        bm->prd_next = bm->prd_table;
        bm->cur_left = 0;
        bm->cur_eot = 0;
        if (bm->ch)
            ata_dma_start(bm->ch);
    } else if (!(v & BM_CMD_START) && (old & BM_CMD_START)) {
        bm->status &= (uint8_t)~BM_ST_ACTIVE;
    }
}

static uint8_t bm_read_byte(struct piix_ide_bm *bm, uint32_t reg)
{
    switch (reg) {
    case BM_REG_CMD: return bm->cmd;
    case BM_REG_STATUS: return bm->status;
    case 4: case 5: case 6: case 7: return (uint8_t)(bm->prd_table >> (8 * (reg - 4)));
    }
    return 0;
}

static void bm_write_byte(struct piix_ide_bm *bm, uint32_t reg, uint8_t v)
{
    switch (reg) {
    case BM_REG_CMD:
        bm_write_cmd(bm, v);
        break;
    case BM_REG_STATUS:
        bm->status = (uint8_t)((bm->status & ~(BM_ST_DMA0CAP | BM_ST_DMA1CAP)) |
                               (v & (BM_ST_DMA0CAP | BM_ST_DMA1CAP)));
        bm->status &= (uint8_t)~(v & (BM_ST_ERROR | BM_ST_INTR));
        break;
    case 4: case 5: case 6: case 7: {
        int sh = 8 * (int)(reg - 4);
        bm->prd_table = (bm->prd_table & ~(0xFFu << sh)) | (uint32_t)v << sh;
        bm->prd_table &= ~3u;
        break;
    }
    }
}

static uint32_t bm_read(void *opaque, uint32_t off, int size)
{
    struct piix_ide *p = opaque;
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        uint32_t o = (off + (uint32_t)i) & 15;
        v |= (uint32_t)bm_read_byte(&p->bm[o >> 3], o & 7) << (8 * i);
    }
    return v;
}

static void bm_write(void *opaque, uint32_t off, uint32_t val, int size)
{
    struct piix_ide *p = opaque;
    for (int i = 0; i < size; i++) {
        uint32_t o = (off + (uint32_t)i) & 15;
        bm_write_byte(&p->bm[o >> 3], o & 7, (uint8_t)(val >> (8 * i)));
    }
}

const struct bus_ops piix_ide_bm_ops = { bm_read, bm_write, 0 };

static void piix_ide_bar_map(void *opaque, int bar, uint32_t old_addr, uint32_t new_addr)
{
    struct piix_ide *p = opaque;
    if (bar != PIIX_IDE_BAR || !p->io)
        return;
    if (old_addr != PCI_UNMAPPED)
        bus_unmap(p->io, old_addr, 16);
    if (new_addr != PCI_UNMAPPED)
        bus_map(p->io, new_addr, 16, &piix_ide_bm_ops, p);
}

void piix_ide_reset(void *opaque)
{
    struct piix_ide *p = opaque;
    uint8_t *c = p->pci.config;
    pci_put16(&p->pci, PCI_COMMAND, 0x0000);
    pci_put16(&p->pci, PCI_STATUS, 0x0280);    /* fast back-to-back, medium DEVSEL */
    c[0x0D] = 0;
    memset(c + PIIX_IDE_IDETIM, 0, 5);
    pci_put32(&p->pci, PCI_BAR0 + 4 * PIIX_IDE_BAR, 0x00000001);
    for (int i = 0; i < 2; i++) {
        struct piix_ide_bm *bm = &p->bm[i];
        bm->cmd = bm->status = 0;
        bm->prd_table = bm->prd_next = bm->cur_addr = bm->cur_left = 0;
        bm->cur_eot = 0;
        bm->intrq = bm->ch ? (uint8_t)bm->ch->irq.level : 0;
    }
    pci_update_mappings(&p->pci);
}

static int piix_ide_post_load(void *opaque)
{
    struct piix_ide *p = opaque;
    pci_update_mappings(&p->pci);
    return 0;
}

const struct device_ops piix_ide_device_ops = {
    .name = "piix_ide", .version = 1, .fields = piix_ide_fields,
    .reset = piix_ide_reset, .post_load = piix_ide_post_load,
};

int piix_ide_init(struct piix_ide *p, struct pci_bus *bus, uint8_t devfn, struct bus *io,
                  struct physmem *pm, struct ata_channel *pri, struct ata_channel *sec)
{
    memset(p, 0, sizeof(*p));
    if (pci_device_init(bus, &p->pci, "piix_ide", devfn, 0x8086, 0x7010, 0x00, 0x010180) < 0)
        return -1;
    p->pm = pm;
    p->io = io;
    p->pci.opaque = p;
    p->pci.bar_map = piix_ide_bar_map;
    p->pci.wmask[PCI_COMMAND] = PCI_CMD_IO | PCI_CMD_MASTER;
    p->pci.wmask[PCI_COMMAND + 1] = 0;
    p->pci.wmask[PCI_INT_LINE] = 0;
    for (int i = 0; i < 5; i++)
        p->pci.wmask[PIIX_IDE_IDETIM + i] = 0xFF;
    pci_set_bar(&p->pci, PIIX_IDE_BAR, 16, 1);
    struct ata_channel *chs[2] = { pri, sec };
    for (int i = 0; i < 2; i++) {
        p->bm[i].ide = p;
        p->bm[i].ch = chs[i];
        if (chs[i])
            ata_attach_dma(chs[i], &piix_ide_dma_ops, &p->bm[i]);
    }
    piix_ide_reset(p);
    return 0;
}
