/* The command line: parsed into struct options, or refused with one line on
 * stderr naming the option and the problem. */
#ifndef SV_UI_OPTIONS_H
#define SV_UI_OPTIONS_H
#include <stdint.h>
#include <stdio.h>

/* Exit statuses, documented in --help and README.md. */
enum {
    EXIT_HALTED = 0,       /* guest powered off, or halted for good */
    EXIT_HOST_ERROR = 1,   /* bad file, out of memory, ... */
    EXIT_USAGE = 2,        /* bad command line */
    EXIT_TIMEOUT = 3,      /* --timeout reached */
    EXIT_TRIPLE_FAULT = 4, /* the guest triple-faulted */
};

#define OPT_MAX_SERIAL 4
#define OPT_MAX_DISKS 3

/* Where SeaBIOS and its VGA BIOS come from by default (Debian/Ubuntu package
 * "seabios"). */
#define DEFAULT_BIOS    "/usr/share/seabios/bios.bin"
#define DEFAULT_VGABIOS "/usr/share/seabios/vgabios-stdvga.bin"
/* The RTC's start in headless mode: 2026-01-01 00:00:00 UTC. */
#define DEFAULT_RTC_START 1767225600

struct options {
    const char *bios;          /* firmware image (NULL: the default SeaBIOS) */
    const char *vgabios;       /* VGA option ROM (NULL: the default; "none") */
    uint32_t ram_mib;
    int headless;
    uint64_t timeout_ns;       /* virtual time; UINT64_MAX: none */
    const char *debugcon;      /* "stdio", "none" or a file name */
    const char *serial[OPT_MAX_SERIAL];
    int nserial;
    const char *screen_dump;
    int stats;
    int help;
    const char *disk[OPT_MAX_DISKS];
    int disk_ro[OPT_MAX_DISKS];
    int ndisks;
    const char *cdrom, *floppy;
    int boot;                  /* enum pc_boot */
    const char *kernel, *initrd, *append;
    int64_t rtc_start;
    int apic;
    int no_jit;         /* --no-jit */
    int log_unclaimed;
};

/* Returns 0, or an exit status (EXIT_USAGE) after printing one line. */
int options_parse(struct options *o, int argc, char **argv);
void options_usage(FILE *out);

#endif
