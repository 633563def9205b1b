/* The run loop: runs the CPU up to the next timer deadline, fires due timers,
 * and repeats. Deterministic virtual time: every retired instruction advances
 * the virtual clock by RUNLOOP_NS_PER_INSN, and a HLT with interrupts enabled
 * skips straight to the next deadline. Given the same machine, a run ends at
 * the same instruction every time, on any host. */
#ifndef SV_RUNLOOP_H
#define SV_RUNLOOP_H
#include <stdint.h>
#include "cpu/cpu.h"
#include "devices/vclock.h"

/* Nominal rate: 100 million instructions per virtual second (10 ns each), so
 * the TSC (icount-based) runs at a nominal 100 MHz and a guest busy-waiting
 * for one virtual second costs 10^8 instructions. */
#define RUNLOOP_NS_PER_INSN 10u
/* Longest slice between returns to the loop when no timer is due, so that
 * host backends are polled regularly (1 ms of virtual time). */
#define RUNLOOP_MAX_SLICE 100000u
/* After the CPU halts for good, devices run on this long (1 ms) so that
 * output in flight (a UART's FIFO) still leaves the machine. */
#define RUNLOOP_DRAIN_NS 1000000u

enum runloop_exit {
    RUNLOOP_HALTED,     /* HLT with nothing left that could wake the CPU */
    RUNLOOP_TIMEOUT,    /* the virtual-time limit was reached */
    RUNLOOP_SHUTDOWN,   /* triple fault */
    RUNLOOP_STOPPED,    /* runloop_stop() was called (signal, UI) */
    RUNLOOP_POWEROFF,   /* the guest switched the machine off (set by the board) */
};

/* Called at every slice boundary: host backends (serial input) are polled
 * here, so their input enters the guest only between slices. */
typedef void runloop_poll_fn(void *opaque);

struct runloop {
    struct cpu *cpu;
    struct vclock *clock;
    uint64_t limit_ns;      /* stop when virtual time reaches this; VCLOCK_NEVER: no limit */
    volatile int stop;      /* set by runloop_stop() */
    uint64_t halt_skipped_ns; /* virtual time skipped in HLT (statistics) */
    uint64_t tsc_rem_ns;      /* skipped time not yet credited to the TSC (< one tick) */
    runloop_poll_fn *poll;
    void *poll_opaque;
};

void runloop_init(struct runloop *rl, struct cpu *cpu, struct vclock *clock);
enum runloop_exit runloop_run(struct runloop *rl);
/* Safe from a signal handler: ends the run at the next block boundary. */
void runloop_stop(struct runloop *rl);
const char *runloop_exit_name(enum runloop_exit e);

#endif
