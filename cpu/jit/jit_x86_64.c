/* JIT back end for x86-64 hosts (System V ABI: Linux, the BSDs, macOS).
 * Host-specific: executable memory (mmap) and x86-64 machine code. What a
 * compiled block does is in cpu/jit/jit.h; the encodings are from the Intel
 * SDM vol. 2. The frequent x87 forms are in line too ("the x87 in line",
 * exact 80-bit arithmetic in integers: the host's x87 is never used).
 * The lazy flags an inline form sets stay in host registers until
 * something else could look at them ("the lazy flags in registers").
 * Not done: keeping guest registers in host registers across instructions,
 * 16-bit ALU forms, string instructions (these run through their handlers). */
#include "cpu/jit/jit.h"
#ifdef SV_JIT_X86_64
#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include "cpu/block.h"
#include "mmu/physmem.h"
#include "cpu/float80.h"

#define JIT_MEM (64u << 20)      /* code buffer */
#define JIT_BLOCK_MAX 32768u     /* bytes one block may need (BLOCK_MAX insns) */
#define MAX_STUBS (BLOCK_MAX * 8)
#define JIT_SLOTS (1u << 17)     /* chain slots (two or so per block) */

_Static_assert(sizeof(struct tlb_entry) == 16, "TLB entry layout the code relies on");


/* ---- the emitter ---- */

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
/* Fixed roles: rbx = struct cpu, r12 = block cache, r13 = fast-path TLB
 * hits (added to the statistics on the way out), byte [rsp] = "a slow path
 * ran" (then the page-written/exit check follows the instruction),
 * r14 = this privilege's TLB, r15d = effective address, ebp = an operand
 * kept across a slow-path call; r8d-r10d = the lazy flags (while e->lfr). */

enum stub_kind { ST_READ, ST_WRITE, ST_CHECK, ST_CHECK_KEEP, ST_HANDLER, ST_X87, ST_X87_RUN };
/* CHECK_KEEP: host flags kept; X87: the instruction through its handler,
 * then on after it (an x87 form in line whose case did not apply);
 * X87_RUN: a whole run of them (instructions k to kend - 1) */
/* What is left of an instruction after its slow access (struct stub tail):
 * storing the loaded value (1, 2, 4 bytes), nothing, ESP = r15d, POP's
 * ESP = r15d + 4 and then the value. */
enum { TAIL_LOAD1 = 1, TAIL_LOAD2 = 2, TAIL_LOAD4 = 4, TAIL_NONE = 8, TAIL_ESP = 9, TAIL_POP = 10 };
struct stub {
    uint8_t kind, seg, size, npatch;
    /* the stub finishes the instruction and leaves itself when it must
     * (no check on the fast path): TAIL_* (0: it sets [rsp] instead) */
    uint8_t tail;
    int32_t tail_disp;    /* TAIL_LOAD1/2/4: where the loaded value goes */
    uint32_t k;           /* instruction index in the block */
    uint8_t *patch[12];   /* rel32s of the jumps to the stub */
    uint8_t *rejoin;      /* where the stub returns to */
    uint32_t kend;        /* ST_X87_RUN: the end of the run */
    uint8_t top;          /* ST_X87: TOP before the instruction */
    int32_t prev;         /* ST_X87: the run's instruction before (FIP), or -1 */
    uint8_t leave;        /* ST_HANDLER: leave the block after the handler */
    uint8_t in_run;       /* ST_READ: a load inside an x87 run (top, prev as for ST_X87) */
    uint8_t lfr;          /* the lazy flags were in registers (kind lfr_kind) where it was added */
    uint8_t lfr_cf;       /* (and CF in r11d) */
    int lfr_kind;
    uint32_t tlb_n;       /* e->tlb_n where it was added, */
    uint32_t tlb_back;    /* and how many more at its rejoin */
};

struct em {
    uint8_t *p, *end;
    int overflow;
    const struct block *b;
    const struct insn *insns;
    uint32_t eip[BLOCK_MAX + 1];   /* EIP of each instruction, and after the last */
    struct stub stubs[MAX_STUBS];
    int nstubs;
    uint8_t *epilogue;
    uint8_t *count_exit;           /* eax = instructions retired: icount, then the epilogue */
    uint8_t *chain_check;          /* the shared routine of chain exits */
    uint8_t *lf_save, *lf_load;    /* shared routines: r8d-r10d to the lazy-flag fields and back */
    uint8_t *tlb_flush;            /* shared routine: flush_tlb() with n in eax */
    uint8_t *x87_zadd, *x87_zmul;  /* shared routines: x87_zeros() */
    struct jit_slot *table;        /* the successor table (JIT_TABLE entries) */
    struct jit_slot *slots;        /* the pool, and how much of it is used */
    size_t nslots;
    uint8_t *exit_patch[BLOCK_MAX * 8]; /* jumps to count_exit */
    int nexit;
    uint8_t *raw_patch[BLOCK_MAX * 2];  /* jumps to the epilogue proper */
    int64_t last_target;           /* fixed target of the inline JMP/CALL ending the block, or -1 */
    int flags_dead;                /* the instruction being emitted need not record its lazy flags */
    /* What the emitter knows about the flags when instruction k starts
     * (kept in *_in, the state being built in the other two):
     * kind: lf_op as stored by an inline form earlier in the block with
     * nothing since that could change the lazy flags (-1: unknown);
     * host: the host's arithmetic flags are the guest's, left by the
     * previous instruction's host operation (a 32-bit or byte ALU op). */
    int kind, kind_in, host, host_in;
    int want_host;                 /* the next instruction reads a condition */
    int flat;                      /* cpu->jit_flat holds while the code runs */
    /* x87: TOP expected before the instruction being emitted (when
     * x87_top_ok), the run being emitted (x87_k0 to x87_end - 1) and its
     * ST_X87_RUN stub */
    unsigned x87_top;
    int x87_top_ok;
    uint32_t x87_k0, x87_end;
    int32_t x87_last;              /* the run's x87 instruction emitted last (-1: none yet) */
    int x87_held;                  /* >= 0: the stubs from there on rejoin in x87_reload */
    int x87_fds;                   /* the segment whose selector the run stored in FDS (-1: none) */
    int x87_run_stub;
    int nraw;
    int eip_in_eax;                /* the instruction ended storing EIP from eax (eax still holds it) */
    /* lfr: the guest's lazy flags are in r8d/r9d/r10d (op1, op2, res),
     * of kind lfr_kind, and not yet in struct cpu ("the lazy flags in
     * registers"); k: the instruction being emitted */
    int lfr, lfr_kind;
    int lfr_cf;                    /* and CF is r11d, not yet in EFLAGS (kind INC/DEC) */
    int lf_off, lf_bad;            /* compiling without them; a missed spill was found */
    uint32_t k;
    /* TLB hits of the fast paths (r13): the ST_READ/ST_WRITE ones are
     * counted where the block is left, tlb_n being how many of them the
     * way there passed (a stub that comes back takes off those it did
     * not); the x87's, whose stubs are also jumped to after the access,
     * by an inc each */
    uint32_t tlb_n;
    int tlb_per_access;            /* all of them by an inc (jit_set_tlb_per_access) */
    int tlb_here;                  /* this one by an inc (an access the way may jump over) */
};

static void b1(struct em *e, unsigned v)
{
    if (e->p < e->end)
        *e->p++ = (uint8_t)v;
    else
        e->overflow = 1;
}

static void b4(struct em *e, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        b1(e, (v >> (8 * k)) & 0xFF);
}

static void b8(struct em *e, uint64_t v)
{
    b4(e, (uint32_t)v);
    b4(e, (uint32_t)(v >> 32));
}

/* The lazy flags in struct cpu, and the registers that hold them while
 * e->lfr: nothing may look at the fields then (a bug in the emitter: the
 * block is not compiled, and debug builds stop). */
#define LF_FIRST ((int32_t)offsetof(struct cpu, lf_res))
#define LF_END ((int32_t)offsetof(struct cpu, lf_op) + 4)
_Static_assert(offsetof(struct cpu, lf_op1) == offsetof(struct cpu, lf_res) + 4 &&
               offsetof(struct cpu, lf_op2) == offsetof(struct cpu, lf_res) + 8 &&
               offsetof(struct cpu, lf_op) == offsetof(struct cpu, lf_res) + 12, "the lazy flags' layout");
static void lf_guard(struct em *e, int bad)
{
    if (bad && e->lfr) {
        assert(!"lazy flags in registers not spilled");
        e->lf_bad = e->overflow = 1;
    }
}

static void rex(struct em *e, int w, int reg, int index, int base, int force)
{
    unsigned r = 0x40 | (w ? 8 : 0) | (reg & 8 ? 4 : 0) | (index >= 0 && (index & 8) ? 2 : 0) |
                 (base & 8 ? 1 : 0);
    if (r != 0x40 || force)
        b1(e, r);
}

/* op with ModRM.reg = reg and memory [base + index << scale + disp];
 * opcode bytes in `op` (0x0F escapes included), low byte first. */
static void mem_op(struct em *e, int w, int force, unsigned op, int reg, int base, int index, int scale,
                   int32_t disp)
{
    lf_guard(e, base == RBX && ((disp >= LF_FIRST && disp < LF_END) ||
                                (e->lfr_cf && disp == (int32_t)offsetof(struct cpu, eflags))));
    rex(e, w, reg, index, base, force);
    for (; op > 0xFF; op >>= 8)
        b1(e, op & 0xFF);
    b1(e, op);
    int mod = (disp == 0 && (base & 7) != 5) ? 0 : (disp >= -128 && disp <= 127) ? 1 : 2;
    if (index < 0 && (base & 7) != 4) {
        b1(e, (unsigned)(mod << 6 | (reg & 7) << 3 | (base & 7)));
    } else {
        b1(e, (unsigned)(mod << 6 | (reg & 7) << 3 | 4));
        b1(e, (unsigned)(scale << 6 | ((index < 0 ? 4 : index) & 7) << 3 | (base & 7)));
    }
    if (mod == 1)
        b1(e, (uint8_t)disp);
    else if (mod == 2)
        b4(e, (uint32_t)disp);
}

/* op reg, rm (both registers) */
static void rr_op(struct em *e, int w, unsigned op, int reg, int rm)
{
    rex(e, w, reg, -1, rm, 0);
    for (; op > 0xFF; op >>= 8)
        b1(e, op & 0xFF);
    b1(e, op);
    b1(e, (unsigned)(0xC0 | (reg & 7) << 3 | (rm & 7)));
}

#define CPU(f) ((int32_t)offsetof(struct cpu, f))
#define GREG(r) (CPU(regs) + 4 * (r))
#define SEG_F(s, f) (CPU(segs) + (int32_t)((s) * sizeof(struct seg) + offsetof(struct seg, f)))
#define BC(f) ((int32_t)offsetof(struct block_cache, f))

/* mov r32, [rbx + d] and mov [rbx + d], r32 */
static void ld(struct em *e, int r, int32_t d) { mem_op(e, 0, 0, 0x8B, r, RBX, -1, 0, d); }
static void st(struct em *e, int32_t d, int r) { mem_op(e, 0, 0, 0x89, r, RBX, -1, 0, d); }
/* mov dword [rbx + d], imm32 */
static void sti(struct em *e, int32_t d, uint32_t v)
{
    mem_op(e, 0, 0, 0xC7, 0, RBX, -1, 0, d);
    b4(e, v);
}
static void movi(struct em *e, int r, uint32_t v)   /* mov r32, imm32 */
{
    rex(e, 0, 0, -1, r, 0);
    b1(e, 0xB8 + (r & 7));
    b4(e, v);
}
static void movi64(struct em *e, int r, uint64_t v)
{
    rex(e, 1, 0, -1, r, 0);
    b1(e, 0xB8 + (r & 7));
    b8(e, v);
}
static void call_abs(struct em *e, const void *fn)
{
    lf_guard(e, 1);   /* C sees the lazy flags in struct cpu; r8-r10 are lost */
    movi64(e, RAX, (uint64_t)(uintptr_t)fn);
    b1(e, 0xFF);
    b1(e, 0xD0);   /* call rax */
}

/* Jumps with a 32-bit displacement; returns the place to patch. */
static uint8_t *jcc32(struct em *e, int hostcc)
{
    b1(e, 0x0F);
    b1(e, 0x80 + (unsigned)hostcc);
    uint8_t *at = e->p;
    b4(e, 0);
    return at;
}
static uint8_t *jmp32(struct em *e)
{
    b1(e, 0xE9);
    uint8_t *at = e->p;
    b4(e, 0);
    return at;
}
static void patch(struct em *e, uint8_t *at, const uint8_t *target)
{
    if (e->overflow || !at)
        return;
    int32_t rel = (int32_t)(target - (at + 4));
    memcpy(at, &rel, 4);
}
enum { CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A, CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_GE, CC_LE, CC_G };

static void add_stub(struct em *e, int kind, uint32_t k, uint8_t *at, int seg, int size)
{
    if (e->nstubs >= MAX_STUBS) {
        e->overflow = 1;
        return;
    }
    e->stubs[e->nstubs++] = (struct stub){
        .kind = (uint8_t)kind, .seg = (uint8_t)seg, .size = (uint8_t)size, .npatch = at != NULL, .k = k,
        .patch = { at }, .prev = -1, .lfr = (uint8_t)e->lfr, .lfr_cf = (uint8_t)(e->lfr && e->lfr_cf),
        .lfr_kind = e->lfr_kind, .tlb_n = e->tlb_n };
    lf_guard(e, kind == ST_CHECK_KEEP && e->lfr_cf);   /* (its way back must keep the host's flags) */
}

/* One more jump to the stub added last. */
static void add_to_stub(struct em *e, uint8_t *at)
{
    struct stub *st = &e->stubs[e->nstubs - 1];
    if (st->npatch < 12)
        st->patch[st->npatch++] = at;
    else
        e->overflow = 1;
}
/* The stubs added since `from` come back to the current position. */
static void rejoin_here(struct em *e, int from)
{
    for (int s = from; s < e->nstubs; s++)
        if (!e->stubs[s].rejoin) {
            e->stubs[s].rejoin = e->p;
            e->stubs[s].tlb_back = e->tlb_n - e->stubs[s].tlb_n;
            /* the stub brings the lazy flags back as they were where it was added */
            if (e->stubs[s].lfr != e->lfr ||
                (e->lfr && (e->stubs[s].lfr_kind != e->lfr_kind || e->stubs[s].lfr_cf != e->lfr_cf))) {
                assert(!"a stub rejoins where the lazy flags are elsewhere");
                e->lf_bad = e->overflow = 1;
            }
        }
}

/* r14 = the TLB of the current privilege (cpl can change only at a call
 * to a handler). */
static void load_tlb_base(struct em *e)
{
    rr_op(e, 0, 0x33, RAX, RAX);                          /* xor eax, eax */
    mem_op(e, 0, 0, 0x80, 7, RBX, -1, 0, CPU(cpl));      /* cmp byte [cpl], 3 */
    b1(e, 3);
    b1(e, 0x0F); b1(e, 0x94); b1(e, 0xC0);                /* sete al */
    rr_op(e, 0, 0x69, RAX, RAX);                          /* imul eax, eax, 3 * TLB bytes */
    b4(e, 3 * TLB_SIZE * (uint32_t)sizeof(struct tlb_entry));
    mem_op(e, 1, 0, 0x8D, R14, RBX, RAX, 0, CPU(mmu.tlb)); /* lea r14, [rbx + rax + tlb] */
}

/* ---- instructions through their handlers ---- */

/* EIP after instruction k, as its handler expects it (the next
 * instruction's but after a followed JMP) */
static uint32_t eip_after(const struct em *e, uint32_t k)
{
    return (e->eip[k] + e->insns[k].len) & (e->b->mode ? 0xFFFFFFFFu : 0xFFFFu);
}

static void set_fault_state(struct em *e, uint32_t k)
{
    sti(e, CPU(fault_eip), e->eip[k]);
    ld(e, RAX, GREG(R_ESP));
    st(e, CPU(fault_esp), RAX);
}

/* r13 += the fast TLB hits on the way to this exit (flags kept) */
static void count_tlb(struct em *e)
{
    if (e->tlb_n)
        mem_op(e, 1, 0, 0x8D, R13, R13, -1, 0, (int32_t)e->tlb_n);   /* lea r13, [r13 + n] */
}

static void call_rel(struct em *e, const uint8_t *target);

/* Before a call that may fault (it longjmps past the epilogue, losing
 * r13): the hits so far to the statistics, r13 then such that the exits'
 * counts stay right. Clobbers rax and the host flags. */
static void flush_tlb(struct em *e)
{
    movi(e, RAX, e->tlb_n);
    call_rel(e, e->tlb_flush);   /* [tlb_hits] += r13 + n; r13 = -n; clobbers rax */
}

/* Exit with k + 1 instructions retired (icount is set on the way out);
 * c->eip already holds the next EIP. */
static void exit_after(struct em *e, uint32_t k)
{
    lf_guard(e, 1);
    count_tlb(e);
    movi(e, RAX, k + 1);
    if (e->nexit < (int)(sizeof(e->exit_patch) / sizeof(e->exit_patch[0])))
        e->exit_patch[e->nexit++] = jmp32(e);
    else
        e->overflow = 1;
}

/* After a Jcc's handler inside a superblock (cpu/block.c): leave when it
 * jumped (EIP is not the next instruction's). */
static void exit_if_jumped(struct em *e, uint32_t k)
{
    mem_op(e, 0, 0, 0x81, 7, RBX, -1, 0, CPU(eip)); b4(e, e->eip[k + 1]);
    uint8_t *stay = jcc32(e, CC_E);
    exit_after(e, k);
    patch(e, stay, e->p);
}

/* After a call: exit when the block's page was written or an exit was asked. */
/* ZF clear when the block must be left: its page was written or an exit
 * was asked (r = a scratch register). */
static void test_leave(struct em *e, int r)
{
    mem_op(e, 0, 0, 0x8B, r, R12, -1, 0, BC(cur_dirty));     /* mov r, [r12 + cur_dirty] */
    mem_op(e, 0, 0, 0x0B, r, RBX, -1, 0, CPU(exit_request)); /* or r, [rbx + exit_request] */
}

static void check_dirty(struct em *e, uint32_t k)
{
    test_leave(e, RAX);
    uint8_t *skip = jcc32(e, CC_E);
    exit_after(e, k);
    patch(e, skip, e->p);
}

/* A handler that touches only registers and flags (no memory, no ports,
 * no segment or control registers, no events): after it, nothing needs
 * checking. Plain instructions with a register ModRM operand, and a few
 * without ModRM. */
static int handler_is_pure(const struct insn *i)
{
    if (i->opc == 0x131)
        return 1;   /* RDTSC: EDX:EAX from the count (or #GP, which unwinds) */
    if (i->cls != IC_NONE || (i->flags & OPF_END))
        return 0;
    if (i->has_modrm)   /* not: segment moves, POP r/m and PUSH r/m (the stack); the x87
                           register forms are (FERR# sets jit_attn itself) */
        return i->mod == 3 && i->opc != 0x8E && i->opc != 0x8C && i->opc != 0x8F &&
               !(i->opc == 0xFF && i->reg >= 2) && (i->opc < 0x100 || i->opc >= 0x140);
    switch (i->opc) {
    case 0x90: case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
    case 0x98: case 0x99: case 0x9E: case 0x9F: case 0xF5: case 0xF8: case 0xF9: case 0xFC: case 0xFD:
    case 0x27: case 0x2F: case 0x37: case 0x3F: case 0xD4: case 0xD5:
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
    case 0x48: case 0x49: case 0x4A: case 0x4B: case 0x4C: case 0x4D: case 0x4E: case 0x4F:
    case 0xB0: case 0xB1: case 0xB2: case 0xB3: case 0xB4: case 0xB5: case 0xB6: case 0xB7:
    case 0xB8: case 0xB9: case 0xBA: case 0xBB: case 0xBC: case 0xBD: case 0xBE: case 0xBF:
    case 0x04: case 0x0C: case 0x14: case 0x1C: case 0x24: case 0x2C: case 0x34: case 0x3C: case 0xA8:
    case 0x05: case 0x0D: case 0x15: case 0x1D: case 0x25: case 0x2D: case 0x35: case 0x3D: case 0xA9:
    case 0x1C8: case 0x1C9: case 0x1CA: case 0x1CB: case 0x1CC: case 0x1CD: case 0x1CE: case 0x1CF:
        return 1;
    default:
        return 0;
    }
}

/* A handler whose only effects besides registers and flags are memory
 * accesses (the stack included), near jumps and raising an IRQ: it cannot
 * change segments, the privilege, IF/TF/AC or the TLB's contents other
 * than by filling it. */
static int handler_is_mem(const struct insn *i)
{
    if (i->cls != IC_NONE)
        return 0;
    unsigned o = i->opc;
    if ((o >= 0xD8 && o <= 0xDF) || o == 0x9B)
        return 1;   /* the x87 with memory operands (FERR# sets jit_attn itself) */
    if (i->has_modrm) {
        if (o == 0xFF)
            return i->reg != 3 && i->reg != 5;   /* not the far CALL/JMP */
        return (o < 0x40 && (o & 7) < 6) || o == 0x69 || o == 0x6B || (o >= 0x80 && o <= 0x8B) ||
               o == 0x8D || o == 0x8F || o == 0xC0 || o == 0xC1 || o == 0xC6 || o == 0xC7 ||
               (o >= 0xD0 && o <= 0xD3) || o == 0xF6 || o == 0xF7 || o == 0xFE ||
               (o >= 0x140 && o <= 0x14F) || (o >= 0x190 && o <= 0x19F) || o == 0x1A3 || o == 0x1A4 ||
               o == 0x1A5 || o == 0x1AB || o == 0x1AC || o == 0x1AD || o == 0x1AF || o == 0x1B0 ||
               o == 0x1B1 || o == 0x1B3 || o == 0x1B6 || o == 0x1B7 || o == 0x1BA || o == 0x1BB ||
               o == 0x1BC || o == 0x1BD || o == 0x1BE || o == 0x1BF || o == 0x1C0 || o == 0x1C1;
    }
    return (o >= 0x50 && o <= 0x61) || o == 0x68 || o == 0x6A || (o >= 0x70 && o <= 0x7F) || o == 0x9C ||
           (o >= 0xA0 && o <= 0xA7) || (o >= 0xAA && o <= 0xAF) || o == 0xC2 || o == 0xC3 || o == 0xC8 ||
           o == 0xC9 || o == 0xD7 || (o >= 0xE0 && o <= 0xE3) || o == 0xE8 || o == 0xE9 || o == 0xEB ||
           (o >= 0x180 && o <= 0x18F);
}


/* After C code that may have changed what chaining depends on (after
 * instruction k, not the block's last): leaves the block when it was
 * compiled for flat segments and they are no longer. */
static void sync_after_call(struct em *e, uint32_t k)
{
    rr_op(e, 1, 0x8B, RDI, RBX);
    call_abs(e, (const void *)jit_sync);
    if (e->flat) {
        mem_op(e, 0, 0, 0x80, 7, RBX, -1, 0, CPU(jit_flat)); b1(e, 0);   /* cmp byte [flat], 0 */
        uint8_t *ok = jcc32(e, CC_NE);
        exit_after(e, k);
        patch(e, ok, e->p);
    }
}

/* jit_sync_mem(), called only when something it looks at may have moved:
 * a block died, the MMU epoch or the memory map changed, or an event
 * (INTR, NMI, exit request) is up. Clobbers rax, rcx and the caller-saved
 * registers when it calls. */
static void sync_after_mem_call(struct em *e)
{
    uint8_t *go[6];
    int n = 0;
    mem_op(e, 0, 0, 0x8B, RAX, R12, -1, 0, BC(kill_gen));
    mem_op(e, 0, 0, 0x3B, RAX, RBX, -1, 0, CPU(jit_keys.kill));
    go[n++] = jcc32(e, CC_NE);
    ld(e, RAX, CPU(mmu.epoch));
    mem_op(e, 0, 0, 0x3B, RAX, RBX, -1, 0, CPU(jit_keys.epoch));
    go[n++] = jcc32(e, CC_NE);
    ld(e, RAX, CPU(intr_line));
    mem_op(e, 0, 0, 0x0B, RAX, RBX, -1, 0, CPU(exit_request));
    mem_op(e, 0, 0, 0x0A, RAX, RBX, -1, 0, CPU(nmi_pending));   /* or al, byte */
    go[n++] = jcc32(e, CC_NE);
    mem_op(e, 1, 0, 0x8B, RCX, RBX, -1, 0, CPU(mmu.pm));
    mem_op(e, 0, 0, 0x8B, RAX, RCX, -1, 0, (int32_t)offsetof(struct physmem, generation));
    mem_op(e, 0, 0, 0x3B, RAX, RBX, -1, 0, CPU(mmu.pm_generation));
    go[n++] = jcc32(e, CC_NE);
    mem_op(e, 0, 0, 0x8B, RAX, RCX, -1, 0, (int32_t)offsetof(struct physmem, code_generation));
    mem_op(e, 0, 0, 0x3B, RAX, RBX, -1, 0, CPU(mmu.code_generation));
    go[n++] = jcc32(e, CC_NE);
    uint8_t *skip = jmp32(e);
    for (int k = 0; k < n; k++)
        patch(e, go[k], e->p);
    rr_op(e, 1, 0x8B, RDI, RBX);
    call_abs(e, (const void *)jit_sync_mem);
    patch(e, skip, e->p);
}

/* The interpreter's step for instruction k, in line. */
static void call_handler(struct em *e, uint32_t k)
{
    const struct insn *i = &e->insns[k];
    flush_tlb(e);
    set_fault_state(e, k);
    sti(e, CPU(eip), eip_after(e, k));
    rr_op(e, 1, 0x8B, RDI, RBX);                 /* mov rdi, rbx */
    movi64(e, RSI, (uint64_t)(uintptr_t)i);
    call_abs(e, (const void *)i->fn);
    if (handler_is_pure(i))
        return;
    if (handler_is_mem(i)) {
        if (k + 1 < e->b->n)
            check_dirty(e, k);
        sync_after_mem_call(e);
        return;
    }
    if (k + 1 < e->b->n)
        check_dirty(e, k);
    load_tlb_base(e);   /* the privilege may have changed, also for the blocks chained next */
    sync_after_call(e, k);
}

/* ---- memory operands ---- */

/* r15d = the effective address (32-bit addressing). */
static void emit_ea(struct em *e, const struct insn *i)
{
    if (i->base != NOREG && i->index != NOREG) {   /* lea r15d, [base + index << scale + disp] */
        ld(e, R15, GREG(i->base));
        ld(e, RAX, GREG(i->index));
        mem_op(e, 0, 0, 0x8D, R15, R15, RAX, i->scale, (int32_t)i->disp);
        return;
    }
    if (i->base != NOREG && i->disp) {             /* lea r15d, [base + disp] */
        ld(e, R15, GREG(i->base));
        mem_op(e, 0, 0, 0x8D, R15, R15, -1, 0, (int32_t)i->disp);
        return;
    }
    movi(e, R15, i->disp);
    if (i->base != NOREG)
        mem_op(e, 0, 0, 0x03, R15, RBX, -1, 0, GREG(i->base));   /* add r15d, [reg] */
    if (i->index != NOREG) {
        ld(e, RAX, GREG(i->index));
        if (i->scale) {
            rr_op(e, 0, 0xC1, 4, RAX);                            /* shl eax, scale */
            b1(e, i->scale);
        }
        rr_op(e, 0, 0x01, RAX, R15);                              /* add r15d, eax */
    }
}

/* The fast path of cpu/exec.h mem_fast() for seg:r15d: leaves the host
 * address in rax, or jumps to a stub of `kind`. Clobbers eax, ecx, edx. */
static void emit_fast(struct em *e, uint32_t k, int seg, int size, int access, int kind)
{
    if (e->flat && (seg == S_DS || seg == S_ES || seg == S_SS)) {   /* base 0, no limit to check */
        rr_op(e, 0, 0x8B, RAX, R15);                                /* mov eax, r15d */
        add_stub(e, kind, k, NULL, seg, size);                      /* (the TLB miss jumps to it) */
    } else {
        mem_op(e, 1, 0, 0x8D, RAX, R15, -1, 0, size - 1);           /* lea rax, [r15 + size - 1] */
        mem_op(e, 1, 0, 0x3B, RAX, RBX, -1, 0, CPU(jit_fastlim) + 8 * seg);  /* cmp rax, [fastlim] */
        add_stub(e, kind, k, jcc32(e, CC_G), seg, size);            /* signed: -1 = never */
        rr_op(e, 0, 0x8B, RAX, R15);                                /* mov eax, r15d */
        mem_op(e, 0, 0, 0x03, RAX, RBX, -1, 0, SEG_F(seg, base));   /* add eax, [base] */
    }
    _Static_assert(sizeof(struct tlb_entry) == 16, "the index below scales by 16");
    rr_op(e, 0, 0x8B, RCX, RAX);                                    /* mov ecx, eax */
    rr_op(e, 0, 0xC1, 5, RCX); b1(e, 8);                            /* shr ecx, 8 */
    rr_op(e, 0, 0x81, 4, RCX); b4(e, (TLB_SIZE - 1) << 4);          /* and ecx, (TLB_SIZE - 1) << 4 */
    /* the page of the access's last byte against the tag of its first:
     * one compare also sends page-crossing accesses (misaligned ones are
     * fine otherwise: jit_sync rules out #AC) to the slow path */
    mem_op(e, 0, 0, 0x8D, RDX, RAX, -1, 0, size - 1);               /* lea edx, [rax + size - 1] */
    rr_op(e, 0, 0x81, 4, RDX); b4(e, 0xFFFFF000u);                  /* and edx, ~0xFFF */
    int32_t slot = access * (int32_t)(TLB_SIZE * sizeof(struct tlb_entry));
    mem_op(e, 0, 0, 0x3B, RDX, R14, RCX, 0, slot + (int32_t)offsetof(struct tlb_entry, tag));
    add_to_stub(e, jcc32(e, CC_NE));
    if (kind == ST_X87 || e->tlb_per_access || e->tlb_here)
        rr_op(e, 1, 0xFF, 0, R13);                                  /* inc r13: a TLB hit */
    else
        e->tlb_n++;
    b1(e, 0x25); b4(e, 0xFFF);                                      /* and eax, 0xFFF */
    mem_op(e, 1, 0, 0x03, RAX, R14, RCX, 0, slot + (int32_t)offsetof(struct tlb_entry, host));
}

/* eax = the zero-extended value at seg:r15d */
static void emit_read(struct em *e, uint32_t k, int seg, int size)
{
    int from = e->nstubs;
    emit_fast(e, k, seg, size, MMU_READ, ST_READ);
    if (size == 4)
        mem_op(e, 0, 0, 0x8B, RAX, RAX, -1, 0, 0);
    else
        mem_op(e, 0, 0, size == 2 ? 0xB70F : 0xB60F, RAX, RAX, -1, 0, 0);
    rejoin_here(e, from);
}

/* stores edi at seg:r15d */
/* The store of a loaded value (eax) into a guest register field: size 4,
 * 2 or 1 bytes at [rbx + disp]. */
static void store_tail(struct em *e, int size, int32_t disp)
{
    if (size == 2)
        b1(e, 0x66);
    mem_op(e, 0, 0, size == 1 ? 0x88 : 0x89, RAX, RBX, -1, 0, disp);
}

/* A whole load into a register (MOV, MOVZX): the read, then the store of
 * `store` bytes to [rbx + disp]. A slow read's stub checks what
 * emit_mem_done() would and finishes the instruction itself when it must
 * leave, so the fast path has no check. */
static void set_tail(struct em *e, int from, int kind, int tail, int32_t disp)
{
    for (int s = from; s < e->nstubs; s++)
        if (e->stubs[s].kind == kind) {
            e->stubs[s].tail = (uint8_t)tail;
            e->stubs[s].tail_disp = disp;
        }
}

static void emit_load(struct em *e, uint32_t k, int seg, int size, int store, int32_t disp)
{
    int from = e->nstubs;
    emit_read(e, k, seg, size);
    set_tail(e, from, ST_READ, store, disp);
    store_tail(e, store, disp);
}

static void emit_write(struct em *e, uint32_t k, int seg, int size)
{
    int from = e->nstubs;
    emit_fast(e, k, seg, size, MMU_WRITE, ST_WRITE);
    if (size == 2)
        b1(e, 0x66);
    mem_op(e, 0, size == 1, size == 1 ? 0x88 : 0x89, RDI, RAX, -1, 0, 0);
    rejoin_here(e, from);
}

/* After an instruction with memory operands: if a slow path ran, the
 * page-written/exit check. */
static void emit_mem_done(struct em *e, uint32_t k)
{
    if (k + 1 == e->b->n)
        return;   /* the loop checks between blocks */
    if (e->host && e->want_host) {   /* the host flags are the guest's: keep them */
        mem_op(e, 0, 0, 0xB60F, RCX, RSP, -1, 0, 0);     /* movzx ecx, byte [rsp] */
        b1(e, 0xE3); b1(e, 5);                           /* jrcxz over the jmp */
        add_stub(e, ST_CHECK_KEEP, k, jmp32(e), 0, 0);
    } else {
        mem_op(e, 0, 0, 0x80, 7, RSP, -1, 0, 0); b1(e, 0);   /* cmp byte [rsp], 0 */
        add_stub(e, ST_CHECK, k, jcc32(e, CC_NE), 0, 0);
    }
    rejoin_here(e, e->nstubs - 1);
}

/* ---- lazy flags ---- */

/* The lazy flags in registers: what an inline form sets goes to r8d
 * (op1), r9d (op2) and r10d (res), its kind known at compile time
 * (lfr_kind), and reaches struct cpu (lf_spill) only before something
 * else could see it: an instruction not lf_aware(), a condition or CF
 * the registers do not give, a block exit. INC/DEC after a kind whose CF
 * is known in line keep that CF in r11d (lfr_cf) rather than in EFLAGS.
 * A stub stores them before its calls and loads them again before it
 * comes back. Inside an x87 run (whose stub redoes the run through the
 * handlers) they stay in struct cpu. A block starts with them in struct
 * cpu. Stores are left out altogether when the flags are dead. */
enum { LF_R_OP1 = R8, LF_R_OP2 = R9, LF_R_RES = R10, LF_R_CF = R11 };

static int lf_reg(int32_t d)
{
    return d == CPU(lf_op1) ? LF_R_OP1 : d == CPU(lf_op2) ? LF_R_OP2 : LF_R_RES;
}

/* CF from r11d into EFLAGS (clobbers the host's flags) */
static void lf_fold_cf(struct em *e)
{
    if (!e->lfr || !e->lfr_cf)
        return;
    e->lfr_cf = 0;
    mem_op(e, 0, 0, 0x81, 4, RBX, -1, 0, CPU(eflags)); b4(e, ~FL_CF);   /* and [eflags], ~CF */
    mem_op(e, 0, 0, 0x09, LF_R_CF, RBX, -1, 0, CPU(eflags));           /* or [eflags], r11d */
}

/* The registers to struct cpu; shared: the field stores through the
 * shared routine (stubs: less code) */
static void lf_store(struct em *e, int shared)
{
    if (!e->lfr)
        return;
    lf_fold_cf(e);
    e->lfr = 0;
    sti(e, CPU(lf_op), (uint32_t)e->lfr_kind);
    if (shared) {
        call_rel(e, e->lf_save);
        return;
    }
    st(e, CPU(lf_op1), LF_R_OP1);
    st(e, CPU(lf_op2), LF_R_OP2);
    st(e, CPU(lf_res), LF_R_RES);
}

static void lf_spill(struct em *e) { lf_store(e, 0); }

/* call rel32 */
static void call_rel(struct em *e, const uint8_t *target)
{
    b1(e, 0xE8);
    uint8_t *rel = e->p;
    b4(e, 0);
    patch(e, rel, target);
}

/* a stub on its way back (its calls lost the registers); cf: r11d too
 * (clobbers the host's flags) */
static void lf_reload(struct em *e, int cf)
{
    call_rel(e, e->lf_load);
    if (cf) {
        ld(e, LF_R_CF, CPU(eflags));
        rr_op(e, 0, 0x83, 4, LF_R_CF); b1(e, FL_CF);                   /* and r11d, CF */
    }
}

static int x87_in_run(const struct em *e, uint32_t k);

/* A form starts setting all of the lazy flags (after it has read the old
 * ones). When they are dead nothing is stored anywhere. */
static void lf_begin(struct em *e)
{
    e->lfr_cf = 0;
    if (e->flags_dead)
        e->lfr = 0;   /* (nothing can look before the next full set) */
    else if (e->lf_off || x87_in_run(e, e->k))
        lf_spill(e);
    else
        e->lfr = 1;
}

/* field d of the lazy flags = register r, or = v; after lf_begin() */
static void lf_st(struct em *e, int32_t d, int r)
{
    if (e->flags_dead)
        return;
    if (e->lfr)
        rr_op(e, 0, 0x8B, lf_reg(d), r);
    else
        st(e, d, r);
}
static void lf_sti(struct em *e, int32_t d, uint32_t v)
{
    if (e->flags_dead)
        return;
    if (e->lfr && d == CPU(lf_op))
        e->lfr_kind = (int)v;
    else if (e->lfr)
        movi(e, lf_reg(d), v);
    else
        sti(e, d, v);
}

/* the x86 operation of ALU op 0-7 (ADD OR ADC SBB AND SUB XOR CMP), as
 * "op r/m32, r32"; CMP computes like SUB (the result only goes to lf_res) */
static const unsigned alu_host_op[8] = { 0x01, 0x09, 0, 0, 0x21, 0x29, 0x31, 0x29 };
static const int alu_kind[8] = { LF_ADD, LF_LOGIC, 0, 0, LF_LOGIC, LF_SUB, LF_LOGIC, LF_SUB };

/* The lazy flags of an ALU op: op1 in register a (copied there before
 * the operation: r8d or edx), op2 in ecx, the result in register r. */
static void alu_flags(struct em *e, int kind, int a, int r)
{
    if (!e->lfr)
        lf_st(e, CPU(lf_op1), a);
    lf_st(e, CPU(lf_op2), RCX);
    if (r != LF_R_RES)
        lf_st(e, CPU(lf_res), r);
    if (e->lfr || e->kind_in != kind)   /* in struct cpu it may be there already */
        lf_sti(e, CPU(lf_op), (uint32_t)kind);
    e->kind = e->flags_dead ? -1 : kind;
    e->host = 1;                        /* (moves: the host flags stay) */
}

/* eax = eax op ecx, the flags recorded */
static void alu_compute(struct em *e, int op)
{
    lf_begin(e);
    int a = e->lfr ? LF_R_OP1 : RDX;
    rr_op(e, 0, 0x8B, a, RAX);
    rr_op(e, 0, alu_host_op[op], RCX, RAX);      /* op eax, ecx */
    alu_flags(e, (int)((uint32_t)alu_kind[op] | 2u << 4), a, RAX);
}

/* The same for bytes: eax = a, ecx = b (zero-extended); the flags record
 * the byte result (lf_op size 0). Leaves the result in al. */
static void alu8_compute(struct em *e, int op)
{
    lf_begin(e);
    int a = e->lfr ? LF_R_OP1 : RDX, r = e->lfr ? LF_R_RES : RSI;
    rr_op(e, 0, 0x8B, a, RAX);
    rr_op(e, 0, alu_host_op[op] - 1, RCX, RAX);  /* op al, cl: the host flags are the byte's */
    rr_op(e, 0, 0xB60F, r, RAX);                 /* movzx r, al */
    alu_flags(e, alu_kind[op], a, r);
}

/* ---- the inline forms ---- */

enum form {
    FM_NONE, FM_MOV_RR, FM_MOV_RI, FM_MOV_RM, FM_MOV_MR, FM_MOV_MI, FM_MOV_R8M, FM_MOV_M8R,
    FM_MOVZX_RM8, FM_MOVZX_RM16, FM_MOVZX_RR16, FM_MOVZX_RR8, FM_MOV_R16M, FM_MOV_M16R, FM_LEA,
    FM_ALU_RR, FM_ALU_RI, FM_ALU_RM, FM_ALU_MR, FM_ALU_MI, FM_INCDEC, FM_SHIFT,
    FM_PUSH, FM_POP, FM_JCC, FM_JMP, FM_CALL, FM_RET, FM_JMP_EV, FM_CALL_EV, FM_ROT,
    FM_IMUL_RR, FM_IMUL_RM, FM_IMUL_RRI, FM_IMUL_RMI, FM_CMOV_RR, FM_CMOV_RM, FM_SETCC_R, FM_SETCC_M,
    FM_GRP3_NOT, FM_GRP3_NEG, FM_GRP3_MUL, FM_GRP3_IMUL, FM_GRP3_DIV, FM_ALU8_RR, FM_ALU8_RM, FM_ALU8_MR, FM_ALU8_RI, FM_ALU8_MI, FM_SHIFT_CL, FM_SHIFT_M, FM_SHIFT_CL_M, FM_PUSH_M, FM_INCDEC_M, FM_ADCSBB_RR, FM_ADCSBB_RI, FM_ADCSBB_RM, FM_MOV_EAX_MOFFS, FM_MOV_MOFFS_EAX,
    FM_MOV_M8I, FM_MOV_R8I, FM_MOV_R8R
};

/* Which inline form fits i, with its operands: a = destination register
 * (or the one read), b = source register, op = ALU op; FM_NONE: call the
 * handler. Only the forms cpu/ops_fast.c specialises (and MOV r32, imm)
 * are taken, so that the handler the interpreter would run is known. */
struct form_args { int a, b, op, store, cc; uint32_t imm; };

static int alu_op_ok(int op) { return op != 2 && op != 3; }

static enum form pick_form(const struct insn *i, struct form_args *f)
{
    if (i->addrsize != 4 || i->fn == op_ud || i->rep)
        return FM_NONE;
    int mem = i->has_modrm && i->mod != 3, op = (i->opc >> 3) & 7;
    f->imm = i->imm;
    f->store = 1;
    if (i->opc >= 0x190 && i->opc <= 0x19F) {
        f->a = i->rm;
        f->cc = i->opc & 0xF;
        return mem ? FM_SETCC_M : FM_SETCC_R;
    }
    if (i->opc < 0x40 && (i->opc & 7) <= 4 && !(i->opc & 1) && alu_op_ok(op)) {   /* byte ALU */
        f->op = op;
        f->store = op != 7;
        switch (i->opc & 7) {
        case 0: f->a = i->rm; f->b = i->reg; return mem ? FM_ALU8_MR : FM_ALU8_RR;     /* Eb,Gb */
        case 2: f->a = i->reg; f->b = i->rm; return mem ? FM_ALU8_RM : FM_ALU8_RR;     /* Gb,Eb */
        case 4: f->a = R_EAX; f->imm &= 0xFF; return FM_ALU8_RI;                       /* AL,Ib */
        default: return FM_NONE;
        }
    }
    if (i->opc == 0x80 && alu_op_ok(i->reg)) {
        f->op = i->reg;
        f->store = i->reg != 7;
        f->a = i->rm;
        f->imm &= 0xFF;
        return mem ? FM_ALU8_MI : FM_ALU8_RI;
    }
    if (i->opc == 0xF6 && i->reg <= 1) {      /* TEST Eb,Ib */
        f->op = 4;
        f->store = 0;
        f->a = i->rm;
        f->imm &= 0xFF;
        return mem ? FM_ALU8_MI : FM_ALU8_RI;
    }
    if (i->opc >= 0xB0 && i->opc <= 0xB7) {   /* MOV r8, imm8 */
        f->a = i->opc & 7;
        f->imm &= 0xFF;
        return FM_MOV_R8I;
    }
    if (i->opc == 0xC6 && i->reg == 0) {      /* MOV Eb, imm8 */
        f->a = i->rm;
        f->imm &= 0xFF;
        return mem ? FM_MOV_M8I : FM_MOV_R8I;
    }
    if ((i->opc == 0x88 || i->opc == 0x8A) && !mem) {   /* MOV r8, r8 */
        f->a = i->opc == 0x88 ? i->rm : i->reg;
        f->b = i->opc == 0x88 ? i->reg : i->rm;
        return FM_MOV_R8R;
    }
    if (i->opc == 0x84 || i->opc == 0xA8) {   /* TEST Eb,Gb / AL,Ib */
        f->op = 4;
        f->store = 0;
        f->a = i->opc == 0x84 ? i->rm : R_EAX;
        f->b = i->reg;
        f->imm &= 0xFF;
        return i->opc == 0xA8 ? FM_ALU8_RI : mem ? FM_ALU8_MR : FM_ALU8_RR;
    }
    if (i->opsize == 2) {
        switch (i->opc) {
        case 0x89: f->b = i->reg; return mem ? FM_MOV_M16R : FM_NONE;
        case 0x8B: f->a = i->reg; return mem ? FM_MOV_R16M : FM_NONE;
        default: return FM_NONE;
        }
    }
    if (i->opsize != 4)
        return FM_NONE;
    switch (i->opc) {
    case 0x01: case 0x09: case 0x21: case 0x29: case 0x31: case 0x39:
    case 0x85:
        f->op = i->opc == 0x85 ? 4 : op;
        f->store = i->opc != 0x39 && i->opc != 0x85;
        f->a = i->rm;
        f->b = i->reg;
        return mem ? FM_ALU_MR : FM_ALU_RR;
    case 0x03: case 0x0B: case 0x23: case 0x2B: case 0x33: case 0x3B:
        f->op = op;
        f->store = i->opc != 0x3B;
        f->a = i->reg;
        f->b = i->rm;
        return mem ? FM_ALU_RM : FM_ALU_RR;
    case 0x05: case 0x0D: case 0x25: case 0x2D: case 0x35: case 0x3D: case 0xA9:
        f->op = i->opc == 0xA9 ? 4 : op;
        f->store = i->opc != 0x3D && i->opc != 0xA9;
        f->a = R_EAX;
        return FM_ALU_RI;
    case 0x81: case 0x83:
        if (i->reg == 2 || i->reg == 3) {
            f->op = i->reg;
            f->a = i->rm;
            return mem ? FM_NONE : FM_ADCSBB_RI;
        }
        if (!alu_op_ok(i->reg))
            return FM_NONE;
        f->op = i->reg;
        f->store = i->reg != 7;
        f->a = i->rm;
        return mem ? FM_ALU_MI : FM_ALU_RI;
    case 0x88: f->b = i->reg; return mem ? FM_MOV_M8R : FM_NONE;
    case 0x89: f->a = i->rm; f->b = i->reg; return mem ? FM_MOV_MR : FM_MOV_RR;
    case 0x8A: f->a = i->reg; return mem ? FM_MOV_R8M : FM_NONE;
    case 0x8B: f->a = i->reg; f->b = i->rm; return mem ? FM_MOV_RM : FM_MOV_RR;
    case 0x8D: f->a = i->reg; return mem ? FM_LEA : FM_NONE;
    case 0xC7: return mem && i->reg == 0 ? FM_MOV_MI : FM_NONE;
    case 0xB8: case 0xB9: case 0xBA: case 0xBB: case 0xBC: case 0xBD: case 0xBE: case 0xBF:
        f->a = i->opc & 7;
        return FM_MOV_RI;
    case 0x1AF: f->a = i->reg; f->b = i->rm; return mem ? FM_IMUL_RM : FM_IMUL_RR;
    case 0x69: case 0x6B: f->a = i->reg; f->b = i->rm; return mem ? FM_IMUL_RMI : FM_IMUL_RRI;
    case 0x140: case 0x141: case 0x142: case 0x143: case 0x144: case 0x145: case 0x146: case 0x147:
    case 0x148: case 0x149: case 0x14A: case 0x14B: case 0x14C: case 0x14D: case 0x14E: case 0x14F:
        f->a = i->reg; f->b = i->rm; f->cc = i->opc & 0xF;
        return mem ? FM_CMOV_RM : FM_CMOV_RR;
    case 0x11: case 0x19: f->op = op; f->a = i->rm; f->b = i->reg; return mem ? FM_NONE : FM_ADCSBB_RR;
    case 0x13: case 0x1B: f->op = op; f->a = i->reg; f->b = i->rm; return mem ? FM_ADCSBB_RM : FM_ADCSBB_RR;
    case 0x15: case 0x1D: f->op = op; f->a = R_EAX; return FM_ADCSBB_RI;
    case 0xF7:
        f->a = i->rm;
        if (mem) {
            if (i->reg > 1)
                return FM_NONE;
            f->op = 4;                                   /* TEST m32, imm32 */
            f->store = 0;
            return FM_ALU_MI;
        }
        switch (i->reg) {
        case 0: case 1: f->op = 4; f->store = 0; return FM_ALU_RI;   /* TEST r32, imm32 */
        case 2: return FM_GRP3_NOT;
        case 3: return FM_GRP3_NEG;
        case 4: return FM_GRP3_MUL;
        case 5: return FM_GRP3_IMUL;
        case 6: return FM_GRP3_DIV;
        default: return FM_NONE;
        }
    case 0xA1: return FM_MOV_EAX_MOFFS;
    case 0xA3: return FM_MOV_MOFFS_EAX;
    case 0x1B6: f->a = i->reg; f->b = i->rm; return mem ? FM_MOVZX_RM8 : FM_MOVZX_RR8;
    case 0x1B7: f->a = i->reg; f->b = i->rm; return mem ? FM_MOVZX_RM16 : FM_MOVZX_RR16;
    case 0xD3:
        if (i->reg < 4)
            return FM_NONE;
        f->a = i->rm;
        f->op = i->reg;
        return mem ? FM_SHIFT_CL_M : FM_SHIFT_CL;
    case 0xC1: case 0xD1:
        if (!mem && i->reg <= 1) {   /* ROL/ROR: only where the flags are dead (emit_inline) */
            f->a = i->rm;
            f->op = i->reg;
            f->imm = i->opc == 0xD1 ? 1 : i->imm & 0x1F;
            return FM_ROT;
        }
        if (i->reg < 4 || i->reg == 6)
            return FM_NONE;
        f->a = i->rm;
        f->op = i->reg;
        f->imm = i->opc == 0xD1 ? 1 : i->imm & 0x1F;
        return mem ? FM_SHIFT_M : FM_SHIFT;
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
    case 0x48: case 0x49: case 0x4A: case 0x4B: case 0x4C: case 0x4D: case 0x4E: case 0x4F:
        f->a = i->opc & 7;
        f->op = (i->opc & 8) != 0;
        return FM_INCDEC;
    case 0xFF:
        f->a = i->rm;
        if (i->reg == 4)
            return FM_JMP_EV;
        if (i->reg == 2)
            return mem ? FM_NONE : FM_CALL_EV;
        if (i->reg == 6) {
            f->b = i->rm;
            return mem ? FM_PUSH_M : FM_PUSH;
        }
        if (i->reg > 1)
            return FM_NONE;
        f->op = i->reg;
        return mem ? FM_INCDEC_M : FM_INCDEC;
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
        f->b = i->opc & 7;
        return FM_PUSH;
    case 0x68: case 0x6A:
        f->b = -1;
        return FM_PUSH;
    case 0x58: case 0x59: case 0x5A: case 0x5B: case 0x5C: case 0x5D: case 0x5E: case 0x5F:
        f->a = i->opc & 7;
        return FM_POP;
    case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
    case 0x78: case 0x79: case 0x7A: case 0x7B: case 0x7C: case 0x7D: case 0x7E: case 0x7F:
    case 0x180: case 0x181: case 0x182: case 0x183: case 0x184: case 0x185: case 0x186: case 0x187:
    case 0x188: case 0x189: case 0x18A: case 0x18B: case 0x18C: case 0x18D: case 0x18E: case 0x18F:
        f->cc = i->opc & 0xF;
        return FM_JCC;
    case 0xE9: case 0xEB: return FM_JMP;
    case 0xE8: return FM_CALL;
    case 0xC3: return FM_RET;
    default:
        return FM_NONE;
    }
}

/* The forms that set EIP: only as a block's last instruction. */
static int form_ends_block(enum form fm)
{
    return fm == FM_JCC || fm == FM_JMP || fm == FM_CALL || fm == FM_RET || fm == FM_JMP_EV || fm == FM_CALL_EV;
}

/* The 8-bit register r (AL..BH) as a byte in struct cpu. */
static int32_t reg8(int r) { return GREG(r & 3) + (r >= 4); }

/* Guard: the stack is 32-bit (SS.B), else the handler runs. */
static void guard_stack32(struct em *e, uint32_t k)
{
    if (e->flat)
        return;   /* jit_flat includes SS.B */
    mem_op(e, 0, 0, 0xF7, 0, RBX, -1, 0, SEG_F(S_SS, flags));   /* test dword [ss.flags], DB */
    b4(e, SEGF_DB);
    add_stub(e, ST_HANDLER, k, jcc32(e, CC_E), 0, 0);
}

/* CALL's checks and push, the target in eax: past the CS limit the
 * handler runs (#GP before anything is pushed), else the return address is
 * written below ESP; r15 = the new ESP, stored by the caller. */
static void emit_call_push(struct em *e, uint32_t k)
{
    mem_op(e, 0, 0, 0x3B, RAX, RBX, -1, 0, SEG_F(S_CS, limit));
    add_stub(e, ST_HANDLER, k, jcc32(e, CC_A), 0, 0);
    ld(e, R15, GREG(R_ESP));
    rr_op(e, 0, 0x83, 5, R15); b1(e, 4);
    movi(e, RDI, e->eip[k + 1]);
    emit_write(e, k, S_SS, 4);
}

/* The end of a block: EIP = target (eax) after the CS limit check, which
 * leaves #GP to the handler. */
static void jump_to_eax(struct em *e, uint32_t k)
{
    mem_op(e, 0, 0, 0x3B, RAX, RBX, -1, 0, SEG_F(S_CS, limit));   /* cmp eax, [cs.limit] */
    add_stub(e, ST_HANDLER, k, jcc32(e, CC_A), 0, 0);
    st(e, CPU(eip), RAX);
    e->eip_in_eax = 1;
}

static void chain_exit(struct em *e, uint32_t k, int64_t target);

/* A JMP inside the block (its target is the next instruction): only the
 * CS limit check, #GP through the handler; the lazy flags stay. */
static void emit_followed_jmp(struct em *e, uint32_t k)
{
    mem_op(e, 0, 0, 0x81, 7, RBX, -1, 0, SEG_F(S_CS, limit)); b4(e, e->eip[k + 1]);   /* cmp [cs.limit], target */
    add_stub(e, ST_HANDLER, k, jcc32(e, CC_B), 0, 0);
    if (e->nstubs)
        e->stubs[e->nstubs - 1].leave = 1;   /* the handler raises #GP: it never comes back */
    e->kind = e->kind_in;
}

/* al = guest condition cc (0/1), from the lazy flags: the host's own
 * flags after redoing a 32-bit CMP/SUB, logic op or ADD, or after loading
 * EFLAGS when nothing is pending; ZF/SF of any 32-bit result; else
 * cpu_cond(). Clobbers rax, rcx, rdx (and the caller-saved registers on the
 * cpu_cond path). */
static void setcc_al(struct em *e, int cc)
{
    b1(e, 0x0F); b1(e, 0x90 + (unsigned)cc); b1(e, 0xC0);
}

/* The lazy kinds redone on the host: ecx = field a, then op ecx/cl with
 * [b] (or with itself for the tests); the host's flags are then the guest's. */
static const struct { uint32_t kind; int32_t a, b; unsigned op; } redo[] = {
    { LF_SUB | 2u << 4, CPU(lf_op1), CPU(lf_op2), 0x3B },  /* cmp ecx, [op2] */
    { LF_LOGIC | 2u << 4, CPU(lf_res), 0, 0x85 },          /* test ecx, ecx: CF = OF = 0 */
    { LF_ADD | 2u << 4, CPU(lf_op1), CPU(lf_op2), 0x03 },  /* add ecx, [op2] */
    { LF_SUB, CPU(lf_op1), CPU(lf_op2), 0x3A },            /* cmp cl, [op2] */
    { LF_LOGIC, CPU(lf_res), 0, 0x84 },                    /* test cl, cl */
};

static void emit_redo(struct em *e, unsigned k)
{
    if (e->lfr)
        rr_op(e, 0, 0x8B, RCX, lf_reg(redo[k].a));
    else
        ld(e, RCX, redo[k].a);
    if (redo[k].op == 0x85 || redo[k].op == 0x84)
        rr_op(e, 0, redo[k].op, RCX, RCX);
    else if (e->lfr)
        rr_op(e, 0, redo[k].op, RCX, lf_reg(redo[k].b));
    else
        mem_op(e, 0, 0, redo[k].op, RCX, RBX, -1, 0, redo[k].b);
}

/* ZF and SF of any 32-bit result: test ecx, ecx on lf_res. */
static void emit_zs32(struct em *e)
{
    if (e->lfr)
        rr_op(e, 0, 0x8B, RCX, LF_R_RES);
    else
        ld(e, RCX, CPU(lf_res));
    rr_op(e, 0, 0x85, RCX, RCX);
}

/* The lazy kind known here: in the registers, or stored earlier in the block (-1: not known) */
static int lf_known(const struct em *e)
{
    return e->lfr ? e->lfr_kind : e->kind_in;
}

static void emit_cond(struct em *e, int cc)
{
    uint8_t *done[8];
    int nd = 0;
    lf_spill(e);   /* the kind is asked at run time */
    ld(e, RAX, CPU(lf_op));
    for (unsigned k = 0; k < sizeof(redo) / sizeof(redo[0]); k++) {
        b1(e, 0x3D); b4(e, redo[k].kind);                     /* cmp eax, kind */
        uint8_t *next = jcc32(e, CC_NE);
        emit_redo(e, k);
        setcc_al(e, cc);
        done[nd++] = jmp32(e);
        patch(e, next, e->p);
    }
    if (cc >> 1 == 2 || cc >> 1 == 4) {                       /* ZF, SF of any 32-bit result */
        rr_op(e, 0, 0x8B, RDX, RAX);
        rr_op(e, 0, 0xC1, 5, RDX); b1(e, 4);                  /* shr edx, 4 */
        rr_op(e, 0, 0x83, 7, RDX); b1(e, 2);                  /* cmp edx, 2 */
        uint8_t *next = jcc32(e, CC_NE);
        emit_zs32(e);
        setcc_al(e, cc);
        done[nd++] = jmp32(e);
        patch(e, next, e->p);
    }
    rr_op(e, 0, 0x85, RAX, RAX);                              /* LF_NONE: EFLAGS as they are */
    uint8_t *next = jcc32(e, CC_NE);
    ld(e, RCX, CPU(eflags));
    rr_op(e, 0, 0x81, 4, RCX); b4(e, FL_ARITH);               /* only CF PF AF ZF SF OF reach the host */
    b1(e, 0x51);                                              /* push rcx */
    b1(e, 0x9D);                                              /* popfq */
    setcc_al(e, cc);
    done[nd++] = jmp32(e);
    patch(e, next, e->p);
    rr_op(e, 1, 0x8B, RDI, RBX);
    movi(e, RSI, (uint32_t)cc);
    call_abs(e, (const void *)cpu_cond);
    rr_op(e, 0, 0x85, RAX, RAX);
    setcc_al(e, CC_NE);                                       /* setne al */
    for (int d = 0; d < nd; d++)
        patch(e, done[d], e->p);
}

/* The host's flags hold guest condition cc without asking the lazy kind
 * at run time: the previous instruction left them (host_ok: nothing was
 * emitted since), or the kind stored earlier in the block is known and is
 * one emit_cond redoes. 0: emit_cond() is needed. Clobbers rcx. */
static int cond_flags(struct em *e, int cc, int host_ok)
{
    if (host_ok && e->host_in)
        return 1;
    int known = lf_known(e);
    if (known < 0)
        return 0;
    for (unsigned k = 0; k < sizeof(redo) / sizeof(redo[0]); k++)
        if ((uint32_t)known == redo[k].kind) {
            emit_redo(e, k);
            return 1;
        }
    if (known >> 4 == 2 && (cc >> 1 == 2 || cc >> 1 == 4)) {
        emit_zs32(e);
        return 1;
    }
    return 0;
}

/* al = guest condition cc (0/1); host_ok as for cond_flags(). */
static void cond_al(struct em *e, int cc, int host_ok)
{
    if (cond_flags(e, cc, host_ok))
        setcc_al(e, cc);
    else
        emit_cond(e, cc);
}

/* CF of the pending operation (ADC/SBB carry in). */
static uint32_t jit_cf(struct cpu *c) { return (uint32_t)flags_cf_quick(c); }

/* eax = a (ADC/SBB with carry in cin in ebp), ecx = b: the operation and
 * its lazy flags; the result is left in eax. */
static void emit_adcsbb(struct em *e, int sbb)
{
    rr_op(e, 0, 0x8B, RDX, RAX);                 /* edx = a */
    b1(e, 0x0F); b1(e, 0xBA); b1(e, 0xE5); b1(e, 0);   /* bt ebp, 0: CF = cin */
    rr_op(e, 0, sbb ? 0x19 : 0x11, RCX, RAX);    /* adc/sbb eax, ecx */
    st(e, CPU(lf_op1), RDX);
    st(e, CPU(lf_op2), RCX);
    st(e, CPU(lf_res), RAX);
    mem_op(e, 0, 0, 0x8D, RDX, RBP, -1, 0, (int32_t)((sbb ? LF_SUB : LF_ADD) | 2u << 4));  /* lea edx, [rbp + kind] */
    st(e, CPU(lf_op), RDX);                      /* cin: LF_ADC = LF_ADD + 1, LF_SBB = LF_SUB + 1 */
}

/* dst = 1 when lazy-flag field a cc field b (unsigned, in their low
 * `size` bytes: 0 byte, 1 word, 2 dword), else 0; clobbers ecx */
static void cf_compare(struct em *e, int dst, int32_t a, int32_t b, int cc, int size)
{
    unsigned op = size ? 0x3B : 0x3A;                        /* cmp ecx/cx/cl, b (the low bytes) */
    if (e->lfr)
        rr_op(e, 0, 0x8B, RCX, lf_reg(a));
    else
        ld(e, RCX, a);
    if (size == 1)
        b1(e, 0x66);
    if (e->lfr)
        rr_op(e, 0, op, RCX, lf_reg(b));
    else
        mem_op(e, 0, 0, op, RCX, RBX, -1, 0, b);
    b1(e, 0x0F); b1(e, 0x90 + (unsigned)cc); b1(e, 0xC1);    /* setcc cl */
    rr_op(e, 0, 0xB60F, dst, RCX);                           /* movzx dst, cl */
}

/* Whether emit_cf_to() finds the CF of known kind `kind` in line */
static int cf_in_line(int kind)
{
    unsigned k = (unsigned)kind & 0xF;
    return kind >= 0 &&
           (k == LF_LOGIC || ((k == LF_ADD || k == LF_ADC || k == LF_SUB || k == LF_SBB) && kind >> 4 <= 2));
}

/* dst (a register calls keep: ebp or r15) = CF of the pending
 * operation, 0 or 1: in line for the 32-bit ADD, ADC, SUB, SBB and logic
 * kinds (as flags_cf_quick), and for those of any size when the kind is
 * known here (compared in their size: the fields' upper bits may be
 * anything, as in flags.c); else from C. */
static void emit_cf_to(struct em *e, int dst)
{
    static const struct { uint32_t kind; int32_t a, b; int cc; } k32[] = {
        { LF_ADD, CPU(lf_res), CPU(lf_op1), CC_B },    /* res < op1 */
        { LF_ADC, CPU(lf_res), CPU(lf_op1), CC_BE },   /* res <= op1 */
        { LF_SUB, CPU(lf_op1), CPU(lf_op2), CC_B },    /* op1 < op2 */
        { LF_SBB, CPU(lf_op1), CPU(lf_op2), CC_BE },   /* op1 <= op2 */
    };
    /* a kind known here: just its case */
    int known = lf_known(e);
    if (cf_in_line(known) && (known & 0xF) == LF_LOGIC) {
        rr_op(e, 0, 0x33, dst, dst);                         /* CF = 0 */
        return;
    }
    if (known >= 0 && ((known & 0xF) == LF_INC || (known & 0xF) == LF_DEC)) {
        lf_fold_cf(e);                                       /* CF as it is in EFLAGS */
        ld(e, dst, CPU(eflags));
        rr_op(e, 0, 0x83, 4, dst); b1(e, FL_CF);
        return;
    }
    for (unsigned k = 0; k < 4; k++)
        if (cf_in_line(known) && (uint32_t)(known & 0xF) == k32[k].kind) {
            cf_compare(e, dst, k32[k].a, k32[k].b, k32[k].cc, known >> 4);
            return;
        }
    lf_spill(e);   /* the kind is asked at run time */
    uint8_t *done[5];
    int nd = 0;
    ld(e, RAX, CPU(lf_op));
    for (unsigned k = 0; k < 4; k++) {
        b1(e, 0x3D); b4(e, k32[k].kind | 2u << 4);          /* cmp eax, kind */
        uint8_t *next = jcc32(e, CC_NE);
        cf_compare(e, dst, k32[k].a, k32[k].b, k32[k].cc, 2);
        done[nd++] = jmp32(e);
        patch(e, next, e->p);
    }
    b1(e, 0x3D); b4(e, LF_LOGIC | 2u << 4);
    uint8_t *not_logic = jcc32(e, CC_NE);
    rr_op(e, 0, 0x33, dst, dst);                             /* CF = 0 */
    done[nd++] = jmp32(e);
    patch(e, not_logic, e->p);
    rr_op(e, 1, 0x8B, RDI, RBX);
    call_abs(e, (const void *)jit_cf);
    rr_op(e, 0, 0x8B, dst, RAX);
    for (int d = 0; d < nd; d++)
        patch(e, done[d], e->p);
}

/* The lazy kind of SHL/SHR/SAL/SAR by ModRM.reg (SAL is SHL). */
static const int shift_kinds[8] = { 0, 0, 0, 0, LF_SHL, LF_SHR, LF_SHL, LF_SAR };

/* imul of eax by ecx: lazy flags as the interpreter's imul32 */
static void emit_imul(struct em *e, int dst)
{
    lf_begin(e);
    rr_op(e, 0, 0xAF0F, RAX, RCX);               /* imul eax, ecx */
    if (!e->flags_dead) {
        b1(e, 0x0F); b1(e, 0x90); b1(e, 0xC1);   /* seto cl */
        rr_op(e, 0, 0xB60F, RCX, RCX);           /* movzx ecx, cl */
    }
    st(e, GREG(dst), RAX);
    lf_st(e, CPU(lf_res), RAX);
    lf_sti(e, CPU(lf_op1), 0);
    lf_st(e, CPU(lf_op2), RCX);
    lf_sti(e, CPU(lf_op), LF_MUL | 2u << 4);
}

static void x87_flush(struct em *e, unsigned top, int32_t k);
static int x87_in_run(const struct em *e, uint32_t k);

static void emit_jcc(struct em *e, uint32_t k, int cc)
{
    uint32_t target = e->eip[k + 1] + e->insns[k].imm;
    uint8_t *taken;
    if (k + 1 < e->b->n) {   /* inside a superblock (cpu/block.c): on when not taken */
        uint8_t *stay;
        int host = cond_flags(e, cc, 1);
        if (host) {
            stay = jcc32(e, cc ^ 1);
        } else {
            emit_cond(e, cc);
            b1(e, 0x84); b1(e, 0xC0);            /* test al, al */
            stay = jcc32(e, CC_E);
        }
        if (x87_in_run(e, k))                  /* leaving an x87 run: FSW, FIP first */
            x87_flush(e, e->x87_top, e->x87_last);
        int lfr = e->lfr, lfr_cf = e->lfr_cf;
        lf_spill(e);                             /* (on the way out only) */
        movi(e, RAX, target);
        jump_to_eax(e, k);
        e->stubs[e->nstubs - 1].leave = 1;
        chain_exit(e, k, target);
        patch(e, stay, e->p);
        e->lfr = lfr;
        e->lfr_cf = lfr_cf;
        e->kind = e->kind_in;                    /* the lazy flags are as they were */
        e->host = e->host_in;                    /* (a redo may set only some host flags) */
        return;
    }
    lf_guard(e, e->lfr_cf && e->host_in);     /* (only INC/DEC leave CF in r11d: they set no host flags) */
    lf_fold_cf(e);                               /* (before the condition: it clobbers the host's flags) */
    if (cond_flags(e, cc, 1)) {
        lf_spill(e);                             /* (moves: the host flags stay) */
        taken = jcc32(e, cc);
    } else {
        emit_cond(e, cc);
        b1(e, 0x84); b1(e, 0xC0);                /* test al, al */
        taken = jcc32(e, CC_NE);
    }
    sti(e, CPU(eip), e->eip[k + 1]);
    chain_exit(e, k, e->eip[k + 1]);
    patch(e, taken, e->p);
    movi(e, RAX, target);
    jump_to_eax(e, k);
    chain_exit(e, k, target);   /* one slot per direction */
}

static void emit_shift(struct em *e, const struct form_args *f)
{
    if (!f->imm)
        return;   /* a count of 0 changes nothing */
    lf_begin(e);
    ld(e, RAX, GREG(f->a));
    lf_st(e, CPU(lf_op1), RAX);
    rr_op(e, 0, 0xC1, f->op == 6 ? 4 : f->op, RAX);     /* shl/shr/sar eax, n */
    b1(e, f->imm);
    st(e, GREG(f->a), RAX);
    lf_st(e, CPU(lf_res), RAX);
    lf_sti(e, CPU(lf_op2), f->imm);
    lf_sti(e, CPU(lf_op), (uint32_t)shift_kinds[f->op] | 2u << 4);
    e->kind = e->flags_dead ? -1 : (int)((uint32_t)shift_kinds[f->op] | 2u << 4);
}


/* SHL/SHR/SAR dword [ea] by an immediate or (by_cl) by CL & 31, as
 * op_shift does it: the operand is read; a count of 0 writes nothing and
 * leaves the flags; else the result is written and the lazy flags are
 * those of the register forms. */
static void emit_shift_mem(struct em *e, uint32_t k, const struct form_args *f, int by_cl)
{
    const struct insn *i = &e->insns[k];
    unsigned hop = f->op == 6 ? 4 : (unsigned)f->op;   /* SAL is SHL */
    emit_ea(e, i);
    emit_read(e, k, i->seg, 4);
    uint8_t *skip = NULL;
    if (by_cl) {
        ld(e, RCX, GREG(R_ECX));
        rr_op(e, 0, 0x83, 4, RCX); b1(e, 0x1F);          /* and ecx, 31 */
        skip = jcc32(e, CC_E);
    }
    if (by_cl || f->imm) {
        rr_op(e, 0, 0x8B, RBP, RAX);                     /* ebp = a, kept over the write */
        for (int pass = 0; pass < 2; pass++) {           /* the result to write; then again, for the flags */
            int r = pass ? RAX : RDI;
            rr_op(e, 0, 0x8B, r, RBP);
            if (by_cl) {
                if (pass) {                              /* ecx, lost in a slow write */
                    ld(e, RCX, GREG(R_ECX));
                    rr_op(e, 0, 0x83, 4, RCX); b1(e, 0x1F);
                }
                rr_op(e, 0, 0xD3, hop, r);               /* shl/shr/sar r, cl */
            } else {
                rr_op(e, 0, 0xC1, hop, r); b1(e, f->imm);
            }
            if (!pass) {
                e->tlb_here = by_cl;   /* (a count of 0 jumps over the write) */
                emit_write(e, k, i->seg, 4);
                e->tlb_here = 0;
            }
        }
        st(e, CPU(lf_op1), RBP);
        st(e, CPU(lf_res), RAX);
        if (by_cl)
            st(e, CPU(lf_op2), RCX);
        else
            sti(e, CPU(lf_op2), f->imm);
        sti(e, CPU(lf_op), (uint32_t)shift_kinds[f->op] | 2u << 4);
    }
    if (skip)
        patch(e, skip, e->p);
    emit_mem_done(e, k);
}

/* INC/DEC flags after the operation: the result in guest register field
 * reg, or (reg < 0) a in ebp; CF folded first. */
static void emit_incdec_flags(struct em *e, int dec, int32_t reg)
{
    int kind = lf_known(e);
    unsigned known = kind >= 0 ? (unsigned)kind & 0xF : 16;
    int cf_reg = 0;   /* CF goes on in r11d */
    if (known == LF_NONE || known == LF_INC || known == LF_DEC) {
        cf_reg = e->lfr && e->lfr_cf;   /* CF stays where it is (EFLAGS or r11d) */
        goto fold_done;
    }
    if (!e->lf_off && !x87_in_run(e, e->k) && cf_in_line(kind)) {   /* the flags go to registers */
        emit_cf_to(e, LF_R_CF);
        cf_reg = 1;
        goto fold_done;
    }
    if (known == LF_LOGIC) {
        mem_op(e, 0, 0, 0x81, 4, RBX, -1, 0, CPU(eflags)); b4(e, ~FL_CF);   /* CF = 0 */
        goto fold_done;
    }
    uint8_t *s1 = NULL, *s2 = NULL, *s3 = NULL;
    if (known == 16) {   /* unknown here: none pending, or INC/DEC, leave CF as it is */
        lf_spill(e);
        ld(e, RAX, CPU(lf_op));
        rr_op(e, 0, 0x83, 4, RAX); b1(e, 0xF);           /* and eax, 15 */
        s1 = jcc32(e, CC_E);
        rr_op(e, 0, 0x83, 7, RAX); b1(e, LF_INC);        /* cmp eax, LF_INC */
        s2 = jcc32(e, CC_E);
        rr_op(e, 0, 0x83, 7, RAX); b1(e, LF_DEC);
        s3 = jcc32(e, CC_E);
    }
    emit_cf_to(e, R15);   /* r15 (the address) is free by now */
    mem_op(e, 0, 0, 0x81, 4, RBX, -1, 0, CPU(eflags)); b4(e, ~FL_CF);   /* and [eflags], ~CF */
    mem_op(e, 0, 0, 0x09, R15, RBX, -1, 0, CPU(eflags));     /* or [eflags], r15d */
    patch(e, s1, e->p);
    patch(e, s2, e->p);
    patch(e, s3, e->p);
fold_done:
    lf_begin(e);
    if (reg >= 0) {   /* the result is in the register: a is result -+ 1 */
        ld(e, RCX, reg);
        mem_op(e, 0, 0, 0x8D, RAX, RCX, -1, 0, dec ? 1 : -1);   /* lea eax, [rcx -+ 1] */
        lf_st(e, CPU(lf_op1), RAX);
    } else {
        lf_st(e, CPU(lf_op1), RBP);
        mem_op(e, 0, 0, 0x8D, RCX, RBP, -1, 0, dec ? -1 : 1);   /* lea ecx, [rbp +- 1] */
    }
    lf_st(e, CPU(lf_res), RCX);
    lf_sti(e, CPU(lf_op2), 1);
    lf_sti(e, CPU(lf_op), (uint32_t)(dec ? LF_DEC : LF_INC) | 2u << 4);
    e->lfr_cf = e->lfr && cf_reg;
    e->kind = (int)((uint32_t)(dec ? LF_DEC : LF_INC) | 2u << 4);
}

/* (ebp is left alone: x87 runs may go on over INC/DEC r32) */
static void emit_incdec(struct em *e, const struct form_args *f)
{
    ld(e, RAX, GREG(f->a));
    mem_op(e, 0, 0, 0x8D, RCX, RAX, -1, 0, f->op ? -1 : 1);
    st(e, GREG(f->a), RCX);
    if (!e->flags_dead)
        emit_incdec_flags(e, f->op, GREG(f->a));
}

/* Whether the lazy flags instruction k leaves are overwritten before
 * anything can read them or see them: the instructions after it in the
 * block, up to one that sets all of them, are inline forms that neither
 * read flags nor can fault or leave the block. */
static int flags_dead_after(struct em *e, uint32_t k)
{
    for (uint32_t j = k + 1; j < e->b->n; j++) {
        struct form_args f = { 0, 0, 0, 1, 0, 0 };
        switch (pick_form(&e->insns[j], &f)) {
        case FM_ALU_RR: case FM_ALU_RI: case FM_IMUL_RR: case FM_IMUL_RRI:
            return 1;
        case FM_SHIFT:
            if (f.imm)
                return 1;
            break;
        case FM_MOV_RR: case FM_MOV_RI: case FM_LEA: case FM_MOVZX_RR16: case FM_MOVZX_RR8:
        case FM_MOV_R8I: case FM_MOV_R8R:
        case FM_ROT:   /* reads no flags; sets CF and OF only, so a later full set decides */
        case FM_JMP:   /* inside the block only when the block follows it */
            break;
        default:
            return 0;
        }
    }
    return 0;
}

/* ---- the x87 in line ----
 * Runs of consecutive x87 instructions of the frequent forms, for FCW =
 * FPU_JIT_FCW (64-bit precision, round to nearest, all exceptions masked:
 * Linux's default), no #NM, nothing pending, and TOP and the tags that the
 * run needs as they are expected at compile time (TOP from the block's
 * entry, through the instructions before; the tags from the run's own
 * pushes and pops). Then every register has a fixed place, and the run
 * checks all that once at its start; when that fails, the whole run goes
 * through the handlers (an ST_X87_RUN stub). With all exceptions masked
 * the handlers change TOP and the tags the same way, so what the emitter
 * expects after a run holds either way. Within a run, an instruction whose
 * case does not apply (an operand or result not normal or zero, a TLB
 * miss) runs its handler from an ST_X87 stub, which decides everything
 * again: nothing is stored before all of its checks passed. FADD, FSUB,
 * FMUL and FDIV of normals at 64-bit precision are in line, a zero
 * operand to a shared routine (emit_x87_zeros), the rest to the pure
 * fpu_jit_* functions (cpu/fpu_fast.c). ebp
 * holds FSW through a run (callee-saved: kept over calls); TOP in it, FSW
 * itself and FIP/FOP/FCS are brought up to date at the end of the run and
 * before a stub's handler. */

#define FPU_F(f) CPU(fpu.f)
#define X87_M(p) (FPU_F(mant) + 8 * (int32_t)(p))   /* physical register p */
#define X87_SE(p) (FPU_F(se) + 2 * (int32_t)(p))

enum { XK_NONE, XK_FLD_ST, XK_FXCH, XK_FST_ST, XK_FLDK, XK_FSIGN, XK_ARITH_R, XK_COMI, XK_FLD_M, XK_FST_M,
       XK_ARITH_M };
struct x87op {
    int kind;
    unsigned st;     /* ST(i) of the register forms */
    unsigned op;     /* D8 operation (0 add, 1 mul, 4 sub, 5 subr, 6 div, 7 divr); FLDK/FSIGN: rm */
    int to_st;       /* ARITH_R: the destination is ST(i), not ST0 */
    int pop;
    int size;        /* memory forms: 8 (binary64) or 4 (binary32, int32) */
    int integer;     /* FLD_M: FILD m32 */
};

/* The in-line form of instruction i (kind XK_NONE: none) */
static struct x87op x87_decode(const struct insn *i)
{
    struct x87op x = { XK_NONE, i->rm, i->reg, 0, 0, 0, 0 };
    unsigned g = i->reg, esc = i->opc & 7;
    if (i->lock || i->fn == op_ud || i->opc < 0xD8 || i->opc > 0xDF)
        return x;
    if (i->mod != 3) {
        if (i->addrsize != 4)
            return x;
        x.size = esc == 4 || esc == 5 ? 8 : 4;
        if (esc == 0 || esc == 4)
            x.kind = g == 2 || g == 3 ? XK_NONE : XK_ARITH_M;
        else if (esc == 1 || esc == 5)
            x.kind = g == 0 ? XK_FLD_M : g == 2 || g == 3 ? XK_FST_M : XK_NONE;
        else if (esc == 3 && g == 0)
            x.kind = XK_FLD_M, x.integer = 1;                 /* FILD m32 */
        x.pop = g == 3;
        return x;
    }
    switch (esc) {
    case 0: case 4: case 6:
        if (g == 2 || g == 3)
            break;
        x.kind = XK_ARITH_R;
        x.to_st = esc != 0;
        x.op = x.to_st ? g ^ (g >= 4) : g;   /* DC/DE swap sub/subr, div/divr */
        x.pop = esc == 6;
        break;
    case 3: case 7:
        if (g == 5 || g == 6) {
            x.kind = XK_COMI;
            x.pop = esc == 7;
        }
        break;
    case 5:
        if (g == 2 || g == 3) {
            x.kind = XK_FST_ST;
            x.pop = g == 3;
        }
        break;
    case 1:
        if (g == 0)
            x.kind = XK_FLD_ST;
        else if (g == 1)
            x.kind = XK_FXCH;
        else if (g == 4 && i->rm <= 1)
            x.kind = XK_FSIGN;
        else if (g == 5 && (i->rm == 0 || i->rm == 6))
            x.kind = XK_FLDK;
        x.op = i->rm;
        break;
    }
    return x;
}

/* What a run needs at its start and does to the tags, built instruction by
 * instruction (physical register bits). */
struct x87plan {
    unsigned top;
    unsigned need_full, need_empty, full, empty;
    int bad;          /* a stack fault for sure: the run ends before it */
};

/* ST(st) must be full (want_full) or empty when the instruction runs:
 * known from the run so far, or a need at its start */
static void plan_need(struct x87plan *p, int want_full, unsigned st)
{
    unsigned b = 1u << ((p->top + st) & 7);
    unsigned *have = want_full ? &p->full : &p->empty, *other = want_full ? &p->empty : &p->full;
    if (*other & b) {
        p->bad = 1;
    } else if (!(*have & b)) {
        *have |= b;
        *(want_full ? &p->need_full : &p->need_empty) |= b;
    }
}

/* The effect of x on the plan (and TOP): pushes, pops, stores to ST(i) */
static void plan_op(struct x87plan *p, const struct x87op *x)
{
    switch (x->kind) {
    case XK_FLD_ST:
        plan_need(p, 1, x->st);
        /* fall through */
    case XK_FLDK: case XK_FLD_M:
        plan_need(p, 0, 7);
        p->top = (p->top - 1) & 7;
        p->empty &= ~(1u << p->top);
        p->full |= 1u << p->top;
        return;
    case XK_FXCH: case XK_ARITH_R: case XK_COMI:
        plan_need(p, 1, x->st);
        break;
    case XK_FST_ST:
        plan_need(p, 1, 0);
        p->empty &= ~(1u << ((p->top + x->st) & 7));
        p->full |= 1u << ((p->top + x->st) & 7);
        break;
    default:
        break;
    }
    plan_need(p, 1, 0);
    if (x->pop) {
        p->full &= ~(1u << p->top);
        p->empty |= 1u << p->top;
        p->top = (p->top + 1) & 7;
    }
}

/* TOP after an x87 instruction run by its handler (stack faults included),
 * or -1 when the emitter cannot tell (FLDENV, FRSTOR, ...). */
static int x87_top_after(const struct insn *i, unsigned top)
{
    unsigned g = i->reg, esc = i->opc & 7, rm = i->rm;
    int d = 0;
    if (i->mod != 3) {
        if ((esc & 1) && g == 0)
            d = -1;                                    /* FLD, FILD m16/m32/m64... */
        else if ((esc == 3 && g == 5) || (esc == 7 && (g == 4 || g == 5)))
            d = -1;                                    /* FLD m80, FBLD, FILD m64 */
        else if (((esc & 1) && (g == 1 || g == 3)) || (esc == 3 && g == 7) || (esc == 7 && g >= 6) ||
                 (!(esc & 1) && g == 3))
            d = 1;                                     /* FSTP, FISTP, FISTTP, FCOMP... */
        else if ((esc == 1 && g == 4) || (esc == 5 && (g == 4 || g == 6)))
            return esc == 5 && g == 6 ? 0 : -1;        /* FLDENV, FRSTOR; FNSAVE inits */
        return (int)((top + (unsigned)d) & 7);
    }
    switch (esc) {
    case 0: d = g == 3; break;                         /* FCOMP */
    case 1:
        if (g == 0 || (g == 5 && rm != 7) || (g == 6 && (rm == 2 || rm == 4)) || (g == 7 && rm == 3))
            d = -1;                                    /* FLD, constants, FPTAN, FXTRACT, FSINCOS */
        else if ((g == 6 && (rm == 1 || rm == 3 || rm == 6 || rm == 7)) || (g == 7 && rm == 1))
            d = g == 6 && rm == 6 ? -1 : 1;            /* FYL2X FPATAN FINCSTP FYL2XP1; FDECSTP */
        break;
    case 2: d = g == 5 ? 2 : 0; break;                 /* FUCOMPP */
    case 3:
        if (g == 4 && rm == 3)
            return 0;                                  /* FNINIT */
        break;
    case 5: d = g == 3 || g == 5; break;               /* FSTP, FUCOMP */
    case 6: d = g == 3 ? 2 : 1; break;                 /* FCOMPP, the ...P */
    default: d = g == 0 || g == 5 || g == 6; break;    /* FFREEP, FUCOMIP, FCOMIP */
    }
    return (int)((top + (unsigned)d) & 7);
}

static void st16(struct em *e, int32_t d, int r)
{
    b1(e, 0x66);
    mem_op(e, 0, 0, 0x89, r, RBX, -1, 0, d);
}
static void ld16(struct em *e, int r, int32_t d) { mem_op(e, 0, 0, 0xB70F, r, RBX, -1, 0, d); }
static void ld64(struct em *e, int r, int32_t d) { mem_op(e, 1, 0, 0x8B, r, RBX, -1, 0, d); }
static void st64(struct em *e, int32_t d, int r) { mem_op(e, 1, 0, 0x89, r, RBX, -1, 0, d); }

/* op word [rbx + d], imm16 (81 /ext) */
static void op16i(struct em *e, int ext, int32_t d, unsigned v)
{
    b1(e, 0x66);
    mem_op(e, 0, 0, 0x81, ext, RBX, -1, 0, d);
    b1(e, v & 0xFF); b1(e, (v >> 8) & 0xFF);
}

/* op ebp, imm32 (81 /ext) */
static void op_ebp(struct em *e, int ext, uint32_t v)
{
    rr_op(e, 0, 0x81, ext, RBP);
    b4(e, v);
}

/* FSW in memory from ebp with TOP = top, and FIP/FCS/FOP of instruction k */
static void x87_flush(struct em *e, unsigned top, int32_t k)
{
    op_ebp(e, 4, ~(uint32_t)FSW_TOP);
    op_ebp(e, 1, top << 11);
    st16(e, FPU_F(fsw), RBP);
    if (k < 0)
        return;
    const struct insn *i = &e->insns[k];
    sti(e, FPU_F(fip), e->eip[k]);
    unsigned fop = (i->opc & 7u) << 8 | i->modrm;
    b1(e, 0x66);
    mem_op(e, 0, 0, 0xC7, 0, RBX, -1, 0, FPU_F(fop));            /* mov word [fop], imm16 */
    b1(e, fop & 0xFF); b1(e, fop >> 8);
    ld16(e, RAX, SEG_F(S_CS, sel));
    st16(e, FPU_F(fcs), RAX);
}

/* The ST_X87 stub added last is for the run's instruction being emitted:
 * TOP before it, and the x87 instruction before it (whose FIP the stub
 * stores first) */
static void x87_mark(struct em *e, struct stub *s)
{
    s->top = (uint8_t)e->x87_top;
    s->prev = e->x87_last;   /* (the instructions between may be integer ones) */
}

static void x87_mark_stub(struct em *e)
{
    x87_mark(e, &e->stubs[e->nstubs - 1]);
}

/* Instruction k lies inside the x87 run being emitted (between its first
 * and last x87 instruction) */
static int x87_in_run(const struct em *e, uint32_t k)
{
    return k > e->x87_k0 && k < e->x87_end;
}

/* A new ST_X87 stub for instruction k of the run, jumped to from at (or
 * from nowhere yet) */
static void x87_new_stub(struct em *e, uint32_t k, uint8_t *at)
{
    add_stub(e, ST_X87, k, at, 0, 0);
    x87_mark_stub(e);
}

/* A jump (host condition cc) to a new ST_X87 stub for instruction k */
static void x87_stub(struct em *e, uint32_t k, int hostcc)
{
    x87_new_stub(e, k, jcc32(e, hostcc));
}

/* ebp = FSW, and in its bits 16-23 the fpu_jit_* functions' `drop` for
 * the precision in FCW, from eax = FCW | FSW << 16 (clobbers ecx, edx) */
static void x87_fsw_of_eax(struct em *e)
{
    rr_op(e, 0, 0x8B, RBP, RAX);
    rr_op(e, 0, 0xC1, 5, RBP); b1(e, 16);
    rr_op(e, 0, 0x8B, RCX, RAX);
    rr_op(e, 0, 0xC1, 5, RCX); b1(e, 5);
    rr_op(e, 0, 0x83, 4, RCX); b1(e, 0x18);                       /* ecx = PC * 8 */
    movi(e, RDX, FPU_JIT_DROPS);
    rr_op(e, 0, 0xD3, 5, RDX);                                    /* shr edx, cl */
    rr_op(e, 0, 0xB60F, RDX, RDX);                                /* movzx edx, dl */
    rr_op(e, 0, 0xC1, 4, RDX); b1(e, 16);
    rr_op(e, 0, 0x09, RDX, RBP);
}

/* The same from struct cpu (clobbers rax, ecx, edx) */
static void x87_load_fsw(struct em *e)
{
    _Static_assert(offsetof(struct fpu, fsw) == offsetof(struct fpu, fcw) + 2 &&
                   offsetof(struct fpu, tags) == offsetof(struct fpu, fcw) + 4, "FCW, FSW, tags in one load");
    ld64(e, RAX, FPU_F(fcw));
    x87_fsw_of_eax(e);
}

/* The run's checks (see above): to its ST_X87_RUN stub when they fail */
static void x87_guard(struct em *e, uint32_t k, const struct x87plan *p)
{
    uint64_t need = p->need_full | p->need_empty;
    ld64(e, RAX, FPU_F(fcw));                                     /* FCW, FSW, tags (x87_load_fsw) */
    movi64(e, RCX, (~0x0300u & 0xFFFFu) | (uint64_t)(FSW_ES | FSW_B | FSW_TOP) << 16 | need << 32);
    rr_op(e, 1, 0x23, RCX, RAX);                                  /* and rcx, rax (any precision) */
    movi64(e, RDX, FPU_JIT_FCW | (uint64_t)(e->x87_top << 11) << 16 | (uint64_t)p->need_full << 32);
    rr_op(e, 1, 0x3B, RCX, RDX);                                  /* cmp rcx, rdx */
    add_stub(e, ST_X87_RUN, k, jcc32(e, CC_NE), 0, 0);
    e->x87_run_stub = e->nstubs - 1;
    e->stubs[e->x87_run_stub].kend = e->x87_end;
    mem_op(e, 0, 0, 0xF6, 0, RBX, -1, 0, CPU(cr0));     /* test byte [cr0], EM | TS */
    b1(e, CR0_EM | CR0_TS);
    add_to_stub(e, jcc32(e, CC_NE));
    x87_fsw_of_eax(e);
}

static unsigned x87_p(const struct em *e, unsigned st) { return (e->x87_top + st) & 7; }

/* Physical register p = rdx (significand) / ecx (sign and exponent) */
static void x87_put(struct em *e, unsigned p)
{
    st64(e, X87_M(p), RDX);
    st16(e, X87_SE(p), RCX);
}

/* Push rdx / ecx */
static void x87_push(struct em *e)
{
    unsigned nt = (e->x87_top - 1) & 7;
    x87_put(e, nt);
    op16i(e, 1, FPU_F(tags), 1u << nt);                 /* or word [tags] */
    op_ebp(e, 4, ~(uint32_t)FSW_C1);
    e->x87_top = nt;
}

static void x87_pop(struct em *e)
{
    op16i(e, 4, FPU_F(tags), ~(1u << e->x87_top) & 0xFFFFu);   /* and word [tags] */
    e->x87_top = (e->x87_top + 1) & 7;
}

/* The fpu_jit_* function for operation op on x (the destination) and y:
 * whether they are swapped and the second one negated. */
static const void *x87_fn(unsigned op, int *swap, int *neg)
{
    *swap = op == 5 || op == 7;
    *neg = op == 4 || op == 5;
    return op == 1 ? (const void *)fpu_jit_mul : op >= 6 ? (const void *)fpu_jit_div : (const void *)fpu_jit_add;
}

/* One more jump (host condition cc) to the ST_X87 stub added last */
static void x87_fail(struct em *e, int cc)
{
    add_to_stub(e, jcc32(e, cc));
}

/* eax = the exponent of esi, r10d that of ecx; when not both normal, the
 * jumps in fail[0..2] (to be patched: the operands are unchanged there) */
static void x87_normals(struct em *e, uint8_t **fail)
{
    for (int k = 0; k < 2; k++) {
        int se = k ? RCX : RSI, ex = k ? R10 : RAX;
        rr_op(e, 0, 0x8B, ex, se);
        rr_op(e, 0, 0x81, 4, ex); b4(e, 0x7FFF);
        mem_op(e, 0, 0, 0x8D, R9, ex, -1, 0, -1);                 /* lea r9d, [ex - 1] */
        rr_op(e, 0, 0x81, 7, R9); b4(e, 0x7FFD);
        fail[k] = jcc32(e, CC_A);
    }
    rr_op(e, 1, 0x8B, R9, RDI);
    rr_op(e, 1, 0x21, RDX, R9);                                   /* and r9, rdx: both integer bits */
    fail[2] = jcc32(e, CC_NS);
}

/* Round to nearest even, the decision: rdi = the kept bits, rdx = the
 * dropped bits left-aligned, sticky included. PE and C1 (shifted left by
 * `shift`) go to register fl, r9 = 1 to round up, else 0. Clobbers r10.
 * Without branches on the dropped bits: which way a result rounds is as
 * good as random, and a mispredicted jump costs more than the few
 * instructions here. Up when rdx + 2^63 - 1 + the kept part's last bit
 * carries out: above half, or half with that bit odd. */
static void x87_up(struct em *e, int fl, int shift)
{
    _Static_assert(F80_PE == 1u << 5 && F80_C1 == 1u << 9, "the shifts below");
    rr_op(e, 0, 0x33, fl, fl);
    rr_op(e, 1, 0x85, RDX, RDX);
    rr_op(e, 0, 0x950F, 0, fl);                                   /* setne: PE */
    rr_op(e, 0, 0x8B, R9, RDI);
    rr_op(e, 0, 0x83, 4, R9); b1(e, 1);                           /* r9d = the last bit */
    movi64(e, R10, (1ull << 63) - 1);
    rr_op(e, 1, 0x01, R9, R10);                                   /* add r10, r9 */
    rr_op(e, 1, 0x01, RDX, R10);                                  /* add r10, rdx: CF = up */
    rr_op(e, 0, 0x920F, 0, R9);                                   /* setc r9b: r9 = up */
    rr_op(e, 0, 0xC1, 4, fl); b1(e, (uint8_t)(5 + shift));        /* PE in place */
    rr_op(e, 0, 0x8B, R10, R9);
    rr_op(e, 0, 0xC1, 4, R10); b1(e, (uint8_t)(9 + shift));       /* C1: rounded up */
    rr_op(e, 0, 0x09, R10, fl);
}

/* Round to nearest even at 64 bits: rdi = the significand, rdx = the bits
 * below, eax = the exponent (x87_up); a carry out gives 2^63 and the
 * exponent + 1. */
static void x87_rn(struct em *e, int fl, int shift)
{
    x87_up(e, fl, shift);
    rr_op(e, 1, 0x01, R9, RDI);                                   /* add rdi, r9 */
    uint8_t *nc = jcc32(e, CC_AE);
    rr_op(e, 1, 0xBA0F, 5, RDI); b1(e, 63);                       /* carried out: 2^63, e + 1 */
    rr_op(e, 0, 0xFF, 0, RAX);
    patch(e, nc, e->p);
}

/* Round to nearest (64 bits) rdi:rdx (significand and the bits below) with
 * exponent eax, sign in bit 15 of esi, into physical register p, the flags
 * into ebp; out of range: the stub. */
static void x87_round64(struct em *e, unsigned p)
{
    x87_rn(e, RCX, 0);
    rr_op(e, 0, 0x81, 7, RAX); b4(e, 0x7FFE);
    x87_fail(e, CC_A);
    rr_op(e, 0, 0x81, 4, RSI); b4(e, 0x8000);
    rr_op(e, 0, 0x09, RAX, RSI);                                  /* or esi, eax */
    st16(e, X87_SE(p), RSI);
    st64(e, X87_M(p), RDI);
    op_ebp(e, 4, ~(uint32_t)FSW_C1);
    rr_op(e, 0, 0x09, RCX, RBP);                                  /* or ebp, ecx: the flags */
}

/* The significand hi:lo (registers) of a product or quotient whose top
 * bit may be clear, with the exponent in r11d: one left then (no jump:
 * as good as random, see x87_up), and rounded into physical register p. */
static void x87_norm_round(struct em *e, unsigned p, int hi, int lo)
{
    rr_op(e, 1, 0x8B, RCX, hi);
    rr_op(e, 1, 0xC1, 5, RCX); b1(e, 63);
    rr_op(e, 0, 0x83, 6, RCX); b1(e, 1);                          /* ecx = 1 - the top bit */
    rr_op(e, 1, 0xA50F, lo, hi);                                  /* shld hi, lo, cl */
    rr_op(e, 1, 0xD3, 4, lo);                                     /* shl lo, cl */
    rr_op(e, 0, 0x29, RCX, R11);                                  /* sub r11d, ecx */
    if (hi != RDI)
        rr_op(e, 1, 0x8B, RDI, hi);
    if (lo != RDX)
        rr_op(e, 1, 0x8B, RDX, lo);
    rr_op(e, 0, 0x8B, RAX, R11);
    x87_round64(e, p);
}

/* fpu_jit_add for 64-bit precision in line (a = rdi/esi, b = rdx/ecx): the
 * common case only (both normal, exponents less than 64 apart, no
 * cancellation to a denormal or zero); else the stub */
static void x87_add64(struct em *e, unsigned p, uint8_t **fail)
{
    x87_normals(e, fail);
    /* |a| >= |b|: else swap them (addition commutes). Which is larger is
     * as good as random, so no jumps on it, nor on a carry out or the
     * shift of the result below (see x87_rn) */
    rr_op(e, 1, 0x3B, RDI, RDX);                                  /* cmp rdi, rdx */
    rr_op(e, 0, 0x8B, R9, RAX);
    rr_op(e, 0, 0x1B, R9, R10);                                   /* sbb r9d, r10d: CF = |a| < |b| */
    static const int pair[3][3] = { { RDI, RDX, 1 }, { RSI, RCX, 0 }, { RAX, R10, 0 } };
    for (int k = 0; k < 3; k++) {
        rr_op(e, pair[k][2], 0x8B, R11, pair[k][0]);
        rr_op(e, pair[k][2], 0x420F, pair[k][0], pair[k][1]);    /* cmovc */
        rr_op(e, pair[k][2], 0x420F, pair[k][1], R11);
    }
    rr_op(e, 0, 0x8B, R11, RSI);
    rr_op(e, 0, 0x33, R11, RCX);                                  /* r11d: the signs differ */
    rr_op(e, 0, 0x8B, RCX, RAX);
    rr_op(e, 0, 0x2B, RCX, R10);                                  /* ecx = d */
    rr_op(e, 0, 0x83, 7, RCX); b1(e, 63);
    x87_fail(e, CC_A);
    rr_op(e, 1, 0x8B, R9, RDX);
    rr_op(e, 1, 0xD3, 5, R9);                                     /* r9 = b >> d */
    rr_op(e, 1, 0x01, RDX, RDX);
    rr_op(e, 0, 0x83, 6, RCX); b1(e, 63);                         /* xor ecx, 63: 63 - d */
    rr_op(e, 1, 0xD3, 4, RDX);                                    /* rdx = b << (64 - d), 0 for d = 0 */
    rr_op(e, 0, 0xF7, 0, R11); b4(e, 0x8000);
    uint8_t *sub = jcc32(e, CC_NE);
    rr_op(e, 1, 0x01, R9, RDI);                                   /* add rdi, r9 */
    /* a carry out: shift right one (bit 0 of rdx is 0: d < 64) */
    rr_op(e, 1, 0x1B, R11, R11);                                  /* sbb r11, r11: -carry */
    rr_op(e, 0, 0x8B, RCX, R11);
    rr_op(e, 0, 0x83, 4, RCX); b1(e, 1);                          /* ecx = carry */
    rr_op(e, 1, 0xAD0F, RDI, RDX);                                /* shrd rdx, rdi, cl */
    rr_op(e, 1, 0xD3, 5, RDI);                                    /* shr rdi, cl */
    rr_op(e, 1, 0xC1, 4, R11); b1(e, 63);
    rr_op(e, 1, 0x09, R11, RDI);                                  /* the carry as bit 63 */
    rr_op(e, 0, 0x01, RCX, RAX);                                  /* add eax, ecx */
    uint8_t *done2 = jmp32(e);
    patch(e, sub, e->p);
    rr_op(e, 1, 0x29, R9, RDI);                                   /* sub rdi, r9 */
    rr_op(e, 1, 0xF7, 3, RDX);                                    /* neg rdx: CF = rdx != 0 */
    rr_op(e, 1, 0x83, 3, RDI); b1(e, 0);                          /* sbb rdi, 0 */
    uint8_t *hzero = jcc32(e, CC_E);                              /* rdi = 0 */
    rr_op(e, 1, 0xBD0F, RCX, RDI);                                /* bsr rcx, rdi (0 or more to shift) */
    rr_op(e, 0, 0x83, 6, RCX); b1(e, 63);                         /* the shift */
    rr_op(e, 1, 0xA50F, RDX, RDI);                                /* shld rdi, rdx, cl */
    rr_op(e, 1, 0xD3, 4, RDX);                                    /* shl rdx, cl */
    rr_op(e, 0, 0x2B, RAX, RCX);                                  /* sub eax, ecx */
    x87_fail(e, CC_LE);                                           /* a denormal */
    patch(e, done2, e->p);
    x87_round64(e, p);
    uint8_t *out = jmp32(e);
    patch(e, hzero, e->p);                                        /* a - a: +0 (round to nearest) */
    rr_op(e, 1, 0x85, RDX, RDX);
    x87_fail(e, CC_NE);                                           /* a denormal */
    rr_op(e, 0, 0x33, RAX, RAX);
    st64(e, X87_M(p), RAX);
    st16(e, X87_SE(p), RAX);
    op_ebp(e, 4, ~(uint32_t)FSW_C1);
    patch(e, out, e->p);
}

/* fpu_jit_mul for 64-bit precision in line: both normal, the result too */
static void x87_mul64(struct em *e, unsigned p, uint8_t **fail)
{
    x87_normals(e, fail);
    mem_op(e, 0, 0, 0x8D, R11, RAX, R10, 0, 1 - F80_BIAS);       /* lea r11d, [rax + r10 - BIAS + 1] */
    rr_op(e, 0, 0x33, RSI, RCX);                                  /* the sign */
    mem_op(e, 0, 0, 0x8D, RCX, R11, -1, 0, -2);
    rr_op(e, 0, 0x81, 7, RCX); b4(e, 0x7FFB);
    x87_fail(e, CC_A);                                            /* the exponent out of 2..7FFDh */
    rr_op(e, 1, 0x8B, RAX, RDI);
    rr_op(e, 1, 0xF7, 4, RDX);                                    /* mul rdx */
    x87_norm_round(e, p, RDX, RAX);                               /* a product below 2 */
}

/* fpu_jit_div for 64-bit precision in line: both normal, the result too.
 * As f80f_div: one 128/64 division of a * 2^63 by b (a >> 1 < b: the
 * quotient fits), then the two bits after the quotient and whether
 * anything is left by two steps of long division, without jumps. */
static void x87_div64(struct em *e, unsigned p, uint8_t **fail)
{
    x87_normals(e, fail);
    rr_op(e, 0, 0x2B, RAX, R10);                                  /* sub eax, r10d */
    mem_op(e, 0, 0, 0x8D, R11, RAX, -1, 0, F80_BIAS);             /* lea r11d, [rax + BIAS] */
    mem_op(e, 0, 0, 0x8D, RAX, R11, -1, 0, -2);
    rr_op(e, 0, 0x81, 7, RAX); b4(e, 0x7FFC);
    x87_fail(e, CC_A);                                            /* the exponent out of 2..7FFEh */
    rr_op(e, 0, 0x33, RSI, RCX);                                  /* the sign */
    rr_op(e, 1, 0x8B, R9, RDX);                                   /* r9 = b */
    rr_op(e, 1, 0x8B, RDX, RDI);
    rr_op(e, 1, 0xD1, 5, RDX);                                    /* shr rdx, 1 */
    rr_op(e, 1, 0x8B, RAX, RDI);
    rr_op(e, 1, 0xC1, 4, RAX); b1(e, 63);                         /* rdx:rax = a * 2^63 */
    rr_op(e, 1, 0xF7, 6, R9);                                     /* div r9 */
    rr_op(e, 1, 0x8B, RDI, RAX);                                  /* rdi = the quotient */
    rr_op(e, 0, 0x33, RAX, RAX);
    for (int s = 0; s < 2; s++) {   /* rdx = the remainder (< b); eax takes the bits inverted */
        rr_op(e, 1, 0x8B, R10, R9);
        rr_op(e, 1, 0x2B, R10, RDX);                              /* r10 = b - rem */
        mem_op(e, 1, 0, 0x8D, RCX, RDX, RDX, 0, 0);               /* lea rcx, [rdx + rdx] */
        rr_op(e, 1, 0x2B, RDX, R10);                              /* sub rdx, r10: CF = bit 0 */
        rr_op(e, 1, 0x420F, RDX, RCX);                            /* cmovc rdx, rcx */
        rr_op(e, 0, 0x13, RAX, RAX);                              /* adc eax, eax */
    }
    rr_op(e, 0, 0x83, 6, RAX); b1(e, 3);                          /* xor eax, 3 */
    rr_op(e, 1, 0xC1, 4, RAX); b1(e, 62);
    rr_op(e, 1, 0xF7, 3, RDX);                                    /* neg rdx: CF = anything left */
    rr_op(e, 1, 0x83, 2, RAX); b1(e, 0);                          /* adc rax, 0 */
    rr_op(e, 1, 0x8B, RDX, RAX);                                  /* rdx = the bits below */
    x87_norm_round(e, p, RDI, RDX);                               /* a quotient below 1 */
}

/* ZF set when the operand in rdi/esi (a) or rdx/ecx (b) is a zero
 * (clobbers rax for a, r9 for b) */
static void x87_is_zero(struct em *e, int b)
{
    int se = b ? RCX : RSI, r = b ? R9 : RAX;
    rr_op(e, 0, 0x8B, r, se);
    rr_op(e, 0, 0x81, 4, r); b4(e, 0x7FFF);
    rr_op(e, 1, 0x09, b ? RDX : RDI, r);                          /* or r, the significand */
}

/* A jump (to be patched) when operand a or b is not normal (clobbers r10d) */
static uint8_t *x87_not_normal(struct em *e, int b, uint8_t **also)
{
    int se = b ? RCX : RSI;
    rr_op(e, 0, 0x8B, R10, se);
    rr_op(e, 0, 0x81, 4, R10); b4(e, 0x7FFF);
    mem_op(e, 0, 0, 0x8D, R10, R10, -1, 0, -1);
    rr_op(e, 0, 0x81, 7, R10); b4(e, 0x7FFD);
    *also = jcc32(e, CC_A);
    rr_op(e, 1, 0x85, b ? RDX : RDI, b ? RDX : RDI);
    return jcc32(e, CC_NS);
}

/* The shared routines for a zero operand at 64-bit precision, where the
 * in-line arithmetic leaves for fpu_jit_add/mul: a + b with one of them
 * a zero and the other normal is the other, exactly; two zeros give -0
 * only when both are (round to nearest: the run's check); a * b with a zero and
 * the other normal or zero is a zero of the two signs' xor. Called with
 * a = rdi/esi, b = rdx/ecx (kept); returns CF = 1 with the result in
 * rax / r9d, else CF = 0 (the function's case). Clobbers r10. FFT code
 * meets them at every first twiddle (sin 0), set b's Jacobi relaxation
 * adds zeros all the time; a call into C costs ~60 host instructions more. */
static void emit_x87_zeros(struct em *e, int mul)
{
    uint8_t *no[6];
    int n = 0;
    x87_is_zero(e, 0);
    uint8_t *nz = jcc32(e, CC_NE);
    /* a is a zero */
    x87_is_zero(e, 1);
    uint8_t *zero = jcc32(e, CC_E);                               /* two zeros */
    no[n] = x87_not_normal(e, 1, &no[n + 1]);
    n += 2;
    if (mul) {
        uint8_t *z2 = jmp32(e);
        patch(e, nz, e->p);                                       /* a is not */
        x87_is_zero(e, 1);
        no[n++] = jcc32(e, CC_NE);
        no[n] = x87_not_normal(e, 0, &no[n + 1]);
        n += 2;
        patch(e, zero, e->p);
        patch(e, z2, e->p);
        rr_op(e, 0, 0x8B, R9, RSI);
        rr_op(e, 0, 0x33, R9, RCX);
        rr_op(e, 0, 0x81, 4, R9); b4(e, 0x8000);                  /* the sign */
        rr_op(e, 0, 0x33, RAX, RAX);
    } else {
        rr_op(e, 1, 0x8B, RAX, RDX);                              /* 0 + b = b */
        rr_op(e, 0, 0x8B, R9, RCX);
        uint8_t *done = jmp32(e);
        patch(e, zero, e->p);                                     /* 0 + 0: -0 only from two (nearest) */
        rr_op(e, 0, 0x8B, R9, RSI);
        rr_op(e, 0, 0x23, R9, RCX);
        rr_op(e, 0, 0x81, 4, R9); b4(e, 0x8000);
        rr_op(e, 0, 0x33, RAX, RAX);
        uint8_t *done0 = jmp32(e);
        patch(e, nz, e->p);                                       /* a is not a zero */
        x87_is_zero(e, 1);
        no[n++] = jcc32(e, CC_NE);
        no[n] = x87_not_normal(e, 0, &no[n + 1]);
        n += 2;
        rr_op(e, 1, 0x8B, RAX, RDI);                              /* a + 0 = a */
        rr_op(e, 0, 0x8B, R9, RSI);
        patch(e, done, e->p);
        patch(e, done0, e->p);
    }
    b1(e, 0xF9);                                                  /* stc */
    b1(e, 0xC3);
    for (int k = 0; k < n; k++)
        patch(e, no[k], e->p);
    b1(e, 0xF8);                                                  /* clc */
    b1(e, 0xC3);
}

/* After a call to fpu_jit_*: the stub when x (rdx) is 0, else the result to
 * physical register p and the flags into ebp. */
static void x87_result(struct em *e, uint32_t k, unsigned p);

/* FCOMI of rdi/esi and rdx/ecx in line for normals (else the stub
 * for instruction k): eax = EFLAGS ZF PF CF */
static void x87_comi(struct em *e, uint32_t k)
{
    uint8_t *fail[3];
    x87_new_stub(e, k, NULL);
    x87_normals(e, fail);
    rr_op(e, 0, 0x8B, R9, RSI);
    rr_op(e, 0, 0x33, R9, RCX);
    rr_op(e, 0, 0xF7, 0, R9); b4(e, 0x8000);                      /* test r9d: the signs differ */
    uint8_t *diff = jcc32(e, CC_NE);
    rr_op(e, 0, 0x3B, RAX, R10);                                  /* magnitudes: exponents, */
    uint8_t *decided = jcc32(e, CC_NE);
    rr_op(e, 1, 0x3B, RDI, RDX);                                  /* then significands */
    patch(e, decided, e->p);
    rr_op(e, 0, 0x970F, 0, R9);                                   /* seta r9b: |a| > |b| */
    rr_op(e, 0, 0x920F, 0, R11);                                  /* setb r11b */
    rr_op(e, 0, 0xB60F, R9, R9);
    rr_op(e, 0, 0xB60F, R11, R11);
    rr_op(e, 0, 0xF7, 0, RSI); b4(e, 0x8000);                     /* both negative: swapped */
    uint8_t *pos = jcc32(e, CC_E);
    rr_op(e, 0, 0x87, R9, R11);
    patch(e, pos, e->p);
    rr_op(e, 0, 0x8B, RAX, R9);                                   /* eax = LT ? CF : GT ? 0 : ZF */
    rr_op(e, 0, 0x09, R11, RAX);
    rr_op(e, 0, 0x83, 6, RAX); b1(e, 1);
    rr_op(e, 0, 0xC1, 4, RAX); b1(e, 6);
    rr_op(e, 0, 0x09, R11, RAX);
    uint8_t *done = jmp32(e);
    patch(e, diff, e->p);
    rr_op(e, 0, 0x8B, RAX, RSI);                                  /* a negative: less (CF) */
    rr_op(e, 0, 0xC1, 5, RAX); b1(e, 15);
    rr_op(e, 0, 0x83, 4, RAX); b1(e, 1);
    uint8_t *done2 = jmp32(e);
    for (int f = 0; f < 3; f++)                                   /* zeros and the rest */
        patch(e, fail[f], e->p);
    call_abs(e, (const void *)fpu_jit_comi);
    rr_op(e, 0, 0x85, RAX, RAX);
    x87_fail(e, CC_S);
    patch(e, done, e->p);
    patch(e, done2, e->p);
}

/* ST(p) = fn(rdi/esi, rdx/ecx) by a call to an fpu_jit_* arithmetic
 * function (drop from ebp in r8d), or add, multiply and divide at 64-bit
 * precision in line (their rare cases: the stub for instruction k) */
static void x87_arith(struct em *e, uint32_t k, const void *fn, unsigned p)
{
    rr_op(e, 0, 0x8B, R8, RBP);
    rr_op(e, 0, 0xC1, 5, R8); b1(e, 16);                          /* shr r8d, 16 */
    uint8_t *call[4] = { NULL, NULL, NULL, NULL };
    x87_new_stub(e, k, NULL);
    call[3] = jcc32(e, CC_NE);                                    /* drop != 0 */
    if (fn == (const void *)fpu_jit_add)
        x87_add64(e, p, call);
    else if (fn == (const void *)fpu_jit_mul)
        x87_mul64(e, p, call);
    else
        x87_div64(e, p, call);
    uint8_t *out = jmp32(e), *zero = NULL;
    for (int c = 0; c < 3; c++)   /* not both normal */
        patch(e, call[c], e->p);
    if (fn != (const void *)fpu_jit_div) {   /* a zero operand: the shared routine */
        call_rel(e, fn == (const void *)fpu_jit_add ? e->x87_zadd : e->x87_zmul);
        uint8_t *other = jcc32(e, CC_AE);
        st64(e, X87_M(p), RAX);
        st16(e, X87_SE(p), R9);
        op_ebp(e, 4, ~(uint32_t)FSW_C1);
        zero = jmp32(e);
        patch(e, other, e->p);
    }
    patch(e, call[3], e->p);      /* other precisions and the rest: the function */
    call_abs(e, fn);
    x87_result(e, k, p);
    patch(e, out, e->p);
    if (zero)
        patch(e, zero, e->p);
}

static void x87_result(struct em *e, uint32_t k, unsigned p)
{
    rr_op(e, 1, 0x85, RDX, RDX);                                  /* test rdx, rdx */
    x87_stub(e, k, CC_NS);
    st64(e, X87_M(p), RAX);
    st16(e, X87_SE(p), RDX);
    rr_op(e, 1, 0xC1, 5, RDX); b1(e, 16);                         /* shr rdx, 16 */
    rr_op(e, 0, 0x81, 4, RDX); b4(e, 0x7F | FSW_C1);
    op_ebp(e, 4, ~(uint32_t)FSW_C1);
    rr_op(e, 0, 0x09, RDX, RBP);                                  /* or ebp, edx */
}

/* The binary64 (size 8) or binary32 (4) operand at seg:r15d as an f80 in
 * rdx (significand) and ecx (sign and exponent); a TLB miss, or a value
 * that is neither normal nor zero: the stub. Clobbers eax, esi. */
static uint8_t *x87_from_ieee(struct em *e, int f64);
static void x87_load(struct em *e, uint32_t k, int seg, int size)
{
    int f64 = size == 8;
    emit_fast(e, k, seg, size, MMU_READ, ST_X87);
    x87_mark_stub(e);
    mem_op(e, f64, 0, 0x8B, RDX, RAX, -1, 0, 0);                  /* mov rdx/edx, [rax] */
    add_to_stub(e, x87_from_ieee(e, f64));
}

/* The binary64 (f64) or binary32 image in rdx as an f80 in rdx / ecx;
 * returns the jump (to be patched) taken for a value neither normal nor
 * zero. Clobbers esi. */
static uint8_t *x87_from_ieee(struct em *e, int f64)
{
    rr_op(e, f64, 0x8B, RCX, RDX);
    rr_op(e, f64, 0xC1, 5, RCX); b1(e, f64 ? 52 : 23);            /* the exponent */
    rr_op(e, 0, 0x81, 4, RCX); b4(e, f64 ? 0x7FF : 0xFF);
    mem_op(e, 0, 0, 0x8D, RSI, RCX, -1, 0, -1);                   /* lea esi, [rcx - 1] */
    rr_op(e, 0, 0x81, 7, RSI); b4(e, f64 ? 0x7FE : 0xFE);
    uint8_t *special = jcc32(e, CC_AE);                            /* zero, denormal, inf, NaN */
    rr_op(e, 0, 0x81, 0, RCX); b4(e, f64 ? F80_BIAS - 1023 : F80_BIAS - 127);
    rr_op(e, f64, 0x8B, RSI, RDX);
    rr_op(e, f64, 0xC1, 5, RSI); b1(e, f64 ? 63 : 31);            /* the sign */
    rr_op(e, 0, 0xC1, 4, RSI); b1(e, 15);
    rr_op(e, 0, 0x09, RSI, RCX);
    rr_op(e, 1, 0xC1, 4, RDX); b1(e, f64 ? 11 : 40);              /* the fraction */
    rr_op(e, 1, 0xBA0F, 5, RDX); b1(e, 63);                       /* bts rdx, 63 */
    uint8_t *done = jmp32(e);
    patch(e, special, e->p);                                       /* a zero, else the stub */
    rr_op(e, f64, 0x8B, RSI, RDX);
    rr_op(e, f64, 0x01, RSI, RSI);                                 /* add rsi, rsi: all but the sign */
    uint8_t *other = jcc32(e, CC_NE);
    rr_op(e, f64, 0xC1, 5, RDX); b1(e, f64 ? 63 : 31);
    rr_op(e, 0, 0xC1, 4, RDX); b1(e, 15);
    rr_op(e, 0, 0x8B, RCX, RDX);                                   /* the sign */
    rr_op(e, 0, 0x33, RDX, RDX);
    patch(e, done, e->p);
    return other;
}

/* The int32 operand at seg:r15d as an f80 in rdx / ecx (FILD m32: always
 * exact); a TLB miss: the stub. Clobbers eax, esi, r9. */
static void x87_load_int(struct em *e, uint32_t k, int seg)
{
    emit_fast(e, k, seg, 4, MMU_READ, ST_X87);
    x87_mark_stub(e);
    mem_op(e, 0, 0, 0x8B, RDX, RAX, -1, 0, 0);                   /* mov edx, [rax] */
    rr_op(e, 0, 0x8B, R9, RDX);
    rr_op(e, 0, 0xC1, 7, R9); b1(e, 31);                          /* sar r9d, 31 */
    rr_op(e, 0, 0x33, RDX, R9);
    rr_op(e, 0, 0x2B, RDX, R9);                                   /* edx = |v| */
    uint8_t *zero = jcc32(e, CC_E);
    rr_op(e, 0, 0xBD0F, RSI, RDX);                                /* bsr esi, edx */
    movi(e, RCX, 63);
    rr_op(e, 0, 0x2B, RCX, RSI);
    rr_op(e, 1, 0xD3, 4, RDX);                                    /* shl rdx, cl: normalized */
    mem_op(e, 0, 0, 0x8D, RCX, RSI, -1, 0, F80_BIAS);             /* lea ecx, [rsi + BIAS] */
    rr_op(e, 0, 0x81, 4, R9); b4(e, 0x8000);
    rr_op(e, 0, 0x09, R9, RCX);                                   /* the sign */
    uint8_t *done = jmp32(e);
    patch(e, zero, e->p);
    rr_op(e, 0, 0x33, RCX, RCX);                                  /* +0 (rdx = 0) */
    patch(e, done, e->p);
}

/* FST/FSTP m64 / m32 of the value in rdi/esi at round to nearest: rdi = the
 * image, r8d = PE and C1; a zero, a value out of the format's normal
 * range (or in its top binade) goes to `slow` (the operands unchanged). */
static void x87_to_ieee(struct em *e, int f64, uint8_t **slow)
{
    int fb = f64 ? 52 : 23, drop = 63 - fb;
    int32_t bias = f64 ? 1023 : 127, emin = F80_BIAS - bias + 1, emx = F80_BIAS + bias;
    rr_op(e, 1, 0x85, RDI, RDI);
    slow[0] = jcc32(e, CC_NS);                                    /* not normal, or zero */
    rr_op(e, 0, 0x8B, RAX, RSI);
    rr_op(e, 0, 0x81, 4, RAX); b4(e, 0x7FFF);
    mem_op(e, 0, 0, 0x8D, RCX, RAX, -1, 0, -emin);
    rr_op(e, 0, 0x81, 7, RCX); b4(e, (uint32_t)(emx - 1 - emin));
    slow[1] = jcc32(e, CC_A);
    rr_op(e, 1, 0x8B, RDX, RDI);
    rr_op(e, 1, 0xC1, 4, RDX); b1(e, (uint8_t)(64 - drop));       /* the dropped bits */
    rr_op(e, 1, 0xC1, 5, RDI); b1(e, (uint8_t)drop);              /* the kept ones, the integer bit at fb */
    x87_up(e, R8, 0);
    /* The integer bit adds one to the exponent field, which therefore gets
     * the biased exponent - 1; a carry out of the rounding (bit fb + 1)
     * goes on into it the same way. */
    rr_op(e, 1, 0x01, R9, RDI);                                   /* add rdi, r9: rounded */
    rr_op(e, 0, 0x81, 5, RAX); b4(e, (uint32_t)emin);             /* sub eax, emin */
    rr_op(e, 1, 0xC1, 4, RAX); b1(e, (uint8_t)fb);
    rr_op(e, 1, 0x01, RAX, RDI);
    rr_op(e, 0, 0x8B, RAX, RSI);
    rr_op(e, 0, 0x81, 4, RAX); b4(e, 0x8000);
    rr_op(e, 1, 0xC1, 4, RAX); b1(e, (uint8_t)(f64 ? 48 : 16));   /* the sign */
    rr_op(e, 1, 0x09, RAX, RDI);
}

/* FDP and FDS of a memory form (r15d = the offset); FDS only when the
 * run has not stored that segment's selector yet (no segment register
 * changes inside a run, and a stub's handler stores the same one) */
static void x87_fdp(struct em *e, const struct insn *i)
{
    st(e, FPU_F(fdp), R15);
    if (e->x87_fds == i->seg)
        return;
    ld16(e, RAX, SEG_F(i->seg, sel));
    st16(e, FPU_F(fds), RAX);
    e->x87_fds = i->seg;
}

static void x87_mem_op(struct em *e, uint32_t k, const struct x87op *x)
{
    const struct insn *i = &e->insns[k];
    unsigned t = e->x87_top;
    emit_ea(e, i);
    if (x->kind == XK_FLD_M) {
        if (x->integer)
            x87_load_int(e, k, i->seg);
        else
            x87_load(e, k, i->seg, x->size);
        x87_fdp(e, i);
        x87_push(e);
        return;
    }
    if (x->kind == XK_ARITH_M) {   /* ST0 = ST0 op m */
        int swap, neg;
        const void *fn = x87_fn(x->op, &swap, &neg);
        x87_load(e, k, i->seg, x->size);
        if (swap) {
            rr_op(e, 1, 0x8B, RDI, RDX);
            rr_op(e, 0, 0x8B, RSI, RCX);
            ld64(e, RDX, X87_M(t));
            ld16(e, RCX, X87_SE(t));
        } else {
            ld64(e, RDI, X87_M(t));
            ld16(e, RSI, X87_SE(t));
        }
        if (neg) {
            rr_op(e, 0, 0x81, 6, RCX); b4(e, 0x8000);
        }
        x87_arith(e, k, fn, t);
        x87_fdp(e, i);
        return;
    }
    /* FST/FSTP m: the image in line, or by fpu_jit_to_f64/32 */
    ld64(e, RDI, X87_M(t));
    ld16(e, RSI, X87_SE(t));
    uint8_t *slow[2];
    x87_to_ieee(e, x->size == 8, slow);
    uint8_t *conv = jmp32(e);
    patch(e, slow[0], e->p);
    patch(e, slow[1], e->p);
    call_abs(e, x->size == 8 ? (const void *)fpu_jit_to_f64 : (const void *)fpu_jit_to_f32);
    rr_op(e, 1, 0x85, RDX, RDX);
    x87_stub(e, k, CC_NS);
    rr_op(e, 1, 0x8B, RDI, RAX);                                  /* the image */
    rr_op(e, 1, 0x8B, R8, RDX);                                   /* the flags */
    rr_op(e, 1, 0xC1, 5, R8); b1(e, 16);
    rr_op(e, 0, 0x81, 4, R8); b4(e, 0x7F | FSW_C1);
    patch(e, conv, e->p);
    emit_fast(e, k, i->seg, x->size, MMU_WRITE, ST_X87);
    x87_mark_stub(e);
    mem_op(e, x->size == 8, 0, 0x89, RDI, RAX, -1, 0, 0);
    op_ebp(e, 4, ~(uint32_t)FSW_C1);
    rr_op(e, 0, 0x09, R8, RBP);
    x87_fdp(e, i);
    if (x->pop)
        x87_pop(e);
}

/* FLD m right after FSTP m of the same size to the same operand (GCC's
 * spills under -fexcess-precision=standard: fft's butterfly in set b) */
static int x87_reload_pair(const struct insn *a, const struct insn *b)
{
    struct x87op xa = x87_decode(a), xb = x87_decode(b);
    return xa.kind == XK_FST_M && xa.pop && xb.kind == XK_FLD_M && !xb.integer && xa.size == xb.size &&
           a->seg == b->seg && a->base == b->base && a->index == b->index && a->scale == b->scale &&
           a->disp == b->disp;
}

/* The FLD of such a pair (instruction k). When the FSTP went through its
 * fast store, rdi still holds the image and ecx/edx the TLB index and the
 * page: the load needs neither the address nor the memory, only a look at
 * the read TLB so that the hit is counted where the interpreter counts
 * one. Anything else (the FSTP's stubs, which rejoin here: the store is
 * done, the load is not; no read entry; a value neither normal nor zero,
 * which the store's in-line and fpu_jit_to_* ways do not give today)
 * loads the usual way. FDP and FDS are the FSTP's already. */
static void x87_reload(struct em *e, uint32_t k, const struct x87op *x, int held)
{
    int f64 = x->size == 8;
    int32_t tag = MMU_READ * (int32_t)(TLB_SIZE * sizeof(struct tlb_entry)) + (int32_t)offsetof(struct tlb_entry, tag);
    mem_op(e, 0, 0, 0x3B, RDX, R14, RCX, 0, tag);                 /* cmp edx, [the read entry's tag] */
    uint8_t *slow = jcc32(e, CC_NE);
    rr_op(e, f64, 0x8B, RDX, RDI);
    uint8_t *other = x87_from_ieee(e, f64);
    rr_op(e, 1, 0xFF, 0, R13);                                    /* inc r13: the read's TLB hit */
    unsigned t = e->x87_top;
    x87_push(e);
    uint8_t *done = jmp32(e);
    e->x87_top = t;
    patch(e, slow, e->p);
    patch(e, other, e->p);
    rejoin_here(e, held);
    x87_mem_op(e, k, x);
    patch(e, done, e->p);
}

/* Instruction k (of the run) */
static void x87_op(struct em *e, uint32_t k, const struct x87op *x)
{
    unsigned t = e->x87_top, pi = x87_p(e, x->st);
    switch (x->kind) {
    case XK_FLD_ST:
        ld64(e, RDX, X87_M(pi));
        ld16(e, RCX, X87_SE(pi));
        x87_push(e);
        break;
    case XK_FLDK:
        movi64(e, RDX, x->op ? 0 : 1ull << 63);
        movi(e, RCX, x->op ? 0 : F80_BIAS);
        x87_push(e);
        break;
    case XK_FXCH:
        ld64(e, RDX, X87_M(t));
        ld64(e, RCX, X87_M(pi));
        st64(e, X87_M(t), RCX);
        st64(e, X87_M(pi), RDX);
        ld16(e, RDX, X87_SE(t));
        ld16(e, RCX, X87_SE(pi));
        st16(e, X87_SE(t), RCX);
        st16(e, X87_SE(pi), RDX);
        op_ebp(e, 4, ~(uint32_t)FSW_C1);
        break;
    case XK_FSIGN:
        op16i(e, x->op ? 4 : 6, X87_SE(t), x->op ? 0x7FFF : 0x8000);   /* and / xor */
        op_ebp(e, 4, ~(uint32_t)FSW_C1);
        break;
    case XK_FST_ST:
        ld64(e, RDX, X87_M(t));
        ld16(e, RCX, X87_SE(t));
        x87_put(e, pi);
        op16i(e, 1, FPU_F(tags), 1u << pi);
        op_ebp(e, 4, ~(uint32_t)FSW_C1);
        if (x->pop)
            x87_pop(e);
        break;
    case XK_ARITH_R: {
        int swap, neg;
        const void *fn = x87_fn(x->op, &swap, &neg);
        unsigned px = x->to_st ? pi : t, py = x->to_st ? t : pi;
        unsigned pa = swap ? py : px, pb = swap ? px : py;
        ld64(e, RDI, X87_M(pa));
        ld16(e, RSI, X87_SE(pa));
        ld64(e, RDX, X87_M(pb));
        ld16(e, RCX, X87_SE(pb));
        if (neg) {
            rr_op(e, 0, 0x81, 6, RCX); b4(e, 0x8000);             /* xor ecx, 0x8000 */
        }
        x87_arith(e, k, fn, px);
        if (x->pop)
            x87_pop(e);
        break;
    }
    case XK_COMI:
        ld64(e, RDI, X87_M(t));
        ld16(e, RSI, X87_SE(t));
        ld64(e, RDX, X87_M(pi));
        ld16(e, RCX, X87_SE(pi));
        x87_comi(e, k);
        ld(e, RCX, CPU(eflags));
        rr_op(e, 0, 0x81, 4, RCX); b4(e, 0x003F7FD5u & ~(uint32_t)FL_ARITH);
        rr_op(e, 0, 0x09, RAX, RCX);                              /* or ecx, eax */
        rr_op(e, 0, 0x83, 1, RCX); b1(e, 2);                      /* or ecx, 2 */
        st(e, CPU(eflags), RCX);
        sti(e, CPU(lf_op), LF_NONE);
        op_ebp(e, 4, ~(uint32_t)FSW_C1);
        if (x->pop)
            x87_pop(e);
        break;
    default:
        x87_mem_op(e, k, x);
        break;
    }
}

/* Integer instructions a run may go on over: in line, never leaving the
 * block (no memory operand, no fault) and keeping ebp. */
static int x87_run_transparent(const struct insn *i)
{
    if (i->opc >= 0xD8 && i->opc <= 0xDF)
        return 0;
    struct form_args f = { 0, 0, 0, 1, 0, 0 };
    switch (pick_form(i, &f)) {
    case FM_MOV_RR: case FM_MOV_RI: case FM_LEA: case FM_ALU_RR: case FM_ALU_RI: case FM_IMUL_RR:
    case FM_IMUL_RRI: case FM_SHIFT: case FM_MOVZX_RR8: case FM_MOVZX_RR16: case FM_MOV_R8I: case FM_MOV_R8R:
    case FM_INCDEC:
    case FM_JCC:   /* inside a superblock; taken, it flushes the run's state first (emit_jcc) */
    case FM_MOV_RM: case FM_MOVZX_RM8: case FM_MOVZX_RM16:   /* their slow path flushes it too */
        return 1;
    default:
        return 0;
    }
}

/* The longest run from instruction k on, and what it needs; 0: none. It
 * may take in integer instructions (x87_run_transparent) but ends with an
 * x87 one. */
static uint32_t x87_plan_run(struct em *e, uint32_t k, struct x87plan *p)
{
    uint32_t end = k, last = k;
    *p = (struct x87plan){ e->x87_top, 0, 0, 0, 0, 0 };
    for (; end < e->b->n; end++) {
        if (x87_run_transparent(&e->insns[end]))
            continue;
        struct x87op x = x87_decode(&e->insns[end]);
        if (x.kind == XK_NONE)
            break;
        struct x87plan q = *p;
        plan_op(&q, &x);
        if (q.bad)
            break;
        *p = q;
        last = end + 1;
    }
    return last - k;
}

/* Instruction k when it is an x87 one: 1 when emitted in line, else 0 (the
 * handler; the TOP expected after it is noted). */
static int emit_x87(struct em *e, uint32_t k)
{
    const struct insn *i = &e->insns[k];
    if (k >= e->x87_end) {   /* not in a run: start one? */
        struct x87plan p;
        uint32_t n = e->x87_top_ok ? x87_plan_run(e, k, &p) : 0;
        if (!n) {
            int t = x87_top_after(i, e->x87_top);
            e->x87_top_ok = e->x87_top_ok && t >= 0;
            e->x87_top = (unsigned)t & 7;
            return 0;
        }
        e->x87_k0 = k;
        e->x87_end = k + n;
        e->x87_last = -1;
        e->x87_fds = -1;
        x87_guard(e, k, &p);
    }
    struct x87op x = x87_decode(i);
    int from = e->nstubs;
    if (e->x87_held >= 0)
        x87_reload(e, k, &x, e->x87_held);
    else
        x87_op(e, k, &x);
    e->x87_held = -1;
    if (k + 1 < e->x87_end && !e->tlb_per_access && x87_reload_pair(i, &e->insns[k + 1]))
        e->x87_held = from;   /* the FSTP's stubs rejoin in the FLD's slow way */
    else
        rejoin_here(e, from);
    e->x87_last = (int32_t)k;
    if (k + 1 == e->x87_end) {
        x87_flush(e, e->x87_top, (int32_t)k);
        e->stubs[e->x87_run_stub].rejoin = e->p;
        e->stubs[e->x87_run_stub].tlb_back = e->tlb_n - e->stubs[e->x87_run_stub].tlb_n;
    }
    e->kind = x.kind == XK_COMI ? -1 : e->kind_in;   /* FCOMI sets the flags */
    return 1;
}

/* Instruction k in line; returns 0 when it has no inline form, 2 when it
 * set EIP (a control transfer, always last), 3 when it also emitted its
 * block exits (Jcc), else 1. */
static int emit_inline(struct em *e, uint32_t k)
{
    const struct insn *i = &e->insns[k];
    if (i->opc >= 0xD8 && i->opc <= 0xDF)
        return emit_x87(e, k);
    if (i->opc == 0x1AE || (i->opc >= 0x160 && i->opc <= 0x17F) || i->opc >= 0x1D0)
        e->x87_top_ok = 0;   /* FXRSTOR, MMX: TOP is no longer known */
    struct form_args f = { 0, 0, 0, 1, 0, 0 };
    enum form fm = pick_form(i, &f);
    int last = k + 1 == e->b->n;
    if (fm == FM_NONE)
        return 0;
    if (form_ends_block(fm) && !last && fm != FM_JCC)
        return 0;
    e->flags_dead = 0;
    /* register forms only: after a memory access the block may be left
     * (a slow path's page-written/exit check), and then the flags count */
    if (fm == FM_ALU_RR || fm == FM_ALU_RI || fm == FM_SHIFT || fm == FM_SHIFT_CL || fm == FM_IMUL_RR ||
        fm == FM_IMUL_RRI || fm == FM_INCDEC || fm == FM_ROT)
        e->flags_dead = flags_dead_after(e, k);
    /* ROL/ROR set CF and OF only, from the result: no lazy kind says that,
     * so they are in line only where a later instruction of the block sets
     * all flags before anything can look at them */
    if (fm == FM_ROT && !e->flags_dead)
        return 0;
    switch (fm) {
    case FM_MOV_RR:
        ld(e, RAX, GREG(f.b));
        st(e, GREG(f.a), RAX);
        break;
    case FM_MOV_RI:
        sti(e, GREG(f.a), f.imm);
        break;
    case FM_LEA:
        emit_ea(e, i);
        st(e, GREG(f.a), R15);
        break;
    case FM_MOV_RM: case FM_MOVZX_RM8: case FM_MOVZX_RM16: {
        int from = e->nstubs;
        emit_ea(e, i);
        emit_load(e, k, i->seg, fm == FM_MOV_RM ? 4 : fm == FM_MOVZX_RM8 ? 1 : 2, TAIL_LOAD4, GREG(f.a));
        if (x87_in_run(e, k))                  /* inside an x87 run: its slow path flushes it */
            for (int st = from; st < e->nstubs; st++) {
                e->stubs[st].in_run = 1;
                x87_mark(e, &e->stubs[st]);
            }
        break;
    }
    case FM_MOVZX_RR16:
        mem_op(e, 0, 0, 0xB70F, RAX, RBX, -1, 0, GREG(f.b));
        st(e, GREG(f.a), RAX);
        break;
    case FM_GRP3_NOT:
        ld(e, RAX, GREG(f.a));
        rr_op(e, 0, 0xF7, 2, RAX);                   /* not eax */
        st(e, GREG(f.a), RAX);
        break;
    case FM_GRP3_NEG:   /* flags as SUB 0 - a */
        ld(e, RCX, GREG(f.a));
        rr_op(e, 0, 0x8B, RAX, RCX);
        rr_op(e, 0, 0xF7, 3, RAX);                   /* neg eax */
        st(e, GREG(f.a), RAX);
        lf_begin(e);
        lf_sti(e, CPU(lf_op1), 0);
        lf_st(e, CPU(lf_op2), RCX);
        lf_st(e, CPU(lf_res), RAX);
        lf_sti(e, CPU(lf_op), LF_SUB | 2u << 4);
        break;
    case FM_GRP3_MUL: case FM_GRP3_IMUL:   /* EDX:EAX = EAX * r; CF = OF = the high half matters */
        ld(e, RCX, GREG(f.a));
        ld(e, RAX, GREG(R_EAX));
        rr_op(e, 0, 0xF7, fm == FM_GRP3_MUL ? 4 : 5, RCX);   /* mul/imul ecx */
        b1(e, 0x0F); b1(e, 0x92); b1(e, 0xC1);       /* setc cl */
        rr_op(e, 0, 0xB60F, RCX, RCX);
        st(e, GREG(R_EAX), RAX);
        st(e, GREG(R_EDX), RDX);
        lf_begin(e);
        lf_st(e, CPU(lf_res), RAX);
        lf_sti(e, CPU(lf_op1), 0);
        lf_st(e, CPU(lf_op2), RCX);
        lf_sti(e, CPU(lf_op), LF_MUL | 2u << 4);
        break;
    case FM_GRP3_DIV: {   /* #DE (divisor 0, quotient too big) from the handler */
        int from = e->nstubs;
        ld(e, RCX, GREG(f.a));
        ld(e, RDX, GREG(R_EDX));
        rr_op(e, 0, 0x3B, RDX, RCX);                 /* cmp edx, ecx: EDX >= divisor (or 0) overflows */
        add_stub(e, ST_HANDLER, k, jcc32(e, CC_AE), 0, 0);
        ld(e, RAX, GREG(R_EAX));
        rr_op(e, 0, 0xF7, 6, RCX);                   /* div ecx */
        st(e, GREG(R_EAX), RAX);
        st(e, GREG(R_EDX), RDX);
        rejoin_here(e, from);
        break;
    }
    case FM_MOVZX_RR8:
        mem_op(e, 0, 0, 0xB60F, RAX, RBX, -1, 0, reg8(f.b));
        st(e, GREG(f.a), RAX);
        break;
    case FM_MOV_R8I:
        mem_op(e, 0, 0, 0xC6, 0, RBX, -1, 0, reg8(f.a)); b1(e, f.imm);   /* mov byte [reg8], imm8 */
        break;
    case FM_MOV_R8R:
        mem_op(e, 0, 0, 0xB60F, RAX, RBX, -1, 0, reg8(f.b));
        mem_op(e, 0, 0, 0x88, RAX, RBX, -1, 0, reg8(f.a));
        break;
    case FM_MOV_R8M:
        emit_ea(e, i);
        emit_load(e, k, i->seg, 1, TAIL_LOAD1, reg8(f.a));
        break;
    case FM_MOV_R16M:
        emit_ea(e, i);
        emit_load(e, k, i->seg, 2, TAIL_LOAD2, GREG(f.a));
        break;
    case FM_MOV_MR: case FM_MOV_MI: case FM_MOV_M8R: case FM_MOV_M16R: case FM_MOV_M8I: {
        int size = fm == FM_MOV_M8R || fm == FM_MOV_M8I ? 1 : fm == FM_MOV_M16R ? 2 : 4;
        emit_ea(e, i);
        if (fm == FM_MOV_MI || fm == FM_MOV_M8I)
            movi(e, RDI, f.imm);
        else if (size == 1)
            mem_op(e, 0, 0, 0xB60F, RDI, RBX, -1, 0, reg8(f.b));
        else
            ld(e, RDI, GREG(f.b));
        int from = e->nstubs;
        emit_write(e, k, i->seg, size);   /* the last thing the instruction does */
        set_tail(e, from, ST_WRITE, TAIL_NONE, 0);
        break;
    }
    case FM_ALU_RR: case FM_ALU_RI:
        ld(e, RAX, GREG(f.a));
        if (fm == FM_ALU_RR)
            ld(e, RCX, GREG(f.b));
        else
            movi(e, RCX, f.imm);
        alu_compute(e, f.op);
        if (f.store)
            st(e, GREG(f.a), RAX);
        break;
    case FM_ALU_RM:   /* a = register, b = memory */
        emit_ea(e, i);
        emit_read(e, k, i->seg, 4);
        rr_op(e, 0, 0x8B, RCX, RAX);                 /* mov ecx, eax (b) */
        ld(e, RAX, GREG(f.a));
        alu_compute(e, f.op);
        if (f.store)
            st(e, GREG(f.a), RAX);
        emit_mem_done(e, k);
        break;
    case FM_ALU_MR: case FM_ALU_MI:   /* a = memory, b = register or immediate */
        emit_ea(e, i);
        emit_read(e, k, i->seg, 4);
        if (f.store) {
            rr_op(e, 0, 0x8B, RBP, RAX);             /* ebp = a, kept over the write */
            rr_op(e, 0, 0x8B, RDI, RAX);
            if (fm == FM_ALU_MR)
                ld(e, RCX, GREG(f.b));
            else
                movi(e, RCX, f.imm);
            rr_op(e, 0, alu_host_op[f.op], RCX, RDI);    /* op edi, ecx */
            emit_write(e, k, i->seg, 4);
            rr_op(e, 0, 0x8B, RAX, RBP);
        }
        if (fm == FM_ALU_MR)
            ld(e, RCX, GREG(f.b));
        else
            movi(e, RCX, f.imm);
        alu_compute(e, f.op);
        emit_mem_done(e, k);
        break;
    case FM_INCDEC:
        emit_incdec(e, &f);
        break;
    case FM_INCDEC_M:
        emit_ea(e, i);
        emit_read(e, k, i->seg, 4);
        rr_op(e, 0, 0x8B, RBP, RAX);                 /* ebp = a */
        mem_op(e, 0, 0, 0x8D, RDI, RAX, -1, 0, f.op ? -1 : 1);
        emit_write(e, k, i->seg, 4);
        emit_incdec_flags(e, f.op, -1);
        emit_mem_done(e, k);
        break;
    case FM_IMUL_RR: case FM_IMUL_RRI:
        ld(e, RAX, GREG(fm == FM_IMUL_RR ? f.a : f.b));
        if (fm == FM_IMUL_RR)
            ld(e, RCX, GREG(f.b));
        else
            movi(e, RCX, f.imm);
        emit_imul(e, f.a);
        break;
    case FM_IMUL_RM: case FM_IMUL_RMI:
        emit_ea(e, i);
        emit_read(e, k, i->seg, 4);
        if (fm == FM_IMUL_RM)
            ld(e, RCX, GREG(f.a));
        else
            movi(e, RCX, f.imm);
        emit_imul(e, f.a);
        emit_mem_done(e, k);
        break;
    case FM_CMOV_RR: case FM_CMOV_RM:
        if (fm == FM_CMOV_RM) {
            emit_ea(e, i);
            emit_read(e, k, i->seg, 4);
        } else {
            ld(e, RAX, GREG(f.b));
        }
        rr_op(e, 0, 0x8B, RBP, RAX);                 /* the value, over the condition */
        cond_al(e, f.cc, fm == FM_CMOV_RR);
        b1(e, 0x84); b1(e, 0xC0);                    /* test al, al */
        {
            uint8_t *skip = jcc32(e, CC_E);
            st(e, GREG(f.a), RBP);
            patch(e, skip, e->p);
        }
        if (fm == FM_CMOV_RM)
            emit_mem_done(e, k);
        break;
    case FM_SETCC_R:
        cond_al(e, f.cc, 1);
        mem_op(e, 0, 0, 0x88, RAX, RBX, -1, 0, reg8(f.a));   /* mov [reg8], al */
        break;
    case FM_SETCC_M:
        emit_ea(e, i);
        cond_al(e, f.cc, 0);
        rr_op(e, 0, 0xB60F, RDI, RAX);               /* movzx edi, al */
        emit_write(e, k, i->seg, 1);
        emit_mem_done(e, k);
        break;
    case FM_ADCSBB_RR: case FM_ADCSBB_RI:
        emit_cf_to(e, RBP);
        ld(e, RAX, GREG(f.a));
        if (fm == FM_ADCSBB_RR)
            ld(e, RCX, GREG(f.b));
        else
            movi(e, RCX, f.imm);
        emit_adcsbb(e, f.op == 3);
        st(e, GREG(f.a), RAX);
        break;
    case FM_ADCSBB_RM:
        emit_ea(e, i);
        emit_read(e, k, i->seg, 4);
        rr_op(e, 1, 0x8B, R15, RAX);                 /* b (the address is no longer needed) */
        emit_cf_to(e, RBP);
        rr_op(e, 0, 0x8B, RCX, R15);
        ld(e, RAX, GREG(f.a));
        emit_adcsbb(e, f.op == 3);
        st(e, GREG(f.a), RAX);
        emit_mem_done(e, k);
        break;
    case FM_MOV_EAX_MOFFS:
        movi(e, R15, i->disp);
        emit_load(e, k, i->seg, 4, TAIL_LOAD4, GREG(R_EAX));
        break;
    case FM_MOV_MOFFS_EAX:
        movi(e, R15, i->disp);
        ld(e, RDI, GREG(R_EAX));
        emit_write(e, k, i->seg, 4);
        emit_mem_done(e, k);
        break;
    case FM_SHIFT:
        emit_shift(e, &f);
        break;
    case FM_ROT:   /* rol/ror dword [reg], n (a count of 0 changes nothing) */
        if (f.imm) {
            mem_op(e, 0, 0, 0xC1, f.op, RBX, -1, 0, GREG(f.a));
            b1(e, f.imm);
        }
        break;
    case FM_ALU8_RR: case FM_ALU8_RI:
        mem_op(e, 0, 0, 0xB60F, RAX, RBX, -1, 0, reg8(f.a));      /* movzx eax, byte [a] */
        if (fm == FM_ALU8_RR)
            mem_op(e, 0, 0, 0xB60F, RCX, RBX, -1, 0, reg8(f.b));
        else
            movi(e, RCX, f.imm);
        alu8_compute(e, f.op);
        if (f.store)
            mem_op(e, 0, 0, 0x88, RAX, RBX, -1, 0, reg8(f.a));    /* mov [a], al */
        break;
    case FM_ALU8_RM:   /* a = register, b = memory */
        emit_ea(e, i);
        emit_read(e, k, i->seg, 1);
        rr_op(e, 0, 0x8B, RCX, RAX);
        mem_op(e, 0, 0, 0xB60F, RAX, RBX, -1, 0, reg8(f.a));
        alu8_compute(e, f.op);
        if (f.store)
            mem_op(e, 0, 0, 0x88, RAX, RBX, -1, 0, reg8(f.a));
        emit_mem_done(e, k);
        break;
    case FM_ALU8_MR: case FM_ALU8_MI:   /* a = memory */
        emit_ea(e, i);
        emit_read(e, k, i->seg, 1);
        if (f.store) {
            rr_op(e, 0, 0x8B, RBP, RAX);             /* a, kept over the write */
            rr_op(e, 0, 0x8B, RDI, RAX);
            if (fm == FM_ALU8_MR)
                mem_op(e, 0, 0, 0xB60F, RCX, RBX, -1, 0, reg8(f.b));
            else
                movi(e, RCX, f.imm);
            rr_op(e, 0, alu_host_op[f.op], RCX, RDI);
            emit_write(e, k, i->seg, 1);
            rr_op(e, 0, 0x8B, RAX, RBP);
        }
        if (fm == FM_ALU8_MR)
            mem_op(e, 0, 0, 0xB60F, RCX, RBX, -1, 0, reg8(f.b));
        else
            movi(e, RCX, f.imm);
        alu8_compute(e, f.op);
        emit_mem_done(e, k);
        break;
    case FM_SHIFT_M: case FM_SHIFT_CL_M:
        emit_shift_mem(e, k, &f, fm == FM_SHIFT_CL_M);
        break;
    case FM_SHIFT_CL: {   /* count CL & 31; 0 changes nothing */
            ld(e, RCX, GREG(R_ECX));
        rr_op(e, 0, 0x83, 4, RCX); b1(e, 0x1F);              /* and ecx, 31 */
        uint8_t *skip = jcc32(e, CC_E);
        ld(e, RAX, GREG(f.a));
        st(e, CPU(lf_op1), RAX);
        rr_op(e, 0, 0xD3, f.op == 6 ? 4 : f.op, RAX);        /* shl/shr/sar eax, cl */
        st(e, GREG(f.a), RAX);
        st(e, CPU(lf_res), RAX);
        st(e, CPU(lf_op2), RCX);
        sti(e, CPU(lf_op), (uint32_t)shift_kinds[f.op] | 2u << 4);
        patch(e, skip, e->p);
        break;
    }
    case FM_PUSH: {
        int from = e->nstubs;
        guard_stack32(e, k);
        ld(e, R15, GREG(R_ESP));
        rr_op(e, 0, 0x83, 5, R15); b1(e, 4);         /* sub r15d, 4 */
        if (f.b >= 0)
            ld(e, RDI, GREG(f.b));
        else
            movi(e, RDI, f.imm);
        emit_write(e, k, S_SS, 4);
        set_tail(e, from, ST_WRITE, TAIL_ESP, 0);
        st(e, GREG(R_ESP), R15);
        rejoin_here(e, from);   /* the 16-bit-stack handler comes back here */
        break;
    }
    case FM_PUSH_M: {   /* PUSH r/m32 from memory: its address is taken before ESP moves */
        int from = e->nstubs;
        guard_stack32(e, k);
        emit_ea(e, i);
        emit_read(e, k, i->seg, 4);
        rr_op(e, 0, 0x8B, RDI, RAX);                 /* edi = the value */
        ld(e, R15, GREG(R_ESP));
        rr_op(e, 0, 0x83, 5, R15); b1(e, 4);         /* sub r15d, 4 */
        int wfrom = e->nstubs;
        emit_write(e, k, S_SS, 4);
        set_tail(e, wfrom, ST_WRITE, TAIL_ESP, 0);
        st(e, GREG(R_ESP), R15);
        emit_mem_done(e, k);                         /* after a slow read */
        rejoin_here(e, from);                        /* the 16-bit-stack handler comes back here */
        break;
    }
    case FM_POP: {
        int from = e->nstubs;
        guard_stack32(e, k);
        ld(e, R15, GREG(R_ESP));
        emit_read(e, k, S_SS, 4);
        set_tail(e, from, ST_READ, TAIL_POP, GREG(f.a));
        mem_op(e, 0, 0, 0x8D, RCX, R15, -1, 0, 4);   /* lea ecx, [r15 + 4] */
        st(e, GREG(R_ESP), RCX);
        st(e, GREG(f.a), RAX);                       /* after ESP: POP ESP */
        rejoin_here(e, from);
        break;
    }
    case FM_JCC:
        emit_jcc(e, k, f.cc);
        break;
    case FM_JMP:
        movi(e, RAX, e->eip[k + 1] + i->imm);
        jump_to_eax(e, k);
        e->last_target = (uint32_t)(e->eip[k + 1] + i->imm);
        break;
    case FM_CALL: {
        int from = e->nstubs;
        guard_stack32(e, k);
        movi(e, RAX, e->eip[k + 1] + i->imm);
        emit_call_push(e, k);
        st(e, GREG(R_ESP), R15);
        sti(e, CPU(eip), e->eip[k + 1] + i->imm);
        emit_mem_done(e, k);
        rejoin_here(e, from);
        e->last_target = (uint32_t)(e->eip[k + 1] + i->imm);
        break;
    }
    case FM_RET: {
        int from = e->nstubs;
        guard_stack32(e, k);
        ld(e, R15, GREG(R_ESP));
        emit_read(e, k, S_SS, 4);
        mem_op(e, 0, 0, 0x3B, RAX, RBX, -1, 0, SEG_F(S_CS, limit));
        add_stub(e, ST_HANDLER, k, jcc32(e, CC_A), 0, 0);
        mem_op(e, 0, 0, 0x8D, RCX, R15, -1, 0, 4);
        st(e, GREG(R_ESP), RCX);
        st(e, CPU(eip), RAX);
        emit_mem_done(e, k);                         /* (nothing: a RET is the block's last) */
        rejoin_here(e, from);
        e->eip_in_eax = 1;
        break;
    }
    case FM_JMP_EV: {   /* JMP r/m32: an indirect exit (no fixed target) */
        int from = e->nstubs;
        if (i->mod != 3) {
            emit_ea(e, i);
            emit_read(e, k, i->seg, 4);
        } else {
            ld(e, RAX, GREG(f.a));
        }
        jump_to_eax(e, k);
        rejoin_here(e, from);
        break;
    }
    case FM_CALL_EV: {   /* CALL r32: target checked before the push, as the handler does */
        int from = e->nstubs;
        guard_stack32(e, k);
        ld(e, RAX, GREG(f.a));
        emit_call_push(e, k);
        ld(e, RAX, GREG(f.a));                       /* before ESP moves: CALL ESP jumps to the old ESP */
        st(e, GREG(R_ESP), R15);
        st(e, CPU(eip), RAX);
        rejoin_here(e, from);
        e->eip_in_eax = 1;
        break;
    }
    default:
        return 0;
    }
    e->flags_dead = 0;
    switch (fm) {   /* the forms that leave the lazy flags as they were */
    case FM_MOV_RR: case FM_MOV_RI: case FM_MOV_RM: case FM_MOV_MR: case FM_MOV_MI: case FM_MOV_R8M:
    case FM_MOV_M8R: case FM_MOVZX_RM8: case FM_MOVZX_RM16: case FM_MOVZX_RR16: case FM_MOVZX_RR8:
    case FM_MOV_R16M: case FM_MOV_M16R: case FM_LEA: case FM_PUSH: case FM_PUSH_M: case FM_POP: case FM_GRP3_NOT:
    case FM_CMOV_RR: case FM_CMOV_RM: case FM_SETCC_R: case FM_SETCC_M: case FM_MOV_EAX_MOFFS:
    case FM_MOV_MOFFS_EAX: case FM_MOV_M8I: case FM_MOV_R8I: case FM_MOV_R8R: case FM_ROT:
        e->kind = e->kind_in;
        break;
    default:
        break;
    }
    return fm == FM_JCC ? (last ? 3 : 1) : form_ends_block(fm) ? 2 : 1;
}

/* ---- stubs, prologue, epilogue ---- */

/* A stub's jump back: the lazy flags into their registers again (its
 * calls lost them), the fast TLB hits it did not pass taken off */
static void stub_back(struct em *e, const struct stub *s)
{
    if (s->lfr)
        lf_reload(e, s->lfr_cf);
    if (s->tlb_back)
        mem_op(e, 1, 0, 0x8D, R13, R13, -1, 0, -(int32_t)s->tlb_back);   /* lea r13, [r13 - n] */
    patch(e, jmp32(e), s->rejoin);
}

static void emit_stub(struct em *e, struct stub *s)
{
    for (int p = 0; p < s->npatch; p++)
        patch(e, s->patch[p], e->p);
    uint32_t k = s->k;
    e->lfr = s->lfr;   /* the lazy flags to struct cpu before any call */
    e->lfr_kind = s->lfr_kind;
    e->lfr_cf = s->lfr_cf;
    lf_store(e, 1);
    e->tlb_n = s->tlb_n;   /* (for the exits from here) */
    switch (s->kind) {
    case ST_READ:
    case ST_WRITE:
        if (s->in_run)   /* a load inside an x87 run: its state first (ebp is used below) */
            x87_flush(e, s->top, s->prev);
        flush_tlb(e);
        set_fault_state(e, k);
        sti(e, CPU(eip), e->eip[k + 1]);
        if (s->kind == ST_WRITE)
            rr_op(e, 0, 0x8B, RCX, RDI);             /* value */
        rr_op(e, 0, 0x8B, RDX, R15);                 /* offset */
        movi(e, RSI, s->seg);
        if (s->kind == ST_WRITE)
            movi(e, R8, s->size);
        else
            movi(e, RCX, s->size);
        rr_op(e, 1, 0x8B, RDI, RBX);
        call_abs(e, s->kind == ST_READ ? (const void *)cpu_read : (const void *)cpu_write);
        if (s->kind == ST_READ)
            rr_op(e, 0, 0x8B, RBP, RAX);             /* the value, over the sync */
        rr_op(e, 1, 0x8B, RDI, RBX);
        call_abs(e, (const void *)jit_sync_mem);
        if (s->kind == ST_READ)
            rr_op(e, 0, 0x8B, RAX, RBP);
        if (s->tail) {   /* leave from here when the block must, else go on */
            if (k + 1 < e->b->n) {
                test_leave(e, RCX);   /* (eax: the loaded value) */
                uint8_t *leave = jcc32(e, CC_NE);
                if (s->in_run) {      /* on in the run: ebp = FSW again */
                    b1(e, 0x50);                             /* push rax */
                    x87_load_fsw(e);
                    b1(e, 0x58);                             /* pop rax */
                }
                stub_back(e, s);
                patch(e, leave, e->p);
                if (s->tail == TAIL_ESP) {
                    st(e, GREG(R_ESP), R15);
                } else if (s->tail == TAIL_POP) {
                    mem_op(e, 0, 0, 0x8D, RCX, R15, -1, 0, 4);   /* lea ecx, [r15 + 4] */
                    st(e, GREG(R_ESP), RCX);
                    st(e, s->tail_disp, RAX);
                } else if (s->tail != TAIL_NONE)
                    store_tail(e, s->tail, s->tail_disp);
                exit_after(e, k);
                return;
            }
            break;
        }
        mem_op(e, 0, 0, 0xC6, 0, RSP, -1, 0, 0); b1(e, 1);  /* mov byte [rsp], 1 */
        break;
    case ST_CHECK: case ST_CHECK_KEEP:
        if (s->kind == ST_CHECK_KEEP) {
            b1(e, 0x9C);                             /* pushfq */
            b1(e, 0x5D);                             /* pop rbp */
        }
        mem_op(e, 0, 0, 0xC6, 0, RSP, -1, 0, 0); b1(e, 0);  /* mov byte [rsp], 0 */
        sti(e, CPU(eip), e->eip[k + 1]);
        check_dirty(e, k);
        if (s->kind == ST_CHECK_KEEP) {
            b1(e, 0x55);                             /* push rbp */
            b1(e, 0x9D);                             /* popfq */
        }
        break;
    case ST_X87:
        x87_flush(e, s->top, s->prev);
        call_handler(e, k);
        x87_load_fsw(e);
        break;
    case ST_X87_RUN:
        for (uint32_t j = k; j < s->kend; j++) {
            call_handler(e, j);
            if (insn_is_jcc(&e->insns[j]))
                exit_if_jumped(e, j);
        }
        break;
    case ST_HANDLER:
        flush_tlb(e);
        set_fault_state(e, k);
        sti(e, CPU(eip), eip_after(e, k));
        rr_op(e, 1, 0x8B, RDI, RBX);
        movi64(e, RSI, (uint64_t)(uintptr_t)&e->insns[k]);
        call_abs(e, (const void *)e->insns[k].fn);
        if (k + 1 < e->b->n && !s->leave) {
            check_dirty(e, k);
            load_tlb_base(e);
            sync_after_call(e, k);
        } else {
            exit_after(e, k);
            return;
        }
        break;
    }
    stub_back(e, s);
}

struct jit {
    uint8_t *mem;         /* JIT_MEM bytes, read/write/execute */
    size_t used;
    size_t base;          /* bytes of shared routines at the start (kept by jit_reset) */
    size_t limit;         /* bytes of the buffer in use at most (JIT_MEM, less for tests) */
    uint8_t *chain_check;
    uint8_t *lf_save, *lf_load, *tlb_flush, *x87_zadd, *x87_zmul;
    struct jit_slot *slots;
    size_t nslots;
    struct jit_slot *table;   /* JIT_TABLE entries */
    uint64_t compiled;
    uint64_t lf_fallbacks;   /* blocks compiled again without the lazy flags in registers */
    int tlb_per_access;      /* count every fast TLB hit where it happens (tests compare) */
    struct em *em;        /* the compiler's scratch */
    FILE *perf_map;       /* SOFTVISOR_PERF_MAP set: /tmp/perf-PID.map for perf report */
};

static const int saved[] = { RBX, RBP, R12, R13, R14, R15 };

static void prologue(struct em *e)
{
    for (unsigned r = 0; r < sizeof(saved) / sizeof(saved[0]); r++) {
        rex(e, 0, 0, -1, saved[r], 0);
        b1(e, 0x50 + (saved[r] & 7));            /* push */
    }
    rr_op(e, 1, 0x83, 5, RSP); b1(e, 8);         /* sub rsp, 8: calls see a 16-byte aligned stack */
    rr_op(e, 1, 0x8B, RBX, RDI);                 /* mov rbx, rdi */
    mem_op(e, 1, 0, 0x8B, R12, RBX, -1, 0, CPU(blocks));   /* mov r12, [rbx + blocks] */
    rr_op(e, 0, 0x33, R13, R13);
    load_tlb_base(e);
    /* [rsp]: a slow path ran (emit_mem_done). Chained blocks do not clear
     * it: one left set by a block's last instruction costs a check. */
    mem_op(e, 0, 0, 0xC6, 0, RSP, -1, 0, 0); b1(e, 0);      /* mov byte [rsp], 0 */
}

/* Where chained blocks come in: the bookkeeping run_block() does. */
static void block_entry(struct em *e, int32_t idx, uint32_t eip0)
{
    mem_op(e, 0, 0, 0xC7, 0, R12, -1, 0, BC(cur)); b4(e, (uint32_t)idx);
    mem_op(e, 0, 0, 0xC7, 0, R12, -1, 0, BC(cur_eip)); b4(e, eip0);
    mem_op(e, 1, 0, 0xFF, 0, RBX, -1, 0, CPU(blocks_run));  /* inc qword */
}

static void epilogue(struct em *e)
{
    e->count_exit = e->p;                        /* icount += eax */
    mem_op(e, 1, 0, 0x03, RAX, RBX, -1, 0, CPU(icount));
    mem_op(e, 1, 0, 0x89, RAX, RBX, -1, 0, CPU(icount));
    rr_op(e, 0, 0x33, RAX, RAX);                 /* no slot */
    e->epilogue = e->p;
    mem_op(e, 1, 0, 0x01, R13, RBX, -1, 0, CPU(mmu.tlb_hits));   /* add [tlb_hits], r13 */
    rr_op(e, 1, 0x83, 0, RSP); b1(e, 8);         /* add rsp, 8 */
    for (int r = (int)(sizeof(saved) / sizeof(saved[0])) - 1; r >= 0; r--) {
        rex(e, 0, 0, -1, saved[r], 0);
        b1(e, 0x58 + (saved[r] & 7));            /* pop */
    }
    b1(e, 0xC3);
}

#define SLOT(f) ((int32_t)offsetof(struct jit_slot, f))

/* The jump taken when the slot at rdx was filled under neither esi (the
 * current jit_gen) nor jit_ggen; clobbers r9 */
static uint8_t *slot_gen_miss(struct em *e)
{
    mem_op(e, 0, 0, 0x3B, RSI, RDX, -1, 0, SLOT(gen));
    uint8_t *hit = jcc32(e, CC_E);
    ld(e, R9, CPU(jit_ggen));
    mem_op(e, 0, 0, 0x3B, R9, RDX, -1, 0, SLOT(gen));
    uint8_t *miss = jcc32(e, CC_NE);
    patch(e, hit, e->p);
    return miss;
}

/* rdx = the successor table's entry for the EIP in ecx (jit_table_slot);
 * clobbers r9. */
static void table_entry(struct em *e, struct jit_slot *table)
{
    rr_op(e, 0, 0x8B, RDX, RCX);
    rr_op(e, 0, 0xC1, 5, RDX); b1(e, 12);                            /* shr edx, 12 */
    rr_op(e, 0, 0x33, RDX, RCX);                                     /* xor edx, ecx */
    rr_op(e, 0, 0x81, 4, RDX); b4(e, JIT_TABLE - 1);
    _Static_assert(sizeof(struct jit_slot) == 40, "the index below scales by 5 * 8");
    mem_op(e, 0, 0, 0x8D, RDX, RDX, RDX, 2, 0);                     /* lea edx, [rdx + rdx * 4] */
    movi64(e, R9, (uint64_t)(uintptr_t)table);
    mem_op(e, 1, 0, 0x8D, RDX, R9, RDX, 3, 0);                      /* lea rdx, [r9 + rdx * 8] */
}

/* The shared part of a chain exit, called with eax = instructions retired
 * in the block and rdx = the exit's slot. Sets icount; returns eax = 0 when
 * the slot's code may run next (rdx kept), else eax = 1 and rdx = the slot
 * to fill (or 0 when the loop must run first: jit_attn, the budget).
 * Every call out of compiled code that may change a key or raise an event
 * is followed by jit_sync(), so jit_gen and jit_attn are current here. */
static void emit_chain_check(struct em *e, struct jit_slot *table)
{
    mem_op(e, 1, 0, 0x03, RAX, RBX, -1, 0, CPU(icount));
    mem_op(e, 1, 0, 0x89, RAX, RBX, -1, 0, CPU(icount));
    mem_op(e, 0, 0, 0x80, 7, RBX, -1, 0, CPU(jit_attn)); b1(e, 0);   /* cmp byte [attn], 0 */
    uint8_t *to_loop1 = jcc32(e, CC_NE);
    ld(e, RCX, CPU(eip));
    ld(e, RSI, CPU(jit_gen));
    mem_op(e, 0, 0, 0x3B, RCX, RDX, -1, 0, SLOT(eip));
    uint8_t *try1 = jcc32(e, CC_NE);
    uint8_t *try2 = slot_gen_miss(e);
    uint8_t *found = e->p;
    mem_op(e, 0, 0, 0x8B, RCX, RDX, -1, 0, SLOT(n));                 /* ecx = n (zero-extended) */
    rr_op(e, 1, 0x03, RCX, RAX);                                     /* add rcx, rax */
    mem_op(e, 1, 0, 0x3B, RCX, RBX, -1, 0, CPU(jit_end));            /* cmp rcx, [jit_end] */
    uint8_t *to_loop2 = jcc32(e, CC_A);
    mem_op(e, 1, 0, 0xFF, 0, RBX, -1, 0, CPU(block_hits));
    rr_op(e, 0, 0x33, RAX, RAX);
    b1(e, 0xC3);
    /* the exit's slot does not match: the table entry for EIP */
    patch(e, try1, e->p);
    patch(e, try2, e->p);
    rr_op(e, 1, 0x8B, R8, RDX);                                      /* r8 = the exit's slot */
    table_entry(e, table);
    mem_op(e, 0, 0, 0x3B, RCX, RDX, -1, 0, SLOT(eip));
    uint8_t *fill1 = jcc32(e, CC_NE);
    uint8_t *fill2 = slot_gen_miss(e);
    /* found in the table; but an exit whose direct jump goes to this EIP
     * goes back to the loop once, which fills its slot and patches the
     * jump, rather than coming here every time */
    mem_op(e, 1, 0, 0x83, 7, R8, -1, 0, SLOT(direct)); b1(e, 0);     /* cmp qword [r8 + direct], 0 */
    uint8_t *back1 = jcc32(e, CC_E);
    patch(e, back1, found);
    mem_op(e, 0, 0, 0x3B, RCX, R8, -1, 0, SLOT(direct_eip));
    uint8_t *back2 = jcc32(e, CC_NE);
    patch(e, back2, found);
    patch(e, fill1, e->p);
    patch(e, fill2, e->p);
    rr_op(e, 1, 0x8B, RDX, R8);                                      /* fill the exit's slot */
    movi(e, RAX, 1);
    b1(e, 0xC3);
    patch(e, to_loop1, e->p);
    patch(e, to_loop2, e->p);
    rr_op(e, 0, 0x33, RDX, RDX);
    movi(e, RAX, 1);
    b1(e, 0xC3);
}

/* A block exit that may go straight on to the next compiled block: k + 1
 * instructions retired, EIP already set. */
/* The direct jump of an exit with a fixed target: icount, then, when no
 * event waits, the generation is the one patched in (0 at first: never)
 * and the target's n fits the budget, a jump straight to the target's
 * code. Fixed-size encodings, so that jit_patch_direct() finds the fields:
 * the generation's imm32 at `direct` (and the disp32 before it: jit_gen or
 * jit_ggen), n's disp32 at direct + 13, the jump's rel32 at direct + 45. */
static uint8_t *direct_exit(struct em *e, uint32_t k, uint8_t **slow)
{
    /* icount is stored only on the way to the target: the slow ways add
     * k + 1 themselves (chain_check) */
    mem_op(e, 1, 0, 0x8B, RAX, RBX, -1, 0, CPU(icount));
    rr_op(e, 1, 0x81, 0, RAX); b4(e, k + 1);                          /* add rax, k + 1 */
    mem_op(e, 0, 0, 0x80, 7, RBX, -1, 0, CPU(jit_attn)); b1(e, 0);   /* cmp byte [attn], 0 */
    slow[0] = jcc32(e, CC_NE);
    b1(e, 0x81); b1(e, 0xBB); b4(e, (uint32_t)CPU(jit_gen));          /* cmp dword [rbx + gen], imm32 */
    uint8_t *at = e->p;
    b4(e, 0);
    slow[1] = jcc32(e, CC_NE);
    b1(e, 0x48); b1(e, 0x8D); b1(e, 0x88); b4(e, 0);                  /* lea rcx, [rax + n] */
    b1(e, 0x48); b1(e, 0x3B); b1(e, 0x8B); b4(e, (uint32_t)CPU(jit_end));   /* cmp rcx, [rbx + end] */
    slow[2] = jcc32(e, CC_A);
    b1(e, 0x48); b1(e, 0x89); b1(e, 0x83); b4(e, (uint32_t)CPU(icount));      /* mov [rbx + icount], rax */
    b1(e, 0x48); b1(e, 0xFF); b1(e, 0x83); b4(e, (uint32_t)CPU(block_hits));  /* inc qword */
    b1(e, 0xE9); b4(e, 0);                                             /* jmp target */
    if (!e->overflow && (e->p - at != 49))
        e->overflow = 1;   /* the layout jit_patch_direct() relies on */
    return at;
}

void jit_patch_direct(struct jit_slot *sl)
{
    uint8_t *at = sl->direct;
    int32_t rel = (int32_t)((uint8_t *)sl->code - (at + 49));
    int32_t field = sl->global ? CPU(jit_ggen) : CPU(jit_gen);   /* the generation to compare with */
    memcpy(at - 4, &field, 4);
    memcpy(at, &sl->gen, 4);
    memcpy(at + 13, &sl->n, 4);
    memcpy(at + 45, &rel, 4);
}

/* An exit without a fixed target (an indirect JMP or CALL, RET): the
 * successor table's entry for EIP in line, each site with its own host
 * branches (a dispatcher's exit is predicted by its own history) and no
 * call; the jumps in slow[4] go to the shared chain check, which tries the
 * exit's own slot too. k + 1 instructions retired. */
static void indirect_probe(struct em *e, uint32_t k, uint8_t **slow)
{
    if (e->eip_in_eax)
        rr_op(e, 0, 0x8B, RCX, RAX);                                 /* (no reload through memory) */
    else
        ld(e, RCX, CPU(eip));
    table_entry(e, e->table);
    mem_op(e, 0, 0, 0x3B, RCX, RDX, -1, 0, SLOT(eip));
    slow[0] = jcc32(e, CC_NE);
    ld(e, RSI, CPU(jit_gen));
    slow[1] = slot_gen_miss(e);
    mem_op(e, 0, 0, 0x80, 7, RBX, -1, 0, CPU(jit_attn)); b1(e, 0);   /* cmp byte [attn], 0 */
    slow[2] = jcc32(e, CC_NE);
    mem_op(e, 1, 0, 0x8B, RAX, RBX, -1, 0, CPU(icount));
    rr_op(e, 1, 0x81, 0, RAX); b4(e, k + 1);                          /* add rax, k + 1 */
    mem_op(e, 0, 0, 0x8B, RCX, RDX, -1, 0, SLOT(n));                 /* ecx = n (zero-extended) */
    rr_op(e, 1, 0x03, RCX, RAX);
    mem_op(e, 1, 0, 0x3B, RCX, RBX, -1, 0, CPU(jit_end));            /* the budget */
    slow[3] = jcc32(e, CC_A);
    mem_op(e, 1, 0, 0x89, RAX, RBX, -1, 0, CPU(icount));
    mem_op(e, 1, 0, 0xFF, 0, RBX, -1, 0, CPU(block_hits));           /* inc qword */
    mem_op(e, 0, 0, 0xFF, 4, RDX, -1, 0, SLOT(code));                /* jmp [rdx + code] */
}

/* A block exit that may go straight on to the next compiled block: k + 1
 * instructions retired, EIP already set; target: the EIP it goes to when
 * fixed, else -1. */
static void chain_exit(struct em *e, uint32_t k, int64_t target)
{
    lf_guard(e, 1);
    if (e->nslots >= JIT_SLOTS) {
        exit_after(e, k);
        return;
    }
    count_tlb(e);
    struct jit_slot *sl = &e->slots[e->nslots++];
    memset(sl, 0, sizeof(*sl));
    if (target >= 0) {
        uint8_t *slow[3];
        sl->direct = direct_exit(e, k, slow);
        sl->direct_eip = (uint32_t)target;
        for (int x = 0; x < 3; x++)
            patch(e, slow[x], e->p);
    } else {
        uint8_t *slow[4];
        indirect_probe(e, k, slow);
        for (int x = 0; x < 4; x++)
            patch(e, slow[x], e->p);
    }
    movi(e, RAX, k + 1);
    movi64(e, RDX, (uint64_t)(uintptr_t)sl);
    b1(e, 0xE8);                                 /* call chain_check */
    uint8_t *rel = e->p;
    b4(e, 0);
    patch(e, rel, e->chain_check);
    rr_op(e, 0, 0x85, RAX, RAX);
    uint8_t *out = jcc32(e, CC_NE);
    mem_op(e, 0, 0, 0xFF, 4, RDX, -1, 0, SLOT(code));   /* jmp [rdx + code] */
    patch(e, out, e->p);
    rr_op(e, 1, 0x8B, RAX, RDX);                 /* return the slot (or NULL) */
    if (e->nraw < (int)(sizeof(e->raw_patch) / sizeof(e->raw_patch[0])))
        e->raw_patch[e->nraw++] = jmp32(e);
    else
        e->overflow = 1;
}

/* The forms whose emitters keep the lazy flags in registers (above): the
 * others (and a handler's call) find them in struct cpu. */
static int lf_aware(const struct em *e, uint32_t k)
{
    const struct insn *i = &e->insns[k];
    if (i->follow)
        return 1;
    if (i->opc >= 0xD8 && i->opc <= 0xDF)
        return 0;   /* (the x87 in line uses r8-r11) */
    struct form_args f = { 0, 0, 0, 1, 0, 0 };
    switch (pick_form(i, &f)) {
    case FM_MOV_RR: case FM_MOV_RI: case FM_MOV_RM: case FM_MOV_MR: case FM_MOV_MI: case FM_MOV_R8M:
    case FM_MOV_M8R: case FM_MOVZX_RM8: case FM_MOVZX_RM16: case FM_MOVZX_RR16: case FM_MOVZX_RR8:
    case FM_MOV_R16M: case FM_MOV_M16R: case FM_LEA: case FM_MOV_EAX_MOFFS: case FM_MOV_MOFFS_EAX:
    case FM_MOV_M8I: case FM_MOV_R8I: case FM_MOV_R8R:
    case FM_ALU_RR: case FM_ALU_RI: case FM_ALU_RM: case FM_ALU_MR: case FM_ALU_MI:
    case FM_ALU8_RR: case FM_ALU8_RI: case FM_ALU8_RM: case FM_ALU8_MR: case FM_ALU8_MI:
    case FM_INCDEC: case FM_INCDEC_M: case FM_SHIFT: case FM_ROT:
    case FM_IMUL_RR: case FM_IMUL_RM: case FM_IMUL_RRI: case FM_IMUL_RMI:
    case FM_GRP3_NOT: case FM_GRP3_NEG: case FM_GRP3_MUL: case FM_GRP3_IMUL: case FM_GRP3_DIV:
    case FM_CMOV_RR: case FM_CMOV_RM: case FM_SETCC_R: case FM_SETCC_M:
    case FM_PUSH: case FM_PUSH_M: case FM_POP: case FM_JCC: case FM_JMP: case FM_CALL: case FM_RET:
    case FM_JMP_EV: case FM_CALL_EV:
        return 1;
    default:
        return 0;
    }
}

static jit_block_fn *compile(struct jit *j, const struct block *b, int32_t idx, const struct insn *insns,
                             uint32_t eip0, int flat, unsigned x87_top, void **chain_entry, int lf_off)
{
    if (j->used + JIT_BLOCK_MAX > j->limit || j->nslots + BLOCK_MAX * 2 > JIT_SLOTS)
        return NULL;
    struct em *e = j->em;
    uint8_t *start = j->mem + j->used;
    e->p = start;
    e->end = start + JIT_BLOCK_MAX;
    e->overflow = 0;
    e->lf_bad = 0;
    e->lf_off = lf_off;
    e->tlb_per_access = j->tlb_per_access;
    e->tlb_here = 0;
    e->b = b;
    e->insns = insns;
    e->flat = flat;
    e->nstubs = 0;
    e->nexit = 0;
    e->nraw = 0;
    e->tlb_n = 0;
    e->chain_check = j->chain_check;
    e->lf_save = j->lf_save;
    e->lf_load = j->lf_load;
    e->tlb_flush = j->tlb_flush;
    e->x87_zadd = j->x87_zadd;
    e->x87_zmul = j->x87_zmul;
    e->slots = j->slots;
    e->table = j->table;
    e->nslots = j->nslots;
    uint32_t mask = b->mode ? 0xFFFFFFFFu : 0xFFFFu;
    e->eip[0] = eip0;
    for (uint32_t k = 0; k < b->n; k++)
        e->eip[k + 1] = insn_next_in_block(&insns[k], e->eip[k], mask);
    prologue(e);
    uint8_t *entry = e->p;
    block_entry(e, idx, eip0);
    int r = 0;
    e->last_target = -1;
    e->kind = -1;
    e->host = 0;
    e->x87_top = x87_top & 7;
    e->x87_top_ok = 1;
    e->x87_end = 0;
    e->x87_held = -1;
    e->lfr = 0;
    for (uint32_t k = 0; k < b->n; k++) {
        e->k = k;
        if (!lf_aware(e, k))
            lf_spill(e);
        e->eip_in_eax = 0;
        e->kind_in = e->kind;
        e->host_in = e->host;
        e->kind = -1;
        e->host = 0;
        e->want_host = 0;
        if (k + 1 < b->n) {
            struct form_args nf = { 0, 0, 0, 1, 0, 0 };
            enum form nfm = pick_form(&insns[k + 1], &nf);
            e->want_host = nfm == FM_JCC || nfm == FM_CMOV_RR || nfm == FM_SETCC_R;
        }
        if (insns[k].follow) {   /* a JMP the block goes on past (cpu/block.c) */
            emit_followed_jmp(e, k);
            continue;
        }
        r = emit_inline(e, k);
        if (!r) {
            lf_spill(e);   /* (an aware form emitted nothing) */
            call_handler(e, k);
            if (insn_is_jcc(&insns[k]) && k + 1 < b->n)
                exit_if_jumped(e, k);
        }
    }
    lf_spill(e);
    if (r == 1)
        sti(e, CPU(eip), e->eip[b->n]);   /* the block ended at a page end or its size */
    if (r != 3)
        chain_exit(e, b->n - 1, r == 1 ? (int64_t)e->eip[b->n] : e->last_target);
    epilogue(e);
    for (int s = 0; s < e->nstubs; s++)
        emit_stub(e, &e->stubs[s]);
    for (int x = 0; x < e->nexit; x++)
        patch(e, e->exit_patch[x], e->count_exit);
    for (int x = 0; x < e->nraw; x++)
        patch(e, e->raw_patch[x], e->epilogue);
    if (e->overflow)
        return NULL;
    if (j->perf_map)
        fprintf(j->perf_map, "%lx %lx jit_block_%08x_n%u\n", (unsigned long)(uintptr_t)start,
                (unsigned long)(e->p - start), (unsigned)eip0, (unsigned)b->n);
    j->used = (size_t)(e->p - j->mem + 15) & ~(size_t)15;
    j->nslots = e->nslots;
    j->compiled++;
    *chain_entry = entry;
    return (jit_block_fn *)(void *)start;
}

jit_block_fn *jit_compile(struct jit *j, const struct block *b, int32_t idx, const struct insn *insns,
                          uint32_t eip0, int flat, unsigned x87_top, void **chain_entry)
{
    jit_block_fn *fn = compile(j, b, idx, insns, eip0, flat, x87_top, chain_entry, 0);
    if (!fn && j->em->lf_bad) {   /* an emitter bug (lf_guard): right, if slower, without them */
        j->lf_fallbacks++;
        fn = compile(j, b, idx, insns, eip0, flat, x87_top, chain_entry, 1);
    }
    return fn;
}

struct jit *jit_create(void)
{
    struct jit *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    j->em = malloc(sizeof(*j->em));
    void *m = mmap(NULL, JIT_MEM, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!j->em || m == MAP_FAILED) {
        free(j->em);
        free(j);
        return NULL;
    }
    j->mem = m;
    j->slots = calloc(JIT_SLOTS, sizeof(*j->slots));
    j->table = calloc(JIT_TABLE, sizeof(*j->table));
    if (!j->slots || !j->table) {
        jit_free(j);
        return NULL;
    }
    struct em *e = j->em;
    e->p = j->mem;
    e->end = j->mem + JIT_BLOCK_MAX;
    e->overflow = 0;
    e->lfr = e->lfr_cf = 0;
    j->chain_check = e->p;
    emit_chain_check(e, j->table);
    j->lf_save = e->p;
    for (int f = 0; f < 3; f++)
        st(e, CPU(lf_res) + 4 * f, f == 0 ? LF_R_RES : f == 1 ? LF_R_OP1 : LF_R_OP2);
    b1(e, 0xC3);
    j->lf_load = e->p;
    for (int f = 0; f < 3; f++)
        ld(e, f == 0 ? LF_R_RES : f == 1 ? LF_R_OP1 : LF_R_OP2, CPU(lf_res) + 4 * f);
    b1(e, 0xC3);
    j->tlb_flush = e->p;
    mem_op(e, 1, 0, 0x8D, R13, R13, RAX, 0, 0);                       /* lea r13, [r13 + rax] */
    mem_op(e, 1, 0, 0x01, R13, RBX, -1, 0, CPU(mmu.tlb_hits));        /* add [tlb_hits], r13 */
    rr_op(e, 1, 0xF7, 3, RAX);                                        /* neg rax */
    rr_op(e, 1, 0x8B, R13, RAX);                                      /* mov r13, rax */
    b1(e, 0xC3);
    j->x87_zadd = e->p;
    emit_x87_zeros(e, 0);
    j->x87_zmul = e->p;
    emit_x87_zeros(e, 1);
    j->base = j->used = (size_t)(e->p - j->mem + 15) & ~(size_t)15;
    j->limit = JIT_MEM;
    if (getenv("SOFTVISOR_PERF_MAP")) {
        char name[64];
        snprintf(name, sizeof(name), "/tmp/perf-%ld.map", (long)getpid());
        j->perf_map = fopen(name, "w");
        if (j->perf_map) {
            setvbuf(j->perf_map, NULL, _IOLBF, 0);
            fprintf(j->perf_map, "%lx %lx jit_chain_check\n", (unsigned long)(uintptr_t)j->mem,
                    (unsigned long)j->base);
        }
    }
    return j;
}

void jit_free(struct jit *j)
{
    if (!j)
        return;
    if (j->perf_map) {
        fclose(j->perf_map);
        /* the code buffer as it ends, for objdump -b binary next to the map
         * (its first line gives the buffer's address) */
        char name[64];
        snprintf(name, sizeof(name), "/tmp/jit-%ld.bin", (long)getpid());
        FILE *d = fopen(name, "wb");
        if (d) {
            fwrite(j->mem, 1, j->used, d);
            fclose(d);
        }
    }
    munmap(j->mem, JIT_MEM);
    free(j->slots);
    free(j->table);
    free(j->em);
    free(j);
}

void jit_reset(struct jit *j)
{
    j->used = j->base;
    j->nslots = 0;
    /* emptied, not just forgotten: the execution loop may still hold a slot
     * to fill, whose direct jump would point into code that is gone */
    memset(j->slots, 0, JIT_SLOTS * sizeof(*j->slots));
    memset(j->table, 0, JIT_TABLE * sizeof(*j->table));
}

void jit_set_capacity(struct jit *j, size_t bytes)
{
    size_t min = j->base + 2 * JIT_BLOCK_MAX;
    j->limit = bytes < min ? min : bytes > JIT_MEM ? JIT_MEM : bytes;
}

struct jit_slot *jit_table_slot(struct jit *j, uint32_t eip)
{
    return &j->table[(eip ^ (eip >> 12)) & (JIT_TABLE - 1)];
}
uint64_t jit_blocks_compiled(const struct jit *j) { return j->compiled; }
uint64_t jit_lf_fallbacks(const struct jit *j) { return j->lf_fallbacks; }
void jit_set_tlb_per_access(struct jit *j, int on) { j->tlb_per_access = on; }
uint64_t jit_bytes_used(const struct jit *j) { return j->used; }

#endif
