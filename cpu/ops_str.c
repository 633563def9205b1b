/* String instructions (MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS) with REP,
 * REPE and REPNE, and IN/OUT (Intel SDM vol. 2; vol. 1, 18.3 I/O
 * permission). Each iteration commits ESI/EDI/ECX, so a fault restarts the
 * instruction where it stopped; a long REP yields every REP_CHUNK iterations
 * by restarting itself, so interrupts are taken in between. */
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

static void string_op(struct cpu *c, const struct insn *i, str_fn *fn, int conditional)
{
    int s = insn_bsize(i);
    uint32_t am = addr_mask(i);
    if (!i->rep) {
        fn(c, i, s, am);
        return;
    }
    for (int n = 0;; n++) {
        if ((c->regs[R_ECX] & am) == 0)
            return;
        if (n == REP_CHUNK) {
            c->eip = c->fault_eip;   /* continue later, after pending interrupts */
            return;
        }
        int stop = fn(c, i, s, am);
        advance(c, R_ECX, -1, am);
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
