/* The PC board: owns the physical memory map, the CPU, the port bus, the
 * virtual clock and the device registry, and is the only place that knows
 * port and IRQ numbers. For now a minimal board for a flat firmware ROM: RAM
 * at 0, the ROM at the top of the 4 GiB space with its last 128 KiB mirrored
 * below 1 MiB, and the debug console port. */
#ifndef SV_PC_H
#define SV_PC_H
#include <stddef.h>
#include <stdint.h>
#include "cpu/cpu.h"
#include "devices/bus.h"
#include "devices/debugcon.h"
#include "devices/device.h"
#include "devices/runloop.h"
#include "devices/vclock.h"
#include "mmu/physmem.h"

#define PC_RAM_MIB_DEFAULT 32u
#define PC_RAM_MIB_MIN 1u
#define PC_RAM_MIB_MAX 3072u          /* below the 32-bit PCI/ROM area */
#define PC_ROM_MIN (4u << 10)         /* a ROM image is a multiple of 4 KiB ... */
#define PC_ROM_MAX (1u << 20)         /* ... of at most 1 MiB */
#define PC_ROM_LOW_MIRROR (128u << 10) /* the part also seen at 0xE0000-0xFFFFF */

#define PC_PORT_DEBUGCON 0xE9

struct pc_config {
    uint32_t ram_mib;
    const uint8_t *rom;               /* ROM image, copied by pc_create */
    uint32_t rom_size;
    debugcon_sink_fn *debugcon_sink;  /* where port 0xE9 output goes; NULL drops it */
    void *debugcon_opaque;
};

struct pc {
    struct pc_config cfg;
    struct physmem pm;
    struct cpu cpu;
    struct bus io;
    struct vclock clock;
    struct devreg devs;
    struct runloop loop;
    uint8_t *rom;                     /* the board's copy of the ROM image */
    struct debugcon debugcon;
};

/* Builds and resets the machine. Returns NULL with a one-line reason in err. */
struct pc *pc_create(const struct pc_config *cfg, char *err, size_t errlen);
void pc_destroy(struct pc *pc);
/* Power-on reset of the CPU and every device; virtual time keeps running. */
void pc_reset(struct pc *pc);
/* Runs until halt, triple fault, stop or the virtual-time limit (ns from now;
 * VCLOCK_NEVER for none). */
enum runloop_exit pc_run(struct pc *pc, uint64_t limit_ns);

/* Reads and checks a flat ROM image file (size a multiple of 4 KiB, at most
 * 1 MiB). Returns 0 and a malloc'ed buffer, or -1 with "FILE: problem" in err. */
int pc_read_rom_file(const char *path, uint8_t **data, uint32_t *size, char *err, size_t errlen);

#endif
