/* x86 instruction decoder (i686 integer ISA): prefixes, one- and two-byte
 * opcodes, ModRM/SIB with 16- and 32-bit addressing, displacements and
 * immediates (Intel SDM vol. 2, ch. 2 and appendix A). Table-driven from
 * cpu/opcodes.def; produces a plain struct insn. No VEX/SSE/x87 yet. */
#include <string.h>
#include "cpu/cpu.h"
#include "cpu/insn.h"

const struct opdesc opcode_table[OPTAB_SIZE] = {
#define X(nm, opc, reg, o1, o2, o3, f, c, fl) \
    [OPKEY(opc, reg)] = { #nm, f, { o1, o2, o3 }, c, fl },
#include "cpu/opcodes.def"
#undef X
};

static int opd_modrm(int o)
{
    return (o >= Eb && o <= Dd);
}

static int opd_memonly(int o)
{
    return o >= M && o <= Ms;
}

/* Operands whose r/m is a register whatever the mod field says (MOV CRn). */
static int opd_forcereg(int o)
{
    return o >= Rd && o <= Dd;
}

struct dstate {
    decode_fetch_fn *fetch;
    void *ctx;
    unsigned n;
    int err;
};

static uint32_t next(struct dstate *d, int bytes)
{
    uint32_t v = 0;
    for (int k = 0; k < bytes; k++) {
        if (d->err)
            return 0;
        if (d->n >= 15) {
            d->err = DEC_TOOLONG;
            return 0;
        }
        int b = d->fetch(d->ctx, d->n);
        if (b < 0) {
            d->err = DEC_FETCH;
            return 0;
        }
        d->n++;
        v |= (uint32_t)b << (8 * k);
    }
    return v;
}

static uint32_t sext8(uint32_t v) { return (uint32_t)(int32_t)(int8_t)v; }
static uint32_t sext16(uint32_t v) { return (uint32_t)(int32_t)(int16_t)v; }

static void modrm16(struct insn *i, struct dstate *d)
{
    static const uint8_t base[8] = { R_EBX, R_EBX, R_EBP, R_EBP, NOREG, NOREG, R_EBP, R_EBX };
    static const uint8_t index[8] = { R_ESI, R_EDI, R_ESI, R_EDI, R_ESI, R_EDI, NOREG, NOREG };
    i->base = base[i->rm];
    i->index = index[i->rm];
    if (i->mod == 0 && i->rm == 6) {
        i->base = NOREG;
        i->disp = next(d, 2);
    } else if (i->mod == 1) {
        i->disp = sext8(next(d, 1));
    } else if (i->mod == 2) {
        i->disp = sext16(next(d, 2));
    }
    i->seg = i->base == R_EBP ? S_SS : S_DS;
}

static void modrm32(struct insn *i, struct dstate *d)
{
    i->base = i->rm;
    if (i->rm == 4) {
        i->has_sib = 1;
        i->sib = (uint8_t)next(d, 1);
        i->scale = i->sib >> 6;
        i->index = (i->sib >> 3) & 7;
        if (i->index == 4)
            i->index = NOREG;
        i->base = i->sib & 7;
        if (i->base == 5 && i->mod == 0) {
            i->base = NOREG;
            i->disp = next(d, 4);
        }
    } else if (i->rm == 5 && i->mod == 0) {
        i->base = NOREG;
        i->disp = next(d, 4);
    }
    if (i->mod == 1)
        i->disp = sext8(next(d, 1));
    else if (i->mod == 2)
        i->disp = next(d, 4);
    i->seg = (i->base == R_ESP || i->base == R_EBP) ? S_SS : S_DS;
}

/* INS, OUTS, MOVS, CMPS, STOS, LODS, SCAS */
static int is_string_op(int opc)
{
    return (opc >= 0x6C && opc <= 0x6F) || (opc >= 0xA4 && opc <= 0xA7) || (opc >= 0xAA && opc <= 0xAF);
}

static int prefix(struct insn *i, int b, int default32)
{
    switch (b) {
    case 0x26: i->seg_ovr = S_ES; break;
    case 0x2E: i->seg_ovr = S_CS; break;
    case 0x36: i->seg_ovr = S_SS; break;
    case 0x3E: i->seg_ovr = S_DS; break;
    case 0x64: i->seg_ovr = S_FS; break;
    case 0x65: i->seg_ovr = S_GS; break;
    case 0x66: i->opsize = default32 ? 2 : 4; break;
    case 0x67: i->addrsize = default32 ? 2 : 4; break;
    case 0xF0: i->lock = 1; break;
    case 0xF2: i->rep = REP_NE; break;
    case 0xF3: i->rep = REP_E; break;
    default: return 0;
    }
    return 1;
}

static const struct opdesc *lookup(struct insn *i, struct dstate *d)
{
    const struct opdesc *e = &opcode_table[OPKEY(i->opc, -1)];
    if (e->fn)
        return e;
    for (int r = 0; r < 8; r++) {
        if (opcode_table[OPKEY(i->opc, r)].fn) {
            /* a group: the ModRM byte picks the member */
            i->has_modrm = 1;
            i->modrm = (uint8_t)next(d, 1);
            i->reg = (i->modrm >> 3) & 7;
            const struct opdesc *m = &opcode_table[OPKEY(i->opc, i->reg)];
            /* an undefined member still decodes with its group's operand
             * layout, so its length is right for the #UD and for listings */
            return m->fn ? m : &opcode_table[OPKEY(i->opc, r)];
        }
    }
    return e;
}

static void immediates(struct insn *i, struct dstate *d, const struct opdesc *e)
{
    int nimm = 0;
    for (int k = 0; k < 3; k++) {
        uint32_t v;
        switch (e->opd[k]) {
        case Ib: v = next(d, 1); break;
        case Ibs: case Jb: v = sext8(next(d, 1)); break;
        case Iw: v = next(d, 2); break;
        case Iz: case Iv: v = next(d, i->opsize); break;
        case Jz: v = i->opsize == 2 ? sext16(next(d, 2)) : next(d, 4); break;
        case Ap:
            i->imm = next(d, i->opsize);
            i->imm2 = next(d, 2);
            continue;
        case Ob: case Ov:
            i->disp = next(d, i->addrsize);
            i->seg = i->seg_ovr != S_NONE ? i->seg_ovr : S_DS;
            continue;
        default: continue;
        }
        if (nimm++ == 0)
            i->imm = v;
        else
            i->imm2 = v;
    }
}

int decode_insn(struct insn *i, decode_fetch_fn *fetch, void *ctx, int default32)
{
    struct dstate d = { fetch, ctx, 0, 0 };
    memset(i, 0, sizeof(*i));
    i->opsize = i->addrsize = default32 ? 4 : 2;
    i->seg_ovr = S_NONE;
    i->base = i->index = NOREG;
    int b;
    for (;;) {
        b = (int)next(&d, 1);
        if (d.err || !prefix(i, b, default32))
            break;
        i->nprefix++;
    }
    i->opc = (uint16_t)b;
    if (b == 0x0F)
        i->opc = (uint16_t)(0x100 | next(&d, 1));
    const struct opdesc *e = lookup(i, &d);
    int needs_modrm = 0, memonly = 0, forcereg = 0;
    for (int k = 0; k < 3; k++) {
        needs_modrm |= opd_modrm(e->opd[k]);
        memonly |= opd_memonly(e->opd[k]);
        forcereg |= opd_forcereg(e->opd[k]);
    }
    i->seg = i->seg_ovr != S_NONE ? i->seg_ovr : S_DS;
    if (needs_modrm) {
        if (!i->has_modrm) {
            i->has_modrm = 1;
            i->modrm = (uint8_t)next(&d, 1);
        }
        i->mod = i->modrm >> 6;
        i->reg = (i->modrm >> 3) & 7;
        i->rm = i->modrm & 7;
        if (forcereg)
            i->mod = 3;
        if (i->mod != 3) {
            if (i->addrsize == 2)
                modrm16(i, &d);
            else
                modrm32(i, &d);
            if (i->seg_ovr != S_NONE)
                i->seg = i->seg_ovr;
        }
    }
    immediates(i, &d, e);
    if (d.err) {
        i->len = (uint8_t)d.n;
        return d.err;
    }
    i->len = (uint8_t)d.n;
    i->key = (uint16_t)(e - opcode_table);
    i->fn = e->fn;
    if (i->has_modrm && e != &opcode_table[OPKEY(i->opc, -1)] && e != &opcode_table[OPKEY(i->opc, i->reg)])
        i->fn = NULL;   /* undefined group member */
    i->cls = e->cls;
    i->flags = e->flags;
    if (!i->fn || (memonly && i->mod == 3) ||
        (i->lock && (!(e->flags & OPF_LOCK) || i->mod == 3))) {
        i->fn = op_ud;
        i->flags |= OPF_END;
    }
    if (i->rep && is_string_op(i->opc))
        i->flags |= OPF_END;   /* it restarts itself: EIP goes back (cpu/cpu.c run_block) */
    insn_specialise(i);
    return DEC_OK;
}

const char *insn_name(const struct insn *i)
{
    if (i->fn == op_ud && i->opc != 0x10B)
        return "(bad)";
    return opcode_table[i->key].name;
}
