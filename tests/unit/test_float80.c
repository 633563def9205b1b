/* Software 80-bit floating point (cpu/float80.c, float80_trans.c) against
 * vectors recorded from real x87 hardware (float80_vectors.h): results are
 * compared bit for bit, and the status bits (IE DE ZE OE UE PE, C0-C3) too.
 * Transcendentals (F2XM1 FYL2X FYL2XP1 FPATAN FSIN FCOS FPTAN) may differ
 * from the hardware by at most 1 ulp (and then in C1): our results are
 * rounded once from 128 bits, the hardware's are not always. */
#include <check.h>
#include <stdio.h>
#include "cpu/float80.h"

enum { T_ADD, T_SUB, T_MUL, T_DIV, T_SQRT, T_RNDINT, T_SCALE, T_PREM, T_PREM1, T_COM, T_UCOM,
       T_FIST16, T_FIST32, T_FIST64, T_FST32, T_FST64, T_FLD32, T_FLD64, T_FBSTP, T_F2XM1,
       T_FYL2X, T_FYL2XP1, T_FPATAN, T_FSIN, T_FCOS, T_FPTAN, T_CONST, T_XTRACT };
static const char *const tname[] = {
    "ADD", "SUB", "MUL", "DIV", "SQRT", "RNDINT", "SCALE", "PREM", "PREM1", "COM", "UCOM",
    "FIST16", "FIST32", "FIST64", "FST32", "FST64", "FLD32", "FLD64", "FBSTP", "F2XM1",
    "FYL2X", "FYL2XP1", "FPATAN", "FSIN", "FCOS", "FPTAN", "CONST", "XTRACT" };

struct vec {
    int op;
    uint16_t cw, ase;
    uint64_t am;
    uint16_t bse;
    uint64_t bm;
    uint16_t rse;
    uint64_t rm;
    uint16_t sw;
};

static const struct vec vecs[] = {
#include "float80_vectors.h"
};

static const uint16_t cc_bits[4] = { 0x0000, 0x0100, 0x4000, 0x4500 };   /* GT LT EQ UN */

/* Runs one vector; returns the status bits and fills *r (se, mant). */
static uint16_t run(const struct vec *v, uint16_t *rse, uint64_t *rm)
{
    struct f80_env e = { (uint8_t)((v->cw >> 10) & 3), (uint8_t)((v->cw >> 8) & 3), (uint8_t)(v->cw & 0x3F), 0 };
    struct f80 a = { v->am, v->ase }, b = { v->bm, v->bse }, r = a;
    uint16_t cc = 0;
    uint8_t bcd[10];
    *rse = 0;
    switch (v->op) {
    case T_ADD: r = f80_add(&e, a, b); break;
    case T_SUB: r = f80_sub(&e, a, b); break;
    case T_MUL: r = f80_mul(&e, a, b); break;
    case T_DIV: r = f80_div(&e, a, b); break;
    case T_SQRT: r = f80_sqrt(&e, a); break;
    case T_RNDINT: r = f80_round_int(&e, a); break;
    case T_SCALE: r = f80_scale(&e, a, b); break;
    case T_PREM: r = f80_rem(&e, a, b, 0, &cc); break;
    case T_PREM1: r = f80_rem(&e, a, b, 1, &cc); break;
    case T_COM: cc = cc_bits[f80_compare(&e, a, b, 0)]; break;
    case T_UCOM: cc = cc_bits[f80_compare(&e, a, b, 1)]; break;
    case T_XTRACT: f80_xtract(&e, a, &r); break;
    case T_FIST16: *rm = (uint64_t)f80_to_int(&e, a, 16) & 0xFFFF; return e.flags | cc;
    case T_FIST32: *rm = (uint64_t)f80_to_int(&e, a, 32) & 0xFFFFFFFFu; return e.flags | cc;
    case T_FIST64: *rm = (uint64_t)f80_to_int(&e, a, 64); return e.flags | cc;
    case T_FST32: *rm = f80_to_f32(&e, a); return e.flags;
    case T_FST64: *rm = f80_to_f64(&e, a); return e.flags;
    case T_FLD32: r = f80_from_f32(&e, (uint32_t)a.mant); break;
    case T_FLD64: r = f80_from_f64(&e, a.mant); break;
    case T_FBSTP:
        f80_to_bcd(&e, a, bcd);
        *rm = 0;
        for (int k = 7; k >= 0; k--)
            *rm = *rm << 8 | bcd[k];
        *rse = (uint16_t)(bcd[8] | bcd[9] << 8);
        return e.flags;
    case T_F2XM1: r = f80_f2xm1(&e, a); break;
    case T_FYL2X: r = f80_yl2x(&e, b, a); break;
    case T_FYL2XP1: r = f80_yl2xp1(&e, b, a); break;
    case T_FPATAN: r = f80_atan2(&e, b, a); break;
    case T_FSIN: if (f80_sincos(&e, a, &r, NULL)) cc = 0x0400; break;
    case T_FCOS: if (f80_sincos(&e, a, NULL, &r)) cc = 0x0400; break;
    case T_FPTAN: if (f80_tan(&e, a, &r)) cc = 0x0400; break;
    case T_CONST: r = f80_const(&e, v->ase); break;
    }
    *rse = r.se;
    *rm = r.mant;
    return (uint16_t)(e.flags | cc);
}

static int transcendental(int op)
{
    return op >= T_F2XM1 && op <= T_FPTAN;
}

static int check_range(int from, int to, int trans)
{
    int bad = 0;
    for (int k = from; k < to; k++) {
        const struct vec *v = &vecs[k];
        if (transcendental(v->op) != trans)
            continue;
        uint16_t rse;
        uint64_t rm;
        uint16_t sw = run(v, &rse, &rm);
        int ok;
        if (trans) {
            uint64_t d = rm > v->rm ? rm - v->rm : v->rm - rm;
            ok = rse == v->rse && d <= 1 && (sw & 0x457F) == (v->sw & 0x457F);
        } else {
            ok = rse == v->rse && rm == v->rm && sw == v->sw;
        }
        if (!ok && bad++ < 12)
            fprintf(stderr, "%s cw=%04X a=%04X:%016llX b=%04X:%016llX: got %04X:%016llX sw %04X, want %04X:%016llX sw %04X\n",
                    tname[v->op], v->cw, v->ase, (unsigned long long)v->am, v->bse, (unsigned long long)v->bm,
                    rse, (unsigned long long)rm, sw, v->rse, (unsigned long long)v->rm, v->sw);
    }
    return bad;
}

#define NVEC ((int)(sizeof(vecs) / sizeof(vecs[0])))

START_TEST(test_vectors_exact)
{
    int bad = check_range(0, NVEC, 0);
    ck_assert_msg(bad == 0, "%d mismatches against recorded x87 results", bad);
}
END_TEST

START_TEST(test_vectors_transcendental)
{
    int bad = check_range(0, NVEC, 1);
    ck_assert_msg(bad == 0, "%d transcendental results beyond 1 ulp", bad);
}
END_TEST

Suite *float80_suite(void)
{
    Suite *s = suite_create("float80");
    TCase *tc = tcase_create("vectors");
    tcase_add_test(tc, test_vectors_exact);
    tcase_add_test(tc, test_vectors_transcendental);
    suite_add_tcase(s, tc);
    return s;
}
