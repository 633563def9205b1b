/* PCI bus 0, configuration mechanism #1, BAR decoding and INTx routing
 * (PCI Local Bus Spec 3.0 ch. 3.2.2.3 and 6). Not modelled: other buses,
 * bridges, mechanism #2, capabilities lists, MSI. */
#include "devices/pci.h"
#include <string.h>

void pci_bus_init(struct pci_bus *bus)
{
    memset(bus, 0, sizeof(*bus));
}

int pci_device_init(struct pci_bus *bus, struct pci_device *dev, const char *name, uint8_t devfn,
                    uint16_t vendor, uint16_t device, uint8_t revision, uint32_t class_code)
{
    if (bus->devs[devfn])
        return -1;
    memset(dev->config, 0, sizeof(dev->config));
    memset(dev->wmask, 0, sizeof(dev->wmask));
    memset(dev->w1cmask, 0, sizeof(dev->w1cmask));
    dev->name = name;
    dev->devfn = devfn;
    dev->bar_map = NULL;
    dev->config_write = NULL;
    dev->opaque = dev;
    dev->irq_level = 0;
    dev->bus = bus;
    pci_put16(dev, PCI_VENDOR_ID, vendor);
    pci_put16(dev, PCI_DEVICE_ID, device);
    dev->config[PCI_REVISION] = revision;
    dev->config[PCI_CLASS_PROG] = (uint8_t)class_code;
    pci_put16(dev, PCI_CLASS, (uint16_t)(class_code >> 8));
    /* Command: I/O, memory, bus master, SERR/parity, INTx disable are writable. */
    dev->wmask[PCI_COMMAND] = 0x47;      /* IO MEM MASTER PARITY */
    dev->wmask[PCI_COMMAND + 1] = 0x05;  /* SERR, INTx disable */
    dev->w1cmask[PCI_STATUS + 1] = 0xF9; /* error bits */
    dev->wmask[0x0C] = 0xFF;             /* cache line size */
    dev->wmask[0x0D] = 0xFF;             /* latency timer */
    dev->wmask[PCI_INT_LINE] = 0xFF;
    for (int i = 0; i < PCI_NBARS; i++)
        dev->bars[i] = (struct pci_bar){ 0, 0, PCI_UNMAPPED };
    bus->devs[devfn] = dev;
    return 0;
}

static int bar_offset(int n)
{
    return n == PCI_ROM_SLOT ? PCI_ROM_BAR : PCI_BAR0 + 4 * n;
}

void pci_set_bar(struct pci_device *dev, int n, uint32_t size, int io)
{
    struct pci_bar *b = &dev->bars[n];
    b->size = size;
    b->io = (uint8_t)io;
    b->mapped = PCI_UNMAPPED;
    uint32_t mask = ~(size - 1);
    int off = bar_offset(n);
    if (n == PCI_ROM_SLOT)
        mask |= 1;                       /* ROM enable bit */
    pci_put32(dev, off, io ? 1 : 0);
    for (int i = 0; i < 4; i++)
        dev->wmask[off + i] = (uint8_t)(mask >> (8 * i));
    if (io)
        dev->wmask[off] &= 0xFC;
    else if (n != PCI_ROM_SLOT)
        dev->wmask[off] &= 0xF0;
}

void pci_set_int_pin(struct pci_device *dev, int pin)
{
    dev->config[PCI_INT_PIN] = (uint8_t)pin;
}

/* The board's swizzle, as the PIIX wiring and the firmware assume:
 * PIRQ = (slot - 1 + pin - 1) mod 4. */
static int pci_pirq(const struct pci_device *dev)
{
    int pin = dev->config[PCI_INT_PIN];
    return ((dev->devfn >> 3) - 1 + pin - 1) & 3;
}

void pci_set_irq(struct pci_device *dev, int level)
{
    struct pci_bus *bus = dev->bus;
    if (pci_get16(dev, PCI_COMMAND) & PCI_CMD_INTX_DISABLE)
        level = 0;
    level = level != 0;
    if (dev->irq_level == level || !dev->config[PCI_INT_PIN])
        return;
    dev->irq_level = (uint8_t)level;
    int pirq = pci_pirq(dev);
    int before = bus->pirq_count[pirq] != 0;
    bus->pirq_count[pirq] = (uint8_t)(bus->pirq_count[pirq] + (level ? 1 : -1));
    int after = bus->pirq_count[pirq] != 0;
    if (before != after && bus->route)
        bus->route(bus->route_opaque, pirq, after);
}

static uint32_t bar_address(const struct pci_device *dev, int n)
{
    const struct pci_bar *b = &dev->bars[n];
    uint16_t cmd = pci_get16(dev, PCI_COMMAND);
    uint32_t v = pci_get32(dev, bar_offset(n));
    if (!b->size)
        return PCI_UNMAPPED;
    if (n == PCI_ROM_SLOT) {
        if (!(cmd & PCI_CMD_MEM) || !(v & 1))
            return PCI_UNMAPPED;
        v &= ~(b->size - 1);
    } else if (b->io) {
        if (!(cmd & PCI_CMD_IO))
            return PCI_UNMAPPED;
        v &= ~(b->size - 1) & 0xFFFC;
        if (v + b->size > 0x10000)
            return PCI_UNMAPPED;
    } else {
        if (!(cmd & PCI_CMD_MEM))
            return PCI_UNMAPPED;
        v &= ~(b->size - 1) & 0xFFFFFFF0u;
    }
    /* An address of 0 (or one that wraps) is taken as "not yet assigned". */
    if (v == 0 || v + b->size - 1 < v || v + b->size - 1 == 0xFFFFFFFFu)
        return PCI_UNMAPPED;
    return v;
}

void pci_update_mappings(struct pci_device *dev)
{
    for (int n = 0; n < PCI_NBARS; n++) {
        struct pci_bar *b = &dev->bars[n];
        uint32_t addr = bar_address(dev, n);
        if (addr == b->mapped)
            continue;
        uint32_t old = b->mapped;
        b->mapped = addr;
        if (dev->bar_map)
            dev->bar_map(dev->opaque, n, old, addr);
    }
}

uint32_t pci_config_read(struct pci_bus *bus, uint8_t devfn, uint32_t off, int size)
{
    struct pci_device *dev = bus->devs[devfn];
    if (!dev || off + (uint32_t)size > 256)
        return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    uint32_t v = 0;
    for (int i = 0; i < size; i++)
        v |= (uint32_t)dev->config[off + (uint32_t)i] << (8 * i);
    return v;
}

void pci_config_write(struct pci_bus *bus, uint8_t devfn, uint32_t off, uint32_t val, int size)
{
    struct pci_device *dev = bus->devs[devfn];
    if (!dev || off + (uint32_t)size > 256)
        return;
    for (int i = 0; i < size; i++) {
        uint32_t o = off + (uint32_t)i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        uint8_t w = dev->wmask[o], c = dev->w1cmask[o];
        dev->config[o] = (uint8_t)((dev->config[o] & ~w) | (b & w));
        dev->config[o] &= (uint8_t)~(b & c);
    }
    /* Command register or a BAR touched: re-derive what is decoded. */
    if (off < PCI_ROM_BAR + 4 && off + (uint32_t)size > PCI_COMMAND)
        pci_update_mappings(dev);
    if (dev->config_write)
        dev->config_write(dev, off, size);
}

/* CONFIG_ADDRESS: only dword accesses hit the register (PCI spec 3.2.2.3.2);
 * byte accesses at offset 1 belong to the board (PIIX reset control). */
static uint32_t cfg_addr_read(void *opaque, uint32_t off, int size)
{
    struct pci_bus *bus = opaque;
    if (size == 4 && off == 0)
        return bus->config_addr;
    if (size == 1 && off == 1 && bus->byte1_ops)
        return bus->byte1_ops->read(bus->byte1_dev, 0, 1);
    return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

static void cfg_addr_write(void *opaque, uint32_t off, uint32_t val, int size)
{
    struct pci_bus *bus = opaque;
    if (size == 4 && off == 0)
        bus->config_addr = val & 0x80FFFFFCu;
    else if (size == 1 && off == 1 && bus->byte1_ops)
        bus->byte1_ops->write(bus->byte1_dev, 0, val, 1);
}

const struct bus_ops pci_config_address_ops = { cfg_addr_read, cfg_addr_write, 0 };

static int cfg_target(struct pci_bus *bus, uint32_t off, uint8_t *devfn, uint32_t *reg)
{
    uint32_t a = bus->config_addr;
    if (!(a & 0x80000000u) || ((a >> 16) & 0xFF) != 0)
        return 0;                        /* disabled, or a bus we do not have */
    *devfn = (uint8_t)(a >> 8);
    *reg = (a & 0xFC) + off;
    return 1;
}

static uint32_t cfg_data_read(void *opaque, uint32_t off, int size)
{
    struct pci_bus *bus = opaque;
    uint8_t devfn;
    uint32_t reg;
    if (!cfg_target(bus, off, &devfn, &reg))
        return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    return pci_config_read(bus, devfn, reg, size);
}

static void cfg_data_write(void *opaque, uint32_t off, uint32_t val, int size)
{
    struct pci_bus *bus = opaque;
    uint8_t devfn;
    uint32_t reg;
    if (cfg_target(bus, off, &devfn, &reg))
        pci_config_write(bus, devfn, reg, val, size);
}

const struct bus_ops pci_config_data_ops = { cfg_data_read, cfg_data_write, 0 };
