/* IBM VGA register set and memory access (FreeVGA "VGA/SVGA Video Programming",
 * IBM VGA Technical Reference) plus the Bochs VBE DISPI interface (Bochs
 * vbe.h register list). Rendering lives in vga_render.c.
 * Not modelled: light pen, CGA shift-register interleave (modes 4/5) in the
 * renderer, odd/even page bit (misc bit 5), vertical interrupt, 4-bpp VBE. */
#include "devices/vga.h"
#include <stdlib.h>
#include <string.h>

/* Port offsets from 0x3B0. */
enum {
    P_CRTC_MONO_INDEX = 0x04, P_CRTC_MONO_DATA = 0x05, P_IS1_MONO = 0x0A,
    P_AR = 0x10, P_AR_READ = 0x11, P_MISC_W_IS0 = 0x12, P_VSE = 0x13,
    P_SEQ_INDEX = 0x14, P_SEQ_DATA = 0x15, P_PEL_MASK = 0x16,
    P_DAC_READ_INDEX = 0x17, P_DAC_WRITE_INDEX = 0x18, P_DAC_DATA = 0x19,
    P_FEATURE_R = 0x1A, P_MISC_R = 0x1C, P_GC_INDEX = 0x1E, P_GC_DATA = 0x1F,
    P_CRTC_COLOR_INDEX = 0x24, P_CRTC_COLOR_DATA = 0x25, P_IS1_COLOR = 0x2A,
};

#define SEQ_NREGS  5
#define CRTC_NREGS 0x19
#define GC_NREGS   9
#define AR_NREGS   0x15

/* ---- Timing: input status 1 and the blink phase, from virtual time ---- */

static uint32_t crtc_vbits(const struct vga *vga, int reg, int bit8, int bit9)
{
    uint8_t ov = vga->crtc[0x07];
    return vga->crtc[reg] | (uint32_t)((ov >> bit8) & 1) << 8 | (uint32_t)((ov >> bit9) & 1) << 9;
}

void vga_timing(const struct vga *vga, struct vga_timing *t)
{
    /* Misc bits 2-3 pick the 25.175 or 28.322 MHz crystal; SR1 bit 0 picks
     * 8- or 9-dot characters, bit 3 halves the dot clock. */
    uint64_t hz = ((vga->misc >> 2) & 3) == 1 ? 28322000 : 25175000;
    if (vga->seq[1] & 0x08)
        hz /= 2;
    uint32_t dots = (vga->seq[1] & 0x01) ? 8 : 9;
    t->htotal = vga->crtc[0x00] + 5u;
    t->hdisp = vga->crtc[0x01] + 1u;
    t->vtotal = crtc_vbits(vga, 0x06, 0, 5) + 2;
    t->vdisp = crtc_vbits(vga, 0x12, 1, 6) + 1;
    t->vrs = crtc_vbits(vga, 0x10, 2, 7);
    /* Retrace ends when the line counter's low 4 bits match CR11[3:0]. */
    t->vr_len = ((vga->crtc[0x11] & 0x0F) - (t->vrs & 0x0F)) & 0x0F;
    if (t->vr_len == 0)
        t->vr_len = 16;
    if (t->htotal < 8 || t->vtotal < 16 || t->hdisp > t->htotal) {
        /* Unprogrammed CRTC: behave like 640x480 at 60 Hz. */
        hz = 25175000; dots = 8;
        t->htotal = 100; t->hdisp = 80; t->vtotal = 525; t->vdisp = 480;
        t->vrs = 490; t->vr_len = 2;
    }
    t->char_ps = dots * 1000000000000ull / hz;
    t->line_ps = t->char_ps * t->htotal;
    t->frame_ps = t->line_ps * t->vtotal;
}

/* Position inside the current frame in ps, without overflowing 64 bits:
 * (now * 1000) mod f == ((now mod f) * 1000) mod f. */
static uint64_t frame_pos_ps(const struct vga_timing *t, uint64_t now_ns)
{
    return ((now_ns % t->frame_ps) * 1000) % t->frame_ps;
}

uint64_t vga_frame_count(const struct vga *vga)
{
    struct vga_timing t;
    vga_timing(vga, &t);
    uint64_t now = vclock_now(vga->clock);
    return now / t.frame_ps * 1000 + (now % t.frame_ps) * 1000 / t.frame_ps;
}

static uint8_t input_status1(const struct vga *vga)
{
    struct vga_timing t;
    vga_timing(vga, &t);
    uint64_t pos = frame_pos_ps(&t, vclock_now(vga->clock));
    uint32_t line = (uint32_t)(pos / t.line_ps);
    uint32_t ch = (uint32_t)(pos % t.line_ps / t.char_ps);
    uint8_t v = 0;
    if (line >= t.vdisp || ch >= t.hdisp)
        v |= VGA_IS1_DE;
    if (line - t.vrs < t.vr_len)    /* unsigned: also false before vrs */
        v |= VGA_IS1_VR;
    return v;
}

/* ---- Planar memory: the graphics controller's read and write paths ---- */

static uint8_t *plane_byte(struct vga *vga, uint32_t addr, int plane)
{
    return &vga->vram[((addr & 0xFFFF) << 2) | (uint32_t)plane];
}

/* Offset of a window address inside the window GC6 selects, or -1. */
static int32_t window_offset(const struct vga *vga, uint32_t offset)
{
    static const uint32_t base[4] = { 0, 0, 0x10000, 0x18000 };
    static const uint32_t size[4] = { 0x20000, 0x10000, 0x8000, 0x8000 };
    int map = (vga->gc[6] >> 2) & 3;
    if (offset < base[map] || offset - base[map] >= size[map])
        return -1;
    return (int32_t)(offset - base[map]);
}

static uint8_t rotate_right(uint8_t v, int n)
{
    n &= 7;
    return (uint8_t)((v >> n) | (v << ((8 - n) & 7)));
}

static uint8_t alu(const struct vga *vga, uint8_t d, uint8_t latch)
{
    switch ((vga->gc[3] >> 3) & 3) {
    case 1: return d & latch;
    case 2: return d | latch;
    case 3: return d ^ latch;
    default: return d;
    }
}

/* Write modes 0-3 (FreeVGA "Graphics Controller: Write Modes"). */
static uint8_t gc_write_plane(struct vga *vga, int p, uint8_t val)
{
    uint8_t latch = vga->latch[p], mask = vga->gc[8], d;
    uint8_t sr = (vga->gc[0] >> p) & 1 ? 0xFF : 0x00;
    switch (vga->gc[5] & 3) {
    case 0:
        d = (vga->gc[1] >> p) & 1 ? sr : rotate_right(val, vga->gc[3]);
        d = alu(vga, d, latch);
        break;
    case 1:
        return latch;
    case 2:
        d = alu(vga, (val >> p) & 1 ? 0xFF : 0x00, latch);
        break;
    default:
        mask &= rotate_right(val, vga->gc[3]);
        d = alu(vga, sr, latch);
        break;
    }
    return (uint8_t)((d & mask) | (latch & ~mask));
}

static void planar_write(struct vga *vga, uint32_t off, uint8_t val)
{
    uint8_t planes = vga->seq[2] & 0x0F;
    if (vga->seq[4] & 0x08) {               /* chain 4: address bits 0-1 pick the plane */
        planes &= (uint8_t)(1u << (off & 3));
        off &= ~3u;
    } else if (!(vga->seq[4] & 0x04)) {     /* odd/even: even to planes 0/2, odd to 1/3 */
        planes &= (off & 1) ? 0x0A : 0x05;
        off &= ~1u;
    }
    for (int p = 0; p < 4; p++)
        if (planes & (1u << p))
            *plane_byte(vga, off, p) = gc_write_plane(vga, p, val);
}

static uint8_t planar_read(struct vga *vga, uint32_t off)
{
    int plane;
    if (vga->seq[4] & 0x08) {
        plane = (int)(off & 3);
        off &= ~3u;
    } else if (vga->gc[5] & 0x10) {         /* odd/even read: bit 0 picks within the pair */
        plane = (vga->gc[4] & 2) | (int)(off & 1);
        off &= ~1u;
    } else {
        plane = vga->gc[4] & 3;
    }
    for (int p = 0; p < 4; p++)
        vga->latch[p] = *plane_byte(vga, off, p);
    if (!(vga->gc[5] & 0x08))
        return vga->latch[plane];
    /* Read mode 1: 1 where every plane in the don't-care set matches the colour. */
    uint8_t diff = 0;
    for (int p = 0; p < 4; p++)
        if ((vga->gc[7] >> p) & 1)
            diff |= vga->latch[p] ^ ((vga->gc[2] >> p) & 1 ? 0xFF : 0x00);
    return (uint8_t)~diff;
}

static int vbe_enabled(const struct vga *vga)
{
    return vga->vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED;
}

static uint32_t win_read(void *dev, uint32_t offset, int size)
{
    struct vga *vga = dev;
    (void)size;
    if (vbe_enabled(vga)) {                 /* banked linear access through A0000-AFFFF */
        uint32_t a = ((uint32_t)vga->vbe[VBE_DISPI_INDEX_BANK] << 16) + offset;
        return offset < 0x10000 && a < vga->vram_size ? vga->vram[a] : 0xFF;
    }
    int32_t off = window_offset(vga, offset);
    return off < 0 ? 0xFF : planar_read(vga, (uint32_t)off);
}

static void win_write(void *dev, uint32_t offset, uint32_t value, int size)
{
    struct vga *vga = dev;
    (void)size;
    if (vbe_enabled(vga)) {
        uint32_t a = ((uint32_t)vga->vbe[VBE_DISPI_INDEX_BANK] << 16) + offset;
        if (offset < 0x10000 && a < vga->vram_size) {
            vga->vram[a] = (uint8_t)value;
            vga->generation++;
        }
        return;
    }
    int32_t off = window_offset(vga, offset);
    if (off < 0)
        return;
    planar_write(vga, (uint32_t)off, (uint8_t)value);
    vga->generation++;
}

const struct bus_ops vga_win_ops = { win_read, win_write, 1 };

/* ---- DAC ---- */

static uint8_t dac_mask(const struct vga *vga)
{
    return (vga->vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC) ? 0xFF : 0x3F;
}

static void dac_write_data(struct vga *vga, uint8_t v)
{
    vga->dac_latch[vga->dac_sub] = v & dac_mask(vga);
    if (++vga->dac_sub < 3)
        return;
    /* The triplet goes into the palette only when its third value arrives. */
    memcpy(&vga->dac[vga->dac_write_index * 3], vga->dac_latch, 3);
    vga->dac_sub = 0;
    vga->dac_write_index++;
}

static uint8_t dac_read_data(struct vga *vga)
{
    uint8_t v = vga->dac[vga->dac_read_index * 3 + vga->dac_sub];
    if (++vga->dac_sub == 3) {
        vga->dac_sub = 0;
        vga->dac_read_index++;
    }
    return v;
}

/* ---- Attribute controller ---- */

static void ar_write(struct vga *vga, uint8_t v)
{
    if (!vga->ar_flipflop) {
        vga->ar_index = v & 0x3F;
    } else {
        int i = vga->ar_index & 0x1F;
        if (i < AR_NREGS)
            vga->ar[i] = i < 0x10 ? (v & 0x3F) : v;
    }
    vga->ar_flipflop ^= 1;
}

/* ---- CRTC ---- */

static void crtc_write(struct vga *vga, uint8_t v)
{
    int i = vga->crtc_index;
    if (i >= CRTC_NREGS)
        return;
    if ((vga->crtc[0x11] & 0x80) && i <= 0x07) {
        /* Protect bit: CR0-CR7 locked, except CR7 bit 4 (line compare bit 8). */
        if (i == 0x07)
            vga->crtc[7] = (uint8_t)((vga->crtc[7] & ~0x10) | (v & 0x10));
        return;
    }
    vga->crtc[i] = v;
}

static int crtc_color(const struct vga *vga) { return vga->misc & 1; }

/* ---- Port dispatch ---- */

static uint32_t io_read(void *dev, uint32_t off, int size)
{
    struct vga *vga = dev;
    (void)size;
    switch (off) {
    case P_CRTC_MONO_INDEX: case P_CRTC_COLOR_INDEX:
        if (crtc_color(vga) != (off == P_CRTC_COLOR_INDEX)) return 0xFF;
        return vga->crtc_index;
    case P_CRTC_MONO_DATA: case P_CRTC_COLOR_DATA:
        if (crtc_color(vga) != (off == P_CRTC_COLOR_DATA)) return 0xFF;
        return vga->crtc_index < CRTC_NREGS ? vga->crtc[vga->crtc_index] : 0xFF;
    case P_IS1_MONO: case P_IS1_COLOR:
        if (crtc_color(vga) != (off == P_IS1_COLOR)) return 0xFF;
        vga->ar_flipflop = 0;
        return input_status1(vga);
    case P_AR: return vga->ar_index;
    case P_AR_READ: return (vga->ar_index & 0x1F) < AR_NREGS ? vga->ar[vga->ar_index & 0x1F] : 0xFF;
    case P_MISC_W_IS0: return 0x00;          /* input status 0: no switch sense, no IRQ */
    case P_VSE: return vga->vse;
    case P_SEQ_INDEX: return vga->seq_index;
    case P_SEQ_DATA: return vga->seq_index < SEQ_NREGS ? vga->seq[vga->seq_index] : 0xFF;
    case P_PEL_MASK: return vga->pel_mask;
    case P_DAC_READ_INDEX: return vga->dac_state;
    case P_DAC_WRITE_INDEX: return vga->dac_write_index;
    case P_DAC_DATA: return dac_read_data(vga);
    case P_FEATURE_R: return vga->feature;
    case P_MISC_R: return vga->misc;
    case P_GC_INDEX: return vga->gc_index;
    case P_GC_DATA: return vga->gc_index < GC_NREGS ? vga->gc[vga->gc_index] : 0xFF;
    default: return 0xFF;
    }
}

static void io_write(void *dev, uint32_t off, uint32_t value, int size)
{
    struct vga *vga = dev;
    uint8_t v = (uint8_t)value;
    (void)size;
    switch (off) {
    case P_CRTC_MONO_INDEX: case P_CRTC_COLOR_INDEX:
        if (crtc_color(vga) == (off == P_CRTC_COLOR_INDEX)) vga->crtc_index = v;
        return;
    case P_CRTC_MONO_DATA: case P_CRTC_COLOR_DATA:
        if (crtc_color(vga) == (off == P_CRTC_COLOR_DATA)) crtc_write(vga, v);
        break;
    case P_IS1_MONO: case P_IS1_COLOR:
        if (crtc_color(vga) == (off == P_IS1_COLOR)) vga->feature = v;
        return;
    case P_AR: ar_write(vga, v); break;
    case P_MISC_W_IS0: vga->misc = v; break;
    case P_VSE: vga->vse = v; return;
    case P_SEQ_INDEX: vga->seq_index = v; return;
    case P_SEQ_DATA: if (vga->seq_index < SEQ_NREGS) vga->seq[vga->seq_index] = v; break;
    case P_PEL_MASK: vga->pel_mask = v; break;
    case P_DAC_READ_INDEX:
        vga->dac_read_index = v; vga->dac_sub = 0; vga->dac_state = 3;
        return;
    case P_DAC_WRITE_INDEX:
        vga->dac_write_index = v; vga->dac_sub = 0; vga->dac_state = 0;
        return;
    case P_DAC_DATA: dac_write_data(vga, v); break;
    case P_GC_INDEX: vga->gc_index = v; return;
    case P_GC_DATA: if (vga->gc_index < GC_NREGS) vga->gc[vga->gc_index] = v; break;
    default: return;
    }
    vga->generation++;
}

const struct bus_ops vga_io_ops = { io_read, io_write, 1 };

/* ---- Bochs VBE DISPI ---- */

#define VBE_MAX_XRES 2560
#define VBE_MAX_YRES 1600
#define VBE_MAX_BPP  32

static uint32_t vbe_bytes_pp(const struct vga *vga)
{
    return (vga->vbe[VBE_DISPI_INDEX_BPP] + 7u) / 8;
}

/* Recomputes the stride, virtual height and start from width and offsets. */
static void vbe_update_layout(struct vga *vga)
{
    uint16_t *r = vga->vbe;
    uint32_t bpp = vbe_bytes_pp(vga);
    vga->vbe_stride = r[VBE_DISPI_INDEX_VIRT_WIDTH] * bpp;
    uint32_t vh = vga->vbe_stride ? vga->vram_size / vga->vbe_stride : 0;
    r[VBE_DISPI_INDEX_VIRT_HEIGHT] = (uint16_t)(vh > 0xFFFF ? 0xFFFF : vh);
    vga->vbe_start = r[VBE_DISPI_INDEX_Y_OFFSET] * vga->vbe_stride
                   + r[VBE_DISPI_INDEX_X_OFFSET] * bpp;
}

static int vbe_mode_valid(const struct vga *vga)
{
    const uint16_t *r = vga->vbe;
    uint16_t bpp = r[VBE_DISPI_INDEX_BPP];
    if (bpp != 8 && bpp != 15 && bpp != 16 && bpp != 24 && bpp != 32)
        return 0;
    uint32_t x = r[VBE_DISPI_INDEX_XRES], y = r[VBE_DISPI_INDEX_YRES];
    return x && y && x <= VBE_MAX_XRES && y <= VBE_MAX_YRES
        && (uint64_t)x * y * vbe_bytes_pp(vga) <= vga->vram_size;
}

static void vbe_write_enable(struct vga *vga, uint16_t v)
{
    uint16_t *r = vga->vbe;
    if ((v & VBE_DISPI_ENABLED) && !vbe_enabled(vga)) {
        if (!vbe_mode_valid(vga))
            v &= (uint16_t)~VBE_DISPI_ENABLED;
        else {
            r[VBE_DISPI_INDEX_VIRT_WIDTH] = r[VBE_DISPI_INDEX_XRES];
            r[VBE_DISPI_INDEX_X_OFFSET] = r[VBE_DISPI_INDEX_Y_OFFSET] = 0;
            r[VBE_DISPI_INDEX_BANK] = 0;
            vbe_update_layout(vga);
            if (!(v & VBE_DISPI_NOCLEARMEM))
                memset(vga->vram, 0, (size_t)r[VBE_DISPI_INDEX_YRES] * vga->vbe_stride);
        }
    }
    r[VBE_DISPI_INDEX_ENABLE] = v & (VBE_DISPI_ENABLED | VBE_DISPI_GETCAPS | VBE_DISPI_8BIT_DAC
                                     | VBE_DISPI_LFB_ENABLED | VBE_DISPI_NOCLEARMEM);
}

static uint16_t vbe_read_reg(struct vga *vga)
{
    uint16_t i = vga->vbe_index;
    int caps = vga->vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_GETCAPS;
    switch (i) {
    case VBE_DISPI_INDEX_XRES: return caps ? VBE_MAX_XRES : vga->vbe[i];
    case VBE_DISPI_INDEX_YRES: return caps ? VBE_MAX_YRES : vga->vbe[i];
    case VBE_DISPI_INDEX_BPP: return caps ? VBE_MAX_BPP : vga->vbe[i];
    case VBE_DISPI_INDEX_VIDEO_MEMORY_64K: return (uint16_t)(vga->vram_size >> 16);
    default: return i < VBE_DISPI_NREGS ? vga->vbe[i] : 0;
    }
}

static void vbe_write_reg(struct vga *vga, uint16_t v)
{
    uint16_t i = vga->vbe_index, *r = vga->vbe;
    switch (i) {
    case VBE_DISPI_INDEX_ID:
        if (v >= VBE_DISPI_ID0 && v <= VBE_DISPI_ID5)
            r[i] = v;
        break;
    case VBE_DISPI_INDEX_XRES: case VBE_DISPI_INDEX_YRES: case VBE_DISPI_INDEX_BPP:
        if (!vbe_enabled(vga))              /* the mode is fixed while enabled */
            r[i] = v;
        break;
    case VBE_DISPI_INDEX_ENABLE:
        vbe_write_enable(vga, v);
        break;
    case VBE_DISPI_INDEX_BANK:
        if (((uint32_t)v << 16) < vga->vram_size)
            r[i] = v;
        break;
    case VBE_DISPI_INDEX_VIRT_WIDTH:
        if (v >= r[VBE_DISPI_INDEX_XRES] && (uint32_t)v * vbe_bytes_pp(vga) * r[VBE_DISPI_INDEX_YRES] <= vga->vram_size) {
            r[i] = v;
            vbe_update_layout(vga);
        }
        break;
    case VBE_DISPI_INDEX_X_OFFSET: case VBE_DISPI_INDEX_Y_OFFSET:
        r[i] = v;
        vbe_update_layout(vga);
        break;
    default:
        return;                             /* VIRT_HEIGHT, VIDEO_MEMORY_64K: read-only */
    }
    vga->generation++;
}

/* Offset 0 (0x1CE): 16-bit index; offset 1 (0x1CF): 16-bit data, whose high
 * byte sits at 0x1D0 (offset 2 alone is not a register). */
static uint32_t vbe_io_read(void *dev, uint32_t off, int size)
{
    struct vga *vga = dev;
    if (off > 1)
        return 0xFF;
    uint16_t v = off == 0 ? vga->vbe_index : vbe_read_reg(vga);
    return size == 1 ? (v & 0xFFu) : v;
}

static void vbe_io_write(void *dev, uint32_t off, uint32_t value, int size)
{
    struct vga *vga = dev;
    (void)size;
    if (off == 0)
        vga->vbe_index = (uint16_t)value;
    else if (off == 1)
        vbe_write_reg(vga, (uint16_t)value);
}

const struct bus_ops vga_vbe_ops = { vbe_io_read, vbe_io_write, 1 | 2 };

/* ---- Life cycle and state ---- */

void vga_reset(void *dev)
{
    struct vga *vga = dev;
    uint8_t *vram = vga->vram;
    uint32_t size = vga->vram_size;
    struct vclock *clock = vga->clock;
    uint32_t gen = vga->generation;
    memset(vga, 0, sizeof(*vga));
    vga->vram = vram;
    vga->vram_size = size;
    vga->clock = clock;
    vga->generation = gen + 1;
    memset(vram, 0, size);
    vga->pel_mask = 0xFF;
    vga->vse = 0x01;
    vga->vbe[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID0;
    vga->vbe[VBE_DISPI_INDEX_VIDEO_MEMORY_64K] = (uint16_t)(size >> 16);
}

int vga_init(struct vga *vga, struct vclock *clock, uint32_t vram_size)
{
    if (vram_size == 0)
        vram_size = VGA_VRAM_DEFAULT;
    if (vram_size < 4 * VGA_PLANE_SIZE)
        vram_size = 4 * VGA_PLANE_SIZE;
    vram_size = (vram_size + 0xFFFF) & ~0xFFFFu;
    memset(vga, 0, sizeof(*vga));
    vga->vram = calloc(1, vram_size);
    if (!vga->vram)
        return -1;
    vga->vram_size = vram_size;
    vga->clock = clock;
    vga_reset(vga);
    return 0;
}

void vga_free(struct vga *vga)
{
    free(vga->vram);
    vga->vram = NULL;
}

static void vga_destroy(void *dev)
{
    vga_free(dev);
}

static int vga_post_load(void *dev)
{
    struct vga *vga = dev;
    uint16_t *r = vga->vbe;
    /* Never trust indexes from a file: keep every derived access inside VRAM. */
    if (((uint32_t)r[VBE_DISPI_INDEX_BANK] << 16) >= vga->vram_size)
        r[VBE_DISPI_INDEX_BANK] = 0;
    if (vga->dac_sub > 2)
        vga->dac_sub = 0;
    vga->ar_flipflop &= 1;
    if ((r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED) && !vbe_mode_valid(vga))
        r[VBE_DISPI_INDEX_ENABLE] &= (uint16_t)~VBE_DISPI_ENABLED;
    r[VBE_DISPI_INDEX_VIDEO_MEMORY_64K] = (uint16_t)(vga->vram_size >> 16);
    vbe_update_layout(vga);                 /* start and stride are derived, not saved */
    vga->generation++;
    return 0;
}

#define F8(f) STATE_U8(struct vga, f)
#define A8(f, n) STATE_U8_ARRAY(struct vga, f, n)
static const struct state_field vga_fields[] = {
    F8(misc), F8(feature), F8(vse),
    F8(seq_index), A8(seq, 8),
    F8(crtc_index), A8(crtc, 32),
    F8(gc_index), A8(gc, 16),
    F8(ar_index), F8(ar_flipflop), A8(ar, 32),
    A8(latch, 4),
    F8(pel_mask), F8(dac_state), F8(dac_read_index), F8(dac_write_index),
    F8(dac_sub), A8(dac_latch, 3), A8(dac, 256 * 3),
    STATE_U16(struct vga, vbe_index),
    STATE_U16_ARRAY(struct vga, vbe, VBE_DISPI_NREGS),
    STATE_END
};

const struct device_ops vga_device_ops = {
    .name = "vga",
    .version = 1,
    .fields = vga_fields,
    .reset = vga_reset,
    .post_load = vga_post_load,
    .destroy = vga_destroy,
};
