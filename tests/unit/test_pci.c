/* PCI configuration mechanism #1, BAR sizing and decoding, i440FX PAM,
 * PIIX3 PIRQ routing and reset control, PIIX4 PM timer / SCI / soft-off. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "devices/pci.h"
#include "devices/i440fx.h"
#include "devices/piix3.h"
#include "devices/piix4_acpi.h"
#include "mmu/physmem.h"

static struct pci_bus bus;

static void cfg_select(uint8_t devfn, uint8_t reg)
{
    pci_config_address_ops.write(&bus, 0, 0x80000000u | (uint32_t)devfn << 8 | reg, 4);
}
static uint32_t cfg_read(uint8_t devfn, uint8_t reg, int size)
{
    cfg_select(devfn, reg & 0xFC);
    return pci_config_data_ops.read(&bus, reg & 3, size);
}
static void cfg_write(uint8_t devfn, uint8_t reg, uint32_t v, int size)
{
    cfg_select(devfn, reg & 0xFC);
    pci_config_data_ops.write(&bus, reg & 3, v, size);
}

struct mapping { int calls; int bar; uint32_t old_addr, new_addr; };
static void record_map(void *opaque, int bar, uint32_t old_addr, uint32_t new_addr)
{
    struct mapping *m = opaque;
    m->calls++; m->bar = bar; m->old_addr = old_addr; m->new_addr = new_addr;
}

START_TEST(test_config_mechanism)
{
    struct pci_device d;
    pci_bus_init(&bus);
    ck_assert_int_eq(pci_device_init(&bus, &d, "t", 0x18, 0x1234, 0x1111, 0x02, 0x030000), 0);
    ck_assert_uint_eq(cfg_read(0x18, 0, 4), 0x11111234);
    ck_assert_uint_eq(cfg_read(0x18, 2, 2), 0x1111);
    ck_assert_uint_eq(cfg_read(0x18, 0x0B, 1), 0x03);
    /* absent device and disabled mechanism read all ones */
    ck_assert_uint_eq(cfg_read(0x20, 0, 4), 0xFFFFFFFF);
    pci_config_address_ops.write(&bus, 0, 0x00001800, 4);
    ck_assert_uint_eq(pci_config_data_ops.read(&bus, 0, 4), 0xFFFFFFFF);
    /* CONFIG_ADDRESS reads back with the reserved low bits clear */
    pci_config_address_ops.write(&bus, 0, 0x80001803, 4);
    ck_assert_uint_eq(pci_config_address_ops.read(&bus, 0, 4), 0x80001800);
    /* read-only identity */
    cfg_write(0x18, 0, 0xFFFFFFFF, 4);
    ck_assert_uint_eq(cfg_read(0x18, 0, 4), 0x11111234);
    /* a device on bus 1 does not exist */
    pci_config_address_ops.write(&bus, 0, 0x80011800, 4);
    ck_assert_uint_eq(pci_config_data_ops.read(&bus, 0, 4), 0xFFFFFFFF);
}
END_TEST

START_TEST(test_bar_sizing_and_decoding)
{
    struct pci_device d;
    struct mapping m = { 0 };
    pci_bus_init(&bus);
    pci_device_init(&bus, &d, "t", 0x18, 0x1234, 0x1111, 0x02, 0x030000);
    d.bar_map = record_map;
    d.opaque = &m;
    pci_set_bar(&d, 0, 16 << 20, 0);
    pci_set_bar(&d, 1, 32, 1);
    pci_set_bar(&d, PCI_ROM_SLOT, 64 << 10, 0);
    cfg_write(0x18, 0x10, 0xFFFFFFFF, 4);
    ck_assert_uint_eq(cfg_read(0x18, 0x10, 4), 0xFF000000);
    cfg_write(0x18, 0x14, 0xFFFFFFFF, 4);
    ck_assert_uint_eq(cfg_read(0x18, 0x14, 4), 0xFFFFFFE1);
    cfg_write(0x18, 0x30, 0xFFFFFFFF, 4);
    ck_assert_uint_eq(cfg_read(0x18, 0x30, 4), 0xFFFF0001);
    ck_assert_int_eq(m.calls, 0);           /* decoding is off in COMMAND */
    cfg_write(0x18, 0x10, 0xFD000000, 4);
    cfg_write(0x18, 0x04, PCI_CMD_MEM, 2);
    /* BAR0 only: the ROM BAR still holds the sizing pattern, and a range
     * ending at the top of the space is taken as unassigned. */
    ck_assert_int_eq(m.calls, 1);
    ck_assert_uint_eq(d.bars[PCI_ROM_SLOT].mapped, PCI_UNMAPPED);
    ck_assert_uint_eq(d.bars[0].mapped, 0xFD000000);
    cfg_write(0x18, 0x30, 0xFEB00001, 4);
    ck_assert_uint_eq(d.bars[PCI_ROM_SLOT].mapped, 0xFEB00000);
    cfg_write(0x18, 0x30, 0xFEB00000, 4);   /* ROM enable bit clear: off */
    ck_assert_uint_eq(d.bars[PCI_ROM_SLOT].mapped, PCI_UNMAPPED);
    cfg_write(0x18, 0x14, 0xC000, 4);
    cfg_write(0x18, 0x04, PCI_CMD_MEM | PCI_CMD_IO, 2);
    ck_assert_uint_eq(d.bars[1].mapped, 0xC000);
    ck_assert_int_eq(m.bar, 1);
    ck_assert_uint_eq(m.new_addr, 0xC000);
}
END_TEST

START_TEST(test_i440fx_pam)
{
    struct physmem pm;
    struct i440fx h;
    static uint8_t bios[128 << 10];
    ck_assert_int_eq(physmem_init(&pm, 2 << 20), 0);
    memset(bios, 0xB1, sizeof(bios));
    pci_bus_init(&bus);
    ck_assert_int_eq(i440fx_init(&h, &bus, &pm, pm.ram, bios), 0);
    ck_assert_uint_eq(cfg_read(0, 0, 4), 0x12378086);
    /* after reset the BIOS area reads the ROM, writes are dropped */
    ck_assert_uint_eq(phys_read(&pm, 0xF0000, 1), 0xB1);
    phys_write(&pm, 0xF0000, 0x22, 1);
    ck_assert_uint_eq(phys_read(&pm, 0xF0000, 1), 0xB1);
    /* PAM0 = RE|WE: DRAM */
    cfg_write(0, 0x59, 0x30, 1);
    phys_write(&pm, 0xF0000, 0x22, 1);
    ck_assert_uint_eq(phys_read(&pm, 0xF0000, 1), 0x22);
    /* RE only: DRAM read-only */
    cfg_write(0, 0x59, 0x10, 1);
    phys_write(&pm, 0xF0000, 0x33, 1);
    ck_assert_uint_eq(phys_read(&pm, 0xF0000, 1), 0x22);
    /* back to ROM */
    cfg_write(0, 0x59, 0x00, 1);
    ck_assert_uint_eq(phys_read(&pm, 0xF0000, 1), 0xB1);
    /* PAM1 high nibble covers 0xC4000-0xC7FFF only */
    cfg_write(0, 0x5A, 0x30, 1);
    phys_write(&pm, 0xC4000, 0x44, 1);
    phys_write(&pm, 0xC0000, 0x44, 1);
    ck_assert_uint_eq(phys_read(&pm, 0xC4000, 1), 0x44);
    ck_assert_uint_eq(phys_read(&pm, 0xC0000, 1), 0xFF);
    /* state round trip keeps the mapping */
    uint8_t buf[512], buf2[512];
    size_t n = state_save(i440fx_device_ops.fields, &h, buf);
    i440fx_reset(&h);
    ck_assert_uint_eq(phys_read(&pm, 0xC4000, 1), 0xFF);
    state_load(i440fx_device_ops.fields, &h, buf, n);
    i440fx_device_ops.post_load(&h);
    ck_assert_uint_eq(phys_read(&pm, 0xC4000, 1), 0x44);
    ck_assert_uint_eq(state_save(i440fx_device_ops.fields, &h, buf2), n);
    ck_assert_mem_eq(buf, buf2, n);
    physmem_free(&pm);
}
END_TEST

static int isa_level[16];
static void isa_sink(void *opaque, int n, int level) { (void)opaque; isa_level[n] = level; }
static int resets;
static void count_reset(void *opaque) { (void)opaque; resets++; }

START_TEST(test_piix3_routing)
{
    struct piix3 p;
    struct pci_device dev;
    pci_bus_init(&bus);
    ck_assert_int_eq(piix3_init(&p, &bus, 0x08), 0);
    for (int i = 0; i < 16; i++)
        irq_connect(&p.isa_irq[i], isa_sink, NULL, i);
    memset(isa_level, 0, sizeof(isa_level));
    ck_assert_uint_eq(cfg_read(0x08, 0x60, 4), 0x80808080);
    ck_assert_uint_eq(cfg_read(0x08, 0x0E, 1), 0x80);
    /* a device in slot 3, pin A -> PIRQ (3-1+0)&3 = C */
    pci_device_init(&bus, &dev, "nic", 0x18, 0x8086, 0x100E, 0, 0x020000);
    pci_set_int_pin(&dev, 1);
    pci_set_irq(&dev, 1);
    for (int i = 0; i < 16; i++)
        ck_assert_int_eq(isa_level[i], 0);   /* PIRQC routing disabled */
    cfg_write(0x08, 0x62, 0x0B, 1);          /* PIRQC -> IRQ11 */
    ck_assert_int_eq(isa_level[11], 1);
    pci_set_irq(&dev, 0);
    ck_assert_int_eq(isa_level[11], 0);
    /* reset control: only a 0->1 edge of bit 2 resets */
    p.reset_request = count_reset;
    resets = 0;
    piix3_rcr_ops.write(&p, 0, 0x02, 1);
    ck_assert_int_eq(resets, 0);
    piix3_rcr_ops.write(&p, 0, 0x06, 1);
    ck_assert_int_eq(resets, 1);
    ck_assert_uint_eq(piix3_rcr_ops.read(&p, 0, 1), 0x02);
    /* through CONFIG_ADDRESS+1, as a guest writes port CF9h */
    bus.byte1_ops = &piix3_rcr_ops;
    bus.byte1_dev = &p;
    pci_config_address_ops.write(&bus, 1, 0x00, 1);
    pci_config_address_ops.write(&bus, 1, 0x06, 1);
    ck_assert_int_eq(resets, 2);
}
END_TEST

static int sci_level, poweroffs;
static void sci_sink(void *opaque, int n, int level) { (void)opaque; (void)n; sci_level = level; }
static void count_off(void *opaque) { (void)opaque; poweroffs++; }

START_TEST(test_piix4_pm)
{
    struct piix4_acpi a;
    struct vclock clock;
    vclock_init(&clock);
    pci_bus_init(&bus);
    ck_assert_int_eq(piix4_acpi_init(&a, &bus, 0x0B, &clock), 0);
    irq_connect(&a.sci, sci_sink, NULL, 9);
    a.poweroff = count_off;
    sci_level = poweroffs = 0;
    ck_assert_uint_eq(cfg_read(0x0B, 0, 4), 0x71138086);
    cfg_write(0x0B, 0x40, 0x0601, 4);
    cfg_write(0x0B, 0x80, 0x01, 1);
    ck_assert_uint_eq(a.pm_base, 0x600);
    /* the PM timer runs at 3.579545 MHz of virtual time: 1 ms = 3579 ticks */
    vclock_advance(&clock, 1000000);
    ck_assert_uint_eq(piix4_pm_ops.read(&a, 8, 4), 3579);
    ck_assert_uint_eq(piix4_pm_ops.read(&a, 9, 1), 3579 >> 8);
    /* bit 23 toggles after 2^23 ticks: TMR_STS, SCI only once enabled */
    piix4_pm_ops.write(&a, 2, ACPI_TMR_STS, 2);
    vclock_advance(&clock, 2400000000u);
    ck_assert(piix4_pm_ops.read(&a, 0, 2) & ACPI_TMR_STS);
    ck_assert_int_eq(sci_level, 0);
    piix4_apm_ops.write(&a, 0, PIIX4_APM_ACPI_ENABLE, 1);
    ck_assert(piix4_pm_ops.read(&a, 4, 2) & ACPI_SCI_EN);
    ck_assert_int_eq(sci_level, 1);
    piix4_pm_ops.write(&a, 0, ACPI_TMR_STS, 2);     /* write 1 to clear */
    ck_assert_int_eq(sci_level, 0);
    ck_assert_uint_eq(piix4_pm_ops.read(&a, 0, 2) & ACPI_TMR_STS, 0);
    /* state round trip, then the next TMR_STS comes at the same time */
    uint8_t buf[512], buf2[512];
    size_t n = state_save(piix4_acpi_device_ops.fields, &a, buf);
    struct piix4_acpi b;
    struct pci_bus bus2;
    pci_bus_init(&bus2);
    piix4_acpi_init(&b, &bus2, 0x0B, &clock);
    state_load(piix4_acpi_device_ops.fields, &b, buf, n);
    piix4_acpi_device_ops.post_load(&b);
    ck_assert_uint_eq(state_save(piix4_acpi_device_ops.fields, &b, buf2), n);
    ck_assert_mem_eq(buf, buf2, n);
    ck_assert_uint_eq(b.tmr_timer.deadline, a.tmr_timer.deadline);
    timer_cancel(&b.tmr_timer);
    /* SLP_TYP 1 (not S5) does not power off; SLP_TYP 0 with SLP_EN does */
    piix4_pm_ops.write(&a, 4, ACPI_SCI_EN | (1 << ACPI_SLP_TYP_SHIFT) | ACPI_SLP_EN, 2);
    ck_assert_int_eq(poweroffs, 0);
    piix4_pm_ops.write(&a, 4, ACPI_SCI_EN | ACPI_SLP_EN, 2);
    ck_assert_int_eq(poweroffs, 1);
    ck_assert_uint_eq(piix4_pm_ops.read(&a, 4, 2) & ACPI_SLP_EN, 0);
}
END_TEST

Suite *pci_suite(void)
{
    Suite *s = suite_create("pci");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_config_mechanism);
    tcase_add_test(tc, test_bar_sizing_and_decoding);
    tcase_add_test(tc, test_i440fx_pam);
    tcase_add_test(tc, test_piix3_routing);
    tcase_add_test(tc, test_piix4_pm);
    suite_add_tcase(s, tc);
    return s;
}
