/* Intel 8237A DMA controller pair with 74LS612 page registers, as wired in
 * the IBM PC/AT (8237A datasheet; AT Technical Reference, "DMA").
 * Transfers happen when a device calls dma_channel_read/write, not on DREQ
 * timing. Not modelled: memory-to-memory, software-request transfers,
 * demand/block mode differences, the EISA high page registers. */
#include "devices/i8237_dma.h"
#include <string.h>
#include "mmu/physmem.h"

/* Page register offset (port - 0x80) for each channel. */
static const uint8_t page_of[8] = { 7, 3, 1, 2, 0xF, 0xB, 9, 0xA };

/* ---- registers ---- */

static uint8_t addr_count_read(struct dma *d, int c, int reg)
{
    int ch = c * 4 + (reg >> 1);
    uint16_t v = (reg & 1) ? d->cur_count[ch] : d->cur_addr[ch];
    uint8_t b = (uint8_t)(d->flipflop[c] ? v >> 8 : v);
    d->flipflop[c] ^= 1;
    return b;
}

static void addr_count_write(struct dma *d, int c, int reg, uint8_t v)
{
    int ch = c * 4 + (reg >> 1);
    uint16_t *base = (reg & 1) ? &d->base_count[ch] : &d->base_addr[ch];
    if (d->flipflop[c])
        *base = (uint16_t)((*base & 0x00FF) | (v << 8));
    else
        *base = (uint16_t)((*base & 0xFF00) | v);
    /* writing the base register also loads the current register */
    if (reg & 1)
        d->cur_count[ch] = *base;
    else
        d->cur_addr[ch] = *base;
    d->flipflop[c] ^= 1;
}

static void master_clear(struct dma *d, int c)
{
    d->command[c] = 0;
    d->status[c] = 0;
    d->request[c] = 0;
    d->temp[c] = 0;
    d->flipflop[c] = 0;
    d->mask[c] = 0x0F;
}

static uint8_t ctrl_read(struct dma *d, int c, int reg)
{
    if (reg < 8)
        return addr_count_read(d, c, reg);
    switch (reg) {
    case 8: {
        uint8_t v = (uint8_t)((d->status[c] & 0x0F) | ((d->request[c] | d->dreq[c]) << 4));
        d->status[c] &= ~0x0F;   /* reading clears the TC bits */
        return v;
    }
    case 0xD: return d->temp[c];
    case 0xF: return (uint8_t)(0xF0 | d->mask[c]);   /* readable on the PIIX and most clones */
    default: return 0xFF;
    }
}

static void ctrl_write(struct dma *d, int c, int reg, uint8_t v)
{
    if (reg < 8) {
        addr_count_write(d, c, reg, v);
        return;
    }
    int bit = 1 << (v & 3);
    switch (reg) {
    case 8: d->command[c] = v; break;
    case 9:
        d->request[c] = (uint8_t)((v & 4) ? d->request[c] | bit : d->request[c] & ~bit);
        break;
    case 0xA:
        d->mask[c] = (uint8_t)((v & 4) ? d->mask[c] | bit : d->mask[c] & ~bit);
        break;
    case 0xB: d->mode[c * 4 + (v & 3)] = v; break;
    case 0xC: d->flipflop[c] = 0; break;
    case 0xD: master_clear(d, c); break;
    case 0xE: d->mask[c] = 0; break;
    case 0xF: d->mask[c] = v & 0x0F; break;
    }
}

static uint32_t master_read(void *dev, uint32_t off, int size)
{
    (void)size;
    return ctrl_read(dev, 0, (int)(off & 0xF));
}

static void master_write(void *dev, uint32_t off, uint32_t v, int size)
{
    (void)size;
    ctrl_write(dev, 0, (int)(off & 0xF), (uint8_t)v);
}

/* The second controller sits on A1-A4: registers at even ports only. */
static uint32_t slave_read(void *dev, uint32_t off, int size)
{
    (void)size;
    if (off & 1)
        return 0xFF;
    return ctrl_read(dev, 1, (int)((off >> 1) & 0xF));
}

static void slave_write(void *dev, uint32_t off, uint32_t v, int size)
{
    (void)size;
    if (!(off & 1))
        ctrl_write(dev, 1, (int)((off >> 1) & 0xF), (uint8_t)v);
}

static uint32_t page_read(void *dev, uint32_t off, int size)
{
    struct dma *d = dev;
    (void)size;
    return d->page[off & 0xF];
}

static void page_write(void *dev, uint32_t off, uint32_t v, int size)
{
    struct dma *d = dev;
    (void)size;
    d->page[off & 0xF] = (uint8_t)v;
}

const struct bus_ops dma_master_ops = { master_read, master_write, 1 };
const struct bus_ops dma_slave_ops = { slave_read, slave_write, 1 };
const struct bus_ops dma_page_ops = { page_read, page_write, 1 };

/* ---- transfers ---- */

int dma_channel_masked(struct dma *d, int ch)
{
    if (ch < 0 || ch > 7)
        return 1;
    int c = ch >> 2;
    if ((d->mask[c] >> (ch & 3)) & 1 || d->command[c] & DMA_CMD_DISABLE)
        return 1;
    /* channels 0-3 reach the bus through the second controller's channel 4 */
    if (c == 0 && ((d->mask[1] & 1) || d->command[1] & DMA_CMD_DISABLE))
        return 1;
    return 0;
}

int dma_channel_tc(struct dma *d, int ch)
{
    return ch >= 0 && ch < 8 && ((d->tc[ch >> 2] >> (ch & 3)) & 1);
}

uint32_t dma_channel_remaining(struct dma *d, int ch)
{
    if (ch < 0 || ch > 7)
        return 0;
    return ((uint32_t)d->cur_count[ch] + 1) << (ch >> 2);
}

void dma_set_dreq(struct dma *d, int ch, int level)
{
    if (ch < 0 || ch > 7)
        return;
    uint8_t bit = (uint8_t)(1 << (ch & 3));
    d->dreq[ch >> 2] = (uint8_t)(level ? d->dreq[ch >> 2] | bit : d->dreq[ch >> 2] & ~bit);
}

/* Guest-physical address of the channel's current transfer unit. */
static uint32_t unit_addr(struct dma *d, int ch)
{
    uint32_t page = d->page[page_of[ch]];
    if (ch < 4)
        return (page << 16) | d->cur_addr[ch];
    return ((page & 0xFE) << 16) | ((uint32_t)d->cur_addr[ch] << 1);
}

/* Moves one run of units: memory access per the mode and direction. */
static void move_run(struct dma *d, int ch, uint8_t *buf, uint32_t bytes, int to_mem)
{
    int type = d->mode[ch] & DMA_MODE_TYPE;
    uint32_t addr = unit_addr(d, ch);
    if (to_mem && type == DMA_MODE_WRITE)
        phys_write_block(d->pm, addr, buf, bytes);
    else if (!to_mem && type == DMA_MODE_READ)
        phys_read_block(d->pm, addr, buf, bytes);
}

/* Counts `units` transfers; returns 1 at terminal count. */
static int advance(struct dma *d, int ch, uint32_t units)
{
    int decr = d->mode[ch] & DMA_MODE_DECR;
    d->cur_addr[ch] = (uint16_t)(decr ? d->cur_addr[ch] - units : d->cur_addr[ch] + units);
    uint32_t left = (uint32_t)d->cur_count[ch] + 1;
    d->cur_count[ch] = (uint16_t)(left - units - 1);
    if (units < left)
        return 0;
    int c = ch >> 2, bit = 1 << (ch & 3);
    d->status[c] |= (uint8_t)bit;
    d->tc[c] |= (uint8_t)bit;
    if (d->mode[ch] & DMA_MODE_AUTOINIT) {
        d->cur_addr[ch] = d->base_addr[ch];
        d->cur_count[ch] = d->base_count[ch];
    } else {
        d->mask[c] |= (uint8_t)bit;   /* EOP masks a channel without autoinit */
    }
    return 1;
}

static int transfer(struct dma *d, int ch, uint8_t *buf, int len, int to_mem)
{
    if (ch < 0 || ch > 7 || ch == 4 || (d->mode[ch] & DMA_MODE_CASCADE) == DMA_MODE_CASCADE)
        return -1;
    if (dma_channel_masked(d, ch) || len <= 0)
        return 0;
    int shift = ch >> 2;
    uint32_t total = (uint32_t)len >> shift, done = 0;
    d->tc[ch >> 2] &= (uint8_t)~(1 << (ch & 3));
    while (done < total) {
        uint32_t run = 1;
        if (!(d->mode[ch] & DMA_MODE_DECR)) {
            /* as far as the count, the request and the 64K (128K) boundary allow */
            uint32_t left = (uint32_t)d->cur_count[ch] + 1;
            uint32_t to_wrap = 0x10000u - d->cur_addr[ch];
            run = total - done;
            if (run > left) run = left;
            if (run > to_wrap) run = to_wrap;
        }
        move_run(d, ch, buf + (done << shift), run << shift, to_mem);
        done += run;
        if (advance(d, ch, run))
            break;
    }
    return (int)(done << shift);
}

int dma_channel_write(struct dma *d, int ch, const void *buf, int len)
{
    /* move_run only reads buf when to_mem is set */
    return transfer(d, ch, (uint8_t *)(uintptr_t)buf, len, 1);
}

int dma_channel_read(struct dma *d, int ch, void *buf, int len)
{
    return transfer(d, ch, buf, len, 0);
}

/* ---- life cycle ---- */

void dma_reset(void *dev)
{
    struct dma *d = dev;
    struct physmem *pm = d->pm;
    memset(d, 0, sizeof *d);
    d->pm = pm;
    master_clear(d, 0);
    master_clear(d, 1);
}

void dma_init(struct dma *d, struct physmem *pm)
{
    d->pm = pm;
    dma_reset(d);
}

static int dma_post_load(void *dev)
{
    struct dma *d = dev;
    for (int c = 0; c < 2; c++)
        d->flipflop[c] &= 1;
    return 0;
}

static const struct state_field dma_fields[] = {
    STATE_U16_ARRAY(struct dma, base_addr, 8), STATE_U16_ARRAY(struct dma, base_count, 8),
    STATE_U16_ARRAY(struct dma, cur_addr, 8), STATE_U16_ARRAY(struct dma, cur_count, 8),
    STATE_U8_ARRAY(struct dma, mode, 8), STATE_U8_ARRAY(struct dma, page, 16),
    STATE_U8_ARRAY(struct dma, command, 2), STATE_U8_ARRAY(struct dma, status, 2),
    STATE_U8_ARRAY(struct dma, mask, 2), STATE_U8_ARRAY(struct dma, request, 2),
    STATE_U8_ARRAY(struct dma, dreq, 2), STATE_U8_ARRAY(struct dma, flipflop, 2),
    STATE_U8_ARRAY(struct dma, temp, 2), STATE_U8_ARRAY(struct dma, tc, 2),
    STATE_END
};

const struct device_ops dma_device_ops = {
    .name = "i8237",
    .version = 1,
    .fields = dma_fields,
    .reset = dma_reset,
    .post_load = dma_post_load,
    .destroy = NULL,
};
