/* Raw image files as block devices (POSIX pread/pwrite). A read-only device
 * is opened O_RDONLY, so nothing can write it whatever the guest does. */
#include "devices/backends/block.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int raw_read(struct blockdev *b, uint64_t off, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(b->fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n; off += (uint64_t)n; len -= (size_t)n;
    }
    return 0;
}

static int raw_write(struct blockdev *b, uint64_t off, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = pwrite(b->fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n; off += (uint64_t)n; len -= (size_t)n;
    }
    return 0;
}

static int raw_flush(struct blockdev *b)
{
    return fsync(b->fd) == 0 || errno == EINVAL ? 0 : -1;
}

static void raw_close(struct blockdev *b)
{
    close(b->fd);
    free(b);
}

static const struct block_ops raw_ops = { raw_read, raw_write, raw_flush, raw_close };

struct blockdev *block_open_raw(const char *path, int readonly, char *err, size_t errlen)
{
    int fd = open(path, readonly ? O_RDONLY : O_RDWR);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
        snprintf(err, errlen, "%s: not a regular file or block device", path);
        close(fd);
        return NULL;
    }
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    struct blockdev *b = calloc(1, sizeof(*b));
    if (!b) {
        snprintf(err, errlen, "%s: out of memory", path);
        close(fd);
        return NULL;
    }
    b->ops = &raw_ops;
    b->fd = fd;
    b->size = (uint64_t)size;
    b->readonly = readonly;
    snprintf(b->path, sizeof(b->path), "%s", path);
    return b;
}

int block_read(struct blockdev *b, uint64_t off, void *buf, size_t len)
{
    if (off > b->size || len > b->size - off)
        return -1;
    return b->ops->read(b, off, buf, len);
}

int block_write(struct blockdev *b, uint64_t off, const void *buf, size_t len)
{
    if (b->readonly || off > b->size || len > b->size - off)
        return -1;
    return b->ops->write(b, off, buf, len);
}

int block_flush(struct blockdev *b)
{
    return b->readonly ? 0 : b->ops->flush(b);
}

void block_close(struct blockdev *b)
{
    if (b)
        b->ops->close(b);
}
