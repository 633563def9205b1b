/* String and hash workload (set b): SHA-256 over a 256 KiB buffer (32-bit
 * rotates, adds, big-endian loads), a chained hash table of malloc'd strings
 * (FNV-1a, inserts, hit and miss lookups with strcmp, deletes with free),
 * qsort of the strings with strcmp (calls through a function pointer) and a
 * memcmp/strchr scan. Only fixed-width integers and string contents reach the
 * checksum, so the host and the i386 build agree. */
#include <string.h>

#include "bench.h"

#define BUF_SIZE (256 * 1024)
#define NSTR 20000
#define NBUCKET 4096

/* ---- SHA-256 (FIPS 180-4) */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t st[8], const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
    uint32_t e = st[4], f = st[5], g = st[6], h = st[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1;
        d = c; c = b; b = a; a = t1 + t2;
    }
    st[0] += a; st[1] += b; st[2] += c; st[3] += d;
    st[4] += e; st[5] += f; st[6] += g; st[7] += h;
}

/* The digest of n bytes (n a multiple of 64 for simplicity, plus padding). */
static uint32_t sha256(const uint8_t *buf, size_t n)
{
    uint32_t st[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
    for (size_t i = 0; i + 64 <= n; i += 64)
        sha256_block(st, buf + i);
    uint8_t pad[64] = { 0x80 };
    uint64_t bits = (uint64_t)n * 8;
    for (int i = 0; i < 8; i++)
        pad[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_block(st, pad);
    uint32_t h = 0;
    for (int i = 0; i < 8; i++)
        h = bench_mix(h, st[i]);
    return h;
}

/* ---- strings, hash table, sort */
struct entry {
    struct entry *next;
    uint32_t value;
    char key[];
};

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

static void make_word(char *w, uint32_t *seed)
{
    static const char alpha[] = "etaoinshrdlucmfwypvbgkqjxz";
    int len = 3 + (int)(bench_rand(seed) % 14);
    for (int i = 0; i < len; i++)
        w[i] = alpha[bench_rand(seed) % 26 % (8 + i % 19)];
    w[len] = 0;
}

static struct entry *find(struct entry **tab, const char *k)
{
    for (struct entry *e = tab[fnv1a(k) % NBUCKET]; e; e = e->next)
        if (strcmp(e->key, k) == 0)
            return e;
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint32_t table_rep(uint32_t seed)
{
    static struct entry *tab[NBUCKET];
    static char *sorted[NSTR];
    char w[32];
    uint32_t h = 0, hits = 0;
    int ns = 0;
    memset(tab, 0, sizeof tab);
    for (uint32_t i = 0; i < NSTR; i++) {
        make_word(w, &seed);
        struct entry *e = find(tab, w);
        if (e) {
            e->value += i;
            hits++;
            continue;
        }
        size_t len = strlen(w);
        e = malloc(sizeof *e + len + 1);
        memcpy(e->key, w, len + 1);
        e->value = i;
        uint32_t b = fnv1a(w) % NBUCKET;
        e->next = tab[b];
        tab[b] = e;
        sorted[ns++] = e->key;
    }
    h = bench_mix(h, hits);
    for (uint32_t i = 0; i < NSTR; i++) {      /* mostly misses */
        make_word(w, &seed);
        struct entry *e = find(tab, w);
        h = bench_mix(h, e ? e->value : 1);
    }
    qsort(sorted, (size_t)ns, sizeof sorted[0], cmp_str);
    for (int i = 0; i < ns; i += 97)
        h = bench_mix(h, fnv1a(sorted[i]));
    uint32_t prefix = 0;                        /* neighbours sharing 3 bytes */
    for (int i = 1; i < ns; i++)
        prefix += memcmp(sorted[i - 1], sorted[i], 3) == 0;
    h = bench_mix(h, prefix);
    for (int b = 0; b < NBUCKET; b++)
        while (tab[b]) {
            struct entry *e = tab[b];
            tab[b] = e->next;
            h = bench_mix(h, e->value ^ (uint32_t)(strchr(e->key, 'e') != NULL));
            free(e);
        }
    return h;
}

int main(int argc, char **argv)
{
    int reps = bench_reps(argc, argv, 150);
    static uint8_t buf[BUF_SIZE];
    uint32_t seed = 12345;
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)bench_rand(&seed);
    uint64_t t0 = bench_now_ms();
    uint32_t h = 0, part[2] = { 0, 0 }, v;
    for (int r = 0; r < reps; r++) {
        buf[r % BUF_SIZE] ^= (uint8_t)r;
        h = bench_mix(h, v = sha256(buf, sizeof buf));
        part[0] = bench_mix(part[0], v);
        h = bench_mix(h, v = table_rep(0x9e3779b9u ^ (uint32_t)r * 2654435761u));
        part[1] = bench_mix(part[1], v);
    }
    bench_report("hash", h, t0, reps);
    printf("bench: hash-parts sha256=0x%08x table=0x%08x\n", (unsigned)part[0], (unsigned)part[1]);
    return 0;
}
