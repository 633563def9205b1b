/* I/O permission check of the i686: IOPL against CPL, then the I/O permission
 * bitmap of the 32-bit TSS (Intel SDM Vol. 1 ch. 19.5, Vol. 3 ch. 20.2.8).
 * A 16-bit TSS has no bitmap, so every check against it fails. */
#include "cpu/prot.h"

void cpu_check_io(struct cpu *cpu, uint16_t port, int size)
{
    if (!cpu_pmode(cpu))
        return;
    if (!cpu_v86(cpu) && cpu->cpl <= (cpu->eflags & FL_IOPL) >> 12)
        return;
    const struct seg *tr = &cpu->sys[SYS_TR];
    unsigned t = SEGF_TYPE(tr->flags);
    if ((t != DT_TSS32 && t != DT_TSS32_BUSY) || tr->limit < 0x67)
        cpu_exception(cpu, EXC_GP, 0);
    /* Two bytes are read so that accesses crossing a byte boundary are checked. */
    uint32_t at = cpu_read_lin(cpu, tr->base + 0x66, 2, 0) + (uint32_t)(port >> 3);
    if (at + 1 > tr->limit)
        cpu_exception(cpu, EXC_GP, 0);
    uint32_t bits = cpu_read_lin(cpu, tr->base + at, 2, 0);
    uint32_t mask = ((1u << size) - 1) << (port & 7);
    if (bits & mask)
        cpu_exception(cpu, EXC_GP, 0);
}
