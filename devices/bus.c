/* The port-I/O bus and the width splitting shared with MMIO (see bus.h). */
#include "devices/bus.h"
#include <stdio.h>
#include <string.h>

void bus_init(struct bus *bus, const char *name)
{
    memset(bus, 0, sizeof(*bus));
    bus->name = name;
}

int bus_map(struct bus *bus, uint32_t base, uint32_t len, const struct bus_ops *ops, void *dev)
{
    if (len == 0 || base >= BUS_PORTS || len > BUS_PORTS - base)
        return -1;
    for (uint32_t p = base; p < base + len; p++)
        if (bus->index[p])
            return -1;
    /* Reuse a slot freed by bus_unmap, so remapping (PCI BARs) never runs out. */
    int slot = 0;
    while (slot < bus->nranges && bus->ranges[slot].ops)
        slot++;
    if (slot == BUS_MAX_RANGES)
        return -1;
    if (slot == bus->nranges)
        bus->nranges++;
    bus->ranges[slot] = (struct bus_range){ base, len, ops, dev };
    for (uint32_t p = base; p < base + len; p++)
        bus->index[p] = (uint16_t)(slot + 1);
    return 0;
}

void bus_unmap(struct bus *bus, uint32_t base, uint32_t len)
{
    for (uint32_t p = base; p < base + len && p < BUS_PORTS; p++)
        bus->index[p] = 0;
    /* A range none of whose ports is left frees its slot. */
    for (int i = 0; i < bus->nranges; i++) {
        struct bus_range *r = &bus->ranges[i];
        int used = 0;
        for (uint32_t p = r->base; r->ops && !used && p < r->base + r->len; p++)
            used = bus->index[p] == i + 1;
        if (r->ops && !used)
            r->ops = NULL;
    }
}

/* The widest width the device takes that is no wider than size; 0 when the
 * device takes only wider accesses. */
static int fit_width(uint8_t sizes, int size)
{
    if (!sizes)
        return size;
    while (size >= 1 && !(sizes & size))
        size >>= 1;
    return size;
}

static int narrowest(uint8_t sizes)
{
    return (sizes & 1) ? 1 : (sizes & 2) ? 2 : 4;
}

static uint32_t size_mask(int size)
{
    return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

/* An access narrower than any width the device takes becomes one access of
 * its narrowest width at the aligned offset holding it: reads pick the bytes
 * out, writes carry the value in its byte lanes and zeros elsewhere (as a bus
 * with byte enables would present it). Accesses that cross such a unit go
 * byte by byte. */
static uint32_t read_widened(const struct bus_ops *ops, void *dev, uint32_t offset, int size)
{
    uint32_t w = (uint32_t)narrowest(ops->sizes);
    uint32_t a = offset & ~(w - 1);
    if (offset + (uint32_t)size > a + w) {
        uint32_t v = 0;
        for (int i = 0; i < size; i++)
            v |= read_widened(ops, dev, offset + (uint32_t)i, 1) << (8 * i);
        return v;
    }
    return (ops->read(dev, a, (int)w) >> (8 * (offset - a))) & size_mask(size);
}

static void write_widened(const struct bus_ops *ops, void *dev, uint32_t offset, uint32_t value, int size)
{
    uint32_t w = (uint32_t)narrowest(ops->sizes);
    uint32_t a = offset & ~(w - 1);
    if (offset + (uint32_t)size > a + w) {
        for (int i = 0; i < size; i++)
            write_widened(ops, dev, offset + (uint32_t)i, (value >> (8 * i)) & 0xFF, 1);
        return;
    }
    ops->write(dev, a, (value & size_mask(size)) << (8 * (offset - a)), (int)w);
}

uint32_t bus_range_read(const struct bus_ops *ops, void *dev, uint32_t offset, int size)
{
    int w = fit_width(ops->sizes, size);
    if (w == 0)
        return read_widened(ops, dev, offset, size);
    if (w == size)
        return ops->read(dev, offset, size) & size_mask(size);
    uint32_t v = 0;
    for (int i = 0; i < size; i += w)
        v |= (ops->read(dev, offset + (uint32_t)i, w) & size_mask(w)) << (8 * i);
    return v;
}

void bus_range_write(const struct bus_ops *ops, void *dev, uint32_t offset, uint32_t value, int size)
{
    int w = fit_width(ops->sizes, size);
    if (w == 0) {
        write_widened(ops, dev, offset, value, size);
        return;
    }
    if (w == size) {
        ops->write(dev, offset, value & size_mask(size), size);
        return;
    }
    for (int i = 0; i < size; i += w)
        ops->write(dev, offset + (uint32_t)i, (value >> (8 * i)) & size_mask(w), w);
}

static void warn_unclaimed(struct bus *bus, uint32_t port, const char *what)
{
    if (bus->quiet || (bus->warned[port >> 3] & (1 << (port & 7))))
        return;
    bus->warned[port >> 3] |= (uint8_t)(1 << (port & 7));
    fprintf(stderr, "softvisor: %s: unclaimed %s at port 0x%04x (logged once)\n",
            bus->name ? bus->name : "bus", what, port);
}

uint32_t bus_read(struct bus *bus, uint32_t port, int size)
{
    port &= BUS_PORTS - 1;
    uint16_t i = bus->index[port];
    if (i) {
        struct bus_range *r = &bus->ranges[i - 1];
        if (port + (uint32_t)size <= r->base + r->len)
            return bus_range_read(r->ops, r->dev, port - r->base, size);
    }
    if (size > 1 && (!i || port + (uint32_t)size > bus->ranges[i - 1].base + bus->ranges[i - 1].len)) {
        /* Straddles ranges or starts unclaimed: byte by byte. */
        uint32_t v = 0;
        int any = 0;
        for (int b = 0; b < size; b++) {
            uint32_t p = (port + (uint32_t)b) & (BUS_PORTS - 1);
            if (bus->index[p])
                any = 1;
        }
        if (any) {
            for (int b = 0; b < size; b++)
                v |= bus_read(bus, port + (uint32_t)b, 1) << (8 * b);
            return v;
        }
    }
    warn_unclaimed(bus, port, "read");
    return size_mask(size);
}

void bus_write(struct bus *bus, uint32_t port, uint32_t value, int size)
{
    port &= BUS_PORTS - 1;
    uint16_t i = bus->index[port];
    if (i) {
        struct bus_range *r = &bus->ranges[i - 1];
        if (port + (uint32_t)size <= r->base + r->len) {
            bus_range_write(r->ops, r->dev, port - r->base, value, size);
            return;
        }
    }
    if (size > 1) {
        int any = 0;
        for (int b = 0; b < size; b++)
            any |= bus->index[(port + (uint32_t)b) & (BUS_PORTS - 1)] != 0;
        if (any) {
            for (int b = 0; b < size; b++)
                bus_write(bus, port + (uint32_t)b, (value >> (8 * b)) & 0xFF, 1);
            return;
        }
    }
    warn_unclaimed(bus, port, "write");
}
