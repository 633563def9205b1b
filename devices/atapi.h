/* The ATAPI CD-ROM drive on an IDE channel (struct ata_drive of kind
 * ATA_KIND_CDROM): the PACKET protocol and the MMC command set, reading
 * 2048-byte sectors of an ISO image through the block backend. The board
 * attaches it with ata_attach_cdrom and changes discs with
 * atapi_change_media. */
#ifndef SV_ATAPI_H
#define SV_ATAPI_H
#include "devices/ata.h"

#define ATAPI_SECTOR_SIZE 2048

/* SCSI sense keys */
#define SENSE_NONE            0x00
#define SENSE_NOT_READY       0x02
#define SENSE_MEDIUM_ERROR    0x03
#define SENSE_ILLEGAL_REQUEST 0x05
#define SENSE_UNIT_ATTENTION  0x06

/* Inserts a disc (blk) or empties the drive (NULL), as a user at the host
 * would: the next command reports UNIT ATTENTION 28h/00h (medium may have
 * changed) once, and GET EVENT STATUS reports the media event. */
void atapi_change_media(struct ata_drive *cd, struct blockdev *blk);

/* Called by ata.c */
void atapi_command(struct ata_drive *d);    /* command register written */
void atapi_exec(struct ata_drive *d);       /* an ATA command after its latency */
void atapi_packet(struct ata_drive *d);     /* the CDB has arrived */
void atapi_next(struct ata_drive *d);       /* next DRQ block or completion */
void atapi_block_done(struct ata_drive *d); /* the host moved a DRQ block */
void atapi_dma_run(struct ata_drive *d);    /* the bus master is ready */
void atapi_soft_reset(struct ata_drive *d);
void atapi_power_on(struct ata_drive *d);

#endif
