/* SMBIOS: entry point checksums and counts, and a walk over the structures. */
#include <check.h>
#include <string.h>
#include "devices/smbios_tables.h"
#include "snapshot/state.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

START_TEST(test_smbios_walk)
{
    struct smbios_config c = { .ram_below_4g = 3u << 30, .ram_above_4g = 1u << 30,
                               .cpuid_eax = 0x663, .cpuid_edx = 0x0781ABFD };
    struct smbios_blobs b;
    ck_assert_int_eq(smbios_build(&c, &b), 0);
    ck_assert_mem_eq(b.anchor, "_SM_", 4);
    ck_assert_uint_eq(sum(b.anchor, 31), 0);
    ck_assert_uint_eq(sum(b.anchor + 16, 15), 0);
    ck_assert_uint_eq(get_le16(b.anchor + 22), b.tables_len);
    int types[256] = { 0 }, count = 0;
    size_t off = 0, maxlen = 0;
    uint32_t mem_kib = 0;
    while (off < b.tables_len) {
        const uint8_t *s = b.tables + off;
        size_t n = s[1];
        if (s[0] == 17)
            mem_kib = get_le16(s + 12) * 1024u;
        if (s[0] == 19 && get_le32(s + 4) == 0)
            ck_assert_uint_eq(get_le32(s + 8), (3u << 20) - 1);    /* KiB, inclusive */
        if (s[0] == 4)
            ck_assert_uint_eq(get_le32(s + 8), 0x663);
        while (s[n] || s[n + 1])
            n++;
        n += 2;
        types[s[0]]++;
        count++;
        if (n > maxlen)
            maxlen = n;
        off += n;
    }
    ck_assert_uint_eq(off, b.tables_len);
    ck_assert_int_eq(count, get_le16(b.anchor + 28));
    ck_assert_uint_eq(maxlen, get_le16(b.anchor + 8));
    ck_assert_int_eq(types[0] + types[1] + types[3] + types[4] + types[16] + types[17] + types[32] + types[127], 8);
    ck_assert_int_eq(types[19], 2);
    ck_assert_uint_eq(mem_kib, 4u << 20);
    ck_assert_uint_eq(b.tables[b.tables_len - 6], 127);
    smbios_blobs_free(&b);
}
END_TEST

Suite *smbios_tables_suite(void)
{
    Suite *s = suite_create("smbios_tables");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_smbios_walk);
    suite_add_tcase(s, tc);
    return s;
}
