/* ATAPI CD-ROM: the PACKET command protocol (ATA/ATAPI-6 sec. 8.21 and
 * 9.10-9.11: byte count limit, interrupt reason, PIO and DMA data-in) and
 * the MMC-3 commands a BIOS, Linux and Windows need on a one-track data disc
 * (SPC-3 fixed-format sense, INQUIRY). Not modelled: audio, READ CD, CD-R/W,
 * MODE SELECT, overlap/queueing, multi-session discs, changers. */
#include "devices/atapi.h"
#include "devices/backends/block.h"
#include <stdio.h>
#include <string.h>

static void be16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void be32(uint8_t *p, uint32_t v) { be16(p, v >> 16); be16(p + 2, v); }
static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t rd32(const uint8_t *p) { return rd16(p) << 16 | rd16(p + 2); }

static int atapi_present(const struct ata_drive *d)
{
    return d->blk && !d->tray_open;
}

static uint32_t atapi_sectors(const struct ata_drive *d)
{
    uint64_t n = d->blk->size / ATAPI_SECTOR_SIZE;
    return n > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)n;
}

/* ---- completion --------------------------------------------------------- */

static void atapi_ok(struct ata_drive *d)
{
    d->dma_wait = 0;
    d->nsector = ATAPI_IR_IO | ATAPI_IR_COD;
    d->status = ATA_ST_DRDY;
    ata_raise_irq(d);
}

/* CHECK CONDITION: sense kept for REQUEST SENSE; key in the error register. */
static void atapi_check(struct ata_drive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
    d->sense_key = key;
    d->asc = asc;
    d->ascq = ascq;
    d->dma_wait = 0;
    d->remaining = 0;
    d->buf_pos = d->buf_end = d->drq_left = 0;
    d->error = (uint8_t)(key << 4 | (key == SENSE_ILLEGAL_REQUEST ? ATA_ER_ABRT : 0));
    d->nsector = ATAPI_IR_IO | ATAPI_IR_COD;
    d->status = ATA_ST_DRDY | ATA_ST_ERR;
    ata_raise_irq(d);
}

static void atapi_not_ready(struct ata_drive *d)
{
    atapi_check(d, SENSE_NOT_READY, 0x3A, d->tray_open ? 0x02 : 0x01);
}

static void atapi_bad_field(struct ata_drive *d)
{
    atapi_check(d, SENSE_ILLEGAL_REQUEST, 0x24, 0x00);
}

/* Opens the next PIO DRQ block: at most the byte count limit (even unless
 * it is the last piece), at most what the buffer holds. */
static void atapi_drq_block(struct ata_drive *d)
{
    uint32_t avail = d->buf_end - d->buf_pos;
    uint32_t limit = d->byte_limit ? d->byte_limit : 0xFFFE;
    uint32_t n = avail <= limit ? avail : (limit & ~1u);
    d->drq_left = n;
    d->lcyl = (uint8_t)n;
    d->hcyl = (uint8_t)(n >> 8);
    d->nsector = ATAPI_IR_IO;
    d->status = ATA_ST_DRDY | ATA_ST_DRQ;
    ata_raise_irq(d);
}

/* Loads the next run of sectors of a READ into the buffer; 0 on success. */
static int atapi_load(struct ata_drive *d)
{
    if (!atapi_present(d)) {
        atapi_not_ready(d);
        return -1;
    }
    uint32_t n = d->remaining < ATA_BUF_SIZE / ATAPI_SECTOR_SIZE ? d->remaining : ATA_BUF_SIZE / ATAPI_SECTOR_SIZE;
    if (block_read(d->blk, d->lba * ATAPI_SECTOR_SIZE, d->buf, (size_t)n * ATAPI_SECTOR_SIZE) < 0) {
        atapi_check(d, SENSE_MEDIUM_ERROR, 0x11, 0x00);
        return -1;
    }
    d->lba += n;
    d->remaining -= n;
    d->buf_pos = 0;
    d->buf_end = n * ATAPI_SECTOR_SIZE;
    return 0;
}

void atapi_dma_run(struct ata_drive *d)
{
    struct ata_channel *ch = d->ch;
    for (;;) {
        if (d->buf_pos < d->buf_end) {
            uint32_t want = d->buf_end - d->buf_pos;
            uint32_t got = ch->dma->rw(ch->dma_opaque, d->buf + d->buf_pos, want, 1);
            d->buf_pos += got;
            if (got < want)
                return;                 /* bus master ran dry: wait */
        }
        if (!d->remaining)
            break;
        if (atapi_load(d) < 0)
            return;
    }
    atapi_ok(d);
}

/* Starts the data-in phase for what is in buf (and, for READ, on disc). */
static void atapi_data_in(struct ata_drive *d)
{
    if (d->buf_pos >= d->buf_end && !d->remaining) {
        atapi_ok(d);
        return;
    }
    if (d->pkt_dma) {
        d->dma_wait = 1;
        d->status = ATA_ST_DRDY | ATA_ST_DRQ;
        d->nsector = ATAPI_IR_IO;
        if (d->ch->dma && d->ch->dma->active(d->ch->dma_opaque))
            atapi_dma_run(d);
        return;
    }
    if (d->buf_pos >= d->buf_end && atapi_load(d) < 0)
        return;
    atapi_drq_block(d);
}

/* A reply of len bytes in buf, cut to the allocation length. */
static void atapi_reply(struct ata_drive *d, uint32_t len, uint32_t alloc)
{
    d->remaining = 0;
    d->buf_pos = 0;
    d->buf_end = len < alloc ? len : alloc;
    atapi_data_in(d);
}

void atapi_next(struct ata_drive *d)
{
    atapi_data_in(d);
}

void atapi_block_done(struct ata_drive *d)
{
    if (d->data_out) {                  /* the 12-byte CDB */
        memcpy(d->cdb, d->buf, 12);
        d->data_out = 0;
        ata_schedule(d, ATA_CMD_NS, ATA_P_PACKET);
        return;
    }
    ata_schedule(d, ATA_BLOCK_NS, ATA_P_PKT_NEXT);
}

/* ---- MMC commands ------------------------------------------------------- */

static void lba_to_msf(uint8_t *p, uint32_t lba)
{
    lba += 150;
    p[0] = (uint8_t)(lba / (75 * 60));
    p[1] = (uint8_t)(lba / 75 % 60);
    p[2] = (uint8_t)(lba % 75);
}

static void toc_addr(uint8_t *p, uint32_t lba, int msf)
{
    if (msf) {
        p[0] = 0;
        lba_to_msf(p + 1, lba);
    } else {
        be32(p, lba);
    }
}

static void atapi_inquiry(struct ata_drive *d)
{
    uint8_t *b = d->buf;
    if (d->cdb[1] & 1) {
        atapi_bad_field(d);             /* no vital product data pages */
        return;
    }
    memset(b, 0, 36);
    b[0] = 0x05;                        /* CD/DVD device */
    b[1] = 0x80;                        /* removable */
    b[3] = 0x21;                        /* ATAPI, response data format 1 */
    b[4] = 31;
    memcpy(b + 8, "SOFTVISR", 8);
    memcpy(b + 16, "CD-ROM          ", 16);
    memcpy(b + 32, "1.0 ", 4);
    atapi_reply(d, 36, rd16(d->cdb + 3));
}

static void atapi_request_sense(struct ata_drive *d)
{
    uint8_t *b = d->buf;
    if (d->ua_pending) {
        d->ua_pending = 0;
        d->sense_key = SENSE_UNIT_ATTENTION;
        d->asc = 0x28;
        d->ascq = 0x00;
    }
    memset(b, 0, 18);
    b[0] = 0x70;                        /* current error, fixed format */
    b[2] = d->sense_key;
    b[7] = 10;
    b[12] = d->asc;
    b[13] = d->ascq;
    d->sense_key = d->asc = d->ascq = 0;
    atapi_reply(d, 18, d->cdb[4]);
}

static void atapi_read(struct ata_drive *d, uint32_t lba, uint32_t count)
{
    if ((uint64_t)lba + count > atapi_sectors(d)) {
        atapi_check(d, SENSE_ILLEGAL_REQUEST, 0x21, 0x00);
        return;
    }
    d->lba = lba;
    d->remaining = count;
    d->buf_pos = d->buf_end = 0;
    atapi_data_in(d);
}

static void atapi_read_capacity(struct ata_drive *d)
{
    be32(d->buf, atapi_sectors(d) - 1);
    be32(d->buf + 4, ATAPI_SECTOR_SIZE);
    atapi_reply(d, 8, 8);
}

static void atapi_read_toc(struct ata_drive *d)
{
    uint8_t *b = d->buf, *p = b + 4;
    int msf = d->cdb[1] & 2;
    int format = d->cdb[2] & 0x0F;
    uint8_t track = d->cdb[6];
    uint32_t total = atapi_sectors(d);
    if (!format)
        format = d->cdb[9] >> 6;        /* the older SFF-8020 place */
    memset(b, 0, 64);
    switch (format) {
    case 0:                             /* TOC: track 1 and the lead-out */
        if (track > 1 && track != 0xAA) {
            atapi_bad_field(d);
            return;
        }
        if (track <= 1) {
            p[1] = 0x14; p[2] = 1;
            toc_addr(p + 4, 0, msf);
            p += 8;
        }
        p[1] = 0x14; p[2] = 0xAA;
        toc_addr(p + 4, total, msf);
        p += 8;
        break;
    case 1:                             /* session info: one session */
        p[1] = 0x14; p[2] = 1;
        toc_addr(p + 4, 0, msf);
        p += 8;
        break;
    case 2: {                           /* raw TOC (always MSF) */
        static const uint8_t points[4] = { 0xA0, 0xA1, 0xA2, 0x01 };
        for (int i = 0; i < 4; i++, p += 11) {
            p[0] = 1; p[1] = 0x14; p[3] = points[i];
            if (points[i] == 0xA0 || points[i] == 0xA1)
                p[8] = 1;               /* first/last track; disc type 00h */
            else
                lba_to_msf(p + 8, points[i] == 0xA2 ? total : 0);
        }
        break;
    }
    default:
        atapi_bad_field(d);
        return;
    }
    uint32_t len = (uint32_t)(p - b);
    be16(b, len - 2);
    b[2] = 1;
    b[3] = 1;
    atapi_reply(d, len, rd16(d->cdb + 7));
}

/* One mode page at p (current values, or zeros for "changeable"); returns its length. */
static uint32_t atapi_mode_page(struct ata_drive *d, uint8_t *p, int page, int changeable)
{
    static const uint8_t err_rec[8] = { 0x01, 0x06, 0x00, 0x05 };
    static const uint8_t cd_params[8] = { 0x0D, 0x06, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x4B };
    uint32_t len;
    switch (page) {
    case 0x01: memcpy(p, err_rec, 8); len = 8; break;
    case 0x0D: memcpy(p, cd_params, 8); len = 8; break;
    case 0x2A:
        memset(p, 0, 22);
        p[0] = 0x2A; p[1] = 0x14;
        p[2] = 0x03;                    /* reads CD-R, CD-RW */
        p[4] = 0x70;                    /* mode 2 form 1/2, multi-session */
        p[6] = (uint8_t)(0x29 | (d->locked ? 0x02 : 0));  /* tray, eject, lock, lock state */
        be16(p + 8, 2816);              /* 16x, kB/s */
        be16(p + 12, 512);              /* buffer, KiB */
        be16(p + 14, 2816);
        len = 22;
        break;
    default:
        return 0;
    }
    if (changeable)
        memset(p + 2, 0, len - 2);
    return len;
}

static void atapi_mode_sense(struct ata_drive *d)
{
    int pc = d->cdb[2] >> 6, page = d->cdb[2] & 0x3F;
    uint8_t *b = d->buf;
    if (pc == 3) {
        atapi_check(d, SENSE_ILLEGAL_REQUEST, 0x39, 0x00);   /* saving not supported */
        return;
    }
    memset(b, 0, 8);
    uint32_t len = 8;
    if (page == 0x3F) {
        len += atapi_mode_page(d, b + len, 0x01, pc == 1);
        len += atapi_mode_page(d, b + len, 0x0D, pc == 1);
        len += atapi_mode_page(d, b + len, 0x2A, pc == 1);
    } else {
        uint32_t n = atapi_mode_page(d, b + len, page, pc == 1);
        if (!n) {
            atapi_bad_field(d);
            return;
        }
        len += n;
    }
    be16(b, len - 2);
    b[2] = atapi_present(d) ? 0x01 : 0x70;   /* medium type: 120 mm data disc / no disc */
    atapi_reply(d, len, rd16(d->cdb + 7));
}

static void atapi_start_stop(struct ata_drive *d)
{
    int loej = d->cdb[4] & 2, start = d->cdb[4] & 1;
    if (loej && !start) {
        if (d->locked) {
            atapi_check(d, SENSE_ILLEGAL_REQUEST, 0x53, 0x02);   /* removal prevented */
            return;
        }
        if (!d->tray_open && d->blk)
            d->media_event = 3;             /* MediaRemoval */
        d->tray_open = 1;
    } else if (loej && start) {
        if (d->tray_open && d->blk)
            d->media_event = 2;             /* NewMedia */
        d->tray_open = 0;
    }
    atapi_ok(d);
}

/* GET CONFIGURATION: profile list (CD-ROM), core (ATAPI), removable medium. */
static void atapi_get_configuration(struct ata_drive *d)
{
    int rt = d->cdb[1] & 3;
    uint32_t start = rd16(d->cdb + 2);
    uint8_t *b = d->buf, *p = b + 8;
    uint8_t feats[3][8] = {
        { 0x00, 0x00, 0x03, 0x04, 0x00, 0x08, (uint8_t)(atapi_present(d) ? 1 : 0), 0x00 },
        { 0x00, 0x01, 0x03, 0x04, 0x00, 0x00, 0x00, 0x02 },
        { 0x00, 0x03, 0x03, 0x04, 0x29, 0x00, 0x00, 0x00 },
    };
    if (rt == 3) {
        atapi_bad_field(d);
        return;
    }
    memset(b, 0, 8);
    for (int i = 0; i < 3; i++) {
        uint32_t code = rd16(feats[i]);
        if (code < start || (rt == 2 && code != start))
            continue;
        memcpy(p, feats[i], 8);
        p += 8;
    }
    uint32_t len = (uint32_t)(p - b);
    be32(b, len - 4);
    be16(b + 6, atapi_present(d) ? 0x0008 : 0x0000);
    atapi_reply(d, len, rd16(d->cdb + 7));
}

static void atapi_event_status(struct ata_drive *d)
{
    uint8_t *b = d->buf;
    if (!(d->cdb[1] & 1)) {
        atapi_bad_field(d);                 /* only polled mode */
        return;
    }
    memset(b, 0, 8);
    b[3] = 0x10;                            /* supported: media class */
    uint32_t len = 4;
    if (d->cdb[4] & 0x10) {
        be16(b, 6);
        b[2] = 0x04;                        /* media class */
        b[4] = d->media_event;
        b[5] = (uint8_t)((atapi_present(d) ? 2 : 0) | (d->tray_open ? 1 : 0));
        d->media_event = 0;
        len = 8;
    } else {
        be16(b, 2);
        b[2] = 0x80;                        /* no event available */
    }
    atapi_reply(d, len, rd16(d->cdb + 7));
}

static void atapi_disc_info(struct ata_drive *d)
{
    uint8_t *b = d->buf;
    if (d->cdb[1] & 7) {
        atapi_bad_field(d);
        return;
    }
    memset(b, 0, 34);
    be16(b, 32);
    b[2] = 0x0E;                            /* complete session, complete disc */
    b[3] = 1; b[4] = 1; b[5] = 1; b[6] = 1; /* tracks and sessions */
    memset(b + 16, 0xFF, 8);                /* no lead-in/lead-out for further sessions */
    atapi_reply(d, 34, rd16(d->cdb + 7));
}

static void atapi_mechanism_status(struct ata_drive *d)
{
    memset(d->buf, 0, 8);
    d->buf[1] = d->tray_open ? 0x10 : 0x00;
    atapi_reply(d, 8, rd16(d->cdb + 8));
}

/* Commands that need a disc, and those that must not report UNIT ATTENTION. */
static int atapi_needs_medium(uint8_t op)
{
    return op == 0x00 || op == 0x25 || op == 0x28 || op == 0xA8 || op == 0x43 || op == 0x51 || op == 0x2B;
}

static int atapi_ua_exempt(uint8_t op)
{
    return op == 0x03 || op == 0x12 || op == 0x4A || op == 0x46;
}

void atapi_packet(struct ata_drive *d)
{
    const uint8_t *c = d->cdb;
    uint8_t op = c[0];
    if (op != 0x03)
        d->sense_key = d->asc = d->ascq = 0;
    if (d->ua_pending && !atapi_ua_exempt(op)) {
        d->ua_pending = 0;
        atapi_check(d, SENSE_UNIT_ATTENTION, 0x28, 0x00);
        return;
    }
    if (atapi_needs_medium(op) && !atapi_present(d)) {
        atapi_not_ready(d);
        return;
    }
    switch (op) {
    case 0x00: atapi_ok(d); return;                          /* TEST UNIT READY */
    case 0x03: atapi_request_sense(d); return;
    case 0x12: atapi_inquiry(d); return;
    case 0x1B: atapi_start_stop(d); return;
    case 0x1E: d->locked = c[4] & 1; atapi_ok(d); return;    /* PREVENT ALLOW */
    case 0x25: atapi_read_capacity(d); return;
    case 0x28: atapi_read(d, rd32(c + 2), rd16(c + 7)); return;
    case 0xA8: atapi_read(d, rd32(c + 2), rd32(c + 6)); return;
    case 0x2B: atapi_ok(d); return;                          /* SEEK(10) */
    case 0x43: atapi_read_toc(d); return;
    case 0x46: atapi_get_configuration(d); return;
    case 0x4A: atapi_event_status(d); return;
    case 0x51: atapi_disc_info(d); return;
    case 0x5A: atapi_mode_sense(d); return;
    case 0xBB: atapi_ok(d); return;                          /* SET CD SPEED */
    case 0xBD: atapi_mechanism_status(d); return;
    }
    atapi_check(d, SENSE_ILLEGAL_REQUEST, 0x20, 0x00);       /* invalid opcode */
}

/* ---- ATA commands on the packet device ---------------------------------- */

static void atapi_identify(struct ata_drive *d, uint8_t *out)
{
    uint16_t w[256];
    char serial[21];
    memset(w, 0, sizeof(w));
    snprintf(serial, sizeof(serial), "SVCD%04u%04u", d->ch->index, d->unit);
    w[0] = 0x85C0;                      /* ATAPI, CD-ROM, removable, DRQ in 50 us, 12-byte packets */
    ata_put_string(w, 10, 10, serial);
    ata_put_string(w, 23, 4, "1.0");
    ata_put_string(w, 27, 20, "SOFTVISOR CD-ROM");
    w[49] = 0x0B00;                     /* IORDY, LBA, DMA */
    w[50] = 0x4000;
    w[53] = 0x0006;                     /* words 64-70 and 88 valid */
    w[63] = 0x0007;
    w[88] = 0x003F;
    if ((d->xfer_mode & 0xF8) == 0x20)
        w[63] |= (uint16_t)(0x100 << (d->xfer_mode & 7));
    if ((d->xfer_mode & 0xF8) == 0x40)
        w[88] |= (uint16_t)(0x100 << (d->xfer_mode & 7));
    w[64] = 0x0003;
    w[65] = w[66] = w[67] = w[68] = 120;
    w[80] = 0x007E;
    w[82] = 0x4210;                     /* NOP, DEVICE RESET, PACKET */
    w[83] = 0x4000;
    w[84] = 0x4000;
    w[85] = 0x4210;
    w[87] = 0x4000;
    w[93] = d->unit ? 0x6B00 : 0x600B;
    ata_finish_identify(w, out);
}

void atapi_command(struct ata_drive *d)
{
    switch (d->cmd) {
    case 0xA0:                          /* PACKET: DRQ for the CDB, no interrupt */
        d->pkt_dma = d->feature & 1;
        d->byte_limit = (uint16_t)(d->hcyl << 8 | d->lcyl);
        d->buf_pos = 0;
        d->buf_end = d->drq_left = 12;
        d->data_out = 1;
        d->nsector = ATAPI_IR_COD;
        d->status = ATA_ST_DRDY | ATA_ST_DRQ;
        return;
    case 0x08:                          /* DEVICE RESET */
        d->status = ATA_ST_BSY;
        ata_schedule(d, ATA_CMD_NS, ATA_P_RESET);
        return;
    }
    d->status = ATA_ST_BSY | (d->status & ATA_ST_DRDY);
    ata_schedule(d, ATA_CMD_NS, ATA_P_EXEC);
}

static void atapi_ata_done(struct ata_drive *d, uint8_t err)
{
    d->error = err;
    d->status = (uint8_t)(ATA_ST_DRDY | (err ? ATA_ST_ERR : 0));
    ata_raise_irq(d);
}

void atapi_exec(struct ata_drive *d)
{
    switch (d->cmd) {
    case 0xA1:                          /* IDENTIFY PACKET DEVICE */
        atapi_identify(d, d->buf);
        d->buf_pos = 0;
        d->buf_end = d->drq_left = 512;
        d->remaining = d->nsect_cur = 0;
        d->data_out = 0;
        d->status = ATA_ST_DRDY | ATA_ST_DRQ;
        ata_raise_irq(d);
        return;
    case 0xEF:
        if (d->feature == 0x03 || d->feature == 0x02 || d->feature == 0x82 ||
            d->feature == 0x66 || d->feature == 0xCC) {
            if (d->feature == 0x03 && d->nsector >= 0x20 && d->nsector <= 0x45)
                d->xfer_mode = d->nsector;
            atapi_ata_done(d, 0);
        } else {
            atapi_ata_done(d, ATA_ER_ABRT);
        }
        return;
    case 0xE5: d->nsector = 0xFF; atapi_ata_done(d, 0); return;
    case 0xE0: case 0xE1: case 0xE2: case 0xE3: atapi_ata_done(d, 0); return;
    case 0xEC: case 0x20: case 0x21: case 0x24: case 0x29: case 0xC4:
        /* a packet device aborts these and shows its signature */
        ata_set_signature(d);
        atapi_ata_done(d, ATA_ER_ABRT);
        return;
    }
    atapi_ata_done(d, ATA_ER_ABRT);
}

/* ---- state changes ------------------------------------------------------ */

void atapi_soft_reset(struct ata_drive *d)
{
    (void)d;                            /* sense, lock and media state survive SRST */
}

void atapi_power_on(struct ata_drive *d)
{
    d->sense_key = d->asc = d->ascq = 0;
    d->ua_pending = 0;
    d->media_event = 0;
    d->tray_open = 0;
    d->locked = 0;
}

void atapi_change_media(struct ata_drive *cd, struct blockdev *blk)
{
    cd->blk = blk;
    cd->tray_open = 0;
    cd->ua_pending = 1;
    cd->media_event = blk ? 2 : 3;
}
