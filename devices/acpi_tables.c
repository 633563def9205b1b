/* ACPI table builder (ACPI 3.0 spec, ch. 5.2: RSDP, RSDT, FADT rev 3, FACS,
 * MADT) for the PC board. The DSDT comes from roms/acpi-dsdt.asl. Pointers and
 * checksums are left to the firmware through table-loader commands, exactly as
 * SeaBIOS expects them from fw_cfg. Not built: XSDT, HPET, SRAT, SSDTs. */
#include "devices/acpi_tables.h"
#include <stdlib.h>
#include <string.h>
#include "mmu/physmem.h"
#include "snapshot/state.h"

#define FACS_LEN 64
#define FADT_LEN 244
#define TABLES_MAX 8192

uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
    uint8_t s = 0;
    for (size_t i = 0; i < len; i++)
        s = (uint8_t)(s + p[i]);
    return (uint8_t)-s;
}

static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev, const char *table_id)
{
    memcpy(t, sig, 4);
    put_le32(t + 4, len);
    t[8] = rev;
    memcpy(t + 10, "SOFTVI", 6);
    memset(t + 16, ' ', 8);
    memcpy(t + 16, table_id, strlen(table_id) < 8 ? strlen(table_id) : 8);
    put_le32(t + 24, 1);
    memcpy(t + 28, "SFTV", 4);
    put_le32(t + 32, 1);
}

/* Generic address structure, system I/O space. */
static void gas_io(uint8_t *p, uint8_t bits, uint16_t port)
{
    p[0] = 1;
    p[1] = bits;
    p[2] = 0;
    p[3] = bits >= 32 ? 3 : bits >= 16 ? 2 : 1;
    put_le64(p + 4, port);
}

static void build_fadt(uint8_t *f, const struct acpi_config *c, uint32_t facs_off, uint32_t dsdt_off)
{
    header(f, "FACP", FADT_LEN, 3, "SVFACP");
    put_le32(f + 36, facs_off);          /* patched to an address by the loader */
    put_le32(f + 40, dsdt_off);
    f[45] = 0;                           /* preferred PM profile: unspecified */
    put_le16(f + 46, c->sci_irq);
    put_le32(f + 48, c->smi_cmd);
    f[52] = c->acpi_enable;
    f[53] = c->acpi_disable;
    put_le32(f + 56, c->pm_base);        /* PM1a_EVT_BLK */
    put_le32(f + 64, c->pm_base + 4u);   /* PM1a_CNT_BLK */
    put_le32(f + 76, c->pm_base + 8u);   /* PM_TMR_BLK */
    put_le32(f + 80, c->gpe0_base);
    f[88] = 4;                           /* PM1_EVT_LEN */
    f[89] = 2;                           /* PM1_CNT_LEN */
    f[91] = 4;                           /* PM_TMR_LEN */
    f[92] = 4;                           /* GPE0_BLK_LEN */
    put_le16(f + 96, 0x0FFF);            /* no C2 */
    put_le16(f + 98, 0x0FFF);            /* no C3 */
    f[108] = c->rtc_century;
    put_le16(f + 109, 0x0003);           /* legacy devices, 8042 */
    /* WBINVD, PROC_C1, SLP_BUTTON (none), RESET_REG_SUP */
    put_le32(f + 112, (1u << 0) | (1u << 2) | (1u << 5) | (1u << 10));
    gas_io(f + 116, 8, c->reset_port);
    f[128] = c->reset_value;
    gas_io(f + 148, 32, c->pm_base);
    gas_io(f + 172, 16, (uint16_t)(c->pm_base + 4));
    gas_io(f + 208, 32, (uint16_t)(c->pm_base + 8));
    gas_io(f + 220, 32, c->gpe0_base);
}

static uint32_t build_madt(uint8_t *m, const struct acpi_config *c)
{
    uint32_t len = 44;
    put_le32(m + 36, c->lapic_addr);
    put_le32(m + 40, 1);                 /* PCAT_COMPAT: 8259s present */
    for (int i = 0; i < c->ncpus; i++, len += 8) {
        m[len] = 0; m[len + 1] = 8; m[len + 2] = (uint8_t)i; m[len + 3] = (uint8_t)i;
        put_le32(m + len + 4, 1);
    }
    m[len] = 1; m[len + 1] = 12; m[len + 2] = c->ioapic_id; m[len + 3] = 0;
    put_le32(m + len + 4, c->ioapic_addr);
    put_le32(m + len + 8, 0);
    len += 12;
    /* ISA IRQ0 arrives on I/O APIC pin 2; the SCI is level, active high. */
    static const struct { uint8_t src; uint8_t gsi; uint16_t flags; } iso[] = {
        { 0, 2, 0x0000 }, { 9, 9, 0x000D },
    };
    for (size_t i = 0; i < sizeof(iso) / sizeof(iso[0]); i++, len += 10) {
        uint8_t src = iso[i].src == 9 ? c->sci_irq : iso[i].src;
        uint8_t gsi = iso[i].src == 9 ? c->sci_irq : iso[i].gsi;
        m[len] = 2; m[len + 1] = 10; m[len + 2] = 0; m[len + 3] = src;
        put_le32(m + len + 4, gsi);
        put_le16(m + len + 8, iso[i].flags);
    }
    header(m, "APIC", len, 1, "SVMADT");
    return len;
}

static uint8_t *loader_entry(struct acpi_blobs *b, uint32_t cmd)
{
    uint8_t *e = b->loader + b->loader_len;
    b->loader_len += ACPI_LOADER_ENTRY_SIZE;
    memset(e, 0, ACPI_LOADER_ENTRY_SIZE);
    put_le32(e, cmd);
    return e;
}

static void loader_alloc(struct acpi_blobs *b, const char *file, uint32_t align, uint8_t zone)
{
    uint8_t *e = loader_entry(b, ACPI_LOADER_ALLOCATE);
    strncpy((char *)e + 4, file, 55);
    put_le32(e + 60, align);
    e[64] = zone;
}

static void loader_pointer(struct acpi_blobs *b, const char *dst, const char *src, uint32_t off, uint8_t size)
{
    uint8_t *e = loader_entry(b, ACPI_LOADER_ADD_POINTER);
    strncpy((char *)e + 4, dst, 55);
    strncpy((char *)e + 60, src, 55);
    put_le32(e + 116, off);
    e[120] = size;
}

static void loader_checksum(struct acpi_blobs *b, const char *file, uint32_t off, uint32_t start, uint32_t len)
{
    uint8_t *e = loader_entry(b, ACPI_LOADER_ADD_CHECKSUM);
    strncpy((char *)e + 4, file, 55);
    put_le32(e + 60, off);
    put_le32(e + 64, start);
    put_le32(e + 68, len);
}

#define TABLES "etc/acpi/tables"
#define RSDP   "etc/acpi/rsdp"

int acpi_build(const struct acpi_config *c, struct acpi_blobs *b)
{
    memset(b, 0, sizeof(*b));
    b->tables = calloc(1, TABLES_MAX);
    b->rsdp = calloc(1, 20);
    b->loader = calloc(16, ACPI_LOADER_ENTRY_SIZE);
    if (!b->tables || !b->rsdp || !b->loader || acpi_dsdt_aml_len > TABLES_MAX - 1024) {
        acpi_blobs_free(b);
        return -1;
    }
    uint8_t *t = b->tables;
    uint32_t facs = 0, dsdt = FACS_LEN;
    memcpy(t + facs, "FACS", 4);
    put_le32(t + facs + 4, FACS_LEN);
    memcpy(t + dsdt, acpi_dsdt_aml, acpi_dsdt_aml_len);
    uint32_t fadt = (dsdt + (uint32_t)acpi_dsdt_aml_len + 7) & ~7u;
    build_fadt(t + fadt, c, facs, dsdt);
    uint32_t end = fadt + FADT_LEN, madt = 0, madt_len = 0;
    if (c->have_apic) {
        madt = (end + 7) & ~7u;
        madt_len = build_madt(t + madt, c);
        end = madt + madt_len;
    }
    uint32_t rsdt = (end + 7) & ~7u;
    uint32_t nent = c->have_apic ? 2 : 1;
    header(t + rsdt, "RSDT", 36 + 4 * nent, 1, "SVRSDT");
    put_le32(t + rsdt + 36, fadt);
    if (c->have_apic)
        put_le32(t + rsdt + 40, madt);
    b->tables_len = rsdt + 36 + 4 * nent;

    memcpy(b->rsdp, "RSD PTR ", 8);
    memcpy(b->rsdp + 9, "SOFTVI", 6);
    b->rsdp[15] = 0;                     /* ACPI 1.0 RSDP */
    put_le32(b->rsdp + 16, rsdt);
    b->rsdp_len = 20;

    loader_alloc(b, RSDP, 16, ACPI_LOADER_ZONE_FSEG);
    loader_alloc(b, TABLES, 64, ACPI_LOADER_ZONE_HIGH);
    loader_pointer(b, TABLES, TABLES, fadt + 36, 4);
    loader_pointer(b, TABLES, TABLES, fadt + 40, 4);
    loader_checksum(b, TABLES, fadt + 9, fadt, FADT_LEN);
    if (c->have_apic)
        loader_checksum(b, TABLES, madt + 9, madt, madt_len);
    loader_pointer(b, TABLES, TABLES, rsdt + 36, 4);
    if (c->have_apic)
        loader_pointer(b, TABLES, TABLES, rsdt + 40, 4);
    loader_checksum(b, TABLES, rsdt + 9, rsdt, 36 + 4 * nent);
    loader_pointer(b, RSDP, TABLES, 16, 4);
    loader_checksum(b, RSDP, 8, 0, 20);
    return 0;
}

void acpi_blobs_free(struct acpi_blobs *b)
{
    free(b->tables);
    free(b->rsdp);
    free(b->loader);
    memset(b, 0, sizeof(*b));
}

/* Without firmware (direct kernel boot) the board runs the table-loader
 * itself: the same commands SeaBIOS would run, with fixed placements. */
int acpi_install(struct physmem *pm, const struct acpi_blobs *b, uint32_t tables_addr, uint32_t rsdp_addr)
{
    struct { const char *name; uint8_t *data; size_t len; uint32_t addr; } f[2] = {
        { TABLES, NULL, b->tables_len, tables_addr }, { RSDP, NULL, b->rsdp_len, rsdp_addr },
    };
    f[0].data = malloc(b->tables_len);
    f[1].data = malloc(b->rsdp_len);
    int ok = f[0].data && f[1].data;
    if (ok) {
        memcpy(f[0].data, b->tables, b->tables_len);
        memcpy(f[1].data, b->rsdp, b->rsdp_len);
    }
    for (size_t off = 0; ok && off < b->loader_len; off += ACPI_LOADER_ENTRY_SIZE) {
        const uint8_t *e = b->loader + off;
        int d = strncmp((const char *)e + 4, RSDP, 56) == 0;
        uint32_t cmd = get_le32(e);
        if (cmd == ACPI_LOADER_ADD_POINTER) {
            int s = strncmp((const char *)e + 60, RSDP, 56) == 0;
            uint32_t o = get_le32(e + 116);
            ok = o + 4 <= f[d].len;
            if (ok)
                put_le32(f[d].data + o, get_le32(f[d].data + o) + f[s].addr);
        } else if (cmd == ACPI_LOADER_ADD_CHECKSUM) {
            uint32_t o = get_le32(e + 60), start = get_le32(e + 64), len = get_le32(e + 68);
            ok = o < f[d].len && start <= f[d].len && len <= f[d].len - start;
            if (ok) {
                f[d].data[o] = 0;
                f[d].data[o] = acpi_checksum(f[d].data + start, len);
            }
        }
    }
    if (ok) {
        phys_write_block(pm, tables_addr, f[0].data, f[0].len);
        phys_write_block(pm, rsdp_addr, f[1].data, f[1].len);
    }
    free(f[0].data);
    free(f[1].data);
    return ok ? 0 : -1;
}
