/* National PC16550D UART (datasheet: registers, FIFO operation, interrupt
 * priorities, character timeout, loopback), on a PC: 1.8432 MHz clock, IRQ
 * output enabled by OUT2. Characters leave at the programmed baud rate in
 * virtual time. Not modelled: parity/framing errors and break (the host
 * side carries bytes only), DMA mode signalling, the 16550's delayed first
 * THRE interrupt in FIFO mode, baud-rate changes mid-character. */
#include "devices/uart16550.h"
#include <string.h>
#include "devices/backends/chardev.h"

#define NS_PER_S 1000000000ull

static int fifo_on(const struct uart *u) { return u->fcr & UART_FCR_ENABLE; }
static int loopback(const struct uart *u) { return (u->mcr & UART_MCR_LOOP) != 0; }
static unsigned capacity(const struct uart *u) { return fifo_on(u) ? UART_FIFO_SIZE : 1; }

uint64_t uart_char_time_ns(const struct uart *u)
{
    unsigned wl = 5 + (u->lcr & UART_LCR_WLS);
    unsigned half_bits = 2 * (1 + wl + ((u->lcr & UART_LCR_PEN) ? 1 : 0));
    half_bits += !(u->lcr & UART_LCR_STB) ? 2 : wl == 5 ? 3 : 4;
    uint64_t div = (uint64_t)(u->dlm << 8 | u->dll);
    if (div == 0)
        div = 65536; /* the divider counter wraps: the slowest rate */
    return (half_bits * div * 16 * NS_PER_S + 2 * UART_CLOCK_HZ - 1) / (2 * UART_CLOCK_HZ);
}

static uint8_t data_mask(const struct uart *u)
{
    return (uint8_t)(0xff >> (3 - (u->lcr & UART_LCR_WLS)));
}

/* ---- interrupts ---- */

static unsigned rx_trigger(const struct uart *u)
{
    static const uint8_t levels[4] = { 1, 4, 8, 14 };
    return fifo_on(u) ? levels[u->fcr >> 6] : 1;
}

/* The highest-priority pending and enabled source, as IIR bits 0-3. */
static uint8_t interrupt_id(const struct uart *u)
{
    if ((u->ier & UART_IER_ELSI) && (u->lsr_err & (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)))
        return UART_IIR_RLSI;
    if ((u->ier & UART_IER_ERBFI) && u->rx_count >= rx_trigger(u))
        return UART_IIR_RDI;
    if ((u->ier & UART_IER_ERBFI) && u->timeout_pending)
        return UART_IIR_CTI;
    if ((u->ier & UART_IER_ETBEI) && u->thre_pending)
        return UART_IIR_THRI;
    if ((u->ier & UART_IER_EDSSI) && (u->msr & 0x0f))
        return UART_IIR_MSI;
    return UART_IIR_NO_INT;
}

/* On a PC the OUT2 pin enables the IRQ driver; in loopback the pins are
 * forced inactive, so the IRQ does not reach the bus either. */
static void update_irq(struct uart *u)
{
    int gate = (u->mcr & (UART_MCR_OUT2 | UART_MCR_LOOP)) == UART_MCR_OUT2;
    irq_set(&u->irq_line, gate && interrupt_id(u) != UART_IIR_NO_INT);
}

/* ---- receiver ---- */

/* Character timeout: 4 character times after the last byte in or out of
 * the receive FIFO, while it holds data (FIFO mode only). */
static void arm_timeout(struct uart *u)
{
    u->timeout_deadline = VCLOCK_NEVER;
    if (fifo_on(u) && u->rx_count && !u->timeout_pending)
        u->timeout_deadline = vclock_now(u->clock) + 4 * uart_char_time_ns(u);
    timer_arm(&u->timeout_timer, u->timeout_deadline);
}

static void timeout_fire(void *opaque)
{
    struct uart *u = opaque;
    u->timeout_deadline = VCLOCK_NEVER;
    if (fifo_on(u) && u->rx_count)
        u->timeout_pending = 1;
    update_irq(u);
}

static void rx_push(struct uart *u, uint8_t byte)
{
    byte &= data_mask(u);
    if (u->rx_count < capacity(u)) {
        u->rx_fifo[(u->rx_head + u->rx_count++) % UART_FIFO_SIZE] = byte;
    } else {
        u->lsr_err |= UART_LSR_OE;
        if (!fifo_on(u))
            u->rx_fifo[u->rx_head] = byte; /* 16450 mode: RBR is overwritten */
    }
    u->timeout_pending = 0;
    arm_timeout(u);
}

static uint8_t read_rbr(struct uart *u)
{
    uint8_t v = u->rx_fifo[u->rx_head];
    if (u->rx_count && fifo_on(u))
        u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
    if (u->rx_count)
        u->rx_count--; /* 16450 mode keeps RBR in place: re-reads return it */
    u->timeout_pending = 0;
    arm_timeout(u);
    update_irq(u);
    return v;
}

size_t uart_can_receive(const struct uart *u)
{
    return loopback(u) ? 0 : capacity(u) - u->rx_count;
}

void uart_receive(struct uart *u, const uint8_t *buf, size_t n)
{
    if (loopback(u))
        return; /* the receiver listens to the transmitter only */
    for (size_t i = 0; i < n; i++)
        rx_push(u, buf[i]);
    update_irq(u);
}

void uart_poll(struct uart *u)
{
    uint8_t buf[UART_FIFO_SIZE];
    size_t n = uart_can_receive(u);
    if (n && u->chr) {
        n = chardev_read(u->chr, buf, n);
        uart_receive(u, buf, n);
    }
}

/* ---- transmitter ---- */

/* Moves the next byte from THR/FIFO into the shift register, if idle. */
static void tx_start(struct uart *u)
{
    if (u->tsr_busy || !u->tx_count)
        return;
    u->tsr = u->tx_fifo[u->tx_head];
    u->tx_head = (u->tx_head + 1) % UART_FIFO_SIZE;
    u->tsr_busy = 1;
    if (--u->tx_count == 0)
        u->thre_pending = 1; /* THR (or the FIFO) just became empty */
    u->tx_deadline = vclock_now(u->clock) + (u->tx_char_ns ? u->tx_char_ns : uart_char_time_ns(u));
    timer_arm(&u->tx_timer, u->tx_deadline);
}

static void tx_fire(void *opaque)
{
    struct uart *u = opaque;
    uint8_t byte = u->tsr & data_mask(u);
    u->tsr_busy = 0;
    u->tx_deadline = VCLOCK_NEVER;
    if (loopback(u))
        rx_push(u, byte);
    else if (u->chr)
        chardev_write(u->chr, &byte, 1);
    tx_start(u);
    update_irq(u);
}

static void write_thr(struct uart *u, uint8_t v)
{
    if (u->tx_count < capacity(u))
        u->tx_fifo[(u->tx_head + u->tx_count++) % UART_FIFO_SIZE] = v;
    else if (!fifo_on(u))
        u->tx_fifo[u->tx_head] = v; /* THR overwritten; a full FIFO drops it */
    u->thre_pending = 0;
    /* Drop the line before an idle transmitter re-raises THRE, so an
     * edge-triggered PIC sees a new interrupt (real chips take a bit time). */
    update_irq(u);
    tx_start(u);
    update_irq(u);
}

/* ---- modem lines ---- */

static void set_lines(struct uart *u, uint8_t lines)
{
    uint8_t old = u->msr & 0xf0, chg = old ^ lines;
    uint8_t d = u->msr & 0x0f;
    d |= (chg & UART_MSR_CTS) ? UART_MSR_DCTS : 0;
    d |= (chg & UART_MSR_DSR) ? UART_MSR_DDSR : 0;
    d |= ((old & UART_MSR_RI) && !(lines & UART_MSR_RI)) ? UART_MSR_TERI : 0; /* trailing edge */
    d |= (chg & UART_MSR_DCD) ? UART_MSR_DDCD : 0;
    u->msr = (uint8_t)((lines & 0xf0) | d);
}

/* Loopback wires the MCR outputs to the MSR inputs. */
static uint8_t loop_lines(uint8_t mcr)
{
    return (uint8_t)(((mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0) | ((mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
                     ((mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0) | ((mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0));
}

static void refresh_lines(struct uart *u)
{
    set_lines(u, loopback(u) ? loop_lines(u->mcr) : u->modem_in);
    update_irq(u);
}

void uart_set_modem_inputs(struct uart *u, uint8_t lines)
{
    u->modem_in = lines & 0xf0;
    refresh_lines(u);
}

/* ---- register access ---- */

static void write_fcr(struct uart *u, uint8_t v)
{
    uint8_t had_tx = u->tx_count;
    if ((v ^ u->fcr) & UART_FCR_ENABLE)
        u->rx_count = u->tx_count = u->rx_head = u->tx_head = 0; /* mode change clears both */
    if (v & UART_FCR_ENABLE) {
        if (v & UART_FCR_CLR_RX)
            u->rx_count = u->rx_head = 0;
        if (v & UART_FCR_CLR_TX)
            u->tx_count = u->tx_head = 0;
        u->fcr = v & (UART_FCR_ENABLE | UART_FCR_DMA | UART_FCR_TRIGGER);
    } else {
        u->fcr = 0; /* the other bits are only programmed with FCR0 set */
    }
    if (had_tx && !u->tx_count)
        u->thre_pending = 1;
    u->timeout_pending = 0;
    arm_timeout(u);
    update_irq(u);
}

static void write_ier(struct uart *u, uint8_t v)
{
    v &= 0x0f;
    /* Enabling ETBEI while THR is empty raises THRE at once (drivers rely on it). */
    if ((v & ~u->ier & UART_IER_ETBEI) && u->tx_count == 0)
        u->thre_pending = 1;
    u->ier = v;
    update_irq(u);
}

static uint8_t read_iir(struct uart *u)
{
    uint8_t id = interrupt_id(u);
    if (id == UART_IIR_THRI) {
        u->thre_pending = 0; /* reading IIR clears THRE when it is the source */
        update_irq(u);
    }
    return (uint8_t)(id | (fifo_on(u) ? UART_IIR_FIFO : 0));
}

static uint8_t read_lsr(struct uart *u)
{
    uint8_t v = u->lsr_err;
    v |= u->rx_count ? UART_LSR_DR : 0;
    v |= u->tx_count == 0 ? UART_LSR_THRE : 0;
    v |= u->tx_count == 0 && !u->tsr_busy ? UART_LSR_TEMT : 0;
    u->lsr_err = 0;
    update_irq(u);
    return v;
}

static uint8_t read_msr(struct uart *u)
{
    uint8_t v = u->msr;
    u->msr &= 0xf0;
    update_irq(u);
    return v;
}

static uint32_t uart_read(void *dev, uint32_t offset, int size)
{
    struct uart *u = dev;
    int dlab = u->lcr & UART_LCR_DLAB;
    (void)size;
    switch (offset) {
    case 0: return dlab ? u->dll : read_rbr(u);
    case 1: return dlab ? u->dlm : u->ier;
    case 2: return read_iir(u);
    case 3: return u->lcr;
    case 4: return u->mcr;
    case 5: return read_lsr(u);
    case 6: return read_msr(u);
    case 7: return u->scr;
    default: return 0xff;
    }
}

static void uart_write(void *dev, uint32_t offset, uint32_t value, int size)
{
    struct uart *u = dev;
    uint8_t v = (uint8_t)value;
    int dlab = u->lcr & UART_LCR_DLAB;
    (void)size;
    switch (offset) {
    case 0: if (dlab) u->dll = v; else write_thr(u, v); break;
    case 1: if (dlab) u->dlm = v; else write_ier(u, v); break;
    case 2: write_fcr(u, v); break;
    case 3: u->lcr = v; break;
    case 4: u->mcr = v & 0x1f; refresh_lines(u); break;
    case 7: u->scr = v; break;
    default: break; /* LSR and MSR writes are factory test: ignored */
    }
}

const struct bus_ops uart_bus_ops = { uart_read, uart_write, 1 };

/* ---- life cycle and snapshots ---- */

/* Master reset: registers as in the datasheet's reset table; RBR, THR, SCR
 * and the divisor latch keep their contents. */
static void uart_reset(void *dev)
{
    struct uart *u = dev;
    u->ier = u->lcr = u->mcr = u->fcr = u->lsr_err = 0;
    u->rx_count = u->tx_count = u->rx_head = u->tx_head = 0;
    u->tsr_busy = u->thre_pending = u->timeout_pending = 0;
    u->tx_deadline = u->timeout_deadline = VCLOCK_NEVER;
    timer_cancel(&u->tx_timer);
    timer_cancel(&u->timeout_timer);
    u->msr = u->modem_in;   /* lines as they are, no deltas */
    update_irq(u);
}

void uart_init(struct uart *u, struct vclock *clock)
{
    memset(u, 0, sizeof(*u));
    u->clock = clock;
    timer_init(&u->tx_timer, clock, tx_fire, u);
    timer_init(&u->timeout_timer, clock, timeout_fire, u);
    u->modem_in = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
    u->dll = 12; /* 9600 baud until firmware programs it */
    uart_reset(u);
}

void uart_set_chardev(struct uart *u, struct chardev *chr)
{
    u->chr = chr;
}

static int uart_post_load(void *dev)
{
    struct uart *u = dev;
    if (u->rx_head >= UART_FIFO_SIZE || u->tx_head >= UART_FIFO_SIZE ||
        u->rx_count > capacity(u) || u->tx_count > capacity(u))
        return -1;
    timer_arm(&u->tx_timer, u->tsr_busy ? u->tx_deadline : VCLOCK_NEVER);
    timer_arm(&u->timeout_timer, u->timeout_deadline);
    update_irq(u);
    return 0;
}

static const struct state_field uart_fields[] = {
    STATE_U8_ARRAY(struct uart, rx_fifo, UART_FIFO_SIZE),
    STATE_U8(struct uart, rx_head),
    STATE_U8(struct uart, rx_count),
    STATE_U8_ARRAY(struct uart, tx_fifo, UART_FIFO_SIZE),
    STATE_U8(struct uart, tx_head),
    STATE_U8(struct uart, tx_count),
    STATE_U8(struct uart, tsr),
    STATE_U8(struct uart, tsr_busy),
    STATE_U8(struct uart, ier),
    STATE_U8(struct uart, lcr),
    STATE_U8(struct uart, mcr),
    STATE_U8(struct uart, scr),
    STATE_U8(struct uart, dll),
    STATE_U8(struct uart, dlm),
    STATE_U8(struct uart, fcr),
    STATE_U8(struct uart, lsr_err),
    STATE_U8(struct uart, msr),
    STATE_U8(struct uart, modem_in),
    STATE_U8(struct uart, thre_pending),
    STATE_U8(struct uart, timeout_pending),
    STATE_U64(struct uart, tx_deadline),
    STATE_U64(struct uart, timeout_deadline),
    STATE_END
};

const struct device_ops uart_device_ops = {
    .name = "uart",
    .version = 1,
    .fields = uart_fields,
    .reset = uart_reset,
    .post_load = uart_post_load,
    .destroy = NULL,
};
