/* RMS, energy and interval statistics; see meter.h for the formulas. */
#include "meter.h"

#include <math.h>

void gc_rms_init(gc_rms *r) {
    r->offset = GC_ADC_COUNTS / 2;
    gc_rms_begin(r);
}

void gc_rms_begin(gc_rms *r) {
    r->sum_sq = 0.0f;
    r->count = 0;
    r->clipped = 0;
}

void gc_rms_add(gc_rms *r, int16_t adc) {
    float filtered;
    r->offset += ((float)adc - r->offset) / 1024.0f;
    filtered = (float)adc - r->offset;
    r->sum_sq += filtered * filtered;
    r->count++;
    if (adc <= 0 || adc >= GC_ADC_COUNTS - 1) r->clipped = 1;
}

float gc_rms_amps(const gc_rms *r, float ical, uint16_t vcc_mv) {
    float volts_per_count = ((float)vcc_mv / 1000.0f) / GC_ADC_COUNTS;
    if (r->count == 0) return 0.0f;
    return ical * volts_per_count * sqrtf(r->sum_sq / (float)r->count);
}

void gc_energy_init(gc_energy *e) {
    e->vah = 0;
    e->rem_vams = 0;
}

void gc_energy_add(gc_energy *e, float s_va, uint32_t dt_ms) {
    /* S <= 65535 VA and dt <= 60 s keep the product below 2^32 */
    uint32_t vams;
    if (s_va <= 0.0f) return;
    vams = (uint32_t)(s_va * (float)dt_ms + 0.5f);
    e->rem_vams += vams;
    while (e->rem_vams >= GC_VAMS_PER_VAH) {
        e->rem_vams -= GC_VAMS_PER_VAH;
        e->vah++;
    }
}

void gc_interval_init(gc_interval *iv) {
    iv->amp_ms = 0.0f;
    iv->va_ms = 0.0f;
    iv->s_max = 0.0f;
    iv->elapsed_ms = 0;
    iv->clipped = 0;
}

void gc_interval_add(gc_interval *iv, float irms_a, float s_va, uint32_t dt_ms, uint8_t clipped) {
    iv->amp_ms += irms_a * (float)dt_ms;
    iv->va_ms += s_va * (float)dt_ms;
    if (s_va > iv->s_max) iv->s_max = s_va;
    iv->elapsed_ms += dt_ms;
    iv->clipped |= clipped;
}

static uint16_t to_u16(float value) {
    if (value <= 0.0f) return 0;
    if (value >= 65535.0f) return 65535;
    return (uint16_t)(value + 0.5f);
}

void gc_interval_finish(gc_interval *iv, gc_reading *r) {
    float ms = iv->elapsed_ms ? (float)iv->elapsed_ms : 1.0f;
    r->irms_ca = to_u16(iv->amp_ms / ms * 100.0f);
    r->s_avg_va = to_u16(iv->va_ms / ms);
    r->s_max_va = to_u16(iv->s_max);
    r->clipped = iv->clipped;
    gc_interval_init(iv);
}
