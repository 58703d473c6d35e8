/* Appliance state machine; see commands.h. */
#include "commands.h"

static const uint8_t DR_CAP[4] = {100, 75, 50, 0};

void gc_appliances_init(gc_appliances *a, uint16_t interval_s) {
    uint8_t i;
    for (i = 0; i < GC_APPLIANCES; i++) a->level[i] = 100;
    a->dr_cap_pct = 100;
    a->dr_timed = 0;
    a->dr_start_ms = 0;
    a->dr_duration_ms = 0;
    a->interval_s = interval_s;
    a->recent_count = 0;
    a->recent_next = 0;
}

static void expire_dr(gc_appliances *a, uint32_t now_ms) {
    /* unsigned elapsed time: correct across the millis() wrap for any u16 duration */
    if (a->dr_timed && (uint32_t)(now_ms - a->dr_start_ms) >= a->dr_duration_ms) {
        a->dr_cap_pct = 100;
        a->dr_timed = 0;
    }
}

uint8_t gc_level(gc_appliances *a, uint8_t appliance, uint32_t now_ms) {
    uint8_t own;
    expire_dr(a, now_ms);
    own = appliance < GC_APPLIANCES ? a->level[appliance] : a->level[0];
    return own < a->dr_cap_pct ? own : a->dr_cap_pct;
}

uint8_t gc_relay_on(gc_appliances *a, uint32_t now_ms) {
    uint8_t i, highest = 0;
    expire_dr(a, now_ms);
    for (i = 0; i < GC_APPLIANCES; i++) {
        if (a->level[i] > highest) highest = a->level[i];
    }
    return (uint8_t)((highest < a->dr_cap_pct ? highest : a->dr_cap_pct) > 0);
}

static uint8_t clamp_pct(int16_t value) {
    return (uint8_t)(value < 0 ? 0 : (value > 100 ? 100 : value));
}

/* relative=1: add value to each selected output's own level (ADJUST) */
static void set_level(gc_appliances *a, uint8_t target, int16_t value, uint8_t relative) {
    uint8_t i;
    for (i = 0; i < GC_APPLIANCES; i++) {
        if (target == GC_ALL_APPLIANCES || target == i) {
            a->level[i] = clamp_pct((int16_t)(relative ? a->level[i] + value : value));
        }
    }
}

static uint8_t seen(gc_appliances *a, uint16_t cmd_id) {
    uint8_t i;
    for (i = 0; i < a->recent_count; i++) {
        if (a->recent[i] == cmd_id) return 1;
    }
    return 0;
}

static void remember(gc_appliances *a, uint16_t cmd_id) {
    a->recent[a->recent_next] = cmd_id;
    a->recent_next = (uint8_t)((a->recent_next + 1) % GC_RECENT_IDS);
    if (a->recent_count < GC_RECENT_IDS) a->recent_count++;
}

uint8_t gc_apply(gc_appliances *a, const gc_command *cmd, uint32_t now_ms, uint8_t *applied) {
    uint8_t target = cmd->target;
    *applied = 0;
    if (target >= GC_APPLIANCES && target != GC_ALL_APPLIANCES) return GC_RESULT_BAD_ARG;
    if (seen(a, cmd->cmd_id)) return GC_RESULT_OK;
    remember(a, cmd->cmd_id);
    switch (cmd->opcode) {
        case GC_OP_SET_POWER:
            set_level(a, target, cmd->arg0 ? 100 : 0, 0);
            break;
        case GC_OP_ADJUST:
            set_level(a, target, cmd->arg0, 1);
            break;
        case GC_OP_SET_LEVEL:
            set_level(a, target, cmd->arg0, 0);
            break;
        case GC_OP_DR_EVENT:
            a->dr_cap_pct = DR_CAP[cmd->arg0 & 3];
            a->dr_timed = (uint8_t)(cmd->arg1 != 0);
            a->dr_start_ms = now_ms;
            a->dr_duration_ms = (uint32_t)cmd->arg1 * 60000UL;
            break;
        case GC_OP_SET_INTERVAL:
            a->interval_s = cmd->arg1;
            break;
        case GC_OP_RESTORE:
            set_level(a, GC_ALL_APPLIANCES, 100, 0);
            a->dr_cap_pct = 100;
            a->dr_timed = 0;
            break;
        case GC_OP_STATUS:
            break;
        default:
            return GC_RESULT_UNSUPPORTED;
    }
    *applied = 1;
    return GC_RESULT_OK;
}

uint8_t gc_result_for_decode_error(int8_t error) {
    switch (error) {
        case GC_ERR_OPCODE:
            return GC_RESULT_UNSUPPORTED;
        case GC_ERR_MAC:
        case GC_ERR_NO_MAC:
            return GC_RESULT_UNAUTHENTICATED;
        default:
            return GC_RESULT_BAD_ARG;
    }
}
