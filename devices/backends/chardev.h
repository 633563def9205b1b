/* Host character backends: one small interface (write bytes, poll for input
 * at event boundaries, close) with several implementations. Guest models
 * (the UART) call only chardev_write/chardev_read; the board opens backends
 * from a spec string:
 *
 *   stdio           the terminal (raw mode when stdin is a tty; Ctrl-A x quits,
 *                   Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A h prints this help)
 *   null            discards output, never has input
 *   file:PATH       output to PATH (created/truncated), no input
 *   tcp:HOST:PORT   listen on HOST:PORT (empty HOST = all addresses, [v6] ok),
 *                   serve one client at a time, both directions
 *   unix:PATH       the same on a UNIX-domain socket at PATH
 *   mem             in-memory, for tests (chardev_mem_* below)
 *
 * All calls are nonblocking. Output that the host cannot take right now (no
 * client connected, socket buffer full) is dropped, as on a serial line
 * with no one listening. Host-specific (POSIX) code lives only in the
 * chardev_*.c files. */
#ifndef SV_CHARDEV_H
#define SV_CHARDEV_H
#include <stddef.h>
#include <stdint.h>

struct chardev;

struct chardev_ops {
    const char *kind;                                                /* "stdio", "tcp", ... */
    size_t (*write)(struct chardev *c, const uint8_t *buf, size_t n); /* bytes taken */
    size_t (*read)(struct chardev *c, uint8_t *buf, size_t max);      /* 0 = nothing now */
    void (*close)(struct chardev *c);                                 /* frees c */
};

struct chardev {
    const struct chardev_ops *ops;
    int quit_requested; /* stdio: the user typed the quit escape; the run loop checks */
};

/* Opens a backend from a spec (above). On error returns NULL and writes one
 * line, naming the spec and the problem, into err (if err is not NULL). */
struct chardev *chardev_open(const char *spec, char *err, size_t errlen);

size_t chardev_write(struct chardev *c, const void *buf, size_t n);
/* Polls for input: returns up to max bytes that are available now. */
size_t chardev_read(struct chardev *c, void *buf, size_t max);
void chardev_close(struct chardev *c);
static inline int chardev_quit_requested(const struct chardev *c) { return c && c->quit_requested; }

/* Constructors behind chardev_open, for callers that already hold the parts. */
struct chardev *chardev_null_open(void);
struct chardev *chardev_stdio_open(char *err, size_t errlen);
struct chardev *chardev_file_open(const char *path, char *err, size_t errlen);
struct chardev *chardev_tcp_open(const char *host, const char *port, char *err, size_t errlen);
struct chardev *chardev_unix_open(const char *path, char *err, size_t errlen);

/* Socket backends: the bound TCP port (useful after tcp:HOST:0), -1 for
 * other kinds; whether a client is connected right now (accepts first). */
int chardev_socket_port(struct chardev *c);
int chardev_socket_connected(struct chardev *c);

/* Memory backend for tests: input pushed here is returned by reads; output
 * written by the guest side accumulates until taken. */
struct chardev *chardev_mem_open(void);
void chardev_mem_push(struct chardev *c, const void *buf, size_t n);
/* Copies up to max bytes of pending output into buf, removes them, returns the count. */
size_t chardev_mem_take(struct chardev *c, void *buf, size_t max);
size_t chardev_mem_pending_output(const struct chardev *c);

/* Internal: formats an error line into err (used by the backends). */
void chardev_error(char *err, size_t errlen, const char *fmt, ...);

#endif
