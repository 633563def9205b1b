/* Software x87 floating point: the 80-bit extended format (1 sign bit, 15-bit
 * exponent, 64-bit significand with explicit integer bit), computed the same
 * on every host with integer arithmetic only (never the host's float, double
 * or long double). Rounding control, precision control and the exception
 * flags follow the x87 (Intel SDM vol. 1, ch. 4 and 8). */
#ifndef SV_FLOAT80_H
#define SV_FLOAT80_H
#include <stdint.h>

struct f80 {
    uint64_t mant;   /* significand, integer bit at 63 */
    uint16_t se;     /* sign (bit 15) and biased exponent */
};

/* Exception flags as in the x87 status word, plus C1 (rounded up / stack). */
#define F80_IE 0x0001u
#define F80_DE 0x0002u
#define F80_ZE 0x0004u
#define F80_OE 0x0008u
#define F80_UE 0x0010u
#define F80_PE 0x0020u
#define F80_SF 0x0040u
#define F80_C1 0x0200u

/* Rounding control (FCW bits 10-11) and precision control (bits 8-9). */
enum { F80_RN = 0, F80_RD = 1, F80_RU = 2, F80_RZ = 3 };
enum { F80_P24 = 0, F80_P53 = 2, F80_P64 = 3 };

/* Per-operation environment: rc/pc/mask come from the control word, flags
 * accumulate what the operation raised (the caller clears them). */
struct f80_env {
    uint8_t rc, pc;
    uint8_t mask;    /* FCW exception masks; unmasked OE/UE wrap the exponent */
    uint16_t flags;
};

#define F80_BIAS 16383

static inline struct f80 f80_make(int sign, uint16_t exp, uint64_t mant)
{
    struct f80 r = { mant, (uint16_t)((sign ? 0x8000u : 0) | (exp & 0x7FFFu)) };
    return r;
}
static inline int f80_sign(struct f80 a) { return a.se >> 15; }
static inline int f80_exp(struct f80 a) { return a.se & 0x7FFF; }

/* Classes (FXAM order of C3,C2,C0 is derived from these in fpu.c) */
enum f80_class { F80_UNSUPPORTED, F80_NAN, F80_NORMAL, F80_INF, F80_ZERO, F80_DENORMAL };
enum f80_class f80_classify(struct f80 a);
/* A normal finite value (integer bit set, exponent 1..7FFEh): the operands
 * every operation's fast path takes. */
static inline int f80_normal(struct f80 a)
{
    return (uint16_t)((a.se & 0x7FFF) - 1) < 0x7FFE && (a.mant >> 63);
}
int f80_is_snan(struct f80 a);
struct f80 f80_indefinite(void);

/* Arithmetic; `pc` applies only where the SDM says (add/sub/mul/div/sqrt). */
struct f80 f80_add(struct f80_env *e, struct f80 a, struct f80 b);
struct f80 f80_sub(struct f80_env *e, struct f80 a, struct f80 b);
struct f80 f80_mul(struct f80_env *e, struct f80 a, struct f80 b);
struct f80 f80_div(struct f80_env *e, struct f80 a, struct f80 b);
struct f80 f80_sqrt(struct f80_env *e, struct f80 a);
struct f80 f80_round_int(struct f80_env *e, struct f80 a);            /* FRNDINT */
struct f80 f80_scale(struct f80_env *e, struct f80 a, struct f80 b);  /* FSCALE */
/* FXTRACT: *sig gets the significand (exponent 0), returns the exponent. */
struct f80 f80_xtract(struct f80_env *e, struct f80 a, struct f80 *sig);
/* FPREM (ieee = 0) / FPREM1 (ieee = 1). *status gets C0/C1/C2/C3 in FSW bit
 * positions (C2 = incomplete reduction). */
struct f80 f80_rem(struct f80_env *e, struct f80 a, struct f80 b, int ieee, uint16_t *status);

/* Comparison: returns 0 (a > b), 1 (a < b), 2 (equal), 3 (unordered).
 * quiet = 1: only SNaN raises IE (FUCOM); 0: any NaN does (FCOM). */
enum { F80_GT = 0, F80_LT = 1, F80_EQ = 2, F80_UN = 3 };
int f80_compare(struct f80_env *e, struct f80 a, struct f80 b, int quiet);

/* Conversions */
struct f80 f80_from_i64(int64_t v);
struct f80 f80_from_f32(struct f80_env *e, uint32_t v);
struct f80 f80_from_f64(struct f80_env *e, uint64_t v);
/* Integer of `bits` (16/32/64) rounded per e->rc; out of range -> IE and
 * the integer indefinite (most negative value). */
int64_t f80_to_int(struct f80_env *e, struct f80 a, int bits);
uint32_t f80_to_f32(struct f80_env *e, struct f80 a);
uint64_t f80_to_f64(struct f80_env *e, struct f80 a);
/* Packed BCD, 10 bytes: 18 digits little-endian, sign in bit 7 of byte 9. */
struct f80 f80_from_bcd(const uint8_t bcd[10]);
void f80_to_bcd(struct f80_env *e, struct f80 a, uint8_t bcd[10]);

/* Constants (FLD1 ... FLDZ): 0 = 1, 1 = log2(10), 2 = log2(e), 3 = pi,
 * 4 = log10(2), 5 = ln(2), 6 = +0. Rounded per e->rc. */
struct f80 f80_const(struct f80_env *e, int which);

/* Transcendentals, computed with 128-bit fixed-point series. */
struct f80 f80_f2xm1(struct f80_env *e, struct f80 a);
struct f80 f80_yl2x(struct f80_env *e, struct f80 y, struct f80 x);
struct f80 f80_yl2xp1(struct f80_env *e, struct f80 y, struct f80 x);
struct f80 f80_atan2(struct f80_env *e, struct f80 y, struct f80 x);   /* FPATAN */
/* FSIN/FCOS/FSINCOS/FPTAN: returns 0, or 1 when |a| >= 2^63 (C2, operand
 * left as is). Either output pointer may be NULL. */
int f80_sincos(struct f80_env *e, struct f80 a, struct f80 *s, struct f80 *c);
int f80_tan(struct f80_env *e, struct f80 a, struct f80 *t);

#endif
