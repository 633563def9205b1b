/* The command line: parsed into struct options, or refused with one line on
 * stderr naming the option and the problem. */
#ifndef SV_UI_OPTIONS_H
#define SV_UI_OPTIONS_H
#include <stdint.h>
#include <stdio.h>

/* Exit statuses, documented in --help and README.md. */
enum {
    EXIT_HALTED = 0,       /* guest halted or powered off */
    EXIT_HOST_ERROR = 1,   /* bad file, out of memory, ... */
    EXIT_USAGE = 2,        /* bad command line */
    EXIT_TIMEOUT = 3,      /* --timeout reached */
    EXIT_TRIPLE_FAULT = 4, /* the guest triple-faulted */
};

struct options {
    const char *rom;           /* flat ROM image */
    uint32_t ram_mib;
    int headless;
    uint64_t timeout_ns;       /* virtual time; UINT64_MAX: none */
    const char *debugcon;      /* "stdio", "none" or a file name */
    int stats;
    int help;
};

/* Returns 0, or an exit status (EXIT_USAGE) after printing one line. */
int options_parse(struct options *o, int argc, char **argv);
void options_usage(FILE *out);

#endif
