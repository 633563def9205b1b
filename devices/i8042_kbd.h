/* The 8042 keyboard controller with a PS/2 keyboard and an optional PS/2
 * mouse. The board maps kbd_data_ops (1 port, the data port: 0x60 on a PC)
 * and kbd_cmd_ops (1 port, command/status: 0x64), connects irq_kbd (IRQ1) and
 * irq_mouse (IRQ12), and sets the A20 and reset hooks. Host input enters
 * through kbd_key_event() (USB HID usage codes) and kbd_mouse_event(). */
#ifndef SV_I8042_KBD_H
#define SV_I8042_KBD_H
#include <stdint.h>
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/irq.h"

/* Status register (read at the command port). */
#define KBD_STAT_OBF     0x01  /* output buffer full */
#define KBD_STAT_IBF     0x02  /* input buffer full (always 0: writes are taken at once) */
#define KBD_STAT_SYS     0x04  /* system flag, from command byte bit 2 */
#define KBD_STAT_A2      0x08  /* last write was to the command port */
#define KBD_STAT_INH     0x10  /* 1 = keyboard not inhibited */
#define KBD_STAT_AUXB    0x20  /* output buffer holds mouse data */
#define KBD_STAT_TIMEOUT 0x40
#define KBD_STAT_PARITY  0x80

/* Command byte (controller RAM byte 0). */
#define KBD_CB_KBDINT    0x01  /* IRQ1 when the output buffer has keyboard data */
#define KBD_CB_AUXINT    0x02  /* IRQ12 when it has mouse data */
#define KBD_CB_SYS       0x04
#define KBD_CB_OVERRIDE  0x08
#define KBD_CB_KBDDIS    0x10  /* keyboard interface disabled (clock held low) */
#define KBD_CB_AUXDIS    0x20
#define KBD_CB_XLATE     0x40  /* translate set 2 to set 1 */

/* Output port (0xD0/0xD1). */
#define KBD_OUT_RESET    0x01  /* 0 = CPU held in reset */
#define KBD_OUT_A20      0x02

/* Keys are USB HID usage codes (keyboard page 0x07). */
enum kbd_key {
    KBD_KEY_A = 0x04, KBD_KEY_B, KBD_KEY_C, KBD_KEY_D, KBD_KEY_E, KBD_KEY_F,
    KBD_KEY_G, KBD_KEY_H, KBD_KEY_I, KBD_KEY_J, KBD_KEY_K, KBD_KEY_L, KBD_KEY_M,
    KBD_KEY_N, KBD_KEY_O, KBD_KEY_P, KBD_KEY_Q, KBD_KEY_R, KBD_KEY_S, KBD_KEY_T,
    KBD_KEY_U, KBD_KEY_V, KBD_KEY_W, KBD_KEY_X, KBD_KEY_Y, KBD_KEY_Z,
    KBD_KEY_1 = 0x1E, KBD_KEY_2, KBD_KEY_3, KBD_KEY_4, KBD_KEY_5, KBD_KEY_6,
    KBD_KEY_7, KBD_KEY_8, KBD_KEY_9, KBD_KEY_0,
    KBD_KEY_ENTER = 0x28, KBD_KEY_ESC, KBD_KEY_BACKSPACE, KBD_KEY_TAB, KBD_KEY_SPACE,
    KBD_KEY_MINUS = 0x2D, KBD_KEY_EQUAL, KBD_KEY_LBRACKET, KBD_KEY_RBRACKET,
    KBD_KEY_BACKSLASH, KBD_KEY_NONUS_HASH, KBD_KEY_SEMICOLON, KBD_KEY_APOSTROPHE,
    KBD_KEY_GRAVE, KBD_KEY_COMMA, KBD_KEY_DOT, KBD_KEY_SLASH, KBD_KEY_CAPSLOCK,
    KBD_KEY_F1 = 0x3A, KBD_KEY_F2, KBD_KEY_F3, KBD_KEY_F4, KBD_KEY_F5, KBD_KEY_F6,
    KBD_KEY_F7, KBD_KEY_F8, KBD_KEY_F9, KBD_KEY_F10, KBD_KEY_F11, KBD_KEY_F12,
    KBD_KEY_PRINTSCREEN = 0x46, KBD_KEY_SCROLLLOCK, KBD_KEY_PAUSE, KBD_KEY_INSERT,
    KBD_KEY_HOME, KBD_KEY_PAGEUP, KBD_KEY_DELETE, KBD_KEY_END, KBD_KEY_PAGEDOWN,
    KBD_KEY_RIGHT, KBD_KEY_LEFT, KBD_KEY_DOWN, KBD_KEY_UP,
    KBD_KEY_NUMLOCK = 0x53, KBD_KEY_KP_SLASH, KBD_KEY_KP_STAR, KBD_KEY_KP_MINUS,
    KBD_KEY_KP_PLUS, KBD_KEY_KP_ENTER, KBD_KEY_KP_1, KBD_KEY_KP_2, KBD_KEY_KP_3,
    KBD_KEY_KP_4, KBD_KEY_KP_5, KBD_KEY_KP_6, KBD_KEY_KP_7, KBD_KEY_KP_8,
    KBD_KEY_KP_9, KBD_KEY_KP_0, KBD_KEY_KP_DOT,
    KBD_KEY_NONUS_BACKSLASH = 0x64, KBD_KEY_MENU, KBD_KEY_POWER,
    KBD_KEY_RO = 0x87, KBD_KEY_KATAKANA, KBD_KEY_YEN, KBD_KEY_HENKAN, KBD_KEY_MUHENKAN,
    KBD_KEY_LCTRL = 0xE0, KBD_KEY_LSHIFT, KBD_KEY_LALT, KBD_KEY_LGUI,
    KBD_KEY_RCTRL, KBD_KEY_RSHIFT, KBD_KEY_RALT, KBD_KEY_RGUI,
    KBD_KEY_MAX = 0xE8
};

typedef void kbd_a20_fn(void *opaque, int enabled);
typedef void kbd_reset_fn(void *opaque);

#define KBD_QUEUE 64   /* bytes per queue (power of two) */

struct kbd_queue {
    uint8_t data[KBD_QUEUE];
    uint8_t head;      /* index of the oldest byte */
    uint8_t count;
};

struct kbd {
    struct irq_line irq_kbd;    /* IRQ1 */
    struct irq_line irq_mouse;  /* IRQ12 */
    kbd_a20_fn *a20_hook;       /* output port bit 1 changed */
    kbd_reset_fn *reset_hook;   /* output port bit 0 driven low: reset the CPU */
    void *hook_opaque;
    int mouse_present;          /* configuration: a PS/2 mouse is plugged in */

    /* controller */
    uint8_t status;             /* status register; OBF/AUXB follow obuf */
    uint8_t ram[32];            /* controller RAM; ram[0] is the command byte */
    uint8_t outport;            /* output port (A20, reset) */
    uint8_t obuf;               /* output buffer (last byte, re-read if OBF is clear) */
    uint8_t pending;            /* controller command waiting for its data byte, 0 = none */
    uint8_t xlat_f0;            /* translation saw 0xF0: set bit 7 of the next byte */
    struct kbd_queue ctrl;      /* controller replies, ahead of the devices */
    uint8_t ctrl_aux[KBD_QUEUE];/* per ctrl byte: 1 = deliver as mouse data */

    /* keyboard */
    struct kbd_queue kq;
    uint8_t k_set;              /* scancode set 1 or 2 */
    uint8_t k_scan;             /* scanning enabled */
    uint8_t k_leds;
    uint8_t k_typematic;
    uint8_t k_cmd;              /* command waiting for its argument, 0 = none */
    uint8_t k_last;             /* last byte sent, for 0xFE resend */

    /* mouse */
    struct kbd_queue mq;
    uint8_t m_stream;           /* data reporting enabled */
    uint8_t m_remote;           /* remote mode */
    uint8_t m_wrap;             /* wrap (echo) mode */
    uint8_t m_rate;             /* samples per second */
    uint8_t m_res;              /* resolution 0..3 */
    uint8_t m_scale21;          /* 2:1 scaling */
    uint8_t m_id;               /* 0, or 3 after the IntelliMouse rate sequence */
    uint8_t m_cmd;              /* command waiting for its argument */
    uint8_t m_last;
    uint8_t m_buttons;
    uint8_t m_rates[3];         /* last three sample rates (IntelliMouse knock) */
};

extern const struct bus_ops kbd_data_ops;   /* offset 0: data port */
extern const struct bus_ops kbd_cmd_ops;    /* offset 0: status (read) / command (write) */
extern const struct device_ops kbd_device_ops;

/* Initialises and resets; lines and hooks start unconnected. */
void kbd_init(struct kbd *k, int mouse_present);
void kbd_set_hooks(struct kbd *k, kbd_a20_fn *a20, kbd_reset_fn *reset, void *opaque);
void kbd_reset(void *dev);
/* A key went down (1) or up (0); keycode is an enum kbd_key (HID usage). */
void kbd_key_event(struct kbd *k, unsigned keycode, int down);
/* Relative motion (dy positive = up, as PS/2), wheel, buttons bit 0 left,
 * 1 right, 2 middle. Sends a packet when data reporting is enabled. */
void kbd_mouse_event(struct kbd *k, int dx, int dy, int dz, unsigned buttons);

#endif
