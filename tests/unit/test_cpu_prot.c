/* Protected-mode machinery of the CPU (cpu/seg.c, intr.c, farxfer.c, task.c,
 * io.c, system.c): a CPU with RAM and hand-made GDT/IDT/TSS/LDT; functions
 * called directly, faults caught through cpu->fault_jmp, and checked against
 * the exact error codes and stack frames of the Intel SDM. */
#include <check.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include "cpu/cpu.h"

#define GDT   0x1000u
#define IDT   0x2000u
#define TSSA  0x3000u
#define TSSB  0x3200u
#define LDT   0x5000u
#define STK3  0x8000u    /* ring-3 stack top */
#define STK0  0x9000u    /* ring-0 stack top (TSS A ESP0) */
#define STK0B 0xA000u    /* ring-0 stack of task B */

/* GDT selectors */
enum {
    CODE0 = 0x08, DATA0 = 0x10, CODE3 = 0x18, DATA3 = 0x20, TSS_A = 0x28, TSS_B = 0x30,
    CGATE = 0x38, NPDATA = 0x40, CONF0 = 0x48, LDTSEL = 0x50, TGATE = 0x58, CODE16 = 0x60,
    DATA1 = 0x68, RODATA = 0x70, XCODE = 0x78, CODE1 = 0x80, CGATE16 = 0x88, BADSS = 0x90,
    GDT_LIMIT = 0xFF
};

struct machine {
    struct physmem pm;
    struct cpu cpu;
};
static struct machine *M;
#define C (&M->cpu)

static void w(uint32_t a, uint32_t v, int size) { phys_write(&M->pm, a, v, size); }
static uint32_t r(uint32_t a, int size) { return phys_read(&M->pm, a, size); }

static uint64_t mkdesc(uint32_t base, uint32_t limit, uint8_t access, uint8_t gd)
{
    return (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
           (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xF) << 48 |
           (uint64_t)(gd & 0xF) << 52 | (uint64_t)(base >> 24) << 56;
}

static uint64_t mkgate(uint16_t sel, uint32_t off, uint8_t access, int params)
{
    return (uint64_t)(off & 0xFFFF) | (uint64_t)sel << 16 | (uint64_t)(params & 0x1F) << 32 |
           (uint64_t)access << 40 | (uint64_t)(off >> 16) << 48;
}

static void put8(uint32_t table, unsigned sel, uint64_t d)
{
    w(table + (sel & ~7u), (uint32_t)d, 4);
    w(table + (sel & ~7u) + 4, (uint32_t)(d >> 32), 4);
}

static void idt_set(int vec, uint16_t sel, uint32_t off, uint8_t access)
{
    put8(IDT, (unsigned)vec * 8, mkgate(sel, off, access, 0));
}

static void load_seg(int sreg, uint16_t sel, uint64_t d)
{
    cpu_desc_to_seg(&C->segs[sreg], sel, d);
}

static void tss32_init(uint32_t base, uint32_t esp0, uint16_t ss0)
{
    for (uint32_t i = 0; i < 0x68; i += 4)
        w(base + i, 0, 4);
    w(base + 4, esp0, 4);
    w(base + 8, ss0, 4);
    w(base + 0x66, 0x68, 2);
}

static void setup(void)
{
    M = calloc(1, sizeof(*M));
    ck_assert_int_eq(physmem_init(&M->pm, 1u << 20), 0);
    ck_assert_int_eq(cpu_init(C, &M->pm), 0);
    put8(GDT, CODE0, mkdesc(0, 0xFFFFF, 0x9A, 0xC));
    put8(GDT, DATA0, mkdesc(0, 0xFFFFF, 0x92, 0xC));
    put8(GDT, CODE3, mkdesc(0, 0xFFFFF, 0xFA, 0xC));
    put8(GDT, DATA3, mkdesc(0, 0xFFFFF, 0xF2, 0xC));
    put8(GDT, TSS_A, mkdesc(TSSA, 0x68 + 32, 0x89, 0));
    put8(GDT, TSS_B, mkdesc(TSSB, 0x67, 0x89, 0));
    put8(GDT, CGATE, mkgate(CODE0, 0x12345, 0xEC, 2));
    put8(GDT, NPDATA, mkdesc(0, 0xFFFFF, 0x12, 0xC));
    put8(GDT, CONF0, mkdesc(0, 0xFFFFF, 0x9E, 0xC));
    put8(GDT, LDTSEL, mkdesc(LDT, 0x17, 0x82, 0));
    put8(GDT, TGATE, mkgate(TSS_B, 0, 0xE5, 0));
    put8(GDT, CODE16, mkdesc(0, 0xFFFF, 0x9A, 0));
    put8(GDT, DATA1, mkdesc(0, 0xFFFFF, 0xB2, 0xC));
    put8(GDT, RODATA, mkdesc(0, 0xFFFFF, 0x90, 0xC));
    put8(GDT, XCODE, mkdesc(0, 0xFFFFF, 0x98, 0xC));
    put8(GDT, CODE1, mkdesc(0, 0xFFFFF, 0xBA, 0xC));
    put8(GDT, CGATE16, mkgate(CODE0, 0x2345, 0xE4, 1));
    put8(GDT, BADSS, mkdesc(0, 0xFFFFF, 0x92, 0xC));
    put8(LDT, 0x08, mkdesc(0x40000, 0xFFFF, 0xF2, 0));   /* LDT index 1: base 0x40000 */
    tss32_init(TSSA, STK0, DATA0);
    for (int i = 0; i < 32; i++)
        w(TSSA + 0x68 + (uint32_t)i, 0xFF, 1);
    w(TSSA + 0x68 + 0x60 / 8, 0xFE, 1);                   /* port 0x60 allowed */
    w(TSSA + 0x68 + 32, 0xFF, 1);
    tss32_init(TSSB, STK0B, DATA0);

    cpu_set_cr0(C, C->cr0 | CR0_PE);
    C->sys[SYS_GDTR].base = GDT;
    C->sys[SYS_GDTR].limit = GDT_LIMIT;
    C->sys[SYS_IDTR].base = IDT;
    C->sys[SYS_IDTR].limit = 0x7FF;
    load_seg(S_CS, CODE0, mkdesc(0, 0xFFFFF, 0x9B, 0xC));
    for (int s = 0; s < 6; s++)
        if (s != S_CS)
            load_seg(s, DATA0, mkdesc(0, 0xFFFFF, 0x93, 0xC));
    C->cpl = 0;
    C->regs[R_ESP] = STK0 - 0x100;
    C->eflags = 0x2;
    cpu_ltr(C, TSS_A);
}

static void teardown(void)
{
    cpu_free(C);
    physmem_free(&M->pm);
    free(M);
}

static void to_ring3(void)
{
    load_seg(S_CS, CODE3 | 3, mkdesc(0, 0xFFFFF, 0xFB, 0xC));
    load_seg(S_SS, DATA3 | 3, mkdesc(0, 0xFFFFF, 0xF3, 0xC));
    load_seg(S_ES, DATA3 | 3, mkdesc(0, 0xFFFFF, 0xF3, 0xC));
    C->cpl = 3;
    C->regs[R_ESP] = STK3;
    C->eip = 0x4000;
}

/* Runs `stmt`; the fault it raised (or -1) goes to vec/err. */
#define CATCH(stmt, vec, err) do {                                   \
        C->fault_eip = C->eip;                                       \
        C->fault_esp = C->regs[R_ESP];                               \
        if (setjmp(C->fault_jmp) == 0) { stmt; (vec) = -1; (err) = -1; } \
        else { (vec) = C->exc_vector; (err) = C->exc_errcode; }      \
    } while (0)
#define EXPECT_OK(stmt) do { int v_, e_; CATCH(stmt, v_, e_);           \
        ck_assert_msg(v_ < 0, "unexpected fault %d(%#x)", v_, (unsigned)e_); } while (0)
#define EXPECT_FAULT(stmt, vec, err) do { int v_, e_; CATCH(stmt, v_, e_); \
        ck_assert_msg(v_ == (vec) && e_ == (err), "got fault %d(%#x), want %d(%#x)", \
                      v_, (unsigned)e_, (vec), (unsigned)(err)); } while (0)

/* ---- segment loads ---- */

static const struct {
    int cpl, sreg;
    uint16_t sel;
    int vec, err;        /* vec -1: loads */
} seg_cases[] = {
    { 0, S_SS, 0x0000, EXC_GP, 0 },
    { 0, S_SS, DATA0, -1, 0 },
    { 0, S_SS, DATA0 | 1, EXC_GP, DATA0 },
    { 0, S_SS, DATA3, EXC_GP, DATA3 },
    { 3, S_SS, DATA3 | 3, -1, 0 },
    { 0, S_SS, RODATA, EXC_GP, RODATA },
    { 0, S_SS, CODE0, EXC_GP, CODE0 },
    { 0, S_SS, NPDATA, EXC_SS, NPDATA },
    { 0, S_SS, 0x1000, EXC_GP, 0x1000 },
    { 0, S_DS, 0x0000, -1, 0 },
    { 3, S_DS, 0x0003, -1, 0 },
    { 0, S_DS, NPDATA, EXC_NP, NPDATA },
    { 3, S_DS, DATA0 | 3, EXC_GP, DATA0 },
    { 0, S_DS, DATA0 | 3, EXC_GP, DATA0 },
    { 1, S_ES, DATA1 | 1, -1, 0 },
    { 2, S_ES, DATA1 | 2, EXC_GP, DATA1 },
    { 3, S_FS, CONF0 | 3, -1, 0 },
    { 0, S_GS, XCODE, EXC_GP, XCODE },
    { 0, S_DS, CODE0, -1, 0 },
    { 0, S_DS, TSS_A, EXC_GP, TSS_A },
    { 0, S_DS, CGATE, EXC_GP, CGATE },
    { 0, S_DS, 0x000C, EXC_GP, 0x000C },     /* LDT selector with a null LDTR */
    { 0, S_DS, GDT_LIMIT + 1, EXC_GP, GDT_LIMIT + 1 },
};

START_TEST(test_seg_load_rules)
{
    C->cpl = (uint8_t)seg_cases[_i].cpl;
    struct seg before = C->segs[seg_cases[_i].sreg];
    int vec, err;
    CATCH(cpu_load_seg(C, seg_cases[_i].sreg, seg_cases[_i].sel), vec, err);
    ck_assert_msg(vec == seg_cases[_i].vec && (vec < 0 || err == seg_cases[_i].err),
                  "case %d: got %d(%#x)", _i, vec, (unsigned)err);
    const struct seg *s = &C->segs[seg_cases[_i].sreg];
    if (vec >= 0) {
        ck_assert_int_eq(s->sel, before.sel);
        ck_assert_int_eq(s->flags, before.flags);
    } else {
        ck_assert_int_eq(s->sel, seg_cases[_i].sel);
        if (seg_cases[_i].sel & 0xFFFC)
            ck_assert_int_eq(r(GDT + (seg_cases[_i].sel & ~7u) + 5, 1) & 1, 1);  /* accessed */
        else
            ck_assert_int_eq(s->flags & SEGF_P, 0);
    }
}
END_TEST

START_TEST(test_seg_load_ldt)
{
    EXPECT_FAULT(cpu_lldt(C, LDTSEL | 4), EXC_GP, LDTSEL | 4);
    EXPECT_FAULT(cpu_lldt(C, DATA0), EXC_GP, DATA0);
    EXPECT_OK(cpu_lldt(C, LDTSEL));
    ck_assert_uint_eq(C->sys[SYS_LDTR].base, LDT);
    C->cpl = 3;
    EXPECT_OK(cpu_load_seg(C, S_DS, 0x0F));
    ck_assert_uint_eq(C->segs[S_DS].base, 0x40000);
    ck_assert_uint_eq(C->segs[S_DS].limit, 0xFFFF);
    ck_assert_int_eq(r(LDT + 8 + 5, 1), 0xF3);
    EXPECT_FAULT(cpu_load_seg(C, S_DS, 0x1F), EXC_GP, 0x1C);   /* beyond LDT limit */
    EXPECT_FAULT(cpu_lldt(C, LDTSEL), EXC_GP, 0);              /* CPL 3 */
}
END_TEST

/* ---- real mode ---- */

static void to_real(void)
{
    cpu_set_cr0(C, C->cr0 & ~CR0_PE);
    C->cpl = 0;
    for (int s = 0; s < 6; s++) {
        C->segs[s] = (struct seg){ 0, 0, 0xFFFF, 0x93 };
    }
    C->segs[S_CS].flags = 0x9B;
    C->sys[SYS_IDTR].base = 0;
    C->sys[SYS_IDTR].limit = 0x3FF;
}

START_TEST(test_real_int_and_iret)
{
    to_real();
    cpu_load_seg_real(C, S_SS, 0x2000);
    C->regs[R_ESP] = 0x12340100;
    cpu_load_seg_real(C, S_CS, 0x1000);
    w(0x21 * 4, 0x5678, 2);
    w(0x21 * 4 + 2, 0x4321, 2);
    C->eflags = 0x2 | FL_IF | FL_TF | FL_CF | FL_AC;
    EXPECT_OK(cpu_deliver(C, 0x21, INTR_SOFTWARE, -1, 0x0102));
    ck_assert_uint_eq(C->segs[S_CS].sel, 0x4321);
    ck_assert_uint_eq(C->segs[S_CS].base, 0x43210);
    ck_assert_uint_eq(C->eip, 0x5678);
    ck_assert_uint_eq(C->regs[R_ESP], 0x123400FA);
    ck_assert_uint_eq(r(0x200FA, 2), 0x0102);
    ck_assert_uint_eq(r(0x200FC, 2), 0x1000);
    ck_assert_uint_eq(r(0x200FE, 2), 0x2 | FL_IF | FL_TF | FL_CF);
    ck_assert_uint_eq(C->eflags & (FL_IF | FL_TF | FL_AC), 0);
    ck_assert_uint_eq(cpu_get_eflags(C) & FL_CF, FL_CF);
    EXPECT_OK(cpu_iret(C, 16));
    ck_assert_uint_eq(C->segs[S_CS].sel, 0x1000);
    ck_assert_uint_eq(C->eip, 0x0102);
    ck_assert_uint_eq(C->regs[R_ESP], 0x12340100);
    ck_assert_uint_eq(cpu_get_eflags(C) & (FL_IF | FL_TF | FL_CF), FL_IF | FL_TF | FL_CF);
    /* IVT limit */
    C->sys[SYS_IDTR].limit = 0x83;
    EXPECT_OK(cpu_deliver(C, 0x20, INTR_EXTERNAL, -1, 0));
    EXPECT_FAULT(cpu_deliver(C, 0x21, INTR_EXTERNAL, -1, 0), EXC_GP, 0);
}
END_TEST

START_TEST(test_real_far_call_ret)
{
    to_real();
    C->segs[S_CS].limit = 0xFFFF;
    cpu_load_seg_real(C, S_CS, 0x0100);
    C->regs[R_ESP] = 0x0004;            /* 16-bit stack wraps below 0 */
    EXPECT_OK(cpu_far_call(C, 0x0200, 0x0030, 16, 0x0011));
    ck_assert_uint_eq(C->regs[R_ESP], 0);
    ck_assert_uint_eq(r(0x0, 2), 0x0011);
    ck_assert_uint_eq(r(0x2, 2), 0x0100);
    ck_assert_uint_eq(C->segs[S_CS].base, 0x2000);
    EXPECT_OK(cpu_far_ret(C, 16, 4));
    ck_assert_uint_eq(C->segs[S_CS].sel, 0x0100);
    ck_assert_uint_eq(C->eip, 0x0011);
    ck_assert_uint_eq(C->regs[R_ESP] & 0xFFFF, 0x0008);
    /* 32-bit form, and the CS limit check that keeps "unreal" limits */
    C->regs[R_ESP] = 0x100;
    EXPECT_OK(cpu_far_call(C, 0x0300, 0x00001234, 32, 0x00005678));
    ck_assert_uint_eq(C->regs[R_ESP], 0xF8);
    ck_assert_uint_eq(r(0xF8, 4), 0x5678);
    ck_assert_uint_eq(r(0xFC, 4), 0x0100);
    EXPECT_FAULT(cpu_far_jmp(C, 0x0300, 0x10000, 32, 0), EXC_GP, 0);
    C->segs[S_CS].limit = 0xFFFFFFFF;
    EXPECT_OK(cpu_far_jmp(C, 0x0300, 0x10000, 32, 0));
    ck_assert_uint_eq(C->segs[S_CS].limit, 0xFFFFFFFF);
    ck_assert_uint_eq(C->eip, 0x10000);
}
END_TEST

START_TEST(test_real_seg_keeps_cache)
{
    to_real();
    C->segs[S_DS].limit = 0xFFFFFFFF;    /* "unreal" mode */
    cpu_load_seg_real(C, S_DS, 0x1234);
    ck_assert_uint_eq(C->segs[S_DS].base, 0x12340);
    ck_assert_uint_eq(C->segs[S_DS].limit, 0xFFFFFFFF);
    ck_assert_uint_eq(C->segs[S_DS].flags, 0x93);
}
END_TEST

/* ---- far transfers in protected mode ---- */

START_TEST(test_call_gate_inner_and_ret_outer)
{
    to_ring3();
    load_seg(S_DS, DATA0, mkdesc(0, 0xFFFFF, 0x93, 0xC));   /* DPL 0: nulled on return */
    C->regs[R_ESP] = STK3 - 8;
    w(STK3 - 8, 0x11111111, 4);        /* parameters: first at ESP */
    w(STK3 - 4, 0x22222222, 4);
    EXPECT_OK(cpu_far_call(C, CGATE | 3, 0xDEAD, 32, 0x4007));
    ck_assert_int_eq(C->cpl, 0);
    ck_assert_uint_eq(C->segs[S_CS].sel, CODE0);
    ck_assert_uint_eq(C->eip, 0x12345);
    ck_assert_uint_eq(C->segs[S_SS].sel, DATA0);
    uint32_t sp = C->regs[R_ESP];
    ck_assert_uint_eq(sp, STK0 - 24);
    static const uint32_t frame[6] = { 0x4007, CODE3 | 3, 0x11111111, 0x22222222, STK3 - 8, DATA3 | 3 };
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(r(sp + 4 * (uint32_t)i, 4), frame[i]);
    EXPECT_OK(cpu_far_ret(C, 32, 8));
    ck_assert_int_eq(C->cpl, 3);
    ck_assert_uint_eq(C->segs[S_CS].sel, CODE3 | 3);
    ck_assert_uint_eq(C->eip, 0x4007);
    ck_assert_uint_eq(C->segs[S_SS].sel, DATA3 | 3);
    ck_assert_uint_eq(C->regs[R_ESP], STK3);
    ck_assert_uint_eq(C->segs[S_DS].sel, 0);            /* DPL 0 < CPL 3 */
    ck_assert_uint_eq(C->segs[S_ES].sel, DATA3 | 3);    /* kept */
}
END_TEST

START_TEST(test_call_gate_16_and_errors)
{
    to_ring3();
    C->regs[R_ESP] = STK3 - 2;
    w(STK3 - 2, 0xBEEF, 2);
    EXPECT_OK(cpu_far_call(C, CGATE16 | 3, 0, 16, 0x4005));
    uint32_t sp = C->regs[R_ESP];
    ck_assert_uint_eq(sp, STK0 - 10);
    static const uint16_t frame[5] = { 0x4005, CODE3 | 3, 0xBEEF, (STK3 - 2) & 0xFFFF, DATA3 | 3 };
    for (int i = 0; i < 5; i++)
        ck_assert_uint_eq(r(sp + 2 * (uint32_t)i, 2), frame[i]);
    ck_assert_uint_eq(C->eip, 0x2345);

    to_ring3();
    EXPECT_FAULT(cpu_far_call(C, CODE0, 0, 32, 0), EXC_GP, CODE0);       /* DPL 0 from CPL 3 */
    EXPECT_FAULT(cpu_far_jmp(C, CGATE | 3, 0, 32, 0), EXC_GP, CODE0);    /* JMP can't raise CPL */
    EXPECT_FAULT(cpu_far_call(C, 0, 0, 32, 0), EXC_GP, 0);
    EXPECT_FAULT(cpu_far_call(C, DATA3 | 3, 0, 32, 0), EXC_GP, DATA3);
    ck_assert_int_eq(C->cpl, 3);
    ck_assert_uint_eq(C->regs[R_ESP], STK3);
    /* a bad ring-0 stack in the TSS: #TS(new SS) */
    w(TSSA + 8, BADSS | 1, 2);
    EXPECT_FAULT(cpu_far_call(C, CGATE | 3, 0, 32, 0), EXC_TS, BADSS);
    w(TSSA + 8, NPDATA, 2);
    EXPECT_FAULT(cpu_far_call(C, CGATE | 3, 0, 32, 0), EXC_SS, NPDATA);
    w(TSSA + 8, 0, 2);
    EXPECT_FAULT(cpu_far_call(C, CGATE | 3, 0, 32, 0), EXC_TS, 0);
    ck_assert_uint_eq(C->segs[S_CS].sel, CODE3 | 3);
    ck_assert_uint_eq(C->segs[S_SS].sel, DATA3 | 3);
}
END_TEST

START_TEST(test_far_jmp_conforming_and_limits)
{
    to_ring3();
    EXPECT_OK(cpu_far_jmp(C, CONF0, 0x100, 32, 0));
    ck_assert_int_eq(C->cpl, 3);
    ck_assert_uint_eq(C->segs[S_CS].sel, CONF0 | 3);   /* RPL := CPL */
    C->cpl = 0;
    load_seg(S_CS, CODE0, mkdesc(0, 0xFFFFF, 0x9B, 0xC));
    EXPECT_FAULT(cpu_far_jmp(C, CODE16, 0x10000, 32, 0), EXC_GP, 0);  /* beyond limit */
    EXPECT_OK(cpu_far_jmp(C, CODE16, 0x10000, 16, 0));                /* 16-bit: masked */
    ck_assert_uint_eq(C->eip, 0);
    EXPECT_FAULT(cpu_far_jmp(C, CODE1 | 1, 0, 32, 0), EXC_GP, CODE1); /* DPL != CPL */
    put8(GDT, 0x98, mkdesc(0, 0xFFFFF, 0x1A, 0xC));                    /* code, not present */
    EXPECT_FAULT(cpu_far_jmp(C, 0x98, 0, 32, 0), EXC_NP, 0x98);
}
END_TEST

START_TEST(test_ret_checks)
{
    /* RET to a more privileged level is #GP(selector) */
    to_ring3();
    C->regs[R_ESP] = STK3 - 8;
    w(STK3 - 8, 0x1000, 4);
    w(STK3 - 4, CODE0, 4);
    EXPECT_FAULT(cpu_far_ret(C, 32, 0), EXC_GP, CODE0);
    ck_assert_uint_eq(C->regs[R_ESP], STK3 - 8);
    /* RET outer with a bad SS RPL */
    C->cpl = 0;
    load_seg(S_CS, CODE0, mkdesc(0, 0xFFFFF, 0x9B, 0xC));
    load_seg(S_SS, DATA0, mkdesc(0, 0xFFFFF, 0x93, 0xC));
    C->regs[R_ESP] = STK0 - 16;
    w(STK0 - 16, 0x1000, 4);
    w(STK0 - 12, CODE3 | 3, 4);
    w(STK0 - 8, STK3, 4);
    w(STK0 - 4, DATA3 | 2, 4);
    EXPECT_FAULT(cpu_far_ret(C, 32, 0), EXC_GP, DATA3);
    /* stack too short for the outer pops: #SS(0) */
    C->segs[S_SS].limit = STK0 - 5;
    EXPECT_FAULT(cpu_far_ret(C, 32, 0), EXC_SS, 0);
}
END_TEST

/* ---- interrupts and exceptions ---- */

START_TEST(test_int_from_ring3)
{
    idt_set(0x80, CODE0, 0x7000, 0xEE);     /* 32-bit interrupt gate, DPL 3 */
    to_ring3();
    C->eflags = 0x2 | FL_IF | FL_NT;
    EXPECT_OK(cpu_deliver(C, 0x80, INTR_SOFTWARE, -1, 0x4002));
    ck_assert_int_eq(C->cpl, 0);
    ck_assert_uint_eq(C->eip, 0x7000);
    ck_assert_uint_eq(C->segs[S_SS].sel, DATA0);
    uint32_t sp = C->regs[R_ESP];
    ck_assert_uint_eq(sp, STK0 - 20);
    static const uint32_t frame[5] = { 0x4002, CODE3 | 3, 0x2 | FL_IF | FL_NT, STK3, DATA3 | 3 };
    for (int i = 0; i < 5; i++)
        ck_assert_uint_eq(r(sp + 4 * (uint32_t)i, 4), frame[i]);
    ck_assert_uint_eq(C->eflags & (FL_IF | FL_NT), 0);
    /* and back */
    EXPECT_OK(cpu_iret(C, 32));
    ck_assert_int_eq(C->cpl, 3);
    ck_assert_uint_eq(C->eip, 0x4002);
    ck_assert_uint_eq(C->regs[R_ESP], STK3);
    ck_assert_uint_eq(C->segs[S_CS].sel, CODE3 | 3);
    ck_assert_uint_eq(cpu_get_eflags(C), 0x2 | FL_IF | FL_NT);
}
END_TEST

START_TEST(test_exception_trap_gate_errcode)
{
    idt_set(EXC_GP, CODE0, 0x7100, 0x8F);   /* 32-bit trap gate, DPL 0 */
    C->eflags = 0x2 | FL_IF;
    uint32_t sp0 = C->regs[R_ESP];
    EXPECT_OK(cpu_deliver(C, EXC_GP, INTR_EXCEPTION, 0x28, 0x1234));
    ck_assert_uint_eq(C->regs[R_ESP], sp0 - 16);
    ck_assert_uint_eq(r(sp0 - 16, 4), 0x28);
    ck_assert_uint_eq(r(sp0 - 12, 4), 0x1234);
    ck_assert_uint_eq(r(sp0 - 8, 4), CODE0);
    ck_assert_uint_eq(r(sp0 - 4, 4), 0x2 | FL_IF | FL_RF);   /* faults push RF */
    ck_assert_uint_eq(C->eflags & FL_IF, FL_IF);             /* trap gate keeps IF */
    /* 16-bit interrupt gate: 16-bit frame with the error code */
    idt_set(EXC_NP, CODE0, 0x17100, 0x86);
    sp0 = C->regs[R_ESP];
    EXPECT_OK(cpu_deliver(C, EXC_NP, INTR_EXCEPTION, 0x40, 0x5555));
    ck_assert_uint_eq(C->regs[R_ESP], sp0 - 8);
    ck_assert_uint_eq(r(sp0 - 8, 2), 0x40);
    ck_assert_uint_eq(r(sp0 - 6, 2), 0x5555);
    ck_assert_uint_eq(C->eip, 0x7100);                       /* offset is 16-bit */
    ck_assert_uint_eq(C->eflags & FL_IF, 0);
}
END_TEST

/* IRET to ring 3: which EFLAGS bits the old CPL may change, and the data
 * segment registers the new CPL may not use. */
START_TEST(test_iret_outer_flags)
{
    load_seg(S_FS, DATA0, mkdesc(0, 0xFFFFF, 0x93, 0xC));
    load_seg(S_GS, CONF0, mkdesc(0, 0xFFFFF, 0x9F, 0xC));      /* conforming: kept */
    uint32_t sp = STK0 - 20;
    static const uint32_t img[5] = { 0x4444, CODE3 | 3, 0x2 | FL_IOPL | FL_CF | FL_AC, STK3 - 4, DATA3 | 3 };
    for (int i = 0; i < 5; i++)
        w(sp + 4 * (uint32_t)i, img[i], 4);
    C->regs[R_ESP] = sp;
    C->eflags = 0x2 | FL_IF;
    EXPECT_OK(cpu_iret(C, 32));
    ck_assert_int_eq(C->cpl, 3);
    ck_assert_uint_eq(cpu_get_eflags(C), 0x2 | FL_IOPL | FL_CF | FL_AC);   /* CPL 0: all */
    ck_assert_uint_eq(C->segs[S_FS].sel, 0);
    ck_assert_uint_eq(C->segs[S_GS].sel, CONF0);
    ck_assert_uint_eq(C->regs[R_ESP], STK3 - 4);
    /* at CPL 3 with IOPL 0, IRET changes neither IF nor IOPL */
    C->eflags = 0x2;
    C->regs[R_ESP] = STK3 - 12;
    w(STK3 - 12, 0x4555, 4);
    w(STK3 - 8, CODE3 | 3, 4);
    w(STK3 - 4, 0x2 | FL_IF | FL_IOPL | FL_ZF, 4);
    EXPECT_OK(cpu_iret(C, 32));
    ck_assert_uint_eq(cpu_get_eflags(C), 0x2 | FL_ZF);
    ck_assert_uint_eq(C->eip, 0x4555);
    /* and an IRET image with VM set at CPL 3 does not enter V86 mode */
    C->regs[R_ESP] = STK3 - 12;
    w(STK3 - 4, 0x2 | FL_VM, 4);
    EXPECT_OK(cpu_iret(C, 32));
    ck_assert(!cpu_v86(C));
}
END_TEST

static const struct {
    int vec;
    enum intr_kind kind;
    int cpl;
    uint64_t gate;
    int want_vec, want_err;
} gate_cases[] = {
    /* software INT to a DPL 0 gate from ring 3: #GP(vec*8+2), no EXT */
    { 0x40, INTR_SOFTWARE, 3, 0x00008E0000087000ull, EXC_GP, 0x40 * 8 + 2 },
    /* the same gate is fine for a hardware interrupt */
    { 0x40, INTR_EXTERNAL, 3, 0x00008E0000087000ull, -1, 0 },
    /* not present: #NP(vec*8+2+EXT) */
    { 0x41, INTR_EXTERNAL, 0, 0x00000E0000087000ull, EXC_NP, 0x41 * 8 + 3 },
    { 0x41, INTR_SOFTWARE, 0, 0x00006E0000087000ull, EXC_NP, 0x41 * 8 + 2 },
    /* not a gate type */
    { 0x42, INTR_EXCEPTION, 0, 0x0000890000087000ull, EXC_GP, 0x42 * 8 + 3 },
    /* gate to a data segment: #GP(selector + EXT) */
    { 0x43, INTR_EXTERNAL, 0, 0x00008E0000107000ull, EXC_GP, DATA0 + 1 },
    /* null code selector: #GP(EXT) */
    { 0x44, INTR_EXTERNAL, 0, 0x00008E0000007000ull, EXC_GP, 1 },
    /* code segment DPL 3 from ring 0: #GP(selector) */
    { 0x45, INTR_SOFTWARE, 0, 0x00008E0000187000ull, EXC_GP, CODE3 },
    /* beyond the IDT limit */
    { 0x100 - 1, INTR_EXTERNAL, 0, 0, EXC_GP, 0xFF * 8 + 3 },
};

START_TEST(test_gate_errors)
{
    if (gate_cases[_i].gate)
        put8(IDT, (unsigned)gate_cases[_i].vec * 8, gate_cases[_i].gate);
    if (gate_cases[_i].cpl == 3)
        to_ring3();
    uint32_t esp = C->regs[R_ESP];
    int vec, err;
    CATCH(cpu_deliver(C, gate_cases[_i].vec, gate_cases[_i].kind, -1, 0x4444), vec, err);
    ck_assert_msg(vec == gate_cases[_i].want_vec && (vec < 0 || err == gate_cases[_i].want_err),
                  "case %d: got %d(%#x)", _i, vec, (unsigned)err);
    if (vec >= 0) {
        ck_assert_uint_eq(C->regs[R_ESP], esp);
        ck_assert_int_eq(C->cpl, gate_cases[_i].cpl);
    }
}
END_TEST

START_TEST(test_interrupt_stack_fault)
{
    /* ring-0 stack in the TSS too small for the frame: #SS(new SS + EXT) */
    idt_set(0x30, CODE0, 0x7000, 0x8E);
    put8(GDT, BADSS, mkdesc(0, (STK0 - 12) >> 12, 0x92, 0x8));   /* limit STK0-12 rounded */
    put8(GDT, BADSS, mkdesc(0, STK0 - 16, 0x92, 0x4));
    w(TSSA + 8, BADSS, 2);
    to_ring3();
    EXPECT_FAULT(cpu_deliver(C, 0x30, INTR_EXTERNAL, -1, 0), EXC_SS, BADSS | 1);
    ck_assert_int_eq(C->cpl, 3);
    ck_assert_uint_eq(C->segs[S_SS].sel, DATA3 | 3);
    /* the ring-0 SS must have DPL 0 */
    w(TSSA + 8, DATA3 | 0, 2);
    EXPECT_FAULT(cpu_deliver(C, 0x30, INTR_EXTERNAL, -1, 0), EXC_TS, DATA3 | 1);
}
END_TEST

/* A page fault while pushing the frame on the ring-0 stack: #PF with CR2 and
 * nothing else changed (the frame is built before any register is). */
START_TEST(test_interrupt_page_fault)
{
    const uint32_t pd = 0x20000, pt = 0x21000;
    w(pd, pt | 7, 4);
    for (uint32_t p = 0; p < 256; p++)
        w(pt + 4 * p, (p << 12) | 7, 4);
    w(pt + 4 * 8, 0, 4);                          /* page 0x8000 (ring-0 stack) absent */
    cpu_set_cr3(C, pd);
    cpu_set_cr0(C, C->cr0 | CR0_PG);
    idt_set(0x80, CODE0, 0x7000, 0xEE);
    to_ring3();
    C->eflags = 0x2 | FL_IF;
    EXPECT_FAULT(cpu_deliver(C, 0x80, INTR_SOFTWARE, -1, 0x4002), EXC_PF, PF_W);
    ck_assert_uint_eq(C->cr2, STK0 - 4);
    ck_assert_int_eq(C->cpl, 3);
    ck_assert_uint_eq(C->regs[R_ESP], STK3);
    ck_assert_uint_eq(C->segs[S_SS].sel, DATA3 | 3);
    ck_assert_uint_eq(C->segs[S_CS].sel, CODE3 | 3);
    ck_assert_uint_eq(C->eflags & FL_IF, FL_IF);
}
END_TEST

/* ---- virtual-8086 mode ---- */

START_TEST(test_v86_enter_and_leave)
{
    idt_set(0x20, CODE0, 0x7200, 0x8E);
    idt_set(0x21, CODE0, 0x7300, 0xEE);
    /* IRET at CPL 0 with VM set in the image */
    uint32_t sp = STK0 - 36;
    static const uint32_t img[9] = { 0x0100, 0x1000, 0x2 | FL_VM | FL_IF, 0xFFFE, 0x2000,
                                     0x3000, 0x3100, 0x3200, 0x3300 };
    for (int i = 0; i < 9; i++)
        w(sp + 4 * (uint32_t)i, img[i], 4);
    C->regs[R_ESP] = sp;
    EXPECT_OK(cpu_iret(C, 32));
    ck_assert(cpu_v86(C));
    ck_assert_int_eq(C->cpl, 3);
    ck_assert_uint_eq(C->eip, 0x100);
    ck_assert_uint_eq(C->segs[S_CS].base, 0x10000);
    ck_assert_uint_eq(C->segs[S_SS].base, 0x20000);
    ck_assert_uint_eq(C->segs[S_ES].sel, 0x3000);
    ck_assert_uint_eq(C->segs[S_DS].sel, 0x3100);
    ck_assert_uint_eq(C->segs[S_FS].sel, 0x3200);
    ck_assert_uint_eq(C->segs[S_GS].base, 0x33000);
    ck_assert_uint_eq(C->segs[S_GS].limit, 0xFFFF);
    ck_assert_uint_eq(C->segs[S_GS].flags, 0xF3);
    ck_assert_uint_eq(C->regs[R_ESP], 0xFFFE);
    /* INT n with IOPL 0, and IRET with IOPL 0, are #GP(0) */
    EXPECT_FAULT(cpu_deliver(C, 0x21, INTR_SOFTWARE, -1, 0x102), EXC_GP, 0);
    EXPECT_FAULT(cpu_iret(C, 16), EXC_GP, 0);
    /* an external interrupt leaves V86 mode through the ring-0 stack */
    EXPECT_OK(cpu_deliver(C, 0x20, INTR_EXTERNAL, -1, 0x0102));
    ck_assert(!cpu_v86(C));
    ck_assert_int_eq(C->cpl, 0);
    ck_assert_uint_eq(C->eip, 0x7200);
    sp = C->regs[R_ESP];
    ck_assert_uint_eq(sp, STK0 - 36);
    static const uint32_t frame[9] = { 0x0102, 0x1000, 0x2 | FL_VM | FL_IF, 0xFFFE, 0x2000,
                                       0x3000, 0x3100, 0x3200, 0x3300 };
    for (int i = 0; i < 9; i++)
        ck_assert_uint_eq(r(sp + 4 * (uint32_t)i, 4), frame[i]);
    for (int s = 0; s < 6; s++)
        if (s != S_CS && s != S_SS)
            ck_assert_uint_eq(C->segs[s].sel, 0);
    /* a gate to a DPL 3 (non-conforming) code segment from V86: #GP(sel+EXT) */
    EXPECT_OK(cpu_iret(C, 32));
    ck_assert(cpu_v86(C));
    idt_set(0x22, CODE3, 0x7300, 0xEE);
    EXPECT_FAULT(cpu_deliver(C, 0x22, INTR_EXTERNAL, -1, 0), EXC_GP, CODE3 + 1);
    /* IOPL 3: INT n goes through the DPL 3 gate */
    C->eflags |= FL_IOPL;
    EXPECT_OK(cpu_deliver(C, 0x21, INTR_SOFTWARE, -1, 0x104));
    ck_assert_uint_eq(C->eip, 0x7300);
}
END_TEST

START_TEST(test_v86_iret_iopl3)
{
    C->eflags = 0x2 | FL_VM | FL_IOPL;
    C->cpl = 3;
    for (int s = 0; s < 6; s++)
        cpu_load_seg_real(C, s, 0x1000);
    C->regs[R_ESP] = 0x100;
    w(0x10100, 0x0222, 2);
    w(0x10102, 0x2000, 2);
    w(0x10104, 0x0001 | FL_IF, 2);       /* IOPL bits in the image are 0 */
    EXPECT_OK(cpu_iret(C, 16));
    ck_assert_uint_eq(C->eip, 0x222);
    ck_assert_uint_eq(C->segs[S_CS].base, 0x20000);
    ck_assert_uint_eq(cpu_get_eflags(C) & (FL_IOPL | FL_VM | FL_IF | FL_CF),
                      FL_IOPL | FL_VM | FL_IF | FL_CF);
}
END_TEST

/* ---- task switches ---- */

static void tss_b_task(void)
{
    w(TSSB + 0x1C, 0, 4);                 /* CR3 */
    w(TSSB + 0x20, 0x6000, 4);            /* EIP */
    w(TSSB + 0x24, 0x2 | FL_CF, 4);       /* EFLAGS */
    for (int i = 0; i < 8; i++)
        w(TSSB + 0x28 + 4 * (uint32_t)i, 0xB0 + (uint32_t)i, 4);
    w(TSSB + 0x38, STK0B, 4);             /* ESP */
    static const uint16_t segs[6] = { DATA0, CODE0, DATA0, DATA0, 0, 0 };
    for (int i = 0; i < 6; i++)
        w(TSSB + 0x48 + 4 * (uint32_t)i, segs[i], 4);
    w(TSSB + 0x60, 0, 4);
}

START_TEST(test_task_jmp)
{
    tss_b_task();
    for (int i = 0; i < 8; i++)
        C->regs[i] = 0xA0 + (uint32_t)i;
    C->eflags = 0x2 | FL_ZF;
    EXPECT_OK(cpu_far_jmp(C, TSS_B, 0, 32, 0x1111));
    ck_assert_uint_eq(C->sys[SYS_TR].sel, TSS_B);
    ck_assert_uint_eq(C->eip, 0x6000);
    ck_assert_uint_eq(C->regs[R_EAX], 0xB0);
    ck_assert_uint_eq(C->regs[R_ESP], STK0B);
    ck_assert_uint_eq(cpu_get_eflags(C), 0x2 | FL_CF);
    ck_assert_uint_eq(C->cr0 & CR0_TS, CR0_TS);
    ck_assert_uint_eq(r(GDT + TSS_A + 5, 1), 0x89);     /* old: not busy */
    ck_assert_uint_eq(r(GDT + TSS_B + 5, 1), 0x8B);     /* new: busy */
    ck_assert_uint_eq(r(TSSA + 0x20, 4), 0x1111);       /* saved EIP */
    ck_assert_uint_eq(r(TSSA + 0x24, 4), 0x2 | FL_ZF);
    ck_assert_uint_eq(r(TSSA + 0x28, 4), 0xA0);
    ck_assert_uint_eq(r(TSSA + 0x4C, 2), CODE0);
    ck_assert_uint_eq(r(TSSB + 0, 2), 0);               /* JMP: no back link */
    /* JMP to the busy TSS: #GP(selector) */
    EXPECT_FAULT(cpu_far_jmp(C, TSS_B, 0, 32, 0), EXC_GP, TSS_B);
}
END_TEST

START_TEST(test_task_call_and_iret)
{
    tss_b_task();
    C->regs[R_EAX] = 0xAAAA;
    EXPECT_OK(cpu_far_call(C, TGATE, 0, 32, 0x2222));
    ck_assert_uint_eq(C->sys[SYS_TR].sel, TSS_B);
    ck_assert_uint_eq(r(TSSB + 0, 2), TSS_A);           /* back link */
    ck_assert_uint_eq(C->eflags & FL_NT, FL_NT);
    ck_assert_uint_eq(r(GDT + TSS_A + 5, 1), 0x8B);     /* old stays busy */
    ck_assert_uint_eq(r(GDT + TSS_B + 5, 1), 0x8B);
    C->regs[R_EAX] = 0xBBBB;
    C->eip = 0x6010;                                    /* after the IRET */
    EXPECT_OK(cpu_iret(C, 32));
    ck_assert_uint_eq(C->sys[SYS_TR].sel, TSS_A);
    ck_assert_uint_eq(C->eip, 0x2222);
    ck_assert_uint_eq(C->regs[R_EAX], 0xAAAA);
    ck_assert_uint_eq(r(GDT + TSS_B + 5, 1), 0x89);     /* B no longer busy */
    ck_assert_uint_eq(r(TSSB + 0x20, 4), 0x6010);
    ck_assert_uint_eq(r(TSSB + 0x24, 4) & FL_NT, 0);    /* NT cleared in B's image */
    ck_assert_uint_eq(r(TSSB + 0x28, 4), 0xBBBB);
    ck_assert_uint_eq(C->eflags & FL_NT, 0);
}
END_TEST

START_TEST(test_task_gate_exception_and_ts)
{
    tss_b_task();
    put8(IDT, EXC_GP * 8, mkgate(TSS_B, 0, 0x85, 0));
    EXPECT_OK(cpu_deliver(C, EXC_GP, INTR_EXCEPTION, 0x1234, 0x3333));
    ck_assert_uint_eq(C->sys[SYS_TR].sel, TSS_B);
    ck_assert_uint_eq(C->regs[R_ESP], STK0B - 4);
    ck_assert_uint_eq(r(STK0B - 4, 4), 0x1234);          /* error code on the new stack */
    ck_assert_uint_eq(r(TSSA + 0x20, 4), 0x3333);
    ck_assert_uint_eq(C->eflags & FL_NT, FL_NT);
    /* a task with an invalid SS: #TS(SS) in the new task's context */
    teardown();
    setup();
    tss_b_task();
    w(TSSB + 0x50, CODE0, 2);
    int vec, err;
    CATCH(cpu_far_jmp(C, TSS_B, 0, 32, 0), vec, err);
    ck_assert_int_eq(vec, EXC_TS);
    ck_assert_int_eq(err, CODE0);
    ck_assert_uint_eq(C->sys[SYS_TR].sel, TSS_B);
    ck_assert_uint_eq(C->eip, 0x6000);
    /* a TSS limit below 0x67: #TS(TSS) */
    teardown();
    setup();
    put8(GDT, TSS_B, mkdesc(TSSB, 0x50, 0x89, 0));
    EXPECT_FAULT(cpu_far_jmp(C, TSS_B, 0, 32, 0), EXC_TS, TSS_B);
    ck_assert_uint_eq(C->sys[SYS_TR].sel, TSS_A);
}
END_TEST

/* ---- I/O permission ---- */

START_TEST(test_iopb)
{
    EXPECT_OK(cpu_check_io(C, 0x61, 1));       /* CPL 0 <= IOPL 0 */
    to_ring3();
    EXPECT_OK(cpu_check_io(C, 0x60, 1));
    EXPECT_FAULT(cpu_check_io(C, 0x61, 1), EXC_GP, 0);
    EXPECT_FAULT(cpu_check_io(C, 0x60, 2), EXC_GP, 0);
    EXPECT_FAULT(cpu_check_io(C, 0x100, 1), EXC_GP, 0);     /* beyond the bitmap (all 1s) */
    EXPECT_FAULT(cpu_check_io(C, 0x1000, 1), EXC_GP, 0);    /* beyond the TSS limit */
    C->eflags |= FL_IOPL;
    EXPECT_OK(cpu_check_io(C, 0x61, 4));
    C->eflags |= FL_VM;                                     /* V86 always uses the bitmap */
    EXPECT_FAULT(cpu_check_io(C, 0x61, 1), EXC_GP, 0);
    EXPECT_OK(cpu_check_io(C, 0x60, 1));
}
END_TEST

/* ---- LAR/LSL/VERR/VERW ---- */

static const struct {
    int cpl;
    uint16_t sel;
    int lar, lsl, verr, verw;
    uint32_t ar, limit;
} lar_cases[] = {
    { 0, DATA0, 1, 1, 1, 1, 0x00C09300, 0xFFFFFFFF },   /* limit 19:16 read as 0 */
    { 3, DATA0 | 3, 0, 0, 0, 0, 0, 0 },
    { 3, DATA3 | 3, 1, 1, 1, 1, 0x00C0F200, 0xFFFFFFFF },
    { 3, CONF0 | 3, 1, 1, 1, 0, 0x00C09E00, 0xFFFFFFFF },
    { 0, XCODE, 1, 1, 0, 0, 0x00C09800, 0xFFFFFFFF },
    { 0, RODATA, 1, 1, 1, 0, 0x00C09000, 0xFFFFFFFF },
    { 0, TSS_B, 1, 1, 0, 0, 0x00008900, 0x67 },
    { 0, LDTSEL, 1, 1, 0, 0, 0x00008200, 0x17 },
    { 0, CGATE, 1, 0, 0, 0, 0x0000EC00, 0 },
    { 0, 0, 0, 0, 0, 0, 0, 0 },
    { 0, 0x800, 0, 0, 0, 0, 0, 0 },
};

START_TEST(test_lar_lsl_verr_verw)
{
    idt_set(0, 0, 0, 0);
    put8(GDT, DATA0, mkdesc(0, 0xFFFFF, 0x93, 0xC));
    C->cpl = (uint8_t)lar_cases[_i].cpl;
    uint32_t ar = 0xFFFF, lim = 0xFFFF;
    EXPECT_OK(ck_assert_int_eq(cpu_lar(C, lar_cases[_i].sel, &ar), lar_cases[_i].lar));
    EXPECT_OK(ck_assert_int_eq(cpu_lsl(C, lar_cases[_i].sel, &lim), lar_cases[_i].lsl));
    ck_assert_int_eq(cpu_verr(C, lar_cases[_i].sel), lar_cases[_i].verr);
    ck_assert_int_eq(cpu_verw(C, lar_cases[_i].sel), lar_cases[_i].verw);
    ck_assert_uint_eq(ar, lar_cases[_i].lar ? lar_cases[_i].ar : 0xFFFF);
    ck_assert_uint_eq(lim, lar_cases[_i].lsl ? lar_cases[_i].limit : 0xFFFF);
}
END_TEST

/* ---- LTR, CPUID, MSRs, SYSENTER/SYSEXIT ---- */

START_TEST(test_ltr)
{
    EXPECT_FAULT(cpu_ltr(C, TSS_A), EXC_GP, TSS_A);         /* already busy */
    EXPECT_FAULT(cpu_ltr(C, 0), EXC_GP, 0);
    EXPECT_FAULT(cpu_ltr(C, LDTSEL), EXC_GP, LDTSEL);
    EXPECT_OK(cpu_ltr(C, TSS_B));
    ck_assert_uint_eq(r(GDT + TSS_B + 5, 1), 0x8B);
    ck_assert_uint_eq(C->sys[SYS_TR].base, TSSB);
    ck_assert_uint_eq(C->sys[SYS_TR].limit, 0x67);
}
END_TEST

/* Compares outside the function that calls setjmp (no -Wclobbered). */
static void expect_u64(uint64_t got, uint64_t want)
{
    ck_assert_uint_eq(got, want);
}

START_TEST(test_cpuid_msr)
{
    C->regs[R_EAX] = 0;
    cpu_cpuid(C);
    ck_assert_uint_eq(C->regs[R_EBX], 0x756E6547);   /* "Genu" */
    ck_assert_uint_eq(C->regs[R_EDX], 0x49656E69);   /* "ineI" */
    ck_assert_uint_eq(C->regs[R_ECX], 0x6C65746E);   /* "ntel" */
    C->regs[R_EAX] = 1;
    cpu_cpuid(C);
    ck_assert_uint_eq((C->regs[R_EAX] >> 8) & 0xF, 6);
    ck_assert_uint_eq(C->regs[R_EDX] & 0x01800001u, 0x01800001u); /* FPU MMX FXSR (cpu/fpu.c) */
    ck_assert_uint_eq(C->regs[R_EDX] & (1u << 9), 0);         /* no APIC yet */
    ck_assert_uint_eq(C->regs[R_EDX] & 0x8918, 0x8918);       /* CMOV SEP CX8 TSC PSE */
    C->icount = 1000;
    EXPECT_OK(cpu_wrmsr(C, 0x10, 5000));
    C->icount = 1500;
    volatile uint64_t v = 0;     /* lives across the setjmp of EXPECT_OK */
    EXPECT_OK(v = cpu_rdmsr(C, 0x10));
    expect_u64(v, 5500);
    EXPECT_OK(cpu_wrmsr(C, 0x277, 0x0007040600070406ull));
    EXPECT_OK(v = cpu_rdmsr(C, 0x277));
    expect_u64(v, 0x0007040600070406ull);
    EXPECT_FAULT(cpu_rdmsr(C, 0xC0000080u), EXC_GP, 0);      /* EFER not advertised */
    EXPECT_FAULT(cpu_wrmsr(C, 0x12345, 0), EXC_GP, 0);
}
END_TEST

START_TEST(test_sysenter_sysexit)
{
    EXPECT_FAULT(cpu_sysenter(C), EXC_GP, 0);                 /* SYSENTER_CS = 0 */
    EXPECT_OK(cpu_wrmsr(C, 0x174, CODE0));
    EXPECT_OK(cpu_wrmsr(C, 0x175, 0x9000));
    EXPECT_OK(cpu_wrmsr(C, 0x176, 0x7777));
    to_ring3();
    C->eflags = 0x2 | FL_IF;
    C->regs[R_ECX] = 0x8100;
    C->regs[R_EDX] = 0x4100;
    EXPECT_FAULT(cpu_sysexit(C), EXC_GP, 0);                  /* CPL 3 */
    EXPECT_OK(cpu_sysenter(C));
    ck_assert_int_eq(C->cpl, 0);
    ck_assert_uint_eq(C->segs[S_CS].sel, CODE0);
    ck_assert_uint_eq(C->segs[S_SS].sel, DATA0);
    ck_assert_uint_eq(C->segs[S_SS].limit, 0xFFFFFFFF);
    ck_assert_uint_eq(C->segs[S_CS].flags, 0xC9B);
    ck_assert_uint_eq(C->eip, 0x7777);
    ck_assert_uint_eq(C->regs[R_ESP], 0x9000);
    ck_assert_uint_eq(C->eflags & FL_IF, 0);
    EXPECT_OK(cpu_sysexit(C));
    ck_assert_int_eq(C->cpl, 3);
    ck_assert_uint_eq(C->segs[S_CS].sel, CODE3 | 3);
    ck_assert_uint_eq(C->segs[S_SS].sel, DATA3 | 3);
    ck_assert_uint_eq(C->segs[S_SS].flags, 0xCF3);
    ck_assert_uint_eq(C->eip, 0x4100);
    ck_assert_uint_eq(C->regs[R_ESP], 0x8100);
}
END_TEST

/* ---- whole instructions through cpu_run ---- */

#define CODE 0x10000u

static void code(const uint8_t *bytes, size_t n)
{
    for (size_t k = 0; k < n; k++)
        w(CODE + (uint32_t)k, bytes[k], 1);
    C->eip = CODE;
}

START_TEST(test_run_double_fault)
{
    static const uint8_t prog[] = { 0xCC };                  /* INT3 */
    code(prog, sizeof prog);
    w(0x11000, 0xF4, 1);                                     /* #DF handler: HLT */
    idt_set(EXC_DF, CODE0, 0x11000, 0x8E);
    /* #BP gate not present -> #NP(3*8+2); #NP gate not present -> #NP: #DF */
    uint32_t sp = C->regs[R_ESP];
    ck_assert_int_eq(cpu_run(C, 10), CPU_EXIT_HLT);
    ck_assert_uint_eq(C->eip, 0x11001);
    ck_assert_uint_eq(C->regs[R_ESP], sp - 16);
    ck_assert_uint_eq(r(sp - 16, 4), 0);                     /* #DF error code */
    ck_assert_uint_eq(r(sp - 8, 4), CODE0);
    ck_assert(!C->shutdown);
}
END_TEST

START_TEST(test_run_triple_fault)
{
    static const uint8_t prog[] = { 0xCC };
    code(prog, sizeof prog);
    ck_assert_int_eq(cpu_run(C, 10), CPU_EXIT_SHUTDOWN);
    ck_assert(C->shutdown);
}
END_TEST

START_TEST(test_run_real_mode_triple_fault)
{
    to_real();
    C->sys[SYS_IDTR].limit = 0;
    cpu_load_seg_real(C, S_CS, 0x1000);
    static const uint8_t prog[] = { 0xCD, 0x21 };           /* INT 21h beyond the IVT */
    code(prog, sizeof prog);
    C->eip = 0;
    ck_assert_int_eq(cpu_run(C, 10), CPU_EXIT_SHUTDOWN);
}
END_TEST

/* A faulting instruction changes nothing: the handler sees its address. */
START_TEST(test_run_precise_faults)
{
    w(0x11000, 0xF4, 1);
    idt_set(EXC_SS, CODE0, 0x11000, 0x8E);
    idt_set(EXC_NP, CODE0, 0x11000, 0x8E);
    static const uint8_t prog[] = {
        0x8E, 0xD0,                                /* mov ss, ax: #SS(NPDATA) */
    };
    code(prog, sizeof prog);
    C->regs[R_EAX] = NPDATA;
    uint32_t sp = C->regs[R_ESP];
    int rc = cpu_run(C, 10);
    ck_assert_int_eq(rc, CPU_EXIT_HLT);
    ck_assert_uint_eq(r(sp - 16, 4), NPDATA);
    ck_assert_uint_eq(r(sp - 12, 4), CODE);
    ck_assert_uint_eq(C->segs[S_SS].sel, DATA0);
    static const uint8_t prog2[] = {
        0xEA, 0x00, 0x00, 0x00, 0x00, 0x98, 0x00,  /* jmp far 0x98:0 (not present) */
    };
    put8(GDT, 0x98, mkdesc(0, 0xFFFFF, 0x1A, 0xC));
    code(prog2, sizeof prog2);
    C->regs[R_ESP] = sp;
    C->halted = 0;
    ck_assert_int_eq(cpu_run(C, 10), CPU_EXIT_HLT);
    ck_assert_uint_eq(r(sp - 16, 4), 0x98);
    ck_assert_uint_eq(r(sp - 12, 4), CODE);
}
END_TEST

Suite *cpu_prot_suite(void)
{
    Suite *s = suite_create("cpu_prot");
    TCase *tc = tcase_create("prot");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_seg_load_rules, 0, (int)(sizeof seg_cases / sizeof seg_cases[0]));
    tcase_add_test(tc, test_seg_load_ldt);
    tcase_add_test(tc, test_real_int_and_iret);
    tcase_add_test(tc, test_real_far_call_ret);
    tcase_add_test(tc, test_real_seg_keeps_cache);
    tcase_add_test(tc, test_call_gate_inner_and_ret_outer);
    tcase_add_test(tc, test_call_gate_16_and_errors);
    tcase_add_test(tc, test_far_jmp_conforming_and_limits);
    tcase_add_test(tc, test_ret_checks);
    tcase_add_test(tc, test_int_from_ring3);
    tcase_add_test(tc, test_exception_trap_gate_errcode);
    tcase_add_test(tc, test_iret_outer_flags);
    tcase_add_loop_test(tc, test_gate_errors, 0, (int)(sizeof gate_cases / sizeof gate_cases[0]));
    tcase_add_test(tc, test_interrupt_stack_fault);
    tcase_add_test(tc, test_interrupt_page_fault);
    tcase_add_test(tc, test_v86_enter_and_leave);
    tcase_add_test(tc, test_v86_iret_iopl3);
    tcase_add_test(tc, test_task_jmp);
    tcase_add_test(tc, test_task_call_and_iret);
    tcase_add_test(tc, test_task_gate_exception_and_ts);
    tcase_add_test(tc, test_iopb);
    tcase_add_loop_test(tc, test_lar_lsl_verr_verw, 0, (int)(sizeof lar_cases / sizeof lar_cases[0]));
    tcase_add_test(tc, test_ltr);
    tcase_add_test(tc, test_cpuid_msr);
    tcase_add_test(tc, test_sysenter_sysexit);
    suite_add_tcase(s, tc);
    TCase *run = tcase_create("run");
    tcase_add_checked_fixture(run, setup, teardown);
    tcase_add_test(run, test_run_double_fault);
    tcase_add_test(run, test_run_triple_fault);
    tcase_add_test(run, test_run_real_mode_triple_fault);
    tcase_add_test(run, test_run_precise_faults);
    suite_add_tcase(s, run);
    return s;
}
