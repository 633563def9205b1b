/* Character backends: spec parsing and its errors, null, file, memory, TCP
 * and UNIX sockets on loopback in both directions, stdio (exclusive; raw mode
 * and Ctrl-A escapes on a pseudo-terminal). */
#define _XOPEN_SOURCE 700 /* posix_openpt, grantpt, unlockpt, ptsname */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "devices/backends/chardev.h"

static void sleep_ms(int ms)
{
    struct timespec ts = { 0, ms * 1000000L };
    nanosleep(&ts, NULL);
}

/* Polls the backend until n bytes arrived or ~2 s passed. */
static size_t read_all(struct chardev *c, uint8_t *buf, size_t n)
{
    size_t got = 0;
    for (int i = 0; i < 400 && got < n; i++) {
        size_t r = chardev_read(c, buf + got, n - got);
        got += r;
        if (!r)
            sleep_ms(5);
    }
    return got;
}

static size_t recv_all(int fd, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 2000) <= 0)
            break;
        ssize_t r = recv(fd, buf + got, n - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

static void expect_error(const char *spec, const char *fragment)
{
    char err[256] = "";
    struct chardev *c = chardev_open(spec, err, sizeof(err));
    ck_assert_msg(c == NULL, "%s: opened", spec);
    ck_assert_msg(strstr(err, fragment) != NULL, "%s: error '%s' lacks '%s'", spec, err, fragment);
    ck_assert_msg(strchr(err, '\n') == NULL, "%s: error is not one line", spec);
}

START_TEST(test_spec_errors)
{
    char long_path[200], regular[64];
    expect_error("", "empty");
    expect_error("bogus", "bogus: unknown character backend");
    expect_error("serial:foo", "unknown character backend");
    expect_error("file:", "missing PATH");
    expect_error("unix:", "missing PATH");
    expect_error("tcp:", "expected tcp:HOST:PORT");
    expect_error("tcp:localhost", "expected tcp:HOST:PORT");
    expect_error("tcp:127.0.0.1:", "expected tcp:HOST:PORT");
    expect_error("tcp:127.0.0.1:99999", "bad port");
    expect_error("tcp:127.0.0.1:12ab", "bad port");
    expect_error("tcp:no.such.host.invalid:4000", "cannot resolve");
    expect_error("file:/nonexistent-softvisor-dir/out.txt", "file:/nonexistent-softvisor-dir/out.txt: cannot open");
    memset(long_path, 'a', sizeof(long_path));
    memcpy(long_path, "unix:/tmp/", 10);
    long_path[sizeof(long_path) - 1] = 0;
    expect_error(long_path, "path too long");
    snprintf(regular, sizeof(regular), "/tmp/sv-chardev-reg-%d", (int)getpid());
    FILE *fp = fopen(regular, "w");
    ck_assert_ptr_nonnull(fp);
    fclose(fp);
    char spec[80];
    snprintf(spec, sizeof(spec), "unix:%s", regular);
    expect_error(spec, "exists and is not a socket");
    unlink(regular);
    /* a NULL error buffer is allowed */
    ck_assert_ptr_null(chardev_open("bogus", NULL, 0));
}
END_TEST

START_TEST(test_null)
{
    char err[128];
    struct chardev *c = chardev_open("null", err, sizeof(err));
    uint8_t buf[4];
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->ops->kind, "null");
    ck_assert_uint_eq(chardev_write(c, "abc", 3), 3);
    ck_assert_uint_eq(chardev_read(c, buf, sizeof(buf)), 0);
    ck_assert_int_eq(chardev_quit_requested(c), 0);
    ck_assert_int_eq(chardev_socket_port(c), -1);
    chardev_close(c);
}
END_TEST

START_TEST(test_file)
{
    char path[64], spec[80], err[128];
    uint8_t data[300], back[400], buf[8];
    snprintf(path, sizeof(path), "/tmp/sv-chardev-file-%d", (int)getpid());
    snprintf(spec, sizeof(spec), "file:%s", path);
    FILE *fp = fopen(path, "w");  /* old contents are truncated */
    fputs("old contents that must go", fp);
    fclose(fp);
    struct chardev *c = chardev_open(spec, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(c->ops->kind, "file");
    for (int i = 0; i < 300; i++)
        data[i] = (uint8_t)(i * 7);
    ck_assert_uint_eq(chardev_write(c, data, 100), 100);
    ck_assert_uint_eq(chardev_write(c, data + 100, 200), 200);
    ck_assert_uint_eq(chardev_read(c, buf, sizeof(buf)), 0);
    chardev_close(c);
    fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    size_t n = fread(back, 1, sizeof(back), fp);
    fclose(fp);
    ck_assert_uint_eq(n, 300);
    ck_assert_mem_eq(back, data, 300);
    unlink(path);
}
END_TEST

START_TEST(test_mem)
{
    char err[64];
    struct chardev *c = chardev_open("mem", err, sizeof(err));
    uint8_t buf[300], big[1000];
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(chardev_read(c, buf, sizeof(buf)), 0);
    chardev_mem_push(c, "hello", 5);
    chardev_mem_push(c, " world", 6);
    ck_assert_uint_eq(chardev_read(c, buf, 3), 3);
    ck_assert_mem_eq(buf, "hel", 3);
    ck_assert_uint_eq(chardev_read(c, buf, sizeof(buf)), 8);
    ck_assert_mem_eq(buf, "lo world", 8);
    for (int i = 0; i < 1000; i++)
        big[i] = (uint8_t)i;
    ck_assert_uint_eq(chardev_write(c, big, 1000), 1000);
    ck_assert_uint_eq(chardev_mem_pending_output(c), 1000);
    ck_assert_uint_eq(chardev_mem_take(c, buf, 300), 300);
    ck_assert_mem_eq(buf, big, 300);
    ck_assert_uint_eq(chardev_mem_take(c, buf, 300), 300);
    ck_assert_mem_eq(buf, big + 300, 300);
    ck_assert_uint_eq(chardev_mem_pending_output(c), 400);
    chardev_close(c);
}
END_TEST

static int tcp_connect(int port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static int unix_connect(const char *path)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* Both directions through a connected client, then hang-up handling. */
static void round_trip(struct chardev *c, int fd)
{
    uint8_t buf[64];
    for (int i = 0; i < 400 && !chardev_socket_connected(c); i++)
        sleep_ms(5);
    ck_assert_int_eq(chardev_socket_connected(c), 1);
    ck_assert_int_eq(send(fd, "from client\x01\xff", 13, 0), 13);
    ck_assert_uint_eq(read_all(c, buf, 13), 13);
    ck_assert_mem_eq(buf, "from client\x01\xff", 13);
    ck_assert_uint_eq(chardev_write(c, "from guest\0!", 12), 12);
    ck_assert_uint_eq(recv_all(fd, buf, 12), 12);
    ck_assert_mem_eq(buf, "from guest\0!", 12);
    close(fd);
    /* the hang-up is noticed on the next read; then it listens again */
    for (int i = 0; i < 400 && chardev_socket_connected(c); i++) {
        chardev_read(c, buf, sizeof(buf));
        sleep_ms(1);
    }
    ck_assert_int_eq(chardev_socket_connected(c), 0);
    ck_assert_uint_eq(chardev_write(c, "lost", 4), 0); /* nobody listening: dropped */
}

START_TEST(test_tcp)
{
    char err[128];
    uint8_t buf[8];
    struct chardev *c = chardev_open("tcp:127.0.0.1:0", err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(c->ops->kind, "tcp");
    int port = chardev_socket_port(c);
    ck_assert_int_gt(port, 0);
    ck_assert_int_eq(chardev_socket_connected(c), 0);
    ck_assert_uint_eq(chardev_read(c, buf, sizeof(buf)), 0);
    round_trip(c, tcp_connect(port));
    round_trip(c, tcp_connect(port));    /* a second client after the first left */
    /* the port is busy while we listen */
    char spec[64];
    snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%d", port);
    ck_assert_ptr_null(chardev_open(spec, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "cannot listen"));
    chardev_close(c);
    /* [v6] syntax and empty host parse */
    c = chardev_open("tcp::0", err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    chardev_close(c);
}
END_TEST

START_TEST(test_unix)
{
    char path[64], spec[80], err[160];
    struct stat st;
    snprintf(path, sizeof(path), "/tmp/sv-chardev-sock-%d", (int)getpid());
    snprintf(spec, sizeof(spec), "unix:%s", path);
    unlink(path);
    struct chardev *c = chardev_open(spec, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(c->ops->kind, "unix");
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISSOCK(st.st_mode));
    round_trip(c, unix_connect(path));
    round_trip(c, unix_connect(path));
    chardev_close(c);
    ck_assert_int_ne(lstat(path, &st), 0);  /* removed on close */
    /* a stale socket file left by a crashed run is replaced */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    c = chardev_open(spec, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    round_trip(c, unix_connect(path));
    chardev_close(c);
}
END_TEST

START_TEST(test_stdio_exclusive)
{
    char err[128];
    struct chardev *c = chardev_open("stdio", err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(c->ops->kind, "stdio");
    ck_assert_ptr_null(chardev_open("stdio", err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "already used"));
    chardev_close(c);
    c = chardev_open("stdio", err, sizeof(err));
    ck_assert_ptr_nonnull(c);
    chardev_close(c);
}
END_TEST

/* In a child whose stdin is a pseudo-terminal: raw mode on open, the Ctrl-A
 * escapes, restoring the terminal on close. Returns 0 when all held. */
static int stdio_tty_child(int master, int slave)
{
    char err[128];
    uint8_t buf[16];
    struct termios t;
    if (dup2(slave, STDIN_FILENO) < 0)
        return 1;
    struct chardev *c = chardev_open("stdio", err, sizeof(err));
    if (!c || tcgetattr(STDIN_FILENO, &t) != 0 || (t.c_lflag & (ICANON | ECHO | ISIG)))
        return 2;
    if (write(master, "a\x01\x01" "b\x01zc", 7) != 7)
        return 3;
    size_t n = read_all(c, buf, 6);
    if (n != 6 || memcmp(buf, "a\x01" "b\x01zc", 6) != 0 || chardev_quit_requested(c))
        return 4;
    /* one byte at a time: a non-escape pair still comes out whole */
    if (write(master, "\x01q", 2) != 2)
        return 5;
    n = 0;
    for (int i = 0; i < 400 && n < 2; i++) {
        size_t r = chardev_read(c, buf + n, 1);
        n += r;
        if (!r)
            sleep_ms(5);
    }
    if (n != 2 || buf[0] != 0x01 || buf[1] != 'q')
        return 6;
    if (write(master, "\x01", 1) != 1 || read_all(c, buf, 1) != 0)
        return 7; /* a lone Ctrl-A waits for the next key */
    if (write(master, "x", 1) != 1)
        return 9;
    for (int i = 0; i < 400 && !chardev_quit_requested(c); i++) {
        chardev_read(c, buf, sizeof(buf));
        sleep_ms(5);
    }
    if (!chardev_quit_requested(c))
        return 7;
    chardev_close(c);
    if (tcgetattr(STDIN_FILENO, &t) != 0 || !(t.c_lflag & ICANON) || !(t.c_lflag & ECHO))
        return 8;
    return 0;
}

START_TEST(test_stdio_tty)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    ck_assert_int_ge(master, 0);
    ck_assert_int_eq(grantpt(master), 0);
    ck_assert_int_eq(unlockpt(master), 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    ck_assert_int_ge(slave, 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(stdio_tty_child(master, slave));
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child step %d failed",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    close(slave);
    close(master);
}
END_TEST

Suite *chardev_suite(void)
{
    Suite *s = suite_create("chardev");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_spec_errors);
    tcase_add_test(tc, test_null);
    tcase_add_test(tc, test_file);
    tcase_add_test(tc, test_mem);
    tcase_add_test(tc, test_tcp);
    tcase_add_test(tc, test_unix);
    tcase_add_test(tc, test_stdio_exclusive);
    tcase_add_test(tc, test_stdio_tty);
    suite_add_tcase(s, tc);
    return s;
}
