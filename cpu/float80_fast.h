/* Inline fast paths of the x87 basic operations (Intel SDM vol. 1, 4.8 and
 * 8.1.5 rounding and precision control) for the common case only: normal
 * operands (f80_normal) and a result inside the normal range. Each returns
 * 1 with exactly the result and flags the f80_* function gives, or 0 when
 * the case is not covered (then the caller uses the f80_* function). The
 * equality is checked on random operands by tests/unit/test_f80fast.c. */
#ifndef SV_FLOAT80_FAST_H
#define SV_FLOAT80_FAST_H
#include "cpu/float80.h"
#include "cpu/float80_int.h"

/* Inlined into each specialised handler, so that flags stay in registers. */
#if defined(__GNUC__) || defined(__clang__)
#define F80F_INLINE static inline __attribute__((always_inline))
#else
#define F80F_INLINE static inline
#endif

/* Rounding parameters from the FCW: rc, and the significand bits below
 * the precision (64 - 24, 64 - 53, 0; PC = 01b counts as 64 bits). */
struct f80f_rnd {
    unsigned rc, drop;
};

F80F_INLINE struct f80f_rnd f80f_rnd_of(uint16_t fcw)
{
    static const uint8_t drop[4] = { 40, 0, 11, 0 };
    struct f80f_rnd r = { (fcw >> 10) & 3u, drop[(fcw >> 8) & 3] };
    return r;
}

/* Whether a rounding of an inexact value goes up (magnitude), given the
 * dropped bits g left-aligned (non-zero) and the kept lsb. */
F80F_INLINE int f80f_up(unsigned rc, int sign, uint64_t g, int lsb_set)
{
    switch (rc) {
    case F80_RN: return g > (1ull << 63) || (g == (1ull << 63) && lsb_set);
    case F80_RD: return sign;
    case F80_RU: return !sign;
    default: return 0;
    }
}

/* sign * (hi:lo) * 2^(exp - BIAS - 63), hi normalized, rounded to the
 * precision with exp in 1..7FFEh (what pack_norm does without falling back
 * to f80_pack). lo holds further bits (any non-zero value is inexact). */
F80F_INLINE int f80f_pack(struct f80f_rnd m, int sign, int32_t exp, uint64_t hi, uint64_t lo,
                            struct f80 *r, uint16_t *fl)
{
    if ((uint32_t)(exp - 1) >= 0x7FFEu)
        return 0;
    uint64_t lsb = 1ull << m.drop;
    uint64_t g = m.drop ? hi << (64 - m.drop) | (lo != 0) : lo;
    hi &= ~(lsb - 1);
    if (g) {
        if (f80f_up(m.rc, sign, g, (hi & lsb) != 0)) {
            hi += lsb;
            if (!hi) {
                if (exp == 0x7FFE)
                    return 0;                   /* overflows */
                hi = 1ull << 63;
                exp++;
            }
            *fl |= F80_PE | F80_C1;
        } else {
            *fl |= F80_PE;
        }
    }
    *r = f80_make(sign, (uint16_t)exp, hi);
    return 1;
}

static inline int f80f_zero(struct f80 a) { return !(a.se & 0x7FFF) && !a.mant; }

/* a + b (negb = 0) or a - b (negb = 1) */
F80F_INLINE int f80f_addsub(struct f80f_rnd m, struct f80 a, struct f80 b, int negb, struct f80 *r, uint16_t *fl)
{
    int sa = f80_sign(a), sb = f80_sign(b) ^ negb;
    if (!f80_normal(a) || !f80_normal(b)) {
        /* zeros with zeros or normals: x + 0 is x rounded to the precision */
        if (f80f_zero(a) && f80f_zero(b)) {
            *r = f80_make(sa == sb ? sa : m.rc == F80_RD, 0, 0);
            return 1;
        }
        if (f80f_zero(a) && f80_normal(b))
            return f80f_pack(m, sb, f80_exp(b), b.mant, 0, r, fl);
        if (f80f_zero(b) && f80_normal(a))
            return f80f_pack(m, sa, f80_exp(a), a.mant, 0, r, fl);
        return 0;
    }
    int32_t ea = f80_exp(a), eb = f80_exp(b);
    uint64_t ma = a.mant, mb = b.mant;
    int rs = sa, sub = sa ^ sb;                 /* result sign: the larger one's */
    if (eb > ea || (eb == ea && mb > ma)) {
        int32_t te = ea;
        uint64_t tm = ma;
        ea = eb; ma = mb;
        eb = te; mb = tm;
        rs = sb;
    }
    uint32_t d = (uint32_t)(ea - eb);
    if (d >= 64) {
        /* the smaller operand lies wholly below hi: shifted as shr128 does
         * it (sticky in bit 0, all of it sticky from 128 bits on) */
        uint64_t ylo = d >= 128 ? 1 : d == 64 ? mb : mb >> (d - 64) | ((mb << (128 - d)) != 0);
        if (!sub)
            return f80f_pack(m, rs, ea, ma, ylo, r, fl);
        uint64_t hh = ma - (ylo != 0), ll = 0 - ylo;
        norm128(&ea, &hh, &ll);
        return f80f_pack(m, rs, ea, hh, ll, r, fl);
    }
    uint64_t lo = (mb << 1) << (63 - d), yh = mb >> d, h;   /* lo = 0 for d = 0 */
    if (!sub) {
        h = ma + yh;
        if (h < yh) {                           /* carry out: shift right one */
            lo = lo >> 1 | h << 63 | (lo & 1);
            h = h >> 1 | 1ull << 63;
            ea++;
        }
        return f80f_pack(m, rs, ea, h, lo, r, fl);
    }
    h = ma - yh - (lo != 0);
    lo = 0 - lo;
    if (!h && !lo) {
        *r = f80_make(m.rc == F80_RD, 0, 0);
        return 1;
    }
    norm128(&ea, &h, &lo);
    return f80f_pack(m, rs, ea, h, lo, r, fl);
}

F80F_INLINE int f80f_mul(struct f80f_rnd m, struct f80 a, struct f80 b, struct f80 *r, uint16_t *fl)
{
    if (!f80_normal(a) || !f80_normal(b)) {
        /* zero times zero or a normal: a signed zero */
        if ((f80f_zero(a) || f80_normal(a)) && (f80f_zero(b) || f80_normal(b))) {
            *r = f80_make(f80_sign(a) ^ f80_sign(b), 0, 0);
            return 1;
        }
        return 0;
    }
    uint64_t hi, lo;
    int32_t exp = f80_exp(a) + f80_exp(b) - F80_BIAS + 1;
    mul64(a.mant, b.mant, &hi, &lo);
    if (!(hi >> 63)) {
        hi = hi << 1 | lo >> 63;
        lo <<= 1;
        exp--;
    }
    return f80f_pack(m, f80_sign(a) ^ f80_sign(b), exp, hi, lo, r, fl);
}

F80F_INLINE int f80f_div(struct f80f_rnd m, struct f80 a, struct f80 b, struct f80 *r, uint16_t *fl)
{
    if (!f80_normal(a) || !f80_normal(b)) {
        if (f80f_zero(a) && f80_normal(b)) {      /* 0 / normal */
            *r = f80_make(f80_sign(a) ^ f80_sign(b), 0, 0);
            return 1;
        }
        return 0;
    }
    uint64_t n = a.mant, d = b.mant, rem, qh, ql;
    int32_t exp = f80_exp(a) - f80_exp(b) + F80_BIAS;
    qh = div128_64(n >> 1, n << 63, d, &rem);   /* n / d * 2^127: n >> 1 < d */
    /* Rounding needs two more quotient bits and whether anything is left,
     * not the next 64 bits: two steps of long division (2 rem < 2^65, so
     * rem >= d - rem stands for 2 rem >= d). */
    uint64_t b1 = rem >= d - rem, r1 = b1 ? rem - (d - rem) : rem << 1;
    uint64_t b2 = r1 >= d - r1, r2 = b2 ? r1 - (d - r1) : r1 << 1;
    ql = b1 << 63 | b2 << 62 | (r2 != 0);
    if (!(qh >> 63)) {
        qh = qh << 1 | ql >> 63;
        ql <<= 1;
        exp--;
    }
    return f80f_pack(m, f80_sign(a) ^ f80_sign(b), exp, qh, ql, r, fl);
}

/* FCOM/FUCOM of normals and zeros (no flags): F80_GT/LT/EQ, or -1. */
F80F_INLINE int f80f_compare(struct f80 a, struct f80 b)
{
    int sa = f80_sign(a), sb = f80_sign(b);
    if (!f80_normal(a) || !f80_normal(b)) {
        if (f80f_zero(a) && f80f_zero(b))
            return F80_EQ;
        if (f80f_zero(a) && f80_normal(b))
            return sb ? F80_GT : F80_LT;
        if (f80f_zero(b) && f80_normal(a))
            return sa ? F80_LT : F80_GT;
        return -1;
    }
    return f80_order_normals(a, b);
}

/* Loads of binary64/binary32 normals and zeros (no flags). */
F80F_INLINE int f80f_from_f64(uint64_t v, struct f80 *r)
{
    uint32_t exp = (uint32_t)(v >> 52) & 0x7FF;
    int s = (int)(v >> 63);
    if (exp - 1 < 0x7FEu)
        *r = f80_make(s, (uint16_t)(exp - 1023 + F80_BIAS), 1ull << 63 | v << 11);
    else if (!(v << 1))
        *r = f80_make(s, 0, 0);
    else
        return 0;
    return 1;
}

F80F_INLINE int f80f_from_f32(uint32_t v, struct f80 *r)
{
    uint32_t exp = (v >> 23) & 0xFF;
    int s = (int)(v >> 31);
    if (exp - 1 < 0xFEu)
        *r = f80_make(s, (uint16_t)(exp - 127 + F80_BIAS), 1ull << 63 | (uint64_t)v << 40);
    else if (!(v << 1))
        *r = f80_make(s, 0, 0);
    else
        return 0;
    return 1;
}

F80F_INLINE struct f80 f80f_from_int(int64_t v) { return f80_int_from_i64(v); }

/* Stores to binary64 (fb = 52) or binary32 (fb = 23) of a zero, or of a
 * normal value whose rounded result is a normal of that format. */
F80F_INLINE int f80f_to_ieee(unsigned rc, struct f80 a, int fb, uint64_t *bits, uint16_t *fl)
{
    int32_t bias = fb == 52 ? 1023 : 127;
    int32_t emin = F80_BIAS - bias + 1, emx = F80_BIAS + bias, ex = f80_exp(a);
    int drop = 63 - fb, sign = f80_sign(a);
    if (!(a.mant >> 63) || ex < emin || ex > emx) {
        if (!f80f_zero(a))
            return 0;
        *bits = (uint64_t)sign << (fb == 52 ? 63 : 31);
        return 1;
    }
    uint64_t lsb = 1ull << drop, h = a.mant & ~(lsb - 1), g = a.mant << (64 - drop);
    if (g) {
        if (f80f_up(rc, sign, g, (h & lsb) != 0)) {
            h += lsb;
            if (!h) {
                if (ex == emx)
                    return 0;                   /* overflows */
                h = 1ull << 63;
                ex++;
            }
            *fl |= F80_PE | F80_C1;
        } else {
            *fl |= F80_PE;
        }
    }
    *bits = (uint64_t)sign << (fb == 52 ? 63 : 31) | (uint64_t)(ex - emin + 1) << fb |
            ((h >> drop) & ((1ull << fb) - 1));
    return 1;
}

/* FIST of a zero or a normal with |a| < 2^63 to an integer of `bits` bits. */
F80F_INLINE int f80f_to_int(unsigned rc, struct f80 a, int bits, int64_t *v, uint16_t *fl)
{
    int32_t ue = f80_exp(a) - F80_BIAS;
    int sign = f80_sign(a);
    uint64_t ip, g;
    if (!f80_normal(a) || ue > 62) {
        if (!f80f_zero(a))
            return 0;
        *v = 0;
        return 1;
    }
    if (ue >= 0) {
        ip = a.mant >> (63 - ue);
        g = a.mant << (ue + 1);
    } else {                                    /* |a| < 1: 0 or 1 */
        ip = 0;
        g = ue == -1 ? a.mant : 1;              /* half and the rest, or below half */
    }
    int up = g && f80f_up(rc, sign, g, (int)(ip & 1));
    ip += (uint64_t)up;
    uint64_t lim = 1ull << (bits - 1);
    if (ip > lim || (ip == lim && !sign))
        return 0;                               /* out of range: IE */
    if (g)
        *fl |= up ? F80_PE | F80_C1 : F80_PE;
    *v = sign ? (int64_t)(0 - ip) : (int64_t)ip;
    return 1;
}

#endif
