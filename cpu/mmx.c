/* MMX (Intel SDM vol. 1 ch. 9, vol. 2 MOVD..PXOR): the 57 instructions of
 * the original MMX set on MM0-MM7, which alias the x87 significands (the
 * exponent field reads as all ones after a write; TOP = 0 and all tags
 * valid after each instruction, EMMS empties them). 66-prefixed forms are
 * SSE2 and #UD here. */
#include "cpu/exec.h"

static uint64_t mm_get(const struct cpu *c, int r) { return c->fpu.mant[r & 7]; }

static void mm_set(struct cpu *c, int r, uint64_t v)
{
    c->fpu.mant[r & 7] = v;
    c->fpu.se[r & 7] = 0xFFFF;
}

/* The Q (mm/m64) operand */
static uint64_t src_q(struct cpu *c, const struct insn *i)
{
    if (i->mod == 3)
        return mm_get(c, i->rm);
    uint32_t ea = insn_ea(c, i);
    uint64_t lo = mem_read(c, i->seg, ea, 4);
    return lo | (uint64_t)mem_read(c, i->seg, ea + 4, 4) << 32;
}

/* Lane helpers: n-bit lanes of a and b combined by fn. */
typedef int64_t lane_fn(int64_t a, int64_t b, int bits);

static uint64_t lanes(uint64_t a, uint64_t b, int bits, int sgn, lane_fn *fn)
{
    uint64_t r = 0, mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
    for (int s = 0; s < 64; s += bits) {
        uint64_t x = (a >> s) & mask, y = (b >> s) & mask;
        int64_t xs = (int64_t)x, ys = (int64_t)y;
        if (sgn && bits < 64) {
            xs = (int64_t)(x << (64 - bits)) >> (64 - bits);
            ys = (int64_t)(y << (64 - bits)) >> (64 - bits);
        }
        r |= ((uint64_t)fn(xs, ys, bits) & mask) << s;
    }
    return r;
}

static int64_t sat(int64_t v, int bits, int sgn)
{
    int64_t lo = sgn ? -(1ll << (bits - 1)) : 0, hi = sgn ? (1ll << (bits - 1)) - 1 : (1ll << bits) - 1;
    return v < lo ? lo : v > hi ? hi : v;
}

static int64_t l_add(int64_t a, int64_t b, int n) { (void)n; return a + b; }
static int64_t l_sub(int64_t a, int64_t b, int n) { (void)n; return a - b; }
static int64_t l_adds(int64_t a, int64_t b, int n) { return sat(a + b, n, 1); }
static int64_t l_subs(int64_t a, int64_t b, int n) { return sat(a - b, n, 1); }
static int64_t l_addus(int64_t a, int64_t b, int n) { return sat(a + b, n, 0); }
static int64_t l_subus(int64_t a, int64_t b, int n) { return sat(a - b, n, 0); }
static int64_t l_cmpeq(int64_t a, int64_t b, int n) { (void)n; return a == b ? -1 : 0; }
static int64_t l_cmpgt(int64_t a, int64_t b, int n) { (void)n; return a > b ? -1 : 0; }
static int64_t l_mullw(int64_t a, int64_t b, int n) { (void)n; return a * b; }
static int64_t l_mulhw(int64_t a, int64_t b, int n) { (void)n; return (a * b) >> 16; }

/* PACKSS/PACKUS: narrow the `bits` lanes of a then b to bits/2 with saturation. */
static uint64_t pack(uint64_t a, uint64_t b, int bits, int sgn)
{
    int h = bits / 2, n = 64 / bits;
    uint64_t r = 0, m = (1ull << h) - 1;
    for (int k = 0; k < 2 * n; k++) {
        uint64_t src = k < n ? a : b;
        int s = (k % n) * bits;
        int64_t v = (int64_t)(src << (64 - bits - s)) >> (64 - bits);
        r |= ((uint64_t)sat(v, h, sgn) & m) << (k * h);
    }
    return r;
}

/* PUNPCKL/H: interleave `bits` lanes from the low (hi = 0) or high halves. */
static uint64_t unpack(uint64_t a, uint64_t b, int bits, int hi)
{
    uint64_t r = 0, m = bits == 32 ? 0xFFFFFFFFull : (1ull << bits) - 1;
    int n = 32 / bits;
    for (int k = 0; k < n; k++) {
        int s = (hi ? 32 : 0) + k * bits;
        r |= ((a >> s) & m) << (2 * k * bits);
        r |= ((b >> s) & m) << ((2 * k + 1) * bits);
    }
    return r;
}

/* Shifts by count (>= lane width: zero, or sign fill for arithmetic). */
static uint64_t shift(uint64_t a, uint64_t count, int bits, int kind)
{
    uint64_t r = 0, m = bits == 64 ? ~0ull : (1ull << bits) - 1;
    for (int s = 0; s < 64; s += bits) {
        uint64_t x = (a >> s) & m, v;
        if (kind == 2) {                  /* arithmetic right */
            int64_t sx = (int64_t)(x << (64 - bits)) >> (64 - bits);
            v = (uint64_t)(sx >> (count >= (uint64_t)bits ? bits - 1 : (int)count));
        } else if (count >= (uint64_t)bits) {
            v = 0;
        } else {
            v = kind ? x << count : x >> count;
        }
        r |= (v & m) << s;
    }
    return r;
}

static uint64_t pmaddwd(uint64_t a, uint64_t b)
{
    uint64_t r = 0;
    for (int k = 0; k < 2; k++) {
        int64_t s = 0;
        for (int j = 0; j < 2; j++) {
            int sh = 32 * k + 16 * j;
            s += (int64_t)(int16_t)(a >> sh) * (int16_t)(b >> sh);
        }
        r |= ((uint64_t)s & 0xFFFFFFFFu) << (32 * k);
    }
    return r;
}

static int has66(const struct cpu *c, const struct insn *i)
{
    int d32 = (c->segs[S_CS].flags & SEGF_DB) != 0;
    return (i->opsize == 4) != d32;
}

static uint64_t binop(unsigned opc, uint64_t a, uint64_t b)
{
    switch (opc) {
    case 0x60: return unpack(a, b, 8, 0);
    case 0x61: return unpack(a, b, 16, 0);
    case 0x62: return unpack(a, b, 32, 0);
    case 0x63: return pack(a, b, 16, 1);
    case 0x64: return lanes(a, b, 8, 1, l_cmpgt);
    case 0x65: return lanes(a, b, 16, 1, l_cmpgt);
    case 0x66: return lanes(a, b, 32, 1, l_cmpgt);
    case 0x67: return pack(a, b, 16, 0);
    case 0x68: return unpack(a, b, 8, 1);
    case 0x69: return unpack(a, b, 16, 1);
    case 0x6A: return unpack(a, b, 32, 1);
    case 0x6B: return pack(a, b, 32, 1);
    case 0x74: return lanes(a, b, 8, 0, l_cmpeq);
    case 0x75: return lanes(a, b, 16, 0, l_cmpeq);
    case 0x76: return lanes(a, b, 32, 0, l_cmpeq);
    case 0xD1: return shift(a, b, 16, 0);
    case 0xD2: return shift(a, b, 32, 0);
    case 0xD3: return shift(a, b, 64, 0);
    case 0xD5: return lanes(a, b, 16, 1, l_mullw);
    case 0xD8: return lanes(a, b, 8, 0, l_subus);
    case 0xD9: return lanes(a, b, 16, 0, l_subus);
    case 0xDB: return a & b;
    case 0xDC: return lanes(a, b, 8, 0, l_addus);
    case 0xDD: return lanes(a, b, 16, 0, l_addus);
    case 0xDF: return ~a & b;
    case 0xE1: return shift(a, b, 16, 2);
    case 0xE2: return shift(a, b, 32, 2);
    case 0xE5: return lanes(a, b, 16, 1, l_mulhw);
    case 0xE8: return lanes(a, b, 8, 1, l_subs);
    case 0xE9: return lanes(a, b, 16, 1, l_subs);
    case 0xEB: return a | b;
    case 0xEC: return lanes(a, b, 8, 1, l_adds);
    case 0xED: return lanes(a, b, 16, 1, l_adds);
    case 0xEF: return a ^ b;
    case 0xF1: return shift(a, b, 16, 1);
    case 0xF2: return shift(a, b, 32, 1);
    case 0xF3: return shift(a, b, 64, 1);
    case 0xF5: return pmaddwd(a, b);
    case 0xF8: return lanes(a, b, 8, 0, l_sub);
    case 0xF9: return lanes(a, b, 16, 0, l_sub);
    case 0xFA: return lanes(a, b, 32, 0, l_sub);
    case 0xFC: return lanes(a, b, 8, 0, l_add);
    case 0xFD: return lanes(a, b, 16, 0, l_add);
    default: return lanes(a, b, 32, 0, l_add);   /* 0xFE PADDD */
    }
}

void op_mmx(struct cpu *c, const struct insn *i)
{
    unsigned opc = i->opc & 0xFF;
    if (has66(c, i))
        cpu_exception(c, EXC_UD, -1);
    fpu_mmx_enter(c);
    switch (opc) {
    case 0x6E:                                          /* MOVD mm, r/m32 */
        mm_set(c, i->reg, rm_read(c, i, 4));
        break;
    case 0x7E:                                          /* MOVD r/m32, mm */
        rm_write(c, i, (uint32_t)mm_get(c, i->reg), 4);
        break;
    case 0x6F:                                          /* MOVQ mm, mm/m64 */
        mm_set(c, i->reg, src_q(c, i));
        break;
    case 0x7F:                                          /* MOVQ mm/m64, mm */
        if (i->mod == 3) {
            mm_set(c, i->rm, mm_get(c, i->reg));
        } else {
            uint32_t ea = insn_ea(c, i);
            uint64_t v = mm_get(c, i->reg);
            cpu_probe_write(c, i->seg, ea, 8);
            mem_write(c, i->seg, ea, (uint32_t)v, 4);
            mem_write(c, i->seg, ea + 4, (uint32_t)(v >> 32), 4);
        }
        break;
    case 0x71: case 0x72: case 0x73: {                  /* shifts by immediate */
        if ((i->modrm >> 6) != 3)
            cpu_exception(c, EXC_UD, -1);
        int bits = opc == 0x71 ? 16 : opc == 0x72 ? 32 : 64;
        int kind = i->reg == 2 ? 0 : i->reg == 4 ? 2 : 1;
        mm_set(c, i->rm, shift(mm_get(c, i->rm), i->imm & 0xFF, bits, kind));
        break;
    }
    default:
        mm_set(c, i->reg, binop(opc, mm_get(c, i->reg), src_q(c, i)));
        break;
    }
    fpu_mmx_done(c);
}
