/* The x87 FPU of an i686 (Intel SDM vol. 1 ch. 8, vol. 2 FADD..FYL2XP1,
 * vol. 3 2.5 CR0.EM/TS/MP/NE and 6.15 #NM/#MF): register stack and tags,
 * status/control words, masked and unmasked exceptions (#MF with CR0.NE=1,
 * FERR# through cpu->ferr with NE=0, taken as if IGNNE# were asserted),
 * FIP/FDP/FOP, FSTENV/FLDENV/FSAVE/FRSTOR (16/32-bit, real/protected) and
 * FXSAVE/FXRSTOR. Arithmetic is cpu/float80.c. Not modelled: FISTTP (SSE3),
 * the unmasked-exception bias of FSCALE/FXTRACT corner cases. */
#include <string.h>
#include "cpu/exec.h"
#include "cpu/float80.h"

#define TOP(f) (((f)->fsw >> 11) & 7)

void fpu_init(struct fpu *f)
{
    f->fcw = 0x037F;
    f->fsw = 0;
    f->tags = 0;
    f->fop = 0;
    f->fip = f->fdp = 0;
    f->fcs = f->fds = 0;
}

void fpu_reset(struct fpu *f)
{
    memset(f, 0, sizeof(*f));
    fpu_init(f);
    f->fcw = 0x0040;               /* power-on values (SDM vol. 3, table 9-1) */
    f->tags = 0xFF;                /* FTW 5555h: all registers hold +0 */
}

static enum f80_class reg_class(const struct fpu *f, int p)
{
    struct f80 v = { f->mant[p], f->se[p] };
    return f80_classify(v);
}

uint16_t fpu_tag_word(const struct fpu *f)
{
    uint16_t tw = 0;
    for (int p = 0; p < 8; p++) {
        unsigned t;
        if (!(f->tags & (1u << p)))
            t = 3;
        else {
            enum f80_class k = reg_class(f, p);
            t = k == F80_ZERO ? 1 : k == F80_NORMAL ? 0 : 2;
        }
        tw |= (uint16_t)(t << (2 * p));
    }
    return tw;
}

/* ---- stack ---- */

static int phys(const struct fpu *f, int i) { return (TOP(f) + i) & 7; }
static int st_empty(const struct fpu *f, int i) { return !(f->tags & (1u << phys(f, i))); }

static struct f80 st_get(const struct fpu *f, int i)
{
    int p = phys(f, i);
    struct f80 v = { f->mant[p], f->se[p] };
    return v;
}

static void st_set(struct fpu *f, int i, struct f80 v)
{
    int p = phys(f, i);
    f->mant[p] = v.mant;
    f->se[p] = v.se;
    f->tags |= (uint16_t)(1u << p);
}

static void set_top(struct fpu *f, int top)
{
    f->fsw = (uint16_t)((f->fsw & ~FSW_TOP) | (top & 7) << 11);
}

static void pop(struct fpu *f)
{
    f->tags &= (uint16_t)~(1u << phys(f, 0));
    set_top(f, TOP(f) + 1);
}

static struct f80_env env(const struct fpu *f)
{
    struct f80_env e = { (uint8_t)((f->fcw >> 10) & 3), (uint8_t)((f->fcw >> 8) & 3), (uint8_t)(f->fcw & 0x3F), 0 };
    return e;
}

/* ---- exceptions ---- */

/* Recomputes ES/B from the flags and masks; drives FERR# with CR0.NE = 0.
 * `was`: ES before the instruction changed FSW. */
static void update_es_from(struct cpu *c, int was)
{
    struct fpu *f = &c->fpu;
    int now = (f->fsw & ~f->fcw & 0x3F) != 0;
    if (now)
        f->fsw |= FSW_ES | FSW_B;
    else
        f->fsw &= (uint16_t)~(FSW_ES | FSW_B);
    if (was != now && c->ferr && (!now || !(c->cr0 & CR0_NE))) {
        c->ferr(c->io_opaque, now);
        c->jit_attn = 1;   /* an IRQ may be pending now: compiled code returns to the loop */
    }
}

static int es_now(const struct cpu *c) { return (c->fpu.fsw & FSW_ES) != 0; }
static void update_es(struct cpu *c) { update_es_from(c, es_now(c)); }

/* Merges an operation's flags into FSW (C1 replaced); returns non-zero when
 * an unmasked IE/DE/ZE means the destination must stay as it was. */
static int raise(struct cpu *c, uint16_t flags)
{
    struct fpu *f = &c->fpu;
    if (!((f->fsw | flags) & ~f->fcw & 0x3F) && !(f->fsw & (FSW_ES | FSW_B))) {
        /* nothing unmasked before or after: ES, B and FERR# stay clear */
        f->fsw = (uint16_t)((f->fsw & ~FSW_C1) | (flags & (0x7F | FSW_C1)));
        return 0;
    }
    f->fsw = (uint16_t)((f->fsw & ~FSW_C1) | (flags & (0x7F | FSW_C1)));
    update_es(c);
    return flags & ~f->fcw & (F80_IE | F80_DE | F80_ZE);
}

/* Stack underflow (reading an empty register): IE|SF, C1 = 0. Returns 1
 * when masked (the caller stores the indefinite). */
static int underflow(struct cpu *c)
{
    raise(c, F80_IE | F80_SF);
    return (c->fpu.fcw & F80_IE) != 0;
}

/* Pushes v; on stack overflow sets IE|SF|C1 and pushes the indefinite when
 * masked, nothing when unmasked. */
static void push(struct cpu *c, struct f80 v)
{
    struct fpu *f = &c->fpu;
    int p = (TOP(f) - 1) & 7;
    if (f->tags & (1u << p)) {
        raise(c, F80_IE | F80_SF | F80_C1);
        if (!(f->fcw & F80_IE))
            return;
        v = f80_indefinite();
    }
    set_top(f, TOP(f) - 1);
    st_set(f, 0, v);
}

/* Before a waiting x87/MMX instruction: a pending unmasked exception is
 * #MF with CR0.NE = 1; with NE = 0 FERR# is already asserted. */
static void check_pending(struct cpu *c)
{
    if ((c->fpu.fsw & FSW_ES) && (c->cr0 & CR0_NE))
        cpu_exception(c, EXC_MF, -1);
}

void op_fwait(struct cpu *c, const struct insn *i)
{
    (void)i;
    if ((c->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
        cpu_exception(c, EXC_NM, -1);
    check_pending(c);
}

/* ---- memory operands ---- */

struct mem {
    int seg;
    uint32_t off;
};

static void rd(struct cpu *c, struct mem m, uint8_t *buf, int n)
{
    for (int k = 0; k < n;) {
        int s = n - k >= 4 ? 4 : n - k >= 2 ? 2 : 1;
        uint32_t v = mem_read(c, m.seg, m.off + (uint32_t)k, s);
        for (int b = 0; b < s; b++)
            buf[k + b] = (uint8_t)(v >> (8 * b));
        k += s;
    }
}

/* Whether an n-byte write split into 4-byte parts can fault only in its
 * first part: one page (same translation and rights) and inside a plain
 * (not expand-down) segment limit. Otherwise the whole range is probed
 * first, so that a fault leaves memory untouched. */
static int split_safe(const struct cpu *c, struct mem m, int n)
{
    const struct seg *s = &c->segs[m.seg];
    if (((s->base + m.off) & 0xFFF) > 0x1000u - (uint32_t)n)
        return 0;
    if (cpu_pmode(c) && !cpu_v86(c) && !(s->flags & 0x8) && (s->flags & 0x4))
        return 0;
    return m.off <= s->limit && s->limit - m.off >= (uint32_t)n - 1;
}

/* Reads and writes of 2, 4 or 8 bytes as integers (little-endian). */
static uint64_t rd_n(struct cpu *c, struct mem m, int n)
{
    if (n < 8)
        return cpu_read(c, m.seg, m.off, n);
    uint64_t lo = cpu_read(c, m.seg, m.off, 4);
    return lo | (uint64_t)cpu_read(c, m.seg, m.off + 4, 4) << 32;
}

static void wr_n(struct cpu *c, struct mem m, uint64_t v, int n)
{
    if (n < 8) {
        cpu_write(c, m.seg, m.off, (uint32_t)v, n);
        return;
    }
    if (!split_safe(c, m, n))
        cpu_probe_write(c, m.seg, m.off, n);
    cpu_write(c, m.seg, m.off, (uint32_t)v, 4);
    cpu_write(c, m.seg, m.off + 4, (uint32_t)(v >> 32), 4);
}

static void wr(struct cpu *c, struct mem m, const uint8_t *buf, int n)
{
    if (n > 4 && !split_safe(c, m, n))
        cpu_probe_write(c, m.seg, m.off, n);
    for (int k = 0; k < n;) {
        int s = n - k >= 4 ? 4 : n - k >= 2 ? 2 : 1;
        uint32_t v = 0;
        for (int b = 0; b < s; b++)
            v |= (uint32_t)buf[k + b] << (8 * b);
        mem_write(c, m.seg, m.off + (uint32_t)k, v, s);
        k += s;
    }
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = v << 8 | p[k];
    return v;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t get32(const uint8_t *p) { return get16(p) | get16(p + 2) << 16; }

static void put80(uint8_t *p, struct f80 v)
{
    put64(p, v.mant);
    put16(p + 8, v.se);
}

static struct f80 get80(const uint8_t *p)
{
    struct f80 v = { le64(p), (uint16_t)get16(p + 8) };
    return v;
}

/* Loads a memory operand of type `t` as an 80-bit value (flags into *e). */
enum { M32FP, M32INT, M64FP, M16INT };
static struct f80 load_num(struct cpu *c, struct mem m, int t, struct f80_env *e)
{
    switch (t) {
    case M32FP: return f80_from_f32(e, (uint32_t)rd_n(c, m, 4));
    case M32INT: return f80_from_i64((int32_t)rd_n(c, m, 4));
    case M64FP: return f80_from_f64(e, rd_n(c, m, 8));
    default: return f80_from_i64((int16_t)rd_n(c, m, 2));
    }
}

/* ---- FIP/FDP/FOP ---- */

static void record(struct cpu *c, const struct insn *i, const struct mem *m)
{
    struct fpu *f = &c->fpu;
    f->fip = c->fault_eip;
    f->fcs = c->segs[S_CS].sel;
    f->fop = (uint16_t)(((i->opc & 7) << 8) | i->modrm);
    if (m) {
        f->fdp = m->off;
        f->fds = c->segs[m->seg].sel;
    }
}

/* ---- arithmetic ---- */

/* op: ModRM.reg of D8 (0 add, 1 mul, 4 sub, 5 subr, 6 div, 7 divr) on the
 * destination value x and source y. */
static struct f80 arith(struct f80_env *e, int op, struct f80 x, struct f80 y)
{
    switch (op) {
    case 0: return f80_add(e, x, y);
    case 1: return f80_mul(e, x, y);
    case 4: return f80_sub(e, x, y);
    case 5: return f80_sub(e, y, x);
    case 6: return f80_div(e, x, y);
    default: return f80_div(e, y, x);
    }
}

static const uint16_t cc_of[4] = { 0, FSW_C0, FSW_C3, FSW_C3 | FSW_C2 | FSW_C0 };

static void set_cc(struct fpu *f, uint16_t cc)
{
    f->fsw = (uint16_t)((f->fsw & ~(FSW_C0 | FSW_C2 | FSW_C3)) | cc);
}

/* FCOM/FUCOM family on ST0 and y; npop pops afterwards. */
static void compare(struct cpu *c, struct f80 y, int y_empty, int quiet, int npop)
{
    struct fpu *f = &c->fpu;
    if (st_empty(f, 0) || y_empty) {
        if (underflow(c))
            set_cc(f, cc_of[F80_UN]);
    } else {
        struct f80_env e = env(f);
        int r = f80_compare(&e, st_get(f, 0), y, quiet);
        if (!raise(c, e.flags))
            set_cc(f, cc_of[r]);
    }
    while (npop--)
        pop(f);
}

/* FCOMI/FUCOMI(P): ZF PF CF */
static void compare_eflags(struct cpu *c, int i, int quiet, int dopop)
{
    struct fpu *f = &c->fpu;
    int r = F80_UN, ok;
    if (st_empty(f, 0) || st_empty(f, i)) {
        ok = underflow(c);
    } else {
        struct f80_env e = env(f);
        r = f80_compare(&e, st_get(f, 0), st_get(f, i), quiet);
        ok = !raise(c, e.flags);
    }
    if (ok) {
        static const uint32_t fl[4] = { 0, FL_CF, FL_ZF, FL_ZF | FL_PF | FL_CF };
        cpu_set_eflags(c, fl[r], FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF);
    }
    if (dopop)
        pop(f);
}

/* dst = dst op src for register operands (indices into the stack). */
static void arith_reg(struct cpu *c, int op, int dst, int src, int dopop)
{
    struct fpu *f = &c->fpu;
    if (st_empty(f, dst) || st_empty(f, src)) {
        if (underflow(c))
            st_set(f, dst, f80_indefinite());
    } else {
        struct f80_env e = env(f);
        struct f80 r = arith(&e, op, st_get(f, dst), st_get(f, src));
        if (!raise(c, e.flags))
            st_set(f, dst, r);
    }
    if (dopop)
        pop(f);
}

/* D8/DA/DC/DE with a memory operand: ST0 = ST0 op mem */
static void arith_mem(struct cpu *c, const struct insn *i, struct mem m, int type)
{
    struct fpu *f = &c->fpu;
    struct f80_env e = env(f);
    struct f80 y = load_num(c, m, type, &e);
    record(c, i, &m);
    if (i->reg == 2 || i->reg == 3) {
        if (e.flags & ~f->fcw & F80_DE) {      /* unmasked DE on the load */
            raise(c, e.flags);
            return;
        }
        uint16_t lf = e.flags;
        struct fpu *ff = f;
        if (st_empty(ff, 0)) {
            if (underflow(c))
                set_cc(ff, cc_of[F80_UN]);
        } else {
            struct f80_env e2 = env(ff);
            int r = f80_compare(&e2, st_get(ff, 0), y, 0);
            if (!raise(c, (uint16_t)(e2.flags | lf)))
                set_cc(ff, cc_of[r]);
        }
        if (i->reg == 3)
            pop(ff);
        return;
    }
    if (st_empty(f, 0)) {
        if (underflow(c))
            st_set(f, 0, f80_indefinite());
        return;
    }
    uint16_t lf = e.flags;
    e.flags = 0;
    struct f80 r = arith(&e, i->reg, st_get(f, 0), y);
    if (!raise(c, (uint16_t)(e.flags | lf)))
        st_set(f, 0, r);
}

/* ---- loads and stores ---- */

static void fld_value(struct cpu *c, struct f80 v, uint16_t flags)
{
    if (raise(c, flags))
        return;
    push(c, v);
}

/* FST/FSTP/FIST/FISTP/FBSTP to memory: t = 0 m32fp, 1 m32int, 2 m64fp,
 * 3 m16int, 4 m64int, 5 m80fp, 6 m80bcd. */
static void store_mem(struct cpu *c, const struct insn *i, struct mem m, int t, int dopop)
{
    struct fpu *f = &c->fpu;
    struct f80_env e = env(f);
    uint8_t b[10];
    int n = t == 0 || t == 1 ? 4 : t == 3 ? 2 : t == 2 || t == 4 ? 8 : 10;
    struct f80 v;
    if (st_empty(f, 0)) {
        e.flags = F80_IE | F80_SF;
        v = f80_indefinite();
    } else {
        v = st_get(f, 0);
    }
    uint64_t bits = 0;          /* the value for n <= 8, else in b */
    switch (t) {
    case 0: bits = f80_to_f32(&e, v); break;
    case 1: bits = (uint32_t)f80_to_int(&e, v, 32); break;
    case 2: bits = f80_to_f64(&e, v); break;
    case 3: bits = (uint16_t)f80_to_int(&e, v, 16); break;
    case 4: bits = (uint64_t)f80_to_int(&e, v, 64); break;
    case 5: put80(b, v); break;
    default: f80_to_bcd(&e, v, b); break;
    }
    if (e.flags & F80_SF)
        e.flags = F80_IE | F80_SF;         /* C1 = 0: underflow */
    int unmasked = e.flags & ~f->fcw & (F80_IE | F80_DE | F80_ZE | F80_OE | F80_UE);
    if (!unmasked) {                       /* may fault: state still untouched */
        if (n <= 8)
            wr_n(c, m, bits, n);
        else
            wr(c, m, b, n);
    }
    record(c, i, &m);
    raise(c, e.flags);
    if (dopop && !unmasked)
        pop(f);
}

/* ---- environment ---- */

static int env_real(const struct cpu *c) { return !cpu_pmode(c) || cpu_v86(c); }

static int store_env(struct cpu *c, uint8_t *b, int o32)
{
    struct fpu *f = &c->fpu;
    uint16_t tw = fpu_tag_word(f);
    int real = env_real(c);
    uint32_t ip = f->fip, dp = f->fdp;
    if (real) {
        ip += (uint32_t)f->fcs << 4;
        dp += (uint32_t)f->fds << 4;
    }
    if (o32) {
        memset(b, 0, 28);
        put16(b, f->fcw); put16(b + 2, 0xFFFF);
        put16(b + 4, f->fsw); put16(b + 6, 0xFFFF);
        put16(b + 8, tw); put16(b + 10, 0xFFFF);
        if (real) {
            put16(b + 12, ip); put16(b + 14, 0xFFFF);
            put32(b + 16, (ip >> 16 & 0xFFFF) << 12 | (f->fop & 0x7FF));
            put16(b + 20, dp); put16(b + 22, 0xFFFF);
            put32(b + 24, (dp >> 16 & 0xFFFF) << 12);
        } else {
            put32(b + 12, ip);
            put32(b + 16, f->fcs | (uint32_t)(f->fop & 0x7FF) << 16);
            put32(b + 20, dp);
            put32(b + 24, f->fds);
        }
        return 28;
    }
    put16(b, f->fcw);
    put16(b + 2, f->fsw);
    put16(b + 4, tw);
    if (real) {
        put16(b + 6, ip);
        put16(b + 8, (ip >> 16 & 0xF) << 12 | (f->fop & 0x7FF));
        put16(b + 10, dp);
        put16(b + 12, (dp >> 16 & 0xF) << 12);
    } else {
        put16(b + 6, ip);
        put16(b + 8, f->fcs);
        put16(b + 10, dp);
        put16(b + 12, f->fds);
    }
    return 14;
}

static void load_env(struct cpu *c, const uint8_t *b, int o32)
{
    struct fpu *f = &c->fpu;
    int real = env_real(c), was = es_now(c);
    int w = o32 ? 4 : 2;
    f->fcw = (uint16_t)get16(b);
    f->fsw = (uint16_t)get16(b + w);
    uint32_t tw = get16(b + 2 * w);
    f->tags = 0;
    for (int p = 0; p < 8; p++)
        if (((tw >> (2 * p)) & 3) != 3)
            f->tags |= (uint16_t)(1u << p);
    if (o32 && real) {
        f->fip = get16(b + 12) | (get32(b + 16) >> 12 & 0xFFFF) << 16;
        f->fop = (uint16_t)(get32(b + 16) & 0x7FF);
        f->fdp = get16(b + 20) | (get32(b + 24) >> 12 & 0xFFFF) << 16;
        f->fcs = f->fds = 0;
    } else if (o32) {
        f->fip = get32(b + 12);
        f->fcs = (uint16_t)get16(b + 16);
        f->fop = (uint16_t)(get16(b + 18) & 0x7FF);
        f->fdp = get32(b + 20);
        f->fds = (uint16_t)get16(b + 24);
    } else if (real) {
        f->fip = get16(b + 6) | (get16(b + 8) >> 12) << 16;
        f->fop = (uint16_t)(get16(b + 8) & 0x7FF);
        f->fdp = get16(b + 10) | (get16(b + 12) >> 12) << 16;
        f->fcs = f->fds = 0;
    } else {
        f->fip = get16(b + 6);
        f->fcs = (uint16_t)get16(b + 8);
        f->fdp = get16(b + 10);
        f->fds = (uint16_t)get16(b + 12);
    }
    update_es_from(c, was);
}

static void fstenv(struct cpu *c, struct mem m, int o32, int save)
{
    struct fpu *f = &c->fpu;
    uint8_t b[108];
    int n = store_env(c, b, o32);
    if (save) {
        for (int k = 0; k < 8; k++)
            put80(b + n + 10 * k, st_get(f, k));
        n += 80;
    }
    wr(c, m, b, n);
    if (save) {
        int was = es_now(c);
        fpu_init(f);
        update_es_from(c, was);
    } else {
        f->fcw |= 0x3F;                 /* FSTENV masks all exceptions */
        update_es(c);
    }
}

static void fldenv(struct cpu *c, struct mem m, int o32, int restore)
{
    struct fpu *f = &c->fpu;
    uint8_t b[108];
    int n = o32 ? 28 : 14;
    rd(c, m, b, n + (restore ? 80 : 0));
    load_env(c, b, o32);
    if (restore)
        for (int k = 0; k < 8; k++) {
            int p = phys(f, k);
            struct f80 v = get80(b + n + 10 * k);
            f->mant[p] = v.mant;
            f->se[p] = v.se;
        }
}

/* ---- D9 register forms ---- */

static void fxam(struct fpu *f)
{
    static const uint16_t cc[6] = {
        [F80_UNSUPPORTED] = 0, [F80_NAN] = FSW_C0, [F80_NORMAL] = FSW_C2,
        [F80_INF] = FSW_C2 | FSW_C0, [F80_ZERO] = FSW_C3, [F80_DENORMAL] = FSW_C3 | FSW_C2 };
    struct f80 v = st_get(f, 0);
    uint16_t r = st_empty(f, 0) ? (FSW_C3 | FSW_C0) : cc[f80_classify(v)];
    f->fsw = (uint16_t)((f->fsw & ~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)) | r | (f80_sign(v) ? FSW_C1 : 0));
}

/* One-operand ST0 operations (FSQRT, FRNDINT, F2XM1, ...) */
static void unary(struct cpu *c, struct f80 (*fn)(struct f80_env *, struct f80))
{
    struct fpu *f = &c->fpu;
    if (st_empty(f, 0)) {
        if (underflow(c))
            st_set(f, 0, f80_indefinite());
        return;
    }
    struct f80_env e = env(f);
    struct f80 r = fn(&e, st_get(f, 0));
    if (!raise(c, e.flags))
        st_set(f, 0, r);
}

/* ST1 = fn(ST1, ST0), pop (FYL2X, FYL2XP1, FPATAN); FSCALE without pop. */
static void binary_st1(struct cpu *c, struct f80 (*fn)(struct f80_env *, struct f80, struct f80), int dst, int dopop)
{
    struct fpu *f = &c->fpu;
    if (st_empty(f, 0) || st_empty(f, 1)) {
        if (underflow(c))
            st_set(f, dst, f80_indefinite());
    } else {
        struct f80_env e = env(f);
        struct f80 r = dst ? fn(&e, st_get(f, 1), st_get(f, 0)) : fn(&e, st_get(f, 0), st_get(f, 1));
        if (!raise(c, e.flags))
            st_set(f, dst, r);
    }
    if (dopop)
        pop(f);
}

static struct f80 do_sqrt(struct f80_env *e, struct f80 a) { return f80_sqrt(e, a); }
static struct f80 do_rndint(struct f80_env *e, struct f80 a) { return f80_round_int(e, a); }
static struct f80 do_f2xm1(struct f80_env *e, struct f80 a) { return f80_f2xm1(e, a); }
static struct f80 do_scale(struct f80_env *e, struct f80 a, struct f80 b) { return f80_scale(e, a, b); }
static struct f80 do_yl2x(struct f80_env *e, struct f80 y, struct f80 x) { return f80_yl2x(e, y, x); }
static struct f80 do_yl2xp1(struct f80_env *e, struct f80 y, struct f80 x) { return f80_yl2xp1(e, y, x); }
static struct f80 do_atan(struct f80_env *e, struct f80 y, struct f80 x) { return f80_atan2(e, y, x); }

static void fprem(struct cpu *c, int ieee)
{
    struct fpu *f = &c->fpu;
    if (st_empty(f, 0) || st_empty(f, 1)) {
        if (underflow(c))
            st_set(f, 0, f80_indefinite());
        return;
    }
    struct f80_env e = env(f);
    uint16_t cc;
    struct f80 r = f80_rem(&e, st_get(f, 0), st_get(f, 1), ieee, &cc);
    if (!raise(c, (uint16_t)((e.flags & ~F80_C1) | (cc & FSW_C1)))) {
        st_set(f, 0, r);
        set_cc(f, cc & (FSW_C0 | FSW_C2 | FSW_C3));
    }
}

/* FSIN, FCOS, FSINCOS, FPTAN */
static void trig(struct cpu *c, int which)
{
    struct fpu *f = &c->fpu;
    int pushes = which >= 2;
    if (st_empty(f, 0)) {
        if (underflow(c)) {
            st_set(f, 0, f80_indefinite());
            if (pushes)
                push(c, f80_indefinite());
        }
        return;
    }
    if (pushes && !st_empty(f, 7)) {       /* the push would overflow */
        raise(c, F80_IE | F80_SF | F80_C1);
        if (f->fcw & F80_IE) {
            st_set(f, 0, f80_indefinite());
            push(c, f80_indefinite());
        }
        return;
    }
    struct f80_env e = env(f);
    struct f80 a = st_get(f, 0), r1 = a, r2 = a;
    int oor;
    if (which == 0)
        oor = f80_sincos(&e, a, &r1, NULL);
    else if (which == 1)
        oor = f80_sincos(&e, a, NULL, &r1);
    else if (which == 2)
        oor = f80_sincos(&e, a, &r1, &r2);   /* r1 = sin, r2 = cos */
    else {
        oor = f80_tan(&e, a, &r1);
        r2 = f80_make(0, F80_BIAS, 1ull << 63);
    }
    if (oor) {
        f->fsw |= FSW_C2;
        return;
    }
    f->fsw &= (uint16_t)~FSW_C2;
    if (raise(c, e.flags))
        return;
    st_set(f, 0, r1);
    if (pushes)
        push(c, r2);
}

static void fxch(struct cpu *c, int r)
{
    struct fpu *f = &c->fpu;
    int p0 = TOP(f), pr = (p0 + r) & 7;
    if ((f->tags >> p0) & (f->tags >> pr) & 1) {     /* both full: the common case */
        uint64_t m = f->mant[p0];
        uint16_t se = f->se[p0];
        f->mant[p0] = f->mant[pr];
        f->se[p0] = f->se[pr];
        f->mant[pr] = m;
        f->se[pr] = se;
        f->fsw &= (uint16_t)~FSW_C1;
        return;
    }
    if (st_empty(f, 0) || st_empty(f, r)) {
        if (!underflow(c))
            return;
        if (st_empty(f, 0))
            st_set(f, 0, f80_indefinite());
        if (st_empty(f, r))
            st_set(f, r, f80_indefinite());
    } else {
        f->fsw &= (uint16_t)~FSW_C1;
    }
    struct f80 a = st_get(f, 0), b = st_get(f, r);
    st_set(f, 0, b);
    st_set(f, r, a);
}

/* FST/FSTP ST(i) */
static void fst_st(struct cpu *c, int r, int dopop)
{
    struct fpu *f = &c->fpu;
    if (st_empty(f, 0)) {
        if (!underflow(c))
            return;
        st_set(f, r, f80_indefinite());
    } else {
        f->fsw &= (uint16_t)~FSW_C1;
        st_set(f, r, st_get(f, 0));
    }
    if (dopop)
        pop(f);
}

static void d9_reg(struct cpu *c, const struct insn *i)
{
    struct fpu *f = &c->fpu;
    int r = i->rm;
    switch (i->reg) {
    case 0:                                     /* FLD ST(i) */
        if (st_empty(f, r)) {
            if (underflow(c))
                push(c, f80_indefinite());
        } else {
            struct f80 v = st_get(f, r);
            f->fsw &= (uint16_t)~FSW_C1;
            push(c, v);
        }
        return;
    case 1:                                     /* FXCH ST(i) */
        fxch(c, r);
        return;
    case 2:
        if (r == 0)                             /* FNOP */
            return;
        break;
    case 3:                                     /* FSTP1 (alias) */
        fst_st(c, r, 1);
        return;
    case 4:
        switch (r) {
        case 0: case 1:                         /* FCHS, FABS */
            if (st_empty(f, 0)) {
                if (underflow(c))
                    st_set(f, 0, f80_indefinite());
            } else {
                struct f80 v = st_get(f, 0);
                v.se = r ? v.se & 0x7FFF : v.se ^ 0x8000;
                f->fsw &= (uint16_t)~FSW_C1;
                st_set(f, 0, v);
            }
            return;
        case 4:                                 /* FTST */
            compare(c, f80_make(0, 0, 0), 0, 0, 0);
            return;
        case 5:
            fxam(f);
            return;
        }
        break;
    case 5:
        if (r < 7) {                            /* FLD1 ... FLDZ */
            struct f80_env e = env(f);
            f->fsw &= (uint16_t)~FSW_C1;
            push(c, f80_const(&e, r == 6 ? 6 : r));
            return;
        }
        break;
    case 6:
        switch (r) {
        case 0: unary(c, do_f2xm1); return;
        case 1: binary_st1(c, do_yl2x, 1, 1); return;
        case 2: trig(c, 3); return;
        case 3: binary_st1(c, do_atan, 1, 1); return;
        case 4:                                 /* FXTRACT */
            if (st_empty(f, 0)) {
                if (underflow(c)) {
                    st_set(f, 0, f80_indefinite());
                    push(c, f80_indefinite());
                }
            } else if (!st_empty(f, 7)) {
                raise(c, F80_IE | F80_SF | F80_C1);
                if (f->fcw & F80_IE) {
                    st_set(f, 0, f80_indefinite());
                    push(c, f80_indefinite());
                }
            } else {
                struct f80_env e = env(f);
                struct f80 sig, ex = f80_xtract(&e, st_get(f, 0), &sig);
                if (!raise(c, e.flags)) {
                    st_set(f, 0, ex);
                    push(c, sig);
                }
            }
            return;
        case 5: fprem(c, 1); return;
        case 6: f->fsw &= (uint16_t)~FSW_C1; set_top(f, TOP(f) - 1); return;   /* FDECSTP */
        case 7: f->fsw &= (uint16_t)~FSW_C1; set_top(f, TOP(f) + 1); return;   /* FINCSTP */
        }
        break;
    case 7:
        switch (r) {
        case 0: fprem(c, 0); return;
        case 1: binary_st1(c, do_yl2xp1, 1, 1); return;
        case 2: unary(c, do_sqrt); return;
        case 3: trig(c, 2); return;
        case 4: unary(c, do_rndint); return;
        case 5: binary_st1(c, do_scale, 0, 0); return;
        case 6: trig(c, 0); return;
        case 7: trig(c, 1); return;
        }
        break;
    }
    cpu_exception(c, EXC_UD, -1);
}

/* ---- the other register forms ---- */

static void fcmov(struct cpu *c, const struct insn *i)
{
    struct fpu *f = &c->fpu;
    uint32_t fl = cpu_get_eflags(c);
    int cond;
    switch (i->reg & 3) {
    case 0: cond = (fl & FL_CF) != 0; break;
    case 1: cond = (fl & FL_ZF) != 0; break;
    case 2: cond = (fl & (FL_CF | FL_ZF)) != 0; break;
    default: cond = (fl & FL_PF) != 0; break;
    }
    if ((i->opc & 7) == 3)
        cond = !cond;
    if (st_empty(f, i->rm) || st_empty(f, 0)) {
        if (underflow(c))
            st_set(f, 0, f80_indefinite());
        return;
    }
    f->fsw &= (uint16_t)~FSW_C1;
    if (cond)
        st_set(f, 0, st_get(f, i->rm));
}

static void ffree(struct fpu *f, int r, int dopop)
{
    f->tags &= (uint16_t)~(1u << phys(f, r));
    if (dopop)
        pop(f);
}

static void esc_reg(struct cpu *c, const struct insn *i)
{
    struct fpu *f = &c->fpu;
    int r = i->rm, g = i->reg;
    switch (i->opc & 7) {
    case 0:
        if (g == 2 || g == 3)
            compare(c, st_get(f, r), st_empty(f, r), 0, g == 3);
        else
            arith_reg(c, g, 0, r, 0);
        return;
    case 1:
        d9_reg(c, i);
        return;
    case 2:
        if (g < 4) { fcmov(c, i); return; }
        if (g == 5 && r == 1) { compare(c, st_get(f, 1), st_empty(f, 1), 1, 2); return; }
        break;
    case 3:
        if (g < 4) { fcmov(c, i); return; }
        if (g == 5 || g == 6) { compare_eflags(c, r, g == 5, 0); return; }
        if (g == 4 && (r <= 1 || r == 4))     /* FNENI, FNDISI, FNSETPM: no-ops */
            return;
        break;
    case 4:
        if (g == 2 || g == 3)
            compare(c, st_get(f, r), st_empty(f, r), 0, g == 3);
        else
            arith_reg(c, g ^ (g >= 4), r, 0, 0);
        return;
    case 5:
        switch (g) {
        case 0: ffree(f, r, 0); return;
        case 1: fxch(c, r); return;
        case 2: case 3: fst_st(c, r, g == 3); return;
        case 4: case 5: compare(c, st_get(f, r), st_empty(f, r), 1, g == 5); return;
        }
        break;
    case 6:
        if (g == 2) { compare(c, st_get(f, r), st_empty(f, r), 0, 1); return; }
        if (g == 3) {
            if (r == 1) { compare(c, st_get(f, 1), st_empty(f, 1), 0, 2); return; }
            break;
        }
        arith_reg(c, g ^ (g >= 4), r, 0, 1);
        return;
    case 7:
        switch (g) {
        case 0: ffree(f, r, 1); return;
        case 1: fxch(c, r); return;
        case 2: case 3: fst_st(c, r, 1); return;
        case 5: case 6: compare_eflags(c, r, g == 5, 1); return;
        }
        break;
    }
    cpu_exception(c, EXC_UD, -1);
}

/* ---- memory forms ---- */

static void fld_mem(struct cpu *c, const struct insn *i, struct mem m, int type)
{
    struct f80_env e = env(&c->fpu);
    struct f80 v;
    uint8_t b[10];
    switch (type) {
    case 5: rd(c, m, b, 10); v = get80(b); break;
    case 6: rd(c, m, b, 10); v = f80_from_bcd(b); break;
    case 4: v = f80_from_i64((int64_t)rd_n(c, m, 8)); break;
    default: v = load_num(c, m, type, &e); break;
    }
    record(c, i, &m);
    fld_value(c, v, (uint16_t)(e.flags & ~F80_C1));
}

static void esc_mem(struct cpu *c, const struct insn *i)
{
    struct fpu *f = &c->fpu;
    struct mem m = { i->seg, insn_ea(c, i) };
    int g = i->reg, o32 = i->opsize == 4;
    uint8_t b[2];
    switch (i->opc & 7) {
    case 0: arith_mem(c, i, m, M32FP); return;
    case 2: arith_mem(c, i, m, M32INT); return;
    case 4: arith_mem(c, i, m, M64FP); return;
    case 6: arith_mem(c, i, m, M16INT); return;
    case 1:
        switch (g) {
        case 0: fld_mem(c, i, m, M32FP); return;
        case 2: case 3: store_mem(c, i, m, 0, g == 3); return;
        case 4: fldenv(c, m, o32, 0); return;
        case 5:
            rd(c, m, b, 2);
            f->fcw = (uint16_t)get16(b);
            update_es(c);
            return;
        case 6: fstenv(c, m, o32, 0); return;
        case 7:
            put16(b, f->fcw);
            wr(c, m, b, 2);
            return;
        }
        break;
    case 3:
        switch (g) {
        case 0: fld_mem(c, i, m, M32INT); return;
        case 2: case 3: store_mem(c, i, m, 1, g == 3); return;
        case 5: fld_mem(c, i, m, 5); return;
        case 7: store_mem(c, i, m, 5, 1); return;
        }
        break;
    case 5:
        switch (g) {
        case 0: fld_mem(c, i, m, M64FP); return;
        case 2: case 3: store_mem(c, i, m, 2, g == 3); return;
        case 4: fldenv(c, m, o32, 1); return;
        case 6: fstenv(c, m, o32, 1); return;
        case 7:
            put16(b, f->fsw);
            wr(c, m, b, 2);
            return;
        }
        break;
    case 7:
        switch (g) {
        case 0: fld_mem(c, i, m, M16INT); return;
        case 2: case 3: store_mem(c, i, m, 3, g == 3); return;
        case 4: fld_mem(c, i, m, 6); return;
        case 5: fld_mem(c, i, m, 4); return;
        case 6: store_mem(c, i, m, 6, 1); return;
        case 7: store_mem(c, i, m, 4, 1); return;
        }
        break;
    }
    cpu_exception(c, EXC_UD, -1);
}

/* Instructions that neither wait for pending exceptions nor update
 * FIP/FOP: FNINIT FNCLEX FNSTSW FNSTCW FNSTENV FNSAVE (and the no-ops). */
static int nowait(const struct insn *i)
{
    int op = i->opc & 7;
    if (i->mod == 3)
        return (op == 3 && i->reg == 4) || (op == 7 && i->reg == 4);
    return (op == 1 && i->reg >= 6) || (op == 5 && i->reg >= 6);
}

void op_fpu_esc(struct cpu *c, const struct insn *i)
{
    struct fpu *f = &c->fpu;
    if (c->cr0 & (CR0_EM | CR0_TS))
        cpu_exception(c, EXC_NM, -1);
    if (!nowait(i))
        check_pending(c);
    if (i->mod == 3) {
        int op = i->opc & 7;
        if (op == 3 && i->reg == 4 && i->rm == 2) {        /* FNCLEX */
            f->fsw &= (uint16_t)~0x7F;
            update_es(c);
            return;
        }
        if (op == 3 && i->reg == 4 && i->rm == 3) {        /* FNINIT */
            int was = es_now(c);
            fpu_init(f);
            update_es_from(c, was);
            return;
        }
        if (op == 7 && i->reg == 4) {                      /* FNSTSW AX */
            if (i->rm)
                cpu_exception(c, EXC_UD, -1);
            reg_set(c, R_EAX, f->fsw, 2);
            return;
        }
        esc_reg(c, i);
        record(c, i, NULL);
        return;
    }
    esc_mem(c, i);      /* records FIP/FDP itself once the operand is read */
}

/* ---- FXSAVE / FXRSTOR (0F AE /0 /1) ---- */

void op_fxsave(struct cpu *c, const struct insn *i)
{
    struct fpu *f = &c->fpu;
    if (c->cr0 & (CR0_EM | CR0_TS))
        cpu_exception(c, EXC_NM, -1);
    struct mem m = { i->seg, insn_ea(c, i) };
    if ((c->segs[m.seg].base + m.off) & 15)
        cpu_exception(c, EXC_GP, 0);
    uint8_t b[160];
    if (i->reg == 0) {
        memset(b, 0, sizeof(b));
        put16(b, f->fcw);
        put16(b + 2, f->fsw);
        b[4] = (uint8_t)f->tags;
        put16(b + 6, f->fop);
        put32(b + 8, f->fip);
        put16(b + 12, f->fcs);
        put32(b + 16, f->fdp);
        put16(b + 20, f->fds);
        /* 24: MXCSR, 28: MXCSR_MASK: no SSE, stored as 0 */
        for (int k = 0; k < 8; k++)
            put80(b + 32 + 16 * k, st_get(f, k));
        wr(c, m, b, sizeof(b));
        return;
    }
    rd(c, m, b, sizeof(b));
    int was = es_now(c);
    f->fcw = (uint16_t)get16(b);
    f->fsw = (uint16_t)get16(b + 2);
    f->tags = b[4];
    f->fop = (uint16_t)(get16(b + 6) & 0x7FF);
    f->fip = get32(b + 8);
    f->fcs = (uint16_t)get16(b + 12);
    f->fdp = get32(b + 16);
    f->fds = (uint16_t)get16(b + 20);
    for (int k = 0; k < 8; k++) {
        int p = phys(f, k);
        struct f80 v = get80(b + 32 + 16 * k);
        f->mant[p] = v.mant;
        f->se[p] = v.se;
    }
    update_es_from(c, was);
}

/* ---- MMX entry and exit (SDM vol. 1, 9.5.1; table 12-1 for EM/TS) ---- */

void fpu_mmx_enter(struct cpu *c)
{
    if (c->cr0 & CR0_EM)
        cpu_exception(c, EXC_UD, -1);
    if (c->cr0 & CR0_TS)
        cpu_exception(c, EXC_NM, -1);
    check_pending(c);
}

void fpu_mmx_done(struct cpu *c)
{
    set_top(&c->fpu, 0);
    c->fpu.tags = 0xFF;
}

void op_emms(struct cpu *c, const struct insn *i)
{
    (void)i;
    fpu_mmx_enter(c);
    c->fpu.tags = 0;
}
