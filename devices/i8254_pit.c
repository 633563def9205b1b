/* Intel 8254 PIT (datasheet 231164: modes 0-5, counter latch, read-back). CE and
 * OUT are computed from the pulse at which the CE was last loaded, never ticked.
 * Not modelled: gate sampling inside a clock period; a count written with the
 * gate low in modes 0/4 loads at once. Power-up state: mode 3, idle, OUT high. */
#include "devices/i8254_pit.h"
#include <stddef.h>

#define NO_PULSE UINT64_MAX

uint64_t pit_ns_to_ticks(uint64_t ns)
{
    return ns / 1000000000u * PIT_HZ + ns % 1000000000u * PIT_HZ / 1000000000u;
}

uint64_t pit_ticks_to_ns(uint64_t k)
{
    /* The earliest ns at which pit_ns_to_ticks reaches k (rounded up). */
    uint64_t r = k % PIT_HZ;
    return k / PIT_HZ * 1000000000u + (r * 1000000000u + PIT_HZ - 1) / PIT_HZ;
}

static uint64_t now_pulse(const struct pit_counter *c)
{
    return pit_ns_to_ticks(vclock_now(c->pit->clock));
}

static uint32_t modulus(const struct pit_counter *c)
{
    return (c->ctrl & 1) ? 10000 : 65536;
}

/* The initial count N in binary: 1..65536 (1..10000 BCD). */
static uint32_t count_n(const struct pit_counter *c)
{
    uint32_t v = c->cr;
    if (c->ctrl & 1)
        v = (v >> 12 & 15) * 1000 + (v >> 8 & 15) * 100 + (v >> 4 & 15) * 10 + (v & 15);
    v %= modulus(c);
    return v ? v : modulus(c);
}

static uint16_t to_guest(const struct pit_counter *c, uint32_t v)
{
    v %= modulus(c);
    if (c->ctrl & 1)
        v = (v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10;
    return (uint16_t)v;
}

/* A pending count reaches the CE (modes 2/3: at the end of the current
 * period or half-period; other modes: on the load pulse). */
static void sync(struct pit_counter *c, uint64_t p)
{
    if (c->cr_state != 1 || c->pend_at == NO_PULSE || p < c->pend_at)
        return;
    if (c->pend) {
        c->start = c->pend_at;
        c->ce0 = count_n(c);
        c->phase = c->pend_phase;
        c->pend = 0;
    }
    c->cr_state = 2;
    c->pend_at = NO_PULSE;
}

/* OUT and CE of the running epoch at pulse p >= start. */
static int epoch_out(const struct pit_counter *c, uint64_t p)
{
    uint64_t d = p - c->start, n = c->ce0;
    switch (c->mode) {
    case 0: case 1: return c->tc_done || d >= n;
    case 4: case 5: return c->tc_done || d != n;
    case 2: return (d + c->phase) % n != n - 1;
    default: return (d + c->phase) % n < n - n / 2;
    }
}

static uint32_t epoch_ce(const struct pit_counter *c, uint64_t p)
{
    uint64_t d = p - c->start, n = c->ce0, m = modulus(c), e, h;
    switch (c->mode) {
    case 0: case 1: case 4: case 5:
        return (uint32_t)((n + m - d % m) % m);
    case 2:
        return (uint32_t)(n - (d + c->phase) % n);
    default:
        /* Mode 3 counts by two; an odd count loads N-1 (datasheet). */
        e = (d + c->phase) % n;
        h = n - n / 2;
        if (e >= h)
            e -= h;
        return (uint32_t)((n & ~(uint64_t)1) - 2 * e);
    }
}

static int out_at(const struct pit_counter *c, uint64_t p)
{
    if (c->run != 1 || p < c->start)
        return c->hold_out;
    return epoch_out(c, p);
}

static uint32_t ce_at(const struct pit_counter *c, uint64_t p)
{
    if (c->run != 1 || p < c->start)
        return c->hold;
    return epoch_ce(c, p);
}

/* First pulse after `p` at which OUT changes, or NO_PULSE. */
static uint64_t next_change(const struct pit_counter *c, uint64_t p)
{
    if (c->run != 1)
        return NO_PULSE;
    if (p < c->start) {
        if (c->hold_out != epoch_out(c, c->start))
            return c->start;
        p = c->start;
    }
    uint64_t d = p - c->start, n = c->ce0, e, h, q = NO_PULSE;
    switch (c->mode) {
    case 0: case 1:
        if (!c->tc_done && d < n)
            q = c->start + n;
        break;
    case 4: case 5:
        if (!c->tc_done && d <= n)
            q = d < n ? c->start + n : p + 1;
        break;
    case 2:
        e = (d + c->phase) % n;
        if (n >= 2)
            q = e < n - 1 ? p + (n - 1 - e) : p + 1;
        break;
    default:
        e = (d + c->phase) % n;
        h = n - n / 2;
        if (n >= 2)
            q = e < h ? p + (h - e) : p + (n - e);
        break;
    }
    if (c->pend && c->pend_at < q)
        q = c->pend_at;
    return q;
}

/* After any change: drive `out` and arm the timer for OUT's next change. */
static void refresh(struct pit_counter *c)
{
    uint64_t p = now_pulse(c);
    sync(c, p);
    c->out_level = (uint8_t)out_at(c, p);
    c->deadline = VCLOCK_NEVER;
    irq_set(&c->out, c->out_level);   /* records the level even unconnected */
    if (c->out.handler) {
        uint64_t q = next_change(c, p);
        if (q != NO_PULSE)
            c->deadline = pit_ticks_to_ns(q);
    }
    timer_arm(&c->timer, c->deadline);
}

static void counter_timer(void *opaque)
{
    refresh(opaque);
}

/* Starts a new epoch: the CE takes ce0 on pulse `start`. */
static void begin(struct pit_counter *c, uint64_t p, uint64_t start, uint32_t ce0)
{
    c->hold = (uint16_t)ce_at(c, p);
    c->start = start;
    c->ce0 = ce0;
    c->phase = 0;
    c->tc_done = 0;
    c->pend = 0;
    c->run = 1;
}

static void load_periodic(struct pit_counter *c, uint64_t p)
{
    if (c->run == 1 && p >= c->start) {
        /* Counting: the new count waits for the end of this (half) period. */
        uint64_t n = c->ce0, e = (p - c->start + c->phase) % n, h = n - n / 2;
        uint32_t nn = count_n(c);
        c->pend = 1;
        if (c->mode == 2 || e >= h) {
            c->pend_at = p + (n - e);
            c->pend_phase = 0;
        } else {
            c->pend_at = p + (h - e);
            c->pend_phase = nn - nn / 2;   /* starts with its low half */
        }
        c->cr_state = 1;
    } else if (c->gate) {
        begin(c, p, p + 1, count_n(c));
        c->hold_out = 1;
        c->cr_state = 1;
        c->pend_at = p + 1;
    } else {
        c->hold = (uint16_t)count_n(c);   /* waits for a gate trigger */
        c->cr_state = 2;
    }
}

/* A complete initial count has been written to the CR. */
static void load_count(struct pit_counter *c, uint64_t p)
{
    switch (c->mode) {
    case 0: case 4:
        c->hold_out = c->mode == 0 ? 0 : (uint8_t)out_at(c, p);
        if (c->gate) {
            begin(c, p, p + 1, count_n(c));
            c->cr_state = 1;
            c->pend_at = p + 1;
        } else {
            c->hold = (uint16_t)count_n(c);
            c->tc_done = 0;
            c->run = 2;
            c->cr_state = 2;
        }
        break;
    case 2: case 3:
        load_periodic(c, p);
        break;
    default:          /* modes 1, 5: the next gate trigger loads it */
        c->cr_state = 1;
        c->pend_at = NO_PULSE;
        break;
    }
}

static void write_count(struct pit_counter *c, uint8_t v)
{
    uint64_t p = now_pulse(c);
    sync(c, p);
    switch (c->ctrl >> 4 & 3) {
    case 1: c->cr = v; break;
    case 2: c->cr = (uint16_t)(v << 8); break;
    default:
        if (!c->wmsb) {
            c->wlsb = v;
            c->wmsb = 1;
            if (c->mode == 0) {
                /* Mode 0: the first byte stops counting, OUT low at once. */
                c->hold = (uint16_t)ce_at(c, p);
                c->hold_out = 0;
                c->run = c->run ? 2 : 0;
                refresh(c);
            }
            return;
        }
        c->cr = (uint16_t)(c->wlsb | v << 8);
        c->wmsb = 0;
        break;
    }
    load_count(c, p);
    refresh(c);
}

static void latch_count(struct pit_counter *c, uint64_t p)
{
    if (c->latch_n)
        return;   /* a second latch before reading is ignored */
    c->latch = to_guest(c, ce_at(c, p));
    c->latch_n = (c->ctrl >> 4 & 3) == 3 ? 2 : 1;
}

static void latch_status(struct pit_counter *c, uint64_t p)
{
    if (c->status_latched)
        return;
    c->status = (uint8_t)(out_at(c, p) << 7 | (c->cr_state != 2) << 6 | (c->ctrl & 0x3f));
    c->status_latched = 1;
}

static void write_control(struct pit *pit, uint8_t v)
{
    int sel = v >> 6;
    if (sel == 3) {   /* read-back */
        for (int i = 0; i < 3; i++) {
            struct pit_counter *c = &pit->ch[i];
            if (!(v >> (i + 1) & 1))
                continue;
            uint64_t p = now_pulse(c);
            sync(c, p);
            if (!(v & 0x20))
                latch_count(c, p);
            if (!(v & 0x10))
                latch_status(c, p);
        }
        return;
    }
    struct pit_counter *c = &pit->ch[sel];
    uint64_t p = now_pulse(c);
    sync(c, p);
    if (!(v & 0x30)) {
        latch_count(c, p);
        return;
    }
    c->hold = (uint16_t)ce_at(c, p);
    c->ctrl = v & 0x3f;
    c->mode = (uint8_t)(v >> 1 & 7);
    if (c->mode > 5)
        c->mode -= 4;
    c->wmsb = c->rmsb = 0;
    c->latch_n = c->status_latched = 0;
    c->cr_state = 0;
    c->run = 0;
    c->tc_done = 0;
    c->pend = 0;
    c->pend_at = NO_PULSE;
    c->hold_out = c->mode != 0;   /* mode 0: OUT low; all others high */
    refresh(c);
}

static uint8_t read_counter(struct pit_counter *c)
{
    uint64_t p = now_pulse(c);
    sync(c, p);
    if (c->status_latched) {
        c->status_latched = 0;
        return c->status;
    }
    int rw = c->ctrl >> 4 & 3;
    uint16_t v;
    if (c->latch_n) {
        v = c->latch;
        int msb = rw == 2 || (rw == 3 && c->latch_n == 1);
        c->latch_n--;
        return (uint8_t)(msb ? v >> 8 : v);
    }
    v = to_guest(c, ce_at(c, p));
    if (rw == 3) {
        c->rmsb ^= 1;
        return (uint8_t)(c->rmsb ? v : v >> 8);
    }
    return (uint8_t)(rw == 2 ? v >> 8 : v);
}

static uint32_t pit_read(void *dev, uint32_t offset, int size)
{
    struct pit *pit = dev;
    (void)size;
    if (offset >= 3)
        return 0xff;   /* the control word register cannot be read */
    return read_counter(&pit->ch[offset]);
}

static void pit_write(void *dev, uint32_t offset, uint32_t value, int size)
{
    struct pit *pit = dev;
    (void)size;
    if (offset == 3)
        write_control(pit, (uint8_t)value);
    else if (offset < 3)
        write_count(&pit->ch[offset], (uint8_t)value);
}

const struct bus_ops pit_bus_ops = { pit_read, pit_write, 1 };

static void gate_rise(struct pit_counter *c, uint64_t p)
{
    switch (c->mode) {
    case 0: case 4:   /* resume counting where it stopped */
        if (c->run == 2 && !(c->mode == 0 && c->wmsb)) {
            c->start = p;
            c->ce0 = c->hold ? c->hold : modulus(c);
            c->run = 1;
        }
        break;
    default:          /* modes 1, 2, 3, 5: trigger, reload on the next pulse */
        if (c->cr_state == 0)
            break;
        c->hold_out = (uint8_t)(c->mode == 2 || c->mode == 3 ? 1 : out_at(c, p));
        begin(c, p, p + 1, count_n(c));
        c->cr_state = 1;
        c->pend_at = p + 1;
        break;
    }
}

static void gate_fall(struct pit_counter *c, uint64_t p)
{
    if (c->run != 1 || c->mode == 1 || c->mode == 5)
        return;
    if (c->mode == 0 || c->mode == 4) {
        if (p >= c->start && p - c->start >= c->ce0)
            c->tc_done = 1;
        c->hold_out = (uint8_t)out_at(c, p);
    } else {
        c->hold_out = 1;   /* modes 2/3: OUT high at once */
        c->pend = 0;
        c->pend_at = NO_PULSE;
    }
    c->hold = (uint16_t)(p < c->start ? c->ce0 : ce_at(c, p));
    c->run = 2;
}

void pit_set_gate(struct pit *pit, int ch, int level)
{
    struct pit_counter *c = &pit->ch[ch];
    uint64_t p = now_pulse(c);
    level = level != 0;
    sync(c, p);
    if (level == c->gate)
        return;
    c->gate = (uint8_t)level;
    if (level)
        gate_rise(c, p);
    else
        gate_fall(c, p);
    refresh(c);
}

int pit_get_out(struct pit *pit, int ch)
{
    struct pit_counter *c = &pit->ch[ch];
    uint64_t p = now_pulse(c);
    sync(c, p);
    return out_at(c, p);
}

void pit_reset(void *dev)
{
    struct pit *pit = dev;
    for (int i = 0; i < 3; i++) {
        struct pit_counter *c = &pit->ch[i];
        c->hold = 0;
        c->start = 0;
        c->ce0 = 65536;
        c->phase = c->pend_phase = 0;
        c->latch = c->cr = 0;
        c->wlsb = 0;
        c->status = 0;
        write_control(pit, (uint8_t)(i << 6 | 0x36));
    }
}

void pit_init(struct pit *pit, struct vclock *clock)
{
    *pit = (struct pit){ .clock = clock };
    for (int i = 0; i < 3; i++) {
        struct pit_counter *c = &pit->ch[i];
        c->pit = pit;
        c->gate = 1;
        timer_init(&c->timer, clock, counter_timer, c);
    }
    pit_reset(pit);
}

#define PIT_F(i, f, sz) \
    { "ch" #i "." #f, (uint32_t)offsetof(struct pit, ch[i].f), sz, 1 }
#define PIT_COUNTER_FIELDS(i) \
    PIT_F(i, ctrl, 1), PIT_F(i, mode, 1), PIT_F(i, wmsb, 1), PIT_F(i, wlsb, 1), \
    PIT_F(i, rmsb, 1), PIT_F(i, latch_n, 1), PIT_F(i, status_latched, 1), \
    PIT_F(i, status, 1), PIT_F(i, latch, 2), PIT_F(i, cr, 2), \
    PIT_F(i, cr_state, 1), PIT_F(i, gate, 1), PIT_F(i, run, 1), \
    PIT_F(i, tc_done, 1), PIT_F(i, hold_out, 1), PIT_F(i, hold, 2), \
    PIT_F(i, ce0, 4), PIT_F(i, phase, 4), PIT_F(i, start, 8), PIT_F(i, pend, 1), \
    PIT_F(i, pend_phase, 4), PIT_F(i, pend_at, 8), PIT_F(i, out_level, 1), \
    PIT_F(i, deadline, 8)

static const struct state_field pit_fields[] = {
    PIT_COUNTER_FIELDS(0), PIT_COUNTER_FIELDS(1), PIT_COUNTER_FIELDS(2), STATE_END
};

static int pit_post_load(void *dev)
{
    struct pit *pit = dev;
    /* Refuse what the arithmetic cannot take (a damaged snapshot). */
    for (int i = 0; i < 3; i++) {
        const struct pit_counter *c = &pit->ch[i];
        if (c->ce0 == 0 || c->ce0 > 65536 || c->mode > 5 || c->run > 2 || c->cr_state > 2)
            return -1;
    }
    for (int i = 0; i < 3; i++) {
        struct pit_counter *c = &pit->ch[i];
        irq_set(&c->out, c->out_level);
        timer_arm(&c->timer, c->deadline);
    }
    return 0;
}

const struct device_ops pit_device_ops = {
    .name = "i8254", .version = 1, .fields = pit_fields,
    .reset = pit_reset, .post_load = pit_post_load, .destroy = NULL,
};
