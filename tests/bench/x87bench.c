/* x87 micro-benchmark: loops of x87 instructions run through cpu_run on a
 * real-mode CPU with only RAM (as in tests/unit/test_fpu.c), timed on the
 * host clock, reported as ns per instruction at precision control 53 and 64
 * bits. Not a test: results depend on the host. See PROFILING-x87.md.
 * Usage: softvisor-x87bench [-i ITER] [-p 53|64] [-1] [NAME...]
 * -1: one untimed run of each named bench only (for callgrind, x87ir.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cpu/cpu.h"

#define CODE 0x1000u
#define DATA 0x3000u
#define HANDLERS 0x7000u
#define MAXB 512

/* data slots (m64 unless noted), offsets from DATA */
enum { D_ONE = 0, D_A = 8, D_B = 16, D_X = 24, D_Y = 32, D_OUT = 40, D_I = 48, D_J = 56, D_CW = 64 };
#define A16(x) (uint8_t)((DATA + (x)) & 0xFF), (uint8_t)((DATA + (x)) >> 8)

#define FLD(x) 0xDD, 0x06, A16(x)
#define FSTPM(x) 0xDD, 0x1E, A16(x)
#define FADDM(x) 0xDC, 0x06, A16(x)
#define FMULM(x) 0xDC, 0x0E, A16(x)
#define FDIVM(x) 0xDC, 0x36, A16(x)
#define FCOMM(x) 0xDC, 0x16, A16(x)
#define FILD(x) 0xDB, 0x06, A16(x)
#define FISTP(x) 0xDB, 0x1E, A16(x)
#define FSTP0 0xDD, 0xD8
#define FXCH1 0xD9, 0xC9

struct bench {
    const char *name;
    const char *what;           /* the measured instruction */
    uint8_t pre[16], npre;      /* before the loop */
    uint8_t body[32], nbody;    /* repeated `rep` times per iteration */
    uint8_t post[16], npost;    /* after the loop */
    int rep, body_insns, targets;
    int sub_pairs;              /* FLD m64 + FSTP m64 pairs inside body to subtract */
    int sub_flds;               /* extra FLD m64 to subtract (half a pair each) */
};

#define B(...) { __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ })
static const struct bench benches[] = {
    { "nop", "NOP (dispatch baseline)", B(0x90), B(0x90), B(0x90), 16, 1, 1, 0, 0 },
    { "fld_fstp_m64", "FLD m64 + FSTP m64 (avg)", B(0x90), B(FLD(D_A), FSTPM(D_OUT)), B(0x90), 8, 2, 2, 0, 0 },
    { "fld_fstp_st0", "FLD m64 + FSTP ST0 (avg)", B(0x90), B(FLD(D_A), FSTP0), B(0x90), 8, 2, 2, 0, 0 },
    { "fadd_m64", "FADD m64", B(FLD(D_ONE)), B(FADDM(D_A)), B(FSTP0), 16, 1, 1, 0, 0 },
    { "fmul_m64", "FMUL m64", B(FLD(D_ONE)), B(FMULM(D_A), FMULM(D_B)), B(FSTP0), 8, 2, 2, 0, 0 },
    { "fdiv_m64", "FDIV m64", B(FLD(D_ONE)), B(FDIVM(D_A), FDIVM(D_B)), B(FSTP0), 8, 2, 2, 0, 0 },
    { "faddp_st", "FLD m64; FADDP ST1 (avg)", B(FLD(D_ONE)), B(FLD(D_A), 0xDE, 0xC1), B(FSTP0), 8, 2, 2, 0, 0 },
    { "fmulp_st", "FLD m64; FMULP ST1 (avg)", B(FLD(D_ONE)), B(FLD(D_A), 0xDE, 0xC9, FLD(D_B), 0xDE, 0xC9), B(FSTP0), 4, 4, 4, 0, 0 },
    { "fsqrt", "FSQRT", B(0x90), B(FLD(D_X), 0xD9, 0xFA, FSTPM(D_OUT)), B(0x90), 8, 3, 1, 1, 0 },
    { "fild_fistp", "FILD m32 + FISTP m32 (avg)", B(0x90), B(FILD(D_I), FISTP(D_J)), B(0x90), 8, 2, 2, 0, 0 },
    { "fcom_sahf", "FCOM m64; FNSTSW AX; SAHF (avg)", B(FLD(D_A)), B(FCOMM(D_B), 0xDF, 0xE0, 0x9E), B(FSTP0), 8, 3, 3, 0, 0 },
    { "fxch", "FXCH ST1", B(FLD(D_A), FLD(D_B)), B(FXCH1), B(FSTP0, FSTP0), 16, 1, 1, 0, 0 },
    { "fadd_st", "FADD ST0, ST1", B(FLD(D_ONE), FLD(D_A)), B(0xD8, 0xC1), B(FSTP0, FSTP0), 16, 1, 1, 0, 0 },
    { "fmul_st", "FMUL ST0, ST1 / ST2 (avg)", B(FLD(D_B), FLD(D_A), FLD(D_ONE)), B(0xD8, 0xC9, 0xD8, 0xCA), B(FSTP0, FSTP0, FSTP0), 8, 2, 2, 0, 0 },
    { "fld_st", "FLD ST1 + FSTP ST1 (avg)", B(FLD(D_ONE), FLD(D_A)), B(0xD9, 0xC1, 0xDD, 0xD9), B(FSTP0, FSTP0), 8, 2, 2, 0, 0 },
    { "fcomi_st", "FCOMI ST0, ST1", B(FLD(D_A), FLD(D_B)), B(0xDB, 0xF1), B(FSTP0, FSTP0), 16, 1, 1, 0, 0 },
    { "fsin", "FSIN", B(0x90), B(FLD(D_X), 0xD9, 0xFE, FSTPM(D_OUT)), B(0x90), 4, 3, 1, 1, 0 },
    { "fcos", "FCOS", B(0x90), B(FLD(D_X), 0xD9, 0xFF, FSTPM(D_OUT)), B(0x90), 4, 3, 1, 1, 0 },
    { "fpatan", "FPATAN", B(0x90), B(FLD(D_Y), FLD(D_X), 0xD9, 0xF3, FSTPM(D_OUT)), B(0x90), 4, 4, 1, 1, 1 },
    { "f2xm1", "F2XM1", B(0x90), B(FLD(D_X), 0xD9, 0xF0, FSTPM(D_OUT)), B(0x90), 4, 3, 1, 1, 0 },
    { "fyl2x", "FYL2X", B(0x90), B(FLD(D_Y), FLD(D_A), 0xD9, 0xF1, FSTPM(D_OUT)), B(0x90), 4, 4, 1, 1, 1 },
};
#define NB ((int)(sizeof(benches) / sizeof(benches[0])))

struct rig {
    struct physmem pm;
    struct cpu cpu;
};

static void w(struct rig *g, uint32_t a, uint64_t v, int n)
{
    for (int k = 0; k < n; k++)
        phys_write(&g->pm, a + (uint32_t)k, (uint32_t)(v >> (8 * k)) & 0xFF, 1);
}

static void rig_setup(struct rig *g)
{
    if (physmem_init(&g->pm, 1u << 20) || cpu_init(&g->cpu, &g->pm)) {
        fprintf(stderr, "x87bench: cannot create the machine\n");
        exit(1);
    }
    for (int s = 0; s < 6; s++)
        cpu_load_seg_real(&g->cpu, s, 0);
    g->cpu.regs[R_ESP] = 0x8000;
    for (uint32_t v = 0; v < 32; v++) {
        w(g, v * 4, HANDLERS + v * 16, 2);
        w(g, v * 4 + 2, 0, 2);
        w(g, HANDLERS + v * 16, 0xF4, 1);
    }
    w(g, DATA + D_ONE, 0x3FF0000000000000ull, 8);   /* 1.0 */
    w(g, DATA + D_A, 0x3FF199999999999Aull, 8);     /* 1.1 */
    w(g, DATA + D_B, 0x3FED1745D1745D17ull, 8);     /* 1/1.1 */
    w(g, DATA + D_X, 0x3FE6666666666666ull, 8);     /* 0.7 */
    w(g, DATA + D_Y, 0x3FD3333333333333ull, 8);     /* 0.3 */
    w(g, DATA + D_I, 123456789, 4);
}

/* Writes FNINIT; FLDCW; pre; MOV ECX,n; (body x rep); DEC ECX; JNZ; post;
 * HLT and returns the number of instructions per iteration. */
static int place(struct rig *g, const struct bench *b, uint16_t cw, uint32_t n)
{
    uint8_t code[MAXB];
    int k = 0;
    w(g, DATA + D_CW, cw, 2);
    const uint8_t head[] = { 0xDB, 0xE3, 0xD9, 0x2E, A16(D_CW) };
    memcpy(code + k, head, sizeof(head));
    k += (int)sizeof(head);
    memcpy(code + k, b->pre, b->npre);
    k += b->npre;
    code[k++] = 0x66;
    code[k++] = 0xB9;
    for (int j = 0; j < 4; j++)
        code[k++] = (uint8_t)(n >> (8 * j));
    int top = k;
    for (int r = 0; r < b->rep; r++) {
        memcpy(code + k, b->body, b->nbody);
        k += b->nbody;
    }
    code[k++] = 0x66;
    code[k++] = 0x49;                               /* DEC ECX */
    int rel = top - (k + 4);
    code[k++] = 0x0F;
    code[k++] = 0x85;                               /* JNZ rel16 */
    code[k++] = (uint8_t)rel;
    code[k++] = (uint8_t)(rel >> 8);
    memcpy(code + k, b->post, b->npost);
    k += b->npost;
    code[k++] = 0xF4;
    for (int j = 0; j < k; j++)
        w(g, CODE + (uint32_t)j, code[j], 1);
    return b->rep * b->body_insns + 2;
}

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* ns per loop iteration, loop overhead (DEC/JNZ) included */
static double run_one(struct rig *g, const struct bench *b, uint16_t cw, uint32_t n)
{
    place(g, b, cw, n);
    struct cpu *c = &g->cpu;
    c->eip = CODE;
    c->halted = 0;
    double t0 = now_ns();
    enum cpu_exit x;
    do
        x = cpu_run(c, 1u << 30);
    while (x == CPU_EXIT_BUDGET);
    double t = now_ns() - t0;
    if (x != CPU_EXIT_HLT || c->eip >= HANDLERS) {
        fprintf(stderr, "x87bench: %s stopped at %08X (exit %d)\n", b->name, c->eip, (int)x);
        exit(1);
    }
    return t / n;
}

static int once;

static double per_iter(struct rig *g, const struct bench *b, uint16_t cw, uint32_t iters)
{
    if (once)
        return run_one(g, b, cw, iters);
    if (!iters) {               /* calibrate to ~150 ms per measurement */
        double t = run_one(g, b, cw, 200);
        iters = (uint32_t)(150e6 / (t > 1 ? t : 1));
        if (iters < 100)
            iters = 100;
    }
    double best = 1e300;
    for (int r = 0; r < 3; r++) {
        double t = run_one(g, b, cw, iters);
        if (t < best)
            best = t;
    }
    return best;
}

int main(int argc, char **argv)
{
    uint32_t iters = 0;
    int pcs[2] = { 53, 64 }, npc = 2, nsel = 0;
    const char *sel[NB + 1];
    for (int k = 1; k < argc; k++) {
        if (!strcmp(argv[k], "-i") && k + 1 < argc)
            iters = (uint32_t)strtoul(argv[++k], NULL, 0);
        else if (!strcmp(argv[k], "-1"))
            once = 1;
        else if (!strcmp(argv[k], "-p") && k + 1 < argc) {
            pcs[0] = atoi(argv[++k]);
            npc = 1;
        } else if (nsel < NB)
            sel[nsel++] = argv[k];
    }
    static struct rig g;
    rig_setup(&g);
    double nop = 0, pair = 0;
    if (!once)
        printf("%-14s %-34s %4s %10s %10s\n", "bench", "measured", "pc", "ns/insn", "ns/target");
    for (int p = 0; p < npc; p++) {
        uint16_t cw = pcs[p] == 53 ? 0x027F : 0x037F;
        for (int k = 0; k < NB; k++) {
            const struct bench *b = &benches[k];
            int want = !nsel || (k < 2 && !once);      /* nop and the pair feed subtractions */
            for (int j = 0; j < nsel; j++)
                want |= !strcmp(sel[j], b->name);
            if (!want)
                continue;
            double it = per_iter(&g, b, cw, iters);
            int insns = b->rep * b->body_insns + 2;
            double body = it - 2 * nop;     /* without DEC/JNZ */
            if (k == 0) {
                nop = it / insns;
                body = it;
            }
            double tgt = (body - b->rep * (b->sub_pairs * 2 * pair + b->sub_flds * pair)) / (b->rep * b->targets);
            if (k == 0)
                tgt = nop;
            if (k == 1)
                pair = tgt;
            if (once)
                printf("%s %d insns/iter %d\n", b->name, pcs[p], insns);
            else
                printf("%-14s %-34s %4d %10.1f %10.1f\n", b->name, b->what, pcs[p], it / insns, tgt);
            fflush(stdout);
        }
    }
    cpu_free(&g.cpu);
    physmem_free(&g.pm);
    return 0;
}
