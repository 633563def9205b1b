/* An IDE (ATA) channel with two drives: the task-file registers, the
 * protocols (PIO in/out, DMA through a bus master, PACKET), and the ATA disk.
 * The ATAPI CD-ROM's command set lives in atapi.c on the same drive struct.
 * The board maps ata_cmd_ops (8 ports: 0x1F0 on a PC) and ata_ctrl_ops
 * (1 port: 0x3F6) and connects `irq` (INTRQ: IRQ14/15); a bus master (PIIX
 * IDE function) attaches itself with ata_attach_dma. */
#ifndef SV_ATA_H
#define SV_ATA_H
#include <stdint.h>
#include "devices/bus.h"
#include "devices/irq.h"
#include "devices/vclock.h"
#include "devices/device.h"

struct blockdev;

/* Command block register offsets */
#define ATA_REG_DATA     0
#define ATA_REG_ERROR    1   /* read; FEATURES on write */
#define ATA_REG_NSECTOR  2
#define ATA_REG_SECTOR   3   /* LBA low */
#define ATA_REG_LCYL     4   /* LBA mid / byte count low */
#define ATA_REG_HCYL     5   /* LBA high / byte count high */
#define ATA_REG_SELECT   6   /* device/head */
#define ATA_REG_STATUS   7   /* read; COMMAND on write */

/* Status */
#define ATA_ST_BSY  0x80
#define ATA_ST_DRDY 0x40
#define ATA_ST_DF   0x20
#define ATA_ST_DSC  0x10
#define ATA_ST_DRQ  0x08
#define ATA_ST_ERR  0x01
/* Error */
#define ATA_ER_ICRC 0x80
#define ATA_ER_UNC  0x40
#define ATA_ER_IDNF 0x10
#define ATA_ER_ABRT 0x04
/* Device control */
#define ATA_CTL_NIEN 0x02
#define ATA_CTL_SRST 0x04
#define ATA_CTL_HOB  0x80
/* Device/head */
#define ATA_SEL_LBA  0x40
#define ATA_SEL_DEV  0x10

/* Interrupt reason (sector count register) during PACKET commands */
#define ATAPI_IR_COD 0x01
#define ATAPI_IR_IO  0x02

#define ATA_SECTOR_SIZE 512
#define ATA_BUF_SIZE    (32 * 1024)   /* 64 disk sectors or 16 CD sectors */
#define ATA_MAX_MULT    16            /* READ/WRITE MULTIPLE block limit */
/* Virtual-time latencies: deterministic, small, fixed. */
#define ATA_CMD_NS      10000u        /* command start to completion / DRQ */
#define ATA_BLOCK_NS    2000u         /* between PIO data blocks */
#define ATA_RESET_NS    50000u        /* SRST released to BSY clear */

enum ata_kind { ATA_KIND_NONE, ATA_KIND_DISK, ATA_KIND_CDROM };

/* What a drive's timer does when it fires. */
enum ata_pending {
    ATA_P_NONE,
    ATA_P_EXEC,        /* run the command (or load the next PIO read block) */
    ATA_P_WRITE,       /* commit the PIO block the host wrote */
    ATA_P_DMA,         /* bus master started: run the DMA transfer */
    ATA_P_RESET,       /* soft reset done: signature, BSY off */
    ATA_P_DIAG,        /* EXECUTE DEVICE DIAGNOSTIC done */
    ATA_P_PACKET,      /* run the CDB the host wrote */
    ATA_P_PKT_NEXT,    /* next ATAPI DRQ block, or completion */
};

struct ata_channel;

struct ata_drive {
    struct ata_channel *ch;      /* not saved */
    struct blockdev *blk;        /* not saved: configuration, reattached by the board */
    struct timer timer;          /* not saved: re-armed from deadline */
    uint8_t kind;                /* enum ata_kind (configuration) */
    uint8_t unit;                /* 0 master, 1 slave */
    /* the task file as this drive sees it (writes latch into both drives) */
    uint8_t error, feature, nsector, sector, lcyl, hcyl, select, status;
    uint8_t hob_feature, hob_nsector, hob_sector, hob_lcyl, hob_hcyl;  /* previous values (LBA48) */
    uint8_t irq_pending;         /* INTRQ requested; a Status read or a command clears it */
    /* the command in progress */
    uint8_t cmd;
    uint8_t pending;             /* enum ata_pending */
    uint64_t deadline;           /* timer deadline, VCLOCK_NEVER when idle */
    uint8_t dma_wait;            /* a DMA command waits for the bus master */
    uint8_t data_out;            /* the buffer is filled by the host (PIO out, CDB) */
    uint8_t fail;                /* error found when the command was written, reported at EXEC */
    uint64_t lba;                /* next sector (disk: 512, CD: 2048 bytes) */
    uint32_t remaining;          /* sectors still to transfer */
    uint32_t nsect_cur;          /* disk: sectors in the current DRQ block */
    uint32_t buf_pos, buf_end;   /* PIO cursor and end of data in buf */
    uint32_t drq_left;           /* ATAPI: bytes left in the current DRQ block */
    /* disk settings */
    uint16_t cyls, heads, sects; /* current CHS translation */
    uint8_t mult;                /* sectors per READ/WRITE MULTIPLE block; 0: disabled */
    uint8_t xfer_mode;           /* SET FEATURES 03h: 0x20|n MWDMA, 0x40|n UDMA */
    uint8_t wcache;              /* write cache enabled (else flush after writes) */
    uint8_t lookahead;
    /* ATAPI */
    uint8_t cdb[12];
    uint8_t sense_key, asc, ascq;
    uint8_t ua_pending;          /* UNIT ATTENTION to report: medium may have changed */
    uint8_t media_event;         /* GET EVENT STATUS media event code, 0 = none */
    uint8_t tray_open;
    uint8_t locked;              /* PREVENT ALLOW MEDIUM REMOVAL */
    uint8_t pkt_dma;             /* PACKET issued with the DMA feature bit */
    uint16_t byte_limit;         /* PACKET byte count limit (cylinder registers) */
    uint8_t buf[ATA_BUF_SIZE];
};

/* The bus master's side of a DMA transfer (piix_ide.c implements it). */
struct ata_dma_ops {
    /* Moves up to len bytes between buf and guest memory; returns the bytes
     * moved: fewer means the bus master stopped or its PRD table ran out. */
    uint32_t (*rw)(void *opaque, uint8_t *buf, uint32_t len, int to_memory);
    int (*active)(void *opaque);           /* started and not at the end of its table */
    void (*irq)(void *opaque, int level);  /* INTRQ changed */
};

struct ata_channel {
    struct ata_drive drive[2];
    struct vclock *clock;                  /* not saved */
    uint8_t index;                         /* channel number: only for serial numbers */
    uint8_t cur;                           /* selected drive (DEV bit) */
    uint8_t devctl;                        /* device control register */
    struct irq_line irq;                   /* INTRQ; the board connects it */
    const struct ata_dma_ops *dma;
    void *dma_opaque;
};

extern const struct bus_ops ata_cmd_ops;   /* command block, offsets 0-7 */
extern const struct bus_ops ata_ctrl_ops;  /* offset 0: alternate status / device control */
extern const struct device_ops ata_device_ops;

void ata_init(struct ata_channel *ch, struct vclock *clock, int index);
/* Attaches a disk (0, or -1 if the image holds less than one sector) or a
 * CD-ROM drive (blk may be NULL: no disc) as unit 0 or 1; then reset. */
int ata_attach_disk(struct ata_channel *ch, int unit, struct blockdev *blk);
int ata_attach_cdrom(struct ata_channel *ch, int unit, struct blockdev *blk);
void ata_attach_dma(struct ata_channel *ch, const struct ata_dma_ops *ops, void *opaque);
/* The bus master was started: a waiting DMA command may go on. */
void ata_dma_start(struct ata_channel *ch);
void ata_reset(void *ch);                  /* power-on / hardware reset */

/* Disk geometry used by IDENTIFY for a size in sectors. */
void ata_default_chs(uint64_t sectors, uint16_t *cyls, uint16_t *heads, uint16_t *sects);

/* Shared with atapi.c */
void ata_schedule(struct ata_drive *d, uint32_t ns, int what);
void ata_raise_irq(struct ata_drive *d);
void ata_put_string(uint16_t *words, int first, int nwords, const char *s);
void ata_finish_identify(uint16_t *w, uint8_t *out);
void ata_set_signature(struct ata_drive *d);

#endif
