/* Intel 82441FX PCI and memory controller (PMC), the i440FX host bridge
 * (Intel 440FX PCIset datasheet, 290549, sec. 3.2: PAM0-6 at 59h-5Fh, SMRAM at
 * 72h). PAM decides per 16/64 KiB block of 0xC0000-0xFFFFF whether reads and
 * writes go to DRAM or to the PCI/ISA side (the BIOS ROM). Not modelled: DRAM
 * row registers, error reporting, SMM itself (SMRAM is stored; D_OPEN is
 * reported to the board), and PAM "write-only" (WE without RE): reads stay on
 * the ROM and writes are dropped, logged once. */
#include "devices/i440fx.h"
#include <stdio.h>
#include <string.h>

static const struct state_field i440fx_fields[] = {
    STATE_U8_ARRAY(struct i440fx, pci.config, 256),
    STATE_END
};

static void i440fx_apply_block(struct i440fx *h, uint32_t base, uint32_t len, int mode)
{
    /* mode bit 0: reads from DRAM, bit 1: writes to DRAM */
    uint8_t *ram = h->ram + base;
    uint8_t *rom = NULL;
    if (base >= 0xE0000 && h->bios_top)
        rom = h->bios_top + (base - 0xE0000);
    switch (mode & 3) {
    case 3:
        physmem_map_ram(h->pm, base, len, ram);
        break;
    case 1:
        physmem_map_rom(h->pm, base, len, ram);
        break;
    case 2:
        if (!h->warned_we) {
            fprintf(stderr, "softvisor: i440fx: write-only PAM setting not modelled; writes dropped\n");
            h->warned_we = 1;
        }
        /* fall through */
    default:
        if (rom)
            physmem_map_rom(h->pm, base, len, rom);
        else
            physmem_unmap(h->pm, base, len);
        break;
    }
}

void i440fx_update_pam(struct i440fx *h)
{
    i440fx_apply_block(h, 0xF0000, 0x10000, h->pci.config[I440FX_PAM0] >> 4);
    for (int r = 1; r <= 6; r++) {
        uint8_t v = h->pci.config[I440FX_PAM0 + r];
        uint32_t base = 0xC0000 + (uint32_t)(r - 1) * 0x8000;
        i440fx_apply_block(h, base, 0x4000, v & 0xF);
        i440fx_apply_block(h, base + 0x4000, 0x4000, v >> 4);
    }
    if (h->smram_changed)
        h->smram_changed(h->opaque, (h->pci.config[I440FX_SMRAM] & 0x40) != 0);
}

static void i440fx_config_write(struct pci_device *dev, uint32_t off, int size)
{
    struct i440fx *h = dev->opaque;
    if (off <= I440FX_SMRAM && off + (uint32_t)size > I440FX_PAM0)
        i440fx_update_pam(h);
}

void i440fx_reset(void *dev)
{
    struct i440fx *h = dev;
    for (int i = 0; i < 7; i++)
        h->pci.config[I440FX_PAM0 + i] = 0;
    h->pci.config[I440FX_SMRAM] = 0x02;
    pci_put16(&h->pci, PCI_COMMAND, 0x0006);
    pci_put16(&h->pci, PCI_STATUS, 0x0280);
    i440fx_update_pam(h);
}

static int i440fx_post_load(void *dev)
{
    i440fx_update_pam(dev);
    return 0;
}

const struct device_ops i440fx_device_ops = {
    .name = "i440fx", .version = 1, .fields = i440fx_fields,
    .reset = i440fx_reset, .post_load = i440fx_post_load,
};

int i440fx_init(struct i440fx *h, struct pci_bus *bus, struct physmem *pm, uint8_t *ram, uint8_t *bios_top)
{
    memset(h, 0, sizeof(*h));
    h->pm = pm;
    h->ram = ram;
    h->bios_top = bios_top;
    if (pci_device_init(bus, &h->pci, "i440fx", 0, 0x8086, 0x1237, 0x02, 0x060000) < 0)
        return -1;
    h->pci.opaque = h;
    h->pci.config_write = i440fx_config_write;
    h->pci.wmask[I440FX_PAM0] = 0x30;
    for (int i = 1; i < 7; i++)
        h->pci.wmask[I440FX_PAM0 + i] = 0x33;
    h->pci.wmask[I440FX_SMRAM] = 0x78;
    i440fx_reset(h);
    return 0;
}
