/* The device registry: each device has one const struct device_ops (name,
 * reset, state fields, version, post_load, destroy). The board registers the
 * instances it creates; the registry resets them all, and the snapshot code
 * walks them to save and load their state. */
#ifndef SV_DEVICE_H
#define SV_DEVICE_H
#include <stdint.h>
#include "snapshot/state.h"

struct device_ops {
    const char *name;                       /* section name in snapshots: "pit" */
    uint32_t version;                       /* state version */
    const struct state_field *fields;       /* ends with STATE_END */
    void (*reset)(void *dev);
    int (*post_load)(void *dev);            /* re-arm timers, recompute IRQ levels; 0 = ok */
    void (*destroy)(void *dev);             /* frees the device; may be NULL */
};

struct device {
    const struct device_ops *ops;
    void *dev;
    uint32_t instance;                      /* 0, 1, ... for several devices of one type */
};

#define DEVREG_MAX 64
struct devreg {
    struct device devs[DEVREG_MAX];
    int n;
};

void devreg_init(struct devreg *reg);
/* Returns the instance number, or -1 when the registry is full. */
int devreg_add(struct devreg *reg, const struct device_ops *ops, void *dev);
struct device *devreg_find(struct devreg *reg, const char *name, uint32_t instance);
void devreg_reset_all(struct devreg *reg);
void devreg_destroy_all(struct devreg *reg);

#endif
