/* Intel 82371SB PIIX3 PCI-to-ISA bridge, PCI 00:01.0. */
#ifndef SV_PIIX3_H
#define SV_PIIX3_H
#include "devices/pci.h"
#include "devices/irq.h"
#include "devices/device.h"

#define PIIX3_PIRQRC 0x60   /* PIRQA-D route control, 60h-63h */

typedef void piix3_reset_fn(void *opaque);

struct piix3 {
    struct pci_device pci;
    uint8_t pirq_level[4];      /* level of PIRQA-D from the PCI bus (saved) */
    uint8_t rcr;                /* reset control register, port CF9h (saved) */
    struct irq_line isa_irq[16];/* routed PIRQ levels as ISA IRQ lines; pc.c connects them */
    piix3_reset_fn *reset_request;
    void *opaque;
};

extern const struct device_ops piix3_device_ops;
extern const struct bus_ops piix3_rcr_ops;     /* the one-byte reset control register */

int piix3_init(struct piix3 *p, struct pci_bus *bus, uint8_t devfn);
/* A pci_irq_route_fn: the bus reports PIRQ n changes here. */
void piix3_pirq_changed(void *opaque, int pirq, int level);

#endif
