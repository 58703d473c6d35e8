/* Per-device configuration. Override any of these at build time, e.g.
 *   make DEVICE_FLAGS='-DGC_DEVICE_EUI=0x70,0xb3,...'
 * Every device needs its own key: derive it with hardware_bridge.registry.derive_key
 * (`gridcoop devices registry` prints the EUI/key table for a fleet).
 */
#ifndef GC_CONFIG_H
#define GC_CONFIG_H

#define GC_FIRMWARE_VERSION "1.0.0"

#ifndef GC_DEVICE_EUI /* devEUI 70b3d57ed0000001 (the reference's sample device) */
#define GC_DEVICE_EUI 0x70, 0xb3, 0xd5, 0x7e, 0xd0, 0x00, 0x00, 0x01
#endif
#ifndef GC_DEVICE_KEY /* 128-bit HMAC key; this one is the reference's test key 00..0f */
#define GC_DEVICE_KEY \
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f
#endif
#ifndef GC_APP_EUI /* LoRaWAN JoinEUI and AppKey for OTAA (network keys, not the MAC key) */
#define GC_APP_EUI "0000000000000000"
#endif
#ifndef GC_APP_KEY
#define GC_APP_KEY "00000000000000000000000000000000"
#endif

/* Metering: one uplink per interval; checked against the duty cycle by
 * tests/hardware_bridge/test_airtime.py (20 B at DR0 every 900 s = 0.2 %). */
#ifndef METER_INTERVAL_S /* the simulator tests build with a few seconds */
#define METER_INTERVAL_S 900
#endif
#define LORA_DATA_RATE 0
#define ACK_DELAY_S 190 /* >= LoRaWAN back-off after a 1.81 s DR0 frame at 1 % (179 s) */

/* SCT-013-000 (100 A : 50 mA, 2000 turns) on a 33 ohm burden at the Uno's 5 V:
 * ICAL = 2000 / 33 = 60.606 A per volt. Field calibration: ICAL_new = ICAL * I_ref / I_meas. */
#define CT_PIN A0
#define CT_ICAL 60.606f
#define CT_SAMPLES 1480       /* ~14 mains cycles at 50 Hz */
#define CT_NOISE_FLOOR_A 0.25f /* a 100 A CT on a 10-bit ADC is not trustworthy below this */
#define CT_SETTLE_MEASUREMENTS 5
#define V_NOMINAL 230.0f       /* Portugal, 50 Hz; S = V_NOMINAL * Irms */
#define MEASURE_PERIOD_MS 1000

/* Outputs for appliance ids 0..3: relays on 4 and 7, PWM (dimmable) on 5 and 6. */
#define OUTPUT_PINS {4, 5, 6, 7}
#define OUTPUT_PWM {0, 1, 1, 0}

/* LoRaWAN modem (RAK3172, RUI3 AT commands) on a software serial port. */
#ifndef GC_USE_LORA /* 0: USB serial only (bench meters, the simavr tests) */
#define GC_USE_LORA 1
#endif
#define LORA_RX_PIN 10
#define LORA_TX_PIN 11
#define LORA_BAUD 9600 /* set once with AT+BAUD=9600; the firmware tries it at start */

#define SERIAL_BAUD 115200
#define EEPROM_BOOT_ADDR 0
#define EEPROM_INTERVAL_ADDR 2 /* u16, 0xFFFF = unset */

/* status byte bits (uplink byte 15) */
#define STATUS_ADC_CLIPPED 0x01
#define STATUS_VCC_LOW 0x02
#define STATUS_NOT_JOINED 0x04
#define STATUS_LAST_CMD_REFUSED 0x08

#endif
