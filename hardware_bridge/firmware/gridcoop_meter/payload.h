/* The radio payloads, byte for byte as hardware_bridge/codec.py (reference section 9a).
 *
 * fPort 10 reading: hdr boot seq(u16) energy(u32 VAh since boot) irms(u16 cA) s_avg(u16 VA)
 *                   s_max(u16 VA) interval(u8 min) status(u8) + MAC(4) = 20 bytes
 * fPort 12 ack:     hdr cmd_id(u16) result(u8) + MAC(4) = 8 bytes
 * fPort 20 command: opcode target cmd_id(u16) args... [+ MAC(4)]
 * MAC = HMAC-SHA256(key, devEUI(8) || fPort || frame)[0..3]; big-endian throughout.
 */
#ifndef GC_PAYLOAD_H
#define GC_PAYLOAD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GC_READING_PORT 10
#define GC_ACK_PORT 12
#define GC_COMMAND_PORT 20
#define GC_FORMAT_VERSION 1
#define GC_MAC_LEN 4
#define GC_KEY_LEN 16
#define GC_READING_LEN 20
#define GC_ACK_LEN 8
#define GC_COMMAND_MAX 15

#define GC_HDR_RELAY_ON 0x01
#define GC_HDR_CLIPPED 0x02
#define GC_HDR_MAC 0x04

#define GC_OP_SET_POWER 0x01
#define GC_OP_ADJUST 0x02
#define GC_OP_SET_LEVEL 0x03
#define GC_OP_DR_EVENT 0x04
#define GC_OP_SET_INTERVAL 0x05
#define GC_OP_RESTORE 0x06
#define GC_OP_STATUS 0x07

/* gc_decode_command results */
#define GC_OK 0
#define GC_ERR_SHORT (-1)
#define GC_ERR_OPCODE (-2)
#define GC_ERR_MAC (-3)
#define GC_ERR_NO_MAC (-4)
#define GC_ERR_ARG (-5)

typedef struct {
    uint8_t boot;
    uint16_t seq;
    uint32_t energy_vah;
    uint16_t irms_ca;
    uint16_t s_avg_va;
    uint16_t s_max_va;
    uint8_t interval_min;
    uint8_t status;
    uint8_t relay_on;
    uint8_t clipped;
} gc_reading;

typedef struct {
    uint8_t opcode;
    uint8_t target;   /* appliance id, 0xFF = all */
    uint16_t cmd_id;  /* idempotency key */
    int16_t arg0;     /* on/off, signed percent, level, DR SIMPLE level */
    uint16_t arg1;    /* DR duration in minutes; SET_INTERVAL seconds */
    uint8_t had_mac;
} gc_command;

void gc_mac(uint8_t out[GC_MAC_LEN], const uint8_t *key, const uint8_t eui[8], uint8_t port,
            const uint8_t *frame, uint8_t len);

/* Returns the frame length (16/20 for a reading, 4/8 for an ack); key may be NULL. */
uint8_t gc_encode_reading(uint8_t out[GC_READING_LEN], const gc_reading *r, const uint8_t eui[8],
                          const uint8_t *key);
uint8_t gc_encode_ack(uint8_t out[GC_ACK_LEN], uint16_t cmd_id, uint8_t result, uint8_t relay_on,
                      const uint8_t eui[8], const uint8_t *key);

/* Decodes and checks one command; GC_OK or a GC_ERR_* code. */
int8_t gc_decode_command(const uint8_t *in, uint8_t len, const uint8_t eui[8], const uint8_t *key,
                         uint8_t require_mac, gc_command *out);

#ifdef __cplusplus
}
#endif
#endif
