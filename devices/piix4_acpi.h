/* Intel 82371AB PIIX4 function 3: ACPI power management (PM timer, PM1 event
 * and control, SCI, soft power-off), plus the APM control port pair and a
 * general-purpose event block. */
#ifndef SV_PIIX4_ACPI_H
#define SV_PIIX4_ACPI_H
#include "devices/pci.h"
#include "devices/irq.h"
#include "devices/device.h"
#include "devices/vclock.h"

#define PIIX4_PMBA      0x40   /* PM I/O base (config) */
#define PIIX4_PMREGMISC 0x80   /* bit 0: PM I/O space enable */
#define PIIX4_PM_SIZE   64

/* PM1 status/enable bits */
#define ACPI_TMR_STS    0x0001
#define ACPI_GBL_STS    0x0020
#define ACPI_PWRBTN_STS 0x0100
#define ACPI_RTC_STS    0x0400
#define ACPI_WAK_STS    0x8000
/* PM1 control bits */
#define ACPI_SCI_EN     0x0001
#define ACPI_SLP_TYP_SHIFT 10
#define ACPI_SLP_EN     0x2000

#define PIIX4_APM_ACPI_ENABLE  0xF1
#define PIIX4_APM_ACPI_DISABLE 0xF0
#define PIIX4_PM_TIMER_HZ 3579545u

typedef void piix4_event_fn(void *opaque);
/* Called when the PM I/O block moves (new base, or 0xFFFFFFFF: off). */
typedef void piix4_pm_map_fn(void *opaque, uint32_t old_base, uint32_t new_base);

struct piix4_acpi {
    struct pci_device pci;
    struct vclock *clock;
    struct timer tmr_timer;     /* next PM timer bit-23 toggle */
    uint16_t pm1_sts, pm1_en, pm1_cnt;
    uint16_t gpe_sts, gpe_en;
    uint8_t apmc, apms;         /* APM control/status ports */
    uint64_t tmr_deadline;      /* saved copy of tmr_timer's deadline */
    uint32_t pm_base;           /* decoded PM I/O base or 0xFFFFFFFF (derived) */
    struct irq_line sci;
    piix4_event_fn *poweroff;   /* S5 requested */
    piix4_pm_map_fn *pm_map;
    void *opaque;
};

extern const struct device_ops piix4_acpi_device_ops;
extern const struct bus_ops piix4_pm_ops;   /* the 64-byte PM block, offsets from PMBA */
extern const struct bus_ops piix4_apm_ops;  /* 2 ports: APMC, APMS */
extern const struct bus_ops piix4_gpe_ops;  /* 4 ports: GPE0_STS, GPE0_EN */

int piix4_acpi_init(struct piix4_acpi *a, struct pci_bus *bus, uint8_t devfn, struct vclock *clock);
uint32_t piix4_pm_timer(const struct piix4_acpi *a);
/* Press the power button (ACPI power-button event). */
void piix4_power_button(struct piix4_acpi *a);

#endif
