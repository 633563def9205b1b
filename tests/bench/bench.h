/* Shared helpers for the Softvisor benchmark workloads: the repeat count from
 * argv, the guest-side clock (CLOCK_MONOTONIC) and the one result line that
 * tests/bench/run parses:  bench: NAME checksum=0x%08x ms=N reps=N  */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Each workload does reps units of work; the default is sized so that the
 * whole workload takes about 1-2 s natively. Checksums depend on reps. */
static int bench_reps(int argc, char **argv, int def)
{
    if (argc > 1) {
        long n = strtol(argv[1], NULL, 10);
        if (n >= 1 && n <= 100000)
            return (int)n;
        fprintf(stderr, "usage: %s [reps]\n", argv[0]);
        exit(2);
    }
    return def;
}

static uint64_t bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void bench_report(const char *name, uint32_t checksum, uint64_t t0, int reps)
{
    uint64_t ms = bench_now_ms() - t0;
    printf("bench: %s checksum=0x%08x ms=%llu reps=%d\n", name, (unsigned)checksum,
           (unsigned long long)ms, reps);
    fflush(stdout);
}

/* Deterministic 32-bit PRNG (xorshift32) and a mixing step for checksums. */
static inline uint32_t bench_rand(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static inline uint32_t bench_mix(uint32_t h, uint32_t v)
{
    h ^= v + 0x9e3779b9u + (h << 6) + (h >> 2);
    return h;
}

#endif
