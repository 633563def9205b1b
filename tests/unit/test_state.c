/* State fields: round trip, byte-exact little-endian layout, short buffers. */
#include <check.h>
#include <string.h>
#include "snapshot/state.h"

struct thing {
    uint8_t a;
    void *not_saved;
    uint16_t b;
    uint32_t c;
    uint64_t d;
    uint16_t arr[3];
    uint8_t bytes[2];
};

static const struct state_field thing_fields[] = {
    STATE_U8(struct thing, a),
    STATE_U16(struct thing, b),
    STATE_U32(struct thing, c),
    STATE_U64(struct thing, d),
    STATE_U16_ARRAY(struct thing, arr, 3),
    STATE_U8_ARRAY(struct thing, bytes, 2),
    STATE_END
};

static struct thing sample(void)
{
    struct thing t;
    memset(&t, 0, sizeof(t));
    t.a = 0x11; t.b = 0x2233; t.c = 0x44556677; t.d = 0x8899AABBCCDDEEFFull;
    t.arr[0] = 0x0102; t.arr[1] = 0x0304; t.arr[2] = 0x0506;
    t.bytes[0] = 0xA0; t.bytes[1] = 0xA1;
    t.not_saved = &t;
    return t;
}

START_TEST(test_layout)
{
    static const uint8_t want[] = {
        0x11,
        0x33, 0x22,
        0x77, 0x66, 0x55, 0x44,
        0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA, 0x99, 0x88,
        0x02, 0x01, 0x04, 0x03, 0x06, 0x05,
        0xA0, 0xA1,
    };
    struct thing t = sample();
    ck_assert_uint_eq(state_size(thing_fields), sizeof(want));
    uint8_t buf[64];
    memset(buf, 0xEE, sizeof(buf));
    ck_assert_uint_eq(state_save(thing_fields, &t, buf), sizeof(want));
    ck_assert_mem_eq(buf, want, sizeof(want));
    ck_assert_uint_eq(buf[sizeof(want)], 0xEE); /* nothing past the end */
}
END_TEST

START_TEST(test_round_trip)
{
    struct thing t = sample(), u;
    memset(&u, 0, sizeof(u));
    uint8_t buf[64], buf2[64];
    size_t n = state_save(thing_fields, &t, buf);
    ck_assert_uint_eq(state_load(thing_fields, &u, buf, n), n);
    ck_assert_uint_eq(u.a, t.a);
    ck_assert_uint_eq(u.b, t.b);
    ck_assert_uint_eq(u.c, t.c);
    ck_assert(u.d == t.d);
    ck_assert_mem_eq(u.arr, t.arr, sizeof(t.arr));
    ck_assert_mem_eq(u.bytes, t.bytes, sizeof(t.bytes));
    ck_assert_ptr_null(u.not_saved);
    ck_assert_uint_eq(state_save(thing_fields, &u, buf2), n);
    ck_assert_mem_eq(buf, buf2, n);
}
END_TEST

START_TEST(test_short_buffer)
{
    struct thing t = sample(), u;
    memset(&u, 0, sizeof(u));
    uint8_t buf[64];
    size_t n = state_save(thing_fields, &t, buf);
    ck_assert_uint_eq(state_load(thing_fields, &u, buf, n - 1), 0);
    /* A refused load leaves the object untouched. */
    ck_assert_uint_eq(u.a, 0);
    ck_assert_uint_eq(u.b, 0);
    ck_assert_uint_eq(state_load(thing_fields, &u, buf, 0), 0);
    /* A longer buffer is fine: only the fields are consumed. */
    ck_assert_uint_eq(state_load(thing_fields, &u, buf, sizeof(buf)), n);
}
END_TEST

START_TEST(test_empty_table)
{
    static const struct state_field none[] = { STATE_END };
    struct thing t = sample();
    uint8_t buf[4];
    ck_assert_uint_eq(state_size(none), 0);
    ck_assert_uint_eq(state_save(none, &t, buf), 0);
}
END_TEST

Suite *state_suite(void)
{
    Suite *s = suite_create("state");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_layout);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_short_buffer);
    tcase_add_test(tc, test_empty_table);
    suite_add_tcase(s, tc);
    return s;
}
