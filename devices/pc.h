/* The PC board: an i440FX/PIIX3 PC with a PIIX4 ACPI function, two 8259s,
 * 8254, MC146818, 8237 pair, 8042, four 16550As, VGA with Bochs VBE, IDE,
 * floppy, fw_cfg for SeaBIOS and the debug ports. It owns the physical
 * memory map, the CPU, the port bus, the virtual clock and the device
 * registry, and is the only place that knows port and IRQ numbers. */
#ifndef SV_PC_H
#define SV_PC_H
#include <stddef.h>
#include <stdint.h>
#include "cpu/cpu.h"
#include "devices/acpi_tables.h"
#include "devices/apic.h"
#include "devices/ata.h"
#include "devices/backends/block.h"
#include "devices/backends/chardev.h"
#include "devices/bus.h"
#include "devices/debugcon.h"
#include "devices/device.h"
#include "devices/fw_cfg.h"
#include "devices/i440fx.h"
#include "devices/i8042_kbd.h"
#include "devices/i8237_dma.h"
#include "devices/i8254_pit.h"
#include "devices/i82077_fdc.h"
#include "devices/i8259_pic.h"
#include "devices/ioapic.h"
#include "devices/mc146818_rtc.h"
#include "devices/pci.h"
#include "devices/piix3.h"
#include "devices/piix4_acpi.h"
#include "devices/piix_ide.h"
#include "devices/runloop.h"
#include "devices/smbios_tables.h"
#include "devices/uart16550.h"
#include "devices/vclock.h"
#include "devices/vga.h"
#include "mmu/physmem.h"

#define PC_RAM_MIB_DEFAULT 128u
#define PC_RAM_MIB_MIN 1u
#define PC_RAM_MIB_MAX 3584u          /* RAM ends below the PCI hole at 0xE0000000 */
#define PC_ROM_MIN (4u << 10)         /* a firmware image is a multiple of 4 KiB ... */
#define PC_ROM_MAX (1u << 20)         /* ... of at most 1 MiB */
#define PC_ROM_LOW_MIRROR (128u << 10) /* the part also seen at 0xE0000-0xFFFFF */
#define PC_SERIAL_PORTS 4
#define PC_DISKS 4                    /* IDE: primary master/slave, secondary master/slave */

enum pc_boot { PC_BOOT_DEFAULT = 0, PC_BOOT_DISK, PC_BOOT_CDROM, PC_BOOT_FLOPPY };

struct pc_config {
    uint32_t ram_mib;
    const uint8_t *rom;               /* firmware image, copied by pc_create */
    uint32_t rom_size;
    const uint8_t *vgabios;           /* PCI VGA option ROM (NULL: none) */
    uint32_t vgabios_size;
    debugcon_sink_fn *debugcon_sink;  /* ports 0x402 and 0xE9; NULL drops it */
    void *debugcon_opaque;
    struct chardev *serial[PC_SERIAL_PORTS]; /* COM1-COM4 backends (NULL: none) */
    int64_t rtc_start;                /* Unix time the RTC starts at */
    struct blockdev *disks[PC_DISKS]; /* owned by the caller; CD-ROM goes in slot 2 */
    int cdrom_slot;                   /* which of disks[] is a CD-ROM, -1 for none */
    struct blockdev *floppy;
    enum pc_boot boot;
    const uint8_t *kernel;            /* --kernel: boot it directly, without firmware */
    size_t kernel_size;
    const char *kernel_name;          /* for messages */
    const uint8_t *initrd;
    size_t initrd_size;
    const char *cmdline;
    int apic;                         /* local APIC + I/O APIC, MADT */
    int log_unclaimed;                /* log the first access to each unclaimed port */
};

struct pc {
    struct pc_config cfg;
    struct physmem pm;
    struct cpu cpu;
    struct bus io;
    struct vclock clock;
    struct devreg devs;
    struct runloop loop;
    uint8_t *rom;                     /* the board's copy of the firmware */
    uint8_t *rom_low;                 /* 128 KiB seen below 1 MiB through the PAM */
    uint8_t *vgarom;                  /* VGA option ROM, padded to its BAR size */
    uint32_t vgarom_size;

    struct pci_bus pci;
    struct i440fx host;
    struct piix3 isa;
    struct piix4_acpi acpi;
    struct pic_pair pic;
    struct pit pit;
    struct rtc rtc;
    struct dma dma;
    struct kbd kbd;
    struct uart uart[PC_SERIAL_PORTS];
    struct fw_cfg fw;
    struct vga vga;
    struct pci_device vga_pci;
    struct ata_channel ide[2];
    struct piix_ide ide_pci;
    struct fdc fdc;
    struct apic apic;
    struct ioapic ioapic;
    struct debugcon debugcon, debugcon_e9;

    uint16_t isa_irq_src[16];         /* sources asserting each ISA IRQ (bit per source) */
    uint8_t port61;                   /* system control port B: gate 2, speaker */
    uint8_t port92;                   /* system control port A: fast A20 */
    int a20_kbd, a20_port92;
    int reset_pending, poweroff;
    struct acpi_blobs acpi_blobs;
    struct smbios_config smbios_cfg;  /* kept for direct kernel boots */
    uint8_t *e820;                    /* fw_cfg "etc/e820" */
};

/* Builds and resets the machine. Returns NULL with a one-line reason in err. */
struct pc *pc_create(const struct pc_config *cfg, char *err, size_t errlen);
void pc_destroy(struct pc *pc);
/* Power-on reset of the CPU and every device; RAM and virtual time stay. */
void pc_reset(struct pc *pc);
/* Runs until power-off, halt, triple fault, stop or the virtual-time limit
 * (ns from now; VCLOCK_NEVER for none). Guest resets are handled inside. */
enum runloop_exit pc_run(struct pc *pc, uint64_t limit_ns);
/* The VGA text screen as UTF-8 (empty outside text mode); returns its length. */
size_t pc_screen_text(struct pc *pc, char *buf, size_t len);

/* Reads and checks a firmware image file (size a multiple of 4 KiB, at most
 * 1 MiB). Returns 0 and a malloc'ed buffer, or -1 with "FILE: problem" in err. */
int pc_read_rom_file(const char *path, uint8_t **data, uint32_t *size, char *err, size_t errlen);
/* Reads a whole file (kernel, initrd, option ROM) with the same error style. */
int pc_read_file(const char *path, uint8_t **data, size_t *size, size_t max, char *err, size_t errlen);

#endif
