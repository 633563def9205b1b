/* MC146818 RTC through its ports on a stepped virtual clock: calendar rollover
 * in BCD and binary, 12/24 h, UIP window, periodic rate, alarm, update-ended
 * interrupt, register C, SET, divider reset, DSE, reset, state round trip. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "devices/bus.h"
#include "devices/mc146818_rtc.h"

#define BASE 0x70
#define MS 1000000ull
#define SEC 1000000000ull

struct fx {
    struct vclock clock;
    struct bus io;
    struct rtc rtc;
    int level, edges;
};

static void sink(void *opaque, int n, int level)
{
    struct fx *f = opaque;
    (void)n;
    f->edges += level && !f->level;
    f->level = level;
}

static struct fx *fx_new(int64_t start, uint8_t century)
{
    struct fx *f = calloc(1, sizeof(*f));
    vclock_init(&f->clock);
    bus_init(&f->io, "io");
    f->io.quiet = 1;
    rtc_init(&f->rtc, &f->clock, start, century);
    irq_connect(&f->rtc.irq_line, sink, f, 8);
    ck_assert_int_eq(bus_map(&f->io, BASE, 2, &rtc_bus_ops, &f->rtc), 0);
    return f;
}

static void fx_free(struct fx *f)
{
    timer_cancel(&f->rtc.update_timer);
    timer_cancel(&f->rtc.periodic_timer);
    free(f);
}

static uint8_t rd(struct fx *f, uint8_t idx)
{
    bus_write(&f->io, BASE, idx, 1);
    return (uint8_t)bus_read(&f->io, BASE + 1, 1);
}

static void wr(struct fx *f, uint8_t idx, uint8_t v)
{
    bus_write(&f->io, BASE, idx, 1);
    bus_write(&f->io, BASE + 1, v, 1);
}

static void run_to(struct fx *f, uint64_t t) { vclock_advance(&f->clock, t); }

/* Reads sec, min, hour, wday, day, month, year, century into out[8]. */
static void read_time(struct fx *f, uint8_t out[8])
{
    static const uint8_t idx[8] = { 0, 2, 4, 6, 7, 8, 9, 0x32 };
    for (int i = 0; i < 8; i++)
        out[i] = rd(f, idx[i]);
}

static void expect_time(struct fx *f, const uint8_t want[8])
{
    uint8_t got[8];
    read_time(f, got);
    for (int i = 0; i < 8; i++)
        ck_assert_msg(got[i] == want[i], "field %d: got 0x%02x want 0x%02x", i, got[i], want[i]);
}

/* Switch to binary (DM) mode and rewrite the time fields, as a guest would. */
static void set_time_binary(struct fx *f, const uint8_t t[8], uint8_t b)
{
    static const uint8_t idx[8] = { 0, 2, 4, 6, 7, 8, 9, 0x32 };
    wr(f, RTC_REG_B, RTC_B_SET | b);
    for (int i = 0; i < 8; i++)
        wr(f, idx[i], t[i]);
    wr(f, RTC_REG_B, b);
}

START_TEST(test_calendar_from_unix)
{
    struct rtc_date d;
    rtc_date_from_unix(0, &d);
    ck_assert(d.year == 1970 && d.month == 1 && d.day == 1 && d.hour == 0 && d.wday == 5);
    rtc_date_from_unix(-1, &d);
    ck_assert(d.year == 1969 && d.month == 12 && d.day == 31 && d.hour == 23 &&
              d.minute == 59 && d.second == 59 && d.wday == 4);
    rtc_date_from_unix(951782400, &d); /* 2000-02-29, Tuesday */
    ck_assert(d.year == 2000 && d.month == 2 && d.day == 29 && d.wday == 3);
    rtc_date_from_unix(4107542399, &d); /* 2100-02-28 23:59:59, Sunday */
    ck_assert(d.year == 2100 && d.month == 2 && d.day == 28 && d.second == 59 && d.wday == 1);
    ck_assert_int_eq(rtc_days_in_month(1900, 2), 28);
    ck_assert_int_eq(rtc_days_in_month(2000, 2), 29);
    ck_assert_int_eq(rtc_days_in_month(2024, 2), 29);
    ck_assert_int_eq(rtc_days_in_month(2023, 2), 28);
    ck_assert_int_eq(rtc_days_in_month(2023, 9), 30);
    ck_assert_int_eq(rtc_days_in_month(2023, 12), 31);
}
END_TEST

START_TEST(test_init_defaults)
{
    struct fx *f = fx_new(1718452800, RTC_CENTURY_PC); /* 2024-06-15 12:00:00 Sat */
    const uint8_t want[8] = { 0x00, 0x00, 0x12, 0x07, 0x15, 0x06, 0x24, 0x20 };
    expect_time(f, want);
    ck_assert_uint_eq(rd(f, RTC_REG_A), 0x26);
    ck_assert_uint_eq(rd(f, RTC_REG_B), 0x02);
    ck_assert_uint_eq(rd(f, RTC_REG_C), 0x00);
    ck_assert_uint_eq(rd(f, RTC_REG_D), 0x80);
    ck_assert_uint_eq(bus_read(&f->io, BASE, 1), 0xff);
    ck_assert_int_eq(f->level, 0);
    fx_free(f);
}
END_TEST

/* Century rollover 1999 -> 2000 (a leap year divisible by 400), BCD. */
START_TEST(test_century_bcd)
{
    struct fx *f = fx_new(946684799, RTC_CENTURY_PC);
    const uint8_t before[8] = { 0x59, 0x59, 0x23, 0x06, 0x31, 0x12, 0x99, 0x19 };
    const uint8_t after[8] = { 0x00, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20 };
    expect_time(f, before);
    run_to(f, SEC - 1);
    expect_time(f, before);
    run_to(f, SEC);
    expect_time(f, after);
    fx_free(f);
}
END_TEST

/* 2099 -> 2100 in binary mode; then 2100 is not a leap year. */
START_TEST(test_century_binary_2100)
{
    struct fx *f = fx_new(0, RTC_CENTURY_PC);
    const uint8_t t[8] = { 59, 59, 23, 5, 31, 12, 99, 20 };
    set_time_binary(f, t, RTC_B_24H | RTC_B_DM);
    run_to(f, SEC);
    const uint8_t after[8] = { 0, 0, 0, 6, 1, 1, 0, 21 };
    expect_time(f, after);
    const uint8_t feb28[8] = { 59, 59, 23, 1, 28, 2, 0, 21 };
    set_time_binary(f, feb28, RTC_B_24H | RTC_B_DM);
    run_to(f, 2 * SEC);
    const uint8_t mar1[8] = { 0, 0, 0, 2, 1, 3, 0, 21 };
    expect_time(f, mar1);
    fx_free(f);
}
END_TEST

START_TEST(test_leap_day_bcd)
{
    struct fx *f = fx_new(1709164798, RTC_CENTURY_PC); /* 2024-02-28 23:59:58 Wed */
    run_to(f, 2 * SEC);
    const uint8_t leap[8] = { 0x00, 0x00, 0x00, 0x05, 0x29, 0x02, 0x24, 0x20 };
    expect_time(f, leap);
    /* one day later (86400 updates): March 1st */
    run_to(f, 2 * SEC + 86400 * SEC);
    const uint8_t mar1[8] = { 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x24, 0x20 };
    expect_time(f, mar1);
    fx_free(f);
}
END_TEST

START_TEST(test_leap_2000_and_month_end_binary)
{
    struct fx *f = fx_new(951782399, RTC_CENTURY_PC); /* 2000-02-28 23:59:59 Mon */
    run_to(f, SEC);
    const uint8_t leap[8] = { 0x00, 0x00, 0x00, 0x03, 0x29, 0x02, 0x00, 0x20 };
    expect_time(f, leap);
    const uint8_t apr30[8] = { 59, 59, 23, 1, 30, 4, 23, 20 };
    set_time_binary(f, apr30, RTC_B_24H | RTC_B_DM);
    run_to(f, 2 * SEC);
    const uint8_t may1[8] = { 0, 0, 0, 2, 1, 5, 23, 20 };
    expect_time(f, may1);
    fx_free(f);
}
END_TEST

/* Without a century byte the chip's own rule applies: every 4th year leaps. */
START_TEST(test_no_century_byte)
{
    struct fx *f = fx_new(951782399, 0);
    rtc_set_cmos(&f->rtc, 0x32, 0x19);
    run_to(f, SEC);
    ck_assert_uint_eq(rd(f, RTC_DAY_OF_MONTH), 0x29);
    ck_assert_uint_eq(rd(f, 0x32), 0x19); /* untouched */
    fx_free(f);
}
END_TEST

START_TEST(test_12_hour)
{
    struct fx *f = fx_new(0, RTC_CENTURY_PC);
    /* 11:59:59 PM, BCD, 12 h mode */
    wr(f, RTC_REG_B, RTC_B_SET);
    wr(f, RTC_HOURS, 0x91); wr(f, RTC_MINUTES, 0x59); wr(f, RTC_SECONDS, 0x59);
    wr(f, RTC_DAY_OF_MONTH, 0x01); wr(f, RTC_DAY_OF_WEEK, 0x07);
    wr(f, RTC_REG_B, 0);
    run_to(f, SEC);
    ck_assert_uint_eq(rd(f, RTC_HOURS), 0x12);           /* 12 AM */
    ck_assert_uint_eq(rd(f, RTC_DAY_OF_MONTH), 0x02);
    ck_assert_uint_eq(rd(f, RTC_DAY_OF_WEEK), 0x01);     /* Saturday -> Sunday */
    wr(f, RTC_HOURS, 0x12); wr(f, RTC_MINUTES, 0x59); wr(f, RTC_SECONDS, 0x59);
    run_to(f, 2 * SEC);
    ck_assert_uint_eq(rd(f, RTC_HOURS), 0x01);           /* 12:59:59 AM -> 1 AM */
    wr(f, RTC_HOURS, 0x11); wr(f, RTC_MINUTES, 0x59); wr(f, RTC_SECONDS, 0x59);
    run_to(f, 3 * SEC);
    ck_assert_uint_eq(rd(f, RTC_HOURS), 0x92);           /* 12 PM */
    wr(f, RTC_MINUTES, 0x59); wr(f, RTC_SECONDS, 0x59);
    run_to(f, 4 * SEC);
    ck_assert_uint_eq(rd(f, RTC_HOURS), 0x81);           /* 1 PM */
    /* binary 12 h: 11 PM = 0x8b */
    wr(f, RTC_REG_B, RTC_B_DM);
    wr(f, RTC_HOURS, 0x8b); wr(f, RTC_MINUTES, 59); wr(f, RTC_SECONDS, 59);
    run_to(f, 5 * SEC);
    ck_assert_uint_eq(rd(f, RTC_HOURS), 12);
    /* 24 h binary: 23:59:59 -> 0 */
    wr(f, RTC_REG_B, RTC_B_DM | RTC_B_24H);
    wr(f, RTC_HOURS, 23); wr(f, RTC_MINUTES, 59); wr(f, RTC_SECONDS, 59);
    run_to(f, 6 * SEC);
    ck_assert_uint_eq(rd(f, RTC_HOURS), 0);
    fx_free(f);
}
END_TEST

/* UIP is high exactly in the 244.14 us (8 ticks of 32.768 kHz) before the update. */
START_TEST(test_uip_window)
{
    struct fx *f = fx_new(0, RTC_CENTURY_PC);
    run_to(f, SEC / 2);
    ck_assert_uint_eq(rd(f, RTC_REG_A), 0x26);
    run_to(f, SEC - 244141);
    ck_assert_uint_eq(rd(f, RTC_REG_A), 0x26);
    run_to(f, SEC - 244140);
    ck_assert_uint_eq(rd(f, RTC_REG_A), 0xa6);
    ck_assert_uint_eq(rd(f, RTC_SECONDS), 0x00);
    run_to(f, SEC - 1);
    ck_assert_uint_eq(rd(f, RTC_REG_A), 0xa6);
    run_to(f, SEC);
    ck_assert_uint_eq(rd(f, RTC_REG_A), 0x26);
    ck_assert_uint_eq(rd(f, RTC_SECONDS), 0x01);
    /* writes cannot set UIP; SET clears it */
    wr(f, RTC_REG_A, 0xa6);
    ck_assert_uint_eq(rd(f, RTC_REG_A), 0x26);
    run_to(f, 2 * SEC - 1000);
    ck_assert_uint_eq(rd(f, RTC_REG_A), 0xa6);
    wr(f, RTC_REG_B, RTC_B_SET | RTC_B_24H);
    ck_assert_uint_eq(rd(f, RTC_REG_A), 0x26);
    fx_free(f);
}
END_TEST

/* Counts IRQs in [0, end], acknowledging each by reading C. */
static int count_irqs(struct fx *f, uint64_t end, uint8_t expect_c)
{
    int n = 0;
    for (;;) {
        uint64_t d = vclock_next_deadline(&f->clock);
        if (d > end)
            break;
        run_to(f, d);
        if (f->level) {
            n++;
            ck_assert_uint_eq(rd(f, RTC_REG_C), expect_c);
            ck_assert_int_eq(f->level, 0);
        }
    }
    run_to(f, end);
    return n;
}

START_TEST(test_periodic_1024hz)
{
    struct fx *f = fx_new(0, RTC_CENTURY_PC);
    wr(f, RTC_REG_B, RTC_B_PIE | RTC_B_24H);
    ck_assert_int_eq(count_irqs(f, SEC - 1, RTC_C_IRQF | RTC_C_PF), 1023);
    run_to(f, SEC); /* the 1024th tick coincides with the update cycle */
    ck_assert_uint_eq(rd(f, RTC_REG_C), RTC_C_IRQF | RTC_C_PF | RTC_C_UF);
    ck_assert_int_eq(f->edges, 1024);
    /* first tick exactly at 32 ticks of 32.768 kHz = 976562.5 ns (rounded up) */
    ck_assert_uint_eq(f->rtc.periodic_deadline, SEC + 976563);
    fx_free(f);
}
END_TEST

START_TEST(test_periodic_rates)
{
    static const struct { uint8_t rs; int hz; } cases[] = {
        { 1, 256 }, { 2, 128 }, { 3, 8192 }, { 7, 512 }, { 15, 2 }, { 0, 0 } };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fx *f = fx_new(0, 0);
        wr(f, RTC_REG_A, (uint8_t)(0x20 | cases[i].rs));
        wr(f, RTC_REG_B, RTC_B_PIE | RTC_B_24H);
        /* UF also lands at 1 s: count PF edges in [0, 1 s) */
        int n = count_irqs(f, SEC - 1, RTC_C_IRQF | RTC_C_PF);
        ck_assert_msg(n == (cases[i].hz ? cases[i].hz - 1 : 0), "rs %d: %d irqs", cases[i].rs, n);
        run_to(f, SEC);
        ck_assert_uint_eq(rd(f, RTC_REG_C), cases[i].hz ? (RTC_C_IRQF | RTC_C_PF | RTC_C_UF) : RTC_C_UF);
        fx_free(f);
    }
}
END_TEST

/* With PIE off, PF still sets (read lazily) but no IRQ. */
START_TEST(test_pf_without_pie)
{
    struct fx *f = fx_new(0, RTC_CENTURY_PC);
    ck_assert_int_eq(vclock_next_deadline(&f->clock), SEC); /* no periodic timer */
    run_to(f, 976562);
    ck_assert_uint_eq(rd(f, RTC_REG_C), 0);
    run_to(f, 976563);
    ck_assert_uint_eq(rd(f, RTC_REG_C), RTC_C_PF);
    ck_assert_uint_eq(rd(f, RTC_REG_C), 0);
    run_to(f, 976563 * 2);
    /* enabling PIE with PF already set raises IRQF at once */
    wr(f, RTC_REG_B, RTC_B_PIE | RTC_B_24H);
    ck_assert_int_eq(f->level, 1);
    ck_assert_uint_eq(rd(f, RTC_REG_C), RTC_C_IRQF | RTC_C_PF);
    ck_assert_int_eq(f->level, 0);
    ck_assert_int_eq(f->edges, 1);
    fx_free(f);
}
END_TEST

START_TEST(test_update_interrupt)
{
    struct fx *f = fx_new(0, RTC_CENTURY_PC);
    wr(f, RTC_REG_A, 0x20);   /* RS = 0: no PF to mix in */
    wr(f, RTC_REG_B, RTC_B_UIE | RTC_B_24H);
    run_to(f, SEC - 1);
    ck_assert_int_eq(f->level, 0);
    run_to(f, SEC);
    ck_assert_int_eq(f->level, 1);
    ck_assert_uint_eq(rd(f, RTC_SECONDS), 0x01);
    /* IRQ stays high until C is read; the second update does not re-edge */
    run_to(f, 2 * SEC);
    ck_assert_int_eq(f->edges, 1);
    ck_assert_uint_eq(rd(f, RTC_REG_C), RTC_C_IRQF | RTC_C_UF);
    ck_assert_int_eq(f->level, 0);
    ck_assert_uint_eq(rd(f, RTC_REG_C), 0);
    ck_assert_int_eq(count_irqs(f, 10 * SEC, RTC_C_IRQF | RTC_C_UF), 8);
    /* UF without UIE: flag only */
    wr(f, RTC_REG_B, RTC_B_24H);
    run_to(f, 11 * SEC);
    ck_assert_int_eq(f->level, 0);
    ck_assert_uint_eq(rd(f, RTC_REG_C), RTC_C_UF);
    fx_free(f);
}
END_TEST

START_TEST(test_alarm)
{
    struct fx *f = fx_new(1718452800, RTC_CENTURY_PC); /* 12:00:00 */
    wr(f, RTC_REG_A, 0x20);
    wr(f, RTC_SECONDS_ALARM, 0x05);
    wr(f, RTC_MINUTES_ALARM, 0x00);
    wr(f, RTC_HOURS_ALARM, 0x12);
    wr(f, RTC_REG_B, RTC_B_AIE | RTC_B_24H);
    run_to(f, 4 * SEC);
    ck_assert_int_eq(f->level, 0);
    ck_assert_uint_eq(rd(f, RTC_REG_C), RTC_C_UF);
    run_to(f, 5 * SEC);
    ck_assert_int_eq(f->level, 1);
    ck_assert_uint_eq(rd(f, RTC_REG_C), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
    run_to(f, 6 * SEC);
    ck_assert_uint_eq(rd(f, RTC_REG_C), RTC_C_UF);
    /* don't care (0xC0-0xFF) in minutes and hours: match at every :05 second */
    wr(f, RTC_MINUTES_ALARM, 0xc0);
    wr(f, RTC_HOURS_ALARM, 0xff);
    ck_assert_int_eq(count_irqs(f, 6 * SEC + 130 * SEC, RTC_C_IRQF | RTC_C_AF | RTC_C_UF), 2);
    /* all three don't care: every second */
    wr(f, RTC_SECONDS_ALARM, 0xc3);
    ck_assert_int_eq(count_irqs(f, 146 * SEC, RTC_C_IRQF | RTC_C_AF | RTC_C_UF), 10);
    fx_free(f);
}
END_TEST

START_TEST(test_set_freezes)
{
    struct fx *f = fx_new(1718452800, RTC_CENTURY_PC);
    wr(f, RTC_REG_A, 0x20);
    wr(f, RTC_REG_B, RTC_B_UIE | RTC_B_24H);
    wr(f, RTC_REG_B, RTC_B_SET | RTC_B_UIE | RTC_B_24H);
    ck_assert_uint_eq(rd(f, RTC_REG_B), RTC_B_SET | RTC_B_24H); /* SET clears UIE */
    run_to(f, 3 * SEC + SEC / 2);
    ck_assert_uint_eq(rd(f, RTC_SECONDS), 0x00);
    ck_assert_uint_eq(rd(f, RTC_REG_C), 0);                    /* no update cycles */
    wr(f, RTC_SECONDS, 0x30);
    wr(f, RTC_MINUTES, 0x45);
    wr(f, RTC_REG_B, RTC_B_24H);
    run_to(f, 4 * SEC - 1);
    ck_assert_uint_eq(rd(f, RTC_SECONDS), 0x30);
    run_to(f, 4 * SEC);                                         /* divider kept its phase */
    ck_assert_uint_eq(rd(f, RTC_SECONDS), 0x31);
    ck_assert_uint_eq(rd(f, RTC_MINUTES), 0x45);
    fx_free(f);
}
END_TEST

START_TEST(test_divider_reset)
{
    struct fx *f = fx_new(0, RTC_CENTURY_PC);
    run_to(f, SEC / 4);
    wr(f, RTC_REG_A, 0x70);                 /* hold the divider in reset */
    ck_assert_uint_eq(vclock_next_deadline(&f->clock), VCLOCK_NEVER);
    run_to(f, 10 * SEC);
    ck_assert_uint_eq(rd(f, RTC_SECONDS), 0x00);
    ck_assert_uint_eq(rd(f, RTC_REG_A), 0x70);
    wr(f, RTC_REG_A, 0x26);                 /* release: first update 0.5 s later */
    run_to(f, 10 * SEC + SEC / 2 - 1);
    ck_assert_uint_eq(rd(f, RTC_SECONDS), 0x00);
    run_to(f, 10 * SEC + SEC / 2);
    ck_assert_uint_eq(rd(f, RTC_SECONDS), 0x01);
    run_to(f, 11 * SEC + SEC / 2);
    ck_assert_uint_eq(rd(f, RTC_SECONDS), 0x02);
    fx_free(f);
}
END_TEST

START_TEST(test_dse)
{
    struct fx *f = fx_new(1714269598, 0); /* Sun 2024-04-28 01:59:58 */
    wr(f, RTC_REG_B, RTC_B_24H | RTC_B_DSE);
    run_to(f, 2 * SEC);
    ck_assert_uint_eq(rd(f, RTC_HOURS), 0x03);
    ck_assert_uint_eq(rd(f, RTC_MINUTES), 0x00);
    ck_assert_uint_eq(rd(f, RTC_SECONDS), 0x00);
    fx_free(f);
    f = fx_new(1729994398, 0);            /* Sun 2024-10-27 01:59:58 */
    wr(f, RTC_REG_B, RTC_B_24H | RTC_B_DSE);
    run_to(f, 2 * SEC);
    ck_assert_uint_eq(rd(f, RTC_HOURS), 0x01);
    ck_assert_uint_eq(rd(f, RTC_MINUTES), 0x00);
    run_to(f, 2 * SEC + 3600 * SEC);      /* second time through: no fallback */
    ck_assert_uint_eq(rd(f, RTC_HOURS), 0x02);
    ck_assert_uint_eq(rd(f, RTC_MINUTES), 0x00);
    fx_free(f);
}
END_TEST

START_TEST(test_nvram_nmi_and_reset)
{
    struct fx *f = fx_new(0, RTC_CENTURY_PC);
    rtc_set_cmos(&f->rtc, 0x10, 0x44);
    ck_assert_uint_eq(rd(f, 0x10), 0x44);
    wr(f, 0x7f, 0x5a);
    ck_assert_uint_eq(rtc_get_cmos(&f->rtc, 0x7f), 0x5a);
    ck_assert_int_eq(rtc_nmi_masked(&f->rtc), 0);
    bus_write(&f->io, BASE, 0x80 | 0x10, 1);
    ck_assert_int_eq(rtc_nmi_masked(&f->rtc), 1);
    ck_assert_uint_eq(bus_read(&f->io, BASE + 1, 1), 0x44); /* index is 0x10 */
    bus_write(&f->io, BASE, 0x10, 1);
    ck_assert_int_eq(rtc_nmi_masked(&f->rtc), 0);
    wr(f, RTC_REG_C, 0xff);
    wr(f, RTC_REG_D, 0x00);
    ck_assert_uint_eq(rd(f, RTC_REG_C), 0);
    ck_assert_uint_eq(rd(f, RTC_REG_D), 0x80);
    /* reset clears enables and flags, lowers IRQ, keeps time and mode */
    wr(f, RTC_REG_B, RTC_B_PIE | RTC_B_UIE | RTC_B_AIE | RTC_B_SQWE | RTC_B_DM | RTC_B_24H);
    run_to(f, SEC);
    ck_assert_int_eq(f->level, 1);
    rtc_device_ops.reset(&f->rtc);
    ck_assert_int_eq(f->level, 0);
    ck_assert_uint_eq(rd(f, RTC_REG_B), RTC_B_DM | RTC_B_24H);
    ck_assert_uint_eq(rd(f, RTC_REG_C), 0);
    ck_assert_uint_eq(rd(f, RTC_SECONDS), 0x01);
    ck_assert_uint_eq(rd(f, 0x10), 0x44);
    fx_free(f);
}
END_TEST

static size_t save(struct rtc *rtc, uint8_t *buf)
{
    return state_save(rtc_device_ops.fields, rtc, buf);
}

START_TEST(test_state_round_trip)
{
    struct fx *a = fx_new(946684790, RTC_CENTURY_PC);
    rtc_set_cmos(&a->rtc, 0x20, 0x99);
    wr(a, RTC_REG_A, 0x2a);                       /* 64 Hz */
    wr(a, RTC_REG_B, RTC_B_PIE | RTC_B_UIE | RTC_B_24H);
    wr(a, RTC_SECONDS_ALARM, 0xff); wr(a, RTC_MINUTES_ALARM, 0xff); wr(a, RTC_HOURS_ALARM, 0xff);
    bus_write(&a->io, BASE, 0x8b, 1);             /* NMI masked, index B */
    run_to(a, 3 * SEC + 123456);                  /* IRQ pending (unacknowledged) */
    ck_assert_int_eq(a->level, 1);

    size_t n = state_size(rtc_device_ops.fields);
    uint8_t *s1 = malloc(n), *s2 = malloc(n);
    ck_assert_uint_eq(save(&a->rtc, s1), n);

    struct fx *b = fx_new(0, 0);
    run_to(b, 3 * SEC + 123456);                  /* the board restores the clock first */
    ck_assert_uint_eq(state_load(rtc_device_ops.fields, &b->rtc, s1, n), n);
    ck_assert_int_eq(rtc_device_ops.post_load(&b->rtc), 0);
    ck_assert_int_eq(b->level, 1);
    ck_assert_int_eq(rtc_nmi_masked(&b->rtc), 1);
    ck_assert_uint_eq(bus_read(&b->io, BASE + 1, 1), RTC_B_PIE | RTC_B_UIE | RTC_B_24H);
    save(&b->rtc, s2);
    ck_assert_mem_eq(s1, s2, n);

    fx_free(a); fx_free(b);
    free(s1); free(s2);
}
END_TEST

/* After a load, both copies read back the same, step by step. */
START_TEST(test_state_continues)
{
    struct fx *a = fx_new(946684790, RTC_CENTURY_PC);
    wr(a, RTC_REG_A, 0x2a);
    wr(a, RTC_REG_B, RTC_B_PIE | RTC_B_UIE | RTC_B_24H);
    run_to(a, 2 * SEC + 5 * MS);
    size_t n = state_size(rtc_device_ops.fields);
    uint8_t *s = malloc(n);
    save(&a->rtc, s);
    struct fx *b = fx_new(12345, 0);
    run_to(b, 2 * SEC + 5 * MS);
    state_load(rtc_device_ops.fields, &b->rtc, s, n);
    rtc_device_ops.post_load(&b->rtc);
    a->edges = b->edges = 0;
    for (uint64_t t = 2 * SEC + 5 * MS; t < 14 * SEC; t += 7 * MS) {
        run_to(a, t);
        run_to(b, t);
        ck_assert_int_eq(a->level, b->level);
        if (a->level)
            ck_assert_uint_eq(rd(a, RTC_REG_C), rd(b, RTC_REG_C));
        uint8_t ta[8], tb[8];
        read_time(a, ta);
        read_time(b, tb);
        ck_assert_mem_eq(ta, tb, 8);
        ck_assert_uint_eq(rd(a, RTC_REG_A), rd(b, RTC_REG_A));
    }
    ck_assert_int_gt(a->edges, 100);
    ck_assert_int_eq(a->edges, b->edges);
    ck_assert_uint_eq(rd(b, RTC_YEAR), 0x00);
    ck_assert_uint_eq(rd(b, 0x32), 0x20);
    fx_free(a); fx_free(b); free(s);
}
END_TEST

Suite *mc146818_rtc_suite(void)
{
    Suite *s = suite_create("mc146818_rtc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_calendar_from_unix);
    tcase_add_test(tc, test_init_defaults);
    tcase_add_test(tc, test_century_bcd);
    tcase_add_test(tc, test_century_binary_2100);
    tcase_add_test(tc, test_leap_day_bcd);
    tcase_add_test(tc, test_leap_2000_and_month_end_binary);
    tcase_add_test(tc, test_no_century_byte);
    tcase_add_test(tc, test_12_hour);
    tcase_add_test(tc, test_uip_window);
    tcase_add_test(tc, test_periodic_1024hz);
    tcase_add_test(tc, test_periodic_rates);
    tcase_add_test(tc, test_pf_without_pie);
    tcase_add_test(tc, test_update_interrupt);
    tcase_add_test(tc, test_alarm);
    tcase_add_test(tc, test_set_freezes);
    tcase_add_test(tc, test_divider_reset);
    tcase_add_test(tc, test_dse);
    tcase_add_test(tc, test_nvram_nmi_and_reset);
    tcase_add_test(tc, test_state_round_trip);
    tcase_add_test(tc, test_state_continues);
    suite_add_tcase(s, tc);
    return s;
}
