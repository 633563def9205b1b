/* The CPU core's lifecycle and execution loop (Intel SDM vol. 3, 9.1
 * initialization, 6.3-6.6 exception classes, 6.15 #DF and shutdown): runs
 * decoded blocks, samples NMI/INTR between blocks (honouring IF and the
 * STI/MOV SS shadow), single-steps under TF, and unwinds faults with
 * setjmp/longjmp. Not modelled: SMM, INIT/SIPI, RF, debug breakpoints. */
#include <stdlib.h>
#include <string.h>
#include "cpu/block.h"

static uint32_t no_io_read(void *opaque, uint16_t port, int size)
{
    (void)opaque; (void)port;
    return size == 4 ? 0xFFFFFFFFu : size == 2 ? 0xFFFFu : 0xFFu;
}

static void no_io_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    (void)opaque; (void)port; (void)value; (void)size;
}

/* No keys known: the next jit_sync gives new generation numbers. */
static void jit_keys_forget(struct cpu *c)
{
    memset(c->jit_recent, 0, sizeof(c->jit_recent));
    c->jit_keys.cpl = 0xFF;   /* matches no state */
    c->jit_gkeys.cpl = 0xFF;
    c->jit_next_gen = 0;
}

int cpu_init(struct cpu *cpu, struct physmem *pm)
{
    memset(cpu, 0, sizeof(*cpu));
    mmu_init(&cpu->mmu, pm);
    cpu->io_read = no_io_read;
    cpu->io_write = no_io_write;
    cpu->cpuid_family = 6;
    if (block_cache_init(cpu) < 0)
        return -1;
    cpu->jit = jit_create();
    jit_keys_forget(cpu);
    cpu_reset(cpu);
    return 0;
}

void cpu_free(struct cpu *cpu)
{
    block_cache_free(cpu);
    jit_free(cpu->jit);
    cpu->jit = NULL;
}

int cpu_set_jit(struct cpu *cpu, int on)
{
    if (!on) {
        jit_free(cpu->jit);
        cpu->jit = NULL;
        block_cache_flush(cpu);
        return 0;
    }
    if (!cpu->jit)
        cpu->jit = jit_create();
    return cpu->jit ? 0 : -1;
}

static void seg_reset(struct seg *s, uint16_t sel, uint32_t base, uint16_t flags)
{
    s->sel = sel;
    s->base = base;
    s->limit = 0xFFFF;
    s->flags = flags;
}

void cpu_reset(struct cpu *cpu)
{
    memset(cpu->regs, 0, sizeof(cpu->regs));
    cpu->regs[R_EDX] = 0x0600u | (cpu->cpuid_family == 6 ? 0x33 : 0);
    cpu->eip = 0xFFF0;
    cpu->eflags = 0x2;
    cpu->lf_op = 0;
    for (int s = 0; s < 6; s++)
        seg_reset(&cpu->segs[s], 0, 0, 0x93);
    seg_reset(&cpu->segs[S_CS], 0xF000, 0xFFFF0000u, 0x9B);
    seg_reset(&cpu->sys[SYS_GDTR], 0, 0, 0);
    seg_reset(&cpu->sys[SYS_IDTR], 0, 0, 0);
    seg_reset(&cpu->sys[SYS_LDTR], 0, 0, 0x82);
    seg_reset(&cpu->sys[SYS_TR], 0, 0, 0x8B);
    cpu->cr2 = 0;
    memset(cpu->dr, 0, sizeof(cpu->dr));
    cpu->dr[6] = 0xFFFF0FF0u;
    cpu->dr[7] = 0x400;
    cpu->cpl = 0;
    cpu->halted = cpu->intr_shadow = 0;
    cpu->nmi_pending = cpu->nmi_blocked = 0;
    cpu->efer = 0;
    cpu->sysenter_cs = cpu->sysenter_esp = cpu->sysenter_eip = 0;
    cpu->apic_base = 0xFEE00900u;
    cpu->in_exception = 0;
    cpu->shutdown = 0;
    fpu_reset(&cpu->fpu);
    cpu->cr0 = 0;
    cpu_set_cr0(cpu, 0x60000010u);
    cpu_set_cr3(cpu, 0);
    cpu_set_cr4(cpu, 0);
    mmu_set_efer(&cpu->mmu, 0);
    mmu_flush(&cpu->mmu, 1);
    if (cpu->blocks)
        block_cache_flush(cpu);
}

void cpu_set_cr0(struct cpu *cpu, uint32_t v)
{
    v |= CR0_ET;                  /* hardwired on 486 and later */
    cpu->cr0 = v;
    if (!(v & CR0_PE))
        cpu->cpl = 0;
    mmu_set_cr0(&cpu->mmu, v);
}

void cpu_set_cr3(struct cpu *cpu, uint32_t v)
{
    cpu->cr3 = v;
    mmu_set_cr3(&cpu->mmu, v);
}

void cpu_set_cr4(struct cpu *cpu, uint32_t v)
{
    cpu->cr4 = v;
    mmu_set_cr4(&cpu->mmu, v);
}

_Noreturn void cpu_exception(struct cpu *cpu, int vector, int errcode)
{
    cpu->eip = cpu->fault_eip;
    cpu->regs[R_ESP] = cpu->fault_esp;
    cpu->exc_vector = vector;
    cpu->exc_errcode = errcode;
    longjmp(cpu->fault_jmp, 1);
}

static int contributory(int v)
{
    return v == EXC_DE || v == EXC_TS || v == EXC_NP || v == EXC_SS || v == EXC_GP;
}

/* Delivers the exception cpu_exception() raised, escalating to #DF or
 * shutdown when it happened while delivering another (SDM vol. 3, table 6-5). */
static void deliver_fault(struct cpu *c)
{
    int vec = c->exc_vector, err = c->exc_errcode;
    if (c->in_exception) {
        int prev = c->exc_prev;
        if (prev == EXC_DF) {
            c->shutdown = 1;
            c->in_exception = 0;
            return;
        }
        if ((contributory(prev) && contributory(vec)) ||
            (prev == EXC_PF && (vec == EXC_PF || contributory(vec)))) {
            vec = EXC_DF;
            err = 0;
        }
    }
    c->in_exception = 1;
    c->exc_prev = vec;
    c->halted = 0;
    c->icount++;   /* a delivered fault counts, so a fault loop still ends the budget */
    cpu_deliver(c, vec, INTR_EXCEPTION, err, c->eip);
    c->in_exception = 0;
}

/* Takes a pending NMI or external interrupt, if any can be taken now. */
static void sample_interrupts(struct cpu *c)
{
    if (c->nmi_pending && !c->nmi_blocked) {
        c->nmi_pending = 0;
        c->nmi_blocked = 1;
        c->halted = 0;
        cpu_deliver(c, EXC_NMI, INTR_NMI, -1, c->eip);
    } else if (c->intr_line && (c->eflags & FL_IF) && c->intr_ack) {
        c->halted = 0;
        int vec = c->intr_ack(c->io_opaque);
        cpu_deliver(c, vec & 0xFF, INTR_EXTERNAL, -1, c->eip);
    }
}

static void run_insn(struct cpu *c, const struct insn *i)
{
    uint32_t next = c->eip + i->len;
    c->eip = (c->segs[S_CS].flags & SEGF_DB) ? next : next & 0xFFFF;
    i->fn(c, i);
    c->icount++;
}

/* Runs block b from its start (only its first instruction when `one`),
 * stopping after `left` instructions, when the block's page was written or
 * on an exit request. Only a block's last instruction, or a Jcc inside
 * it (a superblock, cpu/block.c), can move EIP other than to the next one
 * (the decoder ends blocks at every other such instruction, REP string
 * operations included, which restart themselves), and the block is left
 * when EIP is not the next instruction's (a JMP the decoder followed has
 * its target as the next one); blocks also end at instructions
 * that may change CS, so the EIP width holds.
 * icount is stored once at the end: nothing outside the CPU reads it while
 * cpu_run runs, and the few handlers that do (RDTSC, the TSC MSR) and the
 * fault path recount it with block_icount_now(). */
/* Compiles a block that has become hot; when the code buffer is full,
 * every block's code is dropped and the compile tried once more. */
static SV_NOINLINE void jit_block(struct cpu *c, struct block *b)
{
    struct block_cache *bc = c->blocks;
    int32_t idx = (int32_t)(b - bc->blocks);
    jit_sync(c);
    b->jit_eip = c->eip;
    b->jit_flat = c->jit_flat;
    b->jit = jit_compile(c->jit, b, idx, &bc->insns[b->first], c->eip, b->jit_flat, (c->fpu.fsw >> 11) & 7u,
                         &b->jit_entry);
    if (!b->jit) {
        for (int k = 0; k < bc->nblocks; k++) {
            bc->blocks[k].jit = NULL;
            bc->blocks[k].runs = 0;   /* hot ones compile again */
        }
        jit_reset(c->jit);
        b->jit = jit_compile(c->jit, b, idx, &bc->insns[b->first], c->eip, b->jit_flat, (c->fpu.fsw >> 11) & 7u,
                         &b->jit_entry);
    }
}

static int jit_keys_equal(const struct jit_keys *a, const struct jit_keys *b)
{
    return a->epoch == b->epoch && a->kill == b->kill && a->cs_base == b->cs_base &&
           a->cs_limit == b->cs_limit && a->cs_flags == b->cs_flags && a->cpl == b->cpl &&
           a->flat == b->flat && a->global == b->global;
}

/* Makes cur the keys `now`, with their generation number. A number stands
 * for one set of keys for good, so going back to recent keys (kernel and
 * user mode taking turns) takes their old number and keeps the chain slots
 * filled under it valid. */
static void jit_sync_one(struct cpu *c, struct jit_keys *cur, struct jit_keys now)
{
    if (jit_keys_equal(&now, cur))
        return;
    if (c->jit_flush_pending) {
        now.gen = JIT_GEN_NONE;
        *cur = now;
        return;
    }
    unsigned n = sizeof(c->jit_recent) / sizeof(c->jit_recent[0]), k = 0;
    while (k < n && !(c->jit_recent[k].gen && jit_keys_equal(&now, &c->jit_recent[k])))
        k++;
    if (k < n) {
        now.gen = c->jit_recent[k].gen;
    } else if (++c->jit_next_gen == JIT_GEN_NONE) {
        /* numbers would come round again: until the loop has dropped all
         * code and slots, a number nothing holds */
        c->jit_flush_pending = 1;
        now.gen = JIT_GEN_NONE;
        *cur = now;
        return;
    } else {
        now.gen = c->jit_next_gen;
        k = n - 1;
    }
    memmove(&c->jit_recent[1], &c->jit_recent[0], k * sizeof(c->jit_recent[0]));
    c->jit_recent[0] = now;
    *cur = now;
}

/* Two generations: jit_gen for targets reached by an ordinary translation,
 * jit_ggen (the same keys with the MMU's gepoch) for targets on global
 * pages, whose chains a CR3 load leaves valid. */
static void jit_sync_keys(struct cpu *c)
{
    const struct seg *cs = &c->segs[S_CS];
    struct jit_keys now = { c->mmu.epoch, c->blocks->kill_gen, cs->base, cs->limit, cs->flags, c->cpl,
                            c->jit_flat, 0, 0 };
    jit_sync_one(c, &c->jit_keys, now);
    now.epoch = c->mmu.gepoch;
    now.global = 1;
    jit_sync_one(c, &c->jit_gkeys, now);
    c->jit_gen = c->jit_keys.gen;
    c->jit_ggen = c->jit_gkeys.gen;
}

/* What the top of exec_loop would act on. */
static void jit_sync_attn(struct cpu *c)
{
    c->jit_attn = (c->jit_flush_pending | c->exit_request | c->shutdown | c->halted | c->intr_shadow |
                   c->nmi_pending | ((c->eflags & FL_TF) != 0) | (c->intr_line && (c->eflags & FL_IF)) |
                   (c->mmu.pm_generation != c->mmu.pm->generation) |
                   (c->mmu.code_generation != c->mmu.pm->code_generation)) != 0;
}

void jit_sync(struct cpu *c)
{
    /* the fast path: limits of usable segments; none while alignment
     * checking is on (it handles misaligned accesses within a page) */
    int ac = c->cpl == 3 && (c->cr0 & CR0_AM) && (c->eflags & FL_AC);
    for (int r = 0; r < 6; r++) {
        const struct seg *sg = &c->segs[r];
        c->jit_fastlim[r] = !ac && (sg->flags & SEGF_FAST_MASK) == SEGF_FAST ? (int64_t)sg->limit : -1;
    }
    c->jit_flat = c->jit_fastlim[S_DS] == 0xFFFFFFFF && c->jit_fastlim[S_ES] == 0xFFFFFFFF &&
                  c->jit_fastlim[S_SS] == 0xFFFFFFFF && !c->segs[S_DS].base && !c->segs[S_ES].base &&
                  !c->segs[S_SS].base && (c->segs[S_SS].flags & SEGF_DB);
    jit_sync_keys(c);
    jit_sync_attn(c);
}

void jit_sync_mem(struct cpu *c)
{
    if (c->jit_keys.kill != c->blocks->kill_gen || c->jit_keys.epoch != c->mmu.epoch)
        jit_sync_keys(c);   /* (gepoch moves only with epoch) */
    jit_sync_attn(c);
}

/* Remembers in the slot the last compiled block left by that b is next. */
static void jit_fill_slot(struct cpu *c, struct jit_slot *sl, const struct block *b)
{
    sl->code = b->jit_entry;
    sl->eip = c->eip;
    sl->global = c->blocks->found_global;
    sl->gen = sl->global ? c->jit_ggen : c->jit_gen;
    sl->n = b->n;
    if (sl->direct && sl->direct_eip == c->eip)
        jit_patch_direct(sl);
}

/* Runs block idx compiled, if it is (and may be: fits, the budget left
 * holds the whole block), and the compiled blocks chained after it; returns
 * 1 + the block that ran last, or 0 when it must be interpreted. A run
 * counts towards JIT_HOT either way (sliced budgets run long blocks in
 * parts). */
static int run_block_jit(struct cpu *c, int32_t idx, int fits, struct jit_slot **pending)
{
    struct block *b = &c->blocks->blocks[idx];
    if (!b->jit) {
        if (++b->runs == JIT_HOT)
            jit_block(c, b);
        return 0;
    }
    if (b->jit_eip != c->eip || !fits)
        return 0;
    jit_sync(c);
    if (b->jit_flat != c->jit_flat) {   /* compiled for other segments: again when hot */
        b->jit = NULL;
        b->runs = 0;
        return 0;
    }
    if (*pending)   /* right whatever ran in between: the slot is checked against EIP */
        jit_fill_slot(c, *pending, b);
    jit_fill_slot(c, jit_table_slot(c->jit, c->eip), b);
    c->blocks->cur_dirty = 0;   /* (compiled blocks chain on only while no block dies) */
    *pending = b->jit(c);
    int32_t last = c->blocks->cur;
    c->blocks->cur = -1;
    return last + 1;
}

/* Returns the block that ran last (a compiled block may have chained on). */
static int32_t run_block(struct cpu *c, int32_t idx, uint32_t first, unsigned n, int one, uint64_t left,
                         struct jit_slot **pending)
{
    struct block_cache *bc = c->blocks;
    if (c->jit && !one) {
        int32_t last = run_block_jit(c, idx, left >= n, pending);
        if (last)
            return last - 1;
    }
    const struct insn *start = &bc->insns[first], *i = start;
    const struct insn *last = i + (one ? 1 : (left < n ? left : n));
    uint32_t mask = (c->segs[S_CS].flags & SEGF_DB) ? 0xFFFFFFFFu : 0xFFFFu;
    uint32_t eip = c->eip;
    uint64_t ic0 = c->icount;
    bc->cur = idx;
    bc->cur_dirty = 0;
    bc->cur_eip = eip;
    c->blocks_run++;
    do {
        uint32_t next = (eip + i->len) & mask;
        c->fault_eip = eip;
        c->fault_esp = c->regs[R_ESP];
        c->eip = next;
        i->fn(c, i);
        /* a taken Jcc inside the block (cpu/block.c) leaves it; a JMP
         * the block follows goes on */
        if (bc->cur_dirty | c->exit_request | (c->eip != next)) {
            if (!i->follow || bc->cur_dirty || c->exit_request || c->eip != insn_next_in_block(i, eip, mask)) {
                i++;
                break;
            }
            next = c->eip;
        }
        eip = next;
    } while (++i < last);
    c->icount = ic0 + (uint64_t)(i - start);
    bc->cur = -1;
    return idx;
}

/* The execution loop proper, apart from cpu_run so that setjmp does not
 * force its variables into memory. */
static SV_NOINLINE enum cpu_exit exec_loop(struct cpu *c, uint64_t end)
{
    struct insn single;
    struct block_link *prev = NULL;   /* the links of the block run last */
    struct jit_slot *pending = NULL;  /* the chain slot the last compiled block left by */
    c->jit_end = end;
    uint32_t prev_end = 0;            /* its fall-through linear address */
    for (;;) {
        if (c->jit_flush_pending) {   /* generation numbers ran out: start afresh */
            block_cache_flush(c);
            jit_keys_forget(c);
            c->jit_flush_pending = 0;
            prev = NULL;
            pending = NULL;
        }
        if (c->shutdown)
            return CPU_EXIT_SHUTDOWN;
        if (c->exit_request) {
            c->exit_request = 0;
            return CPU_EXIT_REQUEST;
        }
        if (c->icount >= end)
            return CPU_EXIT_BUDGET;
        c->fault_eip = c->eip;
        c->fault_esp = c->regs[R_ESP];
        if (!c->intr_shadow && (c->nmi_pending || c->intr_line))
            sample_interrupts(c);
        if (c->halted)
            return CPU_EXIT_HLT;
        int tf = (c->eflags & FL_TF) != 0;
        int one = c->intr_shadow || tf;
        c->intr_shadow = 0;
        mmu_check_generation(&c->mmu);
        uint32_t lin = c->segs[S_CS].base + c->eip;
        struct block_link *l = prev ? &prev[lin != prev_end] : NULL;
        int32_t k = l ? block_link_follow(c, l, lin) : -1;
        uint32_t first = 0, n = 0, bytes = 0;
        if (k >= 0) {
            c->block_hits++;
            first = l->first;
            n = l->n;
            bytes = l->bytes;
        } else {
            struct block *b = block_lookup_fast(c);
            if (!b)
                b = block_find(c, &single);
            else
                c->block_hits++;
            if (b) {
                if (l)
                    block_link_set(c, l, lin, b);
                k = (int32_t)(b - c->blocks->blocks);
                first = b->first;
                n = b->n;
                bytes = b->bytes;
            }
        }
        if (k >= 0) {   /* one call site, so that run_block is inlined */
            int32_t ran = run_block(c, k, first, n, one, end - c->icount, &pending);
            if (ran != k) {   /* compiled blocks chained on: link from the last one */
                const struct block *rb = &c->blocks->blocks[ran];
                lin = c->segs[S_CS].base + c->blocks->cur_eip;
                bytes = rb->bytes;
            }
            prev_end = lin + bytes;
            prev = c->blocks->links[ran];
        } else {
            run_insn(c, &single);
            prev = NULL;
        }
        if (tf) {
            c->dr[6] |= 0x4000;   /* BS */
            c->fault_eip = c->eip;
            c->fault_esp = c->regs[R_ESP];
            cpu_deliver(c, EXC_DB, INTR_EXCEPTION, -1, c->eip);
        }
    }
}

enum cpu_exit cpu_run(struct cpu *cpu, uint64_t budget)
{
    uint64_t end = cpu->icount + budget;
    if (setjmp(cpu->fault_jmp)) {
        cpu->icount = block_icount_now(cpu);
        cpu->blocks->cur = -1;
        deliver_fault(cpu);
    }
    return exec_loop(cpu, end);
}
