/* Intel 82077AA FDC (datasheet 290166: uPD765A commands plus VERSION, CONFIGURE,
 * DUMPREG, LOCK, PERPENDICULAR, relative SEEK), AT mode, MFM, 512-byte sectors.
 * Data commands always seek implicitly (SeaBIOS never seeks). Not modelled: PS/2
 * modes, FM, SCAN, FIFO threshold, rotation/motor timing, deleted marks on media. */
#include "devices/i82077_fdc.h"
#include <string.h>
#include "devices/i8237_dma.h"

enum { PH_RESET, PH_IDLE, PH_COMMAND, PH_EXEC, PH_RESULT };
enum { EV_NONE, EV_RESET, EV_EXEC, EV_RESULT };
enum { PIO_NONE, PIO_IN, PIO_OUT };
enum { SEEK_NONE, SEEK_BUSY, SEEK_ENDED };
enum { K_READ, K_READ_DEL, K_WRITE, K_WRITE_DEL, K_READ_TRACK, K_VERIFY,
       K_READ_ID, K_FORMAT, K_OTHER };

#define OP_MT  0x80
#define OP_MFM 0x40
#define OP_SK  0x20
#define CFG_POLL_OFF 0x10
#define CFG_DEFAULT  0x20   /* EFIFO: FIFO disabled */
#define MAX_TRACK 83        /* the drive's inner stop */
#define CYLINDERS 80

struct fdc_cmd {
    uint8_t mask, value, len, kind;
    void (*run)(struct fdc *f);
};

static void update_irq(struct fdc *f);
static void rearm(struct fdc *f);

/* ---- media ---- */

struct fdc_media { uint64_t size; uint8_t spt, rate, type; };
static const struct fdc_media media_table[] = {
    { 737280, 9, 2, FDC_TYPE_720K },
    { 1474560, 18, 0, FDC_TYPE_1M44 },
    { 2949120, 36, 3, FDC_TYPE_2M88 },
};

/* Data rates a drive type can read: bit per DSR rate code. */
static int drive_rate_ok(int type, int rate)
{
    switch (type) {
    case FDC_TYPE_720K: return rate == 2;
    case FDC_TYPE_1M44: return rate == 0 || rate == 2;
    case FDC_TYPE_2M88: return rate != 1;
    default: return 0;
    }
}

/* 1 when the head can read ID fields of drive ds: a drive with media, read
 * at the media's data rate. */
static int media_readable(const struct fdc *f, int ds)
{
    int rate = f->dsr & 3;
    return ds < FDC_DRIVES && f->blk[ds] && drive_rate_ok(f->drive_type[ds], rate) &&
           rate == f->media_rate[ds];
}

/* A step pulse: the head moves (within its stops), and a step with a disk
 * in the drive clears the disk change line. */
static void step_drive(struct fdc *f, int ds, int steps)
{
    if (ds >= FDC_DRIVES || f->drive_type[ds] == FDC_TYPE_NONE || steps == 0)
        return;
    int t = f->track[ds] + steps;
    f->track[ds] = (uint8_t)(t < 0 ? 0 : t > MAX_TRACK ? MAX_TRACK : t);
    if (f->blk[ds])
        f->changed[ds] = 0;
}

/* Looks for the ID (cur_c, cur_h, cur_r, cur_n) on the current track;
 * 0 and the image offset, or -1 with MA (no ID fields) or ND set. */
static int locate(struct fdc *f, uint64_t *off)
{
    int ds = f->cur_ds;
    if (!media_readable(f, ds) || !(f->cmd[0] & OP_MFM) || f->track[ds] >= CYLINDERS) {
        f->st1 |= FDC_ST1_MA;
        return -1;
    }
    int spt = f->spt[ds];
    if (f->cur_c != f->track[ds] || f->cur_h != f->cur_hd || f->cur_n != 2 ||
        f->cur_r < 1 || f->cur_r > spt) {
        f->st1 |= FDC_ST1_ND;
        return -1;
    }
    *off = ((uint64_t)(f->track[ds] * 2 + f->cur_hd) * spt + f->cur_r - 1) * FDC_SECTOR_SIZE;
    f->sector[ds] = f->cur_r;
    return 0;
}

/* ---- command table ---- */

static void cmd_data(struct fdc *f);
static void cmd_specify(struct fdc *f);
static void cmd_sense_drive(struct fdc *f);
static void cmd_recalibrate(struct fdc *f);
static void cmd_sense_int(struct fdc *f);
static void cmd_seek(struct fdc *f);
static void cmd_version(struct fdc *f);
static void cmd_dumpreg(struct fdc *f);
static void cmd_configure(struct fdc *f);
static void cmd_perpendicular(struct fdc *f);
static void cmd_lock(struct fdc *f);

static const struct fdc_cmd cmd_table[] = {
    { 0x1F, 0x06, 9, K_READ, cmd_data },         /* READ DATA: MT MFM SK */
    { 0x1F, 0x0C, 9, K_READ_DEL, cmd_data },     /* READ DELETED DATA */
    { 0x3F, 0x05, 9, K_WRITE, cmd_data },        /* WRITE DATA: MT MFM */
    { 0x3F, 0x09, 9, K_WRITE_DEL, cmd_data },    /* WRITE DELETED DATA */
    { 0xBF, 0x02, 9, K_READ_TRACK, cmd_data },   /* READ TRACK: MFM */
    { 0x1F, 0x16, 9, K_VERIFY, cmd_data },       /* VERIFY: MT MFM SK */
    { 0xBF, 0x0A, 2, K_READ_ID, cmd_data },      /* READ ID: MFM */
    { 0xBF, 0x0D, 6, K_FORMAT, cmd_data },       /* FORMAT TRACK: MFM */
    { 0xFF, 0x03, 3, K_OTHER, cmd_specify },
    { 0xFF, 0x04, 2, K_OTHER, cmd_sense_drive },
    { 0xFF, 0x07, 2, K_OTHER, cmd_recalibrate },
    { 0xFF, 0x08, 1, K_OTHER, cmd_sense_int },
    { 0xFF, 0x0F, 3, K_OTHER, cmd_seek },
    { 0xBF, 0x8F, 3, K_OTHER, cmd_seek },        /* RELATIVE SEEK: DIR */
    { 0xFF, 0x10, 1, K_OTHER, cmd_version },
    { 0xFF, 0x0E, 1, K_OTHER, cmd_dumpreg },
    { 0xFF, 0x13, 4, K_OTHER, cmd_configure },
    { 0xFF, 0x12, 2, K_OTHER, cmd_perpendicular },
    { 0x7F, 0x14, 1, K_OTHER, cmd_lock },        /* LOCK / UNLOCK */
};

static const struct fdc_cmd *find_cmd(uint8_t op)
{
    for (unsigned i = 0; i < sizeof cmd_table / sizeof cmd_table[0]; i++)
        if ((op & cmd_table[i].mask) == cmd_table[i].value)
            return &cmd_table[i];
    return NULL;
}

static int cur_kind(const struct fdc *f)
{
    const struct fdc_cmd *c = find_cmd(f->cmd[0]);
    return c ? c->kind : K_OTHER;
}

/* ---- phases ---- */

static void result_now(struct fdc *f, int n)
{
    f->res_len = (uint8_t)n;
    f->res_pos = 0;
    f->phase = PH_RESULT;
}

static void result1(struct fdc *f, uint8_t a)
{
    f->res[0] = a;
    result_now(f, 1);
}

static void result2(struct fdc *f, uint8_t a, uint8_t b)
{
    f->res[0] = a;
    f->res[1] = b;
    result_now(f, 2);
}

static void schedule(struct fdc *f, int ev, uint64_t delay)
{
    f->ev = (uint8_t)ev;
    f->cmd_due = vclock_now(f->clock) + delay;
    rearm(f);
}

/* Ends a data command: the seven result bytes go out after FDC_RESULT_NS. */
static void finish(struct fdc *f, uint8_t ic)
{
    f->pio = PIO_NONE;
    f->res[0] = (uint8_t)(ic | f->cur_hd << 2 | f->cur_ds);
    f->res[1] = f->st1;
    f->res[2] = f->st2;
    f->res[3] = f->cur_c;
    f->res[4] = f->cur_h;
    f->res[5] = f->cur_r;
    f->res[6] = f->cur_n;
    f->res_len = 7;
    schedule(f, EV_RESULT, FDC_RESULT_NS);
}

static int mt_allowed(const struct fdc *f)
{
    int k = cur_kind(f);
    return (f->cmd[0] & OP_MT) && k != K_READ_TRACK;
}

/* After the sector at cur_r: moves to the next one (side 1 in multi-track
 * mode); returns 1 when there is none (end of cylinder). */
static int next_sector(struct fdc *f)
{
    if (f->cur_r != f->cmd[6]) {
        f->cur_r++;
        return 0;
    }
    if (mt_allowed(f) && f->cur_hd == 0) {
        f->cur_hd = 1;
        f->cur_h ^= 1;
        f->cur_r = 1;
        return 0;
    }
    return 1;
}

/* The ID reported after a normal end in the sector at cur_r (uPD765 table:
 * R+1, or sector 1 of the other side / next cylinder at EOT). */
static void id_after_end(struct fdc *f)
{
    if (f->cur_r != f->cmd[6]) {
        f->cur_r++;
        return;
    }
    f->cur_r = 1;
    if (mt_allowed(f)) {
        if (f->cur_hd)
            f->cur_c++;
        f->cur_h ^= 1;
    } else {
        f->cur_c++;
    }
}

/* ---- DMA-mode transfers (and VERIFY, which moves no data) ---- */

static int dma_usable(struct fdc *f)
{
    return f->dma && (f->dor & FDC_DOR_DMAGATE) && !dma_channel_masked(f->dma, f->dma_channel);
}

/* Moves one sector between the image and memory: 1 = terminal count
 * reached in it, 0 = go on, -1 = error (status set). */
static int dma_sector(struct fdc *f, uint64_t off, int write)
{
    struct blockdev *b = f->blk[f->cur_ds];
    if (!dma_usable(f)) {
        f->st1 |= FDC_ST1_OR;
        return -1;
    }
    int n;
    if (write) {
        memset(f->buf, 0, sizeof f->buf);   /* a TC inside the sector pads with zeros */
        n = dma_channel_read(f->dma, f->dma_channel, f->buf, FDC_SECTOR_SIZE);
    } else {
        if (block_read(b, off, f->buf, FDC_SECTOR_SIZE) < 0) {
            f->st1 |= FDC_ST1_DE;
            f->st2 |= FDC_ST2_DD;
            return -1;
        }
        n = dma_channel_write(f->dma, f->dma_channel, f->buf, FDC_SECTOR_SIZE);
    }
    int tc = dma_channel_tc(f->dma, f->dma_channel);
    if (n < 0 || (n < FDC_SECTOR_SIZE && !tc)) {
        f->st1 |= FDC_ST1_OR;
        return -1;
    }
    if (write && block_write(b, off, f->buf, FDC_SECTOR_SIZE) < 0) {
        f->st1 |= FDC_ST1_DE;
        return -1;
    }
    return tc;
}

/* One sector of a read/write/verify: 1 = normal end after it, 0 = go on,
 * -1 = error. Every sector of an image has a normal data mark, so READ
 * DELETED skips it (SK) or reads it and ends with CM. */
static int do_sector(struct fdc *f, uint64_t off, int kind)
{
    int skip = kind == K_READ_DEL && (f->cmd[0] & OP_SK);
    if (kind == K_READ_DEL && !skip)
        f->st2 |= FDC_ST2_CM;
    if (skip)
        return 0;
    if (kind == K_VERIFY) {
        if (f->cmd[1] & 0x80)   /* EC: SC (the DTL byte) sectors */
            return --f->count == 0;
        return f->cur_r == f->cmd[6] && !(mt_allowed(f) && f->cur_hd == 0);
    }
    int r = dma_sector(f, off, kind == K_WRITE || kind == K_WRITE_DEL);
    if (r == 0 && (f->st2 & FDC_ST2_CM))
        return 1;
    return r;
}

static void run_dma(struct fdc *f, int kind)
{
    for (;;) {
        uint64_t off;
        int r = locate(f, &off) < 0 ? -1 : do_sector(f, off, kind);
        if (r < 0) {
            finish(f, FDC_ST0_ABNORMAL);
            return;
        }
        if (r > 0) {
            id_after_end(f);
            finish(f, 0);
            return;
        }
        if (next_sector(f)) {
            f->st1 |= FDC_ST1_EN;
            finish(f, FDC_ST0_ABNORMAL);
            return;
        }
    }
}

/* ---- PIO (non-DMA) transfers through the FIFO ---- */

/* Finds the next sector to move and, for reads, loads it. */
static void pio_next(struct fdc *f, int kind)
{
    for (;;) {
        uint64_t off;
        if (locate(f, &off) < 0) {
            finish(f, FDC_ST0_ABNORMAL);
            return;
        }
        if (kind == K_READ_DEL && (f->cmd[0] & OP_SK)) {
            if (next_sector(f)) {
                f->st1 |= FDC_ST1_EN;
                finish(f, FDC_ST0_ABNORMAL);
                return;
            }
            continue;
        }
        if (kind == K_READ_DEL)
            f->st2 |= FDC_ST2_CM;
        f->buf_pos = 0;
        f->buf_len = FDC_SECTOR_SIZE;
        if (kind == K_WRITE || kind == K_WRITE_DEL) {
            f->pio = PIO_OUT;
        } else if (block_read(f->blk[f->cur_ds], off, f->buf, FDC_SECTOR_SIZE) < 0) {
            f->st1 |= FDC_ST1_DE;
            f->st2 |= FDC_ST2_DD;
            finish(f, FDC_ST0_ABNORMAL);
        } else {
            f->pio = PIO_IN;
        }
        return;
    }
}

/* The host has moved the whole sector. Without TC (no DMA), the command
 * runs to EOT and ends with EN, as the uPD765 does in non-DMA mode. */
static void pio_sector_done(struct fdc *f)
{
    int kind = cur_kind(f);
    f->pio = PIO_NONE;
    if (kind == K_WRITE || kind == K_WRITE_DEL) {
        uint64_t off;
        if (locate(f, &off) < 0 || block_write(f->blk[f->cur_ds], off, f->buf, FDC_SECTOR_SIZE) < 0) {
            if (!(f->st1 & (FDC_ST1_MA | FDC_ST1_ND)))
                f->st1 |= FDC_ST1_DE;
            finish(f, FDC_ST0_ABNORMAL);
            return;
        }
    }
    if (f->st2 & FDC_ST2_CM) {
        id_after_end(f);
        finish(f, 0);
    } else if (next_sector(f)) {
        f->st1 |= FDC_ST1_EN;
        finish(f, FDC_ST0_ABNORMAL);
    } else {
        pio_next(f, kind);
    }
}

/* ---- FORMAT TRACK and READ ID ---- */

/* Writes the filler into the sector an ID names, when it is one the image
 * holds (same cylinder and head, 512 bytes, 1..spt); other IDs cannot be
 * represented in a raw image and are ignored. -1 (status set) on errors. */
static int format_id(struct fdc *f, const uint8_t *id)
{
    int ds = f->cur_ds;
    f->cur_c = id[0];
    f->cur_h = id[1];
    f->cur_r = id[2];
    f->cur_n = id[3];
    f->count++;
    if (!media_readable(f, ds)) {   /* ejected while the host sent IDs */
        f->st1 |= FDC_ST1_MA;
        return -1;
    }
    if (id[0] != f->track[ds] || id[1] != f->cur_hd || id[3] != 2 || id[2] < 1 ||
        id[2] > f->spt[ds] || f->track[ds] >= CYLINDERS)
        return 0;
    uint8_t fill[FDC_SECTOR_SIZE];
    memset(fill, f->cmd[5], sizeof fill);
    uint64_t off = ((uint64_t)(f->track[ds] * 2 + f->cur_hd) * f->spt[ds] + id[2] - 1) * FDC_SECTOR_SIZE;
    if (block_write(f->blk[ds], off, fill, sizeof fill) < 0) {
        f->st1 |= FDC_ST1_DE;
        return -1;
    }
    return 0;
}

static void run_format_dma(struct fdc *f)
{
    while (f->count < f->cmd[3]) {
        uint8_t id[4];
        if (!dma_usable(f)) {
            f->st1 |= FDC_ST1_OR;
            finish(f, FDC_ST0_ABNORMAL);
            return;
        }
        int n = dma_channel_read(f->dma, f->dma_channel, id, 4);
        int tc = dma_channel_tc(f->dma, f->dma_channel);
        if (n != 4 && !tc) {
            f->st1 |= FDC_ST1_OR;
            finish(f, FDC_ST0_ABNORMAL);
            return;
        }
        if (format_id(f, id) < 0) {
            finish(f, FDC_ST0_ABNORMAL);
            return;
        }
        if (tc)
            break;
    }
    finish(f, 0);
}

static void exec_format(struct fdc *f)
{
    int ds = f->cur_ds;
    f->cur_c = f->track[ds < FDC_DRIVES ? ds : 0];
    f->cur_h = f->cur_hd;
    f->cur_r = 1;
    f->cur_n = f->cmd[2];
    f->count = 0;
    f->eot_sc = f->cmd[3];
    if (!media_readable(f, ds)) {
        f->st1 |= FDC_ST1_MA;
        finish(f, FDC_ST0_ABNORMAL);
    } else if (f->blk[ds]->readonly) {
        f->st1 |= FDC_ST1_NW;
        finish(f, FDC_ST0_ABNORMAL);
    } else if (f->cmd[3] == 0) {
        finish(f, 0);
    } else if (f->specify[1] & 1) {
        f->buf_pos = 0;
        f->buf_len = 4;
        f->pio = PIO_OUT;
    } else {
        run_format_dma(f);
    }
}

static void pio_format_done(struct fdc *f)
{
    f->buf_pos = 0;
    if (format_id(f, f->buf) < 0) {
        finish(f, FDC_ST0_ABNORMAL);
    } else if (f->count >= f->cmd[3]) {
        finish(f, 0);
    }
}

/* The next ID to pass the head: the sector after the last one passed. */
static void exec_read_id(struct fdc *f)
{
    int ds = f->cur_ds;
    f->cur_c = f->pcn[ds];
    f->cur_h = f->cur_hd;
    f->cur_r = 1;
    f->cur_n = 2;
    if (!media_readable(f, ds) || !(f->cmd[0] & OP_MFM) || f->track[ds] >= CYLINDERS) {
        f->st1 |= FDC_ST1_MA;
        finish(f, FDC_ST0_ABNORMAL);
        return;
    }
    f->cur_c = f->track[ds];
    f->cur_r = (uint8_t)(f->sector[ds] % f->spt[ds] + 1);
    f->sector[ds] = f->cur_r;
    finish(f, 0);
}

/* ---- data commands ---- */

static void exec_rw(struct fdc *f, int kind)
{
    int ds = f->cur_ds;
    f->cur_c = f->cmd[2];
    f->cur_h = f->cmd[3];
    f->cur_r = kind == K_READ_TRACK ? 1 : f->cmd[4];
    f->cur_n = f->cmd[5];
    f->count = f->cmd[8];
    f->eot_sc = f->cmd[6];
    /* implied seek */
    step_drive(f, ds, f->cmd[2] - f->pcn[ds]);
    f->pcn[ds] = f->cmd[2];
    int write = kind == K_WRITE || kind == K_WRITE_DEL;
    if (!media_readable(f, ds)) {
        f->st1 |= FDC_ST1_MA;
        finish(f, FDC_ST0_ABNORMAL);
    } else if (write && f->blk[ds]->readonly) {
        f->st1 |= FDC_ST1_NW;
        finish(f, FDC_ST0_ABNORMAL);
    } else if ((f->specify[1] & 1) && kind != K_VERIFY) {
        pio_next(f, kind);
    } else {
        run_dma(f, kind);
    }
}

/* The execution phase, FDC_CMD_NS after the last command byte. */
static void exec_data(struct fdc *f)
{
    int kind = cur_kind(f);
    f->cur_ds = f->cmd[1] & 3;
    f->cur_hd = f->cmd[1] >> 2 & 1;
    f->st1 = f->st2 = 0;
    if (f->cur_ds < FDC_DRIVES)
        f->head[f->cur_ds] = f->cur_hd;
    if (kind == K_READ_ID)
        exec_read_id(f);
    else if (kind == K_FORMAT)
        exec_format(f);
    else
        exec_rw(f, kind);
}

static void cmd_data(struct fdc *f)
{
    f->phase = PH_EXEC;
    schedule(f, EV_EXEC, FDC_CMD_NS);
}

/* ---- other commands ---- */

static void cmd_specify(struct fdc *f)
{
    f->specify[0] = f->cmd[1];
    f->specify[1] = f->cmd[2];
    f->phase = PH_IDLE;
}

static void cmd_sense_drive(struct fdc *f)
{
    int ds = f->cmd[1] & 3, hd = f->cmd[1] >> 2 & 1;
    uint8_t st3 = (uint8_t)(FDC_ST3_RDY | FDC_ST3_TS | hd << 2 | ds);
    if (ds < FDC_DRIVES && f->drive_type[ds] != FDC_TYPE_NONE) {
        f->head[ds] = (uint8_t)hd;
        if (f->track[ds] == 0)
            st3 |= FDC_ST3_T0;
        if (!f->blk[ds] || f->blk[ds]->readonly)   /* no disk: the sensor sees no tab */
            st3 |= FDC_ST3_WP;
    }
    result1(f, st3);
}

static void start_seek(struct fdc *f, int ds, uint8_t st0)
{
    f->seek_st0[ds] = st0;
    f->seek_state[ds] = SEEK_BUSY;
    f->seek_due[ds] = vclock_now(f->clock) + FDC_SEEK_NS;
    f->phase = PH_IDLE;
    rearm(f);
}

/* Steps out until track 0, at most 79 pulses; no track 0 signal then (or
 * no drive at all) is an equipment check. */
static void cmd_recalibrate(struct fdc *f)
{
    int ds = f->cmd[1] & 3, ok = 0;
    if (ds < FDC_DRIVES && f->drive_type[ds] != FDC_TYPE_NONE) {
        step_drive(f, ds, -(f->track[ds] < 79 ? f->track[ds] : 79));
        ok = f->track[ds] == 0;
    }
    f->pcn[ds] = 0;
    start_seek(f, ds, (uint8_t)(FDC_ST0_SE | ds | (ok ? 0 : FDC_ST0_ABNORMAL | FDC_ST0_EC)));
}

static void cmd_seek(struct fdc *f)
{
    int ds = f->cmd[1] & 3, hd = f->cmd[1] >> 2 & 1;
    int steps = f->cmd[2] - f->pcn[ds];
    if (f->cmd[0] & 0x80)   /* relative: DIR 1 = inward */
        steps = (f->cmd[0] & 0x40) ? f->cmd[2] : -f->cmd[2];
    step_drive(f, ds, steps);
    f->pcn[ds] = (uint8_t)(f->pcn[ds] + steps);
    if (ds < FDC_DRIVES)
        f->head[ds] = (uint8_t)hd;
    start_seek(f, ds, (uint8_t)(FDC_ST0_SE | hd << 2 | ds));
}

/* Polling statuses after a reset first, then ended seeks by drive. */
static void cmd_sense_int(struct fdc *f)
{
    f->int_pending = 0;
    for (int ds = 0; ds < 4; ds++) {
        if (f->reset_sense & (1 << ds)) {
            f->reset_sense &= (uint8_t)~(1 << ds);
            result2(f, (uint8_t)(FDC_ST0_POLL | ds), f->pcn[ds]);
            return;
        }
    }
    for (int ds = 0; ds < 4; ds++) {
        if (f->seek_state[ds] == SEEK_ENDED) {
            f->seek_state[ds] = SEEK_NONE;
            result2(f, f->seek_st0[ds], f->pcn[ds]);
            return;
        }
    }
    result1(f, FDC_ST0_INVALID);
}

static void cmd_version(struct fdc *f) { result1(f, 0x90); }

static void cmd_dumpreg(struct fdc *f)
{
    memcpy(f->res, f->pcn, 4);
    f->res[4] = f->specify[0];
    f->res[5] = f->specify[1];
    f->res[6] = f->eot_sc;
    f->res[7] = (uint8_t)(f->lock << 7 | (f->perp & 0x3F));
    f->res[8] = f->config & 0x7F;
    f->res[9] = f->pretrk;
    result_now(f, 10);
}

static void cmd_configure(struct fdc *f)
{
    f->config = f->cmd[2] & 0x7F;
    f->pretrk = f->cmd[3];
    f->phase = PH_IDLE;
}

/* OW (bit 7) lets D3-D0 change; GAP and WGATE always do. */
static void cmd_perpendicular(struct fdc *f)
{
    uint8_t v = f->cmd[1];
    uint8_t keep = (v & 0x80) ? 0 : (f->perp & 0x3C);
    f->perp = (uint8_t)(keep | (v & ((v & 0x80) ? 0x3F : 0x03)));
    f->phase = PH_IDLE;
}

static void cmd_lock(struct fdc *f)
{
    f->lock = f->cmd[0] >> 7;
    result1(f, (uint8_t)(f->lock << 4));
}

/* ---- reset ---- */

/* What DOR reset and DSR software reset clear; drives keep their heads. */
static void enter_reset(struct fdc *f)
{
    f->phase = PH_RESET;
    f->ev = EV_NONE;
    f->cmd_due = VCLOCK_NEVER;
    f->pio = PIO_NONE;
    f->cmd_pos = f->cmd_len = f->res_pos = f->res_len = 0;
    f->buf_pos = f->buf_len = 0;
    f->int_pending = 0;
    f->reset_sense = 0;
    for (int ds = 0; ds < 4; ds++) {
        f->pcn[ds] = 0;
        f->seek_state[ds] = SEEK_NONE;
        f->seek_due[ds] = VCLOCK_NEVER;
    }
    if (!f->lock) {
        f->config = CFG_DEFAULT;
        f->pretrk = 0;
    }
    f->perp &= 0x3C;
    rearm(f);
    update_irq(f);
}

static void leave_reset(struct fdc *f)
{
    schedule(f, EV_RESET, FDC_RESET_NS);
}

void fdc_reset(void *dev)
{
    struct fdc *f = dev;
    f->dor = 0;   /* the chip stays in reset until the guest sets nRESET */
    f->tdr = 0;
    f->dsr = 2;   /* 250 kbit/s */
    f->lock = 0;
    f->perp = 0;
    f->specify[0] = f->specify[1] = 0;
    f->eot_sc = 0;
    memset(f->cmd, 0, sizeof f->cmd);
    memset(f->res, 0, sizeof f->res);
    memset(f->buf, 0, sizeof f->buf);
    f->cur_ds = f->cur_hd = f->cur_c = f->cur_h = f->cur_r = f->cur_n = 0;
    f->st1 = f->st2 = f->count = 0;
    memset(f->seek_st0, 0, sizeof f->seek_st0);
    enter_reset(f);
}

/* ---- timer and interrupt ---- */

static void update_irq(struct fdc *f)
{
    int level = f->int_pending || (f->phase == PH_EXEC && f->pio != PIO_NONE);
    irq_set(&f->irq, level);
}

static void rearm(struct fdc *f)
{
    uint64_t t = f->cmd_due;
    for (int ds = 0; ds < 4; ds++)
        if (f->seek_due[ds] < t)
            t = f->seek_due[ds];
    if (t == VCLOCK_NEVER)
        timer_cancel(&f->timer);
    else
        timer_arm(&f->timer, t);
}

static void fdc_timer(void *opaque)
{
    struct fdc *f = opaque;
    uint64_t now = vclock_now(f->clock);
    for (int ds = 0; ds < 4; ds++) {
        if (f->seek_due[ds] <= now) {
            f->seek_due[ds] = VCLOCK_NEVER;
            f->seek_state[ds] = SEEK_ENDED;
            f->int_pending = 1;
        }
    }
    if (f->cmd_due <= now) {
        int ev = f->ev;
        f->cmd_due = VCLOCK_NEVER;
        f->ev = EV_NONE;
        if (ev == EV_RESET) {
            f->phase = PH_IDLE;
            f->int_pending = 1;
            f->reset_sense = (f->config & CFG_POLL_OFF) ? 0x01 : 0x0F;
        } else if (ev == EV_EXEC) {
            exec_data(f);
        } else if (ev == EV_RESULT) {
            result_now(f, f->res_len);
            f->int_pending = 1;
        }
    }
    rearm(f);
    update_irq(f);
}

/* ---- ports ---- */

static uint8_t msr(const struct fdc *f)
{
    uint8_t v = 0;
    for (int ds = 0; ds < 4; ds++)
        if (f->seek_state[ds] != SEEK_NONE)
            v |= (uint8_t)(1 << ds);
    switch (f->phase) {
    case PH_RESET: return 0;
    case PH_IDLE: return v | FDC_MSR_RQM;
    case PH_COMMAND: return v | FDC_MSR_RQM | FDC_MSR_CB;
    case PH_RESULT: return v | FDC_MSR_RQM | FDC_MSR_DIO | FDC_MSR_CB;
    default:
        v |= FDC_MSR_CB;
        if (f->pio != PIO_NONE)
            v |= FDC_MSR_RQM | FDC_MSR_NDMA | (f->pio == PIO_IN ? FDC_MSR_DIO : 0);
        return v;
    }
}

static uint8_t fifo_read(struct fdc *f)
{
    uint8_t v = 0xFF;
    if (f->phase == PH_RESULT) {
        v = f->res[f->res_pos++];
        f->int_pending = 0;
        if (f->res_pos >= f->res_len)
            f->phase = PH_IDLE;
    } else if (f->phase == PH_EXEC && f->pio == PIO_IN) {
        v = f->buf[f->buf_pos++];
        if (f->buf_pos >= f->buf_len)
            pio_sector_done(f);
    }
    update_irq(f);
    return v;
}

static void run_command(struct fdc *f)
{
    const struct fdc_cmd *c = find_cmd(f->cmd[0]);
    if (f->cmd[0] != 0x08)
        f->reset_sense = 0;   /* other commands drop the unread reset statuses */
    c->run(f);
}

static void fifo_write(struct fdc *f, uint8_t v)
{
    if (f->phase == PH_IDLE) {
        const struct fdc_cmd *c = find_cmd(v);
        f->cmd[0] = v;
        f->cmd_pos = 1;
        if (!c) {
            result1(f, FDC_ST0_INVALID);
            return;
        }
        f->cmd_len = c->len;
        f->phase = PH_COMMAND;
    } else if (f->phase == PH_COMMAND) {
        f->cmd[f->cmd_pos++] = v;
    } else if (f->phase == PH_EXEC && f->pio == PIO_OUT) {
        f->buf[f->buf_pos++] = v;
        if (f->buf_pos >= f->buf_len) {
            if (cur_kind(f) == K_FORMAT)
                pio_format_done(f);
            else
                pio_sector_done(f);
        }
        update_irq(f);
        return;
    } else {
        return;
    }
    if (f->cmd_pos >= f->cmd_len)
        run_command(f);
    update_irq(f);
}

static void dor_write(struct fdc *f, uint8_t v)
{
    uint8_t old = f->dor;
    f->dor = v;
    if ((old & FDC_DOR_NRESET) && !(v & FDC_DOR_NRESET))
        enter_reset(f);
    else if (!(old & FDC_DOR_NRESET) && (v & FDC_DOR_NRESET))
        leave_reset(f);
}

static uint32_t fdc_read(void *dev, uint32_t offset, int size)
{
    struct fdc *f = dev;
    (void)size;
    switch (offset) {
    case FDC_DOR: return f->dor;
    case FDC_TDR: return f->tdr & 3;
    case FDC_MSR: return msr(f);
    case FDC_FIFO: return fifo_read(f);
    case FDC_DIR: {
        int ds = f->dor & FDC_DOR_SEL;
        return ds < FDC_DRIVES && f->drive_type[ds] && f->changed[ds] ? FDC_DIR_DSKCHG : 0;
    }
    default: return 0xFF;
    }
}

static void fdc_write(void *dev, uint32_t offset, uint32_t value, int size)
{
    struct fdc *f = dev;
    uint8_t v = (uint8_t)value;
    (void)size;
    switch (offset) {
    case FDC_DOR: dor_write(f, v); break;
    case FDC_TDR: f->tdr = v & 3; break;
    case FDC_DSR:
        f->dsr = v & 0x1F;
        if ((v & FDC_DSR_SWRESET) && (f->dor & FDC_DOR_NRESET)) {
            enter_reset(f);
            leave_reset(f);
        }
        break;
    case FDC_FIFO: fifo_write(f, v); break;
    case FDC_CCR: f->dsr = (uint8_t)((f->dsr & ~3) | (v & 3)); break;
    default: break;
    }
}

const struct bus_ops fdc_bus_ops = { fdc_read, fdc_write, 1 };

/* ---- drives and media ---- */

void fdc_set_drive_type(struct fdc *f, int drive, int type)
{
    if (drive < 0 || drive >= FDC_DRIVES)
        return;
    f->drive_type[drive] = (uint8_t)type;
    if (type == FDC_TYPE_NONE)
        f->blk[drive] = NULL;
}

int fdc_insert(struct fdc *f, int drive, struct blockdev *b)
{
    if (drive < 0 || drive >= FDC_DRIVES || !b)
        return -1;
    for (unsigned i = 0; i < sizeof media_table / sizeof media_table[0]; i++) {
        const struct fdc_media *m = &media_table[i];
        if (b->size != m->size)
            continue;
        if (f->drive_type[drive] == FDC_TYPE_NONE)
            f->drive_type[drive] = FDC_TYPE_1M44;
        if (m->type == FDC_TYPE_2M88)
            f->drive_type[drive] = FDC_TYPE_2M88;
        f->blk[drive] = b;
        f->spt[drive] = m->spt;
        f->media_rate[drive] = m->rate;
        f->changed[drive] = 1;
        return 0;
    }
    return -1;
}

void fdc_eject(struct fdc *f, int drive)
{
    if (drive < 0 || drive >= FDC_DRIVES)
        return;
    f->blk[drive] = NULL;
    f->changed[drive] = 1;
}

int fdc_cmos_type(const struct fdc *f, int drive)
{
    return drive >= 0 && drive < FDC_DRIVES ? f->drive_type[drive] : 0;
}

/* ---- life cycle ---- */

void fdc_init(struct fdc *f, struct vclock *clock, struct dma *dma, int dma_channel)
{
    memset(f, 0, sizeof *f);
    f->clock = clock;
    f->dma = dma;
    f->dma_channel = dma_channel;
    timer_init(&f->timer, clock, fdc_timer, f);
    f->drive_type[0] = FDC_TYPE_1M44;
    for (int d = 0; d < FDC_DRIVES; d++)
        f->changed[d] = 1;   /* active from power-on until a step with a disk */
    fdc_reset(f);
}

/* Refuses values the code would index out of range with. */
static int fdc_post_load(void *dev)
{
    struct fdc *f = dev;
    if (f->phase > PH_RESULT || f->ev > EV_RESULT || f->pio > PIO_OUT ||
        f->cmd_len > sizeof f->cmd || f->cmd_pos > f->cmd_len ||
        f->res_len > sizeof f->res || f->res_pos > f->res_len ||
        f->buf_len > sizeof f->buf || f->buf_pos > f->buf_len || f->cur_ds > 3)
        return -1;
    if (f->phase == PH_COMMAND || f->phase == PH_EXEC) {
        const struct fdc_cmd *c = find_cmd(f->cmd[0]);
        if (!c || f->cmd_len != c->len)
            return -1;
    }
    if ((f->phase == PH_COMMAND && f->cmd_pos >= f->cmd_len) ||
        (f->phase == PH_RESULT && f->res_pos >= f->res_len))
        return -1;
    if (f->phase == PH_EXEC && f->pio != PIO_NONE && f->buf_pos >= f->buf_len)
        return -1;
    for (int ds = 0; ds < 4; ds++)
        if (f->seek_state[ds] > SEEK_ENDED)
            return -1;
    rearm(f);
    update_irq(f);
    return 0;
}

#define F8(x) STATE_U8(struct fdc, x)
#define A8(x, n) STATE_U8_ARRAY(struct fdc, x, n)
static const struct state_field fdc_fields[] = {
    F8(dor), F8(tdr), F8(dsr), F8(phase), A8(cmd, 9), F8(cmd_len), F8(cmd_pos),
    A8(res, 10), F8(res_len), F8(res_pos), A8(buf, FDC_SECTOR_SIZE),
    STATE_U16(struct fdc, buf_len), STATE_U16(struct fdc, buf_pos), F8(pio),
    F8(cur_ds), F8(cur_hd), F8(cur_c), F8(cur_h), F8(cur_r), F8(cur_n),
    F8(st1), F8(st2), F8(count), F8(int_pending), F8(reset_sense), F8(ev),
    STATE_U64(struct fdc, cmd_due), A8(specify, 2), F8(config), F8(pretrk), F8(lock),
    F8(perp), F8(eot_sc), A8(pcn, 4), A8(seek_state, 4), A8(seek_st0, 4),
    STATE_U64_ARRAY(struct fdc, seek_due, 4), A8(track, FDC_DRIVES), A8(head, FDC_DRIVES),
    A8(sector, FDC_DRIVES), A8(changed, FDC_DRIVES),
    STATE_END
};

const struct device_ops fdc_device_ops = {
    .name = "i82077",
    .version = 1,
    .fields = fdc_fields,
    .reset = fdc_reset,
    .post_load = fdc_post_load,
    .destroy = NULL,
};
