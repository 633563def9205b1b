/* The boot loader Softvisor is for --kernel: Linux x86 boot protocol 2.04+
 * (32-bit entry, Documentation/x86/boot.rst) and Multiboot 0.6.96 (a.out-kludge
 * addresses or ELF32 program headers). Not supported: the 16-bit real-mode
 * setup entry, zImage (protocol < 2.04 or not LOADED_HIGH), EFI handover,
 * multiboot video modes and boot devices. */
#include "devices/kernel_boot.h"
#include <stdio.h>
#include <string.h>
#include "snapshot/state.h"

#define MB_MAGIC        0x1BADB002u
#define MB_BOOT_MAGIC   0x2BADB002u
#define MB_AOUT_KLUDGE  0x00010000u

static uint32_t le32(const uint8_t *p) { return get_le32(p); }

static void put_e820(struct physmem *pm, uint32_t at, const struct e820_entry *e)
{
    uint8_t b[20];
    put_le64(b, e->addr);
    put_le64(b + 8, e->size);
    put_le32(b + 16, e->type);
    phys_write_block(pm, at, b, 20);
}

/* Highest usable RAM address below `top` for a block of len bytes, aligned. */
static uint32_t place_high(uint32_t top, size_t len, uint32_t align)
{
    if (len > top)
        return 0;
    return (uint32_t)((top - len) & ~(uint64_t)(align - 1));
}

static int load_cmdline(struct physmem *pm, const char *cmdline, char *err, size_t errlen)
{
    size_t n = cmdline ? strlen(cmdline) : 0;
    if (n >= KBOOT_CMDLINE_MAX) {
        snprintf(err, errlen, "kernel command line longer than %u bytes", KBOOT_CMDLINE_MAX - 1);
        return -1;
    }
    uint8_t zero = 0;
    if (n)
        phys_write_block(pm, KBOOT_CMDLINE, cmdline, n);
    phys_write_block(pm, KBOOT_CMDLINE + (uint32_t)n, &zero, 1);
    return 0;
}

static int load_linux(struct physmem *pm, const uint8_t *k, size_t klen, const uint8_t *initrd, size_t ilen,
                      const char *cmdline, const struct e820_entry *map, int nmap, uint32_t ram_top,
                      struct boot_entry *e, char *err, size_t errlen)
{
    uint16_t version = get_le16(k + 0x206);
    uint8_t setup_sects = k[0x1F1] ? k[0x1F1] : 4;
    size_t setup_len = (size_t)(setup_sects + 1) * 512;
    if (version < 0x0204 || !(k[0x211] & 1)) {
        snprintf(err, errlen, "Linux boot protocol %u.%02u without LOADED_HIGH is not supported (need a bzImage, 2.04+)",
                 version >> 8, version & 0xFF);
        return -1;
    }
    if (setup_len >= klen) {
        snprintf(err, errlen, "truncated bzImage (setup of %zu bytes, file of %zu)", setup_len, klen);
        return -1;
    }
    uint32_t code32 = le32(k + 0x214);
    size_t pm_len = klen - setup_len;
    if ((uint64_t)code32 + pm_len > ram_top) {
        snprintf(err, errlen, "kernel does not fit in %u MiB of RAM", ram_top >> 20);
        return -1;
    }
    phys_write_block(pm, code32, k + setup_len, pm_len);

    /* The zero page: the file's setup header at its own offsets, then ours. */
    uint8_t bp[4096];
    memset(bp, 0, sizeof(bp));
    size_t hdr_end = 0x202 + k[0x201];
    if (hdr_end > 0x290 || hdr_end > klen)
        hdr_end = 0x290 < klen ? 0x290 : klen;
    memcpy(bp + 0x1F1, k + 0x1F1, hdr_end - 0x1F1);
    bp[0x210] = 0xFF;                              /* type_of_loader: undefined */
    bp[0x211] |= 0x80;                             /* CAN_USE_HEAP */
    put_le16(bp + 0x224, 0xFE00);                  /* heap_end_ptr */
    put_le32(bp + 0x228, KBOOT_CMDLINE);
    if (initrd && ilen) {
        uint32_t max = le32(k + 0x22C);
        uint32_t top = ram_top;
        if (version >= 0x0203 && max && max + 1 < top)
            top = max + 1;
        uint32_t at = place_high(top, ilen, 4096);
        if (at < code32 + pm_len) {
            snprintf(err, errlen, "initrd of %zu bytes does not fit in RAM beside the kernel", ilen);
            return -1;
        }
        phys_write_block(pm, at, initrd, ilen);
        put_le32(bp + 0x218, at);
        put_le32(bp + 0x21C, (uint32_t)ilen);
    }
    int n = nmap > 128 ? 128 : nmap;
    bp[0x1E8] = (uint8_t)n;
    uint32_t ext_k = 0;
    for (int i = 0; i < n; i++) {
        put_le64(bp + 0x2D0 + 20 * i, map[i].addr);
        put_le64(bp + 0x2D0 + 20 * i + 8, map[i].size);
        put_le32(bp + 0x2D0 + 20 * i + 16, map[i].type);
        if (map[i].type == E820_RAM && map[i].addr == 0x100000)
            ext_k = (uint32_t)(map[i].size >> 10);
    }
    put_le32(bp + 0x1E0, ext_k);                   /* alt_mem_k */
    put_le16(bp + 0x002, (uint16_t)(ext_k > 0xFFFF ? 0xFFFF : ext_k));
    phys_write_block(pm, KBOOT_PARAMS, bp, sizeof(bp));
    if (load_cmdline(pm, cmdline, err, errlen) < 0)
        return -1;
    *e = (struct boot_entry){ .eip = code32, .esi = KBOOT_PARAMS };
    return 0;
}

/* ELF32 i386 executable: copy each PT_LOAD segment to its physical address. */
static int load_elf(struct physmem *pm, const uint8_t *k, size_t klen, uint32_t ram_top, uint32_t *entry,
                    uint32_t *end, char *err, size_t errlen)
{
    if (klen < 52 || memcmp(k, "\177ELF", 4) || k[4] != 1 || get_le16(k + 18) != 3) {
        snprintf(err, errlen, "multiboot kernel without address fields is not an ELF32 i386 file");
        return -1;
    }
    uint32_t phoff = le32(k + 28);
    uint16_t phentsize = get_le16(k + 42), phnum = get_le16(k + 44);
    *entry = le32(k + 24);
    *end = 0;
    for (uint32_t i = 0; i < phnum; i++) {
        uint64_t ph = (uint64_t)phoff + (uint64_t)i * phentsize;
        if (phentsize < 32 || ph + 32 > klen) {
            snprintf(err, errlen, "ELF program header %u outside the file", i);
            return -1;
        }
        const uint8_t *p = k + ph;
        if (le32(p) != 1)
            continue;
        uint32_t off = le32(p + 4), paddr = le32(p + 12), filesz = le32(p + 16), memsz = le32(p + 20);
        if ((uint64_t)off + filesz > klen || filesz > memsz || (uint64_t)paddr + memsz > ram_top) {
            snprintf(err, errlen, "ELF segment %u does not fit the file or RAM", i);
            return -1;
        }
        phys_write_block(pm, paddr, k + off, filesz);
        for (uint32_t z = filesz; z < memsz; z++)
            phys_write(pm, paddr + z, 0, 1);
        if (paddr + memsz > *end)
            *end = paddr + memsz;
    }
    return 0;
}

static int load_multiboot(struct physmem *pm, const uint8_t *k, size_t klen, size_t hoff,
                          const uint8_t *initrd, size_t ilen, const char *cmdline,
                          const struct e820_entry *map, int nmap, uint32_t ram_top,
                          struct boot_entry *e, char *err, size_t errlen)
{
    const uint8_t *h = k + hoff;
    uint32_t flags = le32(h + 4), entry, end;
    if (flags & 0xFFFCu) {          /* bits 2-15: requirements we do not meet */
        snprintf(err, errlen, "multiboot header asks for unsupported features (flags 0x%08x)", flags);
        return -1;
    }
    if (flags & MB_AOUT_KLUDGE) {
        if (hoff + 32 > klen) {
            snprintf(err, errlen, "truncated multiboot header");
            return -1;
        }
        uint32_t header_addr = le32(h + 12), load = le32(h + 16), load_end = le32(h + 20);
        uint32_t bss_end = le32(h + 24);
        entry = le32(h + 28);
        uint64_t file_off = (uint64_t)hoff - (header_addr - load);
        uint64_t len = load_end ? (uint64_t)load_end - load : klen - file_off;
        if (header_addr < load || file_off > klen || file_off + len > klen || (uint64_t)load + len > ram_top ||
            (bss_end && (bss_end < load + len || bss_end > ram_top))) {
            snprintf(err, errlen, "multiboot load addresses do not fit the file or RAM");
            return -1;
        }
        phys_write_block(pm, load, k + file_off, (size_t)len);
        end = (uint32_t)(load + len);
        for (; bss_end && end < bss_end; end++)
            phys_write(pm, end, 0, 1);
    } else if (load_elf(pm, k, klen, ram_top, &entry, &end, err, errlen) < 0) {
        return -1;
    }
    if (load_cmdline(pm, cmdline, err, errlen) < 0)
        return -1;
    /* Information structure, then the mmap, the module list and its string. */
    uint8_t info[88];
    memset(info, 0, sizeof(info));
    uint32_t mflags = 1u << 0 | 1u << 2 | 1u << 6 | 1u << 9;
    uint32_t low_k = 640, high_k = 0;
    for (int i = 0; i < nmap; i++)
        if (map[i].type == E820_RAM && map[i].addr == 0x100000)
            high_k = (uint32_t)(map[i].size >> 10);
    put_le32(info + 4, low_k);
    put_le32(info + 8, high_k);
    put_le32(info + 16, KBOOT_CMDLINE);
    uint32_t at = KBOOT_MB_INFO + 128;
    put_le32(info + 44, (uint32_t)nmap * 24);
    put_le32(info + 48, at);
    for (int i = 0; i < nmap; i++, at += 24) {
        uint8_t b[4];
        put_le32(b, 20);
        phys_write_block(pm, at, b, 4);
        put_e820(pm, at + 4, &map[i]);
    }
    if (initrd && ilen) {
        uint32_t where = place_high(ram_top, ilen, 4096);
        if (where < end) {
            snprintf(err, errlen, "initrd of %zu bytes does not fit in RAM beside the kernel", ilen);
            return -1;
        }
        phys_write_block(pm, where, initrd, ilen);
        uint8_t mod[16];
        put_le32(mod, where);
        put_le32(mod + 4, where + (uint32_t)ilen);
        put_le32(mod + 8, at + 16);
        put_le32(mod + 12, 0);
        phys_write_block(pm, at, mod, 16);
        phys_write_block(pm, at + 16, "initrd", 7);
        mflags |= 1u << 3;
        put_le32(info + 20, 1);
        put_le32(info + 24, at);
        at += 32;
    }
    phys_write_block(pm, at, "Softvisor", 10);
    put_le32(info + 64, at);
    put_le32(info, mflags);
    phys_write_block(pm, KBOOT_MB_INFO, info, sizeof(info));
    *e = (struct boot_entry){ .eip = entry, .eax = MB_BOOT_MAGIC, .ebx = KBOOT_MB_INFO };
    return 0;
}

int kernel_boot_load(struct physmem *pm, const uint8_t *kernel, size_t klen,
                     const uint8_t *initrd, size_t ilen, const char *cmdline,
                     const struct e820_entry *map, int nmap, uint32_t ram_top,
                     struct boot_entry *entry, char *err, size_t errlen)
{
    /* Multiboot first: its header may sit in a file that is also a bzImage. */
    for (size_t off = 0; off + 12 <= klen && off < 8192; off += 4) {
        const uint8_t *h = kernel + off;
        if (le32(h) == MB_MAGIC && (uint32_t)(le32(h) + le32(h + 4) + le32(h + 8)) == 0)
            return load_multiboot(pm, kernel, klen, off, initrd, ilen, cmdline, map, nmap, ram_top,
                                  entry, err, errlen);
    }
    if (klen >= 0x240 && get_le16(kernel + 0x1FE) == 0xAA55 && !memcmp(kernel + 0x202, "HdrS", 4))
        return load_linux(pm, kernel, klen, initrd, ilen, cmdline, map, nmap, ram_top, entry, err, errlen);
    snprintf(err, errlen, "not a Linux bzImage or multiboot kernel");
    return -1;
}

static void flat(struct seg *s, uint16_t sel, uint16_t type)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0xFFFFFFFFu;
    s->flags = (uint16_t)(type | SEGF_S | SEGF_P | SEGF_DB | SEGF_G);
}

void kernel_boot_enter(struct cpu *cpu, struct physmem *pm, const struct boot_entry *e)
{
    /* GDT: null, null, code 0x10, data 0x18 (the Linux boot protocol's). */
    static const uint8_t gdt[32] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0xFF, 0xFF, 0, 0, 0, 0x9B, 0xCF, 0,
        0xFF, 0xFF, 0, 0, 0, 0x93, 0xCF, 0,
    };
    phys_write_block(pm, KBOOT_GDT, gdt, sizeof(gdt));
    cpu->sys[SYS_GDTR].base = KBOOT_GDT;
    cpu->sys[SYS_GDTR].limit = sizeof(gdt) - 1;
    cpu->sys[SYS_IDTR].base = 0;
    cpu->sys[SYS_IDTR].limit = 0;
    cpu_set_cr0(cpu, cpu->cr0 | CR0_PE);
    flat(&cpu->segs[S_CS], 0x10, 0x0B);
    for (int s = 0; s < 6; s++)
        if (s != S_CS)
            flat(&cpu->segs[s], 0x18, 0x03);
    cpu->cpl = 0;
    cpu_set_eflags(cpu, 0x00000002u, 0xFFFFFFFFu);
    for (int r = 0; r < 8; r++)
        cpu->regs[r] = 0;
    cpu->regs[R_EAX] = e->eax;
    cpu->regs[R_EBX] = e->ebx;
    cpu->regs[R_ESI] = e->esi;
    cpu->eip = e->eip;
    cpu->halted = 0;
}
