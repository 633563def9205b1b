/* x87 and MMX instructions through cpu_run (cpu/fpu.c, cpu/mmx.c): a
 * real-mode CPU with RAM runs small byte sequences; every exception vector
 * lands on its own HLT, so the test sees which one was delivered. Checks
 * stack/tag/status behaviour, #MF and FERR#, #NM/#UD per CR0, the save
 * formats byte for byte, precise memory faults and MMX arithmetic against
 * values worked out by hand from the SDM. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu/cpu.h"
#include "cpu/float80.h"

#define CODE 0x1000u
#define DATA 0x2000u
#define HANDLERS 0x7000u

struct machine {
    struct physmem pm;
    struct cpu cpu;
    int ferr_level, ferr_calls;
};
static struct machine *M;
#define C (&M->cpu)

static void w(uint32_t a, uint32_t v, int size) { phys_write(&M->pm, a, v, size); }
static uint32_t r(uint32_t a, int size) { return phys_read(&M->pm, a, size); }

static void w64(uint32_t a, uint64_t v)
{
    w(a, (uint32_t)v, 4);
    w(a + 4, (uint32_t)(v >> 32), 4);
}

static uint64_t r64(uint32_t a) { return r(a, 4) | (uint64_t)r(a + 4, 4) << 32; }

static void ferr_cb(void *opaque, int level)
{
    struct machine *m = opaque;
    m->ferr_level = level;
    m->ferr_calls++;
}

static void setup(void)
{
    M = calloc(1, sizeof(*M));
    ck_assert_int_eq(physmem_init(&M->pm, 1u << 20), 0);
    ck_assert_int_eq(cpu_init(C, &M->pm), 0);
    for (int s = 0; s < 6; s++)
        cpu_load_seg_real(C, s, 0);
    C->regs[R_ESP] = 0x8000;
    for (uint32_t v = 0; v < 32; v++) {
        w(v * 4, HANDLERS + v * 16, 2);          /* IVT: 0000:7000 + 16 * v */
        w(v * 4 + 2, 0, 2);
        w(HANDLERS + v * 16, 0xF4, 1);           /* HLT */
    }
    C->ferr = ferr_cb;
    C->io_opaque = M;
}

static void teardown(void)
{
    cpu_free(C);
    physmem_free(&M->pm);
    free(M);
}

/* Runs the bytes at CODE followed by HLT; returns -1 when it ran to the
 * end, else the exception vector that was delivered. */
static int run(const uint8_t *code, int n)
{
    for (int k = 0; k < n; k++)
        w(CODE + (uint32_t)k, code[k], 1);
    w(CODE + (uint32_t)n, 0xF4, 1);
    C->eip = CODE;
    C->halted = 0;
    ck_assert_int_eq(cpu_run(C, 1000), CPU_EXIT_HLT);
    if (C->eip == CODE + (uint32_t)n + 1)
        return -1;
    ck_assert_uint_ge(C->eip, HANDLERS + 1);
    return (int)((C->eip - HANDLERS - 1) / 16);
}
#define RUN(...) do { static const uint8_t b_[] = { __VA_ARGS__ }; vec = run(b_, (int)sizeof(b_)); } while (0)

/* disp16 operands */
#define A(x) (uint8_t)((x) & 0xFF), (uint8_t)((x) >> 8)

static struct f80 st(int i)
{
    int p = (((C->fpu.fsw >> 11) & 7) + i) & 7;
    struct f80 v = { C->fpu.mant[p], C->fpu.se[p] };
    return v;
}

START_TEST(test_load_add_store)
{
    int vec;
    w64(DATA, 0x3FF8000000000000ull);             /* 1.5 */
    w64(DATA + 8, 0x4002000000000000ull);         /* 2.25 */
    RUN(0xDB, 0xE3,                               /* FNINIT */
        0xDD, 0x06, A(DATA), 0xDD, 0x06, A(DATA + 8),
        0xDE, 0xC1,                               /* FADDP */
        0xDD, 0x1E, A(DATA + 16),                 /* FSTP m64 */
        0xDF, 0xE0);                              /* FNSTSW AX */
    ck_assert_int_eq(vec, -1);
    ck_assert_uint_eq(r64(DATA + 16), 0x400E000000000000ull);   /* 3.75 */
    ck_assert_uint_eq(C->regs[R_EAX] & 0xFFFF, 0x0000);
    ck_assert_uint_eq(C->fpu.tags, 0);
    /* FIP/FOP/FDP of the FSTP (the last non-control instruction) */
    ck_assert_uint_eq(C->fpu.fip, CODE + 12);
    ck_assert_uint_eq(C->fpu.fop, 0x51E);
    ck_assert_uint_eq(C->fpu.fdp, DATA + 16);
}
END_TEST

START_TEST(test_stack_overflow_underflow)
{
    int vec;
    RUN(0xDB, 0xE3, 0xD9, 0xE8, 0xD9, 0xE8, 0xD9, 0xE8, 0xD9, 0xE8, 0xD9, 0xE8,
        0xD9, 0xE8, 0xD9, 0xE8, 0xD9, 0xE8,       /* 8 x FLD1 */
        0xD9, 0xEE,                               /* FLDZ: overflow */
        0xDF, 0xE0);
    ck_assert_int_eq(vec, -1);
    /* IE SF C1, TOP = 7 (masked: the indefinite was pushed) */
    ck_assert_uint_eq(C->regs[R_EAX] & 0xFFFF, 0x3A41);
    ck_assert_uint_eq(st(0).se, 0xFFFF);
    ck_assert_uint_eq(st(0).mant, 0xC000000000000000ull);
    RUN(0xDB, 0xE3, 0xD8, 0xC1, 0xDF, 0xE0);      /* FADD ST0, ST1 on an empty stack */
    ck_assert_uint_eq(C->regs[R_EAX] & 0xFFFF, 0x0041);   /* IE SF, C1 = 0 */
    ck_assert_uint_eq(st(0).se, 0xFFFF);
    ck_assert_uint_eq(C->fpu.tags, 0x01);
}
END_TEST

START_TEST(test_tag_word_and_fstenv)
{
    int vec;
    w(DATA, 0x7F800000u, 4);                      /* +inf as m32 */
    RUN(0xDB, 0xE3, 0xD9, 0xE8, 0xD9, 0xEE, 0xD9, 0x06, A(DATA),
        0xD9, 0x36, A(DATA + 0x10));              /* FNSTENV (16-bit real format) */
    ck_assert_int_eq(vec, -1);
    ck_assert_uint_eq(r(DATA + 0x10, 2), 0x037F | 0x3F);   /* FCW stored before masking */
    ck_assert_uint_eq(r(DATA + 0x12, 2), 0x2800);  /* TOP = 5 */
    /* R7 = 1.0 (valid), R6 = +0 (zero), R5 = inf (special), rest empty */
    ck_assert_uint_eq(r(DATA + 0x14, 2), 0x1BFF);
    ck_assert_uint_eq(r(DATA + 0x16, 2), CODE + 6);        /* FIP (linear) */
    ck_assert_uint_eq(r(DATA + 0x18, 2), 0x106);           /* FIP[19:16]<<12 | FOP */
    ck_assert_uint_eq(r(DATA + 0x1A, 2), DATA);            /* FDP */
    ck_assert_uint_eq(C->fpu.fcw, 0x037F);                 /* all were masked already */
    /* 32-bit real-mode format (66 prefix) */
    RUN(0x66, 0xD9, 0x36, A(DATA + 0x40));
    ck_assert_uint_eq(r(DATA + 0x40, 4), 0xFFFF037F);
    ck_assert_uint_eq(r(DATA + 0x48, 4), 0xFFFF1BFF);
    ck_assert_uint_eq(r(DATA + 0x4C, 4), 0xFFFF0000 | (CODE + 6));
    ck_assert_uint_eq(r(DATA + 0x50, 4), 0x106);
    ck_assert_uint_eq(r(DATA + 0x54, 4), 0xFFFF0000 | DATA);
    ck_assert_uint_eq(r(DATA + 0x58, 4), 0);
}
END_TEST

START_TEST(test_fsave_frstor)
{
    int vec;
    w64(DATA, 0x400921FB54442D18ull);
    RUN(0xDB, 0xE3, 0xD9, 0xEB, 0xDD, 0x06, A(DATA), 0xD9, 0xE8,
        0xDD, 0x36, A(DATA + 0x100));             /* FNSAVE: 94 bytes */
    ck_assert_int_eq(vec, -1);
    /* FNSAVE re-initialized the FPU */
    ck_assert_uint_eq(C->fpu.fcw, 0x037F);
    ck_assert_uint_eq(C->fpu.tags, 0);
    ck_assert_uint_eq(C->fpu.fsw, 0);
    /* ST0 = 1.0, ST1 = (double)pi, ST2 = pi (FLDPI) at 14 + 10 * i */
    ck_assert_uint_eq(r64(DATA + 0x100 + 14), 0x8000000000000000ull);
    ck_assert_uint_eq(r(DATA + 0x100 + 22, 2), 0x3FFF);
    ck_assert_uint_eq(r64(DATA + 0x100 + 24), 0xC90FDAA22168C000ull);
    ck_assert_uint_eq(r64(DATA + 0x100 + 34), 0xC90FDAA22168C235ull);
    ck_assert_uint_eq(r(DATA + 0x100 + 42, 2), 0x4000);
    ck_assert_uint_eq(r(DATA + 0x100 + 4, 2), 0x03FF);   /* R5-R7 valid */
    RUN(0xDD, 0x26, A(DATA + 0x100), 0xDD, 0x36, A(DATA + 0x200));  /* FRSTOR, FNSAVE */
    for (uint32_t k = 0; k < 94; k++)
        ck_assert_uint_eq(r(DATA + 0x100 + k, 1), r(DATA + 0x200 + k, 1));
}
END_TEST

START_TEST(test_mf_with_ne)
{
    int vec;
    cpu_set_cr0(C, C->cr0 | CR0_NE);
    w(DATA, 0x037B, 2);                           /* ZE unmasked */
    RUN(0xDB, 0xE3, 0xD9, 0x2E, A(DATA), 0xD9, 0xE8, 0xD9, 0xEE,
        0xDE, 0xF9,                               /* FDIVP: 1 / 0 */
        0xDF, 0xE0,                               /* FNSTSW AX: no wait */
        0x9B,                                     /* FWAIT -> #MF */
        0x90);
    ck_assert_int_eq(vec, EXC_MF);
    ck_assert_uint_eq(C->regs[R_EAX] & 0xFFFF, 0xB884);   /* B ES ZE, TOP = 7 */
    ck_assert_uint_eq(r(C->regs[R_ESP], 2), CODE + 14);   /* return IP = the FWAIT */
    /* the destination was left alone (unmasked ZE) and the pop happened */
    ck_assert_uint_eq(st(0).se, 0x3FFF);
    ck_assert_int_eq(M->ferr_calls, 0);
    /* a waiting x87 instruction faults too; FNCLEX then clears it */
    RUN(0xD9, 0xE8);
    ck_assert_int_eq(vec, EXC_MF);
    RUN(0xDB, 0xE2, 0xD9, 0xE8);
    ck_assert_int_eq(vec, -1);
}
END_TEST

START_TEST(test_ferr_without_ne)
{
    int vec;
    w(DATA, 0x037B, 2);
    RUN(0xDB, 0xE3, 0xD9, 0x2E, A(DATA), 0xD9, 0xE8, 0xD9, 0xEE, 0xDE, 0xF9, 0x9B);
    ck_assert_int_eq(vec, -1);                    /* no #MF with NE = 0 */
    ck_assert_int_eq(M->ferr_level, 1);
    ck_assert_int_eq(M->ferr_calls, 1);
    RUN(0xDB, 0xE2);                              /* FNCLEX drops FERR# */
    ck_assert_int_eq(M->ferr_level, 0);
    ck_assert_int_eq(M->ferr_calls, 2);
}
END_TEST

START_TEST(test_nm_em_ts)
{
    int vec;
    cpu_set_cr0(C, C->cr0 | CR0_TS);
    RUN(0xD9, 0xE8);
    ck_assert_int_eq(vec, EXC_NM);
    RUN(0x9B);                                    /* WAIT: only with MP */
    ck_assert_int_eq(vec, -1);
    cpu_set_cr0(C, C->cr0 | CR0_MP);
    RUN(0x9B);
    ck_assert_int_eq(vec, EXC_NM);
    RUN(0x0F, 0x77);                              /* EMMS with TS: #NM */
    ck_assert_int_eq(vec, EXC_NM);
    cpu_set_cr0(C, (C->cr0 & ~(CR0_TS | CR0_MP)) | CR0_EM);
    RUN(0xD9, 0xE8);
    ck_assert_int_eq(vec, EXC_NM);
    RUN(0x9B);
    ck_assert_int_eq(vec, -1);
    RUN(0x0F, 0x77);                              /* MMX with EM: #UD */
    ck_assert_int_eq(vec, EXC_UD);
    RUN(0x0F, 0xAE, 0x06, A(DATA));               /* FXSAVE with EM: #NM */
    ck_assert_int_eq(vec, EXC_NM);
}
END_TEST

START_TEST(test_precise_memory_fault)
{
    int vec;
    RUN(0xDB, 0xE3, 0xD9, 0xE8, 0xD9, 0xEB);
    struct fpu before = C->fpu;
    RUN(0xDD, 0x1E, A(0xFFFC));                   /* FSTP m64 past the 64K limit */
    ck_assert_int_eq(vec, EXC_GP);
    ck_assert_mem_eq(&C->fpu, &before, sizeof(before));
    RUN(0xDC, 0x06, A(0xFFFA));                   /* FADD m64 past the limit */
    ck_assert_int_eq(vec, EXC_GP);
    ck_assert_mem_eq(&C->fpu, &before, sizeof(before));
}
END_TEST

START_TEST(test_fcomi_fcmov)
{
    int vec;
    RUN(0xDB, 0xE3, 0xD9, 0xE8, 0xD9, 0xEE,
        0xDB, 0xF1);                              /* FCOMI ST0, ST1: 0 < 1 */
    ck_assert_int_eq(vec, -1);
    ck_assert_uint_eq(cpu_get_eflags(C) & (FL_CF | FL_ZF | FL_PF), FL_CF);
    RUN(0xDA, 0xC1);                              /* FCMOVB ST0, ST1 (CF = 1) */
    ck_assert_uint_eq(st(0).se, 0x3FFF);
    w(DATA, 0x7FC00000u, 4);                      /* QNaN */
    RUN(0xD9, 0x06, A(DATA), 0xDF, 0xE9);         /* FUCOMIP: unordered */
    ck_assert_uint_eq(cpu_get_eflags(C) & (FL_CF | FL_ZF | FL_PF), FL_CF | FL_ZF | FL_PF);
    ck_assert_uint_eq(C->fpu.fsw & 1, 0);         /* QNaN: no IE for FUCOMI */
}
END_TEST

START_TEST(test_fxsave_layout)
{
    int vec;
    for (uint32_t k = 0; k < 512; k++)
        w(0x3000 + k, 0xAA, 1);
    w(DATA, 0x027F, 2);
    RUN(0xDB, 0xE3, 0xD9, 0x2E, A(DATA), 0xD9, 0xE8, 0xD9, 0xEA,
        0x0F, 0xAE, 0x06, A(0x3000));
    ck_assert_int_eq(vec, -1);
    static const uint8_t head[32] = {
        0x7F, 0x02, 0x00, 0x30, 0xC0, 0x00, 0xEA, 0x01,      /* FCW FSW(TOP 6) FTW FOP */
        0x08, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,      /* FIP=1008 (FLDL2E) FCS=0 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,      /* FDP: FLDCW does not set it */
        0, 0, 0, 0, 0, 0, 0, 0 };
    for (uint32_t k = 0; k < 32; k++)
        ck_assert_msg(r(0x3000 + k, 1) == head[k], "byte %u: %02x", k, r(0x3000 + k, 1));
    /* ST0 = log2(e) at 32, ST1 = 1.0 at 48, 6 reserved zero bytes each */
    ck_assert_uint_eq(r64(0x3000 + 32), 0xB8AA3B295C17F0BCull);
    ck_assert_uint_eq(r(0x3000 + 40, 2), 0x3FFF);
    ck_assert_uint_eq(r(0x3000 + 42, 4), 0);
    ck_assert_uint_eq(r64(0x3000 + 48), 0x8000000000000000ull);
    ck_assert_uint_eq(r(0x3000 + 160, 1), 0xAA);  /* nothing written past the x87 area */
    /* FXRSTOR after FNINIT brings it back */
    RUN(0xDB, 0xE3, 0x0F, 0xAE, 0x0E, A(0x3000), 0xDF, 0xE0);
    ck_assert_uint_eq(C->regs[R_EAX] & 0xFFFF, 0x3000);
    ck_assert_uint_eq(C->fpu.fcw, 0x027F);
    ck_assert_uint_eq(C->fpu.tags, 0xC0);
    RUN(0x0F, 0xAE, 0x06, A(0x3008));             /* misaligned: #GP */
    ck_assert_int_eq(vec, EXC_GP);
}
END_TEST

/* The acceptance expressions: atan2(1,1)*4 and exp(50)/3 the way glibc's
 * i386 libm computes them, formatted as awk would print them on the host. */
START_TEST(test_libm_paths)
{
    int vec;
    char buf[64];
    double d;
    w(DATA, 4, 2);
    RUN(0xDB, 0xE3, 0xD9, 0xE8, 0xD9, 0xE8, 0xD9, 0xF3,     /* FPATAN(1, 1) */
        0xDE, 0x0E, A(DATA), 0xDD, 0x1E, A(DATA + 8));
    ck_assert_int_eq(vec, -1);
    ck_assert_uint_eq(r64(DATA + 8), 0x400921FB54442D18ull);
    uint64_t bits = r64(DATA + 8);
    memcpy(&d, &bits, 8);
    snprintf(buf, sizeof(buf), "%.15g", d);
    ck_assert_str_eq(buf, "3.14159265358979");

    w64(DATA + 16, 0x4049000000000000ull);        /* 50.0 */
    w(DATA + 24, 3, 2);
    RUN(0xDB, 0xE3, 0xDD, 0x06, A(DATA + 16),
        0xD9, 0xEA, 0xDE, 0xC9,                   /* FLDL2E, FMULP */
        0xD9, 0xC0, 0xD9, 0xFC,                   /* FLD ST0, FRNDINT */
        0xDC, 0xE9, 0xD9, 0xC9,                   /* FSUB ST1, ST0; FXCH */
        0xD9, 0xF0, 0xD9, 0xE8, 0xDE, 0xC1,       /* F2XM1, FLD1, FADDP */
        0xD9, 0xFD, 0xDD, 0xD9,                   /* FSCALE, FSTP ST1 */
        0xDE, 0x36, A(DATA + 24),                 /* FIDIV m16 */
        0xDD, 0x1E, A(DATA + 32));
    ck_assert_int_eq(vec, -1);
    bits = r64(DATA + 32);
    memcpy(&d, &bits, 8);
    snprintf(buf, sizeof(buf), "%.10e", d);
    ck_assert_str_eq(buf, "1.7282351762e+21");
}
END_TEST

START_TEST(test_mmx)
{
    int vec;
    w64(DATA, 0x7FFF8000FF017F80ull);
    w64(DATA + 8, 0x00017FFF01FF0180ull);
    RUN(0xDB, 0xE3,
        0x0F, 0x6F, 0x06, A(DATA),                /* MOVQ mm0, [DATA] */
        0x0F, 0x6F, 0xC8,                         /* MOVQ mm1, mm0 */
        0x0F, 0xDC, 0x06, A(DATA + 8),            /* PADDUSB mm0, [DATA+8] */
        0x0F, 0x7F, 0x06, A(DATA + 16),           /* MOVQ [DATA+16], mm0 */
        0x0F, 0xED, 0x0E, A(DATA + 8),            /* PADDSW mm1, [DATA+8] */
        0x0F, 0x7F, 0x0E, A(DATA + 24));
    ck_assert_int_eq(vec, -1);
    /* bytes 80+80=FF(sat) 7F+01=80 01+FF=FF(sat) FF+01=FF 00+FF=FF 80+7F=FF FF+01=FF(sat) 7F+00=7F */
    ck_assert_uint_eq(r64(DATA + 16), 0x7FFFFFFFFFFF80FFull);
    /* words 7F80+0180=7FFF(sat) FF01+01FF=0100 8000+7FFF=FFFF 7FFF+0001=7FFF(sat) */
    ck_assert_uint_eq(r64(DATA + 24), 0x7FFFFFFF01007FFFull);
    ck_assert_uint_eq(C->fpu.fsw & 0x3800, 0);    /* TOP = 0 */
    ck_assert_uint_eq(C->fpu.tags, 0xFF);
    ck_assert_uint_eq(C->fpu.se[0], 0xFFFF);
    RUN(0x0F, 0x77);                              /* EMMS */
    ck_assert_uint_eq(C->fpu.tags, 0);

    w64(DATA, 0x0003FFFE00020001ull);             /* words 1, 2, -2, 3 */
    w64(DATA + 8, 0x0004000500060007ull);         /* words 7, 6, 5, 4 */
    RUN(0x0F, 0x6F, 0x06, A(DATA), 0x0F, 0x6F, 0xD0,
        0x0F, 0xF5, 0x06, A(DATA + 8),            /* PMADDWD: 1*7+2*6=19, -2*5+3*4=2 */
        0x0F, 0x71, 0xE2, 0x01,                   /* PSRAW mm2, 1 */
        0x0F, 0x63, 0xD2,                         /* PACKSSWB mm2, mm2 */
        0x0F, 0x7E, 0xD0);                        /* MOVD eax, mm2 */
    ck_assert_int_eq(vec, -1);
    ck_assert_uint_eq(C->fpu.mant[0], 0x0000000200000013ull);
    /* PSRAW: 0, 1, -1, 1 -> bytes 00 01 FF 01 (twice) */
    ck_assert_uint_eq(C->regs[R_EAX], 0x01FF0100u);
    w64(DATA, 0x8001020304050607ull);
    RUN(0x0F, 0x6F, 0x06, A(DATA), 0x0F, 0xEF, 0xC9,        /* PXOR mm1, mm1 */
        0x0F, 0x60, 0xC1,                                   /* PUNPCKLBW mm0, mm1 */
        0x0F, 0x6F, 0x1E, A(DATA), 0x0F, 0x64, 0xCB,        /* PCMPGTB mm1, mm3 */
        0x0F, 0x73, 0xD3, 0x08);                            /* PSRLQ mm3, 8 */
    ck_assert_int_eq(vec, -1);
    ck_assert_uint_eq(C->fpu.mant[0], 0x0004000500060007ull);
    ck_assert_uint_eq(C->fpu.mant[1], 0xFF00000000000000ull);  /* 0 > -128 only */
    ck_assert_uint_eq(C->fpu.mant[3], 0x0080010203040506ull);
    RUN(0x66, 0x0F, 0xFC, 0xC1);                  /* 66 prefix: SSE2, not here */
    ck_assert_int_eq(vec, EXC_UD);
}
END_TEST

START_TEST(test_fprem_and_int)
{
    int vec;
    w(DATA, 17, 2);
    w(DATA + 2, 5, 2);
    RUN(0xDB, 0xE3, 0xDF, 0x06, A(DATA + 2), 0xDF, 0x06, A(DATA),   /* FILD 5, FILD 17 */
        0xD9, 0xF8,                               /* FPREM: 17 rem 5 = 2, q = 3 */
        0xDF, 0xE0,
        0xDB, 0x1E, A(DATA + 4));                 /* FISTP m32 */
    ck_assert_int_eq(vec, -1);
    ck_assert_uint_eq(r(DATA + 4, 4), 2);
    /* q = 3: C1 = Q0 = 1, C3 = Q1 = 1, C0 = Q2 = 0; C2 = 0 */
    ck_assert_uint_eq(C->regs[R_EAX] & 0x4700, 0x4200);
    /* FBSTP / FBLD round trip of -1234567 */
    w(DATA + 8, (uint32_t)-1234567, 4);
    RUN(0xDB, 0xE3, 0xDB, 0x06, A(DATA + 8), 0xDF, 0x36, A(DATA + 16),
        0xDF, 0x26, A(DATA + 16), 0xDB, 0x1E, A(DATA + 32));
    ck_assert_int_eq(vec, -1);
    ck_assert_uint_eq(r(DATA + 16, 4), 0x01234567);
    ck_assert_uint_eq(r(DATA + 25, 1), 0x80);
    ck_assert_uint_eq(r(DATA + 32, 4), (uint32_t)-1234567);
}
END_TEST

START_TEST(test_cpuid_bits)
{
    C->regs[R_EAX] = 1;
    cpu_cpuid(C);
    ck_assert_uint_eq(C->regs[R_EDX] & 0x01800001u, 0x01800001u);   /* FPU MMX FXSR */
    ck_assert_uint_eq(C->regs[R_EDX] & (1u << 25), 0);             /* no SSE */
}
END_TEST

Suite *fpu_suite(void)
{
    Suite *s = suite_create("fpu");
    TCase *tc = tcase_create("insns");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_load_add_store);
    tcase_add_test(tc, test_stack_overflow_underflow);
    tcase_add_test(tc, test_tag_word_and_fstenv);
    tcase_add_test(tc, test_fsave_frstor);
    tcase_add_test(tc, test_mf_with_ne);
    tcase_add_test(tc, test_ferr_without_ne);
    tcase_add_test(tc, test_nm_em_ts);
    tcase_add_test(tc, test_precise_memory_fault);
    tcase_add_test(tc, test_fcomi_fcmov);
    tcase_add_test(tc, test_fxsave_layout);
    tcase_add_test(tc, test_libm_paths);
    tcase_add_test(tc, test_mmx);
    tcase_add_test(tc, test_fprem_and_int);
    tcase_add_test(tc, test_cpuid_bits);
    suite_add_tcase(s, tc);
    return s;
}
