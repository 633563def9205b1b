/* String instructions (MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS) with REP,
 * REPE and REPNE, and IN/OUT (Intel SDM vol. 2; vol. 1, 18.3 I/O
 * permission). Each iteration commits ESI/EDI/ECX, so a fault restarts the
 * instruction where it stopped; a long REP yields every REP_CHUNK iterations
 * by restarting itself, so interrupts are taken in between. */
#include <string.h>
#include "cpu/exec.h"

#define REP_CHUNK 4096

static void advance(struct cpu *c, int r, int delta, uint32_t am)
{
    c->regs[r] = (c->regs[r] & ~am) | ((c->regs[r] + (uint32_t)delta) & am);
}

static int step(const struct cpu *c, int size)
{
    return (c->eflags & FL_DF) ? -size : size;
}

uint32_t cpu_in(struct cpu *c, uint16_t port, int size)
{
    if (cpu_pmode(c) && (cpu_v86(c) || c->cpl > ((c->eflags & FL_IOPL) >> 12)))
        cpu_check_io(c, port, size);
    return c->io_read(c->io_opaque, port, size) & sz_mask(size);
}

void cpu_out(struct cpu *c, uint16_t port, uint32_t v, int size)
{
    if (cpu_pmode(c) && (cpu_v86(c) || c->cpl > ((c->eflags & FL_IOPL) >> 12)))
        cpu_check_io(c, port, size);
    c->io_write(c->io_opaque, port, v & sz_mask(size), size);
}

/* One iteration of each string operation. Returns nonzero for CMPS/SCAS
 * when the REPE/REPNE condition ends the loop. */
typedef int str_fn(struct cpu *c, const struct insn *i, int s, uint32_t am);

static int s_movs(struct cpu *c, const struct insn *i, int s, uint32_t am)
{
    uint32_t v = mem_read(c, i->seg, c->regs[R_ESI] & am, s);
    mem_write(c, S_ES, c->regs[R_EDI] & am, v, s);
    advance(c, R_ESI, step(c, s), am);
    advance(c, R_EDI, step(c, s), am);
    return 0;
}

static int rep_stop(const struct cpu *c, const struct insn *i)
{
    int zf = flags_zf(c);
    return i->rep == REP_E ? !zf : zf;
}

static int s_cmps(struct cpu *c, const struct insn *i, int s, uint32_t am)
{
    uint32_t a = mem_read(c, i->seg, c->regs[R_ESI] & am, s);
    uint32_t b = mem_read(c, S_ES, c->regs[R_EDI] & am, s);
    advance(c, R_ESI, step(c, s), am);
    advance(c, R_EDI, step(c, s), am);
    flags_set(c, LF_SUB, s, a - b, a, b);
    return rep_stop(c, i);
}

static int s_stos(struct cpu *c, const struct insn *i, int s, uint32_t am)
{
    (void)i;
    mem_write(c, S_ES, c->regs[R_EDI] & am, c->regs[R_EAX], s);
    advance(c, R_EDI, step(c, s), am);
    return 0;
}

static int s_lods(struct cpu *c, const struct insn *i, int s, uint32_t am)
{
    uint32_t v = mem_read(c, i->seg, c->regs[R_ESI] & am, s);
    reg_set(c, R_EAX, v, s);
    advance(c, R_ESI, step(c, s), am);
    return 0;
}

static int s_scas(struct cpu *c, const struct insn *i, int s, uint32_t am)
{
    uint32_t a = reg_get(c, R_EAX, s);
    uint32_t b = mem_read(c, S_ES, c->regs[R_EDI] & am, s);
    advance(c, R_EDI, step(c, s), am);
    flags_set(c, LF_SUB, s, a - b, a, b);
    return rep_stop(c, i);
}

static int s_ins(struct cpu *c, const struct insn *i, int s, uint32_t am)
{
    (void)i;
    uint32_t off = c->regs[R_EDI] & am;
    cpu_probe_write(c, S_ES, off, s);   /* no port read if the store would fault */
    uint32_t v = cpu_in(c, (uint16_t)c->regs[R_EDX], s);
    mem_write(c, S_ES, off, v, s);
    advance(c, R_EDI, step(c, s), am);
    return 0;
}

static int s_outs(struct cpu *c, const struct insn *i, int s, uint32_t am)
{
    uint32_t v = mem_read(c, i->seg, c->regs[R_ESI] & am, s);
    cpu_out(c, (uint16_t)c->regs[R_EDX], v, s);
    advance(c, R_ESI, step(c, s), am);
    return 0;
}

/* ---- REP STOS/MOVS in bulk ----
 * Forward, 32-bit addressing, aligned elements in RAM pages whose host
 * pointers are in the TLB (code pages have no write entries, so stores
 * into code still go element by element through the path that kills
 * blocks): the elements up to the end of the page(s) are done at once,
 * with the same register results and the same REP_CHUNK yield points as
 * one at a time. Returns the elements done (0: take the general path). */

/* Host address of up to n elements of s bytes at sreg:off, limited to the
 * page; *n is reduced to what fits. NULL if the fast path does not apply. */
static uint8_t *bulk_ptr(struct cpu *c, int sreg, uint32_t off, int s, int access, uint32_t *n)
{
    const struct seg *sg = &c->segs[sreg];
    if ((sg->flags & SEGF_FAST_MASK) != SEGF_FAST || off > sg->limit)
        return NULL;
    uint32_t lin = sg->base + off, room = (sg->limit - off + 1u) / (uint32_t)s;
    if (room == 0 && sg->limit - off + 1u == 0)
        room = 0xFFFFFFFFu;                 /* limit 4 GiB - 1 at offset 0 */
    if (lin & (uint32_t)(s - 1))
        return NULL;
    uint32_t in_page = (0x1000u - (lin & 0xFFFu)) / (uint32_t)s;
    if (*n > in_page)
        *n = in_page;
    if (*n > room)
        *n = room;
    const struct tlb_entry *e = &c->mmu.tlb[c->cpl == 3][access][(lin >> 12) & (TLB_SIZE - 1)];
    if (*n == 0 || e->tag != (lin & ~0xFFFu))
        return NULL;
    c->mmu.tlb_hits++;
    return e->host + (lin & 0xFFFu);
}

static uint32_t stos_bulk(struct cpu *c, int s, uint32_t n)
{
    uint8_t *d = bulk_ptr(c, S_ES, c->regs[R_EDI], s, MMU_WRITE, &n);
    if (!d)
        return 0;
    uint32_t v = c->regs[R_EAX];
    if (s == 1)
        memset(d, (int)(v & 0xFF), n);
    else
        for (uint32_t k = 0; k < n; k++, d += s)
            s == 4 ? pm_st32(d, v) : pm_st16(d, (uint16_t)v);
    c->regs[R_EDI] += n * (uint32_t)s;
    return n;
}

static uint32_t movs_bulk(struct cpu *c, const struct insn *i, int s, uint32_t n)
{
    uint8_t *src = bulk_ptr(c, i->seg, c->regs[R_ESI], s, MMU_READ, &n);
    if (!src)
        return 0;
    uint8_t *d = bulk_ptr(c, S_ES, c->regs[R_EDI], s, MMU_WRITE, &n);
    if (!d)
        return 0;
    size_t len = (size_t)n * (size_t)s;
    if (d + len <= src || src + len <= d) {
        memcpy(d, src, len);
    } else {   /* overlapping: element order matters (a forward MOVS replicates) */
        for (size_t k = 0; k < len; k++)
            d[k] = src[k];
    }
    c->regs[R_ESI] += (uint32_t)len;
    c->regs[R_EDI] += (uint32_t)len;
    return n;
}

/* Elements done in bulk by REP STOS/MOVS, at most max. */
static uint32_t rep_bulk(struct cpu *c, const struct insn *i, str_fn *fn, int s, uint32_t am, uint32_t max)
{
    if (am != 0xFFFFFFFFu || (c->eflags & FL_DF))
        return 0;
    uint32_t n = c->regs[R_ECX] < max ? c->regs[R_ECX] : max;
    if (fn == s_stos)
        return stos_bulk(c, s, n);
    if (fn == s_movs)
        return movs_bulk(c, i, s, n);
    return 0;
}

static void string_op(struct cpu *c, const struct insn *i, str_fn *fn, int conditional)
{
    int s = insn_bsize(i);
    uint32_t am = addr_mask(i);
    if (!i->rep) {
        fn(c, i, s, am);
        return;
    }
    for (uint32_t n = 0;;) {
        if ((c->regs[R_ECX] & am) == 0)
            return;
        if (n == REP_CHUNK) {
            c->eip = c->fault_eip;   /* continue later, after pending interrupts */
            return;
        }
        uint32_t bulk = rep_bulk(c, i, fn, s, am, REP_CHUNK - n);
        if (bulk) {
            c->regs[R_ECX] -= bulk;
            n += bulk;
            continue;
        }
        int stop = fn(c, i, s, am);
        advance(c, R_ECX, -1, am);
        n++;
        if (conditional && stop)
            return;
    }
}

void op_movs(struct cpu *c, const struct insn *i) { string_op(c, i, s_movs, 0); }
void op_cmps(struct cpu *c, const struct insn *i) { string_op(c, i, s_cmps, 1); }
void op_stos(struct cpu *c, const struct insn *i) { string_op(c, i, s_stos, 0); }
void op_lods(struct cpu *c, const struct insn *i) { string_op(c, i, s_lods, 0); }
void op_scas(struct cpu *c, const struct insn *i) { string_op(c, i, s_scas, 1); }
void op_ins(struct cpu *c, const struct insn *i) { string_op(c, i, s_ins, 0); }
void op_outs(struct cpu *c, const struct insn *i) { string_op(c, i, s_outs, 0); }

void op_in(struct cpu *c, const struct insn *i)
{
    int s = insn_bsize(i);
    uint16_t port = i->opc < 0xEC ? (uint16_t)(i->imm & 0xFF) : (uint16_t)c->regs[R_EDX];
    reg_set(c, R_EAX, cpu_in(c, port, s), s);
}

void op_out(struct cpu *c, const struct insn *i)
{
    int s = insn_bsize(i);
    uint16_t port = i->opc < 0xEC ? (uint16_t)(i->imm & 0xFF) : (uint16_t)c->regs[R_EDX];
    cpu_out(c, port, c->regs[R_EAX], s);
}
