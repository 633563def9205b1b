/* The 8259A pair through its ports: ICW sequence, masking, priority and
 * rotation, EOI forms, auto-EOI, poll, special mask mode, IRR/ISR reads, ELCR
 * level vs edge, spurious IRQ 7/15, cascade, and a state round trip. */
#include <check.h>
#include <string.h>
#include "devices/i8259_pic.h"

struct rig {
    struct pic_pair p;
    int intr;    /* CPU INTR level */
    int rises;   /* INTR rising edges seen */
};

static void cpu_intr(void *opaque, int n, int level)
{
    struct rig *r = opaque;
    (void)n;
    if (level && !r->intr)
        r->rises++;
    r->intr = level;
}

static void out8(struct pic *c, int off, uint8_t v) { pic_bus_ops.write(c, (uint32_t)off, v, 1); }
static uint8_t in8(struct pic *c, int off) { return (uint8_t)pic_bus_ops.read(c, (uint32_t)off, 1); }
static void irq(struct rig *r, int n, int level) { pic_pair_set_irq(&r->p, n, level); }
static void pulse(struct rig *r, int n) { irq(r, n, 1); irq(r, n, 0); }

static uint8_t read_isr(struct pic *c) { out8(c, 0, 0x0b); return in8(c, 0); }
static uint8_t read_irr(struct pic *c) { out8(c, 0, 0x0a); return in8(c, 0); }

/* The PC initialisation (as BIOSes and Linux do it): master at 0x20, slave at
 * 0x70 on master IR2, 8086 mode, normal EOI, everything unmasked. */
static void rig_setup(struct rig *r, uint8_t icw4_master, uint8_t icw4_slave)
{
    memset(r, 0, sizeof(*r));
    pic_pair_init(&r->p);
    irq_connect(&r->p.master.intr, cpu_intr, r, 0);
    out8(&r->p.master, 0, 0x11); out8(&r->p.master, 1, 0x20);
    out8(&r->p.master, 1, 0x04); out8(&r->p.master, 1, icw4_master);
    out8(&r->p.slave, 0, 0x11); out8(&r->p.slave, 1, 0x70);
    out8(&r->p.slave, 1, 0x02); out8(&r->p.slave, 1, icw4_slave);
}

START_TEST(test_init_sequence)
{
    struct rig r;
    rig_setup(&r, 0x01, 0x01);
    ck_assert_uint_eq(r.p.master.init_step, 0);
    ck_assert_uint_eq(in8(&r.p.master, 1), 0x00);      /* ICW1 cleared the mask */
    out8(&r.p.master, 1, 0xb8);                          /* now an OCW1 */
    ck_assert_uint_eq(in8(&r.p.master, 1), 0xb8);
    ck_assert_uint_eq(r.p.master.vector_base, 0x20);
    out8(&r.p.master, 1, 0x00);
    pulse(&r, 0);
    ck_assert_int_eq(r.intr, 1);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x20);
    ck_assert_int_eq(r.intr, 0);
    ck_assert_uint_eq(read_isr(&r.p.master), 0x01);
    out8(&r.p.master, 0, 0x20);
    ck_assert_uint_eq(read_isr(&r.p.master), 0x00);

    /* Single mode with IC4: ICW3 is skipped, the third write is ICW4. */
    out8(&r.p.master, 0, 0x13); out8(&r.p.master, 1, 0x48);
    ck_assert_uint_eq(r.p.master.init_step, 4);
    out8(&r.p.master, 1, 0x03);
    ck_assert_uint_eq(r.p.master.init_step, 0);
    ck_assert_uint_eq(r.p.master.icw4, 0x03);
    /* Without IC4: ICW4 functions are zero and ICW2 ends the sequence. */
    out8(&r.p.master, 0, 0x12); out8(&r.p.master, 1, 0x08);
    ck_assert_uint_eq(r.p.master.init_step, 0);
    ck_assert_uint_eq(r.p.master.icw4, 0);
    out8(&r.p.master, 1, 0x01);
    ck_assert_uint_eq(in8(&r.p.master, 1), 0x01);
    pulse(&r, 0);
    pulse(&r, 3);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x0b);
}
END_TEST

START_TEST(test_edge_latch_after_icw1)
{
    struct rig r;
    memset(&r, 0, sizeof(r));
    pic_pair_init(&r.p);
    irq_connect(&r.p.master.intr, cpu_intr, &r, 0);
    irq(&r, 4, 1);                       /* high before initialisation */
    out8(&r.p.master, 0, 0x11); out8(&r.p.master, 1, 0x20);
    out8(&r.p.master, 1, 0x04); out8(&r.p.master, 1, 0x01);
    ck_assert_int_eq(r.intr, 0);         /* needs a fresh low-to-high edge */
    ck_assert_uint_eq(read_irr(&r.p.master), 0x00);
    irq(&r, 4, 0); irq(&r, 4, 1);
    ck_assert_int_eq(r.intr, 1);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x24);
}
END_TEST

START_TEST(test_masking)
{
    struct rig r;
    rig_setup(&r, 0x01, 0x01);
    out8(&r.p.master, 1, 0x02);
    pulse(&r, 1);
    ck_assert_int_eq(r.intr, 0);
    ck_assert_uint_eq(read_irr(&r.p.master), 0x02);  /* requested, just masked */
    out8(&r.p.master, 1, 0x00);
    ck_assert_int_eq(r.intr, 1);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x21);
    /* Masking the slave's line on the master hides all slave IRQs. */
    out8(&r.p.master, 0, 0x20);
    out8(&r.p.master, 1, 0x04);
    pulse(&r, 12);
    ck_assert_int_eq(r.intr, 0);
    out8(&r.p.master, 1, 0x00);
    ck_assert_int_eq(r.intr, 1);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x74);
}
END_TEST

START_TEST(test_priority_nesting)
{
    struct rig r;
    rig_setup(&r, 0x01, 0x01);
    pulse(&r, 5); pulse(&r, 3); pulse(&r, 6);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x23);      /* 3 before 5 and 6 */
    ck_assert_int_eq(r.intr, 0);                     /* 5, 6 blocked by ISR3 */
    pulse(&r, 1);
    ck_assert_int_eq(r.intr, 1);                     /* 1 nests above 3 */
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x21);
    ck_assert_uint_eq(read_isr(&r.p.master), 0x0a);
    out8(&r.p.master, 0, 0x20);                      /* non-specific: clears 1 */
    ck_assert_uint_eq(read_isr(&r.p.master), 0x08);
    ck_assert_int_eq(r.intr, 0);
    out8(&r.p.master, 0, 0x20);                      /* clears 3 */
    ck_assert_int_eq(r.intr, 1);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x25);
    out8(&r.p.master, 0, 0x20);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x26);
    ck_assert_uint_eq(read_irr(&r.p.master), 0x00);
}
END_TEST

START_TEST(test_specific_eoi)
{
    struct rig r;
    rig_setup(&r, 0x01, 0x01);
    pulse(&r, 4);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x24);
    pulse(&r, 1);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x21);
    ck_assert_uint_eq(read_isr(&r.p.master), 0x12);
    out8(&r.p.master, 0, 0x64);                      /* specific EOI for IR4 */
    ck_assert_uint_eq(read_isr(&r.p.master), 0x02);
    out8(&r.p.master, 0, 0x61);
    ck_assert_uint_eq(read_isr(&r.p.master), 0x00);
    out8(&r.p.master, 0, 0x40);                      /* OCW2 no-op */
    ck_assert_uint_eq(read_isr(&r.p.master), 0x00);
}
END_TEST

START_TEST(test_rotation)
{
    struct rig r;
    rig_setup(&r, 0x01, 0x01);
    /* Rotate on non-specific EOI: the serviced IR becomes lowest. */
    pulse(&r, 3);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x23);
    out8(&r.p.master, 0, 0xa0);
    ck_assert_uint_eq(r.p.master.lowest, 3);
    pulse(&r, 1); pulse(&r, 4);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x24);      /* 4 is now highest */
    out8(&r.p.master, 0, 0x20);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x21);
    out8(&r.p.master, 0, 0x20);
    /* Set priority: IR6 lowest makes IR7 highest, then 0, 1, ... */
    out8(&r.p.master, 0, 0xc6);
    pulse(&r, 0); pulse(&r, 7); pulse(&r, 6);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x27);
    ck_assert_int_eq(r.intr, 0);                     /* 0 ranks below 7 now */
    out8(&r.p.master, 0, 0x20);                      /* non-specific EOI ends 7 */
    ck_assert_uint_eq(read_isr(&r.p.master), 0x00);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x20);
    /* Rotate on specific EOI for IR0: ends 0 and makes 0 lowest. */
    out8(&r.p.master, 0, 0xe0);
    ck_assert_uint_eq(read_isr(&r.p.master), 0x00);
    ck_assert_uint_eq(r.p.master.lowest, 0);
    pulse(&r, 0);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x26);      /* 6 ranks above 0 now */
    out8(&r.p.master, 0, 0x20);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x20);
}
END_TEST

START_TEST(test_auto_eoi)
{
    struct rig r;
    rig_setup(&r, 0x03, 0x01);
    pulse(&r, 5);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x25);
    ck_assert_uint_eq(read_isr(&r.p.master), 0x00);  /* no EOI needed */
    pulse(&r, 6);
    ck_assert_int_eq(r.intr, 1);                     /* not blocked by 5 */
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x26);
    /* Rotate in AEOI mode: each acknowledged IR becomes lowest. */
    out8(&r.p.master, 0, 0x80);
    pulse(&r, 1);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x21);
    ck_assert_uint_eq(r.p.master.lowest, 1);
    pulse(&r, 1); pulse(&r, 3);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x23);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x21);
    out8(&r.p.master, 0, 0x00);                      /* clear rotate in AEOI */
    pulse(&r, 5);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x25);
    ck_assert_uint_eq(r.p.master.lowest, 1);
}
END_TEST

START_TEST(test_poll)
{
    struct rig r;
    rig_setup(&r, 0x01, 0x01);
    out8(&r.p.master, 0, 0x0c);
    ck_assert_uint_eq(in8(&r.p.master, 0), 0x00);    /* nothing pending */
    pulse(&r, 6); pulse(&r, 4);
    out8(&r.p.master, 0, 0x0c);
    ck_assert_uint_eq(in8(&r.p.master, 0), 0x84);
    ck_assert_uint_eq(read_isr(&r.p.master), 0x10);  /* poll acknowledged it */
    ck_assert_uint_eq(read_irr(&r.p.master), 0x40);
    ck_assert_uint_eq(in8(&r.p.master, 0), 0x40);    /* poll ended: IRR again */
    out8(&r.p.master, 0, 0x20);
    out8(&r.p.master, 0, 0x0c);
    ck_assert_uint_eq(in8(&r.p.master, 1), 0x86);    /* any port is polled */
    /* The slave is polled on its own after the master says IR2. */
    out8(&r.p.master, 0, 0x20);
    pulse(&r, 13);
    out8(&r.p.master, 0, 0x0c);
    ck_assert_uint_eq(in8(&r.p.master, 0), 0x82);
    out8(&r.p.slave, 0, 0x0c);
    ck_assert_uint_eq(in8(&r.p.slave, 0), 0x85);
    ck_assert_uint_eq(read_isr(&r.p.slave), 0x20);
}
END_TEST

START_TEST(test_special_mask_mode)
{
    struct rig r;
    rig_setup(&r, 0x01, 0x01);
    pulse(&r, 3);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x23);
    pulse(&r, 5);
    ck_assert_int_eq(r.intr, 0);                     /* lower than in-service 3 */
    out8(&r.p.master, 0, 0x68);                      /* set special mask mode */
    ck_assert_int_eq(r.intr, 0);                     /* 3 not masked: still blocks */
    out8(&r.p.master, 1, 0x08);                      /* mask 3 */
    ck_assert_int_eq(r.intr, 1);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x25);
    ck_assert_uint_eq(read_isr(&r.p.master), 0x28);
    out8(&r.p.master, 0, 0x65);
    out8(&r.p.master, 0, 0x48);                      /* reset special mask mode */
    pulse(&r, 6);
    ck_assert_int_eq(r.intr, 0);                     /* ISR3 blocks again */
    out8(&r.p.master, 0, 0x08);                      /* OCW3 without ESMM: no change */
    ck_assert_uint_eq(r.p.master.special_mask, 0);
    out8(&r.p.master, 0, 0x63);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x26);
}
END_TEST

START_TEST(test_irr_isr_reads)
{
    struct rig r;
    rig_setup(&r, 0x01, 0x01);
    ck_assert_uint_eq(in8(&r.p.master, 0), 0x00);    /* IRR after init */
    pulse(&r, 0); pulse(&r, 7);
    ck_assert_uint_eq(in8(&r.p.master, 0), 0x81);
    out8(&r.p.master, 0, 0x0b);
    ck_assert_uint_eq(in8(&r.p.master, 0), 0x00);
    pic_pair_ack(&r.p);
    ck_assert_uint_eq(in8(&r.p.master, 0), 0x01);    /* the choice is sticky */
    out8(&r.p.master, 0, 0x08);                      /* RR=0: keeps ISR */
    ck_assert_uint_eq(in8(&r.p.master, 0), 0x01);
    out8(&r.p.master, 0, 0x0a);
    ck_assert_uint_eq(in8(&r.p.master, 0), 0x80);
}
END_TEST

START_TEST(test_level_vs_edge)
{
    struct rig r;
    rig_setup(&r, 0x01, 0x01);
    pic_elcr_bus_ops.write(&r.p, 1, 0x08, 1);        /* IRQ11 level */
    ck_assert_uint_eq(pic_elcr_bus_ops.read(&r.p, 1, 1), 0x08);
    ck_assert_uint_eq(pic_elcr_bus_ops.read(&r.p, 0, 1), 0x00);
    /* Level: requested while high, again after EOI if still high. */
    irq(&r, 11, 1);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x73);
    out8(&r.p.slave, 0, 0x20); out8(&r.p.master, 0, 0x20);
    ck_assert_int_eq(r.intr, 1);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x73);
    irq(&r, 11, 0);
    out8(&r.p.slave, 0, 0x20); out8(&r.p.master, 0, 0x20);
    ck_assert_int_eq(r.intr, 0);
    /* Edge: one request per rising edge, even if the line stays high. */
    irq(&r, 10, 1);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x72);
    out8(&r.p.slave, 0, 0x20); out8(&r.p.master, 0, 0x20);
    ck_assert_int_eq(r.intr, 0);
    irq(&r, 10, 0);
    /* A level line that drops before INTA leaves nothing: spurious IR7. */
    pic_set_elcr(&r.p.master, 0x20);
    irq(&r, 5, 1);
    ck_assert_int_eq(r.intr, 1);
    irq(&r, 5, 0);
    ck_assert_int_eq(r.intr, 0);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x27);
    ck_assert_uint_eq(read_isr(&r.p.master), 0x00);
    /* ICW1.LTIM makes every line level-triggered. */
    out8(&r.p.master, 0, 0x19); out8(&r.p.master, 1, 0x20);
    out8(&r.p.master, 1, 0x04); out8(&r.p.master, 1, 0x01);
    pulse(&r, 1);
    ck_assert_uint_eq(read_irr(&r.p.master), 0x00);
    irq(&r, 1, 1);
    ck_assert_uint_eq(read_irr(&r.p.master), 0x02);
    /* The board can restrict which ELCR bits exist. */
    r.p.slave.elcr_mask = 0xde;
    pic_elcr_bus_ops.write(&r.p, 1, 0xff, 1);
    ck_assert_uint_eq(pic_elcr_bus_ops.read(&r.p, 1, 1), 0xde);
}
END_TEST

START_TEST(test_spurious)
{
    struct rig r;
    rig_setup(&r, 0x01, 0x01);
    /* Masked after INTR went up: the acknowledge finds nothing. */
    pulse(&r, 3);
    out8(&r.p.master, 1, 0x08);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x27);
    ck_assert_uint_eq(read_isr(&r.p.master), 0x00);
    out8(&r.p.master, 1, 0x00);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x23);      /* the request survived */
    out8(&r.p.master, 0, 0x20);
    /* Slave spurious: vector 0x77, master IR2 stays in service. */
    pic_set_elcr(&r.p.slave, 0x02);
    irq(&r, 9, 1);
    ck_assert_int_eq(r.intr, 1);
    irq(&r, 9, 0);
    ck_assert_int_eq(r.intr, 1);                     /* master latched the edge */
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x77);
    ck_assert_uint_eq(read_isr(&r.p.slave), 0x00);
    ck_assert_uint_eq(read_isr(&r.p.master), 0x04);
}
END_TEST

START_TEST(test_cascade)
{
    struct rig r;
    rig_setup(&r, 0x01, 0x01);
    for (int n = 8; n < 16; n++) {
        pulse(&r, n);
        ck_assert_int_eq(pic_pair_ack(&r.p), 0x70 + n - 8);
        ck_assert_uint_eq(read_isr(&r.p.master), 0x04);
        ck_assert_uint_eq(read_isr(&r.p.slave), 1u << (n - 8));
        out8(&r.p.slave, 0, 0x20); out8(&r.p.master, 0, 0x20);
        ck_assert_int_eq(r.intr, 0);
    }
    /* Slave requests rank at IR2: below IRQ0/1, above IRQ3-7. */
    pulse(&r, 3); pulse(&r, 14); pulse(&r, 1);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x21);
    out8(&r.p.master, 0, 0x20);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x76);
    ck_assert_int_eq(r.intr, 0);                     /* IR3 below IR2 in service */
    /* Another slave request while IR2 is in service (no SFNM): waits. */
    pulse(&r, 8);
    ck_assert_int_eq(r.intr, 0);
    out8(&r.p.slave, 0, 0x20);
    out8(&r.p.master, 0, 0x20);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x70);
    out8(&r.p.slave, 0, 0x20); out8(&r.p.master, 0, 0x20);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x23);
}
END_TEST

START_TEST(test_special_fully_nested)
{
    struct rig r;
    rig_setup(&r, 0x11, 0x01);                       /* master SFNM */
    pulse(&r, 12);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x74);
    pulse(&r, 9);                                    /* higher, same slave */
    ck_assert_int_eq(r.intr, 1);
    ck_assert_int_eq(pic_pair_ack(&r.p), 0x71);
    ck_assert_uint_eq(read_isr(&r.p.slave), 0x12);
    pulse(&r, 13);                                   /* lower in the slave */
    ck_assert_int_eq(r.intr, 0);
    pulse(&r, 5);                                    /* lower on the master */
    ck_assert_int_eq(r.intr, 0);
}
END_TEST

START_TEST(test_state_round_trip)
{
    struct rig a, b;
    rig_setup(&a, 0x01, 0x01);
    pic_set_elcr(&a.p.slave, 0x08);
    out8(&a.p.master, 0, 0xc4);                      /* rotated priorities */
    out8(&a.p.master, 1, 0x10);
    pulse(&a, 6); pulse(&a, 4); pulse(&a, 9); irq(&a, 11, 1); pulse(&a, 0);
    ck_assert_int_eq(pic_pair_ack(&a.p), 0x26);  /* 5 highest, then 6 */
    out8(&a.p.master, 0, 0x0b);
    out8(&a.p.slave, 0, 0x0c);                       /* poll pending over the save */

    const struct state_field *f = pic_pair_device_ops.fields;
    size_t n = state_size(f);
    uint8_t s1[256], s2[256];
    ck_assert_uint_le(n, sizeof(s1));
    ck_assert_uint_eq(state_save(f, &a.p, s1), n);

    memset(&b, 0, sizeof(b));
    pic_pair_init(&b.p);
    irq_connect(&b.p.master.intr, cpu_intr, &b, 0);
    ck_assert_uint_eq(state_load(f, &b.p, s1, n), n);
    ck_assert_int_eq(pic_pair_device_ops.post_load(&b.p), 0);
    ck_assert_uint_eq(state_save(f, &b.p, s2), n);
    ck_assert_mem_eq(s1, s2, n);
    ck_assert_int_eq(b.intr, a.intr);

    /* Same behaviour afterwards. */
    ck_assert_uint_eq(in8(&a.p.slave, 0), in8(&b.p.slave, 0));
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(pic_pair_ack(&b.p), pic_pair_ack(&a.p));
        out8(&a.p.slave, 0, 0x20); out8(&b.p.slave, 0, 0x20);
        out8(&a.p.master, 0, 0x20); out8(&b.p.master, 0, 0x20);
        ck_assert_uint_eq(in8(&b.p.master, 0), in8(&a.p.master, 0));
        ck_assert_int_eq(b.intr, a.intr);
    }
}
END_TEST

Suite *i8259_pic_suite(void)
{
    Suite *s = suite_create("i8259_pic");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_init_sequence);
    tcase_add_test(tc, test_edge_latch_after_icw1);
    tcase_add_test(tc, test_masking);
    tcase_add_test(tc, test_priority_nesting);
    tcase_add_test(tc, test_specific_eoi);
    tcase_add_test(tc, test_rotation);
    tcase_add_test(tc, test_auto_eoi);
    tcase_add_test(tc, test_poll);
    tcase_add_test(tc, test_special_mask_mode);
    tcase_add_test(tc, test_irr_isr_reads);
    tcase_add_test(tc, test_level_vs_edge);
    tcase_add_test(tc, test_spurious);
    tcase_add_test(tc, test_cascade);
    tcase_add_test(tc, test_special_fully_nested);
    tcase_add_test(tc, test_state_round_trip);
    suite_add_tcase(s, tc);
    return s;
}
