/* The PC board (DESIGN.md "The PC"): an i440FX/PIIX3 machine like the one
 * SeaBIOS and Linux expect (QEMU's "pc" layout: host bridge 00:00.0, ISA
 * bridge 00:01.0, IDE 00:01.1, ACPI 00:01.3, VGA 00:02.0). The only file that
 * knows port, IRQ and memory addresses. Not here yet: a NIC, the PS/2 mouse
 * as a user input, more than one CPU. */
#include "devices/pc.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "devices/kernel_boot.h"
#include "devices/smbios_tables.h"

/* Ports */
#define PORT_DMA1       0x00
#define PORT_PIC1       0x20
#define PORT_PIT        0x40
#define PORT_KBD_DATA   0x60
#define PORT_SYSCTL_B   0x61
#define PORT_KBD_CMD    0x64
#define PORT_RTC        0x70
#define PORT_DMA_PAGE   0x80
#define PORT_SYSCTL_A   0x92
#define PORT_PIC2       0xA0
#define PORT_APM        0xB2
#define PORT_DMA2       0xC0
#define PORT_DEBUGCON_E9 0xE9
#define PORT_FPU_CLEAR  0xF0
#define PORT_IDE0       0x1F0
#define PORT_IDE0_CTL   0x3F6
#define PORT_IDE1       0x170
#define PORT_IDE1_CTL   0x376
#define PORT_VBE        0x1CE
#define PORT_DEBUGCON   0x402
#define PORT_ELCR       0x4D0
#define PORT_FW_CFG     0x510
#define PORT_FDC        0x3F0
#define PORT_VGA        0x3B0
#define PORT_PCI_ADDR   0xCF8
#define PORT_PCI_DATA   0xCFC
#define PORT_GPE0       0xAFE0
#define PORT_ACPI_PM    0x600      /* where SeaBIOS puts PMBA when it gets a table-loader */
static const uint16_t uart_ports[PC_SERIAL_PORTS] = { 0x3F8, 0x2F8, 0x3E8, 0x2E8 };
static const uint8_t uart_irqs[PC_SERIAL_PORTS] = { 4, 3, 4, 3 };

/* IRQs */
#define IRQ_PIT   0
#define IRQ_KBD   1
#define IRQ_FDC   6
#define IRQ_RTC   8
#define IRQ_SCI   9
#define IRQ_MOUSE 12
#define IRQ_FPU   13
#define IRQ_IDE0  14
#define IRQ_IDE1  15

/* Memory */
#define MEM_VGA_WINDOW 0xA0000u
#define MEM_PCI_HOLE   0xE0000000u
#define MEM_IOAPIC     0xFEC00000u
#define MEM_LAPIC      0xFEE00000u

/* Devfns */
#define DEVFN_HOST 0x00
#define DEVFN_ISA  0x08
#define DEVFN_IDE  0x09
#define DEVFN_ACPI 0x0B
#define DEVFN_VGA  0x10

/* Interrupt sources that can share an ISA IRQ (ORed, as on the real wires). */
enum { SRC_ISA = 0, SRC_PCI = 1, SRC_UART0 = 2, SRC_FERR = 6 };

static void pc_irq_update(struct pc *pc, int irq)
{
    int level = pc->isa_irq_src[irq] != 0;
    pic_pair_set_irq(&pc->pic, irq, level);
    if (pc->cfg.apic)
        ioapic_set_irq(&pc->ioapic, irq == 0 ? 2 : irq, level);
}

/* irq_handler_fn for ISA devices: n = irq | source << 8. */
static void pc_isa_irq(void *opaque, int n, int level)
{
    struct pc *pc = opaque;
    int irq = n & 0xFF, src = n >> 8;
    uint16_t bit = (uint16_t)(1u << src);
    if (level)
        pc->isa_irq_src[irq] |= bit;
    else
        pc->isa_irq_src[irq] &= (uint16_t)~bit;
    pc_irq_update(pc, irq);
}

/* The x87's FERR# drives IRQ13 (with CR0.NE clear, the DOS-compatible
 * error reporting); a write to port 0xF0 drops it again. */
static void pc_ferr(void *opaque, int level)
{
    pc_isa_irq(opaque, IRQ_FPU | SRC_FERR << 8, level);
}

static uint32_t fpu_clear_read(void *opaque, uint32_t off, int size)
{
    (void)opaque; (void)off; (void)size;
    return 0xFF;
}

static void fpu_clear_write(void *opaque, uint32_t off, uint32_t val, int size)
{
    (void)off; (void)val; (void)size;
    pc_isa_irq(opaque, IRQ_FPU | SRC_FERR << 8, 0);
}

static const struct bus_ops fpu_clear_ops = { fpu_clear_read, fpu_clear_write, 1 };

static void pc_connect_isa(struct pc *pc, struct irq_line *line, int irq, int src)
{
    irq_connect(line, pc_isa_irq, pc, irq | src << 8);
}

/* PCI INTx: PIIX3 routing to ISA IRQs, and I/O APIC pins 16-19. */
static void pc_pci_route(void *opaque, int pirq, int level)
{
    struct pc *pc = opaque;
    piix3_pirq_changed(&pc->isa, pirq, level);
    if (pc->cfg.apic)
        ioapic_set_irq(&pc->ioapic, 16 + pirq, level);
}

/* The CPU's INTR pin follows the 8259 (or the local APIC when present). */
static void pc_cpu_intr(void *opaque, int n, int level)
{
    (void)n;
    ((struct pc *)opaque)->cpu.intr_line = level;
}

static void pc_cpu_nmi(void *opaque, int n, int level)
{
    (void)n;
    if (level)
        ((struct pc *)opaque)->cpu.nmi_pending = 1;
}

static int pc_intr_ack(void *opaque)
{
    struct pc *pc = opaque;
    if (pc->cfg.apic)
        return apic_get_interrupt(&pc->apic);
    return pic_pair_ack(&pc->pic);
}

static void pc_apic_base_changed(void *opaque, uint64_t value)
{
    struct pc *pc = opaque;
    apic_set_base(&pc->apic, &pc->pm, value);
}

static int pc_extint_ack(void *opaque)
{
    return pic_pair_ack(&((struct pc *)opaque)->pic);
}

static uint32_t pc_io_read(void *opaque, uint16_t port, int size)
{
    return bus_read(&((struct pc *)opaque)->io, port, size);
}

static void pc_io_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    bus_write(&((struct pc *)opaque)->io, port, value, size);
}

static void pc_request_reset(void *opaque)
{
    struct pc *pc = opaque;
    pc->reset_pending = 1;
    runloop_stop(&pc->loop);
}

static void pc_poweroff(void *opaque)
{
    struct pc *pc = opaque;
    pc->poweroff = 1;
    runloop_stop(&pc->loop);
}

/* A20: the 8042 output port and port 0x92 bit 1 are ORed, as on PIIX boards. */
static void pc_update_a20(struct pc *pc)
{
    physmem_set_a20(&pc->pm, pc->a20_kbd || pc->a20_port92);
}

static void pc_kbd_a20(void *opaque, int enabled)
{
    struct pc *pc = opaque;
    pc->a20_kbd = enabled;
    pc_update_a20(pc);
}

/* Port 0x61: bit 0 timer 2 gate, bit 1 speaker data, bit 4 refresh toggle
 * (every 15.085 us of virtual time), bit 5 timer 2 output. */
static uint32_t sysctl_b_read(void *opaque, uint32_t off, int size)
{
    struct pc *pc = opaque;
    (void)off; (void)size;
    uint8_t refresh = (uint8_t)(((vclock_now(&pc->clock) / 15085) & 1) << 4);
    return (pc->port61 & 0x0F) | refresh | (pit_get_out(&pc->pit, 2) ? 0x20 : 0);
}

static void sysctl_b_write(void *opaque, uint32_t off, uint32_t val, int size)
{
    struct pc *pc = opaque;
    (void)off; (void)size;
    pc->port61 = (uint8_t)(val & 0x0F);
    pit_set_gate(&pc->pit, 2, val & 1);
}

static const struct bus_ops sysctl_b_ops = { sysctl_b_read, sysctl_b_write, 1 };

/* Port 0x92: bit 1 fast A20, bit 0 a 0->1 edge resets the CPU. */
static uint32_t sysctl_a_read(void *opaque, uint32_t off, int size)
{
    (void)off; (void)size;
    return ((struct pc *)opaque)->port92;
}

static void sysctl_a_write(void *opaque, uint32_t off, uint32_t val, int size)
{
    struct pc *pc = opaque;
    (void)off; (void)size;
    int reset = (val & 1) && !(pc->port92 & 1);
    pc->port92 = (uint8_t)(val & 0x03);
    pc->a20_port92 = (val & 2) != 0;
    pc_update_a20(pc);
    if (reset)
        pc_request_reset(pc);
}

static const struct bus_ops sysctl_a_ops = { sysctl_a_read, sysctl_a_write, 1 };

/* The FDC's digital input register sits apart from its other ports (0x3F7),
 * so it gets its own one-port range that forwards as offset 7. */
static uint32_t fdc_dir_read(void *opaque, uint32_t off, int size)
{
    (void)off;
    return fdc_bus_ops.read(opaque, 7, size);
}

static void fdc_dir_write(void *opaque, uint32_t off, uint32_t val, int size)
{
    (void)off;
    fdc_bus_ops.write(opaque, 7, val, size);
}

static const struct bus_ops fdc_dir_ops = { fdc_dir_read, fdc_dir_write, 1 };

static int map_io(struct pc *pc, uint32_t port, uint32_t len, const struct bus_ops *ops, void *dev)
{
    return bus_map(&pc->io, port, len, ops, dev);
}

/* ---- PCI VGA (1234:1111, the Bochs/QEMU "stdvga") ---- */

static void vga_bar_map(void *opaque, int bar, uint32_t old, uint32_t addr)
{
    struct pc *pc = opaque;
    uint32_t size = bar == PCI_ROM_SLOT ? pc->vgarom_size : pc->vga.vram_size;
    if (old != PCI_UNMAPPED)
        physmem_unmap(&pc->pm, old, size);
    if (addr == PCI_UNMAPPED)
        return;
    if (bar == 0)
        physmem_map_ram(&pc->pm, addr, size, pc->vga.vram);
    else if (bar == PCI_ROM_SLOT && pc->vgarom)
        physmem_map_rom(&pc->pm, addr, size, pc->vgarom);
}

static int add_vga(struct pc *pc)
{
    if (vga_init(&pc->vga, &pc->clock, 0) < 0)
        return -1;
    struct pci_device *d = &pc->vga_pci;
    if (pci_device_init(&pc->pci, d, "vga", DEVFN_VGA, 0x1234, 0x1111, 0x02, 0x030000) < 0)
        return -1;
    d->opaque = pc;
    d->bar_map = vga_bar_map;
    pci_set_bar(d, 0, pc->vga.vram_size, 0);
    d->config[PCI_BAR0] |= 0x08;                    /* prefetchable */
    if (pc->cfg.vgabios && pc->cfg.vgabios_size) {
        uint32_t size = 2048;
        while (size < pc->cfg.vgabios_size)
            size <<= 1;
        pc->vgarom = malloc(size);
        if (!pc->vgarom)
            return -1;
        memset(pc->vgarom, 0xFF, size);
        memcpy(pc->vgarom, pc->cfg.vgabios, pc->cfg.vgabios_size);
        pc->vgarom_size = size;
        pci_set_bar(d, PCI_ROM_SLOT, size, 0);
    }
    if (map_io(pc, PORT_VGA, VGA_IO_LEN, &vga_io_ops, &pc->vga) < 0 ||
        map_io(pc, PORT_VBE, VGA_VBE_IO_LEN, &vga_vbe_ops, &pc->vga) < 0 ||
        physmem_map_mmio(&pc->pm, MEM_VGA_WINDOW, VGA_WIN_LEN, &vga_win_ops, &pc->vga) < 0)
        return -1;
    return devreg_add(&pc->devs, &vga_device_ops, &pc->vga) < 0 ? -1 : 0;
}

/* ---- the chipset and the ISA devices ---- */

static void pm_map(void *opaque, uint32_t old, uint32_t base)
{
    struct pc *pc = opaque;
    if (old != 0xFFFFFFFFu)
        bus_unmap(&pc->io, old, PIIX4_PM_SIZE);
    if (base != 0xFFFFFFFFu && bus_map(&pc->io, base, PIIX4_PM_SIZE, &piix4_pm_ops, &pc->acpi) < 0)
        fprintf(stderr, "softvisor: pc: ACPI PM block at 0x%x overlaps another device\n", base);
}

static int add_chipset(struct pc *pc)
{
    pci_bus_init(&pc->pci);
    if (i440fx_init(&pc->host, &pc->pci, &pc->pm, pc->pm.ram, pc->rom_low) < 0 ||
        piix3_init(&pc->isa, &pc->pci, DEVFN_ISA) < 0 ||
        piix4_acpi_init(&pc->acpi, &pc->pci, DEVFN_ACPI, &pc->clock) < 0)
        return -1;
    pc->pci.route = pc_pci_route;
    pc->pci.route_opaque = pc;
    pc->pci.byte1_ops = &piix3_rcr_ops;
    pc->pci.byte1_dev = &pc->isa;
    pc->isa.reset_request = pc_request_reset;
    pc->isa.opaque = pc;
    for (int irq = 3; irq < 16; irq++)
        pc_connect_isa(pc, &pc->isa.isa_irq[irq], irq, SRC_PCI);
    pc->acpi.poweroff = pc_poweroff;
    pc->acpi.pm_map = pm_map;
    pc->acpi.opaque = pc;
    pc_connect_isa(pc, &pc->acpi.sci, IRQ_SCI, SRC_ISA);
    if (map_io(pc, PORT_PCI_ADDR, 4, &pci_config_address_ops, &pc->pci) < 0 ||
        map_io(pc, PORT_PCI_DATA, 4, &pci_config_data_ops, &pc->pci) < 0 ||
        map_io(pc, PORT_APM, 2, &piix4_apm_ops, &pc->acpi) < 0 ||
        map_io(pc, PORT_GPE0, 4, &piix4_gpe_ops, &pc->acpi) < 0)
        return -1;
    if (devreg_add(&pc->devs, &i440fx_device_ops, &pc->host) < 0 ||
        devreg_add(&pc->devs, &piix3_device_ops, &pc->isa) < 0 ||
        devreg_add(&pc->devs, &piix4_acpi_device_ops, &pc->acpi) < 0)
        return -1;
    return 0;
}

static int add_interrupts(struct pc *pc)
{
    pic_pair_init(&pc->pic);
    if (map_io(pc, PORT_PIC1, 2, &pic_bus_ops, &pc->pic.master) < 0 ||
        map_io(pc, PORT_PIC2, 2, &pic_bus_ops, &pc->pic.slave) < 0 ||
        map_io(pc, PORT_ELCR, 2, &pic_elcr_bus_ops, &pc->pic) < 0 ||
        devreg_add(&pc->devs, &pic_pair_device_ops, &pc->pic) < 0)
        return -1;
    /* PIIX ELCR: IRQ 0, 1, 2, 8 and 13 are always edge-triggered. */
    pc->pic.master.elcr_mask = 0xF8;
    pc->pic.slave.elcr_mask = 0xDE;
    if (!pc->cfg.apic) {
        irq_connect(&pc->pic.master.intr, pc_cpu_intr, pc, 0);
        return 0;
    }
    apic_init(&pc->apic, &pc->clock);
    ioapic_init(&pc->ioapic);
    irq_connect(&pc->apic.intr, pc_cpu_intr, pc, 0);
    irq_connect(&pc->apic.nmi, pc_cpu_nmi, pc, 0);
    pc->apic.extint_ack = pc_extint_ack;
    pc->apic.extint_opaque = pc;
    pc->apic.eoi = ioapic_eoi;
    pc->apic.eoi_opaque = &pc->ioapic;
    pc->ioapic.deliver = apic_bus_deliver;
    pc->ioapic.deliver_opaque = &pc->apic;
    irq_connect(&pc->pic.master.intr, apic_set_lint, &pc->apic, 0);
    if (physmem_map_mmio(&pc->pm, MEM_IOAPIC, 0x1000, &ioapic_bus_ops, &pc->ioapic) < 0 ||
        devreg_add(&pc->devs, &apic_device_ops, &pc->apic) < 0 ||
        devreg_add(&pc->devs, &ioapic_device_ops, &pc->ioapic) < 0)
        return -1;
    return 0;
}

static int add_legacy(struct pc *pc)
{
    pit_init(&pc->pit, &pc->clock);
    pc_connect_isa(pc, &pc->pit.ch[0].out, IRQ_PIT, SRC_ISA);
    rtc_init(&pc->rtc, &pc->clock, pc->cfg.rtc_start, 0x32);
    pc_connect_isa(pc, &pc->rtc.irq_line, IRQ_RTC, SRC_ISA);
    dma_init(&pc->dma, &pc->pm);
    kbd_init(&pc->kbd, 1);
    kbd_set_hooks(&pc->kbd, pc_kbd_a20, pc_request_reset, pc);
    pc_connect_isa(pc, &pc->kbd.irq_kbd, IRQ_KBD, SRC_ISA);
    pc_connect_isa(pc, &pc->kbd.irq_mouse, IRQ_MOUSE, SRC_ISA);
    fdc_init(&pc->fdc, &pc->clock, &pc->dma, 2);
    pc_connect_isa(pc, &pc->fdc.irq, IRQ_FDC, SRC_ISA);
    if (map_io(pc, PORT_PIT, 4, &pit_bus_ops, &pc->pit) < 0 ||
        map_io(pc, PORT_RTC, 2, &rtc_bus_ops, &pc->rtc) < 0 ||
        map_io(pc, PORT_DMA1, 16, &dma_master_ops, &pc->dma) < 0 ||
        map_io(pc, PORT_DMA2, 32, &dma_slave_ops, &pc->dma) < 0 ||
        map_io(pc, PORT_DMA_PAGE, 16, &dma_page_ops, &pc->dma) < 0 ||
        map_io(pc, PORT_KBD_DATA, 1, &kbd_data_ops, &pc->kbd) < 0 ||
        map_io(pc, PORT_KBD_CMD, 1, &kbd_cmd_ops, &pc->kbd) < 0 ||
        map_io(pc, PORT_SYSCTL_B, 1, &sysctl_b_ops, pc) < 0 ||
        map_io(pc, PORT_SYSCTL_A, 1, &sysctl_a_ops, pc) < 0 ||
        map_io(pc, PORT_FPU_CLEAR, 1, &fpu_clear_ops, pc) < 0 ||
        map_io(pc, PORT_FDC, 6, &fdc_bus_ops, &pc->fdc) < 0 ||
        map_io(pc, PORT_FDC + 7, 1, &fdc_dir_ops, &pc->fdc) < 0)
        return -1;
    /* No image, no drive: the firmware should not try to boot from it. */
    if (!pc->cfg.floppy)
        fdc_set_drive_type(&pc->fdc, 0, FDC_TYPE_NONE);
    else if (fdc_insert(&pc->fdc, 0, pc->cfg.floppy) < 0)
        return -2;
    for (int i = 0; i < PC_SERIAL_PORTS; i++) {
        uart_init(&pc->uart[i], &pc->clock);
        uart_set_chardev(&pc->uart[i], pc->cfg.serial[i]);
        /* A virtual line: 1 us per character whatever the baud rate, so a
         * guest polling LSR does not spin for the wire time of 115200 baud. */
        pc->uart[i].tx_char_ns = 1000;
        /* COM1/COM3 and COM2/COM4 share IRQ 4 and 3: separate sources. */
        pc_connect_isa(pc, &pc->uart[i].irq_line, uart_irqs[i], SRC_UART0 + i);
        if (map_io(pc, uart_ports[i], 8, &uart_bus_ops, &pc->uart[i]) < 0 ||
            devreg_add(&pc->devs, &uart_device_ops, &pc->uart[i]) < 0)
            return -1;
    }
    debugcon_init(&pc->debugcon, pc->cfg.debugcon_sink, pc->cfg.debugcon_opaque, 0xE9);
    debugcon_init(&pc->debugcon_e9, pc->cfg.debugcon_sink, pc->cfg.debugcon_opaque, 0xE9);
    if (map_io(pc, PORT_DEBUGCON, 1, &debugcon_bus_ops, &pc->debugcon) < 0 ||
        map_io(pc, PORT_DEBUGCON_E9, 1, &debugcon_bus_ops, &pc->debugcon_e9) < 0)
        return -1;
    const struct device_ops *ops[] = { &pit_device_ops, &rtc_device_ops, &dma_device_ops,
                                       &kbd_device_ops, &fdc_device_ops, &debugcon_device_ops,
                                       &debugcon_device_ops };
    void *devs[] = { &pc->pit, &pc->rtc, &pc->dma, &pc->kbd, &pc->fdc, &pc->debugcon, &pc->debugcon_e9 };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (devreg_add(&pc->devs, ops[i], devs[i]) < 0)
            return -1;
    return 0;
}

static int add_ide(struct pc *pc)
{
    for (int c = 0; c < 2; c++) {
        ata_init(&pc->ide[c], &pc->clock, c);
        for (int u = 0; u < 2; u++) {
            int slot = c * 2 + u;
            struct blockdev *b = pc->cfg.disks[slot];
            if (slot == pc->cfg.cdrom_slot) {
                if (ata_attach_cdrom(&pc->ide[c], u, b) < 0)
                    return -1;
            } else if (b && ata_attach_disk(&pc->ide[c], u, b) < 0) {
                return -1;
            }
        }
    }
    pc_connect_isa(pc, &pc->ide[0].irq, IRQ_IDE0, SRC_ISA);
    pc_connect_isa(pc, &pc->ide[1].irq, IRQ_IDE1, SRC_ISA);
    if (map_io(pc, PORT_IDE0, 8, &ata_cmd_ops, &pc->ide[0]) < 0 ||
        map_io(pc, PORT_IDE0_CTL, 1, &ata_ctrl_ops, &pc->ide[0]) < 0 ||
        map_io(pc, PORT_IDE1, 8, &ata_cmd_ops, &pc->ide[1]) < 0 ||
        map_io(pc, PORT_IDE1_CTL, 1, &ata_ctrl_ops, &pc->ide[1]) < 0 ||
        piix_ide_init(&pc->ide_pci, &pc->pci, DEVFN_IDE, &pc->io, &pc->pm, &pc->ide[0], &pc->ide[1]) < 0)
        return -1;
    if (devreg_add(&pc->devs, &ata_device_ops, &pc->ide[0]) < 0 ||
        devreg_add(&pc->devs, &ata_device_ops, &pc->ide[1]) < 0 ||
        devreg_add(&pc->devs, &piix_ide_device_ops, &pc->ide_pci) < 0)
        return -1;
    return 0;
}

/* ---- what the firmware is told: CMOS, fw_cfg, ACPI, SMBIOS ---- */

static uint32_t ram_below_4g(const struct pc *pc)
{
    return (uint32_t)((uint64_t)pc->cfg.ram_mib << 20);
}

static void fill_cmos(struct pc *pc)
{
    struct rtc *r = &pc->rtc;
    uint32_t ram = ram_below_4g(pc);
    uint32_t ext_k = ram > 0x100000 ? (ram - 0x100000) >> 10 : 0;
    if (ext_k > 0xFC00)
        ext_k = 0xFC00;                                  /* 1-64 MiB, in KiB */
    uint32_t high = ram > (16u << 20) ? (ram - (16u << 20)) >> 16 : 0;
    if (high > 0xFFFF)
        high = 0xFFFF;                                   /* above 16 MiB, in 64 KiB */
    rtc_set_cmos(r, 0x15, 640 & 0xFF);
    rtc_set_cmos(r, 0x16, 640 >> 8);
    rtc_set_cmos(r, 0x17, (uint8_t)ext_k);
    rtc_set_cmos(r, 0x18, (uint8_t)(ext_k >> 8));
    rtc_set_cmos(r, 0x30, (uint8_t)ext_k);
    rtc_set_cmos(r, 0x31, (uint8_t)(ext_k >> 8));
    rtc_set_cmos(r, 0x34, (uint8_t)high);
    rtc_set_cmos(r, 0x35, (uint8_t)(high >> 8));
    int fd0 = fdc_cmos_type(&pc->fdc, 0), fd1 = fdc_cmos_type(&pc->fdc, 1);
    rtc_set_cmos(r, 0x10, (uint8_t)(fd0 << 4 | fd1));
    uint8_t equip = 0x02 | (fd0 || fd1 ? 0x01 : 0) | (fd0 && fd1 ? 0x40 : 0); /* FPU, floppies, VGA */
    rtc_set_cmos(r, 0x14, equip);
    /* Boot order, the way SeaBIOS reads it: 1 floppy, 2 disk, 3 CD-ROM. */
    uint8_t order[3] = { 2, 3, 1 };
    if (pc->cfg.boot == PC_BOOT_CDROM) { order[0] = 3; order[1] = 2; }
    if (pc->cfg.boot == PC_BOOT_FLOPPY) { order[0] = 1; order[1] = 2; order[2] = 3; }
    rtc_set_cmos(r, 0x3D, (uint8_t)(order[1] << 4 | order[0]));
    rtc_set_cmos(r, 0x38, (uint8_t)(order[2] << 4));
    rtc_set_cmos(r, 0x5F, 0);                            /* CPUs - 1 */
}

#define FW_CFG_UUID       0x0002
#define FW_CFG_RAM_SIZE   0x0003
#define FW_CFG_NOGRAPHIC  0x0004
#define FW_CFG_NB_CPUS    0x0005
#define FW_CFG_BOOT_MENU  0x000E
#define FW_CFG_MAX_CPUS   0x000F
#define FW_CFG_IRQ0_OVERRIDE 0x8002

static struct acpi_config pc_acpi_config(const struct pc *pc)
{
    struct acpi_config c = {
        .pm_base = PORT_ACPI_PM, .gpe0_base = PORT_GPE0, .smi_cmd = PORT_APM,
        .acpi_enable = PIIX4_APM_ACPI_ENABLE, .acpi_disable = PIIX4_APM_ACPI_DISABLE,
        .sci_irq = IRQ_SCI, .reset_port = PORT_PCI_ADDR + 1, .reset_value = 0x06,
        .rtc_century = 0x32, .have_apic = pc->cfg.apic, .lapic_addr = MEM_LAPIC,
        .ioapic_addr = MEM_IOAPIC, .ioapic_id = 1, .ncpus = 1,
    };
    return c;
}

static int add_fw_cfg(struct pc *pc)
{
    struct fw_cfg *fw = &pc->fw;
    if (fw_cfg_init(fw, &pc->pm, 1) < 0 || map_io(pc, PORT_FW_CFG, 12, &fw_cfg_ops, fw) < 0 ||
        devreg_add(&pc->devs, &fw_cfg_device_ops, fw) < 0)
        return -1;
    static const uint8_t uuid[16] = { 0x53, 0x6f, 0x66, 0x74, 0x76, 0x69, 0x73, 0x6f,
                                      0x72, 0x00, 0x40, 0x00, 0x80, 0x00, 0x00, 0x01 };
    uint32_t ram = ram_below_4g(pc);
    fw_cfg_add_bytes(fw, FW_CFG_UUID, uuid, 16);
    fw_cfg_add_u64(fw, FW_CFG_RAM_SIZE, ram);
    fw_cfg_add_u16(fw, FW_CFG_NOGRAPHIC, 0);
    fw_cfg_add_u16(fw, FW_CFG_NB_CPUS, 1);
    fw_cfg_add_u16(fw, FW_CFG_MAX_CPUS, 1);
    fw_cfg_add_u16(fw, FW_CFG_BOOT_MENU, 0);
    fw_cfg_add_u32(fw, FW_CFG_IRQ0_OVERRIDE, pc->cfg.apic ? 1 : 0);
    /* e820: just the RAM; the firmware reserves what it uses itself. */
    pc->e820 = calloc(1, 20);
    if (!pc->e820)
        return -1;
    put_le64(pc->e820, 0);
    put_le64(pc->e820 + 8, ram);
    put_le32(pc->e820 + 16, E820_RAM);
    fw_cfg_add_file(fw, "etc/e820", pc->e820, 20);
    struct acpi_config ac = pc_acpi_config(pc);
    if (acpi_build(&ac, &pc->acpi_blobs) < 0)
        return -1;
    fw_cfg_add_file(fw, "etc/acpi/tables", pc->acpi_blobs.tables, (uint32_t)pc->acpi_blobs.tables_len);
    fw_cfg_add_file(fw, "etc/acpi/rsdp", pc->acpi_blobs.rsdp, (uint32_t)pc->acpi_blobs.rsdp_len);
    fw_cfg_add_file(fw, "etc/table-loader", pc->acpi_blobs.loader, (uint32_t)pc->acpi_blobs.loader_len);
    struct smbios_config sc = { .ram_below_4g = ram, .cpuid_eax = 0x633, .cpuid_edx = 0 };
    memcpy(sc.uuid, uuid, 16);
    pc->smbios_cfg = sc;
    struct smbios_blobs sb;
    if (smbios_build(&sc, &sb) < 0)
        return -1;
    fw_cfg_add_file(fw, "etc/smbios/smbios-anchor", sb.anchor, sizeof(sb.anchor));
    fw_cfg_add_file(fw, "etc/smbios/smbios-tables", sb.tables, (uint32_t)sb.tables_len);
    smbios_blobs_free(&sb);                              /* fw_cfg keeps its own copies */
    return 0;
}

/* ---- memory map ---- */

/* RAM from 0 (the PAM decides about 0xC0000-0xFFFFF, the VGA window sits at
 * 0xA0000), the firmware at the top of 4 GiB, its last 128 KiB (padded with
 * 0xFF in front when smaller) below 1 MiB through the i440FX PAM. */
static int map_memory(struct pc *pc)
{
    uint32_t size = pc->cfg.rom_size;
    physmem_map_rom(&pc->pm, (uint32_t)(0x100000000ull - size), size, pc->rom);
    pc->rom_low = malloc(PC_ROM_LOW_MIRROR);
    if (!pc->rom_low)
        return -1;
    uint32_t low = size < PC_ROM_LOW_MIRROR ? size : PC_ROM_LOW_MIRROR;
    memset(pc->rom_low, 0xFF, PC_ROM_LOW_MIRROR);
    memcpy(pc->rom_low + PC_ROM_LOW_MIRROR - low, pc->rom + size - low, low);
    return 0;
}

/* ---- direct kernel boot: do what the firmware would have done ---- */

static void pc_cfg_write(struct pc *pc, uint8_t devfn, uint32_t reg, uint32_t val, int size)
{
    pci_config_write(&pc->pci, devfn, reg, val, size);
}

/* Chipset set-up SeaBIOS would do: shadow RAM for the BIOS area, ACPI PM
 * I/O, PIRQ routing, IDE decode and bus master, VGA BARs, interrupt lines. */
static void firmware_setup(struct pc *pc)
{
    for (int r = 0; r < 7; r++)
        pc_cfg_write(pc, DEVFN_HOST, I440FX_PAM0 + (uint32_t)r, r ? 0x33 : 0x30, 1);
    pc_cfg_write(pc, DEVFN_ACPI, PIIX4_PMBA, PORT_ACPI_PM | 1, 4);
    pc_cfg_write(pc, DEVFN_ACPI, PIIX4_PMREGMISC, 1, 1);
    pc_cfg_write(pc, DEVFN_ACPI, PCI_INT_LINE, IRQ_SCI, 1);
    static const uint8_t pirq[4] = { 10, 10, 11, 11 };
    for (int i = 0; i < 4; i++)
        pc_cfg_write(pc, DEVFN_ISA, PIIX3_PIRQRC + (uint32_t)i, pirq[i], 1);
    pc->pic.slave.elcr = 0x0C;                           /* IRQ 10, 11: level (PCI) */
    pc_cfg_write(pc, DEVFN_IDE, 0x40, 0x8000, 2);        /* IDETIM: decode enable */
    pc_cfg_write(pc, DEVFN_IDE, 0x42, 0x8000, 2);
    pc_cfg_write(pc, DEVFN_IDE, PCI_BAR0 + 16, 0xC000, 4);
    pc_cfg_write(pc, DEVFN_IDE, PCI_COMMAND, PCI_CMD_IO | PCI_CMD_MASTER, 2);
    pc_cfg_write(pc, DEVFN_VGA, PCI_BAR0, 0xFD000000u, 4);
    pc_cfg_write(pc, DEVFN_VGA, PCI_COMMAND, PCI_CMD_IO | PCI_CMD_MEM, 2);
}

static int boot_kernel(struct pc *pc, char *err, size_t errlen)
{
    uint32_t ram = ram_below_4g(pc);
    uint32_t acpi_at = ram - 0x10000;                    /* top 64 KiB: ACPI tables */
    if (ram < (8u << 20)) {
        snprintf(err, errlen, "--kernel needs at least 8 MiB of RAM");
        return -1;
    }
    firmware_setup(pc);
    struct e820_entry map[8];
    int nmap = 0;
    map[nmap++] = (struct e820_entry){ 0, 0x9FC00, E820_RAM };
    map[nmap++] = (struct e820_entry){ 0x9FC00, 0x400, E820_RESERVED };
    map[nmap++] = (struct e820_entry){ 0xE0000, 0x20000, E820_RESERVED };
    map[nmap++] = (struct e820_entry){ 0x100000, acpi_at - 0x100000, E820_RAM };
    map[nmap++] = (struct e820_entry){ acpi_at, 0x10000, E820_ACPI };
    if (pc->cfg.apic) {
        map[nmap++] = (struct e820_entry){ MEM_IOAPIC, 0x1000, E820_RESERVED };
        map[nmap++] = (struct e820_entry){ MEM_LAPIC, 0x1000, E820_RESERVED };
    }
    map[nmap++] = (struct e820_entry){ 0x100000000ull - pc->cfg.rom_size, pc->cfg.rom_size, E820_RESERVED };
    if (acpi_install(&pc->pm, &pc->acpi_blobs, acpi_at, 0xF0000) < 0) {
        snprintf(err, errlen, "cannot place the ACPI tables");
        return -1;
    }
    /* SMBIOS: entry point and tables in the reserved F segment (shadow
     * RAM since firmware_setup), where the RSDP lives too. */
    struct smbios_blobs sb;
    if (smbios_build(&pc->smbios_cfg, &sb) == 0) {
        if (sb.tables_len <= 0x1000)
            smbios_install(&pc->pm, &sb, 0xF1000, 0xF0040);
        smbios_blobs_free(&sb);
    }
    struct boot_entry e;
    char why[256];
    if (kernel_boot_load(&pc->pm, pc->cfg.kernel, pc->cfg.kernel_size, pc->cfg.initrd,
                         pc->cfg.initrd_size, pc->cfg.cmdline, map, nmap, acpi_at, &e, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: %s", pc->cfg.kernel_name ? pc->cfg.kernel_name : "kernel", why);
        return -1;
    }
    kernel_boot_enter(&pc->cpu, &pc->pm, &e);
    return 0;
}

/* ---- life cycle ---- */

static void pc_poll(void *opaque)
{
    struct pc *pc = opaque;
    for (int i = 0; i < PC_SERIAL_PORTS; i++) {
        if (!pc->cfg.serial[i])
            continue;
        uart_poll(&pc->uart[i]);
        if (chardev_quit_requested(pc->cfg.serial[i]))
            runloop_stop(&pc->loop);
    }
}

static int check_rom_size(uint64_t size, char *why, size_t n)
{
    if (size == 0)
        snprintf(why, n, "empty file, expected a firmware image");
    else if (size % PC_ROM_MIN)
        snprintf(why, n, "size %llu bytes is not a multiple of 4 KiB", (unsigned long long)size);
    else if (size > PC_ROM_MAX)
        snprintf(why, n, "size %llu bytes is larger than 1 MiB", (unsigned long long)size);
    else
        return 0;
    return -1;
}

static int build(struct pc *pc, char *err, size_t errlen)
{
    bus_init(&pc->io, "io");
    /* Drivers probe for hardware that is not there; that is not news. */
    pc->io.quiet = !pc->cfg.log_unclaimed;
    vclock_init(&pc->clock);
    devreg_init(&pc->devs);
    if (map_memory(pc) < 0 || cpu_init(&pc->cpu, &pc->pm) < 0 || add_chipset(pc) < 0 ||
        add_interrupts(pc) < 0 || add_vga(pc) < 0 || add_ide(pc) < 0) {
        snprintf(err, errlen, "cannot create the machine (out of memory or a board bug)");
        return -1;
    }
    int r = add_legacy(pc);
    if (r == -2) {
        snprintf(err, errlen, "%s: not a 720 KiB, 1.44 MiB or 2.88 MiB floppy image", pc->cfg.floppy->path);
        return -1;
    }
    if (r < 0 || add_fw_cfg(pc) < 0) {
        snprintf(err, errlen, "cannot create the machine (out of memory or a board bug)");
        return -1;
    }
    pc->cpu.io_read = pc_io_read;
    pc->cpu.io_write = pc_io_write;
    pc->cpu.intr_ack = pc_intr_ack;
    pc->cpu.ferr = pc_ferr;
    pc->cpu.io_opaque = pc;
    if (pc->cfg.apic) {
        pc->cpu.cpuid_apic = 1;
        pc->cpu.apic_base_changed = pc_apic_base_changed;
    }
    runloop_init(&pc->loop, &pc->cpu, &pc->clock);
    pc->loop.poll = pc_poll;
    pc->loop.poll_opaque = pc;
    return 0;
}

struct pc *pc_create(const struct pc_config *cfg, char *err, size_t errlen)
{
    char why[96];
    if (cfg->ram_mib < PC_RAM_MIB_MIN || cfg->ram_mib > PC_RAM_MIB_MAX) {
        snprintf(err, errlen, "memory size %u MiB out of range (%u-%u)", cfg->ram_mib,
                 PC_RAM_MIB_MIN, PC_RAM_MIB_MAX);
        return NULL;
    }
    if (check_rom_size(cfg->rom_size, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "firmware image: %s", why);
        return NULL;
    }
    struct pc *pc = calloc(1, sizeof(*pc));
    if (!pc || !(pc->rom = malloc(cfg->rom_size))) {
        free(pc);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pc->cfg = *cfg;
    memcpy(pc->rom, cfg->rom, cfg->rom_size);
    if (physmem_init(&pc->pm, (uint64_t)cfg->ram_mib << 20) < 0) {
        free(pc->rom);
        free(pc);
        snprintf(err, errlen, "cannot allocate %u MiB of guest RAM", cfg->ram_mib);
        return NULL;
    }
    if (build(pc, err, errlen) < 0) {
        pc_destroy(pc);
        return NULL;
    }
    pc_reset(pc);
    if (cfg->kernel && boot_kernel(pc, err, errlen) < 0) {
        pc_destroy(pc);
        return NULL;
    }
    return pc;
}

void pc_destroy(struct pc *pc)
{
    if (!pc)
        return;
    devreg_destroy_all(&pc->devs);
    fw_cfg_free(&pc->fw);
    vga_free(&pc->vga);
    cpu_free(&pc->cpu);
    physmem_free(&pc->pm);
    acpi_blobs_free(&pc->acpi_blobs);
    free(pc->e820);
    free(pc->vgarom);
    free(pc->rom_low);
    free(pc->rom);
    free(pc);
}

void pc_reset(struct pc *pc)
{
    devreg_reset_all(&pc->devs);
    pc->port61 = 0;
    pc->port92 = 0;
    pc->a20_port92 = 0;
    pc->a20_kbd = 1;
    pc_update_a20(pc);
    fill_cmos(pc);
    for (int i = 0; i < PCI_MAX_DEVFN; i++)
        if (pc->pci.devs[i])
            pci_update_mappings(pc->pci.devs[i]);
    cpu_reset(&pc->cpu);
    if (pc->cfg.apic) {
        apic_set_base(&pc->apic, &pc->pm, pc->cpu.apic_base);
        /* Virtual-wire mode from reset (QEMU's choice too): LINT0 passes the
         * 8259's INTR as ExtINT, LINT1 is NMI, so firmware and kernels that
         * know nothing of the APIC still get their interrupts. */
        apic_bus_ops.write(&pc->apic, APIC_SVR, APIC_SVR_ENABLE | 0xFF, 4);
        apic_bus_ops.write(&pc->apic, APIC_LVT_LINT0, 0x700, 4);
        apic_bus_ops.write(&pc->apic, APIC_LVT_LINT1, 0x400, 4);
    }
    pc->reset_pending = 0;
}

enum runloop_exit pc_run(struct pc *pc, uint64_t limit_ns)
{
    uint64_t now = vclock_now(&pc->clock);
    pc->loop.limit_ns = limit_ns == VCLOCK_NEVER || limit_ns > VCLOCK_NEVER - now
                        ? VCLOCK_NEVER : now + limit_ns;
    for (;;) {
        enum runloop_exit why = runloop_run(&pc->loop);
        if (why != RUNLOOP_STOPPED)
            return why;
        pc->loop.stop = 0;
        if (pc->poweroff)
            return RUNLOOP_POWEROFF;
        if (!pc->reset_pending)
            return why;
        pc_reset(pc);
        /* With --kernel there is no firmware to boot it: load it again, as
         * a boot loader would after a reboot. It loaded once, so it fits. */
        char err[256];
        if (pc->cfg.kernel && boot_kernel(pc, err, sizeof(err)) < 0) {
            fprintf(stderr, "softvisor: reboot: %s\n", err);
            return RUNLOOP_SHUTDOWN;
        }
    }
}

size_t pc_screen_text(struct pc *pc, char *buf, size_t len)
{
    return vga_text_dump(&pc->vga, buf, len);
}

static int file_error(char *err, size_t errlen, const char *path, const char *why, FILE *f)
{
    snprintf(err, errlen, "%s: %s", path, why);
    if (f)
        fclose(f);
    return -1;
}

int pc_read_file(const char *path, uint8_t **data, size_t *size, size_t max, char *err, size_t errlen)
{
    struct stat st;
    FILE *f = fopen(path, "rb");
    if (!f)
        return file_error(err, errlen, path, strerror(errno), NULL);
    if (fstat(fileno(f), &st) < 0)
        return file_error(err, errlen, path, strerror(errno), f);
    if (!S_ISREG(st.st_mode))
        return file_error(err, errlen, path, "not a regular file", f);
    if ((uint64_t)st.st_size > max)
        return file_error(err, errlen, path, "file too large", f);
    uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    if (!buf)
        return file_error(err, errlen, path, "out of memory", f);
    if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        free(buf);
        return file_error(err, errlen, path, ferror(f) ? strerror(errno) : "file shrank while reading", f);
    }
    fclose(f);
    *data = buf;
    *size = (size_t)st.st_size;
    return 0;
}

int pc_read_rom_file(const char *path, uint8_t **data, uint32_t *size, char *err, size_t errlen)
{
    char why[96];
    size_t n;
    if (pc_read_file(path, data, &n, 64u << 20, err, errlen) < 0)
        return -1;
    if (check_rom_size(n, why, sizeof(why)) < 0) {
        free(*data);
        *data = NULL;
        return file_error(err, errlen, path, why, NULL);
    }
    *size = (uint32_t)n;
    return 0;
}
