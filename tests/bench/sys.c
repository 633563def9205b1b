/* System-call and context-switch workload: getpid in a loop (bare privilege
 * transitions), a two-process ping-pong over a pair of pipes (every round
 * trip is two blocking reads, two wake-ups and two context switches), bulk
 * 4 KiB transfers through a pipe, and fork + exit + wait (page-table copies,
 * copy-on-write faults, process teardown, the scheduler). */
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define GETPIDS 20000
#define ROUND_TRIPS 1000
#define BULK_BLOCKS 64
#define FORKS 20

static void full_write(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t k = write(fd, c, n);
        if (k <= 0)
            _exit(3);
        c += k;
        n -= (size_t)k;
    }
}

static int full_read(int fd, void *p, size_t n)
{
    char *c = p;
    while (n) {
        ssize_t k = read(fd, c, n);
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

/* The child answers each 4-byte request x with x * 3 + 1, and sums the bytes
 * of bulk blocks (request 0xffffffff, then one block of 4096 bytes). */
static void child_loop(int in, int out)
{
    uint32_t x;
    static uint8_t block[4096];
    while (full_read(in, &x, 4) == 0) {
        if (x == 0xffffffffu) {
            if (full_read(in, block, sizeof block) != 0)
                break;
            uint32_t s = 0;
            for (size_t i = 0; i < sizeof block; i++)
                s += block[i];
            full_write(out, &s, 4);
        } else {
            x = x * 3 + 1;
            full_write(out, &x, 4);
        }
    }
    _exit(0);
}

static uint32_t one_rep(int to, int from, uint32_t salt)
{
    uint32_t h = 0, same = 0;
    long pid0 = syscall(SYS_getpid);
    for (int i = 0; i < GETPIDS; i++)
        same += syscall(SYS_getpid) == pid0;
    h = bench_mix(h, same);

    for (uint32_t i = 0; i < ROUND_TRIPS; i++) {
        uint32_t x = i ^ salt, y;
        full_write(to, &x, 4);
        if (full_read(from, &y, 4) != 0)
            return 0xbad;
        h = bench_mix(h, y);
    }

    static uint8_t block[4096];
    for (uint32_t b = 0; b < BULK_BLOCKS; b++) {
        uint32_t cmd = 0xffffffffu, s;
        for (size_t i = 0; i < sizeof block; i++)
            block[i] = (uint8_t)(i * b + salt);
        full_write(to, &cmd, 4);
        full_write(to, block, sizeof block);
        if (full_read(from, &s, 4) != 0)
            return 0xbad;
        h = bench_mix(h, s);
    }

    for (int i = 0; i < FORKS; i++) {
        pid_t p = fork();
        if (p == 0)
            _exit((int)((i * 7 + salt) & 0x7f));
        int st = 0;
        if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st))
            return 0xbad;
        h = bench_mix(h, (uint32_t)WEXITSTATUS(st));
    }
    return h;
}

int main(int argc, char **argv)
{
    int reps = bench_reps(argc, argv, 60);
    int down[2], up[2];
    uint64_t t0 = bench_now_ms();
    if (pipe(down) != 0 || pipe(up) != 0)
        return 1;
    pid_t child = fork();
    if (child < 0)
        return 1;
    if (child == 0) {
        close(down[1]);
        close(up[0]);
        child_loop(down[0], up[1]);
    }
    close(down[0]);
    close(up[1]);
    uint32_t h = 0;
    for (int r = 0; r < reps; r++)
        h = bench_mix(h, one_rep(down[1], up[0], (uint32_t)r * 13u));
    close(down[1]);
    int st = 0;
    waitpid(child, &st, 0);
    h = bench_mix(h, WIFEXITED(st) ? (uint32_t)WEXITSTATUS(st) : 0xbadu);
    bench_report("sys", h, t0, reps);
    return 0;
}
