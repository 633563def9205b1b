/* x87 workload of set b (built -mfpmath=387 -march=i686
 * -fexcess-precision=standard: no SSE, and every assignment rounds to its
 * type, so register allocation cannot change the results): an iterative
 * radix-2 complex FFT and its inverse (bit reversal, butterflies, libm sin/cos
 * for the twiddles), the spectral-norm kernel (integer to double conversion,
 * divides, sqrt) and a single-precision Jacobi relaxation on a grid (float
 * loads and stores: rounding to 24 bits on every store). The checksum hashes
 * the exact bits of the results (see fp.c). */
#include <math.h>
#include <string.h>

#include "bench.h"

#define FFT_LOG 12
#define FFT_N (1 << FFT_LOG)
#define SPEC_N 160
#define GRID 96

static uint32_t hash_double(uint32_t h, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return bench_mix(bench_mix(h, (uint32_t)u), (uint32_t)(u >> 32));
}

static void fft(double *re, double *im, int inverse)
{
    for (unsigned i = 1, j = 0; i < FFT_N; i++) {
        unsigned bit = FFT_N >> 1;
        for (; j & bit; bit >>= 1)
            j ^= bit;
        j |= bit;
        if (i < j) {
            double t = re[i]; re[i] = re[j]; re[j] = t;
            t = im[i]; im[i] = im[j]; im[j] = t;
        }
    }
    for (int len = 2; len <= FFT_N; len <<= 1) {
        double ang = (inverse ? 2 : -2) * M_PI / len;
        double wr = cos(ang), wi = sin(ang);
        for (int i = 0; i < FFT_N; i += len) {
            double cr = 1, ci = 0;
            for (int k = 0; k < len / 2; k++) {
                int a = i + k, b = i + k + len / 2;
                double xr = re[b] * cr - im[b] * ci, xi = re[b] * ci + im[b] * cr;
                re[b] = re[a] - xr; im[b] = im[a] - xi;
                re[a] += xr; im[a] += xi;
                double t = cr * wr - ci * wi;
                ci = cr * wi + ci * wr;
                cr = t;
            }
        }
    }
    if (inverse)
        for (int i = 0; i < FFT_N; i++) {
            re[i] /= FFT_N;
            im[i] /= FFT_N;
        }
}

static uint32_t fft_rep(double salt)
{
    static double re[FFT_N], im[FFT_N];
    for (int i = 0; i < FFT_N; i++) {
        re[i] = (i % 17) * 0.25 - 2 + salt;
        im[i] = (i % 5) * 0.5 - salt;
    }
    uint32_t h = 0;
    for (int pass = 0; pass < 4; pass++) {
        fft(re, im, 0);
        h = hash_double(h, re[1] + im[FFT_N / 3]);
        fft(re, im, 1);
    }
    double err = 0;
    for (int i = 0; i < FFT_N; i++)
        err += fabs(re[i] - ((i % 17) * 0.25 - 2 + salt));
    return hash_double(h, err);
}

static double spec_a(int i, int j)
{
    return 1.0 / ((i + j) * (i + j + 1) / 2 + i + 1);
}

static void spec_mul(const double *v, double *out, int transpose)
{
    for (int i = 0; i < SPEC_N; i++) {
        double s = 0;
        for (int j = 0; j < SPEC_N; j++)
            s += (transpose ? spec_a(j, i) : spec_a(i, j)) * v[j];
        out[i] = s;
    }
}

static uint32_t spectral(double salt)
{
    static double u[SPEC_N], v[SPEC_N], t[SPEC_N];
    for (int i = 0; i < SPEC_N; i++)
        u[i] = 1 + salt;
    for (int k = 0; k < 5; k++) {
        spec_mul(u, t, 0);
        spec_mul(t, v, 1);
        spec_mul(v, t, 0);
        spec_mul(t, u, 1);
    }
    double vbv = 0, vv = 0;
    for (int i = 0; i < SPEC_N; i++) {
        vbv += u[i] * v[i];
        vv += v[i] * v[i];
    }
    return hash_double(0, sqrt(vbv / vv));
}

static uint32_t jacobi(float salt)
{
    static float g[GRID][GRID], n[GRID][GRID];
    for (int y = 0; y < GRID; y++)
        for (int x = 0; x < GRID; x++)
            g[y][x] = (y == 0 || x == 0) ? 100.0f + salt : (x == GRID - 1 ? -50.0f : 0.0f);
    for (int it = 0; it < 40; it++) {
        for (int y = 1; y < GRID - 1; y++)
            for (int x = 1; x < GRID - 1; x++)
                n[y][x] = 0.25f * (g[y - 1][x] + g[y + 1][x] + g[y][x - 1] + g[y][x + 1]);
        for (int y = 1; y < GRID - 1; y++)
            memcpy(&g[y][1], &n[y][1], (GRID - 2) * sizeof(float));
    }
    uint32_t h = 0;
    for (int y = 0; y < GRID; y += 7)
        for (int x = 0; x < GRID; x += 5) {
            uint32_t u;
            memcpy(&u, &g[y][x], sizeof u);
            h = bench_mix(h, u);
        }
    return h;
}

int main(int argc, char **argv)
{
    int reps = bench_reps(argc, argv, 250);
    uint64_t t0 = bench_now_ms();
    uint32_t h = 0, part[3] = { 0, 0, 0 }, v;
    for (int r = 0; r < reps; r++) {
        double salt = r * 0.001;
        h = bench_mix(h, v = fft_rep(salt));
        part[0] = bench_mix(part[0], v);
        h = bench_mix(h, v = spectral(salt));
        part[1] = bench_mix(part[1], v);
        h = bench_mix(h, v = jacobi((float)salt));
        part[2] = bench_mix(part[2], v);
    }
    bench_report("fft", h, t0, reps);
    printf("bench: fft-parts fft=0x%08x spectral=0x%08x jacobi=0x%08x\n",
           (unsigned)part[0], (unsigned)part[1], (unsigned)part[2]);
    return 0;
}
