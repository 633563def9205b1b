/* Intel 82371SB PIIX3 function 0, the PCI-to-ISA bridge (82371FB/SB datasheet
 * 290550, sec. 2.2: PIRQRC[A:D] at 60h-63h; sec. 4.1.13: reset control register
 * at CF9h). PIRQ lines are routed to ISA IRQs by PIRQRC; several PIRQs on one
 * IRQ are ORed (they are level-triggered and shared). Not modelled: the ISA
 * DMA and PIC configuration registers, the top-of-memory and XBCS registers
 * beyond storing them, the deterministic-latency timers. */
#include "devices/piix3.h"
#include <string.h>

static const struct state_field piix3_fields[] = {
    STATE_U8_ARRAY(struct piix3, pci.config, 256),
    STATE_U8_ARRAY(struct piix3, pirq_level, 4),
    STATE_U8(struct piix3, rcr),
    STATE_END
};

/* Recomputes every ISA IRQ level from the PIRQ levels and the routing. */
static void piix3_update(struct piix3 *p)
{
    int level[16] = { 0 };
    for (int i = 0; i < 4; i++) {
        uint8_t r = p->pci.config[PIIX3_PIRQRC + i];
        if (!(r & 0x80) && (r & 0x0F) >= 3 && p->pirq_level[i])
            level[r & 0x0F] = 1;
    }
    for (int irq = 0; irq < 16; irq++)
        irq_set(&p->isa_irq[irq], level[irq]);
}

void piix3_pirq_changed(void *opaque, int pirq, int level)
{
    struct piix3 *p = opaque;
    p->pirq_level[pirq & 3] = (uint8_t)(level != 0);
    piix3_update(p);
}

static void piix3_config_write(struct pci_device *dev, uint32_t off, int size)
{
    if (off < PIIX3_PIRQRC + 4 && off + (uint32_t)size > PIIX3_PIRQRC)
        piix3_update(dev->opaque);
}

static void piix3_reset(void *dev)
{
    struct piix3 *p = dev;
    uint8_t *c = p->pci.config;
    pci_put16(&p->pci, PCI_COMMAND, 0x0007);
    pci_put16(&p->pci, PCI_STATUS, 0x0200);
    for (int i = 0; i < 4; i++)
        c[PIIX3_PIRQRC + i] = 0x80;
    c[0x4C] = 0x4D;   /* ISA recovery timer */
    c[0x4E] = 0x03;   /* X-bus chip select */
    c[0x4F] = 0x00;
    c[0x69] = 0x02;   /* top of memory */
    c[0x70] = 0x80;   /* MBIRQ0 disabled */
    c[0x76] = 0x0C;   /* MBDMA */
    c[0x77] = 0x0C;
    c[0x78] = 0x02;   /* PCSC */
    c[0x79] = 0x00;
    c[0xA0] = 0x08;   /* SMI control */
    c[0xA8] = 0x0F;
    p->rcr = 0;
    piix3_update(p);
}

static int piix3_post_load(void *dev)
{
    piix3_update(dev);
    return 0;
}

const struct device_ops piix3_device_ops = {
    .name = "piix3", .version = 1, .fields = piix3_fields,
    .reset = piix3_reset, .post_load = piix3_post_load,
};

/* Reset control: bit 1 selects a hard reset, a 0->1 edge of bit 2 resets. */
static uint32_t rcr_read(void *opaque, uint32_t off, int size)
{
    (void)off; (void)size;
    return ((struct piix3 *)opaque)->rcr;
}

static void rcr_write(void *opaque, uint32_t off, uint32_t val, int size)
{
    struct piix3 *p = opaque;
    (void)off; (void)size;
    int edge = (val & 4) && !(p->rcr & 4);
    p->rcr = (uint8_t)(val & 0x02);
    if (edge && p->reset_request)
        p->reset_request(p->opaque);
}

const struct bus_ops piix3_rcr_ops = { rcr_read, rcr_write, 1 };

int piix3_init(struct piix3 *p, struct pci_bus *bus, uint8_t devfn)
{
    memset(p, 0, sizeof(*p));
    if (pci_device_init(bus, &p->pci, "piix3", devfn, 0x8086, 0x7000, 0x00, 0x060100) < 0)
        return -1;
    p->pci.config[PCI_HEADER_TYPE] = 0x80;   /* multi-function */
    p->pci.opaque = p;
    p->pci.config_write = piix3_config_write;
    for (int i = 0; i < 4; i++)
        p->pci.wmask[PIIX3_PIRQRC + i] = 0x8F;
    static const uint8_t rw[] = { 0x4C, 0x4E, 0x4F, 0x69, 0x70, 0x76, 0x77, 0x78, 0x79, 0xA0, 0xA2, 0xA8 };
    for (size_t i = 0; i < sizeof(rw); i++)
        p->pci.wmask[rw[i]] = 0xFF;
    bus->route = piix3_pirq_changed;
    bus->route_opaque = p;
    piix3_reset(p);
    return 0;
}
