/* softvisor-conformance: runs SingleStepTests MOO test vectors (format in
 * ../shared/conformance/README.md) through the interpreter, one CPU with
 * 16 MiB of RAM (A20 open) and no devices; I/O reads return all ones.
 * Usage: softvisor-conformance [-v] [--min-pass-rate PCT] [--skip-missing]
 *        FILE|DIR...
 * Prints one line per file and "conformance: N passed, M failed" last.
 * Exit status: 0 when every test passed (or the pass rate reached
 * --min-pass-rate), 1 on failures, 2 on unreadable or corrupt input. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "cpu/insn.h"

/* ---- 80286-only behaviour (never bent into the CPU) ----
 * K_FLAGS_HI: POPF (9D) and IRET (CF) load FLAGS bits 12-14 (IOPL, NT) on a
 *   386 or later in real mode; the 286 keeps them clear. FLAGS bits 12-15 are
 *   not compared in those files.
 * K_SS_FAULT: an SS-relative operand that crosses the segment limit (e.g. a
 *   word at SS:FFFF) raises #SS (12) on a 386 or later but #GP (13) on the
 *   286. A test expecting vector 13 where the CPU delivered 12 is counted as
 *   a known 286 difference, not a failure.
 * K_LOCK_UD: the 286 ignores a LOCK prefix on instructions that cannot be
 *   locked (register destinations, INT, DIV, ...); the 386 and later raise
 *   #UD. A test with a LOCK prefix where the CPU delivered #UD is counted as
 *   a known 286 difference.
 * K_LONG: the 286 limits an instruction to 10 bytes (prefixes included) and
 *   raises #GP (13) beyond; the 386 and later allow 15.
 * K_STRING_WRAP: a word string access (MOVS/CMPS/STOS/LODS/SCAS/INS/OUTS) at
 *   offset 0xFFFF: the 286 either wraps within the segment or raises #GP
 *   with SI/DI already advanced; the 386 and later raise #GP (or #SS) with
 *   SI/DI unchanged.
 * K_POP_MEM: POP to a memory operand that faults leaves SP incremented on the
 *   286; the i686 is precise and restores SP.
 * K_NO_FSGS: the 286 has no FS/GS: MOV FS/GS (8E /4, /5) is #UD (6) there.
 * K_IDIV_OVF: 286 IDIV misses some quotient overflows (no #DE) and leaves
 *   0x80 (byte) or 0x8000 (word) as the quotient; the i686 raises #DE.
 * K_AAM0: AAM 0 updates SF/ZF/PF on the 286 before raising #DE; the i686
 *   changes no flags (precise exception).
 * K_ESC_FPU: these vectors come from a 286 without a coprocessor, where ESC
 *   (D8-DF) only reads a word of its memory operand; our i686 has an x87 that
 *   reads the whole m32/m64/m80 operand, which can cross the segment limit
 *   (#GP, or #SS for SS) where the 286 read nothing past it. */
#define KNOWN_SS_FAULT 1
#define KNOWN_LOCK_UD 1
#define KNOWN_LONG 1
#define KNOWN_STRING_WRAP 1
#define KNOWN_POP_MEM 1
#define KNOWN_AAM0 1
#define KNOWN_NO_FSGS 1
#define KNOWN_IDIV_OVF 1
#define KNOWN_ESC_FPU 1

#define MAX_FILES 4096
#define MAX_PATH 4096

struct ram_list {
    const uint8_t *p;   /* n entries of addr:u32 value:u8 */
    uint32_t n;
};

struct test {
    uint32_t index;
    uint16_t init[14], fina[14];
    uint16_t fina_present;
    uint16_t rmask[14];
    struct ram_list init_ram, fina_ram;
    int has_excp;
    uint8_t excp_vec;
    uint32_t flags_addr;
    uint8_t hash[20];
    int has_hash;
    const char *name;
    uint32_t name_len;
    const uint8_t *bytes;
    uint32_t nbytes;
};

struct vec_file {
    const char *path;
    uint8_t *data;
    size_t len;
    uint16_t file_rmask[14];
    uint32_t count;
};

struct stats {
    uint64_t pass, fail, undef, known;
};

struct runner {
    struct physmem pm;
    struct cpu cpu;
    int verbose;
    long only;          /* -t N: run only test N, with a trace */
    char manifest_dir[MAX_PATH];
    char mask_file[MAX_FILES][32];
    uint16_t mask_val[MAX_FILES];
    int nmasks;
    char (*revoked)[41];
    int nrevoked;
};

/* ---- little-endian readers over a bounded buffer ---- */

struct rd {
    const uint8_t *p, *end;
    int bad;
};

static uint32_t rd_u32(struct rd *r)
{
    if (r->end - r->p < 4) {
        r->bad = 1;
        return 0;
    }
    uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
    r->p += 4;
    return v;
}

static uint16_t rd_u16(struct rd *r)
{
    if (r->end - r->p < 2) {
        r->bad = 1;
        return 0;
    }
    uint16_t v = (uint16_t)(r->p[0] | r->p[1] << 8);
    r->p += 2;
    return v;
}

/* Next chunk: tag and payload bounds. Returns 0 at the end, -1 when corrupt. */
static int rd_chunk(struct rd *r, char tag[5], struct rd *payload)
{
    if (r->p == r->end)
        return 0;
    if (r->end - r->p < 8)
        return -1;
    memcpy(tag, r->p, 4);
    tag[4] = 0;
    r->p += 4;
    uint32_t len = rd_u32(r);
    if ((size_t)(r->end - r->p) < len)
        return -1;
    payload->p = r->p;
    payload->end = r->p + len;
    payload->bad = 0;
    r->p += len;
    return 1;
}

/* ---- reading files ---- */

static int load_gz(const char *path, uint8_t **out, size_t *outlen, const char **why)
{
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        *why = errno ? strerror(errno) : "cannot open";
        return -1;
    }
    size_t cap = 1 << 20, len = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            *why = "out of memory";
            gzclose(f);
            return -1;
        }
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                continue;
            }
            buf = nb;
            cap *= 2;
        }
        int n = gzread(f, buf + len, (unsigned)(cap - len > (1u << 30) ? (1u << 30) : cap - len));
        if (n < 0) {
            int e;
            *why = gzerror(f, &e);
            free(buf);
            gzclose(f);
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    int eof_ok = gzeof(f);
    gzclose(f);
    if (!eof_ok) {
        free(buf);
        *why = "truncated gzip stream";
        return -1;
    }
    *out = buf;
    *outlen = len;
    return 0;
}

static void parse_regs(struct rd *r, uint16_t *regs, uint16_t *present)
{
    uint16_t mask = rd_u16(r);
    if (present)
        *present = mask;
    for (int k = 0; k < 14; k++)
        if (mask & (1u << k))
            regs[k] = rd_u16(r);
    if (mask & 0xC000)
        r->bad = 1;
}

static void parse_ram(struct rd *r, struct ram_list *l)
{
    l->n = rd_u32(r);
    l->p = r->p;
    if ((size_t)(r->end - r->p) / 5 < l->n) {
        r->bad = 1;
        l->n = 0;
        return;
    }
    r->p += (size_t)l->n * 5;
}

static int parse_state(struct rd *st, struct test *t, int final)
{
    char tag[5];
    struct rd c;
    int k, have_regs = 0;
    while ((k = rd_chunk(st, tag, &c)) > 0) {
        if (!strcmp(tag, "REGS")) {
            parse_regs(&c, final ? t->fina : t->init, final ? &t->fina_present : NULL);
            have_regs = 1;
        } else if (!strcmp(tag, "RAM ")) {
            parse_ram(&c, final ? &t->fina_ram : &t->init_ram);
        } else if (!strcmp(tag, "RG32")) {
            return -2;
        }
        if (c.bad)
            return -1;
    }
    if (k < 0 || (!final && !have_regs))
        return -1;
    return 0;
}

static int parse_test(struct rd *r, struct test *t)
{
    memset(t, 0, sizeof(*t));
    for (int k = 0; k < 14; k++)
        t->rmask[k] = 0xFFFF;
    t->index = rd_u32(r);
    char tag[5];
    struct rd c;
    int k, have_init = 0;
    while ((k = rd_chunk(r, tag, &c)) > 0) {
        int e = 0;
        if (!strcmp(tag, "INIT")) {
            e = parse_state(&c, t, 0);
            have_init = 1;
        } else if (!strcmp(tag, "FINA")) {
            e = parse_state(&c, t, 1);
        } else if (!strcmp(tag, "NAME")) {
            t->name_len = rd_u32(&c);
            t->name = (const char *)c.p;
            if ((size_t)(c.end - c.p) < t->name_len)
                c.bad = 1;
        } else if (!strcmp(tag, "BYTS")) {
            t->nbytes = rd_u32(&c);
            t->bytes = c.p;
            if ((size_t)(c.end - c.p) < t->nbytes)
                c.bad = 1;
        } else if (!strcmp(tag, "EXCP")) {
            if (c.end - c.p < 5)
                c.bad = 1;
            else {
                t->has_excp = 1;
                t->excp_vec = c.p[0];
                c.p++;
                t->flags_addr = rd_u32(&c);
            }
        } else if (!strcmp(tag, "HASH")) {
            if (c.end - c.p < 20)
                c.bad = 1;
            else {
                memcpy(t->hash, c.p, 20);
                t->has_hash = 1;
            }
        } else if (!strcmp(tag, "RMSK")) {
            uint16_t vals[14];
            uint16_t present;
            for (int q = 0; q < 14; q++)
                vals[q] = 0xFFFF;
            parse_regs(&c, vals, &present);
            memcpy(t->rmask, vals, sizeof(vals));
        } else if (!strcmp(tag, "RM32")) {
            e = -2;
        }
        if (e)
            return e;
        if (c.bad || r->bad)
            return -1;
    }
    if (k < 0 || !have_init)
        return -1;
    return 0;
}

/* ---- manifest and revocation list ---- */

static void load_manifest(struct runner *R, const char *dir)
{
    if (!strcmp(R->manifest_dir, dir))
        return;
    snprintf(R->manifest_dir, sizeof(R->manifest_dir), "%s", dir);
    R->nmasks = 0;
    free(R->revoked);
    R->revoked = NULL;
    R->nrevoked = 0;
    char path[MAX_PATH + 32], line[512];
    snprintf(path, sizeof(path), "%s/MANIFEST.tsv", dir);
    FILE *f = fopen(path, "r");
    if (f) {
        while (fgets(line, sizeof(line), f) && R->nmasks < MAX_FILES) {
            char *cols[8];
            int n = 0;
            for (char *s = strtok(line, "\t\n"); s && n < 8; s = strtok(NULL, "\t\n"))
                cols[n++] = s;
            if (n < 7 || !strcmp(cols[0], "file"))
                continue;
            snprintf(R->mask_file[R->nmasks], sizeof(R->mask_file[0]), "%s", cols[0]);
            R->mask_val[R->nmasks++] = (uint16_t)strtoul(cols[6], NULL, 16);
        }
        fclose(f);
    }
    snprintf(path, sizeof(path), "%s/revocation_list.txt", dir);
    f = fopen(path, "r");
    if (f) {
        while (fgets(line, sizeof(line), f)) {
            if (strlen(line) < 40 || line[0] == '#')
                continue;
            char (*nr)[41] = realloc(R->revoked, (size_t)(R->nrevoked + 1) * sizeof(*nr));
            if (!nr)
                break;
            R->revoked = nr;
            memcpy(R->revoked[R->nrevoked], line, 40);
            R->revoked[R->nrevoked++][40] = 0;
        }
        fclose(f);
    }
}

static uint16_t flags_mask_for(const struct runner *R, const char *base)
{
    for (int k = 0; k < R->nmasks; k++)
        if (!strcmp(R->mask_file[k], base))
            return R->mask_val[k];
    return 0xFFFF;
}

static int revoked(const struct runner *R, const struct test *t)
{
    if (!t->has_hash || !R->nrevoked)
        return 0;
    char hex[41];
    for (int k = 0; k < 20; k++)
        snprintf(hex + 2 * k, 3, "%02x", t->hash[k]);
    for (int k = 0; k < R->nrevoked; k++)
        if (!strcmp(R->revoked[k], hex))
            return 1;
    return 0;
}

/* ---- running one test ---- */

/* MOO register order: AX BX CX DX CS SS DS ES SP BP SI DI IP FLAGS */
static const int moo_gpr[14] = { R_EAX, R_EBX, R_ECX, R_EDX, -1, -1, -1, -1, R_ESP, R_EBP, R_ESI, R_EDI, -1, -1 };
static const int moo_seg[14] = { -1, -1, -1, -1, S_CS, S_SS, S_DS, S_ES, -1, -1, -1, -1, -1, -1 };
static const char *const moo_name[14] = { "AX", "BX", "CX", "DX", "CS", "SS", "DS", "ES", "SP", "BP", "SI", "DI", "IP", "FLAGS" };

static uint32_t ram_addr(const struct ram_list *l, uint32_t k)
{
    const uint8_t *e = l->p + 5 * (size_t)k;
    return ((uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 | (uint32_t)e[3] << 24) & 0xFFFFFF;
}

static uint8_t ram_val(const struct ram_list *l, uint32_t k) { return l->p[5 * (size_t)k + 4]; }

static void ram_clear(struct runner *R, const struct ram_list *l)
{
    for (uint32_t k = 0; k < l->n; k++)
        phys_write(&R->pm, ram_addr(l, k), 0, 1);
}

static void setup(struct runner *R, const struct test *t)
{
    struct cpu *c = &R->cpu;
    memset(c->regs, 0, sizeof(c->regs));
    for (int k = 0; k < 14; k++)
        if (moo_gpr[k] >= 0)
            c->regs[moo_gpr[k]] = t->init[k];
    for (int s = 0; s < 6; s++) {
        uint16_t sel = 0;
        for (int k = 0; k < 14; k++)
            if (moo_seg[k] == s)
                sel = t->init[k];
        c->segs[s] = (struct seg){ sel, (uint32_t)sel << 4, 0xFFFF, s == S_CS ? 0x9B : 0x93 };
    }
    c->sys[SYS_IDTR].base = 0;
    c->sys[SYS_IDTR].limit = 0x3FF;
    c->eip = t->init[12];
    c->lf_op = 0;
    c->eflags = (t->init[13] & 0x0FFFu) | 2u;   /* README 5.2: FLAGS bits 12-15 cleared */
    c->halted = c->intr_shadow = 0;
    c->in_exception = 0;
    c->shutdown = 0;
    c->exc_prev = -1;
    for (uint32_t k = 0; k < t->init_ram.n; k++)
        phys_write(&R->pm, ram_addr(&t->init_ram, k), ram_val(&t->init_ram, k), 1);
}

/* Flags that the architecture leaves undefined in this test beyond the
 * manifest mask: OF of a shift/rotate whose count is not 1. */
static uint16_t extra_undefined(struct runner *R, const char *base, const struct test *t)
{
    unsigned op = (unsigned)strtoul(base, NULL, 16);
    if (op != 0xC0 && op != 0xC1 && op != 0xD2 && op != 0xD3)
        return 0;
    uint32_t count;
    if (op >= 0xD2) {
        count = t->init[2] & 0x1F;
    } else {
        /* the count is the instruction's last byte (before the HLT) */
        uint32_t lin = ((uint32_t)t->init[4] << 4) + t->init[12];
        uint32_t k = 0;
        while (k < 15 && phys_read(&R->pm, lin + k, 1) != 0xF4)
            k++;
        count = k ? phys_read(&R->pm, lin + k - 1, 1) & 0x1F : 1;
        (void)R;
    }
    return count != 1 ? FL_OF : 0;
}

enum verdict { V_PASS, V_UNDEF, V_KNOWN, V_FAIL };

struct check {
    enum verdict v;
    uint32_t known_flags;   /* flag bits a K_ entry explains in this test */
    char why[256];
};

static void note(struct check *ck, enum verdict v, const char *fmt, unsigned a, unsigned b, unsigned x)
{
    if (v > ck->v) {
        ck->v = v;
        snprintf(ck->why, sizeof(ck->why), fmt, a, b, x);
    }
}

static int in_list(const struct ram_list *l, uint32_t addr)
{
    for (uint32_t k = 0; k < l->n; k++)
        if (ram_addr(l, k) == addr)
            return 1;
    return 0;
}

/* Compares a flags byte or word under the defined-flags mask. */

static void cmp_flags(struct check *ck, const char *what, uint32_t act, uint32_t exp, uint32_t defined, uint32_t compared)
{
    uint32_t d = (act ^ exp) & compared;
    char fmt[96];
    snprintf(fmt, sizeof(fmt), "%s: got %%04X want %%04X", what);
    if (d & defined & ~ck->known_flags)
        note(ck, V_FAIL, fmt, act, exp, 0);
    else if (d & defined)
        note(ck, V_KNOWN, fmt, act, exp, 0);
    else if (d)
        note(ck, V_UNDEF, fmt, act, exp, 0);
}

/* Where the exception pushed FLAGS: SS:SP+4 of the expected final state.
 * (The EXCP chunk's flags_addr is one byte below that in these files.) */
static uint32_t flags_image_addr(const struct test *t)
{
    uint16_t ss = (t->fina_present & (1u << 5)) ? t->fina[5] : t->init[5];
    uint16_t sp = (t->fina_present & (1u << 8)) ? t->fina[8] : t->init[8];
    return ((uint32_t)ss << 4) + (uint16_t)(sp + 4);
}

static void check_ram_byte(struct check *ck, const struct test *t, uint32_t addr, uint8_t act, uint8_t exp,
                           uint16_t defined, uint16_t compared)
{
    uint32_t fa = flags_image_addr(t);
    if (t->has_excp && (addr == fa || addr == fa + 1)) {
        int sh = addr == fa ? 0 : 8;
        cmp_flags(ck, "pushed FLAGS byte", act, exp, (defined >> sh) & 0xFF, (compared >> sh) & 0xFF);
    } else if (act != exp) {
        note(ck, V_FAIL, "RAM[%06X]: got %02X want %02X", addr, act, exp);
    }
}

struct byte_src {
    const uint8_t *p;
    uint32_t n;
};

static int byte_fetch(void *ctx, unsigned n)
{
    const struct byte_src *b = ctx;
    return n < b->n ? b->p[n] : -1;
}

/* Decodes the test's instruction bytes (16-bit code). */
static int test_insn(const struct test *t, struct insn *i)
{
    struct byte_src b = { t->bytes, t->nbytes };
    return decode_insn(i, byte_fetch, &b, 0) == DEC_OK;
}

/* Which 286-only behaviour explains a failed test, if any. */
static int known_286(const struct test *t, int first_exc, const char *base)
{
    struct insn i;
    if (!test_insn(t, &i))
        return 0;
    if (KNOWN_LONG && t->has_excp && t->excp_vec == EXC_GP && i.len > 10)
        return 1;
    int string = (i.opc >= 0xA4 && i.opc <= 0xAF && i.opc != 0xA8 && i.opc != 0xA9) ||
                 (i.opc >= 0x6C && i.opc <= 0x6F);
    if (KNOWN_STRING_WRAP && string && (i.opc & 1) && (!t->has_excp || t->excp_vec == EXC_GP) &&
        (first_exc == EXC_GP || first_exc == EXC_SS))
        return 1;
    if (KNOWN_NO_FSGS && i.opc == 0x8E && (i.reg == S_FS || i.reg == S_GS) && t->has_excp && t->excp_vec == EXC_UD)
        return 1;
    if (KNOWN_IDIV_OVF && (i.opc == 0xF6 || i.opc == 0xF7) && i.reg == 7 && !t->has_excp && first_exc == EXC_DE) {
        uint16_t ax = (t->fina_present & 1) ? t->fina[0] : t->init[0];
        if (i.opc == 0xF6 ? (ax & 0xFF) == 0x80 : ax == 0x8000)
            return 1;
    }
    if (KNOWN_ESC_FPU && i.opc >= 0xD8 && i.opc <= 0xDF && i.mod != 3 && !t->has_excp &&
        (first_exc == EXC_GP || first_exc == EXC_SS))
        return 1;
    if (KNOWN_POP_MEM && !strncmp(base, "8F.", 3) && t->has_excp && t->excp_vec == EXC_GP && first_exc == EXC_GP)
        return 1;
    return 0;
}

static int has_lock(const struct test *t)
{
    for (uint32_t k = 0; k < t->nbytes && k < 15; k++) {
        uint8_t b = t->bytes[k];
        if (b == 0xF0)
            return 1;
        if (b != 0x26 && b != 0x2E && b != 0x36 && b != 0x3E && b != 0xF2 && b != 0xF3)
            return 0;
    }
    return 0;
}

static void check_test(struct runner *R, const char *base, const struct test *t, int known_hi,
                       uint16_t fmask, enum cpu_exit ex, struct check *ck)
{
    struct cpu *c = &R->cpu;
    ck->v = V_PASS;
    ck->why[0] = 0;
    if (ex != CPU_EXIT_HLT) {
        note(ck, V_FAIL, ex == CPU_EXIT_SHUTDOWN ? "shutdown (triple fault)%.0u%.0u%.0u" : "no HLT reached%.0u%.0u%.0u", 0, 0, 0);
        goto known;
    }
    uint16_t compared = known_hi ? 0x0FFF : 0xFFFF;
    ck->known_flags = 0;
    if (KNOWN_AAM0 && !strncmp(base, "D4.", 3) && t->has_excp && t->excp_vec == EXC_DE)
        ck->known_flags = FL_SF | FL_ZF | FL_PF;
    uint16_t defined = (uint16_t)(fmask & ~extra_undefined(R, base, t));
    for (int k = 0; k < 14; k++) {
        uint32_t exp = (t->fina_present & (1u << k)) ? t->fina[k] : t->init[k];
        uint32_t act;
        if (moo_gpr[k] >= 0)
            act = c->regs[moo_gpr[k]] & 0xFFFF;
        else if (moo_seg[k] >= 0)
            act = c->segs[moo_seg[k]].sel;
        else if (k == 12)
            act = c->eip & 0xFFFF;
        else
            act = cpu_get_eflags(c) & 0xFFFF;
        if (k == 13) {
            if (!(t->fina_present & (1u << k)))
                exp &= 0x0FFF;
            cmp_flags(ck, "FLAGS", act, exp, defined & t->rmask[k], compared & t->rmask[k]);
        } else if ((act ^ exp) & t->rmask[k]) {
            char fmt[64];
            snprintf(fmt, sizeof(fmt), "%s: got %%04X want %%04X", moo_name[k]);
            note(ck, V_FAIL, fmt, act, exp, 0);
        }
    }
    for (uint32_t k = 0; k < t->fina_ram.n; k++) {
        uint32_t a = ram_addr(&t->fina_ram, k);
        check_ram_byte(ck, t, a, (uint8_t)phys_read(&R->pm, a, 1), ram_val(&t->fina_ram, k), defined, compared);
    }
    for (uint32_t k = 0; k < t->init_ram.n; k++) {
        uint32_t a = ram_addr(&t->init_ram, k);
        if (!in_list(&t->fina_ram, a))
            check_ram_byte(ck, t, a, (uint8_t)phys_read(&R->pm, a, 1), ram_val(&t->init_ram, k), defined, compared);
    }
known:
    if (KNOWN_SS_FAULT && ck->v == V_FAIL && t->has_excp && t->excp_vec == EXC_GP && c->exc_prev == EXC_SS)
        ck->v = V_KNOWN;
    if (KNOWN_LOCK_UD && ck->v == V_FAIL && c->exc_prev == EXC_UD && has_lock(t))
        ck->v = V_KNOWN;
    if (ck->v == V_FAIL && known_286(t, c->exc_prev, base))
        ck->v = V_KNOWN;
}

static void dump_test(struct runner *R, const struct test *t, enum cpu_exit ex, int exc)
{
    printf("test %u \"%.*s\" exit %d first exception %d bytes", t->index, (int)t->name_len, t->name, ex, exc);
    for (uint32_t k = 0; k < t->nbytes; k++)
        printf(" %02X", t->bytes[k]);
    printf("\n");
    for (int k = 0; k < 14; k++) {
        uint32_t act;
        if (moo_gpr[k] >= 0)
            act = R->cpu.regs[moo_gpr[k]] & 0xFFFF;
        else if (moo_seg[k] >= 0)
            act = R->cpu.segs[moo_seg[k]].sel;
        else if (k == 12)
            act = R->cpu.eip & 0xFFFF;
        else
            act = cpu_get_eflags(&R->cpu) & 0xFFFF;
        printf("  %-5s init %04X final %04X%s got %04X\n", moo_name[k], t->init[k],
               (t->fina_present & (1u << k)) ? t->fina[k] : t->init[k],
               (t->fina_present & (1u << k)) ? "*" : " ", act);
    }
    for (uint32_t k = 0; k < t->init_ram.n; k++)
        printf("  init RAM[%06X] = %02X\n", ram_addr(&t->init_ram, k), ram_val(&t->init_ram, k));
    for (uint32_t k = 0; k < t->fina_ram.n; k++)
        printf("  fina RAM[%06X] = %02X got %02X\n", ram_addr(&t->fina_ram, k), ram_val(&t->fina_ram, k),
               (unsigned)phys_read(&R->pm, ram_addr(&t->fina_ram, k), 1));
    if (t->has_excp)
        printf("  exception %u flags at %06X\n", t->excp_vec, t->flags_addr);
}

/* ---- running a file ---- */

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void parent_dir(const char *path, char *out, size_t n)
{
    snprintf(out, n, "%s", path);
    for (int up = 0; up < 2; up++) {
        char *s = strrchr(out, '/');
        if (s)
            *s = 0;
        else
            snprintf(out, n, "..");
    }
}

static int run_file(struct runner *R, const char *path, struct stats *total)
{
    const char *why = NULL;
    struct vec_file vf = { .path = path };
    if (load_gz(path, &vf.data, &vf.len, &why) < 0) {
        printf("conformance: %s: %s\n", path, why ? why : "unreadable");
        return -1;
    }
    char dir[MAX_PATH];
    parent_dir(path, dir, sizeof(dir));
    load_manifest(R, dir);
    const char *base = base_name(path);
    uint16_t fmask = flags_mask_for(R, base);
    int known_hi = !strncmp(base, "9D.", 3) || !strncmp(base, "CF.", 3);
    struct rd r = { vf.data, vf.data + vf.len, 0 };
    struct stats st = { 0, 0, 0, 0 };
    char tag[5];
    struct rd ch;
    int k, seen_header = 0, err = 0, shown = 0;
    uint32_t count = 0, ntests = 0;
    while (!err && (k = rd_chunk(&r, tag, &ch)) > 0) {
        if (!seen_header) {
            if (strcmp(tag, "MOO ") || ch.end - ch.p < 12) {
                why = "not a MOO file";
                err = 1;
                break;
            }
            count = (uint32_t)ch.p[4] | (uint32_t)ch.p[5] << 8 | (uint32_t)ch.p[6] << 16 | (uint32_t)ch.p[7] << 24;
            seen_header = 1;
            continue;
        }
        if (strcmp(tag, "TEST"))
            continue;   /* META, RMSK at top level (not used by these files), unknown */
        struct test t;
        int e = parse_test(&ch, &t);
        if (e) {
            why = e == -2 ? "32-bit state chunks (RG32/RM32) are not supported" : "corrupt TEST chunk";
            err = 1;
            break;
        }
        ntests++;
        if (revoked(R, &t) || (R->only >= 0 && t.index != (uint32_t)R->only))
            continue;
        setup(R, &t);
        /* the first step runs the instruction (or delivers its fault), so
         * exc_prev then names the exception the instruction raised */
        enum cpu_exit ex = cpu_run(&R->cpu, 1);
        int first_exc = R->cpu.exc_prev;
        if (ex == CPU_EXIT_BUDGET)
            ex = cpu_run(&R->cpu, 4096);
        R->cpu.exc_prev = first_exc;
        if (R->only >= 0)
            dump_test(R, &t, ex, first_exc);
        struct check ck;
        check_test(R, base, &t, known_hi, fmask, ex, &ck);
        switch (ck.v) {
        case V_PASS: st.pass++; break;
        case V_UNDEF: st.undef++; break;
        case V_KNOWN: st.known++; break;
        default:
            st.fail++;
            if (R->verbose && shown++ < 5)
                printf("  FAIL %s #%u \"%.*s\": %s\n", base, t.index, (int)t.name_len, t.name ? t.name : "", ck.why);
        }
        ram_clear(R, &t.init_ram);
        ram_clear(R, &t.fina_ram);
    }
    if (!err && (k < 0 || !seen_header)) {
        why = seen_header ? "truncated or corrupt chunk" : k < 0 ? "not a MOO file" : "empty or truncated file (no MOO header)";
        err = 1;
    }
    if (!err && ntests != count) {
        why = "test count does not match the header";
        err = 1;
    }
    free(vf.data);
    if (err) {
        printf("conformance: %s: %s (after %u tests)\n", path, why, ntests);
        return -1;
    }
    printf("%-14s %6llu passed %6llu failed %6llu undefined-flag-only %6llu known-286\n", base,
           (unsigned long long)(st.pass + st.undef + st.known), (unsigned long long)st.fail,
           (unsigned long long)st.undef, (unsigned long long)st.known);
    total->pass += st.pass;
    total->fail += st.fail;
    total->undef += st.undef;
    total->known += st.known;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expands a directory into its *.MOO.gz files (sorted). */
static int add_path(const char *path, char **files, int *n)
{
    struct stat sb;
    if (stat(path, &sb) < 0)
        return -1;
    if (!S_ISDIR(sb.st_mode)) {
        if (*n < MAX_FILES)
            files[(*n)++] = strdup(path);
        return 0;
    }
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    int first = *n;
    while ((e = readdir(d)) && *n < MAX_FILES) {
        size_t l = strlen(e->d_name);
        if (l > 7 && !strcmp(e->d_name + l - 7, ".MOO.gz")) {
            char *p = malloc(strlen(path) + l + 2);
            if (!p)
                break;
            sprintf(p, "%s/%s", path, e->d_name);
            files[(*n)++] = p;
        }
    }
    closedir(d);
    qsort(files + first, (size_t)(*n - first), sizeof(char *), cmp_str);
    return 0;
}

int main(int argc, char **argv)
{
    static struct runner R;
    static char *files[MAX_FILES];
    int nfiles = 0, skip_missing = 0, bad_input = 0;
    double min_rate = -1;
    R.only = -1;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "-t") && a + 1 < argc) {
            R.only = atol(argv[++a]);
        } else if (!strcmp(argv[a], "-v")) {
            R.verbose = 1;
        } else if (!strcmp(argv[a], "--skip-missing")) {
            skip_missing = 1;
        } else if (!strcmp(argv[a], "--min-pass-rate") && a + 1 < argc) {
            min_rate = atof(argv[++a]);
        } else if (add_path(argv[a], files, &nfiles) < 0) {
            if (skip_missing) {
                printf("conformance: skipped (no vectors at %s)\n", argv[a]);
                return 0;
            }
            printf("conformance: %s: %s\n", argv[a], errno ? strerror(errno) : "cannot open");
            bad_input = 1;
        }
    }
    if (!nfiles && !bad_input) {
        fprintf(stderr, "usage: softvisor-conformance [-v] [--min-pass-rate PCT] [--skip-missing] FILE|DIR...\n");
        return 2;
    }
    if (physmem_init(&R.pm, 16u << 20) < 0 || cpu_init(&R.cpu, &R.pm) < 0) {
        printf("conformance: out of memory\n");
        return 2;
    }
    physmem_set_a20(&R.pm, 1);
    struct stats total = { 0, 0, 0, 0 };
    for (int k = 0; k < nfiles; k++) {
        if (run_file(&R, files[k], &total) < 0)
            bad_input = 1;
        free(files[k]);
    }
    cpu_free(&R.cpu);
    physmem_free(&R.pm);
    free(R.revoked);
    uint64_t passed = total.pass + total.undef + total.known;
    uint64_t all = passed + total.fail;
    double rate = all ? 100.0 * (double)passed / (double)all : 100.0;
    printf("conformance: %llu undefined-flag-only, %llu known 286 differences, pass rate %.3f%%\n",
           (unsigned long long)total.undef, (unsigned long long)total.known, rate);
    printf("conformance: %llu passed, %llu failed\n", (unsigned long long)passed, (unsigned long long)total.fail);
    if (bad_input)
        return 2;
    if (total.fail && !(min_rate >= 0 && rate >= min_rate))
        return 1;
    return 0;
}
