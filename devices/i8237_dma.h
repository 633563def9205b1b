/* The PC/AT's two 8237A DMA controllers and their 74LS612 page registers.
 * Channels 0-3 (first controller) move bytes; channels 4-7 (second
 * controller) move words, and channel 4 cascades the first controller.
 * The board maps dma_master_ops (16 ports: 0x00 on a PC), dma_slave_ops
 * (32 ports, registers at even offsets: 0xC0) and dma_page_ops (16 ports:
 * 0x80; offset 0, port 0x80, is a plain latch). Devices (floppy, SB) move data
 * with dma_channel_write (device -> memory) and dma_channel_read
 * (memory -> device). */
#ifndef SV_I8237_DMA_H
#define SV_I8237_DMA_H
#include <stdint.h>
#include "devices/bus.h"
#include "devices/device.h"

struct physmem;

/* Mode register */
#define DMA_MODE_TYPE     0x0C  /* 00 verify, 01 write (to memory), 10 read (from memory) */
#define DMA_MODE_VERIFY   0x00
#define DMA_MODE_WRITE    0x04
#define DMA_MODE_READ     0x08
#define DMA_MODE_AUTOINIT 0x10
#define DMA_MODE_DECR     0x20
#define DMA_MODE_CASCADE  0xC0  /* bits 7-6 = 11 */
/* Command register */
#define DMA_CMD_DISABLE   0x04

struct dma {
    struct physmem *pm;
    uint16_t base_addr[8];   /* written through the flip-flop; reloaded by autoinit */
    uint16_t base_count[8];  /* transfers - 1 */
    uint16_t cur_addr[8];    /* byte address (0-3) or word address (4-7) */
    uint16_t cur_count[8];   /* counts down; TC when it wraps past 0 */
    uint8_t mode[8];
    uint8_t page[16];        /* the 74LS612 latches, by port offset */
    uint8_t command[2];      /* per controller: 0 = channels 0-3, 1 = channels 4-7 */
    uint8_t status[2];       /* bits 0-3 TC reached (cleared on read), 4-7 request */
    uint8_t mask[2];         /* bits 0-3; 1 = masked */
    uint8_t request[2];      /* software requests, bits 0-3 */
    uint8_t dreq[2];         /* device requests (dma_set_dreq), bits 0-3 */
    uint8_t flipflop[2];     /* 0 = next access is the low byte */
    uint8_t temp[2];         /* temporary register (memory-to-memory only; reads 0) */
    uint8_t tc[2];           /* bits 0-3: the last transfer ended at terminal count */
};

extern const struct bus_ops dma_master_ops;   /* channels 0-3, offsets 0-15 */
extern const struct bus_ops dma_slave_ops;    /* channels 4-7, offsets 0-31 (even) */
extern const struct bus_ops dma_page_ops;     /* page registers, offsets 0-15 */
extern const struct device_ops dma_device_ops;

void dma_init(struct dma *d, struct physmem *pm);
void dma_reset(void *dev);

/* Device -> guest memory (the channel should be in write mode). Moves up to
 * len bytes (whole words on channels 4-7), stopping at terminal count;
 * returns the bytes moved, 0 when the channel is masked or its controller
 * disabled, -1 for a bad or cascade channel. Verify mode counts without
 * touching memory; a mode of the other direction moves no data but counts. */
int dma_channel_write(struct dma *d, int ch, const void *buf, int len);
/* Guest memory -> device (the channel should be in read mode). */
int dma_channel_read(struct dma *d, int ch, void *buf, int len);
/* 1 when the channel cannot transfer: its mask bit, its controller disabled,
 * or (channels 0-3) the cascade channel 4 masked. */
int dma_channel_masked(struct dma *d, int ch);
/* 1 when the last transfer on the channel reached terminal count. */
int dma_channel_tc(struct dma *d, int ch);
/* Bytes left before terminal count. */
uint32_t dma_channel_remaining(struct dma *d, int ch);
/* The device's DREQ line (shown in the status register's request bits). */
void dma_set_dreq(struct dma *d, int ch, int level);

#endif
