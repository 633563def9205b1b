/* Block backends: what a disk, CD-ROM or floppy model reads and writes. The
 * device models know nothing of files; they see a size and byte-offset reads
 * and writes. Raw image files for now (block_raw.c); copy-on-write overlays
 * for snapshots come later behind the same interface. */
#ifndef SV_BLOCK_H
#define SV_BLOCK_H
#include <stddef.h>
#include <stdint.h>

struct blockdev;

struct block_ops {
    int (*read)(struct blockdev *b, uint64_t off, void *buf, size_t len);
    int (*write)(struct blockdev *b, uint64_t off, const void *buf, size_t len);
    int (*flush)(struct blockdev *b);
    void (*close)(struct blockdev *b);
};

struct blockdev {
    const struct block_ops *ops;
    uint64_t size;          /* bytes */
    int readonly;           /* writes fail; the file was opened read-only */
    char path[512];         /* for messages */
    int fd;                 /* raw backend */
};

/* Opens a raw image; readonly opens it O_RDONLY. Returns NULL and one line
 * in err ("disk.img: No such file or directory") on failure. */
struct blockdev *block_open_raw(const char *path, int readonly, char *err, size_t errlen);

/* 0 on success, -1 on an I/O error, a read-only device or a range past the end. */
int block_read(struct blockdev *b, uint64_t off, void *buf, size_t len);
int block_write(struct blockdev *b, uint64_t off, const void *buf, size_t len);
int block_flush(struct blockdev *b);
void block_close(struct blockdev *b);

#endif
