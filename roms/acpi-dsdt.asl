/*
 * Softvisor's DSDT, compiled with iasl (acpica-tools) at build time.
 * The PC described here is the one devices/pc.c builds: i440FX host bridge,
 * PIIX3 ISA bridge at 00:01.0 with PIRQ route control at config 60h-63h, the
 * PCI interrupt swizzle PIRQ = (slot - 1 + pin) mod 4, the usual ISA devices,
 * and \_S5 with SLP_TYP 0 (PIIX4 soft off).
 */
DefinitionBlock ("", "DSDT", 1, "SOFTVI", "SVDSDT", 1)
{

    Name (\_S5, Package (0x04) { 0x00, 0x00, 0x00, 0x00 })

    Scope (\_SB)
    {
        Device (CPU0)
        {
            Name (_HID, "ACPI0007")
            Name (_UID, 0x00)
        }

        /* PIRQ link helpers: a route byte has bit 7 set when disabled and the
         * ISA IRQ number in bits 0-3. */
        Method (LSTA, 1, NotSerialized)
        {
            If (Arg0 & 0x80) { Return (0x09) }
            Return (0x0B)
        }
        Method (LCRS, 1, NotSerialized)
        {
            Local0 = ResourceTemplate () { IRQ (Level, ActiveHigh, Shared) { } }
            CreateWordField (Local0, 0x01, IRQW)
            If (!(Arg0 & 0x80)) { IRQW = One << (Arg0 & 0x0F) }
            Return (Local0)
        }
        Method (LSRS, 1, NotSerialized)
        {
            CreateWordField (Arg0, 0x01, IRQW)
            FindSetRightBit (IRQW, Local0)
            If (Local0 == 0) { Return (0x80) }
            Return (Local0 - 1)
        }

        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A03"))
            Name (_UID, 0x00)
            Name (_CRS, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0x0000, 0x0000, 0x00FF, 0x0000, 0x0100)
                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,
                    0x00000000, 0x000A0000, 0x000BFFFF, 0x00000000, 0x00020000)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
                    0x00000000, 0xC0000000, 0xFEBFFFFF, 0x00000000, 0x3EC00000)
            })
            Name (_PRT, Package ()
            {
                Package () { 0x0001FFFF, 0, LNKA, 0 },
                Package () { 0x0001FFFF, 1, LNKB, 0 },
                Package () { 0x0001FFFF, 2, LNKC, 0 },
                Package () { 0x0001FFFF, 3, LNKD, 0 },
                Package () { 0x0002FFFF, 0, LNKB, 0 },
                Package () { 0x0002FFFF, 1, LNKC, 0 },
                Package () { 0x0002FFFF, 2, LNKD, 0 },
                Package () { 0x0002FFFF, 3, LNKA, 0 },
                Package () { 0x0003FFFF, 0, LNKC, 0 },
                Package () { 0x0003FFFF, 1, LNKD, 0 },
                Package () { 0x0003FFFF, 2, LNKA, 0 },
                Package () { 0x0003FFFF, 3, LNKB, 0 },
                Package () { 0x0004FFFF, 0, LNKD, 0 },
                Package () { 0x0004FFFF, 1, LNKA, 0 },
                Package () { 0x0004FFFF, 2, LNKB, 0 },
                Package () { 0x0004FFFF, 3, LNKC, 0 },
                Package () { 0x0005FFFF, 0, LNKA, 0 },
                Package () { 0x0005FFFF, 1, LNKB, 0 },
                Package () { 0x0005FFFF, 2, LNKC, 0 },
                Package () { 0x0005FFFF, 3, LNKD, 0 },
                Package () { 0x0006FFFF, 0, LNKB, 0 },
                Package () { 0x0006FFFF, 1, LNKC, 0 },
                Package () { 0x0006FFFF, 2, LNKD, 0 },
                Package () { 0x0006FFFF, 3, LNKA, 0 },
                Package () { 0x0007FFFF, 0, LNKC, 0 },
                Package () { 0x0007FFFF, 1, LNKD, 0 },
                Package () { 0x0007FFFF, 2, LNKA, 0 },
                Package () { 0x0007FFFF, 3, LNKB, 0 },
                Package () { 0x0008FFFF, 0, LNKD, 0 },
                Package () { 0x0008FFFF, 1, LNKA, 0 },
                Package () { 0x0008FFFF, 2, LNKB, 0 },
                Package () { 0x0008FFFF, 3, LNKC, 0 },
                Package () { 0x0009FFFF, 0, LNKA, 0 },
                Package () { 0x0009FFFF, 1, LNKB, 0 },
                Package () { 0x0009FFFF, 2, LNKC, 0 },
                Package () { 0x0009FFFF, 3, LNKD, 0 },
                Package () { 0x000AFFFF, 0, LNKB, 0 },
                Package () { 0x000AFFFF, 1, LNKC, 0 },
                Package () { 0x000AFFFF, 2, LNKD, 0 },
                Package () { 0x000AFFFF, 3, LNKA, 0 },
                Package () { 0x000BFFFF, 0, LNKC, 0 },
                Package () { 0x000BFFFF, 1, LNKD, 0 },
                Package () { 0x000BFFFF, 2, LNKA, 0 },
                Package () { 0x000BFFFF, 3, LNKB, 0 },
                Package () { 0x000CFFFF, 0, LNKD, 0 },
                Package () { 0x000CFFFF, 1, LNKA, 0 },
                Package () { 0x000CFFFF, 2, LNKB, 0 },
                Package () { 0x000CFFFF, 3, LNKC, 0 },
                Package () { 0x000DFFFF, 0, LNKA, 0 },
                Package () { 0x000DFFFF, 1, LNKB, 0 },
                Package () { 0x000DFFFF, 2, LNKC, 0 },
                Package () { 0x000DFFFF, 3, LNKD, 0 },
                Package () { 0x000EFFFF, 0, LNKB, 0 },
                Package () { 0x000EFFFF, 1, LNKC, 0 },
                Package () { 0x000EFFFF, 2, LNKD, 0 },
                Package () { 0x000EFFFF, 3, LNKA, 0 },
                Package () { 0x000FFFFF, 0, LNKC, 0 },
                Package () { 0x000FFFFF, 1, LNKD, 0 },
                Package () { 0x000FFFFF, 2, LNKA, 0 },
                Package () { 0x000FFFFF, 3, LNKB, 0 },
                Package () { 0x0010FFFF, 0, LNKD, 0 },
                Package () { 0x0010FFFF, 1, LNKA, 0 },
                Package () { 0x0010FFFF, 2, LNKB, 0 },
                Package () { 0x0010FFFF, 3, LNKC, 0 },
                Package () { 0x0011FFFF, 0, LNKA, 0 },
                Package () { 0x0011FFFF, 1, LNKB, 0 },
                Package () { 0x0011FFFF, 2, LNKC, 0 },
                Package () { 0x0011FFFF, 3, LNKD, 0 },
                Package () { 0x0012FFFF, 0, LNKB, 0 },
                Package () { 0x0012FFFF, 1, LNKC, 0 },
                Package () { 0x0012FFFF, 2, LNKD, 0 },
                Package () { 0x0012FFFF, 3, LNKA, 0 },
                Package () { 0x0013FFFF, 0, LNKC, 0 },
                Package () { 0x0013FFFF, 1, LNKD, 0 },
                Package () { 0x0013FFFF, 2, LNKA, 0 },
                Package () { 0x0013FFFF, 3, LNKB, 0 },
                Package () { 0x0014FFFF, 0, LNKD, 0 },
                Package () { 0x0014FFFF, 1, LNKA, 0 },
                Package () { 0x0014FFFF, 2, LNKB, 0 },
                Package () { 0x0014FFFF, 3, LNKC, 0 },
                Package () { 0x0015FFFF, 0, LNKA, 0 },
                Package () { 0x0015FFFF, 1, LNKB, 0 },
                Package () { 0x0015FFFF, 2, LNKC, 0 },
                Package () { 0x0015FFFF, 3, LNKD, 0 },
                Package () { 0x0016FFFF, 0, LNKB, 0 },
                Package () { 0x0016FFFF, 1, LNKC, 0 },
                Package () { 0x0016FFFF, 2, LNKD, 0 },
                Package () { 0x0016FFFF, 3, LNKA, 0 },
                Package () { 0x0017FFFF, 0, LNKC, 0 },
                Package () { 0x0017FFFF, 1, LNKD, 0 },
                Package () { 0x0017FFFF, 2, LNKA, 0 },
                Package () { 0x0017FFFF, 3, LNKB, 0 },
                Package () { 0x0018FFFF, 0, LNKD, 0 },
                Package () { 0x0018FFFF, 1, LNKA, 0 },
                Package () { 0x0018FFFF, 2, LNKB, 0 },
                Package () { 0x0018FFFF, 3, LNKC, 0 },
                Package () { 0x0019FFFF, 0, LNKA, 0 },
                Package () { 0x0019FFFF, 1, LNKB, 0 },
                Package () { 0x0019FFFF, 2, LNKC, 0 },
                Package () { 0x0019FFFF, 3, LNKD, 0 },
                Package () { 0x001AFFFF, 0, LNKB, 0 },
                Package () { 0x001AFFFF, 1, LNKC, 0 },
                Package () { 0x001AFFFF, 2, LNKD, 0 },
                Package () { 0x001AFFFF, 3, LNKA, 0 },
                Package () { 0x001BFFFF, 0, LNKC, 0 },
                Package () { 0x001BFFFF, 1, LNKD, 0 },
                Package () { 0x001BFFFF, 2, LNKA, 0 },
                Package () { 0x001BFFFF, 3, LNKB, 0 },
                Package () { 0x001CFFFF, 0, LNKD, 0 },
                Package () { 0x001CFFFF, 1, LNKA, 0 },
                Package () { 0x001CFFFF, 2, LNKB, 0 },
                Package () { 0x001CFFFF, 3, LNKC, 0 },
                Package () { 0x001DFFFF, 0, LNKA, 0 },
                Package () { 0x001DFFFF, 1, LNKB, 0 },
                Package () { 0x001DFFFF, 2, LNKC, 0 },
                Package () { 0x001DFFFF, 3, LNKD, 0 },
                Package () { 0x001EFFFF, 0, LNKB, 0 },
                Package () { 0x001EFFFF, 1, LNKC, 0 },
                Package () { 0x001EFFFF, 2, LNKD, 0 },
                Package () { 0x001EFFFF, 3, LNKA, 0 },
                Package () { 0x001FFFFF, 0, LNKC, 0 },
                Package () { 0x001FFFFF, 1, LNKD, 0 },
                Package () { 0x001FFFFF, 2, LNKA, 0 },
                Package () { 0x001FFFFF, 3, LNKB, 0 }
            })

            Device (ISA)
            {
                Name (_ADR, 0x00010000)
                OperationRegion (PIRQ, PCI_Config, 0x60, 0x04)
                Field (PIRQ, ByteAcc, NoLock, Preserve)
                {
                    PRQ0, 8, PRQ1, 8, PRQ2, 8, PRQ3, 8
                }

                Device (PIC)
                {
                    Name (_HID, EisaId ("PNP0000"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0020, 0x0020, 0x01, 0x02)
                        IO (Decode16, 0x00A0, 0x00A0, 0x01, 0x02)
                        IO (Decode16, 0x04D0, 0x04D0, 0x01, 0x02)
                        IRQNoFlags () { 2 }
                    })
                }
                Device (DMA)
                {
                    Name (_HID, EisaId ("PNP0200"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        DMA (Compatibility, NotBusMaster, Transfer8, ) { 4 }
                        IO (Decode16, 0x0000, 0x0000, 0x01, 0x10)
                        IO (Decode16, 0x0080, 0x0080, 0x01, 0x10)
                        IO (Decode16, 0x00C0, 0x00C0, 0x01, 0x20)
                    })
                }
                Device (TMR)
                {
                    Name (_HID, EisaId ("PNP0100"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0040, 0x0040, 0x01, 0x04)
                        IRQNoFlags () { 0 }
                    })
                }
                Device (RTC)
                {
                    Name (_HID, EisaId ("PNP0B00"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0070, 0x0070, 0x01, 0x02)
                        IRQNoFlags () { 8 }
                    })
                }
                Device (SPKR)
                {
                    Name (_HID, EisaId ("PNP0800"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0061, 0x0061, 0x01, 0x01)
                    })
                }
                Device (KBD)
                {
                    Name (_HID, EisaId ("PNP0303"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0060, 0x0060, 0x01, 0x01)
                        IO (Decode16, 0x0064, 0x0064, 0x01, 0x01)
                        IRQNoFlags () { 1 }
                    })
                }
                Device (MOU)
                {
                    Name (_HID, EisaId ("PNP0F13"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IRQNoFlags () { 12 }
                    })
                }
                Device (COM1)
                {
                    Name (_HID, EisaId ("PNP0501"))
                    Name (_UID, 0x01)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08)
                        IRQNoFlags () { 4 }
                    })
                }
            }
        }

        Device (LNKA)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 1)
            Name (_PRS, ResourceTemplate () { IRQ (Level, ActiveHigh, Shared) { 5, 9, 10, 11 } })
            Method (_STA, 0, NotSerialized) { Return (LSTA (\_SB.PCI0.ISA.PRQ0)) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQ0 |= 0x80 }
            Method (_CRS, 0, NotSerialized) { Return (LCRS (\_SB.PCI0.ISA.PRQ0)) }
            Method (_SRS, 1, NotSerialized) { \_SB.PCI0.ISA.PRQ0 = LSRS (Arg0) }
        }

        Device (LNKB)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 2)
            Name (_PRS, ResourceTemplate () { IRQ (Level, ActiveHigh, Shared) { 5, 9, 10, 11 } })
            Method (_STA, 0, NotSerialized) { Return (LSTA (\_SB.PCI0.ISA.PRQ1)) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQ1 |= 0x80 }
            Method (_CRS, 0, NotSerialized) { Return (LCRS (\_SB.PCI0.ISA.PRQ1)) }
            Method (_SRS, 1, NotSerialized) { \_SB.PCI0.ISA.PRQ1 = LSRS (Arg0) }
        }

        Device (LNKC)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 3)
            Name (_PRS, ResourceTemplate () { IRQ (Level, ActiveHigh, Shared) { 5, 9, 10, 11 } })
            Method (_STA, 0, NotSerialized) { Return (LSTA (\_SB.PCI0.ISA.PRQ2)) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQ2 |= 0x80 }
            Method (_CRS, 0, NotSerialized) { Return (LCRS (\_SB.PCI0.ISA.PRQ2)) }
            Method (_SRS, 1, NotSerialized) { \_SB.PCI0.ISA.PRQ2 = LSRS (Arg0) }
        }

        Device (LNKD)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 4)
            Name (_PRS, ResourceTemplate () { IRQ (Level, ActiveHigh, Shared) { 5, 9, 10, 11 } })
            Method (_STA, 0, NotSerialized) { Return (LSTA (\_SB.PCI0.ISA.PRQ3)) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQ3 |= 0x80 }
            Method (_CRS, 0, NotSerialized) { Return (LCRS (\_SB.PCI0.ISA.PRQ3)) }
            Method (_SRS, 1, NotSerialized) { \_SB.PCI0.ISA.PRQ3 = LSRS (Arg0) }
        }

    }

    Scope (\_GPE)
    {
        Name (_HID, "ACPI0006")
    }
}
