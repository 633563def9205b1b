/* The JIT: compiles a hot decoded block (cpu/block.h) into host code that
 * does what run_block() in cpu/cpu.c does for it, instruction by
 * instruction: the frequent 32-bit forms inline (guest registers stay in
 * struct cpu, memory operands through the same TLB fast path as
 * cpu/exec.h, the same lazy flags), everything else as a call to the
 * instruction's own handler. The interpreter stays the reference: a block
 * run either way leaves the same state and retires the same count.
 * Only x86-64 hosts with the System V ABI have a back end
 * (cpu/jit/jit_x86_64.c); elsewhere jit_create() returns NULL. */
#ifndef SV_JIT_H
#define SV_JIT_H
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && !defined(_WIN32) && !defined(SOFTVISOR_NO_JIT)
#define SV_JIT_X86_64 1
#endif

struct cpu;
struct block;
struct insn;
struct jit;

/* Compiled block: runs the whole block (the caller has checked that the
 * budget allows it and that no single-stepping is asked for), and then,
 * while nothing needs the execution loop, the compiled blocks that follow
 * (chaining, see struct jit_slot). It keeps the block-cache bookkeeping
 * (cur, cur_eip, blocks_run) and c->icount as run_block() does (icount is
 * the count at the start of the running block until it ends; cur_dirty is
 * cleared by the caller: a block dies only with a new generation, so no
 * chained block starts after one), stops after the instruction that wrote the running block's page or
 * asked for an exit, and leaves c->eip at the next EIP. Faults unwind
 * through cpu_exception() like the interpreter's. Returns a chain slot to
 * fill (the exit it left by found no valid successor), or NULL. */
typedef struct jit_slot *jit_block_fn(struct cpu *c);

/* A block exit's remembered successor: the compiled code to jump to when
 * EIP is `eip` and nothing the choice of block depends on (the MMU epoch,
 * block kills, CS, CPL: cpu->jit_keys) changed since the slot was filled
 * (`gen` is cpu->jit_gen then, or cpu->jit_ggen when the target's page is
 * global; 0: empty); n is its instruction count, for
 * the budget. The execution loop fills a slot when the block it runs next
 * is compiled for that EIP. */
struct jit_slot {
    void *code;           /* the target's chained entry */
    uint32_t eip, gen, n;
    uint32_t direct_eip;  /* the exit's fixed target, if it has one */
    uint8_t global;       /* the target is on a global page: gen is a cpu->jit_ggen */
    uint8_t *direct;      /* its jump to patch (exits with a fixed target), or NULL */
};

/* After filling a slot: an exit with a fixed target (Jcc, JMP, CALL, the
 * end of a block) whose slot now holds that target gets a direct jump,
 * guarded by the generation number alone. */
void jit_patch_direct(struct jit_slot *sl);

/* Brings cpu->jit_gen and cpu->jit_attn up to date after C code ran (a
 * handler, a slow memory access, the execution loop): a new generation when
 * a key changed; attn when the loop must run before the next block (an
 * event to take, an exit, single-stepping, a memory-map change).
 * Implemented in cpu/cpu.c; compiled code calls it. */
void jit_sync(struct cpu *c);
/* The same after a slow memory access (which cannot change segments or
 * privilege, but can write code, fill the TLB or touch a device). */
void jit_sync_mem(struct cpu *c);

/* A generation number never given to keys (empty slots hold 0). */
#define JIT_GEN_NONE 0xFFFFFFFFu

/* Runs before a block is compiled (cheap to count, pays back the compile). */
#define JIT_HOT 8

struct jit *jit_create(void);          /* NULL: no JIT on this host */
void jit_free(struct jit *j);
/* Compiles b (block number idx, whose instructions start at insns) for
 * entry at EIP eip0; *chain_entry is where other blocks' code jumps to:
 * the code holds EIPs, so it may run only when EIP is eip0 again (an alias
 * of the page at another address runs interpreted). NULL when the code
 * buffer is full (the caller drops every block's code, jit_reset()s and
 * may try again). flat: cpu->jit_flat, which the code then assumes (DS,
 * ES and SS accesses skip the segment's base and limit, PUSH/POP the
 * stack-size test): the caller runs it only while that holds. x87_top:
 * the x87 TOP now, which the code's x87 forms expect at the block's start
 * (when it is another, they run through their handlers). */
jit_block_fn *jit_compile(struct jit *j, const struct block *b, int32_t idx, const struct insn *insns,
                          uint32_t eip0, int flat, unsigned x87_top, void **chain_entry);
void jit_reset(struct jit *j);         /* forget all code */
/* Caps the code buffer at `bytes` (at least room for two blocks); for
 * tests, which make it empty itself often. */
void jit_set_capacity(struct jit *j, size_t bytes);
/* The entry for eip in the table compiled code looks successors up in
 * (returns, indirect jumps: first, in line; then the exit's own slot);
 * the execution loop fills it like a slot. NULL without a JIT. Entry
 * (eip ^ eip >> 12) & (JIT_TABLE - 1). */
#define JIT_TABLE 4096u
struct jit_slot *jit_table_slot(struct jit *j, uint32_t eip);
/* Statistics for --stats. */
uint64_t jit_blocks_compiled(const struct jit *j);
uint64_t jit_bytes_used(const struct jit *j);
/* blocks that had to be compiled again with the lazy flags kept in struct
 * cpu (an emitter that missed storing them: a bug the tests look for) */
uint64_t jit_lf_fallbacks(const struct jit *j);
/* Count each fast-path TLB hit where it happens rather than at the block's
 * exits, and load what an x87 store just stored the usual way (the same
 * figures, slower: the tests' reference for the count) */
void jit_set_tlb_per_access(struct jit *j, int on);

#endif
