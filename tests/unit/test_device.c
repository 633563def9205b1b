/* The device registry: instances numbered per type, lookup, reset of every
 * device, teardown in reverse order. */
#include <check.h>
#include <string.h>
#include "devices/device.h"

struct toy { uint32_t value; int resets; int *order; int *norder; int id; };

static void toy_reset(void *dev) { struct toy *t = dev; t->value = 0x1234; t->resets++; }
static void toy_destroy(void *dev)
{
    struct toy *t = dev;
    t->order[(*t->norder)++] = t->id;
}

static const struct state_field toy_fields[] = { STATE_U32(struct toy, value), STATE_END };
static const struct device_ops toy_ops = { "toy", 1, toy_fields, toy_reset, NULL, toy_destroy };
static const struct device_ops other_ops = { "other", 1, toy_fields, NULL, NULL, toy_destroy };

START_TEST(test_instances_and_find)
{
    struct devreg reg; devreg_init(&reg);
    int order[4], n = 0;
    struct toy a = { .order = order, .norder = &n }, b = a, c = a;
    ck_assert_int_eq(devreg_add(&reg, &toy_ops, &a), 0);
    ck_assert_int_eq(devreg_add(&reg, &other_ops, &c), 0);
    ck_assert_int_eq(devreg_add(&reg, &toy_ops, &b), 1);
    ck_assert_ptr_eq(devreg_find(&reg, "toy", 0)->dev, &a);
    ck_assert_ptr_eq(devreg_find(&reg, "toy", 1)->dev, &b);
    ck_assert_ptr_eq(devreg_find(&reg, "other", 0)->dev, &c);
    ck_assert_uint_eq(devreg_find(&reg, "toy", 1)->instance, 1);
    ck_assert_ptr_null(devreg_find(&reg, "toy", 2));
    ck_assert_ptr_null(devreg_find(&reg, "pit", 0));
}
END_TEST

START_TEST(test_reset_all)
{
    struct devreg reg; devreg_init(&reg);
    int order[4], n = 0;
    struct toy a = { .order = order, .norder = &n }, b = a, c = a;
    devreg_add(&reg, &toy_ops, &a);
    devreg_add(&reg, &other_ops, &c); /* no reset hook: skipped */
    devreg_add(&reg, &toy_ops, &b);
    devreg_reset_all(&reg);
    devreg_reset_all(&reg);
    ck_assert_int_eq(a.resets, 2);
    ck_assert_int_eq(b.resets, 2);
    ck_assert_uint_eq(a.value, 0x1234);
    ck_assert_int_eq(c.resets, 0);
    ck_assert_uint_eq(c.value, 0);
}
END_TEST

START_TEST(test_full_and_destroy)
{
    struct devreg reg; devreg_init(&reg);
    int order[DEVREG_MAX + 1], n = 0;
    static struct toy t[DEVREG_MAX + 1];
    for (int i = 0; i <= DEVREG_MAX; i++)
        t[i] = (struct toy){ .order = order, .norder = &n, .id = i };
    for (int i = 0; i < DEVREG_MAX; i++)
        ck_assert_int_eq(devreg_add(&reg, &toy_ops, &t[i]), i);
    ck_assert_int_eq(devreg_add(&reg, &toy_ops, &t[DEVREG_MAX]), -1);
    ck_assert_int_eq(reg.n, DEVREG_MAX);
    devreg_destroy_all(&reg);
    ck_assert_int_eq(n, DEVREG_MAX);
    ck_assert_int_eq(order[0], DEVREG_MAX - 1);       /* last created, first destroyed */
    ck_assert_int_eq(order[DEVREG_MAX - 1], 0);
    ck_assert_int_eq(reg.n, 0);
    ck_assert_ptr_null(devreg_find(&reg, "toy", 0));
}
END_TEST

Suite *device_suite(void)
{
    Suite *s = suite_create("device");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_instances_and_find);
    tcase_add_test(tc, test_reset_all);
    tcase_add_test(tc, test_full_and_destroy);
    suite_add_tcase(s, tc);
    return s;
}
