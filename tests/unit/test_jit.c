/* The JIT (cpu/jit/) against the interpreter, differentially: the same
 * program from the same state on two machines, one with the JIT off and one
 * with it on, must end in the same registers, EFLAGS, memory, CR2, EIP,
 * delivered exception and instruction count. Random loops of 32-bit code,
 * faults inside compiled code, self-modifying code, 16-bit stacks and code,
 * and a code page mapped at two linear addresses. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu/cpu.h"
#include "cpu/jit/jit.h"

#define RAM    0x200000u
#define GDT    0x1000u
#define IDT    0x2000u
#define TSS    0x2800u
#define HANDLERS 0x3000u   /* vector v: HLT at HANDLERS + 8 v */
#define CODE   0x10000u
#define DATA   0x20000u    /* data area: 0x20000-0x23000 */
#define STACK  0x2F000u
#define STACK0 0x9F000u    /* ring-0 stack (TSS ESP0) */
#define PD     0x60000u
#define PT     0x61000u
#define PT2    0x62000u
#define ALIAS  0x400000u   /* linear alias of the code page (PT2) */

enum { CODE0 = 0x08, DATA0 = 0x10, CODE3 = 0x18, DATA3 = 0x20, TSSSEL = 0x28, CODE16 = 0x30,
       FSA = 0x38, FSB = 0x40 };

struct machine {
    struct physmem pm;
    struct cpu cpu;
};

static int no_jit_said;   /* cpu_set_jit(1) failed (set in each forked test) */

/* ---- the machine ---- */

static uint64_t mkdesc(uint32_t base, uint32_t limit, uint8_t access, uint8_t gd)
{
    return (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
           (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xF) << 48 |
           (uint64_t)(gd & 0xF) << 52 | (uint64_t)(base >> 24) << 56;
}

static void put8(struct machine *m, uint32_t a, uint64_t d)
{
    phys_write(&m->pm, a, (uint32_t)d, 4);
    phys_write(&m->pm, a + 4, (uint32_t)(d >> 32), 4);
}

struct env {
    int jit;
    int ring3;
    int paging;
    int stack16;     /* SS.B = 0, base 0x30000 */
};

/* Flat protected mode: GDT, IDT (every exception: an interrupt gate to a
 * HLT), TSS with a ring-0 stack, optionally identity paging of all RAM
 * (plus ALIAS -> the code page) and ring 3. */
static struct machine *machine_new(const struct env *env)
{
    struct machine *m = calloc(1, sizeof(*m));
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(physmem_init(&m->pm, RAM), 0);
    struct cpu *c = &m->cpu;
    ck_assert_int_eq(cpu_init(c, &m->pm), 0);
    if (!env->jit) {
        ck_assert_int_eq(cpu_set_jit(c, 0), 0);
        ck_assert_ptr_null(c->jit);
    } else if (cpu_set_jit(c, 1) < 0) {
        no_jit_said = 1;   /* no JIT here: the JIT-on runs are the interpreter */
    }
    put8(m, GDT + CODE0, mkdesc(0, 0xFFFFF, 0x9B, 0xC));
    put8(m, GDT + DATA0, mkdesc(0, 0xFFFFF, 0x93, 0xC));
    put8(m, GDT + CODE3, mkdesc(0, 0xFFFFF, 0xFB, 0xC));
    put8(m, GDT + DATA3, mkdesc(0, 0xFFFFF, 0xF3, 0xC));
    put8(m, GDT + TSSSEL, mkdesc(TSS, 0x67, 0x8B, 0));
    put8(m, GDT + CODE16, mkdesc(CODE, 0xFFFF, 0x9B, 0));
    put8(m, GDT + FSA, mkdesc(0x1000, 0xFFFFF, 0xF3, 0xC));   /* FS loads in the random programs */
    put8(m, GDT + FSB, mkdesc(0x800, 0x7FFFF, 0xF3, 0x4));
    for (int v = 0; v < 32; v++) {
        uint32_t off = HANDLERS + 8u * (uint32_t)v;
        phys_write(&m->pm, off, 0xF4, 1);
        put8(m, IDT + 8u * (uint32_t)v, (uint64_t)(off & 0xFFFF) | (uint64_t)CODE0 << 16 |
             (uint64_t)0x8E << 40 | (uint64_t)(off >> 16) << 48);
    }
    phys_write(&m->pm, TSS + 4, STACK0, 4);
    phys_write(&m->pm, TSS + 8, DATA0, 4);
    phys_write(&m->pm, TSS + 0x66, 0x68, 2);
    cpu_set_cr0(c, c->cr0 | CR0_PE);
    c->sys[SYS_GDTR].base = GDT;
    c->sys[SYS_GDTR].limit = 0xFF;
    c->sys[SYS_IDTR].base = IDT;
    c->sys[SYS_IDTR].limit = 0xFF;
    cpu_desc_to_seg(&c->sys[SYS_TR], TSSSEL, mkdesc(TSS, 0x67, 0x8B, 0));
    int r3 = env->ring3;
    for (int s = 0; s < 6; s++)
        cpu_desc_to_seg(&c->segs[s], r3 ? DATA3 | 3 : DATA0, mkdesc(0, 0xFFFFF, r3 ? 0xF3 : 0x93, 0xC));
    cpu_desc_to_seg(&c->segs[S_CS], r3 ? CODE3 | 3 : CODE0, mkdesc(0, 0xFFFFF, r3 ? 0xFB : 0x9B, 0xC));
    c->cpl = r3 ? 3 : 0;
    c->regs[R_ESP] = STACK;
    if (env->stack16) {
        c->segs[S_SS].base = 0x30000;
        c->segs[S_SS].limit = 0xFFFF;
        c->segs[S_SS].flags &= (uint16_t)~(SEGF_DB | SEGF_G);
        c->regs[R_ESP] = 0xABCD8000u;
    }
    c->eflags = 0x2;
    c->eip = CODE;
    if (env->paging) {
        phys_write(&m->pm, PD, PT | 7, 4);
        phys_write(&m->pm, PD + 4, PT2 | 7, 4);
        for (uint32_t p = 0; p < RAM >> 12; p++)
            phys_write(&m->pm, PT + 4 * p, p << 12 | 7, 4);
        phys_write(&m->pm, PT2, CODE | 7, 4);
        cpu_set_cr3(c, PD);
        cpu_set_cr0(c, c->cr0 | CR0_PG);
    }
    return m;
}

static void machine_free(struct machine *m)
{
    cpu_free(&m->cpu);
    physmem_free(&m->pm);
    free(m);
}

static void unmap_page(struct machine *m, uint32_t lin)
{
    phys_write(&m->pm, PT + 4 * (lin >> 12), 0, 4);
}

/* Every piece of architectural state the two runs must agree on. */
static void compare(struct machine *a, struct machine *b, const char *tag)
{
    struct cpu *x = &a->cpu, *y = &b->cpu;
    static const char *names[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
    for (int r = 0; r < 8; r++)
        ck_assert_msg(x->regs[r] == y->regs[r], "%s: %s interp %#x jit %#x", tag, names[r],
                      x->regs[r], y->regs[r]);
    ck_assert_msg(x->eip == y->eip, "%s: eip interp %#x jit %#x", tag, x->eip, y->eip);
    uint32_t fx = cpu_get_eflags(x), fy = cpu_get_eflags(y);
    ck_assert_msg(fx == fy, "%s: eflags interp %#x jit %#x", tag, fx, fy);
    ck_assert_msg(x->icount == y->icount, "%s: icount interp %llu jit %llu", tag,
                  (unsigned long long)x->icount, (unsigned long long)y->icount);
    ck_assert_msg(x->cr2 == y->cr2, "%s: cr2 interp %#x jit %#x", tag, x->cr2, y->cr2);
    ck_assert_msg(x->halted == y->halted && x->shutdown == y->shutdown && x->cpl == y->cpl,
                  "%s: halted/shutdown/cpl differ", tag);
    for (int s = 0; s < 6; s++)
        ck_assert_msg(x->segs[s].sel == y->segs[s].sel && x->segs[s].base == y->segs[s].base &&
                      x->segs[s].limit == y->segs[s].limit && x->segs[s].flags == y->segs[s].flags,
                      "%s: segment %d differs", tag, s);
    const struct fpu *p = &x->fpu, *q = &y->fpu;
    for (int r = 0; r < 8; r++)
        ck_assert_msg(p->mant[r] == q->mant[r] && p->se[r] == q->se[r], "%s: x87 R%d interp %04x:%016llx jit %04x:%016llx",
                      tag, r, p->se[r], (unsigned long long)p->mant[r], q->se[r], (unsigned long long)q->mant[r]);
    ck_assert_msg(p->fcw == q->fcw && p->fsw == q->fsw && p->tags == q->tags,
                  "%s: FCW/FSW/tags interp %04x %04x %02x jit %04x %04x %02x", tag, p->fcw, p->fsw, p->tags, q->fcw,
                  q->fsw, q->tags);
    ck_assert_msg(p->fop == q->fop && p->fip == q->fip && p->fdp == q->fdp && p->fcs == q->fcs && p->fds == q->fds,
                  "%s: FOP/FIP/FDP interp %03x %#x %#x jit %03x %#x %#x", tag, p->fop, p->fip, p->fdp, q->fop, q->fip,
                  q->fdp);
    ck_assert_msg(!y->jit || !jit_lf_fallbacks(y->jit), "%s: a block missed storing the lazy flags", tag);
    if (memcmp(a->pm.ram, b->pm.ram, RAM)) {
        uint32_t k = 0;
        while (a->pm.ram[k] == b->pm.ram[k])
            k++;
        ck_abort_msg("%s: memory at %#x: interp %#x jit %#x", tag, k, a->pm.ram[k], b->pm.ram[k]);
    }
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Runs both machines with the same budgets (one big one, or a seeded
 * sequence of small ones that end inside blocks), comparing after each;
 * returns the exit reason. */
static enum cpu_exit run_both(struct machine *a, struct machine *b, uint64_t chunk_seed, const char *tag)
{
    enum cpu_exit ra = CPU_EXIT_BUDGET, rb;
    char t[96];
    for (int step = 0; step < 4000; step++) {
        uint64_t budget = chunk_seed ? 1 + rng_next(&chunk_seed) % 48 : 200000;
        ra = cpu_run(&a->cpu, budget);
        rb = cpu_run(&b->cpu, budget);
        snprintf(t, sizeof t, "%s (run %d, budget %llu)", tag, step, (unsigned long long)budget);
        ck_assert_msg(ra == rb, "%s: exit interp %d jit %d", t, ra, rb);
        compare(a, b, t);
        if (ra == CPU_EXIT_REQUEST)   /* an OUT asked the loop to return: go on */
            continue;
        if (ra != CPU_EXIT_BUDGET || !chunk_seed)
            break;
    }
    return ra;
}

/* The JIT machine b again, alone, on the same budgets as run_both(). */
static void run_alone(struct machine *b, uint64_t chunk_seed)
{
    for (int step = 0; step < 4000; step++) {
        uint64_t budget = chunk_seed ? 1 + rng_next(&chunk_seed) % 48 : 200000;
        enum cpu_exit r = cpu_run(&b->cpu, budget);
        if (r == CPU_EXIT_REQUEST)
            continue;
        if (r != CPU_EXIT_BUDGET || !chunk_seed)
            break;
    }
}

static int b_has_jit(void) { return !no_jit_said; }

static uint64_t compiled(const struct machine *m)
{
    return m->cpu.jit ? jit_blocks_compiled(m->cpu.jit) : 0;
}

/* ---- a little assembler ---- */

struct as {
    uint8_t b[8192];
    uint32_t n;
};
#define E(a, ...) emit(a, (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))
static void emit(struct as *a, const uint8_t *p, size_t n)
{
    ck_assert_uint_le(a->n + n, sizeof a->b);
    memcpy(a->b + a->n, p, n);
    a->n += (uint32_t)n;
}
static void e32(struct as *a, uint32_t v) { E(a, v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF, v >> 24); }
static uint32_t jcc_fwd(struct as *a, int cc)
{
    E(a, 0x0F, 0x80 + cc);
    e32(a, 0);
    return a->n;
}
static void here(struct as *a, uint32_t at)
{
    uint32_t rel = a->n - at;
    memcpy(a->b + at - 4, &rel, 4);
}
static void jcc_back(struct as *a, int cc, uint32_t target)
{
    E(a, 0x0F, 0x80 + cc);
    e32(a, target - (a->n + 4));
}
static void jmp_back(struct as *a, uint32_t target)
{
    E(a, 0xE9);
    e32(a, target - (a->n + 4));
}
static void call_to(struct as *a, uint32_t target)
{
    E(a, 0xE8);
    e32(a, target - (a->n + 4));
}

static void load_code(struct machine *m, uint32_t at, const struct as *a)
{
    phys_write_block(&m->pm, at, a->b, a->n);
}

/* ---- random programs ---- */

static const int wregs[5] = { R_EAX, R_ECX, R_EDX, R_EBX, R_EDI };   /* ESI: data, EBP: counter */
#define DBASE 0x20F80u

struct gen {
    struct as *a;
    uint64_t s;
    int stack16;
    int in_sub;
    uint32_t sub_at[2];   /* subroutines (0: none yet) */
    int x87;              /* x87 chunks too */
};

static unsigned rnd(struct gen *g, unsigned n) { return (unsigned)(rng_next(&g->s) % n); }
static int wreg(struct gen *g) { return wregs[rnd(g, 5)]; }
static int anyreg(struct gen *g) { return (int)rnd(g, 8); }

/* A memory operand with ModRM.reg = reg: emits the masking of an index
 * register first (its own instruction) and returns the ModRM/SIB/disp bytes
 * in mb. The addresses stay in 0x20E00-0x21400 (crossing a page), or on
 * the stack for reads. */
struct memop {
    uint8_t b[6];
    int n;
};
static struct memop pick_mem(struct gen *g, int reg, int write)
{
    struct memop o = { { 0 }, 0 };
    unsigned mode = rnd(g, write || g->stack16 ? 7 : 8);
    int idx = wreg(g), sc = (int)rnd(g, 4);
    if (mode == 2 || mode == 3 || mode == 6) {
        E(g->a, 0x83, 0xE0 | idx, 0x3F);                 /* and idx, 0x3F */
        if (rnd(g, 2))
            E(g->a, 0x83, 0xC0 | idx, (uint8_t)rnd(g, 4)); /* add idx, 0-3: misalign */
    }
    int8_t d8 = (int8_t)(rnd(g, 256) - 128);
    uint32_t d32 = (uint32_t)((int)rnd(g, 0x200) - 0x100);
    switch (mode) {
    case 0:
        o.b[o.n++] = (uint8_t)(0x40 | reg << 3 | 6);
        o.b[o.n++] = (uint8_t)d8;
        break;
    case 7:   /* [esp + small]: reads of the stack */
        o.b[o.n++] = (uint8_t)(0x40 | reg << 3 | 4);
        o.b[o.n++] = 0x24;
        o.b[o.n++] = (uint8_t)rnd(g, 0x20);
        break;
    case 1:
        o.b[o.n++] = (uint8_t)(0x80 | reg << 3 | 6);
        memcpy(o.b + o.n, &d32, 4);
        o.n += 4;
        break;
    case 2:
        o.b[o.n++] = (uint8_t)(0x40 | reg << 3 | 4);
        o.b[o.n++] = (uint8_t)(sc << 6 | idx << 3 | 6);
        o.b[o.n++] = (uint8_t)d8;
        break;
    case 3: {
        uint32_t d = DBASE + d32;
        o.b[o.n++] = (uint8_t)(reg << 3 | 4);
        o.b[o.n++] = (uint8_t)(sc << 6 | idx << 3 | 5);
        memcpy(o.b + o.n, &d, 4);
        o.n += 4;
        break;
    }
    case 4: case 5: {
        uint32_t d = DBASE + d32 + (mode == 5 ? 0x80 : 0);   /* 5: around the page end */
        o.b[o.n++] = (uint8_t)(reg << 3 | 5);
        memcpy(o.b + o.n, &d, 4);
        o.n += 4;
        break;
    }
    default:
        o.b[o.n++] = (uint8_t)(reg << 3 | 4);
        o.b[o.n++] = (uint8_t)(sc << 6 | idx << 3 | 6);
        break;
    }
    return o;
}

/* opcode bytes (up to 3), then the memory operand */
static void op_mem(struct gen *g, const uint8_t *op, int nop, int reg, int write)
{
    struct memop o = pick_mem(g, reg, write);
    /* a segment override: ES flat, FS base 0x1000, GS base 0x800 limit 0x7FFFF, SS, DS */
    static const uint8_t pfx[5] = { 0x26, 0x64, 0x65, 0x36, 0x3E };
    if (rnd(g, 4) == 0)
        E(g->a, pfx[rnd(g, g->stack16 ? 3 : 5)]);   /* SS: the 16-bit stack's limit is 64K */
    emit(g->a, op, (size_t)nop);
    emit(g->a, o.b, (size_t)o.n);
}
#define OPM(g, reg, wr, ...) op_mem(g, (const uint8_t[]){ __VA_ARGS__ }, \
                                    sizeof((const uint8_t[]){ __VA_ARGS__ }), reg, wr)
static void rr(struct gen *g, uint8_t op, int reg, int rm) { E(g->a, op, (uint8_t)(0xC0 | reg << 3 | rm)); }

static const uint8_t alu_rm[] = { 0x01, 0x09, 0x21, 0x29, 0x31, 0x39, 0x85, 0x11, 0x19 };
static const uint8_t alu_r[] = { 0x03, 0x0B, 0x23, 0x2B, 0x33, 0x3B, 0x13, 0x1B };

static void chunk(struct gen *g);

/* One instruction (or a short self-contained group) of the 32-bit forms
 * the JIT inlines. */
static void chunk_inline(struct gen *g)
{
    struct as *a = g->a;
    int w = wreg(g), r = anyreg(g);
    switch (rnd(g, 29)) {
    case 25: E(a, (uint8_t)(0xB0 + rnd(g, 8)), (uint8_t)rnd(g, 256)); break;    /* mov r8, imm8 */
    case 26: if (rnd(g, 2)) { OPM(g, 0, 1, 0xC6); }                          /* mov m8 / r8, imm8 */
             else E(a, 0xC6, (uint8_t)(0xC0 | rnd(g, 8)));
             E(a, (uint8_t)rnd(g, 256)); break;
    case 27: switch (rnd(g, 3)) {                                           /* test m8/m32/r8, imm */
             case 0: OPM(g, 0, 0, 0xF6); E(a, (uint8_t)rnd(g, 256)); break;
             case 1: OPM(g, 0, 0, 0xF7); e32(a, (uint32_t)rng_next(&g->s)); break;
             default: E(a, 0xF6, (uint8_t)(0xC0 | rnd(g, 8)), (uint8_t)rnd(g, 256)); break;
             } break;
    case 28: rr(g, rnd(g, 2) ? 0x88 : 0x8A, (int)rnd(g, 8), (int)rnd(g, 8)); break;   /* mov r8, r8 */
    case 0: /* 89: rm <- reg; 8B: reg <- rm (the destination stays writable) */
        if (rnd(g, 2)) rr(g, 0x89, r, w); else rr(g, 0x8B, w, r);
        break;
    case 1: E(a, 0xB8 + w); e32(a, (uint32_t)rng_next(&g->s)); break;
    case 2: OPM(g, w, 0, 0x8B); break;
    case 3: OPM(g, r, 1, 0x89); break;
    case 4: { struct memop o = pick_mem(g, 0, 1); E(a, 0xC7); emit(a, o.b, (size_t)o.n);
              e32(a, (uint32_t)rng_next(&g->s)); break; }
    case 5: OPM(g, (int)rnd(g, 8), 0, 0x8A); break;
    case 6: OPM(g, (int)rnd(g, 8), 1, 0x88); break;
    case 7: OPM(g, w, 0, 0x0F, 0xB6); break;
    case 8: OPM(g, w, 0, 0x0F, 0xB7); break;
    case 9: E(a, 0x0F, 0xB7, (uint8_t)(0xC0 | w << 3 | r)); break;
    case 10: OPM(g, w, 0, 0x66, 0x8B); break;
    case 11: OPM(g, r, 1, 0x66, 0x89); break;
    case 12: OPM(g, w, 0, 0x8D); break;
    case 13: { uint8_t op = alu_rm[rnd(g, 7)];   /* rm is the destination */
               rr(g, op, r, (op == 0x39 || op == 0x85) ? r ^ (int)rnd(g, 8) : w); break; }
    case 14: rr(g, alu_r[rnd(g, 6)], w, r); break;
    case 15: { int op = (int)rnd(g, 8); if (op == 2 || op == 3) op = 7;
               if (rnd(g, 2)) { E(a, 0x81, (uint8_t)(0xC0 | op << 3 | w)); e32(a, (uint32_t)rng_next(&g->s)); }
               else E(a, 0x83, (uint8_t)(0xC0 | op << 3 | w), (uint8_t)rnd(g, 256));
               break; }
    case 16: { int op = (int)rnd(g, 8);
               if (op == 2 || op == 3) { E(a, 0xA9); e32(a, (uint32_t)rng_next(&g->s)); break; }
               E(a, (uint8_t)(op << 3 | 5)); e32(a, (uint32_t)rng_next(&g->s)); break; }
    case 17: OPM(g, r, 1, alu_rm[rnd(g, 7)]); break;
    case 18: OPM(g, w, 0, alu_r[rnd(g, 6)]); break;
    case 19: { int op = (int)rnd(g, 8); if (op == 2 || op == 3) op = 0;
               if (rnd(g, 2)) { OPM(g, op, 1, 0x81); e32(a, (uint32_t)rng_next(&g->s)); }
               else { OPM(g, op, 1, 0x83); E(a, (uint8_t)rnd(g, 256)); }
               break; }
    case 20: switch (rnd(g, 3)) {
             case 0: E(a, 0x40 + w); break;
             case 1: E(a, 0x48 + w); break;
             default: E(a, 0xFF, (uint8_t)(0xC0 | rnd(g, 2) << 3 | w)); break;
             } break;
    case 21: { static const uint8_t sh[3] = { 4, 5, 7 };
               unsigned m = rnd(g, 8);   /* shifts of a dword in memory too: by n, 1 or CL (SAL as well) */
               if (m == 0) { OPM(g, sh[rnd(g, 3)], 1, 0xC1); E(a, (uint8_t)rnd(g, 33)); }
               else if (m == 1) OPM(g, sh[rnd(g, 3)], 1, 0xD1);
               else if (m == 2) OPM(g, 4 + (int)rnd(g, 4), 1, 0xD3);
               else if (rnd(g, 4)) E(a, 0xC1, (uint8_t)(0xC0 | sh[rnd(g, 3)] << 3 | w), (uint8_t)rnd(g, 33));
               else E(a, 0xD1, (uint8_t)(0xC0 | sh[rnd(g, 3)] << 3 | w));
               break; }
    case 22: /* PUSH; something; POP */
        if (rnd(g, 3)) E(a, 0x50 + r);
        else if (rnd(g, 2)) { E(a, 0x68); e32(a, (uint32_t)rng_next(&g->s)); }
        else E(a, 0x6A, (uint8_t)rnd(g, 256));
        if (rnd(g, 2)) chunk(g);
        E(a, 0x58 + w);
        break;
    case 23: /* push esp; sub dword [esp], 16; pop esp; lea esp, [esp + 16] */
        if (g->stack16) {   /* [esp] would be outside SS */
            E(a, 0x54, 0x5C);
            break;
        }
        E(a, 0x54, 0x83, 0x2C, 0x24, 0x10, 0x5C, 0x8D, 0x64, 0x24, 0x10);
        break;
    default: /* PUSH; PUSH; POP; POP */
        E(a, 0x50 + r, 0x50 + anyreg(g), 0x58 + w, 0x58 + wreg(g));
        break;
    }
}

/* Forms that go through the handlers. */
static void chunk_handler(struct gen *g)
{
    struct as *a = g->a;
    int w = wreg(g), r = anyreg(g);
    switch (rnd(g, 30)) {
    case 29: /* DS with base 0x1000 for a while: code compiled for flat segments must leave */
        E(a, 0x1E, 0x6A, FSA | 3, 0x1F);                                        /* push ds; pop ds = FSA */
        chunk_inline(g);
        E(a, 0x1F);                                                             /* pop ds */
        break;
    case 26: OPM(g, 6, 0, 0xFF); OPM(g, 0, 1, 0x8F); break;                  /* push [m]; pop [m] */
    case 28: E(a, 0x6A, rnd(g, 2) ? FSA | 3 : FSB | 3, 0x0F, 0xA1); break;       /* push sel; pop fs */
    case 27: E(a, 0x67, 0x8B, (uint8_t)(w << 3 | (rnd(g, 2) ? 7 : 4))); break;  /* mov r, [bx] / [si] (a16) */
    case 0: rr(g, rnd(g, 2) ? 0x11 : 0x19, r, w); break;                        /* adc/sbb */
    case 1: E(a, 0x83, (uint8_t)(0xC0 | (2 + rnd(g, 2)) << 3 | w), (uint8_t)rnd(g, 256)); break;
    case 2: OPM(g, w, 0, rnd(g, 2) ? 0x13 : 0x1B); break;
    case 3: E(a, 0x0F, 0xAF, (uint8_t)(0xC0 | w << 3 | r)); break;              /* imul r, r */
    case 4: OPM(g, w, 0, 0x6B); E(a, (uint8_t)rnd(g, 256)); break;
    case 5: rr(g, (uint8_t)(rnd(g, 8) << 3 | rnd(g, 2) * 2), (int)rnd(g, 8), (int)rnd(g, 8)); break; /* byte ALU rr */
    case 6: OPM(g, (int)rnd(g, 8), 1, 0x00 | (uint8_t)(rnd(g, 8) << 3)); break;
    case 7: E(a, 0x80, (uint8_t)(0xC0 | rnd(g, 8) << 3 | rnd(g, 8)), (uint8_t)rnd(g, 256)); break;
    case 8: E(a, 0x0F, (uint8_t)(0x90 + rnd(g, 16)), (uint8_t)(0xC0 | rnd(g, 8))); break;  /* setcc r8 */
    case 9: OPM(g, 0, 1, 0x0F, (uint8_t)(0x90 + rnd(g, 16))); break;
    case 10: E(a, 0x0F, (uint8_t)(0x40 + rnd(g, 16)), (uint8_t)(0xC0 | w << 3 | r)); break;  /* cmovcc */
    case 11: OPM(g, w, 0, 0x0F, (uint8_t)(0x40 + rnd(g, 16))); break;
    case 12: rr(g, 0x87, w, wreg(g)); break;                                    /* xchg */
    case 13: OPM(g, w, 1, 0x87); break;
    case 14: E(a, 0xD3, (uint8_t)(0xC0 | rnd(g, 8) << 3 | w)); break;           /* shifts by CL */
    case 15: E(a, 0xC1, (uint8_t)(0xC0 | rnd(g, 4) << 3 | w), (uint8_t)rnd(g, 40)); break; /* rol/ror/rcl/rcr */
    case 16: E(a, 0xF7, (uint8_t)(0xC0 | (2 + rnd(g, 2)) << 3 | w)); break;     /* not/neg */
    case 17: OPM(g, (int)rnd(g, 2), 1, 0xFF); break;                            /* inc/dec [m] */
    case 18: E(a, rnd(g, 2) ? 0x99 : 0x98); break;                              /* cdq/cwde */
    case 19: E(a, 0x9C, 0x58 + w); break;                                       /* pushfd; pop */
    case 20: E(a, 0x0F, 0x31); break;                                           /* rdtsc */
    case 21: /* string operations on the data area */
        E(a, 0x56, 0x8D, 0x7E, (uint8_t)rnd(g, 0x40));                          /* push esi; lea edi,[esi+d] */
        switch (rnd(g, 6)) {
        case 0: E(a, 0xA5); break;                                              /* movsd */
        case 1: E(a, 0xAA); break;                                              /* stosb */
        case 2: E(a, 0xAD); break;                                              /* lodsd */
        case 3: E(a, rnd(g, 2) ? 0xA6 : 0xA7); break;                           /* cmpsb/cmpsd */
        case 4: E(a, rnd(g, 2) ? 0xAF : 0xAE); break;                           /* scasd/scasb */
        default: E(a, 0xB9, (uint8_t)rnd(g, 9), 0, 0, 0, 0xF3, 0xA4); break;  /* mov ecx,n; rep movsb */
        }
        E(a, 0x5E);
        break;
    case 22: E(a, 0x66, (uint8_t)(rnd(g, 8) << 3 | 1), (uint8_t)(0xC0 | r << 3 | w)); break; /* 16-bit ALU */
    case 23: OPM(g, r, 1, 0x66, (uint8_t)(rnd(g, 8) << 3 | 1)); break;
    case 24: E(a, 0x0F, 0xBA, (uint8_t)(0xC0 | (4 + rnd(g, 4)) << 3 | w), (uint8_t)rnd(g, 64)); break; /* bt* */
    default: E(a, 0x0F, (uint8_t)(0xBC + rnd(g, 2)), (uint8_t)(0xC0 | w << 3 | r)); break; /* bsf/bsr */
    }
}

/* x87 forms, on [esi + d8] (0x20F00-0x20FFF: 8-byte operands cross the page
 * end at the top) for memory operands. Registers run empty and full on the
 * way (masked stack faults, NaNs), FLDCW gives other FCWs, FNSTENV stores
 * FIP/FOP/FDP for the memory comparison. */
static void chunk_x87(struct gen *g)
{
    static const uint16_t cws[5] = { 0x037F, 0x037F, 0x027F, 0x0F7F, 0x007F };
    struct as *a = g->a;
    uint8_t r = (uint8_t)rnd(g, 8), op = (uint8_t)(rnd(g, 8) << 3), d = (uint8_t)rnd(g, 256);
    uint8_t m = rnd(g, 2) ? 0xDD : 0xD9;   /* binary64 or binary32 loads and stores */
    switch (rnd(g, 16)) {
    case 0: E(a, 0xD9, 0xC0 + r); break;                                   /* fld st(r) */
    case 1: E(a, 0xD9, 0xC8 + r); break;                                   /* fxch */
    case 2: E(a, 0xDD, (rnd(g, 2) ? 0xD8 : 0xD0) + r); break;              /* fstp/fst st(r) */
    case 3: E(a, 0xD9, rnd(g, 2) ? 0xE8 : 0xEE); break;                    /* fld1/fldz */
    case 4: E(a, 0xD9, 0xE0 + rnd(g, 2)); break;                           /* fchs/fabs */
    case 5: E(a, 0xD8, 0xC0 | op | r); break;                              /* st0 op st(r) */
    case 6: case 7: /* st(r) op st0, ...p (no FCOM aliases here) */
        E(a, rnd(g, 2) ? 0xDC : 0xDE, 0xC0 | (op == 0x10 || op == 0x18 ? 0 : op) | r);
        break;
    case 8: E(a, rnd(g, 2) ? 0xDB : 0xDF, (uint8_t)(0xC0 | (5 + rnd(g, 2)) << 3 | r)); break; /* f(u)comi(p) */
    case 9: E(a, rnd(g, 3) ? m : 0xDB, 0x46, d); break;                    /* fld m, fild m32 */
    case 10: E(a, m, (uint8_t)(0x46 | (2 + rnd(g, 2)) << 3), d); break;    /* fst(p) m */
    case 11: E(a, m == 0xDD ? 0xDC : 0xD8, 0x46 | op, d); break;           /* st0 op m */
    case 12: { uint16_t cw = cws[rnd(g, 5)];                               /* fldcw */
               E(a, 0x66, 0xC7, 0x46, d, cw & 0xFF, cw >> 8, 0xD9, 0x6E, d); break; }
    case 13: E(a, 0xDF, 0xE0); break;                                      /* fnstsw ax */
    case 14: E(a, 0xD9, 0x76, (uint8_t)rnd(g, 0x60)); break;               /* fnstenv */
    default: /* a value from memory through an operation and back */
        E(a, m, 0x46, d, 0xD8, 0xC0 | op | r, m, 0x5E, (uint8_t)rnd(g, 256));
        break;
    }
}

static void chunk(struct gen *g)
{
    if (g->x87 && rnd(g, 2)) {
        chunk_x87(g);
        return;
    }
    unsigned k = rnd(g, 20);
    if (k < 11)
        chunk_inline(g);
    else if (k < 19 || g->in_sub || !g->sub_at[1])
        chunk_handler(g);
    else
        call_to(g->a, g->sub_at[rnd(g, 2)]);
}

/* A chunk, and sometimes a Jcc (any condition) or JMP over the next one,
 * or two chunks laid out in the other order and joined by JMPs (one of
 * them backwards: blocks follow JMPs on the same page, cpu/block.c). */
static void chunk_and_branch(struct gen *g)
{
    struct as *a = g->a;
    chunk(g);
    unsigned k = rnd(g, 10);
    if (k == 4) {   /* jmp L2; L1: chunk; jmp L3; L2: chunk; jmp L1; L3: */
        E(a, 0xE9);
        e32(a, 0);
        uint32_t to_l2 = a->n, l1 = a->n;
        chunk(g);
        E(a, 0xE9);
        e32(a, 0);
        uint32_t to_l3 = a->n;
        here(a, to_l2);
        chunk(g);
        jmp_back(a, l1);
        here(a, to_l3);
        return;
    }
    if (k >= 4)
        return;
    int cc = (int)rnd(g, 16);
    if (k == 3) {
        uint32_t at = jcc_fwd(a, cc);
        chunk(g);
        here(a, at);
        return;
    }
    E(a, k == 0 ? 0xEB : (uint8_t)(0x70 + cc), 0);
    uint32_t at = a->n;
    chunk(g);
    ck_assert_uint_lt(a->n - at, 128);
    a->b[at - 1] = (uint8_t)(a->n - at);
}

/* jmp main; sub0: ... ret; sub1: ... ret; main: mov ebp, iters;
 * L: chunks; dec ebp; jnz L; hlt */
static void gen_program(struct as *a, uint64_t seed, int stack16, int nchunks, uint32_t iters, int x87)
{
    struct gen g = { a, seed * 0x9E3779B97F4A7C15ull + 1, stack16, 0, { 0, 0 }, x87 };
    a->n = 0;
    E(a, 0xE9);
    e32(a, 0);
    uint32_t to_main = a->n;
    g.in_sub = 1;
    for (int s = 0; s < 2; s++) {
        g.sub_at[s] = a->n;
        for (int k = 0, n = 1 + (int)rnd(&g, 5); k < n; k++)
            chunk_and_branch(&g);
        E(a, 0xC3);
    }
    g.in_sub = 0;
    here(a, to_main);
    E(a, 0xBD);
    e32(a, iters);
    uint32_t loop = a->n;
    if (x87)   /* fninit; fld qword [esi]; fld1; fld qword [esi + 8] */
        E(a, 0xDB, 0xE3, 0xDD, 0x06, 0xD9, 0xE8, 0xDD, 0x46, 0x08);
    for (int k = 0; k < nchunks; k++)
        chunk_and_branch(&g);
    E(a, 0x4D);                                   /* dec ebp */
    jcc_back(a, 5, loop);                         /* jnz */
    E(a, 0xF4);
}

/* Sets up one machine for random program `seed`: code, data, registers. */
static struct machine *random_machine(const struct env *env, const struct as *prog, uint64_t seed, uint32_t org)
{
    struct machine *m = machine_new(env);
    load_code(m, org, prog);
    m->cpu.eip = org;
    uint64_t s = seed ^ 0xD1B54A32D192ED03ull;
    for (uint32_t p = DATA; p < DATA + 0x3000; p += 4)
        phys_write(&m->pm, p, (uint32_t)rng_next(&s), 4);
    for (int r = 0; r < 8; r++)
        if (r != R_ESP)
            m->cpu.regs[r] = (uint32_t)rng_next(&s);
    m->cpu.regs[R_ESI] = DBASE;
    m->cpu.segs[S_FS].base = 0x1000;
    m->cpu.segs[S_GS].base = 0x800;
    m->cpu.segs[S_GS].limit = 0x7FFFF;
    m->cpu.eflags = 0x2 | ((uint32_t)rng_next(&s) & (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF));
    return m;
}

static const struct env random_envs[4] = {
    { 0, 0, 0, 0 },   /* ring 0, no paging */
    { 0, 1, 1, 0 },   /* ring 3, paging: the user TLB */
    { 0, 0, 1, 0 },   /* ring 0, paging */
    { 0, 0, 0, 1 },   /* 16-bit stack: PUSH/POP/CALL/RET through the handlers */
};

static void check_fault(struct machine *m, int vec, int err, uint32_t fault_eip);

/* Programs first .. first + n - 1 (env k % 3, or envsel); odd ones run
 * on small budgets. */
static void random_batch_cap(int first, int n, int envsel, size_t cap);
static void random_batch(int first, int n, int envsel)
{
    random_batch_cap(first, n, envsel, 0);
}

/* cap: the JIT's code buffer size (0: as built), so that it fills up */
static void random_batch_cap(int first, int n, int envsel, size_t cap)
{
    for (int k = first; k < first + n; k++) {
        struct env env = random_envs[envsel >= 0 ? envsel : k % 3];
        static struct as prog;
        gen_program(&prog, (uint64_t)k, env.stack16, 6 + k % 25, 24 + (uint32_t)(k % 7), k / 1000 == 3);
        /* anywhere in the first code page, so that blocks end at the page end */
        uint32_t org = CODE + (((uint32_t)k * 0x3A7u) & 0xFFF);
        struct machine *a = random_machine(&env, &prog, (uint64_t)k, org);
        env.jit = 1;
        struct machine *b = random_machine(&env, &prog, (uint64_t)k, org);
        if (cap && b->cpu.jit)
            jit_set_capacity(b->cpu.jit, cap);
        char tag[64];
        snprintf(tag, sizeof tag, "program %d (env %d)", k, envsel >= 0 ? envsel : k % 3);
        enum cpu_exit ex = run_both(a, b, (k & 1) ? (uint64_t)k + 77 : 0, tag);
        if (b->cpu.jit) {   /* the TLB hits counted at the exits, as if counted one by one */
            struct machine *c = random_machine(&env, &prog, (uint64_t)k, org);
            if (cap)
                jit_set_capacity(c->cpu.jit, cap);
            jit_set_tlb_per_access(c->cpu.jit, 1);
            run_alone(c, (k & 1) ? (uint64_t)k + 77 : 0);
            compare(b, c, tag);
            ck_assert_msg(b->cpu.mmu.tlb_hits == c->cpu.mmu.tlb_hits, "%s: TLB hits %llu, one by one %llu", tag,
                          (unsigned long long)b->cpu.mmu.tlb_hits, (unsigned long long)c->cpu.mmu.tlb_hits);
            machine_free(c);
        }
        ck_assert_msg(ex == CPU_EXIT_HLT, "%s: did not halt (%d)", tag, ex);
        if (env.ring3)   /* HLT at CPL 3: #GP(0) */
            check_fault(a, EXC_GP, 0, org + prog.n - 1);
        else
            ck_assert_msg(a->cpu.eip == org + prog.n, "%s: stopped at %#x, not at the end", tag, a->cpu.eip);
        if (b_has_jit())   /* the loop ran more than JIT_HOT times */
            ck_assert_msg(compiled(b) > 0, "%s: the JIT compiled nothing", tag);
        machine_free(a);
        machine_free(b);
    }
}

START_TEST(test_random_programs)
{
    random_batch(_i * 10, 10, -1);
}
END_TEST

/* The code buffer empties every few blocks (its smallest size holds two):
 * blocks compile again and the chain slots held meanwhile stay harmless. */
START_TEST(test_code_buffer_full)
{
    random_batch_cap(2000 + _i * 10, 10, -1, 1);
}
END_TEST

/* Programs 3000-: x87 forms among the others */
START_TEST(test_random_x87)
{
    random_batch(3000 + _i * 10, 10, -1);
}
END_TEST

START_TEST(test_random_programs_stack16)
{
    random_batch(1000 + _i * 10, 10, 3);
}
END_TEST

/* ---- hand-written programs ---- */

struct pair {
    struct machine *a, *b;   /* interpreter, JIT */
};

static struct pair pair_new(struct env env, const struct as *prog, uint32_t at, void (*setup)(struct machine *, int),
                            int arg)
{
    struct pair p;
    for (int k = 0; k < 2; k++) {
        env.jit = k;
        struct machine *m = machine_new(&env);
        load_code(m, at, prog);
        m->cpu.eip = at;
        if (setup)
            setup(m, arg);
        *(k ? &p.b : &p.a) = m;
    }
    return p;
}

/* The JIT machine's TLB hits (counted at block exits, flushed before
 * calls that may fault) against a third machine's counted one by one,
 * run alone on the same budgets, and (interp) the interpreter's. The
 * interpreter counts code fetches too, which loops look up less often
 * compiled (chained blocks): only straight programs compare with it. */
static void check_tlb_hits(struct pair p, struct env env, const struct as *prog, uint32_t at,
                           void (*setup)(struct machine *, int), int arg, uint64_t chunk_seed, int interp)
{
    if (!p.b->cpu.jit)
        return;
    env.jit = 1;
    struct machine *c = machine_new(&env);
    load_code(c, at, prog);
    c->cpu.eip = at;
    if (setup)
        setup(c, arg);
    jit_set_tlb_per_access(c->cpu.jit, 1);
    run_alone(c, chunk_seed);
    compare(p.b, c, "one by one");
    ck_assert_msg(p.b->cpu.mmu.tlb_hits == c->cpu.mmu.tlb_hits, "TLB hits %llu, one by one %llu",
                  (unsigned long long)p.b->cpu.mmu.tlb_hits, (unsigned long long)c->cpu.mmu.tlb_hits);
    machine_free(c);
    ck_assert_msg(!interp || p.a->cpu.mmu.tlb_hits == p.b->cpu.mmu.tlb_hits, "TLB hits interp %llu jit %llu",
                  (unsigned long long)p.a->cpu.mmu.tlb_hits, (unsigned long long)p.b->cpu.mmu.tlb_hits);
}

static void pair_free(struct pair p)
{
    ck_assert_msg(!b_has_jit() || compiled(p.b) > 0, "the JIT compiled nothing");
    machine_free(p.a);
    machine_free(p.b);
}

/* The interpreter's machine ended in exception handler `vec` with error
 * code err (-1: none), for the instruction at fault_eip. */
static void check_fault(struct machine *m, int vec, int err, uint32_t fault_eip)
{
    struct cpu *c = &m->cpu;
    ck_assert_msg(c->halted && c->eip == HANDLERS + 8u * (uint32_t)vec + 1,
                  "not in handler %d: eip %#x", vec, c->eip);
    uint32_t sp = c->regs[R_ESP];
    if (err >= 0) {
        ck_assert_uint_eq(phys_read(&m->pm, sp, 4), (uint32_t)err);
        sp += 4;
    }
    ck_assert_uint_eq(phys_read(&m->pm, sp, 4), fault_eip);
}

/* Jcc on every condition after every kind of flag-setting operation: per
 * condition, EAX/EBX from a table of edge values, the operation, then
 * "jcc +6; add edx, 1 << cc". */
static const struct { const char *name; uint8_t b[12]; int n; } flag_ops[] = {
    { "add", { 0x01, 0xD8 }, 2 },          { "or", { 0x09, 0xD8 }, 2 },
    { "and", { 0x21, 0xD8 }, 2 },          { "sub", { 0x29, 0xD8 }, 2 },
    { "xor", { 0x31, 0xD8 }, 2 },          { "cmp", { 0x39, 0xD8 }, 2 },
    { "test", { 0x85, 0xD8 }, 2 },         { "adc", { 0x11, 0xD8 }, 2 },
    { "sbb", { 0x19, 0xD8 }, 2 },          { "inc", { 0x40 }, 1 },
    { "dec", { 0x48 }, 1 },                { "ff inc", { 0xFF, 0xC0 }, 2 },
    { "shl 1", { 0xD1, 0xE0 }, 2 },        { "shl 5", { 0xC1, 0xE0, 5 }, 3 },
    { "shr 3", { 0xC1, 0xE8, 3 }, 3 },     { "sar 1", { 0xD1, 0xF8 }, 2 },
    { "sar 31", { 0xC1, 0xF8, 31 }, 3 },   { "shl 0", { 0xC1, 0xE0, 0 }, 3 },
    { "shl cl", { 0x89, 0xD9, 0xD3, 0xE0 }, 4 }, { "neg", { 0xF7, 0xD8 }, 2 },
    { "imul", { 0x0F, 0xAF, 0xC3 }, 3 },  { "add imm8", { 0x83, 0xC0, 0x80 }, 3 },
    { "cmp imm32", { 0x3D, 0, 0, 0, 0x80 }, 5 }, { "cmp mem", { 0x39, 0x1C, 0xAE }, 3 },
    { "sub reg,mem", { 0x2B, 0x04, 0xAE }, 3 }, { "and mem,imm", { 0x81, 0x24, 0xAE, 0xF0, 0xFF, 0xFF, 0x7F }, 7 },
    { "cmp8", { 0x38, 0xD8 }, 2 },         { "cmp16", { 0x66, 0x39, 0xD8 }, 3 },
    { "bt", { 0x0F, 0xA3, 0xD8 }, 3 },     { "sahf", { 0x9E }, 1 },
    { "add; inc", { 0x01, 0xD8, 0x40 }, 3 }, { "shr; dec", { 0xD1, 0xE8, 0x48 }, 3 },
    { "sub; inc", { 0x29, 0xD8, 0x40 }, 3 }, { "cmp; mov", { 0x39, 0xD8, 0x89, 0xC1 }, 4 },
    { "test; lea", { 0x85, 0xC0, 0x8D, 0x48, 0x01 }, 5 }, { "inc; inc", { 0x40, 0x43 }, 2 },
    { "neg; dec", { 0xF7, 0xD8, 0x48 }, 3 }, { "sub8; inc", { 0x28, 0xD8, 0x40 }, 3 },
    { "cmp8; mov", { 0x38, 0xD8, 0x89, 0xC1 }, 4 }, { "test8; mov", { 0x84, 0xC0, 0x89, 0xC1 }, 4 },
    { "add8; mov", { 0x00, 0xD8, 0x89, 0xC1 }, 4 },
    { "cmpxchg", { 0x0F, 0xB1, 0xCB }, 3 }, { "xadd", { 0x0F, 0xC1, 0xD8 }, 3 },
    { "mul", { 0xF7, 0xE3 }, 2 },          { "daa", { 0x27 }, 1 },
    { "das", { 0x2F }, 1 },                { "shld 7", { 0x0F, 0xA4, 0xD8, 7 }, 4 },
    { "shrd cl", { 0x89, 0xD9, 0x0F, 0xAD, 0xD8 }, 5 }, { "rol 3", { 0xC1, 0xC0, 3 }, 3 },
    { "rcr 1", { 0xD1, 0xD8 }, 2 },        { "bsf", { 0x0F, 0xBC, 0xC3 }, 3 },
    { "bts", { 0x0F, 0xAB, 0xD8 }, 3 },    { "stc", { 0xF9 }, 1 },
    { "cmc", { 0xF5 }, 1 },                { "clc", { 0xF8 }, 1 },
    { "scasd", { 0xAF }, 1 },              { "cmpsb", { 0xA6 }, 1 },
    { "adc; inc", { 0x11, 0xD8, 0x40 }, 3 }, { "sbb; dec", { 0x19, 0xD8, 0x48 }, 3 },
    { "shl; inc", { 0xD1, 0xE0, 0x40 }, 3 }, { "imul; inc", { 0x0F, 0xAF, 0xC3, 0x40 }, 4 },
    { "sahf; inc", { 0x9E, 0x40 }, 2 },    { "stc; dec", { 0xF9, 0x48 }, 2 },
    { "sar 31; inc", { 0xC1, 0xF8, 31, 0x40 }, 4 }, { "cmp16 imm; dec", { 0x66, 0x83, 0xF8, 0x05, 0x48 }, 5 },
    { "ror 7; xor", { 0xC1, 0xC8, 7, 0x31, 0xD8 }, 5 }, { "rol 1; add", { 0xD1, 0xC0, 0x01, 0xD8 }, 4 },
    { "ror; mov; add", { 0xC1, 0xC8, 3, 0x89, 0xC1, 0x01, 0xD8 }, 7 }, { "rol 0; sub", { 0xC1, 0xC0, 0, 0x29, 0xD8 }, 5 },
    { "ror; rol; xor", { 0xC1, 0xC8, 31, 0xC1, 0xC3, 9, 0x31, 0xD8 }, 8 }, { "rol; inc", { 0xC1, 0xC0, 4, 0x40 }, 4 },
    { "and; inc; inc", { 0x21, 0xD8, 0x40, 0x40 }, 4 }, { "popfd", { 0x53, 0x81, 0x24, 0x24, 0xD5, 0x08, 0, 0, 0x9D }, 9 },
};

static const uint32_t edges[] = { 0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF,
                                  0x80000000, 0x80000001, 0xFFFFFFFF, 0xFFFFFFFE, 0x12345678, 0xDEADBEEF };

static void flags_setup(struct machine *m, int seed)
{
    uint64_t s = (uint64_t)seed * 7919 + 13;
    for (uint32_t k = 0; k < 0x200; k++)
        phys_write(&m->pm, DATA + 4 * k, edges[rng_next(&s) % 16] + (rng_next(&s) % 4 == 0), 4);
    m->cpu.regs[R_ESI] = DATA;
    m->cpu.regs[R_EDI] = DATA + 0x800;   /* SCAS/CMPS walk up from here */
    m->cpu.regs[R_EDX] = 0;
}

START_TEST(test_jcc_after_flag_ops)
{
    struct as prog = { .n = 0 };
    struct as *a = &prog;
    E(a, 0xBD, 40, 0, 0, 0);                               /* mov ebp, 40 */
    uint32_t loop = a->n;
    for (int cc = 0; cc < 16; cc++) {
        E(a, 0x8B, 0x04, 0xAE);                            /* mov eax, [esi + ebp*4] */
        E(a, 0x8B, 0x9C, 0xAE, (uint8_t)(cc * 4), 1, 0, 0);   /* mov ebx, [esi + ebp*4 + 0x100 + 4cc] */
        emit(a, flag_ops[_i].b, (size_t)flag_ops[_i].n);
        E(a, (uint8_t)(0x70 + cc), 6);
        E(a, 0x81, 0xC2);                                  /* add edx, 1 << cc */
        e32(a, 1u << cc);
        if (cc == 7)
            E(a, 0xC1, 0xC2, 5);                           /* rol edx, 5 */
    }
    E(a, 0x4D);
    jcc_back(a, 5, loop);
    E(a, 0xF4);
    for (int chunked = 0; chunked < 2; chunked++) {
        struct pair p = pair_new((struct env){ 0, 0, 0, 0 }, &prog, CODE, flags_setup, _i);
        ck_assert_int_eq(run_both(p.a, p.b, chunked ? 5 : 0, flag_ops[_i].name), CPU_EXIT_HLT);
        ck_assert_uint_eq(p.a->cpu.eip, CODE + prog.n);
        pair_free(p);
    }
}
END_TEST

/* MUL, IMUL, DIV (one operand), NEG, NOT and TEST r32, imm32 of registers
 * in a hot loop, then a DIV whose quotient does not fit: #DE from
 * compiled code, at the same instruction as the interpreter's. */
static void muldiv_setup(struct machine *m, int k)
{
    (void)k;
    m->cpu.regs[R_EAX] = 0x12345678;
    m->cpu.regs[R_EBX] = 0x9E3779B9;
    m->cpu.regs[R_ECX] = 0x9E3779B1;   /* negative as signed: DIV and IDIV differ */
    m->cpu.regs[R_EDX] = 3;
    m->cpu.regs[R_ESI] = 0xFFFFFFF0;
}

START_TEST(test_mul_div)
{
    struct as prog = { .n = 0 };
    struct as *a = &prog;
    E(a, 0xBD, 40, 0, 0, 0);                       /* mov ebp, 40 */
    uint32_t loop = a->n;
    E(a, 0xF7, 0xE3);                               /* mul ebx */
    E(a, 0x01, 0xC7);                               /* add edi, eax */
    E(a, 0x01, 0xD7);                               /* add edi, edx */
    E(a, 0xF7, 0xEE);                               /* imul esi */
    E(a, 0x72, 0x01, 0x47);                         /* jc +1; inc edi */
    E(a, 0x81, 0xE2, 0xFF, 0x7F, 0x00, 0x00);       /* and edx, 0x7FFF (EDX < ECX) */
    E(a, 0xF7, 0xF1);                               /* div ecx */
    E(a, 0x01, 0xD7);                               /* add edi, edx */
    E(a, 0xF7, 0xD8);                               /* neg eax */
    E(a, 0x19, 0xC7);                               /* sbb edi, eax */
    E(a, 0xF7, 0xD3);                               /* not ebx */
    E(a, 0xF7, 0xC3, 0x01, 0x00, 0x00, 0x00);       /* test ebx, 1 */
    E(a, 0x74, 0x01, 0x4F);                         /* jz +1; dec edi */
    E(a, 0x81, 0xC3, 0x35, 0x79, 0x00, 0x00);       /* add ebx, 0x7935 */
    E(a, 0x4D);
    jcc_back(a, 5, loop);
    E(a, 0x89, 0xCA);                               /* mov edx, ecx */
    uint32_t fault = a->n;
    E(a, 0xF7, 0xF1);                               /* div ecx: EDX = divisor, #DE */
    E(a, 0xF4);
    for (int chunked = 0; chunked < 2; chunked++) {
        struct pair p = pair_new((struct env){ 0, 0, 0, 0 }, &prog, CODE, muldiv_setup, 0);
        ck_assert_int_eq(run_both(p.a, p.b, chunked ? 7 : 0, "mul/div"), CPU_EXIT_HLT);
        check_fault(p.a, EXC_DE, -1, CODE + fault);
        pair_free(p);
    }
}
END_TEST

/* x87 runs in line under each precision and rounding control (the JIT
 * does RN with any precision in line, the rest through the handlers), with
 * registers compared inside the loop; then CR0.TS set: #NM from the run. */
static const uint16_t x87_cws[4] = { 0x037F, 0x027F, 0x007F, 0x0F7F };
static void x87_setup(struct machine *m, int k)
{
    static const uint64_t v[4] = { 0x3FD5555555555555ull, 0x400921FB54442D18ull, 0x4005BF0A8B145769ull,
                                   0x3FF6A09E667F3BCDull };   /* 1/3, pi, e, sqrt 2 */
    for (int j = 0; j < 4; j++)
        put8(m, DBASE + 8 + 8 * (uint32_t)j, v[j]);
    put8(m, DBASE + 48, 1ull << 63);                 /* -0.0 */
    put8(m, DBASE + 56, 0);                          /* +0.0f */
    static const uint64_t edge[3] = { ~0ull, 0x8000000000000C00ull, 0x8000000000000400ull };
    for (int j = 0; j < 3; j++) {
        put8(m, DBASE - 64 + 10 * (uint32_t)j, edge[j]);
        phys_write(&m->pm, DBASE - 56 + 10 * (uint32_t)j, 0x3FFF, 2);
    }
    phys_write(&m->pm, DBASE + 64, 0, 4);            /* int32 0, INT_MIN, -5 */
    phys_write(&m->pm, DBASE + 68, 0x80000000u, 4);
    phys_write(&m->pm, DBASE + 72, (uint32_t)-5, 4);
    phys_write(&m->pm, DBASE, x87_cws[k], 2);
    m->cpu.regs[R_ESI] = DBASE;
}

START_TEST(test_x87_precision)
{
    struct as prog = { .n = 0 };
    struct as *a = &prog;
    E(a, 0xDB, 0xE3, 0xD9, 0x2E);                   /* fninit; fldcw [esi] */
    E(a, 0xBD, 0x2C, 1, 0, 0);                      /* mov ebp, 300 */
    uint32_t loop = a->n;
    E(a, 0xDD, 0x46, 0x08, 0xDC, 0x4E, 0x10);       /* fld qword [esi+8]; fmul qword [esi+16] */
    E(a, 0xDD, 0x46, 0x18, 0xD8, 0xF1);             /* fld qword [esi+24]; fdiv st0, st1 */
    E(a, 0xD8, 0xC1, 0xDC, 0x66, 0x20);             /* fadd st0, st1; fsub qword [esi+32] */
    E(a, 0xD9, 0xC9, 0xDE, 0xC9);                   /* fxch st1; fmulp st1, st0 */
    E(a, 0xD9, 0xC0, 0xD8, 0xC8, 0xDE, 0xE9);       /* fld st0; fmul st0, st0; fsubp st1, st0 */
    E(a, 0xDD, 0x46, 0x30, 0xD8, 0xC1);             /* fld qword [esi+48] (-0); fadd st0, st1 */
    E(a, 0xD9, 0x46, 0x38, 0xDE, 0xC9, 0xDE, 0xC1); /* fld dword [esi+56] (+0); fmulp; faddp */
    E(a, 0xDB, 0x46, 0x40, 0xDB, 0x46, 0x44, 0xDE, 0xC1);   /* fild [esi+64] (0), [esi+68] (INT_MIN); faddp */
    E(a, 0xDB, 0x46, 0x48, 0xDE, 0xC1, 0xDE, 0xC1); /* fild [esi+72] (-5); faddp; faddp */
    E(a, 0xD9, 0xC0, 0xD9, 0x5E, 0x4C);             /* fld st0; fstp dword [esi+76] */
    E(a, 0xDD, 0x5E, 0x28);                         /* fstp qword [esi+40] */
    E(a, 0xDF, 0xE0, 0x66, 0x89, 0x46, 0x50);       /* fnstsw ax; mov [esi+80], ax (C1, PE) */
    for (int j = 0; j < 3; j++)   /* rounding edges to binary64: carry out, ties to even */
        E(a, 0xDB, 0x6E, (uint8_t)(-64 + 10 * j), 0xDD, 0x5E, (uint8_t)(88 + 8 * j),
          0xDF, 0xE0, 0x66, 0x89, 0x46, (uint8_t)(112 + 2 * j));   /* fld tword; fstp qword; fnstsw */
    E(a, 0x81, 0x46, 0x08, 0x35, 0x12, 0, 0);       /* add dword [esi+8], 0x1235 */
    E(a, 0x4D);
    jcc_back(a, 5, loop);
    E(a, 0x0F, 0x20, 0xC0, 0x83, 0xC8, 0x08, 0x0F, 0x22, 0xC0);   /* mov eax, cr0; or eax, 8 (TS); mov cr0, eax */
    E(a, 0x45);                                     /* inc ebp */
    jcc_back(a, 5, loop);                           /* jnz: the first FLD raises #NM */
    E(a, 0xF4);
    for (int chunked = 0; chunked < 2; chunked++) {
        struct pair p = pair_new((struct env){ 0, 0, 0, 0 }, &prog, CODE, x87_setup, _i);
        ck_assert_int_eq(run_both(p.a, p.b, chunked ? 11 : 0, "x87 precision"), CPU_EXIT_HLT);
        check_fault(p.a, EXC_NM, -1, CODE + loop);
        pair_free(p);
    }
}
END_TEST

/* FADD/FSUB/FMUL/FDIV and FCOMI in line on operand pairs made to round: exponents
 * 0-70 apart, ties and near-ties below the last bit, carries, cancellation,
 * results beyond the exponent range (quotients by a tiny and a huge divisor
 * too); every result stored (FSTP m80). */
#define X87_PAIRS 600
#define X87_DIVISOR(j) (DATA + X87_PAIRS * 20 + 2 + 10 * (j))
static void x87_arith_setup(struct machine *m, int k)
{
    uint64_t s = 0x5DEECE66Dull + (uint64_t)k;
    for (uint32_t j = 0; j < X87_PAIRS; j++) {
        uint32_t at = DATA + j * 20;
        uint64_t ma = rng_next(&s) | 1ull << 63, mb = rng_next(&s) | 1ull << 63;
        unsigned d = (unsigned)(rng_next(&s) % 71), kind = (unsigned)(rng_next(&s) % 4);
        uint32_t ea = 0x3FFF + (uint32_t)(rng_next(&s) % 9) - 4;
        if (j % 8 < 2)                                 /* underflow / overflow */
            ea = j % 8 ? 0x7FFE - (uint32_t)(rng_next(&s) % 3) : 1 + (uint32_t)(rng_next(&s) % 3);
        if (d && d < 64 && kind == 1)                  /* a tie below the last bit */
            mb = (mb >> d << d) | 1ull << (d - 1) | 1ull << 63;
        if (d && d < 64 && kind == 2)                  /* just above or below one */
            mb = (mb >> d << d) | ((1ull << (d - 1)) + (rng_next(&s) & 1 ? 1 : ~0ull)) | 1ull << 63;
        if (kind == 3) {                               /* cancellation, equal magnitudes */
            d = (unsigned)(rng_next(&s) % 2);
            mb = ma ^ (rng_next(&s) & (j & 1 ? 0xFF : 0x1));
        }
        uint16_t sa = (uint16_t)(ea | (rng_next(&s) & 1) << 15);
        uint32_t eb = ea > d ? ea - d : ea;
        uint16_t sb = (uint16_t)(eb | (rng_next(&s) & 1) << 15);
        put8(m, at, ma);
        phys_write(&m->pm, at + 8, sa, 2);
        put8(m, at + 10, mb);
        phys_write(&m->pm, at + 18, sb, 2);
    }
    static const uint16_t fcw[3] = { 0x037F, 0x027F, 0x077F };   /* the last: round down, never in line */
    phys_write(&m->pm, DATA + X87_PAIRS * 20, fcw[k], 2);
    for (uint32_t j = 0; j < 2; j++) {                 /* divisors 2^-16380 and 2^16381 */
        put8(m, X87_DIVISOR(j), rng_next(&s) | 1ull << 63);
        phys_write(&m->pm, X87_DIVISOR(j) + 8, j ? 0x7FFC : 0x0003, 2);
    }
    m->cpu.regs[R_EDI] = DATA;
    m->cpu.regs[R_ESI] = 0x40000;   /* the results */
}

START_TEST(test_x87_arith)
{
    struct as prog = { .n = 0 };
    struct as *a = &prog;
    E(a, 0xDB, 0xE3, 0xD9, 0xAF);                   /* fninit; fldcw [edi + PAIRS * 20] */
    e32(a, X87_PAIRS * 20);
    E(a, 0xBD);                                     /* mov ebp, PAIRS */
    e32(a, X87_PAIRS);
    uint32_t loop = a->n;
    E(a, 0xDB, 0x2F, 0xDB, 0x6F, 0x0A);             /* fld tword [edi]; fld tword [edi+10] */
    E(a, 0xD9, 0xC1, 0xD9, 0xC1, 0xDE, 0xC1);       /* fld st1; fld st1; faddp */
    E(a, 0xD9, 0xC2, 0xD9, 0xC2, 0xDE, 0xE9);       /* fld st2; fld st2; fsubp */
    E(a, 0xD9, 0xC3, 0xD9, 0xC3, 0xDE, 0xC9);       /* fld st3; fld st3; fmulp */
    E(a, 0xD9, 0xC4, 0xD9, 0xC4, 0xDE, 0xF9);       /* fld st4; fld st4; fdivp */
    for (int j = 0; j < 4; j++)                     /* fstp tword [esi + 10 j]... */
        E(a, 0xDB, 0x7E, (uint8_t)(10 * j));
    E(a, 0xDB, 0xF1, 0x9C, 0x8F, 0x46, 50);         /* fcomi st1; pushfd; pop dword [esi+50] */
    E(a, 0xDE, 0xC1, 0xDB, 0x7E, 40);               /* faddp; fstp tword [esi+40] */
    /* zeros in a run next to tiny values: what the emitter assumes
     * about a register's value must follow FLDZ, FXCH and 0 / x */
    E(a, 0xDB, 0x6F, 0x0A, 0xD9, 0xEE, 0xD9, 0xC9);  /* fld tword [edi+10]; fldz; fxch st1 */
    E(a, 0xDE, 0xC1, 0xDB, 0x7E, 54);               /* faddp; fstp tword [esi+54] */
    E(a, 0xDB, 0x2F, 0xD9, 0xEE, 0xD8, 0xF1);       /* fld tword [edi]; fldz; fdiv st0, st1 */
    E(a, 0xD8, 0xC1, 0xDB, 0x7E, 64, 0xDD, 0xD8);   /* fadd st0, st1; fstp tword [esi+64]; fstp st0 */
    for (int j = 0; j < 2; j++) {   /* quotients at the ends of the exponent range */
        E(a, 0xDB, 0x2D);                           /* fld tword [divisor j] */
        e32(a, X87_DIVISOR(j));
        E(a, 0xDB, 0x2F, 0xD8, 0xF1);               /* fld tword [edi]; fdiv st0, st1 */
        E(a, 0xDB, 0x7E, (uint8_t)(74 + 10 * j), 0xDD, 0xD8);   /* fstp tword [esi+74+10j]; fstp st0 */
    }
    E(a, 0x83, 0xC7, 20, 0x83, 0xC6, 94, 0x4D);     /* add edi, 20; add esi, 94; dec ebp */
    jcc_back(a, 5, loop);
    E(a, 0xF4);
    struct pair p = pair_new((struct env){ 0, 0, 0, 0 }, &prog, CODE, x87_arith_setup, _i);
    ck_assert_int_eq(run_both(p.a, p.b, 0, "x87 arithmetic"), CPU_EXIT_HLT);
    pair_free(p);
}
END_TEST

/* FADD/FSUB/FMUL on every pair of zeros, normals and the rest (infinities,
 * NaNs, denormals, pseudo-denormals, unnormals): the JIT's shared routines
 * for a zero operand must give exactly what the handlers give, flags
 * included, and leave everything else to them. */
static const uint16_t x87_special_se[13] = { 0, 0x8000, 0x3FFF, 0xC000, 0x7FFF, 0xFFFF, 0x7FFF, 0x7FFF, 0,
                                              0x8000, 0x3FFF, 0x7FFE, 0x0001 };
static const uint64_t x87_special_m[13] = { 0, 0, 3ull << 62, 13ull << 60, 1ull << 63, 1ull << 63, 3ull << 62,
                                             5ull << 61, 1ull << 32, 1ull << 63, 1ull << 40, ~0ull, 1ull << 63 };
static void x87_zeros_setup(struct machine *m, int k)
{
    uint32_t at = DATA;
    for (int x = 0; x < 13; x++)
        for (int y = 0; y < 13; y++, at += 20) {
            put8(m, at, x87_special_m[x]);
            phys_write(&m->pm, at + 8, x87_special_se[x], 2);
            put8(m, at + 10, x87_special_m[y]);
            phys_write(&m->pm, at + 18, x87_special_se[y], 2);
        }
    phys_write(&m->pm, DATA + 169 * 20, k ? 0x027F : 0x037F, 2);
    m->cpu.regs[R_EDI] = DATA;
    m->cpu.regs[R_ESI] = 0x40000;   /* the results */
}

START_TEST(test_x87_zeros)
{
    struct as prog = { .n = 0 };
    struct as *a = &prog;
    E(a, 0xDB, 0xE3, 0xD9, 0xAF);                   /* fninit; fldcw [edi + 169 * 20] */
    e32(a, 169 * 20);
    E(a, 0xBD, 169, 0, 0, 0);                       /* mov ebp, 169 */
    uint32_t loop = a->n;
    E(a, 0xDB, 0x2F, 0xDB, 0x6F, 0x0A);             /* fld tword [edi]; fld tword [edi+10] */
    static const uint8_t op[3] = { 0xC1, 0xC9, 0xE9 };   /* faddp, fmulp, fsubp */
    for (int j = 0; j < 3; j++) {
        E(a, 0xD9, 0xC1, 0xD9, 0xC1, 0xDE, op[j]);  /* fld st1; fld st1; f...p */
        E(a, 0xDB, 0x7E, (uint8_t)(12 * j));        /* fstp tword [esi + 12 j] */
        E(a, 0xDF, 0xE0, 0x66, 0x89, 0x46, (uint8_t)(12 * j + 10), 0xDB, 0xE2);   /* fnstsw; mov; fnclex */
    }
    E(a, 0xDD, 0xD8, 0xDD, 0xD8);                   /* fstp st0; fstp st0 */
    E(a, 0x83, 0xC7, 20, 0x83, 0xC6, 36, 0x4D);     /* add edi, 20; add esi, 36; dec ebp */
    jcc_back(a, 5, loop);
    E(a, 0xF4);
    struct pair p = pair_new((struct env){ 0, 0, 0, 0 }, &prog, CODE, x87_zeros_setup, _i);
    ck_assert_int_eq(run_both(p.a, p.b, 0, "x87 zeros"), CPU_EXIT_HLT);
    pair_free(p);
}
END_TEST

/* FSTP m64 / FLD m64 and FSTP m32 / FLD m32 of the same operand (the
 * reload in line from the stored image): values that round (ties, carries
 * out), zeros, values that store as denormals, infinities (overflow) or
 * need the slow conversion, stores that miss the TLB or cross a page; the
 * flags of a binary64 store on its own (in line, by fpu_jit_to_f64). The
 * machine counting TLB hits one by one loads the usual way: the reload
 * must count the hit the load would. */
#define X87_RELOADS 400
static void x87_reload_setup(struct machine *m, int k)
{
    uint64_t s = 0x2545F4914F6CDD1Dull + (uint64_t)k;
    static const uint16_t ex[10] = { 0x3FFF, 0x4005, 0x3FF0, 0x3C01, 0x3C00, 0x3BCC, 0x43FE, 0x43FF, 0x3F81,
                                     0x407F };
    for (uint32_t j = 0; j < X87_RELOADS; j++) {
        uint64_t mant = rng_next(&s) | 1ull << 63;
        unsigned pick = (unsigned)(rng_next(&s) % 16);
        if (pick == 10)
            mant = 0;                                  /* zero */
        else if (pick == 11)
            mant = (mant & ~0x7FFull) | 0x400;         /* a tie at binary64 */
        else if (pick == 12)
            mant = ~0ull;                              /* a carry out at both sizes */
        else if (pick == 13)
            mant = (mant & ~0xFFFFFFFFFFull) | 0x8000000000ull;   /* a tie at binary32 */
        uint16_t se = (uint16_t)(mant ? ex[pick < 10 ? pick : j % 10] : 0) | (uint16_t)(rng_next(&s) & 1) << 15;
        put8(m, DATA + 10 * j, mant);
        phys_write(&m->pm, DATA + 10 * j + 8, se, 2);
    }
    m->cpu.regs[R_EDI] = DATA;
    m->cpu.regs[R_ESI] = 0x40FF0;   /* the results: 58 bytes each, some across a page */
}

START_TEST(test_x87_reload)
{
    struct as prog = { .n = 0 };
    struct as *a = &prog;
    E(a, 0x6A, FSA, 0x0F, 0xA1);                    /* push FSA; pop fs (base 0x1000) */
    E(a, 0xDB, 0xE3, 0xBD);                         /* fninit; mov ebp, RELOADS */
    e32(a, X87_RELOADS);
    uint32_t loop = a->n;
    E(a, 0xDB, 0x2F, 0xD9, 0xC0);                   /* fld tword [edi]; fld st0 */
    E(a, 0xDD, 0x1E, 0xDD, 0x06);                   /* fstp qword [esi]; fld qword [esi] */
    E(a, 0xDB, 0x7E, 8);                            /* fstp tword [esi+8] */
    E(a, 0xD9, 0x5E, 18, 0xD9, 0x46, 18);           /* fstp dword [esi+18]; fld dword [esi+18] */
    E(a, 0xDB, 0x7E, 22);                           /* fstp tword [esi+22] */
    E(a, 0xDF, 0xE0, 0x66, 0x89, 0x46, 32);         /* fnstsw ax; mov [esi+32], ax */
    E(a, 0xDB, 0xE2);                               /* fnclex */
    E(a, 0xD9, 0xEB, 0xDD, 0x5E, 38, 0xDD, 0x46, 10);   /* fldpi; fstp qword [esi+38]; fld qword [esi+10] */
    E(a, 0xDB, 0x7E, 38);                           /* fstp tword [esi+38]: not a reload */
    E(a, 0xDB, 0x2F, 0xDD, 0x5E, 48);               /* fld tword [edi]; fstp qword [esi+48] */
    E(a, 0xDF, 0xE0, 0x66, 0x89, 0x46, 56);         /* fnstsw ax; mov [esi+56], ax: PE, C1 */
    E(a, 0xDB, 0xE2);                               /* fnclex */
    E(a, 0x64, 0xDD, 0x86);                         /* fld qword fs:[esi + 48 - 0x1000] */
    e32(a, 48 - 0x1000);
    E(a, 0xDC, 0x46, 48, 0xDD, 0xD8);               /* fadd qword [esi+48]; fstp st0: FDS = DS's again */
    E(a, 0x83, 0xC7, 10, 0x83, 0xC6, 58, 0x4D);     /* add edi, 10; add esi, 58; dec ebp */
    jcc_back(a, 5, loop);
    E(a, 0xF4);
    for (int chunked = 0; chunked < 2; chunked++) {
        struct env env = { 0, 0, 1, 0 };
        struct pair p = pair_new(env, &prog, CODE, x87_reload_setup, _i);
        ck_assert_int_eq(run_both(p.a, p.b, chunked ? 7 + (uint64_t)_i : 0, "x87 reload"), CPU_EXIT_HLT);
        check_tlb_hits(p, env, &prog, CODE, x87_reload_setup, _i, chunked ? 7 + (uint64_t)_i : 0, 0);
        pair_free(p);
    }
}
END_TEST

/* Budgets ending inside a hot block: the JIT must leave such a run to the
 * interpreter; EIP and icount after every slice must match. */
START_TEST(test_budget_inside_hot_block)
{
    struct as prog = { .n = 0 };
    struct as *a = &prog;
    E(a, 0xBD, 100, 0, 0, 0);
    uint32_t loop = a->n;
    E(a, 0x01, 0xD8, 0x43, 0x8B, 0x0E, 0x01, 0xC8, 0x89, 0x46, 0x04, 0x83, 0xC6, 0x04);
    E(a, 0xC1, 0xE0, 0x03, 0x50, 0x5F, 0x31, 0xF8, 0x0F, 0x31);   /* ... rdtsc */
    E(a, 0x4D);
    jcc_back(a, 5, loop);
    E(a, 0xF4);
    for (int seed = 0; seed < 12; seed++) {
        struct pair p = pair_new((struct env){ 0, 0, seed & 1, 0 }, &prog, CODE, flags_setup, seed);
        char tag[32];
        snprintf(tag, sizeof tag, "budget seed %d", seed);
        ck_assert_int_eq(run_both(p.a, p.b, (uint64_t)seed * 31 + 1, tag), CPU_EXIT_HLT);
        pair_free(p);
    }
}
END_TEST

/* ---- faults inside compiled code ---- */

struct fault_case {
    const char *name;
    struct env env;
    uint8_t access[8];     /* the faulting instruction */
    int alen;
    int pre;               /* an inline instruction before it in the block */
    int8_t step;           /* added to ESI per iteration */
    uint32_t esi;
    int setup;             /* 0: page 0x22000 absent, 1: DS limit 0x21FFF, 2: SS limit 0x21FFF,
                            * 3: DS expand-down limit 0x20FFF, 4: page 0x21000 read-only,
                            * 5: that and CR0.WP */
    int vec, err;
};

static const struct fault_case fault_cases[] = {
    { "pf read", { 0, 0, 1, 0 }, { 0x8B, 0x06 }, 2, 0, 8, 0x21F00, 0, EXC_PF, 0 },
    { "pf read crossing", { 0, 0, 1, 0 }, { 0x8B, 0x06 }, 2, 1, 12, 0x21F02, 0, EXC_PF, 0 },
    { "pf read user", { 0, 1, 1, 0 }, { 0x8B, 0x06 }, 2, 1, 8, 0x21F00, 0, EXC_PF, PF_U },
    { "pf write", { 0, 0, 1, 0 }, { 0x89, 0x06 }, 2, 1, 8, 0x21F00, 0, EXC_PF, PF_W },
    { "pf write user crossing", { 0, 1, 1, 0 }, { 0x89, 0x06 }, 2, 1, 6, 0x21F01, 0, EXC_PF, PF_W | PF_U },
    { "pf word write", { 0, 0, 1, 0 }, { 0x66, 0x89, 0x06 }, 3, 1, 7, 0x21F00, 0, EXC_PF, PF_W },
    { "pf byte read", { 0, 0, 1, 0 }, { 0x8A, 0x06 }, 2, 1, 5, 0x21F00, 0, EXC_PF, 0 },
    { "pf movzx16", { 0, 0, 1, 0 }, { 0x0F, 0xB7, 0x06 }, 3, 1, 3, 0x21F00, 0, EXC_PF, 0 },
    { "pf alu mem,reg", { 0, 0, 1, 0 }, { 0x01, 0x1E }, 2, 1, 8, 0x21F00, 0, EXC_PF, 0 },
    { "pf alu reg,mem", { 0, 0, 1, 0 }, { 0x2B, 0x06 }, 2, 1, 8, 0x21F00, 0, EXC_PF, 0 },
    { "pf cmp mem,imm", { 0, 0, 1, 0 }, { 0x83, 0x3E, 0x05 }, 3, 1, 8, 0x21F00, 0, EXC_PF, 0 },
    { "pf mov mem,imm", { 0, 0, 1, 0 }, { 0xC7, 0x06, 1, 2, 3, 4 }, 6, 1, 8, 0x21F00, 0, EXC_PF, PF_W },
    { "pf handler adc", { 0, 0, 1, 0 }, { 0x13, 0x06 }, 2, 1, 8, 0x21F00, 0, EXC_PF, 0 },
    { "pf handler lodsd", { 0, 0, 1, 0 }, { 0xAD }, 1, 1, 4, 0x21F00, 0, EXC_PF, 0 },
    { "pf write to read-only (user)", { 0, 1, 1, 0 }, { 0x01, 0x1E }, 2, 1, 8, 0x20F00, 4, EXC_PF, PF_P | PF_W | PF_U },
    { "pf write to read-only (ring 0, CR0.WP)", { 0, 0, 1, 0 }, { 0x89, 0x06 }, 2, 1, 8, 0x20F00, 5, EXC_PF, PF_P | PF_W },
    { "gp ds limit", { 0, 0, 0, 0 }, { 0x8B, 0x06 }, 2, 1, 8, 0x21F00, 1, EXC_GP, 0 },
    { "gp ds limit crossing write", { 0, 0, 0, 0 }, { 0x89, 0x06 }, 2, 0, 12, 0x21F02, 1, EXC_GP, 0 },
    { "gp ds limit handler", { 0, 0, 0, 0 }, { 0x0F, 0xAF, 0x06 }, 3, 1, 8, 0x21F00, 1, EXC_GP, 0 },
    { "ss limit (user)", { 0, 1, 0, 0 }, { 0x8B, 0x44, 0x35, 0x00 }, 4, 1, 8, 0x21F00, 2, EXC_SS, 0 },
    { "gp expand-down", { 0, 0, 0, 0 }, { 0x8B, 0x06 }, 2, 1, -8, 0x21100, 3, EXC_GP, 0 },
};

static void fault_setup(struct machine *m, int k)
{
    const struct fault_case *f = &fault_cases[k];
    struct cpu *c = &m->cpu;
    c->regs[R_ESI] = f->esi;
    c->regs[R_EDI] = f->setup == 3 ? 0x21800 : DATA;
    c->regs[R_EBP] = 0;
    c->regs[R_EBX] = 0x1234;
    switch (f->setup) {
    case 0: unmap_page(m, 0x22000); break;
    case 1: c->segs[S_DS].limit = 0x21FFF; break;
    case 2: c->segs[S_SS].limit = 0x21FFF; break;
    case 3: c->segs[S_DS].limit = 0x20FFF; c->segs[S_DS].flags = (uint16_t)((c->segs[S_DS].flags & ~0xFu) | 7); break;
    case 5: cpu_set_cr0(c, c->cr0 | CR0_WP); /* fall through */
    default: phys_write(&m->pm, PT + 4 * 0x21, 0x21000 | 5, 4); break;
    }
    for (uint32_t p = DATA; p < DATA + 0x2000; p += 4)
        phys_write(&m->pm, p, p * 2654435761u, 4);
}

/* L: [inc ecx;] access; add ebx, eax; add esi, step; mov [edi], ebx;
 * add edi, 4; jmp L */
START_TEST(test_fault_in_compiled_code)
{
    const struct fault_case *f = &fault_cases[_i];
    struct as prog = { .n = 0 };
    struct as *a = &prog;
    uint32_t loop = a->n;
    if (f->pre)
        E(a, 0x41);
    if (f->setup == 1 || f->setup == 2)   /* mov ecx, es:[esi + 0x100]: the TLB has the page past the limit */
        E(a, 0x26, 0x8B, 0x8E, 0x00, 0x01, 0x00, 0x00);
    if (f->setup == 3)                    /* mov ecx, es:[esi - 0x100] */
        E(a, 0x26, 0x8B, 0x8E, 0x00, 0xFF, 0xFF, 0xFF);
    uint32_t at = a->n;
    emit(a, f->access, (size_t)f->alen);
    E(a, 0x01, 0xC3, 0x83, 0xC6, (uint8_t)f->step, 0x89, 0x1F, 0x83, 0xC7, 0x04);
    jmp_back(a, loop);
    for (int chunked = 0; chunked < 2; chunked++) {
        struct pair p = pair_new(f->env, &prog, CODE, fault_setup, _i);
        ck_assert_int_eq(run_both(p.a, p.b, chunked ? 3 : 0, f->name), CPU_EXIT_HLT);
        check_fault(p.a, f->vec, f->err, CODE + at);
        ck_assert_uint_gt(p.a->cpu.icount, 8 * 8);   /* the loop was hot */
        if (f->vec == EXC_PF && f->setup == 0)
            ck_assert_msg(p.a->cpu.cr2 >= 0x21FFD && p.a->cpu.cr2 < 0x22008, "cr2 %#x", p.a->cpu.cr2);
        check_tlb_hits(p, f->env, &prog, CODE, fault_setup, _i, chunked ? 3 : 0, 1);
        pair_free(p);
    }
}
END_TEST

/* Stack faults in PUSH/CALL/POP/RET (ring 3, so that the #PF goes to the
 * ring-0 stack): the stack runs into an absent page. */
struct stack_case {
    const char *name;
    uint8_t body[8];
    int n;
    uint32_t esp, absent;
    int err;
    int at;                /* offset of the faulting instruction */
};

static const struct stack_case stack_cases[] = {
    { "push reg", { 0x40, 0x50 }, 2, 0x2E080, 0x2D000, PF_W | PF_U, 1 },
    { "push reg misaligned", { 0x40, 0x50 }, 2, 0x2E082, 0x2D000, PF_W | PF_U, 1 },
    { "push imm", { 0x40, 0x6A, 0x05 }, 3, 0x2E040, 0x2D000, PF_W | PF_U, 1 },
    { "push imm32", { 0x40, 0x68, 1, 2, 3, 4 }, 6, 0x2E040, 0x2D000, PF_W | PF_U, 1 },
    { "call", { 0x40, 0xE8, 0, 0, 0, 0 }, 6, 0x2E080, 0x2D000, PF_W | PF_U, 1 },
    { "call reg", { 0x40, 0xFF, 0xD3 }, 3, 0x2E080, 0x2D000, PF_W | PF_U, 1 },   /* ebx: the next instruction */
    { "pop", { 0x40, 0x58, 0x01, 0xC3 }, 4, 0x2FF80, 0x30000, PF_U, 1 },
    { "ret", { 0x40, 0xC3 }, 2, 0x2FF80, 0x30000, PF_U, 1 },
};

static void stack_setup(struct machine *m, int k)
{
    const struct stack_case *s = &stack_cases[k];
    m->cpu.regs[R_ESP] = s->esp;
    m->cpu.regs[R_EBX] = CODE + (uint32_t)s->n;
    unmap_page(m, s->absent);
    for (uint32_t p = 0x2F000; p < 0x30000; p += 4)
        phys_write(&m->pm, p, CODE, 4);   /* RET comes back to the loop */
}

START_TEST(test_stack_fault)
{
    const struct stack_case *s = &stack_cases[_i];
    struct as prog = { .n = 0 };
    emit(&prog, s->body, (size_t)s->n);
    jmp_back(&prog, 0);
    for (int chunked = 0; chunked < 2; chunked++) {
        struct pair p = pair_new((struct env){ 0, 1, 1, 0 }, &prog, CODE, stack_setup, _i);
        ck_assert_int_eq(run_both(p.a, p.b, chunked ? 4 : 0, s->name), CPU_EXIT_HLT);
        check_fault(p.a, EXC_PF, s->err, CODE + (uint32_t)s->at);
        ck_assert_uint_eq(p.a->cpu.regs[R_ESP], STACK0 - 24);   /* ring-3 frame + error code */
        ck_assert_uint_gt(p.a->cpu.icount, 8 * 2);
        check_tlb_hits(p, (struct env){ 0, 1, 1, 0 }, &prog, CODE, stack_setup, _i, chunked ? 4 : 0, 1);
        pair_free(p);
    }
}
END_TEST

/* The same compiled block run at CPL 0, then at CPL 3 on a supervisor
 * page: the code must pick the TLB of the privilege it runs at. */
static void priv_setup(struct machine *m, int k)
{
    (void)k;
    phys_write(&m->pm, PT + 4 * 0x21, 0x21000 | 3, 4);   /* supervisor only */
    m->cpu.regs[R_ESI] = 0x21000;
}

START_TEST(test_privilege_change)
{
    struct as prog = { .n = 0 };
    struct as *a = &prog;
    E(a, 0xBD, 20, 0, 0, 0);
    uint32_t loop = a->n;
    uint32_t at = a->n;
    E(a, 0x8B, 0x06, 0x01, 0xC3, 0x89, 0x5E, 0x40, 0x83, 0xC6, 0x04, 0x4D);   /* mov eax,[esi]; add ebx,eax; mov [esi+64],ebx; add esi,4; dec ebp */
    jcc_back(a, 5, loop);
    E(a, 0xF4);
    struct pair p = pair_new((struct env){ 0, 0, 1, 0 }, &prog, CODE, priv_setup, 0);
    ck_assert_int_eq(run_both(p.a, p.b, 0, "ring 0"), CPU_EXIT_HLT);
    ck_assert_uint_eq(p.a->cpu.eip, CODE + prog.n);
    for (int k = 0; k < 2; k++) {
        struct machine *m = k ? p.b : p.a;
        struct cpu *c = &m->cpu;
        for (int s = 0; s < 6; s++)
            cpu_desc_to_seg(&c->segs[s], DATA3 | 3, mkdesc(0, 0xFFFFF, 0xF3, 0xC));
        cpu_desc_to_seg(&c->segs[S_CS], CODE3 | 3, mkdesc(0, 0xFFFFF, 0xFB, 0xC));
        c->cpl = 3;
        c->halted = 0;
        c->eip = CODE + loop;   /* straight into the compiled loop block */
        c->regs[R_EBP] = 5;
        c->regs[R_ESI] = 0x21000;
        c->regs[R_ESP] = STACK;
    }
    ck_assert_int_eq(run_both(p.a, p.b, 0, "ring 3"), CPU_EXIT_HLT);
    check_fault(p.a, EXC_PF, PF_P | PF_U, CODE + at);
    ck_assert_uint_eq(p.a->cpu.cr2, 0x21000);
    pair_free(p);
}
END_TEST

/* CPL changing at the last instruction of a block, with the blocks chained:
 * SYSENTER lands on K (ring 0), which reads the supervisor-only page (so
 * the supervisor TLB holds it) and SYSEXITs to U (ring 3), which reads
 * [ESI] and SYSENTERs back. ESI walks up to 0x21000, reached on the 41st
 * round trip, long after the blocks are compiled and chained: the user
 * read must fault (P|U) as the interpreter's does, not hit the supervisor
 * TLB the ring-0 code entered the compiled code with. The STI (IF is clear
 * after SYSENTER, so it always opens an interrupt shadow) sends every trip
 * back to the execution loop, which then enters the compiled code at ring 0.
 * K: sti; dec ebp; jz done; mov eax, [0x21000]; mov edx, U; mov ecx, STACK; sysexit
 * done: hlt
 * U: mov eax, [esi]; add ebx, eax; add esi, 4; sysenter */
#define SYS_TRIPS 41u

static void sys_setup(struct machine *m, int k)
{
    (void)k;
    struct cpu *c = &m->cpu;
    phys_write(&m->pm, PT + 4 * 0x21, 0x21000 | 3, 4);   /* supervisor only */
    c->sysenter_cs = CODE0;   /* SYSEXIT: CS = CODE3 | 3, SS = DATA3 | 3 */
    c->sysenter_esp = STACK0;
    c->sysenter_eip = CODE;
    c->regs[R_ESI] = 0x21000 - 4 * (SYS_TRIPS - 1);
    c->regs[R_EBP] = 100;
}

START_TEST(test_sysexit_sysenter_chain)
{
    struct as prog = { .n = 0 };
    struct as *a = &prog;
    E(a, 0xFB, 0x4D);
    uint32_t jz = jcc_fwd(a, 4);
    E(a, 0xA1);
    e32(a, 0x21000);
    uint32_t mov_edx = a->n;
    E(a, 0xBA);
    e32(a, 0);
    E(a, 0xB9);
    e32(a, STACK);
    E(a, 0x0F, 0x35);
    here(a, jz);
    E(a, 0xF4);
    uint32_t user = a->n;
    uint32_t u = CODE + user;
    memcpy(a->b + mov_edx + 1, &u, 4);
    E(a, 0x8B, 0x06, 0x01, 0xC3, 0x83, 0xC6, 0x04, 0x0F, 0x34);
    for (int chunked = 0; chunked < 2; chunked++) {
        struct pair p = pair_new((struct env){ 0, 0, 1, 0 }, &prog, CODE, sys_setup, 0);
        ck_assert_int_eq(run_both(p.a, p.b, chunked ? 11 : 0, "sysexit/sysenter"), CPU_EXIT_HLT);
        check_fault(p.a, EXC_PF, PF_P | PF_U, u);
        ck_assert_uint_eq(p.a->cpu.cr2, 0x21000);
        ck_assert_uint_eq(p.a->cpu.regs[R_EBP], 100 - SYS_TRIPS);
        ck_assert_msg(!b_has_jit() || (compiled(p.b) >= 3 && p.b->cpu.block_hits >= SYS_TRIPS),
                      "compiled %llu blocks, %llu chained", (unsigned long long)compiled(p.b),
                      (unsigned long long)p.b->cpu.block_hits);
        pair_free(p);
    }
}
END_TEST

/* ---- self-modifying code ---- */

/* L: mov ecx, ebp; and ecx, 15; mov edi, DATA; cmovz edi, edx; <write>;
 *    add eax, imm32; inc ebx; [call sub;] add esi, eax; dec ebp; jnz L; hlt
 * sub: add eax, imm32; ret
 * EDX = the byte the write hits (every 16th iteration, so the block is
 * compiled again between writes). */
struct smc_case {
    const char *name;
    uint8_t write[4];
    int wlen;
    int target;    /* 0: add's imm (later, same block), 1: and's imm (earlier), 2: sub's imm,
                      3: the imm of the ADD a RET returns to (its successor table entry goes stale) */
    int shift;     /* byte offset within the target */
};

static const struct smc_case smc_cases[] = {
    { "byte store, later insn", { 0x88, 0x1F }, 2, 0, 0 },
    { "byte store, later insn byte 2", { 0x88, 0x1F }, 2, 0, 2 },
    { "dword store, later insn", { 0x89, 0x1F }, 2, 0, 0 },
    { "word store, later insn", { 0x66, 0x89, 0x1F }, 3, 0, 1 },
    { "handler add, later insn", { 0x00, 0x1F }, 2, 0, 0 },
    { "stosb, later insn", { 0x88, 0xD8, 0xAA }, 3, 0, 0 },
    { "byte store, earlier insn", { 0x88, 0x1F }, 2, 1, 0 },
    { "byte store, other block", { 0x88, 0x1F }, 2, 2, 0 },
    { "dword store, other block", { 0x89, 0x1F }, 2, 2, 0 },
    { "byte store, after a return", { 0x88, 0x1F }, 2, 3, 0 },
};

struct smc_layout {
    uint32_t add_imm, and_imm, sub_imm, ret_imm;
};

static struct smc_layout smc_prog(struct as *a, const struct smc_case *sc)
{
    struct smc_layout l;
    a->n = 0;
    E(a, 0xBD, 60, 0, 0, 0);
    uint32_t loop = a->n;
    E(a, 0x89, 0xE9, 0x83, 0xE1);                 /* mov ecx, ebp; and ecx, 15 */
    l.and_imm = a->n;
    E(a, 0x0F);
    E(a, 0xBF);                                   /* mov edi, DATA */
    e32(a, DATA);
    E(a, 0x0F, 0x44, 0xFA);
    emit(a, sc->write, (size_t)sc->wlen);
    E(a, 0x05);
    l.add_imm = a->n;
    e32(a, 0x11111111);
    E(a, 0x43);
    uint32_t call = 0;
    if (sc->target >= 2) {
        E(a, 0xE8);
        e32(a, 0);
        call = a->n;
    }
    if (sc->target == 3) {
        E(a, 0x05);
        l.ret_imm = a->n;
        e32(a, 0x02020202);
    }
    E(a, 0x01, 0xC6, 0x4D);
    jcc_back(a, 5, loop);
    E(a, 0xF4);
    if (call) {
        uint32_t rel = a->n - call;
        memcpy(a->b + call - 4, &rel, 4);
        if (sc->target == 2) {
            E(a, 0x05);
            l.sub_imm = a->n;
            e32(a, 0x01010101);
        }
        E(a, 0xC3);
    }
    return l;
}

static void smc_setup(struct machine *m, int k)
{
    static struct as a;
    struct smc_layout l = smc_prog(&a, &smc_cases[k]);
    uint32_t t = smc_cases[k].target;
    m->cpu.regs[R_EDX] = CODE + (t == 0 ? l.add_imm : t == 1 ? l.and_imm : t == 2 ? l.sub_imm : l.ret_imm) +
                         (uint32_t)smc_cases[k].shift;
    m->cpu.regs[R_EBX] = 0x40302010;
}

START_TEST(test_self_modifying_code)
{
    struct as prog;
    smc_prog(&prog, &smc_cases[_i]);
    for (int chunked = 0; chunked < 2; chunked++) {
        struct pair p = pair_new((struct env){ 0, 0, chunked, 0 }, &prog, CODE, smc_setup, _i);
        ck_assert_int_eq(run_both(p.a, p.b, chunked ? 9 : 0, smc_cases[_i].name), CPU_EXIT_HLT);
        /* the code really changed */
        ck_assert_mem_ne(p.a->pm.ram + CODE, prog.b, prog.n);
        pair_free(p);
    }
}
END_TEST

/* ---- 16-bit code; 16-bit stack ---- */

/* A hot loop in a 16-bit code segment (base CODE) using 66/67 prefixes:
 * 32-bit operands and addressing the JIT may inline, 16-bit forms and
 * Jcc rel16 it must not. */
static uint32_t code16_prog(struct as *a)
{
    a->n = 0;
    E(a, 0x66, 0xBD, 40, 0, 0, 0);                 /* mov ebp, 40 */
    uint32_t loop = a->n;
    E(a, 0x67, 0x66, 0x8B, 0x06);                  /* mov eax, [esi] */
    E(a, 0x66, 0x01, 0xC3);                        /* add ebx, eax */
    E(a, 0x67, 0x66, 0x89, 0x5C, 0x37, 0x10);      /* mov [edi+esi+16], ebx */
    E(a, 0x66, 0x83, 0xC6, 0x04);                  /* add esi, 4 */
    E(a, 0x67, 0x66, 0x8D, 0x44, 0x1E, 0x08);      /* lea eax, [esi+ebx+8] */
    E(a, 0x66, 0xC1, 0xE0, 0x03);                  /* shl eax, 3 */
    E(a, 0x66, 0x50);                              /* push eax */
    E(a, 0x66, 0xE8);                              /* call sub32 (rel32) */
    e32(a, 0);
    uint32_t c32 = a->n;
    E(a, 0x66, 0x58);                              /* pop eax */
    E(a, 0xE8, 0, 0);                              /* call sub16 (rel16) */
    uint32_t c16 = a->n;
    E(a, 0x01, 0xD8);                              /* add ax, bx */
    E(a, 0x67, 0x89, 0x07);                        /* mov [edi], ax */
    E(a, 0x75, 0x00);                              /* jnz +0 (rel8, 16-bit) */
    E(a, 0x66, 0x4D);                              /* dec ebp */
    E(a, 0x66);
    jcc_back(a, 5, loop);                          /* jnz L (rel32) */
    E(a, 0x0F, 0x85);                              /* jnz rel16 (never taken) */
    E(a, 0x00, 0x00);
    uint32_t hlt = a->n;
    E(a, 0xF4);
    here(a, c32);
    E(a, 0x66, 0x01, 0xD8, 0x66, 0x8B, 0xD4);      /* add eax, ebx; mov edx, esp */
    E(a, 0x66, 0xC3);                              /* ret (32-bit) */
    uint32_t rel = a->n - c16;
    a->b[c16 - 2] = (uint8_t)rel;
    a->b[c16 - 1] = (uint8_t)(rel >> 8);
    E(a, 0x66, 0x31, 0xC1, 0x66, 0x43, 0xC3);      /* xor ecx, eax; inc ebx; ret (16-bit) */
    return hlt;
}

static void code16_setup(struct machine *m, int k)
{
    (void)k;
    struct cpu *c = &m->cpu;
    cpu_desc_to_seg(&c->segs[S_CS], CODE16, mkdesc(CODE, 0xFFFF, 0x9B, 0));
    c->eip = 0;
    c->regs[R_ESI] = DATA;
    c->regs[R_EDI] = 0x1000;
    c->regs[R_EBX] = 0x55AA;
}

/* ---- CR3 writes and INVLPG in a hot loop ---- */

#define PD2 0x63000u
#define PT3 0x64000u

/* PD2: a copy of PD whose first 4 MiB go through PT3, a copy of PT */
static void pd2_clone(struct machine *m)
{
    for (uint32_t p = 0; p < 0x1000; p += 4) {
        phys_write(&m->pm, PD2 + p, phys_read(&m->pm, PD + p, 4), 4);
        phys_write(&m->pm, PT3 + p, phys_read(&m->pm, PT + p, 4), 4);
    }
    phys_write(&m->pm, PD2, PT3 | 7, 4);
}

static void cr3_setup(struct machine *m, int k)
{
    (void)k;
    struct cpu *c = &m->cpu;
    pd2_clone(m);
    phys_write(&m->pm, PT3 + 4 * 0x21, 0x24000 | 7, 4);   /* PD2: 0x21000 -> 0x24000 */
    for (uint32_t p = DATA; p < DATA + 0x6000; p += 4)
        phys_write(&m->pm, p, p * 0x9E3779B1u, 4);
    c->regs[R_ESI] = 0x21010;
    c->regs[R_EBX] = PD2;
    c->regs[R_EDX] = PD;
}

/* L: mov eax, [esi]; add ecx, eax; mov [esi+8], ecx; mov cr3, ebx;
 *    xchg ebx, edx; mov eax, [esi+4]; add edi, eax; inc dword [0x22020];
 *    xor dword [PT + 0x88], 0x7000 (0x22000 <-> 0x25000); invlpg [0x22000];
 *    mov eax, [0x22010]; add edi, eax; inc dword [0x22020]; dec ebp; jnz L */
START_TEST(test_cr3_invlpg)
{
    struct as prog = { .n = 0 };
    struct as *a = &prog;
    E(a, 0xBD, 30, 0, 0, 0);
    uint32_t loop = a->n;
    E(a, 0x8B, 0x06, 0x01, 0xC1, 0x89, 0x4E, 0x08, 0x0F, 0x22, 0xDB, 0x87, 0xDA, 0x8B, 0x46, 0x04, 0x01, 0xC7);
    E(a, 0xFF, 0x05);
    e32(a, 0x22020);
    E(a, 0x81, 0x35);
    e32(a, PT + 0x88);
    e32(a, 0x7000);
    E(a, 0x0F, 0x01, 0x3D);
    e32(a, 0x22000);
    E(a, 0x8B, 0x05);
    e32(a, 0x22010);
    E(a, 0x01, 0xC7, 0xFF, 0x05);
    e32(a, 0x22020);
    E(a, 0x4D);
    jcc_back(a, 5, loop);
    E(a, 0xF4);
    for (int chunked = 0; chunked < 3; chunked++) {
        struct pair p = pair_new((struct env){ 0, 0, 1, 0 }, &prog, CODE, cr3_setup, 0);
        if (chunked == 2)   /* the generation numbers run out during the loop (every CR3 write takes one) */
            p.b->cpu.jit_next_gen = JIT_GEN_NONE - 12;
        ck_assert_int_eq(run_both(p.a, p.b, chunked == 1 ? 11 : 0, "cr3/invlpg"), CPU_EXIT_HLT);
        if (chunked == 2)
            ck_assert_uint_lt(p.b->cpu.jit_next_gen, 100);   /* started afresh */
        ck_assert_uint_eq(p.a->cpu.eip, CODE + prog.n);
        /* the increments went where the mapping of the moment said */
        uint32_t n22 = 0, n25 = 0, pte = 0x22000;
        for (int it = 1; it <= 30; it++) {
            int pd = !(it & 1);   /* CR3 after this iteration's MOV CR3: PD2, PD, PD2, ... */
            *(pd && pte == 0x25000 ? &n25 : &n22) += 1;
            pte ^= 0x7000;
            *(pd && pte == 0x25000 ? &n25 : &n22) += 1;
        }
        ck_assert_uint_gt(n25, 0);
        ck_assert_uint_eq(phys_read(&p.a->pm, 0x22020, 4), 0x22020 * 0x9E3779B1u + n22);
        ck_assert_uint_eq(phys_read(&p.a->pm, 0x25020, 4), 0x25020 * 0x9E3779B1u + n25);
        pair_free(p);
    }
}
END_TEST

/* ---- x87 runs over integer instructions ---- */

static void x87int_setup(struct machine *m, int v)
{
    put8(m, DATA, 0x3FF8000000000000ull);          /* 1.5 */
    put8(m, DATA + 8, 0x4002000000000000ull);      /* 2.25 */
    put8(m, DATA + 16, 0x4008000000000000ull);     /* 3.0 */
    put8(m, DATA + 0x40, 0x3FE0000000000000ull);   /* 0.5 */
    for (uint32_t r = 0; r <= 40; r++)
        phys_write(&m->pm, DATA + 0x100 + 4 * r, r == 5 && v ? (v == 3 ? 0x5E000 : 0x5F000) : DATA + 0x40, 4);
    unmap_page(m, 0x5F000);
    phys_write(&m->pm, 0x5E000, 0xFFFFFFFFu, 4);   /* v 3: mapped, not yet in the TLB */
    m->cpu.regs[R_ESI] = DATA;
}

/* fninit; mov ebp, 40; L: mov edi, [esi + 100h + ebp * 4];
 *   fld qword [esi]; add eax, 1; inc ecx; fmul qword [esi + 8];
 *   imul edx, ecx, 3; fld qword [edi] (v 0, 1) or mov ebx, [edi];
 *   fld qword [esi + 16] (v 2); faddp; sub eax, ecx; fstp qword [esi + 24];
 *   dec ebp; jnz L; hlt. One x87 run takes in the register-only integer
 * instructions; at the 36th round EDI points to an absent page: the #PF
 * comes from the x87 load (v 1) or from the integer load (v 2), with FSW,
 * TOP and FIP as after the x87 instruction before; or (v 3) to a page not
 * yet in the TLB: the integer load's slow path, after which the run goes
 * on with its FSW (the loaded value, all ones, must not get into it). */
START_TEST(test_x87_run_over_integer)
{
    for (int v = 0; v < 4; v++) {
        struct as prog = { .n = 0 };
        struct as *a = &prog;
        E(a, 0xDB, 0xE3, 0xBD, 40, 0, 0, 0);
        uint32_t loop = a->n;
        E(a, 0x8B, 0xBC, 0xAE, 0x00, 0x01, 0x00, 0x00);
        E(a, 0xDD, 0x06, 0x83, 0xC0, 0x01, 0x41, 0xDC, 0x4E, 0x08, 0x6B, 0xD1, 0x03);
        uint32_t fault_at = a->n;
        if (v < 2)
            E(a, 0xDD, 0x07);
        else
            E(a, 0x8B, 0x1F, 0xDD, 0x46, 0x10);   /* mov ebx, [edi]; fld qword [esi + 16] */
        E(a, 0xDE, 0xC1, 0x29, 0xC8, 0xDD, 0x5E, 0x18, 0x4D);
        jcc_back(a, 5, loop);
        E(a, 0xF4);
        for (int chunked = 0; chunked < 2; chunked++) {
            struct pair p = pair_new((struct env){ 0, 0, 1, 0 }, &prog, CODE, x87int_setup, v);
            ck_assert_int_eq(run_both(p.a, p.b, chunked ? 5 : 0, "x87 run over integer"), CPU_EXIT_HLT);
            if (v == 0 || v == 3) {
                ck_assert_uint_eq(p.a->cpu.eip, CODE + prog.n);
                ck_assert_uint_eq((p.a->cpu.fpu.fsw & 0xFF), 0);   /* no flags: the results are exact */
            } else {
                check_fault(p.a, EXC_PF, 0, CODE + fault_at);
                ck_assert_uint_eq(p.a->cpu.regs[R_EBP], 5);
                ck_assert_uint_eq(p.a->cpu.fpu.fip, CODE + fault_at - 6);   /* the FMUL */
            }
            pair_free(p);
        }
    }
}
END_TEST

/* ---- indirect jumps and calls ---- */

static uint32_t ind_targets[4];   /* T0..T3 of the program below (offsets) */
static const uint32_t ind_bad[3] = { 1, 4, 0x400 };

static void ind_setup(struct machine *m, int v)
{
    for (uint32_t r = 0; r <= 40; r++)   /* the table index of each round */
        phys_write(&m->pm, DATA + 0x40 + 4 * r, r == 5 ? ind_bad[v] : r & 3, 4);
    for (int t = 0; t < 4; t++)
        phys_write(&m->pm, DATA + 4u * (uint32_t)t, CODE + ind_targets[t], 4);
    phys_write(&m->pm, DATA + 16, 0x30000, 4);   /* beyond the CS limit */
    m->cpu.segs[S_CS].limit = 0x1FFFF;
    m->cpu.regs[R_EDI] = 0;
    if (v == 2)
        unmap_page(m, DATA + 0x1000);
}

/* main: mov ebp, 40; L: mov ecx, [DATA + 40h + ebp * 4] (ebp & 3, or BAD
 *   when ebp is 5); jmp [DATA + ecx * 4]; T0: add edi, 1; jmp C;
 *   T1: add edi, 10; jmp C; T2: mov eax, S; call eax; jmp C;
 *   T3: mov edx, T3b; jmp edx; T3b: add edi, 1000; jmp C;
 *   S: add edi, 100; ret; C: dec ebp; jnz L; hlt.
 * BAD (at the 36th round, once the blocks are compiled): entry 1 (v 0),
 * entry 4, beyond the CS limit: #GP (v 1), or an absent page: #PF (v 2). */
START_TEST(test_indirect)
{
    for (int v = 0; v < 3; v++) {
        struct as prog = { .n = 0 };
        struct as *a = &prog;
        E(a, 0xE9);
        e32(a, 0);
        uint32_t to_main = a->n;
        uint32_t sub = a->n;
        E(a, 0x83, 0xC7, 100, 0xC3);
        uint32_t cont = a->n;
        E(a, 0x4D);
        uint32_t to_loop = jcc_fwd(a, 5);
        E(a, 0xF4);
        here(a, to_main);
        E(a, 0xBD, 40, 0, 0, 0);
        here(a, to_loop);
        uint32_t loop = a->n;
        E(a, 0x8B, 0x0C, 0xAD);
        e32(a, DATA + 0x40);
        uint32_t jmp_at = a->n;
        E(a, 0xFF, 0x24, 0x8D);
        e32(a, DATA);
        ind_targets[0] = a->n;
        E(a, 0x83, 0xC7, 1);
        jmp_back(a, cont);
        ind_targets[1] = a->n;
        E(a, 0x83, 0xC7, 10);
        jmp_back(a, cont);
        ind_targets[2] = a->n;
        E(a, 0xB8);
        e32(a, CODE + sub);
        E(a, 0xFF, 0xD0);
        jmp_back(a, cont);
        ind_targets[3] = a->n;
        E(a, 0xBA);
        e32(a, CODE + a->n + 6);
        E(a, 0xFF, 0xE2, 0x81, 0xC7, 0xE8, 0x03, 0, 0);
        jmp_back(a, cont);
        ck_assert_uint_eq(jmp_at - loop, 7);   /* one block */
        for (int chunked = 0; chunked < 2; chunked++) {
            struct pair p = pair_new((struct env){ 0, 0, 1, 0 }, &prog, CODE, ind_setup, v);
            ck_assert_int_eq(run_both(p.a, p.b, chunked ? 7 : 0, "indirect"), CPU_EXIT_HLT);
            if (v == 0) {
                uint32_t want = 0;
                for (uint32_t r = 40; r >= 1; r--)
                    want += (uint32_t[]){ 1, 10, 100, 1000 }[r == 5 ? 1 : r & 3];
                ck_assert_uint_eq(p.a->cpu.regs[R_EDI], want);
                ck_assert_uint_eq(p.a->cpu.eip, CODE + cont + 8);
            } else {
                check_fault(p.a, v == 1 ? EXC_GP : EXC_PF, 0, CODE + jmp_at);
                ck_assert_uint_eq(p.a->cpu.regs[R_EBP], 5);
            }
            pair_free(p);
        }
    }
}
END_TEST

/* Two return addresses whose successor table entries are the same one
 * (jit_table_slot: (eip ^ eip >> 12) & (JIT_TABLE - 1)), T1 = CODE + 0x100
 * and T2 = CODE + 0x1101, each returned to by a RET of its own:
 *   mov ebp, 40; L: jmp C1; C1 (at 0xFB): call S1; T1: add eax, 1;
 *   jmp C2; C2 (at 0x10FC): call S2; T2: add ebx, 3; dec ebp; jnz L; hlt;
 *   S1 (0x200): add ecx, 5; ret; S2 (0x1200): add edx, 7; ret.
 * An exit that takes the table's entry must find its own EIP in it. */
static void at_offset(struct as *a, uint32_t off)
{
    ck_assert_uint_le(a->n, off);
    while (a->n < off)
        E(a, 0xF4);
}

START_TEST(test_indirect_collision)
{
    uint32_t t1 = CODE + 0x100, t2 = CODE + 0x1101;
    ck_assert_uint_eq((t1 ^ t1 >> 12) & (JIT_TABLE - 1), (t2 ^ t2 >> 12) & (JIT_TABLE - 1));
    struct as prog = { .n = 0 };
    struct as *a = &prog;
    E(a, 0xBD, 40, 0, 0, 0);
    uint32_t loop = a->n;
    E(a, 0xE9); e32(a, 0xFB - (a->n + 4));
    at_offset(a, 0xFB);
    E(a, 0xE8); e32(a, 0x200 - (a->n + 4));
    ck_assert_uint_eq(a->n, 0x100);
    E(a, 0x83, 0xC0, 0x01);
    E(a, 0xE9); e32(a, 0x10FC - (a->n + 4));
    at_offset(a, 0x200);
    E(a, 0x83, 0xC1, 0x05, 0xC3);
    at_offset(a, 0x10FC);
    E(a, 0xE8); e32(a, 0x1200 - (a->n + 4));
    ck_assert_uint_eq(a->n, 0x1101);
    E(a, 0x83, 0xC3, 0x03, 0x4D);
    jcc_back(a, 5, loop);
    uint32_t hlt = a->n;
    E(a, 0xF4);
    at_offset(a, 0x1200);
    E(a, 0x83, 0xC2, 0x07, 0xC3);
    for (int chunked = 0; chunked < 2; chunked++) {
        struct pair p = pair_new((struct env){ 0, 0, 1, 0 }, &prog, CODE, NULL, 0);
        for (int r = R_EAX; r <= R_EDX; r++)
            p.a->cpu.regs[r] = p.b->cpu.regs[r] = 0;
        ck_assert_int_eq(run_both(p.a, p.b, chunked ? 11 : 0, "indirect collision"), CPU_EXIT_HLT);
        ck_assert_uint_eq(p.a->cpu.eip, CODE + hlt + 1);
        ck_assert_uint_eq(p.a->cpu.regs[R_EAX], 40);
        ck_assert_uint_eq(p.a->cpu.regs[R_EBX], 120);
        ck_assert_uint_eq(p.a->cpu.regs[R_ECX], 200);
        ck_assert_uint_eq(p.a->cpu.regs[R_EDX], 280);
        pair_free(p);
    }
}
END_TEST

static void shm_setup(struct machine *m, int v)
{
    (void)v;
    struct cpu *c = &m->cpu;
    c->regs[R_EAX] = c->regs[R_EBX] = 0;
    c->regs[R_EDI] = DATA + 0xFFE;
    phys_write(&m->pm, DATA + 0xFFE, 0x9E3779B9, 4);
}

/* INC/DEC after an ADD keep the ADD's CF in a register (r11d): over a
 * slow read (a page-crossing dword, a call from the stub), into ADC's
 * carry in, and under a JNZ on DEC's result, in a superblock and (the
 * JNZ the last instruction of its page) at the block's end. */
static void incdec_cf_setup(struct machine *m, int v)
{
    (void)v;
    struct cpu *c = &m->cpu;
    c->regs[R_EAX] = 0x9E3779B9;
    c->regs[R_EBX] = 0x7F4A7C15;
    c->regs[R_ECX] = c->regs[R_ESI] = 0;
    c->regs[R_EDI] = DATA + 0xFFE;
    phys_write(&m->pm, DATA + 0xFFE, 0x12345678, 4);
}

START_TEST(test_incdec_cf)
{
    struct as prog = { .n = 0 };
    struct as *a = &prog;
    E(a, 0xBD, 40, 0, 0, 0);                      /* mov ebp, 40 */
    uint32_t loop = a->n;
    E(a, 0x01, 0xD8, 0x41, 0x8B, 0x17);           /* add eax, ebx; inc ecx; mov edx, [edi] */
    E(a, 0x83, 0xD6, 0x00, 0x01, 0xD8, 0x4D);     /* adc esi, 0; add eax, ebx; dec ebp */
    jcc_back(a, 5, loop);                         /* jnz */
    E(a, 0xF4);
    for (int run = 0; run < 4; run++) {
        int chunked = run & 1;
        uint32_t at = run < 2 ? CODE : CODE + 0x1000 - (prog.n - 1);   /* the JNZ ends the page */
        struct pair p = pair_new((struct env){ 0, 0, 1, 0 }, &prog, at, incdec_cf_setup, 0);
        ck_assert_int_eq(run_both(p.a, p.b, chunked ? 7 : 0, "inc/dec cf"), CPU_EXIT_HLT);
        uint32_t x = 0x9E3779B9, y = 0x7F4A7C15, carries = 0, cf = 0;
        for (int r = 0; r < 40; r++) {   /* what the guest computes */
            carries += x + y < x;
            x += y;
            cf = x + y < x;
            x += y;
        }
        ck_assert_uint_eq(p.a->cpu.regs[R_ESI], carries);
        ck_assert_uint_eq(p.a->cpu.regs[R_EAX], x);
        ck_assert_uint_eq(p.a->cpu.regs[R_ECX], 40);
        ck_assert_uint_eq(cpu_get_eflags(&p.a->cpu) & FL_CF, cf);
        pair_free(p);
    }
}
END_TEST

/* Shifts of a dword in memory, in line (FM_SHIFT_M, FM_SHIFT_CL_M), whose
 * operand crosses a page, so that every read and write is a slow one
 * (a call, which loses ecx):
 *   mov ebp, 40; L: mov ecx, ebp; shl dword [edi], cl; adc eax, 0;
 *   sar dword [edi], 3; adc ebx, 0; xor dword [edi], ebp; dec ebp; jnz L; hlt */
START_TEST(test_shift_mem_slow)
{
    struct as prog = { .n = 0 };
    struct as *a = &prog;
    E(a, 0xBD, 40, 0, 0, 0);
    uint32_t loop = a->n;
    E(a, 0x89, 0xE9, 0xD3, 0x27, 0x83, 0xD0, 0x00);
    E(a, 0xC1, 0x3F, 0x03, 0x83, 0xD3, 0x00, 0x31, 0x2F, 0x4D);
    jcc_back(a, 5, loop);
    E(a, 0xF4);
    for (int chunked = 0; chunked < 2; chunked++) {
        struct pair p = pair_new((struct env){ 0, 0, 1, 0 }, &prog, CODE, shm_setup, 0);
        ck_assert_int_eq(run_both(p.a, p.b, chunked ? 13 : 0, "shift mem slow"), CPU_EXIT_HLT);
        uint32_t v = 0x9E3779B9, cf_shl = 0, cf_sar = 0;
        for (uint32_t r = 40; r >= 1; r--) {   /* what the guest computes */
            uint32_t n = r & 31;
            if (n) {   /* (a count of 0 leaves CF as XOR left it: 0) */
                cf_shl += (v >> (32 - n)) & 1;
                v <<= n;
            }
            cf_sar += (v >> 2) & 1;
            v = (uint32_t)((int32_t)v >> 3) ^ r;
        }
        ck_assert_uint_eq(phys_read(&p.a->pm, DATA + 0xFFE, 4), v);
        ck_assert_uint_eq(p.a->cpu.regs[R_EAX], cf_shl);
        ck_assert_uint_eq(p.a->cpu.regs[R_EBX], cf_sar);
        pair_free(p);
    }
}
END_TEST

/* ---- superblocks: a Jcc inside a block (cpu/block.c) ---- */

static uint32_t sb_out;   /* offset of OUT in the program below */

static void sb_setup(struct machine *m, int v)
{
    m->cpu.regs[R_EDI] = 0;
    if (v == 1)
        m->cpu.segs[S_CS].limit = CODE + sb_out - 1;   /* OUT is beyond it */
}

/* jmp main; main: mov ebp, 40; jmp L; L: mov eax, ebp; and eax, 3;
 *   cmp ebp, 5; je OUT; add edi, 1; cmp eax, 2; jne C; add edi, 100;
 *   C: dec ebp; jnz L; hlt; OUT: add edi, 10000; jmp C.
 * Each Jcc but the last goes on in its block when not taken: L..hlt is one
 * block (C..hlt another, entered from the jne). JE is taken once, in the
 * 36th round, when the blocks are compiled: to OUT (v 0, 2), or (v 1) to
 * beyond the CS limit: #GP at the JE. v 2: Jcc with an operand-size prefix
 * (no in-line form: the handler, and a check of EIP after it), the code
 * below 64 KiB. */
START_TEST(test_superblock)
{
    int v = _i;
    uint32_t org = v == 2 ? 0x6000u : CODE;
    struct as prog = { .n = 0 };
    struct as *a = &prog;
    E(a, 0xE9);
    e32(a, 0);
    here(a, a->n);
    E(a, 0xBD, 40, 0, 0, 0);
    E(a, 0xEB, 0);
    uint32_t loop = a->n;
    E(a, 0x89, 0xE8, 0x83, 0xE0, 0x03, 0x83, 0xFD, 0x05);   /* mov eax, ebp; and eax, 3; cmp ebp, 5 */
    uint32_t je_at = a->n;
    if (v == 2)
        E(a, 0x66);
    E(a, 0x74, 0);                                          /* je OUT */
    uint32_t to_out = a->n;
    E(a, 0x83, 0xC7, 0x01, 0x83, 0xF8, 0x02);               /* add edi, 1; cmp eax, 2 */
    if (v == 2)
        E(a, 0x66);
    E(a, 0x75, 0);                                          /* jne C */
    uint32_t to_c = a->n;
    E(a, 0x83, 0xC7, 100);
    uint32_t c = a->n;
    a->b[to_c - 1] = (uint8_t)(c - to_c);
    E(a, 0x4D);
    jcc_back(a, 5, loop);
    E(a, 0xF4);
    sb_out = a->n;
    a->b[to_out - 1] = (uint8_t)(sb_out - to_out);
    E(a, 0x81, 0xC7);
    e32(a, 10000);
    jmp_back(a, c);
    uint32_t want = 0;
    uint64_t blocks = 0;   /* jmp main; main: JMPs the first block follows, on into L's first pass */
    for (uint32_t r = 40; r >= 1; r--) {
        if (r == 5) {
            want += 10000;
            blocks += 2;    /* L (left at JE), OUT (its JMP followed on into C) */
        } else {
            want += 1 + ((r & 3) == 2 ? 100 : 0);
            blocks += (r & 3) == 2 ? 1 : 2;   /* L whole, or L left at JNE and C */
        }
    }
    for (int chunked = 0; chunked < 2; chunked++) {
        struct pair p = pair_new((struct env){ 0, 0, 1, 0 }, &prog, org, sb_setup, v);
        ck_assert_int_eq(run_both(p.a, p.b, chunked ? 5 : 0, "superblock"), CPU_EXIT_HLT);
        if (v == 1) {
            check_fault(p.a, EXC_GP, 0, org + je_at);
            ck_assert_uint_eq(p.a->cpu.regs[R_EBP], 5);
        } else {
            ck_assert_uint_eq(p.a->cpu.regs[R_EDI], want);
            ck_assert_uint_eq(p.a->cpu.eip, org + sb_out);
            if (!chunked) {
                ck_assert_uint_eq(p.a->cpu.blocks_run, blocks);
                ck_assert_uint_eq(p.b->cpu.blocks_run, blocks);
            }
        }
        pair_free(p);
    }
}
END_TEST

static void fj_setup(struct machine *m, int v)
{
    (void)v;
    m->cpu.regs[R_ECX] = m->cpu.regs[R_EDX] = m->cpu.regs[R_EDI] = 0;
    m->cpu.regs[R_ESI] = 0x22000;
    unmap_page(m, 0x22000);
}

/* mov ebp, 40; jmp L; L: dec ebp; jz F; jmp A; B: inc ecx; jmp L;
 *   A: inc edx; jmp B; F: jmp G; hlt; G: add eax, 1; mov eax, [esi];
 *   inc edi; hlt.
 * The blocks follow the JMPs (cpu/block.c): L's block is dec, jz, jmp A,
 * inc edx, jmp B, inc ecx, jmp L (it has L: there it ends), F's is jmp G,
 * add, mov, inc, hlt. The MOV faults (#PF) after L's block ran 39 times
 * whole (compiled by then) and once to JZ: the instructions retired before
 * it, and the EIP of the fault, come out of a block's followed JMPs. */
START_TEST(test_followed_jmp_fault)
{
    struct as prog = { .n = 0 };
    struct as *a = &prog;
    E(a, 0xBD, 40, 0, 0, 0);
    E(a, 0xEB, 0);                          /* jmp L (the next instruction) */
    uint32_t l = a->n;
    E(a, 0x4D);
    uint32_t to_f = jcc_fwd(a, 4);          /* jz F */
    E(a, 0xE9); e32(a, 0);
    uint32_t to_a = a->n;
    uint32_t b = a->n;
    E(a, 0x41);
    jmp_back(a, l);
    here(a, to_a);
    E(a, 0x42);
    jmp_back(a, b);
    here(a, to_f);
    E(a, 0xEB, 1);                          /* jmp G, over the HLT */
    E(a, 0xF4);
    E(a, 0x83, 0xC0, 0x01);
    uint32_t mov_at = a->n;
    E(a, 0x8B, 0x06, 0x47, 0xF4);
    for (int chunked = 0; chunked < 2; chunked++) {
        struct pair p = pair_new((struct env){ 0, 0, 1, 0 }, &prog, CODE, fj_setup, 0);
        ck_assert_int_eq(run_both(p.a, p.b, chunked ? 7 : 0, "followed jmp"), CPU_EXIT_HLT);
        check_fault(p.a, EXC_PF, 0, CODE + mov_at);
        ck_assert_uint_eq(p.a->cpu.regs[R_ECX], 39);
        ck_assert_uint_eq(p.a->cpu.regs[R_EDX], 39);
        ck_assert_uint_eq(p.a->cpu.regs[R_EDI], 0);
        /* mov, jmp; 39 rounds of 7; dec, jz; jmp G, add; the fault (it
         * counts, cpu/cpu.c); the handler's HLT */
        ck_assert_uint_eq(p.a->cpu.icount, 2 + 39 * 7 + 2 + 2 + 1 + 1);
        if (!chunked) {   /* the first (round 1), L's, F's, the handler */
            ck_assert_uint_eq(p.a->cpu.blocks_run, 1 + 38 + 1 + 1 + 1);
            ck_assert_uint_eq(p.b->cpu.blocks_run, 1 + 38 + 1 + 1 + 1);
        }
        pair_free(p);
    }
}
END_TEST

/* ---- code on global pages across CR3 loads ---- */

#define CALLEE 0x40000u   /* linear page of the called code: phys 0x40000 (EAX = 1) or 0x41000 (EAX = 2) */
#define CALLEE4M 0x840000u /* g 3: the same through a 4 MiB page at 0x800000 */
#define PT4 0x65000u
#define PDE4M_XOR (0x187u ^ (PT4 | 7))   /* 4 MiB global page at 0 <-> PT4 */

/* PD2 as in cr3_setup; CALLEE maps to 0x40000 under PD and 0x41000 under
 * PD2, not global (g 0); or to 0x40000 under both, global (g 1, 2: the
 * loop moves both PTEs and drops the old translation by INVLPG or by
 * toggling CR4.PGE). g 3: CALLEE4M through a global 4 MiB page (phys 0),
 * which the 20th round swaps for a page table mapping it to 0x41000,
 * dropping the old translation by INVLPG of an address in the page's other
 * 2 MiB (EAX 1 twenty times, then 2). */
static void global_setup(struct machine *m, int g)
{
    struct cpu *c = &m->cpu;
    pd2_clone(m);
    phys_write(&m->pm, PT + 4 * (CALLEE >> 12), CALLEE | (g ? 0x107 : 7), 4);
    phys_write(&m->pm, PT3 + 4 * (CALLEE >> 12), (CALLEE + (g ? 0 : 0x1000)) | (g ? 0x107 : 7), 4);
    put8(m, CALLEE, 0xC300000001B8ull);            /* mov eax, 1; ret */
    put8(m, CALLEE + 0x1000, 0xC300000002B8ull);   /* mov eax, 2; ret */
    phys_write(&m->pm, PT4 + 4 * ((CALLEE4M >> 12) & 0x3FF), (CALLEE + 0x1000) | 0x107, 4);
    phys_write(&m->pm, PD + 8, 0x187, 4);
    phys_write(&m->pm, PD2 + 8, 0x187, 4);
    cpu_set_cr4(c, c->cr4 | 0x90);   /* PGE, PSE */
    c->regs[R_EBX] = PD2;
    c->regs[R_EDX] = PD;
}

/* L: call CALLEE; add edi, eax; mov cr3, ebx; xchg ebx, edx;
 *    [g 1, 2: xor the two PTEs of CALLEE with 0x1000; g 1: invlpg [CALLEE];
 *    g 2: clear and set CR4.PGE]; dec ebp; jnz L. Whatever is global, the
 * called code must follow the mapping of the moment: EAX 1, 2, 1, 2... */
START_TEST(test_global_code)
{
    for (int g = 0; g < 4; g++) {
        struct as prog = { .n = 0 };
        struct as *a = &prog;
        E(a, 0xBD, 30, 0, 0, 0);
        uint32_t loop = a->n;
        E(a, 0xE8);
        e32(a, (g == 3 ? CALLEE4M : CALLEE) - (CODE + a->n + 4));
        E(a, 0x01, 0xC7, 0x0F, 0x22, 0xDB, 0x87, 0xDA);
        if (g == 3)   /* once, in the 20th round: cmp ebp, 11; jne over the swap */
            E(a, 0x83, 0xFD, 11, 0x75, 27);
        for (int t = 0; g && t < 2; t++) {
            E(a, 0x81, 0x35);
            e32(a, g == 3 ? (t ? PD2 : PD) + 8 : (t ? PT3 : PT) + 4 * (CALLEE >> 12));
            e32(a, g == 3 ? PDE4M_XOR : 0x1000);
        }
        if (g == 3) {
            E(a, 0x0F, 0x01, 0x3D);
            e32(a, 0xB00000);
        }
        if (g == 1) {
            E(a, 0x0F, 0x01, 0x3D);
            e32(a, CALLEE);
        }
        if (g == 2)   /* mov eax, cr4; xor eax, 80h; mov cr4, eax; xor eax, 80h; mov cr4, eax */
            E(a, 0x0F, 0x20, 0xE0, 0x35, 0x80, 0, 0, 0, 0x0F, 0x22, 0xE0, 0x35, 0x80, 0, 0, 0, 0x0F, 0x22, 0xE0);
        E(a, 0x4D);
        jcc_back(a, 5, loop);
        E(a, 0xF4);
        for (int chunked = 0; chunked < 2; chunked++) {
            struct pair p = pair_new((struct env){ 0, 0, 1, 0 }, &prog, CODE, global_setup, g);
            ck_assert_int_eq(run_both(p.a, p.b, chunked ? 11 : 0, "global code"), CPU_EXIT_HLT);
            ck_assert_uint_eq(p.a->cpu.eip, CODE + prog.n);
            ck_assert_msg(p.a->cpu.regs[R_EDI] == (g == 3 ? 40u : 45u), "g %d: edi %u", g, p.a->cpu.regs[R_EDI]);
            pair_free(p);
        }
    }
}
END_TEST

/* Code compiled while DS, ES and SS are flat leaves out their base and
 * limit: LDS/LES (which do not end a block) loading a segment with base
 * 0x1000 in the middle of a hot block, and back, must make it leave the
 * block; and a segment load that ends a block (POP SS) must not let the
 * next compiled block run on. Every ring, with and without paging. */
START_TEST(test_segment_base_change)
{
    for (int which = 0; which < 3; which++)
        for (int e = 0; e < 3; e++) {
            if (which == 2 && e != 1)
                continue;   /* SS = FSA (DPL 3): ring 3 only */
            struct as prog = { .n = 0 };
            struct as *a = &prog;
            uint8_t pfx = which == 1 ? 0x26 : 0x90;                 /* ES: or a NOP */
            E(a, 0xB9, 40, 0, 0, 0);                                /* mov ecx, 40 */
            uint32_t loop = a->n;
            if (which == 2)
                E(a, 0x6A, FSA | 3, 0x17);                          /* push FSA; pop ss */
            else
                E(a, which ? 0xC4 : 0xC5, 0x96, 0, 1, 0, 0);        /* les/lds edx, [esi + 0x100] */
            E(a, pfx, 0x8B, 0x06);                                  /* mov eax, [(es:)esi] */
            E(a, 0x01, 0xC3);                                       /* add ebx, eax */
            E(a, pfx, 0x89, 0x5E, 0x10);                            /* mov [(es:)esi + 16], ebx */
            if (which == 2)
                E(a, 0x8B, 0x44, 0x24, 0x08, 0x01, 0xC3, 0x6A, DATA3 | 3, 0x17);   /* [esp + 8]; ss back */
            else
                E(a, which ? 0xC4 : 0xC5, 0x96, 8, 1, 0, 0);        /* les/lds edx, [esi + 0x108] */
            E(a, pfx, 0x8B, 0x46, 0x20, 0x01, 0xC3);                /* mov eax, [(es:)esi + 32]; add */
            E(a, 0x49);                                             /* dec ecx */
            jcc_back(a, 5, loop);
            E(a, 0xF4);
            struct pair p = pair_new(random_envs[e], &prog, CODE, NULL, 0);
            for (int k = 0; k < 2; k++) {
                struct machine *m = k ? p.b : p.a;
                m->cpu.regs[R_ESI] = DATA;
                m->cpu.regs[R_EBX] = 0;
                for (uint32_t q = DATA; q < DATA + 0x2000; q += 4)
                    phys_write(&m->pm, q, q * 0x9E3779B1u, 4);
                uint32_t back = which ? m->cpu.segs[S_ES].sel : m->cpu.segs[S_DS].sel;
                phys_write(&m->pm, DATA + 0x104, FSA | 3, 2);       /* far pointers: 0:FSA, */
                phys_write(&m->pm, DATA + 0x10C, back, 2);          /* 0:the selector before, */
                phys_write(&m->pm, DATA + 0x1108, 0, 4);            /* also where the new DS reads it */
                phys_write(&m->pm, DATA + 0x110C, back, 2);
            }
            ck_assert_int_eq(run_both(p.a, p.b, 0, "segment base change"), CPU_EXIT_HLT);
            ck_assert_uint_eq(p.a->cpu.regs[R_ECX], 0);   /* all 40 rounds (ring 3: #GP at the HLT) */
            pair_free(p);
        }
}
END_TEST

START_TEST(test_code16)
{
    struct as prog;
    uint32_t hlt = code16_prog(&prog);
    for (int chunked = 0; chunked < 2; chunked++) {
        struct pair p = pair_new((struct env){ 0, 0, 0, _i }, &prog, CODE, code16_setup, 0);
        ck_assert_int_eq(run_both(p.a, p.b, chunked ? 6 : 0, _i ? "code16, stack16" : "code16"), CPU_EXIT_HLT);
        ck_assert_uint_eq(p.a->cpu.eip, hlt + 1);
        pair_free(p);
    }
}
END_TEST

/* ---- real mode and virtual-8086 mode: 16-bit blocks with 66/67 ---- */

static uint32_t rm_prog(struct as *a)
{
    a->n = 0;
    E(a, 0x66, 0xBD, 40, 0, 0, 0);                 /* mov ebp, 40 */
    uint32_t loop = a->n;
    E(a, 0x67, 0x66, 0x8B, 0x06);                  /* mov eax, [esi] */
    E(a, 0x66, 0x01, 0xC3);                        /* add ebx, eax */
    E(a, 0x67, 0x66, 0x89, 0x5C, 0x37, 0x10);      /* mov [edi+esi+16], ebx */
    E(a, 0x66, 0x83, 0xC6, 0x04);                  /* add esi, 4 */
    E(a, 0x66, 0xC1, 0xE0, 0x03);                  /* shl eax, 3 */
    E(a, 0x66, 0x50, 0x66, 0x5A);                  /* push eax; pop edx */
    E(a, 0x67, 0x66, 0x8B, 0x4C, 0x24, 0xFC);      /* mov ecx, [esp-4] */
    E(a, 0x67, 0x66, 0x8D, 0x44, 0x1E, 0x08);      /* lea eax, [esi+ebx+8] */
    E(a, 0x8B, 0x3E, 0x00, 0x01);                  /* mov di, [0x100] */
    E(a, 0x83, 0xE7, 0x7F);                        /* and di, 0x7F */
    E(a, 0x66, 0x4D);                              /* dec ebp */
    E(a, 0x66);
    jcc_back(a, 5, loop);
    uint32_t hlt = a->n;
    E(a, 0xF4);
    return hlt;
}

/* k = 0: real mode, 1: V86 (ring-0 handlers through the IDT and TSS) */
static void rm_setup(struct machine *m, int k)
{
    struct cpu *c = &m->cpu;
    if (k) {
        c->eflags |= FL_VM;
        c->cpl = 3;
    } else {
        cpu_set_cr0(c, c->cr0 & ~CR0_PE);
    }
    static const uint16_t sel[6] = { 0x2000, 0x1000, 0x3000, 0x2000, 0x2000, 0x2000 };
    for (int s = 0; s < 6; s++) {
        c->segs[s] = (struct seg){ sel[s], (uint32_t)sel[s] << 4, 0xFFFF, s == S_CS ? 0x9B : 0x93 };
        if (k)
            c->segs[s].flags = 0xF3;
    }
    c->eip = 0;
    c->regs[R_ESP] = 0x8000;
    c->regs[R_ESI] = 0x10;
    c->regs[R_EDI] = 0x40;
    for (uint32_t p = DATA; p < DATA + 0x1000; p += 4)
        phys_write(&m->pm, p, p * 0x85EBCA6Bu, 4);
}

START_TEST(test_real_v86)
{
    struct as prog;
    uint32_t hlt = rm_prog(&prog);
    for (int chunked = 0; chunked < 2; chunked++) {
        struct pair p = pair_new((struct env){ 0, 0, 0, 0 }, &prog, CODE, rm_setup, _i);
        ck_assert_int_eq(run_both(p.a, p.b, chunked ? 8 : 0, _i ? "v86" : "real mode"), CPU_EXIT_HLT);
        if (_i)   /* HLT in V86 mode: #GP(0) to the ring-0 handler */
            ck_assert_uint_eq(p.a->cpu.eip, HANDLERS + 8 * EXC_GP + 1);
        else
            ck_assert_uint_eq(p.a->cpu.eip, hlt + 1);
        pair_free(p);
    }
}
END_TEST

/* ---- exit requests from a handler inside a compiled block ---- */

static void exit_on_out(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct cpu *c = opaque;
    (void)value; (void)size;
    if (port == 0x80)
        c->exit_request = 1;
}

static uint32_t port_in(void *opaque, uint16_t port, int size)
{
    (void)opaque;
    return port * 3u + (uint32_t)size;
}

static void exit_setup(struct machine *m, int k)
{
    (void)k;
    m->cpu.io_write = exit_on_out;
    m->cpu.io_read = port_in;
    m->cpu.io_opaque = &m->cpu;
    m->cpu.regs[R_ESI] = DATA;
}

/* L: add eax, ebx; out 0x80, al; inc ebx; mov [esi], eax; in al, 0x71;
 *    add esi, 4; out 0x81, al; dec ebp; jnz L */
/* Loads from a device whose read at offset 8 asks for an exit, and a
 * PUSH onto it whose write at 0x10 does: the compiled instruction finishes
 * (its register, ESP written) and the block is left after it, as the
 * interpreter does. */
static struct mmio_dev { struct cpu *c; uint32_t reads; } mmio_devs[2];

static uint32_t mmio_exit_read(void *dev, uint32_t off, int size)
{
    struct mmio_dev *d = dev;
    if (off == 8)
        d->c->exit_request = 1;
    return (off * 0x01010101u + (uint32_t)size) ^ ++d->reads * 0x9E3779B1u;   /* new each time */
}

static void mmio_exit_write(void *dev, uint32_t off, uint32_t value, int size)
{
    struct mmio_dev *d = dev;
    (void)value; (void)size;
    if (off == 0x10)
        d->c->exit_request = 1;
}

static const struct bus_ops mmio_exit_ops = { mmio_exit_read, mmio_exit_write, 0 };

static void mmio_exit_setup(struct machine *m, int k)
{
    (void)k;
    struct mmio_dev *d = &mmio_devs[mmio_devs[0].c != NULL];   /* the interpreter's, then the JIT's */
    *d = (struct mmio_dev){ &m->cpu, 0 };
    ck_assert_int_eq(physmem_map_mmio(&m->pm, 0x300000, 0x1000, &mmio_exit_ops, d), 0);
}

/* prog at CODE in ring 0, in one run and in slices (seed chunk): both
 * machines halt at its end after `icount` instructions */
static void run_to_end(const struct as *prog, void (*setup)(struct machine *, int), uint64_t chunk,
                       const char *tag, uint64_t icount)
{
    for (int chunked = 0; chunked < 2; chunked++) {
        memset(mmio_devs, 0, sizeof(mmio_devs));
        struct pair p = pair_new((struct env){ 0, 0, 0, 0 }, prog, CODE, setup, 0);
        ck_assert_int_eq(run_both(p.a, p.b, chunked ? chunk : 0, tag), CPU_EXIT_HLT);
        ck_assert_uint_eq(p.a->cpu.eip, CODE + prog->n);
        ck_assert_uint_eq(p.a->cpu.icount, icount);
        pair_free(p);
    }
}

START_TEST(test_exit_request_load)
{
    struct as prog = { .n = 0 };
    struct as *a = &prog;
    E(a, 0xBD, 30, 0, 0, 0);                                  /* mov ebp, 30 */
    uint32_t loop = a->n;
    E(a, 0xA1); e32(a, 0x300008);                             /* mov eax, [0x300008] (exit) */
    E(a, 0x01, 0xC3);                                         /* add ebx, eax */
    E(a, 0x0F, 0xB6, 0x0D); e32(a, 0x300008);                 /* movzx ecx, byte [0x300008] (exit) */
    E(a, 0x01, 0xCB);                                         /* add ebx, ecx */
    E(a, 0x8A, 0x35); e32(a, 0x300008);                       /* mov dh, [0x300008] (exit) */
    E(a, 0x66, 0x8B, 0x3D); e32(a, 0x300008);                 /* mov di, [0x300008] (exit) */
    E(a, 0x8B, 0x35); e32(a, 0x300004);                       /* mov esi, [0x300004] */
    E(a, 0x01, 0xD3, 0x01, 0xFB, 0x01, 0xF3);                 /* add ebx, edx; edi; esi */
    E(a, 0x89, 0xE2, 0xBC); e32(a, 0x300014);                 /* mov edx, esp; mov esp, 0x300014 */
    E(a, 0x53, 0x89, 0xE0, 0x89, 0xD4, 0x01, 0xC3);           /* push ebx (exit); mov eax, esp; esp back; add */
    E(a, 0xBC); e32(a, 0x300008);                             /* mov esp, 0x300008 */
    E(a, 0x59, 0x89, 0xE0, 0x89, 0xD4, 0x01, 0xC3, 0x01, 0xCB);   /* pop ecx (exit); eax = esp; esp back; add */
    E(a, 0x4D);                                               /* dec ebp */
    jcc_back(a, 5, loop);
    E(a, 0xF4);
    run_to_end(&prog, mmio_exit_setup, 7, "exit request by a load", 1 + 30 * 24 + 1);
}
END_TEST

START_TEST(test_exit_request)
{
    struct as prog = { .n = 0 };
    struct as *a = &prog;
    E(a, 0xBD, 30, 0, 0, 0);
    uint32_t loop = a->n;
    E(a, 0x01, 0xD8, 0xE6, 0x80, 0x43, 0x89, 0x06, 0xE4, 0x71, 0x83, 0xC6, 0x04, 0xE6, 0x81, 0x4D);
    jcc_back(a, 5, loop);
    E(a, 0xF4);
    run_to_end(&prog, exit_setup, 12, "exit request", 1 + 30 * 9 + 1);
}
END_TEST

/* ---- one code page at two linear addresses ---- */

/* Runs the loop at CODE, then at ALIAS, then at CODE again (or starting at
 * ALIAS); the subroutine sums the return addresses into EDX. */
struct alias_layout {
    uint32_t ret_off, hlt_off;
};

static struct alias_layout alias_prog(struct as *a)
{
    struct alias_layout l;
    a->n = 0;
    E(a, 0xBD, 20, 0, 0, 0);
    uint32_t loop = a->n;
    E(a, 0x01, 0xD8, 0x43, 0xE8);
    e32(a, 0);
    uint32_t call = a->n;
    l.ret_off = a->n;
    E(a, 0x4D);
    jcc_back(a, 5, loop);
    E(a, 0x47, 0x83, 0xFF, 0x01);                  /* inc edi; cmp edi, 1 */
    uint32_t j1 = jcc_fwd(a, 4);
    E(a, 0x83, 0xFF, 0x02);
    uint32_t j2 = jcc_fwd(a, 4);
    l.hlt_off = a->n;
    E(a, 0xF4);
    here(a, j1);
    E(a, 0xFF, 0x25);                              /* jmp [DATA + 4]: the other address */
    e32(a, DATA + 4);
    here(a, j2);
    E(a, 0xFF, 0x25);                              /* jmp [DATA]: back to the first */
    e32(a, DATA);
    uint32_t rel = a->n - call;
    memcpy(a->b + call - 4, &rel, 4);
    E(a, 0x8B, 0x0C, 0x24, 0x01, 0xCA, 0xC3);      /* mov ecx, [esp]; add edx, ecx; ret */
    return l;
}

static void alias_setup(struct machine *m, int k)
{
    uint32_t first = k ? ALIAS : CODE, other = k ? CODE : ALIAS;
    phys_write(&m->pm, DATA, first, 4);
    phys_write(&m->pm, DATA + 4, other, 4);
    m->cpu.eip = first;
    m->cpu.regs[R_EDX] = 0;
    m->cpu.regs[R_EDI] = 0;
}

START_TEST(test_alias)
{
    struct as prog;
    struct alias_layout l = alias_prog(&prog);
    uint32_t first = _i ? ALIAS : CODE, other = _i ? CODE : ALIAS;
    for (int chunked = 0; chunked < 2; chunked++) {
        struct pair p = pair_new((struct env){ 0, 0, 1, 0 }, &prog, CODE, alias_setup, _i);
        ck_assert_int_eq(run_both(p.a, p.b, chunked ? 7 : 0, _i ? "alias first" : "alias"), CPU_EXIT_HLT);
        ck_assert_uint_eq(p.a->cpu.eip, first + l.hlt_off + 1);
        ck_assert_uint_eq(p.a->cpu.regs[R_EDX], 20 * (2 * (first + l.ret_off) + other + l.ret_off));
        pair_free(p);
    }
}
END_TEST

Suite *jit_suite(void)
{
    Suite *s = suite_create("jit");
#ifndef SV_JIT_X86_64
    printf("jit: no JIT on this host; the JIT-on runs are the interpreter\n");
#endif
    TCase *tc = tcase_create("random");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_random_programs, 0, 16);
    tcase_add_loop_test(tc, test_random_programs_stack16, 0, 4);
    tcase_add_loop_test(tc, test_random_x87, 0, 8);
    tcase_add_loop_test(tc, test_code_buffer_full, 0, 2);
    suite_add_tcase(s, tc);
    tc = tcase_create("flags");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_jcc_after_flag_ops, 0, (int)(sizeof flag_ops / sizeof flag_ops[0]));
    tcase_add_test(tc, test_budget_inside_hot_block);
    tcase_add_test(tc, test_mul_div);
    tcase_add_loop_test(tc, test_x87_precision, 0, 4);
    tcase_add_loop_test(tc, test_x87_arith, 0, 3);
    tcase_add_loop_test(tc, test_x87_reload, 0, 2);
    tcase_add_loop_test(tc, test_x87_zeros, 0, 2);
    suite_add_tcase(s, tc);
    tc = tcase_create("faults");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_fault_in_compiled_code, 0, (int)(sizeof fault_cases / sizeof fault_cases[0]));
    tcase_add_test(tc, test_privilege_change);
    tcase_add_test(tc, test_sysexit_sysenter_chain);
    tcase_add_loop_test(tc, test_stack_fault, 0, (int)(sizeof stack_cases / sizeof stack_cases[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("code");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_self_modifying_code, 0, (int)(sizeof smc_cases / sizeof smc_cases[0]));
    tcase_add_loop_test(tc, test_code16, 0, 2);
    tcase_add_loop_test(tc, test_alias, 0, 2);
    tcase_add_test(tc, test_cr3_invlpg);
    tcase_add_test(tc, test_global_code);
    tcase_add_test(tc, test_indirect);
    tcase_add_test(tc, test_indirect_collision);
    tcase_add_test(tc, test_shift_mem_slow);
    tcase_add_test(tc, test_incdec_cf);
    tcase_add_loop_test(tc, test_superblock, 0, 3);
    tcase_add_test(tc, test_followed_jmp_fault);
    tcase_add_test(tc, test_x87_run_over_integer);
    tcase_add_test(tc, test_segment_base_change);
    tcase_add_loop_test(tc, test_real_v86, 0, 2);
    tcase_add_test(tc, test_exit_request);
    tcase_add_test(tc, test_exit_request_load);
    suite_add_tcase(s, tc);
    return s;
}
