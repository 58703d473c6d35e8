/* Payload encoding and command decoding; see payload.h. */
#include "payload.h"

#include <string.h>

#include "sha256.h"

static void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void gc_mac(uint8_t out[GC_MAC_LEN], const uint8_t *key, const uint8_t eui[8], uint8_t port,
            const uint8_t *frame, uint8_t len) {
    gc_hmac_ctx ctx;
    uint8_t digest[GC_SHA256_LEN];
    gc_hmac_init(&ctx, key, GC_KEY_LEN);
    gc_hmac_update(&ctx, eui, 8);
    gc_hmac_update(&ctx, &port, 1);
    gc_hmac_update(&ctx, frame, len);
    gc_hmac_final(&ctx, digest);
    memcpy(out, digest, GC_MAC_LEN);
}

uint8_t gc_encode_reading(uint8_t out[GC_READING_LEN], const gc_reading *r, const uint8_t eui[8],
                          const uint8_t *key) {
    uint8_t hdr = (uint8_t)(GC_FORMAT_VERSION << 4);
    if (r->relay_on) hdr |= GC_HDR_RELAY_ON;
    if (r->clipped) hdr |= GC_HDR_CLIPPED;
    if (key) hdr |= GC_HDR_MAC;
    out[0] = hdr;
    out[1] = r->boot;
    put16(out + 2, r->seq);
    put32(out + 4, r->energy_vah);
    put16(out + 8, r->irms_ca);
    put16(out + 10, r->s_avg_va);
    put16(out + 12, r->s_max_va);
    out[14] = r->interval_min;
    out[15] = r->status;
    if (!key) return 16;
    gc_mac(out + 16, key, eui, GC_READING_PORT, out, 16);
    return GC_READING_LEN;
}

uint8_t gc_encode_ack(uint8_t out[GC_ACK_LEN], uint16_t cmd_id, uint8_t result, uint8_t relay_on,
                      const uint8_t eui[8], const uint8_t *key) {
    uint8_t hdr = (uint8_t)(GC_FORMAT_VERSION << 4);
    if (relay_on) hdr |= GC_HDR_RELAY_ON;
    if (key) hdr |= GC_HDR_MAC;
    out[0] = hdr;
    put16(out + 1, cmd_id);
    out[3] = result;
    if (!key) return 4;
    gc_mac(out + 4, key, eui, GC_ACK_PORT, out, 4);
    return GC_ACK_LEN;
}

static int8_t args_len(uint8_t opcode) {
    switch (opcode) {
        case GC_OP_SET_POWER:
        case GC_OP_ADJUST:
        case GC_OP_SET_LEVEL:
            return 1;
        case GC_OP_DR_EVENT:
            return 3;
        case GC_OP_SET_INTERVAL:
            return 2;
        case GC_OP_RESTORE:
        case GC_OP_STATUS:
            return 0;
        default:
            return -1;
    }
}

int8_t gc_decode_command(const uint8_t *in, uint8_t len, const uint8_t eui[8], const uint8_t *key,
                         uint8_t require_mac, gc_command *out) {
    int8_t args;
    uint8_t body;
    if (len < 4) return GC_ERR_SHORT;
    args = args_len(in[0]);
    if (args < 0) return GC_ERR_OPCODE;
    body = (uint8_t)(4 + args);
    if (len != body && len != body + GC_MAC_LEN) return GC_ERR_SHORT;
    out->had_mac = (uint8_t)(len == body + GC_MAC_LEN);
    if (out->had_mac) {
        uint8_t tag[GC_MAC_LEN];
        uint8_t diff = 0, i;
        if (!key) return GC_ERR_MAC;
        gc_mac(tag, key, eui, GC_COMMAND_PORT, in, body);
        for (i = 0; i < GC_MAC_LEN; i++) diff |= (uint8_t)(tag[i] ^ in[body + i]);
        if (diff) return GC_ERR_MAC;
    } else if (require_mac) {
        return GC_ERR_NO_MAC;
    }
    out->opcode = in[0];
    out->target = in[1];
    out->cmd_id = (uint16_t)(((uint16_t)in[2] << 8) | in[3]);
    out->arg0 = 0;
    out->arg1 = 0;
    switch (in[0]) {
        case GC_OP_SET_POWER:
            out->arg0 = in[4];
            if (in[4] > 1) return GC_ERR_ARG;
            break;
        case GC_OP_ADJUST:
            out->arg0 = (int8_t)in[4];
            if (out->arg0 == 0 || out->arg0 > 100 || out->arg0 < -100) return GC_ERR_ARG;
            break;
        case GC_OP_SET_LEVEL:
            out->arg0 = in[4];
            if (in[4] > 100) return GC_ERR_ARG;
            break;
        case GC_OP_DR_EVENT:
            out->arg0 = in[4];
            out->arg1 = (uint16_t)(((uint16_t)in[5] << 8) | in[6]);
            if (in[4] > 3) return GC_ERR_ARG;
            break;
        case GC_OP_SET_INTERVAL:
            out->arg1 = (uint16_t)(((uint16_t)in[4] << 8) | in[5]);
            if (out->arg1 < 60) return GC_ERR_ARG;
            break;
        default:
            break;
    }
    return GC_OK;
}
