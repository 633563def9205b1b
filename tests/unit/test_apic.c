/* The local APIC through its register page on a stepped virtual clock, with a
 * fake CPU (INTR level, NMI count), a fake 8259 (ExtINT acknowledge) and an
 * EOI-broadcast log: reset values and write masks, priorities, the
 * IRR -> ISR -> EOI flow, timer deadlines for every divider, IPIs to self,
 * ESR, LINT pins, global/software disable, physmem mapping, state round trip. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "devices/apic.h"

struct rig {
    struct vclock clk;
    struct apic a;
    int intr, nmi;            /* INTR level, NMI pulses seen */
    int pic_vector, pic_acks; /* fake 8259 */
    struct irq_line pic_int;  /* its INT output, wired to LINT0 */
    int eoi[16], neoi;        /* EOI broadcasts */
};

static void cpu_intr(void *opaque, int n, int level) { (void)n; ((struct rig *)opaque)->intr = level; }
static void cpu_nmi(void *opaque, int n, int level)
{
    (void)n;
    if (level)
        ((struct rig *)opaque)->nmi++;
}
static int pic_ack(void *opaque)
{
    struct rig *r = opaque;
    r->pic_acks++;
    irq_lower(&r->pic_int);   /* the 8259 drops INT once its request is in service */
    return r->pic_vector;
}
static void eoi_log(void *opaque, int vector)
{
    struct rig *r = opaque;
    if (r->neoi < 16)
        r->eoi[r->neoi++] = vector;
}

static void rig_setup(struct rig *r)
{
    memset(r, 0, sizeof(*r));
    vclock_init(&r->clk);
    apic_init(&r->a, &r->clk);
    irq_connect(&r->a.intr, cpu_intr, r, 0);
    irq_connect(&r->a.nmi, cpu_nmi, r, 0);
    r->a.extint_ack = pic_ack;
    r->a.extint_opaque = r;
    r->a.eoi = eoi_log;
    r->a.eoi_opaque = r;
    irq_connect(&r->pic_int, apic_set_lint, &r->a, 0);
    r->pic_vector = 0x08;
}

static uint32_t rd(struct rig *r, uint32_t off) { return apic_bus_ops.read(&r->a, off, 4); }
static void wr(struct rig *r, uint32_t off, uint32_t v) { apic_bus_ops.write(&r->a, off, v, 4); }
static void at(struct rig *r, uint64_t ns) { vclock_advance(&r->clk, ns); }
static int irr_bit(struct rig *r, int v) { return rd(r, APIC_IRR + (uint32_t)(v >> 5) * 16) >> (v & 31) & 1; }
static int isr_bit(struct rig *r, int v) { return rd(r, APIC_ISR + (uint32_t)(v >> 5) * 16) >> (v & 31) & 1; }
static int tmr_bit(struct rig *r, int v) { return rd(r, APIC_TMR + (uint32_t)(v >> 5) * 16) >> (v & 31) & 1; }
static uint32_t esr(struct rig *r) { wr(r, APIC_ESR, 0); return rd(r, APIC_ESR); }
static void enable(struct rig *r) { wr(r, APIC_SVR, 0x1FF); }

START_TEST(test_reset_values)
{
    struct rig r;
    rig_setup(&r);
    ck_assert_uint_eq(rd(&r, APIC_ID), 0);
    ck_assert_uint_eq(rd(&r, APIC_VER), 0x00050014);
    ck_assert_uint_eq(rd(&r, APIC_TPR), 0);
    ck_assert_uint_eq(rd(&r, APIC_APR), 0);
    ck_assert_uint_eq(rd(&r, APIC_PPR), 0);
    ck_assert_uint_eq(rd(&r, APIC_LDR), 0);
    ck_assert_uint_eq(rd(&r, APIC_DFR), 0xFFFFFFFF);
    ck_assert_uint_eq(rd(&r, APIC_SVR), 0xFF);
    for (uint32_t o = APIC_ISR; o < APIC_ESR; o += 16)
        ck_assert_uint_eq(rd(&r, o), 0);
    ck_assert_uint_eq(rd(&r, APIC_ESR), 0);
    ck_assert_uint_eq(rd(&r, APIC_ICR_LO), 0);
    ck_assert_uint_eq(rd(&r, APIC_ICR_HI), 0);
    for (uint32_t o = APIC_LVT_TIMER; o <= APIC_LVT_ERROR; o += 16)
        ck_assert_uint_eq(rd(&r, o), 0x10000);
    ck_assert_uint_eq(rd(&r, APIC_TIMER_ICR), 0);
    ck_assert_uint_eq(rd(&r, APIC_TIMER_CCR), 0);
    ck_assert_uint_eq(rd(&r, APIC_TIMER_DCR), 0);
    ck_assert_uint_eq(r.a.msr, 0xFEE00900u);
    ck_assert_int_eq(r.intr, 0);
    ck_assert_uint_eq(vclock_next_deadline(&r.clk), VCLOCK_NEVER);

    /* reset brings it all back, with the board's reset ID */
    enable(&r);
    wr(&r, APIC_TPR, 0x20);
    wr(&r, APIC_LVT_LINT0, 0x700);
    wr(&r, APIC_TIMER_ICR, 1000);
    r.a.reset_id = 3;
    apic_reset(&r.a);
    ck_assert_uint_eq(rd(&r, APIC_ID), 0x03000000);
    ck_assert_uint_eq(rd(&r, APIC_TPR), 0);
    ck_assert_uint_eq(rd(&r, APIC_SVR), 0xFF);
    ck_assert_uint_eq(rd(&r, APIC_LVT_LINT0), 0x10000);
    ck_assert_uint_eq(rd(&r, APIC_TIMER_ICR), 0);
    ck_assert_uint_eq(vclock_next_deadline(&r.clk), VCLOCK_NEVER);
}
END_TEST

START_TEST(test_write_masks)
{
    struct rig r;
    rig_setup(&r);
    /* software-disabled: LVT masks stay set */
    wr(&r, APIC_LVT_LINT0, 0x700);
    ck_assert_uint_eq(rd(&r, APIC_LVT_LINT0), 0x10700);
    wr(&r, APIC_SVR, 0xFFFFFFFF);
    ck_assert_uint_eq(rd(&r, APIC_SVR), 0x3FF);
    wr(&r, APIC_SVR, 0x100);
    ck_assert_uint_eq(rd(&r, APIC_SVR), 0x10F);           /* P6: bits 3:0 read 1 */
    static const struct { uint32_t reg, val; } m[] = {
        { APIC_ID, 0xFF000000 }, { APIC_TPR, 0xFF }, { APIC_LDR, 0xFF000000 },
        { APIC_DFR, 0xFFFFFFFF }, { APIC_ICR_HI, 0xFF000000 },
        { APIC_LVT_TIMER, 0x300FF }, { APIC_LVT_THERMAL, 0x107FF },
        { APIC_LVT_PERF, 0x107FF }, { APIC_LVT_LINT0, 0x1A7FF },
        { APIC_LVT_LINT1, 0x1A7FF }, { APIC_LVT_ERROR, 0x100FF },
        { APIC_TIMER_DCR, 0xB }, { APIC_VER, 0x00050014 }, { APIC_PPR, 0xFF },
        { APIC_APR, 0xFF }, { APIC_TIMER_CCR, 0 },
    };
    for (unsigned i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
        wr(&r, m[i].reg, 0xFFFFFFFF);
        ck_assert_msg(rd(&r, m[i].reg) == m[i].val, "reg 0x%x: 0x%x", m[i].reg, rd(&r, m[i].reg));
    }
    wr(&r, APIC_TPR, 0);
    wr(&r, APIC_DFR, 0);
    ck_assert_uint_eq(rd(&r, APIC_DFR), 0x0FFFFFFF);       /* cluster model */
    wr(&r, APIC_ISR, 0xFFFFFFFF);                          /* read-only */
    ck_assert_uint_eq(rd(&r, APIC_ISR), 0);
    ck_assert_uint_eq(rd(&r, APIC_IRR + 0x70), 0);
    wr(&r, APIC_ICR_HI, 0x12345678);
    ck_assert_uint_eq(rd(&r, APIC_ICR_HI), 0x12000000);
    /* narrow reads and the unused bytes of each 16-byte slot */
    ck_assert_uint_eq(apic_bus_ops.read(&r.a, APIC_ID + 3, 1), 0xFF);
    ck_assert_uint_eq(apic_bus_ops.read(&r.a, APIC_VER + 2, 2), 0x0005);
    ck_assert_uint_eq(apic_bus_ops.read(&r.a, APIC_VER, 1), 0x14);
    ck_assert_uint_eq(apic_bus_ops.read(&r.a, APIC_VER + 4, 4), 0);
    /* writes other than aligned dwords are dropped */
    apic_bus_ops.write(&r.a, APIC_TPR, 0x33, 1);
    apic_bus_ops.write(&r.a, APIC_TPR + 4, 0x33, 4);
    ck_assert_uint_eq(rd(&r, APIC_TPR), 0);
    ck_assert_uint_eq(esr(&r), 0);
    /* reserved registers: illegal register address */
    ck_assert_uint_eq(rd(&r, 0x40), 0);
    ck_assert_uint_eq(esr(&r), APIC_ESR_ILLEGAL_REG);
    wr(&r, 0x3F0, 1);
    ck_assert_uint_eq(esr(&r), APIC_ESR_ILLEGAL_REG);
    ck_assert_uint_eq(esr(&r), 0);
    /* software disable sets every mask again */
    wr(&r, APIC_LVT_TIMER, 0x20);
    wr(&r, APIC_SVR, 0xFF);
    ck_assert_uint_eq(rd(&r, APIC_LVT_TIMER), 0x10020);
}
END_TEST

START_TEST(test_priority)
{
    struct rig r;
    rig_setup(&r);
    enable(&r);
    wr(&r, APIC_TPR, 0x50);
    ck_assert_uint_eq(rd(&r, APIC_PPR), 0x50);
    apic_deliver(&r.a, 0x45, APIC_DM_FIXED, 0);
    ck_assert(irr_bit(&r, 0x45));
    ck_assert_int_eq(r.intr, 0);                         /* class 4 <= TPR class 5 */
    ck_assert_int_eq(apic_has_interrupt(&r.a), 0);
    apic_deliver(&r.a, 0x5F, APIC_DM_FIXED, 0);
    ck_assert_int_eq(r.intr, 0);                         /* same class as TPR */
    apic_deliver(&r.a, 0x61, APIC_DM_FIXED, 0);
    ck_assert_int_eq(r.intr, 1);
    ck_assert_uint_eq(rd(&r, APIC_APR), 0x60);
    ck_assert_int_eq(apic_get_interrupt(&r.a), 0x61);
    ck_assert(!irr_bit(&r, 0x61));
    ck_assert(isr_bit(&r, 0x61));
    ck_assert_uint_eq(rd(&r, APIC_PPR), 0x60);           /* ISR class above TPR */
    ck_assert_int_eq(r.intr, 0);
    wr(&r, APIC_TPR, 0x65);
    ck_assert_uint_eq(rd(&r, APIC_PPR), 0x65);
    wr(&r, APIC_TPR, 0x00);
    ck_assert_uint_eq(rd(&r, APIC_PPR), 0x60);
    ck_assert_int_eq(r.intr, 0);                         /* 0x5F and 0x45 below 0x61 */
    wr(&r, APIC_EOI, 0);
    ck_assert(!isr_bit(&r, 0x61));
    ck_assert_uint_eq(rd(&r, APIC_PPR), 0);
    ck_assert_int_eq(r.intr, 1);
    ck_assert_int_eq(apic_get_interrupt(&r.a), 0x5F);
    ck_assert_int_eq(r.intr, 0);                         /* 0x45: class 4 < 5 */
    wr(&r, APIC_EOI, 0);
    ck_assert_int_eq(apic_get_interrupt(&r.a), 0x45);
    wr(&r, APIC_EOI, 0);
    ck_assert_int_eq(r.neoi, 0);                         /* all edge: no broadcast */
}
END_TEST

START_TEST(test_nested_eoi)
{
    struct rig r;
    rig_setup(&r);
    enable(&r);
    apic_deliver(&r.a, 0x31, APIC_DM_FIXED, 0);
    ck_assert_uint_eq(rd(&r, APIC_IRR + 0x10), 1u << 17);
    ck_assert_int_eq(apic_get_interrupt(&r.a), 0x31);
    ck_assert_uint_eq(rd(&r, APIC_ISR + 0x10), 1u << 17);
    apic_deliver(&r.a, 0xE0, APIC_DM_FIXED, 1);           /* level: TMR */
    ck_assert(tmr_bit(&r, 0xE0));
    ck_assert_int_eq(r.intr, 1);                         /* nests above 0x31 */
    ck_assert_int_eq(apic_get_interrupt(&r.a), 0xE0);
    apic_deliver(&r.a, 0x32, APIC_DM_FIXED, 0);
    apic_deliver(&r.a, 0xE1, APIC_DM_FIXED, 0);
    ck_assert_int_eq(r.intr, 0);                         /* same class as 0xE0 */
    ck_assert_uint_eq(rd(&r, APIC_PPR), 0xE0);
    wr(&r, APIC_EOI, 0);                                 /* ends 0xE0 (highest) */
    ck_assert_int_eq(r.neoi, 1);
    ck_assert_int_eq(r.eoi[0], 0xE0);
    ck_assert(isr_bit(&r, 0x31));
    ck_assert(!isr_bit(&r, 0xE0));
    ck_assert_int_eq(apic_get_interrupt(&r.a), 0xE1);
    ck_assert(!tmr_bit(&r, 0xE1));
    wr(&r, APIC_EOI, 0);
    ck_assert_int_eq(r.neoi, 1);                         /* edge: no broadcast */
    ck_assert_int_eq(r.intr, 0);                         /* 0x32 same class as 0x31 */
    wr(&r, APIC_EOI, 0);
    ck_assert_int_eq(r.intr, 1);
    ck_assert_int_eq(apic_get_interrupt(&r.a), 0x32);
    wr(&r, APIC_EOI, 0);
    wr(&r, APIC_EOI, 0);                                 /* EOI with nothing in service */
    for (uint32_t o = APIC_ISR; o < APIC_TMR; o += 16)
        ck_assert_uint_eq(rd(&r, o), 0);
    ck_assert_int_eq(r.intr, 0);
}
END_TEST

START_TEST(test_spurious)
{
    struct rig r;
    rig_setup(&r);
    wr(&r, APIC_SVR, 0x1E0);
    ck_assert_uint_eq(rd(&r, APIC_SVR), 0x1EF);
    ck_assert_int_eq(apic_get_interrupt(&r.a), 0xEF);    /* nothing pending */
    apic_deliver(&r.a, 0x40, APIC_DM_FIXED, 0);
    wr(&r, APIC_TPR, 0x40);                              /* raised before the INTA */
    ck_assert_int_eq(apic_get_interrupt(&r.a), 0xEF);
    ck_assert(irr_bit(&r, 0x40));
    ck_assert_uint_eq(rd(&r, APIC_ISR + 0x20), 0);
    wr(&r, APIC_TPR, 0);
    ck_assert_int_eq(apic_get_interrupt(&r.a), 0x40);
}
END_TEST

/* One-shot at every divider: the count steps down once per divider*tick ns
 * and the interrupt comes exactly at the deadline. */
START_TEST(test_timer_oneshot_dividers)
{
    static const uint32_t dcr[8] = { 0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xA, 0xB };
    static const uint32_t div[8] = { 2, 4, 8, 16, 32, 64, 128, 1 };
    for (int i = 0; i < 8; i++) {
        struct rig r;
        rig_setup(&r);
        enable(&r);
        uint64_t t = (uint64_t)div[i] * APIC_TICK_NS, t0 = 5000 + (uint64_t)i;
        at(&r, t0);
        wr(&r, APIC_TIMER_DCR, dcr[i]);
        ck_assert_uint_eq(rd(&r, APIC_TIMER_DCR), dcr[i]);
        wr(&r, APIC_LVT_TIMER, 0x40);
        wr(&r, APIC_TIMER_ICR, 1000);
        ck_assert_uint_eq(rd(&r, APIC_TIMER_ICR), 1000);
        ck_assert_uint_eq(rd(&r, APIC_TIMER_CCR), 1000);
        ck_assert_uint_eq(vclock_next_deadline(&r.clk), t0 + 1000 * t);
        at(&r, t0 + 250 * t);
        ck_assert_uint_eq(rd(&r, APIC_TIMER_CCR), 750);
        at(&r, t0 + 251 * t - 1);
        ck_assert_uint_eq(rd(&r, APIC_TIMER_CCR), 750);
        at(&r, t0 + 1000 * t - 1);
        ck_assert_uint_eq(rd(&r, APIC_TIMER_CCR), 1);
        ck_assert(!irr_bit(&r, 0x40));
        ck_assert_int_eq(r.intr, 0);
        at(&r, t0 + 1000 * t);
        ck_assert(irr_bit(&r, 0x40));
        ck_assert_int_eq(r.intr, 1);
        ck_assert_uint_eq(rd(&r, APIC_TIMER_CCR), 0);
        ck_assert_uint_eq(vclock_next_deadline(&r.clk), VCLOCK_NEVER);
        ck_assert_int_eq(apic_get_interrupt(&r.a), 0x40);
        wr(&r, APIC_EOI, 0);
        at(&r, t0 + 5000 * t);
        ck_assert(!irr_bit(&r, 0x40));
        ck_assert_uint_eq(rd(&r, APIC_TIMER_CCR), 0);
        ck_assert_uint_eq(rd(&r, APIC_TIMER_ICR), 1000);
    }
}
END_TEST

START_TEST(test_timer_periodic)
{
    struct rig r;
    rig_setup(&r);
    enable(&r);
    at(&r, 777);
    wr(&r, APIC_TIMER_DCR, 0x3);                         /* divide by 16 */
    wr(&r, APIC_LVT_TIMER, APIC_LVT_PERIODIC | 0x50);
    wr(&r, APIC_TIMER_ICR, 100);                         /* period 1600 ns */
    uint64_t t0 = 777, p = 1600 * APIC_TICK_NS;
    for (int k = 1; k <= 5; k++) {
        at(&r, t0 + k * p - 1);
        ck_assert_uint_eq(rd(&r, APIC_TIMER_CCR), 1);
        ck_assert_int_eq(r.intr, 0);
        at(&r, t0 + k * p);
        ck_assert_int_eq(r.intr, 1);
        ck_assert_uint_eq(rd(&r, APIC_TIMER_CCR), 100);  /* reloaded */
        ck_assert_uint_eq(vclock_next_deadline(&r.clk), t0 + (k + 1) * p);
        ck_assert_int_eq(apic_get_interrupt(&r.a), 0x50);
        wr(&r, APIC_EOI, 0);
    }
    at(&r, t0 + 5 * p + 3 * 16 * APIC_TICK_NS + 5);
    ck_assert_uint_eq(rd(&r, APIC_TIMER_CCR), 97);
    /* a jump over many periods: one IRR bit, the phase kept */
    at(&r, t0 + 20 * p + 40);
    ck_assert(irr_bit(&r, 0x50));
    ck_assert_uint_eq(vclock_next_deadline(&r.clk), t0 + 21 * p);
    ck_assert_int_eq(apic_get_interrupt(&r.a), 0x50);
    ck_assert_int_eq(r.intr, 0);
    wr(&r, APIC_EOI, 0);
    /* masked: keeps counting, no interrupt */
    wr(&r, APIC_LVT_TIMER, APIC_LVT_MASKED | APIC_LVT_PERIODIC | 0x50);
    at(&r, t0 + 23 * p);
    ck_assert(!irr_bit(&r, 0x50));
    ck_assert_uint_eq(vclock_next_deadline(&r.clk), t0 + 24 * p);
    /* back to one-shot: this count runs out, then it stops */
    wr(&r, APIC_LVT_TIMER, 0x50);
    at(&r, t0 + 24 * p);
    ck_assert(irr_bit(&r, 0x50));
    ck_assert_uint_eq(vclock_next_deadline(&r.clk), VCLOCK_NEVER);
    ck_assert_uint_eq(rd(&r, APIC_TIMER_CCR), 0);
}
END_TEST

START_TEST(test_timer_stop_and_divide_change)
{
    struct rig r;
    rig_setup(&r);
    enable(&r);
    wr(&r, APIC_TIMER_DCR, 0xB);                         /* divide by 1 */
    wr(&r, APIC_LVT_TIMER, 0x60);
    wr(&r, APIC_TIMER_ICR, 1000);
    at(&r, 400 * APIC_TICK_NS);
    ck_assert_uint_eq(rd(&r, APIC_TIMER_CCR), 600);
    wr(&r, APIC_TIMER_DCR, 0x1);                         /* divide by 4 from now on */
    ck_assert_uint_eq(rd(&r, APIC_TIMER_CCR), 600);
    ck_assert_uint_eq(vclock_next_deadline(&r.clk), (400 + 2400) * APIC_TICK_NS);
    at(&r, (400 + 4 * 100) * APIC_TICK_NS);
    ck_assert_uint_eq(rd(&r, APIC_TIMER_CCR), 500);
    wr(&r, APIC_TIMER_ICR, 0);                           /* stops */
    ck_assert_uint_eq(rd(&r, APIC_TIMER_CCR), 0);
    ck_assert_uint_eq(vclock_next_deadline(&r.clk), VCLOCK_NEVER);
    at(&r, 100000);
    ck_assert(!irr_bit(&r, 0x60));
    /* a rewrite restarts from the new count */
    wr(&r, APIC_TIMER_ICR, 10);
    at(&r, 100000 + 39);
    ck_assert_uint_eq(rd(&r, APIC_TIMER_CCR), 1);
    wr(&r, APIC_TIMER_ICR, 10);
    at(&r, 100000 + 41);
    ck_assert_uint_eq(rd(&r, APIC_TIMER_CCR), 10);
    at(&r, 100000 + 78);
    ck_assert(!irr_bit(&r, 0x60));
    at(&r, 100000 + 79);                                 /* 39 + 10 * 4 */
    ck_assert(irr_bit(&r, 0x60));
}
END_TEST

START_TEST(test_self_ipi)
{
    struct rig r;
    rig_setup(&r);
    enable(&r);
    wr(&r, APIC_ID, 0x05000000);
    wr(&r, APIC_ICR_LO, 0x00040055);                     /* shorthand self, fixed */
    ck_assert(irr_bit(&r, 0x55));
    ck_assert_uint_eq(rd(&r, APIC_ICR_LO), 0x00040055);  /* delivery status idle */
    wr(&r, APIC_ICR_HI, 0x05000000);
    wr(&r, APIC_ICR_LO, 0x00000056);                     /* physical, our ID */
    ck_assert(irr_bit(&r, 0x56));
    wr(&r, APIC_ICR_HI, 0x04000000);
    wr(&r, APIC_ICR_LO, 0x00000057);                     /* somebody else */
    ck_assert(!irr_bit(&r, 0x57));
    wr(&r, APIC_ICR_LO, 0x000C0058);                     /* all excluding self */
    ck_assert(!irr_bit(&r, 0x58));
    wr(&r, APIC_ICR_LO, 0x00080059);                     /* all including self */
    ck_assert(irr_bit(&r, 0x59));
    wr(&r, APIC_LDR, 0x02000000);
    wr(&r, APIC_ICR_HI, 0x06000000);
    wr(&r, APIC_ICR_LO, 0x0000085A);                     /* logical flat, bit 1 */
    ck_assert(irr_bit(&r, 0x5A));
    wr(&r, APIC_ICR_HI, 0x01000000);
    wr(&r, APIC_ICR_LO, 0x0000085B);
    ck_assert(!irr_bit(&r, 0x5B));
    wr(&r, APIC_ICR_HI, 0x05000000);
    wr(&r, APIC_ICR_LO, 0x00000400);                     /* NMI to our ID */
    ck_assert_int_eq(r.nmi, 1);
    wr(&r, APIC_ICR_LO, 0x0000C500);                     /* INIT: ignored */
    wr(&r, APIC_ICR_LO, 0x000C4500);
    wr(&r, APIC_ICR_LO, 0x000C4608);                     /* SIPI to the others */
    ck_assert_int_eq(r.nmi, 1);
    ck_assert_uint_eq(esr(&r), 0);
    ck_assert_int_eq(apic_get_interrupt(&r.a), 0x5A);
}
END_TEST

START_TEST(test_esr_illegal_vector)
{
    struct rig r;
    rig_setup(&r);
    enable(&r);
    apic_deliver(&r.a, 0x05, APIC_DM_FIXED, 0);
    ck_assert_uint_eq(rd(&r, APIC_IRR), 0);
    ck_assert_uint_eq(rd(&r, APIC_ESR), 0);              /* not yet latched */
    wr(&r, APIC_ESR, 0);
    ck_assert_uint_eq(rd(&r, APIC_ESR), APIC_ESR_RECV_ILLEGAL);
    ck_assert_uint_eq(rd(&r, APIC_ESR), APIC_ESR_RECV_ILLEGAL);
    wr(&r, APIC_ESR, 0);
    ck_assert_uint_eq(rd(&r, APIC_ESR), 0);
    /* send side, with the error LVT unmasked */
    wr(&r, APIC_LVT_ERROR, 0xFE);
    wr(&r, APIC_ICR_LO, 0x0004000F);
    ck_assert_uint_eq(rd(&r, APIC_IRR), 0);
    ck_assert(irr_bit(&r, 0xFE));
    ck_assert_uint_eq(esr(&r), APIC_ESR_SEND_ILLEGAL);
    /* an illegal vector in the error LVT itself only adds a bit */
    wr(&r, APIC_LVT_ERROR, 0x03);
    wr(&r, APIC_LVT_LINT1, 0x0001);                      /* fixed, edge, vector 1 */
    apic_set_lint(&r.a, 1, 1);
    ck_assert_uint_eq(esr(&r), APIC_ESR_RECV_ILLEGAL);
    ck_assert_uint_eq(rd(&r, APIC_IRR), 0);
}
END_TEST

START_TEST(test_lint0_extint)
{
    struct rig r;
    rig_setup(&r);
    irq_raise(&r.pic_int);
    ck_assert_int_eq(r.intr, 0);                         /* software-disabled, masked */
    enable(&r);
    ck_assert_int_eq(r.intr, 0);
    wr(&r, APIC_LVT_LINT0, 0x8700);                      /* ExtINT (as SeaBIOS) */
    ck_assert_int_eq(r.intr, 1);
    apic_deliver(&r.a, 0x30, APIC_DM_FIXED, 0);
    ck_assert_int_eq(apic_get_interrupt(&r.a), 0x08);    /* the 8259 answers first */
    ck_assert_int_eq(r.pic_acks, 1);
    ck_assert_int_eq(r.intr, 1);                         /* 0x30 still pending */
    ck_assert_int_eq(apic_get_interrupt(&r.a), 0x30);
    ck_assert_int_eq(r.intr, 0);
    r.pic_vector = 0x71;
    irq_raise(&r.pic_int);
    ck_assert_int_eq(r.intr, 1);
    wr(&r, APIC_TPR, 0xF0);                              /* TPR does not gate ExtINT */
    ck_assert_int_eq(r.intr, 1);
    wr(&r, APIC_LVT_LINT0, 0x18700);                     /* masked */
    ck_assert_int_eq(r.intr, 0);
    wr(&r, APIC_LVT_LINT0, 0x8700);
    ck_assert_int_eq(apic_get_interrupt(&r.a), 0x71);
    ck_assert_int_eq(r.intr, 0);
    ck_assert_uint_eq(rd(&r, APIC_ISR + 0x30), 0);       /* ExtINT bypasses ISR */
    /* an ExtINT message (I/O APIC pin in ExtINT mode) */
    wr(&r, APIC_LVT_LINT0, 0x10000);
    apic_deliver(&r.a, 0, APIC_DM_EXTINT, 0);
    ck_assert_int_eq(r.intr, 1);
    ck_assert_int_eq(apic_get_interrupt(&r.a), 0x71);
    ck_assert_int_eq(r.intr, 0);
    ck_assert_int_eq(r.pic_acks, 3);
}
END_TEST

START_TEST(test_global_disable)
{
    struct rig r;
    rig_setup(&r);
    enable(&r);
    wr(&r, APIC_TPR, 0x20);
    apic_deliver(&r.a, 0x40, APIC_DM_FIXED, 0);
    apic_set_base(&r.a, NULL, 0xFEE00100);               /* EN clear */
    ck_assert_uint_eq(rd(&r, APIC_TPR), 0);              /* registers reset */
    ck_assert_uint_eq(rd(&r, APIC_SVR), 0xFF);
    ck_assert_int_eq(r.intr, 0);
    ck_assert_int_eq(apic_get_interrupt(&r.a), -1);
    /* LINT0 is INTR, LINT1 is NMI */
    r.pic_vector = 0x09;
    irq_raise(&r.pic_int);
    ck_assert_int_eq(r.intr, 1);
    ck_assert_int_eq(apic_get_interrupt(&r.a), 0x09);
    ck_assert_int_eq(r.intr, 0);
    apic_set_lint(&r.a, 1, 1);
    apic_set_lint(&r.a, 1, 1);
    apic_set_lint(&r.a, 1, 0);
    ck_assert_int_eq(r.nmi, 1);
    apic_deliver(&r.a, 0x40, APIC_DM_FIXED, 0);          /* messages ignored */
    apic_deliver(&r.a, 0, APIC_DM_NMI, 0);
    ck_assert_uint_eq(rd(&r, APIC_IRR + 0x20), 0);
    ck_assert_int_eq(r.nmi, 1);
    /* enabled again: software-disabled, LINT0 masked, no pass-through */
    apic_set_base(&r.a, NULL, 0xFEE00900);
    irq_raise(&r.pic_int);
    ck_assert_int_eq(r.intr, 0);
    ck_assert_uint_eq(rd(&r, APIC_SVR), 0xFF);
    apic_set_lint(&r.a, 1, 1);
    ck_assert_int_eq(r.nmi, 1);
}
END_TEST

START_TEST(test_lint_level_remote_irr)
{
    struct rig r;
    rig_setup(&r);
    enable(&r);
    wr(&r, APIC_LVT_LINT1, 0x8080);                      /* fixed, level, vector 0x80 */
    apic_set_lint(&r.a, 1, 1);
    ck_assert(irr_bit(&r, 0x80));
    ck_assert(tmr_bit(&r, 0x80));
    ck_assert_uint_eq(rd(&r, APIC_LVT_LINT1), 0xC080);   /* remote IRR */
    ck_assert_int_eq(apic_get_interrupt(&r.a), 0x80);
    ck_assert(!irr_bit(&r, 0x80));
    wr(&r, APIC_LVT_LINT1, 0x8080);                      /* remote IRR is read-only */
    ck_assert_uint_eq(rd(&r, APIC_LVT_LINT1), 0xC080);
    wr(&r, APIC_EOI, 0);                                 /* line still high: again */
    ck_assert_int_eq(r.neoi, 1);
    ck_assert_int_eq(r.eoi[0], 0x80);
    ck_assert(irr_bit(&r, 0x80));
    ck_assert_uint_eq(rd(&r, APIC_LVT_LINT1), 0xC080);
    ck_assert_int_eq(apic_get_interrupt(&r.a), 0x80);
    apic_set_lint(&r.a, 1, 0);
    wr(&r, APIC_EOI, 0);
    ck_assert(!irr_bit(&r, 0x80));
    ck_assert_uint_eq(rd(&r, APIC_LVT_LINT1), 0x8080);
    /* masked while asserted: delivered on unmask */
    wr(&r, APIC_LVT_LINT1, 0x18080);
    apic_set_lint(&r.a, 1, 1);
    ck_assert(!irr_bit(&r, 0x80));
    wr(&r, APIC_LVT_LINT1, 0x8080);
    ck_assert(irr_bit(&r, 0x80));
    apic_set_lint(&r.a, 1, 0);
    apic_get_interrupt(&r.a);
    wr(&r, APIC_EOI, 0);
    /* edge, active low: one interrupt per falling edge */
    wr(&r, APIC_LVT_LINT1, 0x2081);
    apic_set_lint(&r.a, 1, 1);
    ck_assert(!irr_bit(&r, 0x81));
    apic_set_lint(&r.a, 1, 0);
    ck_assert(irr_bit(&r, 0x81));
    ck_assert(!tmr_bit(&r, 0x81));
    ck_assert_int_eq(apic_get_interrupt(&r.a), 0x81);
    wr(&r, APIC_EOI, 0);
    apic_set_lint(&r.a, 1, 0);
    ck_assert(!irr_bit(&r, 0x81));
    ck_assert_int_eq(r.neoi, 3);                         /* the level EOIs only */
    /* NMI mode: rising edges only */
    wr(&r, APIC_LVT_LINT1, 0x8400);
    apic_set_lint(&r.a, 1, 1);
    apic_set_lint(&r.a, 1, 0);
    apic_set_lint(&r.a, 1, 1);
    ck_assert_int_eq(r.nmi, 2);
}
END_TEST

START_TEST(test_message_destinations)
{
    struct rig r;
    rig_setup(&r);
    enable(&r);
    wr(&r, APIC_ID, 0x02000000);
    apic_bus_deliver(&r.a, 2, 0, 0x40, APIC_DM_FIXED, 0);
    apic_bus_deliver(&r.a, 3, 0, 0x41, APIC_DM_FIXED, 0);
    apic_bus_deliver(&r.a, 0xFF, 0, 0x42, APIC_DM_FIXED, 0);
    ck_assert_uint_eq(rd(&r, APIC_IRR + 0x20), 0x5);
    wr(&r, APIC_LDR, 0x24000000);
    apic_bus_deliver(&r.a, 0x04, 1, 0x43, APIC_DM_LOWEST, 0);   /* flat */
    apic_bus_deliver(&r.a, 0x08, 1, 0x44, APIC_DM_FIXED, 0);
    wr(&r, APIC_DFR, 0x0FFFFFFF);                        /* cluster 2, member bit 2 */
    apic_bus_deliver(&r.a, 0x24, 1, 0x45, APIC_DM_FIXED, 0);
    apic_bus_deliver(&r.a, 0x14, 1, 0x46, APIC_DM_FIXED, 0);
    apic_bus_deliver(&r.a, 0x2B, 1, 0x47, APIC_DM_FIXED, 0);
    ck_assert_uint_eq(rd(&r, APIC_IRR + 0x20), 0x2D);
    apic_bus_deliver(&r.a, 0x2F, 1, 0x40, APIC_DM_NMI, 0);
    ck_assert_int_eq(r.nmi, 1);
    /* software-disabled: fixed refused, NMI still taken */
    wr(&r, APIC_SVR, 0xFF);
    apic_deliver(&r.a, 0x50, APIC_DM_FIXED, 0);
    apic_deliver(&r.a, 0x50, APIC_DM_NMI, 0);
    ck_assert(!irr_bit(&r, 0x50));
    ck_assert_int_eq(r.nmi, 2);
}
END_TEST

START_TEST(test_physmem_mapping)
{
    struct rig r;
    struct physmem *pm = calloc(1, sizeof(*pm));
    ck_assert_ptr_nonnull(pm);
    ck_assert_int_eq(physmem_init(pm, 1 << 20), 0);
    rig_setup(&r);
    apic_set_base(&r.a, pm, 0xFEE00900);
    ck_assert_uint_eq(phys_read(pm, 0xFEE00030, 4), 0x00050014);
    phys_write(pm, 0xFEE00080, 0x30, 4);
    ck_assert_uint_eq(rd(&r, APIC_TPR), 0x30);
    apic_set_base(&r.a, pm, 0xFED00900);                 /* moved */
    ck_assert_uint_eq(phys_read(pm, 0xFEE00030, 4), 0xFFFFFFFF);
    ck_assert_uint_eq(phys_read(pm, 0xFED00030, 4), 0x00050014);
    ck_assert_uint_eq(phys_read(pm, 0xFED00080, 4), 0x30);
    apic_set_base(&r.a, pm, 0xFED00100);                 /* globally disabled */
    ck_assert_uint_eq(phys_read(pm, 0xFED00030, 4), 0xFFFFFFFF);
    apic_set_base(&r.a, pm, 0xFEE00900);
    ck_assert_uint_eq(phys_read(pm, 0xFEE00080, 4), 0);  /* reset by the disable */
    apic_reset(&r.a);
    ck_assert_uint_eq(phys_read(pm, 0xFEE00030, 4), 0x00050014);
    physmem_free(pm);
    free(pm);
}
END_TEST

START_TEST(test_state_round_trip)
{
    struct rig a, b;
    rig_setup(&a);
    enable(&a);
    at(&a, 12345);
    wr(&a, APIC_TPR, 0x10);
    wr(&a, APIC_LDR, 0x01000000);
    wr(&a, APIC_TIMER_DCR, 0x2);
    wr(&a, APIC_LVT_TIMER, APIC_LVT_PERIODIC | 0x90);
    wr(&a, APIC_TIMER_ICR, 3000);
    wr(&a, APIC_LVT_LINT1, 0x8070);
    apic_set_lint(&a.a, 1, 1);                           /* remote IRR set */
    apic_get_interrupt(&a.a);                            /* 0x70 in service */
    apic_deliver(&a.a, 0x35, APIC_DM_FIXED, 0);
    apic_deliver(&a.a, 0x05, APIC_DM_FIXED, 0);          /* pending error */
    at(&a, 12345 + 8 * 3000 * 2 + 77);

    const struct state_field *f = apic_device_ops.fields;
    size_t n = state_size(f);
    uint8_t s1[512], s2[512];
    ck_assert_uint_le(n, sizeof(s1));
    ck_assert_uint_eq(state_save(f, &a.a, s1), n);
    rig_setup(&b);
    vclock_advance(&b.clk, vclock_now(&a.clk));
    ck_assert_uint_eq(state_load(f, &b.a, s1, n), n);
    ck_assert_int_eq(apic_device_ops.post_load(&b.a), 0);
    ck_assert_uint_eq(state_save(f, &b.a, s2), n);
    ck_assert_mem_eq(s1, s2, n);
    ck_assert_int_eq(b.intr, a.intr);
    ck_assert_uint_eq(vclock_next_deadline(&b.clk), vclock_next_deadline(&a.clk));
    ck_assert_uint_eq(vclock_next_deadline(&b.clk), 12345 + 8 * 3000 * 3);

    for (int i = 0; i < 12; i++) {
        uint64_t t = vclock_now(&a.clk) + 7001;
        at(&a, t);
        at(&b, t);
        ck_assert_uint_eq(rd(&a, APIC_TIMER_CCR), rd(&b, APIC_TIMER_CCR));
        ck_assert_int_eq(apic_get_interrupt(&a.a), apic_get_interrupt(&b.a));
        if (i % 3 == 0) {
            wr(&a, APIC_EOI, 0);
            wr(&b, APIC_EOI, 0);
        }
        ck_assert_int_eq(a.intr, b.intr);
        ck_assert_int_eq(a.neoi, b.neoi);
    }
    ck_assert_uint_eq(esr(&b), APIC_ESR_RECV_ILLEGAL);
    ck_assert_uint_eq(esr(&a), APIC_ESR_RECV_ILLEGAL);
    state_save(f, &a.a, s1);
    state_save(f, &b.a, s2);
    ck_assert_mem_eq(s1, s2, n);
}
END_TEST

Suite *apic_suite(void)
{
    Suite *s = suite_create("apic");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_reset_values);
    tcase_add_test(tc, test_write_masks);
    tcase_add_test(tc, test_priority);
    tcase_add_test(tc, test_nested_eoi);
    tcase_add_test(tc, test_spurious);
    tcase_add_test(tc, test_timer_oneshot_dividers);
    tcase_add_test(tc, test_timer_periodic);
    tcase_add_test(tc, test_timer_stop_and_divide_change);
    tcase_add_test(tc, test_self_ipi);
    tcase_add_test(tc, test_esr_illegal_vector);
    tcase_add_test(tc, test_lint0_extint);
    tcase_add_test(tc, test_global_disable);
    tcase_add_test(tc, test_lint_level_remote_irr);
    tcase_add_test(tc, test_message_destinations);
    tcase_add_test(tc, test_physmem_mapping);
    tcase_add_test(tc, test_state_round_trip);
    suite_add_tcase(s, tc);
    return s;
}
