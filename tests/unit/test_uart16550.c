/* 16550A UART through its ports on a stepped virtual clock with a memory
 * backend: divisor latch and character time, transmit timing, FIFOs and
 * trigger levels, IIR priorities and clearing, THRE rules, character
 * timeout, overrun, loopback, OUT2 gating, modem status, state round trip. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "devices/backends/chardev.h"
#include "devices/bus.h"
#include "devices/uart16550.h"

#define BASE 0x3f8
#define CT115200 86806ull /* 10 bits at 115200 baud = 86805.6 ns, rounded up */

struct fx {
    struct vclock clock;
    struct bus io;
    struct uart uart;
    struct chardev *chr;
    int level, edges;
};

static void sink(void *opaque, int n, int level)
{
    struct fx *f = opaque;
    (void)n;
    f->edges += level && !f->level;
    f->level = level;
}

static struct fx *fx_new(void)
{
    struct fx *f = calloc(1, sizeof(*f));
    vclock_init(&f->clock);
    bus_init(&f->io, "io");
    f->io.quiet = 1;
    uart_init(&f->uart, &f->clock);
    irq_connect(&f->uart.irq_line, sink, f, 4);
    f->chr = chardev_mem_open();
    uart_set_chardev(&f->uart, f->chr);
    ck_assert_int_eq(bus_map(&f->io, BASE, 8, &uart_bus_ops, &f->uart), 0);
    return f;
}

static void fx_free(struct fx *f)
{
    timer_cancel(&f->uart.tx_timer);
    timer_cancel(&f->uart.timeout_timer);
    chardev_close(f->chr);
    free(f);
}

static uint8_t in(struct fx *f, int reg) { return (uint8_t)bus_read(&f->io, BASE + reg, 1); }
static void out(struct fx *f, int reg, uint8_t v) { bus_write(&f->io, BASE + reg, v, 1); }
static void run_to(struct fx *f, uint64_t t) { vclock_advance(&f->clock, t); }
static uint64_t now(struct fx *f) { return vclock_now(&f->clock); }

/* 115200 8N1, the usual setup. */
static void setup_115200(struct fx *f)
{
    out(f, UART_LCR, UART_LCR_DLAB | 0x03);
    out(f, UART_DLL, 1);
    out(f, UART_DLM, 0);
    out(f, UART_LCR, 0x03);
}

static void rx(struct fx *f, const char *s)
{
    uart_receive(&f->uart, (const uint8_t *)s, strlen(s));
}

static size_t output(struct fx *f, char *buf, size_t max)
{
    size_t n = chardev_mem_take(f->chr, buf, max - 1);
    buf[n] = 0;
    return n;
}

START_TEST(test_reset_values)
{
    struct fx *f = fx_new();
    ck_assert_uint_eq(in(f, UART_IER), 0x00);
    ck_assert_uint_eq(in(f, UART_IIR), 0x01);
    ck_assert_uint_eq(in(f, UART_LCR), 0x00);
    ck_assert_uint_eq(in(f, UART_MCR), 0x00);
    ck_assert_uint_eq(in(f, UART_LSR), 0x60);
    ck_assert_uint_eq(in(f, UART_MSR), 0xb0);
    out(f, UART_SCR, 0x5a);
    ck_assert_uint_eq(in(f, UART_SCR), 0x5a);
    out(f, UART_IER, 0xff);
    ck_assert_uint_eq(in(f, UART_IER), 0x0f);
    out(f, UART_MCR, 0xff);
    ck_assert_uint_eq(in(f, UART_MCR), 0x1f);
    uart_device_ops.reset(&f->uart);
    ck_assert_uint_eq(in(f, UART_IER), 0x00);
    ck_assert_uint_eq(in(f, UART_MCR), 0x00);
    ck_assert_uint_eq(in(f, UART_SCR), 0x5a); /* not affected by reset */
    ck_assert_uint_eq(in(f, UART_MSR), 0xb0);
    ck_assert_int_eq(f->level, 0);
    fx_free(f);
}
END_TEST

START_TEST(test_divisor_latch)
{
    struct fx *f = fx_new();
    out(f, UART_LCR, 0x83);
    out(f, UART_DLL, 0x34);
    out(f, UART_DLM, 0x12);
    ck_assert_uint_eq(in(f, UART_DLL), 0x34);
    ck_assert_uint_eq(in(f, UART_DLM), 0x12);
    ck_assert_uint_eq(in(f, UART_LCR), 0x83);
    out(f, UART_LCR, 0x03);
    ck_assert_uint_eq(in(f, UART_IER), 0x00);  /* offset 1 is IER again */
    out(f, UART_IER, 0x05);
    out(f, UART_LCR, 0x83);
    ck_assert_uint_eq(in(f, UART_DLM), 0x12);  /* untouched by the IER write */
    ck_assert_uint_eq(in(f, UART_DLL), 0x34);
    /* character times */
    out(f, UART_DLL, 1); out(f, UART_DLM, 0);
    out(f, UART_LCR, 0x03);                    /* 8N1: 10 bits */
    ck_assert_uint_eq(uart_char_time_ns(&f->uart), CT115200);
    out(f, UART_LCR, 0x1f);                    /* 8E2: 12 bits */
    ck_assert_uint_eq(uart_char_time_ns(&f->uart), 104167);
    out(f, UART_LCR, 0x04);                    /* 5N1.5: 7.5 bits */
    ck_assert_uint_eq(uart_char_time_ns(&f->uart), 65105);
    out(f, UART_LCR, 0x83); out(f, UART_DLL, 12); out(f, UART_LCR, 0x03);
    ck_assert_uint_eq(uart_char_time_ns(&f->uart), 1041667); /* 9600 baud */
    fx_free(f);
}
END_TEST

START_TEST(test_tx_timing)
{
    struct fx *f = fx_new();
    char buf[64];
    setup_115200(f);
    out(f, UART_THR, 'a');
    ck_assert_uint_eq(in(f, UART_LSR), 0x20);  /* in the shift register: THRE, not TEMT */
    out(f, UART_THR, 'b');
    ck_assert_uint_eq(in(f, UART_LSR), 0x00);  /* THR full */
    run_to(f, CT115200 - 1);
    ck_assert_uint_eq(output(f, buf, sizeof(buf)), 0);
    run_to(f, CT115200);
    ck_assert_uint_eq(output(f, buf, sizeof(buf)), 1);
    ck_assert_str_eq(buf, "a");
    ck_assert_uint_eq(in(f, UART_LSR), 0x20);
    run_to(f, 2 * CT115200);
    output(f, buf, sizeof(buf));
    ck_assert_str_eq(buf, "b");
    ck_assert_uint_eq(in(f, UART_LSR), 0x60);
    /* 16450 mode: a write to a full THR replaces it */
    out(f, UART_THR, '1'); out(f, UART_THR, '2'); out(f, UART_THR, '3');
    run_to(f, 10 * CT115200);
    output(f, buf, sizeof(buf));
    ck_assert_str_eq(buf, "13");
    /* 7-bit words: the top bit does not leave */
    out(f, UART_LCR, 0x02);
    out(f, UART_THR, 0xc1);
    run_to(f, 20 * CT115200);
    ck_assert_uint_eq(output(f, buf, sizeof(buf)), 1);
    ck_assert_uint_eq((uint8_t)buf[0], 0x41);
    fx_free(f);
}
END_TEST

START_TEST(test_tx_fifo)
{
    struct fx *f = fx_new();
    char buf[64];
    setup_115200(f);
    out(f, UART_FCR, 0x07);
    for (int i = 0; i < 18; i++)             /* 1 to the TSR, 16 in the FIFO, 1 dropped */
        out(f, UART_THR, (uint8_t)('A' + i));
    ck_assert_uint_eq(in(f, UART_LSR), 0x00);
    run_to(f, 16 * CT115200);
    ck_assert_uint_eq(output(f, buf, sizeof(buf)), 16);
    ck_assert_uint_eq(in(f, UART_LSR), 0x20); /* the 17th is on the wire */
    run_to(f, 17 * CT115200);
    ck_assert_uint_eq(output(f, buf, sizeof(buf)), 1);
    ck_assert_str_eq(buf, "Q");
    ck_assert_uint_eq(in(f, UART_LSR), 0x60);
    /* TX FIFO reset drops what waits; the byte on the wire still leaves */
    out(f, UART_THR, 'x'); out(f, UART_THR, 'y'); out(f, UART_THR, 'z');
    out(f, UART_FCR, 0x05);
    ck_assert_uint_eq(in(f, UART_LSR), 0x20);
    run_to(f, 30 * CT115200);
    output(f, buf, sizeof(buf));
    ck_assert_str_eq(buf, "x");
    fx_free(f);
}
END_TEST

START_TEST(test_thre_interrupt)
{
    struct fx *f = fx_new();
    setup_115200(f);
    out(f, UART_MCR, UART_MCR_OUT2);
    out(f, UART_IER, UART_IER_ETBEI);           /* THR empty: raised at once */
    ck_assert_int_eq(f->level, 1);
    ck_assert_uint_eq(in(f, UART_IIR), 0x02);
    ck_assert_int_eq(f->level, 0);              /* the IIR read cleared it */
    ck_assert_uint_eq(in(f, UART_IIR), 0x01);
    out(f, UART_IER, UART_IER_ETBEI);           /* already enabled: no new THRE */
    ck_assert_int_eq(f->level, 0);
    out(f, UART_IER, 0);
    out(f, UART_IER, UART_IER_ETBEI);           /* re-enabled: THRE again */
    ck_assert_int_eq(f->level, 1);
    out(f, UART_THR, 'a');                      /* write clears; moves to TSR; THR empty again */
    ck_assert_int_eq(f->level, 1);
    ck_assert_int_eq(f->edges, 3);
    out(f, UART_THR, 'b');                      /* THR now holds 'b': cleared */
    ck_assert_int_eq(f->level, 0);
    ck_assert_uint_eq(in(f, UART_IIR), 0x01);
    run_to(f, CT115200);                        /* 'b' moves to the TSR */
    ck_assert_int_eq(f->level, 1);
    ck_assert_uint_eq(in(f, UART_IIR), 0x02);
    run_to(f, 3 * CT115200);                    /* the transmitter going idle adds nothing */
    ck_assert_int_eq(f->level, 0);
    ck_assert_uint_eq(in(f, UART_LSR), 0x60);
    /* FIFO mode: THRE when the FIFO empties */
    out(f, UART_FCR, 0x01);
    in(f, UART_IIR);
    out(f, UART_THR, '1'); out(f, UART_THR, '2'); out(f, UART_THR, '3');
    ck_assert_int_eq(f->level, 0);
    run_to(f, 3 * CT115200 + 2 * CT115200);
    ck_assert_int_eq(f->level, 1);
    ck_assert_uint_eq(in(f, UART_IIR), 0xc2);
    fx_free(f);
}
END_TEST

START_TEST(test_iir_priorities)
{
    struct fx *f = fx_new();
    setup_115200(f);
    out(f, UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
    out(f, UART_IER, 0x0f);
    uart_set_modem_inputs(&f->uart, UART_MSR_DSR | UART_MSR_DCD); /* CTS dropped */
    rx(f, "ab");                                                  /* 16450 mode: overrun */
    ck_assert_int_eq(f->level, 1);
    ck_assert_uint_eq(in(f, UART_IIR), 0x06);   /* line status first */
    ck_assert_uint_eq(in(f, UART_IIR), 0x06);   /* IIR read does not clear it */
    ck_assert_uint_eq(in(f, UART_LSR), 0x63);   /* DR OE THRE TEMT; clears OE */
    ck_assert_uint_eq(in(f, UART_IIR), 0x04);   /* received data */
    ck_assert_uint_eq(in(f, UART_RBR), 'b');
    ck_assert_uint_eq(in(f, UART_RBR), 'b');    /* RBR re-read: same byte */
    ck_assert_uint_eq(in(f, UART_IIR), 0x02);   /* THRE; this read clears it */
    ck_assert_uint_eq(in(f, UART_IIR), 0x00);   /* modem status */
    ck_assert_int_eq(f->level, 1);
    ck_assert_uint_eq(in(f, UART_MSR), UART_MSR_DSR | UART_MSR_DCD | UART_MSR_DCTS);
    ck_assert_uint_eq(in(f, UART_IIR), 0x01);
    ck_assert_int_eq(f->level, 0);
    ck_assert_uint_eq(in(f, UART_MSR), UART_MSR_DSR | UART_MSR_DCD);
    /* disabled sources do not show */
    out(f, UART_IER, UART_IER_EDSSI);
    rx(f, "c");
    ck_assert_uint_eq(in(f, UART_IIR), 0x01);
    ck_assert_uint_eq(in(f, UART_LSR), 0x61);
    fx_free(f);
}
END_TEST

START_TEST(test_fifo_triggers)
{
    static const struct { uint8_t fcr; unsigned level; } t[] = {
        { 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xc1, 14 } };
    for (unsigned i = 0; i < 4; i++) {
        struct fx *f = fx_new();
        setup_115200(f);
        out(f, UART_MCR, UART_MCR_OUT2);
        out(f, UART_FCR, t[i].fcr);
        out(f, UART_IER, UART_IER_ERBFI);
        for (unsigned n = 1; n <= 16; n++) {
            rx(f, "x");
            ck_assert_uint_eq(uart_can_receive(&f->uart), 16 - n);
            ck_assert_msg(f->level == (n >= t[i].level), "trigger %u at %u bytes", t[i].level, n);
            ck_assert_uint_eq(in(f, UART_IIR), n >= t[i].level ? 0xc4 : 0xc1);
        }
        ck_assert_uint_eq(in(f, UART_LSR), 0x61);
        /* drain: the interrupt drops below the trigger */
        for (unsigned n = 16; n > 0; n--) {
            in(f, UART_RBR);
            ck_assert_int_eq(f->level, n - 1 >= t[i].level);
        }
        ck_assert_uint_eq(in(f, UART_LSR), 0x60);
        fx_free(f);
    }
}
END_TEST

START_TEST(test_fifo_control)
{
    struct fx *f = fx_new();
    uint8_t buf[20];
    setup_115200(f);
    out(f, UART_FCR, 0xc0);                     /* FCR0 clear: trigger not programmed */
    ck_assert_uint_eq(in(f, UART_IIR), 0x01);
    out(f, UART_FCR, 0x01);
    ck_assert_uint_eq(in(f, UART_IIR), 0xc1);
    for (int i = 0; i < 16; i++)
        buf[i] = (uint8_t)(0xa0 + i);
    uart_receive(&f->uart, buf, 16);
    for (int i = 0; i < 5; i++)
        ck_assert_uint_eq(in(f, UART_RBR), 0xa0 + i);  /* in order */
    out(f, UART_FCR, 0x03);                     /* RX reset */
    ck_assert_uint_eq(in(f, UART_LSR), 0x60);
    ck_assert_uint_eq(uart_can_receive(&f->uart), 16);
    rx(f, "hi");
    out(f, UART_FCR, 0x00);                     /* FIFOs off: both cleared, 16450 mode */
    ck_assert_uint_eq(in(f, UART_LSR), 0x60);
    ck_assert_uint_eq(in(f, UART_IIR), 0x01);
    ck_assert_uint_eq(uart_can_receive(&f->uart), 1);
    fx_free(f);
}
END_TEST

START_TEST(test_char_timeout)
{
    struct fx *f = fx_new();
    setup_115200(f);
    out(f, UART_MCR, UART_MCR_OUT2);
    out(f, UART_FCR, 0x81);                     /* trigger 8 */
    out(f, UART_IER, UART_IER_ERBFI);
    rx(f, "ab");
    run_to(f, CT115200);
    ck_assert_uint_eq(in(f, UART_IIR), 0xc1);
    rx(f, "c");                                 /* a byte arrives: the timer restarts */
    run_to(f, 5 * CT115200 - 1);
    ck_assert_int_eq(f->level, 0);
    run_to(f, 5 * CT115200);
    ck_assert_int_eq(f->level, 1);
    ck_assert_uint_eq(in(f, UART_IIR), 0xcc);
    ck_assert_uint_eq(in(f, UART_RBR), 'a');    /* a read clears it and restarts */
    ck_assert_int_eq(f->level, 0);
    ck_assert_uint_eq(in(f, UART_IIR), 0xc1);
    run_to(f, 9 * CT115200 - 1);
    ck_assert_int_eq(f->level, 0);
    run_to(f, 9 * CT115200);
    ck_assert_uint_eq(in(f, UART_IIR), 0xcc);
    in(f, UART_RBR);
    in(f, UART_RBR);                            /* empty: no more timeouts */
    run_to(f, 100 * CT115200);
    ck_assert_uint_eq(in(f, UART_IIR), 0xc1);
    ck_assert_uint_eq(vclock_next_deadline(&f->clock), VCLOCK_NEVER);
    /* the timeout follows the baud rate: 9600 baud, 7 bits + parity + 1 stop = 10 bits */
    out(f, UART_LCR, 0x80 | 0x0a); out(f, UART_DLL, 12); out(f, UART_LCR, 0x0a);
    rx(f, "z");
    uint64_t t0 = now(f);
    run_to(f, t0 + 4 * 1041667 - 1);
    ck_assert_uint_eq(in(f, UART_IIR), 0xc1);
    run_to(f, t0 + 4 * 1041667);
    ck_assert_uint_eq(in(f, UART_IIR), 0xcc);
    /* 16450 mode has no timeout */
    out(f, UART_FCR, 0x00);
    rx(f, "q");
    run_to(f, now(f) + 1000000000ull);
    ck_assert_uint_eq(in(f, UART_IIR), 0x04);
    fx_free(f);
}
END_TEST

START_TEST(test_overrun_fifo)
{
    struct fx *f = fx_new();
    uint8_t buf[17];
    setup_115200(f);
    out(f, UART_FCR, 0x01);
    for (int i = 0; i < 17; i++)
        buf[i] = (uint8_t)i;
    ck_assert_uint_eq(uart_can_receive(&f->uart), 16);
    uart_receive(&f->uart, buf, 17);
    ck_assert_uint_eq(uart_can_receive(&f->uart), 0);
    ck_assert_uint_eq(in(f, UART_LSR), 0x63);
    ck_assert_uint_eq(in(f, UART_LSR), 0x61);   /* OE is cleared by the read */
    for (int i = 0; i < 16; i++)                /* the 17th byte was lost */
        ck_assert_uint_eq(in(f, UART_RBR), i);
    ck_assert_uint_eq(in(f, UART_LSR), 0x60);
    fx_free(f);
}
END_TEST

START_TEST(test_loopback)
{
    struct fx *f = fx_new();
    char buf[8];
    setup_115200(f);
    out(f, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT1 | UART_MCR_OUT2);
    ck_assert_uint_eq(in(f, UART_MSR), 0xf0);   /* RI rose: no TERI; others unchanged */
    out(f, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
    ck_assert_uint_eq(in(f, UART_MSR), 0x10 | UART_MSR_DDSR | UART_MSR_TERI | UART_MSR_DDCD);
    ck_assert_uint_eq(in(f, UART_MSR), 0x10);
    out(f, UART_MCR, UART_MCR_LOOP);
    ck_assert_uint_eq(in(f, UART_MSR), UART_MSR_DCTS);
    /* TX comes back on RX after one character time; nothing reaches the host */
    ck_assert_uint_eq(uart_can_receive(&f->uart), 0);
    rx(f, "!");                                 /* ignored in loopback */
    ck_assert_uint_eq(in(f, UART_LSR), 0x60);
    out(f, UART_THR, 'Z');
    run_to(f, CT115200 - 1);
    ck_assert_uint_eq(in(f, UART_LSR), 0x20);
    run_to(f, CT115200);
    ck_assert_uint_eq(in(f, UART_LSR), 0x61);
    ck_assert_uint_eq(in(f, UART_RBR), 'Z');
    ck_assert_uint_eq(output(f, buf, sizeof(buf)), 0);
    /* 5-bit words loop back 5 bits */
    out(f, UART_LCR, 0x00);
    out(f, UART_THR, 0xff);
    run_to(f, 2 * CT115200);
    ck_assert_uint_eq(in(f, UART_RBR), 0x1f);
    /* interrupts work inside the chip, but the IRQ pin stays quiet: OUT2 is forced off */
    out(f, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
    in(f, UART_MSR);
    out(f, UART_IER, UART_IER_ERBFI);
    out(f, UART_THR, 'q');
    run_to(f, 4 * CT115200);
    ck_assert_uint_eq(in(f, UART_IIR), 0x04);
    ck_assert_int_eq(f->level, 0);
    /* leaving loopback: the cable's lines come back, with deltas */
    out(f, UART_MCR, UART_MCR_OUT2);
    ck_assert_int_eq(f->level, 1);              /* the pending RDA now reaches the pin */
    ck_assert_uint_eq(in(f, UART_MSR), 0xb0 | UART_MSR_DCTS | UART_MSR_DDSR);
    fx_free(f);
}
END_TEST

START_TEST(test_out2_gating)
{
    struct fx *f = fx_new();
    setup_115200(f);
    out(f, UART_IER, UART_IER_ERBFI);
    rx(f, "a");
    ck_assert_uint_eq(in(f, UART_IIR), 0x04);
    ck_assert_int_eq(f->level, 0);
    out(f, UART_MCR, UART_MCR_OUT2);
    ck_assert_int_eq(f->level, 1);
    out(f, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT1);
    ck_assert_int_eq(f->level, 0);
    out(f, UART_MCR, UART_MCR_OUT2);
    ck_assert_int_eq(f->level, 1);
    in(f, UART_RBR);
    ck_assert_int_eq(f->level, 0);
    fx_free(f);
}
END_TEST

START_TEST(test_modem_status)
{
    struct fx *f = fx_new();
    out(f, UART_MCR, UART_MCR_OUT2);
    out(f, UART_IER, UART_IER_EDSSI);
    ck_assert_int_eq(f->level, 0);
    uart_set_modem_inputs(&f->uart, 0xb0 | UART_MSR_RI);      /* RI rising: no delta */
    ck_assert_int_eq(f->level, 0);
    uart_set_modem_inputs(&f->uart, 0xb0);                    /* RI trailing edge */
    ck_assert_int_eq(f->level, 1);
    ck_assert_uint_eq(in(f, UART_IIR), 0x00);
    ck_assert_uint_eq(in(f, UART_MSR), 0xb0 | UART_MSR_TERI);
    ck_assert_int_eq(f->level, 0);
    uart_set_modem_inputs(&f->uart, 0x00);                    /* cable pulled */
    ck_assert_uint_eq(in(f, UART_MSR), 0x0b);
    fx_free(f);
}
END_TEST

START_TEST(test_poll_backend)
{
    struct fx *f = fx_new();
    char buf[32];
    setup_115200(f);
    chardev_mem_push(f->chr, "0123456789abcdefXYZW", 20);
    uart_poll(&f->uart);                        /* 16450 mode: one byte at a time */
    ck_assert_uint_eq(in(f, UART_LSR), 0x61);
    uart_poll(&f->uart);
    ck_assert_uint_eq(in(f, UART_LSR), 0x61);   /* no overrun: the poll took nothing */
    ck_assert_uint_eq(in(f, UART_RBR), '0');
    out(f, UART_FCR, 0x01);
    uart_poll(&f->uart);
    for (int i = 0; i < 16; i++)
        buf[i] = (char)in(f, UART_RBR);
    ck_assert_mem_eq(buf, "123456789abcdefX", 16);
    uart_poll(&f->uart);
    for (int i = 0; i < 3; i++)
        buf[i] = (char)in(f, UART_RBR);
    ck_assert_mem_eq(buf, "YZW", 3);
    ck_assert_uint_eq(in(f, UART_LSR), 0x60);
    fx_free(f);
}
END_TEST

static void save(struct uart *u, uint8_t *buf)
{
    state_save(uart_device_ops.fields, u, buf);
}

START_TEST(test_state_round_trip)
{
    struct fx *a = fx_new(), *b = fx_new();
    char oa[64], ob[64];
    setup_115200(a);
    out(a, UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR);
    out(a, UART_FCR, 0x81);
    out(a, UART_IER, 0x0f);
    out(a, UART_SCR, 0x77);
    rx(a, "hello");                             /* 5 in the RX FIFO, under the trigger */
    in(a, UART_RBR);                            /* ring head moves */
    for (const char *p = "snapshot"; *p; p++)   /* 1 on the wire, 7 in the TX FIFO */
        out(a, UART_THR, (uint8_t)*p);
    run_to(a, CT115200 + 1000);                 /* mid-character */
    run_to(b, CT115200 + 1000);
    output(a, oa, sizeof(oa));

    size_t n = state_size(uart_device_ops.fields);
    uint8_t *s1 = malloc(n), *s2 = malloc(n);
    save(&a->uart, s1);
    ck_assert_uint_eq(state_load(uart_device_ops.fields, &b->uart, s1, n), n);
    ck_assert_int_eq(uart_device_ops.post_load(&b->uart), 0);
    save(&b->uart, s2);
    ck_assert_mem_eq(s1, s2, n);
    ck_assert_int_eq(a->level, b->level);
    ck_assert_uint_eq(in(b, UART_SCR), 0x77);

    /* both continue identically: output bytes and times, FIFO contents, timeout */
    for (uint64_t t = CT115200 + 1000; t < 20 * CT115200; t += CT115200 / 3) {
        run_to(a, t);
        run_to(b, t);
        ck_assert_int_eq(a->level, b->level);
        ck_assert_uint_eq(chardev_mem_pending_output(a->chr), chardev_mem_pending_output(b->chr));
    }
    output(a, oa, sizeof(oa));
    output(b, ob, sizeof(ob));
    ck_assert_str_eq(ob, "napshot");
    ck_assert_str_eq(oa, ob);
    ck_assert_uint_eq(in(b, UART_IIR), 0xcc);   /* the timeout came at the same time */
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(in(a, UART_RBR), in(b, UART_RBR));
    ck_assert_uint_eq(in(b, UART_LSR), 0x60);

    /* a corrupt state is refused */
    s1[16] = 17; /* rx_head */
    ck_assert_uint_eq(state_load(uart_device_ops.fields, &b->uart, s1, n), n);
    ck_assert_int_ne(uart_device_ops.post_load(&b->uart), 0);
    fx_free(a); fx_free(b);
    free(s1); free(s2);
}
END_TEST

Suite *uart16550_suite(void)
{
    Suite *s = suite_create("uart16550");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_reset_values);
    tcase_add_test(tc, test_divisor_latch);
    tcase_add_test(tc, test_tx_timing);
    tcase_add_test(tc, test_tx_fifo);
    tcase_add_test(tc, test_thre_interrupt);
    tcase_add_test(tc, test_iir_priorities);
    tcase_add_test(tc, test_fifo_triggers);
    tcase_add_test(tc, test_fifo_control);
    tcase_add_test(tc, test_char_timeout);
    tcase_add_test(tc, test_overrun_fifo);
    tcase_add_test(tc, test_loopback);
    tcase_add_test(tc, test_out2_gating);
    tcase_add_test(tc, test_modem_status);
    tcase_add_test(tc, test_poll_backend);
    tcase_add_test(tc, test_state_round_trip);
    suite_add_tcase(s, tc);
    return s;
}
