/* Character backend "file:PATH" (POSIX): guest output goes to PATH, which is
 * created or truncated at open; there is never any input. */
#include "devices/backends/chardev.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct chardev_file {
    struct chardev base;
    int fd;
};

static size_t file_write(struct chardev *c, const uint8_t *buf, size_t n)
{
    struct chardev_file *f = (struct chardev_file *)c;
    size_t done = 0;
    while (done < n) {
        ssize_t r = write(f->fd, buf + done, n - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* disk full or similar: the bytes are lost */
        done += (size_t)r;
    }
    return done;
}

static size_t file_read(struct chardev *c, uint8_t *buf, size_t max)
{
    (void)c; (void)buf; (void)max;
    return 0;
}

static void file_close(struct chardev *c)
{
    struct chardev_file *f = (struct chardev_file *)c;
    close(f->fd);
    free(f);
}

static const struct chardev_ops file_ops = { "file", file_write, file_read, file_close };

struct chardev *chardev_file_open(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        chardev_error(err, errlen, "file:%s: cannot open for writing: %s", path, strerror(errno));
        return NULL;
    }
    struct chardev_file *f = calloc(1, sizeof(*f));
    if (!f) {
        close(fd);
        chardev_error(err, errlen, "file:%s: out of memory", path);
        return NULL;
    }
    f->base.ops = &file_ops;
    f->fd = fd;
    return &f->base;
}
