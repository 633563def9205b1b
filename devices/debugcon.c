/* The debug console port (Bochs "port 0xE9 hack", QEMU isa-debugcon): bytes
 * written are passed to a char sink; reads return a fixed readback value.
 * Wider accesses arrive as bytes (the bus splits them). No state to save. */
#include "devices/debugcon.h"
#include <stddef.h>

void debugcon_init(struct debugcon *d, debugcon_sink_fn *sink, void *opaque, uint8_t readback)
{
    d->sink = sink;
    d->opaque = opaque;
    d->readback = readback;
}

static uint32_t debugcon_read(void *dev, uint32_t offset, int size)
{
    struct debugcon *d = dev;
    (void)offset; (void)size;
    return d->readback;
}

static void debugcon_write(void *dev, uint32_t offset, uint32_t value, int size)
{
    struct debugcon *d = dev;
    (void)offset; (void)size;
    if (d->sink)
        d->sink(d->opaque, (uint8_t)value);
}

const struct bus_ops debugcon_bus_ops = { debugcon_read, debugcon_write, 1 };

/* Nothing guest-visible changes over time: an empty field table. */
static const struct state_field debugcon_fields[] = { STATE_END };

const struct device_ops debugcon_device_ops = {
    .name = "debugcon",
    .version = 1,
    .fields = debugcon_fields,
};
