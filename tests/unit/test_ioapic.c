/* The 82093AA I/O APIC through IOREGSEL/IOWIN with a message log standing in
 * for the APIC bus: register reset values and masks, redirection entries,
 * edge and level pins, polarity, masking, remote IRR and the EOI broadcast,
 * the path into a real local APIC, and a state round trip. */
#include <check.h>
#include <string.h>
#include "devices/apic.h"
#include "devices/ioapic.h"

struct msg { uint8_t dest; int dest_mode, vector, dm, level; };

struct rig {
    struct ioapic io;
    struct msg m[32];
    int n;
};

static void log_msg(void *opaque, uint8_t dest, int dest_mode, int vector, int dm, int level)
{
    struct rig *r = opaque;
    if (r->n < 32)
        r->m[r->n] = (struct msg){ dest, dest_mode, vector, dm, level };
    r->n++;
}

static void rig_setup(struct rig *r)
{
    memset(r, 0, sizeof(*r));
    ioapic_init(&r->io);
    r->io.deliver = log_msg;
    r->io.deliver_opaque = r;
}

static uint32_t rd(struct ioapic *io, uint8_t reg)
{
    ioapic_bus_ops.write(io, 0x00, reg, 1);
    return ioapic_bus_ops.read(io, 0x10, 4);
}
static void wr(struct ioapic *io, uint8_t reg, uint32_t v)
{
    ioapic_bus_ops.write(io, 0x00, reg, 4);
    ioapic_bus_ops.write(io, 0x10, v, 4);
}
static void entry(struct ioapic *io, int pin, uint32_t lo, uint32_t hi)
{
    wr(io, (uint8_t)(0x11 + 2 * pin), hi);
    wr(io, (uint8_t)(0x10 + 2 * pin), lo);
}
static uint32_t entry_lo(struct ioapic *io, int pin) { return rd(io, (uint8_t)(0x10 + 2 * pin)); }
static void pin(struct rig *r, int n, int level) { ioapic_set_irq(&r->io, n, level); }

START_TEST(test_registers)
{
    struct rig r;
    rig_setup(&r);
    ck_assert_uint_eq(rd(&r.io, 0x00), 0);
    ck_assert_uint_eq(rd(&r.io, 0x01), 0x00170011);
    ck_assert_uint_eq(rd(&r.io, 0x02), 0);
    for (int p = 0; p < IOAPIC_PINS; p++) {
        ck_assert_uint_eq(rd(&r.io, (uint8_t)(0x10 + 2 * p)), 0x00010000);
        ck_assert_uint_eq(rd(&r.io, (uint8_t)(0x11 + 2 * p)), 0);
    }
    wr(&r.io, 0x00, 0xFFFFFFFF);
    ck_assert_uint_eq(rd(&r.io, 0x00), 0x0F000000);
    ck_assert_uint_eq(rd(&r.io, 0x02), 0x0F000000);
    wr(&r.io, 0x01, 0);
    ck_assert_uint_eq(rd(&r.io, 0x01), 0x00170011);
    wr(&r.io, 0x3F, 0xFFFFFFFF);                         /* entry 23 high */
    wr(&r.io, 0x3E, 0xFFFFFFFF);                         /* low: no RO bits */
    ck_assert_uint_eq(rd(&r.io, 0x3F), 0xFF000000);
    ck_assert_uint_eq(rd(&r.io, 0x3E), 0x0001AFFF);
    ck_assert_uint_eq(rd(&r.io, 0x40), 0);               /* past the table */
    ck_assert_uint_eq(rd(&r.io, 0x03), 0);
    /* IOREGSEL reads back; IOWIN by bytes; other offsets read 0 */
    ioapic_bus_ops.write(&r.io, 0x00, 0x01, 1);
    ck_assert_uint_eq(ioapic_bus_ops.read(&r.io, 0x00, 4), 0x01);
    ck_assert_uint_eq(ioapic_bus_ops.read(&r.io, 0x12, 1), 0x17);
    ck_assert_uint_eq(ioapic_bus_ops.read(&r.io, 0x10, 2), 0x0011);
    ck_assert_uint_eq(ioapic_bus_ops.read(&r.io, 0x08, 4), 0);
    ck_assert_uint_eq(ioapic_bus_ops.read(&r.io, 0x14, 4), 0);
    ck_assert_int_eq(r.n, 0);                            /* masked-off entry 23 */
    ioapic_reset(&r.io);
    ck_assert_uint_eq(rd(&r.io, 0x00), 0);
    ck_assert_uint_eq(rd(&r.io, 0x3E), 0x00010000);
    ck_assert_uint_eq(rd(&r.io, 0x3F), 0);
}
END_TEST

START_TEST(test_edge)
{
    struct rig r;
    rig_setup(&r);
    entry(&r.io, 1, 0x00000931, 0x0F000000);             /* lowest, logical 0x0F */
    ck_assert_uint_eq(entry_lo(&r.io, 1), 0x931);
    pin(&r, 1, 1);
    ck_assert_int_eq(r.n, 1);
    ck_assert_uint_eq(r.m[0].dest, 0x0F);
    ck_assert_int_eq(r.m[0].dest_mode, 1);
    ck_assert_int_eq(r.m[0].vector, 0x31);
    ck_assert_int_eq(r.m[0].dm, APIC_DM_LOWEST);
    ck_assert_int_eq(r.m[0].level, 0);
    pin(&r, 1, 1);                                       /* held high: nothing */
    pin(&r, 1, 0);
    ck_assert_int_eq(r.n, 1);
    pin(&r, 1, 1);
    ck_assert_int_eq(r.n, 2);
    ck_assert_uint_eq(entry_lo(&r.io, 1), 0x931);        /* no remote IRR for edge */
    ioapic_eoi(&r.io, 0x31);
    ck_assert_int_eq(r.n, 2);
    pin(&r, 1, 0);
    /* masked: the edge is lost, unmasking does not replay it */
    entry(&r.io, 1, 0x00010931, 0x0F000000);
    pin(&r, 1, 1);
    ck_assert_int_eq(r.n, 2);
    entry(&r.io, 1, 0x00000931, 0x0F000000);
    ck_assert_int_eq(r.n, 2);
    pin(&r, 1, 0);
    /* a pin with no entry programmed (reset: masked) and pins out of range */
    pin(&r, 5, 1);
    pin(&r, 24, 1);
    pin(&r, -1, 1);
    ck_assert_int_eq(r.n, 2);
    ck_assert_uint_eq(r.io.pin_level, 0x20);
    /* physical destination and NMI mode */
    entry(&r.io, 7, 0x00000400, 0x03000000);
    pin(&r, 7, 1);
    ck_assert_int_eq(r.n, 3);
    ck_assert_uint_eq(r.m[2].dest, 3);
    ck_assert_int_eq(r.m[2].dest_mode, 0);
    ck_assert_int_eq(r.m[2].dm, APIC_DM_NMI);
}
END_TEST

START_TEST(test_polarity)
{
    struct rig r;
    rig_setup(&r);
    pin(&r, 3, 1);                                       /* idle high (active low) */
    entry(&r.io, 3, IOAPIC_ACTIVE_LOW | 0x33, 0);
    ck_assert_int_eq(r.n, 0);
    pin(&r, 3, 0);                                       /* falling = active edge */
    ck_assert_int_eq(r.n, 1);
    ck_assert_int_eq(r.m[0].vector, 0x33);
    pin(&r, 3, 1);
    ck_assert_int_eq(r.n, 1);
    /* level, active low: asserted while the line is low */
    entry(&r.io, 3, IOAPIC_LEVEL | IOAPIC_ACTIVE_LOW | 0x34, 0);
    ck_assert_int_eq(r.n, 1);
    pin(&r, 3, 0);
    ck_assert_int_eq(r.n, 2);
    ck_assert_int_eq(r.m[1].vector, 0x34);
    ck_assert_int_eq(r.m[1].level, 1);
    ck_assert_uint_eq(entry_lo(&r.io, 3), 0xE034);        /* remote IRR */
    pin(&r, 3, 1);
    ioapic_eoi(&r.io, 0x34);
    ck_assert_int_eq(r.n, 2);
    ck_assert_uint_eq(entry_lo(&r.io, 3), 0xA034);
    /* flipping polarity on a level pin asserts it */
    entry(&r.io, 3, IOAPIC_LEVEL | 0x34, 0);
    ck_assert_int_eq(r.n, 3);
}
END_TEST

START_TEST(test_level_remote_irr)
{
    struct rig r;
    rig_setup(&r);
    entry(&r.io, 9, IOAPIC_LEVEL | 0x49, 0x00000000);
    pin(&r, 9, 1);
    ck_assert_int_eq(r.n, 1);
    ck_assert_int_eq(r.m[0].level, 1);
    ck_assert_int_eq(r.m[0].dm, APIC_DM_FIXED);
    ck_assert_uint_eq(entry_lo(&r.io, 9), IOAPIC_LEVEL | IOAPIC_REMOTE_IRR | 0x49);
    pin(&r, 9, 0);
    pin(&r, 9, 1);                                       /* remote IRR holds it */
    ck_assert_int_eq(r.n, 1);
    entry(&r.io, 9, IOAPIC_LEVEL | 0x49, 0);             /* remote IRR is read-only */
    ck_assert_uint_eq(entry_lo(&r.io, 9), IOAPIC_LEVEL | IOAPIC_REMOTE_IRR | 0x49);
    ioapic_eoi(&r.io, 0x48);                             /* another vector */
    ck_assert_int_eq(r.n, 1);
    ioapic_eoi(&r.io, 0x49);                             /* still asserted: again */
    ck_assert_int_eq(r.n, 2);
    ck_assert_int_eq(r.m[1].vector, 0x49);
    ck_assert_uint_eq(entry_lo(&r.io, 9), IOAPIC_LEVEL | IOAPIC_REMOTE_IRR | 0x49);
    pin(&r, 9, 0);
    ioapic_eoi(&r.io, 0x49);
    ck_assert_int_eq(r.n, 2);
    ck_assert_uint_eq(entry_lo(&r.io, 9), IOAPIC_LEVEL | 0x49);
    /* masked while asserted; unmasking delivers */
    entry(&r.io, 9, IOAPIC_MASKED | IOAPIC_LEVEL | 0x49, 0);
    pin(&r, 9, 1);
    ck_assert_int_eq(r.n, 2);
    entry(&r.io, 9, IOAPIC_LEVEL | 0x49, 0);
    ck_assert_int_eq(r.n, 3);
    /* masked with remote IRR set: EOI clears it, nothing sent until unmask */
    entry(&r.io, 9, IOAPIC_MASKED | IOAPIC_LEVEL | 0x49, 0);
    ioapic_eoi(&r.io, 0x49);
    ck_assert_int_eq(r.n, 3);
    ck_assert_uint_eq(entry_lo(&r.io, 9), IOAPIC_MASKED | IOAPIC_LEVEL | 0x49);
    entry(&r.io, 9, IOAPIC_LEVEL | 0x49, 0);
    ck_assert_int_eq(r.n, 4);
    /* switching to edge clears remote IRR (Linux's EOI trick on 82093AA) */
    entry(&r.io, 9, IOAPIC_MASKED | 0x49, 0);
    ck_assert_uint_eq(entry_lo(&r.io, 9), IOAPIC_MASKED | 0x49);
    entry(&r.io, 9, IOAPIC_LEVEL | 0x49, 0);
    ck_assert_int_eq(r.n, 5);
    /* two pins sharing a vector both get cleared by one EOI */
    entry(&r.io, 10, IOAPIC_LEVEL | 0x49, 0);
    pin(&r, 10, 1);
    ck_assert_int_eq(r.n, 6);
    pin(&r, 9, 0);
    pin(&r, 10, 0);
    ioapic_eoi(&r.io, 0x49);
    ck_assert_uint_eq(entry_lo(&r.io, 9), IOAPIC_LEVEL | 0x49);
    ck_assert_uint_eq(entry_lo(&r.io, 10), IOAPIC_LEVEL | 0x49);
    /* level entries in NMI or ExtINT mode send on active edges only */
    entry(&r.io, 0, IOAPIC_LEVEL | 0x700, 0);
    pin(&r, 0, 1);
    ck_assert_int_eq(r.n, 7);
    ck_assert_int_eq(r.m[6].dm, APIC_DM_EXTINT);
    ck_assert_uint_eq(entry_lo(&r.io, 0), IOAPIC_LEVEL | 0x700);
    ioapic_eoi(&r.io, 0);
    ck_assert_int_eq(r.n, 7);
}
END_TEST

/* Into a real local APIC: edge and level interrupts through IRR/ISR, the
 * APIC's EOI broadcast clearing remote IRR, re-delivery while asserted. */
START_TEST(test_with_local_apic)
{
    struct vclock clk;
    struct apic a;
    struct ioapic io;
    vclock_init(&clk);
    apic_init(&a, &clk);
    ioapic_init(&io);
    io.deliver = apic_bus_deliver;
    io.deliver_opaque = &a;
    a.eoi = ioapic_eoi;
    a.eoi_opaque = &io;
    apic_bus_ops.write(&a, APIC_SVR, 0x1FF, 4);
    ioapic_set_irq(&io, 11, 1);                          /* active low, idle high */
    entry(&io, 2, 0x30, 0);                              /* edge, physical 0 */
    entry(&io, 11, IOAPIC_LEVEL | IOAPIC_ACTIVE_LOW | 0x5B, 0);
    entry(&io, 12, 0x3C, 0x01000000);                    /* APIC 1: not us */
    ck_assert(!apic_has_interrupt(&a));
    ioapic_set_irq(&io, 2, 1);
    ioapic_set_irq(&io, 12, 1);
    ck_assert(apic_has_interrupt(&a));
    ioapic_set_irq(&io, 11, 0);                          /* level asserted */
    ck_assert_int_eq(apic_get_interrupt(&a), 0x5B);
    ck_assert_int_eq(apic_get_interrupt(&a), 0xFF);      /* 0x30 below 0x5B */
    apic_bus_ops.write(&a, APIC_EOI, 0, 4);              /* still low: again */
    ck_assert_uint_eq(entry_lo(&io, 11) & IOAPIC_REMOTE_IRR, IOAPIC_REMOTE_IRR);
    ck_assert_int_eq(apic_get_interrupt(&a), 0x5B);
    ioapic_set_irq(&io, 11, 1);                          /* device served */
    apic_bus_ops.write(&a, APIC_EOI, 0, 4);
    ck_assert_uint_eq(entry_lo(&io, 11) & IOAPIC_REMOTE_IRR, 0);
    ck_assert_int_eq(apic_get_interrupt(&a), 0x30);
    apic_bus_ops.write(&a, APIC_EOI, 0, 4);
    ck_assert(!apic_has_interrupt(&a));                  /* 0x3C went to APIC 1 */
    ck_assert_uint_eq(apic_bus_ops.read(&a, APIC_IRR + 0x10, 4), 0);
}
END_TEST

START_TEST(test_state_round_trip)
{
    struct rig a, b;
    rig_setup(&a);
    wr(&a.io, 0x00, 0x05000000);
    entry(&a.io, 4, IOAPIC_LEVEL | 0x44, 0x02000000);
    entry(&a.io, 6, IOAPIC_ACTIVE_LOW | 0x46, 0xFF000000);
    pin(&a, 20, 1);
    entry(&a.io, 20, IOAPIC_LEVEL | IOAPIC_ACTIVE_LOW | 0x954, 0x01000000);
    pin(&a, 4, 1);
    pin(&a, 6, 1);
    ioapic_bus_ops.write(&a.io, 0x00, 0x38, 1);          /* IOREGSEL left selected */

    const struct state_field *f = ioapic_device_ops.fields;
    size_t n = state_size(f);
    uint8_t s1[512], s2[512];
    ck_assert_uint_le(n, sizeof(s1));
    ck_assert_uint_eq(state_save(f, &a.io, s1), n);
    rig_setup(&b);
    ck_assert_uint_eq(state_load(f, &b.io, s1, n), n);
    ck_assert_int_eq(ioapic_device_ops.post_load(&b.io), 0);
    ck_assert_uint_eq(state_save(f, &b.io, s2), n);
    ck_assert_mem_eq(s1, s2, n);
    ck_assert_int_eq(b.n, 0);                            /* loading sends nothing */

    a.n = 0;
    ck_assert_uint_eq(ioapic_bus_ops.read(&b.io, 0x10, 4), 0x0000A954);  /* entry 20 low */
    ioapic_eoi(&a.io, 0x44);                             /* pin 4 still high */
    ioapic_eoi(&b.io, 0x44);
    pin(&a, 6, 0); pin(&b, 6, 0);
    pin(&a, 20, 0); pin(&b, 20, 0);
    ck_assert_int_eq(a.n, 3);
    ck_assert_int_eq(b.n, 3);
    ck_assert_mem_eq(a.m, b.m, sizeof(a.m[0]) * 3);
    ck_assert_int_eq(b.m[2].dm, APIC_DM_LOWEST);
    ck_assert_int_eq(b.m[2].dest_mode, 1);
    state_save(f, &a.io, s1);
    state_save(f, &b.io, s2);
    ck_assert_mem_eq(s1, s2, n);
    b.io.pin_level = 1u << 24;                           /* a damaged snapshot */
    ck_assert_int_eq(ioapic_device_ops.post_load(&b.io), -1);
}
END_TEST

Suite *ioapic_suite(void)
{
    Suite *s = suite_create("ioapic");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_registers);
    tcase_add_test(tc, test_edge);
    tcase_add_test(tc, test_polarity);
    tcase_add_test(tc, test_level_remote_irr);
    tcase_add_test(tc, test_with_local_apic);
    tcase_add_test(tc, test_state_round_trip);
    suite_add_tcase(s, tc);
    return s;
}
