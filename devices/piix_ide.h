/* Intel 82371SB PIIX3 function 1: the IDE controller as a PCI function
 * (8086:7010) with its bus-master IDE registers in BAR4 (16 I/O ports: the
 * primary channel at offsets 0-7, the secondary at 8-15). The two legacy
 * channels are ata_channel objects the board maps at the usual ports; this
 * function only adds PCI configuration and bus-master DMA. */
#ifndef SV_PIIX_IDE_H
#define SV_PIIX_IDE_H
#include <stdint.h>
#include "devices/pci.h"
#include "devices/ata.h"

struct physmem;

#define PIIX_IDE_BAR      4
#define PIIX_IDE_IDETIM   0x40    /* primary 40h-41h, secondary 42h-43h */
#define PIIX_IDE_SIDETIM  0x44

/* Bus-master registers, per channel */
#define BM_REG_CMD        0
#define BM_REG_STATUS     2
#define BM_REG_PRD        4
#define BM_CMD_START      0x01
#define BM_CMD_WRITE      0x08    /* RWCON: 1 = the bus master writes memory (device reads) */
#define BM_ST_ACTIVE      0x01
#define BM_ST_ERROR       0x02
#define BM_ST_INTR        0x04
#define BM_ST_DMA0CAP     0x20
#define BM_ST_DMA1CAP     0x40
#define PRD_EOT           0x80000000u

struct piix_ide;

struct piix_ide_bm {
    struct piix_ide *ide;           /* not saved */
    struct ata_channel *ch;         /* not saved */
    uint8_t cmd;                    /* BMICOM */
    uint8_t status;                 /* BMISTA */
    uint32_t prd_table;             /* BMIDTP */
    uint32_t prd_next;              /* address of the next descriptor to fetch */
    uint32_t cur_addr;              /* current region: next byte */
    uint32_t cur_left;              /* bytes left in the current region */
    uint8_t cur_eot;                /* the current region is the table's last */
    uint8_t intrq;                  /* INTRQ level last seen (edge detection) */
};

struct piix_ide {
    struct pci_device pci;
    struct physmem *pm;             /* not saved */
    struct bus *io;                 /* where BAR4 is mapped; NULL: the board maps it */
    struct piix_ide_bm bm[2];
};

extern const struct bus_ops piix_ide_bm_ops;   /* BAR4, offsets 0-15 */
extern const struct device_ops piix_ide_device_ops;

/* Registers the PCI function at devfn (00:01.1 on a PC), connects the bus
 * master to the two channels (either may be NULL), and resets. When io is
 * not NULL, BAR4 is mapped there whenever the guest decodes it. */
int piix_ide_init(struct piix_ide *p, struct pci_bus *bus, uint8_t devfn, struct bus *io,
                  struct physmem *pm, struct ata_channel *pri, struct ata_channel *sec);
void piix_ide_reset(void *p);

#endif
