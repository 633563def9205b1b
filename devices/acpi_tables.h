/* ACPI tables for the PC board, handed to SeaBIOS through fw_cfg with QEMU's
 * table-loader protocol ("etc/acpi/tables", "etc/acpi/rsdp",
 * "etc/table-loader"): the firmware allocates the blobs, patches pointers and
 * checksums, so the tables are built here without knowing their addresses. */
#ifndef SV_ACPI_TABLES_H
#define SV_ACPI_TABLES_H
#include <stddef.h>
#include <stdint.h>

struct acpi_config {
    uint16_t pm_base;       /* PIIX4 PM I/O block (PM1 event, control, timer) */
    uint16_t gpe0_base;     /* GPE0 block, 4 ports */
    uint16_t smi_cmd;       /* APM control port */
    uint8_t acpi_enable, acpi_disable;
    uint8_t sci_irq;
    uint16_t reset_port;    /* RESET_REG (PIIX reset control) */
    uint8_t reset_value;
    uint8_t rtc_century;    /* CMOS index of the century byte */
    int have_apic;          /* emit a MADT */
    uint32_t lapic_addr, ioapic_addr;
    uint8_t ioapic_id;
    int ncpus;
};

struct acpi_blobs {
    uint8_t *tables; size_t tables_len;   /* FACS, DSDT, FADT, MADT, RSDT */
    uint8_t *rsdp;   size_t rsdp_len;
    uint8_t *loader; size_t loader_len;   /* table-loader commands, 128 bytes each */
};

/* Table-loader commands and zones (QEMU docs/specs/fw_cfg and the linker format). */
#define ACPI_LOADER_ALLOCATE     1
#define ACPI_LOADER_ADD_POINTER  2
#define ACPI_LOADER_ADD_CHECKSUM 3
#define ACPI_LOADER_ZONE_HIGH    1
#define ACPI_LOADER_ZONE_FSEG    2
#define ACPI_LOADER_ENTRY_SIZE   128

/* Builds the blobs (malloc'ed; free with acpi_blobs_free). Returns 0 or -1. */
int acpi_build(const struct acpi_config *cfg, struct acpi_blobs *out);
void acpi_blobs_free(struct acpi_blobs *b);
/* Sum of bytes, for table checksums (the result is what makes the sum 0). */
uint8_t acpi_checksum(const uint8_t *p, size_t len);

/* Runs the loader commands itself, placing the tables at tables_addr (64-byte
 * aligned) and the RSDP at rsdp_addr (16-byte aligned, in 0xE0000-0xFFFFF),
 * for boots without firmware. Returns 0 or -1 (malformed blobs). */
struct physmem;
int acpi_install(struct physmem *pm, const struct acpi_blobs *b, uint32_t tables_addr, uint32_t rsdp_addr);

extern const uint8_t acpi_dsdt_aml[];
extern const size_t acpi_dsdt_aml_len;

#endif
