/* The PC board (DESIGN.md "The PC"), so far only what a flat firmware ROM
 * needs: RAM, the BIOS ROM at 4 GiB - size and its top 128 KiB at 0xE0000,
 * the debug console on port 0xE9. Not yet: chipset, PIC, PIT, RTC, UARTs, VGA
 * (0xA0000-0xBFFFF is left unmapped), PAM shadowing, fw_cfg, the second
 * debug port 0x402 that SeaBIOS builds for QEMU print to. */
#include "devices/pc.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint32_t pc_io_read(void *opaque, uint16_t port, int size)
{
    struct pc *pc = opaque;
    return bus_read(&pc->io, port, size);
}

static void pc_io_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct pc *pc = opaque;
    bus_write(&pc->io, port, value, size);
}

/* No interrupt controller yet, so INTR is never raised; should the CPU ask
 * anyway, answer as an 8259 does with nothing pending (spurious IRQ 7). */
static int pc_intr_ack(void *opaque)
{
    (void)opaque;
    return 0x0F;
}

static int check_rom_size(uint64_t size, char *why, size_t n)
{
    if (size == 0)
        snprintf(why, n, "empty file, expected a ROM image");
    else if (size % PC_ROM_MIN)
        snprintf(why, n, "size %llu bytes is not a multiple of 4 KiB", (unsigned long long)size);
    else if (size > PC_ROM_MAX)
        snprintf(why, n, "size %llu bytes is larger than 1 MiB", (unsigned long long)size);
    else
        return 0;
    return -1;
}

static void map_memory(struct pc *pc)
{
    uint32_t size = pc->cfg.rom_size;
    /* Nothing answers in the VGA window yet. */
    physmem_unmap(&pc->pm, 0xA0000, 0x20000);
    physmem_map_rom(&pc->pm, (uint32_t)(0x100000000ull - size), size, pc->rom);
    uint32_t low = size < PC_ROM_LOW_MIRROR ? size : PC_ROM_LOW_MIRROR;
    physmem_map_rom(&pc->pm, 0x100000 - low, low, pc->rom + size - low);
}

static int add_devices(struct pc *pc)
{
    debugcon_init(&pc->debugcon, pc->cfg.debugcon_sink, pc->cfg.debugcon_opaque, PC_PORT_DEBUGCON);
    if (bus_map(&pc->io, PC_PORT_DEBUGCON, 1, &debugcon_bus_ops, &pc->debugcon) < 0)
        return -1;
    return devreg_add(&pc->devs, &debugcon_device_ops, &pc->debugcon) < 0 ? -1 : 0;
}

struct pc *pc_create(const struct pc_config *cfg, char *err, size_t errlen)
{
    char why[96];
    if (cfg->ram_mib < PC_RAM_MIB_MIN || cfg->ram_mib > PC_RAM_MIB_MAX) {
        snprintf(err, errlen, "memory size %u MiB out of range (%u-%u)", cfg->ram_mib,
                 PC_RAM_MIB_MIN, PC_RAM_MIB_MAX);
        return NULL;
    }
    if (check_rom_size(cfg->rom_size, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "ROM image: %s", why);
        return NULL;
    }
    struct pc *pc = calloc(1, sizeof(*pc));
    if (!pc || !(pc->rom = malloc(cfg->rom_size))) {
        free(pc);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pc->cfg = *cfg;
    memcpy(pc->rom, cfg->rom, cfg->rom_size);
    if (physmem_init(&pc->pm, (uint64_t)cfg->ram_mib << 20) < 0) {
        free(pc->rom);
        free(pc);
        snprintf(err, errlen, "cannot allocate %u MiB of guest RAM", cfg->ram_mib);
        return NULL;
    }
    map_memory(pc);
    bus_init(&pc->io, "io");
    vclock_init(&pc->clock);
    devreg_init(&pc->devs);
    if (cpu_init(&pc->cpu, &pc->pm) < 0 || add_devices(pc) < 0) {
        snprintf(err, errlen, "cannot create the machine (out of memory)");
        pc_destroy(pc);
        return NULL;
    }
    pc->cpu.io_read = pc_io_read;
    pc->cpu.io_write = pc_io_write;
    pc->cpu.intr_ack = pc_intr_ack;
    pc->cpu.io_opaque = pc;
    runloop_init(&pc->loop, &pc->cpu, &pc->clock);
    pc_reset(pc);
    return pc;
}

void pc_destroy(struct pc *pc)
{
    if (!pc)
        return;
    devreg_destroy_all(&pc->devs);
    cpu_free(&pc->cpu);
    physmem_free(&pc->pm);
    free(pc->rom);
    free(pc);
}

void pc_reset(struct pc *pc)
{
    devreg_reset_all(&pc->devs);
    cpu_reset(&pc->cpu);
}

enum runloop_exit pc_run(struct pc *pc, uint64_t limit_ns)
{
    uint64_t now = vclock_now(&pc->clock);
    pc->loop.limit_ns = limit_ns == VCLOCK_NEVER || limit_ns > VCLOCK_NEVER - now
                        ? VCLOCK_NEVER : now + limit_ns;
    return runloop_run(&pc->loop);
}

static int rom_error(char *err, size_t errlen, const char *path, const char *why, FILE *f)
{
    snprintf(err, errlen, "%s: %s", path, why);
    if (f)
        fclose(f);
    return -1;
}

int pc_read_rom_file(const char *path, uint8_t **data, uint32_t *size, char *err, size_t errlen)
{
    char why[96];
    struct stat st;
    FILE *f = fopen(path, "rb");
    if (!f)
        return rom_error(err, errlen, path, strerror(errno), NULL);
    if (fstat(fileno(f), &st) < 0)
        return rom_error(err, errlen, path, strerror(errno), f);
    if (!S_ISREG(st.st_mode))
        return rom_error(err, errlen, path, "not a regular file", f);
    if (check_rom_size((uint64_t)st.st_size, why, sizeof(why)) < 0)
        return rom_error(err, errlen, path, why, f);
    uint8_t *buf = malloc((size_t)st.st_size);
    if (!buf)
        return rom_error(err, errlen, path, "out of memory", f);
    if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        free(buf);
        return rom_error(err, errlen, path, ferror(f) ? strerror(errno) : "file shrank while reading", f);
    }
    fclose(f);
    *data = buf;
    *size = (uint32_t)st.st_size;
    return 0;
}
