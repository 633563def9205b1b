/* State descriptions: a device's saved state is a table of fixed-width fields
 * of its struct (QEMU's VMState idea, much smaller). Saved little-endian
 * whatever the host, field by field; never a struct dump. Saved fields are
 * uint8/16/32/64 or arrays of them: no pointers, int, size_t or bool. */
#ifndef SV_STATE_H
#define SV_STATE_H
#include <stddef.h>
#include <stdint.h>

struct state_field {
    const char *name;
    uint32_t offset;  /* offsetof in the device struct */
    uint8_t size;     /* 1, 2, 4 or 8 */
    uint32_t count;   /* array length; 1 for a scalar; 0 ends the table */
};

#define STATE_FIELD_(type, field, sz, n) \
    { #field, (uint32_t)offsetof(type, field), sz, n }
#define STATE_U8(type, field)  STATE_FIELD_(type, field, 1, 1)
#define STATE_U16(type, field) STATE_FIELD_(type, field, 2, 1)
#define STATE_U32(type, field) STATE_FIELD_(type, field, 4, 1)
#define STATE_U64(type, field) STATE_FIELD_(type, field, 8, 1)
#define STATE_U8_ARRAY(type, field, n)  STATE_FIELD_(type, field, 1, n)
#define STATE_U16_ARRAY(type, field, n) STATE_FIELD_(type, field, 2, n)
#define STATE_U32_ARRAY(type, field, n) STATE_FIELD_(type, field, 4, n)
#define STATE_U64_ARRAY(type, field, n) STATE_FIELD_(type, field, 8, n)
#define STATE_END { NULL, 0, 0, 0 }

/* Bytes needed to save the fields. */
size_t state_size(const struct state_field *fields);
/* Writes the fields of `obj` into buf (little-endian); returns bytes written. */
size_t state_save(const struct state_field *fields, const void *obj, uint8_t *buf);
/* Reads them back; returns bytes consumed, or 0 if len is too short. */
size_t state_load(const struct state_field *fields, void *obj, const uint8_t *buf, size_t len);

/* Little-endian helpers for everything that writes files. */
static inline void put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void put_le32(uint8_t *p, uint32_t v) { put_le16(p, (uint16_t)v); put_le16(p + 2, (uint16_t)(v >> 16)); }
static inline void put_le64(uint8_t *p, uint64_t v) { put_le32(p, (uint32_t)v); put_le32(p + 4, (uint32_t)(v >> 32)); }
static inline uint16_t get_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t get_le32(const uint8_t *p) { return get_le16(p) | ((uint32_t)get_le16(p + 2) << 16); }
static inline uint64_t get_le64(const uint8_t *p) { return get_le32(p) | ((uint64_t)get_le32(p + 4) << 32); }

#endif
