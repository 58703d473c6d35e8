/* Current, apparent power and energy from an SCT-013-000 on a 33 ohm burden.
 *
 * Irms = ICAL * (Vcc / 1024) * sqrt(mean((adc - offset)^2)), ICAL = 2000 turns / 33 ohm
 * = 60.606 A per volt across the burden. The DC bias (Vcc/2 from a divider) is
 * tracked by a slow low-pass filter, offset += (adc - offset) / 1024, carried from
 * one measurement to the next. S = 230 V * Irms (no voltage channel). Energy is
 * integrated in VA*ms and carried into whole VAh, so nothing is lost to rounding.
 */
#ifndef GC_METER_H
#define GC_METER_H

#include <stdint.h>

#include "payload.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GC_ADC_COUNTS 1024
#define GC_VAMS_PER_VAH 3600000UL

typedef struct {
    float offset;   /* ADC counts; starts at mid-scale */
    float sum_sq;   /* sum of squared filtered samples */
    uint16_t count; /* samples since gc_rms_begin */
    uint8_t clipped;
} gc_rms;

typedef struct {
    uint32_t vah;      /* cumulative since boot (wraps at 2^32) */
    uint32_t rem_vams; /* the part of the next VAh already measured */
} gc_energy;

typedef struct {
    float amp_ms;  /* integral of Irms dt over the interval */
    float va_ms;   /* integral of S dt */
    float s_max;   /* largest S of one measurement */
    uint32_t elapsed_ms;
    uint8_t clipped;
} gc_interval;

void gc_rms_init(gc_rms *r);
void gc_rms_begin(gc_rms *r);
void gc_rms_add(gc_rms *r, int16_t adc);
float gc_rms_amps(const gc_rms *r, float ical, uint16_t vcc_mv);

void gc_energy_init(gc_energy *e);
void gc_energy_add(gc_energy *e, float s_va, uint32_t dt_ms);

void gc_interval_init(gc_interval *iv);
void gc_interval_add(gc_interval *iv, float irms_a, float s_va, uint32_t dt_ms, uint8_t clipped);
/* Fills irms_ca, s_avg_va, s_max_va and clipped of *r, then starts a new interval. */
void gc_interval_finish(gc_interval *iv, gc_reading *r);

#ifdef __cplusplus
}
#endif
#endif
