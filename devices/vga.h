/* The VGA adapter with the Bochs VBE "DISPI" extension (the PC's PCI display,
 * 1234:1111). Guest side: the VGA I/O ports, the legacy memory window, the VBE
 * index/data pair and a linear framebuffer (host buffer `vram`). Front-end
 * side: a text dump and a 32-bit XRGB renderer; no host graphics library here.
 *
 * What the board does (devices/pc.c):
 *   vga_init(&vga, clock, 0)                 16 MiB VRAM (0 = default)
 *   bus_map(io, 0x3B0, VGA_IO_LEN, &vga_io_ops, &vga)       offset 0 = port 0x3B0
 *   bus_map(io, 0x1CE, VGA_VBE_IO_LEN, &vga_vbe_ops, &vga)  offset 0 = port 0x1CE
 *   physmem_map_mmio(pm, 0xA0000, VGA_WIN_LEN, &vga_win_ops, &vga)
 *   physmem_map_ram(pm, bar, vga.vram_size, vga.vram)        the LFB BAR
 *   devreg_add(reg, &vga_device_ops, &vga); the VRAM blob (vga.vram,
 *   vga.vram_size) is saved by the snapshot code apart from the fields.
 */
#ifndef SV_VGA_H
#define SV_VGA_H
#include <stddef.h>
#include <stdint.h>
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/vclock.h"

#define VGA_IO_LEN      0x30        /* ports 0x3B0-0x3DF */
#define VGA_VBE_IO_LEN  3           /* 0x1CE index, 0x1CF data: 16-bit, so to 0x1D0 */
#define VGA_WIN_LEN     0x20000     /* 0xA0000-0xBFFFF */
#define VGA_VRAM_DEFAULT (16u << 20)
#define VGA_PLANE_SIZE  0x10000     /* each of the four planes */

/* Largest picture vga_render produces (VBE maximum resolution). */
#define VGA_MAX_WIDTH   2560
#define VGA_MAX_HEIGHT  1600

/* Bochs VBE DISPI register indexes and ENABLE bits. */
enum {
    VBE_DISPI_INDEX_ID, VBE_DISPI_INDEX_XRES, VBE_DISPI_INDEX_YRES,
    VBE_DISPI_INDEX_BPP, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_INDEX_BANK,
    VBE_DISPI_INDEX_VIRT_WIDTH, VBE_DISPI_INDEX_VIRT_HEIGHT,
    VBE_DISPI_INDEX_X_OFFSET, VBE_DISPI_INDEX_Y_OFFSET,
    VBE_DISPI_INDEX_VIDEO_MEMORY_64K, VBE_DISPI_NREGS
};
#define VBE_DISPI_ID0          0xB0C0
#define VBE_DISPI_ID5          0xB0C5
#define VBE_DISPI_ENABLED      0x01
#define VBE_DISPI_GETCAPS      0x02
#define VBE_DISPI_8BIT_DAC     0x20
#define VBE_DISPI_LFB_ENABLED  0x40
#define VBE_DISPI_NOCLEARMEM   0x80

struct vga {
    struct vclock *clock;
    uint8_t *vram;          /* planes interleaved: plane p byte a at vram[4a+p]; LFB */
    uint32_t vram_size;     /* bytes, a multiple of 64 KiB, >= 256 KiB */

    /* Saved state (fixed-width fields; see vga_device_ops). */
    uint8_t misc;           /* miscellaneous output (bit 0: CRTC at 3Dx) */
    uint8_t feature;        /* feature control */
    uint8_t vse;            /* video subsystem enable (3C3) */
    uint8_t seq_index, seq[8];
    uint8_t crtc_index, crtc[32];
    uint8_t gc_index, gc[16];
    uint8_t ar_index;       /* bits 0-4 index, bit 5 palette address source */
    uint8_t ar_flipflop;    /* 0: next 3C0 write is the index, 1: data */
    uint8_t ar[32];
    uint8_t latch[4];       /* one byte per plane, loaded by reads */
    uint8_t pel_mask;
    uint8_t dac_state;      /* 0: write mode (last index written at 3C8), 3: read mode */
    uint8_t dac_read_index, dac_write_index;
    uint8_t dac_sub;        /* 0-2: which of R, G, B comes next */
    uint8_t dac_latch[3];   /* components written so far in this triplet */
    uint8_t dac[256 * 3];   /* R, G, B, 6 bits each (8 with VBE 8-bit DAC) */
    uint16_t vbe_index;
    uint16_t vbe[VBE_DISPI_NREGS];

    /* Not saved: derived from the VBE registers (post_load recomputes). */
    uint32_t vbe_start;     /* byte offset in vram of the displayed VBE picture */
    uint32_t vbe_stride;    /* bytes per VBE scan line */
    /* Host side, not saved: bumped on every guest-visible change. */
    uint32_t generation;
};

extern const struct bus_ops vga_io_ops;     /* offset 0 = port 0x3B0 */
extern const struct bus_ops vga_win_ops;    /* offset 0 = 0xA0000 */
extern const struct bus_ops vga_vbe_ops;    /* offset 0 = port 0x1CE */
extern const struct device_ops vga_device_ops;

/* Allocates vram_size bytes of VRAM (0: VGA_VRAM_DEFAULT; rounded up to
 * 64 KiB, at least 256 KiB) and resets. Returns 0, or -1 out of memory. */
int vga_init(struct vga *vga, struct vclock *clock, uint32_t vram_size);
void vga_free(struct vga *vga);        /* frees VRAM; also vga_device_ops.destroy */
void vga_reset(void *vga);

/* The current text screen as UTF-8 (code page 437), one '\n'-terminated line
 * per row, trailing blanks dropped. Writes at most len bytes including the
 * terminating NUL; returns the length of the whole dump (as snprintf does).
 * Outside text mode, and before the CRTC is programmed, the dump is empty. */
size_t vga_text_dump(struct vga *vga, char *buf, size_t len);

/* The size of the picture vga_render would produce now; 0 x 0 before the
 * CRTC is programmed (a front end then shows nothing). */
void vga_mode_size(struct vga *vga, int *w, int *h);
/* Renders the current picture as 0x00RRGGBB pixels, row after row, into
 * `pixels`, which must hold VGA_MAX_WIDTH * VGA_MAX_HEIGHT pixels (or at
 * least what vga_mode_size reported just before); sets *w and *h. The blink
 * and cursor phase come from virtual time. */
void vga_render(struct vga *vga, uint32_t *pixels, int *w, int *h);
/* A value that changes whenever the picture may have changed (register or
 * window writes, blink/cursor phase, and in VBE modes the visible VRAM,
 * which the guest writes through the LFB behind the device's back). A front
 * end redraws only when it differs from the one it drew last. */
uint64_t vga_frame_key(struct vga *vga);

/* Input status 1 (3BA/3DA) bits. */
#define VGA_IS1_DE  0x01    /* display enable NOT: 1 during blanking */
#define VGA_IS1_VR  0x08    /* vertical retrace */

/* Shared by vga.c and vga_render.c: the CRT timing the CRTC registers and
 * the dot clock describe, in picoseconds and lines. */
struct vga_timing {
    uint64_t char_ps;       /* one character clock */
    uint64_t line_ps;       /* one scan line (horizontal total) */
    uint64_t frame_ps;      /* one frame (vertical total) */
    uint32_t htotal, hdisp; /* characters */
    uint32_t vtotal, vdisp; /* scan lines */
    uint32_t vrs, vr_len;   /* vertical retrace start line and length */
};
void vga_timing(const struct vga *vga, struct vga_timing *t);
/* Frames displayed since virtual time 0 (drives cursor and blink). */
uint64_t vga_frame_count(const struct vga *vga);

#endif
