/* VGA + Bochs VBE: programmed through the port bus and the A0000 window as a
 * VGA BIOS would (standard mode 3/12h/13h register tables from FreeVGA and the
 * IBM VGA reference), checked against hand-computed plane contents, text dumps,
 * rendered pixels and CRT timing on a stepped virtual clock. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "devices/bus.h"
#include "devices/vga.h"

struct rig {
    struct vclock clk;
    struct bus io;
    struct vga vga;
};

static struct rig *rig_new(uint32_t vram)
{
    struct rig *r = calloc(1, sizeof(*r));
    ck_assert_ptr_nonnull(r);
    vclock_init(&r->clk);
    bus_init(&r->io, "io");
    ck_assert_int_eq(vga_init(&r->vga, &r->clk, vram), 0);
    ck_assert_int_eq(bus_map(&r->io, 0x3B0, VGA_IO_LEN, &vga_io_ops, &r->vga), 0);
    ck_assert_int_eq(bus_map(&r->io, 0x1CE, VGA_VBE_IO_LEN, &vga_vbe_ops, &r->vga), 0);
    return r;
}

static void rig_free(struct rig *r)
{
    vga_free(&r->vga);
    free(r);
}

static void outb(struct rig *r, uint16_t port, uint8_t v) { bus_write(&r->io, port, v, 1); }
static void outw(struct rig *r, uint16_t port, uint16_t v) { bus_write(&r->io, port, v, 2); }
static uint8_t inb(struct rig *r, uint16_t port) { return (uint8_t)bus_read(&r->io, port, 1); }
static uint16_t inw(struct rig *r, uint16_t port) { return (uint16_t)bus_read(&r->io, port, 2); }
static void memw(struct rig *r, uint32_t addr, uint8_t v)
{
    bus_range_write(&vga_win_ops, &r->vga, addr - 0xA0000, v, 1);
}
static void memw16(struct rig *r, uint32_t addr, uint16_t v)
{
    bus_range_write(&vga_win_ops, &r->vga, addr - 0xA0000, v, 2);
}
static uint8_t memr(struct rig *r, uint32_t addr)
{
    return (uint8_t)bus_range_read(&vga_win_ops, &r->vga, addr - 0xA0000, 1);
}
static uint8_t pl(struct rig *r, int plane, uint32_t off) { return r->vga.vram[off * 4 + (uint32_t)plane]; }
static void seq(struct rig *r, uint8_t i, uint8_t v) { outw(r, 0x3C4, (uint16_t)(v << 8 | i)); }
static void gc(struct rig *r, uint8_t i, uint8_t v) { outw(r, 0x3CE, (uint16_t)(v << 8 | i)); }
static void crtc(struct rig *r, uint8_t i, uint8_t v) { outw(r, 0x3D4, (uint16_t)(v << 8 | i)); }
static void vbe(struct rig *r, uint16_t i, uint16_t v) { outw(r, 0x1CE, i); outw(r, 0x1CF, v); }
static uint16_t vbe_rd(struct rig *r, uint16_t i) { outw(r, 0x1CE, i); return inw(r, 0x1CF); }

/* ---- Standard mode tables (misc, SR0-4, CR0-18, GR0-8, AR0-14) ---- */

struct mode_regs {
    uint8_t misc, seq[5], crtc[25], gc[9], ar[21];
};

static const struct mode_regs MODE3 = {
    0x67, { 0x03, 0x00, 0x03, 0x00, 0x02 },
    { 0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00,
      0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C,
      0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00 },
};

static const struct mode_regs MODE12 = {
    0xE3, { 0x03, 0x01, 0x0F, 0x00, 0x06 },
    { 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0x0B, 0x3E, 0x00, 0x40, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x59, 0xEA, 0x8C, 0xDF, 0x28, 0x00, 0xE7, 0x04, 0xE3, 0xFF },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0F, 0xFF },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C,
      0x3D, 0x3E, 0x3F, 0x01, 0x00, 0x0F, 0x00, 0x00 },
};

static const struct mode_regs MODE13 = {
    0x63, { 0x03, 0x01, 0x0F, 0x00, 0x0E },
    { 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x41, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x9C, 0x0E, 0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3, 0xFF },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C,
      0x0D, 0x0E, 0x0F, 0x41, 0x00, 0x0F, 0x00, 0x00 },
};

/* As a VGA BIOS does: screen off, sequencer reset, misc, registers, unlock
 * CR0-7, CRTC, GC, attribute controller (flip-flop reset via 3DA), enable. */
static void set_mode(struct rig *r, const struct mode_regs *m)
{
    seq(r, 0x00, 0x01);
    outb(r, 0x3C2, m->misc);
    for (uint8_t i = 1; i < 5; i++)
        seq(r, i, m->seq[i]);
    seq(r, 0x00, m->seq[0]);
    crtc(r, 0x11, 0x00);
    for (uint8_t i = 0; i < 25; i++)
        crtc(r, i, m->crtc[i]);
    for (uint8_t i = 0; i < 9; i++)
        gc(r, i, m->gc[i]);
    inb(r, 0x3DA);
    for (uint8_t i = 0; i < 21; i++) {
        outb(r, 0x3C0, i);
        outb(r, 0x3C0, m->ar[i]);
    }
    outb(r, 0x3C0, 0x20);
}

static void dac_set(struct rig *r, uint8_t i, uint8_t red, uint8_t green, uint8_t blue)
{
    outb(r, 0x3C8, i);
    outb(r, 0x3C9, red);
    outb(r, 0x3C9, green);
    outb(r, 0x3C9, blue);
}

/* Loads glyphs into plane 2 as the BIOS does (plane 2 only, sequential, A0000). */
static void load_glyph(struct rig *r, uint8_t ch, const uint8_t *rows, int n)
{
    seq(r, 0x02, 0x04); seq(r, 0x04, 0x07);
    gc(r, 0x04, 0x02); gc(r, 0x05, 0x00); gc(r, 0x06, 0x04);
    for (int i = 0; i < n; i++)
        memw(r, 0xA0000 + ch * 32u + (uint32_t)i, rows[i]);
    seq(r, 0x02, 0x03); seq(r, 0x04, 0x02);
    gc(r, 0x04, 0x00); gc(r, 0x05, 0x10); gc(r, 0x06, 0x0E);
}

static void put_text(struct rig *r, int row, int col, const char *s, uint8_t attr)
{
    uint32_t a = 0xB8000 + (uint32_t)(row * 80 + col) * 2;
    for (; *s; s++, a += 2)
        memw16(r, a, (uint16_t)(attr << 8 | (uint8_t)*s));
}

static char dump[64 * 1024];

/* ---- Text mode ---- */

START_TEST(test_mode3_text_dump)
{
    struct rig *r = rig_new(1 << 20);
    set_mode(r, &MODE3);
    put_text(r, 0, 0, "Hello, VGA", 0x07);
    put_text(r, 1, 2, "\xC9\xCD\xBB", 0x1F);           /* box top: U+2554 U+2550 U+2557 */
    put_text(r, 2, 0, "x   ", 0x07);                    /* trailing blanks dropped */
    put_text(r, 3, 0, "\x01\x7F\x80\xB0\xE1\xFB\xFF", 0x07);
    memw16(r, 0xB8000 + (4 * 80 + 3) * 2, 0x0700);      /* NUL reads as a blank */
    put_text(r, 4, 4, "y", 0x07);
    put_text(r, 24, 77, "end", 0x70);

    /* Odd/even: characters to plane 0, attributes to plane 1, at even offsets. */
    ck_assert_uint_eq(pl(r, 0, 0), 'H');
    ck_assert_uint_eq(pl(r, 1, 0), 0x07);
    ck_assert_uint_eq(pl(r, 0, 2), 'e');
    ck_assert_uint_eq(pl(r, 1, 164), 0x1F);
    ck_assert_uint_eq(pl(r, 0, 1), 0);
    ck_assert_uint_eq(memr(r, 0xB8001), 0x07);
    ck_assert_uint_eq(memr(r, 0xB8000 + 160 + 4), 0xC9);

    const char *head =
        "Hello, VGA\n"
        "  \xE2\x95\x94\xE2\x95\x90\xE2\x95\x97\n"
        "x\n"
        "\xE2\x98\xBA\xE2\x8C\x82\xC3\x87\xE2\x96\x91\xC3\x9F\xE2\x88\x9A\xC2\xA0\n"
        "    y\n"
        "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n";
    char expect_buf[1024];
    snprintf(expect_buf, sizeof(expect_buf), "%s%77s%s", head, "", "end\n");
    const char *expect = expect_buf;
    size_t n = vga_text_dump(&r->vga, dump, sizeof(dump));
    ck_assert_str_eq(dump, expect);
    ck_assert_uint_eq(n, strlen(expect));

    /* Truncation behaves as snprintf: NUL-terminated, full length returned. */
    char small[8];
    ck_assert_uint_eq(vga_text_dump(&r->vga, small, sizeof(small)), strlen(expect));
    ck_assert_str_eq(small, "Hello, ");
    rig_free(r);
}
END_TEST

START_TEST(test_80x50_dump)
{
    struct rig *r = rig_new(1 << 20);
    set_mode(r, &MODE3);
    crtc(r, 0x09, (uint8_t)((MODE3.crtc[9] & 0xE0) | 7));   /* 8-line font */
    crtc(r, 0x0A, 0x06); crtc(r, 0x0B, 0x07);
    put_text(r, 0, 0, "top", 0x07);
    put_text(r, 49, 0, "row 49", 0x07);
    size_t n = vga_text_dump(&r->vga, dump, sizeof(dump));
    int lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += dump[i] == '\n';
    ck_assert_int_eq(lines, 50);
    ck_assert(strncmp(dump, "top\n\n", 5) == 0);
    ck_assert_str_eq(dump + n - strlen("\nrow 49\n"), "\nrow 49\n");
    int w, h;
    vga_mode_size(&r->vga, &w, &h);
    ck_assert_int_eq(w, 720);
    ck_assert_int_eq(h, 400);
    /* Back to 16-line cells: 25 rows. */
    crtc(r, 0x09, MODE3.crtc[9]);
    n = vga_text_dump(&r->vga, dump, sizeof(dump));
    lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += dump[i] == '\n';
    ck_assert_int_eq(lines, 25);
    rig_free(r);
}
END_TEST

START_TEST(test_text_start_address)
{
    struct rig *r = rig_new(1 << 20);
    set_mode(r, &MODE3);
    put_text(r, 0, 0, "page0", 0x07);
    put_text(r, 1, 0, "second", 0x07);
    /* Start address in characters (word mode): one row down = 80. */
    crtc(r, 0x0C, 0x00); crtc(r, 0x0D, 80);
    vga_text_dump(&r->vga, dump, sizeof(dump));
    ck_assert(strncmp(dump, "second\n", 7) == 0);
    rig_free(r);
}
END_TEST

static const uint8_t GLYPH_A[16] = {
    0x00, 0x00, 0x10, 0x38, 0x6C, 0xC6, 0xC6, 0xFE,
    0xC6, 0xC6, 0xC6, 0xC6, 0x00, 0x00, 0x00, 0x81,
};

static uint32_t *frame_buf(void)
{
    uint32_t *px = malloc((size_t)VGA_MAX_WIDTH * VGA_MAX_HEIGHT * sizeof(uint32_t));
    ck_assert_ptr_nonnull(px);
    return px;
}

/* A text frame's period with mode 3 timing, in ns (rounded up). */
static uint64_t mode3_frame_ns(void)
{
    struct vga_timing t;
    struct rig *r = rig_new(1 << 18);
    set_mode(r, &MODE3);
    vga_timing(&r->vga, &t);
    rig_free(r);
    return (t.frame_ps + 999) / 1000;
}

START_TEST(test_text_render)
{
    struct rig *r = rig_new(1 << 20);
    set_mode(r, &MODE3);
    load_glyph(r, 'A', GLYPH_A, 16);
    static const uint8_t solid[16] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                       0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    load_glyph(r, 0xC4, solid, 16);
    dac_set(r, 0x01, 0, 0, 42);          /* AR1 = 0x01: blue 0xAA */
    dac_set(r, 0x3E, 63, 63, 0);         /* AR14 = 0x3E: yellow 0xFF */
    put_text(r, 0, 0, "A", 0x1E);        /* yellow on blue */
    put_text(r, 0, 1, "\xC4", 0x1E);     /* line-graphics: 9th column repeats */
    put_text(r, 0, 2, "A", 0x9E);        /* blinking */
    crtc(r, 0x0A, 0x0E); crtc(r, 0x0B, 0x0F);
    crtc(r, 0x0E, 0x00); crtc(r, 0x0F, 3);   /* cursor on cell 3 */
    put_text(r, 0, 3, " ", 0x1E);

    uint32_t *px = frame_buf();
    int w, h;
    vga_render(&r->vga, px, &w, &h);
    ck_assert_int_eq(w, 720);
    ck_assert_int_eq(h, 400);
    const uint32_t Y = 0xFFFF00, B = 0x0000AA;
    /* Glyph row 2 = 0x10: only dot 3 lit; the 9th dot is background. */
    for (int x = 0; x < 9; x++)
        ck_assert_uint_eq(px[2 * w + x], x == 3 ? Y : B);
    /* Row 7 = 0xFE: dots 0-6. */
    for (int x = 0; x < 9; x++)
        ck_assert_uint_eq(px[7 * w + x], x < 7 ? Y : B);
    /* Row 15 = 0x81: dot 0 and 7; 'A' is no line-graphics char, so dot 8 is background. */
    ck_assert_uint_eq(px[15 * w + 0], Y);
    ck_assert_uint_eq(px[15 * w + 7], Y);
    ck_assert_uint_eq(px[15 * w + 8], B);
    /* 0xC4 with line graphics enabled: the 9th dot copies the 8th. */
    ck_assert_uint_eq(px[5 * w + 9 + 8], Y);
    /* Blinking cell visible in frame 0, background colour is 1 (bit 7 = blink). */
    ck_assert_uint_eq(px[2 * w + 18 + 3], Y);
    ck_assert_uint_eq(px[2 * w + 18 + 0], B);
    /* Cursor lines 14-15 of cell 3 in foreground while the cursor is on. */
    ck_assert_uint_eq(px[14 * w + 27 + 4], Y);
    ck_assert_uint_eq(px[13 * w + 27 + 4], B);

    /* Frame 8: cursor off; frame 16: blinking characters hidden. */
    uint64_t f = mode3_frame_ns();
    uint64_t key0 = vga_frame_key(&r->vga);
    vclock_advance(&r->clk, 8 * f + f / 2);
    ck_assert(vga_frame_key(&r->vga) != key0);
    vga_render(&r->vga, px, &w, &h);
    ck_assert_uint_eq(px[14 * w + 27 + 4], B);
    ck_assert_uint_eq(px[2 * w + 18 + 3], Y);
    vclock_advance(&r->clk, 16 * f + f / 2);
    vga_render(&r->vga, px, &w, &h);
    ck_assert_uint_eq(px[2 * w + 18 + 3], B);
    ck_assert_uint_eq(px[2 * w + 3], Y);     /* non-blinking cell unaffected */

    /* Blink disabled (AR10 bit 3 = 0): bit 7 is background intensity. */
    dac_set(r, 0x39, 0, 0, 63);          /* AR9 = 0x39 */
    inb(r, 0x3DA);
    outb(r, 0x3C0, 0x30); outb(r, 0x3C0, 0x04);
    vga_render(&r->vga, px, &w, &h);
    ck_assert_uint_eq(px[2 * w + 18 + 3], Y);
    ck_assert_uint_eq(px[2 * w + 18 + 0], 0x0000FF);

    /* Screen off (SR1 bit 5): black. */
    seq(r, 0x01, 0x20);
    vga_render(&r->vga, px, &w, &h);
    ck_assert_uint_eq(px[2 * w + 3], 0);
    free(px);
    rig_free(r);
}
END_TEST

/* ---- Graphics controller: write and read modes, latches ---- */

/* Planar, unchained, A0000 64K window, all planes, no rotate, full bit mask. */
static void planar_setup(struct rig *r)
{
    set_mode(r, &MODE12);
}

/* Puts known bytes in the four planes at plane offset `off`. */
static void fill_planes(struct rig *r, uint32_t off, const uint8_t v[4])
{
    for (int p = 0; p < 4; p++)
        r->vga.vram[off * 4 + (uint32_t)p] = v[p];
}

START_TEST(test_write_mode0)
{
    struct rig *r = rig_new(1 << 20);
    planar_setup(r);
    memw(r, 0xA0000, 0xA5);
    for (int p = 0; p < 4; p++)
        ck_assert_uint_eq(pl(r, p, 0), 0xA5);
    /* Map mask: planes 0 and 2 only. */
    seq(r, 0x02, 0x05);
    memw(r, 0xA0001, 0x3C);
    ck_assert_uint_eq(pl(r, 0, 1), 0x3C); ck_assert_uint_eq(pl(r, 1, 1), 0x00);
    ck_assert_uint_eq(pl(r, 2, 1), 0x3C); ck_assert_uint_eq(pl(r, 3, 1), 0x00);
    seq(r, 0x02, 0x0F);
    /* Set/reset: enable planes 0-3, value 0101 -> planes 0, 2 = FF; 1, 3 = 00. */
    gc(r, 0x01, 0x0F); gc(r, 0x00, 0x05);
    memw(r, 0xA0002, 0x12);
    ck_assert_uint_eq(pl(r, 0, 2), 0xFF); ck_assert_uint_eq(pl(r, 1, 2), 0x00);
    ck_assert_uint_eq(pl(r, 2, 2), 0xFF); ck_assert_uint_eq(pl(r, 3, 2), 0x00);
    /* Set/reset only for plane 1; others take the (rotated) data. */
    gc(r, 0x01, 0x02); gc(r, 0x00, 0x02); gc(r, 0x03, 0x03);   /* rotate right 3 */
    memw(r, 0xA0003, 0x81);                                     /* ror 3 = 0x30 */
    ck_assert_uint_eq(pl(r, 0, 3), 0x30); ck_assert_uint_eq(pl(r, 1, 3), 0xFF);
    ck_assert_uint_eq(pl(r, 2, 3), 0x30); ck_assert_uint_eq(pl(r, 3, 3), 0x30);
    gc(r, 0x01, 0x00); gc(r, 0x03, 0x00);

    /* Bit mask and logical operations against the latches. */
    static const uint8_t src[4] = { 0x0F, 0xF0, 0x33, 0xCC };
    fill_planes(r, 0x100, src);
    (void)memr(r, 0xA0100);                                     /* loads latches */
    ck_assert_uint_eq(r->vga.latch[0], 0x0F); ck_assert_uint_eq(r->vga.latch[3], 0xCC);
    gc(r, 0x08, 0xF0);
    memw(r, 0xA0100, 0xAA);                                     /* (AA & F0) | (latch & 0F) */
    ck_assert_uint_eq(pl(r, 0, 0x100), 0xAF); ck_assert_uint_eq(pl(r, 1, 0x100), 0xA0);
    ck_assert_uint_eq(pl(r, 2, 0x100), 0xA3); ck_assert_uint_eq(pl(r, 3, 0x100), 0xAC);
    gc(r, 0x08, 0xFF);
    fill_planes(r, 0x101, src);
    (void)memr(r, 0xA0101);
    gc(r, 0x03, 0x08);                                          /* AND */
    memw(r, 0xA0102, 0x3C);
    ck_assert_uint_eq(pl(r, 0, 0x102), 0x0C); ck_assert_uint_eq(pl(r, 1, 0x102), 0x30);
    ck_assert_uint_eq(pl(r, 2, 0x102), 0x30); ck_assert_uint_eq(pl(r, 3, 0x102), 0x0C);
    gc(r, 0x03, 0x10);                                          /* OR */
    memw(r, 0xA0103, 0x3C);
    ck_assert_uint_eq(pl(r, 0, 0x103), 0x3F); ck_assert_uint_eq(pl(r, 1, 0x103), 0xFC);
    ck_assert_uint_eq(pl(r, 2, 0x103), 0x3F); ck_assert_uint_eq(pl(r, 3, 0x103), 0xFC);
    gc(r, 0x03, 0x18);                                          /* XOR */
    memw(r, 0xA0104, 0x3C);
    ck_assert_uint_eq(pl(r, 0, 0x104), 0x33); ck_assert_uint_eq(pl(r, 1, 0x104), 0xCC);
    ck_assert_uint_eq(pl(r, 2, 0x104), 0x0F); ck_assert_uint_eq(pl(r, 3, 0x104), 0xF0);
    rig_free(r);
}
END_TEST

START_TEST(test_write_modes_1_2_3)
{
    struct rig *r = rig_new(1 << 20);
    planar_setup(r);
    static const uint8_t src[4] = { 0x12, 0x34, 0x56, 0x78 };
    static const uint8_t bg[4] = { 0xF0, 0x0F, 0xAA, 0x55 };
    fill_planes(r, 0x200, src);
    /* Mode 1: the latches of 0x200 copied to 0x300 (data and bit mask ignored). */
    gc(r, 0x05, 0x01); gc(r, 0x08, 0x0F);
    (void)memr(r, 0xA0200);
    seq(r, 0x02, 0x0B);                                         /* plane 2 kept */
    memw(r, 0xA0300, 0x00);
    ck_assert_uint_eq(pl(r, 0, 0x300), 0x12); ck_assert_uint_eq(pl(r, 1, 0x300), 0x34);
    ck_assert_uint_eq(pl(r, 2, 0x300), 0x00); ck_assert_uint_eq(pl(r, 3, 0x300), 0x78);
    seq(r, 0x02, 0x0F);
    /* Mode 2: data bits 0-3 become plane fill colours, under the bit mask. */
    fill_planes(r, 0x400, bg);
    (void)memr(r, 0xA0400);
    gc(r, 0x05, 0x02); gc(r, 0x08, 0x3C);
    memw(r, 0xA0400, 0x0A);                                     /* colour 1010 */
    ck_assert_uint_eq(pl(r, 0, 0x400), 0xC0);                   /* 00 & 3C | F0 & C3 */
    ck_assert_uint_eq(pl(r, 1, 0x400), 0x3F);                   /* FF & 3C | 0F & C3 */
    ck_assert_uint_eq(pl(r, 2, 0x400), 0x82);                   /* 00 | AA & C3 */
    ck_assert_uint_eq(pl(r, 3, 0x400), 0x7D);                   /* 3C | 55 & C3 */
    /* Mode 3: set/reset colour, bit mask ANDed with the rotated data. */
    fill_planes(r, 0x500, bg);
    (void)memr(r, 0xA0500);
    gc(r, 0x05, 0x03); gc(r, 0x00, 0x0C); gc(r, 0x08, 0xF0); gc(r, 0x01, 0x00);
    memw(r, 0xA0500, 0x3C);                                     /* mask = F0 & 3C = 30 */
    ck_assert_uint_eq(pl(r, 0, 0x500), 0xC0);                   /* F0 & CF */
    ck_assert_uint_eq(pl(r, 1, 0x500), 0x0F);                   /* 0F & CF */
    ck_assert_uint_eq(pl(r, 2, 0x500), 0xBA);                   /* 30 | AA & CF */
    ck_assert_uint_eq(pl(r, 3, 0x500), 0x75);                   /* 30 | 55 & CF */
    rig_free(r);
}
END_TEST

START_TEST(test_read_modes)
{
    struct rig *r = rig_new(1 << 20);
    planar_setup(r);
    static const uint8_t v[4] = { 0xF0, 0xCC, 0xAA, 0x00 };
    fill_planes(r, 0x10, v);
    for (uint8_t p = 0; p < 4; p++) {
        gc(r, 0x04, p);
        ck_assert_uint_eq(memr(r, 0xA0010), v[p]);
    }
    /* Read mode 1: colour 0011 over all planes: F0 & CC & ~AA & ~00 = 0x40. */
    gc(r, 0x05, 0x08); gc(r, 0x02, 0x03); gc(r, 0x07, 0x0F);
    ck_assert_uint_eq(memr(r, 0xA0010), 0x40);
    /* Don't care about planes 2, 3: F0 & CC = C0. */
    gc(r, 0x07, 0x03);
    ck_assert_uint_eq(memr(r, 0xA0010), 0xC0);
    /* No plane cared about: always FF. */
    gc(r, 0x07, 0x00);
    ck_assert_uint_eq(memr(r, 0xA0010), 0xFF);
    /* The latches hold all four planes whatever the read mode. */
    for (int p = 0; p < 4; p++)
        ck_assert_uint_eq(r->vga.latch[p], v[p]);
    rig_free(r);
}
END_TEST

START_TEST(test_memory_map_select)
{
    struct rig *r = rig_new(1 << 20);
    planar_setup(r);
    gc(r, 0x06, 0x09);                                          /* B0000-B7FFF */
    memw(r, 0xB0010, 0x5A);
    ck_assert_uint_eq(pl(r, 0, 0x10), 0x5A);
    ck_assert_uint_eq(memr(r, 0xA0010), 0xFF);                  /* outside the window */
    memw(r, 0xB8010, 0x11);                                     /* dropped */
    ck_assert_uint_eq(pl(r, 0, 0x10), 0x5A);
    gc(r, 0x06, 0x0D);                                          /* B8000-BFFFF */
    memw(r, 0xB8020, 0x66);
    ck_assert_uint_eq(pl(r, 3, 0x20), 0x66);
    ck_assert_uint_eq(memr(r, 0xB0020), 0xFF);
    gc(r, 0x06, 0x01);                                          /* A0000-BFFFF */
    memw(r, 0xA0030, 0x77);
    ck_assert_uint_eq(pl(r, 1, 0x30), 0x77);
    gc(r, 0x04, 0x00);
    ck_assert_uint_eq(memr(r, 0xB0010), pl(r, 0, 0x10));        /* wraps at 64 KiB */
    rig_free(r);
}
END_TEST

/* ---- Mode 13h: chain 4 ---- */

START_TEST(test_mode13_chain4)
{
    struct rig *r = rig_new(1 << 20);
    set_mode(r, &MODE13);
    dac_set(r, 5, 63, 0, 0);
    dac_set(r, 9, 0, 63, 0);
    dac_set(r, 0x25, 0, 0, 21);
    memw(r, 0xA0000 + 2 * 320 + 3, 5);
    memw(r, 0xA0000 + 2 * 320 + 4, 9);
    memw(r, 0xA0000 + 199 * 320 + 319, 0x25);
    /* Chain 4: address bits 0-1 pick the plane; the plane offset keeps them clear. */
    ck_assert_uint_eq(pl(r, 3, 640), 5);
    ck_assert_uint_eq(pl(r, 0, 644), 9);
    ck_assert_uint_eq(pl(r, 3, 63996), 0x25);
    ck_assert_uint_eq(pl(r, 0, 643), 0);
    ck_assert_uint_eq(memr(r, 0xA0000 + 643), 5);
    ck_assert_uint_eq(memr(r, 0xA0000 + 644), 9);

    uint32_t *px = frame_buf();
    int w, h;
    vga_render(&r->vga, px, &w, &h);
    ck_assert_int_eq(w, 320);
    ck_assert_int_eq(h, 200);
    ck_assert_uint_eq(px[2 * 320 + 3], 0xFF0000);
    ck_assert_uint_eq(px[2 * 320 + 4], 0x00FF00);
    ck_assert_uint_eq(px[2 * 320 + 2], 0x000000);
    ck_assert_uint_eq(px[199 * 320 + 319], 0x000055);
    /* Pel mask 0x0F: pixel 0x25 shows DAC entry 5. */
    outb(r, 0x3C6, 0x0F);
    vga_render(&r->vga, px, &w, &h);
    ck_assert_uint_eq(px[199 * 320 + 319], 0xFF0000);
    /* Unchained ("mode X") read of the same byte: plane 3, offset 640. */
    seq(r, 0x04, 0x06); gc(r, 0x05, 0x00); gc(r, 0x04, 0x03);
    ck_assert_uint_eq(memr(r, 0xA0000 + 640), 5);
    free(px);
    rig_free(r);
}
END_TEST

START_TEST(test_mode12_planar_render)
{
    struct rig *r = rig_new(1 << 20);
    set_mode(r, &MODE12);
    dac_set(r, 0x04, 42, 0, 0);                         /* AR4 = 0x04 */
    dac_set(r, 0x3F, 63, 63, 63);                       /* AR15 = 0x3F */
    /* Write mode 2, bit mask 0x80: pixel 0 of row 0 gets colour 4. */
    gc(r, 0x05, 0x02); gc(r, 0x08, 0x80);
    (void)memr(r, 0xA0000);
    memw(r, 0xA0000, 0x04);
    gc(r, 0x08, 0x01);
    (void)memr(r, 0xA0000 + 479 * 80 + 79);
    memw(r, 0xA0000 + 479 * 80 + 79, 0x0F);             /* last pixel colour 15 */
    uint32_t *px = frame_buf();
    int w, h;
    vga_render(&r->vga, px, &w, &h);
    ck_assert_int_eq(w, 640);
    ck_assert_int_eq(h, 480);
    ck_assert_uint_eq(px[0], 0xAA0000);
    ck_assert_uint_eq(px[1], 0x000000);
    ck_assert_uint_eq(px[479 * 640 + 639], 0xFFFFFF);
    ck_assert_uint_eq(px[479 * 640 + 638], 0x000000);
    /* Colour plane enable 0x03 masks colour 4 to 0. */
    inb(r, 0x3DA);
    outb(r, 0x3C0, 0x32); outb(r, 0x3C0, 0x03);
    vga_render(&r->vga, px, &w, &h);
    ck_assert_uint_eq(px[0], 0x000000);
    free(px);
    rig_free(r);
}
END_TEST

/* ---- DAC ---- */

START_TEST(test_dac)
{
    struct rig *r = rig_new(1 << 20);
    outb(r, 0x3C8, 10);
    ck_assert_uint_eq(inb(r, 0x3C7), 0x00);                     /* write mode */
    static const uint8_t vals[9] = { 1, 2, 3, 0x3F, 0xFF, 0x40, 7, 8, 9 };
    for (int i = 0; i < 9; i++)
        outb(r, 0x3C9, vals[i]);
    ck_assert_uint_eq(inb(r, 0x3C8), 13);                       /* advanced by 3 entries */
    outb(r, 0x3C7, 10);
    ck_assert_uint_eq(inb(r, 0x3C7), 0x03);                     /* read mode */
    static const uint8_t want[9] = { 1, 2, 3, 0x3F, 0x3F, 0x00, 7, 8, 9 };
    for (int i = 0; i < 9; i++)
        ck_assert_uint_eq(inb(r, 0x3C9), want[i]);
    ck_assert_uint_eq(inb(r, 0x3C9), 0);                        /* entry 13 */
    /* A triplet is stored only when complete; a new index restarts it. */
    dac_set(r, 20, 5, 6, 7);
    outb(r, 0x3C8, 20);
    outb(r, 0x3C9, 30); outb(r, 0x3C9, 31);
    outb(r, 0x3C8, 21);
    outb(r, 0x3C7, 20);
    ck_assert_uint_eq(inb(r, 0x3C9), 5);
    ck_assert_uint_eq(inb(r, 0x3C9), 6);
    /* Re-setting the read index mid-triplet restarts at red. */
    outb(r, 0x3C7, 20);
    ck_assert_uint_eq(inb(r, 0x3C9), 5);
    /* Index 255 wraps to 0. */
    dac_set(r, 255, 1, 1, 1);
    ck_assert_uint_eq(inb(r, 0x3C8), 0);
    /* Pel mask register. */
    ck_assert_uint_eq(inb(r, 0x3C6), 0xFF);
    outb(r, 0x3C6, 0x0F);
    ck_assert_uint_eq(inb(r, 0x3C6), 0x0F);
    rig_free(r);
}
END_TEST

/* ---- Attribute controller ---- */

START_TEST(test_attribute_flipflop)
{
    struct rig *r = rig_new(1 << 20);
    outb(r, 0x3C2, 0x67);                                       /* colour ports */
    inb(r, 0x3DA);
    outb(r, 0x3C0, 0x01);                                       /* index */
    outb(r, 0x3C0, 0x3F);                                       /* data */
    ck_assert_uint_eq(inb(r, 0x3C0), 0x01);
    ck_assert_uint_eq(inb(r, 0x3C1), 0x3F);
    outb(r, 0x3C0, 0x12);                                       /* index again */
    ck_assert_uint_eq(inb(r, 0x3C0), 0x12);
    outb(r, 0x3C0, 0x0F);
    ck_assert_uint_eq(inb(r, 0x3C1), 0x0F);
    /* Half-way through a pair, reading 3DA resets: the next write is an index. */
    outb(r, 0x3C0, 0x02);
    inb(r, 0x3DA);
    outb(r, 0x3C0, 0x03);
    ck_assert_uint_eq(inb(r, 0x3C0), 0x03);
    outb(r, 0x3C0, 0x2A);
    ck_assert_uint_eq(inb(r, 0x3C1), 0x2A);
    outb(r, 0x3C0, 0x02);
    ck_assert_uint_eq(inb(r, 0x3C1), 0x00);                     /* reg 2 never written */
    outb(r, 0x3C0, 0x00);                                       /* data: completes the pair */
    /* 3BA is not decoded in colour mode: no reset, reads FF. */
    outb(r, 0x3C0, 0x05);
    ck_assert_uint_eq(inb(r, 0x3BA), 0xFF);
    outb(r, 0x3C0, 0x11);                                       /* data for reg 5 */
    ck_assert_uint_eq(inb(r, 0x3C0), 0x05);
    ck_assert_uint_eq(inb(r, 0x3C1), 0x11);
    /* Palette registers keep 6 bits; bit 5 of the index (PAS) reads back. */
    outb(r, 0x3C0, 0x24); outb(r, 0x3C0, 0xFF);
    ck_assert_uint_eq(inb(r, 0x3C0), 0x24);
    ck_assert_uint_eq(inb(r, 0x3C1), 0x3F);
    /* Monochrome addressing: 3BA resets, 3DA does not. */
    outb(r, 0x3C2, 0x66);
    outb(r, 0x3C0, 0x06);
    inb(r, 0x3BA);
    outb(r, 0x3C0, 0x07);
    ck_assert_uint_eq(inb(r, 0x3C0), 0x07);
    rig_free(r);
}
END_TEST

/* ---- CRTC ---- */

START_TEST(test_crtc_protect_and_ports)
{
    struct rig *r = rig_new(1 << 20);
    set_mode(r, &MODE3);                                        /* leaves CR11 = 0x8E */
    crtc(r, 0x00, 0x12);
    outb(r, 0x3D4, 0x00);
    ck_assert_uint_eq(inb(r, 0x3D5), 0x5F);                     /* protected */
    crtc(r, 0x07, 0x00);                                        /* only bit 4 changes */
    outb(r, 0x3D4, 0x07);
    ck_assert_uint_eq(inb(r, 0x3D5), 0x0F);
    crtc(r, 0x0E, 0x07);                                        /* not protected */
    outb(r, 0x3D4, 0x0E);
    ck_assert_uint_eq(inb(r, 0x3D5), 0x07);
    crtc(r, 0x11, 0x0E);
    crtc(r, 0x00, 0x12);
    outb(r, 0x3D4, 0x00);
    ck_assert_uint_eq(inb(r, 0x3D5), 0x12);
    /* Mono addressing: the CRTC moves to 3B4/3B5. */
    outb(r, 0x3C2, 0x66);
    ck_assert_uint_eq(inb(r, 0x3CC), 0x66);
    ck_assert_uint_eq(inb(r, 0x3D5), 0xFF);
    outb(r, 0x3B4, 0x0E);
    ck_assert_uint_eq(inb(r, 0x3B5), 0x07);
    outw(r, 0x3D4, 0x550F);                                     /* ignored */
    outb(r, 0x3B4, 0x0F);
    ck_assert_uint_eq(inb(r, 0x3B5), 0x00);
    /* Sequencer and GC index/data, 16-bit writes split low byte first. */
    outw(r, 0x3C4, 0x0A02);
    ck_assert_uint_eq(inb(r, 0x3C4), 0x02);
    ck_assert_uint_eq(inb(r, 0x3C5), 0x0A);
    outw(r, 0x3CE, 0x4405);
    ck_assert_uint_eq(inb(r, 0x3CF), 0x44);
    rig_free(r);
}
END_TEST

/* ---- Input status 1 over virtual time (mode 3: 28.322 MHz, 900 dots, 449 lines) ---- */

static uint8_t is1_at(struct rig *r, uint64_t ns)
{
    vclock_advance(&r->clk, ns);
    return inb(r, 0x3DA) & (VGA_IS1_DE | VGA_IS1_VR);
}

START_TEST(test_retrace)
{
    struct rig *r = rig_new(1 << 20);
    set_mode(r, &MODE3);
    struct vga_timing t;
    vga_timing(&r->vga, &t);
    /* 9 dots at 28.322 MHz = 317774 ps (truncated); 100 chars a line; 449 lines. */
    ck_assert_uint_eq(t.char_ps, 317774);
    ck_assert_uint_eq(t.line_ps, 31777400);
    ck_assert_uint_eq(t.vtotal, 449);
    ck_assert_uint_eq(t.vdisp, 400);
    ck_assert_uint_eq(t.vrs, 412);
    ck_assert_uint_eq(t.vr_len, 2);
    ck_assert_uint_eq(is1_at(r, 0), 0);                         /* line 0, char 0 */
    ck_assert_uint_eq(is1_at(r, 319363), 0);                    /* line 10, char 5 */
    ck_assert_uint_eq(is1_at(r, 344785), VGA_IS1_DE);           /* line 10, char 85 */
    ck_assert_uint_eq(is1_at(r, 12711000), VGA_IS1_DE);         /* line 400: blank */
    ck_assert_uint_eq(is1_at(r, 13092289), VGA_IS1_DE | VGA_IS1_VR); /* line 412 */
    ck_assert_uint_eq(is1_at(r, 13155843), VGA_IS1_DE | VGA_IS1_VR); /* end of 413 */
    ck_assert_uint_eq(is1_at(r, 13155844), VGA_IS1_DE);         /* line 414 */
    ck_assert_uint_eq(is1_at(r, 14268052), VGA_IS1_DE);         /* last line */
    ck_assert_uint_eq(is1_at(r, 14268053), 0);                  /* next frame */
    ck_assert_uint_eq(is1_at(r, 27360342), VGA_IS1_DE | VGA_IS1_VR); /* frame 2, 412 */

    /* Polled every 10 us for 100 ms: one retrace per 14.268 ms frame. */
    struct rig *q = rig_new(1 << 18);
    set_mode(q, &MODE3);
    int pulses = 0, samples = 0, prev = 0;
    for (uint64_t ns = 0; ns < 100000000; ns += 10000) {
        int vr = (is1_at(q, ns) & VGA_IS1_VR) != 0;
        pulses += vr && !prev;
        samples += vr;
        prev = vr;
    }
    ck_assert_int_eq(pulses, 7);
    ck_assert_int_ge(samples, 6 * 7);
    ck_assert_int_le(samples, 7 * 7);
    rig_free(q);
    rig_free(r);
}
END_TEST

/* ---- Bochs VBE ---- */

START_TEST(test_vbe_id_and_caps)
{
    struct rig *r = rig_new(16u << 20);
    ck_assert_uint_eq(vbe_rd(r, VBE_DISPI_INDEX_ID), 0xB0C0);
    vbe(r, VBE_DISPI_INDEX_ID, 0xB0C5);
    ck_assert_uint_eq(vbe_rd(r, VBE_DISPI_INDEX_ID), 0xB0C5);
    vbe(r, VBE_DISPI_INDEX_ID, 0xB0C6);                         /* unknown: kept */
    ck_assert_uint_eq(vbe_rd(r, VBE_DISPI_INDEX_ID), 0xB0C5);
    vbe(r, VBE_DISPI_INDEX_ID, 0xB0C2);
    ck_assert_uint_eq(vbe_rd(r, VBE_DISPI_INDEX_ID), 0xB0C2);
    ck_assert_uint_eq(vbe_rd(r, VBE_DISPI_INDEX_VIDEO_MEMORY_64K), 256);
    ck_assert_uint_eq(inw(r, 0x1CE), VBE_DISPI_INDEX_VIDEO_MEMORY_64K);
    vbe(r, VBE_DISPI_INDEX_XRES, 800);
    vbe(r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_GETCAPS);
    ck_assert_uint_eq(vbe_rd(r, VBE_DISPI_INDEX_XRES), 2560);
    ck_assert_uint_eq(vbe_rd(r, VBE_DISPI_INDEX_YRES), 1600);
    ck_assert_uint_eq(vbe_rd(r, VBE_DISPI_INDEX_BPP), 32);
    vbe(r, VBE_DISPI_INDEX_ENABLE, 0);
    ck_assert_uint_eq(vbe_rd(r, VBE_DISPI_INDEX_XRES), 800);
    /* Default VRAM size is 16 MiB. */
    struct vga v;
    struct vclock c;
    vclock_init(&c);
    ck_assert_int_eq(vga_init(&v, &c, 0), 0);
    ck_assert_uint_eq(v.vram_size, 16u << 20);
    vga_free(&v);
    rig_free(r);
}
END_TEST

static void vbe_set(struct rig *r, uint16_t x, uint16_t y, uint16_t bpp, uint16_t flags)
{
    vbe(r, VBE_DISPI_INDEX_ENABLE, 0);
    vbe(r, VBE_DISPI_INDEX_XRES, x);
    vbe(r, VBE_DISPI_INDEX_YRES, y);
    vbe(r, VBE_DISPI_INDEX_BPP, bpp);
    vbe(r, VBE_DISPI_INDEX_ENABLE, (uint16_t)(VBE_DISPI_ENABLED | flags));
}

START_TEST(test_vbe_lfb_32bpp)
{
    struct rig *r = rig_new(4u << 20);
    set_mode(r, &MODE3);
    memset(r->vga.vram, 0xAA, r->vga.vram_size);
    vbe_set(r, 640, 480, 32, VBE_DISPI_LFB_ENABLED);
    ck_assert_uint_eq(vbe_rd(r, VBE_DISPI_INDEX_ENABLE), VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
    ck_assert_uint_eq(vbe_rd(r, VBE_DISPI_INDEX_VIRT_WIDTH), 640);
    ck_assert_uint_eq(vbe_rd(r, VBE_DISPI_INDEX_VIRT_HEIGHT), (4u << 20) / 2560);
    ck_assert_uint_eq(r->vga.vram[0], 0);                       /* cleared */
    ck_assert_uint_eq(r->vga.vram[640 * 480 * 4 - 1], 0);
    ck_assert_uint_eq(r->vga.vram[640 * 480 * 4], 0xAA);        /* beyond the picture */
    /* The guest writes the LFB as RAM: B, G, R, X. */
    uint8_t *p = r->vga.vram + (20 * 640 + 10) * 4;
    p[0] = 0x56; p[1] = 0x34; p[2] = 0x12; p[3] = 0xEE;
    p = r->vga.vram + (479 * 640 + 639) * 4;
    p[0] = 0xFF;
    uint32_t *px = frame_buf();
    int w, h;
    uint64_t key = vga_frame_key(&r->vga);
    vga_render(&r->vga, px, &w, &h);
    ck_assert_int_eq(w, 640);
    ck_assert_int_eq(h, 480);
    ck_assert_uint_eq(px[20 * 640 + 10], 0x123456);
    ck_assert_uint_eq(px[20 * 640 + 11], 0);
    ck_assert_uint_eq(px[479 * 640 + 639], 0x0000FF);
    ck_assert_uint_eq(vga_frame_key(&r->vga), key);             /* nothing changed */
    r->vga.vram[5] = 1;                                         /* an LFB write */
    ck_assert(vga_frame_key(&r->vga) != key);
    /* Mode registers are fixed while enabled. */
    vbe(r, VBE_DISPI_INDEX_XRES, 800);
    ck_assert_uint_eq(vbe_rd(r, VBE_DISPI_INDEX_XRES), 640);
    /* Y offset 20 (panning): the first row shown is memory row 20. */
    vbe(r, VBE_DISPI_INDEX_Y_OFFSET, 20);
    vga_render(&r->vga, px, &w, &h);
    ck_assert_uint_eq(px[10], 0x123456);
    /* Virtual width 1024: rows are 4096 bytes apart. */
    vbe(r, VBE_DISPI_INDEX_Y_OFFSET, 0);
    vbe(r, VBE_DISPI_INDEX_VIRT_WIDTH, 1024);
    ck_assert_uint_eq(vbe_rd(r, VBE_DISPI_INDEX_VIRT_HEIGHT), 1024);
    p = r->vga.vram + 4096 * 2 + 4 * 3;
    p[0] = 0x01; p[1] = 0x02; p[2] = 0x03;
    vga_render(&r->vga, px, &w, &h);
    ck_assert_uint_eq(px[2 * 640 + 3], 0x030201);
    /* Text dump is empty in a VBE mode; disabling returns to text. */
    ck_assert_uint_eq(vga_text_dump(&r->vga, dump, sizeof(dump)), 0);
    vbe(r, VBE_DISPI_INDEX_ENABLE, 0);
    vga_mode_size(&r->vga, &w, &h);
    ck_assert_int_eq(w, 720);
    /* NOCLEARMEM keeps VRAM. */
    vbe_set(r, 640, 480, 32, VBE_DISPI_LFB_ENABLED | VBE_DISPI_NOCLEARMEM);
    ck_assert_uint_eq(r->vga.vram[4096 * 2 + 12], 0x01);
    /* A mode that does not fit in VRAM is refused. */
    vbe_set(r, 2560, 1600, 32, 0);
    ck_assert_uint_eq(vbe_rd(r, VBE_DISPI_INDEX_ENABLE) & VBE_DISPI_ENABLED, 0);
    free(px);
    rig_free(r);
}
END_TEST

START_TEST(test_vbe_depths)
{
    struct rig *r = rig_new(4u << 20);
    uint32_t *px = frame_buf();
    int w, h;
    vbe_set(r, 320, 200, 16, VBE_DISPI_LFB_ENABLED);
    r->vga.vram[0] = 0x00; r->vga.vram[1] = 0xF8;               /* 565 red */
    r->vga.vram[2] = 0xE0; r->vga.vram[3] = 0x07;               /* 565 green */
    vga_render(&r->vga, px, &w, &h);
    ck_assert_uint_eq(px[0], 0xFF0000);
    ck_assert_uint_eq(px[1], 0x00FF00);
    vbe_set(r, 320, 200, 15, VBE_DISPI_LFB_ENABLED);
    r->vga.vram[0] = 0x1F; r->vga.vram[1] = 0x7C;               /* 555: red + blue */
    vga_render(&r->vga, px, &w, &h);
    ck_assert_uint_eq(px[0], 0xFF00FF);
    vbe_set(r, 320, 200, 24, VBE_DISPI_LFB_ENABLED);
    r->vga.vram[3] = 0x33; r->vga.vram[4] = 0x22; r->vga.vram[5] = 0x11;
    vga_render(&r->vga, px, &w, &h);
    ck_assert_uint_eq(px[1], 0x112233);
    vbe_set(r, 320, 200, 8, VBE_DISPI_LFB_ENABLED);
    dac_set(r, 7, 63, 32, 1);                                   /* 6-bit DAC */
    r->vga.vram[2] = 7;
    vga_render(&r->vga, px, &w, &h);
    ck_assert_uint_eq(px[2], 0xFF8204);
    /* 8-bit DAC: values kept and shown as they are. */
    vbe(r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_8BIT_DAC | VBE_DISPI_NOCLEARMEM);
    dac_set(r, 7, 0xC8, 0x80, 0x01);
    vga_render(&r->vga, px, &w, &h);
    ck_assert_uint_eq(px[2], 0xC88001);
    vbe_set(r, 320, 200, 4, 0);                                 /* unsupported depth */
    ck_assert_uint_eq(vbe_rd(r, VBE_DISPI_INDEX_ENABLE) & VBE_DISPI_ENABLED, 0);
    free(px);
    rig_free(r);
}
END_TEST

START_TEST(test_vbe_banked)
{
    struct rig *r = rig_new(4u << 20);
    vbe_set(r, 640, 480, 32, 0);                                /* no LFB: banked */
    vbe(r, VBE_DISPI_INDEX_BANK, 1);
    memw(r, 0xA0010, 0x5A);
    memw16(r, 0xAFFFE, 0x1234);
    ck_assert_uint_eq(r->vga.vram[0x10010], 0x5A);
    ck_assert_uint_eq(r->vga.vram[0x1FFFE], 0x34);
    ck_assert_uint_eq(r->vga.vram[0x1FFFF], 0x12);
    ck_assert_uint_eq(memr(r, 0xA0010), 0x5A);
    ck_assert_uint_eq(memr(r, 0xB0000), 0xFF);                  /* only A0000-AFFFF */
    vbe(r, VBE_DISPI_INDEX_BANK, 63);
    memw(r, 0xA0000, 0x77);
    ck_assert_uint_eq(r->vga.vram[63u << 16], 0x77);
    vbe(r, VBE_DISPI_INDEX_BANK, 64);                           /* beyond 4 MiB: ignored */
    ck_assert_uint_eq(vbe_rd(r, VBE_DISPI_INDEX_BANK), 63);
    /* Banked pixels render: bank 1 offset 0x10 = byte 0x10010 = pixel 16388 (B). */
    uint32_t *px = frame_buf();
    int w, h;
    vga_render(&r->vga, px, &w, &h);
    ck_assert_uint_eq(px[0x10010 / 4], 0x00005A);
    free(px);
    rig_free(r);
}
END_TEST

/* ---- Snapshot state ---- */

static uint8_t *save_state(struct vga *v, size_t *n)
{
    *n = state_size(vga_device_ops.fields);
    uint8_t *buf = malloc(*n);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(state_save(vga_device_ops.fields, v, buf), *n);
    return buf;
}

static struct rig *restore(uint8_t *buf, size_t n, const struct rig *from)
{
    struct rig *b = rig_new(from->vga.vram_size);
    vclock_advance(&b->clk, vclock_now(&from->clk));
    ck_assert_uint_eq(state_load(vga_device_ops.fields, &b->vga, buf, n), n);
    memcpy(b->vga.vram, from->vga.vram, from->vga.vram_size);     /* the VRAM blob */
    ck_assert_int_eq(vga_device_ops.post_load(&b->vga), 0);
    return b;
}

START_TEST(test_state_roundtrip)
{
    struct rig *a = rig_new(1 << 20);
    set_mode(a, &MODE3);
    put_text(a, 3, 5, "snapshot \xC9", 0x1E);
    dac_set(a, 3, 10, 20, 30);
    outb(a, 0x3C8, 40); outb(a, 0x3C9, 11);                     /* half a triplet */
    inb(a, 0x3DA); outb(a, 0x3C0, 0x31);                        /* flip-flop at data */
    vbe(a, VBE_DISPI_INDEX_ID, 0xB0C4);
    vbe(a, VBE_DISPI_INDEX_XRES, 1024);
    gc(a, 0x05, 0x10); gc(a, 0x04, 0x01);
    (void)memr(a, 0xB8000 + 3 * 160 + 10);                      /* latches from a cell */
    vclock_advance(&a->clk, 5000000);

    size_t n;
    uint8_t *s1 = save_state(&a->vga, &n);
    struct rig *b = restore(s1, n, a);
    size_t n2;
    uint8_t *s2 = save_state(&b->vga, &n2);
    ck_assert_uint_eq(n, n2);
    ck_assert(memcmp(s1, s2, n) == 0);
    vga_text_dump(&b->vga, dump, sizeof(dump));
    ck_assert(strstr(dump, "\n\n\n     snapshot \xE2\x95\x94\n") != NULL);

    /* Both continue identically. */
    struct rig *both[2] = { a, b };
    uint8_t got[2][9];
    for (int i = 0; i < 2; i++) {
        struct rig *r = both[i];
        outb(r, 0x3C9, 12); outb(r, 0x3C9, 13);                 /* finish the triplet */
        outb(r, 0x3C0, 0x0F);                                   /* data for AR 0x11 */
        outb(r, 0x3C7, 40);
        got[i][0] = inb(r, 0x3C9);
        got[i][1] = inb(r, 0x3C9);
        got[i][2] = inb(r, 0x3C9);
        got[i][3] = (uint8_t)(vbe_rd(r, VBE_DISPI_INDEX_XRES) >> 8);
        outb(r, 0x3C0, 0x11);
        got[i][4] = inb(r, 0x3C1);
        /* Write mode 1 copies the saved latches. */
        gc(r, 0x05, 0x01); seq(r, 0x02, 0x0F); seq(r, 0x04, 0x06); gc(r, 0x06, 0x05);
        memw(r, 0xA8000, 0);
        got[i][5] = pl(r, 0, 0x8000);
        got[i][6] = pl(r, 1, 0x8000);
        got[i][7] = inb(r, 0x3DA);
        got[i][8] = (uint8_t)vbe_rd(r, VBE_DISPI_INDEX_ID);
    }
    ck_assert(memcmp(got[0], got[1], sizeof(got[0])) == 0);
    ck_assert_uint_eq(got[0][0], 11);
    ck_assert_uint_eq(got[0][1], 12);
    ck_assert_uint_eq(got[0][2], 13);
    ck_assert_uint_eq(got[0][3], 0x04);
    ck_assert_uint_eq(got[0][4], 0x0F);
    ck_assert_uint_eq(got[0][5], 's');
    ck_assert_uint_eq(got[0][6], 0x1E);
    ck_assert_uint_eq(got[0][8], 0xC4);
    free(s1);
    free(s2);
    rig_free(a);
    rig_free(b);
}
END_TEST

START_TEST(test_state_vbe_and_bad_input)
{
    struct rig *a = rig_new(4u << 20);
    vbe_set(a, 640, 480, 32, VBE_DISPI_LFB_ENABLED);
    vbe(a, VBE_DISPI_INDEX_Y_OFFSET, 3);
    a->vga.vram[(3 * 640 + 1) * 4] = 0x42;
    size_t n;
    uint8_t *s = save_state(&a->vga, &n);
    struct rig *b = restore(s, n, a);
    uint32_t *px = frame_buf();
    int w, h;
    vga_render(&b->vga, px, &w, &h);
    ck_assert_int_eq(w, 640);
    ck_assert_uint_eq(px[1], 0x42);                             /* start recomputed */
    rig_free(b);
    /* A corrupt file: bank past VRAM, a mode larger than VRAM. */
    struct vga *v = &a->vga;
    v->vbe[VBE_DISPI_INDEX_BANK] = 0xFFFF;
    v->vbe[VBE_DISPI_INDEX_XRES] = 0xFFFF;
    v->dac_sub = 9;
    free(s);
    s = save_state(v, &n);
    b = restore(s, n, a);
    ck_assert_uint_eq(b->vga.vbe[VBE_DISPI_INDEX_BANK], 0);
    ck_assert_uint_eq(b->vga.vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED, 0);
    ck_assert_uint_eq(b->vga.dac_sub, 0);
    memw(b, 0xA0000, 1);                                        /* stays inside VRAM */
    vga_render(&b->vga, px, &w, &h);
    free(px);
    free(s);
    rig_free(a);
    rig_free(b);
}
END_TEST

START_TEST(test_reset)
{
    struct rig *r = rig_new(1 << 20);
    set_mode(r, &MODE3);
    put_text(r, 0, 0, "x", 7);
    vbe(r, VBE_DISPI_INDEX_ID, 0xB0C5);
    vga_device_ops.reset(&r->vga);
    ck_assert_uint_eq(vbe_rd(r, VBE_DISPI_INDEX_ID), 0xB0C0);
    ck_assert_uint_eq(inb(r, 0x3CC), 0x00);
    ck_assert_uint_eq(inb(r, 0x3C6), 0xFF);
    ck_assert_uint_eq(r->vga.vram[0], 0);
    /* No mode yet: no picture and an empty dump. */
    int w = -1, h = -1;
    vga_mode_size(&r->vga, &w, &h);
    ck_assert_int_eq(w, 0);
    ck_assert_int_eq(h, 0);
    dump[0] = 'x';
    ck_assert_uint_eq(vga_text_dump(&r->vga, dump, sizeof(dump)), 0);
    ck_assert_str_eq(dump, "");
    rig_free(r);
}
END_TEST

Suite *vga_suite(void)
{
    Suite *s = suite_create("vga");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_mode3_text_dump);
    tcase_add_test(tc, test_80x50_dump);
    tcase_add_test(tc, test_text_start_address);
    tcase_add_test(tc, test_text_render);
    tcase_add_test(tc, test_write_mode0);
    tcase_add_test(tc, test_write_modes_1_2_3);
    tcase_add_test(tc, test_read_modes);
    tcase_add_test(tc, test_memory_map_select);
    tcase_add_test(tc, test_mode13_chain4);
    tcase_add_test(tc, test_mode12_planar_render);
    tcase_add_test(tc, test_dac);
    tcase_add_test(tc, test_attribute_flipflop);
    tcase_add_test(tc, test_crtc_protect_and_ports);
    tcase_add_test(tc, test_retrace);
    tcase_add_test(tc, test_vbe_id_and_caps);
    tcase_add_test(tc, test_vbe_lfb_32bpp);
    tcase_add_test(tc, test_vbe_depths);
    tcase_add_test(tc, test_vbe_banked);
    tcase_add_test(tc, test_state_roundtrip);
    tcase_add_test(tc, test_state_vbe_and_bad_input);
    tcase_add_test(tc, test_reset);
    suite_add_tcase(s, tc);
    return s;
}
