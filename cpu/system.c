/* System instructions of the i686 that need the descriptor tables or model
 * state: LAR/LSL/VERR/VERW, LLDT/LTR, CPUID, RDMSR/WRMSR, SYSENTER/SYSEXIT
 * (Intel SDM Vol. 2 pseudo-code; Vol. 3 ch. 5.10, 7.2.4, 11.11, 11.12).
 * MTRRs and PAT are stored, not acted on. No local APIC yet (CPUID.APIC=0). */
#include "cpu/exec.h"
#include "cpu/prot.h"

/* CPUID leaf 1 EDX: what this core implements. Flip bits here as features
 * arrive (FPU with the x87, APIC with the local APIC, MMX/FXSR/SSE later). */
#define CPUID_PSE   (1u << 3)
#define CPUID_TSC   (1u << 4)
#define CPUID_MSR   (1u << 5)
#define CPUID_PAE   (1u << 6)
#define CPUID_CX8   (1u << 8)
#define CPUID_SEP   (1u << 11)
#define CPUID_MTRR  (1u << 12)
#define CPUID_PGE   (1u << 13)
#define CPUID_CMOV  (1u << 15)
#define CPUID_PAT   (1u << 16)
#define CPUID_APIC  (1u << 9)     /* only when the board has one: cpu->cpuid_apic */
#define CPUID_FPU   (1u << 0)     /* x87, MMX and FXSR: cpu/fpu.c, cpu/mmx.c */
#define CPUID_MMX   (1u << 23)
#define CPUID_FXSR  (1u << 24)
#define CPUID_1_EDX (CPUID_FPU | CPUID_MMX | CPUID_FXSR | CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_PAE | CPUID_CX8 | CPUID_SEP | \
                     CPUID_MTRR | CPUID_PGE | CPUID_CMOV | CPUID_PAT)
#define CPUID_1_ECX 0u
#define CPUID_MODEL 3       /* family 6 model 3 stepping 3: SEP is valid from here on */
#define CPUID_STEPPING 3

/* Slots of cpu->mtrr[] */
enum { MTRR_PHYS0 = 0, MTRR_FIX64K = 16, MTRR_FIX16K = 17, MTRR_FIX4K = 19,
       MTRR_PAT = 27, MTRR_DEFTYPE = 28 };

/* Descriptor for LAR/LSL/VERR/VERW: 0 when the selector is null or outside
 * its table (those set ZF = 0 instead of faulting). */
static int probe(struct cpu *cpu, uint16_t sel, uint64_t *d)
{
    const struct seg *t = &cpu->sys[(sel & 4) ? SYS_LDTR : SYS_GDTR];
    if (!(sel & 0xFFFC))
        return 0;
    if ((sel & 4) && (!(t->sel & 0xFFFC) || !(t->flags & SEGF_P)))
        return 0;
    if ((uint32_t)(sel & ~7u) + 7 > t->limit)
        return 0;
    *d = desc_read(cpu, sel, EXC_GP, 0);
    return 1;
}

/* The privilege rule shared by the four: conforming code is always visible. */
static int visible(struct cpu *cpu, uint16_t sel, uint64_t d)
{
    if (desc_is_code(d) && (desc_type(d) & TYPE_CONFORM))
        return 1;
    return desc_dpl(d) >= cpu->cpl && desc_dpl(d) >= (sel & 3);
}

int cpu_lar(struct cpu *cpu, uint16_t sel, uint32_t *out)
{
    uint64_t d;
    if (!probe(cpu, sel, &d))
        return 0;
    if (!desc_s(d)) {
        static const uint8_t ok[16] = { 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0 };
        if (!ok[desc_type(d)])
            return 0;
    }
    if (!visible(cpu, sel, d))
        return 0;
    *out = (uint32_t)(d >> 32) & 0x00F0FF00u;
    return 1;
}

int cpu_lsl(struct cpu *cpu, uint16_t sel, uint32_t *out)
{
    uint64_t d;
    if (!probe(cpu, sel, &d))
        return 0;
    if (!desc_s(d)) {
        unsigned t = desc_type(d);
        if (t != DT_TSS16 && t != DT_LDT && t != DT_TSS16_BUSY && t != DT_TSS32 && t != DT_TSS32_BUSY)
            return 0;
    }
    if (!visible(cpu, sel, d))
        return 0;
    *out = desc_limit(d);
    return 1;
}

int cpu_verr(struct cpu *cpu, uint16_t sel)
{
    uint64_t d;
    if (!probe(cpu, sel, &d) || !desc_s(d))
        return 0;
    if (desc_is_code(d) && !(desc_type(d) & TYPE_RW))
        return 0;
    return visible(cpu, sel, d);
}

int cpu_verw(struct cpu *cpu, uint16_t sel)
{
    uint64_t d;
    if (!probe(cpu, sel, &d) || !desc_is_data(d) || !(desc_type(d) & TYPE_RW))
        return 0;
    return visible(cpu, sel, d);
}

void cpu_lldt(struct cpu *cpu, uint16_t sel)
{
    if (cpu->cpl != 0)
        cpu_exception(cpu, EXC_GP, 0);
    if (!(sel & 0xFFFC)) {
        cpu->sys[SYS_LDTR] = (struct seg){ sel, 0, 0, 0 };
        return;
    }
    if (sel & 4)
        cpu_exception(cpu, EXC_GP, sel & 0xFFFC);
    uint64_t d = desc_read(cpu, sel, EXC_GP, 0);
    if (((d >> 40) & 0x1F) != DT_LDT)
        cpu_exception(cpu, EXC_GP, sel & 0xFFFC);
    if (!desc_p(d))
        cpu_exception(cpu, EXC_NP, sel & 0xFFFC);
    cpu_desc_to_seg(&cpu->sys[SYS_LDTR], sel, d);
}

void cpu_ltr(struct cpu *cpu, uint16_t sel)
{
    if (cpu->cpl != 0 || !(sel & 0xFFFC))
        cpu_exception(cpu, EXC_GP, 0);
    if (sel & 4)
        cpu_exception(cpu, EXC_GP, sel & 0xFFFC);
    uint64_t d = desc_read(cpu, sel, EXC_GP, 0);
    unsigned t = (unsigned)(d >> 40) & 0x1F;
    if (t != DT_TSS16 && t != DT_TSS32)
        cpu_exception(cpu, EXC_GP, sel & 0xFFFC);
    if (!desc_p(d))
        cpu_exception(cpu, EXC_NP, sel & 0xFFFC);
    d |= 1ull << 41;
    cpu_write_lin(cpu, desc_addr(cpu, sel) + 5, (uint32_t)(d >> 40) & 0xFF, 1, 0);
    cpu_desc_to_seg(&cpu->sys[SYS_TR], sel, d);
}

static uint32_t str4(const char *s)
{
    return (uint32_t)(uint8_t)s[0] | (uint32_t)(uint8_t)s[1] << 8 |
           (uint32_t)(uint8_t)s[2] << 16 | (uint32_t)(uint8_t)s[3] << 24;
}

static void cpuid_brand(uint32_t leaf, uint32_t *r)
{
    static const char brand[49] = "Softvisor i686 CPU";   /* NUL-padded to 48 */
    const char *p = brand + (leaf - 0x80000002u) * 16;
    for (int i = 0; i < 4; i++)
        r[i] = str4(p + 4 * i);
}

void cpu_cpuid(struct cpu *cpu)
{
    uint32_t leaf = cpu->regs[R_EAX], r[4] = { 0, 0, 0, 0 };   /* EAX EBX ECX EDX */
    if (leaf >= 0x80000000u && leaf > 0x80000004u)
        leaf = 2;                          /* beyond the top: the highest basic leaf */
    else if (leaf < 0x80000000u && leaf > 2)
        leaf = 2;
    uint32_t family = cpu->cpuid_family ? cpu->cpuid_family : 6;
    switch (leaf) {
    case 0:
        r[0] = 2;
        r[1] = str4("Genu");
        r[3] = str4("ineI");
        r[2] = str4("ntel");
        break;
    case 1:
        r[0] = (family & 0xF) << 8 | CPUID_MODEL << 4 | CPUID_STEPPING;
        r[2] = CPUID_1_ECX;
        r[3] = CPUID_1_EDX | (cpu->cpuid_apic ? CPUID_APIC : 0);
        break;
    case 2:
        r[0] = 1;                          /* one round, no cache descriptors */
        break;
    case 0x80000000u:
        r[0] = 0x80000004u;
        break;
    case 0x80000001u:
        break;
    default:
        cpuid_brand(leaf, r);
        break;
    }
    cpu->regs[R_EAX] = r[0];
    cpu->regs[R_EBX] = r[1];
    cpu->regs[R_ECX] = r[2];
    cpu->regs[R_EDX] = r[3];
}

/* MSR index -> slot in cpu->mtrr[], or -1. */
static int mtrr_slot(uint32_t index)
{
    if (index >= 0x200 && index <= 0x20F)
        return MTRR_PHYS0 + (int)(index - 0x200);
    if (index == 0x250)
        return MTRR_FIX64K;
    if (index == 0x258 || index == 0x259)
        return MTRR_FIX16K + (int)(index - 0x258);
    if (index >= 0x268 && index <= 0x26F)
        return MTRR_FIX4K + (int)(index - 0x268);
    if (index == 0x277)
        return MTRR_PAT;
    if (index == 0x2FF)
        return MTRR_DEFTYPE;
    return -1;
}

uint64_t cpu_rdmsr(struct cpu *cpu, uint32_t index)
{
    int slot = mtrr_slot(index);
    if (slot >= 0)
        return cpu->mtrr[slot];
    switch (index) {
    case 0x10: return block_icount_now(cpu) + cpu->tsc_offset; /* IA32_TIME_STAMP_COUNTER */
    case 0x17: return 0;                                      /* IA32_PLATFORM_ID */
    case 0x1B: return cpu->apic_base;                         /* IA32_APIC_BASE */
    case 0x2A: return 0;                                      /* EBL_CR_POWERON */
    case 0x8B: return 0;                                      /* IA32_BIOS_SIGN_ID: no microcode */
    case 0xFE: return 0x508;                                  /* MTRRcap: 8 variable, fixed, WC */
    case 0x174: return cpu->sysenter_cs;
    case 0x175: return cpu->sysenter_esp;
    case 0x176: return cpu->sysenter_eip;
    }
    cpu_exception(cpu, EXC_GP, 0);
}

void cpu_wrmsr(struct cpu *cpu, uint32_t index, uint64_t value)
{
    int slot = mtrr_slot(index);
    if (slot >= 0) {
        cpu->mtrr[slot] = value;
        return;
    }
    switch (index) {
    case 0x10: cpu->tsc_offset = value - block_icount_now(cpu); return;   /* counts from this instruction */
    case 0x1B:
        if (value & ~0xFFFFFF900ull)                          /* BSP, EN, base[35:12] */
            break;
        cpu->apic_base = value;
        if (cpu->apic_base_changed)
            cpu->apic_base_changed(cpu->io_opaque, value);
        return;
    case 0x79: return;                                        /* BIOS_UPDT_TRIG: ignored */
    case 0x8B: return;
    case 0x174: cpu->sysenter_cs = (uint32_t)value & 0xFFFF; return;
    case 0x175: cpu->sysenter_esp = (uint32_t)value; return;
    case 0x176: cpu->sysenter_eip = (uint32_t)value; return;
    }
    cpu_exception(cpu, EXC_GP, 0);
}

/* Flat 4 GiB segment caches loaded by SYSENTER/SYSEXIT (not from the GDT). */
static void flat(struct seg *s, uint16_t sel, uint16_t access)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0xFFFFFFFFu;
    s->flags = access | 0xC00;   /* G, D/B */
}

void cpu_sysenter(struct cpu *cpu)
{
    if (!cpu_pmode(cpu) || !(cpu->sysenter_cs & 0xFFFC))
        cpu_exception(cpu, EXC_GP, 0);
    cpu->eflags &= ~(FL_VM | FL_IF | FL_RF);
    uint16_t cs = (uint16_t)(cpu->sysenter_cs & 0xFFFC);
    flat(&cpu->segs[S_CS], cs, 0x9B);
    flat(&cpu->segs[S_SS], (uint16_t)(cs + 8), 0x93);
    cpu->cpl = 0;
    cpu->regs[R_ESP] = cpu->sysenter_esp;
    cpu->eip = cpu->sysenter_eip;
}

void cpu_sysexit(struct cpu *cpu)
{
    if (!cpu_pmode(cpu) || cpu_v86(cpu) || cpu->cpl != 0 || !(cpu->sysenter_cs & 0xFFFC))
        cpu_exception(cpu, EXC_GP, 0);
    uint16_t cs = (uint16_t)cpu->sysenter_cs;
    flat(&cpu->segs[S_CS], (uint16_t)((cs + 16) | 3), 0xFB);
    flat(&cpu->segs[S_SS], (uint16_t)((cs + 24) | 3), 0xF3);
    cpu->cpl = 3;
    cpu->regs[R_ESP] = cpu->regs[R_ECX];
    cpu->eip = cpu->regs[R_EDX];
}
