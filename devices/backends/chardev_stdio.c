/* Character backend "stdio" (POSIX termios): output to stdout, input polled
 * from stdin. When stdin is a terminal it is put in raw mode (no echo, no
 * line editing, no signals from keys: Ctrl-C goes to the guest), restored on
 * close, at exit and on SIGINT/SIGTERM/SIGHUP/SIGQUIT. Escapes (tty only):
 * Ctrl-A x quits (sets quit_requested), Ctrl-A Ctrl-A sends Ctrl-A, Ctrl-A h
 * prints help. Piped input passes through untouched. */
#include "devices/backends/chardev.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define ESCAPE_CHAR 0x01 /* Ctrl-A */

/* The terminal is process-wide host state, not machine state, and must be
 * restored from atexit and signal handlers, which take no argument: the one
 * place in the project with file-scope mutable state. */
static struct termios saved_tio;
static volatile sig_atomic_t tio_saved;
static int stdio_in_use;

struct chardev_stdio {
    struct chardev base;
    int tty;     /* stdin is a terminal in raw mode: escapes apply */
    int escape;  /* the previous input byte was the escape character */
    int eof;     /* stdin reached end of file: stop polling */
    int has_held; /* one filtered byte did not fit the caller's buffer */
    uint8_t held;
};

static void restore_tty(void)
{
    if (tio_saved) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
        tio_saved = 0;
    }
}

static void on_signal(int sig)
{
    restore_tty();              /* tcsetattr is async-signal-safe */
    signal(sig, SIG_DFL);
    raise(sig);
}

static void catch_signals(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
    for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        struct sigaction old, sa;
        /* Leave handlers a front end installed alone; it must restore itself. */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
            memset(&sa, 0, sizeof(sa));
            sa.sa_handler = on_signal;
            sigemptyset(&sa.sa_mask);
            sigaction(sigs[i], &sa, NULL);
        }
    }
}

static int enter_raw_mode(void)
{
    static int atexit_done;
    struct termios raw;
    if (tcgetattr(STDIN_FILENO, &saved_tio) != 0)
        return -1;
    raw = saved_tio;
    raw.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    raw.c_cflag = (raw.c_cflag & ~(tcflag_t)(CSIZE | PARENB)) | CS8;
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    /* Output processing stays on, so a guest's bare "\n" still starts a line. */
    tio_saved = 1;
    if (!atexit_done && atexit(restore_tty) == 0)
        atexit_done = 1;
    catch_signals();
    return tcsetattr(STDIN_FILENO, TCSANOW, &raw);
}

static size_t stdio_write(struct chardev *c, const uint8_t *buf, size_t n)
{
    size_t done = 0;
    (void)c;
    while (done < n) {
        ssize_t r = write(STDOUT_FILENO, buf + done, n - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    return done;
}

static void print_help(void)
{
    static const char help[] = "\r\n[softvisor] Ctrl-A x: quit   Ctrl-A Ctrl-A: send Ctrl-A"
                               "   Ctrl-A h: this help\r\n";
    if (write(STDERR_FILENO, help, sizeof(help) - 1) < 0)
        return;
}

static void put_byte(struct chardev_stdio *s, uint8_t *buf, size_t max, size_t *out, uint8_t ch)
{
    if (*out < max) {
        buf[(*out)++] = ch;
    } else {            /* at most one byte: the Ctrl-A of a non-escape pair */
        s->held = ch;
        s->has_held = 1;
    }
}

/* Filters escapes out of n raw bytes into buf (room for max); returns the count. */
static size_t filter_escapes(struct chardev_stdio *s, const uint8_t *raw, size_t n,
                             uint8_t *buf, size_t max)
{
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = raw[i];
        if (!s->escape && ch == ESCAPE_CHAR) {
            s->escape = 1;
            continue;
        }
        if (s->escape) {
            s->escape = 0;
            if (ch == 'x' || ch == 'X') {
                s->base.quit_requested = 1;
                continue;
            }
            if (ch == 'h' || ch == 'H' || ch == '?') {
                print_help();
                continue;
            }
            if (ch != ESCAPE_CHAR)
                put_byte(s, buf, max, &out, ESCAPE_CHAR); /* not an escape: pass both */
        }
        put_byte(s, buf, max, &out, ch);
    }
    return out;
}

static size_t stdio_read(struct chardev *c, uint8_t *buf, size_t max)
{
    struct chardev_stdio *s = (struct chardev_stdio *)c;
    struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
    uint8_t raw[256];
    size_t out = 0;
    if (s->has_held) {
        buf[out++] = s->held;
        s->has_held = 0;
    }
    if (out == max || s->eof || poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
        return out;
    size_t want = max - out < sizeof(raw) ? max - out : sizeof(raw);
    ssize_t r = read(STDIN_FILENO, raw, want);
    if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
        s->eof = 1;
    if (r <= 0)
        return out;
    if (!s->tty) {
        memcpy(buf + out, raw, (size_t)r);
        return out + (size_t)r;
    }
    return out + filter_escapes(s, raw, (size_t)r, buf + out, max - out);
}

static void stdio_close(struct chardev *c)
{
    restore_tty();
    stdio_in_use = 0;
    free(c);
}

static const struct chardev_ops stdio_ops = { "stdio", stdio_write, stdio_read, stdio_close };

struct chardev *chardev_stdio_open(char *err, size_t errlen)
{
    if (stdio_in_use) {
        chardev_error(err, errlen, "stdio: already used by another serial port or console");
        return NULL;
    }
    struct chardev_stdio *s = calloc(1, sizeof(*s));
    if (!s) {
        chardev_error(err, errlen, "stdio: out of memory");
        return NULL;
    }
    s->base.ops = &stdio_ops;
    if (isatty(STDIN_FILENO)) {
        if (enter_raw_mode() != 0) {
            restore_tty();
            free(s);
            chardev_error(err, errlen, "stdio: cannot set the terminal to raw mode: %s", strerror(errno));
            return NULL;
        }
        s->tty = 1;
    }
    stdio_in_use = 1;
    return &s->base;
}
