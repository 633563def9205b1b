/* IRQ lines (see irq.h). */
#include "devices/irq.h"

void irq_connect(struct irq_line *line, irq_handler_fn *handler, void *opaque, int n)
{
    line->handler = handler;
    line->opaque = opaque;
    line->n = n;
    /* A line raised before the board wired it must not be lost. */
    if (handler && line->level)
        handler(opaque, n, line->level);
}

void irq_set(struct irq_line *line, int level)
{
    level = level != 0;
    if (line->level == level)
        return;
    line->level = level;
    if (line->handler)
        line->handler(line->opaque, line->n, level);
}

void irq_pulse(struct irq_line *line)
{
    irq_set(line, 1);
    irq_set(line, 0);
}
