/* Intel 82371AB PIIX4 function 3, power management (PIIX4 datasheet 290562,
 * sec. 3.6 PCI config, 7.2 PM I/O registers). PM timer: 24-bit, 3.579545 MHz,
 * from virtual time; TMR_STS is set at each bit-23 transition. SCI while
 * SCI_EN and an enabled status bit is set. PM1 control with SUS_EN and
 * SUS_TYP 0 (soft off, our DSDT's \_S5) powers the machine off. The APM
 * control port stands in for SMM: ACPI enable/disable commands set or clear
 * SCI_EN directly. Not modelled: SMI, suspend states other than soft off,
 * SMBus, GPIO, device monitors and throttling. SMM is absent: DEVACTB reports
 * the APM-control SMI as already enabled, so firmware skips SMM set-up. */
#include "devices/piix4_acpi.h"
#include <string.h>

static const struct state_field piix4_fields[] = {
    STATE_U8_ARRAY(struct piix4_acpi, pci.config, 256),
    STATE_U16(struct piix4_acpi, pm1_sts),
    STATE_U16(struct piix4_acpi, pm1_en),
    STATE_U16(struct piix4_acpi, pm1_cnt),
    STATE_U16(struct piix4_acpi, gpe_sts),
    STATE_U16(struct piix4_acpi, gpe_en),
    STATE_U8(struct piix4_acpi, apmc),
    STATE_U8(struct piix4_acpi, apms),
    STATE_U64(struct piix4_acpi, tmr_deadline),
    STATE_END
};

/* Ticks of the 3.579545 MHz clock at virtual time ns, without overflow. */
static uint64_t ticks_at(uint64_t ns)
{
    return (ns / 1000000000u) * PIIX4_PM_TIMER_HZ + (ns % 1000000000u) * PIIX4_PM_TIMER_HZ / 1000000000u;
}

/* First virtual time at which the tick count reaches `ticks`. */
static uint64_t ns_for_ticks(uint64_t ticks)
{
    uint64_t s = ticks / PIIX4_PM_TIMER_HZ, rem = ticks % PIIX4_PM_TIMER_HZ;
    return s * 1000000000u + (rem * 1000000000u + PIIX4_PM_TIMER_HZ - 1) / PIIX4_PM_TIMER_HZ;
}

uint32_t piix4_pm_timer(const struct piix4_acpi *a)
{
    return (uint32_t)(ticks_at(vclock_now(a->clock)) & 0xFFFFFF);
}

static void piix4_update_sci(struct piix4_acpi *a)
{
    int level = (a->pm1_cnt & ACPI_SCI_EN) &&
                (((a->pm1_sts & a->pm1_en) & (ACPI_TMR_STS | ACPI_GBL_STS | ACPI_PWRBTN_STS | ACPI_RTC_STS)) ||
                 (a->gpe_sts & a->gpe_en));
    irq_set(&a->sci, level);
}

static void piix4_arm_tmr(struct piix4_acpi *a)
{
    uint64_t t = ticks_at(vclock_now(a->clock));
    uint64_t next = (t | 0x7FFFFF) + 1;          /* next bit-23 transition */
    a->tmr_deadline = ns_for_ticks(next);
    timer_arm(&a->tmr_timer, a->tmr_deadline);
}

static void piix4_tmr_fire(void *opaque)
{
    struct piix4_acpi *a = opaque;
    a->pm1_sts |= ACPI_TMR_STS;
    piix4_update_sci(a);
    piix4_arm_tmr(a);
}

static uint32_t pm_read(void *opaque, uint32_t off, int size)
{
    struct piix4_acpi *a = opaque;
    uint32_t v;
    switch (off & ~1u) {
    case 0x00: v = a->pm1_sts; break;
    case 0x02: v = a->pm1_en; break;
    case 0x04: v = a->pm1_cnt & ~ACPI_SLP_EN; break;
    case 0x08: case 0x0A: v = piix4_pm_timer(a); if (off & 2) v >>= 16; break;
    default: v = 0; break;
    }
    if (off & 1)
        v >>= 8;
    return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void pm1_cnt_write(struct piix4_acpi *a, uint16_t v)
{
    a->pm1_cnt = (uint16_t)(v & ~ACPI_SLP_EN);
    if ((v & ACPI_SLP_EN) && ((v >> ACPI_SLP_TYP_SHIFT) & 7) == 0 && a->poweroff)
        a->poweroff(a->opaque);
    piix4_update_sci(a);
}

static void pm_write(void *opaque, uint32_t off, uint32_t val, int size)
{
    struct piix4_acpi *a = opaque;
    if (size == 1) {
        /* Merge a byte write into the 16-bit register it belongs to. */
        uint32_t cur = pm_read(a, off & ~1u, 2);
        val = (off & 1) ? (cur & 0x00FF) | (val << 8) : (cur & 0xFF00) | val;
        if ((off & ~1u) == 0x00)  /* status is write-1-clear: keep only new ones */
            val = (off & 1) ? (val & 0xFF00) : (val & 0x00FF);
        off &= ~1u;
    }
    switch (off) {
    case 0x00:
        a->pm1_sts &= (uint16_t)~val;
        if (size == 4)
            a->pm1_en = (uint16_t)(val >> 16);
        break;
    case 0x02: a->pm1_en = (uint16_t)val; break;
    case 0x04: pm1_cnt_write(a, (uint16_t)val); return;
    default: break;
    }
    piix4_update_sci(a);
}

const struct bus_ops piix4_pm_ops = { pm_read, pm_write, 0 };

static uint32_t gpe_read(void *opaque, uint32_t off, int size)
{
    struct piix4_acpi *a = opaque;
    uint32_t v = a->gpe_sts | (uint32_t)a->gpe_en << 16;
    v >>= 8 * off;
    return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void gpe_write(void *opaque, uint32_t off, uint32_t val, int size)
{
    struct piix4_acpi *a = opaque;
    for (int i = 0; i < size; i++) {
        uint32_t o = off + (uint32_t)i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        if (o < 2)
            a->gpe_sts &= (uint16_t)~(b << (8 * o));
        else if (o < 4)
            a->gpe_en = (uint16_t)((a->gpe_en & ~(0xFF << (8 * (o - 2)))) | b << (8 * (o - 2)));
    }
    piix4_update_sci(a);
}

const struct bus_ops piix4_gpe_ops = { gpe_read, gpe_write, 1 };

static uint32_t apm_read(void *opaque, uint32_t off, int size)
{
    struct piix4_acpi *a = opaque;
    (void)size;
    return off ? a->apms : a->apmc;
}

static void apm_write(void *opaque, uint32_t off, uint32_t val, int size)
{
    struct piix4_acpi *a = opaque;
    (void)size;
    if (off) {
        a->apms = (uint8_t)val;
        return;
    }
    a->apmc = (uint8_t)val;
    if (val == PIIX4_APM_ACPI_ENABLE)
        a->pm1_cnt |= ACPI_SCI_EN;
    else if (val == PIIX4_APM_ACPI_DISABLE)
        a->pm1_cnt &= (uint16_t)~ACPI_SCI_EN;
    piix4_update_sci(a);
}

const struct bus_ops piix4_apm_ops = { apm_read, apm_write, 1 };

/* PMBA decodes when PMREGMISC.PMIOSE is set. */
static void piix4_update_pm_base(struct piix4_acpi *a)
{
    uint32_t base = 0xFFFFFFFFu;
    if (a->pci.config[PIIX4_PMREGMISC] & 1)
        base = pci_get32(&a->pci, PIIX4_PMBA) & 0xFFC0;
    if (base == 0)
        base = 0xFFFFFFFFu;
    if (base != a->pm_base) {
        uint32_t old = a->pm_base;
        a->pm_base = base;
        if (a->pm_map)
            a->pm_map(a->opaque, old, base);
    }
}

static void piix4_config_write(struct pci_device *dev, uint32_t off, int size)
{
    (void)off; (void)size;
    piix4_update_pm_base(dev->opaque);
}

static void piix4_reset(void *dev)
{
    struct piix4_acpi *a = dev;
    a->pm1_sts = a->pm1_en = a->pm1_cnt = 0;
    a->gpe_sts = a->gpe_en = 0;
    a->apmc = a->apms = 0;
    pci_put32(&a->pci, PIIX4_PMBA, 1);
    a->pci.config[PIIX4_PMREGMISC] = 0;
    /* DEVACTB bit 25 (APMC_EN) reads as set: there is no SMM here, and
     * firmware that finds it set takes SMM set-up as done (QEMU does the
     * same when it runs without SMM). */
    a->pci.config[0x5B] = 0x02;
    a->pci.config[PCI_INT_LINE] = 0;
    piix4_update_pm_base(a);
    piix4_update_sci(a);
    piix4_arm_tmr(a);
}

static int piix4_post_load(void *dev)
{
    struct piix4_acpi *a = dev;
    piix4_update_pm_base(a);
    timer_arm(&a->tmr_timer, a->tmr_deadline);
    piix4_update_sci(a);
    return 0;
}

const struct device_ops piix4_acpi_device_ops = {
    .name = "piix4-acpi", .version = 1, .fields = piix4_fields,
    .reset = piix4_reset, .post_load = piix4_post_load,
};

void piix4_power_button(struct piix4_acpi *a)
{
    a->pm1_sts |= ACPI_PWRBTN_STS;
    piix4_update_sci(a);
}

int piix4_acpi_init(struct piix4_acpi *a, struct pci_bus *bus, uint8_t devfn, struct vclock *clock)
{
    memset(a, 0, sizeof(*a));
    a->clock = clock;
    a->pm_base = 0xFFFFFFFFu;
    if (pci_device_init(bus, &a->pci, "piix4-acpi", devfn, 0x8086, 0x7113, 0x03, 0x068000) < 0)
        return -1;
    a->pci.opaque = a;
    a->pci.config_write = piix4_config_write;
    pci_set_int_pin(&a->pci, 1);
    a->pci.wmask[PIIX4_PMBA] = 0xC0;
    a->pci.wmask[PIIX4_PMBA + 1] = 0xFF;
    a->pci.wmask[PIIX4_PMREGMISC] = 0x01;
    timer_init(&a->tmr_timer, clock, piix4_tmr_fire, a);
    piix4_reset(a);
    return 0;
}
