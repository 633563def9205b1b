/* Command-line parsing: GNU-style long options (--opt VALUE, --opt=VALUE) and
 * the short -m/-h, written out by hand so that every refusal is one line that
 * names the option, and so that it builds on hosts without getopt_long. */
#include "ui/options.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "devices/pc.h"

void options_usage(FILE *out)
{
    fprintf(out,
        "Usage: softvisor [options] [ROM]\n"
        "Softvisor: a pure-software x86 PC emulator.\n"
        "\n"
        "Options:\n"
        "  --rom FILE          flat firmware ROM image (same as the ROM argument):\n"
        "                      a multiple of 4 KiB, at most 1 MiB; mapped at the top\n"
        "                      of the 4 GiB space, its last 128 KiB also at 0xE0000\n"
        "  -m, --memory MIB    guest RAM in MiB, %u-%u (default %u)\n"
        "  --headless          run without a window (the only mode so far)\n"
        "  --timeout SECONDS   stop after SECONDS of virtual time (decimals allowed);\n"
        "                      virtual time is 10 ns per instruction, plus the time\n"
        "                      skipped while halted, so a timeout is reproducible\n"
        "  --debugcon DEST     where debug-console output (port 0xE9) goes:\n"
        "                      stdio (default), none, or a file name\n"
        "  --stats             print statistics on stderr at exit: instructions,\n"
        "                      virtual and host time, MIPS, blocks, TLB hits\n"
        "  -h, --help          print this help and exit\n"
        "\n"
        "Exit status:\n"
        "  0  the guest halted (HLT with interrupts off) or powered off\n"
        "  1  host error (unreadable or bad ROM file, out of memory)\n"
        "  2  usage error (unknown option, bad value)\n"
        "  3  the --timeout was reached\n"
        "  4  the guest triple-faulted\n",
        PC_RAM_MIB_MIN, PC_RAM_MIB_MAX, PC_RAM_MIB_DEFAULT);
}

static int usage_error(const char *opt, const char *val, const char *why)
{
    if (val)
        fprintf(stderr, "softvisor: %s: '%s' %s (see softvisor --help)\n", opt, val, why);
    else
        fprintf(stderr, "softvisor: %s: %s (see softvisor --help)\n", opt, why);
    return EXIT_USAGE;
}

static int parse_memory(struct options *o, const char *opt, const char *v)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (!*v || *v == '-' || *end || errno || n < PC_RAM_MIB_MIN || n > PC_RAM_MIB_MAX) {
        char why[64];
        snprintf(why, sizeof(why), "is not a size in MiB from %u to %u", PC_RAM_MIB_MIN, PC_RAM_MIB_MAX);
        return usage_error(opt, v, why);
    }
    o->ram_mib = (uint32_t)n;
    return 0;
}

static int parse_timeout(struct options *o, const char *opt, const char *v)
{
    char *end;
    errno = 0;
    double s = strtod(v, &end);
    /* Up to ~584 years of virtual nanoseconds fit; refuse nan, inf, 0. */
    if (!*v || *end || errno || !(s > 0) || s > 1e9)
        return usage_error(opt, v, "is not a positive number of seconds");
    o->timeout_ns = (uint64_t)(s * 1e9);
    if (o->timeout_ns == 0)
        o->timeout_ns = 1;
    return 0;
}

/* Options that take a value. */
static int takes_value(const char *name)
{
    return !strcmp(name, "--rom") || !strcmp(name, "--memory") || !strcmp(name, "-m") ||
           !strcmp(name, "--timeout") || !strcmp(name, "--debugcon");
}

static int is_flag(const char *name)
{
    return !strcmp(name, "--headless") || !strcmp(name, "--stats") ||
           !strcmp(name, "--help") || !strcmp(name, "-h");
}

static int set_rom(struct options *o, const char *v)
{
    if (o->rom)
        return usage_error(v, NULL, "a second ROM image (only one is allowed)");
    if (!*v)
        return usage_error("--rom", NULL, "empty file name");
    o->rom = v;
    return 0;
}

static int apply(struct options *o, const char *name, const char *v)
{
    if (!strcmp(name, "--rom"))
        return set_rom(o, v);
    if (!strcmp(name, "--memory") || !strcmp(name, "-m"))
        return parse_memory(o, name, v);
    if (!strcmp(name, "--timeout"))
        return parse_timeout(o, name, v);
    if (!strcmp(name, "--debugcon")) {
        if (!*v)
            return usage_error(name, NULL, "empty destination");
        o->debugcon = v;
        return 0;
    }
    if (!strcmp(name, "--headless"))
        o->headless = 1;
    else if (!strcmp(name, "--stats"))
        o->stats = 1;
    else if (!strcmp(name, "--help") || !strcmp(name, "-h"))
        o->help = 1;
    else
        return usage_error(name, NULL, "unknown option");
    return 0;
}

/* One argument (and maybe the next one as its value); returns the number of
 * arguments used, or -EXIT_USAGE. */
static int parse_one(struct options *o, int argc, char **argv, int i)
{
    char name[32];
    const char *a = argv[i], *v = NULL;
    const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
    size_t len = eq ? (size_t)(eq - a) : strlen(a);
    if (!eq && a[1] == 'm' && a[2])                 /* -m64 */
        len = 2, v = a + 2;
    if (len >= sizeof(name))
        return -usage_error(a, NULL, "unknown option");
    memcpy(name, a, len);
    name[len] = 0;
    if (eq)
        v = eq + 1;
    if (!takes_value(name)) {
        if (!is_flag(name))
            return -usage_error(name, NULL, "unknown option");
        if (v)
            return -usage_error(name, NULL, "takes no value");
        return apply(o, name, NULL) ? -EXIT_USAGE : 1;
    }
    if (v)
        return apply(o, name, v) ? -EXIT_USAGE : 1;
    if (i + 1 >= argc)
        return -usage_error(name, NULL, "needs a value");
    return apply(o, name, argv[i + 1]) ? -EXIT_USAGE : 2;
}

int options_parse(struct options *o, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    o->ram_mib = PC_RAM_MIB_DEFAULT;
    o->timeout_ns = UINT64_MAX;
    o->debugcon = "stdio";
    int only_args = 0;
    for (int i = 1; i < argc;) {
        const char *a = argv[i];
        if (only_args || a[0] != '-' || !a[1]) {
            if (set_rom(o, a))
                return EXIT_USAGE;
            i++;
        } else if (!strcmp(a, "--")) {
            only_args = 1;
            i++;
        } else {
            int n = parse_one(o, argc, argv, i);
            if (n < 0)
                return -n;
            i += n;
        }
    }
    return 0;
}
