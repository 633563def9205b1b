/* Integer workload: a mix of what integer code spends time on -- sorting
 * (branches, compares, memory moves), CRC-32 (table lookups, shifts), an
 * LZ77-style compressor and its decompressor (hash table, byte copies) and
 * modular arithmetic (multiply, 64-bit divide helpers on i386). */
#include <string.h>

#include "bench.h"

#define SORT_N 65536
#define TEXT_N 65536

static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32(const uint8_t *p, uint32_t n)
{
    uint32_t c = 0xffffffffu;
    for (uint32_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

/* Merge sort (stable, no recursion into libc), bottom-up. */
static void merge_sort(uint32_t *a, uint32_t *tmp, uint32_t n)
{
    for (uint32_t w = 1; w < n; w *= 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * w) {
            uint32_t mid = lo + w < n ? lo + w : n;
            uint32_t hi = lo + 2 * w < n ? lo + 2 * w : n;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
            while (i < mid)
                tmp[k++] = a[i++];
            while (j < hi)
                tmp[k++] = a[j++];
        }
        memcpy(a, tmp, n * sizeof *a);
    }
}

/* Pseudo-text with repeats, so the compressor finds matches. */
static void make_text(uint8_t *t, uint32_t n, uint32_t *seed)
{
    static const char *words[] = { "the ", "quick ", "brown ", "fox ", "jumps ",
        "over ", "lazy ", "dog ", "emulator ", "softvisor ", "page ", "table ",
        "interrupt ", "segment ", "cache ", "line\n" };
    uint32_t i = 0;
    while (i < n) {
        const char *w = words[bench_rand(seed) & 15];
        while (*w && i < n)
            t[i++] = (uint8_t)*w++;
        if ((bench_rand(seed) & 7) == 0 && i < n)
            t[i++] = (uint8_t)('0' + bench_rand(seed) % 10);
    }
}

/* LZ77 with a 4096-entry hash of 3-byte prefixes. Output tokens:
 * literal: 0x00 byte; match: 0x01 len(1) dist(2 bytes). */
static uint32_t lz_compress(const uint8_t *in, uint32_t n, uint8_t *out)
{
    static uint32_t head[4096];
    uint32_t o = 0, i = 0;
    memset(head, 0xff, sizeof head);
    while (i < n) {
        uint32_t best = 0, dist = 0;
        if (i + 3 <= n) {
            uint32_t h = ((in[i] << 8) ^ (in[i + 1] << 4) ^ in[i + 2]) & 4095;
            uint32_t c = head[h];
            head[h] = i;
            if (c != 0xffffffffu && i - c < 65536) {
                uint32_t l = 0;
                while (i + l < n && l < 255 && in[c + l] == in[i + l])
                    l++;
                if (l >= 3) {
                    best = l;
                    dist = i - c;
                }
            }
        }
        if (best) {
            out[o++] = 1;
            out[o++] = (uint8_t)best;
            out[o++] = (uint8_t)dist;
            out[o++] = (uint8_t)(dist >> 8);
            i += best;
        } else {
            out[o++] = 0;
            out[o++] = in[i++];
        }
    }
    return o;
}

static uint32_t lz_decompress(const uint8_t *in, uint32_t n, uint8_t *out)
{
    uint32_t o = 0, i = 0;
    while (i < n) {
        if (in[i] == 0) {
            out[o++] = in[i + 1];
            i += 2;
        } else {
            uint32_t l = in[i + 1], d = in[i + 2] | (uint32_t)in[i + 3] << 8;
            for (uint32_t k = 0; k < l; k++, o++)
                out[o] = out[o - d];
            i += 4;
        }
    }
    return o;
}

static uint32_t pow_mod(uint32_t b, uint32_t e, uint32_t m)
{
    uint64_t r = 1, x = b % m;
    while (e) {
        if (e & 1)
            r = r * x % m;
        x = x * x % m;
        e >>= 1;
    }
    return (uint32_t)r;
}

static uint32_t one_rep(uint32_t seed, uint32_t *a, uint32_t *tmp, uint8_t *text,
                        uint8_t *comp, uint8_t *back)
{
    uint32_t h = seed;
    for (uint32_t i = 0; i < SORT_N; i++)
        a[i] = bench_rand(&seed);
    merge_sort(a, tmp, SORT_N);
    for (uint32_t i = 1; i < SORT_N; i++)
        if (a[i - 1] > a[i])
            h = bench_mix(h, 0xdeadu);   /* never: the sort is broken */
    h = bench_mix(h, crc32((const uint8_t *)a, SORT_N * 4));

    make_text(text, TEXT_N, &seed);
    uint32_t clen = lz_compress(text, TEXT_N, comp);
    uint32_t dlen = lz_decompress(comp, clen, back);
    h = bench_mix(h, clen);
    h = bench_mix(h, dlen == TEXT_N && memcmp(text, back, TEXT_N) == 0);
    h = bench_mix(h, crc32(comp, clen));

    for (uint32_t i = 0; i < 2000; i++)
        h = bench_mix(h, pow_mod(bench_rand(&seed), bench_rand(&seed), 0x7fffffffu - i));
    return h;
}

int main(int argc, char **argv)
{
    int reps = bench_reps(argc, argv, 200);
    static uint32_t a[SORT_N], tmp[SORT_N];
    static uint8_t text[TEXT_N], comp[TEXT_N * 2 + 16], back[TEXT_N];
    uint64_t t0 = bench_now_ms();
    uint32_t h = 0;
    crc_init();
    for (int r = 0; r < reps; r++)
        h = bench_mix(h, one_rep(0x12345678u + (uint32_t)r * 0x9e3779b9u, a, tmp,
                                 text, comp, back));
    bench_report("int", h, t0, reps);
    return 0;
}
