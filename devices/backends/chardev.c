/* Character backends: spec parsing, the common entry points, the null and
 * memory backends (see chardev.h). Portable C; the host-specific backends
 * are in chardev_stdio.c, chardev_file.c and chardev_socket.c. */
#include "devices/backends/chardev.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void chardev_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

size_t chardev_write(struct chardev *c, const void *buf, size_t n)
{
    return c && n ? c->ops->write(c, buf, n) : 0;
}

size_t chardev_read(struct chardev *c, void *buf, size_t max)
{
    return c && max ? c->ops->read(c, buf, max) : 0;
}

void chardev_close(struct chardev *c)
{
    if (c)
        c->ops->close(c);
}

/* tcp:HOST:PORT -- the port follows the last colon; HOST may be [v6]. */
static struct chardev *open_tcp(const char *spec, const char *arg, char *err, size_t errlen)
{
    const char *colon = strrchr(arg, ':');
    if (!colon || !colon[1]) {
        chardev_error(err, errlen, "%s: expected tcp:HOST:PORT", spec);
        return NULL;
    }
    size_t hl = (size_t)(colon - arg);
    char host[256];
    if (hl >= sizeof(host)) {
        chardev_error(err, errlen, "%s: host name too long", spec);
        return NULL;
    }
    if (hl >= 2 && arg[0] == '[' && arg[hl - 1] == ']') {
        memcpy(host, arg + 1, hl - 2);
        host[hl - 2] = 0;
    } else {
        memcpy(host, arg, hl);
        host[hl] = 0;
    }
    return chardev_tcp_open(host, colon + 1, err, errlen);
}

struct chardev *chardev_open(const char *spec, char *err, size_t errlen)
{
    if (!spec || !*spec) {
        chardev_error(err, errlen, "empty character backend spec "
                      "(expected stdio, null, file:PATH, tcp:HOST:PORT or unix:PATH)");
        return NULL;
    }
    if (strcmp(spec, "stdio") == 0)
        return chardev_stdio_open(err, errlen);
    if (strcmp(spec, "null") == 0)
        return chardev_null_open();
    if (strcmp(spec, "mem") == 0)
        return chardev_mem_open();
    if (strncmp(spec, "file:", 5) == 0 || strncmp(spec, "unix:", 5) == 0) {
        if (!spec[5]) {
            chardev_error(err, errlen, "%s: missing PATH", spec);
            return NULL;
        }
        return spec[0] == 'f' ? chardev_file_open(spec + 5, err, errlen)
                              : chardev_unix_open(spec + 5, err, errlen);
    }
    if (strncmp(spec, "tcp:", 4) == 0)
        return open_tcp(spec, spec + 4, err, errlen);
    chardev_error(err, errlen, "%s: unknown character backend "
                  "(expected stdio, null, file:PATH, tcp:HOST:PORT or unix:PATH)", spec);
    return NULL;
}

/* ---- null ---- */

static size_t null_write(struct chardev *c, const uint8_t *buf, size_t n)
{
    (void)c; (void)buf;
    return n;
}

static size_t null_read(struct chardev *c, uint8_t *buf, size_t max)
{
    (void)c; (void)buf; (void)max;
    return 0;
}

static void null_close(struct chardev *c)
{
    free(c);
}

static const struct chardev_ops null_ops = { "null", null_write, null_read, null_close };

struct chardev *chardev_null_open(void)
{
    struct chardev *c = calloc(1, sizeof(*c));
    if (c)
        c->ops = &null_ops;
    return c;
}

/* ---- memory, for tests ---- */

struct bytes {
    uint8_t *p;
    size_t len, cap;
};

struct chardev_mem {
    struct chardev base;
    struct bytes in, out;
};

static void bytes_append(struct bytes *b, const void *src, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p)
            return; /* out of memory: drop, like any full line */
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static size_t bytes_take(struct bytes *b, void *dst, size_t max)
{
    size_t n = b->len < max ? b->len : max;
    if (!n)
        return 0;
    memcpy(dst, b->p, n);
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
    return n;
}

static size_t mem_write(struct chardev *c, const uint8_t *buf, size_t n)
{
    bytes_append(&((struct chardev_mem *)c)->out, buf, n);
    return n;
}

static size_t mem_read(struct chardev *c, uint8_t *buf, size_t max)
{
    return bytes_take(&((struct chardev_mem *)c)->in, buf, max);
}

static void mem_close(struct chardev *c)
{
    struct chardev_mem *m = (struct chardev_mem *)c;
    free(m->in.p);
    free(m->out.p);
    free(m);
}

static const struct chardev_ops mem_ops = { "mem", mem_write, mem_read, mem_close };

struct chardev *chardev_mem_open(void)
{
    struct chardev_mem *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->base.ops = &mem_ops;
    return &m->base;
}

void chardev_mem_push(struct chardev *c, const void *buf, size_t n)
{
    if (c && c->ops == &mem_ops && n)
        bytes_append(&((struct chardev_mem *)c)->in, buf, n);
}

size_t chardev_mem_take(struct chardev *c, void *buf, size_t max)
{
    if (!c || c->ops != &mem_ops)
        return 0;
    return bytes_take(&((struct chardev_mem *)c)->out, buf, max);
}

size_t chardev_mem_pending_output(const struct chardev *c)
{
    if (!c || c->ops != &mem_ops)
        return 0;
    return ((const struct chardev_mem *)c)->out.len;
}
