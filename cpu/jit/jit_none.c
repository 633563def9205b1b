/* The JIT on hosts without a back end: none (the interpreter runs
 * everything). See cpu/jit/jit.h. */
#include "cpu/jit/jit.h"
#ifndef SV_JIT_X86_64
#include <stddef.h>

struct jit *jit_create(void) { return NULL; }
void jit_free(struct jit *j) { (void)j; }
jit_block_fn *jit_compile(struct jit *j, const struct block *b, int32_t idx, const struct insn *insns,
                          uint32_t eip0, int flat, unsigned x87_top, void **chain_entry)
{
    (void)j; (void)b; (void)idx; (void)insns; (void)eip0; (void)flat; (void)x87_top;
    *chain_entry = NULL;
    return NULL;
}
void jit_reset(struct jit *j) { (void)j; }
void jit_set_capacity(struct jit *j, size_t bytes) { (void)j; (void)bytes; }
void jit_patch_direct(struct jit_slot *sl) { (void)sl; }
struct jit_slot *jit_table_slot(struct jit *j, uint32_t eip) { (void)j; (void)eip; return NULL; }
uint64_t jit_blocks_compiled(const struct jit *j) { (void)j; return 0; }
uint64_t jit_bytes_used(const struct jit *j) { (void)j; return 0; }
uint64_t jit_lf_fallbacks(const struct jit *j) { (void)j; return 0; }
void jit_set_tlb_per_access(struct jit *j, int on) { (void)j; (void)on; }
#else
typedef int jit_none_unused;   /* ISO C wants a translation unit to declare something */
#endif
