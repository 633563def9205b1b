/* QEMU firmware configuration device (QEMU docs/specs/fw_cfg.rst), x86 I/O
 * port form with the DMA interface. All items are read-only to the guest:
 * data-port writes are ignored and DMA writes set the error bit. Not
 * modelled: the MMIO form, item callbacks, DMA above 4 GiB. */
#include "devices/fw_cfg.h"
#include <stdlib.h>
#include <string.h>
#include "mmu/physmem.h"

/* ---- items ---- */

static struct fw_cfg_item *find(const struct fw_cfg *fw, uint16_t key)
{
    for (int i = 0; i < fw->nitems; i++)
        if (fw->items[i].key == key)
            return &fw->items[i];
    return NULL;
}

/* Stores a copy of data under key, replacing an older item. */
static struct fw_cfg_item *put(struct fw_cfg *fw, uint16_t key, const void *data, uint32_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return NULL;
    if (len)
        memcpy(copy, data, len);
    struct fw_cfg_item *it = find(fw, key);
    if (!it) {
        if (fw->nitems == fw->cap) {
            int cap = fw->cap ? fw->cap * 2 : 32;
            struct fw_cfg_item *n = realloc(fw->items, (size_t)cap * sizeof *n);
            if (!n) {
                free(copy);
                return NULL;
            }
            fw->items = n;
            fw->cap = cap;
        }
        it = &fw->items[fw->nitems++];
        memset(it, 0, sizeof *it);
        it->key = key;
    }
    free(it->data);
    it->data = copy;
    it->len = len;
    return it;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static uint32_t get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* File number i (0-based, in name order), or NULL. */
static struct fw_cfg_item *file_at(const struct fw_cfg *fw, int i)
{
    return find(fw, (uint16_t)(FW_CFG_FILE_FIRST + i));
}

/* Rebuilds item 0x0019: be32 count, then per file be32 size, be16 select,
 * be16 reserved, char name[56]. */
static int rebuild_dir(struct fw_cfg *fw)
{
    uint32_t len = 4 + 64u * (uint32_t)fw->nfiles;
    uint8_t *dir = calloc(1, len);
    if (!dir)
        return -1;
    put_be32(dir, (uint32_t)fw->nfiles);
    for (int i = 0; i < fw->nfiles; i++) {
        const struct fw_cfg_item *f = file_at(fw, i);
        uint8_t *e = dir + 4 + 64 * i;
        put_be32(e, f->len);
        e[4] = (uint8_t)(f->key >> 8);
        e[5] = (uint8_t)f->key;
        memcpy(e + 8, f->name, FW_CFG_NAME_MAX);
    }
    struct fw_cfg_item *it = put(fw, FW_CFG_FILE_DIR, dir, len);
    free(dir);
    return it ? 0 : -1;
}

static int reserved_key(uint16_t key)
{
    key &= (uint16_t)~FW_CFG_WRITE;
    return key == FW_CFG_SIGNATURE || key == FW_CFG_ID || key == FW_CFG_FILE_DIR ||
           (key >= FW_CFG_FILE_FIRST && key < 0x4000) || key >= 0xC000;
}

int fw_cfg_add_bytes(struct fw_cfg *fw, uint16_t key, const void *data, uint32_t len)
{
    if (reserved_key(key))
        return -1;
    return put(fw, key, data, len) ? 0 : -1;
}

int fw_cfg_add_u16(struct fw_cfg *fw, uint16_t key, uint16_t v)
{
    uint8_t b[2];
    put_le16(b, v);
    return fw_cfg_add_bytes(fw, key, b, 2);
}

int fw_cfg_add_u32(struct fw_cfg *fw, uint16_t key, uint32_t v)
{
    uint8_t b[4];
    put_le32(b, v);
    return fw_cfg_add_bytes(fw, key, b, 4);
}

int fw_cfg_add_u64(struct fw_cfg *fw, uint16_t key, uint64_t v)
{
    uint8_t b[8];
    put_le64(b, v);
    return fw_cfg_add_bytes(fw, key, b, 8);
}

int fw_cfg_file_key(const struct fw_cfg *fw, const char *name)
{
    for (int i = 0; i < fw->nfiles; i++)
        if (strcmp(file_at(fw, i)->name, name) == 0)
            return FW_CFG_FILE_FIRST + i;
    return -1;
}

int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data, uint32_t len)
{
    if (strlen(name) >= FW_CFG_NAME_MAX || fw_cfg_file_key(fw, name) >= 0 ||
        FW_CFG_FILE_FIRST + fw->nfiles >= 0x4000)
        return -1;
    /* the new file's place in name order */
    int pos = fw->nfiles;
    while (pos > 0 && strcmp(name, file_at(fw, pos - 1)->name) < 0)
        pos--;
    struct fw_cfg_item *it = put(fw, (uint16_t)(FW_CFG_FILE_FIRST + fw->nfiles), data, len);
    if (!it)
        return -1;
    it->key = 0xFFFF;   /* out of the file range while the others move */
    /* shift later files up one key, then drop the new one into its place */
    for (int i = fw->nfiles; i > pos; i--)
        file_at(fw, i - 1)->key++;
    it->key = (uint16_t)(FW_CFG_FILE_FIRST + pos);
    memset(it->name, 0, sizeof it->name);
    memcpy(it->name, name, strlen(name));
    fw->nfiles++;
    return rebuild_dir(fw);
}

/* ---- guest interface ---- */

static struct fw_cfg_item *selected(struct fw_cfg *fw)
{
    return find(fw, (uint16_t)(fw->selector & ~FW_CFG_WRITE));
}

static void select_key(struct fw_cfg *fw, uint16_t key)
{
    fw->selector = key;
    fw->offset = 0;
}

static uint8_t data_read_byte(struct fw_cfg *fw)
{
    struct fw_cfg_item *it = selected(fw);
    if (!it || fw->offset >= it->len)
        return 0;
    return it->data[fw->offset++];
}

/* Copies `len` bytes of the selected item to guest memory at addr; past the
 * item's end the guest gets zeros. */
static void dma_read_item(struct fw_cfg *fw, uint32_t addr, uint32_t len)
{
    struct fw_cfg_item *it = selected(fw);
    uint32_t avail = it && fw->offset < it->len ? it->len - fw->offset : 0;
    uint32_t n = len < avail ? len : avail;
    if (n) {
        phys_write_block(fw->pm, addr, it->data + fw->offset, n);
        fw->offset += n;
    }
    static const uint8_t zeros[256];
    for (uint32_t done = n; done < len;) {
        uint32_t chunk = len - done < sizeof zeros ? len - done : (uint32_t)sizeof zeros;
        phys_write_block(fw->pm, addr + done, zeros, chunk);
        done += chunk;
    }
}

/* Runs the FWCfgDmaAccess at guest address `at`: be32 control, be32 length,
 * be64 address. Writes back the control word: 0, or the error bit. */
static void dma_run(struct fw_cfg *fw, uint64_t at)
{
    uint8_t d[16];
    if (at > 0xFFFFFFFFull - 15)
        return;   /* no RAM there to hold the descriptor */
    phys_read_block(fw->pm, (uint32_t)at, d, sizeof d);
    uint32_t control = get_be32(d), len = get_be32(d + 4);
    uint64_t addr = ((uint64_t)get_be32(d + 8) << 32) | get_be32(d + 12);
    int error = 0;
    if (control & FW_CFG_DMA_SELECT)
        select_key(fw, (uint16_t)(control >> 16));
    if (control & FW_CFG_DMA_READ) {
        if (len && addr + len - 1 > 0xFFFFFFFFull)
            error = 1;
        else
            dma_read_item(fw, (uint32_t)addr, len);
    } else if (control & FW_CFG_DMA_WRITE) {
        error = 1;   /* every item is read-only */
    } else if (control & FW_CFG_DMA_SKIP) {
        struct fw_cfg_item *it = selected(fw);
        uint32_t max = it ? it->len : 0, cur = fw->offset < max ? fw->offset : max;
        fw->offset = len >= max - cur ? max : cur + len;   /* stops at the end */
    }
    uint8_t out[4];
    put_be32(out, error ? FW_CFG_DMA_ERROR : 0);
    phys_write_block(fw->pm, (uint32_t)at, out, 4);
}

static uint32_t fw_read(void *dev, uint32_t off, int size)
{
    struct fw_cfg *fw = dev;
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        uint32_t o = off + (uint32_t)i;
        uint8_t b = 0;
        if (o == 1)
            b = data_read_byte(fw);
        else if (o >= 4 && o < 12 && fw->dma)
            b = (uint8_t)(FW_CFG_DMA_SIGNATURE >> (8 * (11 - o)));
        v |= (uint32_t)b << (8 * i);
    }
    return v;
}

static void fw_write(void *dev, uint32_t off, uint32_t value, int size)
{
    struct fw_cfg *fw = dev;
    if (off == 0) {
        /* selector: 16-bit (a byte write selects its low byte) */
        select_key(fw, (uint16_t)(size == 1 ? value & 0xFF : value & 0xFFFF));
        return;
    }
    if (off < 4 || !fw->dma)
        return;   /* data writes are ignored */
    int trigger = 0;
    for (int i = 0; i < size; i++) {
        uint32_t o = off + (uint32_t)i;
        if (o >= 12)
            break;
        int shift = 8 * (11 - (int)o);   /* offset 4 holds the top byte */
        fw->dma_addr = (fw->dma_addr & ~(0xFFull << shift)) |
                       ((uint64_t)((value >> (8 * i)) & 0xFF) << shift);
        trigger |= o == 11;
    }
    if (trigger) {
        uint64_t at = fw->dma_addr;
        fw->dma_addr = 0;
        dma_run(fw, at);
    }
}

const struct bus_ops fw_cfg_ops = { fw_read, fw_write, 0 };

/* ---- life cycle ---- */

void fw_cfg_reset(void *dev)
{
    struct fw_cfg *fw = dev;
    fw->selector = 0;
    fw->offset = 0;
    fw->dma_addr = 0;
}

int fw_cfg_init(struct fw_cfg *fw, struct physmem *pm, int dma)
{
    memset(fw, 0, sizeof *fw);
    fw->pm = pm;
    fw->dma = dma != 0;
    uint8_t id[4];
    put_le32(id, FW_CFG_ID_TRAD | (fw->dma ? FW_CFG_ID_DMA : 0));
    if (!put(fw, FW_CFG_SIGNATURE, "QEMU", 4) || !put(fw, FW_CFG_ID, id, 4) || rebuild_dir(fw)) {
        fw_cfg_free(fw);
        return -1;
    }
    fw_cfg_reset(fw);
    return 0;
}

void fw_cfg_free(struct fw_cfg *fw)
{
    for (int i = 0; i < fw->nitems; i++)
        free(fw->items[i].data);
    free(fw->items);
    fw->items = NULL;
    fw->nitems = fw->cap = fw->nfiles = 0;
}

static void fw_cfg_destroy(void *dev) { fw_cfg_free(dev); }

static int fw_cfg_post_load(void *dev)
{
    (void)dev;   /* nothing derived: the items are configuration */
    return 0;
}

static const struct state_field fw_cfg_fields[] = {
    STATE_U16(struct fw_cfg, selector),
    STATE_U32(struct fw_cfg, offset),
    STATE_U64(struct fw_cfg, dma_addr),
    STATE_END
};

const struct device_ops fw_cfg_device_ops = {
    .name = "fw_cfg",
    .version = 1,
    .fields = fw_cfg_fields,
    .reset = fw_cfg_reset,
    .post_load = fw_cfg_post_load,
    .destroy = fw_cfg_destroy,
};
