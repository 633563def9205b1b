/* SMBIOS tables (DMTF DSP0134 version 2.8: types 0, 1, 3, 4, 16, 17, 19, 32,
 * 127) describing the emulated PC. Not built: caches (type 7), slots (9),
 * port connectors (8), OEM strings (11). */
#include "devices/smbios_tables.h"
#include <stdlib.h>
#include <string.h>
#include "mmu/physmem.h"
#include "snapshot/state.h"

#define SMBIOS_MAX 4096

struct sbuf {
    uint8_t *p;
    size_t len, max_struct;
    uint16_t count, handle;
};

/* Appends one structure: the formatted area (its length byte at [1]) and its
 * strings, each NUL-terminated, ending with an extra NUL. */
static void add(struct sbuf *b, uint8_t *fmt, const char *const *strs, int nstr)
{
    uint8_t *start = b->p + b->len;
    put_le16(fmt + 2, b->handle++);
    memcpy(start, fmt, fmt[1]);
    size_t n = fmt[1];
    for (int i = 0; i < nstr; i++) {
        size_t l = strlen(strs[i]);
        memcpy(start + n, strs[i], l + 1);
        n += l + 1;
    }
    if (nstr == 0)
        start[n++] = 0;
    start[n++] = 0;
    b->len += n;
    b->count++;
    if (n > b->max_struct)
        b->max_struct = n;
}

static void type0(struct sbuf *b)
{
    uint8_t f[0x18] = { 0, 0x18 };
    f[4] = 1; f[5] = 2; put_le16(f + 6, 0xE800); f[8] = 3; f[9] = 0;
    put_le64(f + 10, 1u << 3);           /* characteristics not supported */
    f[19] = 1u << 4;                     /* ext 2: virtual machine */
    f[20] = 0; f[21] = 0; f[22] = 0xFF; f[23] = 0xFF;
    const char *s[] = { "Softvisor", "Softvisor", "01/01/2026" };
    add(b, f, s, 3);
}

static void type1(struct sbuf *b, const struct smbios_config *c)
{
    uint8_t f[0x1B] = { 1, 0x1B };
    f[4] = 1; f[5] = 2; f[6] = 3; f[7] = 0;
    memcpy(f + 8, c->uuid, 16);
    f[24] = 6;                           /* wake-up: power switch */
    const char *s[] = { "Softvisor", "Standard PC (i440FX + PIIX, 1996)", "1.0" };
    add(b, f, s, 3);
}

static void type3(struct sbuf *b)
{
    uint8_t f[0x15] = { 3, 0x15 };
    f[4] = 1; f[5] = 1; f[9] = 3; f[10] = 3; f[11] = 3; f[12] = 2;
    const char *s[] = { "Softvisor" };
    add(b, f, s, 1);
}

static void type4(struct sbuf *b, const struct smbios_config *c)
{
    uint8_t f[0x28] = { 4, 0x28 };
    f[4] = 1; f[5] = 3; f[6] = 1; f[7] = 2;
    put_le32(f + 8, c->cpuid_eax);
    put_le32(f + 12, c->cpuid_edx);
    f[16] = 0;
    put_le16(f + 18, 0);                 /* external clock unknown */
    put_le16(f + 20, 2000);
    put_le16(f + 22, 2000);
    f[24] = 0x41;                        /* populated, enabled */
    f[25] = 1;
    put_le16(f + 26, 0xFFFF); put_le16(f + 28, 0xFFFF); put_le16(f + 30, 0xFFFF);
    f[35] = 1; f[36] = 1; f[37] = 1;     /* cores, enabled, threads */
    put_le16(f + 38, 2);
    const char *s[] = { "CPU 0", "GenuineIntel" };
    add(b, f, s, 2);
}

static void memory(struct sbuf *b, const struct smbios_config *c)
{
    uint64_t kib = (c->ram_below_4g + c->ram_above_4g) >> 10;
    uint16_t array = b->handle;
    uint8_t a[0x0F] = { 16, 0x0F };
    a[4] = 3; a[5] = 3; a[6] = 3;
    put_le32(a + 7, (uint32_t)(kib > 0x7FFFFFFF ? 0x80000000u : kib));
    put_le16(a + 11, 0xFFFE);
    put_le16(a + 13, 1);
    add(b, a, NULL, 0);

    uint8_t d[0x1B] = { 17, 0x1B };
    put_le16(d + 4, array);
    put_le16(d + 6, 0xFFFE);
    put_le16(d + 8, 64); put_le16(d + 10, 64);
    uint64_t mib = kib >> 10;
    put_le16(d + 12, (uint16_t)(mib < 0x7FFF ? mib : 0x7FFF));
    d[14] = 9; d[16] = 1; d[18] = 7;
    put_le16(d + 19, 2);
    const char *s[] = { "DIMM 0" };
    add(b, d, s, 1);

    uint64_t ranges[2][2] = { { 0, c->ram_below_4g }, { 1ull << 32, c->ram_above_4g } };
    for (int i = 0; i < 2; i++) {
        if (!ranges[i][1])
            continue;
        uint8_t m[0x0F] = { 19, 0x0F };
        put_le32(m + 4, (uint32_t)(ranges[i][0] >> 10));
        put_le32(m + 8, (uint32_t)((ranges[i][0] + ranges[i][1] - 1) >> 10));
        put_le16(m + 12, array);
        m[14] = 1;
        add(b, m, NULL, 0);
    }
}

int smbios_build(const struct smbios_config *c, struct smbios_blobs *out)
{
    memset(out, 0, sizeof(*out));
    struct sbuf b = { calloc(1, SMBIOS_MAX), 0, 0, 0, 0 };
    if (!b.p)
        return -1;
    type0(&b);
    type1(&b, c);
    type3(&b);
    type4(&b, c);
    memory(&b, c);
    uint8_t boot[0x0B] = { 32, 0x0B };
    add(&b, boot, NULL, 0);
    uint8_t end[4] = { 127, 4 };
    add(&b, end, NULL, 0);

    uint8_t *e = out->anchor;
    memcpy(e, "_SM_", 4);
    e[5] = 0x1F; e[6] = 2; e[7] = 8;
    put_le16(e + 8, (uint16_t)b.max_struct);
    memcpy(e + 16, "_DMI_", 5);
    put_le16(e + 22, (uint16_t)b.len);
    put_le32(e + 24, 0);                 /* table address: set by the firmware */
    put_le16(e + 28, b.count);
    e[30] = 0x28;
    uint8_t s = 0;
    for (int i = 16; i < 31; i++)
        s = (uint8_t)(s + e[i]);
    e[21] = (uint8_t)-s;
    s = 0;
    for (int i = 0; i < 31; i++)
        s = (uint8_t)(s + e[i]);
    e[4] = (uint8_t)-s;
    out->tables = b.p;
    out->tables_len = b.len;
    return 0;
}

void smbios_blobs_free(struct smbios_blobs *b)
{
    free(b->tables);
    memset(b, 0, sizeof(*b));
}

/* For boots without firmware: the tables at tables_addr, the entry point at
 * anchor_addr (16-byte aligned, 0xF0000-0xFFFFF) with the address filled in
 * and both checksums made good again. */
void smbios_install(struct physmem *pm, const struct smbios_blobs *b, uint32_t tables_addr, uint32_t anchor_addr)
{
    uint8_t e[31];
    memcpy(e, b->anchor, sizeof(e));
    put_le32(e + 24, tables_addr);
    e[21] = 0;
    uint8_t s = 0;
    for (int i = 16; i < 31; i++)
        s = (uint8_t)(s + e[i]);
    e[21] = (uint8_t)-s;
    e[4] = 0;
    s = 0;
    for (int i = 0; i < 31; i++)
        s = (uint8_t)(s + e[i]);
    e[4] = (uint8_t)-s;
    phys_write_block(pm, tables_addr, b->tables, b->tables_len);
    phys_write_block(pm, anchor_addr, e, sizeof(e));
}
