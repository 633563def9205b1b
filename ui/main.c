/* The softvisor command: parse options, load the ROM, build the PC, run it
 * headless and turn the way the run ended into an exit status. Host time is
 * read here only, for --stats. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "devices/pc.h"
#include "ui/options.h"

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
    fprintf(stderr,
            "softvisor: stats: end: %s\n"
            "softvisor: stats: instructions retired: %llu\n"
            "softvisor: stats: virtual time: %.6f s (%.6f s skipped in HLT)\n"
            "softvisor: stats: host time: %.6f s, %.2f MIPS\n"
            "softvisor: stats: blocks run: %llu (cache hits %llu, misses %llu)\n"
            "softvisor: stats: TLB hits: %llu, misses: %llu\n",
            runloop_exit_name(why), (unsigned long long)c->icount, virt_s, halted_s, host_s,
            host_s > 0 ? (double)c->icount / host_s * 1e-6 : 0.0,
            (unsigned long long)c->blocks_run, (unsigned long long)c->block_hits,
            (unsigned long long)c->block_misses, (unsigned long long)c->mmu.tlb_hits,
            (unsigned long long)c->mmu.tlb_misses);
}

static int exit_status(struct pc *pc, enum runloop_exit why, const struct options *o)
{
    switch (why) {
    case RUNLOOP_HALTED:
        return EXIT_HALTED;
    case RUNLOOP_TIMEOUT:
        fprintf(stderr, "softvisor: timeout: %.3f s of virtual time reached\n",
                (double)o->timeout_ns * 1e-9);
        return EXIT_TIMEOUT;
    case RUNLOOP_SHUTDOWN:
        fprintf(stderr, "softvisor: triple fault at %04x:%08x, machine stopped\n",
                pc->cpu.segs[S_CS].sel, pc->cpu.eip);
        return EXIT_TRIPLE_FAULT;
    case RUNLOOP_STOPPED:
        break;
    }
    return EXIT_HOST_ERROR;
}

static FILE *open_debugcon(const char *dest)
{
    if (!strcmp(dest, "stdio"))
        return stdout;
    if (!strcmp(dest, "none"))
        return NULL;
    FILE *f = fopen(dest, "wb");
    if (!f)
        fprintf(stderr, "softvisor: %s: %s\n", dest, strerror(errno));
    return f;
}

/* Builds the machine; the ROM is checked before the debugcon file is
 * created, so a bad ROM leaves no empty log behind. */
static struct pc *build(const struct options *o, FILE **con)
{
    char err[256];
    struct pc_config cfg = { .ram_mib = o->ram_mib };
    uint8_t *rom;
    if (pc_read_rom_file(o->rom, &rom, &cfg.rom_size, err, sizeof(err)) < 0) {
        fprintf(stderr, "softvisor: %s\n", err);
        return NULL;
    }
    *con = open_debugcon(o->debugcon);
    if (!*con && strcmp(o->debugcon, "none")) {
        free(rom);
        return NULL;
    }
    cfg.rom = rom;
    cfg.debugcon_sink = *con ? sink_file : NULL;
    cfg.debugcon_opaque = *con;
    struct pc *pc = pc_create(&cfg, err, sizeof(err));
    free(rom);
    if (!pc)
        fprintf(stderr, "softvisor: %s\n", err);
    return pc;
}

static int run(const struct options *o, struct pc *pc, FILE *con)
{
    double t0 = host_seconds();
    enum runloop_exit why = pc_run(pc, o->timeout_ns);
    double host_s = host_seconds() - t0;
    if (con)
        fflush(con);
    int status = exit_status(pc, why, o);
    if (o->stats)
        print_stats(pc, why, host_s);
    pc_destroy(pc);
    return status;
}

int main(int argc, char **argv)
{
    struct options o;
    int status = options_parse(&o, argc, argv);
    if (status)
        return status;
    if (o.help) {
        options_usage(stdout);
        return EXIT_HALTED;
    }
    if (!o.rom) {
        fprintf(stderr, "softvisor: no ROM image given (softvisor [options] ROM; see softvisor --help)\n");
        return EXIT_USAGE;
    }
    /* Only headless so far; a window front end will make --headless matter. */
    FILE *con = NULL;
    struct pc *pc = build(&o, &con);
    if (!pc) {
        if (con && con != stdout)
            fclose(con);
        return EXIT_HOST_ERROR;
    }
    status = run(&o, pc, con);
    if (con && con != stdout && fclose(con) != 0) {
        fprintf(stderr, "softvisor: %s: %s\n", o.debugcon, strerror(errno));
        status = status ? status : EXIT_HOST_ERROR;
    }
    return status;
}
