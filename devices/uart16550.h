/* 16550A UART (see uart16550.c). Eight ports at offsets 0-7. The board maps
 * uart_bus_ops, connects irq_line (already gated by MCR OUT2, as the PC's
 * serial adapters wire it), attaches a character backend with
 * uart_set_chardev(), and at every event boundary calls uart_poll() (or
 * uart_can_receive()/uart_receive() itself) to bring host input in. */
#ifndef SV_UART16550_H
#define SV_UART16550_H
#include <stddef.h>
#include <stdint.h>
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/irq.h"
#include "devices/vclock.h"

struct chardev;

#define UART_FIFO_SIZE 16
#define UART_CLOCK_HZ  1843200 /* the PC's 1.8432 MHz crystal: divisor 1 = 115200 baud */

/* Register offsets (DLAB = LCR bit 7 selects DLL/DLM at 0/1). */
#define UART_RBR 0 /* read */
#define UART_THR 0 /* write */
#define UART_DLL 0
#define UART_IER 1
#define UART_DLM 1
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_ERBFI 0x01 /* received data available (and character timeout) */
#define UART_IER_ETBEI 0x02 /* transmitter holding register empty */
#define UART_IER_ELSI  0x04 /* receiver line status */
#define UART_IER_EDSSI 0x08 /* modem status */

#define UART_IIR_NO_INT  0x01
#define UART_IIR_MSI     0x00
#define UART_IIR_THRI    0x02
#define UART_IIR_RDI     0x04
#define UART_IIR_RLSI    0x06
#define UART_IIR_CTI     0x0c
#define UART_IIR_FIFO    0xc0 /* both set when FIFOs are enabled */

#define UART_FCR_ENABLE  0x01
#define UART_FCR_CLR_RX  0x02
#define UART_FCR_CLR_TX  0x04
#define UART_FCR_DMA     0x08
#define UART_FCR_TRIGGER 0xc0

#define UART_LCR_WLS  0x03 /* word length - 5 */
#define UART_LCR_STB  0x04 /* 2 stop bits (1.5 with 5-bit words) */
#define UART_LCR_PEN  0x08
#define UART_LCR_BRK  0x40
#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR  0x01
#define UART_MCR_RTS  0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR   0x01
#define UART_LSR_OE   0x02
#define UART_LSR_PE   0x04
#define UART_LSR_FE   0x08
#define UART_LSR_BI   0x10
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_LSR_FIFOE 0x80

#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_CTS  0x10
#define UART_MSR_DSR  0x20
#define UART_MSR_RI   0x40
#define UART_MSR_DCD  0x80

struct uart {
    /* saved state */
    uint8_t rx_fifo[UART_FIFO_SIZE];  /* ring; holds one byte (RBR) when FIFOs are off */
    uint8_t rx_head, rx_count;
    uint8_t tx_fifo[UART_FIFO_SIZE];  /* ring; holds one byte (THR) when FIFOs are off */
    uint8_t tx_head, tx_count;
    uint8_t tsr, tsr_busy;            /* transmitter shift register: byte on the wire */
    uint8_t ier, lcr, mcr, scr, dll, dlm;
    uint8_t fcr;                      /* FIFO enable, DMA mode, trigger (bits 0, 3, 6-7) */
    uint8_t lsr_err;                  /* sticky LSR error bits (OE), cleared by reading LSR */
    uint8_t msr;                      /* deltas (0-3) and the lines as seen (4-7) */
    uint8_t modem_in;                 /* CTS/DSR/RI/DCD driven by the cable, MSR positions */
    uint8_t thre_pending;             /* THRE interrupt latched (cleared by IIR read, THR write) */
    uint8_t timeout_pending;          /* character timeout indicated */
    uint64_t tx_deadline;             /* when the byte in the TSR has left; VCLOCK_NEVER if idle */
    uint64_t timeout_deadline;        /* character timeout; VCLOCK_NEVER if not armed */
    /* not saved */
    struct vclock *clock;
    struct timer tx_timer, timeout_timer;
    struct irq_line irq_line;         /* INTRPT gated by OUT2 */
    struct chardev *chr;              /* host side; NULL = nothing attached */
    uint32_t tx_char_ns;              /* configuration: nonzero sends each character in
                                         this many ns whatever the divisor (a virtual line) */
};

/* Resets the UART (modem inputs CTS, DSR, DCD asserted, as a null-modem cable
 * to a ready host) and attaches no backend. */
void uart_init(struct uart *uart, struct vclock *clock);
void uart_set_chardev(struct uart *uart, struct chardev *chr);
/* Bytes the receiver takes now without overrun (0 in loopback mode). */
size_t uart_can_receive(const struct uart *uart);
/* Bytes arriving from the line now; beyond the free space they overrun
 * (OE) and are lost. Ignored in loopback mode. */
void uart_receive(struct uart *uart, const uint8_t *buf, size_t n);
/* At an event boundary: reads what the backend has, up to uart_can_receive(). */
void uart_poll(struct uart *uart);
/* The cable's modem lines (UART_MSR_CTS|DSR|RI|DCD); sets delta bits. */
void uart_set_modem_inputs(struct uart *uart, uint8_t lines);
/* Time one character takes on the line with the current LCR and divisor. */
uint64_t uart_char_time_ns(const struct uart *uart);

extern const struct bus_ops uart_bus_ops;
extern const struct device_ops uart_device_ops;

#endif
