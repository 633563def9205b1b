/* Specialised handlers for the frequent x87 forms (Intel SDM vol. 1 ch. 8),
 * chosen at decode time by fpu_specialise: the common case only (no #NM,
 * nothing pending or unmasked, registers full, operand in one TLB-mapped
 * page); anything else runs op_fpu_esc (cpu/fpu.c) from the start. */
#include "cpu/exec.h"
#include "cpu/float80_fast.h"

#define FTOP(f) (((f)->fsw >> 11) & 7u)

/* ---- common parts ----
 * A handler changes no state before it has decided that its case applies,
 * so the general handler can always take over; the result is exactly the
 * general handler's (tests/unit/test_fpu_fast.c compares the two). */

/* No #NM, no #MF, and no ES/B to keep up to date: neither set nor due
 * for a flag already in FSW (cpu/fpu.c raise()'s early case). */
F80F_INLINE int ready(const struct cpu *c)
{
    const struct fpu *f = &c->fpu;
    return !((c->cr0 & (CR0_EM | CR0_TS)) | (f->fsw & ((~f->fcw & 0x3F) | FSW_ES | FSW_B)));
}

/* Flags `fl` of an operation merge into FSW without setting ES. */
F80F_INLINE int quiet(const struct fpu *f, uint16_t fl)
{
    return !(fl & ~f->fcw & 0x3F);
}

/* FSW after an operation: C1 and the exception flags from fl. */
F80F_INLINE void set_flags(struct fpu *f, uint16_t fl)
{
    f->fsw = (uint16_t)((f->fsw & ~FSW_C1) | (fl & (0x7F | FSW_C1)));
}

F80F_INLINE struct f80 reg(const struct fpu *f, unsigned p)
{
    struct f80 v = { f->mant[p], f->se[p] };
    return v;
}

F80F_INLINE void put(struct fpu *f, unsigned p, struct f80 v)
{
    f->mant[p] = v.mant;
    f->se[p] = v.se;
}

F80F_INLINE int full(const struct fpu *f, unsigned p) { return (f->tags >> p) & 1; }

/* Both registers p and q full */
F80F_INLINE int full2(const struct fpu *f, unsigned p, unsigned q)
{
    unsigned need = 1u << p | 1u << q;
    return (f->tags & need) == need;
}

/* Pops: the register at TOP becomes empty. */
F80F_INLINE void pop(struct fpu *f)
{
    unsigned top = FTOP(f);
    f->tags &= (uint16_t)~(1u << top);
    f->fsw = (uint16_t)((f->fsw & ~FSW_TOP) | ((top + 1) & 7) << 11);
}

/* FIP/FCS/FOP (and FDP/FDS) as cpu/fpu.c record() sets them. */
F80F_INLINE void rec(struct cpu *c, const struct insn *i)
{
    struct fpu *f = &c->fpu;
    f->fip = c->fault_eip;
    f->fcs = c->segs[S_CS].sel;
    f->fop = (uint16_t)(((i->opc & 7) << 8) | i->modrm);
}

F80F_INLINE void rec_mem(struct cpu *c, const struct insn *i, uint32_t off)
{
    rec(c, i);
    c->fpu.fdp = off;
    c->fpu.fds = c->segs[i->seg].sel;
}

/* Host address of an n-byte operand (2, 4, 8 or 10) at sreg:off, when it
 * lies in one page reached through a present writable expand-up data
 * segment (exec.h mem_fast) and is 4-byte aligned (2-byte for n = 2): then
 * the 4-byte parts the general handler accesses cannot fault and cannot
 * raise #AC, and the TLB entry covers all of it. 0: the general path. */
F80F_INLINE int host(struct cpu *c, int sreg, uint32_t off, int n, int access, uint8_t **p)
{
    return mem_fast_n(c, sreg, off, (uint32_t)n, n == 2 ? 1u : 3u, access, p);
}

F80F_INLINE uint64_t ld64(const uint8_t *p) { return pm_ld32(p) | (uint64_t)pm_ld32(p + 4) << 32; }

F80F_INLINE void st64(uint8_t *p, uint64_t v)
{
    pm_st32(p, (uint32_t)v);
    pm_st32(p + 4, (uint32_t)(v >> 32));
}

F80F_INLINE struct f80_env env_of(uint16_t fcw)
{
    struct f80_env e = { (uint8_t)((fcw >> 10) & 3), (uint8_t)((fcw >> 8) & 3), (uint8_t)(fcw & 0x3F), 0 };
    return e;
}

/* ---- operand loads ---- */

enum { T_F32, T_F64, T_I16, T_I32, T_I64, T_F80 };
static const uint8_t tsize[6] = { 4, 8, 2, 4, 8, 10 };

/* The value of a memory operand of type t at p: 1, or 0 when the load
 * would raise a flag (denormal, NaN, infinity: the general path). */
F80F_INLINE int load(int t, const uint8_t *p, struct f80 *v)
{
    switch (t) {
    case T_F32: return f80f_from_f32(pm_ld32(p), v);
    case T_F64: return f80f_from_f64(ld64(p), v);
    case T_I16: *v = f80f_from_int((int16_t)pm_ld16(p)); return 1;
    case T_I32: *v = f80f_from_int((int32_t)pm_ld32(p)); return 1;
    case T_I64: *v = f80f_from_int((int64_t)ld64(p)); return 1;
    default:
        v->mant = ld64(p);
        v->se = pm_ld16(p + 8);
        return 1;
    }
}

/* ---- arithmetic ---- */

/* r = x op y; op: ModRM.reg of D8 (0 add, 1 mul, 4 sub, 5 subr, 6 div,
 * 7 divr). 0: not a case of the fast paths. */
F80F_INLINE int calc(uint16_t fcw, int op, struct f80 x, struct f80 y, struct f80 *r, uint16_t *fl)
{
    struct f80f_rnd m = f80f_rnd_of(fcw);
    switch (op) {
    case 0: return f80f_addsub(m, x, y, 0, r, fl);
    case 1: return f80f_mul(m, x, y, r, fl);
    case 4: return f80f_addsub(m, x, y, 1, r, fl);
    case 5: return f80f_addsub(m, y, x, 1, r, fl);
    case 6: return f80f_div(m, x, y, r, fl);
    default: return f80f_div(m, y, x, r, fl);
    }
}

/* D8/DA/DC/DE memory forms: ST0 = ST0 op mem */
F80F_INLINE void arith_m(struct cpu *c, const struct insn *i, int t, int op)
{
    struct fpu *f = &c->fpu;
    uint32_t off = insn_ea(c, i);
    uint8_t *p;
    uint16_t fl = 0;
    unsigned top = FTOP(f);
    struct f80 y, r;
    if (SV_UNLIKELY(!ready(c) || !full(f, top) || !host(c, i->seg, off, tsize[t], MMU_READ, &p) ||
                    !load(t, p, &y) || !calc(f->fcw, op, reg(f, top), y, &r, &fl) || !quiet(f, fl)))
        goto slow;
    put(f, top, r);
    set_flags(f, fl);
    rec_mem(c, i, off);
    return;
slow:
    op_fpu_esc(c, i);
}

/* Register forms: dst = dst op src; dst is ST0 (D8) or ST(i) (DC, DE). */
F80F_INLINE void arith_r(struct cpu *c, const struct insn *i, int op, int to_sti, int dopop)
{
    struct fpu *f = &c->fpu;
    unsigned top = FTOP(f), pi = (top + i->rm) & 7;
    uint16_t fl = 0;
    if (SV_UNLIKELY(!ready(c) || !full2(f, top, pi)))
        goto slow;
    unsigned dst = to_sti ? pi : top, src = to_sti ? top : pi;
    struct f80 r;
    if (SV_UNLIKELY(!calc(f->fcw, op, reg(f, dst), reg(f, src), &r, &fl) || !quiet(f, fl)))
        goto slow;
    put(f, dst, r);
    set_flags(f, fl);
    if (dopop)
        pop(f);
    rec(c, i);
    return;
slow:
    op_fpu_esc(c, i);
}

/* ---- compare ---- */

static const uint16_t cc_of[4] = { 0, FSW_C0, FSW_C3, FSW_C3 | FSW_C2 | FSW_C0 };

/* FSW after a compare that raised nothing: C0 C2 C3 from r, C1 = 0. */
F80F_INLINE void set_cc(struct fpu *f, int r)
{
    f->fsw = (uint16_t)((f->fsw & ~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)) | cc_of[r]);
}

/* FCOM/FCOMP/FICOM/FICOMP with a memory operand */
F80F_INLINE void cmp_m(struct cpu *c, const struct insn *i, int t, int dopop)
{
    struct fpu *f = &c->fpu;
    uint32_t off = insn_ea(c, i);
    uint8_t *p;
    unsigned top = FTOP(f);
    if (SV_UNLIKELY(!ready(c) || !full(f, top) || !host(c, i->seg, off, tsize[t], MMU_READ, &p)))
        goto slow;
    struct f80 y;
    int r;
    if (SV_UNLIKELY(!load(t, p, &y) || (r = f80f_compare(reg(f, top), y)) < 0))
        goto slow;
    set_cc(f, r);
    if (dopop)
        pop(f);
    rec_mem(c, i, off);
    return;
slow:
    op_fpu_esc(c, i);
}

/* FCOM/FUCOM(P)(P) ST(i) (they differ only for NaNs) */
F80F_INLINE void cmp_r(struct cpu *c, const struct insn *i, int npop)
{
    struct fpu *f = &c->fpu;
    unsigned top = FTOP(f), pi = (top + i->rm) & 7;
    if (SV_UNLIKELY(!ready(c) || !full2(f, top, pi)))
        goto slow;
    int r = f80f_compare(reg(f, top), reg(f, pi));
    if (SV_UNLIKELY(r < 0))
        goto slow;
    set_cc(f, r);
    while (npop--)
        pop(f);
    rec(c, i);
    return;
slow:
    op_fpu_esc(c, i);
}

/* FCOMI/FUCOMI(P): ZF PF CF */
F80F_INLINE void cmpi_r(struct cpu *c, const struct insn *i, int dopop)
{
    static const uint32_t efl[4] = { 0, FL_CF, FL_ZF, FL_ZF | FL_PF | FL_CF };
    struct fpu *f = &c->fpu;
    unsigned top = FTOP(f), pi = (top + i->rm) & 7;
    if (SV_UNLIKELY(!ready(c) || !full2(f, top, pi)))
        goto slow;
    int r = f80f_compare(reg(f, top), reg(f, pi));
    if (SV_UNLIKELY(r < 0))
        goto slow;
    f->fsw &= (uint16_t)~FSW_C1;
    /* cpu_set_eflags(c, efl[r], FL_ARITH) without folding the lazy flags
     * first: all six are replaced */
    c->lf_op = LF_NONE;
    c->eflags = (((c->eflags & ~FL_ARITH) | efl[r]) & 0x003F7FD5u) | 0x2u;
    if (dopop)
        pop(f);
    rec(c, i);
    return;
slow:
    op_fpu_esc(c, i);
}

/* ---- loads and stores ---- */

/* FLD/FILD m: push the operand */
F80F_INLINE void load_m(struct cpu *c, const struct insn *i, int t)
{
    struct fpu *f = &c->fpu;
    uint32_t off = insn_ea(c, i);
    uint8_t *p;
    unsigned nt = (FTOP(f) - 1) & 7;
    struct f80 v;
    if (SV_UNLIKELY(!ready(c) || full(f, nt) || !host(c, i->seg, off, tsize[t], MMU_READ, &p) || !load(t, p, &v)))
        goto slow;
    put(f, nt, v);
    f->tags |= (uint16_t)(1u << nt);
    f->fsw = (uint16_t)((f->fsw & ~(FSW_C1 | FSW_TOP)) | nt << 11);
    rec_mem(c, i, off);
    return;
slow:
    op_fpu_esc(c, i);
}

/* The memory image of ST0 for a store of type t (not T_F80): 1, or 0
 * when not a case of the fast paths. */
F80F_INLINE int store_bits(uint16_t fcw, int t, struct f80 v, uint64_t *bits, uint16_t *fl)
{
    unsigned rc = (fcw >> 10) & 3;
    int64_t n;
    switch (t) {
    case T_F32: return f80f_to_ieee(rc, v, 23, bits, fl);
    case T_F64: return f80f_to_ieee(rc, v, 52, bits, fl);
    default:
        if (!f80f_to_int(rc, v, t == T_I16 ? 16 : t == T_I32 ? 32 : 64, &n, fl))
            return 0;
        *bits = (uint64_t)n;
        return 1;
    }
}

/* FST/FSTP/FIST/FISTP m (and FSTP m80) */
F80F_INLINE void store_m(struct cpu *c, const struct insn *i, int t, int dopop)
{
    struct fpu *f = &c->fpu;
    uint32_t off = insn_ea(c, i);
    uint8_t *p;
    uint16_t fl = 0;
    unsigned top = FTOP(f);
    if (SV_UNLIKELY(!ready(c) || !full(f, top) || !host(c, i->seg, off, tsize[t], MMU_WRITE, &p)))
        goto slow;
    struct f80 v = reg(f, top);
    if (t == T_F80) {
        st64(p, v.mant);
        pm_st16(p + 8, v.se);
    } else {
        uint64_t bits;
        if (SV_UNLIKELY(!store_bits(f->fcw, t, v, &bits, &fl) || !quiet(f, fl)))
            goto slow;
        switch (tsize[t]) {
        case 2: pm_st16(p, (uint16_t)bits); break;
        case 4: pm_st32(p, (uint32_t)bits); break;
        default: st64(p, bits); break;
        }
    }
    rec_mem(c, i, off);
    set_flags(f, fl);
    if (dopop)
        pop(f);
    return;
slow:
    op_fpu_esc(c, i);
}

/* ---- handlers ---- */

#define ARITH_M(t, tn) \
    static void fadd_##tn(struct cpu *c, const struct insn *i) { arith_m(c, i, t, 0); } \
    static void fmul_##tn(struct cpu *c, const struct insn *i) { arith_m(c, i, t, 1); } \
    static void fsub_##tn(struct cpu *c, const struct insn *i) { arith_m(c, i, t, 4); } \
    static void fsubr_##tn(struct cpu *c, const struct insn *i) { arith_m(c, i, t, 5); } \
    static void fdiv_##tn(struct cpu *c, const struct insn *i) { arith_m(c, i, t, 6); } \
    static void fdivr_##tn(struct cpu *c, const struct insn *i) { arith_m(c, i, t, 7); } \
    static void fcom_##tn(struct cpu *c, const struct insn *i) { cmp_m(c, i, t, 0); } \
    static void fcomp_##tn(struct cpu *c, const struct insn *i) { cmp_m(c, i, t, 1); } \
    static insn_fn *const arith_##tn[8] = { fadd_##tn, fmul_##tn, fcom_##tn, fcomp_##tn, \
                                            fsub_##tn, fsubr_##tn, fdiv_##tn, fdivr_##tn };
ARITH_M(T_F32, m32)
ARITH_M(T_F64, m64)
ARITH_M(T_I16, m16i)
ARITH_M(T_I32, m32i)
#undef ARITH_M

/* op: the operation done (DC/DE swap sub/subr and div/divr: g ^ (g >= 4)) */
#define ARITH_R(op, on) \
    static void on##_st0_sti(struct cpu *c, const struct insn *i) { arith_r(c, i, op, 0, 0); } \
    static void on##_sti_st0(struct cpu *c, const struct insn *i) { arith_r(c, i, op, 1, 0); } \
    static void on##p_sti_st0(struct cpu *c, const struct insn *i) { arith_r(c, i, op, 1, 1); }
ARITH_R(0, fadd)
ARITH_R(1, fmul)
ARITH_R(4, fsub)
ARITH_R(5, fsubr)
ARITH_R(6, fdiv)
ARITH_R(7, fdivr)
#undef ARITH_R
static insn_fn *const arith_d8[8] = { fadd_st0_sti, fmul_st0_sti, 0, 0,
                                      fsub_st0_sti, fsubr_st0_sti, fdiv_st0_sti, fdivr_st0_sti };
/* DC/DE by ModRM.reg: /4 is FSUBR ST(i), ST0 (ST(i) = ST0 - ST(i)), ... */
static insn_fn *const arith_dc[8] = { fadd_sti_st0, fmul_sti_st0, 0, 0,
                                      fsubr_sti_st0, fsub_sti_st0, fdivr_sti_st0, fdiv_sti_st0 };
static insn_fn *const arith_de[8] = { faddp_sti_st0, fmulp_sti_st0, 0, 0,
                                      fsubrp_sti_st0, fsubp_sti_st0, fdivrp_sti_st0, fdivp_sti_st0 };

/* FCOM/FUCOM, FCOMP/FUCOMP, FCOMPP/FUCOMPP; FCOMI/FUCOMI, FCOMIP/FUCOMIP */
static void fcom_st(struct cpu *c, const struct insn *i) { cmp_r(c, i, 0); }
static void fcomp_st(struct cpu *c, const struct insn *i) { cmp_r(c, i, 1); }
static void fcompp(struct cpu *c, const struct insn *i) { cmp_r(c, i, 2); }
static void fcomi(struct cpu *c, const struct insn *i) { cmpi_r(c, i, 0); }
static void fcomip(struct cpu *c, const struct insn *i) { cmpi_r(c, i, 1); }

static void fld_m32(struct cpu *c, const struct insn *i) { load_m(c, i, T_F32); }
static void fld_m64(struct cpu *c, const struct insn *i) { load_m(c, i, T_F64); }
static void fld_m80(struct cpu *c, const struct insn *i) { load_m(c, i, T_F80); }
static void fild_m16(struct cpu *c, const struct insn *i) { load_m(c, i, T_I16); }
static void fild_m32(struct cpu *c, const struct insn *i) { load_m(c, i, T_I32); }
static void fild_m64(struct cpu *c, const struct insn *i) { load_m(c, i, T_I64); }
static void fst_m32(struct cpu *c, const struct insn *i) { store_m(c, i, T_F32, 0); }
static void fstp_m32(struct cpu *c, const struct insn *i) { store_m(c, i, T_F32, 1); }
static void fst_m64(struct cpu *c, const struct insn *i) { store_m(c, i, T_F64, 0); }
static void fstp_m64(struct cpu *c, const struct insn *i) { store_m(c, i, T_F64, 1); }
static void fstp_m80(struct cpu *c, const struct insn *i) { store_m(c, i, T_F80, 1); }
static void fist_m16(struct cpu *c, const struct insn *i) { store_m(c, i, T_I16, 0); }
static void fistp_m16(struct cpu *c, const struct insn *i) { store_m(c, i, T_I16, 1); }
static void fist_m32(struct cpu *c, const struct insn *i) { store_m(c, i, T_I32, 0); }
static void fistp_m32(struct cpu *c, const struct insn *i) { store_m(c, i, T_I32, 1); }
static void fistp_m64(struct cpu *c, const struct insn *i) { store_m(c, i, T_I64, 1); }

/* FLDCW: a newly unmasked pending flag would set ES (general path). */
static void fldcw(struct cpu *c, const struct insn *i)
{
    struct fpu *f = &c->fpu;
    uint8_t *p;
    uint16_t cw;
    if (SV_UNLIKELY(!ready(c) || !host(c, i->seg, insn_ea(c, i), 2, MMU_READ, &p) ||
                    (f->fsw & ~(cw = pm_ld16(p)) & 0x3F))) {
        op_fpu_esc(c, i);
        return;
    }
    f->fcw = cw;
}

/* FNSTCW / FNSTSW m16 (no wait, no FIP/FOP): the word v to memory */
static void store_word(struct cpu *c, const struct insn *i, uint16_t v)
{
    uint8_t *p;
    if (SV_UNLIKELY(!ready(c) || !host(c, i->seg, insn_ea(c, i), 2, MMU_WRITE, &p))) {
        op_fpu_esc(c, i);
        return;
    }
    pm_st16(p, v);
}

static void fnstcw(struct cpu *c, const struct insn *i) { store_word(c, i, c->fpu.fcw); }
static void fnstsw_m(struct cpu *c, const struct insn *i) { store_word(c, i, c->fpu.fsw); }

static void fnstsw_ax(struct cpu *c, const struct insn *i)
{
    if (SV_UNLIKELY(c->cr0 & (CR0_EM | CR0_TS))) {
        op_fpu_esc(c, i);
        return;
    }
    c->regs[R_EAX] = (c->regs[R_EAX] & 0xFFFF0000u) | c->fpu.fsw;
}

/* FLD ST(i) */
static void fld_st(struct cpu *c, const struct insn *i)
{
    struct fpu *f = &c->fpu;
    unsigned top = FTOP(f), src = (top + i->rm) & 7, nt = (top - 1) & 7;
    if (SV_UNLIKELY(!ready(c) || !full(f, src) || full(f, nt))) {
        op_fpu_esc(c, i);
        return;
    }
    put(f, nt, reg(f, src));
    f->tags |= (uint16_t)(1u << nt);
    f->fsw = (uint16_t)((f->fsw & ~(FSW_C1 | FSW_TOP)) | nt << 11);
    rec(c, i);
}

/* FLD1 (k = 0) / FLDZ (k = 1) */
F80F_INLINE void fld_k(struct cpu *c, const struct insn *i, int k)
{
    struct fpu *f = &c->fpu;
    unsigned nt = (FTOP(f) - 1) & 7;
    if (SV_UNLIKELY(!ready(c) || full(f, nt))) {
        op_fpu_esc(c, i);
        return;
    }
    put(f, nt, k ? f80_make(0, 0, 0) : f80_make(0, F80_BIAS, 1ull << 63));
    f->tags |= (uint16_t)(1u << nt);
    f->fsw = (uint16_t)((f->fsw & ~(FSW_C1 | FSW_TOP)) | nt << 11);
    rec(c, i);
}
static void fld1(struct cpu *c, const struct insn *i) { fld_k(c, i, 0); }

/* FLDL2T FLDL2E FLDPI FLDLG2 FLDLN2: rounded per RC, no flags */
static void fldc(struct cpu *c, const struct insn *i)
{
    struct fpu *f = &c->fpu;
    unsigned nt = (FTOP(f) - 1) & 7;
    if (SV_UNLIKELY(!ready(c) || full(f, nt))) {
        op_fpu_esc(c, i);
        return;
    }
    struct f80_env e = env_of(f->fcw);
    put(f, nt, f80_const(&e, i->rm));
    f->tags |= (uint16_t)(1u << nt);
    f->fsw = (uint16_t)((f->fsw & ~(FSW_C1 | FSW_TOP)) | nt << 11);
    rec(c, i);
}
static void fldz(struct cpu *c, const struct insn *i) { fld_k(c, i, 1); }

/* FST/FSTP ST(i) */
F80F_INLINE void fst_st(struct cpu *c, const struct insn *i, int dopop)
{
    struct fpu *f = &c->fpu;
    unsigned top = FTOP(f), pi = (top + i->rm) & 7;
    if (SV_UNLIKELY(!ready(c) || !full(f, top))) {
        op_fpu_esc(c, i);
        return;
    }
    put(f, pi, reg(f, top));
    f->tags |= (uint16_t)(1u << pi);
    f->fsw &= (uint16_t)~FSW_C1;
    if (dopop)
        pop(f);
    rec(c, i);
}
static void fst_sti(struct cpu *c, const struct insn *i) { fst_st(c, i, 0); }
static void fstp_sti(struct cpu *c, const struct insn *i) { fst_st(c, i, 1); }

static void fxch(struct cpu *c, const struct insn *i)
{
    struct fpu *f = &c->fpu;
    unsigned top = FTOP(f), pi = (top + i->rm) & 7;
    if (SV_UNLIKELY(!ready(c) || !full2(f, top, pi))) {
        op_fpu_esc(c, i);
        return;
    }
    struct f80 a = reg(f, top);
    put(f, top, reg(f, pi));
    put(f, pi, a);
    f->fsw &= (uint16_t)~FSW_C1;
    rec(c, i);
}

/* FCHS (clear = 0) / FABS (1) */
F80F_INLINE void fsign(struct cpu *c, const struct insn *i, int clear)
{
    struct fpu *f = &c->fpu;
    unsigned top = FTOP(f);
    if (SV_UNLIKELY(!ready(c) || !full(f, top))) {
        op_fpu_esc(c, i);
        return;
    }
    f->se[top] = (uint16_t)(clear ? f->se[top] & 0x7FFF : f->se[top] ^ 0x8000);
    f->fsw &= (uint16_t)~FSW_C1;
    rec(c, i);
}
static void fchs(struct cpu *c, const struct insn *i) { fsign(c, i, 0); }
static void fabs_(struct cpu *c, const struct insn *i) { fsign(c, i, 1); }

/* ---- the other D9 operations: straight to float80.c ---- */

/* ST0 = fn(ST0): FSQRT, FRNDINT, F2XM1 */
F80F_INLINE void unary(struct cpu *c, const struct insn *i, struct f80 (*fn)(struct f80_env *, struct f80))
{
    struct fpu *f = &c->fpu;
    unsigned top = FTOP(f);
    if (SV_UNLIKELY(!ready(c) || !full(f, top)))
        goto slow;
    struct f80_env e = env_of(f->fcw);
    struct f80 r = fn(&e, reg(f, top));
    if (SV_UNLIKELY(!quiet(f, e.flags)))
        goto slow;
    put(f, top, r);
    set_flags(f, e.flags);
    rec(c, i);
    return;
slow:
    op_fpu_esc(c, i);
}
static void fsqrt(struct cpu *c, const struct insn *i) { unary(c, i, f80_sqrt); }
static void frndint(struct cpu *c, const struct insn *i) { unary(c, i, f80_round_int); }
static void f2xm1(struct cpu *c, const struct insn *i) { unary(c, i, f80_f2xm1); }

/* ST1 = fn(ST1, ST0) and pop (FYL2X, FPATAN, FYL2XP1); ST0 = fn(ST0, ST1)
 * without pop (FSCALE) */
F80F_INLINE void binary(struct cpu *c, const struct insn *i, struct f80 (*fn)(struct f80_env *, struct f80, struct f80),
                        int to_st1)
{
    struct fpu *f = &c->fpu;
    unsigned top = FTOP(f), p1 = (top + 1) & 7;
    if (SV_UNLIKELY(!ready(c) || !full2(f, top, p1)))
        goto slow;
    struct f80_env e = env_of(f->fcw);
    struct f80 r = to_st1 ? fn(&e, reg(f, p1), reg(f, top)) : fn(&e, reg(f, top), reg(f, p1));
    if (SV_UNLIKELY(!quiet(f, e.flags)))
        goto slow;
    put(f, to_st1 ? p1 : top, r);
    set_flags(f, e.flags);
    if (to_st1)
        pop(f);
    rec(c, i);
    return;
slow:
    op_fpu_esc(c, i);
}
static void fyl2x(struct cpu *c, const struct insn *i) { binary(c, i, f80_yl2x, 1); }
static void fpatan(struct cpu *c, const struct insn *i) { binary(c, i, f80_atan2, 1); }
static void fyl2xp1(struct cpu *c, const struct insn *i) { binary(c, i, f80_yl2xp1, 1); }
static void fscale(struct cpu *c, const struct insn *i) { binary(c, i, f80_scale, 0); }

/* FTST: FCOM with +0 */
static void ftst(struct cpu *c, const struct insn *i)
{
    struct fpu *f = &c->fpu;
    unsigned top = FTOP(f);
    int r;
    if (SV_UNLIKELY(!ready(c) || !full(f, top) || (r = f80f_compare(reg(f, top), f80_make(0, 0, 0))) < 0)) {
        op_fpu_esc(c, i);
        return;
    }
    set_cc(f, r);
    rec(c, i);
}

/* FXAM: the class in C3 C2 C0, the sign in C1 (also of an empty register) */
static void fxam(struct cpu *c, const struct insn *i)
{
    static const uint16_t cc[6] = {
        [F80_UNSUPPORTED] = 0, [F80_NAN] = FSW_C0, [F80_NORMAL] = FSW_C2,
        [F80_INF] = FSW_C2 | FSW_C0, [F80_ZERO] = FSW_C3, [F80_DENORMAL] = FSW_C3 | FSW_C2 };
    struct fpu *f = &c->fpu;
    unsigned top = FTOP(f);
    if (SV_UNLIKELY(!ready(c))) {
        op_fpu_esc(c, i);
        return;
    }
    struct f80 v = reg(f, top);
    uint16_t r = full(f, top) ? cc[f80_classify(v)] : (FSW_C3 | FSW_C0);
    f->fsw = (uint16_t)((f->fsw & ~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)) | r | (f80_sign(v) ? FSW_C1 : 0));
    rec(c, i);
}

/* FCMOVcc: DA /0-3 (B E BE U), DB /0-3 (NB NE NBE NU) */
static void fcmov(struct cpu *c, const struct insn *i)
{
    struct fpu *f = &c->fpu;
    unsigned top = FTOP(f), pi = (top + i->rm) & 7;
    if (SV_UNLIKELY(!ready(c) || !full2(f, top, pi))) {
        op_fpu_esc(c, i);
        return;
    }
    static const uint8_t cc[4] = { 0x2, 0x4, 0x6, 0xA };   /* B E BE P */
    int cond = cpu_cond(c, cc[i->reg & 3]);
    f->fsw &= (uint16_t)~FSW_C1;
    if (cond ^ ((i->opc & 7) == 3))
        put(f, top, reg(f, pi));
    rec(c, i);
}

/* ---- selection ---- */

static insn_fn *pick_mem(const struct insn *i)
{
    int g = i->reg;
    switch (i->opc & 7) {
    case 0: return arith_m32[g];
    case 2: return arith_m32i[g];
    case 4: return arith_m64[g];
    case 6: return arith_m16i[g];
    case 1:
        switch (g) {
        case 0: return fld_m32;
        case 2: return fst_m32;
        case 3: return fstp_m32;
        case 5: return fldcw;
        case 7: return fnstcw;
        }
        return 0;
    case 3:
        switch (g) {
        case 0: return fild_m32;
        case 2: return fist_m32;
        case 3: return fistp_m32;
        case 5: return fld_m80;
        case 7: return fstp_m80;
        }
        return 0;
    case 5:
        switch (g) {
        case 0: return fld_m64;
        case 2: return fst_m64;
        case 3: return fstp_m64;
        case 7: return fnstsw_m;
        }
        return 0;
    default:
        switch (g) {
        case 0: return fild_m16;
        case 2: return fist_m16;
        case 3: return fistp_m16;
        case 5: return fild_m64;
        case 7: return fistp_m64;
        }
        return 0;
    }
}

static insn_fn *pick_reg(const struct insn *i)
{
    int g = i->reg, r = i->rm;
    switch (i->opc & 7) {
    case 0:
        return g == 2 ? fcom_st : g == 3 ? fcomp_st : arith_d8[g];
    case 1:
        switch (g) {
        case 0: return fld_st;
        case 1: return fxch;
        case 4: return r == 0 ? fchs : r == 1 ? fabs_ : r == 4 ? ftst : r == 5 ? fxam : 0;
        case 5: return r == 0 ? fld1 : r == 6 ? fldz : r < 6 ? fldc : 0;
        case 6: return r == 0 ? f2xm1 : r == 1 ? fyl2x : r == 3 ? fpatan : 0;
        case 7: return r == 1 ? fyl2xp1 : r == 2 ? fsqrt : r == 4 ? frndint : r == 5 ? fscale : 0;
        }
        return 0;
    case 2:
        if (g < 4)
            return fcmov;
        return g == 5 && r == 1 ? fcompp : 0;
    case 3:
        if (g < 4)
            return fcmov;
        return g == 5 ? fcomi : g == 6 ? fcomi : 0;
    case 4:
        return arith_dc[g];
    case 5:
        switch (g) {
        case 2: return fst_sti;
        case 3: return fstp_sti;
        case 4: return fcom_st;
        case 5: return fcomp_st;
        }
        return 0;
    case 6:
        if (g == 3)
            return r == 1 ? fcompp : 0;
        return arith_de[g];
    default:
        if (g == 4)
            return r == 0 ? fnstsw_ax : 0;
        return g == 5 ? fcomip : g == 6 ? fcomip : 0;
    }
}

void fpu_specialise(struct insn *i)
{
    if (i->fn != op_fpu_esc)
        return;
    insn_fn *h = i->mod == 3 ? pick_reg(i) : pick_mem(i);
    if (h)
        i->fn = h;
}

/* ---- the JIT's arithmetic (cpu/fpu.h) ---- */

F80F_INLINE struct f80f_rnd jit_rnd(unsigned drop)
{
    struct f80f_rnd m = { F80_RN, drop };
    return m;
}

static struct fpu_jit_res jit_res(int ok, struct f80 r, uint16_t fl)
{
    struct fpu_jit_res o = { 0, 0 };
    if (ok) {
        o.mant = r.mant;
        o.x = r.se | (uint64_t)fl << 16 | 1ull << 63;
    }
    return o;
}

struct fpu_jit_res fpu_jit_add(uint64_t ma, uint32_t sa, uint64_t mb, uint32_t sb, unsigned drop)
{
    struct f80 a = { ma, (uint16_t)sa }, b = { mb, (uint16_t)sb }, r = { 0, 0 };
    uint16_t fl = 0;
    int ok = f80f_addsub(jit_rnd(drop), a, b, 0, &r, &fl);
    return jit_res(ok, r, fl);
}

struct fpu_jit_res fpu_jit_mul(uint64_t ma, uint32_t sa, uint64_t mb, uint32_t sb, unsigned drop)
{
    struct f80 a = { ma, (uint16_t)sa }, b = { mb, (uint16_t)sb }, r = { 0, 0 };
    uint16_t fl = 0;
    int ok = f80f_mul(jit_rnd(drop), a, b, &r, &fl);
    return jit_res(ok, r, fl);
}

struct fpu_jit_res fpu_jit_div(uint64_t ma, uint32_t sa, uint64_t mb, uint32_t sb, unsigned drop)
{
    struct f80 a = { ma, (uint16_t)sa }, b = { mb, (uint16_t)sb }, r = { 0, 0 };
    uint16_t fl = 0;
    int ok = f80f_div(jit_rnd(drop), a, b, &r, &fl);
    return jit_res(ok, r, fl);
}

uint32_t fpu_jit_comi(uint64_t ma, uint32_t sa, uint64_t mb, uint32_t sb)
{
    static const uint32_t efl[4] = { 0, FL_CF, FL_ZF, FL_ZF | FL_PF | FL_CF };
    struct f80 a = { ma, (uint16_t)sa }, b = { mb, (uint16_t)sb };
    int r = f80f_compare(a, b);
    return r < 0 ? 0x80000000u : efl[r];
}

static struct fpu_jit_res jit_to_ieee(uint64_t m, uint32_t se, int fb)
{
    struct f80 v = { m, (uint16_t)se };
    struct fpu_jit_res o = { 0, 0 };
    uint16_t fl = 0;
    if (f80f_to_ieee(F80_RN, v, fb, &o.mant, &fl))
        o.x = (uint64_t)fl << 16 | 1ull << 63;
    return o;
}

struct fpu_jit_res fpu_jit_to_f64(uint64_t m, uint32_t se) { return jit_to_ieee(m, se, 52); }
struct fpu_jit_res fpu_jit_to_f32(uint64_t m, uint32_t se) { return jit_to_ieee(m, se, 23); }
