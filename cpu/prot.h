/* Internal helpers shared by the protected-mode files of the CPU (seg.c,
 * intr.c, farxfer.c, task.c, system.c): descriptor fields, limit checks and
 * a "side stack" that is pushed/popped without touching the registers until
 * the whole transfer has passed its checks (precise exceptions). */
#ifndef SV_CPU_PROT_H
#define SV_CPU_PROT_H
#include "cpu/cpu.h"

/* System descriptor types (type field with S = 0) */
enum {
    DT_TSS16 = 1, DT_LDT = 2, DT_TSS16_BUSY = 3, DT_CALL16 = 4, DT_TASK = 5,
    DT_INT16 = 6, DT_TRAP16 = 7, DT_TSS32 = 9, DT_TSS32_BUSY = 11,
    DT_CALL32 = 12, DT_INT32 = 14, DT_TRAP32 = 15
};
#define TYPE_CODE 0x8u        /* code/data type bits (S = 1) */
#define TYPE_CONFORM 0x4u     /* code: conforming */
#define TYPE_EXPDOWN 0x4u     /* data: expand-down */
#define TYPE_RW 0x2u          /* code: readable, data: writable */
#define TYPE_ACCESSED 0x1u

static inline uint32_t desc_base(uint64_t d)
{
    return (uint32_t)((d >> 16) & 0xFFFFFF) | (uint32_t)((d >> 56) & 0xFF) << 24;
}
static inline uint32_t desc_limit(uint64_t d)
{
    uint32_t l = (uint32_t)(d & 0xFFFF) | (uint32_t)((d >> 48) & 0xF) << 16;
    return (d >> 55) & 1 ? (l << 12) | 0xFFF : l;
}
static inline unsigned desc_type(uint64_t d) { return (d >> 40) & 0xF; }
static inline int desc_s(uint64_t d) { return (d >> 44) & 1; }
static inline int desc_dpl(uint64_t d) { return (d >> 45) & 3; }
static inline int desc_p(uint64_t d) { return (d >> 47) & 1; }
static inline int desc_db(uint64_t d) { return (d >> 54) & 1; }
static inline int desc_is_code(uint64_t d) { return desc_s(d) && (desc_type(d) & TYPE_CODE); }
static inline int desc_is_data(uint64_t d) { return desc_s(d) && !(desc_type(d) & TYPE_CODE); }
/* Gates: selector, offset (386 gates use the high word), parameter count */
static inline uint16_t gate_sel(uint64_t d) { return (uint16_t)(d >> 16); }
static inline uint32_t gate_off(uint64_t d)
{
    return (uint32_t)(d & 0xFFFF) | (uint32_t)((d >> 32) & 0xFFFF0000u);
}
/* Error code for a selector: index and TI, with the EXT bit */
static inline int sel_err(uint16_t sel, int ext) { return (sel & 0xFFFC) | (ext & 1); }

/* Whether `size` bytes at `off` lie inside the segment (expand-down aware). */
int seg_in_limit(const struct seg *s, uint32_t off, int size);
/* Reads a descriptor; faults with vector(sel_err(sel, ext)) when outside the
 * table (or the LDT is null). */
uint64_t desc_read(struct cpu *cpu, uint16_t sel, int vector, int ext);
/* Linear address of the descriptor's first byte (after desc_read succeeded). */
uint32_t desc_addr(struct cpu *cpu, uint16_t sel);
/* Sets the accessed bit in memory if it is clear; returns the new descriptor. */
uint64_t desc_set_accessed(struct cpu *cpu, uint16_t sel, uint64_t d);

/* A stack off to the side: pushes and pops go to memory but the registers
 * change only at stk_commit. */
struct stk {
    struct seg ss;
    uint32_t esp;
    int user;    /* accesses at CPL 3 */
    int err;     /* #SS error code on a limit violation */
};
void stk_cur(struct cpu *cpu, struct stk *st);       /* the current SS:ESP */
void stk_room(struct cpu *cpu, const struct stk *st, int bytes);  /* #SS unless room */
void stk_need(struct cpu *cpu, const struct stk *st, int bytes);  /* #SS unless poppable */
void stk_push(struct cpu *cpu, struct stk *st, uint32_t val, int size);
uint32_t stk_pop(struct cpu *cpu, struct stk *st, int size);
uint32_t stk_peek(struct cpu *cpu, const struct stk *st, int offset, int size);
/* Writes ESP (SP only for a 16-bit stack) back into the register file. */
void stk_commit(struct cpu *cpu, const struct stk *st);

/* Loads CS from a descriptor that passed the checks; sets CPL = rpl. */
void load_cs(struct cpu *cpu, uint16_t sel, uint64_t d, int rpl);
/* Stack pointer for privilege `dpl` from the current TSS (#TS on a short TSS). */
void tss_stack(struct cpu *cpu, int dpl, uint16_t *ss, uint32_t *esp, int ext);
/* Checks and reads a new SS for an inner-privilege transfer (#TS / #SS). */
uint64_t check_inner_ss(struct cpu *cpu, uint16_t ss, int dpl, int ext);
/* Task switch with the EXT bit for errors raised while loading the new task. */
void task_switch_ext(struct cpu *cpu, uint16_t sel, uint64_t desc, enum task_reason why,
                     uint32_t next_eip, int errcode, int ext);
/* After a return to an outer level: null DS/ES/FS/GS that the new CPL may not use. */
void null_outer_segs(struct cpu *cpu);

#endif
