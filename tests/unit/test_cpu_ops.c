/* Instruction semantics on a CPU with only RAM: tables of (code, registers
 * before, registers/flags after) in flat 32-bit protected mode and in real
 * mode, the 32-bit forms the 286 vectors do not cover, exceptions, and
 * self-modifying code invalidating decoded blocks. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "cpu/cpu.h"

struct machine {
    struct physmem pm;
    struct cpu cpu;
};

#define CODE 0x1000u

static struct machine *machine_new(void)
{
    struct machine *m = calloc(1, sizeof(*m));
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(physmem_init(&m->pm, 2u << 20), 0);
    ck_assert_int_eq(cpu_init(&m->cpu, &m->pm), 0);
    return m;
}

static void machine_free(struct machine *m)
{
    cpu_free(&m->cpu);
    physmem_free(&m->pm);
    free(m);
}

/* Flat 32-bit ring 0 without descriptor tables: the caches are set directly. */
static void flat32(struct machine *m)
{
    struct cpu *c = &m->cpu;
    cpu_set_cr0(c, c->cr0 | CR0_PE);
    for (int s = 0; s < 6; s++)
        c->segs[s] = (struct seg){ 0x10, 0, 0xFFFFFFFFu, 0x0C93 };
    c->segs[S_CS] = (struct seg){ 0x08, 0, 0xFFFFFFFFu, 0x0C9B };
    c->eip = CODE;
    c->regs[R_ESP] = 0x8000;
}

static void real16(struct machine *m)
{
    struct cpu *c = &m->cpu;
    for (int s = 0; s < 6; s++)
        c->segs[s] = (struct seg){ 0, 0, 0xFFFF, 0x93 };
    c->segs[S_CS].flags = 0x9B;
    c->eip = CODE;
    c->regs[R_ESP] = 0x8000;
}

static void load(struct machine *m, uint32_t addr, const uint8_t *code, size_t n)
{
    phys_write_block(&m->pm, addr, code, n);
}

static enum cpu_exit run(struct machine *m)
{
    return cpu_run(&m->cpu, 100000);
}

/* ---- table of 32-bit cases ---- */

struct opcase {
    const char *name;
    uint8_t code[16];         /* followed by HLT */
    unsigned n;
    uint32_t in[8];           /* EAX..EDI (ESP is set by the harness) */
    uint32_t flags_in;
    uint32_t out[8];          /* expected EAX..EDI; ESP not checked */
    uint32_t fmask, fval;     /* expected (EFLAGS & fmask) == fval */
};

#define CF FL_CF
#define ZF FL_ZF
#define OF FL_OF
#define SF FL_SF

static const struct opcase ops[] = {
    { "shld eax,ebx,4", { 0x0F, 0xA4, 0xD8, 0x04 }, 4, { 0x12345678, 0, 0, 0x9ABCDEF0 }, 0,
      { 0x23456789, 0, 0, 0x9ABCDEF0 }, CF, CF },
    { "shrd eax,ebx,8", { 0x0F, 0xAC, 0xD8, 0x08 }, 4, { 0x12345678, 0, 0, 0x9ABCDEF0 }, 0,
      { 0xF0123456, 0, 0, 0x9ABCDEF0 }, CF | SF, SF },
    { "shld eax,ebx,cl (cl=36 -> 4)", { 0x0F, 0xA5, 0xD8 }, 3, { 0x12345678, 36, 0, 0x9ABCDEF0 }, 0,
      { 0x23456789, 36, 0, 0x9ABCDEF0 }, CF, CF },
    { "shrd ax,bx,4 (16-bit)", { 0x66, 0x0F, 0xAC, 0xD8, 0x04 }, 5, { 0xFFFF1234, 0, 0, 0xABCD }, 0,
      { 0xFFFFD123, 0, 0, 0xABCD }, CF, 0 },
    { "bsf ecx,eax", { 0x0F, 0xBC, 0xC8 }, 3, { 0x00100000, 7 }, 0, { 0x00100000, 20 }, ZF, 0 },
    { "bsr ecx,eax", { 0x0F, 0xBD, 0xC8 }, 3, { 0x00100001, 7 }, 0, { 0x00100001, 20 }, ZF, 0 },
    { "bsf ecx,0 sets ZF, keeps ecx", { 0x0F, 0xBC, 0xC8 }, 3, { 0, 7 }, 0, { 0, 7 }, ZF, ZF },
    { "bt eax,5", { 0x0F, 0xBA, 0xE0, 0x05 }, 4, { 0x20 }, 0, { 0x20 }, CF, CF },
    { "bts eax,ecx (ecx=33 -> bit 1)", { 0x0F, 0xAB, 0xC8 }, 3, { 0, 33 }, CF, { 2, 33 }, CF, 0 },
    { "btr ax,3 (16-bit)", { 0x66, 0x0F, 0xBA, 0xF0, 0x03 }, 5, { 0xFFFF }, 0, { 0xFFF7 }, CF, CF },
    { "btc eax,31", { 0x0F, 0xBA, 0xF8, 0x1F }, 4, { 0x80000001 }, 0, { 0x00000001 }, CF, CF },
    { "xadd eax,ebx", { 0x0F, 0xC1, 0xD8 }, 3, { 5, 0, 0, 7 }, 0, { 12, 0, 0, 5 }, CF | ZF, 0 },
    { "xadd al,bl carry", { 0x0F, 0xC0, 0xD8 }, 3, { 0xF0, 0, 0, 0x10 }, 0, { 0x00, 0, 0, 0xF0 }, CF | ZF, CF | ZF },
    { "bswap eax", { 0x0F, 0xC8 }, 2, { 0x11223344 }, 0, { 0x44332211 }, 0, 0 },
    { "bswap edi", { 0x0F, 0xCF }, 2, { 0, 0, 0, 0, 0, 0, 0, 0xA1B2C3D4 }, 0, { 0, 0, 0, 0, 0, 0, 0, 0xD4C3B2A1 }, 0, 0 },
    { "cmovz eax,ebx taken", { 0x0F, 0x44, 0xC3 }, 3, { 1, 0, 0, 2 }, ZF, { 2, 0, 0, 2 }, 0, 0 },
    { "cmovz eax,ebx not taken", { 0x0F, 0x44, 0xC3 }, 3, { 1, 0, 0, 2 }, 0, { 1, 0, 0, 2 }, 0, 0 },
    { "cmovl eax,ebx (SF!=OF)", { 0x0F, 0x4C, 0xC3 }, 3, { 1, 0, 0, 2 }, SF, { 2, 0, 0, 2 }, 0, 0 },
    { "movsx eax,bl", { 0x0F, 0xBE, 0xC3 }, 3, { 0, 0, 0, 0x80 }, 0, { 0xFFFFFF80, 0, 0, 0x80 }, 0, 0 },
    { "movsx eax,bx", { 0x0F, 0xBF, 0xC3 }, 3, { 0, 0, 0, 0x8001 }, 0, { 0xFFFF8001, 0, 0, 0x8001 }, 0, 0 },
    { "movzx eax,bx", { 0x0F, 0xB7, 0xC3 }, 3, { 0xFFFFFFFF, 0, 0, 0x18001 }, 0, { 0x8001, 0, 0, 0x18001 }, 0, 0 },
    { "movzx ax,bl (16-bit keeps high half)", { 0x66, 0x0F, 0xB6, 0xC3 }, 4, { 0xAAAA5555, 0, 0, 0xF0 }, 0, { 0xAAAA00F0, 0, 0, 0xF0 }, 0, 0 },
    { "mul ebx", { 0xF7, 0xE3 }, 2, { 0x80000000, 0, 0, 4 }, 0, { 0, 0, 2, 4 }, CF | OF, CF | OF },
    { "mul ebx no overflow", { 0xF7, 0xE3 }, 2, { 3, 0, 0x55, 4 }, CF | OF, { 12, 0, 0, 4 }, CF | OF, 0 },
    { "imul ebx (one operand)", { 0xF7, 0xEB }, 2, { 0xFFFFFFFE, 0, 0, 3 }, 0, { 0xFFFFFFFA, 0, 0xFFFFFFFF, 3 }, CF | OF, 0 },
    { "imul eax,ebx overflow", { 0x0F, 0xAF, 0xC3 }, 3, { 0x10000, 0, 0, 0x10000 }, 0, { 0, 0, 0, 0x10000 }, CF | OF, CF | OF },
    { "imul eax,ebx,-3", { 0x6B, 0xC3, 0xFD }, 3, { 0, 0, 0, 5 }, 0, { 0xFFFFFFF1, 0, 0, 5 }, CF | OF, 0 },
    { "div ebx", { 0xF7, 0xF3 }, 2, { 0, 0, 1, 2 }, 0, { 0x80000000, 0, 0, 2 }, 0, 0 },
    { "div ebx remainder", { 0xF7, 0xF3 }, 2, { 100, 0, 0, 7 }, 0, { 14, 0, 2, 7 }, 0, 0 },
    { "idiv ebx", { 0xF7, 0xFB }, 2, { 0xFFFFFFF9, 0, 0xFFFFFFFF, 2 }, 0, { 0xFFFFFFFD, 0, 0xFFFFFFFF, 2 }, 0, 0 },
    { "idiv bl quotient -128 fits", { 0xF6, 0xFB }, 2, { 0xFF00, 0, 0, 2 }, 0, { 0x0080, 0, 0, 2 }, 0, 0 },
    { "lea eax,[ebx+ecx*8+10]", { 0x8D, 0x44, 0xCB, 0x10 }, 4, { 0, 2, 0, 0x100 }, 0, { 0x120, 2, 0, 0x100 }, 0, 0 },
    { "lea ax,[bx+si] (a16 in 32-bit code)", { 0x66, 0x67, 0x8D, 0x00 }, 4, { 0x12340000, 0, 0, 0xFFFF, 0, 0, 2 }, 0,
      { 0x12340001, 0, 0, 0xFFFF, 0, 0, 2 }, 0, 0 },
    { "adc eax,ebx with carry", { 0x11, 0xD8 }, 2, { 0xFFFFFFFF, 0, 0, 0 }, CF, { 0, 0, 0, 0 }, CF | ZF, CF | ZF },
    { "sbb eax,ebx with borrow", { 0x19, 0xD8 }, 2, { 0, 0, 0, 0 }, CF, { 0xFFFFFFFF, 0, 0, 0 }, CF | SF | ZF, CF | SF },
    { "sub eax,ebx overflow", { 0x29, 0xD8 }, 2, { 0x80000000, 0, 0, 1 }, 0, { 0x7FFFFFFF, 0, 0, 1 }, OF | CF | SF, OF },
    { "inc eax keeps CF", { 0x40 }, 1, { 0x7FFFFFFF }, CF, { 0x80000000 }, CF | OF | SF, CF | OF | SF },
    { "dec ecx to zero", { 0x49 }, 1, { 0, 1 }, 0, { 0, 0 }, ZF, ZF },
    { "neg eax", { 0xF7, 0xD8 }, 2, { 5 }, 0, { 0xFFFFFFFB }, CF | SF, CF | SF },
    { "rcl eax,1", { 0xD1, 0xD0 }, 2, { 0x80000000 }, CF, { 1 }, CF | OF, CF | OF },
    { "rcr al,9 (full circle through CF)", { 0xC0, 0xD8, 0x09 }, 3, { 0x5A }, CF, { 0x5A }, CF, CF },
    { "rol eax,cl (cl=33 -> 1)", { 0xD3, 0xC0 }, 2, { 0x80000001, 33 }, 0, { 3, 33 }, CF, CF },
    { "sar eax,31", { 0xC1, 0xF8, 0x1F }, 3, { 0x80000000 }, 0, { 0xFFFFFFFF }, CF | SF, SF },
    { "shr eax,1", { 0xD1, 0xE8 }, 2, { 0x80000001 }, 0, { 0x40000000 }, CF | OF, CF | OF },
    { "shl eax,0 leaves flags", { 0xC1, 0xE0, 0x00 }, 3, { 1 }, CF | ZF, { 1 }, CF | ZF, CF | ZF },
    { "cwde", { 0x98 }, 1, { 0x8000 }, 0, { 0xFFFF8000 }, 0, 0 },
    { "cdq", { 0x99 }, 1, { 0x80000000, 0, 5 }, 0, { 0x80000000, 0, 0xFFFFFFFF }, 0, 0 },
    { "setnz bl", { 0x0F, 0x95, 0xC3 }, 3, { 0, 0, 0, 0xFFFFFF00 }, 0, { 0, 0, 0, 0xFFFFFF01 }, 0, 0 },
    { "setbe bl", { 0x0F, 0x96, 0xC3 }, 3, { 0, 0, 0, 0xFF }, CF, { 0, 0, 0, 0x01 }, 0, 0 },
    { "xchg ah,al", { 0x86, 0xE0 }, 2, { 0x1234 }, 0, { 0x3412 }, 0, 0 },
    { "cmpxchg ecx,edx equal", { 0x0F, 0xB1, 0xD1 }, 3, { 5, 5, 9 }, 0, { 5, 9, 9 }, ZF, ZF },
    { "cmpxchg ecx,edx not equal", { 0x0F, 0xB1, 0xD1 }, 3, { 4, 5, 9 }, 0, { 5, 5, 9 }, ZF, 0 },
    { "daa", { 0x27 }, 1, { 0x0F }, 0, { 0x15 }, CF, 0 },
    { "aam 10", { 0xD4, 0x0A }, 2, { 0x0000003F }, 0, { 0x0603 }, 0, 0 },
    { "aad 10", { 0xD5, 0x0A }, 2, { 0x0603 }, 0, { 0x003F }, 0, 0 },
};

START_TEST(test_ops_table)
{
    const struct opcase *t = &ops[_i];
    struct machine *m = machine_new();
    flat32(m);
    uint8_t code[20];
    memcpy(code, t->code, t->n);
    code[t->n] = 0xF4;
    load(m, CODE, code, t->n + 1);
    struct cpu *c = &m->cpu;
    for (int r = 0; r < 8; r++)
        if (r != R_ESP)
            c->regs[r] = t->in[r];
    cpu_set_eflags(c, t->flags_in, FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF);
    ck_assert_int_eq(run(m), CPU_EXIT_HLT);
    ck_assert_msg(c->eip == CODE + t->n + 1, "%s: eip %x", t->name, c->eip);
    for (int r = 0; r < 8; r++)
        if (r != R_ESP)
            ck_assert_msg(c->regs[r] == t->out[r], "%s: reg %d = %08x, want %08x", t->name, r, c->regs[r], t->out[r]);
    uint32_t f = cpu_get_eflags(c);
    ck_assert_msg((f & t->fmask) == t->fval, "%s: flags %08x", t->name, f);
    machine_free(m);
}
END_TEST

/* ---- memory forms ---- */

START_TEST(test_sib_and_bt_memory)
{
    struct machine *m = machine_new();
    flat32(m);
    struct cpu *c = &m->cpu;
    static const uint8_t code[] = {
        0x8B, 0x04, 0x8B,             /* mov eax,[ebx+ecx*4] */
        0x0F, 0xAB, 0x13,             /* bts [ebx],edx (edx = 35: dword ebx+4, bit 3) */
        0x0F, 0xB3, 0x33,             /* btr [ebx],esi (esi = -1: dword ebx-4, bit 31) */
        0xF4 };
    load(m, CODE, code, sizeof(code));
    phys_write(&m->pm, 0x2000 + 3 * 4, 0xCAFEBABE, 4);
    phys_write(&m->pm, 0x1FFC, 0x80000001, 4);
    c->regs[R_EBX] = 0x2000;
    c->regs[R_ECX] = 3;
    c->regs[R_EDX] = 35;
    c->regs[R_ESI] = 0xFFFFFFFF;
    ck_assert_int_eq(run(m), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->regs[R_EAX], 0xCAFEBABE);
    ck_assert_uint_eq(phys_read(&m->pm, 0x2004, 4), 0x8);
    ck_assert_uint_eq(phys_read(&m->pm, 0x1FFC, 4), 0x1);
    ck_assert(cpu_get_eflags(c) & FL_CF);      /* bit 31 was set */
    machine_free(m);
}
END_TEST

START_TEST(test_cmpxchg8b)
{
    struct machine *m = machine_new();
    flat32(m);
    struct cpu *c = &m->cpu;
    static const uint8_t code[] = { 0x0F, 0xC7, 0x0E, 0x0F, 0xC7, 0x0E, 0xF4 };   /* twice cmpxchg8b [esi] */
    load(m, CODE, code, sizeof(code));
    phys_write(&m->pm, 0x3000, 0x11111111, 4);
    phys_write(&m->pm, 0x3004, 0x22222222, 4);
    c->regs[R_ESI] = 0x3000;
    c->regs[R_EAX] = 0x11111111;
    c->regs[R_EDX] = 0x22222222;
    c->regs[R_EBX] = 0x33333333;
    c->regs[R_ECX] = 0x44444444;
    ck_assert_int_eq(run(m), CPU_EXIT_HLT);
    /* first: equal -> stored ECX:EBX, ZF=1; second: not equal -> EDX:EAX loaded, ZF=0 */
    ck_assert_uint_eq(phys_read(&m->pm, 0x3000, 4), 0x33333333);
    ck_assert_uint_eq(phys_read(&m->pm, 0x3004, 4), 0x44444444);
    ck_assert_uint_eq(c->regs[R_EAX], 0x33333333);
    ck_assert_uint_eq(c->regs[R_EDX], 0x44444444);
    ck_assert(!(cpu_get_eflags(c) & FL_ZF));
    machine_free(m);
}
END_TEST

START_TEST(test_rep_movsd_and_stack)
{
    struct machine *m = machine_new();
    flat32(m);
    struct cpu *c = &m->cpu;
    static const uint8_t code[] = {
        0xF3, 0xA5,                   /* rep movsd */
        0x60,                         /* pushad */
        0x31, 0xC0,                   /* xor eax,eax */
        0x61,                         /* popad */
        0xC8, 0x08, 0x00, 0x00,       /* enter 8,0 */
        0xC9,                         /* leave */
        0xF4 };
    load(m, CODE, code, sizeof(code));
    for (uint32_t k = 0; k < 8; k++)
        phys_write(&m->pm, 0x4000 + 4 * k, 0x1000 + k, 4);
    c->regs[R_ESI] = 0x4000;
    c->regs[R_EDI] = 0x5000;
    c->regs[R_ECX] = 8;
    c->regs[R_EBP] = 0x7777;
    ck_assert_int_eq(run(m), CPU_EXIT_HLT);
    for (uint32_t k = 0; k < 8; k++)
        ck_assert_uint_eq(phys_read(&m->pm, 0x5000 + 4 * k, 4), 0x1000 + k);
    ck_assert_uint_eq(c->regs[R_ECX], 0);
    ck_assert_uint_eq(c->regs[R_ESI], 0x4020);
    ck_assert_uint_eq(c->regs[R_EDI], 0x5020);
    ck_assert_uint_eq(c->regs[R_EAX], 0);       /* POPAD restored the pre-XOR value (0) */
    ck_assert_uint_eq(c->regs[R_ESP], 0x8000);
    ck_assert_uint_eq(c->regs[R_EBP], 0x7777);
    machine_free(m);
}
END_TEST

/* ---- exceptions in real mode ---- */

START_TEST(test_divide_error_precise)
{
    struct machine *m = machine_new();
    real16(m);
    struct cpu *c = &m->cpu;
    static const uint8_t code[] = { 0xF6, 0xF3, 0xF4 };    /* div bl (bl = 0) */
    load(m, CODE, code, sizeof(code));
    phys_write(&m->pm, 0, 0x2000, 2);                     /* IVT[0] = 0000:2000 */
    phys_write(&m->pm, 2, 0, 2);
    phys_write(&m->pm, 0x2000, 0xF4, 1);
    c->regs[R_EAX] = 0x1234;
    ck_assert_int_eq(run(m), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->eip, 0x2001);
    ck_assert_uint_eq(c->regs[R_EAX], 0x1234);            /* nothing changed */
    ck_assert_uint_eq(c->regs[R_ESP], 0x8000 - 6);
    ck_assert_uint_eq(phys_read(&m->pm, 0x8000 - 6, 2), CODE);   /* faulting IP pushed */
    machine_free(m);
}
END_TEST

START_TEST(test_segment_limit_fault)
{
    struct machine *m = machine_new();
    real16(m);
    struct cpu *c = &m->cpu;
    static const uint8_t code[] = { 0x8B, 0x07, 0xF4 };    /* mov ax,[bx] with bx = FFFF */
    load(m, CODE, code, sizeof(code));
    phys_write(&m->pm, 13 * 4, 0x2100, 2);
    phys_write(&m->pm, 13 * 4 + 2, 0, 2);
    phys_write(&m->pm, 0x2100, 0xF4, 1);
    c->regs[R_EBX] = 0xFFFF;
    c->regs[R_EAX] = 0x5555;
    ck_assert_int_eq(run(m), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->eip, 0x2101);
    ck_assert_uint_eq(c->regs[R_EAX], 0x5555);
    machine_free(m);
}
END_TEST

START_TEST(test_undefined_opcode)
{
    struct machine *m = machine_new();
    real16(m);
    struct cpu *c = &m->cpu;
    static const uint8_t code[] = { 0x0F, 0x0B, 0xF4 };    /* ud2 */
    load(m, CODE, code, sizeof(code));
    phys_write(&m->pm, 6 * 4, 0x2200, 2);
    phys_write(&m->pm, 6 * 4 + 2, 0, 2);
    phys_write(&m->pm, 0x2200, 0xF4, 1);
    ck_assert_int_eq(run(m), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->eip, 0x2201);
    ck_assert_uint_eq(phys_read(&m->pm, 0x8000 - 6, 2), CODE);
    machine_free(m);
}
END_TEST

/* ---- self-modifying code ---- */

/* A loop executes "mov eax,imm32", then patches that immediate; each pass
 * must see the new value, so the cached block has to be invalidated. */
START_TEST(test_smc_patch_in_loop)
{
    struct machine *m = machine_new();
    flat32(m);
    struct cpu *c = &m->cpu;
    static const uint8_t code[] = {
        0xB8, 0x01, 0x00, 0x00, 0x00,                         /* 1000: mov eax,1      */
        0x01, 0xC3,                                           /* 1005: add ebx,eax    */
        0x83, 0x05, 0x01, 0x10, 0x00, 0x00, 0x01,             /* 1007: add dword [1001],1 */
        0x49,                                                 /* 100E: dec ecx        */
        0x75, 0xEF,                                           /* 100F: jnz 1000       */
        0xF4 };                                               /* 1011: hlt            */
    load(m, CODE, code, sizeof(code));
    c->regs[R_ECX] = 4;
    ck_assert_int_eq(run(m), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->regs[R_EBX], 1 + 2 + 3 + 4);
    ck_assert_uint_eq(c->regs[R_EAX], 4);
    ck_assert(c->block_misses >= 4);
    machine_free(m);
}
END_TEST

/* An instruction patches the very next one inside the same block. */
START_TEST(test_smc_next_instruction)
{
    struct machine *m = machine_new();
    flat32(m);
    struct cpu *c = &m->cpu;
    static const uint8_t code[] = {
        0xC6, 0x05, 0x08, 0x10, 0x00, 0x00, 0x05,             /* 1000: mov byte [1008],5 */
        0xB0, 0x01,                                           /* 1007: mov al,1          */
        0xF4 };
    load(m, CODE, code, sizeof(code));
    /* run it once from a warm cache: first pass decodes, then restore and rerun */
    ck_assert_int_eq(run(m), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->regs[R_EAX] & 0xFF, 5);
    load(m, CODE, code, sizeof(code));                        /* un-patch via DMA-style write */
    c->eip = CODE;
    c->halted = 0;
    c->regs[R_EAX] = 0;
    ck_assert_int_eq(run(m), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->regs[R_EAX] & 0xFF, 5);
    machine_free(m);
}
END_TEST

/* The same patch loop with paging on, the write going through a second
 * linear mapping (0x400000) of the code page: decoded blocks are keyed by
 * physical page, so the alias write must still invalidate them. */
START_TEST(test_smc_through_paging_alias)
{
    struct machine *m = machine_new();
    flat32(m);
    struct cpu *c = &m->cpu;
    for (uint32_t i = 0; i < 1024; i++)                      /* 0-4 MiB identity */
        phys_write(&m->pm, 0x11000 + 4 * i, (i << 12) | 3, 4);
    phys_write(&m->pm, 0x12000, CODE | 3, 4);                 /* 0x400000 -> code page */
    phys_write(&m->pm, 0x10000, 0x11000 | 3, 4);
    phys_write(&m->pm, 0x10004, 0x12000 | 3, 4);
    cpu_set_cr3(c, 0x10000);
    cpu_set_cr0(c, c->cr0 | CR0_PG);
    static const uint8_t code[] = {
        0xB8, 0x01, 0x00, 0x00, 0x00,                         /* 1000: mov eax,1              */
        0x01, 0xC3,                                           /* 1005: add ebx,eax            */
        0x83, 0x05, 0x01, 0x00, 0x40, 0x00, 0x01,             /* 1007: add dword [400001],1   */
        0x49,                                                 /* 100E: dec ecx                */
        0x75, 0xEF,                                           /* 100F: jnz 1000               */
        0xF4 };                                               /* 1011: hlt                    */
    load(m, CODE, code, sizeof(code));
    c->regs[R_ECX] = 4;
    ck_assert_int_eq(run(m), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->regs[R_EBX], 1 + 2 + 3 + 4);
    ck_assert_uint_eq(phys_read(&m->pm, CODE + 1, 4), 5);
    machine_free(m);
}
END_TEST

START_TEST(test_block_cache_hits)
{
    struct machine *m = machine_new();
    flat32(m);
    struct cpu *c = &m->cpu;
    static const uint8_t code[] = { 0x40, 0x49, 0x75, 0xFC, 0xF4 };   /* inc eax; dec ecx; jnz; hlt */
    load(m, CODE, code, sizeof(code));
    c->regs[R_ECX] = 1000;
    ck_assert_int_eq(run(m), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->regs[R_EAX], 1000);
    ck_assert(c->block_hits >= 998);
    ck_assert(c->block_misses <= 3);
    ck_assert_uint_eq(c->icount, 3001);
    machine_free(m);
}
END_TEST

Suite *cpu_ops_suite(void)
{
    Suite *s = suite_create("cpu_ops");
    TCase *tc = tcase_create("ops");
    tcase_add_loop_test(tc, test_ops_table, 0, (int)(sizeof(ops) / sizeof(ops[0])));
    tcase_add_test(tc, test_sib_and_bt_memory);
    tcase_add_test(tc, test_cmpxchg8b);
    tcase_add_test(tc, test_rep_movsd_and_stack);
    tcase_add_test(tc, test_divide_error_precise);
    tcase_add_test(tc, test_segment_limit_fault);
    tcase_add_test(tc, test_undefined_opcode);
    tcase_add_test(tc, test_smc_patch_in_loop);
    tcase_add_test(tc, test_smc_next_instruction);
    tcase_add_test(tc, test_smc_through_paging_alias);
    tcase_add_test(tc, test_block_cache_hits);
    suite_add_tcase(s, tc);
    return s;
}
