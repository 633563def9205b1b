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
        "Usage: softvisor [options] [FIRMWARE]\n"
        "Softvisor: a pure-software x86 PC emulator (i440FX/PIIX PC, SeaBIOS).\n"
        "\n"
        "Machine:\n"
        "  --bios FILE         firmware image (also the FIRMWARE argument; --rom is the\n"
        "                      same): a multiple of 4 KiB, at most 1 MiB, mapped at the\n"
        "                      top of 4 GiB with its last 128 KiB below 1 MiB.\n"
        "                      Default: " DEFAULT_BIOS " (package seabios)\n"
        "  --vgabios FILE      VGA option ROM in the PCI VGA's ROM BAR, or 'none'.\n"
        "                      Default: " DEFAULT_VGABIOS "\n"
        "  -m, --memory MIB    guest RAM in MiB, %u-%u (default %u)\n"
        "  --no-apic           no local APIC and I/O APIC (default: both, in CPUID and\n"
        "                      the ACPI MADT); the 8259s then reach the CPU directly\n"
        "  --no-jit            interpret every instruction (default: hot blocks are\n"
        "                      compiled to host code on x86-64 hosts; same results)\n"
        "  --rtc-start WHEN    RTC start: 'now' (host clock) or seconds since 1970 UTC\n"
        "                      (default %d, 2026-01-01, so runs are reproducible)\n"
        "\n"
        "Storage and boot:\n"
        "  --disk FILE[,ro]    raw disk image on IDE (up to %d; ',ro' opens it\n"
        "                      read-only and the guest can never write it)\n"
        "  --cdrom FILE        ISO image in the IDE CD-ROM (secondary master)\n"
        "  --floppy FILE       1.44 MB (or 720 KB, 2.88 MB) floppy image\n"
        "  --boot DEV          first boot device: disk, cdrom or floppy\n"
        "  --kernel FILE       boot a Linux bzImage or multiboot kernel directly;\n"
        "                      Softvisor loads it itself and SeaBIOS does not run\n"
        "  --initrd FILE       initial ramdisk for --kernel\n"
        "  --append CMDLINE    kernel command line for --kernel\n"
        "\n"
        "Input and output:\n"
        "  --headless          run without a window (the only mode so far)\n"
        "  --serial SPEC       next serial port (COM1, then COM2...): stdio, null,\n"
        "                      file:PATH, tcp:HOST:PORT or unix:PATH (listening);\n"
        "                      default: COM1 on stdio. On a terminal, Ctrl-A x quits\n"
        "  --debugcon DEST     debug console (ports 0x402 and 0xE9; SeaBIOS logs to\n"
        "                      0x402): stdio, none (default) or a file name\n"
        "  --screen-dump FILE  write the VGA text screen as UTF-8 text at exit\n"
        "  --timeout SECONDS   stop after SECONDS of virtual time (decimals allowed);\n"
        "                      virtual time is 10 ns per instruction plus the time\n"
        "                      skipped while halted, so a timeout is reproducible\n"
        "  --log-unclaimed     log the first access to each port nothing answers\n"
        "  --stats             print statistics on stderr at exit: instructions,\n"
        "                      virtual and host time, MIPS, blocks, TLB hits\n"
        "  -h, --help          print this help and exit\n"
        "\n"
        "Exit status:\n"
        "  0  the guest powered off (ACPI S5), or halted with interrupts off\n"
        "  1  host error (missing or bad firmware, disk, kernel; out of memory)\n"
        "  2  usage error (unknown option, bad value)\n"
        "  3  the --timeout was reached\n"
        "  4  the guest triple-faulted\n",
        PC_RAM_MIB_MIN, PC_RAM_MIB_MAX, PC_RAM_MIB_DEFAULT, DEFAULT_RTC_START, OPT_MAX_DISKS);
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

static int parse_rtc(struct options *o, const char *opt, const char *v)
{
    if (!strcmp(v, "now")) {
        o->rtc_start = -1;
        return 0;
    }
    char *end;
    errno = 0;
    long long t = strtoll(v, &end, 10);
    if (!*v || *end || errno || t < 0 || t > 4102444799LL)
        return usage_error(opt, v, "is not 'now' or seconds since 1970 (up to 2099)");
    o->rtc_start = t;
    return 0;
}

static int add_disk(struct options *o, const char *opt, const char *v)
{
    if (o->ndisks >= OPT_MAX_DISKS)
        return usage_error(opt, v, "is one disk too many");
    size_t n = strlen(v);
    int ro = n > 3 && !strcmp(v + n - 3, ",ro");
    if (!*v || (ro && n == 3))
        return usage_error(opt, NULL, "empty file name");
    if (ro) {
        char *copy = strdup(v);
        if (!copy)
            return usage_error(opt, v, "out of memory");
        copy[n - 3] = 0;
        v = copy;                         /* lives until exit */
    }
    o->disk[o->ndisks] = v;
    o->disk_ro[o->ndisks++] = ro;
    return 0;
}

static int parse_boot(struct options *o, const char *opt, const char *v)
{
    if (!strcmp(v, "disk") || !strcmp(v, "c"))
        o->boot = PC_BOOT_DISK;
    else if (!strcmp(v, "cdrom") || !strcmp(v, "d"))
        o->boot = PC_BOOT_CDROM;
    else if (!strcmp(v, "floppy") || !strcmp(v, "a"))
        o->boot = PC_BOOT_FLOPPY;
    else
        return usage_error(opt, v, "is not disk, cdrom or floppy");
    return 0;
}

static const char *const valued[] = {
    "--bios", "--rom", "--vgabios", "--memory", "-m", "--timeout", "--debugcon", "--serial",
    "--screen-dump", "--disk", "--cdrom", "--floppy", "--boot", "--kernel", "--initrd",
    "--append", "--rtc-start", NULL
};
static const char *const flags[] = { "--headless", "--stats", "--help", "-h", "--apic", "--no-apic",
                                     "--log-unclaimed", "--no-jit", NULL };

static int in_list(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (!strcmp(*list, name))
            return 1;
    return 0;
}

static int set_string(const char **dst, const char *opt, const char *v)
{
    if (!*v)
        return usage_error(opt, NULL, "empty value");
    if (*dst)
        return usage_error(opt, v, "given twice");
    *dst = v;
    return 0;
}

static int apply(struct options *o, const char *name, const char *v)
{
    if (!strcmp(name, "--bios") || !strcmp(name, "--rom"))
        return set_string(&o->bios, name, v);
    if (!strcmp(name, "--vgabios"))
        return set_string(&o->vgabios, name, v);
    if (!strcmp(name, "--memory") || !strcmp(name, "-m"))
        return parse_memory(o, name, v);
    if (!strcmp(name, "--timeout"))
        return parse_timeout(o, name, v);
    if (!strcmp(name, "--debugcon")) {
        o->debugcon = NULL;
        return set_string(&o->debugcon, name, v);
    }
    if (!strcmp(name, "--serial")) {
        if (o->nserial >= OPT_MAX_SERIAL)
            return usage_error(name, v, "is one serial port too many (COM1-COM4)");
        if (!*v)
            return usage_error(name, NULL, "empty value");
        o->serial[o->nserial++] = v;
        return 0;
    }
    if (!strcmp(name, "--screen-dump"))
        return set_string(&o->screen_dump, name, v);
    if (!strcmp(name, "--disk"))
        return add_disk(o, name, v);
    if (!strcmp(name, "--cdrom"))
        return set_string(&o->cdrom, name, v);
    if (!strcmp(name, "--floppy"))
        return set_string(&o->floppy, name, v);
    if (!strcmp(name, "--boot"))
        return parse_boot(o, name, v);
    if (!strcmp(name, "--kernel"))
        return set_string(&o->kernel, name, v);
    if (!strcmp(name, "--initrd"))
        return set_string(&o->initrd, name, v);
    if (!strcmp(name, "--append")) {
        o->append = v;
        return 0;
    }
    if (!strcmp(name, "--rtc-start"))
        return parse_rtc(o, name, v);
    if (!strcmp(name, "--headless"))
        o->headless = 1;
    else if (!strcmp(name, "--stats"))
        o->stats = 1;
    else if (!strcmp(name, "--apic"))
        o->apic = 1;
    else if (!strcmp(name, "--no-apic"))
        o->apic = 0;
    else if (!strcmp(name, "--log-unclaimed"))
        o->log_unclaimed = 1;
    else if (!strcmp(name, "--no-jit"))
        o->no_jit = 1;
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
    if (!in_list(valued, name)) {
        if (!in_list(flags, name))
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
    o->debugcon = "none";
    o->rtc_start = DEFAULT_RTC_START;
    o->apic = 1;
    int only_args = 0;
    for (int i = 1; i < argc;) {
        const char *a = argv[i];
        if (only_args || a[0] != '-' || !a[1]) {
            if (o->bios)
                return usage_error(a, NULL, "a second firmware image (only one is allowed)");
            if (set_string(&o->bios, "FIRMWARE", a))
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
    if ((o->initrd || o->append) && !o->kernel)
        return usage_error(o->initrd ? "--initrd" : "--append", NULL, "needs --kernel");
    return 0;
}
