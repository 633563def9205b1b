/* Intel 8259A PIC (datasheet 231468: ICW1-4, OCW1-3, priority, cascade) plus the
 * PIIX-style ELCR for per-line level triggering. Not modelled: 8080/85 vectors,
 * buffered-mode pins; an edge stays latched even if IR falls before INTA (the
 * datasheet asks IR to stay high), so a raise-then-lower pulse is never lost. */
#include "devices/i8259_pic.h"
#include <stddef.h>

#define ICW1_IC4  0x01
#define ICW1_SNGL 0x02
#define ICW1_LTIM 0x08
#define ICW4_AEOI 0x02
#define ICW4_SFNM 0x10

/* Priority rank of an IR: 0 is the highest, 7 the lowest. */
static int rank(const struct pic *s, int ir)
{
    return (ir - s->lowest - 1) & 7;
}

/* The IR with the highest priority among `bits`, or -1. */
static int highest(const struct pic *s, uint8_t bits)
{
    for (int r = 0; r < 8; r++) {
        int ir = (s->lowest + 1 + r) & 7;
        if (bits & (1u << ir))
            return ir;
    }
    return -1;
}

static uint8_t level_lines(const struct pic *s)
{
    return (s->icw1 & ICW1_LTIM) ? 0xff : s->elcr;
}

static int is_cascade_input(const struct pic *s, int ir)
{
    return s->is_master && !(s->icw1 & ICW1_SNGL) && (s->icw3 >> ir & 1);
}

/* The IR the chip would deliver now, or -1: the highest unmasked request, if
 * no in-service level of equal or higher priority blocks it. */
static int pending_ir(const struct pic *s)
{
    int ir = highest(s, s->irr & ~s->imr);
    if (ir < 0)
        return -1;
    uint8_t blocking = s->special_mask ? s->isr & ~s->imr : s->isr;
    int in = highest(s, blocking);
    if (in < 0 || rank(s, ir) < rank(s, in))
        return ir;
    /* Special fully nested mode: a slave may interrupt again while its master
     * input is in service (a higher-priority request inside the slave). */
    if (ir == in && (s->icw4 & ICW4_SFNM) && is_cascade_input(s, ir))
        return ir;
    return -1;
}

static void update(struct pic *s)
{
    irq_set(&s->intr, pending_ir(s) >= 0);
}

void pic_set_irq(void *opaque, int n, int level)
{
    struct pic *s = opaque;
    uint8_t m = (uint8_t)(1u << (n & 7));
    uint8_t was = s->input & m;
    if (level)
        s->input |= m;
    else
        s->input &= ~m;
    if (level_lines(s) & m) {
        if (level)
            s->irr |= m;
        else
            s->irr &= ~m;
    } else if (level && !was) {
        s->irr |= m;   /* the edge latch */
    }
    update(s);
}

int pic_ack_ir(struct pic *s)
{
    int ir = pending_ir(s);
    if (ir < 0)
        return -1;
    uint8_t m = (uint8_t)(1u << ir);
    if (!(level_lines(s) & m))
        s->irr &= ~m;
    if (s->icw4 & ICW4_AEOI) {
        if (s->rotate_aeoi)
            s->lowest = (uint8_t)ir;
    } else {
        s->isr |= m;
    }
    update(s);
    return ir;
}

void pic_set_elcr(struct pic *s, uint8_t elcr)
{
    s->elcr = elcr & s->elcr_mask;
    uint8_t lv = level_lines(s);
    s->irr = (uint8_t)((s->irr & ~lv) | (s->input & lv));
    update(s);
}

static void write_icw1(struct pic *s, uint8_t v)
{
    s->icw1 = v;
    if (!(v & ICW1_IC4))
        s->icw4 = 0;
    s->init_step = 2;
    s->imr = 0;
    s->isr = 0;
    /* The edge sense latches are cleared: a line already high must fall and
     * rise again; level lines request while high. */
    s->irr = s->input & level_lines(s);
    s->lowest = 7;
    s->special_mask = 0;
    s->read_isr = 0;
    s->poll = 0;
    s->rotate_aeoi = 0;
    update(s);
}

static void write_ocw2(struct pic *s, uint8_t v)
{
    int l = v & 7, ir;
    switch (v >> 5) {
    case 0: s->rotate_aeoi = 0; break;           /* clear rotate in AEOI */
    case 4: s->rotate_aeoi = 1; break;           /* set rotate in AEOI */
    case 1:                                      /* non-specific EOI */
    case 5:                                      /* rotate on non-specific EOI */
        ir = highest(s, s->isr);
        if (ir >= 0) {
            s->isr &= (uint8_t)~(1u << ir);
            if (v >> 5 == 5)
                s->lowest = (uint8_t)ir;
        }
        break;
    case 3: s->isr &= (uint8_t)~(1u << l); break;                      /* specific EOI */
    case 7: s->isr &= (uint8_t)~(1u << l); s->lowest = (uint8_t)l; break; /* rotate on SEOI */
    case 6: s->lowest = (uint8_t)l; break;       /* set priority */
    default: break;                              /* 2: no operation */
    }
    update(s);
}

static void write_ocw3(struct pic *s, uint8_t v)
{
    if (v & 0x04)
        s->poll = 1;
    if (v & 0x02)
        s->read_isr = v & 1;
    if (v & 0x40)
        s->special_mask = (v >> 5) & 1;
    update(s);
}

static void write_data(struct pic *s, uint8_t v)
{
    switch (s->init_step) {
    case 2:
        s->vector_base = v & 0xf8;
        s->init_step = (s->icw1 & ICW1_SNGL) ? ((s->icw1 & ICW1_IC4) ? 4 : 0) : 3;
        break;
    case 3:
        s->icw3 = v;
        s->init_step = (s->icw1 & ICW1_IC4) ? 4 : 0;
        break;
    case 4:
        s->icw4 = v;
        s->init_step = 0;
        break;
    default:
        s->imr = v;
        update(s);
        break;
    }
}

static void pic_write(void *dev, uint32_t offset, uint32_t value, int size)
{
    struct pic *s = dev;
    uint8_t v = (uint8_t)value;
    (void)size;
    if (offset & 1)
        write_data(s, v);
    else if (v & 0x10)
        write_icw1(s, v);
    else if (v & 0x08)
        write_ocw3(s, v);
    else
        write_ocw2(s, v);
}

static uint32_t pic_read(void *dev, uint32_t offset, int size)
{
    struct pic *s = dev;
    (void)size;
    if (s->poll) {
        /* Poll: the read acts as an interrupt acknowledge. */
        s->poll = 0;
        int ir = pic_ack_ir(s);
        return ir >= 0 ? 0x80u | (uint32_t)ir : 0;
    }
    if (offset & 1)
        return s->imr;
    return s->read_isr ? s->isr : s->irr;
}

const struct bus_ops pic_bus_ops = { pic_read, pic_write, 1 };

void pic_reset(void *dev)
{
    struct pic *s = dev;
    /* Input pins are wires, not chip state: they survive a reset. */
    s->elcr = 0;
    s->icw1 = 0;
    s->icw3 = 0;
    s->icw4 = 0;
    s->vector_base = 0;
    write_icw1(s, 0);
    s->init_step = 0;
}

void pic_init(struct pic *s, int is_master)
{
    *s = (struct pic){ 0 };
    s->is_master = (uint8_t)(is_master != 0);
    s->elcr_mask = 0xff;
    pic_reset(s);
}

/* One chip's saved fields, inside a struct T at member path `at` ("" or
 * "master."): the name in the table gets the same prefix. */
#define PIC_F(T, at, f) { #at #f, (uint32_t)offsetof(T, at f), 1, 1 }
#define PIC_FIELDS(T, at) \
    PIC_F(T, at, irr), PIC_F(T, at, isr), PIC_F(T, at, imr), PIC_F(T, at, input), \
    PIC_F(T, at, elcr), PIC_F(T, at, init_step), PIC_F(T, at, icw1), \
    PIC_F(T, at, icw3), PIC_F(T, at, icw4), PIC_F(T, at, vector_base), \
    PIC_F(T, at, lowest), PIC_F(T, at, read_isr), PIC_F(T, at, poll), \
    PIC_F(T, at, special_mask), PIC_F(T, at, rotate_aeoi)

static const struct state_field pic_fields[] = { PIC_FIELDS(struct pic, ), STATE_END };

static int pic_post_load(void *dev)
{
    update(dev);
    return 0;
}

const struct device_ops pic_device_ops = {
    .name = "i8259", .version = 1, .fields = pic_fields,
    .reset = pic_reset, .post_load = pic_post_load, .destroy = NULL,
};

/* ---- the cascaded pair ---- */

void pic_pair_set_irq(void *opaque, int n, int level)
{
    struct pic_pair *p = opaque;
    pic_set_irq(n & 8 ? &p->slave : &p->master, n & 7, level);
}

int pic_pair_ack(struct pic_pair *p)
{
    int ir = pic_ack_ir(&p->master);
    if (ir < 0)
        return p->master.vector_base | 7;
    if (!is_cascade_input(&p->master, ir))
        return p->master.vector_base | ir;
    /* The master puts the slave's ID on CAS0-2; only a matching slave answers. */
    if ((p->slave.icw3 & 7) != ir)
        return 0xff;
    int sir = pic_ack_ir(&p->slave);
    return p->slave.vector_base | (sir < 0 ? 7 : sir);
}

static uint32_t elcr_read(void *dev, uint32_t offset, int size)
{
    struct pic_pair *p = dev;
    (void)size;
    return (offset & 1) ? p->slave.elcr : p->master.elcr;
}

static void elcr_write(void *dev, uint32_t offset, uint32_t value, int size)
{
    struct pic_pair *p = dev;
    (void)size;
    pic_set_elcr((offset & 1) ? &p->slave : &p->master, (uint8_t)value);
}

const struct bus_ops pic_elcr_bus_ops = { elcr_read, elcr_write, 1 };

static void pic_pair_reset(void *dev)
{
    struct pic_pair *p = dev;
    pic_reset(&p->slave);
    pic_reset(&p->master);
}

void pic_pair_init(struct pic_pair *p)
{
    pic_init(&p->master, 1);
    pic_init(&p->slave, 0);
    irq_connect(&p->slave.intr, pic_set_irq, &p->master, 2);
}

static const struct state_field pic_pair_fields[] = {
    PIC_FIELDS(struct pic_pair, master.), PIC_FIELDS(struct pic_pair, slave.), STATE_END
};

static int pic_pair_post_load(void *dev)
{
    struct pic_pair *p = dev;
    /* Slave first: its INT feeds master IR2, whose saved input already holds
     * the level, so this causes no edge. */
    update(&p->slave);
    update(&p->master);
    return 0;
}

const struct device_ops pic_pair_device_ops = {
    .name = "i8259-pair", .version = 1, .fields = pic_pair_fields,
    .reset = pic_pair_reset, .post_load = pic_pair_post_load, .destroy = NULL,
};
