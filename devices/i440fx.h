/* Intel 82441FX PMC (i440FX host bridge), PCI 00:00.0. */
#ifndef SV_I440FX_H
#define SV_I440FX_H
#include "devices/pci.h"
#include "devices/device.h"
#include "mmu/physmem.h"

#define I440FX_PAM0   0x59
#define I440FX_SMRAM  0x72

typedef void i440fx_smram_fn(void *opaque, int open);

struct i440fx {
    struct pci_device pci;
    struct physmem *pm;
    uint8_t *ram;           /* guest RAM host buffer (covers 0xC0000-0xFFFFF) */
    uint8_t *bios_top;      /* host copy of the BIOS image's last 128 KiB (0xE0000-0xFFFFF) */
    i440fx_smram_fn *smram_changed;
    void *opaque;
    uint8_t warned_we;      /* write-only PAM setting logged */
};

extern const struct device_ops i440fx_device_ops;

/* bios_top: 128 KiB mapped read-only below 1 MiB while the PAM says "PCI". */
int i440fx_init(struct i440fx *h, struct pci_bus *bus, struct physmem *pm, uint8_t *ram, uint8_t *bios_top);
void i440fx_reset(void *dev);
/* Applies every PAM register to the memory map (after reset and load). */
void i440fx_update_pam(struct i440fx *h);

#endif
