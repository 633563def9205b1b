/* IRQ lines carry levels. A device calls irq_set(line, level); an edge is a
 * raise followed by a lower. The listener (PIC, I/O APIC, a test's fake sink)
 * gets a callback with its own opaque pointer and input number. Only pc.c wires
 * lines to listeners. */
#ifndef SV_IRQ_H
#define SV_IRQ_H

typedef void irq_handler_fn(void *opaque, int n, int level);

struct irq_line {
    irq_handler_fn *handler; /* NULL: the line is not connected */
    void *opaque;
    int n;                   /* input number passed to the handler */
    int level;               /* last level set, 0 or 1 */
};

/* Connecting a line that is already high calls the handler with level 1. */
void irq_connect(struct irq_line *line, irq_handler_fn *handler, void *opaque, int n);
/* Calls the handler only when the level changes. */
void irq_set(struct irq_line *line, int level);
static inline void irq_raise(struct irq_line *line) { irq_set(line, 1); }
static inline void irq_lower(struct irq_line *line) { irq_set(line, 0); }
/* raise then lower */
void irq_pulse(struct irq_line *line);

#endif
