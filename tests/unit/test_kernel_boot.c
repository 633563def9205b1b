/* Direct kernel boot: a synthetic bzImage and multiboot kernels are loaded,
 * and the zero page / multiboot information checked byte by byte. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "devices/kernel_boot.h"
#include "snapshot/state.h"

static const struct e820_entry map[] = {
    { 0, 0x9FC00, E820_RAM },
    { 0x9FC00, 0x400, E820_RESERVED },
    { 0xF0000, 0x10000, E820_RESERVED },
    { 0x100000, (32u << 20) - 0x100000, E820_RAM },
};

static uint8_t *fake_bzimage(size_t *len, uint16_t version, uint8_t loadflags)
{
    size_t n = 5 * 512 + 4096;
    uint8_t *k = calloc(1, n);
    k[0x1F1] = 4;                       /* setup_sects */
    put_le16(k + 0x1FE, 0xAA55);
    k[0x201] = 0x66;                    /* jump: header runs to 0x268 */
    memcpy(k + 0x202, "HdrS", 4);
    put_le16(k + 0x206, version);
    k[0x211] = loadflags;
    put_le32(k + 0x214, 0x100000);
    put_le32(k + 0x22C, 0x37FFFFFF);    /* initrd_addr_max */
    for (size_t i = 5 * 512; i < n; i++)
        k[i] = (uint8_t)(i * 7);
    *len = n;
    return k;
}

START_TEST(test_bzimage)
{
    struct physmem pm;
    ck_assert_int_eq(physmem_init(&pm, 32u << 20), 0);
    size_t klen;
    uint8_t *k = fake_bzimage(&klen, 0x020F, 0x01);
    uint8_t initrd[5000];
    memset(initrd, 0x5A, sizeof(initrd));
    struct boot_entry e;
    char err[200];
    ck_assert_int_eq(kernel_boot_load(&pm, k, klen, initrd, sizeof(initrd), "console=ttyS0",
                                      map, 4, 32u << 20, &e, err, sizeof(err)), 0);
    ck_assert_uint_eq(e.eip, 0x100000);
    ck_assert_uint_eq(e.esi, KBOOT_PARAMS);
    ck_assert_uint_eq(phys_read(&pm, 0x100000 + 100, 1), (uint8_t)((5 * 512 + 100) * 7));
    uint8_t bp[4096];
    phys_read_block(&pm, KBOOT_PARAMS, bp, sizeof(bp));
    ck_assert_mem_eq(bp + 0x202, "HdrS", 4);
    ck_assert_uint_eq(bp[0x210], 0xFF);
    ck_assert_uint_eq(bp[0x211], 0x81);
    ck_assert_uint_eq(get_le32(bp + 0x228), KBOOT_CMDLINE);
    uint32_t rd = get_le32(bp + 0x218);
    ck_assert_uint_eq(get_le32(bp + 0x21C), sizeof(initrd));
    ck_assert_uint_eq(rd & 0xFFF, 0);
    ck_assert_uint_le(rd + sizeof(initrd), 32u << 20);
    ck_assert_uint_gt(rd, (32u << 20) - 8192 - 1);
    ck_assert_uint_eq(phys_read(&pm, rd + 4999, 1), 0x5A);
    ck_assert_uint_eq(bp[0x1E8], 4);
    ck_assert_uint_eq(get_le64(bp + 0x2D0 + 3 * 20), 0x100000);
    ck_assert_uint_eq(get_le32(bp + 0x2D0 + 1 * 20 + 16), E820_RESERVED);
    char cmd[32];
    phys_read_block(&pm, KBOOT_CMDLINE, cmd, 14);
    ck_assert_str_eq(cmd, "console=ttyS0");
    free(k);
    physmem_free(&pm);
}
END_TEST

START_TEST(test_bad_kernels)
{
    struct physmem pm;
    ck_assert_int_eq(physmem_init(&pm, 32u << 20), 0);
    struct boot_entry e;
    char err[200];
    size_t klen;
    uint8_t *k = fake_bzimage(&klen, 0x0202, 0x01);
    ck_assert_int_eq(kernel_boot_load(&pm, k, klen, NULL, 0, "", map, 4, 32u << 20, &e, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "2.02"));
    free(k);
    k = fake_bzimage(&klen, 0x020F, 0x00);          /* zImage */
    ck_assert_int_eq(kernel_boot_load(&pm, k, klen, NULL, 0, "", map, 4, 32u << 20, &e, err, sizeof(err)), -1);
    free(k);
    k = fake_bzimage(&klen, 0x020F, 0x01);
    ck_assert_int_eq(kernel_boot_load(&pm, k, 700, NULL, 0, "", map, 4, 32u << 20, &e, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "truncated"));
    free(k);
    uint8_t junk[1024] = { 1, 2, 3 };
    ck_assert_int_eq(kernel_boot_load(&pm, junk, sizeof(junk), NULL, 0, "", map, 4, 32u << 20, &e, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "not a Linux bzImage or multiboot kernel");
    physmem_free(&pm);
}
END_TEST

START_TEST(test_multiboot_aout_kludge)
{
    struct physmem pm;
    ck_assert_int_eq(physmem_init(&pm, 32u << 20), 0);
    uint8_t k[8192];
    memset(k, 0x90, sizeof(k));
    /* header at file offset 64, loaded so that file offset 0 lands at 0x200000 */
    uint8_t *h = k + 64;
    uint32_t flags = 0x00010003u;
    put_le32(h, 0x1BADB002);
    put_le32(h + 4, flags);
    put_le32(h + 8, (uint32_t)-(0x1BADB002 + flags));
    put_le32(h + 12, 0x200040);          /* header_addr */
    put_le32(h + 16, 0x200000);          /* load_addr */
    put_le32(h + 20, 0x201000);          /* load_end_addr: 4 KiB of file */
    put_le32(h + 24, 0x203000);          /* bss_end_addr */
    put_le32(h + 28, 0x200100);          /* entry */
    k[0x1000 - 1] = 0xAB;
    k[0x1000] = 0xCD;                    /* beyond load_end: not loaded */
    phys_write(&pm, 0x201000, 0x77, 1);
    uint8_t mod[100] = { 9 };
    struct boot_entry e;
    char err[200];
    ck_assert_int_eq(kernel_boot_load(&pm, k, sizeof(k), mod, sizeof(mod), "mb args", map, 4, 32u << 20,
                                      &e, err, sizeof(err)), 0);
    ck_assert_uint_eq(e.eip, 0x200100);
    ck_assert_uint_eq(e.eax, 0x2BADB002);
    ck_assert_uint_eq(e.ebx, KBOOT_MB_INFO);
    ck_assert_uint_eq(phys_read(&pm, 0x200FFF, 1), 0xAB);
    ck_assert_uint_eq(phys_read(&pm, 0x201000, 1), 0x00);   /* bss zeroed */
    uint8_t info[88];
    phys_read_block(&pm, KBOOT_MB_INFO, info, sizeof(info));
    uint32_t f = get_le32(info);
    ck_assert_uint_eq(f & 0x24D, 0x24D);                   /* mem, cmdline, mods, mmap, name */
    ck_assert_uint_eq(get_le32(info + 4), 640);
    ck_assert_uint_eq(get_le32(info + 8), ((32u << 20) - 0x100000) >> 10);
    ck_assert_uint_eq(get_le32(info + 20), 1);
    uint32_t mods = get_le32(info + 24);
    uint32_t start = phys_read(&pm, mods, 4), end = phys_read(&pm, mods + 4, 4);
    ck_assert_uint_eq(end - start, sizeof(mod));
    ck_assert_uint_eq(start & 0xFFF, 0);
    ck_assert_uint_eq(phys_read(&pm, start, 1), 9);
    uint32_t mmap = get_le32(info + 48);
    ck_assert_uint_eq(get_le32(info + 44), 4 * 24);
    ck_assert_uint_eq(phys_read(&pm, mmap, 4), 20);
    ck_assert_uint_eq(phys_read(&pm, mmap + 24 * 3 + 4, 4), 0x100000);
    char cmd[16];
    phys_read_block(&pm, get_le32(info + 16), cmd, 8);
    ck_assert_str_eq(cmd, "mb args");
    physmem_free(&pm);
}
END_TEST

START_TEST(test_multiboot_elf)
{
    struct physmem pm;
    ck_assert_int_eq(physmem_init(&pm, 32u << 20), 0);
    uint8_t k[4096];
    memset(k, 0, sizeof(k));
    memcpy(k, "\177ELF", 4);
    k[4] = 1; k[5] = 1;
    put_le16(k + 16, 2); put_le16(k + 18, 3);
    put_le32(k + 24, 0x300010);          /* entry */
    put_le32(k + 28, 52);                /* phoff */
    put_le16(k + 42, 32); put_le16(k + 44, 1);
    uint8_t *ph = k + 52;
    put_le32(ph, 1); put_le32(ph + 4, 0x200); put_le32(ph + 8, 0x300000);
    put_le32(ph + 12, 0x300000); put_le32(ph + 16, 0x100); put_le32(ph + 20, 0x2000);
    uint8_t *h = k + 0x100;              /* multiboot header, ELF form */
    put_le32(h, 0x1BADB002); put_le32(h + 4, 3); put_le32(h + 8, (uint32_t)-(0x1BADB002 + 3));
    k[0x200] = 0xEE;
    phys_write(&pm, 0x300100, 0x55, 1);
    struct boot_entry e;
    char err[200];
    ck_assert_int_eq(kernel_boot_load(&pm, k, sizeof(k), NULL, 0, NULL, map, 4, 32u << 20, &e, err, sizeof(err)), 0);
    ck_assert_uint_eq(e.eip, 0x300010);
    ck_assert_uint_eq(phys_read(&pm, 0x300000, 1), 0xEE);
    ck_assert_uint_eq(phys_read(&pm, 0x300100, 1), 0);     /* memsz beyond filesz zeroed */
    physmem_free(&pm);
}
END_TEST

Suite *kernel_boot_suite(void)
{
    Suite *s = suite_create("kernel_boot");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_bzimage);
    tcase_add_test(tc, test_bad_kernels);
    tcase_add_test(tc, test_multiboot_aout_kludge);
    tcase_add_test(tc, test_multiboot_elf);
    suite_add_tcase(s, tc);
    return s;
}
