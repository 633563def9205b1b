/* Character backends "tcp:HOST:PORT" and "unix:PATH" (POSIX sockets): listen,
 * accept one client at a time without blocking (checked on every read and
 * write), pass bytes both ways. When the client hangs up the backend listens
 * again. Output with no client, or beyond what the socket buffer takes, is
 * dropped. The UNIX socket file is removed on close. */
#include "devices/backends/chardev.h"
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* macOS: SO_NOSIGPIPE is set on the client socket instead */
#endif

struct chardev_socket {
    struct chardev base;
    int listen_fd;
    int client_fd;      /* -1 while nobody is connected */
    int port;           /* TCP: the bound port; -1 for UNIX */
    char *unix_path;    /* UNIX: the socket file to remove on close */
};

static int set_nonblock_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void try_accept(struct chardev_socket *s)
{
    if (s->client_fd >= 0)
        return;
    int fd = accept(s->listen_fd, NULL, NULL);
    if (fd < 0)
        return;
    if (set_nonblock_cloexec(fd) < 0) {
        close(fd);
        return;
    }
#ifdef SO_NOSIGPIPE
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
#endif
    s->client_fd = fd;
}

static void drop_client(struct chardev_socket *s)
{
    close(s->client_fd);
    s->client_fd = -1;
}

static size_t sock_write(struct chardev *c, const uint8_t *buf, size_t n)
{
    struct chardev_socket *s = (struct chardev_socket *)c;
    size_t done = 0;
    try_accept(s);
    while (s->client_fd >= 0 && done < n) {
        ssize_t r = send(s->client_fd, buf + done, n - done, MSG_NOSIGNAL);
        if (r > 0) {
            done += (size_t)r;
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else {
            if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                drop_client(s);
            break;
        }
    }
    return done;
}

static size_t sock_read(struct chardev *c, uint8_t *buf, size_t max)
{
    struct chardev_socket *s = (struct chardev_socket *)c;
    try_accept(s);
    if (s->client_fd < 0)
        return 0;
    ssize_t r = recv(s->client_fd, buf, max, 0);
    if (r > 0)
        return (size_t)r;
    if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        drop_client(s); /* hung up: listen for the next client */
    return 0;
}

static void sock_close(struct chardev *c)
{
    struct chardev_socket *s = (struct chardev_socket *)c;
    if (s->client_fd >= 0)
        close(s->client_fd);
    close(s->listen_fd);
    if (s->unix_path) {
        unlink(s->unix_path);
        free(s->unix_path);
    }
    free(s);
}

static const struct chardev_ops tcp_ops = { "tcp", sock_write, sock_read, sock_close };
static const struct chardev_ops unix_ops = { "unix", sock_write, sock_read, sock_close };

static struct chardev *wrap(int fd, const struct chardev_ops *ops, int port, char *path)
{
    struct chardev_socket *s = calloc(1, sizeof(*s));
    if (!s) {
        close(fd);
        free(path);
        return NULL;
    }
    s->base.ops = ops;
    s->listen_fd = fd;
    s->client_fd = -1;
    s->port = port;
    s->unix_path = path;
    return &s->base;
}

static int parse_port(const char *port)
{
    char *end;
    if (!*port)
        return -1;
    long v = strtol(port, &end, 10);
    return (*end || v < 0 || v > 65535) ? -1 : (int)v;
}

/* Binds and listens on the first address of host:port that works. */
static int tcp_listen(const char *host, const char *port, char *msg, size_t msglen)
{
    struct addrinfo hints, *res, *ai;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(*host ? host : NULL, port, &hints, &res);
    if (rc != 0) {
        snprintf(msg, msglen, "cannot resolve host: %s", gai_strerror(rc));
        return -1;
    }
    int fd = -1, one = 1;
    snprintf(msg, msglen, "no usable address");
    for (ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1) < 0 ||
            set_nonblock_cloexec(fd) < 0) {
            snprintf(msg, msglen, "cannot listen: %s", strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

struct chardev *chardev_tcp_open(const char *host, const char *port, char *err, size_t errlen)
{
    char msg[160];
    if (parse_port(port) < 0) {
        chardev_error(err, errlen, "tcp:%s:%s: bad port (expected 0-65535)", host, port);
        return NULL;
    }
    int fd = tcp_listen(host, port, msg, sizeof(msg));
    if (fd < 0) {
        chardev_error(err, errlen, "tcp:%s:%s: %s", host, port, msg);
        return NULL;
    }
    struct chardev *c = wrap(fd, &tcp_ops, bound_port(fd), NULL);
    if (!c)
        chardev_error(err, errlen, "tcp:%s:%s: out of memory", host, port);
    return c;
}

struct chardev *chardev_unix_open(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    struct stat st;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        chardev_error(err, errlen, "unix:%s: path too long (at most %zu bytes)",
                      path, sizeof(sa.sun_path) - 1);
        return NULL;
    }
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            chardev_error(err, errlen, "unix:%s: exists and is not a socket", path);
            return NULL;
        }
        unlink(path); /* a stale socket from an earlier run */
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0), bound = 0;
    if (fd < 0 || !(bound = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) ||
        listen(fd, 1) < 0 || set_nonblock_cloexec(fd) < 0) {
        chardev_error(err, errlen, "unix:%s: cannot listen: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        if (bound)
            unlink(path);
        return NULL;
    }
    char *copy = malloc(strlen(path) + 1);
    if (copy)
        memcpy(copy, path, strlen(path) + 1);
    struct chardev *c = copy ? wrap(fd, &unix_ops, -1, copy) : NULL;
    if (!c) {
        if (!copy)
            close(fd);
        unlink(path);
        chardev_error(err, errlen, "unix:%s: out of memory", path);
    }
    return c;
}

int chardev_socket_port(struct chardev *c)
{
    if (!c || (c->ops != &tcp_ops && c->ops != &unix_ops))
        return -1;
    return ((struct chardev_socket *)c)->port;
}

int chardev_socket_connected(struct chardev *c)
{
    if (!c || (c->ops != &tcp_ops && c->ops != &unix_ops))
        return 0;
    struct chardev_socket *s = (struct chardev_socket *)c;
    try_accept(s);
    return s->client_fd >= 0;
}
