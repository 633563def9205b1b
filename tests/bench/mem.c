/* Memory workload: a 32 MiB working set, far beyond the caches and the TLB
 * reach. Random pointer chasing through a single-cycle permutation (one
 * dependent load per step, a new page almost every time), streaming copies
 * of 8 MiB blocks, and a page-strided read-modify-write walk (one access per
 * 4 KiB page: TLB misses, page walks in an emulator's software MMU). */
#include <string.h>

#include "bench.h"

#define CHASE_N (6u << 20)           /* 6 Mi entries * 4 bytes = 24 MiB */
#define COPY_N (8u << 20)            /* bytes per copy buffer */
#define CHASE_STEPS (1u << 20)
#define PAGE 4096u

static uint32_t chase(const uint32_t *next, uint32_t start, uint32_t steps)
{
    uint32_t p = start, h = 0;
    for (uint32_t i = 0; i < steps; i++) {
        p = next[p];
        h += p;
    }
    return h ^ p;
}

static uint32_t stream(uint8_t *dst, uint8_t *src, uint32_t n, uint32_t salt)
{
    uint32_t h = 0;
    memcpy(dst, src, n);
    /* A word-wise copy loop too, so not all the copying is in libc's memcpy. */
    const uint32_t *s = (const uint32_t *)dst;
    uint32_t *d = (uint32_t *)(void *)src;
    for (uint32_t i = 0; i < n / 4; i++) {
        d[i] = s[i] + salt;
        h += d[i];
    }
    return h;
}

static uint32_t stride(uint8_t *buf, uint32_t n, uint32_t salt)
{
    uint32_t h = 0;
    for (uint32_t off = 0; off < PAGE; off += 64 + 4)
        for (uint32_t pg = 0; pg + PAGE <= n; pg += PAGE) {
            buf[pg + off] ^= (uint8_t)salt;
            h += buf[pg + off];
        }
    return h;
}

int main(int argc, char **argv)
{
    int reps = bench_reps(argc, argv, 10);
    uint32_t *next = malloc(CHASE_N * sizeof *next);
    uint8_t *a = malloc(COPY_N), *b = malloc(COPY_N);
    if (!next || !a || !b) {
        printf("bench: mem out of memory\n");
        return 1;
    }
    uint64_t t0 = bench_now_ms();
    uint32_t seed = 0x2545f491u, h = 0;
    /* Sattolo's shuffle: one cycle through all entries. */
    for (uint32_t i = 0; i < CHASE_N; i++)
        next[i] = i;
    for (uint32_t i = CHASE_N - 1; i > 0; i--) {
        uint32_t j = bench_rand(&seed) % i, t = next[i];
        next[i] = next[j];
        next[j] = t;
    }
    for (uint32_t i = 0; i < COPY_N; i++)
        a[i] = (uint8_t)(i * 7 + (i >> 12));
    for (int r = 0; r < reps; r++) {
        h = bench_mix(h, chase(next, (uint32_t)r * 977u, CHASE_STEPS));
        h = bench_mix(h, stream(b, a, COPY_N, (uint32_t)r));
        h = bench_mix(h, stride(b, COPY_N, (uint32_t)r + 1));
        h = bench_mix(h, stream(a, b, COPY_N, (uint32_t)r * 3));
    }
    bench_report("mem", h, t0, reps);
    free(next);
    free(a);
    free(b);
    return 0;
}
