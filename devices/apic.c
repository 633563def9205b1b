/* Local APIC of a P6-class CPU, xAPIC mode (Intel SDM vol. 3A ch. 10): registers,
 * TPR/PPR, IRR/ISR/TMR, EOI broadcast, LVTs, one-shot/periodic timer counted
 * from virtual time, IPIs to itself, ESR. Not modelled: other CPUs (INIT, SIPI,
 * SMI ignored), lowest-priority arbitration, TSC-deadline, x2APIC, remote read. */
#include "devices/apic.h"
#include <stddef.h>

/* 256-bit registers (IRR, ISR, TMR) */
static void vset(uint32_t *r, int v) { r[v >> 5] |= 1u << (v & 31); }
static void vclr(uint32_t *r, int v) { r[v >> 5] &= ~(1u << (v & 31)); }
static int vtest(const uint32_t *r, int v) { return (r[v >> 5] >> (v & 31)) & 1; }

static int vhighest(const uint32_t *r)
{
    for (int i = 7; i >= 0; i--)
        for (int b = 31; r[i] && b >= 0; b--)
            if (r[i] >> b & 1)
                return i * 32 + b;
    return -1;
}

static int hw_enabled(const struct apic *a) { return (a->msr & APIC_MSR_EN) != 0; }
static int sw_enabled(const struct apic *a) { return (a->svr & APIC_SVR_ENABLE) != 0; }
static int lvt_mode(uint32_t lvt) { return (int)(lvt >> 8 & 7); }

/* Processor priority (SDM 10.8.3.1): the higher of TPR and the class of the
 * highest vector in service. */
static uint32_t ppr(const struct apic *a)
{
    int isrv = vhighest(a->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
    return (a->tpr & 0xF0) >= isr_class ? a->tpr & 0xFF : isr_class;
}

/* Arbitration priority (SDM 10.8.3.1, P6 rule); only informative here. */
static uint32_t apr(const struct apic *a)
{
    int irrv = vhighest(a->irr), isrv = vhighest(a->isr);
    uint32_t tc = a->tpr & 0xF0;
    uint32_t ic = irrv < 0 ? 0 : (uint32_t)irrv & 0xF0;
    uint32_t sc = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
    if (tc >= ic && tc > sc)
        return a->tpr & 0xFF;
    uint32_t m = tc > sc ? tc : sc;
    return m > ic ? m : ic;
}

static int lint_active(const struct apic *a, int n)
{
    return a->lint_level[n] ^ ((a->lvt[3 + n] & APIC_LVT_ACTIVE_LOW) != 0);
}

/* The 8259 is asking for INTR: by message or through LINT0 in ExtINT mode. */
static int extint_active(const struct apic *a)
{
    uint32_t l = a->lvt[3];
    return a->extint_pending ||
           (!(l & APIC_LVT_MASKED) && lvt_mode(l) == APIC_DM_EXTINT && lint_active(a, 0));
}

static int fixed_deliverable(const struct apic *a)
{
    int v = vhighest(a->irr);
    return v >= 0 && ((uint32_t)v & 0xF0) > (ppr(a) & 0xF0);
}

int apic_has_interrupt(const struct apic *a)
{
    if (!hw_enabled(a))
        return a->lint_level[0];     /* LINT0 is the plain INTR pin */
    return extint_active(a) || fixed_deliverable(a);
}

static void update_intr(struct apic *a)
{
    irq_set(&a->intr, apic_has_interrupt(a));
}

static void accept(struct apic *a, int vector, int level);

/* Records an error; the error LVT interrupts unless masked. An illegal
 * vector there only adds "receive illegal vector" (no recursion). */
static void apic_error(struct apic *a, uint32_t bit)
{
    uint32_t l = a->lvt[5];
    a->esr_pending |= bit;
    if (l & APIC_LVT_MASKED)
        return;
    if ((l & 0xFF) < 16)
        a->esr_pending |= APIC_ESR_RECV_ILLEGAL;
    else
        accept(a, (int)(l & 0xFF), 0);
}

/* A fixed interrupt reaches IRR; vectors 0-15 are refused (SDM 10.5.2). */
static void accept(struct apic *a, int vector, int level)
{
    vector &= 0xFF;
    if (vector < 16) {
        apic_error(a, APIC_ESR_RECV_ILLEGAL);
        return;
    }
    vset(a->irr, vector);
    if (level)
        vset(a->tmr, vector);
    else
        vclr(a->tmr, vector);
    update_intr(a);
}

void apic_deliver(struct apic *a, int vector, int delivery_mode, int level)
{
    if (!hw_enabled(a))
        return;
    switch (delivery_mode) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
        if (sw_enabled(a))           /* software-disabled: fixed messages refused */
            accept(a, vector, level);
        break;
    case APIC_DM_NMI:
        irq_pulse(&a->nmi);
        break;
    case APIC_DM_EXTINT:
        a->extint_pending = 1;
        update_intr(a);
        break;
    default:                         /* SMI, INIT, STARTUP: one CPU, not modelled */
        break;
    }
}

static int match_dest(const struct apic *a, uint8_t dest, int logical)
{
    if (dest == 0xFF)
        return 1;
    if (!logical)
        return dest == (uint8_t)(a->id >> 24);
    uint8_t ld = (uint8_t)(a->ldr >> 24);
    if ((a->dfr >> 28) == 0xF)       /* flat model: one bit per APIC */
        return (dest & ld) != 0;
    return (dest >> 4) == (ld >> 4) && (dest & ld & 0x0F) != 0;   /* cluster */
}

void apic_bus_deliver(void *opaque, uint8_t dest, int dest_mode, int vector,
                      int delivery_mode, int level)
{
    struct apic *a = opaque;
    if (match_dest(a, dest, dest_mode))
        apic_deliver(a, vector, delivery_mode, level);
}

/* ---- LINT pins ---- */

/* Evaluates a LINT pin after its level or LVT changed; `edge` is an inactive
 * to active transition. Level-triggered fixed LINTs deliver while active with
 * remote IRR clear and set it; EOI of their vector clears it again. */
static void lint_eval(struct apic *a, int n, int edge)
{
    uint32_t *l = &a->lvt[3 + n];
    if (*l & APIC_LVT_MASKED)
        return;
    switch (lvt_mode(*l)) {
    case APIC_DM_FIXED:
        if (*l & APIC_LVT_LEVEL) {
            if (lint_active(a, n) && !(*l & APIC_LVT_REMOTE_IRR)) {
                *l |= APIC_LVT_REMOTE_IRR;
                accept(a, (int)(*l & 0xFF), 1);
            }
        } else if (edge) {
            accept(a, (int)(*l & 0xFF), 0);
        }
        break;
    case APIC_DM_NMI:                /* NMI is always edge-sensitive */
        if (edge)
            irq_pulse(&a->nmi);
        break;
    default:                         /* ExtINT: seen by extint_active(); others ignored */
        break;
    }
}

void apic_set_lint(void *opaque, int n, int level)
{
    struct apic *a = opaque;
    n &= 1;
    level = level != 0;
    int was_raw = a->lint_level[n], was = lint_active(a, n);
    a->lint_level[n] = (uint8_t)level;
    if (!hw_enabled(a)) {            /* globally disabled: LINT0 = INTR, LINT1 = NMI */
        if (n == 1 && level && !was_raw)
            irq_pulse(&a->nmi);
    } else {
        lint_eval(a, n, lint_active(a, n) && !was);
    }
    update_intr(a);
}

/* ---- interrupt acknowledge and EOI ---- */

static int extint_vector(struct apic *a)
{
    return a->extint_ack ? a->extint_ack(a->extint_opaque) & 0xFF : (int)(a->svr & 0xFF);
}

int apic_get_interrupt(struct apic *a)
{
    int v;
    if (!hw_enabled(a))
        return a->lint_level[0] ? extint_vector(a) : -1;
    if (extint_active(a)) {
        a->extint_pending = 0;
        v = extint_vector(a);
    } else if (fixed_deliverable(a)) {
        v = vhighest(a->irr);
        vclr(a->irr, v);
        vset(a->isr, v);
    } else {
        v = (int)(a->svr & 0xFF);    /* spurious: ISR untouched, no EOI expected */
    }
    update_intr(a);
    return v;
}

static void do_eoi(struct apic *a)
{
    int v = vhighest(a->isr);
    if (v < 0)
        return;
    vclr(a->isr, v);
    if (vtest(a->tmr, v)) {
        if (a->eoi)
            a->eoi(a->eoi_opaque, v);
        for (int n = 0; n < 2; n++) {
            uint32_t *l = &a->lvt[3 + n];
            if ((*l & APIC_LVT_REMOTE_IRR) && (*l & 0xFF) == (uint32_t)v) {
                *l &= ~APIC_LVT_REMOTE_IRR;
                lint_eval(a, n, 0);  /* still asserted: delivered again */
            }
        }
    }
    update_intr(a);
}

/* ---- timer ---- */

/* ns per count: bus clock times the divider (DCR bits 3,1:0; 111b = 1). */
static uint64_t tick_ns(const struct apic *a)
{
    uint32_t d = (a->dcr & 3) | (a->dcr >> 1 & 4);
    return (uint64_t)APIC_TICK_NS << ((d + 1) & 7);
}

static void timer_expire(struct apic *a)
{
    uint64_t now = vclock_now(a->clock);
    uint32_t l = a->lvt[0];
    if (!(l & APIC_LVT_MASKED))
        accept(a, (int)(l & 0xFF), 0);
    if ((l & APIC_LVT_PERIODIC) && a->initial_count) {
        /* Reload; periods the clock jumped over coalesce into this one IRR bit. */
        uint64_t p = a->initial_count * tick_ns(a);
        a->deadline += ((now - a->deadline) / p + 1) * p;
    } else {
        a->deadline = VCLOCK_NEVER;
    }
    timer_arm(&a->timer, a->deadline);
}

/* Expiry that is due but whose timer has not run yet (same-instant reads). */
static void timer_sync(struct apic *a)
{
    if (a->deadline != VCLOCK_NEVER && vclock_now(a->clock) >= a->deadline)
        timer_expire(a);
}

static void timer_cb(void *opaque) { timer_sync(opaque); }

uint32_t apic_current_count(struct apic *a)
{
    timer_sync(a);
    if (a->deadline == VCLOCK_NEVER)
        return 0;
    uint64_t t = tick_ns(a);
    return (uint32_t)((a->deadline - vclock_now(a->clock) + t - 1) / t);
}

static void timer_start(struct apic *a, uint32_t count)
{
    a->initial_count = count;
    a->deadline = count ? vclock_now(a->clock) + count * tick_ns(a) : VCLOCK_NEVER;
    timer_arm(&a->timer, a->deadline);
}

/* A new divider while counting: the current count continues at the new rate
 * from the moment of the write. */
static void timer_set_dcr(struct apic *a, uint32_t v)
{
    uint32_t c = apic_current_count(a);
    a->dcr = v & 0xB;
    if (a->deadline != VCLOCK_NEVER) {
        a->deadline = vclock_now(a->clock) + c * tick_ns(a);
        timer_arm(&a->timer, a->deadline);
    }
}

/* ---- IPIs (ICR) ---- */

static void send_ipi(struct apic *a)
{
    uint32_t lo = a->icr_lo;
    int vector = (int)(lo & 0xFF), dm = lvt_mode(lo), level = (lo & 0x8000) != 0;
    int to_self;
    if (dm == APIC_DM_INIT && level && !(lo & 0x4000))
        return;                      /* INIT level de-assert: synchronises arbitration IDs */
    if ((dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST) && vector < 16) {
        apic_error(a, APIC_ESR_SEND_ILLEGAL);
        return;
    }
    switch (lo >> 18 & 3) {
    case 0: to_self = match_dest(a, (uint8_t)(a->icr_hi >> 24), (lo >> 11) & 1); break;
    case 1: to_self = dm == APIC_DM_FIXED; break;   /* self: fixed only (SDM 10.6.1) */
    case 2: to_self = 1; break;                     /* all including self */
    default: to_self = 0; break;                    /* all excluding self: nobody */
    }
    if (to_self)
        apic_deliver(a, vector, dm, level && dm == APIC_DM_FIXED);
}

/* ---- registers ---- */

static void write_lvt(struct apic *a, int i, uint32_t v)
{
    static const uint32_t writable[APIC_LVT_N] = {
        0x000300FF, 0x000107FF, 0x000107FF, 0x0001A7FF, 0x0001A7FF, 0x000100FF,
    };
    uint32_t old = a->lvt[i];
    a->lvt[i] = (v & writable[i]) | (old & APIC_LVT_REMOTE_IRR);
    if (!sw_enabled(a))              /* software-disabled: masks cannot be cleared */
        a->lvt[i] |= APIC_LVT_MASKED;
    if (i == 3 || i == 4)
        lint_eval(a, i - 3, 0);
    update_intr(a);
}

static void write_svr(struct apic *a, uint32_t v)
{
    a->svr = (v & 0x3F0) | 0x0F;     /* P6: vector bits 3:0 hardwired to 1 */
    if (!sw_enabled(a))
        for (int i = 0; i < APIC_LVT_N; i++)
            a->lvt[i] |= APIC_LVT_MASKED;
    update_intr(a);
}

static uint32_t reg_read(struct apic *a, uint32_t reg)
{
    if (reg >= APIC_ISR && reg < APIC_ESR) {
        uint32_t i = (reg - APIC_ISR) >> 4;
        const uint32_t *r = i < 8 ? a->isr : i < 16 ? a->tmr : a->irr;
        return r[i & 7];
    }
    if (reg >= APIC_LVT_TIMER && reg <= APIC_LVT_ERROR)
        return a->lvt[(reg - APIC_LVT_TIMER) >> 4];
    switch (reg) {
    case APIC_ID: return a->id;
    case APIC_VER: return APIC_VERSION;
    case APIC_TPR: return a->tpr;
    case APIC_APR: return apr(a);
    case APIC_PPR: return ppr(a);
    case APIC_EOI: case APIC_RRD: return 0;
    case APIC_LDR: return a->ldr;
    case APIC_DFR: return a->dfr;
    case APIC_SVR: return a->svr;
    case APIC_ESR: return a->esr;
    case APIC_ICR_LO: return a->icr_lo;
    case APIC_ICR_HI: return a->icr_hi;
    case APIC_TIMER_ICR: return a->initial_count;
    case APIC_TIMER_CCR: return apic_current_count(a);
    case APIC_TIMER_DCR: return a->dcr;
    }
    apic_error(a, APIC_ESR_ILLEGAL_REG);
    return 0;
}

static void reg_write(struct apic *a, uint32_t reg, uint32_t v)
{
    if (reg >= APIC_LVT_TIMER && reg <= APIC_LVT_ERROR) {
        write_lvt(a, (int)((reg - APIC_LVT_TIMER) >> 4), v);
        return;
    }
    if (reg >= APIC_ISR && reg < APIC_ESR)
        return;                      /* read-only */
    switch (reg) {
    case APIC_ID: a->id = v & 0xFF000000u; return;
    case APIC_TPR: a->tpr = v & 0xFF; update_intr(a); return;
    case APIC_EOI: do_eoi(a); return;
    case APIC_LDR: a->ldr = v & 0xFF000000u; return;
    case APIC_DFR: a->dfr = (v & 0xF0000000u) | 0x0FFFFFFFu; return;
    case APIC_SVR: write_svr(a, v); return;
    case APIC_ESR: a->esr = a->esr_pending; a->esr_pending = 0; return;
    case APIC_ICR_LO: a->icr_lo = v & 0x000CCFFFu; send_ipi(a); return;
    case APIC_ICR_HI: a->icr_hi = v & 0xFF000000u; return;
    case APIC_TIMER_ICR: timer_start(a, v); return;
    case APIC_TIMER_DCR: timer_set_dcr(a, v); return;
    case APIC_VER: case APIC_APR: case APIC_PPR: case APIC_RRD: case APIC_TIMER_CCR:
        return;                      /* read-only */
    }
    apic_error(a, APIC_ESR_ILLEGAL_REG);
}

/* Registers sit at 16-byte steps in the low 4 bytes; the other 12 bytes read
 * as zero. Narrower reads return part of the register; writes take effect
 * only as aligned 32-bit stores (the SDM leaves the others undefined). */
static uint32_t apic_mmio_read(void *dev, uint32_t offset, int size)
{
    uint32_t byte = offset & 0xF;
    if (byte >= 4)
        return 0;
    uint64_t v = reg_read(dev, offset & 0xFF0) >> (8 * byte);
    return size == 4 ? (uint32_t)v : (uint32_t)(v & ((1u << (8 * size)) - 1));
}

static void apic_mmio_write(void *dev, uint32_t offset, uint32_t value, int size)
{
    if (size == 4 && (offset & 0xF) == 0)
        reg_write(dev, offset & 0xFF0, value);
}

const struct bus_ops apic_bus_ops = { apic_mmio_read, apic_mmio_write, 0 };

/* ---- reset, mapping, state ---- */

static void regs_reset(struct apic *a)
{
    a->id = (uint32_t)a->reset_id << 24;
    a->tpr = a->ldr = 0;
    a->dfr = 0xFFFFFFFFu;
    a->svr = 0xFF;
    for (int i = 0; i < 8; i++)
        a->isr[i] = a->tmr[i] = a->irr[i] = 0;
    a->esr = a->esr_pending = 0;
    a->icr_lo = a->icr_hi = 0;
    for (int i = 0; i < APIC_LVT_N; i++)
        a->lvt[i] = APIC_LVT_MASKED;
    a->dcr = a->initial_count = 0;
    a->deadline = VCLOCK_NEVER;
    timer_cancel(&a->timer);
    a->extint_pending = 0;
}

/* Makes the physmem mapping follow msr (EN and base). */
static void remap(struct apic *a)
{
    uint32_t base = (uint32_t)a->msr & APIC_MSR_BASE_MASK;
    int want = a->pm && hw_enabled(a);
    if (a->mapped && (!want || a->mapped_base != base)) {
        physmem_unmap(a->pm, a->mapped_base, APIC_PAGE_SIZE);
        a->mapped = 0;
    }
    if (want && !a->mapped && physmem_map_mmio(a->pm, base, APIC_PAGE_SIZE, &apic_bus_ops, a) == 0) {
        a->mapped_base = base;
        a->mapped = 1;
    }
}

void apic_set_base(struct apic *a, struct physmem *pm, uint64_t msr)
{
    if (a->mapped && a->pm != pm) {
        physmem_unmap(a->pm, a->mapped_base, APIC_PAGE_SIZE);
        a->mapped = 0;
    }
    int was = hw_enabled(a);
    a->pm = pm;
    a->msr = msr;
    if (was && !hw_enabled(a))
        regs_reset(a);
    remap(a);
    update_intr(a);
}

void apic_reset(void *dev)
{
    struct apic *a = dev;
    regs_reset(a);
    a->msr = APIC_DEFAULT_MSR;
    remap(a);
    update_intr(a);
}

void apic_init(struct apic *a, struct vclock *clock)
{
    *a = (struct apic){ .clock = clock };
    timer_init(&a->timer, clock, timer_cb, a);
    apic_reset(a);
}

static const struct state_field apic_fields[] = {
    STATE_U32(struct apic, id), STATE_U32(struct apic, tpr),
    STATE_U32(struct apic, ldr), STATE_U32(struct apic, dfr),
    STATE_U32(struct apic, svr),
    STATE_U32_ARRAY(struct apic, isr, 8), STATE_U32_ARRAY(struct apic, tmr, 8),
    STATE_U32_ARRAY(struct apic, irr, 8),
    STATE_U32(struct apic, esr), STATE_U32(struct apic, esr_pending),
    STATE_U32(struct apic, icr_lo), STATE_U32(struct apic, icr_hi),
    STATE_U32_ARRAY(struct apic, lvt, APIC_LVT_N),
    STATE_U32(struct apic, dcr), STATE_U32(struct apic, initial_count),
    STATE_U64(struct apic, deadline), STATE_U64(struct apic, msr),
    STATE_U8_ARRAY(struct apic, lint_level, 2), STATE_U8(struct apic, extint_pending),
    STATE_END
};

static int apic_post_load(void *dev)
{
    struct apic *a = dev;
    if (a->lint_level[0] > 1 || a->lint_level[1] > 1 || a->extint_pending > 1 || a->dcr & ~0xBu)
        return -1;
    remap(a);
    timer_arm(&a->timer, a->deadline);
    update_intr(a);
    return 0;
}

const struct device_ops apic_device_ops = {
    .name = "apic", .version = 1, .fields = apic_fields,
    .reset = apic_reset, .post_load = apic_post_load, .destroy = NULL,
};
