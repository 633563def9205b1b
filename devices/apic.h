/* Local APIC (xAPIC mode, one CPU): the 4 KiB register page, priority logic,
 * LVTs, the timer, and the connections the board makes:
 *   intr        INTR output, high while apic_get_interrupt() has something to give
 *   nmi         pulsed for each NMI (LINT1/LVT/IPI/message in NMI mode)
 *   apic_set_lint()   irq_handler_fn for the LINT0 (n = 0) and LINT1 (n = 1) pins
 *   extint_ack  asks the 8259 for its vector (ExtINT through LINT0 or a message)
 *   eoi         EOI of a level-triggered vector, broadcast to the I/O APIC
 *   apic_bus_deliver()  an interrupt message from the I/O APIC
 * The timer counts bus clocks of APIC_TICK_NS ns (1 GHz) divided by the DCR. */
#ifndef SV_APIC_H
#define SV_APIC_H
#include <stdint.h>
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/irq.h"
#include "devices/vclock.h"
#include "mmu/physmem.h"

/* One bus clock: the timer's input before the divider. The board must tell
 * the guest the same frequency wherever it states one (none of the tables a
 * PC firmware builds does; Linux and Windows calibrate against the PIT). */
#define APIC_TICK_NS 1u
#define APIC_BUS_HZ  (1000000000u / APIC_TICK_NS)

#define APIC_VERSION        0x00050014u /* version 0x14, max LVT entry 5 */
#define APIC_MSR_BSP        0x100u
#define APIC_MSR_EN         0x800u
#define APIC_MSR_BASE_MASK  0xFFFFF000u
#define APIC_DEFAULT_MSR    0xFEE00900u /* power-up IA32_APIC_BASE of the BSP */
#define APIC_PAGE_SIZE      0x1000u

/* Register offsets in the page */
enum {
    APIC_ID = 0x20, APIC_VER = 0x30, APIC_TPR = 0x80, APIC_APR = 0x90,
    APIC_PPR = 0xA0, APIC_EOI = 0xB0, APIC_RRD = 0xC0, APIC_LDR = 0xD0,
    APIC_DFR = 0xE0, APIC_SVR = 0xF0, APIC_ISR = 0x100, APIC_TMR = 0x180,
    APIC_IRR = 0x200, APIC_ESR = 0x280, APIC_ICR_LO = 0x300, APIC_ICR_HI = 0x310,
    APIC_LVT_TIMER = 0x320, APIC_LVT_THERMAL = 0x330, APIC_LVT_PERF = 0x340,
    APIC_LVT_LINT0 = 0x350, APIC_LVT_LINT1 = 0x360, APIC_LVT_ERROR = 0x370,
    APIC_TIMER_ICR = 0x380, APIC_TIMER_CCR = 0x390, APIC_TIMER_DCR = 0x3E0,
};

/* LVT and ICR bits */
#define APIC_LVT_MASKED     0x10000u
#define APIC_LVT_PERIODIC   0x20000u    /* timer mode (bit 17) */
#define APIC_LVT_LEVEL      0x8000u     /* trigger mode */
#define APIC_LVT_REMOTE_IRR 0x4000u
#define APIC_LVT_ACTIVE_LOW 0x2000u     /* input pin polarity */
#define APIC_SVR_ENABLE     0x100u

/* Delivery modes (LVT, ICR, I/O APIC redirection entries) */
enum { APIC_DM_FIXED = 0, APIC_DM_LOWEST = 1, APIC_DM_SMI = 2, APIC_DM_NMI = 4,
       APIC_DM_INIT = 5, APIC_DM_STARTUP = 6, APIC_DM_EXTINT = 7 };

/* Error status bits (ESR) */
#define APIC_ESR_SEND_ILLEGAL 0x20u
#define APIC_ESR_RECV_ILLEGAL 0x40u
#define APIC_ESR_ILLEGAL_REG  0x80u

enum { APIC_LVT_N = 6 };  /* timer, thermal, perf, LINT0, LINT1, error */

typedef int apic_extint_ack_fn(void *opaque);
typedef void apic_eoi_fn(void *opaque, int vector);

struct apic {
    /* saved state */
    uint32_t id;            /* APIC ID register: ID in bits 31:24 */
    uint32_t tpr;           /* task priority, bits 7:0 */
    uint32_t ldr;           /* logical destination, bits 31:24 */
    uint32_t dfr;           /* destination format: bits 31:28 flat (F) or cluster (0) */
    uint32_t svr;           /* spurious vector, APIC enable (8), focus disable (9) */
    uint32_t isr[8];        /* in service, 256 bits */
    uint32_t tmr[8];        /* trigger mode of the accepted vectors (1 = level) */
    uint32_t irr[8];        /* requests, 256 bits */
    uint32_t esr;           /* error status as the guest reads it (latched by a write) */
    uint32_t esr_pending;   /* errors found since the last ESR write */
    uint32_t icr_lo, icr_hi;/* interrupt command, as written (delivery status 0) */
    uint32_t lvt[APIC_LVT_N];
    uint32_t dcr;           /* divide configuration, bits 3 and 1:0 */
    uint32_t initial_count;
    uint64_t deadline;      /* ns at which the current count reaches 0; VCLOCK_NEVER
                             * when the timer is stopped (current count 0) */
    uint64_t msr;           /* IA32_APIC_BASE as last given by the board */
    uint8_t lint_level[2];  /* LINT0/LINT1 pin levels (before polarity) */
    uint8_t extint_pending; /* an ExtINT message waits for the CPU's acknowledge */
    /* configuration and wiring, not saved */
    uint8_t reset_id;       /* APIC ID after reset: set it, then apic_reset() */
    struct irq_line intr;   /* to the CPU's INTR pin */
    struct irq_line nmi;    /* to the CPU's NMI (pulsed) */
    apic_extint_ack_fn *extint_ack;   /* the 8259's INTA; NULL answers spurious */
    void *extint_opaque;
    apic_eoi_fn *eoi;       /* EOI broadcast for level-triggered vectors */
    void *eoi_opaque;
    struct vclock *clock;
    struct timer timer;
    struct physmem *pm;     /* where the register page is mapped (apic_set_base) */
    uint32_t mapped_base;   /* mapped page, valid while mapped != 0 */
    uint8_t mapped;
};

/* Resets the APIC (MSR at APIC_DEFAULT_MSR, nothing mapped until the board
 * calls apic_set_base). */
void apic_init(struct apic *a, struct vclock *clock);
/* Power-up/RESET state: ID = reset_id, all LVTs masked, SVR 0xFF (software
 * disabled), DFR all ones, timer stopped, IA32_APIC_BASE back to its default
 * (the mapping follows when a physmem is attached). */
void apic_reset(void *a);

/* The board calls this after reset and after every WRMSR to IA32_APIC_BASE
 * (0x1B) with the new value. It (re)maps the register page at msr[31:12] in pm
 * when EN (bit 11) is set and unmaps it when clear; pm may be NULL (no
 * mapping). Clearing EN is a global disable: the registers go back to their
 * reset values, LINT0 then drives INTR directly and LINT1 NMI, and messages are
 * ignored; setting EN again leaves the APIC software-disabled. Whatever lay
 * beneath a page the APIC leaves is not restored (nothing does on a PC). */
void apic_set_base(struct apic *a, struct physmem *pm, uint64_t msr);

/* irq_handler_fn for the LINT pins: opaque = struct apic, n = 0 or 1. */
void apic_set_lint(void *opaque, int n, int level);

/* The CPU's interrupt acknowledge: ExtINT first (the 8259's vector through
 * extint_ack), else the highest requested vector above the processor
 * priority, moved from IRR to ISR. With nothing to give it returns the
 * spurious vector (ISR unchanged); -1 only when the APIC is globally disabled
 * and LINT0 is low. */
int apic_get_interrupt(struct apic *a);
/* 1 when the INTR output is (or should be) high. */
int apic_has_interrupt(const struct apic *a);

/* An interrupt message for this APIC, without destination checks: fixed and
 * lowest priority set IRR (and TMR when level), NMI pulses nmi, ExtINT waits
 * for apic_get_interrupt; SMI, INIT and STARTUP are ignored (one CPU). */
void apic_deliver(struct apic *a, int vector, int delivery_mode, int level);
/* The same behind a destination check: physical (dest_mode 0) matches our ID
 * or 0xFF, logical the LDR in the flat or cluster model (lowest priority is
 * ours whenever the logical destination names us). Signature of the I/O
 * APIC's deliver callback; opaque = struct apic. */
void apic_bus_deliver(void *opaque, uint8_t dest, int dest_mode, int vector,
                      int delivery_mode, int level);

/* Timer current count at the current virtual time (what 0x390 reads). */
uint32_t apic_current_count(struct apic *a);

extern const struct bus_ops apic_bus_ops;         /* dev = struct apic, 4 KiB page */
extern const struct device_ops apic_device_ops;   /* "apic" */

#endif
