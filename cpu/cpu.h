/* The x86 CPU: an i686-class core (real, protected and virtual-8086 mode).
 * This header is the contract between the interpreter (decode/exec), the
 * protected-mode machinery (segments, interrupts, task switch) and the board.
 * Guest memory is reached only through mmu/; port I/O and interrupt
 * acknowledge through the callbacks below, so cpu/ knows nothing of devices/. */
#ifndef SV_CPU_H
#define SV_CPU_H
#include <setjmp.h>
#include <stdint.h>
#include "mmu/mmu.h"
#include "cpu/fpu.h"

/* General registers in encoding order. */
enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };
/* Segment registers in encoding order. */
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_NONE = 7 };
/* System segment slots (descriptor-table registers and task register). */
enum { SYS_GDTR, SYS_IDTR, SYS_LDTR, SYS_TR };

/* EFLAGS bits */
#define FL_CF   0x00000001u
#define FL_PF   0x00000004u
#define FL_AF   0x00000010u
#define FL_ZF   0x00000040u
#define FL_SF   0x00000080u
#define FL_TF   0x00000100u
#define FL_IF   0x00000200u
#define FL_DF   0x00000400u
#define FL_OF   0x00000800u
#define FL_IOPL 0x00003000u
#define FL_NT   0x00004000u
#define FL_RF   0x00010000u
#define FL_VM   0x00020000u
#define FL_AC   0x00040000u
#define FL_VIF  0x00080000u
#define FL_VIP  0x00100000u
#define FL_ID   0x00200000u

/* CR0 bits */
#define CR0_PE 0x00000001u
#define CR0_MP 0x00000002u
#define CR0_EM 0x00000004u
#define CR0_TS 0x00000008u
#define CR0_ET 0x00000010u
#define CR0_NE 0x00000020u
#define CR0_WP 0x00010000u
#define CR0_AM 0x00040000u
#define CR0_NW 0x20000000u
#define CR0_CD 0x40000000u
#define CR0_PG 0x80000000u

/* Exception vectors */
enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
    EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12,
    EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19
};

/* A segment register with its hidden descriptor cache (also used for the
 * GDTR/IDTR/LDTR/TR slots). `flags` holds descriptor bytes 5 and 6 as
 * (access byte) | (flags nibble << 8): type, S, DPL, P, AVL, L, D/B, G. */
struct seg {
    uint16_t sel;
    uint32_t base;
    uint32_t limit;   /* byte-granular, already scaled by G */
    uint16_t flags;
};
#define SEGF_TYPE(f)  ((f) & 0x0F)
#define SEGF_S        0x0010u   /* code/data (1) or system (0) */
#define SEGF_DPL(f)   (((f) >> 5) & 3)
#define SEGF_P        0x0080u
#define SEGF_DB       0x0400u   /* default operand size / big */
#define SEGF_G        0x0800u

typedef uint32_t cpu_io_read_fn(void *opaque, uint16_t port, int size);
typedef void cpu_io_write_fn(void *opaque, uint16_t port, uint32_t value, int size);
/* Returns the vector of the pending external interrupt and acknowledges it. */
typedef int cpu_intr_ack_fn(void *opaque);
/* The FERR# output (x87 error with CR0.NE = 0; the board routes it to IRQ13). */
typedef void cpu_ferr_fn(void *opaque, int level);

/* Why cpu_run returned */
enum cpu_exit { CPU_EXIT_BUDGET = 0, CPU_EXIT_HLT, CPU_EXIT_REQUEST, CPU_EXIT_SHUTDOWN };

struct cpu {
    /* Architectural state (saved in snapshots) */
    uint32_t regs[8];
    uint32_t eip;
    uint32_t eflags;              /* flags other than the lazy arithmetic ones are always here */
    struct seg segs[6];
    struct seg sys[4];            /* GDTR, IDTR (base/limit only), LDTR, TR */
    uint32_t cr0, cr2, cr3, cr4;  /* the copies in mmu are kept in step */
    uint32_t dr[8];
    uint8_t cpl;
    uint8_t halted;
    uint8_t intr_shadow;          /* interrupts inhibited for one instruction (STI, MOV SS) */
    uint8_t nmi_pending, nmi_blocked;
    uint64_t tsc_offset;          /* TSC = icount + tsc_offset */
    uint64_t efer;
    uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t apic_base;           /* IA32_APIC_BASE MSR */
    uint8_t cpuid_apic;           /* configuration: the board has a local APIC (CPUID.1:EDX.9) */
    void (*apic_base_changed)(void *opaque, uint64_t value); /* after WRMSR 0x1B; io_opaque */
    uint64_t mtrr[32];            /* MTRRs and PAT are stored, not acted on */
    struct fpu fpu;               /* x87 and MMX (cpu/fpu.c, cpu/mmx.c) */

    /* Lazy flags: the last flag-setting operation and its operands. The
     * interpreter owns the encoding; cpu_get_eflags() folds them into eflags. */
    uint32_t lf_res, lf_op1, lf_op2;
    uint32_t lf_op;               /* operation and size; 0 = flags are all in eflags */

    /* Machine connections (not saved) */
    struct mmu mmu;
    cpu_io_read_fn *io_read;
    cpu_io_write_fn *io_write;
    cpu_intr_ack_fn *intr_ack;
    cpu_ferr_fn *ferr;            /* optional; called with io_opaque */
    void *io_opaque;
    volatile int intr_line;       /* INTR pin level, set by the PIC/APIC */
    volatile int exit_request;    /* asks cpu_run to return at the next block end */

    /* Execution bookkeeping (not architectural) */
    uint64_t icount;              /* instructions retired */
    jmp_buf fault_jmp;            /* cpu_exception() longjmps here */
    uint32_t fault_eip, fault_esp;/* state to restore when an instruction faults */
    int in_exception;             /* nesting depth for #DF / triple fault */
    int shutdown;                 /* triple fault happened */
    struct block_cache *blocks;   /* decoded-block cache (cpu/block.c) */
    struct jit *jit;              /* compiler of hot blocks (cpu/jit/), NULL: interpreter only */
    uint64_t jit_end;             /* icount where the current cpu_run budget ends */
    struct jit_keys {             /* what chained compiled blocks depend on (cpu/jit/jit.h) */
        uint32_t epoch, kill, cs_base, cs_limit;
        uint16_t cs_flags;
        uint8_t cpl, flat;
        uint8_t global;           /* epoch is mmu.gepoch: keys of targets on global pages */
        uint32_t gen;             /* the generation number given to these keys */
    } jit_keys, jit_gkeys, jit_recent[8];   /* the current keys (with mmu.epoch, with
                                               mmu.gepoch); recent ones, to go back to */
    uint32_t jit_gen;             /* jit_keys.gen; numbers are never reused, 0 never used */
    uint32_t jit_ggen;            /* jit_gkeys.gen */
    uint32_t jit_next_gen;
    uint8_t jit_flush_pending;    /* generation numbers ran out: the loop drops all code */
    uint8_t jit_attn;             /* the execution loop must run before the next block */
    int64_t jit_fastlim[6];       /* per segment: its limit when the memory fast path may use it
                                     (cpu/exec.h SEGF_FAST), else -1; kept by jit_sync */
    uint8_t jit_flat;             /* DS, ES, SS: base 0, limit 4 GiB - 1, usable by the fast path,
                                     SS 32-bit; no #AC: compiled code may leave out their checks */
    uint64_t blocks_run, block_hits, block_misses;
    uint64_t block_flushes;       /* times the block cache was emptied whole (--stats) */
    uint32_t cpuid_family;        /* 6 = i686 */
    int exc_vector, exc_errcode;  /* the exception cpu_exception() is raising */
    int exc_prev;                 /* vector being delivered when in_exception */
};

/* Lifecycle */
int cpu_init(struct cpu *cpu, struct physmem *pm);   /* 0 or -1 */
void cpu_free(struct cpu *cpu);
void cpu_reset(struct cpu *cpu);                      /* power-on state: F000:FFF0 */
/* Turns the JIT on (where the host has one; returns 0, or -1 when it has
 * none) or off. It is on after cpu_init where available. */
int cpu_set_jit(struct cpu *cpu, int on);

/* Runs up to `budget` instructions (stopping early at HLT, an exit request or
 * shutdown); returns the reason. Pending interrupts are taken between blocks. */
enum cpu_exit cpu_run(struct cpu *cpu, uint64_t budget);

/* Flags */
uint32_t cpu_get_eflags(struct cpu *cpu);
void cpu_set_eflags(struct cpu *cpu, uint32_t value, uint32_t change_mask);

/* Faults: raise an exception from inside an instruction. Restores the
 * instruction's starting EIP/ESP and unwinds to the execution loop, which
 * delivers it. Never returns. errcode < 0: none. */
_Noreturn void cpu_exception(struct cpu *cpu, int vector, int errcode);

/* Event delivery (cpu/intr.c): real-mode IVT, protected-mode IDT with
 * interrupt/trap/task gates and stack switches, V86. `kind` tells software INT n
 * (privilege-checked against the gate DPL) from hardware/exceptions. */
enum intr_kind { INTR_EXCEPTION, INTR_SOFTWARE, INTR_EXTERNAL, INTR_NMI, INTR_ICEBP };
void cpu_deliver(struct cpu *cpu, int vector, enum intr_kind kind, int errcode, uint32_t return_eip);

/* Segments (cpu/seg.c) */
void cpu_load_seg(struct cpu *cpu, int sreg, uint16_t sel);   /* all checks, faults */
void cpu_load_seg_real(struct cpu *cpu, int sreg, uint16_t sel); /* real/V86 form */
/* Reads the 8-byte descriptor for sel from the GDT/LDT; faults with #GP(sel)
 * (or `vector`) when outside the table. */
uint64_t cpu_read_descriptor(struct cpu *cpu, uint16_t sel, int vector);
void cpu_desc_to_seg(struct seg *s, uint16_t sel, uint64_t desc);

/* Far transfers (cpu/farxfer.c): operand size 16 or 32 */
void cpu_far_jmp(struct cpu *cpu, uint16_t sel, uint32_t off, int opsize, uint32_t next_eip);
void cpu_far_call(struct cpu *cpu, uint16_t sel, uint32_t off, int opsize, uint32_t next_eip);
void cpu_far_ret(struct cpu *cpu, int opsize, uint16_t pop_bytes);
void cpu_iret(struct cpu *cpu, int opsize);

/* Task switch (cpu/task.c) */
enum task_reason { TASK_JMP, TASK_CALL, TASK_IRET, TASK_INT };
void cpu_task_switch(struct cpu *cpu, uint16_t sel, uint64_t desc, enum task_reason why, uint32_t next_eip, int errcode);

/* I/O permission check (CPL > IOPL or V86): faults #GP(0) if denied. */
void cpu_check_io(struct cpu *cpu, uint16_t port, int size);

/* Memory through segmentation (cpu/access.c): check limit/rights, form the
 * linear address, go through the TLB; faults as the architecture says. */
uint32_t cpu_read(struct cpu *cpu, int sreg, uint32_t off, int size);
void cpu_write(struct cpu *cpu, int sreg, uint32_t off, uint32_t val, int size);
/* Linear accesses at a given privilege (descriptor tables, TSS, stacks in
 * gates): user = 0 for the implicit supervisor accesses. */
uint32_t cpu_read_lin(struct cpu *cpu, uint32_t lin, int size, int user);
void cpu_write_lin(struct cpu *cpu, uint32_t lin, uint32_t val, int size, int user);

/* Stack helpers honouring SS.B (ESP vs SP) */
void cpu_push(struct cpu *cpu, uint32_t val, int size);
uint32_t cpu_pop(struct cpu *cpu, int size);

/* Mode tests */
static inline int cpu_pmode(const struct cpu *c) { return (c->cr0 & CR0_PE) != 0; }
static inline int cpu_v86(const struct cpu *c) { return (c->eflags & FL_VM) != 0; }

/* Control registers: writes keep the MMU in step and flush what must be flushed. */
void cpu_set_cr0(struct cpu *cpu, uint32_t v);
void cpu_set_cr3(struct cpu *cpu, uint32_t v);
void cpu_set_cr4(struct cpu *cpu, uint32_t v);

/* System instruction semantics (cpu/system.c); the interpreter's handlers call
 * these after decoding operands. They fault through cpu_exception(). */
int cpu_lar(struct cpu *cpu, uint16_t sel, uint32_t *out);   /* returns ZF */
int cpu_lsl(struct cpu *cpu, uint16_t sel, uint32_t *out);   /* returns ZF */
int cpu_verr(struct cpu *cpu, uint16_t sel);                 /* returns ZF */
int cpu_verw(struct cpu *cpu, uint16_t sel);                 /* returns ZF */
void cpu_lldt(struct cpu *cpu, uint16_t sel);
void cpu_ltr(struct cpu *cpu, uint16_t sel);
void cpu_cpuid(struct cpu *cpu);                             /* EAX/ECX in, EAX..EDX out */
uint64_t cpu_rdmsr(struct cpu *cpu, uint32_t index);         /* #GP(0) on unknown MSRs */
void cpu_wrmsr(struct cpu *cpu, uint32_t index, uint64_t value);
void cpu_sysenter(struct cpu *cpu);
void cpu_sysexit(struct cpu *cpu);

#endif
