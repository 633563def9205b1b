/* Motorola MC146818A real-time clock plus RAM (datasheet: registers A-D,
 * update cycle, periodic/alarm/update-ended interrupts, DSE), 128-byte CMOS.
 * Not modelled: the square-wave output pin, time bases other than 32.768 kHz
 * (DV other than 010 stops the divider), the 1984 us update cycle itself (the
 * update is instantaneous at the second boundary; UIP rises 244 us before it),
 * garbage read while an update is in progress, odd carries from invalid data. */
#include "devices/mc146818_rtc.h"
#include <string.h>

#define NS_PER_S 1000000000ull
#define RTC_HZ   32768u           /* divider input: the PC's 32.768 kHz crystal */
#define UIP_TICKS 8u              /* 8 ticks = 244.14 us before the update */
#define DV_NORMAL 0x20

/* ---- the divider chain, in ticks of 32.768 kHz since rtc->origin ---- */

static uint64_t ticks_at(const struct rtc *rtc, uint64_t now)
{
    uint64_t d = now - rtc->origin; /* wraps correctly: origin may be "before 0" */
    return (d / NS_PER_S) * RTC_HZ + (d % NS_PER_S) * RTC_HZ / NS_PER_S;
}

/* First ns at which the divider has counted `tick` ticks. */
static uint64_t tick_time(const struct rtc *rtc, uint64_t tick)
{
    uint64_t frac = ((tick % RTC_HZ) * NS_PER_S + RTC_HZ - 1) / RTC_HZ;
    return rtc->origin + (tick / RTC_HZ) * NS_PER_S + frac;
}

static int divider_running(const struct rtc *rtc)
{
    return (rtc->cmos[RTC_REG_A] & RTC_A_DV) == DV_NORMAL;
}

/* Periodic interrupt period in ticks, 0 when off (RS = 0 or divider stopped).
 * With a 32.768 kHz base, RS 1 and 2 give 256 and 128 Hz (same as 8 and 9). */
static uint64_t periodic_ticks(const struct rtc *rtc)
{
    unsigned rs = rtc->cmos[RTC_REG_A] & RTC_A_RS;
    if (rs == 0 || !divider_running(rtc))
        return 0;
    return 1ull << (rs < 3 ? rs + 6 : rs - 1);
}

/* Deadline of the next multiple of `period` ticks strictly after now. */
static uint64_t next_boundary(const struct rtc *rtc, uint64_t now, uint64_t period)
{
    return tick_time(rtc, (ticks_at(rtc, now) / period + 1) * period);
}

/* ---- interrupt flags ---- */

static void update_irq(struct rtc *rtc)
{
    uint8_t b = rtc->cmos[RTC_REG_B], c = rtc->cmos[RTC_REG_C];
    int on = (c & b & (RTC_C_PF | RTC_C_AF | RTC_C_UF)) != 0; /* flag and enable share bits */
    rtc->cmos[RTC_REG_C] = (uint8_t)(on ? c | RTC_C_IRQF : c & ~RTC_C_IRQF);
    irq_set(&rtc->irq_line, on);
}

/* PF is set by every periodic tick, enabled or not. When PIE is off no timer
 * runs, so the ticks since pf_mark are accounted for here, lazily. */
static void pf_catch_up(struct rtc *rtc, uint64_t now)
{
    uint64_t p = periodic_ticks(rtc);
    if (p && now > rtc->pf_mark && ticks_at(rtc, now) / p > ticks_at(rtc, rtc->pf_mark) / p)
        rtc->cmos[RTC_REG_C] |= RTC_C_PF;
    rtc->pf_mark = now;
}

static void arm_periodic(struct rtc *rtc)
{
    uint64_t p = periodic_ticks(rtc);
    rtc->periodic_deadline = VCLOCK_NEVER;
    if (p && (rtc->cmos[RTC_REG_B] & RTC_B_PIE))
        rtc->periodic_deadline = next_boundary(rtc, vclock_now(rtc->clock), p);
    timer_arm(&rtc->periodic_timer, rtc->periodic_deadline);
}

static void arm_update(struct rtc *rtc)
{
    rtc->update_deadline = VCLOCK_NEVER;
    if (divider_running(rtc))
        rtc->update_deadline = next_boundary(rtc, vclock_now(rtc->clock), RTC_HZ);
    timer_arm(&rtc->update_timer, rtc->update_deadline);
}

static void periodic_fire(void *opaque)
{
    struct rtc *rtc = opaque;
    pf_catch_up(rtc, vclock_now(rtc->clock));
    update_irq(rtc);
    arm_periodic(rtc);
}

/* ---- calendar arithmetic (UTC, proleptic Gregorian) ---- */

static int is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int rtc_days_in_month(int year, int month)
{
    static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (month < 1 || month > 12)
        return 31;
    return days[month - 1] + (month == 2 && is_leap(year));
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

void rtc_date_from_unix(int64_t t, struct rtc_date *d)
{
    int64_t days = floor_div(t, 86400), secs = t - days * 86400;
    d->hour = (int)(secs / 3600);
    d->minute = (int)(secs / 60 % 60);
    d->second = (int)(secs % 60);
    d->wday = (int)((days + 4) - floor_div(days + 4, 7) * 7) + 1; /* 1970-01-01: Thursday */
    /* The Gregorian calendar repeats every 400 years = 146097 days. */
    int64_t cycles = floor_div(days, 146097);
    days -= cycles * 146097;
    int year = (int)(1970 + cycles * 400);
    while (days >= 365 + is_leap(year))
        days -= 365 + is_leap(year++);
    int month = 1;
    while (days >= rtc_days_in_month(year, month))
        days -= rtc_days_in_month(year, month++);
    d->year = year;
    d->month = month;
    d->day = (int)days + 1;
}

/* ---- time registers in the current data mode ---- */

static int dec(const struct rtc *rtc, uint8_t v)
{
    return (rtc->cmos[RTC_REG_B] & RTC_B_DM) ? v : (v >> 4) * 10 + (v & 15);
}

static uint8_t enc(const struct rtc *rtc, int n)
{
    return (uint8_t)((rtc->cmos[RTC_REG_B] & RTC_B_DM) ? n : (n / 10) << 4 | n % 10);
}

static int get_hour(const struct rtc *rtc)
{
    uint8_t v = rtc->cmos[RTC_HOURS];
    if (rtc->cmos[RTC_REG_B] & RTC_B_24H)
        return dec(rtc, v);
    return dec(rtc, v & 0x7f) % 12 + ((v & 0x80) ? 12 : 0);
}

static uint8_t put_hour(const struct rtc *rtc, int h)
{
    if (rtc->cmos[RTC_REG_B] & RTC_B_24H)
        return enc(rtc, h);
    return (uint8_t)(enc(rtc, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0));
}

static void read_date(const struct rtc *rtc, struct rtc_date *d)
{
    int century = rtc->century_index ? dec(rtc, rtc->cmos[rtc->century_index]) : 20;
    d->second = dec(rtc, rtc->cmos[RTC_SECONDS]);
    d->minute = dec(rtc, rtc->cmos[RTC_MINUTES]);
    d->hour = get_hour(rtc);
    d->wday = dec(rtc, rtc->cmos[RTC_DAY_OF_WEEK]);
    d->day = dec(rtc, rtc->cmos[RTC_DAY_OF_MONTH]);
    d->month = dec(rtc, rtc->cmos[RTC_MONTH]);
    d->year = century * 100 + dec(rtc, rtc->cmos[RTC_YEAR]) % 100;
}

static void write_date(struct rtc *rtc, const struct rtc_date *d)
{
    rtc->cmos[RTC_SECONDS] = enc(rtc, d->second);
    rtc->cmos[RTC_MINUTES] = enc(rtc, d->minute);
    rtc->cmos[RTC_HOURS] = put_hour(rtc, d->hour);
    rtc->cmos[RTC_DAY_OF_WEEK] = enc(rtc, d->wday);
    rtc->cmos[RTC_DAY_OF_MONTH] = enc(rtc, d->day);
    rtc->cmos[RTC_MONTH] = enc(rtc, d->month);
    rtc->cmos[RTC_YEAR] = enc(rtc, d->year % 100);
    if (rtc->century_index)
        rtc->cmos[rtc->century_index] = enc(rtc, d->year / 100 % 100);
}

/* Daylight saving (old US rule in the datasheet): the last Sunday in April
 * goes 1:59:59 -> 3:00:00; the last Sunday in October goes 1:59:59 -> 1:00:00
 * the first time. Returns 1 when it replaced the normal step. */
static int dse_step(struct rtc *rtc, struct rtc_date *d)
{
    if (!(rtc->cmos[RTC_REG_B] & RTC_B_DSE) || d->wday != 1 || d->hour != 1 ||
        d->minute != 59 || d->second != 59)
        return 0;
    if (d->month == 4 && d->day >= 24) {
        d->hour = 3;
    } else if (d->month == 10 && d->day >= 25 && !rtc->dse_fell_back) {
        rtc->dse_fell_back = 1;
        d->hour = 1;
    } else {
        return 0;
    }
    d->minute = d->second = 0;
    return 1;
}

static void add_second(struct rtc *rtc, struct rtc_date *d)
{
    if (dse_step(rtc, d) || ++d->second < 60)
        return;
    d->second = 0;
    if (++d->minute < 60)
        return;
    d->minute = 0;
    if (++d->hour < 24)
        return;
    d->hour = 0;
    rtc->dse_fell_back = 0;
    d->wday = d->wday >= 7 ? 1 : d->wday + 1;
    if (++d->day <= rtc_days_in_month(d->year, d->month))
        return;
    d->day = 1;
    if (++d->month <= 12)
        return;
    d->month = 1;
    d->year++;
}

static int alarm_matches(const struct rtc *rtc)
{
    static const uint8_t pairs[3][2] = {
        { RTC_SECONDS_ALARM, RTC_SECONDS }, { RTC_MINUTES_ALARM, RTC_MINUTES },
        { RTC_HOURS_ALARM, RTC_HOURS } };
    for (int i = 0; i < 3; i++) {
        uint8_t a = rtc->cmos[pairs[i][0]];
        if ((a & 0xc0) != 0xc0 && a != rtc->cmos[pairs[i][1]])
            return 0;
    }
    return 1;
}

/* End of a second: advance the calendar, then UF and the alarm compare.
 * With SET high the update cycle is inhibited; the divider keeps its phase. */
static void update_fire(void *opaque)
{
    struct rtc *rtc = opaque;
    if (!(rtc->cmos[RTC_REG_B] & RTC_B_SET)) {
        struct rtc_date d;
        read_date(rtc, &d);
        add_second(rtc, &d);
        write_date(rtc, &d);
        rtc->cmos[RTC_REG_C] |= RTC_C_UF;
        if (alarm_matches(rtc))
            rtc->cmos[RTC_REG_C] |= RTC_C_AF;
        update_irq(rtc);
    }
    arm_update(rtc);
}

/* ---- register access ---- */

static uint8_t read_reg_a(const struct rtc *rtc)
{
    uint8_t a = rtc->cmos[RTC_REG_A] & 0x7f;
    uint64_t now = vclock_now(rtc->clock);
    if (divider_running(rtc) && !(rtc->cmos[RTC_REG_B] & RTC_B_SET) &&
        ticks_at(rtc, now) % RTC_HZ >= RTC_HZ - UIP_TICKS)
        a |= RTC_A_UIP;
    return a;
}

static void write_reg_a(struct rtc *rtc, uint8_t v)
{
    uint64_t now = vclock_now(rtc->clock);
    int was_running = divider_running(rtc);
    pf_catch_up(rtc, now);
    rtc->cmos[RTC_REG_A] = v & 0x7f;
    /* Leaving divider reset: the first update comes half a second later. */
    if (divider_running(rtc) && !was_running)
        rtc->origin = now - NS_PER_S / 2;
    rtc->pf_mark = now;
    arm_update(rtc);
    arm_periodic(rtc);
}

static void write_reg_b(struct rtc *rtc, uint8_t v)
{
    pf_catch_up(rtc, vclock_now(rtc->clock));
    if ((v & RTC_B_SET) && !(rtc->cmos[RTC_REG_B] & RTC_B_SET))
        v &= (uint8_t)~RTC_B_UIE; /* "the SET bit going high clears UIE" */
    rtc->cmos[RTC_REG_B] = v;
    update_irq(rtc);
    arm_periodic(rtc);
}

static uint8_t read_data(struct rtc *rtc)
{
    uint8_t v;
    switch (rtc->index) {
    case RTC_REG_A:
        return read_reg_a(rtc);
    case RTC_REG_C:
        pf_catch_up(rtc, vclock_now(rtc->clock));
        v = rtc->cmos[RTC_REG_C];
        rtc->cmos[RTC_REG_C] = 0;
        update_irq(rtc);
        return v;
    case RTC_REG_D:
        return RTC_D_VRT; /* the battery is always good */
    default:
        return rtc->cmos[rtc->index];
    }
}

static void write_data(struct rtc *rtc, uint8_t v)
{
    switch (rtc->index) {
    case RTC_REG_A: write_reg_a(rtc, v); break;
    case RTC_REG_B: write_reg_b(rtc, v); break;
    case RTC_REG_C: case RTC_REG_D: break; /* read-only */
    default: rtc->cmos[rtc->index] = v; break;
    }
}

static uint32_t rtc_read(void *dev, uint32_t offset, int size)
{
    (void)size;
    /* The index port is write-only on a PC: reads float high. */
    return offset == 1 ? read_data(dev) : 0xff;
}

static void rtc_write(void *dev, uint32_t offset, uint32_t value, int size)
{
    struct rtc *rtc = dev;
    (void)size;
    if (offset == 0) {
        rtc->index = value & 0x7f;
        rtc->nmi_masked = (value >> 7) & 1;
    } else if (offset == 1) {
        write_data(rtc, (uint8_t)value);
    }
}

const struct bus_ops rtc_bus_ops = { rtc_read, rtc_write, 1 };

/* ---- board interface, reset, snapshots ---- */

void rtc_set_cmos(struct rtc *rtc, uint8_t index, uint8_t value)
{
    rtc->cmos[index & 0x7f] = value;
}

uint8_t rtc_get_cmos(const struct rtc *rtc, uint8_t index)
{
    return rtc->cmos[index & 0x7f];
}

int rtc_nmi_masked(const struct rtc *rtc)
{
    return rtc->nmi_masked;
}

void rtc_init(struct rtc *rtc, struct vclock *clock, int64_t start_time, uint8_t century_index)
{
    struct rtc_date d;
    memset(rtc, 0, sizeof(*rtc));
    rtc->clock = clock;
    rtc->century_index = century_index & 0x7f;
    timer_init(&rtc->update_timer, clock, update_fire, rtc);
    timer_init(&rtc->periodic_timer, clock, periodic_fire, rtc);
    rtc->cmos[RTC_REG_A] = 0x26; /* 32.768 kHz, 1024 Hz: what PC firmware sets */
    rtc->cmos[RTC_REG_B] = RTC_B_24H;
    rtc->origin = rtc->pf_mark = vclock_now(clock); /* start_time is a second boundary */
    rtc_date_from_unix(start_time, &d);
    write_date(rtc, &d);
    arm_update(rtc);
    arm_periodic(rtc);
}

/* The RESET pin: clears the interrupt enables and flags, not time or mode. */
static void rtc_reset(void *dev)
{
    struct rtc *rtc = dev;
    rtc->cmos[RTC_REG_B] &= (uint8_t)~(RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_SQWE);
    rtc->cmos[RTC_REG_C] = 0;
    rtc->pf_mark = vclock_now(rtc->clock);
    update_irq(rtc);
    arm_periodic(rtc);
}

static int rtc_post_load(void *dev)
{
    struct rtc *rtc = dev;
    rtc->index &= 0x7f;
    if (rtc->century_index >= RTC_CMOS_SIZE)
        return -1;
    timer_arm(&rtc->update_timer, rtc->update_deadline);
    timer_arm(&rtc->periodic_timer, rtc->periodic_deadline);
    irq_set(&rtc->irq_line, (rtc->cmos[RTC_REG_C] & RTC_C_IRQF) != 0);
    return 0;
}

static const struct state_field rtc_fields[] = {
    STATE_U8_ARRAY(struct rtc, cmos, RTC_CMOS_SIZE),
    STATE_U8(struct rtc, index),
    STATE_U8(struct rtc, nmi_masked),
    STATE_U8(struct rtc, dse_fell_back),
    STATE_U8(struct rtc, century_index),
    STATE_U64(struct rtc, origin),
    STATE_U64(struct rtc, pf_mark),
    STATE_U64(struct rtc, update_deadline),
    STATE_U64(struct rtc, periodic_deadline),
    STATE_END
};

const struct device_ops rtc_device_ops = {
    .name = "rtc",
    .version = 1,
    .fields = rtc_fields,
    .reset = rtc_reset,
    .post_load = rtc_post_load,
    .destroy = NULL,
};
