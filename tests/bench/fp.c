/* x87 floating-point workload (built with -mfpmath=387 -march=i686: no SSE):
 * a Mandelbrot escape-count grid (add/multiply/compare), a small n-body
 * integration (sqrt, divide), libm transcendentals (sin, exp, log, atan) and
 * a dense matrix product. The checksum hashes the exact bits of the results,
 * so it is only reproducible with x87 code and the same libm: the host
 * baseline is built with -m32 and the same flags (see README.md). */
#include <math.h>
#include <string.h>

#include "bench.h"

#define MAT_N 48

static uint32_t hash_double(uint32_t h, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return bench_mix(bench_mix(h, (uint32_t)u), (uint32_t)(u >> 32));
}

static uint32_t mandel(int w, int hgt, double shift)
{
    uint32_t h = 0;
    for (int y = 0; y < hgt; y++)
        for (int x = 0; x < w; x++) {
            double cr = -2.0 + shift + 2.6 * x / w, ci = -1.2 + 2.4 * y / hgt;
            double zr = 0, zi = 0;
            int n = 0;
            while (n < 200 && zr * zr + zi * zi < 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2 * zr * zi + ci;
                zr = t;
                n++;
            }
            h = h * 31 + (uint32_t)n;
        }
    return h;
}

static uint32_t nbody(int steps, double salt)
{
    enum { N = 16 };
    double px[N], py[N], vx[N], vy[N], m[N];
    for (int i = 0; i < N; i++) {
        px[i] = cos(i * 0.7 + salt) * (1 + i);
        py[i] = sin(i * 0.7 + salt) * (1 + i);
        vx[i] = -py[i] * 0.1;
        vy[i] = px[i] * 0.1;
        m[i] = 1.0 + i * 0.25;
    }
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) {
                if (i == j)
                    continue;
                double dx = px[j] - px[i], dy = py[j] - py[i];
                double d2 = dx * dx + dy * dy + 0.01;
                double f = m[j] / (d2 * sqrt(d2));
                vx[i] += dx * f * 0.001;
                vy[i] += dy * f * 0.001;
            }
        for (int i = 0; i < N; i++) {
            px[i] += vx[i] * 0.001;
            py[i] += vy[i] * 0.001;
        }
    }
    uint32_t h = 0;
    for (int i = 0; i < N; i++)
        h = hash_double(hash_double(h, px[i]), vy[i]);
    return h;
}

static uint32_t transcendental(int n, double salt)
{
    double acc = 0;
    for (int i = 1; i <= n; i++) {
        double x = i * 0.001 + salt;
        acc += sin(x) * exp(-x * 0.01) + log(1.0 + x) * 0.5 - atan(x) * 0.25;
    }
    return hash_double(0, acc);
}

static uint32_t matmul(double salt)
{
    static double a[MAT_N][MAT_N], b[MAT_N][MAT_N], c[MAT_N][MAT_N];
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            a[i][j] = (i - j) * 0.5 + salt;
            b[i][j] = 1.0 / (1 + i + j);
        }
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            double s = 0;
            for (int k = 0; k < MAT_N; k++)
                s += a[i][k] * b[k][j];
            c[i][j] = s;
        }
    uint32_t h = 0;
    for (int i = 0; i < MAT_N; i++)
        h = hash_double(h, c[i][i] + c[i][MAT_N - 1 - i]);
    return h;
}

int main(int argc, char **argv)
{
    int reps = bench_reps(argc, argv, 120);
    uint64_t t0 = bench_now_ms();
    uint32_t h = 0, part[4] = { 0, 0, 0, 0 }, v;
    for (int r = 0; r < reps; r++) {
        double salt = r * 0.001;
        h = bench_mix(h, v = mandel(160, 120, salt));
        part[0] = bench_mix(part[0], v);
        h = bench_mix(h, v = nbody(60, salt));
        part[1] = bench_mix(part[1], v);
        h = bench_mix(h, v = transcendental(20000, salt));
        part[2] = bench_mix(part[2], v);
        h = bench_mix(h, v = matmul(salt));
        part[3] = bench_mix(part[3], v);
    }
    bench_report("fp", h, t0, reps);
    /* Per-part checksums, to tell which kind of x87 work differs on a mismatch. */
    printf("bench: fp-parts mandel=0x%08x nbody=0x%08x libm=0x%08x matmul=0x%08x\n",
           (unsigned)part[0], (unsigned)part[1], (unsigned)part[2], (unsigned)part[3]);
    return 0;
}
