/* SMBIOS 2.8 tables for the PC board, handed to SeaBIOS through fw_cfg as
 * "etc/smbios/smbios-anchor" (the 31-byte entry point) and
 * "etc/smbios/smbios-tables"; the firmware places them and fixes the address
 * and checksums of the entry point. */
#ifndef SV_SMBIOS_TABLES_H
#define SV_SMBIOS_TABLES_H
#include <stddef.h>
#include <stdint.h>

struct smbios_config {
    uint64_t ram_below_4g;   /* bytes of RAM mapped from 0 */
    uint64_t ram_above_4g;   /* bytes of RAM mapped from 4 GiB */
    uint32_t cpuid_eax, cpuid_edx;  /* CPUID leaf 1, for the processor ID */
    uint8_t uuid[16];
};

struct smbios_blobs {
    uint8_t anchor[31];
    uint8_t *tables;
    size_t tables_len;
};

int smbios_build(const struct smbios_config *cfg, struct smbios_blobs *out);
void smbios_blobs_free(struct smbios_blobs *b);
struct physmem;
void smbios_install(struct physmem *pm, const struct smbios_blobs *b, uint32_t tables_addr, uint32_t anchor_addr);

#endif
