/* SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), small enough for an ATmega328P.
 *
 * Why our own: the Uno has 2 KB of RAM; this keeps a 16-word rolling message
 * schedule (64 B instead of 256 B) and the round constants in flash (PROGMEM).
 * The same file compiles on the host, where a test checks it against Python.
 */
#ifndef GC_SHA256_H
#define GC_SHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GC_SHA256_LEN 32
#define GC_SHA256_BLOCK 64

typedef struct {
    uint32_t h[8];
    uint8_t block[GC_SHA256_BLOCK];
    uint32_t total_len; /* bytes hashed so far (messages here are far below 4 GB) */
    uint8_t used;       /* bytes waiting in block */
} gc_sha256_ctx;

typedef struct {
    gc_sha256_ctx inner;
    const uint8_t *key; /* kept by reference: the outer pass needs it again */
    uint8_t key_len;    /* at most 64 bytes */
} gc_hmac_ctx;

void gc_sha256_init(gc_sha256_ctx *ctx);
void gc_sha256_update(gc_sha256_ctx *ctx, const uint8_t *data, size_t len);
void gc_sha256_final(gc_sha256_ctx *ctx, uint8_t out[GC_SHA256_LEN]);

void gc_hmac_init(gc_hmac_ctx *ctx, const uint8_t *key, uint8_t key_len);
void gc_hmac_update(gc_hmac_ctx *ctx, const uint8_t *data, size_t len);
void gc_hmac_final(gc_hmac_ctx *ctx, uint8_t out[GC_SHA256_LEN]);

#ifdef __cplusplus
}
#endif
#endif
