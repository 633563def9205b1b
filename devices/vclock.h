/* The virtual clock: guest-visible time in nanoseconds, and timers armed at
 * absolute deadlines kept in one sorted list. The run loop asks for the next
 * deadline, lets the CPU run up to it, then advances the clock, which fires the
 * due timers in deadline order. No device reads the host clock. */
#ifndef SV_VCLOCK_H
#define SV_VCLOCK_H
#include <stdint.h>

#define VCLOCK_NEVER UINT64_MAX

struct vclock;
typedef void timer_fn(void *opaque);

struct timer {
    struct vclock *clock;
    timer_fn *fn;
    void *opaque;
    uint64_t deadline; /* absolute, ns; VCLOCK_NEVER when not armed */
    struct timer *next;
};

struct vclock {
    uint64_t now;          /* ns since machine start */
    struct timer *head;    /* armed timers, earliest first */
};

void vclock_init(struct vclock *clock);
static inline uint64_t vclock_now(const struct vclock *c) { return c->now; }
/* Deadline of the earliest armed timer, or VCLOCK_NEVER. */
uint64_t vclock_next_deadline(const struct vclock *clock);
/* Moves time forward to `now` (never backwards), firing every timer whose
 * deadline is <= now, earliest first; a callback may re-arm its timer. While a
 * callback runs, vclock_now() returns that timer's deadline. */
void vclock_advance(struct vclock *clock, uint64_t now);

void timer_init(struct timer *t, struct vclock *clock, timer_fn *fn, void *opaque);
void timer_arm(struct timer *t, uint64_t deadline);   /* re-arming moves it */
void timer_cancel(struct timer *t);
static inline int timer_armed(const struct timer *t) { return t->deadline != VCLOCK_NEVER; }

#endif
