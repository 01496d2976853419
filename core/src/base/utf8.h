/* UTF-8, written once: the texts the core makes (previews, labels, tables)
 * and the paths users type. */
#ifndef PH_UTF8_H
#define PH_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The length (1 to 4) of the valid UTF-8 sequence at s (len > 0 bytes left)
 * and its code point in *cp; 0 when it is not valid: a stray or truncated
 * byte, an overlong form, a surrogate, beyond U+10FFFF. */
size_t ph_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/* Writes code point cp (below 0x110000; a surrogate is written as its
 * three bytes) to out; returns the length, 0 when cp is beyond Unicode. */
size_t ph_utf8_encode(uint32_t cp, char out[4]);

#endif
