/* The 8254 through its ports on a stepped virtual clock: every mode's OUT
 * waveform and count readback at chosen clock pulses, BCD, latch, read-back
 * status, gates, IRQ edges at exact ns deadlines, and a state round trip.
 * Pulse k of the 1.193182 MHz clock happens at pit_ticks_to_ns(k); a count
 * written between pulses c and c+1 is loaded into the CE on pulse c+1. */
#include <check.h>
#include <string.h>
#include "devices/i8254_pit.h"

#define MAX_EDGES 256

struct rig {
    struct vclock clk;
    struct pit pit;
    int level;
    int nrise, nfall;
    uint64_t rise[MAX_EDGES];
};

static void sink(void *opaque, int n, int level)
{
    struct rig *r = opaque;
    (void)n;
    if (level && r->nrise < MAX_EDGES)
        r->rise[r->nrise] = vclock_now(&r->clk);
    if (level)
        r->nrise++;
    else
        r->nfall++;
    r->level = level;
}

static void rig_setup(struct rig *r)
{
    memset(r, 0, sizeof(*r));
    vclock_init(&r->clk);
    pit_init(&r->pit, &r->clk);
    irq_connect(&r->pit.ch[0].out, sink, r, 0);
    /* Connecting reports the power-up level; that is not an edge of OUT. */
    r->nrise = r->nfall = 0;
    r->level = r->pit.ch[0].out.level;
}

static void ctl(struct rig *r, uint8_t v) { pit_bus_ops.write(&r->pit, 3, v, 1); }
static void wr(struct rig *r, int ch, uint8_t v) { pit_bus_ops.write(&r->pit, (uint32_t)ch, v, 1); }
static uint8_t rd(struct rig *r, int ch) { return (uint8_t)pit_bus_ops.read(&r->pit, (uint32_t)ch, 1); }
static void wr16(struct rig *r, int ch, uint16_t v) { wr(r, ch, (uint8_t)v); wr(r, ch, (uint8_t)(v >> 8)); }
static uint16_t rd16(struct rig *r, int ch) { uint16_t lo = rd(r, ch); return (uint16_t)(lo | rd(r, ch) << 8); }
/* Just after pulse k, before pulse k+1. */
static void at(struct rig *r, uint64_t k) { vclock_advance(&r->clk, pit_ticks_to_ns(k)); }
static int out(struct rig *r, int ch) { return pit_get_out(&r->pit, ch); }
static uint8_t status(struct rig *r, int ch) { ctl(r, (uint8_t)(0xe0 | 2 << ch)); return rd(r, ch); }

START_TEST(test_clock_conversion)
{
    ck_assert_uint_eq(pit_ns_to_ticks(1000000000u), PIT_HZ);
    ck_assert_uint_eq(pit_ticks_to_ns(PIT_HZ), 1000000000u);
    ck_assert_uint_eq(pit_ticks_to_ns(1), 839);                 /* 838.095 ns, rounded up */
    ck_assert_uint_eq(pit_ns_to_ticks(838), 0);
    uint64_t ks[] = { 1, 2, 11931, 1193181, 1193183, 98765432101ull, 1ull << 40 };
    for (unsigned i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
        ck_assert_uint_eq(pit_ns_to_ticks(pit_ticks_to_ns(ks[i])), ks[i]);
        ck_assert_uint_eq(pit_ns_to_ticks(pit_ticks_to_ns(ks[i]) - 1), ks[i] - 1);
    }
}
END_TEST

START_TEST(test_mode0)
{
    struct rig r;
    rig_setup(&r);
    ck_assert_int_eq(out(&r, 0), 1);            /* power-up: mode 3, idle, high */
    ctl(&r, 0x30);                              /* ch0 LSB/MSB mode 0 */
    ck_assert_int_eq(out(&r, 0), 0);
    ck_assert_int_eq(r.level, 0);
    wr16(&r, 0, 5);
    at(&r, 1); ck_assert_uint_eq(rd16(&r, 0), 5);
    at(&r, 3); ck_assert_uint_eq(rd16(&r, 0), 3);
    at(&r, 5); ck_assert_int_eq(out(&r, 0), 0);
    ck_assert_int_eq(r.nrise, 0);
    at(&r, 6); ck_assert_int_eq(out(&r, 0), 1);  /* N+1 pulses after the write */
    ck_assert_uint_eq(rd16(&r, 0), 0);
    ck_assert_int_eq(r.nrise, 1);
    ck_assert_uint_eq(r.rise[0], pit_ticks_to_ns(6));
    at(&r, 7); ck_assert_uint_eq(rd16(&r, 0), 0xffff);   /* keeps counting, wraps */
    at(&r, 100); ck_assert_int_eq(out(&r, 0), 1);
    ck_assert_int_eq(r.nrise, 1);
    /* A new count: the first byte stops counting and drops OUT at once. */
    wr(&r, 0, 4);
    ck_assert_int_eq(r.level, 0);
    at(&r, 110); ck_assert_uint_eq(rd16(&r, 0), (uint16_t)(5 - 99));  /* frozen */
    wr(&r, 0, 0);                               /* load 4 on pulse 111 */
    at(&r, 114); ck_assert_int_eq(out(&r, 0), 0);
    at(&r, 115); ck_assert_int_eq(out(&r, 0), 1);
    ck_assert_uint_eq(r.rise[1], pit_ticks_to_ns(115));
}
END_TEST

START_TEST(test_mode0_gate)
{
    struct rig r;
    rig_setup(&r);
    pit_set_gate(&r.pit, 2, 1);
    ctl(&r, 0xb0);                              /* ch2 mode 0 */
    wr16(&r, 2, 10);                            /* loads on pulse 1 */
    at(&r, 4); ck_assert_uint_eq(rd16(&r, 2), 7);
    pit_set_gate(&r.pit, 2, 0);                 /* counting disabled */
    at(&r, 50); ck_assert_uint_eq(rd16(&r, 2), 7);
    ck_assert_int_eq(out(&r, 2), 0);
    pit_set_gate(&r.pit, 2, 1);
    at(&r, 56); ck_assert_uint_eq(rd16(&r, 2), 1);
    ck_assert_int_eq(out(&r, 2), 0);
    at(&r, 57); ck_assert_int_eq(out(&r, 2), 1);
    /* Written with the gate low: no counting until it rises. */
    pit_set_gate(&r.pit, 2, 0);
    wr16(&r, 2, 3);
    ck_assert_int_eq(out(&r, 2), 0);
    at(&r, 90); ck_assert_uint_eq(rd16(&r, 2), 3);
    pit_set_gate(&r.pit, 2, 1);
    at(&r, 92); ck_assert_int_eq(out(&r, 2), 0);
    at(&r, 93); ck_assert_int_eq(out(&r, 2), 1);
}
END_TEST

START_TEST(test_mode1)
{
    struct rig r;
    rig_setup(&r);
    pit_set_gate(&r.pit, 2, 0);
    ctl(&r, 0xb2);                              /* ch2 mode 1 */
    wr16(&r, 2, 4);
    at(&r, 10);
    ck_assert_int_eq(out(&r, 2), 1);            /* waits for a trigger */
    ck_assert_uint_eq(status(&r, 2) & 0x40, 0x40);       /* null count */
    pit_set_gate(&r.pit, 2, 1);                 /* trigger: load on pulse 11 */
    ck_assert_int_eq(out(&r, 2), 1);
    at(&r, 11); ck_assert_int_eq(out(&r, 2), 0);
    ck_assert_uint_eq(rd16(&r, 2), 4);
    ck_assert_uint_eq(status(&r, 2), 0x32);     /* OUT low, loaded, RW=3 mode 1 */
    at(&r, 12);
    pit_set_gate(&r.pit, 2, 0);                 /* the gate level does not stop it */
    at(&r, 13); ck_assert_uint_eq(rd16(&r, 2), 2);
    pit_set_gate(&r.pit, 2, 1);                 /* retrigger: reload on pulse 14 */
    at(&r, 15); ck_assert_uint_eq(rd16(&r, 2), 3);
    at(&r, 17); ck_assert_int_eq(out(&r, 2), 0);
    at(&r, 18); ck_assert_int_eq(out(&r, 2), 1);
    at(&r, 19); ck_assert_uint_eq(rd16(&r, 2), 0xffff);
    /* A new count waits for the next trigger. */
    wr16(&r, 2, 2);
    at(&r, 30); ck_assert_int_eq(out(&r, 2), 1);
    pit_set_gate(&r.pit, 2, 0); pit_set_gate(&r.pit, 2, 1);
    at(&r, 31); ck_assert_int_eq(out(&r, 2), 0);
    at(&r, 33); ck_assert_int_eq(out(&r, 2), 1);
}
END_TEST

START_TEST(test_mode2)
{
    struct rig r;
    rig_setup(&r);
    ctl(&r, 0x34);                              /* ch0 rate generator */
    wr16(&r, 0, 4);
    static const uint8_t ce[] = { 0, 4, 3, 2, 1, 4, 3, 2, 1, 4 };
    static const uint8_t o[]  = { 1, 1, 1, 1, 0, 1, 1, 1, 0, 1 };
    for (int k = 1; k < 10; k++) {
        at(&r, (uint64_t)k);
        ck_assert_uint_eq(rd16(&r, 0), ce[k]);
        ck_assert_int_eq(out(&r, 0), o[k]);
        ck_assert_int_eq(r.level, o[k]);
    }
    /* Low for exactly one period: from pulse 4 to pulse 5, 8 to 9. */
    ck_assert_int_eq(r.nrise, 2);
    ck_assert_uint_eq(r.rise[0], pit_ticks_to_ns(5));
    ck_assert_uint_eq(r.rise[1], pit_ticks_to_ns(9));
    ck_assert_int_eq(r.nfall, 2);
    /* A new count takes over at the end of the current period. */
    at(&r, 10);
    wr16(&r, 0, 3);
    ck_assert_uint_eq(status(&r, 0) & 0x40, 0x40);
    at(&r, 12); ck_assert_int_eq(out(&r, 0), 0);   /* old period: low at 12 */
    at(&r, 13); ck_assert_uint_eq(rd16(&r, 0), 3);
    ck_assert_uint_eq(status(&r, 0) & 0x40, 0);
    at(&r, 15); ck_assert_int_eq(out(&r, 0), 0);
    at(&r, 16); ck_assert_int_eq(out(&r, 0), 1);
    ck_assert_uint_eq(r.rise[r.nrise - 1], pit_ticks_to_ns(16));
}
END_TEST

START_TEST(test_mode2_gate)
{
    struct rig r;
    rig_setup(&r);
    ctl(&r, 0xb4);                              /* ch2 mode 2, gate high */
    wr16(&r, 2, 5);                             /* low at pulses 5, 10, ... */
    at(&r, 5); ck_assert_int_eq(out(&r, 2), 0);
    pit_set_gate(&r.pit, 2, 0);
    ck_assert_int_eq(out(&r, 2), 1);            /* high at once */
    at(&r, 40); ck_assert_int_eq(out(&r, 2), 1);
    ck_assert_uint_eq(rd16(&r, 2), 1);          /* held */
    pit_set_gate(&r.pit, 2, 1);                 /* reload on pulse 41 */
    at(&r, 41); ck_assert_uint_eq(rd16(&r, 2), 5);
    at(&r, 44); ck_assert_int_eq(out(&r, 2), 1);
    at(&r, 45); ck_assert_int_eq(out(&r, 2), 0);
    at(&r, 46); ck_assert_int_eq(out(&r, 2), 1);
}
END_TEST

START_TEST(test_mode3)
{
    struct rig r;
    rig_setup(&r);
    ctl(&r, 0x36);
    wr16(&r, 0, 6);                             /* even: 3 high, 3 low */
    static const uint8_t ce6[] = { 0, 6, 4, 2, 6, 4, 2, 6, 4 };
    static const uint8_t o6[]  = { 1, 1, 1, 1, 0, 0, 0, 1, 1 };
    for (int k = 1; k < 9; k++) {
        at(&r, (uint64_t)k);
        ck_assert_uint_eq(rd16(&r, 0), ce6[k]);
        ck_assert_int_eq(out(&r, 0), o6[k]);
    }
    ck_assert_uint_eq(r.rise[0], pit_ticks_to_ns(7));
    ctl(&r, 0x36);
    at(&r, 20);
    wr16(&r, 0, 5);                             /* odd: 3 high, 2 low */
    static const uint8_t ce5[] = { 4, 2, 0, 4, 2, 4, 2, 0, 4, 2, 4 };
    static const uint8_t o5[]  = { 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1 };
    for (int k = 0; k < 11; k++) {
        at(&r, 21 + (uint64_t)k);
        ck_assert_uint_eq(rd16(&r, 0), ce5[k]);
        ck_assert_int_eq(out(&r, 0), o5[k]);
    }
    ck_assert_uint_eq(r.rise[r.nrise - 1], pit_ticks_to_ns(31));
    ck_assert_uint_eq(r.rise[r.nrise - 2], pit_ticks_to_ns(26));
    /* A new count waits for the end of the half cycle: now high (pulse 31,
     * high until 34); the count 8 starts with its low half at 34. */
    wr16(&r, 0, 8);
    at(&r, 33); ck_assert_int_eq(out(&r, 0), 1);
    at(&r, 34); ck_assert_int_eq(out(&r, 0), 0);
    ck_assert_uint_eq(rd16(&r, 0), 8);
    at(&r, 37); ck_assert_int_eq(out(&r, 0), 0);
    at(&r, 38); ck_assert_int_eq(out(&r, 0), 1);
    at(&r, 42); ck_assert_int_eq(out(&r, 0), 0);
}
END_TEST

START_TEST(test_mode3_gate)
{
    struct rig r;
    rig_setup(&r);
    ctl(&r, 0xb6);
    wr16(&r, 2, 10);
    at(&r, 7); ck_assert_int_eq(out(&r, 2), 0);
    pit_set_gate(&r.pit, 2, 0);
    ck_assert_int_eq(out(&r, 2), 1);
    at(&r, 30); ck_assert_int_eq(out(&r, 2), 1);
    ck_assert_uint_eq(rd16(&r, 2), 8);          /* held: 10 8 6 4 2 | 10 8 */
    pit_set_gate(&r.pit, 2, 1);                 /* reload on pulse 31 */
    at(&r, 31); ck_assert_uint_eq(rd16(&r, 2), 10);
    at(&r, 35); ck_assert_int_eq(out(&r, 2), 1);
    at(&r, 36); ck_assert_int_eq(out(&r, 2), 0);
    at(&r, 41); ck_assert_int_eq(out(&r, 2), 1);
}
END_TEST

START_TEST(test_mode4)
{
    struct rig r;
    rig_setup(&r);
    ctl(&r, 0x38);
    ck_assert_int_eq(out(&r, 0), 1);
    wr16(&r, 0, 3);
    at(&r, 3); ck_assert_int_eq(out(&r, 0), 1);
    ck_assert_uint_eq(rd16(&r, 0), 1);
    at(&r, 4); ck_assert_int_eq(out(&r, 0), 0);  /* strobe: one pulse low */
    at(&r, 5); ck_assert_int_eq(out(&r, 0), 1);
    ck_assert_uint_eq(rd16(&r, 0), 0xffff);
    at(&r, 100); ck_assert_int_eq(out(&r, 0), 1);
    ck_assert_int_eq(r.nrise, 1);
    ck_assert_uint_eq(r.rise[0], pit_ticks_to_ns(5));
    /* Gate low disables counting (counter 2). */
    ctl(&r, 0xb8);
    wr16(&r, 2, 4);                             /* loaded on 101 */
    at(&r, 102);
    pit_set_gate(&r.pit, 2, 0);
    at(&r, 200); ck_assert_uint_eq(rd16(&r, 2), 3);
    pit_set_gate(&r.pit, 2, 1);
    at(&r, 202); ck_assert_int_eq(out(&r, 2), 1);
    at(&r, 203); ck_assert_int_eq(out(&r, 2), 0);
    at(&r, 204); ck_assert_int_eq(out(&r, 2), 1);
}
END_TEST

START_TEST(test_mode5)
{
    struct rig r;
    rig_setup(&r);
    pit_set_gate(&r.pit, 2, 0);
    ctl(&r, 0xba);
    wr16(&r, 2, 3);
    at(&r, 10); ck_assert_int_eq(out(&r, 2), 1);
    pit_set_gate(&r.pit, 2, 1);                 /* load on 11 */
    at(&r, 13); ck_assert_int_eq(out(&r, 2), 1);
    at(&r, 14); ck_assert_int_eq(out(&r, 2), 0);
    at(&r, 15); ck_assert_int_eq(out(&r, 2), 1);
    /* Retrigger mid-count restarts the full count. */
    at(&r, 20);
    pit_set_gate(&r.pit, 2, 0); pit_set_gate(&r.pit, 2, 1);   /* load on 21 */
    at(&r, 22);
    pit_set_gate(&r.pit, 2, 0); pit_set_gate(&r.pit, 2, 1);   /* load on 23 */
    at(&r, 24); ck_assert_uint_eq(rd16(&r, 2), 2);
    at(&r, 25); ck_assert_int_eq(out(&r, 2), 1);
    at(&r, 26); ck_assert_int_eq(out(&r, 2), 0);
    at(&r, 27); ck_assert_int_eq(out(&r, 2), 1);
}
END_TEST

START_TEST(test_bcd)
{
    struct rig r;
    rig_setup(&r);
    ctl(&r, 0x31);                              /* mode 0, BCD */
    wr16(&r, 0, 0x0000);                        /* 10000 */
    at(&r, 1); ck_assert_uint_eq(rd16(&r, 0), 0x0000);
    at(&r, 2); ck_assert_uint_eq(rd16(&r, 0), 0x9999);
    at(&r, 1235); ck_assert_uint_eq(rd16(&r, 0), 0x8766);
    at(&r, 10000); ck_assert_int_eq(out(&r, 0), 0);
    at(&r, 10001); ck_assert_int_eq(out(&r, 0), 1);
    at(&r, 10002); ck_assert_uint_eq(rd16(&r, 0), 0x9999);
    ctl(&r, 0x35);                              /* mode 2, BCD: 0x15 = 15 */
    at(&r, 20000);
    wr16(&r, 0, 0x0015);
    at(&r, 20007); ck_assert_uint_eq(rd16(&r, 0), 0x09);
    at(&r, 20015); ck_assert_int_eq(out(&r, 0), 0);
    at(&r, 20016); ck_assert_uint_eq(rd16(&r, 0), 0x15);
    ck_assert_uint_eq(status(&r, 0), 0x80 | 0x35);
}
END_TEST

START_TEST(test_latch_and_access)
{
    struct rig r;
    rig_setup(&r);
    ctl(&r, 0x34);
    wr16(&r, 0, 1000);
    at(&r, 101);
    ctl(&r, 0x00);                              /* latch counter 0: 900 */
    at(&r, 201);
    ctl(&r, 0x00);                              /* ignored: still latched */
    ck_assert_uint_eq(rd(&r, 0), 900 & 0xff);
    at(&r, 301);
    ck_assert_uint_eq(rd(&r, 0), 900 >> 8);
    ck_assert_uint_eq(rd16(&r, 0), 700);        /* live again */
    /* LSB-only and MSB-only access. */
    ctl(&r, 0x14);                              /* LSB only, mode 2 */
    wr(&r, 0, 0x80);                            /* 128, loads on 302 */
    at(&r, 312); ck_assert_uint_eq(rd(&r, 0), 118);
    ck_assert_uint_eq(rd(&r, 0), 118);
    ctl(&r, 0x24);                              /* MSB only: 0x0200 = 512 */
    wr(&r, 0, 0x02);                            /* loads on 313 */
    at(&r, 313 + 256); ck_assert_uint_eq(rd(&r, 0), 0x01);
    ctl(&r, 0x00);
    at(&r, 313 + 400);
    ck_assert_uint_eq(rd(&r, 0), 0x01);         /* latched MSB */
    ck_assert_uint_eq(rd(&r, 0), 0x00);         /* 512 - 400 = 112: MSB 0 */
    ck_assert_uint_eq(rd(&r, 3), 0xff);
    /* Interleaved LSB/MSB reads and writes use separate flip-flops. */
    ctl(&r, 0x30);
    wr16(&r, 0, 0x1234);
    at(&r, 1000);                               /* CE = 0x1234 - 286 = 0x1116 */
    ctl(&r, 0x00);
    ck_assert_uint_eq(rd(&r, 0), 0x16);
    wr(&r, 0, 0x00);
    ck_assert_uint_eq(rd(&r, 0), 0x11);
    wr(&r, 0, 0x01);                            /* 0x0100, loads on 1001 */
    at(&r, 1001); ck_assert_uint_eq(rd16(&r, 0), 0x0100);
}
END_TEST

START_TEST(test_read_back)
{
    struct rig r;
    rig_setup(&r);
    ctl(&r, 0x34);
    ck_assert_uint_eq(status(&r, 0), 0x80 | 0x40 | 0x34);  /* null after control word */
    wr16(&r, 0, 100);
    ck_assert_uint_eq(status(&r, 0), 0x80 | 0x40 | 0x34);  /* not loaded yet */
    at(&r, 1);
    ck_assert_uint_eq(status(&r, 0), 0x80 | 0x34);
    ctl(&r, 0x70);                              /* ch1 mode 0 */
    wr16(&r, 1, 50);                            /* loads on 2, high at 52 */
    at(&r, 21);
    /* Latch count and status of counters 0 and 1 together. */
    ctl(&r, 0xc6);
    at(&r, 40);
    ck_assert_uint_eq(rd(&r, 0), 0x80 | 0x34);  /* status first */
    ck_assert_uint_eq(rd16(&r, 0), 80);
    ck_assert_uint_eq(rd(&r, 1), 0x30);         /* OUT low, mode 0 */
    ck_assert_uint_eq(rd16(&r, 1), 31);
    /* Status only, twice: the second is ignored until read. */
    ctl(&r, 0xe4);
    at(&r, 60);
    ctl(&r, 0xe4);
    ck_assert_uint_eq(rd(&r, 1), 0x30);
    ck_assert_uint_eq(rd(&r, 1) | 0, (uint8_t)(50 - 58 + 65536));  /* live LSB */
    ck_assert_uint_eq(status(&r, 1), 0xb0);
    /* Count only. */
    ctl(&r, 0xd2);                              /* latched at pulse 60 */
    at(&r, 70);
    ck_assert_uint_eq(rd16(&r, 0), 100 - 59);
}
END_TEST

/* Steps the clock by `step` ns up to `end`, as a run loop would. */
static void run_until(struct rig *r, uint64_t end, uint64_t step)
{
    for (uint64_t t = vclock_now(&r->clk); t < end;) {
        t = t + step < end ? t + step : end;
        vclock_advance(&r->clk, t);
    }
}

START_TEST(test_irq_100hz)
{
    struct rig r;
    rig_setup(&r);
    ctl(&r, 0x34);
    wr16(&r, 0, 11931);                         /* 1193182 / 11931 = 100.007 Hz */
    run_until(&r, 1000000000u, 1000003);
    ck_assert_int_eq(r.nrise, 100);
    ck_assert_int_eq(r.nfall, 100);
    for (int j = 0; j < 100; j++)
        ck_assert_uint_eq(r.rise[j], pit_ticks_to_ns(1 + (uint64_t)(j + 1) * 11931));
    ck_assert_uint_eq(r.rise[99], 999932115u);
    /* Linux's LATCH, 11932: the 100th edge comes just after 1 s. */
    rig_setup(&r);
    ctl(&r, 0x34);
    wr16(&r, 0, 11932);
    run_until(&r, 1000000000u, 999983);
    ck_assert_int_eq(r.nrise, 99);
    uint64_t t100 = pit_ticks_to_ns(1 + 100 * 11932ull);
    run_until(&r, t100 - 1, 7);
    ck_assert_int_eq(r.nrise, 99);
    vclock_advance(&r.clk, t100);
    ck_assert_int_eq(r.nrise, 100);
    ck_assert_uint_eq(r.rise[99], t100);
    ck_assert_uint_eq(vclock_next_deadline(&r.clk), pit_ticks_to_ns(100 * 11932ull + 11932));
}
END_TEST

START_TEST(test_gate_out_for_board)
{
    /* Counter 2 as a PC uses it for the speaker and timing loops: gate from
     * port 0x61 bit 0, OUT to bit 5; no timer runs for an unconnected OUT. */
    struct rig r;
    rig_setup(&r);
    pit_set_gate(&r.pit, 2, 0);
    ctl(&r, 0xb0);
    wr16(&r, 2, 1000);
    at(&r, 500);
    ck_assert_int_eq(out(&r, 2), 0);
    ck_assert_uint_eq(rd16(&r, 2), 1000);
    pit_set_gate(&r.pit, 2, 1);
    ck_assert(!timer_armed(&r.pit.ch[2].timer));
    at(&r, 1499); ck_assert_int_eq(out(&r, 2), 0);
    at(&r, 1500); ck_assert_int_eq(out(&r, 2), 1);
    ck_assert_uint_eq(vclock_next_deadline(&r.clk), VCLOCK_NEVER);
}
END_TEST

START_TEST(test_state_round_trip)
{
    struct rig a, b;
    rig_setup(&a);
    ctl(&a, 0x34); wr16(&a, 0, 11931);
    ctl(&a, 0xb6); wr16(&a, 2, 1357);
    ctl(&a, 0x72); wr16(&a, 1, 20);             /* mode 1 waiting for a trigger */
    run_until(&a, 123456789u, 333333);
    wr16(&a, 0, 5000);                          /* pending new count */
    ctl(&a, 0x80);                              /* counter 2 latched */
    wr(&a, 2, 0x44);                            /* half a count written */
    ctl(&a, 0xe2);                              /* status of counter 0 latched */

    const struct state_field *f = pit_device_ops.fields;
    size_t n = state_size(f);
    uint8_t s1[512], s2[512];
    ck_assert_uint_le(n, sizeof(s1));
    ck_assert_uint_eq(state_save(f, &a.pit, s1), n);

    rig_setup(&b);
    vclock_advance(&b.clk, vclock_now(&a.clk));
    ck_assert_uint_eq(state_load(f, &b.pit, s1, n), n);
    ck_assert_int_eq(pit_device_ops.post_load(&b.pit), 0);
    ck_assert_uint_eq(state_save(f, &b.pit, s2), n);
    ck_assert_mem_eq(s1, s2, n);
    ck_assert_int_eq(b.level, a.level);
    ck_assert_uint_eq(vclock_next_deadline(&b.clk), vclock_next_deadline(&a.clk));
    ck_assert_uint_ne(vclock_next_deadline(&b.clk), VCLOCK_NEVER);

    int a0 = a.nrise, b0 = b.nrise;
    for (int i = 0; i < 40; i++) {
        uint64_t t = vclock_now(&a.clk) + 2345678;
        vclock_advance(&a.clk, t);
        vclock_advance(&b.clk, t);
        ck_assert_uint_eq(rd(&b, 0), rd(&a, 0));
        ck_assert_uint_eq(rd(&b, 2), rd(&a, 2));
        ck_assert_int_eq(pit_get_out(&b.pit, 2), pit_get_out(&a.pit, 2));
        if (i == 10) {
            wr(&a, 2, 0x01); wr(&b, 2, 0x01);
            pit_set_gate(&a.pit, 1, 0); pit_set_gate(&b.pit, 1, 0);
            pit_set_gate(&a.pit, 1, 1); pit_set_gate(&b.pit, 1, 1);
        }
        ck_assert_int_eq(pit_get_out(&b.pit, 1), pit_get_out(&a.pit, 1));
        ck_assert_int_eq(b.nrise - b0, a.nrise - a0);
        ck_assert_uint_eq(vclock_next_deadline(&b.clk), vclock_next_deadline(&a.clk));
    }
    ck_assert_int_gt(a.nrise - a0, 10);
    for (int j = 0; j < a.nrise - a0 && a0 + j < MAX_EDGES; j++)
        ck_assert_uint_eq(b.rise[b0 + j], a.rise[a0 + j]);
    /* A damaged snapshot (zero CE period) is refused, not divided by. */
    b.pit.ch[0].ce0 = 0;
    ck_assert_int_eq(pit_device_ops.post_load(&b.pit), -1);
}
END_TEST

Suite *i8254_pit_suite(void)
{
    Suite *s = suite_create("i8254_pit");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_clock_conversion);
    tcase_add_test(tc, test_mode0);
    tcase_add_test(tc, test_mode0_gate);
    tcase_add_test(tc, test_mode1);
    tcase_add_test(tc, test_mode2);
    tcase_add_test(tc, test_mode2_gate);
    tcase_add_test(tc, test_mode3);
    tcase_add_test(tc, test_mode3_gate);
    tcase_add_test(tc, test_mode4);
    tcase_add_test(tc, test_mode5);
    tcase_add_test(tc, test_bcd);
    tcase_add_test(tc, test_latch_and_access);
    tcase_add_test(tc, test_read_back);
    tcase_add_test(tc, test_irq_100hz);
    tcase_add_test(tc, test_gate_out_for_board);
    tcase_add_test(tc, test_state_round_trip);
    suite_add_tcase(s, tc);
    return s;
}
