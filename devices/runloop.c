/* The run loop of DESIGN.md ("How data flows"): deterministic virtual time
 * from retired instructions, timers fired between CPU slices, HLT skipping to
 * the next deadline. Realtime pacing (a window a person watches) comes later. */
#include "devices/runloop.h"

void runloop_init(struct runloop *rl, struct cpu *cpu, struct vclock *clock)
{
    rl->cpu = cpu;
    rl->clock = clock;
    rl->limit_ns = VCLOCK_NEVER;
    rl->stop = 0;
    rl->halt_skipped_ns = 0;
    rl->tsc_rem_ns = 0;
    rl->poll = NULL;
    rl->poll_opaque = NULL;
}

void runloop_stop(struct runloop *rl)
{
    rl->stop = 1;
    rl->cpu->exit_request = 1;
}

const char *runloop_exit_name(enum runloop_exit e)
{
    switch (e) {
    case RUNLOOP_HALTED: return "guest halted";
    case RUNLOOP_TIMEOUT: return "timeout";
    case RUNLOOP_SHUTDOWN: return "triple fault";
    case RUNLOOP_STOPPED: return "stopped";
    case RUNLOOP_POWEROFF: return "powered off";
    }
    return "?";
}

/* Instructions that fit before `until`, at least one, at most a slice. */
static uint64_t slice_budget(uint64_t now, uint64_t until)
{
    if (until == VCLOCK_NEVER || until - now >= (uint64_t)RUNLOOP_MAX_SLICE * RUNLOOP_NS_PER_INSN)
        return RUNLOOP_MAX_SLICE;
    uint64_t n = (until - now + RUNLOOP_NS_PER_INSN - 1) / RUNLOOP_NS_PER_INSN;
    return n ? n : 1;
}

/* The CPU sits in HLT and no interrupt can be taken now: with IF=1 virtual
 * time jumps to the next event; otherwise nothing can ever wake it (no NMI
 * source yet) and the run is over. Returns 1 to go on. */
static int halt_skip(struct runloop *rl, uint64_t until)
{
    if (!(cpu_get_eflags(rl->cpu) & FL_IF) || until == VCLOCK_NEVER)
        return 0;
    uint64_t now = vclock_now(rl->clock);
    if (until > now) {
        /* The TSC counts virtual time, halted or not: credit the skip. */
        uint64_t ns = until - now + rl->tsc_rem_ns;
        rl->cpu->tsc_offset += ns / RUNLOOP_NS_PER_INSN;
        rl->tsc_rem_ns = ns % RUNLOOP_NS_PER_INSN;
        rl->halt_skipped_ns += until - now;
    }
    vclock_advance(rl->clock, until);
    return 1;
}

/* Nothing can wake the CPU any more. Devices still finish what is in flight
 * (a UART draining its FIFO): run the clock on for RUNLOOP_DRAIN_NS. */
static enum runloop_exit halted_for_good(struct runloop *rl)
{
    uint64_t now = vclock_now(rl->clock);
    uint64_t end = now + RUNLOOP_DRAIN_NS < rl->limit_ns ? now + RUNLOOP_DRAIN_NS : rl->limit_ns;
    if (end > now)
        vclock_advance(rl->clock, end);
    return RUNLOOP_HALTED;
}

static int can_wake(struct cpu *cpu)
{
    return cpu->nmi_pending || (cpu->intr_line && (cpu_get_eflags(cpu) & FL_IF));
}

enum runloop_exit runloop_run(struct runloop *rl)
{
    struct cpu *cpu = rl->cpu;
    struct vclock *clock = rl->clock;
    for (;;) {
        if (rl->poll)
            rl->poll(rl->poll_opaque);
        if (rl->stop)
            return RUNLOOP_STOPPED;
        if (cpu->shutdown)
            return RUNLOOP_SHUTDOWN;
        uint64_t now = vclock_now(clock);
        if (now >= rl->limit_ns)
            return RUNLOOP_TIMEOUT;
        uint64_t deadline = vclock_next_deadline(clock);
        uint64_t until = deadline < rl->limit_ns ? deadline : rl->limit_ns;
        int was_halted = cpu->halted;
        if (was_halted && !can_wake(cpu)) {
            if (!halt_skip(rl, until))
                return halted_for_good(rl);
            continue;       /* timers fired; they may have raised INTR */
        }
        uint64_t start = cpu->icount;
        enum cpu_exit why = cpu_run(cpu, slice_budget(now, until));
        vclock_advance(clock, now + (cpu->icount - start) * RUNLOOP_NS_PER_INSN);
        if (why == CPU_EXIT_SHUTDOWN || cpu->shutdown)
            return RUNLOOP_SHUTDOWN;
        if (why == CPU_EXIT_REQUEST)
            cpu->exit_request = 0;
        /* Woken for an interrupt nobody delivered: skip time, never spin. */
        if (was_halted && cpu->halted && cpu->icount == start && !halt_skip(rl, until))
            return halted_for_good(rl);
    }
}
