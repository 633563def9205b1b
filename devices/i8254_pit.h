/* Intel 8254 programmable interval timer: three counters clocked at
 * 1.193182 MHz from virtual time. Ports: offsets 0-2 = counters 0-2, 3 = control
 * word. The board drives the gates (pit_set_gate), samples OUT levels
 * (pit_get_out; counter 2 feeds port 0x61 bit 5) and connects a counter's `out`
 * line (counter 0 to IRQ0). A connected line follows OUT exactly, driven by a
 * timer armed at the virtual time of OUT's next change. */
#ifndef SV_I8254_PIT_H
#define SV_I8254_PIT_H
#include <stdint.h>
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/irq.h"
#include "devices/vclock.h"

#define PIT_HZ 1193182u

struct pit;

struct pit_counter {
    /* saved state */
    uint8_t ctrl;         /* RW1 RW0 M2 M1 M0 BCD as last written (status bits 5-0) */
    uint8_t mode;         /* 0-5 (6 and 7 folded to 2 and 3) */
    uint8_t wmsb;         /* next count write is the MSB of an LSB/MSB pair */
    uint8_t wlsb;         /* that pair's LSB, held until the MSB arrives */
    uint8_t rmsb;         /* next unlatched read is the MSB */
    uint8_t latch_n;      /* latched count bytes left to read, 0 = not latched */
    uint8_t status_latched;
    uint8_t status;       /* latched status byte */
    uint16_t latch;       /* latched count, as the guest reads it (BCD if BCD) */
    uint16_t cr;          /* count register as written; 0 = 65536 (10000 BCD) */
    uint8_t cr_state;     /* 0 = no count since the control word, 1 = written but
                           * not yet in the CE (null count), 2 = in the CE */
    uint8_t gate;         /* GATE input level */
    uint8_t run;          /* 0 = idle, 1 = counting, 2 = stopped (gate, mode 0 write) */
    uint8_t tc_done;      /* modes 0/4: terminal count happened before `start` */
    uint8_t hold_out;     /* OUT while idle or stopped, and before `start` */
    uint16_t hold;        /* CE (binary) while idle or stopped, and before `start` */
    uint32_t ce0;         /* CE at clock pulse `start`: 1-65536 */
    uint32_t phase;       /* modes 2/3: position within the period at `start` */
    uint64_t start;       /* absolute clock pulse at which the CE held ce0 */
    uint8_t pend;         /* modes 2/3: the new count takes over at pend_at */
    uint32_t pend_phase;  /* ... at this position of its period */
    uint64_t pend_at;     /* pulse at which cr reaches the CE; UINT64_MAX = none */
    uint8_t out_level;    /* level last driven on `out` */
    uint64_t deadline;    /* ns of OUT's next change (timer), VCLOCK_NEVER = none */
    /* wiring, not saved */
    struct irq_line out;  /* OUT; the timer runs only while this is connected */
    struct timer timer;
    struct pit *pit;
};

struct pit {
    struct pit_counter ch[3];
    struct vclock *clock;
};

/* Resets the chip; all gates high (the board lowers counter 2's). */
void pit_init(struct pit *pit, struct vclock *clock);
void pit_reset(void *pit);
void pit_set_gate(struct pit *pit, int ch, int level);
int pit_get_out(struct pit *pit, int ch);   /* OUT level at the current virtual time */
extern const struct bus_ops pit_bus_ops;        /* dev = struct pit, 4 ports */
extern const struct device_ops pit_device_ops;  /* "i8254" */

/* Clock pulses that happened in (0, ns], and the virtual time of pulse k. */
uint64_t pit_ns_to_ticks(uint64_t ns);
uint64_t pit_ticks_to_ns(uint64_t k);

#endif
