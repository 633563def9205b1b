/* The device registry (see device.h). */
#include "devices/device.h"
#include <string.h>

void devreg_init(struct devreg *reg)
{
    memset(reg, 0, sizeof(*reg));
}

int devreg_add(struct devreg *reg, const struct device_ops *ops, void *dev)
{
    if (reg->n >= DEVREG_MAX)
        return -1;
    uint32_t instance = 0;
    for (int i = 0; i < reg->n; i++)
        if (strcmp(reg->devs[i].ops->name, ops->name) == 0)
            instance++;
    reg->devs[reg->n++] = (struct device){ ops, dev, instance };
    return (int)instance;
}

struct device *devreg_find(struct devreg *reg, const char *name, uint32_t instance)
{
    for (int i = 0; i < reg->n; i++)
        if (reg->devs[i].instance == instance && strcmp(reg->devs[i].ops->name, name) == 0)
            return &reg->devs[i];
    return NULL;
}

void devreg_reset_all(struct devreg *reg)
{
    for (int i = 0; i < reg->n; i++)
        if (reg->devs[i].ops->reset)
            reg->devs[i].ops->reset(reg->devs[i].dev);
}

void devreg_destroy_all(struct devreg *reg)
{
    for (int i = reg->n - 1; i >= 0; i--)
        if (reg->devs[i].ops->destroy)
            reg->devs[i].ops->destroy(reg->devs[i].dev);
    reg->n = 0;
}
