/* Intel 8042 keyboard controller (IBM PC/AT and PS/2 Technical References) with
 * a PS/2 keyboard (scancode sets 1 and 2) and PS/2 mouse (IntelliMouse wheel).
 * Not modelled: scancode set 3, typematic repeat (the host repeats events),
 * Shift/Ctrl PrintScreen variants, Ctrl+Pause, transmit delays, parity. */
#include "devices/i8042_kbd.h"
#include <string.h>

/* ---- scancodes ---- */

struct keycode { uint8_t set1, set2, e0; };

/* HID usage -> set 1 and set 2 make codes (IBM PS/2 keyboard tables). */
static const struct keycode keymap[KBD_KEY_MAX] = {
    [KBD_KEY_A] = {0x1E, 0x1C, 0}, [KBD_KEY_B] = {0x30, 0x32, 0}, [KBD_KEY_C] = {0x2E, 0x21, 0},
    [KBD_KEY_D] = {0x20, 0x23, 0}, [KBD_KEY_E] = {0x12, 0x24, 0}, [KBD_KEY_F] = {0x21, 0x2B, 0},
    [KBD_KEY_G] = {0x22, 0x34, 0}, [KBD_KEY_H] = {0x23, 0x33, 0}, [KBD_KEY_I] = {0x17, 0x43, 0},
    [KBD_KEY_J] = {0x24, 0x3B, 0}, [KBD_KEY_K] = {0x25, 0x42, 0}, [KBD_KEY_L] = {0x26, 0x4B, 0},
    [KBD_KEY_M] = {0x32, 0x3A, 0}, [KBD_KEY_N] = {0x31, 0x31, 0}, [KBD_KEY_O] = {0x18, 0x44, 0},
    [KBD_KEY_P] = {0x19, 0x4D, 0}, [KBD_KEY_Q] = {0x10, 0x15, 0}, [KBD_KEY_R] = {0x13, 0x2D, 0},
    [KBD_KEY_S] = {0x1F, 0x1B, 0}, [KBD_KEY_T] = {0x14, 0x2C, 0}, [KBD_KEY_U] = {0x16, 0x3C, 0},
    [KBD_KEY_V] = {0x2F, 0x2A, 0}, [KBD_KEY_W] = {0x11, 0x1D, 0}, [KBD_KEY_X] = {0x2D, 0x22, 0},
    [KBD_KEY_Y] = {0x15, 0x35, 0}, [KBD_KEY_Z] = {0x2C, 0x1A, 0},
    [KBD_KEY_1] = {0x02, 0x16, 0}, [KBD_KEY_2] = {0x03, 0x1E, 0}, [KBD_KEY_3] = {0x04, 0x26, 0},
    [KBD_KEY_4] = {0x05, 0x25, 0}, [KBD_KEY_5] = {0x06, 0x2E, 0}, [KBD_KEY_6] = {0x07, 0x36, 0},
    [KBD_KEY_7] = {0x08, 0x3D, 0}, [KBD_KEY_8] = {0x09, 0x3E, 0}, [KBD_KEY_9] = {0x0A, 0x46, 0},
    [KBD_KEY_0] = {0x0B, 0x45, 0},
    [KBD_KEY_ENTER] = {0x1C, 0x5A, 0}, [KBD_KEY_ESC] = {0x01, 0x76, 0},
    [KBD_KEY_BACKSPACE] = {0x0E, 0x66, 0}, [KBD_KEY_TAB] = {0x0F, 0x0D, 0},
    [KBD_KEY_SPACE] = {0x39, 0x29, 0}, [KBD_KEY_MINUS] = {0x0C, 0x4E, 0},
    [KBD_KEY_EQUAL] = {0x0D, 0x55, 0}, [KBD_KEY_LBRACKET] = {0x1A, 0x54, 0},
    [KBD_KEY_RBRACKET] = {0x1B, 0x5B, 0}, [KBD_KEY_BACKSLASH] = {0x2B, 0x5D, 0},
    [KBD_KEY_NONUS_HASH] = {0x2B, 0x5D, 0}, [KBD_KEY_SEMICOLON] = {0x27, 0x4C, 0},
    [KBD_KEY_APOSTROPHE] = {0x28, 0x52, 0}, [KBD_KEY_GRAVE] = {0x29, 0x0E, 0},
    [KBD_KEY_COMMA] = {0x33, 0x41, 0}, [KBD_KEY_DOT] = {0x34, 0x49, 0},
    [KBD_KEY_SLASH] = {0x35, 0x4A, 0}, [KBD_KEY_CAPSLOCK] = {0x3A, 0x58, 0},
    [KBD_KEY_F1] = {0x3B, 0x05, 0}, [KBD_KEY_F2] = {0x3C, 0x06, 0}, [KBD_KEY_F3] = {0x3D, 0x04, 0},
    [KBD_KEY_F4] = {0x3E, 0x0C, 0}, [KBD_KEY_F5] = {0x3F, 0x03, 0}, [KBD_KEY_F6] = {0x40, 0x0B, 0},
    [KBD_KEY_F7] = {0x41, 0x83, 0}, [KBD_KEY_F8] = {0x42, 0x0A, 0}, [KBD_KEY_F9] = {0x43, 0x01, 0},
    [KBD_KEY_F10] = {0x44, 0x09, 0}, [KBD_KEY_F11] = {0x57, 0x78, 0}, [KBD_KEY_F12] = {0x58, 0x07, 0},
    [KBD_KEY_SCROLLLOCK] = {0x46, 0x7E, 0},
    [KBD_KEY_INSERT] = {0x52, 0x70, 1}, [KBD_KEY_HOME] = {0x47, 0x6C, 1},
    [KBD_KEY_PAGEUP] = {0x49, 0x7D, 1}, [KBD_KEY_DELETE] = {0x53, 0x71, 1},
    [KBD_KEY_END] = {0x4F, 0x69, 1}, [KBD_KEY_PAGEDOWN] = {0x51, 0x7A, 1},
    [KBD_KEY_RIGHT] = {0x4D, 0x74, 1}, [KBD_KEY_LEFT] = {0x4B, 0x6B, 1},
    [KBD_KEY_DOWN] = {0x50, 0x72, 1}, [KBD_KEY_UP] = {0x48, 0x75, 1},
    [KBD_KEY_NUMLOCK] = {0x45, 0x77, 0}, [KBD_KEY_KP_SLASH] = {0x35, 0x4A, 1},
    [KBD_KEY_KP_STAR] = {0x37, 0x7C, 0}, [KBD_KEY_KP_MINUS] = {0x4A, 0x7B, 0},
    [KBD_KEY_KP_PLUS] = {0x4E, 0x79, 0}, [KBD_KEY_KP_ENTER] = {0x1C, 0x5A, 1},
    [KBD_KEY_KP_1] = {0x4F, 0x69, 0}, [KBD_KEY_KP_2] = {0x50, 0x72, 0},
    [KBD_KEY_KP_3] = {0x51, 0x7A, 0}, [KBD_KEY_KP_4] = {0x4B, 0x6B, 0},
    [KBD_KEY_KP_5] = {0x4C, 0x73, 0}, [KBD_KEY_KP_6] = {0x4D, 0x74, 0},
    [KBD_KEY_KP_7] = {0x47, 0x6C, 0}, [KBD_KEY_KP_8] = {0x48, 0x75, 0},
    [KBD_KEY_KP_9] = {0x49, 0x7D, 0}, [KBD_KEY_KP_0] = {0x52, 0x70, 0},
    [KBD_KEY_KP_DOT] = {0x53, 0x71, 0},
    [KBD_KEY_NONUS_BACKSLASH] = {0x56, 0x61, 0}, [KBD_KEY_MENU] = {0x5D, 0x2F, 1},
    [KBD_KEY_POWER] = {0x5E, 0x37, 1},
    [KBD_KEY_RO] = {0x73, 0x51, 0}, [KBD_KEY_KATAKANA] = {0x70, 0x13, 0},
    [KBD_KEY_YEN] = {0x7D, 0x6A, 0}, [KBD_KEY_HENKAN] = {0x79, 0x64, 0},
    [KBD_KEY_MUHENKAN] = {0x7B, 0x67, 0},
    [KBD_KEY_LCTRL] = {0x1D, 0x14, 0}, [KBD_KEY_LSHIFT] = {0x2A, 0x12, 0},
    [KBD_KEY_LALT] = {0x38, 0x11, 0}, [KBD_KEY_LGUI] = {0x5B, 0x1F, 1},
    [KBD_KEY_RCTRL] = {0x1D, 0x14, 1}, [KBD_KEY_RSHIFT] = {0x36, 0x59, 0},
    [KBD_KEY_RALT] = {0x38, 0x11, 1}, [KBD_KEY_RGUI] = {0x5C, 0x27, 1},
};

/* The controller's set 2 -> set 1 translation. Every key's set 2 base code
 * maps to its set 1 code (E0 keys share base codes with their non-E0 twins,
 * so one table serves both). Bytes >= 0x80 pass through except F7's 0x83.
 * Codes no key produces keep their value, except the two documented quirks
 * 0x00 (overrun) -> 0xFF and 0x02 -> 0x41 (seen in "get scancode set"). */
static uint8_t xlat_byte(uint8_t b)
{
    if (b == 0x00)
        return 0xFF;
    if (b == 0x02)
        return 0x41;
    for (unsigned i = 0; i < KBD_KEY_MAX; i++)
        if (keymap[i].set2 == b && keymap[i].set1)
            return keymap[i].set1;
    return b;
}

/* ---- byte queues ---- */

static int q_push(struct kbd_queue *q, uint8_t b)
{
    if (q->count >= KBD_QUEUE)
        return -1;
    q->data[(q->head + q->count) & (KBD_QUEUE - 1)] = b;
    q->count++;
    return 0;
}

static uint8_t q_pop(struct kbd_queue *q)
{
    uint8_t b = q->data[q->head];
    q->head = (q->head + 1) & (KBD_QUEUE - 1);
    q->count--;
    return b;
}

static void q_clear(struct kbd_queue *q) { q->head = 0; q->count = 0; }

/* ---- output buffer and interrupts ---- */

static void update_irq(struct kbd *k)
{
    int full = k->status & KBD_STAT_OBF, aux = k->status & KBD_STAT_AUXB;
    irq_set(&k->irq_kbd, full && !aux && (k->ram[0] & KBD_CB_KBDINT));
    irq_set(&k->irq_mouse, full && aux && (k->ram[0] & KBD_CB_AUXINT));
}

/* Next keyboard byte as the controller passes it on; -1 if none yet. */
static int next_kbd_byte(struct kbd *k)
{
    while (k->kq.count) {
        uint8_t b = q_pop(&k->kq);
        if (!(k->ram[0] & KBD_CB_XLATE))
            return b;
        if (b == 0xF0) {
            k->xlat_f0 = 1;
            continue;
        }
        b = xlat_byte(b);
        if (k->xlat_f0)
            b |= 0x80;
        k->xlat_f0 = 0;
        return b;
    }
    return -1;
}

/* Fills an empty output buffer: controller replies first, then the keyboard
 * and the mouse unless their interface is disabled. One byte at a time. */
static void kbd_update(struct kbd *k)
{
    if (!(k->status & KBD_STAT_OBF)) {
        int b = -1, aux = 0;
        if (k->ctrl.count) {
            aux = k->ctrl_aux[k->ctrl.head];
            b = q_pop(&k->ctrl);
        } else if (!(k->ram[0] & KBD_CB_KBDDIS) && (b = next_kbd_byte(k)) >= 0) {
            aux = 0;
        } else if (!(k->ram[0] & KBD_CB_AUXDIS) && k->mq.count) {
            b = q_pop(&k->mq);
            aux = 1;
        }
        if (b >= 0) {
            k->obuf = (uint8_t)b;
            k->status = (uint8_t)((k->status & ~KBD_STAT_AUXB) | KBD_STAT_OBF |
                                  (aux ? KBD_STAT_AUXB : 0));
        }
    }
    update_irq(k);
}

static void ctrl_reply(struct kbd *k, uint8_t b, int aux)
{
    if (k->ctrl.count < KBD_QUEUE)
        k->ctrl_aux[(k->ctrl.head + k->ctrl.count) & (KBD_QUEUE - 1)] = (uint8_t)aux;
    q_push(&k->ctrl, b);
}

/* ---- keyboard ---- */

static void kbd_send(struct kbd *k, uint8_t b)
{
    k->k_last = b;
    q_push(&k->kq, b);
}

static void kbd_defaults(struct kbd *k)
{
    k->k_set = 2;
    k->k_typematic = 0x2B;   /* 10.9 cps, 500 ms */
    k->k_leds = 0;
}

static void kbd_command_arg(struct kbd *k, uint8_t v)
{
    uint8_t cmd = k->k_cmd;
    k->k_cmd = 0;
    switch (cmd) {
    case 0xED: k->k_leds = v & 7; kbd_send(k, 0xFA); break;
    case 0xF3: k->k_typematic = v & 0x7F; kbd_send(k, 0xFA); break;
    case 0xF0:
        if (v == 0) {
            kbd_send(k, 0xFA);
            kbd_send(k, k->k_set);
        } else if (v == 1 || v == 2) {
            k->k_set = v;
            kbd_send(k, 0xFA);
        } else {
            kbd_send(k, 0xFE);   /* set 3 is not modelled */
        }
        break;
    }
}

/* A byte the host wrote to the keyboard (port 0x60 without a pending
 * controller command). The keyboard drops unsent output on a new command. */
static void kbd_write(struct kbd *k, uint8_t v)
{
    if (k->k_cmd && v < 0xED) {
        kbd_command_arg(k, v);
        return;
    }
    k->k_cmd = 0;
    if (v != 0xFE)
        q_clear(&k->kq);
    switch (v) {
    case 0xED: case 0xF3: case 0xF0:
        k->k_cmd = v;
        kbd_send(k, 0xFA);
        break;
    case 0xEE: kbd_send(k, 0xEE); break;
    case 0xF2: kbd_send(k, 0xFA); kbd_send(k, 0xAB); kbd_send(k, 0x83); break;
    case 0xF4: k->k_scan = 1; kbd_send(k, 0xFA); break;
    case 0xF5: kbd_defaults(k); k->k_scan = 0; kbd_send(k, 0xFA); break;
    case 0xF6: kbd_defaults(k); k->k_scan = 1; kbd_send(k, 0xFA); break;
    case 0xF7: case 0xF8: case 0xF9: case 0xFA:
    case 0xFB: case 0xFC: case 0xFD:
        kbd_send(k, 0xFA);   /* set 3 key types: acknowledged, no effect */
        break;
    case 0xFE: kbd_send(k, k->k_last); break;
    case 0xFF:
        kbd_defaults(k);
        k->k_scan = 1;
        kbd_send(k, 0xFA);
        kbd_send(k, 0xAA);   /* basic assurance test passed */
        break;
    default: kbd_send(k, 0xFE); break;
    }
}

static void send_key_bytes(struct kbd *k, const uint8_t *b, int n)
{
    /* A sequence is queued whole or not at all (the keyboard's buffer). */
    if (k->kq.count + n > KBD_QUEUE)
        return;
    for (int i = 0; i < n; i++)
        q_push(&k->kq, b[i]);
}

static int special_key(struct kbd *k, unsigned key, int down, uint8_t *b)
{
    int set1 = k->k_set == 1;
    if (key == KBD_KEY_PAUSE) {
        static const uint8_t s1[] = {0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5};
        static const uint8_t s2[] = {0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77};
        if (!down)
            return 0;    /* Pause has no break code */
        memcpy(b, set1 ? s1 : s2, set1 ? sizeof s1 : sizeof s2);
        return set1 ? (int)sizeof s1 : (int)sizeof s2;
    }
    /* PrintScreen: fake left shift, then keypad-star */
    static const uint8_t m1[] = {0xE0, 0x2A, 0xE0, 0x37}, r1[] = {0xE0, 0xB7, 0xE0, 0xAA};
    static const uint8_t m2[] = {0xE0, 0x12, 0xE0, 0x7C};
    static const uint8_t r2[] = {0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12};
    const uint8_t *src = set1 ? (down ? m1 : r1) : (down ? m2 : r2);
    int n = set1 || down ? 4 : 6;
    memcpy(b, src, (size_t)n);
    return n;
}

void kbd_key_event(struct kbd *k, unsigned key, int down)
{
    uint8_t b[8];
    int n = 0;
    if (key >= KBD_KEY_MAX || !k->k_scan)
        return;
    if (key == KBD_KEY_PAUSE || key == KBD_KEY_PRINTSCREEN) {
        n = special_key(k, key, down, b);
    } else {
        const struct keycode *kc = &keymap[key];
        if (!kc->set1)
            return;
        if (kc->e0)
            b[n++] = 0xE0;
        if (k->k_set == 1) {
            b[n++] = (uint8_t)(kc->set1 | (down ? 0 : 0x80));
        } else {
            if (!down)
                b[n++] = 0xF0;
            b[n++] = kc->set2;
        }
    }
    send_key_bytes(k, b, n);
    kbd_update(k);
}

/* ---- mouse ---- */

static void mouse_send(struct kbd *k, uint8_t b)
{
    k->m_last = b;
    q_push(&k->mq, b);
}

static void mouse_defaults(struct kbd *k)
{
    k->m_rate = 100;
    k->m_res = 2;
    k->m_scale21 = 0;
    k->m_stream = 0;
}

static void mouse_packet(struct kbd *k, int dx, int dy, int dz)
{
    dx = dx < -256 ? -256 : dx > 255 ? 255 : dx;
    dy = dy < -256 ? -256 : dy > 255 ? 255 : dy;
    dz = dz < -8 ? -8 : dz > 7 ? 7 : dz;
    int n = k->m_id == 3 ? 4 : 3;
    if (k->mq.count + n > KBD_QUEUE)
        return;
    mouse_send(k, (uint8_t)(0x08 | (k->m_buttons & 7) | (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0)));
    mouse_send(k, (uint8_t)dx);
    mouse_send(k, (uint8_t)dy);
    if (n == 4)
        mouse_send(k, (uint8_t)(dz & 0x0F));
}

static void mouse_rate(struct kbd *k, uint8_t v)
{
    k->m_rate = v;
    k->m_rates[0] = k->m_rates[1];
    k->m_rates[1] = k->m_rates[2];
    k->m_rates[2] = v;
    /* the IntelliMouse knock: rates 200, 100, 80 switch on the wheel */
    if (k->m_rates[0] == 200 && k->m_rates[1] == 100 && k->m_rates[2] == 80)
        k->m_id = 3;
}

static void mouse_command(struct kbd *k, uint8_t v)
{
    switch (v) {
    case 0xE6: k->m_scale21 = 0; mouse_send(k, 0xFA); break;
    case 0xE7: k->m_scale21 = 1; mouse_send(k, 0xFA); break;
    case 0xE8: case 0xF3: k->m_cmd = v; mouse_send(k, 0xFA); break;
    case 0xE9:
        mouse_send(k, 0xFA);
        mouse_send(k, (uint8_t)((k->m_remote << 6) | (k->m_stream << 5) |
                                (k->m_scale21 << 4) | (k->m_buttons & 7)));
        mouse_send(k, k->m_res);
        mouse_send(k, k->m_rate);
        break;
    case 0xEA: k->m_remote = 0; mouse_send(k, 0xFA); break;
    case 0xEB: mouse_send(k, 0xFA); mouse_packet(k, 0, 0, 0); break;
    case 0xEC: k->m_wrap = 0; mouse_send(k, 0xFA); break;
    case 0xEE: k->m_wrap = 1; mouse_send(k, 0xFA); break;
    case 0xF0: k->m_remote = 1; mouse_send(k, 0xFA); break;
    case 0xF2: mouse_send(k, 0xFA); mouse_send(k, k->m_id); break;
    case 0xF4: k->m_stream = 1; mouse_send(k, 0xFA); break;
    case 0xF5: k->m_stream = 0; mouse_send(k, 0xFA); break;
    case 0xF6: mouse_defaults(k); mouse_send(k, 0xFA); break;
    case 0xFE: mouse_send(k, k->m_last); break;
    case 0xFF:
        mouse_defaults(k);
        k->m_remote = k->m_wrap = 0;
        k->m_id = 0;
        mouse_send(k, 0xFA);
        mouse_send(k, 0xAA);
        mouse_send(k, 0x00);   /* device ID */
        break;
    default: mouse_send(k, 0xFE); break;
    }
}

/* A byte the controller passes to the mouse (command 0xD4). */
static void mouse_write(struct kbd *k, uint8_t v)
{
    if (!k->mouse_present) {
        /* nobody clocks the byte out: the controller times out */
        k->status |= KBD_STAT_TIMEOUT;
        ctrl_reply(k, 0xFE, 1);
        return;
    }
    if (k->m_cmd) {
        uint8_t cmd = k->m_cmd;
        k->m_cmd = 0;
        if (cmd == 0xE8)
            k->m_res = v & 3;
        else
            mouse_rate(k, v);
        mouse_send(k, 0xFA);
        return;
    }
    if (k->m_wrap && v != 0xEC && v != 0xFF) {
        mouse_send(k, v);   /* wrap mode echoes everything else */
        return;
    }
    if (v != 0xFE)
        q_clear(&k->mq);
    mouse_command(k, v);
}

void kbd_mouse_event(struct kbd *k, int dx, int dy, int dz, unsigned buttons)
{
    k->m_buttons = (uint8_t)(buttons & 7);
    if (!k->mouse_present || !k->m_stream || k->m_remote || k->m_wrap)
        return;
    mouse_packet(k, dx, dy, dz);
    kbd_update(k);
}

/* ---- controller ---- */

static void set_outport(struct kbd *k, uint8_t v)
{
    uint8_t old = k->outport;
    k->outport = v;
    if ((old ^ v) & KBD_OUT_A20 && k->a20_hook)
        k->a20_hook(k->hook_opaque, !!(v & KBD_OUT_A20));
    if (!(v & KBD_OUT_RESET)) {
        /* the reset line is pulsed; the 8042 itself keeps running */
        k->outport |= KBD_OUT_RESET;
        if (k->reset_hook)
            k->reset_hook(k->hook_opaque);
    }
}

static uint8_t read_outport(struct kbd *k)
{
    uint8_t v = k->outport & ~0x30;
    if ((k->status & (KBD_STAT_OBF | KBD_STAT_AUXB)) == KBD_STAT_OBF)
        v |= 0x10;
    if ((k->status & (KBD_STAT_OBF | KBD_STAT_AUXB)) == (KBD_STAT_OBF | KBD_STAT_AUXB))
        v |= 0x20;
    return v;
}

static void write_cmdbyte(struct kbd *k, uint8_t v)
{
    k->ram[0] = v & 0x7F;
    k->status = (uint8_t)((k->status & ~KBD_STAT_SYS) | (v & KBD_CB_SYS));
}

static void ctrl_command(struct kbd *k, uint8_t cmd)
{
    if (cmd >= 0x20 && cmd <= 0x3F) {
        ctrl_reply(k, k->ram[cmd & 0x1F], 0);
        return;
    }
    if ((cmd >= 0x60 && cmd <= 0x7F) || (cmd >= 0xD1 && cmd <= 0xD4)) {
        k->pending = cmd;
        return;
    }
    if (cmd >= 0xF0) {
        /* pulse output port bits 0-3 that are 0 in the command */
        if (!(cmd & 1))
            set_outport(k, k->outport & ~KBD_OUT_RESET);
        return;
    }
    switch (cmd) {
    case 0xA4: ctrl_reply(k, 0xF1, 0); break;               /* no password */
    case 0xA7: k->ram[0] |= KBD_CB_AUXDIS; break;
    case 0xA8: k->ram[0] &= ~KBD_CB_AUXDIS; break;
    case 0xA9: ctrl_reply(k, 0x00, 0); break;               /* aux lines ok */
    case 0xAA: k->status |= KBD_STAT_SYS; ctrl_reply(k, 0x55, 0); break;
    case 0xAB: ctrl_reply(k, 0x00, 0); break;
    case 0xAD: k->ram[0] |= KBD_CB_KBDDIS; break;
    case 0xAE: k->ram[0] &= ~KBD_CB_KBDDIS; break;
    case 0xC0: ctrl_reply(k, 0xA0, 0); break;  /* not inhibited, no jumper, colour */
    case 0xD0: ctrl_reply(k, read_outport(k), 0); break;
    case 0xDD: set_outport(k, k->outport & ~KBD_OUT_A20); break;
    case 0xDF: set_outport(k, k->outport | KBD_OUT_A20); break;
    case 0xE0: ctrl_reply(k, 0x00, 0); break;  /* test inputs */
    default: break;                            /* ignored, as most chipsets do */
    }
}

static void ctrl_data(struct kbd *k, uint8_t cmd, uint8_t v)
{
    if (cmd == 0x60)
        write_cmdbyte(k, v);
    else if (cmd > 0x60 && cmd <= 0x7F)
        k->ram[cmd & 0x1F] = v;
    else if (cmd == 0xD1)
        set_outport(k, v);
    else if (cmd == 0xD2)
        ctrl_reply(k, v, 0);
    else if (cmd == 0xD3)
        ctrl_reply(k, v, 1);
    else if (cmd == 0xD4)
        mouse_write(k, v);
}

static uint32_t data_read(void *dev, uint32_t offset, int size)
{
    struct kbd *k = dev;
    (void)offset; (void)size;
    uint8_t v = k->obuf;
    k->status &= ~(KBD_STAT_OBF | KBD_STAT_AUXB);
    update_irq(k);   /* lower first, so a following byte is a new edge */
    kbd_update(k);
    return v;
}

static void data_write(void *dev, uint32_t offset, uint32_t value, int size)
{
    struct kbd *k = dev;
    uint8_t cmd = k->pending;
    (void)offset; (void)size;
    k->status &= ~(KBD_STAT_A2 | KBD_STAT_TIMEOUT);
    k->pending = 0;
    if (cmd) {
        ctrl_data(k, cmd, (uint8_t)value);
    } else {
        /* clocking a byte out to the keyboard re-enables its interface */
        k->ram[0] &= ~KBD_CB_KBDDIS;
        kbd_write(k, (uint8_t)value);
    }
    kbd_update(k);
}

static uint32_t cmd_read(void *dev, uint32_t offset, int size)
{
    struct kbd *k = dev;
    (void)offset; (void)size;
    return k->status;
}

static void cmd_write(void *dev, uint32_t offset, uint32_t value, int size)
{
    struct kbd *k = dev;
    (void)offset; (void)size;
    k->status = (uint8_t)((k->status | KBD_STAT_A2) & ~KBD_STAT_TIMEOUT);
    k->pending = 0;
    ctrl_command(k, (uint8_t)value);
    kbd_update(k);
}

const struct bus_ops kbd_data_ops = { data_read, data_write, 1 };
const struct bus_ops kbd_cmd_ops = { cmd_read, cmd_write, 1 };

/* ---- life cycle ---- */

void kbd_reset(void *dev)
{
    struct kbd *k = dev;
    memset(k->ram, 0, sizeof k->ram);
    k->ram[0] = KBD_CB_KBDINT | KBD_CB_XLATE | KBD_CB_AUXDIS;
    k->status = KBD_STAT_INH;
    k->obuf = 0;
    k->pending = 0;
    k->xlat_f0 = 0;
    q_clear(&k->ctrl);
    q_clear(&k->kq);
    q_clear(&k->mq);
    kbd_defaults(k);
    k->k_scan = 1;
    k->k_cmd = 0;
    k->k_last = 0;
    mouse_defaults(k);
    k->m_remote = k->m_wrap = k->m_id = k->m_cmd = k->m_last = k->m_buttons = 0;
    memset(k->m_rates, 0, sizeof k->m_rates);
    /* the output port comes up with the CPU running and A20 enabled */
    k->outport = 0xCF;
    if (k->a20_hook)
        k->a20_hook(k->hook_opaque, 1);
    update_irq(k);
}

void kbd_init(struct kbd *k, int mouse_present)
{
    memset(k, 0, sizeof *k);
    k->mouse_present = mouse_present;
    kbd_reset(k);
}

void kbd_set_hooks(struct kbd *k, kbd_a20_fn *a20, kbd_reset_fn *reset, void *opaque)
{
    k->a20_hook = a20;
    k->reset_hook = reset;
    k->hook_opaque = opaque;
}

static int kbd_post_load(void *dev)
{
    struct kbd *k = dev;
    k->ctrl.head &= KBD_QUEUE - 1;
    k->kq.head &= KBD_QUEUE - 1;
    k->mq.head &= KBD_QUEUE - 1;
    if (k->ctrl.count > KBD_QUEUE || k->kq.count > KBD_QUEUE || k->mq.count > KBD_QUEUE)
        return -1;
    if (k->a20_hook)
        k->a20_hook(k->hook_opaque, !!(k->outport & KBD_OUT_A20));
    update_irq(k);
    return 0;
}

#define Q_FIELDS(q) \
    STATE_U8_ARRAY(struct kbd, q.data, KBD_QUEUE), STATE_U8(struct kbd, q.head), \
    STATE_U8(struct kbd, q.count)

static const struct state_field kbd_fields[] = {
    STATE_U8(struct kbd, status), STATE_U8_ARRAY(struct kbd, ram, 32),
    STATE_U8(struct kbd, outport), STATE_U8(struct kbd, obuf),
    STATE_U8(struct kbd, pending), STATE_U8(struct kbd, xlat_f0),
    Q_FIELDS(ctrl), STATE_U8_ARRAY(struct kbd, ctrl_aux, KBD_QUEUE),
    Q_FIELDS(kq), STATE_U8(struct kbd, k_set), STATE_U8(struct kbd, k_scan),
    STATE_U8(struct kbd, k_leds), STATE_U8(struct kbd, k_typematic),
    STATE_U8(struct kbd, k_cmd), STATE_U8(struct kbd, k_last),
    Q_FIELDS(mq), STATE_U8(struct kbd, m_stream), STATE_U8(struct kbd, m_remote),
    STATE_U8(struct kbd, m_wrap), STATE_U8(struct kbd, m_rate), STATE_U8(struct kbd, m_res),
    STATE_U8(struct kbd, m_scale21), STATE_U8(struct kbd, m_id), STATE_U8(struct kbd, m_cmd),
    STATE_U8(struct kbd, m_last), STATE_U8(struct kbd, m_buttons),
    STATE_U8_ARRAY(struct kbd, m_rates, 3),
    STATE_END
};

const struct device_ops kbd_device_ops = {
    .name = "i8042",
    .version = 1,
    .fields = kbd_fields,
    .reset = kbd_reset,
    .post_load = kbd_post_load,
    .destroy = NULL,
};
