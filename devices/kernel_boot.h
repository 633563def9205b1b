/* Direct kernel boot without firmware: Softvisor plays the boot loader. A
 * Linux bzImage is loaded by the 32-bit boot protocol (Documentation/x86/
 * boot.rst), a multiboot v1 kernel by the Multiboot 0.6.96 spec. Both end in
 * 32-bit protected mode with paging off and flat segments; the board then sets
 * the CPU up with kernel_boot_enter(). */
#ifndef SV_KERNEL_BOOT_H
#define SV_KERNEL_BOOT_H
#include <stddef.h>
#include <stdint.h>
#include "cpu/cpu.h"
#include "mmu/physmem.h"

#define E820_RAM      1
#define E820_RESERVED 2
#define E820_ACPI     3

struct e820_entry {
    uint64_t addr, size;
    uint32_t type;
};

struct boot_entry {
    uint32_t eip, eax, ebx, esi;
};

/* Guest-physical places the loader uses (all below 640 KiB, above the BDA). */
#define KBOOT_GDT        0x6000u
#define KBOOT_PARAMS     0x7000u   /* Linux boot_params ("zero page") */
#define KBOOT_MB_INFO    0x9000u   /* multiboot information and its mmap/modules */
#define KBOOT_CMDLINE    0x20000u
#define KBOOT_CMDLINE_MAX 4096u

/* Loads kernel (bzImage or multiboot), initrd (may be NULL) and cmdline into
 * guest memory; `map` is the board's memory map; ram_top is the end of RAM
 * below 4 GiB that the loader may use for the initrd. Returns 0 and the entry
 * state, or -1 with a one-line reason (without the file name) in err. */
int kernel_boot_load(struct physmem *pm, const uint8_t *kernel, size_t klen,
                     const uint8_t *initrd, size_t ilen, const char *cmdline,
                     const struct e820_entry *map, int nmap, uint32_t ram_top,
                     struct boot_entry *entry, char *err, size_t errlen);

/* Puts the CPU in 32-bit protected mode with the loader's flat GDT
 * (code 0x10, data 0x18), interrupts off, and the entry registers. */
void kernel_boot_enter(struct cpu *cpu, struct physmem *pm, const struct boot_entry *entry);

#endif
