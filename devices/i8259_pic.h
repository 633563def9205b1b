/* Intel 8259A programmable interrupt controller: one chip per struct pic, and
 * struct pic_pair for the cascaded master/slave pair of a PC (slave INT wired to
 * master IR2). Ports: offset 0 = command/status, 1 = data/mask. The ELCR
 * (edge/level control, one byte per chip) has its own 2-byte bus range. */
#ifndef SV_I8259_PIC_H
#define SV_I8259_PIC_H
#include <stdint.h>
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/irq.h"

struct pic {
    /* saved state */
    uint8_t irr;          /* interrupt request register (edge latch or line level) */
    uint8_t isr;          /* in-service register */
    uint8_t imr;          /* interrupt mask register (OCW1) */
    uint8_t input;        /* IR pin levels as last set: edge detection, level IRR */
    uint8_t elcr;         /* 1 = that IR line is level-triggered (ELCR) */
    uint8_t init_step;    /* 0 = initialised; 2, 3, 4 = ICW expected next */
    uint8_t icw1;         /* as written: LTIM (bit 3), SNGL (bit 1), IC4 (bit 0) */
    uint8_t icw3;         /* master: inputs with a slave; slave: its ID */
    uint8_t icw4;         /* uPM, AEOI (bit 1), BUF, M/S, SFNM (bit 4); 0 without IC4 */
    uint8_t vector_base;  /* ICW2 & 0xf8 */
    uint8_t lowest;       /* IR with the lowest priority (rotation); 7 after ICW1 */
    uint8_t read_isr;     /* OCW3 RR/RIS: status reads return ISR, not IRR */
    uint8_t poll;         /* OCW3 P: the next read is a poll (acknowledges) */
    uint8_t special_mask; /* OCW3 SMM: masked in-service levels do not block */
    uint8_t rotate_aeoi;  /* OCW2: rotate priority in automatic-EOI mode */
    /* configuration and wiring, not saved */
    uint8_t is_master;    /* SP/EN pin: this chip asks slaves for cascaded vectors */
    uint8_t elcr_mask;    /* ELCR bits the board lets the guest set (default all) */
    struct irq_line intr; /* INT output: to the CPU, or to the master's IR input */
};

struct pic_pair {
    struct pic master;    /* IRQ 0-7; master.intr is the CPU's INTR line */
    struct pic slave;     /* IRQ 8-15; its INT drives master IR2 */
};

/* One chip. */
void pic_init(struct pic *s, int is_master);
void pic_reset(void *s);
/* irq_handler_fn: opaque is the struct pic, n the IR input 0-7. */
void pic_set_irq(void *opaque, int n, int level);
/* Interrupt acknowledge on this chip alone: returns the IR put in service, or
 * -1 when nothing is pending (the caller then reports IR7, spurious). */
int pic_ack_ir(struct pic *s);
void pic_set_elcr(struct pic *s, uint8_t elcr);
extern const struct bus_ops pic_bus_ops;          /* dev = struct pic, 2 ports */
extern const struct device_ops pic_device_ops;    /* "i8259", one chip */

/* The PC pair. pic_pair_init resets both chips and wires slave INT to master
 * IR2; the board connects master.intr to the CPU, maps pic_bus_ops on each chip
 * and pic_elcr_bus_ops (dev = pair, offsets 0 = master, 1 = slave). */
void pic_pair_init(struct pic_pair *p);
/* irq_handler_fn: opaque is the struct pic_pair, n the IRQ 0-15. */
void pic_pair_set_irq(void *opaque, int n, int level);
/* The CPU's interrupt acknowledge: returns the vector (0-255). Spurious
 * requests give master base + 7 (ISR unchanged) or, from the slave, slave base
 * + 7 with master IR2 left in service, as the datasheet says. */
int pic_pair_ack(struct pic_pair *p);
extern const struct bus_ops pic_elcr_bus_ops;
extern const struct device_ops pic_pair_device_ops; /* "i8259-pair", both chips */

#endif
