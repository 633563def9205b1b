/* Internals shared by float80.c and float80_trans.c: 128-bit integer helpers
 * on uint64 pairs (unsigned __int128 and divq where available, with exact
 * portable fallbacks: results never depend on which) and the unpacked form. */
#ifndef SV_FLOAT80_INT_H
#define SV_FLOAT80_INT_H
#include <stdint.h>
#include "cpu/float80.h"

enum { U_ZERO, U_NORM, U_INF, U_QNAN, U_SNAN, U_BAD };

/* An operand: value = (hi:lo / 2^127) * 2^(exp - BIAS), hi normalized for
 * U_NORM (denormals are normalized, with den set for the DE flag). */
struct unp {
    int sign, cls, den;
    int32_t exp;
    uint64_t hi, lo;
};

/* Shifts right by n (0..130), or-ing lost bits into bit 0 (sticky). */
static inline void shr128(uint64_t *hi, uint64_t *lo, int n)
{
    if (n <= 0)
        return;
    if (n >= 128) {
        *lo = (*hi | *lo) != 0;
        *hi = 0;
    } else if (n >= 64) {
        uint64_t lost = *lo | (n > 64 ? *hi << (128 - n) : 0);
        *lo = (n == 64 ? *hi : *hi >> (n - 64)) | (lost != 0);
        *hi = 0;
    } else {
        uint64_t lost = *lo << (64 - n);
        *lo = (*lo >> n | *hi << (64 - n)) | (lost != 0);
        *hi >>= n;
    }
}

static inline int add128(uint64_t *hi, uint64_t *lo, uint64_t bh, uint64_t bl)
{
    uint64_t l = *lo + bl;
    uint64_t c = l < bl;
    uint64_t h = *hi + bh;
    int carry = h < bh;
    h += c;
    carry |= h < c;
    *lo = l;
    *hi = h;
    return carry;
}

static inline void sub128(uint64_t *hi, uint64_t *lo, uint64_t bh, uint64_t bl)
{
    uint64_t borrow = *lo < bl;
    *lo -= bl;
    *hi = *hi - bh - borrow;
}

/* 64x64 -> 128-bit product. unsigned __int128 where the compiler has it
 * (define F80_NO_INT128 to test the portable path: both are exact). */
#if defined(__SIZEOF_INT128__) && !defined(F80_NO_INT128)
#define F80_INT128 1
typedef unsigned __int128 f80_u128;
#endif

static inline void mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
#ifdef F80_INT128
    f80_u128 p = (f80_u128)a * b;
    *hi = (uint64_t)(p >> 64);
    *lo = (uint64_t)p;
#else
    uint64_t al = a & 0xFFFFFFFFu, ah = a >> 32, bl = b & 0xFFFFFFFFu, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (lh & 0xFFFFFFFFu) + (hl & 0xFFFFFFFFu);
    *lo = (mid << 32) | (ll & 0xFFFFFFFFu);
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
#endif
}

/* (uh:ul) / d with uh < d (so the quotient fits 64 bits); *r = remainder. */
static inline uint64_t div128_64(uint64_t uh, uint64_t ul, uint64_t d, uint64_t *r)
{
#if defined(__GNUC__) && defined(__x86_64__) && !defined(F80_NO_INT128)
    uint64_t q, rem;
    __asm__("divq %4" : "=a"(q), "=d"(rem) : "a"(ul), "d"(uh), "rm"(d));
    *r = rem;
    return q;
#elif defined(F80_INT128)
    f80_u128 u = (f80_u128)uh << 64 | ul;
    *r = (uint64_t)(u % d);
    return (uint64_t)(u / d);
#else
    uint64_t q = 0;
    for (int k = 0; k < 64; k++) {
        uint64_t top = uh >> 63;
        uh = uh << 1 | ul >> 63;
        ul <<= 1;
        q <<= 1;
        if (top || uh >= d) {
            uh -= d;
            q |= 1;
        }
    }
    *r = uh;
    return q;
#endif
}

/* Leading zeros of a non-zero value. */
static inline int clz64(uint64_t v)
{
#if defined(__GNUC__)
    return __builtin_clzll(v);
#else
    int n = 0;
    while (!(v >> 63)) {
        v <<= 1;
        n++;
    }
    return n;
#endif
}

/* Normalizes so that bit 63 of hi is set, adjusting exp. */
static inline void norm128(int32_t *exp, uint64_t *hi, uint64_t *lo)
{
    if (!*hi && !*lo)
        return;
    if (!*hi) {
        *hi = *lo;
        *lo = 0;
        *exp -= 64;
    }
    int n = clz64(*hi);
    if (n) {
        *hi = *hi << n | *lo >> (64 - n);
        *lo <<= n;
        *exp -= n;
    }
}

int f80_unpack(struct f80 a, struct unp *u);
int f80_nan1(struct f80_env *e, const struct unp *a, struct f80 *r);
int f80_nan2(struct f80_env *e, const struct unp *a, const struct unp *b, struct f80 *r);
struct f80 f80_invalid(struct f80_env *e);
int32_t f80_round(struct f80_env *e, int sign, int32_t exp, uint64_t hi, uint64_t lo, int p,
                  int32_t emin, int32_t emax, int wrap, uint64_t *mant);
struct f80 f80_pack(struct f80_env *e, int sign, int32_t exp, uint64_t hi, uint64_t lo, int p);
uint64_t f80_isqrt128(uint64_t nh, uint64_t nl, int *inexact, int *above);

/* An integer exactly (every int64 fits the 64-bit significand). */
static inline struct f80 f80_int_from_i64(int64_t v)
{
    if (!v)
        return f80_make(0, 0, 0);
    int s = v < 0;
    uint64_t m = s ? 0 - (uint64_t)v : (uint64_t)v;
    int n = clz64(m);
    return f80_make(s, (uint16_t)(F80_BIAS + 63 - n), m << n);
}

/* The order of two normals (F80_GT, F80_LT or F80_EQ): signs, then the
 * exponents, then the significands. */
static inline int f80_order_normals(struct f80 a, struct f80 b)
{
    int sa = f80_sign(a);
    if (sa != f80_sign(b))
        return sa ? F80_LT : F80_GT;
    if (a.se == b.se && a.mant == b.mant)
        return F80_EQ;
    int gt = a.se != b.se ? (a.se & 0x7FFF) > (b.se & 0x7FFF) : a.mant > b.mant;
    return gt ^ sa ? F80_GT : F80_LT;
}

#endif
