/* One bus type serves port I/O and MMIO: a device maps a range with callbacks
 * that receive offsets relative to the range base. Accesses of a width the
 * device does not take are split into narrower ones (little-endian order);
 * unclaimed reads return all ones and unclaimed writes are dropped (each logged
 * once). */
#ifndef SV_BUS_H
#define SV_BUS_H
#include <stdint.h>

struct bus_ops {
    /* size is 1, 2 or 4; the result holds `size` bytes, higher bits zero. */
    uint32_t (*read)(void *dev, uint32_t offset, int size);
    void (*write)(void *dev, uint32_t offset, uint32_t value, int size);
    uint8_t sizes; /* bit mask of the widths the device takes: 1|2|4; 0 means all */
};

struct bus_range {
    uint32_t base, len;
    const struct bus_ops *ops;
    void *dev;
};

/* The port-I/O bus: 64 KiB of ports, looked up through a flat table. */
#define BUS_PORTS 0x10000
#define BUS_MAX_RANGES 256

struct bus {
    const char *name;                       /* "io", for log messages */
    uint16_t index[BUS_PORTS];              /* range number + 1 for each port, 0 = free */
    struct bus_range ranges[BUS_MAX_RANGES];
    int nranges;
    uint8_t warned[BUS_PORTS / 8];          /* unclaimed ports already logged */
    int quiet;                              /* tests switch the unclaimed-port log off */
};

void bus_init(struct bus *bus, const char *name);
/* Returns 0, or -1 when the range overlaps another or the table is full. */
int bus_map(struct bus *bus, uint32_t base, uint32_t len, const struct bus_ops *ops, void *dev);
void bus_unmap(struct bus *bus, uint32_t base, uint32_t len);
uint32_t bus_read(struct bus *bus, uint32_t port, int size);
void bus_write(struct bus *bus, uint32_t port, uint32_t value, int size);

/* Width splitting shared with the memory map: performs a `size`-byte access on
 * (ops, dev) at `offset`, splitting it into widths the device takes. */
uint32_t bus_range_read(const struct bus_ops *ops, void *dev, uint32_t offset, int size);
void bus_range_write(const struct bus_ops *ops, void *dev, uint32_t offset, uint32_t value, int size);

#endif
