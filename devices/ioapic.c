/* Intel 82093AA I/O APIC (datasheet 290566): IOREGSEL/IOWIN, ID, version, 24
 * redirection entries; edge pins send on their active edge, level pins while
 * active with remote IRR clear. Not modelled: the APIC bus (messages arrive at
 * once, delivery status stays 0); level entries in non-fixed modes act as edge. */
#include "devices/ioapic.h"
#include <stddef.h>
#include "devices/apic.h"

static int pin_active(const struct ioapic *io, int n)
{
    return (int)((io->pin_level >> n) & 1) ^ ((io->redir[n] & IOAPIC_ACTIVE_LOW) != 0);
}

static void send(struct ioapic *io, int n)
{
    uint64_t e = io->redir[n];
    if (io->deliver)
        io->deliver(io->deliver_opaque, (uint8_t)(e >> 56), (e & IOAPIC_DEST_LOGICAL) != 0,
                    (int)(e & 0xFF), (int)(e >> 8 & 7), (e & IOAPIC_LEVEL) != 0);
}

/* After a pin or its entry changed; `edge` is an inactive to active change. */
static void pin_eval(struct ioapic *io, int n, int edge)
{
    uint64_t *e = &io->redir[n];
    int dm = (int)(*e >> 8 & 7);
    if (*e & IOAPIC_MASKED)
        return;                      /* edges while masked are lost */
    if ((*e & IOAPIC_LEVEL) && (dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST)) {
        if (pin_active(io, n) && !(*e & IOAPIC_REMOTE_IRR)) {
            *e |= IOAPIC_REMOTE_IRR; /* accepted by the local APIC */
            send(io, n);
        }
    } else if (edge) {
        send(io, n);
    }
}

void ioapic_set_irq(void *opaque, int n, int level)
{
    struct ioapic *io = opaque;
    if (n < 0 || n >= IOAPIC_PINS)
        return;
    int was = pin_active(io, n);
    if (level)
        io->pin_level |= 1u << n;
    else
        io->pin_level &= ~(1u << n);
    pin_eval(io, n, pin_active(io, n) && !was);
}

void ioapic_eoi(void *opaque, int vector)
{
    struct ioapic *io = opaque;
    for (int n = 0; n < IOAPIC_PINS; n++) {
        uint64_t *e = &io->redir[n];
        if ((*e & IOAPIC_REMOTE_IRR) && (int)(*e & 0xFF) == vector) {
            *e &= ~(uint64_t)IOAPIC_REMOTE_IRR;
            pin_eval(io, n, 0);      /* still asserted: sent again */
        }
    }
}

static uint32_t reg_read(const struct ioapic *io)
{
    uint32_t r = io->ioregsel;
    if (r >= IOAPIC_REG_REDTBL && r < IOAPIC_REG_REDTBL + 2 * IOAPIC_PINS) {
        uint64_t e = io->redir[(r - IOAPIC_REG_REDTBL) >> 1];
        return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
    }
    switch (r) {
    case IOAPIC_REG_ID: return io->id;
    case IOAPIC_REG_VER: return IOAPIC_VERSION;
    case IOAPIC_REG_ARB: return io->id;  /* arbitration ID follows the APIC ID */
    }
    return 0;                        /* undefined indexes */
}

static void redir_write(struct ioapic *io, int n, int high, uint32_t v)
{
    uint64_t *e = &io->redir[n];
    if (high) {
        *e = (*e & 0xFFFFFFFFu) | (uint64_t)(v & 0xFF000000u) << 32;
        return;
    }
    uint32_t lo = (v & 0x1AFFFu) | ((uint32_t)*e & IOAPIC_REMOTE_IRR);
    if (!(lo & IOAPIC_LEVEL))        /* edge clears remote IRR (Linux relies on it) */
        lo &= ~IOAPIC_REMOTE_IRR;
    *e = (*e & 0xFFFFFFFF00000000ull) | lo;
    pin_eval(io, n, 0);              /* unmasked while a level pin is active */
}

static void reg_write(struct ioapic *io, uint32_t v)
{
    uint32_t r = io->ioregsel;
    if (r >= IOAPIC_REG_REDTBL && r < IOAPIC_REG_REDTBL + 2 * IOAPIC_PINS)
        redir_write(io, (int)(r - IOAPIC_REG_REDTBL) >> 1, r & 1, v);
    else if (r == IOAPIC_REG_ID)
        io->id = v & 0x0F000000u;
}

/* IOREGSEL is its low byte at 0x00; IOWIN the dword at 0x10 (narrower reads
 * give part of it; only full dword writes reach the register). Other offsets
 * read 0. */
static uint32_t ioapic_mmio_read(void *dev, uint32_t offset, int size)
{
    struct ioapic *io = dev;
    uint64_t v;
    if (offset < 4)
        v = io->ioregsel;
    else if (offset >= 0x10 && offset < 0x14)
        v = reg_read(io);
    else
        return 0;
    v >>= 8 * (offset & 3);
    return size == 4 ? (uint32_t)v : (uint32_t)(v & ((1u << (8 * size)) - 1));
}

static void ioapic_mmio_write(void *dev, uint32_t offset, uint32_t value, int size)
{
    struct ioapic *io = dev;
    if (offset == 0)
        io->ioregsel = (uint8_t)value;
    else if (offset == 0x10 && size == 4)
        reg_write(io, value);
}

const struct bus_ops ioapic_bus_ops = { ioapic_mmio_read, ioapic_mmio_write, 0 };

void ioapic_reset(void *dev)
{
    struct ioapic *io = dev;
    io->id = 0;
    io->ioregsel = 0;
    for (int n = 0; n < IOAPIC_PINS; n++)
        io->redir[n] = IOAPIC_MASKED;
    /* pin_level stays: it is what the devices drive */
}

void ioapic_init(struct ioapic *io)
{
    *io = (struct ioapic){ 0 };
    ioapic_reset(io);
}

static const struct state_field ioapic_fields[] = {
    STATE_U32(struct ioapic, id), STATE_U8(struct ioapic, ioregsel),
    STATE_U32(struct ioapic, pin_level),
    STATE_U64_ARRAY(struct ioapic, redir, IOAPIC_PINS),
    STATE_END
};

static int ioapic_post_load(void *dev)
{
    struct ioapic *io = dev;
    return (io->pin_level >> IOAPIC_PINS) ? -1 : 0;
}

const struct device_ops ioapic_device_ops = {
    .name = "ioapic", .version = 1, .fields = ioapic_fields,
    .reset = ioapic_reset, .post_load = ioapic_post_load, .destroy = NULL,
};
