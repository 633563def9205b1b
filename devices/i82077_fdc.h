/* Intel 82077AA floppy disk controller (PC/AT mode) with two 3.5" drives.
 * The board maps fdc_bus_ops over 8 ports (offset 0 = base, 0x3F0 on a PC;
 * offset 6 is not the FDC's and reads 0xFF), connects `irq` (IRQ6 on a PC)
 * and names the 8237 channel at init (2 on a PC). Media are raw images seen
 * through block backends; their geometry comes from the image size:
 * 720 KB (9 sectors, 250 kbit/s), 1.44 MB (18, 500 kbit/s), 2.88 MB (36,
 * 1 Mbit/s), 80 cylinders, 2 heads, 512-byte sectors. The DOR DMA gate gates
 * DMA only, not INT: SeaBIOS releases reset with DOR = 0x04 and waits for the
 * interrupt. Reads need the DSR/CCR rate to match the media (else MA), so a
 * BIOS's media sense by READ ID works. */
#ifndef SV_I82077_FDC_H
#define SV_I82077_FDC_H
#include <stdint.h>
#include "devices/backends/block.h"
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/irq.h"
#include "devices/vclock.h"

struct dma;

#define FDC_DRIVES      2
#define FDC_PORTS       8
#define FDC_SECTOR_SIZE 512

/* Register offsets */
#define FDC_SRA  0   /* PS/2 mode only: reads 0xFF in AT mode */
#define FDC_SRB  1
#define FDC_DOR  2
#define FDC_TDR  3
#define FDC_MSR  4   /* read */
#define FDC_DSR  4   /* write */
#define FDC_FIFO 5
#define FDC_DIR  7   /* read */
#define FDC_CCR  7   /* write */

#define FDC_DOR_SEL     0x03
#define FDC_DOR_NRESET  0x04
#define FDC_DOR_DMAGATE 0x08
#define FDC_DOR_MOTOR0  0x10

#define FDC_MSR_RQM  0x80
#define FDC_MSR_DIO  0x40
#define FDC_MSR_NDMA 0x20
#define FDC_MSR_CB   0x10

#define FDC_DSR_SWRESET 0x80
#define FDC_DIR_DSKCHG  0x80

#define FDC_ST0_ABNORMAL 0x40
#define FDC_ST0_INVALID  0x80
#define FDC_ST0_POLL     0xC0
#define FDC_ST0_SE       0x20
#define FDC_ST0_EC       0x10
#define FDC_ST1_EN 0x80
#define FDC_ST1_DE 0x20
#define FDC_ST1_OR 0x10
#define FDC_ST1_ND 0x04
#define FDC_ST1_NW 0x02
#define FDC_ST1_MA 0x01
#define FDC_ST2_CM 0x40
#define FDC_ST2_DD 0x20
#define FDC_ST3_WP 0x40
#define FDC_ST3_RDY 0x20
#define FDC_ST3_T0 0x10
#define FDC_ST3_TS 0x08

/* Fixed latencies (ns): short, so that a guest boots quickly. */
#define FDC_RESET_NS  10000   /* reset released -> interrupt */
#define FDC_CMD_NS    20000   /* last command byte -> execution (incl. implied seek) */
#define FDC_SEEK_NS   50000   /* SEEK/RECALIBRATE -> seek end interrupt */
#define FDC_RESULT_NS  5000   /* end of data transfer -> result phase */

/* CMOS drive types (register 0x10 nibbles) */
#define FDC_TYPE_NONE 0
#define FDC_TYPE_720K 3
#define FDC_TYPE_1M44 4
#define FDC_TYPE_2M88 5

struct fdc {
    /* wiring and configuration (not saved) */
    struct vclock *clock;
    struct timer timer;
    struct dma *dma;                  /* NULL: DMA-mode transfers overrun */
    int dma_channel;
    struct irq_line irq;              /* INT */
    struct blockdev *blk[FDC_DRIVES]; /* media, NULL = drive empty */
    uint8_t drive_type[FDC_DRIVES];   /* FDC_TYPE_*; NONE = no drive */
    uint8_t spt[FDC_DRIVES];          /* media sectors per track */
    uint8_t media_rate[FDC_DRIVES];   /* data rate code the media needs */

    /* saved: registers */
    uint8_t dor;            /* digital output register */
    uint8_t tdr;            /* tape drive register, bits 1-0 */
    uint8_t dsr;            /* precompensation (4-2) and data rate (1-0) */
    /* saved: command machine */
    uint8_t phase;          /* reset, idle, command, execution, result */
    uint8_t cmd[9];         /* command bytes as written */
    uint8_t cmd_len, cmd_pos;
    uint8_t res[10];        /* result bytes */
    uint8_t res_len, res_pos;
    uint8_t buf[FDC_SECTOR_SIZE]; /* sector (or format ID) being moved by PIO */
    uint16_t buf_len, buf_pos;
    uint8_t pio;            /* PIO execution: 0 none, 1 to host, 2 from host */
    uint8_t cur_ds, cur_hd; /* drive and physical head of the command */
    uint8_t cur_c, cur_h, cur_r, cur_n; /* sector ID being transferred */
    uint8_t st1, st2;       /* status accumulated by the command */
    uint8_t count;          /* VERIFY (EC=1) sectors left; FORMAT IDs done */
    uint8_t int_pending;    /* INT from a result phase, seek end or reset */
    uint8_t reset_sense;    /* drives (bits) whose polling status after reset is unread */
    uint8_t ev;             /* what happens at cmd_due */
    uint64_t cmd_due;       /* absolute ns, VCLOCK_NEVER = nothing pending */
    /* saved: parameters */
    uint8_t specify[2];     /* SRT|HUT, HLT|ND */
    uint8_t config;         /* CONFIGURE byte 2: EIS EFIFO POLL FIFOTHR */
    uint8_t pretrk;
    uint8_t lock;           /* 1: CONFIGURE values survive a software reset */
    uint8_t perp;           /* PERPENDICULAR MODE D3-D0 (5-2), GAP, WGATE */
    uint8_t eot_sc;         /* last EOT / format SC (DUMPREG) */
    /* saved: per drive select (0-3) */
    uint8_t pcn[4];         /* present cylinder numbers */
    uint8_t seek_state[4];  /* 0 none, 1 seeking, 2 ended: status waits for SENSE INTERRUPT */
    uint8_t seek_st0[4];
    uint64_t seek_due[4];
    /* saved: drives */
    uint8_t track[FDC_DRIVES];   /* physical head position */
    uint8_t head[FDC_DRIVES];    /* last head selected */
    uint8_t sector[FDC_DRIVES];  /* last sector passed (READ ID reports the next) */
    uint8_t changed[FDC_DRIVES]; /* disk change line */
};

/* Drive 0 is a 1.44 MB drive, drive 1 absent; the chip is held in reset
 * (DOR = 0) until the guest releases it. dma may be NULL. */
void fdc_init(struct fdc *f, struct vclock *clock, struct dma *dma, int dma_channel);
void fdc_reset(void *f);
/* FDC_TYPE_* for a drive; NONE removes it. */
void fdc_set_drive_type(struct fdc *f, int drive, int type);
/* Inserts media (the caller keeps ownership of b). Returns 0, or -1 when the
 * image size is not 720 KB, 1.44 MB or 2.88 MB. An absent drive becomes a
 * 1.44 MB one, and a 2.88 MB image makes the drive a 2.88 MB one. Sets the
 * disk change line. */
int fdc_insert(struct fdc *f, int drive, struct blockdev *b);
void fdc_eject(struct fdc *f, int drive);
/* CMOS register 0x10 nibble for the drive: 0 none, 4 1.44 MB, 5 2.88 MB. */
int fdc_cmos_type(const struct fdc *f, int drive);

extern const struct bus_ops fdc_bus_ops;        /* dev = struct fdc, FDC_PORTS ports */
extern const struct device_ops fdc_device_ops;  /* "i82077" */

#endif
