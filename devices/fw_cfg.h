/* QEMU's firmware configuration interface (fw_cfg), I/O port form, with the
 * DMA interface, so the stock SeaBIOS build finds its tables. The board maps
 * fw_cfg_ops over 12 ports (0x510 on a PC): offset 0 selector (16-bit write),
 * offset 1 data (8-bit), offsets 4-11 the big-endian DMA address register
 * (writing its low half, offsets 8-11, starts a transfer). The board adds
 * items before the guest runs; items are configuration, not saved state. */
#ifndef SV_FW_CFG_H
#define SV_FW_CFG_H
#include <stdint.h>
#include "devices/bus.h"
#include "devices/device.h"

struct physmem;

#define FW_CFG_SIGNATURE    0x0000
#define FW_CFG_ID           0x0001
#define FW_CFG_FILE_DIR     0x0019
#define FW_CFG_FILE_FIRST   0x0020
#define FW_CFG_WRITE        0x4000  /* selector bit: write channel (ignored) */
#define FW_CFG_ARCH_LOCAL   0x8000  /* selector bit: architecture-specific item */

#define FW_CFG_ID_TRAD      0x01
#define FW_CFG_ID_DMA       0x02

#define FW_CFG_DMA_ERROR    0x01
#define FW_CFG_DMA_READ     0x02
#define FW_CFG_DMA_SKIP     0x04
#define FW_CFG_DMA_SELECT   0x08
#define FW_CFG_DMA_WRITE    0x10

#define FW_CFG_NAME_MAX     56      /* bytes in a directory name, with the NUL */
#define FW_CFG_DMA_SIGNATURE 0x51454D5520434647ull  /* "QEMU CFG" */

struct fw_cfg_item {
    uint16_t key;
    uint32_t len;
    uint8_t *data;                  /* owned copy */
    char name[FW_CFG_NAME_MAX];     /* files only; "" for plain items */
};

struct fw_cfg {
    struct physmem *pm;
    int dma;                        /* configuration: DMA interface offered */
    struct fw_cfg_item *items;      /* configuration, not state */
    int nitems, cap, nfiles;

    uint16_t selector;              /* last selected key */
    uint32_t offset;                /* read position in the selected item */
    uint64_t dma_addr;              /* DMA address register, as a number */
};

extern const struct bus_ops fw_cfg_ops;
extern const struct device_ops fw_cfg_device_ops;

/* Sets up the signature, ID and (empty) directory items. dma: offer the DMA
 * interface (ID bit 1). Returns 0, or -1 when out of memory. */
int fw_cfg_init(struct fw_cfg *fw, struct physmem *pm, int dma);
/* Frees the items (not the struct); also fw_cfg_device_ops.destroy. */
void fw_cfg_free(struct fw_cfg *fw);
void fw_cfg_reset(void *dev);

/* Adds or replaces a plain item (generic 0x0002-0x001F or arch 0x8000-0xBFFF
 * keys); the data is copied. Returns 0, or -1 for a reserved key or no memory. */
int fw_cfg_add_bytes(struct fw_cfg *fw, uint16_t key, const void *data, uint32_t len);
int fw_cfg_add_u16(struct fw_cfg *fw, uint16_t key, uint16_t v);   /* little-endian */
int fw_cfg_add_u32(struct fw_cfg *fw, uint16_t key, uint32_t v);
int fw_cfg_add_u64(struct fw_cfg *fw, uint16_t key, uint64_t v);
/* Adds a named file ("etc/e820"). Files take keys from 0x0020 in name order,
 * as QEMU numbers them, so adding a file may renumber later ones. Returns 0,
 * or -1 for a duplicate or too long name, or no memory. */
int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data, uint32_t len);
/* The key a file currently has, or -1. */
int fw_cfg_file_key(const struct fw_cfg *fw, const char *name);

#endif
