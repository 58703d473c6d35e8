/* What the meter does with a command: levels, DR cap, idempotency (as appliances.py).
 *
 * Four outputs (appliance ids 0..3, 0xFF = all): a level in % of normal power.
 * A DR event caps every output (SIMPLE 0..3 -> 100/75/50/0 %) for its duration.
 * The last 8 command ids are remembered: a repeat is acked but not re-applied.
 */
#ifndef GC_COMMANDS_H
#define GC_COMMANDS_H

#include <stdint.h>

#include "payload.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GC_APPLIANCES 4
#define GC_RECENT_IDS 8
#define GC_ALL_APPLIANCES 0xFF

#define GC_RESULT_OK 0
#define GC_RESULT_BAD_ARG 1
#define GC_RESULT_BUSY 2
#define GC_RESULT_UNSUPPORTED 3
#define GC_RESULT_UNAUTHENTICATED 4

typedef struct {
    uint8_t level[GC_APPLIANCES];
    uint8_t dr_cap_pct;
    uint8_t dr_timed;
    uint32_t dr_start_ms;
    uint32_t dr_duration_ms; /* up to 65535 min = 45.5 days, below the 49.7-day millis() wrap */
    uint16_t interval_s;
    uint16_t recent[GC_RECENT_IDS];
    uint8_t recent_count;
    uint8_t recent_next;
} gc_appliances;

void gc_appliances_init(gc_appliances *a, uint16_t interval_s);
/* Carries out one decoded command; returns a GC_RESULT_* code, *applied = 0 for a repeat. */
uint8_t gc_apply(gc_appliances *a, const gc_command *cmd, uint32_t now_ms, uint8_t *applied);
/* Effective level (0..100) of one output now, under any DR cap. */
uint8_t gc_level(gc_appliances *a, uint8_t appliance, uint32_t now_ms);
uint8_t gc_relay_on(gc_appliances *a, uint32_t now_ms);
/* The result code for a decode error from gc_decode_command. */
uint8_t gc_result_for_decode_error(int8_t error);

#ifdef __cplusplus
}
#endif
#endif
