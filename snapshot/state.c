/* Field-table save/load (see state.h): little-endian, field by field. */
#include "snapshot/state.h"
#include <string.h>

size_t state_size(const struct state_field *fields)
{
    size_t n = 0;
    for (const struct state_field *f = fields; f->count; f++)
        n += (size_t)f->size * f->count;
    return n;
}

size_t state_save(const struct state_field *fields, const void *obj, uint8_t *buf)
{
    uint8_t *out = buf;
    for (const struct state_field *f = fields; f->count; f++) {
        const uint8_t *p = (const uint8_t *)obj + f->offset;
        for (uint32_t i = 0; i < f->count; i++, p += f->size, out += f->size) {
            switch (f->size) {
            case 1: *out = *p; break;
            case 2: { uint16_t v; memcpy(&v, p, 2); put_le16(out, v); break; }
            case 4: { uint32_t v; memcpy(&v, p, 4); put_le32(out, v); break; }
            case 8: { uint64_t v; memcpy(&v, p, 8); put_le64(out, v); break; }
            }
        }
    }
    return (size_t)(out - buf);
}

size_t state_load(const struct state_field *fields, void *obj, const uint8_t *buf, size_t len)
{
    if (len < state_size(fields))
        return 0;
    const uint8_t *in = buf;
    for (const struct state_field *f = fields; f->count; f++) {
        uint8_t *p = (uint8_t *)obj + f->offset;
        for (uint32_t i = 0; i < f->count; i++, p += f->size, in += f->size) {
            switch (f->size) {
            case 1: *p = *in; break;
            case 2: { uint16_t v = get_le16(in); memcpy(p, &v, 2); break; }
            case 4: { uint32_t v = get_le32(in); memcpy(p, &v, 4); break; }
            case 8: { uint64_t v = get_le64(in); memcpy(p, &v, 8); break; }
            }
        }
    }
    return (size_t)(in - buf);
}
