/* MC146818 real-time clock with 128 bytes of CMOS RAM (see mc146818_rtc.c).
 * Ports: offset 0 = index (write; bit 7 = NMI mask), offset 1 = data.
 * The board maps rtc_bus_ops at its base (2 ports), connects irq_line,
 * asks rtc_nmi_masked() before delivering NMIs and fills NVRAM bytes with
 * rtc_set_cmos(). Time = the start time given at init + virtual time. */
#ifndef SV_MC146818_RTC_H
#define SV_MC146818_RTC_H
#include <stdint.h>
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/irq.h"
#include "devices/vclock.h"

#define RTC_CMOS_SIZE 128

/* Register indices (datasheet names). */
#define RTC_SECONDS       0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES       0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS         0x04
#define RTC_HOURS_ALARM   0x05
#define RTC_DAY_OF_WEEK   0x06
#define RTC_DAY_OF_MONTH  0x07
#define RTC_MONTH         0x08
#define RTC_YEAR          0x09
#define RTC_REG_A         0x0a
#define RTC_REG_B         0x0b
#define RTC_REG_C         0x0c
#define RTC_REG_D         0x0d
#define RTC_CENTURY_PC    0x32 /* the PC/AT BIOS convention; the board decides */

#define RTC_A_UIP  0x80
#define RTC_A_DV   0x70 /* divider select; 0x20 = 32.768 kHz time base */
#define RTC_A_RS   0x0f /* rate select */
#define RTC_B_SET  0x80
#define RTC_B_PIE  0x40
#define RTC_B_AIE  0x20
#define RTC_B_UIE  0x10
#define RTC_B_SQWE 0x08
#define RTC_B_DM   0x04 /* 1 = binary, 0 = BCD */
#define RTC_B_24H  0x02
#define RTC_B_DSE  0x01
#define RTC_C_IRQF 0x80
#define RTC_C_PF   0x40
#define RTC_C_AF   0x20
#define RTC_C_UF   0x10
#define RTC_D_VRT  0x80

struct rtc {
    /* saved state */
    uint8_t cmos[RTC_CMOS_SIZE]; /* 0-9 time/alarm, 10-13 registers A-D, rest NVRAM */
    uint8_t index;               /* selected register, 0-127 */
    uint8_t nmi_masked;          /* bit 7 of the last index write */
    uint8_t dse_fell_back;       /* DSE: the October 1:59:59 -> 1:00:00 step was taken today */
    uint8_t century_index;       /* CMOS byte holding the century (BCD/binary), 0 = none */
    uint64_t origin;             /* ns at which the divider chain was at count 0 (mod 2^64) */
    uint64_t pf_mark;            /* ns up to which PF has been accounted for */
    uint64_t update_deadline;    /* next update cycle (end of second), VCLOCK_NEVER if stopped */
    uint64_t periodic_deadline;  /* next periodic interrupt, VCLOCK_NEVER if not armed */
    /* not saved */
    struct vclock *clock;
    struct timer update_timer, periodic_timer;
    struct irq_line irq_line;    /* IRQ output (active high here; IRQ8 on a PC) */
};

/* start_time: seconds since 1970-01-01 00:00:00 UTC shown at virtual time
 * "now"; century_index: CMOS byte kept as the century (RTC_CENTURY_PC) or 0.
 * Sets A = 0x26, B = 0x02 (24 h, BCD), and NVRAM to zero. */
void rtc_init(struct rtc *rtc, struct vclock *clock, int64_t start_time, uint8_t century_index);
/* Raw CMOS access for the board (NVRAM contents) and tests; no side effects. */
void rtc_set_cmos(struct rtc *rtc, uint8_t index, uint8_t value);
uint8_t rtc_get_cmos(const struct rtc *rtc, uint8_t index);
/* 1 when the guest has set bit 7 of the index port (NMI disabled). */
int rtc_nmi_masked(const struct rtc *rtc);

extern const struct bus_ops rtc_bus_ops;
extern const struct device_ops rtc_device_ops;

/* Calendar helpers (UTC, proleptic Gregorian), exported for tests and the board. */
struct rtc_date {
    int year, month, day;          /* full year, 1-12, 1-31 */
    int hour, minute, second;      /* 0-23, 0-59, 0-59 */
    int wday;                      /* 1 = Sunday ... 7 = Saturday, as the chip counts */
};
void rtc_date_from_unix(int64_t t, struct rtc_date *d);
int rtc_days_in_month(int year, int month);

#endif
