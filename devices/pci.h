/* PCI bus 0 with configuration mechanism #1 (PCI Local Bus Spec 3.0, 3.2.2.3.2):
 * the CONFIG_ADDRESS dword register and the CONFIG_DATA window. Devices keep
 * their 256-byte configuration space here; BAR sizing and decoding, the
 * command register and INTx swizzling are common code. Bus 0 only. */
#ifndef SV_PCI_H
#define SV_PCI_H
#include <stdint.h>
#include "devices/bus.h"

#define PCI_VENDOR_ID   0x00
#define PCI_DEVICE_ID   0x02
#define PCI_COMMAND     0x04
#define PCI_STATUS      0x06
#define PCI_REVISION    0x08
#define PCI_CLASS_PROG  0x09
#define PCI_CLASS       0x0A
#define PCI_HEADER_TYPE 0x0E
#define PCI_BAR0        0x10
#define PCI_SUBSYS_VID  0x2C
#define PCI_SUBSYS_ID   0x2E
#define PCI_ROM_BAR     0x30
#define PCI_INT_LINE    0x3C
#define PCI_INT_PIN     0x3D

#define PCI_CMD_IO      0x0001
#define PCI_CMD_MEM     0x0002
#define PCI_CMD_MASTER  0x0004
#define PCI_CMD_INTX_DISABLE 0x0400

#define PCI_NBARS 7     /* BAR0-5 and the expansion ROM (index 6) */
#define PCI_ROM_SLOT 6
#define PCI_UNMAPPED 0xFFFFFFFFu

struct pci_device;
/* Called when a BAR's decoded address changes (PCI_UNMAPPED: decoding off). */
typedef void pci_bar_map_fn(void *opaque, int bar, uint32_t old_addr, uint32_t new_addr);
/* Called after the guest wrote config bytes [off, off+size). */
typedef void pci_config_write_fn(struct pci_device *dev, uint32_t off, int size);
/* The board's INTx router: pirq 0-3 (PIRQA-D) to an interrupt controller. */
typedef void pci_irq_route_fn(void *opaque, int pirq, int level);

struct pci_bar {
    uint32_t size;      /* power of two; 0: BAR not implemented */
    uint8_t io;         /* I/O space rather than memory */
    uint32_t mapped;    /* address now decoded, or PCI_UNMAPPED (not saved: derived) */
};

struct pci_device {
    const char *name;
    uint8_t devfn;                  /* slot << 3 | function */
    uint8_t config[256];            /* saved */
    uint8_t wmask[256];             /* bits the guest may write */
    uint8_t w1cmask[256];           /* bits cleared by writing 1 (status) */
    struct pci_bar bars[PCI_NBARS];
    pci_bar_map_fn *bar_map;
    pci_config_write_fn *config_write;
    void *opaque;                   /* passed to bar_map; the device itself */
    uint8_t irq_level;              /* INTx output level */
    struct pci_bus *bus;
};

#define PCI_MAX_DEVFN 256
struct pci_bus {
    struct pci_device *devs[PCI_MAX_DEVFN];
    uint32_t config_addr;           /* CONFIG_ADDRESS (saved) */
    uint8_t pirq_count[4];          /* devices asserting each PIRQ line */
    pci_irq_route_fn *route;
    void *route_opaque;
    /* Byte accesses to CONFIG_ADDRESS+1 (0xCF9 on a PC: PIIX reset control)
     * are not part of the dword register; they go here when set. */
    const struct bus_ops *byte1_ops;
    void *byte1_dev;
};

void pci_bus_init(struct pci_bus *bus);
/* Fills identity fields and registers the device at devfn; returns 0 or -1. */
int pci_device_init(struct pci_bus *bus, struct pci_device *dev, const char *name, uint8_t devfn,
                    uint16_t vendor, uint16_t device, uint8_t revision, uint32_t class_code);
/* Declares BAR n (0-5 or PCI_ROM_SLOT) of the given size. */
void pci_set_bar(struct pci_device *dev, int n, uint32_t size, int io);
/* INTx pin 1-4 (A-D) the device uses; 0 for none. */
void pci_set_int_pin(struct pci_device *dev, int pin);
void pci_set_irq(struct pci_device *dev, int level);
/* Re-derives every BAR's decoded address (after reset and snapshot load). */
void pci_update_mappings(struct pci_device *dev);

/* The two port ranges of mechanism #1: CONFIG_ADDRESS (4 ports) and CONFIG_DATA (4 ports). */
extern const struct bus_ops pci_config_address_ops;
extern const struct bus_ops pci_config_data_ops;

/* Direct config-space access (what the data window does), for the board and tests. */
uint32_t pci_config_read(struct pci_bus *bus, uint8_t devfn, uint32_t off, int size);
void pci_config_write(struct pci_bus *bus, uint8_t devfn, uint32_t off, uint32_t val, int size);

static inline uint16_t pci_get16(const struct pci_device *d, int off) { return (uint16_t)(d->config[off] | d->config[off + 1] << 8); }
static inline uint32_t pci_get32(const struct pci_device *d, int off) { return pci_get16(d, off) | (uint32_t)pci_get16(d, off + 2) << 16; }
static inline void pci_put16(struct pci_device *d, int off, uint16_t v) { d->config[off] = (uint8_t)v; d->config[off + 1] = (uint8_t)(v >> 8); }
static inline void pci_put32(struct pci_device *d, int off, uint32_t v) { pci_put16(d, off, (uint16_t)v); pci_put16(d, off + 2, (uint16_t)(v >> 16)); }

#endif
