/* Intel 82093AA I/O APIC: 24 interrupt input pins, each routed through a
 * redirection table entry to an interrupt message. Registers are reached
 * indirectly: offset 0x00 = IOREGSEL (index, 8 bits), offset 0x10 = IOWIN
 * (32-bit data). The board maps ioapic_bus_ops (length IOAPIC_MMIO_LEN),
 * connects IRQ lines to ioapic_set_irq (n = pin 0-23), sets `deliver` to the
 * local APIC (apic_bus_deliver) and routes its EOI broadcast to ioapic_eoi. */
#ifndef SV_IOAPIC_H
#define SV_IOAPIC_H
#include <stdint.h>
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/irq.h"

#define IOAPIC_PINS     24
#define IOAPIC_VERSION  0x00170011u /* max redirection entry 23, version 0x11 */
#define IOAPIC_MMIO_LEN 0x20u

/* Register indexes (IOREGSEL) */
enum { IOAPIC_REG_ID = 0x00, IOAPIC_REG_VER = 0x01, IOAPIC_REG_ARB = 0x02,
       IOAPIC_REG_REDTBL = 0x10 };  /* entry n: low dword 0x10 + 2n, high 0x11 + 2n */

/* Redirection entry bits */
#define IOAPIC_DEST_LOGICAL 0x800u
#define IOAPIC_DELIVS       0x1000u   /* delivery status (read-only) */
#define IOAPIC_ACTIVE_LOW   0x2000u   /* polarity */
#define IOAPIC_REMOTE_IRR   0x4000u   /* read-only */
#define IOAPIC_LEVEL        0x8000u   /* trigger mode */
#define IOAPIC_MASKED       0x10000u

/* An interrupt message: destination (8 bits), dest_mode 0 = physical,
 * 1 = logical, vector, delivery mode (APIC_DM_*), level = trigger mode. */
typedef void ioapic_deliver_fn(void *opaque, uint8_t dest, int dest_mode, int vector,
                               int delivery_mode, int level);

struct ioapic {
    /* saved state */
    uint32_t id;                    /* ID register: bits 27:24 */
    uint8_t ioregsel;               /* selected register index */
    uint32_t pin_level;             /* input levels as last set, bit per pin (before polarity) */
    uint64_t redir[IOAPIC_PINS];    /* redirection table */
    /* wiring, not saved */
    ioapic_deliver_fn *deliver;     /* to the local APIC(s); NULL drops messages */
    void *deliver_opaque;
};

/* Resets the chip: ID 0, every entry masked. */
void ioapic_init(struct ioapic *io);
void ioapic_reset(void *io);
/* irq_handler_fn: opaque = struct ioapic, n = pin 0-23. */
void ioapic_set_irq(void *opaque, int n, int level);
/* EOI broadcast from a local APIC (apic_eoi_fn): clears remote IRR of the
 * level-triggered entries with this vector; a pin still asserted delivers
 * again. opaque = struct ioapic. */
void ioapic_eoi(void *opaque, int vector);

extern const struct bus_ops ioapic_bus_ops;         /* dev = struct ioapic */
extern const struct device_ops ioapic_device_ops;   /* "ioapic" */

#endif
