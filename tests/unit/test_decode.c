/* Decoder tests: instruction bytes -> struct insn fields (length, prefixes,
 * operand/address size, ModRM/SIB, displacement, immediates, segment),
 * in 16- and 32-bit code, and the decode errors. */
#include <check.h>
#include <string.h>
#include "cpu/cpu.h"
#include "cpu/insn.h"

struct buf {
    const uint8_t *p;
    unsigned n;
};

static int fetch(void *ctx, unsigned n)
{
    const struct buf *b = ctx;
    return n < b->n ? b->p[n] : -1;
}

#define N NOREG
struct dcase {
    const char *name;
    int d32;                 /* CS.D */
    uint8_t bytes[16];
    unsigned nbytes;
    int len;
    uint16_t opc;
    int opsize, addrsize;
    int mod, reg, rm;        /* -1: no ModRM */
    int base, index, scale;
    uint32_t disp, imm, imm2;
    int seg, rep, lock;
    const char *mnem;
};

static const struct dcase cases[] = {
    { "add [bx+0E],bl", 0, { 0x00, 0x5F, 0x0E }, 3, 3, 0x00, 2, 2, 1, 3, 7, R_EBX, N, 0, 0xE, 0, 0, S_DS, 0, 0, "ADD" },
    { "mov ax,[bp-2]", 0, { 0x8B, 0x46, 0xFE }, 3, 3, 0x8B, 2, 2, 1, 0, 6, R_EBP, N, 0, 0xFFFFFFFE, 0, 0, S_SS, 0, 0, "MOV" },
    { "add al,[bx+si]", 0, { 0x02, 0x00 }, 2, 2, 0x02, 2, 2, 0, 0, 0, R_EBX, R_ESI, 0, 0, 0, 0, S_DS, 0, 0, "ADD" },
    { "mov ax,[1234]", 0, { 0x8B, 0x06, 0x34, 0x12 }, 4, 4, 0x8B, 2, 2, 0, 0, 6, N, N, 0, 0x1234, 0, 0, S_DS, 0, 0, "MOV" },
    { "mov eax,imm32 (o16)", 0, { 0x66, 0xB8, 0x78, 0x56, 0x34, 0x12 }, 6, 6, 0xB8, 4, 2, -1, 0, 0, N, N, 0, 0, 0x12345678, 0, S_DS, 0, 0, "MOV" },
    { "mov eax,[ecx*4+1000]", 1, { 0x8B, 0x04, 0x8D, 0x00, 0x10, 0, 0 }, 7, 7, 0x8B, 4, 4, 0, 0, 4, N, R_ECX, 2, 0x1000, 0, 0, S_DS, 0, 0, "MOV" },
    { "mov eax,[esp+8]", 1, { 0x8B, 0x44, 0x24, 0x08 }, 4, 4, 0x8B, 4, 4, 1, 0, 4, R_ESP, N, 0, 8, 0, 0, S_SS, 0, 0, "MOV" },
    { "mov eax,[eax+ecx*8+100]", 1, { 0x8B, 0x84, 0xC8, 0x00, 0x01, 0, 0 }, 7, 7, 0x8B, 4, 4, 2, 0, 4, R_EAX, R_ECX, 3, 0x100, 0, 0, S_DS, 0, 0, "MOV" },
    { "mov eax,[12345678]", 1, { 0x8B, 0x05, 0x78, 0x56, 0x34, 0x12 }, 6, 6, 0x8B, 4, 4, 0, 0, 5, N, N, 0, 0x12345678, 0, 0, S_DS, 0, 0, "MOV" },
    { "mov eax,[ebp+0]", 1, { 0x8B, 0x45, 0x00 }, 3, 3, 0x8B, 4, 4, 1, 0, 5, R_EBP, N, 0, 0, 0, 0, S_SS, 0, 0, "MOV" },
    { "a32 mov ax,[eax] (16-bit code)", 0, { 0x67, 0x8B, 0x00 }, 3, 3, 0x8B, 2, 4, 0, 0, 0, R_EAX, N, 0, 0, 0, 0, S_DS, 0, 0, "MOV" },
    { "rep movsd", 1, { 0xF3, 0xA5 }, 2, 2, 0xA5, 4, 4, -1, 0, 0, N, N, 0, 0, 0, 0, S_DS, REP_E, 0, "MOVS" },
    { "endbr32 (hint NOP)", 1, { 0xF3, 0x0F, 0x1E, 0xFB }, 4, 4, 0x11E, 4, 4, 3, 7, 3, N, N, 0, 0, 0, 0, S_DS, REP_E, 0, "NOP" },
    { "nop dword [eax+eax+0]", 1, { 0x0F, 0x1F, 0x44, 0x00, 0x00 }, 5, 5, 0x11F, 4, 4, 1, 0, 4, R_EAX, R_EAX, 0, 0, 0, 0, S_DS, 0, 0, "NOP" },
    { "repne scasb", 0, { 0xF2, 0xAE }, 2, 2, 0xAE, 2, 2, -1, 0, 0, N, N, 0, 0, 0, 0, S_DS, REP_NE, 0, "SCASB" },
    { "mov al,es:[bx]", 0, { 0x26, 0x8A, 0x07 }, 3, 3, 0x8A, 2, 2, 0, 0, 7, R_EBX, N, 0, 0, 0, 0, S_ES, 0, 0, "MOV" },
    { "mov ax,ds:[bp] overrides SS", 0, { 0x3E, 0x8B, 0x46, 0x00 }, 4, 4, 0x8B, 2, 2, 1, 0, 6, R_EBP, N, 0, 0, 0, 0, S_DS, 0, 0, "MOV" },
    { "movzx eax,cl", 1, { 0x0F, 0xB6, 0xC1 }, 3, 3, 0x1B6, 4, 4, 3, 0, 1, N, N, 0, 0, 0, 0, S_DS, 0, 0, "MOVZX" },
    { "add bx,1234", 0, { 0x81, 0xC3, 0x34, 0x12 }, 4, 4, 0x81, 2, 2, 3, 0, 3, N, N, 0, 0, 0x1234, 0, S_DS, 0, 0, "ADD" },
    { "sub eax,-1 (imm8 sign-extended)", 1, { 0x83, 0xE8, 0xFF }, 3, 3, 0x83, 4, 4, 3, 5, 0, N, N, 0, 0, 0xFFFFFFFF, 0, S_DS, 0, 0, "SUB" },
    { "jmp far F000:1000", 0, { 0xEA, 0x00, 0x10, 0x00, 0xF0 }, 5, 5, 0xEA, 2, 2, -1, 0, 0, N, N, 0, 0, 0x1000, 0xF000, S_DS, 0, 0, "JMPF" },
    { "jmp far 0008:12345678", 1, { 0xEA, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00 }, 7, 7, 0xEA, 4, 4, -1, 0, 0, N, N, 0, 0, 0x12345678, 8, S_DS, 0, 0, "JMPF" },
    { "enter 16,2", 0, { 0xC8, 0x10, 0x00, 0x02 }, 4, 4, 0xC8, 2, 2, -1, 0, 0, N, N, 0, 0, 0x10, 2, S_DS, 0, 0, "ENTER" },
    { "jz rel32", 1, { 0x0F, 0x84, 0xFE, 0xFF, 0xFF, 0xFF }, 6, 6, 0x184, 4, 4, -1, 0, 0, N, N, 0, 0, 0xFFFFFFFE, 0, S_DS, 0, 0, "JZ" },
    { "jnz rel8", 0, { 0x75, 0x80 }, 2, 2, 0x75, 2, 2, -1, 0, 0, N, N, 0, 0, 0xFFFFFF80, 0, S_DS, 0, 0, "JNZ" },
    { "lock add [eax],ecx", 1, { 0xF0, 0x01, 0x08 }, 3, 3, 0x01, 4, 4, 0, 1, 0, R_EAX, N, 0, 0, 0, 0, S_DS, 0, 1, "ADD" },
    { "mov ax,[1234] moffs", 0, { 0xA1, 0x34, 0x12 }, 3, 3, 0xA1, 2, 2, -1, 0, 0, N, N, 0, 0x1234, 0, 0, S_DS, 0, 0, "MOV" },
    { "a32 moffs in 16-bit code", 0, { 0x67, 0xA1, 0x78, 0x56, 0x34, 0x12 }, 6, 6, 0xA1, 2, 4, -1, 0, 0, N, N, 0, 0x12345678, 0, 0, S_DS, 0, 0, "MOV" },
    { "cmpxchg8b [esi]", 1, { 0x0F, 0xC7, 0x0E }, 3, 3, 0x1C7, 4, 4, 0, 1, 6, R_ESI, N, 0, 0, 0, 0, S_DS, 0, 0, "CMPXCHG8B" },
    { "mov eax,cr0 (mod ignored)", 1, { 0x0F, 0x20, 0x00 }, 3, 3, 0x120, 4, 4, 3, 0, 0, N, N, 0, 0, 0, 0, S_DS, 0, 0, "MOV" },
    { "shld [bx],ax,4", 0, { 0x0F, 0xA4, 0x07, 0x04 }, 4, 4, 0x1A4, 2, 2, 0, 0, 7, R_EBX, N, 0, 0, 4, 0, S_DS, 0, 0, "SHLD" },
    { "imul eax,[ebx],imm32", 1, { 0x69, 0x03, 1, 2, 3, 4 }, 6, 6, 0x69, 4, 4, 0, 0, 3, R_EBX, N, 0, 0, 0x04030201, 0, S_DS, 0, 0, "IMUL" },
    { "bt eax,5", 1, { 0x0F, 0xBA, 0xE0, 0x05 }, 4, 4, 0x1BA, 4, 4, 3, 4, 0, N, N, 0, 0, 5, 0, S_DS, 0, 0, "BT" },
    { "fs: mov eax,[ebx+disp32]", 1, { 0x64, 0x8B, 0x83, 0x00, 0x00, 0x01, 0x00 }, 7, 7, 0x8B, 4, 4, 2, 0, 3, R_EBX, N, 0, 0x10000, 0, 0, S_FS, 0, 0, "MOV" },
    { "bswap esi", 1, { 0x0F, 0xCE }, 2, 2, 0x1CE, 4, 4, -1, 0, 0, N, N, 0, 0, 0, 0, S_DS, 0, 0, "BSWAP" },
    { "test byte [bx],7 (F6 /0 has imm8)", 0, { 0xF6, 0x07, 0x07 }, 3, 3, 0xF6, 2, 2, 0, 0, 7, R_EBX, N, 0, 0, 7, 0, S_DS, 0, 0, "TEST" },
    { "not byte [bx] (F6 /2, no imm)", 0, { 0xF6, 0x17 }, 2, 2, 0xF6, 2, 2, 0, 2, 7, R_EBX, N, 0, 0, 0, 0, S_DS, 0, 0, "NOT" },
};

START_TEST(test_decode_fields)
{
    const struct dcase *d = &cases[_i];
    struct buf b = { d->bytes, d->nbytes };
    struct insn i;
    ck_assert_msg(decode_insn(&i, fetch, &b, d->d32) == DEC_OK, "%s", d->name);
    ck_assert_msg(i.len == d->len, "%s: len %d", d->name, i.len);
    ck_assert_msg(i.opc == d->opc, "%s: opc %x", d->name, i.opc);
    ck_assert_msg(i.opsize == d->opsize && i.addrsize == d->addrsize, "%s: sizes %d/%d", d->name, i.opsize, i.addrsize);
    if (d->mod >= 0) {
        ck_assert_msg(i.has_modrm, "%s: modrm", d->name);
        ck_assert_msg(i.mod == d->mod && i.reg == d->reg && i.rm == d->rm, "%s: modrm %d %d %d", d->name, i.mod, i.reg, i.rm);
        if (i.mod != 3) {
            ck_assert_msg(i.base == d->base && i.index == d->index, "%s: base %d index %d", d->name, i.base, i.index);
            if (d->index != N)
                ck_assert_msg(i.scale == d->scale, "%s: scale %d", d->name, i.scale);
        }
    } else {
        ck_assert_msg(!i.has_modrm, "%s: unexpected modrm", d->name);
    }
    ck_assert_msg(i.disp == d->disp, "%s: disp %x", d->name, i.disp);
    ck_assert_msg(i.imm == d->imm && i.imm2 == d->imm2, "%s: imm %x %x", d->name, i.imm, i.imm2);
    ck_assert_msg(i.seg == d->seg, "%s: seg %d", d->name, i.seg);
    ck_assert_msg(i.rep == d->rep && i.lock == d->lock, "%s: rep/lock", d->name);
    ck_assert_msg(i.fn != op_ud, "%s: decoded as #UD", d->name);
    ck_assert_str_eq(insn_name(&i), d->mnem);
}
END_TEST

/* Encodings that must decode to the #UD handler (with a sane length). */
struct udcase {
    const char *name;
    int d32;
    uint8_t bytes[8];
    unsigned nbytes;
    int len;
};

static const struct udcase ud_cases[] = {
    { "lock add eax,ecx (register destination)", 1, { 0xF0, 0x01, 0xC8 }, 3, 3 },
    { "lock mov [eax],ecx (not lockable)", 1, { 0xF0, 0x89, 0x08 }, 3, 3 },
    { "lea ax,ax", 0, { 0x8D, 0xC0 }, 2, 2 },
    { "les ax,bx", 0, { 0xC4, 0xC3 }, 2, 2 },
    { "0F FF", 1, { 0x0F, 0xFF }, 2, 2 },
    { "C7 /7 with disp and imm", 0, { 0xC7, 0xBF, 0x34, 0x12, 0x78, 0x56 }, 6, 6 },
    { "FF /7", 0, { 0xFF, 0xF8 }, 2, 2 },
    { "cmpxchg8b with a register", 1, { 0x0F, 0xC7, 0xC8 }, 3, 3 },
};

START_TEST(test_decode_ud)
{
    const struct udcase *d = &ud_cases[_i];
    struct buf b = { d->bytes, d->nbytes };
    struct insn i;
    ck_assert_msg(decode_insn(&i, fetch, &b, d->d32) == DEC_OK, "%s", d->name);
    ck_assert_msg(i.fn == op_ud, "%s: not #UD", d->name);
    ck_assert_msg(i.len == d->len, "%s: len %d", d->name, i.len);
}
END_TEST

START_TEST(test_decode_ud2_named)
{
    uint8_t code[] = { 0x0F, 0x0B };
    struct buf b = { code, 2 };
    struct insn i;
    ck_assert_int_eq(decode_insn(&i, fetch, &b, 1), DEC_OK);
    ck_assert_ptr_eq(i.fn, op_ud);
    ck_assert_str_eq(insn_name(&i), "UD2");
}
END_TEST

START_TEST(test_decode_errors)
{
    uint8_t code[20];
    memset(code, 0x26, sizeof(code));          /* 15 ES prefixes, then NOP */
    code[15] = 0x90;
    struct buf b = { code, 16 };
    struct insn i;
    ck_assert_int_eq(decode_insn(&i, fetch, &b, 0), DEC_TOOLONG);
    code[14] = 0x90;                           /* 14 prefixes + NOP = 15 bytes: fine */
    b.n = 15;
    ck_assert_int_eq(decode_insn(&i, fetch, &b, 0), DEC_OK);
    ck_assert_int_eq(i.len, 15);
    uint8_t part[] = { 0x8B, 0x84, 0xC8, 0x00 };   /* disp32 cut short */
    struct buf p = { part, sizeof(part) };
    ck_assert_int_eq(decode_insn(&i, fetch, &p, 1), DEC_FETCH);
    ck_assert_int_eq(i.len, 4);                /* byte 4 could not be fetched */
}
END_TEST

START_TEST(test_decode_class)
{
    static const struct { uint8_t b[3]; unsigned n; int cls; } c[] = {
        { { 0x0F, 0x01, 0x00 }, 3, IC_SENS },     /* SGDT */
        { { 0x9C }, 1, IC_SENS },                 /* PUSHF */
        { { 0xF4 }, 1, IC_PRIV },                 /* HLT */
        { { 0xE6, 0x80 }, 2, IC_IO },             /* OUT */
        { { 0xFA }, 1, IC_IOPL },                 /* CLI */
        { { 0x0F, 0x22, 0xC0 }, 3, IC_CREG },     /* MOV CR0 */
        { { 0x0F, 0xA2 }, 2, IC_VMEXIT },         /* CPUID */
        { { 0x01, 0xC0 }, 2, IC_NONE },           /* ADD */
    };
    for (unsigned k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
        struct buf b = { c[k].b, c[k].n };
        struct insn i;
        ck_assert_int_eq(decode_insn(&i, fetch, &b, 1), DEC_OK);
        ck_assert_msg(i.cls == c[k].cls, "case %u: class %d", k, i.cls);
    }
}
END_TEST

Suite *decode_suite(void)
{
    Suite *s = suite_create("decode");
    TCase *tc = tcase_create("decode");
    tcase_add_loop_test(tc, test_decode_fields, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_loop_test(tc, test_decode_ud, 0, (int)(sizeof(ud_cases) / sizeof(ud_cases[0])));
    tcase_add_test(tc, test_decode_ud2_named);
    tcase_add_test(tc, test_decode_errors);
    tcase_add_test(tc, test_decode_class);
    suite_add_tcase(s, tc);
    return s;
}
