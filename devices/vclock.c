/* The virtual clock and its timers (see vclock.h). A sorted singly linked
 * list: a PC has a dozen timers, so insertion cost does not matter. */
#include "devices/vclock.h"
#include <string.h>

void vclock_init(struct vclock *clock)
{
    memset(clock, 0, sizeof(*clock));
}

uint64_t vclock_next_deadline(const struct vclock *clock)
{
    return clock->head ? clock->head->deadline : VCLOCK_NEVER;
}

void timer_init(struct timer *t, struct vclock *clock, timer_fn *fn, void *opaque)
{
    t->clock = clock;
    t->fn = fn;
    t->opaque = opaque;
    t->deadline = VCLOCK_NEVER;
    t->next = NULL;
}

void timer_cancel(struct timer *t)
{
    if (t->deadline == VCLOCK_NEVER)
        return;
    for (struct timer **p = &t->clock->head; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    t->next = NULL;
    t->deadline = VCLOCK_NEVER;
}

void timer_arm(struct timer *t, uint64_t deadline)
{
    timer_cancel(t);
    if (deadline == VCLOCK_NEVER)
        return;
    t->deadline = deadline;
    /* After timers with the same deadline: equal deadlines fire in arming order. */
    struct timer **p = &t->clock->head;
    while (*p && (*p)->deadline <= deadline)
        p = &(*p)->next;
    t->next = *p;
    *p = t;
}

void vclock_advance(struct vclock *clock, uint64_t now)
{
    while (clock->head && clock->head->deadline <= now) {
        struct timer *t = clock->head;
        clock->head = t->next;
        t->next = NULL;
        if (t->deadline > clock->now)
            clock->now = t->deadline;
        t->deadline = VCLOCK_NEVER;
        t->fn(t->opaque);
    }
    if (now > clock->now)
        clock->now = now;
}
