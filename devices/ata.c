/* An IDE channel (two drives) and the ATA disk, after ATA/ATAPI-6 (T13
 * 1410D): task file, device control (nIEN, SRST, HOB), signatures, PIO
 * data-in/out, DMA through the attached bus master, LBA28/LBA48/CHS.
 * Not modelled: overlapped/queued commands, security, SMART, power states
 * (standby/idle are accepted and ignored), HPA, 8-bit PIO, timing modes. */
#include "devices/ata.h"
#include "devices/atapi.h"
#include "devices/backends/block.h"
#include <stdio.h>
#include <string.h>

#define DRIVE_FIELDS(i) \
    STATE_U8(struct ata_channel, drive[i].error), STATE_U8(struct ata_channel, drive[i].feature), \
    STATE_U8(struct ata_channel, drive[i].nsector), STATE_U8(struct ata_channel, drive[i].sector), \
    STATE_U8(struct ata_channel, drive[i].lcyl), STATE_U8(struct ata_channel, drive[i].hcyl), \
    STATE_U8(struct ata_channel, drive[i].select), STATE_U8(struct ata_channel, drive[i].status), \
    STATE_U8(struct ata_channel, drive[i].hob_feature), STATE_U8(struct ata_channel, drive[i].hob_nsector), \
    STATE_U8(struct ata_channel, drive[i].hob_sector), STATE_U8(struct ata_channel, drive[i].hob_lcyl), \
    STATE_U8(struct ata_channel, drive[i].hob_hcyl), STATE_U8(struct ata_channel, drive[i].irq_pending), \
    STATE_U8(struct ata_channel, drive[i].cmd), STATE_U8(struct ata_channel, drive[i].pending), \
    STATE_U64(struct ata_channel, drive[i].deadline), STATE_U8(struct ata_channel, drive[i].dma_wait), \
    STATE_U8(struct ata_channel, drive[i].data_out), STATE_U8(struct ata_channel, drive[i].fail), \
    STATE_U64(struct ata_channel, drive[i].lba), \
    STATE_U32(struct ata_channel, drive[i].remaining), STATE_U32(struct ata_channel, drive[i].nsect_cur), \
    STATE_U32(struct ata_channel, drive[i].buf_pos), STATE_U32(struct ata_channel, drive[i].buf_end), \
    STATE_U32(struct ata_channel, drive[i].drq_left), \
    STATE_U16(struct ata_channel, drive[i].cyls), STATE_U16(struct ata_channel, drive[i].heads), \
    STATE_U16(struct ata_channel, drive[i].sects), STATE_U8(struct ata_channel, drive[i].mult), \
    STATE_U8(struct ata_channel, drive[i].xfer_mode), STATE_U8(struct ata_channel, drive[i].wcache), \
    STATE_U8(struct ata_channel, drive[i].lookahead), \
    STATE_U8_ARRAY(struct ata_channel, drive[i].cdb, 12), \
    STATE_U8(struct ata_channel, drive[i].sense_key), STATE_U8(struct ata_channel, drive[i].asc), \
    STATE_U8(struct ata_channel, drive[i].ascq), STATE_U8(struct ata_channel, drive[i].ua_pending), \
    STATE_U8(struct ata_channel, drive[i].media_event), STATE_U8(struct ata_channel, drive[i].tray_open), \
    STATE_U8(struct ata_channel, drive[i].locked), STATE_U8(struct ata_channel, drive[i].pkt_dma), \
    STATE_U16(struct ata_channel, drive[i].byte_limit), \
    STATE_U8_ARRAY(struct ata_channel, drive[i].buf, ATA_BUF_SIZE)

static const struct state_field ata_fields[] = {
    DRIVE_FIELDS(0),
    DRIVE_FIELDS(1),
    STATE_U8(struct ata_channel, cur),
    STATE_U8(struct ata_channel, devctl),
    STATE_END
};

/* ---- interrupts, timers, small helpers ---------------------------------- */

static void ata_update_irq(struct ata_channel *ch)
{
    struct ata_drive *d = &ch->drive[ch->cur];
    int level = d->kind != ATA_KIND_NONE && d->irq_pending && !(ch->devctl & ATA_CTL_NIEN);
    if (level == ch->irq.level)
        return;
    irq_set(&ch->irq, level);
    if (ch->dma && ch->dma->irq)
        ch->dma->irq(ch->dma_opaque, level);
}

void ata_raise_irq(struct ata_drive *d)
{
    d->irq_pending = 1;
    ata_update_irq(d->ch);
}

void ata_schedule(struct ata_drive *d, uint32_t ns, int what)
{
    d->pending = (uint8_t)what;
    d->deadline = vclock_now(d->ch->clock) + ns;
    timer_arm(&d->timer, d->deadline);
}

/* Drops whatever the drive was doing (new command, reset). */
static void ata_abort_transfer(struct ata_drive *d)
{
    timer_cancel(&d->timer);
    d->pending = ATA_P_NONE;
    d->deadline = VCLOCK_NEVER;
    d->dma_wait = 0;
    d->data_out = 0;
    d->fail = 0;
    d->buf_pos = d->buf_end = d->drq_left = 0;
    d->remaining = d->nsect_cur = 0;
}

static uint8_t ata_ready(const struct ata_drive *d)
{
    return d->kind == ATA_KIND_DISK ? ATA_ST_DRDY | ATA_ST_DSC : ATA_ST_DRDY;
}

static void ata_ok(struct ata_drive *d)
{
    d->status = ata_ready(d);
    ata_raise_irq(d);
}

static void ata_fail(struct ata_drive *d, uint8_t err)
{
    d->error = err;
    d->status = ata_ready(d) | ATA_ST_ERR;
    ata_raise_irq(d);
}

/* Starts a PIO data-in block of len bytes from buf. */
static void ata_pio_in(struct ata_drive *d, uint32_t len)
{
    d->buf_pos = 0;
    d->buf_end = d->drq_left = len;
    d->data_out = 0;
    d->status = ata_ready(d) | ATA_ST_DRQ;
    ata_raise_irq(d);
}

void ata_set_signature(struct ata_drive *d)
{
    d->nsector = d->sector = 1;
    d->lcyl = d->kind == ATA_KIND_CDROM ? 0x14 : 0;
    d->hcyl = d->kind == ATA_KIND_CDROM ? 0xEB : 0;
    d->hob_nsector = d->hob_sector = d->hob_lcyl = d->hob_hcyl = d->hob_feature = 0;
    d->error = 0x01;    /* diagnostic code: passed */
    d->status = d->kind == ATA_KIND_DISK ? ATA_ST_DRDY | ATA_ST_DSC : 0;
}

/* ---- IDENTIFY ----------------------------------------------------------- */

void ata_put_string(uint16_t *w, int first, int nwords, const char *s)
{
    size_t len = strlen(s);
    for (int i = 0; i < nwords * 2; i++) {
        uint8_t c = (size_t)i < len ? (uint8_t)s[i] : ' ';
        if (i & 1)
            w[first + i / 2] |= c;
        else
            w[first + i / 2] = (uint16_t)(c << 8);
    }
}

/* Little-endian bytes, with the integrity word (255): signature A5h and a
 * checksum making the 512 bytes sum to zero. */
void ata_finish_identify(uint16_t *w, uint8_t *out)
{
    w[255] = 0x00A5;
    for (int i = 0; i < 256; i++)
        put_le16(out + 2 * i, w[i]);
    uint8_t sum = 0;
    for (int i = 0; i < 511; i++)
        sum = (uint8_t)(sum + out[i]);
    out[511] = (uint8_t)-sum;
}

void ata_default_chs(uint64_t sectors, uint16_t *cyls, uint16_t *heads, uint16_t *sects)
{
    uint32_t h = 16, s = 63;
    if (sectors >= 16383ull * 16 * 63) {
        *cyls = 16383; *heads = 16; *sects = 63;
        return;
    }
    if (sectors < 63)
        s = (uint32_t)sectors, h = 1;
    else if (sectors < 16 * 63)
        h = (uint32_t)(sectors / 63);
    *cyls = (uint16_t)(sectors / (h * s));
    *heads = (uint16_t)h;
    *sects = (uint16_t)s;
}

static uint64_t ata_total(const struct ata_drive *d)
{
    return d->blk ? d->blk->size / ATA_SECTOR_SIZE : 0;
}

static void ata_identify_disk(struct ata_drive *d, uint8_t *out)
{
    uint16_t w[256];
    memset(w, 0, sizeof(w));
    uint64_t total = ata_total(d);
    uint16_t c, h, s;
    ata_default_chs(total, &c, &h, &s);
    char serial[21];
    snprintf(serial, sizeof(serial), "SVHD%04u%04u", d->ch->index, d->unit);
    w[0] = 0x0040;                          /* fixed, non-removable */
    w[1] = c; w[3] = h; w[6] = s;
    ata_put_string(w, 10, 10, serial);
    ata_put_string(w, 23, 4, "1.0");
    ata_put_string(w, 27, 20, "SOFTVISOR HARDDISK");
    w[47] = 0x8000 | ATA_MAX_MULT;
    w[48] = 0x0001;                         /* 32-bit PIO (ATA-1 word) */
    w[49] = 0x0B00;                         /* IORDY, LBA, DMA */
    w[50] = 0x4000;
    w[51] = 0x0200; w[52] = 0x0200;
    w[53] = 0x0007;                         /* words 54-58, 64-70, 88 valid */
    uint32_t cur_cap = (uint32_t)d->cyls * d->heads * d->sects;
    w[54] = d->cyls; w[55] = d->heads; w[56] = d->sects;
    w[57] = (uint16_t)cur_cap; w[58] = (uint16_t)(cur_cap >> 16);
    w[59] = d->mult ? 0x0100 | d->mult : 0;
    uint32_t lba28 = total > 0x0FFFFFFF ? 0x0FFFFFFF : (uint32_t)total;
    w[60] = (uint16_t)lba28; w[61] = (uint16_t)(lba28 >> 16);
    w[63] = 0x0007;                         /* MWDMA 0-2 */
    w[88] = 0x003F;                         /* UDMA 0-5 */
    if ((d->xfer_mode & 0xF8) == 0x20)
        w[63] |= (uint16_t)(0x100 << (d->xfer_mode & 7));
    if ((d->xfer_mode & 0xF8) == 0x40)
        w[88] |= (uint16_t)(0x100 << (d->xfer_mode & 7));
    w[64] = 0x0003;                         /* PIO 3 and 4 */
    w[65] = w[66] = w[67] = w[68] = 120;
    w[80] = 0x007E;                         /* ATA-1 to ATA-6 */
    w[82] = 0x4060;                         /* NOP, write cache, look-ahead */
    w[83] = 0x7400;                         /* FLUSH CACHE EXT, FLUSH CACHE, LBA48 */
    w[84] = 0x4000;
    w[85] = (uint16_t)(0x4000 | (d->wcache ? 0x20 : 0) | (d->lookahead ? 0x40 : 0));
    w[86] = 0x3400;
    w[87] = 0x4000;
    w[93] = d->unit ? 0x6B00 : 0x600B;      /* 80-conductor cable, diagnostics passed */
    for (int i = 0; i < 4; i++)
        w[100 + i] = (uint16_t)(total >> (16 * i));
    ata_finish_identify(w, out);
}

/* ---- disk commands ------------------------------------------------------ */

static int ata_cmd_ext(uint8_t cmd)
{
    return cmd == 0x24 || cmd == 0x25 || cmd == 0x29 || cmd == 0x34 || cmd == 0x35 ||
           cmd == 0x39 || cmd == 0x42;
}

static int ata_cmd_is_write(uint8_t cmd)
{
    return cmd == 0x30 || cmd == 0x31 || cmd == 0x34 || cmd == 0xC5 || cmd == 0x39 ||
           cmd == 0xCA || cmd == 0xCB || cmd == 0x35;
}

static int ata_cmd_multiple(uint8_t cmd)
{
    return cmd == 0xC4 || cmd == 0xC5 || cmd == 0x29 || cmd == 0x39;
}

/* Task file -> d->lba and d->remaining; sets d->fail for a bad address. */
static void ata_decode(struct ata_drive *d)
{
    uint64_t lba;
    uint32_t count;
    if (ata_cmd_ext(d->cmd)) {
        lba = (uint64_t)d->hob_hcyl << 40 | (uint64_t)d->hob_lcyl << 32 | (uint64_t)d->hob_sector << 24 |
              (uint32_t)d->hcyl << 16 | (uint32_t)d->lcyl << 8 | d->sector;
        count = (uint32_t)(d->hob_nsector << 8 | d->nsector);
        if (!count)
            count = 65536;
    } else {
        count = d->nsector ? d->nsector : 256;
        if (d->select & ATA_SEL_LBA) {
            lba = (uint32_t)(d->select & 0x0F) << 24 | (uint32_t)d->hcyl << 16 | (uint32_t)d->lcyl << 8 | d->sector;
        } else {
            uint32_t cyl = (uint32_t)d->hcyl << 8 | d->lcyl, head = d->select & 0x0F;
            if (!d->sector || d->sector > d->sects || head >= d->heads || cyl >= d->cyls)
                lba = UINT64_MAX;
            else
                lba = ((uint64_t)cyl * d->heads + head) * d->sects + d->sector - 1;
        }
    }
    d->lba = lba;
    d->remaining = count;
    uint64_t total = ata_total(d);
    if (lba > total || count > total - lba)
        d->fail = ATA_ER_IDNF;
}

/* Writes an address back into the task file (the sector in error). */
static void ata_put_lba(struct ata_drive *d, uint64_t lba)
{
    if (ata_cmd_ext(d->cmd)) {
        d->hob_sector = (uint8_t)(lba >> 24);
        d->hob_lcyl = (uint8_t)(lba >> 32);
        d->hob_hcyl = (uint8_t)(lba >> 40);
    } else if (d->select & ATA_SEL_LBA) {
        d->select = (uint8_t)((d->select & 0xF0) | ((lba >> 24) & 0x0F));
    } else {
        uint32_t cyl = (uint32_t)(lba / ((uint32_t)d->heads * d->sects));
        uint32_t rest = (uint32_t)(lba % ((uint32_t)d->heads * d->sects));
        d->select = (uint8_t)((d->select & 0xF0) | (rest / d->sects));
        d->sector = (uint8_t)(rest % d->sects + 1);
        d->lcyl = (uint8_t)cyl;
        d->hcyl = (uint8_t)(cyl >> 8);
        return;
    }
    d->sector = (uint8_t)lba;
    d->lcyl = (uint8_t)(lba >> 8);
    d->hcyl = (uint8_t)(lba >> 16);
}

static uint32_t ata_block_sectors(const struct ata_drive *d)
{
    uint32_t per = ata_cmd_multiple(d->cmd) ? d->mult : 1;
    return d->remaining < per ? d->remaining : per;
}

/* Opens the DRQ block for the next PIO write block. */
static void ata_pio_out_block(struct ata_drive *d)
{
    d->nsect_cur = ata_block_sectors(d);
    d->buf_pos = 0;
    d->buf_end = d->drq_left = d->nsect_cur * ATA_SECTOR_SIZE;
    d->data_out = 1;
    d->status = ata_ready(d) | ATA_ST_DRQ;
}

static void ata_read_block(struct ata_drive *d)
{
    uint32_t n = ata_block_sectors(d);
    if (block_read(d->blk, d->lba * ATA_SECTOR_SIZE, d->buf, n * ATA_SECTOR_SIZE) < 0) {
        ata_put_lba(d, d->lba);
        ata_fail(d, ATA_ER_UNC);
        return;
    }
    d->nsect_cur = n;
    ata_pio_in(d, n * ATA_SECTOR_SIZE);
}

static void ata_write_commit(struct ata_drive *d)
{
    uint32_t n = d->nsect_cur;
    if (block_write(d->blk, d->lba * ATA_SECTOR_SIZE, d->buf, n * ATA_SECTOR_SIZE) < 0 ||
        (!d->wcache && block_flush(d->blk) < 0)) {
        ata_put_lba(d, d->lba);
        ata_fail(d, ATA_ER_ABRT);
        return;
    }
    d->lba += n;
    d->remaining -= n;
    if (!d->remaining) {
        ata_ok(d);
        return;
    }
    ata_pio_out_block(d);
    ata_raise_irq(d);
}

/* Runs a DMA command to the end, or until the bus master runs dry (then the
 * drive keeps requesting DMA: the host must stop and reset it). */
static void ata_disk_dma(struct ata_drive *d)
{
    struct ata_channel *ch = d->ch;
    int to_mem = !ata_cmd_is_write(d->cmd);
    while (d->remaining) {
        uint32_t n = d->remaining < ATA_BUF_SIZE / ATA_SECTOR_SIZE ? d->remaining : ATA_BUF_SIZE / ATA_SECTOR_SIZE;
        uint32_t len = n * ATA_SECTOR_SIZE;
        if (to_mem && block_read(d->blk, d->lba * ATA_SECTOR_SIZE, d->buf, len) < 0) {
            d->dma_wait = 0;
            ata_put_lba(d, d->lba);
            ata_fail(d, ATA_ER_UNC);
            return;
        }
        if (ch->dma->rw(ch->dma_opaque, d->buf, len, to_mem) < len)
            return;
        if (!to_mem && (block_write(d->blk, d->lba * ATA_SECTOR_SIZE, d->buf, len) < 0 ||
                        (!d->wcache && block_flush(d->blk) < 0))) {
            d->dma_wait = 0;
            ata_put_lba(d, d->lba);
            ata_fail(d, ATA_ER_ABRT);
            return;
        }
        d->lba += n;
        d->remaining -= n;
    }
    d->dma_wait = 0;
    ata_ok(d);
}

static void ata_set_features(struct ata_drive *d)
{
    uint8_t n = d->nsector;
    switch (d->feature) {
    case 0x03:                                  /* transfer mode */
        if (n <= 0x01 || (n >= 0x08 && n <= 0x0C) || (n >= 0x20 && n <= 0x22) ||
            (n >= 0x40 && n <= 0x45)) {
            if (n >= 0x20)
                d->xfer_mode = n;
            ata_ok(d);
            return;
        }
        break;
    case 0x02: d->wcache = 1; ata_ok(d); return;
    case 0x82: d->wcache = 0; ata_ok(d); return;
    case 0xAA: d->lookahead = 1; ata_ok(d); return;
    case 0x55: d->lookahead = 0; ata_ok(d); return;
    case 0x66: case 0xCC: ata_ok(d); return;   /* revert to defaults on/off */
    }
    ata_fail(d, ATA_ER_ABRT);
}

static void ata_verify(struct ata_drive *d)
{
    while (d->remaining) {
        uint32_t n = d->remaining < ATA_BUF_SIZE / ATA_SECTOR_SIZE ? d->remaining : ATA_BUF_SIZE / ATA_SECTOR_SIZE;
        if (block_read(d->blk, d->lba * ATA_SECTOR_SIZE, d->buf, n * ATA_SECTOR_SIZE) < 0) {
            ata_put_lba(d, d->lba);
            ata_fail(d, ATA_ER_UNC);
            return;
        }
        d->lba += n;
        d->remaining -= n;
    }
    ata_ok(d);
}

static void ata_init_params(struct ata_drive *d)
{
    uint32_t heads = (d->select & 0x0F) + 1u, sects = d->nsector;
    if (!sects) {
        ata_fail(d, ATA_ER_ABRT);
        return;
    }
    uint64_t cyls = ata_total(d) / (heads * sects);
    d->heads = (uint16_t)heads;
    d->sects = (uint16_t)sects;
    d->cyls = (uint16_t)(cyls > 65535 ? 65535 : cyls);
    ata_ok(d);
}

/* The command, after the command latency (and again for each PIO read block). */
static void ata_disk_exec(struct ata_drive *d)
{
    uint8_t c = d->cmd;
    if (d->fail) {
        ata_fail(d, d->fail);
        d->fail = 0;
        return;
    }
    switch (c) {
    case 0xEC:
        ata_identify_disk(d, d->buf);
        d->remaining = d->nsect_cur = 0;
        ata_pio_in(d, ATA_SECTOR_SIZE);
        return;
    case 0x20: case 0x21: case 0x24: case 0xC4: case 0x29:
        ata_read_block(d);
        return;
    case 0xC8: case 0xC9: case 0x25: case 0xCA: case 0xCB: case 0x35:
        d->dma_wait = 1;
        d->status = ata_ready(d) | ATA_ST_DRQ;
        if (d->ch->dma && d->ch->dma->active(d->ch->dma_opaque))
            ata_disk_dma(d);
        return;
    case 0x40: case 0x41: case 0x42:
        ata_verify(d);
        return;
    case 0xC6:
        if (d->nsector > ATA_MAX_MULT || (d->nsector & (d->nsector - 1))) {
            ata_fail(d, ATA_ER_ABRT);
            return;
        }
        d->mult = d->nsector;
        ata_ok(d);
        return;
    case 0xEF: ata_set_features(d); return;
    case 0xE7: case 0xEA:
        if (block_flush(d->blk) < 0)
            ata_fail(d, ATA_ER_ABRT);
        else
            ata_ok(d);
        return;
    case 0x91: ata_init_params(d); return;
    case 0xE5: d->nsector = 0xFF; ata_ok(d); return;   /* CHECK POWER MODE: active */
    case 0xE0: case 0xE1: case 0xE2: case 0xE3: ata_ok(d); return;
    }
    if ((c & 0xF0) == 0x10 || (c & 0xF0) == 0x70) {  /* RECALIBRATE, SEEK */
        ata_ok(d);
        return;
    }
    ata_fail(d, ATA_ER_ABRT);
}

static int ata_rw_command(uint8_t c)
{
    switch (c) {
    case 0x20: case 0x21: case 0x24: case 0xC4: case 0x29:
    case 0x30: case 0x31: case 0x34: case 0xC5: case 0x39:
    case 0xC8: case 0xC9: case 0x25: case 0xCA: case 0xCB: case 0x35:
    case 0x40: case 0x41: case 0x42:
        return 1;
    }
    return 0;
}

/* The command register was written: decode now, run after the latency.
 * PIO writes open their first DRQ block at once (no interrupt). */
static void ata_disk_command(struct ata_drive *d)
{
    uint8_t c = d->cmd;
    if (ata_rw_command(c)) {
        ata_decode(d);
        if (ata_cmd_multiple(c) && !d->mult)
            d->fail = ATA_ER_ABRT;
        if (ata_cmd_is_write(c) && d->blk->readonly)
            d->fail = ATA_ER_ABRT;
        if (ata_cmd_is_write(c) && c != 0xCA && c != 0xCB && c != 0x35 && !d->fail) {
            ata_pio_out_block(d);
            return;
        }
    }
    d->status = ATA_ST_BSY | ata_ready(d);
    ata_schedule(d, ATA_CMD_NS, ATA_P_EXEC);
}

/* ---- the channel: reset, diagnostics, command dispatch ------------------ */

static int ata_present(const struct ata_channel *ch)
{
    return ch->drive[0].kind != ATA_KIND_NONE || ch->drive[1].kind != ATA_KIND_NONE;
}

static void ata_diag_done(struct ata_channel *ch)
{
    for (int i = 0; i < 2; i++) {
        struct ata_drive *d = &ch->drive[i];
        if (d->kind != ATA_KIND_NONE) {
            ata_set_signature(d);
            d->select = 0;
        }
    }
    ch->cur = 0;
    ata_raise_irq(&ch->drive[ch->drive[0].kind != ATA_KIND_NONE ? 0 : 1]);
}

static void ata_timer(void *opaque)
{
    struct ata_drive *d = opaque;
    int what = d->pending;
    d->pending = ATA_P_NONE;
    d->deadline = VCLOCK_NEVER;
    switch (what) {
    case ATA_P_EXEC:
        if (d->kind == ATA_KIND_CDROM)
            atapi_exec(d);
        else
            ata_disk_exec(d);
        break;
    case ATA_P_WRITE: ata_write_commit(d); break;
    case ATA_P_DMA:
        if (d->dma_wait && d->ch->dma && d->ch->dma->active(d->ch->dma_opaque)) {
            if (d->kind == ATA_KIND_CDROM)
                atapi_dma_run(d);
            else
                ata_disk_dma(d);
        }
        break;
    case ATA_P_RESET:
        ata_set_signature(d);
        if (d->kind == ATA_KIND_CDROM)
            atapi_soft_reset(d);
        break;
    case ATA_P_DIAG: ata_diag_done(d->ch); break;
    case ATA_P_PACKET: atapi_packet(d); break;
    case ATA_P_PKT_NEXT: atapi_next(d); break;
    }
}

static void ata_command(struct ata_channel *ch, uint8_t cmd)
{
    if (cmd == 0x90) {                         /* both drives run diagnostics */
        for (int i = 0; i < 2; i++) {
            struct ata_drive *d = &ch->drive[i];
            if (d->kind == ATA_KIND_NONE)
                continue;
            ata_abort_transfer(d);
            d->irq_pending = 0;
            d->status = ATA_ST_BSY;
        }
        if (ata_present(ch))
            ata_schedule(&ch->drive[ch->drive[0].kind != ATA_KIND_NONE ? 0 : 1], ATA_CMD_NS, ATA_P_DIAG);
        ata_update_irq(ch);
        return;
    }
    struct ata_drive *d = &ch->drive[ch->cur];
    if (d->kind == ATA_KIND_NONE || ((d->status & ATA_ST_BSY) && cmd != 0x08))
        return;
    ata_abort_transfer(d);
    d->irq_pending = 0;
    ata_update_irq(ch);
    d->cmd = cmd;
    d->error = 0;
    if (d->kind == ATA_KIND_CDROM)
        atapi_command(d);
    else
        ata_disk_command(d);
}

/* A DRQ block has been moved by the host. */
static void ata_block_done(struct ata_drive *d)
{
    d->status = (uint8_t)((d->status & ~ATA_ST_DRQ) | ATA_ST_BSY);
    if (d->kind == ATA_KIND_CDROM && d->cmd == 0xA0) {
        atapi_block_done(d);
        return;
    }
    if (d->data_out) {
        ata_schedule(d, ATA_BLOCK_NS, ATA_P_WRITE);
        return;
    }
    d->lba += d->nsect_cur;
    d->remaining -= d->nsect_cur;
    if (d->remaining)
        ata_schedule(d, ATA_BLOCK_NS, ATA_P_EXEC);
    else
        d->status = ata_ready(d);   /* PIO in: no interrupt after the last block */
}

static uint32_t ata_data_read(struct ata_channel *ch, int size)
{
    struct ata_drive *d = &ch->drive[ch->cur];
    int n = size == 4 ? 4 : 2;
    if (d->kind == ATA_KIND_NONE || !(d->status & ATA_ST_DRQ) || d->data_out || !d->drq_left)
        return size == 4 ? 0xFFFFFFFFu : 0xFFFFu;
    uint32_t v = 0;
    for (int i = 0; i < n; i++)
        if (d->buf_pos < d->buf_end)
            v |= (uint32_t)d->buf[d->buf_pos++] << (8 * i);
    d->drq_left = d->drq_left > (uint32_t)n ? d->drq_left - (uint32_t)n : 0;
    if (!d->drq_left)
        ata_block_done(d);
    return size == 1 ? v & 0xFF : v;
}

static void ata_data_write(struct ata_channel *ch, uint32_t val, int size)
{
    struct ata_drive *d = &ch->drive[ch->cur];
    int n = size == 4 ? 4 : 2;
    if (d->kind == ATA_KIND_NONE || !(d->status & ATA_ST_DRQ) || !d->data_out || !d->drq_left)
        return;
    for (int i = 0; i < n; i++)
        if (d->buf_pos < d->buf_end)
            d->buf[d->buf_pos++] = (uint8_t)(val >> (8 * i));
    d->drq_left = d->drq_left > (uint32_t)n ? d->drq_left - (uint32_t)n : 0;
    if (!d->drq_left)
        ata_block_done(d);
}

static uint8_t ata_read_reg(struct ata_channel *ch, uint32_t off)
{
    struct ata_drive *d = &ch->drive[ch->cur];
    int hob = ch->devctl & ATA_CTL_HOB;
    if (!ata_present(ch))
        return 0xFF;                            /* nothing drives the bus */
    if (d->kind == ATA_KIND_NONE)
        return 0;                               /* device 0 answers 00h for a missing device 1 */
    switch (off) {
    case ATA_REG_ERROR: return d->error;
    case ATA_REG_NSECTOR: return hob ? d->hob_nsector : d->nsector;
    case ATA_REG_SECTOR: return hob ? d->hob_sector : d->sector;
    case ATA_REG_LCYL: return hob ? d->hob_lcyl : d->lcyl;
    case ATA_REG_HCYL: return hob ? d->hob_hcyl : d->hcyl;
    case ATA_REG_SELECT: return d->select;
    case ATA_REG_STATUS:
        d->irq_pending = 0;
        ata_update_irq(ch);
        return d->status;
    }
    return 0xFF;
}

/* Writes go to both drives' registers; the old value moves to the HOB copy. */
static void ata_write_reg(struct ata_channel *ch, uint32_t off, uint8_t v)
{
    ch->devctl &= (uint8_t)~ATA_CTL_HOB;
    for (int i = 0; i < 2; i++) {
        struct ata_drive *d = &ch->drive[i];
        switch (off) {
        case ATA_REG_ERROR: d->hob_feature = d->feature; d->feature = v; break;
        case ATA_REG_NSECTOR: d->hob_nsector = d->nsector; d->nsector = v; break;
        case ATA_REG_SECTOR: d->hob_sector = d->sector; d->sector = v; break;
        case ATA_REG_LCYL: d->hob_lcyl = d->lcyl; d->lcyl = v; break;
        case ATA_REG_HCYL: d->hob_hcyl = d->hcyl; d->hcyl = v; break;
        case ATA_REG_SELECT: d->select = v; break;
        }
    }
    if (off == ATA_REG_SELECT) {
        ch->cur = (v & ATA_SEL_DEV) ? 1 : 0;
        ata_update_irq(ch);
    }
}

static uint32_t ata_cmd_read(void *opaque, uint32_t off, int size)
{
    struct ata_channel *ch = opaque;
    if (off == ATA_REG_DATA && size > 1)
        return ata_data_read(ch, size);
    uint32_t v = 0;
    for (int i = 0; i < size; i++)
        v |= (uint32_t)ata_read_reg(ch, (off + (uint32_t)i) & 7) << (8 * i);
    return v;
}

static void ata_cmd_write(void *opaque, uint32_t off, uint32_t val, int size)
{
    struct ata_channel *ch = opaque;
    if (off == ATA_REG_DATA && size > 1) {
        ata_data_write(ch, val, size);
        return;
    }
    for (int i = 0; i < size; i++) {
        uint32_t o = (off + (uint32_t)i) & 7;
        uint8_t b = (uint8_t)(val >> (8 * i));
        if (o == ATA_REG_STATUS)
            ata_command(ch, b);
        else if (o != ATA_REG_DATA)
            ata_write_reg(ch, o, b);
    }
}

const struct bus_ops ata_cmd_ops = { ata_cmd_read, ata_cmd_write, 0 };

static void ata_devctl_write(struct ata_channel *ch, uint8_t v)
{
    uint8_t old = ch->devctl;
    ch->devctl = v;
    for (int i = 0; i < 2; i++) {
        struct ata_drive *d = &ch->drive[i];
        if (d->kind == ATA_KIND_NONE)
            continue;
        if ((v & ATA_CTL_SRST) && !(old & ATA_CTL_SRST)) {
            ata_abort_transfer(d);
            d->irq_pending = 0;
            d->status = ATA_ST_BSY;
        } else if (!(v & ATA_CTL_SRST) && (old & ATA_CTL_SRST)) {
            d->select = 0;
            ata_schedule(d, ATA_RESET_NS, ATA_P_RESET);
        }
    }
    if (!(v & ATA_CTL_SRST) && (old & ATA_CTL_SRST))
        ch->cur = 0;
    ata_update_irq(ch);
}

static uint32_t ata_ctrl_read(void *opaque, uint32_t off, int size)
{
    struct ata_channel *ch = opaque;
    (void)size;
    if (off != 0 || !ata_present(ch))
        return 0xFF;
    struct ata_drive *d = &ch->drive[ch->cur];
    return d->kind == ATA_KIND_NONE ? 0 : d->status;
}

static void ata_ctrl_write(void *opaque, uint32_t off, uint32_t val, int size)
{
    (void)size;
    if (off == 0)
        ata_devctl_write(opaque, (uint8_t)val);
}

const struct bus_ops ata_ctrl_ops = { ata_ctrl_read, ata_ctrl_write, 1 };

/* ---- life cycle --------------------------------------------------------- */

void ata_dma_start(struct ata_channel *ch)
{
    for (int i = 0; i < 2; i++) {
        struct ata_drive *d = &ch->drive[i];
        if (d->dma_wait && d->pending == ATA_P_NONE)
            ata_schedule(d, ATA_BLOCK_NS, ATA_P_DMA);
    }
}

static void ata_drive_defaults(struct ata_drive *d)
{
    ata_abort_transfer(d);
    d->irq_pending = 0;
    d->cmd = 0;
    d->feature = d->hob_feature = 0;
    d->select = 0;
    ata_set_signature(d);
    if (d->kind == ATA_KIND_DISK)
        ata_default_chs(ata_total(d), &d->cyls, &d->heads, &d->sects);
    else
        d->cyls = d->heads = d->sects = 0;
    d->mult = 0;
    d->xfer_mode = 0x22;          /* MWDMA2 */
    d->wcache = 1;
    d->lookahead = 1;
    memset(d->cdb, 0, sizeof(d->cdb));
    d->pkt_dma = 0;
    d->byte_limit = 0;
    if (d->kind == ATA_KIND_CDROM)
        atapi_power_on(d);
}

void ata_reset(void *opaque)
{
    struct ata_channel *ch = opaque;
    for (int i = 0; i < 2; i++)
        ata_drive_defaults(&ch->drive[i]);
    ch->cur = 0;
    ch->devctl = 0;
    ata_update_irq(ch);
}

void ata_init(struct ata_channel *ch, struct vclock *clock, int index)
{
    memset(ch, 0, sizeof(*ch));
    ch->clock = clock;
    ch->index = (uint8_t)index;
    for (int i = 0; i < 2; i++) {
        struct ata_drive *d = &ch->drive[i];
        d->ch = ch;
        d->unit = (uint8_t)i;
        timer_init(&d->timer, clock, ata_timer, d);
        d->deadline = VCLOCK_NEVER;
    }
    ata_reset(ch);
}

int ata_attach_disk(struct ata_channel *ch, int unit, struct blockdev *blk)
{
    if (unit < 0 || unit > 1 || !blk || blk->size < ATA_SECTOR_SIZE)
        return -1;
    ch->drive[unit].kind = ATA_KIND_DISK;
    ch->drive[unit].blk = blk;
    ata_drive_defaults(&ch->drive[unit]);
    return 0;
}

int ata_attach_cdrom(struct ata_channel *ch, int unit, struct blockdev *blk)
{
    if (unit < 0 || unit > 1)
        return -1;
    ch->drive[unit].kind = ATA_KIND_CDROM;
    ch->drive[unit].blk = blk;
    ata_drive_defaults(&ch->drive[unit]);
    return 0;
}

void ata_attach_dma(struct ata_channel *ch, const struct ata_dma_ops *ops, void *opaque)
{
    ch->dma = ops;
    ch->dma_opaque = opaque;
}

static int ata_post_load(void *opaque)
{
    struct ata_channel *ch = opaque;
    for (int i = 0; i < 2; i++) {
        struct ata_drive *d = &ch->drive[i];
        if (d->buf_pos > ATA_BUF_SIZE || d->buf_end > ATA_BUF_SIZE || d->drq_left > ATA_BUF_SIZE ||
            d->nsect_cur > ATA_BUF_SIZE / ATA_SECTOR_SIZE || d->pending > ATA_P_PKT_NEXT || ch->cur > 1)
            return -1;
        timer_cancel(&d->timer);
        if (d->pending != ATA_P_NONE && d->deadline != VCLOCK_NEVER)
            timer_arm(&d->timer, d->deadline);
    }
    ata_update_irq(ch);
    return 0;
}

const struct device_ops ata_device_ops = {
    .name = "ata", .version = 1, .fields = ata_fields,
    .reset = ata_reset, .post_load = ata_post_load,
};
