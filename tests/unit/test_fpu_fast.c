/* The x87 fast paths against the general code they shortcut, on random
 * operands and states: (1) cpu/float80_fast.h against the f80_* functions
 * (result bits and flags, all RC/PC settings), whenever the fast path
 * accepts a case; (2) every specialised handler of cpu/fpu_fast.c against
 * op_fpu_esc on the same decoded instruction from the same CPU state
 * (registers, tags, FCW/FSW incl. unmasked and pending exceptions, FIP/FDP,
 * EFLAGS, memory, FERR#), with memory operands also misaligned and across
 * pages. Both must give identical guest-visible state. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu/exec.h"
#include "cpu/float80_fast.h"

static uint64_t rs = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    rs ^= rs >> 12;
    rs ^= rs << 25;
    rs ^= rs >> 27;
    return rs * 0x2545F4914F6CDD1Dull;
}

static unsigned pick(unsigned n) { return (unsigned)(rnd() % n); }

/* Significands with runs of ones/zeros (rounding boundaries) or random. */
static uint64_t gen_mant(void)
{
    switch (pick(6)) {
    case 0: return 1ull << 63;
    case 1: return ~0ull;
    case 2: return ~0ull << pick(64);
    case 3: return 1ull << 63 | (rnd() & ((1ull << pick(64)) - 1));
    case 4: return (1ull << 63) | (rnd() << pick(64) >> pick(64));
    default: return rnd() | 1ull << 63;
    }
}

/* An 80-bit value: mostly normals near 1, some at the range ends, and the
 * special classes (zero, denormal, pseudo-denormal, unnormal, inf, NaN). */
static struct f80 gen_f80(void)
{
    int s = (int)(rnd() & 1);
    unsigned k = pick(20);
    if (k < 11)
        return f80_make(s, (uint16_t)(F80_BIAS - 70 + pick(140)), gen_mant());
    switch (k) {
    case 11: return f80_make(s, (uint16_t)(1 + pick(80)), gen_mant());
    case 12: return f80_make(s, (uint16_t)(0x7FFE - pick(80)), gen_mant());
    case 13: return f80_make(s, (uint16_t)(1 + pick(0x7FFE)), gen_mant());
    case 14: return f80_make(s, 0, 0);
    case 15: return f80_make(s, 0, gen_mant() >> (1 + pick(63)));           /* denormal */
    case 16: return f80_make(s, 0, gen_mant());                             /* pseudo-denormal */
    case 17: return f80_make(s, (uint16_t)(1 + pick(0x7FFE)), gen_mant() >> 1);   /* unnormal */
    case 18: return f80_make(s, 0x7FFF, 1ull << 63);
    default: return f80_make(s, 0x7FFF, gen_mant() | (rnd() & 1 ? 0 : 1ull << 62));
    }
}

/* A second operand: often close to the first (cancellation, equal values). */
static struct f80 gen_near(struct f80 a)
{
    if (!pick(5) && f80_normal(a)) {            /* 60-140 binades apart: all of it sticky */
        int d = 60 + (int)pick(80), e = f80_exp(a) + (rnd() & 1 ? d : -d);
        if (e >= 1 && e <= 0x7FFE)
            return f80_make((int)(rnd() & 1), (uint16_t)e, gen_mant());
    }
    if (pick(3))
        return gen_f80();
    struct f80 b = a;
    b.se = (uint16_t)(b.se + (int)pick(5) - 2);
    b.mant ^= rnd() >> pick(64);
    if (rnd() & 1)
        b.se ^= 0x8000;
    return b;
}

static uint64_t gen_f64(void)
{
    if (pick(4))
        return (uint64_t)(rnd() & 1) << 63 | (uint64_t)(1023 - 40 + pick(80)) << 52 | (gen_mant() >> 11 & 0xFFFFFFFFFFFFFull);
    return rnd() >> pick(2) << pick(2);
}

static uint32_t gen_f32(void)
{
    if (pick(4))
        return (uint32_t)(rnd() & 1) << 31 | (127 - 30 + pick(60)) << 23 | (uint32_t)(gen_mant() >> 40 & 0x7FFFFF);
    return (uint32_t)rnd();
}

static uint16_t gen_fcw(void)
{
    static const uint16_t pcs[4] = { 0x0000, 0x0100, 0x0200, 0x0300 };
    uint16_t masks = pick(4) ? 0x3F : (uint16_t)(rnd() & 0x3F);
    return (uint16_t)(0x0040 | masks | pcs[pick(4)] | (uint16_t)(pick(4) << 10));
}

static struct f80_env env_of(uint16_t cw)
{
    struct f80_env e = { (uint8_t)((cw >> 10) & 3), (uint8_t)((cw >> 8) & 3), (uint8_t)(cw & 0x3F), 0 };
    return e;
}

#define SAME(what, fr, ff, gr, gf)                                                            \
    ck_assert_msg((fr).se == (gr).se && (fr).mant == (gr).mant && (ff) == (gf),               \
                  "%s cw %04X: %04X:%016llX %04X vs %04X:%016llX %04X (a %04X:%016llX b %04X:%016llX)", \
                  what, cw, (fr).se, (unsigned long long)(fr).mant, ff, (gr).se,              \
                  (unsigned long long)(gr).mant, gf, a.se, (unsigned long long)a.mant, b.se,  \
                  (unsigned long long)b.mant)

START_TEST(test_float80_fast_paths)
{
    long hits = 0, tries = 0;
    for (int n = 0; n < 400000; n++) {
        uint16_t cw = gen_fcw();
        struct f80f_rnd m = f80f_rnd_of(cw);
        unsigned rc = (cw >> 10) & 3;
        struct f80 a = gen_f80(), b = gen_near(a), r, g;
        uint16_t fl = 0;
        struct f80_env e = env_of(cw);
        int ok;
        tries++;
        switch (n % 7) {
        case 0:
            ok = f80f_addsub(m, a, b, 0, &r, &fl);
            g = f80_add(&e, a, b);
            break;
        case 1:
            ok = f80f_addsub(m, a, b, 1, &r, &fl);
            g = f80_sub(&e, a, b);
            break;
        case 2:
            ok = f80f_mul(m, a, b, &r, &fl);
            g = f80_mul(&e, a, b);
            break;
        case 3:
            ok = f80f_div(m, a, b, &r, &fl);
            g = f80_div(&e, a, b);
            break;
        case 4: {
            int c = f80f_compare(a, b), gc = f80_compare(&e, a, b, (int)(rnd() & 1));
            ok = c >= 0;
            if (ok)
                ck_assert_msg(c == gc && !e.flags, "compare cw %04X", cw);
            hits += ok;
            continue;
        }
        case 5: {
            uint64_t bits = 0, gb;
            int fb = rnd() & 1 ? 52 : 23;
            ok = f80f_to_ieee(rc, a, fb, &bits, &fl);
            gb = fb == 52 ? f80_to_f64(&e, a) : f80_to_f32(&e, a);
            if (ok)
                ck_assert_msg(bits == gb && fl == e.flags, "store%d cw %04X %04X:%016llX", fb, cw, a.se,
                              (unsigned long long)a.mant);
            hits += ok;
            continue;
        }
        default: {
            static const int widths[3] = { 16, 32, 64 };
            int w = widths[pick(3)];
            int64_t v = 0, gv;
            if (pick(2))                                        /* integers in range */
                a = f80_make((int)(rnd() & 1), (uint16_t)(F80_BIAS + pick(64)), gen_mant());
            ok = f80f_to_int(rc, a, w, &v, &fl);
            gv = f80_to_int(&e, a, w);
            if (ok)
                ck_assert_msg(v == gv && fl == e.flags, "fist%d cw %04X %04X:%016llX", w, cw, a.se,
                              (unsigned long long)a.mant);
            hits += ok;
            continue;
        }
        }
        if (ok)
            SAME("arith", r, fl, g, e.flags);
        hits += ok;
    }
    /* loads */
    for (int n = 0; n < 100000; n++) {
        uint16_t cw = gen_fcw();
        struct f80_env e = env_of(cw);
        struct f80 r, g, a = { 0, 0 }, b = a;
        uint16_t fl = 0;
        int ok;
        if (n & 1) {
            uint64_t v = gen_f64();
            ok = f80f_from_f64(v, &r);
            g = f80_from_f64(&e, v);
        } else {
            uint32_t v = gen_f32();
            ok = f80f_from_f32(v, &r);
            g = f80_from_f32(&e, v);
        }
        if (ok)
            SAME("load", r, fl, g, e.flags);
        int64_t iv = (int64_t)(rnd() >> pick(64)) * (rnd() & 1 ? -1 : 1);
        r = f80f_from_int(iv);
        g = f80_from_i64(iv);
        SAME("fild", r, fl, g, fl);
        hits += ok;
        tries++;
    }
    /* most random cases are common ones: the fast paths must take them */
    ck_assert_msg(hits > tries / 2, "fast paths took %ld of %ld", hits, tries);
}
END_TEST

/* ---- handlers against op_fpu_esc ---- */

#define DSEG 0x3000u
struct machine {
    struct physmem pm;
    struct cpu cpu;
    int ferr_calls, ferr_level;
};
static struct machine *MC;
#define C (&MC->cpu)

static void ferr_cb(void *opaque, int level)
{
    struct machine *m = opaque;
    m->ferr_calls++;
    m->ferr_level = level;
}

static void setup(void)
{
    MC = calloc(1, sizeof(*MC));
    ck_assert_int_eq(physmem_init(&MC->pm, 1u << 20), 0);
    ck_assert_int_eq(cpu_init(C, &MC->pm), 0);
    cpu_load_seg_real(C, S_CS, 0);
    for (int s = 0; s < 6; s++)
        if (s != S_CS)
            cpu_load_seg_real(C, s, DSEG);
    C->ferr = ferr_cb;
    C->io_opaque = MC;
}

static void teardown(void)
{
    cpu_free(C);
    physmem_free(&MC->pm);
    free(MC);
}

struct bytes {
    const uint8_t *b;
    unsigned n;
};

static int fetch(void *ctx, unsigned k)
{
    const struct bytes *x = ctx;
    return k < x->n ? x->b[k] : -1;
}

/* The guest-visible state an x87 instruction can change. */
struct snap {
    struct fpu f;
    uint32_t regs[8], eflags;
    uint8_t mem[32];
    int ferr_calls, ferr_level;
};

static void take(struct snap *s, uint32_t lin)
{
    memset(s, 0, sizeof(*s));
    s->f = C->fpu;
    memcpy(s->regs, C->regs, sizeof(s->regs));
    s->eflags = cpu_get_eflags(C);
    for (unsigned k = 0; k < sizeof(s->mem); k++)
        s->mem[k] = (uint8_t)phys_read(&MC->pm, lin + k, 1);
    s->ferr_calls = MC->ferr_calls;
    s->ferr_level = MC->ferr_level;
}

static void restore(const struct snap *s, uint32_t lin)
{
    C->fpu = s->f;
    memcpy(C->regs, s->regs, sizeof(s->regs));
    cpu_set_eflags(C, s->eflags, 0x8D5);
    for (unsigned k = 0; k < sizeof(s->mem); k++)
        phys_write(&MC->pm, lin + k, s->mem[k], 1);
    MC->ferr_calls = s->ferr_calls;
    MC->ferr_level = s->ferr_level;
}

static int same(const struct snap *a, const struct snap *b)
{
    const struct fpu *x = &a->f, *y = &b->f;
    return !memcmp(x->mant, y->mant, sizeof(x->mant)) && !memcmp(x->se, y->se, sizeof(x->se)) &&
           x->fcw == y->fcw && x->fsw == y->fsw && x->tags == y->tags && x->fop == y->fop &&
           x->fip == y->fip && x->fdp == y->fdp && x->fcs == y->fcs && x->fds == y->fds &&
           !memcmp(a->regs, b->regs, sizeof(a->regs)) && a->eflags == b->eflags &&
           !memcmp(a->mem, b->mem, sizeof(a->mem)) && a->ferr_calls == b->ferr_calls &&
           a->ferr_level == b->ferr_level;
}

/* A random x87 state: tags, TOP, contents, FCW, FSW flags (sometimes with
 * ES/B pending), EFLAGS, and the memory operand's bytes. */
static void randomise(uint32_t lin)
{
    struct fpu *f = &C->fpu;
    for (int p = 0; p < 8; p++) {
        struct f80 v = gen_f80();
        f->mant[p] = v.mant;
        f->se[p] = v.se;
    }
    f->tags = (uint16_t)(pick(3) ? rnd() | rnd() : rnd()) & 0xFF;
    if (!pick(8))
        f->tags = 0xFF;
    f->fcw = gen_fcw();
    uint16_t flags = pick(2) ? 0 : (uint16_t)(rnd() & 0x7F);
    f->fsw = (uint16_t)((rnd() & 0x4700) | (uint16_t)(pick(8) << 11) | flags);
    if (flags & ~f->fcw & 0x3F)
        f->fsw |= FSW_ES | FSW_B;
    switch (pick(24)) {                         /* inconsistent, as FLDENV may leave it */
    case 0: f->fsw ^= FSW_ES; break;
    case 1: f->fsw ^= FSW_B; break;
    case 2: f->fsw ^= FSW_ES | FSW_B; break;
    }
    f->fip = (uint32_t)rnd();
    f->fdp = (uint32_t)rnd();
    f->fop = (uint16_t)(rnd() & 0x7FF);
    f->fcs = (uint16_t)rnd();
    f->fds = (uint16_t)rnd();
    for (int r = 0; r < 8; r++)
        C->regs[r] = (uint32_t)rnd();
    cpu_set_eflags(C, (uint32_t)rnd() & 0x8D5, 0x8D5);
    uint64_t m[4];
    for (int k = 0; k < 4; k++) {
        switch (pick(4)) {
        case 0: m[k] = gen_f64(); break;
        case 1: m[k] = gen_f32() | (uint64_t)gen_f32() << 32; break;
        case 2: m[k] = (uint64_t)(int64_t)(int32_t)(rnd() >> pick(64)); break;
        default: m[k] = rnd(); break;
        }
        if (!pick(6)) {                         /* an 80-bit value at the start */
            struct f80 v = gen_f80();
            m[0] = v.mant;
            m[1] = v.se;
        }
    }
    for (int k = 0; k < 32; k++)
        phys_write(&MC->pm, lin + (uint32_t)k, (uint32_t)(m[k / 8] >> (8 * (k % 8))) & 0xFF, 1);
}

START_TEST(test_handlers_match_general)
{
    /* offsets of the memory operand (in DS): aligned, misaligned, across
     * pages (the general path), and far apart so that the TLB misses too */
    static const uint16_t offs[] = { 0x0100, 0x0104, 0x0102, 0x0101, 0x0FF8, 0x0FFC, 0x0FFE, 0x0FF6, 0x5000, 0x7FF4 };
    long fast = 0, total = 0;
    for (int opc = 0xD8; opc <= 0xDF; opc++) {
        for (int modrm = 0; modrm < 256; modrm++) {
            if ((modrm >> 6) != 3 && (modrm >> 6 || (modrm & 7) != 6))
                continue;                       /* memory: [disp16] only */
            uint8_t code[8] = { (uint8_t)opc, (uint8_t)modrm, 0, 0 };
            struct insn i;
            int specialised = 0;
            for (int n = 0; n < 300; n++) {
                uint16_t off = offs[pick(sizeof(offs) / sizeof(offs[0]))];
                code[2] = (uint8_t)off;
                code[3] = (uint8_t)(off >> 8);
                struct bytes bx = { code, (modrm >> 6) == 3 ? 2u : 4u };
                memset(&i, 0, sizeof(i));
                ck_assert_int_eq(decode_insn(&i, fetch, &bx, 0), DEC_OK);
                if (i.fn == op_fpu_esc || i.fn == op_ud)
                    break;                      /* not specialised: nothing to compare */
                specialised = 1;
                uint32_t lin = (modrm >> 6) == 3 ? DSEG * 16 + 0x100 : DSEG * 16 + off;
                randomise(lin);
                if (!pick(4))
                    mmu_flush(&C->mmu, 1);          /* TLB misses: the general path */
                C->fault_eip = (uint32_t)rnd() & 0xFFFF;
                C->eip = (C->fault_eip + i.len) & 0xFFFF;
                struct snap before, a, b;
                take(&before, lin);
                int first_fast = (int)(rnd() & 1);
                for (int k = 0; k < 2; k++) {
                    restore(&before, lin);
                    if (k == first_fast)
                        i.fn(C, &i);
                    else
                        op_fpu_esc(C, &i);
                    take(k == first_fast ? &a : &b, lin);
                }
                ck_assert_msg(same(&a, &b),
                              "%02X %02X (off %04X): fast fsw %04X tags %02X, general fsw %04X tags %02X; "
                              "fcw %04X fsw %04X tags %02X before",
                              opc, modrm, off, a.f.fsw, a.f.tags, b.f.fsw, b.f.tags, before.f.fcw,
                              before.f.fsw, before.f.tags);
                total++;
            }
            fast += specialised;
        }
    }
    ck_assert_msg(fast > 150, "only %ld forms specialised", fast);
    ck_assert_int_gt(total, 40000);
}
END_TEST

Suite *fpu_fast_suite(void)
{
    Suite *s = suite_create("fpu_fast");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_float80_fast_paths);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_handlers_match_general);
    suite_add_tcase(s, tc);
    return s;
}
