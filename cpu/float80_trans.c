/* x87 transcendental instructions (Intel SDM vol. 2: F2XM1, FYL2X, FYL2XP1,
 * FPATAN, FSIN, FCOS, FSINCOS, FPTAN) in deterministic integer arithmetic:
 * a 128-bit-significand working format, Taylor/atanh series, and argument
 * reduction modulo pi/2 with a 192-bit pi. Results are rounded once to 64
 * bits, so they are at least as accurate as the hardware's (< 1 ulp); real
 * x87 reduces with a 66-bit pi, so FSIN etc. near multiples of pi differ. */
#include "cpu/float80_int.h"

/* The working-format helpers are inlined into the series loops: passed by
 * value, the 24-byte struct went through memory on every call. */
#if defined(__GNUC__) || defined(__clang__)
#define XF_INLINE static inline __attribute__((always_inline))
#else
#define XF_INLINE static inline
#endif

/* value = (hi:lo / 2^127) * 2^exp; hi bit 63 set unless zero */
struct xf {
    int sign;
    int32_t exp;
    uint64_t hi, lo;
};

XF_INLINE int xf_zero(const struct xf *a) { return !a->hi && !a->lo; }

XF_INLINE struct xf xf_make(int sign, int32_t exp, uint64_t hi, uint64_t lo)
{
    struct xf r = { sign, exp, hi, lo };
    norm128(&r.exp, &r.hi, &r.lo);
    return r;
}

XF_INLINE struct xf xf_u64(uint64_t v) { return xf_make(0, 63, v, 0); }

static struct xf xf_from(const struct unp *u)
{
    return xf_make(u->sign, u->exp - F80_BIAS, u->hi, u->lo);
}

XF_INLINE struct xf xf_neg(struct xf a)
{
    a.sign ^= 1;
    return a;
}

XF_INLINE struct xf xf_add(struct xf a, struct xf b)
{
    if (xf_zero(&a))
        return b;
    if (xf_zero(&b))
        return a;
    if (b.exp > a.exp || (b.exp == a.exp && (b.hi > a.hi || (b.hi == a.hi && b.lo > a.lo)))) {
        struct xf t = a;
        a = b;
        b = t;
    }
    int32_t d = a.exp - b.exp;
    shr128(&b.hi, &b.lo, d > 130 ? 130 : d);
    if (a.sign == b.sign) {
        if (add128(&a.hi, &a.lo, b.hi, b.lo)) {
            shr128(&a.hi, &a.lo, 1);
            a.hi |= 1ull << 63;
            a.exp++;
        }
        return a;
    }
    sub128(&a.hi, &a.lo, b.hi, b.lo);
    return xf_make(a.sign, a.exp, a.hi, a.lo);
}

XF_INLINE struct xf xf_sub(struct xf a, struct xf b) { return xf_add(a, xf_neg(b)); }

XF_INLINE struct xf xf_mul(struct xf a, struct xf b)
{
    if (xf_zero(&a) || xf_zero(&b))
        return xf_make(a.sign ^ b.sign, 0, 0, 0);
    uint64_t hh_h, hh_l, hl_h, hl_l, lh_h, lh_l, ll_h, ll_l;
    mul64(a.hi, b.hi, &hh_h, &hh_l);
    mul64(a.hi, b.lo, &hl_h, &hl_l);
    mul64(a.lo, b.hi, &lh_h, &lh_l);
    mul64(a.lo, b.lo, &ll_h, &ll_l);
    /* 256-bit sum, keep the top 128 (+ sticky) */
    uint64_t w1 = ll_h, w2 = hh_l, w3 = hh_h, c;
    w1 += hl_l; c = w1 < hl_l;
    w1 += lh_l; c += w1 < lh_l;
    w2 += c; c = w2 < c;
    w2 += hl_h; c += w2 < hl_h;
    w2 += lh_h; c += w2 < lh_h;
    w3 += c;
    uint64_t hi = w3, lo = w2 | ((w1 | ll_l) != 0);
    /* product of two [1,2) values is in [1,4): value = hi:lo / 2^126 */
    return xf_make(a.sign ^ b.sign, a.exp + b.exp + 1, hi, lo);
}

/* One quotient digit of (u2:u1:u0) / (b1:b0) with (u2:u1) < (b1:b0) and
 * b1 normalized (Knuth, TAOCP vol. 2, 4.3.1 algorithm D: the estimate from
 * the top digits is at most 2 too large). The remainder goes to (u1:u0). */
static uint64_t div_digit(uint64_t u2, uint64_t *u1, uint64_t *u0, uint64_t b1, uint64_t b0)
{
    uint64_t q = ~0ull, rh, ph, p0, p1, p2;
    if (u2 < b1)
        q = div128_64(u2, *u1, b1, &rh);
    mul64(q, b0, &ph, &p0);
    mul64(q, b1, &p2, &p1);
    p1 += ph;
    p2 += p1 < ph;
    while (p2 > u2 || (p2 == u2 && (p1 > *u1 || (p1 == *u1 && p0 > *u0)))) {
        q--;
        uint64_t borrow = p0 < b0;
        p0 -= b0;
        uint64_t t = p1 - b1;
        p2 -= (p1 < b1) | (t < borrow);
        p1 = t - borrow;
    }
    sub128(u1, u0, p1, p0);
    return q;
}

XF_INLINE struct xf xf_div(struct xf a, struct xf b)
{
    if (!a.hi && !a.lo)
        return xf_make(a.sign ^ b.sign, a.exp - b.exp, 0, 0);
    /* q = floor(A * 2^127 / B) of the 128-bit significands, sticky for a
     * non-zero remainder: A * 2^127 as four digits n3..n0 (n0 = 0) */
    uint64_t n3 = a.hi >> 1, n2 = a.hi << 63 | a.lo >> 1, n1 = a.lo << 63, n0 = 0;
    if (!b.lo) {            /* a 64-bit divisor (the series' integers): n0 drops out */
        uint64_t r, qh = div128_64(n3, n2, b.hi, &r);
        uint64_t ql = div128_64(r, n1, b.hi, &r);
        return xf_make(a.sign ^ b.sign, a.exp - b.exp, qh, ql | (r != 0));
    }
    uint64_t qh = div_digit(n3, &n2, &n1, b.hi, b.lo);
    uint64_t ql = div_digit(n2, &n1, &n0, b.hi, b.lo);
    return xf_make(a.sign ^ b.sign, a.exp - b.exp, qh, ql | ((n1 | n0) != 0));
}

/* Rounds to the 80-bit result; `exact` clear adds a sticky bit (the true
 * value of a transcendental at these arguments is never representable). */
static struct f80 xf_round(struct f80_env *e, struct xf a, int exact)
{
    if (xf_zero(&a))
        return f80_make(a.sign, 0, 0);
    return f80_pack(e, a.sign, a.exp + F80_BIAS, a.hi, a.lo | (uint64_t)!exact, 64);
}

/* Constants to 128 bits (from a 400-bit computation). */
static const struct xf XF_LN2 = { 0, -1, 0xB17217F7D1CF79ABull, 0xC9E3B39803F2F6AFull };
static const struct xf XF_L2E = { 0, 0, 0xB8AA3B295C17F0BBull, 0xBE87FED0691D3E88ull };
static const struct xf XF_PIO2 = { 0, 0, 0xC90FDAA22168C234ull, 0xC4C6628B80DC1CD1ull };
static const struct xf XF_2OPI = { 0, -1, 0xA2F9836E4E441529ull, 0xFC2757D1F534DDC0ull };
/* pi/2 = PIO2_192 * 2^-191, least significant word first */
static const uint64_t PIO2_192[3] = { 0x29024E088A67CC74ull, 0xC4C6628B80DC1CD1ull, 0xC90FDAA22168C234ull };

/* 1/n for n = 1..127 (2^(127+k)/n truncated, sticky in bit 0; k = the
 * bits of n - 1): the series multiply by these rather than divide by n,
 * a division being many times slower than a multiplication. Generated
 * with exact integer arithmetic: 2^(127+k) // n. */
static const struct xf XF_RECIP[127] = {
    { 0, 0, 0x8000000000000000ull, 0x0000000000000000ull },
    { 0, -1, 0x8000000000000000ull, 0x0000000000000000ull },
    { 0, -2, 0xAAAAAAAAAAAAAAAAull, 0xAAAAAAAAAAAAAAABull },
    { 0, -2, 0x8000000000000000ull, 0x0000000000000000ull },
    { 0, -3, 0xCCCCCCCCCCCCCCCCull, 0xCCCCCCCCCCCCCCCDull },
    { 0, -3, 0xAAAAAAAAAAAAAAAAull, 0xAAAAAAAAAAAAAAABull },
    { 0, -3, 0x9249249249249249ull, 0x2492492492492493ull },
    { 0, -3, 0x8000000000000000ull, 0x0000000000000000ull },
    { 0, -4, 0xE38E38E38E38E38Eull, 0x38E38E38E38E38E3ull },
    { 0, -4, 0xCCCCCCCCCCCCCCCCull, 0xCCCCCCCCCCCCCCCDull },
    { 0, -4, 0xBA2E8BA2E8BA2E8Bull, 0xA2E8BA2E8BA2E8BBull },
    { 0, -4, 0xAAAAAAAAAAAAAAAAull, 0xAAAAAAAAAAAAAAABull },
    { 0, -4, 0x9D89D89D89D89D89ull, 0xD89D89D89D89D89Dull },
    { 0, -4, 0x9249249249249249ull, 0x2492492492492493ull },
    { 0, -4, 0x8888888888888888ull, 0x8888888888888889ull },
    { 0, -4, 0x8000000000000000ull, 0x0000000000000000ull },
    { 0, -5, 0xF0F0F0F0F0F0F0F0ull, 0xF0F0F0F0F0F0F0F1ull },
    { 0, -5, 0xE38E38E38E38E38Eull, 0x38E38E38E38E38E3ull },
    { 0, -5, 0xD79435E50D79435Eull, 0x50D79435E50D7943ull },
    { 0, -5, 0xCCCCCCCCCCCCCCCCull, 0xCCCCCCCCCCCCCCCDull },
    { 0, -5, 0xC30C30C30C30C30Cull, 0x30C30C30C30C30C3ull },
    { 0, -5, 0xBA2E8BA2E8BA2E8Bull, 0xA2E8BA2E8BA2E8BBull },
    { 0, -5, 0xB21642C8590B2164ull, 0x2C8590B21642C859ull },
    { 0, -5, 0xAAAAAAAAAAAAAAAAull, 0xAAAAAAAAAAAAAAABull },
    { 0, -5, 0xA3D70A3D70A3D70Aull, 0x3D70A3D70A3D70A3ull },
    { 0, -5, 0x9D89D89D89D89D89ull, 0xD89D89D89D89D89Dull },
    { 0, -5, 0x97B425ED097B425Eull, 0xD097B425ED097B43ull },
    { 0, -5, 0x9249249249249249ull, 0x2492492492492493ull },
    { 0, -5, 0x8D3DCB08D3DCB08Dull, 0x3DCB08D3DCB08D3Dull },
    { 0, -5, 0x8888888888888888ull, 0x8888888888888889ull },
    { 0, -5, 0x8421084210842108ull, 0x4210842108421085ull },
    { 0, -5, 0x8000000000000000ull, 0x0000000000000000ull },
    { 0, -6, 0xF83E0F83E0F83E0Full, 0x83E0F83E0F83E0F9ull },
    { 0, -6, 0xF0F0F0F0F0F0F0F0ull, 0xF0F0F0F0F0F0F0F1ull },
    { 0, -6, 0xEA0EA0EA0EA0EA0Eull, 0xA0EA0EA0EA0EA0EBull },
    { 0, -6, 0xE38E38E38E38E38Eull, 0x38E38E38E38E38E3ull },
    { 0, -6, 0xDD67C8A60DD67C8Aull, 0x60DD67C8A60DD67Dull },
    { 0, -6, 0xD79435E50D79435Eull, 0x50D79435E50D7943ull },
    { 0, -6, 0xD20D20D20D20D20Dull, 0x20D20D20D20D20D3ull },
    { 0, -6, 0xCCCCCCCCCCCCCCCCull, 0xCCCCCCCCCCCCCCCDull },
    { 0, -6, 0xC7CE0C7CE0C7CE0Cull, 0x7CE0C7CE0C7CE0C7ull },
    { 0, -6, 0xC30C30C30C30C30Cull, 0x30C30C30C30C30C3ull },
    { 0, -6, 0xBE82FA0BE82FA0BEull, 0x82FA0BE82FA0BE83ull },
    { 0, -6, 0xBA2E8BA2E8BA2E8Bull, 0xA2E8BA2E8BA2E8BBull },
    { 0, -6, 0xB60B60B60B60B60Bull, 0x60B60B60B60B60B7ull },
    { 0, -6, 0xB21642C8590B2164ull, 0x2C8590B21642C859ull },
    { 0, -6, 0xAE4C415C9882B931ull, 0x0572620AE4C415C9ull },
    { 0, -6, 0xAAAAAAAAAAAAAAAAull, 0xAAAAAAAAAAAAAAABull },
    { 0, -6, 0xA72F05397829CBC1ull, 0x4E5E0A72F0539783ull },
    { 0, -6, 0xA3D70A3D70A3D70Aull, 0x3D70A3D70A3D70A3ull },
    { 0, -6, 0xA0A0A0A0A0A0A0A0ull, 0xA0A0A0A0A0A0A0A1ull },
    { 0, -6, 0x9D89D89D89D89D89ull, 0xD89D89D89D89D89Dull },
    { 0, -6, 0x9A90E7D95BC609A9ull, 0x0E7D95BC609A90E7ull },
    { 0, -6, 0x97B425ED097B425Eull, 0xD097B425ED097B43ull },
    { 0, -6, 0x94F2094F2094F209ull, 0x4F2094F2094F2095ull },
    { 0, -6, 0x9249249249249249ull, 0x2492492492492493ull },
    { 0, -6, 0x8FB823EE08FB823Eull, 0xE08FB823EE08FB83ull },
    { 0, -6, 0x8D3DCB08D3DCB08Dull, 0x3DCB08D3DCB08D3Dull },
    { 0, -6, 0x8AD8F2FBA9386822ull, 0xB63CBEEA4E1A08ADull },
    { 0, -6, 0x8888888888888888ull, 0x8888888888888889ull },
    { 0, -6, 0x864B8A7DE6D1D608ull, 0x64B8A7DE6D1D6087ull },
    { 0, -6, 0x8421084210842108ull, 0x4210842108421085ull },
    { 0, -6, 0x8208208208208208ull, 0x2082082082082083ull },
    { 0, -6, 0x8000000000000000ull, 0x0000000000000000ull },
    { 0, -7, 0xFC0FC0FC0FC0FC0Full, 0xC0FC0FC0FC0FC0FDull },
    { 0, -7, 0xF83E0F83E0F83E0Full, 0x83E0F83E0F83E0F9ull },
    { 0, -7, 0xF4898D5F85BB3950ull, 0x3D226357E16ECE55ull },
    { 0, -7, 0xF0F0F0F0F0F0F0F0ull, 0xF0F0F0F0F0F0F0F1ull },
    { 0, -7, 0xED7303B5CC0ED730ull, 0x3B5CC0ED7303B5CDull },
    { 0, -7, 0xEA0EA0EA0EA0EA0Eull, 0xA0EA0EA0EA0EA0EBull },
    { 0, -7, 0xE6C2B4481CD85689ull, 0x039B0AD12073615Bull },
    { 0, -7, 0xE38E38E38E38E38Eull, 0x38E38E38E38E38E3ull },
    { 0, -7, 0xE070381C0E070381ull, 0xC0E070381C0E0703ull },
    { 0, -7, 0xDD67C8A60DD67C8Aull, 0x60DD67C8A60DD67Dull },
    { 0, -7, 0xDA740DA740DA740Dull, 0xA740DA740DA740DBull },
    { 0, -7, 0xD79435E50D79435Eull, 0x50D79435E50D7943ull },
    { 0, -7, 0xD4C77B03531DEC0Dull, 0x4C77B03531DEC0D5ull },
    { 0, -7, 0xD20D20D20D20D20Dull, 0x20D20D20D20D20D3ull },
    { 0, -7, 0xCF6474A8819EC8E9ull, 0x51033D91D2A2067Bull },
    { 0, -7, 0xCCCCCCCCCCCCCCCCull, 0xCCCCCCCCCCCCCCCDull },
    { 0, -7, 0xCA4587E6B74F0329ull, 0x161F9ADD3C0CA459ull },
    { 0, -7, 0xC7CE0C7CE0C7CE0Cull, 0x7CE0C7CE0C7CE0C7ull },
    { 0, -7, 0xC565C87B5F9D4D1Bull, 0xC2503159721ED7E7ull },
    { 0, -7, 0xC30C30C30C30C30Cull, 0x30C30C30C30C30C3ull },
    { 0, -7, 0xC0C0C0C0C0C0C0C0ull, 0xC0C0C0C0C0C0C0C1ull },
    { 0, -7, 0xBE82FA0BE82FA0BEull, 0x82FA0BE82FA0BE83ull },
    { 0, -7, 0xBC52640BC52640BCull, 0x52640BC52640BC53ull },
    { 0, -7, 0xBA2E8BA2E8BA2E8Bull, 0xA2E8BA2E8BA2E8BBull },
    { 0, -7, 0xB81702E05C0B8170ull, 0x2E05C0B81702E05Dull },
    { 0, -7, 0xB60B60B60B60B60Bull, 0x60B60B60B60B60B7ull },
    { 0, -7, 0xB40B40B40B40B40Bull, 0x40B40B40B40B40B5ull },
    { 0, -7, 0xB21642C8590B2164ull, 0x2C8590B21642C859ull },
    { 0, -7, 0xB02C0B02C0B02C0Bull, 0x02C0B02C0B02C0B1ull },
    { 0, -7, 0xAE4C415C9882B931ull, 0x0572620AE4C415C9ull },
    { 0, -7, 0xAC7691840AC76918ull, 0x40AC7691840AC769ull },
    { 0, -7, 0xAAAAAAAAAAAAAAAAull, 0xAAAAAAAAAAAAAAABull },
    { 0, -7, 0xA8E83F5717C0A8E8ull, 0x3F5717C0A8E83F57ull },
    { 0, -7, 0xA72F05397829CBC1ull, 0x4E5E0A72F0539783ull },
    { 0, -7, 0xA57EB50295FAD40Aull, 0x57EB50295FAD40A5ull },
    { 0, -7, 0xA3D70A3D70A3D70Aull, 0x3D70A3D70A3D70A3ull },
    { 0, -7, 0xA237C32B16CFD772ull, 0x0F353A4C0A237C33ull },
    { 0, -7, 0xA0A0A0A0A0A0A0A0ull, 0xA0A0A0A0A0A0A0A1ull },
    { 0, -7, 0x9F1165E7254813E2ull, 0x2CBCE4A9027C4597ull },
    { 0, -7, 0x9D89D89D89D89D89ull, 0xD89D89D89D89D89Dull },
    { 0, -7, 0x9C09C09C09C09C09ull, 0xC09C09C09C09C09Dull },
    { 0, -7, 0x9A90E7D95BC609A9ull, 0x0E7D95BC609A90E7ull },
    { 0, -7, 0x991F1A515885FB37ull, 0x072D753BD02647C7ull },
    { 0, -7, 0x97B425ED097B425Eull, 0xD097B425ED097B43ull },
    { 0, -7, 0x964FDA6C0964FDA6ull, 0xC0964FDA6C0964FDull },
    { 0, -7, 0x94F2094F2094F209ull, 0x4F2094F2094F2095ull },
    { 0, -7, 0x939A85C40939A85Cull, 0x40939A85C40939A9ull },
    { 0, -7, 0x9249249249249249ull, 0x2492492492492493ull },
    { 0, -7, 0x90FDBC090FDBC090ull, 0xFDBC090FDBC090FDull },
    { 0, -7, 0x8FB823EE08FB823Eull, 0xE08FB823EE08FB83ull },
    { 0, -7, 0x8E78356D1408E783ull, 0x56D1408E78356D15ull },
    { 0, -7, 0x8D3DCB08D3DCB08Dull, 0x3DCB08D3DCB08D3Dull },
    { 0, -7, 0x8C08C08C08C08C08ull, 0xC08C08C08C08C08Dull },
    { 0, -7, 0x8AD8F2FBA9386822ull, 0xB63CBEEA4E1A08ADull },
    { 0, -7, 0x89AE4089AE4089AEull, 0x4089AE4089AE4089ull },
    { 0, -7, 0x8888888888888888ull, 0x8888888888888889ull },
    { 0, -7, 0x8767AB5F34E47EF1ull, 0x30A9419637021D9Full },
    { 0, -7, 0x864B8A7DE6D1D608ull, 0x64B8A7DE6D1D6087ull },
    { 0, -7, 0x8534085340853408ull, 0x5340853408534085ull },
    { 0, -7, 0x8421084210842108ull, 0x4210842108421085ull },
    { 0, -7, 0x83126E978D4FDF3Bull, 0x645A1CAC083126E9ull },
    { 0, -7, 0x8208208208208208ull, 0x2082082082082083ull },
    { 0, -7, 0x8102040810204081ull, 0x0204081020408103ull },
};

XF_INLINE struct xf xf_recip(uint64_t n) { return XF_RECIP[n - 1]; }

static int xf_small(const struct xf *term, const struct xf *sum)
{
    return xf_zero(term) || term->exp < sum->exp - 132;
}

/* expm1(y) = y + y^2/2! + ... for |y| <= ln 2 */
static struct xf xf_expm1(struct xf y)
{
    struct xf sum = y, t = y;
    for (uint64_t n = 2; n < 60; n++) {
        t = xf_mul(xf_mul(t, y), xf_recip(n));
        sum = xf_add(sum, t);
        if (xf_small(&t, &sum))
            break;
    }
    return sum;
}

/* 2 * atanh(s) = ln((1+s)/(1-s)) for |s| < 0.2 */
static struct xf xf_2atanh(struct xf s)
{
    struct xf s2 = xf_mul(s, s), p = s, sum = s;
    for (uint64_t n = 3; n < 100; n += 2) {
        p = xf_mul(p, s2);
        struct xf t = xf_mul(p, xf_recip(n));
        sum = xf_add(sum, t);
        if (xf_small(&t, &sum))
            break;
    }
    sum.exp++;
    return sum;
}

/* log2 of a positive normal value */
static struct xf xf_log2(struct xf x)
{
    /* x = m * 2^k with m in [sqrt(1/2), sqrt(2)) */
    int32_t k = x.exp;
    struct xf m = x;
    m.exp = 0;
    if (m.hi > 0xB504F333F9DE6484ull) {
        m.exp = -1;
        k++;
    }
    struct xf one = xf_u64(1);
    struct xf s = xf_div(xf_sub(m, one), xf_add(m, one));
    struct xf l = xf_mul(xf_2atanh(s), XF_L2E);
    if (k == 0)
        return l;
    struct xf kk = xf_u64((uint64_t)(k < 0 ? -(int64_t)k : k));
    kk.sign = k < 0;
    return xf_add(kk, l);
}

/* atan(k/16) for k = 1..16, generated with 80-digit decimal arithmetic
 * (atan(16/16) = pi/4 is XF_PIO2 halved, a check of the table) */
static const struct xf XF_ATAN16[16] = {
    { 0, -5, 0xFFAADDB967EF4E36ull, 0xCB2792DC0E2E0D51ull },   /* atan(1/16) */
    { 0, -4, 0xFEADD4D5617B6E32ull, 0xC897989F3E888EF7ull },   /* atan(2/16) */
    { 0, -3, 0xBDCBDA5E72D81134ull, 0x7B0B4F881C9C7487ull },   /* atan(3/16) */
    { 0, -3, 0xFADBAFC96406EB15ull, 0x6DC79EF5F7A217E5ull },   /* atan(4/16) */
    { 0, -2, 0x9B13B9B83F5E5E69ull, 0xC5ABB498D27AF328ull },   /* atan(5/16) */
    { 0, -2, 0xB7B0CA0F26F78473ull, 0x8AA32122DCFE4483ull },   /* atan(6/16) */
    { 0, -2, 0xD327761E611FE5B6ull, 0x427C95E9001E7136ull },   /* atan(7/16) */
    { 0, -2, 0xED63382B0DDA7B45ull, 0x6FE445ECBC3A8D03ull },   /* atan(8/16) */
    { 0, -1, 0x832BF4A6D9867E2Aull, 0x4B6A09CB61A515C0ull },   /* atan(9/16) */
    { 0, -1, 0x8F005D5EF7F59F9Bull, 0x5C835E1665C43747ull },   /* atan(10/16) */
    { 0, -1, 0x9A2F80E671BDDA20ull, 0x4226F8E2204FF3BCull },   /* atan(11/16) */
    { 0, -1, 0xA4BC7D1934F70924ull, 0x19A87F2A457DAC9Eull },   /* atan(12/16) */
    { 0, -1, 0xAEAC4C38B4D8C080ull, 0x14725E2F3E52070Aull },   /* atan(13/16) */
    { 0, -1, 0xB8053E2BC2319E73ull, 0xCB2DA55210A4443Dull },   /* atan(14/16) */
    { 0, -1, 0xC0CE85B8AC526640ull, 0x89DD62C46E92FA24ull },   /* atan(15/16) */
    { 0, -1, 0xC90FDAA22168C234ull, 0xC4C6628B80DC1CD1ull },   /* atan(16/16) */
};

/* atan(t) for 0 <= t <= 1: atan(c) + atan(u) for c = k/16 nearest to t
 * and u = (t - c) / (1 + t c), |u| <= 1/32, by the series */
static struct xf xf_atan01(struct xf t)
{
    if (xf_zero(&t))
        return t;
    int32_t bits = t.exp + 5;                           /* integer bits of 32 t */
    uint64_t k = bits < 0 ? 0 : ((t.hi >> (63 - bits)) + 1) >> 1;
    struct xf u = t;
    if (k) {
        struct xf c = xf_u64(k);
        c.exp -= 4;
        u = xf_div(xf_sub(t, c), xf_add(xf_u64(1), xf_mul(t, c)));
    }
    struct xf u2 = xf_mul(u, u), p = u, sum = u;
    for (uint64_t n = 3; n < 100 && !xf_zero(&u); n += 2) {
        p = xf_neg(xf_mul(p, u2));
        struct xf term = xf_mul(p, xf_recip(n));
        sum = xf_add(sum, term);
        if (xf_small(&term, &sum))
            break;
    }
    return k ? xf_add(XF_ATAN16[k - 1], sum) : sum;
}

/* sin and cos of |r| <= ~pi/4 */
static void xf_sincos_small(struct xf r, struct xf *s, struct xf *c)
{
    struct xf r2 = xf_mul(r, r), t = r, ss = r, cc = xf_u64(1), u = cc;
    for (uint64_t n = 1; n < 40; n++) {
        t = xf_neg(xf_div(xf_mul(t, r2), xf_u64((2 * n) * (2 * n + 1))));
        u = xf_neg(xf_div(xf_mul(u, r2), xf_u64((2 * n - 1) * (2 * n))));
        ss = xf_add(ss, t);
        cc = xf_add(cc, u);
        if (xf_small(&t, &ss) && xf_small(&u, &cc))
            break;
    }
    *s = ss;
    *c = cc;
}

/* |x| (normal, < 2^63) reduced: r = |x| - k * pi/2, returns k mod 4. */
static int reduce(const struct unp *x, struct xf *r)
{
    struct xf ax = xf_from(x);
    ax.sign = 0;
    int32_t ue = x->exp - F80_BIAS;
    if (ue < -1) {
        *r = ax;
        return 0;
    }
    struct xf t = xf_mul(ax, XF_2OPI);
    uint64_t k = 0;
    if (t.exp >= -1) {
        /* round to nearest: floor(t + 1/2) */
        t = xf_add(t, xf_make(0, -1, 1ull << 63, 0));
        k = t.exp >= 63 ? t.hi : t.hi >> (63 - t.exp);
    }
    /* X = mx << (ue + 128) and K * P, both 256-bit, word 0 least significant */
    uint64_t X[4] = { 0, 0, 0, 0 }, KP[4] = { 0, 0, 0, 0 };
    int sh = ue + 128, w = sh / 64, b = sh % 64;
    X[w] = x->hi << b;
    if (w + 1 < 4)
        X[w + 1] = b ? x->hi >> (64 - b) : 0;
    for (int j = 0; j < 3; j++) {
        uint64_t h, l;
        mul64(k, PIO2_192[j], &h, &l);
        uint64_t c = 0;
        KP[j] += l; c = KP[j] < l;
        KP[j + 1] += h; uint64_t c2 = KP[j + 1] < h;
        KP[j + 1] += c; c2 += KP[j + 1] < c;
        for (int q = j + 2; q < 4 && c2; q++) {
            KP[q] += c2;
            c2 = KP[q] < c2;
        }
    }
    /* R = |X - KP| */
    int neg = 0;
    for (int j = 3; j >= 0; j--) {
        if (X[j] != KP[j]) {
            neg = KP[j] > X[j];
            break;
        }
    }
    uint64_t *A = neg ? KP : X, *B = neg ? X : KP, R[4], borrow = 0;
    for (int j = 0; j < 4; j++) {
        uint64_t d = A[j] - B[j];
        uint64_t nb = (A[j] < B[j]) || (d < borrow);
        R[j] = d - borrow;
        borrow = nb;
    }
    int top = 3;
    while (top > 0 && !R[top])
        top--;
    if (!R[top]) {
        *r = xf_make(0, 0, 0, 0);
        return (int)(k & 3);
    }
    /* top 128 bits starting at word `top` */
    uint64_t hi = R[top], lo = top > 0 ? R[top - 1] : 0, st = 0;
    for (int j = top - 2; j >= 0; j--)
        st |= R[j];
    *r = xf_make(neg, 64 * top + 63 - 191, hi, lo | (st != 0));
    return (int)(k & 3);
}

int f80_sincos(struct f80_env *e, struct f80 a, struct f80 *s, struct f80 *c)
{
    struct unp x;
    struct f80 r;
    f80_unpack(a, &x);
    if (f80_nan1(e, &x, &r) || x.cls == U_INF) {
        if (x.cls == U_INF)
            r = f80_invalid(e);
        if (s) *s = r;
        if (c) *c = r;
        return 0;
    }
    if (x.cls == U_ZERO) {
        if (s) *s = a;
        if (c) *c = f80_make(0, F80_BIAS, 1ull << 63);
        return 0;
    }
    if (x.exp - F80_BIAS >= 63)
        return 1;
    if (x.den)
        e->flags |= F80_DE;
    struct xf rr, ss, cc;
    int q = reduce(&x, &rr);
    xf_sincos_small(rr, &ss, &cc);
    struct xf sv = (q & 1) ? cc : ss, cv = (q & 1) ? ss : cc;
    if (q == 1 || q == 2)
        cv = xf_neg(cv);
    if (q >= 2)
        sv = xf_neg(sv);
    if (x.sign)
        sv = xf_neg(sv);
    struct f80_env es = *e, ec = *e;
    if (s) *s = xf_round(&es, sv, 0);
    if (c) *c = xf_round(&ec, cv, 0);
    e->flags |= (s ? es.flags : 0) | (c ? ec.flags : 0);
    if (s && c)
        e->flags = (uint16_t)((e->flags & ~F80_C1) | (ec.flags & F80_C1));
    return 0;
}

int f80_tan(struct f80_env *e, struct f80 a, struct f80 *t)
{
    struct unp x;
    struct f80 r;
    f80_unpack(a, &x);
    if (f80_nan1(e, &x, &r) || x.cls == U_INF) {
        *t = x.cls == U_INF ? f80_invalid(e) : r;
        return 0;
    }
    if (x.cls == U_ZERO) {
        *t = a;
        return 0;
    }
    if (x.exp - F80_BIAS >= 63)
        return 1;
    if (x.den)
        e->flags |= F80_DE;
    struct xf rr, ss, cc;
    int q = reduce(&x, &rr);
    xf_sincos_small(rr, &ss, &cc);
    struct xf v = (q & 1) ? xf_neg(xf_div(cc, ss)) : xf_div(ss, cc);
    if (x.sign)
        v = xf_neg(v);
    *t = xf_round(e, v, 0);
    return 0;
}

struct f80 f80_f2xm1(struct f80_env *e, struct f80 a)
{
    struct unp x;
    struct f80 r;
    f80_unpack(a, &x);
    if (f80_nan1(e, &x, &r))
        return r;
    if (x.cls == U_ZERO)
        return a;
    if (x.cls == U_INF)
        return x.sign ? f80_make(1, F80_BIAS, 1ull << 63) : a;
    if (x.den)
        e->flags |= F80_DE;
    if (x.exp == F80_BIAS && x.hi == 1ull << 63)       /* +-1: exact */
        return x.sign ? f80_make(1, F80_BIAS - 1, 1ull << 63) : a;
    struct xf v = xf_from(&x);
    if (v.exp > 6)
        v.exp = 6;                                      /* undefined range; stay finite */
    return xf_round(e, xf_expm1(xf_mul(v, XF_LN2)), 0);
}

/* y * log2(x) special cases shared by FYL2X; returns 1 when decided. */
static int yl2x_special(struct f80_env *e, const struct unp *y, const struct unp *x, struct f80 *r)
{
    if (f80_nan2(e, y, x, r))
        return 1;
    if (x->sign && x->cls != U_ZERO) {
        *r = f80_invalid(e);
        return 1;
    }
    if (x->cls == U_ZERO) {
        if (y->cls == U_ZERO) {
            *r = f80_invalid(e);
            return 1;
        }
        if (y->cls != U_INF)
            e->flags |= F80_ZE;
        *r = f80_make(!y->sign, 0x7FFF, 1ull << 63);
        return 1;
    }
    int one = x->exp == F80_BIAS && x->hi == 1ull << 63 && !x->den;
    if (x->cls == U_INF || y->cls == U_INF) {
        if ((x->cls == U_INF && y->cls == U_ZERO) || (y->cls == U_INF && one)) {
            *r = f80_invalid(e);
            return 1;
        }
        int lneg = x->cls != U_INF && x->exp < F80_BIAS;   /* log2(x) < 0 */
        *r = f80_make(y->sign ^ lneg, 0x7FFF, 1ull << 63);
        return 1;
    }
    if (x->den || y->den)
        e->flags |= F80_DE;
    if (y->cls == U_ZERO) {
        *r = f80_make(y->sign ^ (x->exp < F80_BIAS), 0, 0);
        return 1;
    }
    return 0;
}

struct f80 f80_yl2x(struct f80_env *e, struct f80 y, struct f80 x)
{
    struct unp ux, uy;
    struct f80 r;
    f80_unpack(x, &ux);
    f80_unpack(y, &uy);
    if (yl2x_special(e, &uy, &ux, &r))
        return r;
    if (ux.hi == 1ull << 63) {                  /* power of two: exact log */
        struct f80_env t = *e;
        t.pc = F80_P64;
        r = f80_mul(&t, y, f80_from_i64(ux.exp - F80_BIAS));
        e->flags |= t.flags & ~F80_DE;
        return r;
    }
    return xf_round(e, xf_mul(xf_from(&uy), xf_log2(xf_from(&ux))), 0);
}

struct f80 f80_yl2xp1(struct f80_env *e, struct f80 y, struct f80 x)
{
    struct unp ux, uy;
    struct f80 r;
    f80_unpack(x, &ux);
    f80_unpack(y, &uy);
    if (f80_nan2(e, &uy, &ux, &r))
        return r;
    if (ux.cls == U_ZERO) {
        if (uy.cls == U_INF)
            return f80_invalid(e);
        if (uy.den)
            e->flags |= F80_DE;
        return f80_make(ux.sign ^ uy.sign, 0, 0);
    }
    struct xf vx = xf_from(&ux), one = xf_u64(1);
    if (ux.cls == U_INF || (ux.sign && ux.exp >= F80_BIAS)) {   /* x <= -1: out of range */
        if (!ux.sign)
            return f80_make(uy.sign, 0x7FFF, 1ull << 63);
        return f80_invalid(e);
    }
    if (uy.cls == U_INF)
        return f80_make(uy.sign ^ ux.sign, 0x7FFF, 1ull << 63);
    if (ux.den || uy.den)
        e->flags |= F80_DE;
    if (uy.cls == U_ZERO)
        return f80_make(ux.sign ^ uy.sign, 0, 0);
    struct xf l;
    if (vx.exp < -1) {                          /* |x| < 1/2: log1p directly */
        struct xf s = xf_div(vx, xf_add(xf_u64(2), vx));
        l = xf_mul(xf_2atanh(s), XF_L2E);
    } else {
        l = xf_log2(xf_add(one, vx));
    }
    return xf_round(e, xf_mul(xf_from(&uy), l), 0);
}

struct f80 f80_atan2(struct f80_env *e, struct f80 y, struct f80 x)
{
    struct unp ux, uy;
    struct f80 r;
    f80_unpack(x, &ux);
    f80_unpack(y, &uy);
    if (f80_nan2(e, &uy, &ux, &r))
        return r;
    if (ux.den || uy.den)
        e->flags |= F80_DE;
    struct xf pio2 = XF_PIO2, pi = XF_PIO2, a;
    pi.exp++;
    if (uy.cls == U_ZERO) {
        if (!ux.sign)
            return f80_make(uy.sign, 0, 0);
        a = pi;
    } else if (ux.cls == U_ZERO) {
        a = pio2;
    } else if (uy.cls == U_INF || ux.cls == U_INF) {
        if (uy.cls == U_INF && ux.cls == U_INF) {
            struct xf q = pio2;
            q.exp--;
            a = ux.sign ? xf_add(q, pio2) : q;
        } else if (uy.cls == U_INF) {
            a = pio2;
        } else {
            if (!ux.sign)
                return f80_make(uy.sign, 0, 0);
            a = pi;
        }
    } else {
        struct xf vy = xf_from(&uy), vx = xf_from(&ux);
        vy.sign = vx.sign = 0;
        int swap = vy.exp > vx.exp || (vy.exp == vx.exp && vy.hi > vx.hi);
        a = swap ? xf_atan01(xf_div(vx, vy)) : xf_atan01(xf_div(vy, vx));
        if (swap)
            a = xf_sub(pio2, a);
        if (ux.sign)
            a = xf_sub(pi, a);
    }
    a.sign = uy.sign;
    return xf_round(e, a, 0);
}
