/* IRQ lines: levels reach the listener only on change, pulses are a raise and
 * a lower, an unconnected line keeps its level silently. */
#include <check.h>
#include "devices/irq.h"

struct sink { int calls; int n[8]; int level[8]; };

static void sink_fn(void *opaque, int n, int level)
{
    struct sink *s = opaque;
    if (s->calls < 8) {
        s->n[s->calls] = n;
        s->level[s->calls] = level;
    }
    s->calls++;
}

START_TEST(test_level_changes_only)
{
    struct sink s = { 0 };
    struct irq_line l = { 0 };
    irq_connect(&l, sink_fn, &s, 5);
    irq_raise(&l);
    irq_raise(&l);
    ck_assert_int_eq(s.calls, 1);
    ck_assert_int_eq(s.n[0], 5);
    ck_assert_int_eq(s.level[0], 1);
    irq_set(&l, 7); /* any nonzero level is 1 */
    ck_assert_int_eq(s.calls, 1);
    ck_assert_int_eq(l.level, 1);
    irq_lower(&l);
    irq_lower(&l);
    ck_assert_int_eq(s.calls, 2);
    ck_assert_int_eq(s.level[1], 0);
}
END_TEST

START_TEST(test_pulse)
{
    struct sink s = { 0 };
    struct irq_line l = { 0 };
    irq_connect(&l, sink_fn, &s, 12);
    irq_pulse(&l);
    ck_assert_int_eq(s.calls, 2);
    ck_assert_int_eq(s.level[0], 1);
    ck_assert_int_eq(s.level[1], 0);
    ck_assert_int_eq(s.n[1], 12);
    ck_assert_int_eq(l.level, 0);
    /* A pulse on a line already high only lowers it (one call). */
    irq_raise(&l);
    s.calls = 0;
    irq_pulse(&l);
    ck_assert_int_eq(l.level, 0);
    ck_assert_int_eq(s.calls, 1);
}
END_TEST

START_TEST(test_unconnected)
{
    struct irq_line l = { 0 };
    irq_raise(&l); /* no handler: no crash, level kept */
    ck_assert_int_eq(l.level, 1);
    /* Connecting later hands the current level to the listener. */
    struct sink s = { 0 };
    irq_connect(&l, sink_fn, &s, 3);
    ck_assert_int_eq(s.calls, 1);
    ck_assert_int_eq(s.level[0], 1);
    ck_assert_int_eq(s.n[0], 3);
    irq_lower(&l);
    ck_assert_int_eq(s.calls, 2);
}
END_TEST

START_TEST(test_two_lines_one_listener)
{
    struct sink s = { 0 };
    struct irq_line a = { 0 }, b = { 0 };
    irq_connect(&a, sink_fn, &s, 0);
    irq_connect(&b, sink_fn, &s, 8);
    irq_raise(&b);
    irq_raise(&a);
    ck_assert_int_eq(s.calls, 2);
    ck_assert_int_eq(s.n[0], 8);
    ck_assert_int_eq(s.n[1], 0);
}
END_TEST

Suite *irq_suite(void)
{
    Suite *s = suite_create("irq");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_level_changes_only);
    tcase_add_test(tc, test_pulse);
    tcase_add_test(tc, test_unconnected);
    tcase_add_test(tc, test_two_lines_one_listener);
    suite_add_tcase(s, tc);
    return s;
}
