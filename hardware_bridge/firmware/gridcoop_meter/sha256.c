/* SHA-256 / HMAC-SHA256; see sha256.h for why it is written this way. */
#include "sha256.h"

#include <string.h>

#ifdef __AVR__
#include <avr/pgmspace.h>
#define GC_K_STORAGE PROGMEM
#define GC_K(i) pgm_read_dword(&GC_K_TABLE[(i)])
#else
#define GC_K_STORAGE
#define GC_K(i) (GC_K_TABLE[(i)])
#endif

/* first 32 bits of the fractional parts of the cube roots of the first 64 primes */
static const uint32_t GC_K_TABLE[64] GC_K_STORAGE = {
    0x428a2f98UL, 0x71374491UL, 0xb5c0fbcfUL, 0xe9b5dba5UL, 0x3956c25bUL, 0x59f111f1UL,
    0x923f82a4UL, 0xab1c5ed5UL, 0xd807aa98UL, 0x12835b01UL, 0x243185beUL, 0x550c7dc3UL,
    0x72be5d74UL, 0x80deb1feUL, 0x9bdc06a7UL, 0xc19bf174UL, 0xe49b69c1UL, 0xefbe4786UL,
    0x0fc19dc6UL, 0x240ca1ccUL, 0x2de92c6fUL, 0x4a7484aaUL, 0x5cb0a9dcUL, 0x76f988daUL,
    0x983e5152UL, 0xa831c66dUL, 0xb00327c8UL, 0xbf597fc7UL, 0xc6e00bf3UL, 0xd5a79147UL,
    0x06ca6351UL, 0x14292967UL, 0x27b70a85UL, 0x2e1b2138UL, 0x4d2c6dfcUL, 0x53380d13UL,
    0x650a7354UL, 0x766a0abbUL, 0x81c2c92eUL, 0x92722c85UL, 0xa2bfe8a1UL, 0xa81a664bUL,
    0xc24b8b70UL, 0xc76c51a3UL, 0xd192e819UL, 0xd6990624UL, 0xf40e3585UL, 0x106aa070UL,
    0x19a4c116UL, 0x1e376c08UL, 0x2748774cUL, 0x34b0bcb5UL, 0x391c0cb3UL, 0x4ed8aa4aUL,
    0x5b9cca4fUL, 0x682e6ff3UL, 0x748f82eeUL, 0x78a5636fUL, 0x84c87814UL, 0x8cc70208UL,
    0x90befffaUL, 0xa4506cebUL, 0xbef9a3f7UL, 0xc67178f2UL};

static uint32_t rotr(uint32_t x, uint8_t n) { return (x >> n) | (x << (32 - n)); }

static void transform(uint32_t h[8], const uint8_t block[GC_SHA256_BLOCK]) {
    uint32_t w[16];
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    uint8_t i;
    for (i = 0; i < 16; i++) {
        w[i] = ((uint32_t)block[4 * i] << 24) | ((uint32_t)block[4 * i + 1] << 16) |
               ((uint32_t)block[4 * i + 2] << 8) | (uint32_t)block[4 * i + 3];
    }
    for (i = 0; i < 64; i++) {
        uint32_t t1, t2;
        if (i >= 16) { /* w[i & 15] still holds W[i-16] */
            uint32_t w15 = w[(i - 15) & 15], w2 = w[(i - 2) & 15];
            uint32_t s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >> 3);
            uint32_t s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >> 10);
            w[i & 15] += s0 + w[(i - 7) & 15] + s1;
        }
        t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + GC_K(i) +
             w[i & 15];
        t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
}

void gc_sha256_init(gc_sha256_ctx *ctx) {
    ctx->h[0] = 0x6a09e667UL;
    ctx->h[1] = 0xbb67ae85UL;
    ctx->h[2] = 0x3c6ef372UL;
    ctx->h[3] = 0xa54ff53aUL;
    ctx->h[4] = 0x510e527fUL;
    ctx->h[5] = 0x9b05688cUL;
    ctx->h[6] = 0x1f83d9abUL;
    ctx->h[7] = 0x5be0cd19UL;
    ctx->total_len = 0;
    ctx->used = 0;
}

void gc_sha256_update(gc_sha256_ctx *ctx, const uint8_t *data, size_t len) {
    while (len--) {
        ctx->block[ctx->used++] = *data++;
        ctx->total_len++;
        if (ctx->used == GC_SHA256_BLOCK) {
            transform(ctx->h, ctx->block);
            ctx->used = 0;
        }
    }
}

void gc_sha256_final(gc_sha256_ctx *ctx, uint8_t out[GC_SHA256_LEN]) {
    uint32_t bits_hi = ctx->total_len >> 29; /* length in bits is 64-bit big-endian */
    uint32_t bits_lo = ctx->total_len << 3;
    uint8_t i;
    ctx->block[ctx->used++] = 0x80;
    if (ctx->used > 56) {
        memset(ctx->block + ctx->used, 0, GC_SHA256_BLOCK - ctx->used);
        transform(ctx->h, ctx->block);
        ctx->used = 0;
    }
    memset(ctx->block + ctx->used, 0, 56 - ctx->used);
    for (i = 0; i < 4; i++) {
        ctx->block[56 + i] = (uint8_t)(bits_hi >> (24 - 8 * i));
        ctx->block[60 + i] = (uint8_t)(bits_lo >> (24 - 8 * i));
    }
    transform(ctx->h, ctx->block);
    for (i = 0; i < 32; i++) {
        out[i] = (uint8_t)(ctx->h[i >> 2] >> (24 - 8 * (i & 3)));
    }
}

static void pad_key(gc_sha256_ctx *sha, const uint8_t *key, uint8_t key_len, uint8_t pad) {
    uint8_t i, byte;
    gc_sha256_init(sha);
    for (i = 0; i < GC_SHA256_BLOCK; i++) {
        byte = (uint8_t)((i < key_len ? key[i] : 0) ^ pad);
        gc_sha256_update(sha, &byte, 1);
    }
}

void gc_hmac_init(gc_hmac_ctx *ctx, const uint8_t *key, uint8_t key_len) {
    ctx->key = key;
    ctx->key_len = key_len > GC_SHA256_BLOCK ? GC_SHA256_BLOCK : key_len;
    pad_key(&ctx->inner, key, ctx->key_len, 0x36);
}

void gc_hmac_update(gc_hmac_ctx *ctx, const uint8_t *data, size_t len) {
    gc_sha256_update(&ctx->inner, data, len);
}

void gc_hmac_final(gc_hmac_ctx *ctx, uint8_t out[GC_SHA256_LEN]) {
    uint8_t inner_digest[GC_SHA256_LEN];
    gc_sha256_final(&ctx->inner, inner_digest);
    pad_key(&ctx->inner, ctx->key, ctx->key_len, 0x5c); /* reuse the context: saves RAM */
    gc_sha256_update(&ctx->inner, inner_digest, GC_SHA256_LEN);
    gc_sha256_final(&ctx->inner, out);
}
