/* Shared test rig for the IDE suites (ata, atapi, piix_ide): one channel
 * mapped where the PC board maps the primary channel (0x1F0-0x1F7, 0x3F6),
 * the PIIX3 IDE function with BAR4 programmed to 0xC000, 1 MiB of RAM, a
 * stepped virtual clock and a fake IRQ sink. Images are temporary files
 * filled with a known pattern. */
#ifndef IDE_RIG_H
#define IDE_RIG_H
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "devices/ata.h"
#include "devices/atapi.h"
#include "devices/piix_ide.h"
#include "devices/backends/block.h"
#include "mmu/physmem.h"

#define CMD 0x1F0
#define CTL 0x3F6
#define BMB 0xC000

struct rig {
    struct vclock clk;
    struct bus io;
    struct pci_bus pci;
    struct physmem pm;
    struct ata_channel ch;
    struct piix_ide ide;
    struct blockdev *blk[2];
    char path[2][64];
    int level, nrise;
};

static inline uint8_t pat(uint64_t off, int unit)
{
    uint64_t s = off >> 9;
    return (uint8_t)(s * 31 + (off & 511) * 7 + (s >> 8) + unit * 0x55);
}

/* A temporary image of `size` bytes with the pattern (sparse beyond `fill`). */
static inline void make_image(char *path, uint64_t size, uint64_t fill, int unit)
{
    strcpy(path, "/tmp/sv-ide-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
    static uint8_t chunk[65536];
    for (uint64_t off = 0; off < fill; off += sizeof(chunk)) {
        for (size_t i = 0; i < sizeof(chunk); i++)
            chunk[i] = pat(off + i, unit);
        size_t n = fill - off < sizeof(chunk) ? (size_t)(fill - off) : sizeof(chunk);
        ck_assert_int_eq(pwrite(fd, chunk, n, (off_t)off), (ssize_t)n);
    }
    close(fd);
}

static inline void file_read(const char *path, uint64_t off, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
    close(fd);
}

static void rig_sink(void *opaque, int n, int level)
{
    struct rig *r = opaque;
    (void)n;
    if (level)
        r->nrise++;
    r->level = level;
}

static inline void outb(struct rig *r, uint32_t port, uint32_t v) { bus_write(&r->io, port, v & 0xFF, 1); }
static inline void outw(struct rig *r, uint32_t port, uint32_t v) { bus_write(&r->io, port, v & 0xFFFF, 2); }
static inline void outl(struct rig *r, uint32_t port, uint32_t v) { bus_write(&r->io, port, v, 4); }
static inline uint8_t inb(struct rig *r, uint32_t port) { return (uint8_t)bus_read(&r->io, port, 1); }
static inline uint16_t inw(struct rig *r, uint32_t port) { return (uint16_t)bus_read(&r->io, port, 2); }
static inline uint32_t inl(struct rig *r, uint32_t port) { return bus_read(&r->io, port, 4); }
static inline void step(struct rig *r, uint64_t ns) { vclock_advance(&r->clk, vclock_now(&r->clk) + ns); }

/* Builds the rig around an existing clock time (for state round trips). */
static inline struct rig *rig_new_at(uint64_t now)
{
    struct rig *r = calloc(1, sizeof(*r));
    vclock_init(&r->clk);
    r->clk.now = now;
    bus_init(&r->io, "io");
    r->io.quiet = 1;
    pci_bus_init(&r->pci);
    ck_assert_int_eq(physmem_init(&r->pm, 1u << 20), 0);
    ata_init(&r->ch, &r->clk, 0);
    irq_connect(&r->ch.irq, rig_sink, r, 14);
    ck_assert_int_eq(bus_map(&r->io, CMD, 8, &ata_cmd_ops, &r->ch), 0);
    ck_assert_int_eq(bus_map(&r->io, CTL, 1, &ata_ctrl_ops, &r->ch), 0);
    ck_assert_int_eq(piix_ide_init(&r->ide, &r->pci, 0x09, &r->io, &r->pm, &r->ch, NULL), 0);
    pci_config_write(&r->pci, 0x09, PCI_BAR0 + 16, BMB, 4);
    pci_config_write(&r->pci, 0x09, PCI_COMMAND, PCI_CMD_IO | PCI_CMD_MASTER, 2);
    return r;
}

static inline struct rig *rig_new(void) { return rig_new_at(0); }

static inline struct blockdev *rig_open(struct rig *r, int unit, int readonly)
{
    char err[256];
    struct blockdev *b = block_open_raw(r->path[unit], readonly, err, sizeof(err));
    ck_assert_msg(b != NULL, "%s", err);
    r->blk[unit] = b;
    return b;
}

/* A disk of `size` bytes (pattern in the first `fill` bytes) as unit `unit`. */
static inline void rig_disk(struct rig *r, int unit, uint64_t size, uint64_t fill, int readonly)
{
    make_image(r->path[unit], size, fill, unit);
    ck_assert_int_eq(ata_attach_disk(&r->ch, unit, rig_open(r, unit, readonly)), 0);
}

static inline void rig_free(struct rig *r)
{
    for (int i = 0; i < 2; i++) {
        if (r->blk[i])
            block_close(r->blk[i]);
        if (r->path[i][0])
            unlink(r->path[i]);
    }
    physmem_free(&r->pm);
    free(r);
}

/* LBA28 task file and a command. */
static inline void ata_cmd28(struct rig *r, int unit, uint32_t lba, uint8_t count, uint8_t cmd)
{
    outb(r, CMD + 6, 0xE0 | (unit << 4) | ((lba >> 24) & 0x0F));
    outb(r, CMD + 2, count);
    outb(r, CMD + 3, lba);
    outb(r, CMD + 4, lba >> 8);
    outb(r, CMD + 5, lba >> 16);
    outb(r, CMD + 7, cmd);
}

/* Saves a channel's state (malloc'd; *len set). */
static inline uint8_t *save_state(const struct device_ops *ops, void *dev, size_t *len)
{
    size_t sz = state_size(ops->fields);
    uint8_t *b = malloc(sz);
    ck_assert_uint_eq(state_save(ops->fields, dev, b), sz);
    *len = sz;
    return b;
}

/* Loads a into a fresh rig b (same images reattached), post_load, then
 * checks that saving b gives the same bytes for both devices. */
static inline void roundtrip(struct rig *a, struct rig *b)
{
    size_t la, lb, pa, pb;
    uint8_t *sa = save_state(&ata_device_ops, &a->ch, &la);
    uint8_t *pia = save_state(&piix_ide_device_ops, &a->ide, &pa);
    ck_assert_uint_eq(state_load(ata_device_ops.fields, &b->ch, sa, la), la);
    ck_assert_uint_eq(state_load(piix_ide_device_ops.fields, &b->ide, pia, pa), pa);
    ck_assert_int_eq(ata_device_ops.post_load(&b->ch), 0);
    ck_assert_int_eq(piix_ide_device_ops.post_load(&b->ide), 0);
    uint8_t *sb = save_state(&ata_device_ops, &b->ch, &lb);
    uint8_t *pib = save_state(&piix_ide_device_ops, &b->ide, &pb);
    ck_assert_uint_eq(la, lb);
    ck_assert_uint_eq(pa, pb);
    ck_assert(memcmp(sa, sb, la) == 0);
    ck_assert(memcmp(pia, pib, pa) == 0);
    free(sa); free(sb); free(pia); free(pib);
}

#endif
