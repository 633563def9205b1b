/* The debug console: a write-only byte port that firmware and test guests
 * print to (Bochs' "port E9 hack", also QEMU's -debugcon). Each byte written
 * goes to a char sink callback; a read returns the readback value the board
 * sets, by which a guest can detect the port. The board chooses the port. */
#ifndef SV_DEBUGCON_H
#define SV_DEBUGCON_H
#include <stdint.h>
#include "devices/bus.h"
#include "devices/device.h"

typedef void debugcon_sink_fn(void *opaque, uint8_t byte);

struct debugcon {
    debugcon_sink_fn *sink;   /* NULL: output is dropped */
    void *opaque;
    uint8_t readback;         /* what an IN from the port returns */
};

void debugcon_init(struct debugcon *d, debugcon_sink_fn *sink, void *opaque, uint8_t readback);

extern const struct bus_ops debugcon_bus_ops;      /* one port, byte access */
extern const struct device_ops debugcon_device_ops;

#endif
