/* VGA picture generation for front ends: the CRTC's address sequence, the
 * character generator (fonts in plane 2), the attribute controller and DAC,
 * and Bochs VBE linear modes (FreeVGA CRTC/attribute chapters).
 * Not modelled: pixel panning, preset row scan, CGA shift-interleave modes
 * 4/5 (drawn as planar), the attribute palette in 256-colour mode (the BIOS
 * loads it as identity), split screen in text mode. */
#include "devices/vga.h"
#include <string.h>

enum vga_kind { VGA_TEXT, VGA_PLANAR, VGA_256, VGA_VBE };

struct vga_mode {
    enum vga_kind kind;
    int w, h;           /* picture size */
    int cols, rows;     /* text: characters; graphics: char clocks, memory rows */
    int cw, ch;         /* text: character cell; graphics: ch = scan lines per row */
};

static void vga_get_mode(const struct vga *vga, struct vga_mode *m)
{
    memset(m, 0, sizeof(*m));
    if (vga->vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED) {
        m->kind = VGA_VBE;
        m->w = vga->vbe[VBE_DISPI_INDEX_XRES];
        m->h = vga->vbe[VBE_DISPI_INDEX_YRES];
        return;
    }
    if (vga->crtc[0x00] == 0 && vga->crtc[0x01] == 0)
        return;                                 /* CRTC never programmed: no picture */
    struct vga_timing t;
    vga_timing(vga, &t);
    int rep = (vga->crtc[0x09] & 0x1F) + 1;     /* scan lines per row */
    if (vga->crtc[0x09] & 0x80)
        rep *= 2;                               /* double scan */
    m->cols = (int)t.hdisp;
    m->ch = rep;
    m->rows = (int)t.vdisp / rep;
    if (!(vga->gc[6] & 0x01)) {
        m->kind = VGA_TEXT;
        m->cw = (vga->seq[1] & 0x01) ? 8 : 9;
        m->w = m->cols * m->cw;
    } else if (vga->gc[5] & 0x40) {
        m->kind = VGA_256;
        m->w = m->cols * 4;                     /* 4 pixels, 2 dots each, per char clock */
    } else {
        m->kind = VGA_PLANAR;
        m->w = m->cols * 8;
    }
    if (m->rows < 1)
        m->rows = 1;
    m->h = m->rows * m->ch;
    if (m->kind != VGA_TEXT)
        m->h = m->rows;                         /* one picture line per memory row */
}

/* Plane address the CRTC fetches for memory address counter value ma. */
static uint32_t crtc_addr(const struct vga *vga, uint32_t ma)
{
    uint32_t a;
    if (vga->crtc[0x14] & 0x40)                 /* doubleword mode */
        a = ma << 2;
    else if (!(vga->crtc[0x17] & 0x40))         /* word mode: MA13 or MA15 into bit 0 */
        a = (ma << 1) | ((ma >> ((vga->crtc[0x17] & 0x20) ? 15 : 13)) & 1);
    else
        a = ma;
    return a & 0xFFFF;
}

static uint8_t plane(const struct vga *vga, uint32_t addr, int p)
{
    return vga->vram[((addr & 0xFFFF) << 2) | (uint32_t)p];
}

static uint32_t start_address(const struct vga *vga)
{
    return (uint32_t)vga->crtc[0x0C] << 8 | vga->crtc[0x0D];
}

static uint32_t row_offset(const struct vga *vga)
{
    return (uint32_t)vga->crtc[0x13] * 2;
}

/* ---- Text dump ---- */

static const uint16_t cp437_low[32] = {
    0x0020, 0x263A, 0x263B, 0x2665, 0x2666, 0x2663, 0x2660, 0x2022,
    0x25D8, 0x25CB, 0x25D9, 0x2642, 0x2640, 0x266A, 0x266B, 0x263C,
    0x25BA, 0x25C4, 0x2195, 0x203C, 0x00B6, 0x00A7, 0x25AC, 0x21A8,
    0x2191, 0x2193, 0x2192, 0x2190, 0x221F, 0x2194, 0x25B2, 0x25BC,
};

static const uint16_t cp437_high[128] = {
    0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7,
    0x00EA, 0x00EB, 0x00E8, 0x00EF, 0x00EE, 0x00EC, 0x00C4, 0x00C5,
    0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9,
    0x00FF, 0x00D6, 0x00DC, 0x00A2, 0x00A3, 0x00A5, 0x20A7, 0x0192,
    0x00E1, 0x00ED, 0x00F3, 0x00FA, 0x00F1, 0x00D1, 0x00AA, 0x00BA,
    0x00BF, 0x2310, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556,
    0x2555, 0x2563, 0x2551, 0x2557, 0x255D, 0x255C, 0x255B, 0x2510,
    0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F,
    0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x2567,
    0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256B,
    0x256A, 0x2518, 0x250C, 0x2588, 0x2584, 0x258C, 0x2590, 0x2580,
    0x03B1, 0x00DF, 0x0393, 0x03C0, 0x03A3, 0x03C3, 0x00B5, 0x03C4,
    0x03A6, 0x0398, 0x03A9, 0x03B4, 0x221E, 0x03C6, 0x03B5, 0x2229,
    0x2261, 0x00B1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00F7, 0x2248,
    0x00B0, 0x2219, 0x00B7, 0x221A, 0x207F, 0x00B2, 0x25A0, 0x00A0,
};

/* Code page 437 as the VGA's ROM font draws it; NUL shows as a blank. */
static uint16_t cp437_to_unicode(uint8_t c)
{
    if (c < 0x20) return cp437_low[c];
    if (c == 0x7F) return 0x2302;
    if (c >= 0x80) return cp437_high[c - 0x80];
    return c;
}

static int utf8_encode(uint16_t u, char *out)
{
    if (u < 0x80) { out[0] = (char)u; return 1; }
    if (u < 0x800) {
        out[0] = (char)(0xC0 | (u >> 6));
        out[1] = (char)(0x80 | (u & 0x3F));
        return 2;
    }
    out[0] = (char)(0xE0 | (u >> 12));
    out[1] = (char)(0x80 | ((u >> 6) & 0x3F));
    out[2] = (char)(0x80 | (u & 0x3F));
    return 3;
}

/* Appends n bytes, keeping room for the NUL; counts what would be written. */
static void emit(char *buf, size_t len, size_t *pos, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++, (*pos)++)
        if (*pos + 1 < len)
            buf[*pos] = s[i];
}

size_t vga_text_dump(struct vga *vga, char *buf, size_t len)
{
    struct vga_mode m;
    vga_get_mode(vga, &m);
    size_t pos = 0;
    if (m.kind == VGA_TEXT) {
        for (int r = 0; r < m.rows; r++) {
            uint32_t ma = start_address(vga) + (uint32_t)r * row_offset(vga);
            int last = 0;                       /* columns up to the last non-blank */
            for (int c = 0; c < m.cols; c++)
                if (cp437_to_unicode(plane(vga, crtc_addr(vga, ma + (uint32_t)c), 0)) != ' ')
                    last = c + 1;
            for (int c = 0; c < last; c++) {
                char u[3];
                uint8_t ch = plane(vga, crtc_addr(vga, ma + (uint32_t)c), 0);
                emit(buf, len, &pos, u, (size_t)utf8_encode(cp437_to_unicode(ch), u));
            }
            emit(buf, len, &pos, "\n", 1);
        }
    }
    if (len)
        buf[pos < len ? pos : len - 1] = '\0';
    return pos;
}

/* ---- Colour path: attribute controller, DAC ---- */

static uint32_t dac_rgb(const struct vga *vga, uint8_t index)
{
    const uint8_t *e = &vga->dac[(index & vga->pel_mask) * 3];
    if (vga->vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC)
        return (uint32_t)e[0] << 16 | (uint32_t)e[1] << 8 | e[2];
    uint32_t r = (e[0] & 0x3Fu) << 2 | (e[0] & 0x3Fu) >> 4;
    uint32_t g = (e[1] & 0x3Fu) << 2 | (e[1] & 0x3Fu) >> 4;
    uint32_t b = (e[2] & 0x3Fu) << 2 | (e[2] & 0x3Fu) >> 4;
    return r << 16 | g << 8 | b;
}

/* A 4-bit pixel through colour plane enable, the palette and colour select. */
static uint8_t attr_map(const struct vga *vga, uint8_t c)
{
    uint8_t v = vga->ar[c & vga->ar[0x12] & 0x0F] & 0x3F;
    if (vga->ar[0x10] & 0x80)
        v = (uint8_t)((v & 0x0F) | (vga->ar[0x14] & 0x03) << 4);
    return (uint8_t)(v | (vga->ar[0x14] & 0x0C) << 4);
}

static uint32_t attr_rgb(const struct vga *vga, uint8_t c)
{
    return dac_rgb(vga, attr_map(vga, c));
}

/* ---- Text mode ---- */

/* Character map select (SR3): map A serves attribute bit 3 = 1, map B = 0. */
static int font_map_a(const struct vga *vga) { return ((vga->seq[3] >> 3) & 4) | ((vga->seq[3] >> 2) & 3); }
static int font_map_b(const struct vga *vga) { return ((vga->seq[3] >> 2) & 4) | (vga->seq[3] & 3); }

static uint32_t font_base(const struct vga *vga, uint8_t attr)
{
    int map = (attr & 0x08) ? font_map_a(vga) : font_map_b(vga);
    return (uint32_t)((map & 3) * 0x4000 + (map >> 2) * 0x2000);
}

struct text_phase { int cursor_on, blink_on; };

static void render_cell(const struct vga *vga, const struct vga_mode *m, uint32_t *px,
                        int stride, uint32_t addr, int is_cursor, struct text_phase ph)
{
    uint8_t ch = plane(vga, addr, 0), attr = plane(vga, addr, 1);
    uint8_t fg = attr & 0x0F, bg = attr >> 4;
    if (vga->ar[0x10] & 0x08) {                 /* blink enable: bit 7 blinks */
        bg &= 0x07;
        if ((attr & 0x80) && !ph.blink_on)
            fg = bg;
    }
    int underline = (attr & 0x77) == 0x01;
    uint32_t fg_rgb = attr_rgb(vga, fg), bg_rgb = attr_rgb(vga, bg);
    uint32_t font = font_base(vga, attr) + ch * 32u;
    int cur_start = vga->crtc[0x0A] & 0x1F, cur_end = vga->crtc[0x0B] & 0x1F;
    int cursor = is_cursor && ph.cursor_on && !(vga->crtc[0x0A] & 0x20);
    int dup9 = (vga->ar[0x10] & 0x04) && ch >= 0xC0 && ch <= 0xDF;
    for (int y = 0; y < m->ch; y++) {
        uint32_t bits = plane(vga, font + (uint32_t)y, 2);
        bits = bits << 1 | (dup9 ? (bits & 1) : 0);  /* the 9th column */
        if ((underline && y == (vga->crtc[0x14] & 0x1F))
            || (cursor && y >= cur_start && y <= cur_end))
            bits = 0x1FF;
        uint32_t *row = px + (size_t)y * (size_t)stride;
        for (int x = 0; x < m->cw; x++)
            row[x] = (bits >> (8 - x)) & 1 ? fg_rgb : bg_rgb;
    }
}

static void render_text(struct vga *vga, const struct vga_mode *m, uint32_t *px)
{
    uint64_t frame = vga_frame_count(vga);
    /* The cursor blinks every 16 frames, blinking characters every 32. */
    struct text_phase ph = { (frame & 8) == 0, (frame & 16) == 0 };
    uint32_t cursor = (uint32_t)vga->crtc[0x0E] << 8 | vga->crtc[0x0F];
    for (int r = 0; r < m->rows; r++) {
        uint32_t ma = start_address(vga) + (uint32_t)r * row_offset(vga);
        for (int c = 0; c < m->cols; c++) {
            uint32_t *cell = px + (size_t)r * (size_t)m->ch * (size_t)m->w + (size_t)c * (size_t)m->cw;
            render_cell(vga, m, cell, m->w, crtc_addr(vga, ma + (uint32_t)c),
                        ma + (uint32_t)c == cursor, ph);
        }
    }
}

/* ---- Graphics modes ---- */

/* Memory address counter at the start of picture row y; the line compare
 * register restarts the address at 0 below the split line. */
static uint32_t graphics_row_ma(const struct vga *vga, const struct vga_mode *m, int y)
{
    uint32_t lc = vga->crtc[0x18] | (uint32_t)(vga->crtc[7] & 0x10) << 4
                | (uint32_t)(vga->crtc[9] & 0x40) << 3;
    uint32_t scan = (uint32_t)y * (uint32_t)m->ch;
    if (scan > lc)
        return (scan - lc - 1) / (uint32_t)m->ch * row_offset(vga);
    return start_address(vga) + (uint32_t)y * row_offset(vga);
}

static void render_planar(const struct vga *vga, const struct vga_mode *m, uint32_t *px)
{
    for (int y = 0; y < m->rows; y++) {
        uint32_t ma = graphics_row_ma(vga, m, y);
        uint32_t *row = px + (size_t)y * (size_t)m->w;
        for (int c = 0; c < m->cols; c++) {
            uint32_t a = crtc_addr(vga, ma + (uint32_t)c);
            uint8_t p0 = plane(vga, a, 0), p1 = plane(vga, a, 1);
            uint8_t p2 = plane(vga, a, 2), p3 = plane(vga, a, 3);
            for (int b = 7; b >= 0; b--) {
                uint8_t i = (uint8_t)(((p0 >> b) & 1) | ((p1 >> b) & 1) << 1
                                      | ((p2 >> b) & 1) << 2 | ((p3 >> b) & 1) << 3);
                *row++ = attr_rgb(vga, i);
            }
        }
    }
}

static void render_256(const struct vga *vga, const struct vga_mode *m, uint32_t *px)
{
    for (int y = 0; y < m->rows; y++) {
        uint32_t ma = graphics_row_ma(vga, m, y);
        uint32_t *row = px + (size_t)y * (size_t)m->w;
        for (int c = 0; c < m->cols; c++) {
            uint32_t a = crtc_addr(vga, ma + (uint32_t)c);
            for (int p = 0; p < 4; p++)
                *row++ = dac_rgb(vga, plane(vga, a, p));
        }
    }
}

static uint32_t vbe_pixel(const struct vga *vga, const uint8_t *s, int bpp)
{
    switch (bpp) {
    case 8: return dac_rgb(vga, s[0]);
    case 15: {
        uint32_t v = (uint32_t)s[0] | (uint32_t)s[1] << 8;
        uint32_t r = (v >> 10) & 31, g = (v >> 5) & 31, b = v & 31;
        return (r << 3 | r >> 2) << 16 | (g << 3 | g >> 2) << 8 | (b << 3 | b >> 2);
    }
    case 16: {
        uint32_t v = (uint32_t)s[0] | (uint32_t)s[1] << 8;
        uint32_t r = (v >> 11) & 31, g = (v >> 5) & 63, b = v & 31;
        return (r << 3 | r >> 2) << 16 | (g << 2 | g >> 4) << 8 | (b << 3 | b >> 2);
    }
    default:                                    /* 24 and 32: B, G, R (, X) in memory */
        return (uint32_t)s[2] << 16 | (uint32_t)s[1] << 8 | s[0];
    }
}

static void render_vbe(const struct vga *vga, const struct vga_mode *m, uint32_t *px)
{
    int bpp = vga->vbe[VBE_DISPI_INDEX_BPP];
    uint32_t bytes = ((uint32_t)bpp + 7) / 8;
    for (int y = 0; y < m->h; y++) {
        uint64_t src = (uint64_t)vga->vbe_start + (uint64_t)y * vga->vbe_stride;
        uint32_t *row = px + (size_t)y * (size_t)m->w;
        if (src + (uint64_t)m->w * bytes > vga->vram_size) {
            memset(row, 0, (size_t)m->w * sizeof(*row));   /* panned past VRAM */
            continue;
        }
        for (int x = 0; x < m->w; x++)
            row[x] = vbe_pixel(vga, vga->vram + src + (uint32_t)x * bytes, bpp);
    }
}

/* ---- Public ---- */

static void clamp_mode(struct vga_mode *m)
{
    if (m->w > VGA_MAX_WIDTH || m->h > VGA_MAX_HEIGHT || m->w < 1 || m->h < 1) {
        m->w = m->h = 0;
    }
}

void vga_mode_size(struct vga *vga, int *w, int *h)
{
    struct vga_mode m;
    vga_get_mode(vga, &m);
    clamp_mode(&m);
    *w = m.w;
    *h = m.h;
}

static int screen_blanked(const struct vga *vga)
{
    /* Screen off (SR1 bit 5), or the palette handed to the CPU (AR index bit 5 = 0). */
    return (vga->seq[1] & 0x20) || !(vga->ar_index & 0x20);
}

void vga_render(struct vga *vga, uint32_t *pixels, int *w, int *h)
{
    struct vga_mode m;
    vga_get_mode(vga, &m);
    clamp_mode(&m);
    *w = m.w;
    *h = m.h;
    if (!m.w)
        return;
    if (m.kind != VGA_VBE && screen_blanked(vga)) {
        memset(pixels, 0, (size_t)m.w * (size_t)m.h * sizeof(*pixels));
        return;
    }
    switch (m.kind) {
    case VGA_TEXT: render_text(vga, &m, pixels); break;
    case VGA_PLANAR: render_planar(vga, &m, pixels); break;
    case VGA_256: render_256(vga, &m, pixels); break;
    case VGA_VBE: render_vbe(vga, &m, pixels); break;
    }
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001B3ull;
    return h;
}

uint64_t vga_frame_key(struct vga *vga)
{
    struct vga_mode m;
    vga_get_mode(vga, &m);
    uint8_t g[12];
    put_le32(g, vga->generation);
    /* Text: the cursor and blink phases change the picture every 8 frames. */
    put_le64(g + 4, m.kind == VGA_TEXT ? vga_frame_count(vga) / 8 : 0);
    uint64_t h = fnv(0xCBF29CE484222325ull, g, sizeof(g));
    if (m.kind == VGA_VBE) {
        uint64_t len = (uint64_t)vga->vbe_stride * (uint64_t)m.h;
        if (vga->vbe_start < vga->vram_size) {
            if (len > vga->vram_size - vga->vbe_start)
                len = vga->vram_size - vga->vbe_start;
            h = fnv(h, vga->vram + vga->vbe_start, (size_t)len);
        }
    }
    return h;
}
