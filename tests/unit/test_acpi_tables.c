/* The ACPI tables after the firmware has run the table-loader commands: a
 * small loader here plays SeaBIOS's part, then every table is walked from the
 * RSDP and its checksum and contents checked. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "devices/acpi_tables.h"
#include "mmu/physmem.h"
#include "snapshot/state.h"

/* A guest memory image: the tables blob at 0x100000, the RSDP at 0xF0000. */
static uint8_t mem[0x110000 + 8192];

static uint8_t *file_data(struct acpi_blobs *b, const char *name, uint32_t *addr)
{
    if (!strcmp(name, "etc/acpi/tables")) { *addr = 0x100000; return mem + 0x100000; }
    if (!strcmp(name, "etc/acpi/rsdp")) { *addr = 0xF0000; return mem + 0xF0000; }
    (void)b;
    return NULL;
}

static void run_loader(struct acpi_blobs *b)
{
    uint32_t a;
    memcpy(file_data(b, "etc/acpi/tables", &a), b->tables, b->tables_len);
    memcpy(file_data(b, "etc/acpi/rsdp", &a), b->rsdp, b->rsdp_len);
    for (size_t off = 0; off < b->loader_len; off += ACPI_LOADER_ENTRY_SIZE) {
        const uint8_t *e = b->loader + off;
        uint32_t cmd = get_le32(e);
        if (cmd == ACPI_LOADER_ALLOCATE) {
            ck_assert_ptr_nonnull(file_data(b, (const char *)e + 4, &a));
        } else if (cmd == ACPI_LOADER_ADD_POINTER) {
            uint32_t dst_addr, src_addr;
            uint8_t *dst = file_data(b, (const char *)e + 4, &dst_addr);
            ck_assert_ptr_nonnull(file_data(b, (const char *)e + 60, &src_addr));
            ck_assert_int_eq(e[120], 4);
            uint32_t o = get_le32(e + 116);
            put_le32(dst + o, get_le32(dst + o) + src_addr);
        } else if (cmd == ACPI_LOADER_ADD_CHECKSUM) {
            uint8_t *f = file_data(b, (const char *)e + 4, &a);
            uint32_t o = get_le32(e + 60), start = get_le32(e + 64), len = get_le32(e + 68);
            f[o] = 0;
            f[o] = acpi_checksum(f + start, len);
        } else {
            ck_abort_msg("unknown loader command %u", cmd);
        }
    }
}

static const uint8_t *table_at(uint32_t addr, const char *sig)
{
    const uint8_t *t = mem + addr;
    ck_assert_mem_eq(t, sig, 4);
    ck_assert_uint_eq(acpi_checksum(t, get_le32(t + 4)), 0);
    return t;
}

static struct acpi_config cfg(int apic)
{
    struct acpi_config c = {
        .pm_base = 0x600, .gpe0_base = 0xAFE0, .smi_cmd = 0xB2, .acpi_enable = 0xF1,
        .acpi_disable = 0xF0, .sci_irq = 9, .reset_port = 0xCF9, .reset_value = 6,
        .rtc_century = 0x32, .have_apic = apic, .lapic_addr = 0xFEE00000,
        .ioapic_addr = 0xFEC00000, .ioapic_id = 1, .ncpus = 1,
    };
    return c;
}

START_TEST(test_tables_after_loader)
{
    struct acpi_blobs b;
    struct acpi_config c = cfg(_i);
    memset(mem, 0, sizeof(mem));
    ck_assert_int_eq(acpi_build(&c, &b), 0);
    run_loader(&b);
    const uint8_t *rsdp = mem + 0xF0000;
    ck_assert_mem_eq(rsdp, "RSD PTR ", 8);
    ck_assert_uint_eq(acpi_checksum(rsdp, 20), 0);
    const uint8_t *rsdt = table_at(get_le32(rsdp + 16), "RSDT");
    ck_assert_uint_eq(get_le32(rsdt + 4), 36u + 4u * (_i ? 2 : 1));
    const uint8_t *fadt = table_at(get_le32(rsdt + 36), "FACP");
    ck_assert_uint_eq(get_le32(fadt + 4), 244);
    const uint8_t *dsdt = table_at(get_le32(fadt + 40), "DSDT");
    ck_assert_mem_eq(mem + get_le32(fadt + 36), "FACS", 4);
    ck_assert_uint_eq(get_le32(fadt + 36) & 63, 0);           /* FACS 64-byte aligned */
    ck_assert_uint_eq(get_le16(fadt + 46), 9);                /* SCI */
    ck_assert_uint_eq(get_le32(fadt + 48), 0xB2);
    ck_assert_uint_eq(get_le32(fadt + 56), 0x600);
    ck_assert_uint_eq(get_le32(fadt + 64), 0x604);
    ck_assert_uint_eq(get_le32(fadt + 76), 0x608);
    ck_assert_uint_eq(get_le64(fadt + 116 + 4), 0xCF9);       /* RESET_REG */
    ck_assert_uint_eq(fadt[128], 6);
    /* \_S5 is in the DSDT */
    int found = 0;
    for (uint32_t i = 36; i + 4 < get_le32(dsdt + 4); i++)
        found |= memcmp(dsdt + i, "_S5_", 4) == 0;
    ck_assert(found);
    if (_i) {
        const uint8_t *madt = table_at(get_le32(rsdt + 40), "APIC");
        ck_assert_uint_eq(get_le32(madt + 36), 0xFEE00000);
        ck_assert_uint_eq(madt[44], 0);                        /* processor local APIC */
        ck_assert_uint_eq(madt[52], 1);                        /* I/O APIC */
        ck_assert_uint_eq(get_le32(madt + 56), 0xFEC00000);
        ck_assert_uint_eq(madt[64], 2);                        /* IRQ0 -> GSI2 */
        ck_assert_uint_eq(madt[67], 0);
        ck_assert_uint_eq(get_le32(madt + 68), 2);
    }
    acpi_blobs_free(&b);
}
END_TEST

/* The board's own loader (direct kernel boot) gives the same bytes. */
START_TEST(test_install_matches_loader)
{
    struct acpi_blobs b;
    struct acpi_config c = cfg(1);
    struct physmem pm;
    memset(mem, 0, sizeof(mem));
    ck_assert_int_eq(acpi_build(&c, &b), 0);
    run_loader(&b);
    ck_assert_int_eq(physmem_init(&pm, 2u << 20), 0);
    ck_assert_int_eq(acpi_install(&pm, &b, 0x100000, 0xF0000), 0);
    uint8_t got[8192];
    phys_read_block(&pm, 0x100000, got, b.tables_len);
    ck_assert_mem_eq(got, mem + 0x100000, b.tables_len);
    phys_read_block(&pm, 0xF0000, got, 20);
    ck_assert_mem_eq(got, mem + 0xF0000, 20);
    physmem_free(&pm);
    acpi_blobs_free(&b);
}
END_TEST

Suite *acpi_tables_suite(void)
{
    Suite *s = suite_create("acpi_tables");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_tables_after_loader, 0, 2);
    tcase_add_test(tc, test_install_matches_loader);
    suite_add_tcase(s, tc);
    return s;
}
