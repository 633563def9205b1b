/* The virtual clock: deadline order, re-arming from a callback, cancel. */
#include <check.h>
#include "devices/vclock.h"

struct rec { struct timer t; int id; int *log; int *n; uint64_t seen; };
static void fire(void *opaque)
{
    struct rec *r = opaque;
    r->log[(*r->n)++] = r->id;
    r->seen = vclock_now(r->t.clock);
}

START_TEST(test_order)
{
    struct vclock c; vclock_init(&c);
    int log[8], n = 0;
    struct rec a = { .id = 1, .log = log, .n = &n }, b = { .id = 2, .log = log, .n = &n },
               d = { .id = 3, .log = log, .n = &n };
    timer_init(&a.t, &c, fire, &a); timer_init(&b.t, &c, fire, &b); timer_init(&d.t, &c, fire, &d);
    timer_arm(&a.t, 300); timer_arm(&b.t, 100); timer_arm(&d.t, 200);
    ck_assert_uint_eq(vclock_next_deadline(&c), 100);
    timer_cancel(&d.t);
    vclock_advance(&c, 250);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(log[0], 2);
    ck_assert_uint_eq(b.seen, 100);
    ck_assert_uint_eq(vclock_now(&c), 250);
    vclock_advance(&c, 1000);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(log[1], 1);
    ck_assert_uint_eq(a.seen, 300);
    ck_assert_uint_eq(vclock_next_deadline(&c), VCLOCK_NEVER);
}
END_TEST

static struct vclock *g_rearm_clock;
static int rearm_count;
static struct timer rearm_t;
static void rearm(void *opaque)
{
    (void)opaque;
    if (++rearm_count < 5)
        timer_arm(&rearm_t, vclock_now(g_rearm_clock) + 10);
}

START_TEST(test_rearm)
{
    struct vclock c; vclock_init(&c);
    g_rearm_clock = &c; rearm_count = 0;
    timer_init(&rearm_t, &c, rearm, NULL);
    timer_arm(&rearm_t, 10);
    vclock_advance(&c, 35);
    ck_assert_int_eq(rearm_count, 3);
    ck_assert_uint_eq(rearm_t.deadline, 40);
    vclock_advance(&c, 100);
    ck_assert_int_eq(rearm_count, 5);
    ck_assert(!timer_armed(&rearm_t));
}
END_TEST

Suite *vclock_suite(void)
{
    Suite *s = suite_create("vclock");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_order);
    tcase_add_test(tc, test_rearm);
    suite_add_tcase(s, tc);
    return s;
}
