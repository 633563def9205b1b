/* The softvisor command: parse options, open what the machine needs (firmware,
 * images, serial backends), build the PC, run it headless and turn the way the
 * run ended into an exit status. Host time is read here only: for --stats and
 * for --rtc-start now. Every refusal is one line naming the file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "devices/pc.h"
#include "cpu/jit/jit.h"
#include "ui/options.h"

struct session {
    struct options o;
    FILE *con;
    uint8_t *rom, *vgabios, *kernel, *initrd;
    struct chardev *serial[PC_SERIAL_PORTS];
    struct blockdev *disks[PC_DISKS], *floppy;
};

static void sink_file(void *opaque, uint8_t byte)
{
    putc(byte, (FILE *)opaque);
}

static double host_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void print_stats(struct pc *pc, enum runloop_exit why, double host_s)
{
    struct cpu *c = &pc->cpu;
    double virt_s = (double)vclock_now(&pc->clock) * 1e-9;
    double halted_s = (double)pc->loop.halt_skipped_ns * 1e-9;
    uint64_t lookups = c->block_hits + c->block_misses;
    uint64_t tlb = c->mmu.tlb_hits + c->mmu.tlb_misses;
    fprintf(stderr,
            "softvisor: stats: end: %s\n"
            "softvisor: stats: instructions retired: %llu\n"
            "softvisor: stats: virtual time: %.6f s (%.6f s skipped in HLT)\n"
            "softvisor: stats: host time: %.6f s, %.2f MIPS\n"
            "softvisor: stats: blocks executed: %llu, block cache hit rate %.2f%% (%llu misses)\n"
            "softvisor: stats: TLB hits: %llu, misses: %llu, hit rate %.2f%%\n",
            runloop_exit_name(why), (unsigned long long)c->icount, virt_s, halted_s, host_s,
            host_s > 0 ? (double)c->icount / host_s * 1e-6 : 0.0,
            (unsigned long long)c->blocks_run, lookups ? 100.0 * (double)c->block_hits / (double)lookups : 0.0,
            (unsigned long long)c->block_misses, (unsigned long long)c->mmu.tlb_hits,
            (unsigned long long)c->mmu.tlb_misses, tlb ? 100.0 * (double)c->mmu.tlb_hits / (double)tlb : 0.0);
    fprintf(stderr, "softvisor: stats: block cache flushes: %llu\n", (unsigned long long)c->block_flushes);
    if (c->jit)
        fprintf(stderr, "softvisor: stats: jit: %llu blocks compiled, %llu KiB of code in use\n",
                (unsigned long long)jit_blocks_compiled(c->jit), (unsigned long long)(jit_bytes_used(c->jit) >> 10));
    else
        fprintf(stderr, "softvisor: stats: jit: off\n");
}

static int exit_status(struct pc *pc, enum runloop_exit why, const struct options *o)
{
    switch (why) {
    case RUNLOOP_HALTED:
    case RUNLOOP_POWEROFF:
        return EXIT_HALTED;
    case RUNLOOP_TIMEOUT:
        fprintf(stderr, "softvisor: timeout: %.3f s of virtual time reached\n", (double)o->timeout_ns * 1e-9);
        return EXIT_TIMEOUT;
    case RUNLOOP_SHUTDOWN:
        fprintf(stderr, "softvisor: triple fault at %04x:%08x, machine stopped\n",
                pc->cpu.segs[S_CS].sel, pc->cpu.eip);
        return EXIT_TRIPLE_FAULT;
    case RUNLOOP_STOPPED:
        fprintf(stderr, "softvisor: stopped\n");
        return EXIT_HALTED;
    }
    return EXIT_HOST_ERROR;
}

static int fail(const char *msg)
{
    fprintf(stderr, "softvisor: %s\n", msg);
    return -1;
}

static int load_firmware(struct session *s, struct pc_config *cfg)
{
    char err[512];
    const char *bios = s->o.bios ? s->o.bios : DEFAULT_BIOS;
    struct stat st;
    if (!s->o.bios && stat(bios, &st) < 0) {
        snprintf(err, sizeof(err), "%s: %s (install the seabios package, or give --bios FILE)",
                 bios, strerror(errno));
        return fail(err);
    }
    if (pc_read_rom_file(bios, &s->rom, &cfg->rom_size, err, sizeof(err)) < 0)
        return fail(err);
    cfg->rom = s->rom;
    const char *vga = s->o.vgabios ? s->o.vgabios : DEFAULT_VGABIOS;
    if (!strcmp(vga, "none") || (!s->o.vgabios && stat(vga, &st) < 0))
        return 0;                        /* no VGA BIOS: a text-less machine */
    size_t n;
    if (pc_read_file(vga, &s->vgabios, &n, 1u << 20, err, sizeof(err)) < 0)
        return fail(err);
    if (n < 512 || s->vgabios[0] != 0x55 || s->vgabios[1] != 0xAA) {
        snprintf(err, sizeof(err), "%s: not an option ROM (no 55 AA signature)", vga);
        return fail(err);
    }
    cfg->vgabios = s->vgabios;
    cfg->vgabios_size = (uint32_t)n;
    return 0;
}

static int open_block(const char *path, int ro, struct blockdev **out)
{
    char err[600];
    *out = block_open_raw(path, ro, err, sizeof(err));
    return *out ? 0 : fail(err);
}

/* IDE slots: 0 primary master, 1 primary slave, 2 secondary master (the
 * CD-ROM when there is one), 3 secondary slave. */
static int open_storage(struct session *s, struct pc_config *cfg)
{
    static const int disk_slots[OPT_MAX_DISKS] = { 0, 1, 3 };
    cfg->cdrom_slot = -1;
    for (int i = 0; i < s->o.ndisks; i++)
        if (open_block(s->o.disk[i], s->o.disk_ro[i], &s->disks[disk_slots[i]]) < 0)
            return -1;
    if (s->o.cdrom) {
        if (open_block(s->o.cdrom, 1, &s->disks[2]) < 0)
            return -1;
        cfg->cdrom_slot = 2;
    }
    if (s->o.floppy && open_block(s->o.floppy, 0, &s->floppy) < 0) {
        /* A write-protected floppy image is still bootable: try read-only. */
        if (errno == EACCES || errno == EROFS) {
            if (open_block(s->o.floppy, 1, &s->floppy) < 0)
                return -1;
        } else {
            return -1;
        }
    }
    memcpy(cfg->disks, s->disks, sizeof(cfg->disks));
    cfg->floppy = s->floppy;
    cfg->boot = s->o.boot;
    return 0;
}

static int load_kernel(struct session *s, struct pc_config *cfg)
{
    char err[512];
    if (!s->o.kernel)
        return 0;
    if (pc_read_file(s->o.kernel, &s->kernel, &cfg->kernel_size, 256u << 20, err, sizeof(err)) < 0)
        return fail(err);
    cfg->kernel = s->kernel;
    cfg->kernel_name = s->o.kernel;
    if (s->o.initrd) {
        if (pc_read_file(s->o.initrd, &s->initrd, &cfg->initrd_size, 2048u << 20, err, sizeof(err)) < 0)
            return fail(err);
        cfg->initrd = s->initrd;
    }
    cfg->cmdline = s->o.append ? s->o.append : "";
    return 0;
}

static int open_serial(struct session *s, struct pc_config *cfg)
{
    char err[512];
    int n = s->o.nserial;
    const char *def[1] = { "stdio" };
    const char *const *specs = n ? s->o.serial : def;
    if (!n)
        n = 1;
    for (int i = 0; i < n; i++) {
        s->serial[i] = chardev_open(specs[i], err, sizeof(err));
        if (!s->serial[i]) {
            fprintf(stderr, "softvisor: --serial: %s\n", err);
            return -1;
        }
        cfg->serial[i] = s->serial[i];
    }
    return 0;
}

static int open_debugcon(struct session *s, struct pc_config *cfg)
{
    const char *dest = s->o.debugcon;
    if (!strcmp(dest, "none"))
        return 0;
    s->con = !strcmp(dest, "stdio") ? stdout : fopen(dest, "wb");
    if (!s->con) {
        fprintf(stderr, "softvisor: %s: %s\n", dest, strerror(errno));
        return -1;
    }
    cfg->debugcon_sink = sink_file;
    cfg->debugcon_opaque = s->con;
    return 0;
}

/* Inputs are all checked before any output file is created, so a bad
 * command leaves nothing behind. */
static struct pc *build(struct session *s)
{
    char err[600];
    struct pc_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.ram_mib = s->o.ram_mib;
    cfg.apic = s->o.apic;
    cfg.log_unclaimed = s->o.log_unclaimed;
    cfg.rtc_start = s->o.rtc_start < 0 ? (int64_t)time(NULL) : s->o.rtc_start;
    if (load_firmware(s, &cfg) < 0 || open_storage(s, &cfg) < 0 || load_kernel(s, &cfg) < 0 ||
        open_serial(s, &cfg) < 0 || open_debugcon(s, &cfg) < 0)
        return NULL;
    struct pc *pc = pc_create(&cfg, err, sizeof(err));
    if (!pc)
        fprintf(stderr, "softvisor: %s\n", err);
    else if (s->o.no_jit)
        cpu_set_jit(&pc->cpu, 0);
    return pc;
}

static int write_screen(struct pc *pc, const char *path)
{
    size_t need = pc_screen_text(pc, NULL, 0);
    char *buf = malloc(need + 1);
    FILE *f = buf ? fopen(path, "wb") : NULL;
    if (!f) {
        fprintf(stderr, "softvisor: %s: %s\n", path, buf ? strerror(errno) : "out of memory");
        free(buf);
        return -1;
    }
    pc_screen_text(pc, buf, need + 1);
    int ok = fwrite(buf, 1, need, f) == need;
    ok &= fclose(f) == 0;
    free(buf);
    if (!ok)
        fprintf(stderr, "softvisor: %s: %s\n", path, strerror(errno));
    return ok ? 0 : -1;
}

static void cleanup(struct session *s)
{
    for (int i = 0; i < PC_SERIAL_PORTS; i++)
        chardev_close(s->serial[i]);
    for (int i = 0; i < PC_DISKS; i++)
        block_close(s->disks[i]);
    block_close(s->floppy);
    if (s->con && s->con != stdout && fclose(s->con) != 0)
        fprintf(stderr, "softvisor: %s: %s\n", s->o.debugcon, strerror(errno));
    else if (s->con)
        fflush(s->con);
    free(s->rom);
    free(s->vgabios);
    free(s->kernel);
    free(s->initrd);
}

int main(int argc, char **argv)
{
    struct session s;
    memset(&s, 0, sizeof(s));
    int status = options_parse(&s.o, argc, argv);
    if (status)
        return status;
    if (s.o.help) {
        options_usage(stdout);
        return EXIT_HALTED;
    }
    struct pc *pc = build(&s);
    if (!pc) {
        cleanup(&s);
        return EXIT_HOST_ERROR;
    }
    double t0 = host_seconds();
    enum runloop_exit why = pc_run(pc, s.o.timeout_ns);
    double host_s = host_seconds() - t0;
    fflush(stdout);
    status = exit_status(pc, why, &s.o);
    if (s.o.screen_dump && write_screen(pc, s.o.screen_dump) < 0 && !status)
        status = EXIT_HOST_ERROR;
    if (s.o.stats)
        print_stats(pc, why, host_s);
    pc_destroy(pc);
    cleanup(&s);
    return status;
}
