/* The 8042 keyboard controller: controller commands, keyboard and mouse
 * command sequences byte-exact, scancodes in set 2 and translated set 1,
 * IRQ1/IRQ12 levels, A20 and reset hooks, state round trip. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "devices/i8042_kbd.h"

struct sink { int level[16]; int edges[16]; int a20; int a20_calls; int resets; };

static void sink_irq(void *opaque, int n, int level)
{
    struct sink *s = opaque;
    s->level[n] = level;
    if (level)
        s->edges[n]++;
}
static void sink_a20(void *opaque, int on) { struct sink *s = opaque; s->a20 = on; s->a20_calls++; }
static void sink_reset(void *opaque) { struct sink *s = opaque; s->resets++; }

static void setup(struct kbd *k, struct sink *s, int mouse)
{
    memset(s, 0, sizeof *s);
    kbd_init(k, mouse);
    irq_connect(&k->irq_kbd, sink_irq, s, 1);
    irq_connect(&k->irq_mouse, sink_irq, s, 12);
    kbd_set_hooks(k, sink_a20, sink_reset, s);
}

static uint8_t st(struct kbd *k) { return (uint8_t)kbd_cmd_ops.read(k, 0, 1); }
static void cmd(struct kbd *k, uint8_t v) { kbd_cmd_ops.write(k, 0, v, 1); }
static void out(struct kbd *k, uint8_t v) { kbd_data_ops.write(k, 0, v, 1); }
static uint8_t in(struct kbd *k) { return (uint8_t)kbd_data_ops.read(k, 0, 1); }

/* Reads everything waiting; returns the count, bytes in buf. */
static int drain(struct kbd *k, uint8_t *buf, int max)
{
    int n = 0;
    while ((st(k) & KBD_STAT_OBF) && n < max)
        buf[n++] = in(k);
    return n;
}

#define EXPECT(k, ...) do { \
    static const uint8_t want_[] = { __VA_ARGS__ }; \
    uint8_t got_[64]; \
    int n_ = drain(k, got_, 64); \
    ck_assert_int_eq(n_, (int)sizeof want_); \
    for (int i_ = 0; i_ < n_; i_++) \
        ck_assert_msg(got_[i_] == want_[i_], "byte %d: got %02x want %02x", i_, got_[i_], want_[i_]); \
} while (0)

#define EXPECT_NONE(k) ck_assert(!(st(k) & KBD_STAT_OBF))

START_TEST(test_self_test)
{
    struct kbd k; struct sink s; setup(&k, &s, 1);
    ck_assert_uint_eq(st(&k) & (KBD_STAT_OBF | KBD_STAT_SYS), 0);
    cmd(&k, 0xAA);
    ck_assert_uint_eq(st(&k) & (KBD_STAT_OBF | KBD_STAT_SYS | KBD_STAT_A2 | KBD_STAT_AUXB),
                      KBD_STAT_OBF | KBD_STAT_SYS | KBD_STAT_A2);
    EXPECT(&k, 0x55);
    cmd(&k, 0xAB); EXPECT(&k, 0x00);
    cmd(&k, 0xA9); EXPECT(&k, 0x00);
    cmd(&k, 0xA4); EXPECT(&k, 0xF1);
    out(&k, 0xEE);   /* a data write clears A2 */
    ck_assert_uint_eq(st(&k) & KBD_STAT_A2, 0);
    EXPECT(&k, 0xEE);
}
END_TEST

START_TEST(test_command_byte)
{
    struct kbd k; struct sink s; setup(&k, &s, 1);
    cmd(&k, 0x20); EXPECT(&k, 0x61);   /* reset value: KBDINT | AUXDIS | XLATE */
    cmd(&k, 0x60); out(&k, 0x47);      /* KBDINT|AUXINT|SYS|XLATE */
    ck_assert_uint_eq(st(&k) & KBD_STAT_SYS, KBD_STAT_SYS);
    cmd(&k, 0x20); EXPECT(&k, 0x47);
    cmd(&k, 0xAD); cmd(&k, 0xA7);
    cmd(&k, 0x20); EXPECT(&k, 0x77);
    cmd(&k, 0xAE); cmd(&k, 0xA8);
    cmd(&k, 0x20); EXPECT(&k, 0x47);
    /* controller RAM beyond the command byte */
    cmd(&k, 0x65); out(&k, 0x5A);
    cmd(&k, 0x25); EXPECT(&k, 0x5A);
    /* clearing SYS */
    cmd(&k, 0x60); out(&k, 0x43);
    ck_assert_uint_eq(st(&k) & KBD_STAT_SYS, 0);
    /* a keyboard byte is not a command byte write: 0x60 without command goes to kbd */
    out(&k, 0xEE); EXPECT(&k, 0xEE);
    cmd(&k, 0x20); EXPECT(&k, 0x43);
}
END_TEST

START_TEST(test_kbd_sequences)
{
    struct kbd k; struct sink s; setup(&k, &s, 1);
    cmd(&k, 0x60); out(&k, 0x01);      /* no translation */
    out(&k, 0xFF); EXPECT(&k, 0xFA, 0xAA);
    out(&k, 0xF2); EXPECT(&k, 0xFA, 0xAB, 0x83);
    out(&k, 0xEE); EXPECT(&k, 0xEE);
    out(&k, 0xED); EXPECT(&k, 0xFA);
    out(&k, 0x07); EXPECT(&k, 0xFA);
    ck_assert_uint_eq(k.k_leds, 7);
    out(&k, 0xF3); out(&k, 0x20); EXPECT(&k, 0xFA, 0xFA);
    ck_assert_uint_eq(k.k_typematic, 0x20);
    out(&k, 0xF0); out(&k, 0x00); EXPECT(&k, 0xFA, 0xFA, 0x02);
    out(&k, 0xF0); out(&k, 0x01); EXPECT(&k, 0xFA, 0xFA);
    out(&k, 0xF0); out(&k, 0x00); EXPECT(&k, 0xFA, 0xFA, 0x01);
    out(&k, 0xF0); out(&k, 0x03); EXPECT(&k, 0xFA, 0xFE);
    out(&k, 0xFE); EXPECT(&k, 0xFE);   /* resend repeats the last byte */
    out(&k, 0xF5); EXPECT(&k, 0xFA);   /* disable: defaults, no scanning */
    kbd_key_event(&k, KBD_KEY_A, 1);
    EXPECT_NONE(&k);
    out(&k, 0xF4); EXPECT(&k, 0xFA);
    kbd_key_event(&k, KBD_KEY_A, 1);
    EXPECT(&k, 0x1C);                  /* F5 restored set 2 */
    out(&k, 0xF6); EXPECT(&k, 0xFA);
    out(&k, 0x42); EXPECT(&k, 0xFE);   /* unknown */
    out(&k, 0xED); out(&k, 0xEE);      /* a command instead of the argument */
    EXPECT(&k, 0xFA, 0xEE);
    /* translated identify: 0xAB 0x41 */
    cmd(&k, 0x60); out(&k, 0x41);
    out(&k, 0xF2); EXPECT(&k, 0xFA, 0xAB, 0x41);
    out(&k, 0xF0); out(&k, 0x00); EXPECT(&k, 0xFA, 0xFA, 0x41);
}
END_TEST

START_TEST(test_set2_keys)
{
    struct kbd k; struct sink s; setup(&k, &s, 1);
    cmd(&k, 0x60); out(&k, 0x01);
    kbd_key_event(&k, KBD_KEY_A, 1); kbd_key_event(&k, KBD_KEY_A, 0);
    EXPECT(&k, 0x1C, 0xF0, 0x1C);
    kbd_key_event(&k, KBD_KEY_UP, 1); kbd_key_event(&k, KBD_KEY_UP, 0);
    EXPECT(&k, 0xE0, 0x75, 0xE0, 0xF0, 0x75);
    kbd_key_event(&k, KBD_KEY_RCTRL, 1); kbd_key_event(&k, KBD_KEY_F7, 1);
    kbd_key_event(&k, KBD_KEY_F7, 0);
    EXPECT(&k, 0xE0, 0x14, 0x83, 0xF0, 0x83);
    kbd_key_event(&k, KBD_KEY_KP_SLASH, 1);
    EXPECT(&k, 0xE0, 0x4A);
    kbd_key_event(&k, KBD_KEY_PRINTSCREEN, 1); kbd_key_event(&k, KBD_KEY_PRINTSCREEN, 0);
    EXPECT(&k, 0xE0, 0x12, 0xE0, 0x7C, 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12);
    kbd_key_event(&k, KBD_KEY_PAUSE, 1); kbd_key_event(&k, KBD_KEY_PAUSE, 0);
    EXPECT(&k, 0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77);
    kbd_key_event(&k, 0x01, 1);   /* not a key */
    kbd_key_event(&k, 0x1000, 1);
    EXPECT_NONE(&k);
}
END_TEST

START_TEST(test_translated_keys)
{
    struct kbd k; struct sink s; setup(&k, &s, 1);   /* translation on after reset */
    kbd_key_event(&k, KBD_KEY_A, 1); kbd_key_event(&k, KBD_KEY_A, 0);
    EXPECT(&k, 0x1E, 0x9E);
    kbd_key_event(&k, KBD_KEY_ESC, 1); kbd_key_event(&k, KBD_KEY_ESC, 0);
    EXPECT(&k, 0x01, 0x81);
    kbd_key_event(&k, KBD_KEY_F7, 1); kbd_key_event(&k, KBD_KEY_F7, 0);
    EXPECT(&k, 0x41, 0xC1);
    kbd_key_event(&k, KBD_KEY_DELETE, 1); kbd_key_event(&k, KBD_KEY_DELETE, 0);
    EXPECT(&k, 0xE0, 0x53, 0xE0, 0xD3);
    kbd_key_event(&k, KBD_KEY_RALT, 1); kbd_key_event(&k, KBD_KEY_RALT, 0);
    EXPECT(&k, 0xE0, 0x38, 0xE0, 0xB8);
    kbd_key_event(&k, KBD_KEY_PRINTSCREEN, 1); kbd_key_event(&k, KBD_KEY_PRINTSCREEN, 0);
    EXPECT(&k, 0xE0, 0x2A, 0xE0, 0x37, 0xE0, 0xB7, 0xE0, 0xAA);
    kbd_key_event(&k, KBD_KEY_PAUSE, 1);
    EXPECT(&k, 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5);
}
END_TEST

/* Every key: set 2 through the translator equals the keyboard's own set 1. */
START_TEST(test_all_keys_translate)
{
    for (unsigned key = 0; key < KBD_KEY_MAX; key++) {
        for (int down = 1; down >= 0; down--) {
            struct kbd a, b; struct sink s;
            setup(&a, &s, 0);            /* set 2, translated */
            setup(&b, &s, 0);
            cmd(&b, 0x60); out(&b, 0x01);
            out(&b, 0xF0); out(&b, 0x01); /* set 1, untranslated */
            drain(&b, (uint8_t[8]){0}, 8);
            kbd_key_event(&a, key, down);
            kbd_key_event(&b, key, down);
            uint8_t ga[16], gb[16];
            int na = drain(&a, ga, 16), nb = drain(&b, gb, 16);
            ck_assert_msg(na == nb && memcmp(ga, gb, (size_t)na) == 0, "key %02x down %d", key, down);
        }
    }
}
END_TEST

START_TEST(test_irq1)
{
    struct kbd k; struct sink s; setup(&k, &s, 1);
    kbd_key_event(&k, KBD_KEY_A, 1); kbd_key_event(&k, KBD_KEY_B, 1);
    ck_assert_int_eq(s.level[1], 1);
    ck_assert_int_eq(s.edges[1], 1);
    ck_assert_int_eq(s.level[12], 0);
    /* one byte at a time; reading status does not change anything */
    ck_assert_uint_eq(st(&k) & (KBD_STAT_OBF | KBD_STAT_AUXB), KBD_STAT_OBF);
    ck_assert_uint_eq(in(&k), 0x1E);
    ck_assert_int_eq(s.edges[1], 2);   /* the next byte is a new edge */
    ck_assert_uint_eq(in(&k), 0x30);
    ck_assert_int_eq(s.level[1], 0);
    ck_assert_uint_eq(st(&k) & KBD_STAT_OBF, 0);
    ck_assert_uint_eq(in(&k), 0x30);   /* re-read returns the old byte */
    ck_assert_int_eq(s.edges[1], 2);
    /* interrupts off: OBF without IRQ1 */
    cmd(&k, 0x60); out(&k, 0x60);
    kbd_key_event(&k, KBD_KEY_A, 0);
    ck_assert_uint_eq(st(&k) & KBD_STAT_OBF, KBD_STAT_OBF);
    ck_assert_int_eq(s.level[1], 0);
    /* enabling the interrupt with data waiting raises the line */
    cmd(&k, 0x60); out(&k, 0x61);
    ck_assert_int_eq(s.level[1], 1);
    ck_assert_uint_eq(in(&k), 0x9E);
    ck_assert_int_eq(s.level[1], 0);
    /* keyboard interface disabled: bytes wait in the keyboard */
    cmd(&k, 0xAD);
    kbd_key_event(&k, KBD_KEY_C, 1);
    EXPECT_NONE(&k);
    ck_assert_int_eq(s.level[1], 0);
    cmd(&k, 0xAE);
    ck_assert_int_eq(s.level[1], 1);
    EXPECT(&k, 0x2E);
    /* a byte sent to the keyboard re-enables the interface */
    cmd(&k, 0xAD);
    out(&k, 0xEE);
    EXPECT(&k, 0xEE);
    cmd(&k, 0x20); EXPECT(&k, 0x61);
}
END_TEST

START_TEST(test_a20_reset)
{
    struct kbd k; struct sink s; setup(&k, &s, 1);
    cmd(&k, 0xD0); EXPECT(&k, 0xCF);
    cmd(&k, 0xD1); out(&k, 0xCD);      /* A20 off */
    ck_assert_int_eq(s.a20_calls, 1);
    ck_assert_int_eq(s.a20, 0);
    ck_assert_int_eq(s.resets, 0);
    cmd(&k, 0xD0); EXPECT(&k, 0xCD);
    cmd(&k, 0xD1); out(&k, 0xDF);      /* the classic A20 enable */
    ck_assert_int_eq(s.a20_calls, 2);
    ck_assert_int_eq(s.a20, 1);
    cmd(&k, 0xFF);                     /* pulse nothing */
    ck_assert_int_eq(s.resets, 0);
    cmd(&k, 0xD1); out(&k, 0xDF);      /* unchanged: no call */
    ck_assert_int_eq(s.a20_calls, 2);
    cmd(&k, 0xFE);
    ck_assert_int_eq(s.resets, 1);
    cmd(&k, 0xF0);
    ck_assert_int_eq(s.resets, 2);
    cmd(&k, 0xD1); out(&k, 0xDE);      /* reset bit low */
    ck_assert_int_eq(s.resets, 3);
    cmd(&k, 0xDD);
    ck_assert_int_eq(s.a20, 0);
    cmd(&k, 0xDF);
    ck_assert_int_eq(s.a20, 1);
    /* OBF bit in the output port */
    kbd_key_event(&k, KBD_KEY_A, 1);
    cmd(&k, 0xD0);
    ck_assert_uint_eq(in(&k), 0x1E);
    EXPECT(&k, 0xDF);
}
END_TEST

START_TEST(test_mouse)
{
    struct kbd k; struct sink s; setup(&k, &s, 1);
    cmd(&k, 0x60); out(&k, 0x03);      /* both interrupts, both enabled */
    /* loopback through 0xD3 */
    cmd(&k, 0xD3); out(&k, 0x5A);
    ck_assert_uint_eq(st(&k) & (KBD_STAT_OBF | KBD_STAT_AUXB), KBD_STAT_OBF | KBD_STAT_AUXB);
    ck_assert_int_eq(s.level[12], 1);
    ck_assert_int_eq(s.level[1], 0);
    ck_assert_uint_eq(in(&k), 0x5A);
    ck_assert_int_eq(s.level[12], 0);
    cmd(&k, 0xD2); out(&k, 0x33);
    ck_assert_uint_eq(st(&k) & KBD_STAT_AUXB, 0);
    ck_assert_int_eq(s.level[1], 1);
    EXPECT(&k, 0x33);
    cmd(&k, 0xD4); out(&k, 0xFF);
    EXPECT(&k, 0xFA, 0xAA, 0x00);
    cmd(&k, 0xD4); out(&k, 0xF2); EXPECT(&k, 0xFA, 0x00);
    /* streaming is off: motion sends nothing */
    kbd_mouse_event(&k, 5, 5, 0, 0);
    EXPECT_NONE(&k);
    cmd(&k, 0xD4); out(&k, 0xE9); EXPECT(&k, 0xFA, 0x00, 0x02, 100);
    /* IntelliMouse knock */
    static const uint8_t rates[] = {200, 100, 80};
    for (int i = 0; i < 3; i++) {
        cmd(&k, 0xD4); out(&k, 0xF3); cmd(&k, 0xD4); out(&k, rates[i]);
        EXPECT(&k, 0xFA, 0xFA);
    }
    cmd(&k, 0xD4); out(&k, 0xF2); EXPECT(&k, 0xFA, 0x03);
    cmd(&k, 0xD4); out(&k, 0xF4); EXPECT(&k, 0xFA);
    kbd_mouse_event(&k, 3, -2, -1, 1);
    ck_assert_int_eq(s.level[12], 1);
    EXPECT(&k, 0x29, 0x03, 0xFE, 0x0F);
    cmd(&k, 0xD4); out(&k, 0x99); EXPECT(&k, 0xFE);
    /* aux disabled: data waits in the mouse */
    cmd(&k, 0xA7);
    kbd_mouse_event(&k, 1, 1, 0, 0);
    EXPECT_NONE(&k);
    cmd(&k, 0xA8);
    EXPECT(&k, 0x08, 0x01, 0x01, 0x00);
}
END_TEST

START_TEST(test_mouse_absent)
{
    struct kbd k; struct sink s; setup(&k, &s, 0);
    cmd(&k, 0xA8);
    cmd(&k, 0xD4); out(&k, 0xF2);
    ck_assert_uint_eq(st(&k) & (KBD_STAT_OBF | KBD_STAT_AUXB | KBD_STAT_TIMEOUT),
                      KBD_STAT_OBF | KBD_STAT_AUXB | KBD_STAT_TIMEOUT);
    EXPECT(&k, 0xFE);
    cmd(&k, 0xA9); EXPECT(&k, 0x00);   /* the port lines test fine */
    ck_assert_uint_eq(st(&k) & KBD_STAT_TIMEOUT, 0);
}
END_TEST

START_TEST(test_state_roundtrip)
{
    struct kbd a; struct sink s; setup(&a, &s, 1);
    cmd(&a, 0x60); out(&a, 0x43);
    cmd(&a, 0xD4); out(&a, 0xF4); EXPECT(&a, 0xFA);
    out(&a, 0xED);                     /* waiting for the LED argument */
    EXPECT(&a, 0xFA);
    kbd_key_event(&a, KBD_KEY_HOME, 1);
    kbd_mouse_event(&a, 1, 2, 0, 2);
    cmd(&a, 0xD1);                     /* pending controller command */
    size_t sz = state_size(kbd_device_ops.fields);
    uint8_t *b1 = malloc(sz), *b2 = malloc(sz);
    ck_assert_uint_eq(state_save(kbd_device_ops.fields, &a, b1), sz);
    struct kbd b; struct sink s2; setup(&b, &s2, 1);
    ck_assert_uint_eq(state_load(kbd_device_ops.fields, &b, b1, sz), sz);
    ck_assert_int_eq(kbd_device_ops.post_load(&b), 0);
    state_save(kbd_device_ops.fields, &b, b2);
    ck_assert_mem_eq(b1, b2, sz);
    ck_assert_int_eq(s2.level[1], s.level[1]);
    /* both continue identically */
    out(&a, 0xCD); out(&b, 0xCD);
    ck_assert_int_eq(s.a20, s2.a20);
    uint8_t ga[32], gb[32];
    int na = drain(&a, ga, 32), nb = drain(&b, gb, 32);
    ck_assert_int_eq(na, nb);
    static const uint8_t want[] = {0xE0, 0x47, 0x0A, 0x01, 0x02};
    ck_assert_int_eq(na, 5);
    ck_assert_mem_eq(ga, want, 5);
    ck_assert_mem_eq(gb, want, 5);
    /* the keyboard still waits for the LED argument */
    out(&a, 0x05); out(&b, 0x05);
    ck_assert_uint_eq(a.k_leds, 5);
    ck_assert_uint_eq(b.k_leds, 5);
    EXPECT(&a, 0xFA);
    EXPECT(&b, 0xFA);
    free(b1); free(b2);
}
END_TEST

Suite *i8042_kbd_suite(void)
{
    Suite *s = suite_create("i8042_kbd");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_self_test);
    tcase_add_test(tc, test_command_byte);
    tcase_add_test(tc, test_kbd_sequences);
    tcase_add_test(tc, test_set2_keys);
    tcase_add_test(tc, test_translated_keys);
    tcase_add_test(tc, test_all_keys_translate);
    tcase_add_test(tc, test_irq1);
    tcase_add_test(tc, test_a20_reset);
    tcase_add_test(tc, test_mouse);
    tcase_add_test(tc, test_mouse_absent);
    tcase_add_test(tc, test_state_roundtrip);
    suite_add_tcase(s, tc);
    return s;
}
