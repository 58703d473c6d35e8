/* gridcoop meter for an Arduino Uno: SCT-013-000 current transformer, energy, relays,
 * authenticated uplinks over a RAK3172 LoRaWAN modem (AT commands) and over USB serial.
 *
 * Every MEASURE_PERIOD_MS it samples the CT (CT_SAMPLES ADC reads), computes Irms,
 * S = 230 V x Irms, and integrates energy. Every interval it sends the 20-byte reading
 * (fPort 10: boot, seq, cumulative VAh, mean Irms, mean and max S, MAC). Commands arrive
 * as LoRa downlinks on fPort 20 or as "D,20,<hex>*XX" serial lines; each is checked (MAC,
 * arguments), applied once per command id, and answered with an fPort-12 ack. The maths
 * and formats live in the C files next to this one, which also compile on a PC for tests.
 */
#include <Arduino.h>
#include <EEPROM.h>
#include <SoftwareSerial.h>

#include "commands.h"
#include "config.h"
#include "lines.h"
#include "lora_at.h"
#include "meter.h"
#include "payload.h"

#define GC_STR2(x) #x
#define GC_STR(x) GC_STR2(x) /* a number from config.h as a string literal */

static const uint8_t DEVICE_EUI[8] = {GC_DEVICE_EUI};
static const uint8_t DEVICE_KEY[GC_KEY_LEN] = {GC_DEVICE_KEY};
static const uint8_t OUT_PINS[GC_APPLIANCES] = OUTPUT_PINS;
static const uint8_t OUT_PWM[GC_APPLIANCES] = OUTPUT_PWM;

static gc_rms rms;
static gc_energy energy;
static gc_interval interval;
static gc_appliances appliances;

static uint8_t boot_count;
static uint16_t seq;
static uint8_t status_bits;
static uint8_t settle = CT_SETTLE_MEASUREMENTS;
static uint32_t last_measure_ms;
static uint32_t interval_start_ms;

static char serial_line[GC_LINE_MAX];
static uint8_t serial_len;
static uint8_t serial_overflow;

static uint8_t ack_pending;
static uint16_t ack_cmd_id;
static uint8_t ack_result;
static uint32_t ack_due_ms;

#if GC_USE_LORA
static SoftwareSerial lora(LORA_RX_PIN, LORA_TX_PIN);
static char lora_line[96];
static uint8_t lora_len;
static uint8_t joined;
#endif

static void handle_command(const uint8_t *frame, uint8_t len, uint8_t from_lora);

/* Vcc in mV from the 1.1 V bandgap against AVcc (a few % unless calibrated). */
static uint16_t read_vcc_mv() {
    uint16_t counts;
    ADMUX = _BV(REFS0) | _BV(MUX3) | _BV(MUX2) | _BV(MUX1);
    delay(2);
    ADCSRA |= _BV(ADSC);
    while (bit_is_set(ADCSRA, ADSC)) {
    }
    counts = ADCL;
    counts |= (uint16_t)ADCH << 8;
    if (counts == 0) return 5000;
    return (uint16_t)(1126400UL / counts);
}

static void print_frame_line(uint8_t port, const uint8_t *frame, uint8_t len) {
    char line[GC_LINE_MAX];
    if (gc_format_uplink_line(line, sizeof line, DEVICE_EUI, port, frame, len)) {
        Serial.println(line);
    }
}

#if GC_USE_LORA
static void lora_send_line(const __FlashStringHelper *command, const char *arg) {
    lora.print(command);
    if (arg) lora.print(arg);
    lora.print(F("\r\n"));
}

static void handle_lora_line(const char *line, gc_at_event *last) {
    uint8_t port = 0, len = 0;
    uint8_t data[GC_COMMAND_MAX];
    gc_at_event event = gc_at_parse(line, &port, data, sizeof data, &len);
    if (event == GC_AT_JOINED) joined = 1;
    if (event == GC_AT_JOIN_FAILED || event == GC_AT_NOT_JOINED) joined = 0;
    if (event == GC_AT_RX && port == GC_COMMAND_PORT) handle_command(data, len, 1);
    if (event != GC_AT_NONE) *last = event;
}

/* Reads modem lines for up to timeout_ms; returns the last OK/error reply seen. */
static gc_at_event poll_lora(uint16_t timeout_ms, uint8_t stop_on_reply) {
    gc_at_event last = GC_AT_NONE;
    uint32_t start = millis();
    do {
        while (lora.available()) {
            char c = (char)lora.read();
            if (c == '\n') {
                lora_line[lora_len] = '\0';
                if (lora_len) handle_lora_line(lora_line, &last);
                lora_len = 0;
                if (stop_on_reply && last >= GC_AT_OK && last <= GC_AT_NOT_JOINED) return last;
            } else if (c != '\r' && lora_len < sizeof lora_line - 1) {
                lora_line[lora_len++] = c;
            }
        }
    } while (millis() - start < timeout_ms);
    return last;
}

static uint8_t lora_command(const __FlashStringHelper *command, const char *arg) {
    lora_send_line(command, arg);
    return poll_lora(1500, 1) == GC_AT_OK;
}

static void lora_setup() {
    char hex[2 * GC_KEY_LEN + 1];
    lora.begin(115200); /* RUI3 default; switch the modem to a rate SoftwareSerial can read */
    lora_send_line(F("AT+BAUD="), "9600");
    delay(100);
    lora.begin(LORA_BAUD);
    lora_command(F("AT+NWM=1"), 0);
    lora_command(F("AT+NJM=1"), 0);
    lora_command(F("AT+BAND=4"), 0);
    lora_command(F("AT+CLASS=A"), 0);
    lora_command(F("AT+ADR=0"), 0);
    lora_command(F("AT+DR="), GC_STR(LORA_DATA_RATE));
    gc_hex_encode(hex, DEVICE_EUI, 8);
    lora_command(F("AT+DEVEUI="), hex);
    lora_command(F("AT+APPEUI="), GC_APP_EUI);
    lora_command(F("AT+APPKEY="), GC_APP_KEY);
    lora_command(F("AT+JOIN=1:0:10:8"), 0); /* join now, auto-join, retry every 10 s, 8 times */
}

static void lora_send(uint8_t port, const uint8_t *frame, uint8_t len) {
    char command[8 + 4 + 2 * GC_READING_LEN + 1];
    if (!joined) {
        status_bits |= STATUS_NOT_JOINED;
        return;
    }
    status_bits &= (uint8_t)~STATUS_NOT_JOINED;
    if (!gc_at_format_send(command, sizeof command, port, frame, len)) return;
    lora.print(command);
    lora.print(F("\r\n"));
    poll_lora(1500, 1); /* OK now; TX_DONE and any downlink arrive later */
}
#endif

static void update_outputs(uint32_t now) {
    uint8_t i;
    for (i = 0; i < GC_APPLIANCES; i++) {
        uint8_t level = gc_level(&appliances, i, now);
        if (OUT_PWM[i]) {
            analogWrite(OUT_PINS[i], (int)((uint16_t)level * 255U / 100U));
        } else {
            digitalWrite(OUT_PINS[i], level > 0 ? HIGH : LOW);
        }
    }
}

static void send_ack(uint8_t via_lora) {
    uint8_t frame[GC_ACK_LEN];
    uint8_t len = gc_encode_ack(frame, ack_cmd_id, ack_result, gc_relay_on(&appliances, millis()),
                                DEVICE_EUI, DEVICE_KEY);
    print_frame_line(GC_ACK_PORT, frame, len);
#if GC_USE_LORA
    if (via_lora) lora_send(GC_ACK_PORT, frame, len);
#else
    (void)via_lora;
#endif
}

static void handle_command(const uint8_t *frame, uint8_t len, uint8_t from_lora) {
    gc_command cmd;
    uint8_t applied = 0;
    int8_t rc = gc_decode_command(frame, len, DEVICE_EUI, DEVICE_KEY, 1, &cmd);
    uint32_t now = millis();
    ack_cmd_id = len >= 4 ? (uint16_t)(((uint16_t)frame[2] << 8) | frame[3]) : 0;
    if (rc != GC_OK) {
        ack_result = gc_result_for_decode_error(rc);
    } else {
        ack_result = gc_apply(&appliances, &cmd, now, &applied);
        if (applied && cmd.opcode == GC_OP_SET_INTERVAL) {
            EEPROM.put(EEPROM_INTERVAL_ADDR, appliances.interval_s);
        }
    }
    if (ack_result == GC_RESULT_OK) {
        status_bits &= (uint8_t)~STATUS_LAST_CMD_REFUSED;
    } else {
        status_bits |= STATUS_LAST_CMD_REFUSED;
    }
    update_outputs(now);
    if (from_lora) { /* Class A: answer after the duty-cycle back-off of the last uplink */
        ack_pending = 1;
        ack_due_ms = now + ACK_DELAY_S * 1000UL;
    } else {
        send_ack(0);
    }
}

static void poll_serial() {
    while (Serial.available()) {
        char c = (char)Serial.read();
        if (c == '\n') {
            serial_line[serial_len] = '\0';
            if (!serial_overflow && serial_len) {
                uint8_t port = 0;
                uint8_t frame[GC_COMMAND_MAX];
                int8_t n = gc_parse_downlink_line(serial_line, &port, frame, sizeof frame);
                if (n > 0 && port == GC_COMMAND_PORT) handle_command(frame, (uint8_t)n, 0);
            }
            serial_len = 0;
            serial_overflow = 0;
        } else if (c != '\r') {
            if (serial_len < sizeof serial_line - 1) {
                serial_line[serial_len++] = c;
            } else {
                serial_overflow = 1; /* drop the whole line, never half of it */
            }
        }
    }
}

static void measure(uint32_t now) {
    uint16_t i;
    uint16_t vcc_mv = read_vcc_mv();
    float irms, s_va;
    uint32_t dt = now - last_measure_ms;
    last_measure_ms = now;
    gc_rms_begin(&rms);
    for (i = 0; i < CT_SAMPLES; i++) gc_rms_add(&rms, (int16_t)analogRead(CT_PIN));
    if (vcc_mv < 4500) {
        status_bits |= STATUS_VCC_LOW;
    } else {
        status_bits &= (uint8_t)~STATUS_VCC_LOW;
    }
    if (settle) { /* the offset filter is still finding the bias: do not count this */
        settle--;
        return;
    }
    irms = gc_rms_amps(&rms, CT_ICAL, vcc_mv);
    if (irms < CT_NOISE_FLOOR_A) irms = 0.0f;
    s_va = V_NOMINAL * irms;
    gc_energy_add(&energy, s_va, dt);
    gc_interval_add(&interval, irms, s_va, dt, rms.clipped);
}

static void send_reading() {
    gc_reading r;
    uint8_t frame[GC_READING_LEN];
    uint8_t len;
    r.boot = boot_count;
    r.seq = seq++;
    r.energy_vah = energy.vah;
    r.interval_min = (uint8_t)(appliances.interval_s / 60);
    r.relay_on = gc_relay_on(&appliances, millis());
    gc_interval_finish(&interval, &r);
    if (r.clipped) status_bits |= STATUS_ADC_CLIPPED;
    r.status = status_bits;
    status_bits &= (uint8_t)~STATUS_ADC_CLIPPED;
    len = gc_encode_reading(frame, &r, DEVICE_EUI, DEVICE_KEY);
    Serial.print(F("# irms_cA="));
    Serial.print(r.irms_ca);
    Serial.print(F(" s_avg_VA="));
    Serial.print(r.s_avg_va);
    Serial.print(F(" e_VAh="));
    Serial.println(r.energy_vah);
    print_frame_line(GC_READING_PORT, frame, len);
#if GC_USE_LORA
    lora_send(GC_READING_PORT, frame, len);
#endif
}

void setup() {
    uint8_t i;
    uint16_t stored_interval;
    char hex[17];
    Serial.begin(SERIAL_BAUD);
    boot_count = (uint8_t)(EEPROM.read(EEPROM_BOOT_ADDR) + 1);
    EEPROM.update(EEPROM_BOOT_ADDR, boot_count);
    EEPROM.get(EEPROM_INTERVAL_ADDR, stored_interval);
    gc_appliances_init(&appliances, (stored_interval >= 60 && stored_interval != 0xFFFF)
                                        ? stored_interval
                                        : (uint16_t)METER_INTERVAL_S);
    for (i = 0; i < GC_APPLIANCES; i++) pinMode(OUT_PINS[i], OUTPUT);
    update_outputs(0);
    gc_rms_init(&rms);
    gc_energy_init(&energy);
    gc_interval_init(&interval);
    gc_hex_encode(hex, DEVICE_EUI, 8);
    Serial.println(); /* ends any line the reset cut short */
    Serial.print(F("#BOOT,fw=" GC_FIRMWARE_VERSION ",eui="));
    Serial.print(hex);
    Serial.print(F(",boot="));
    Serial.print(boot_count);
    Serial.print(F(",ical="));
    Serial.print(CT_ICAL, 3);
    Serial.print(F(",vnom=230,interval="));
    Serial.println(appliances.interval_s);
#if GC_USE_LORA
    lora_setup();
#endif
    last_measure_ms = millis();
    interval_start_ms = last_measure_ms;
}

void loop() {
    uint32_t now;
    poll_serial();
#if GC_USE_LORA
    poll_lora(0, 0);
#endif
    now = millis();
    if (now - last_measure_ms >= MEASURE_PERIOD_MS) measure(now);
    now = millis();
    if (now - interval_start_ms >= (uint32_t)appliances.interval_s * 1000UL) {
        interval_start_ms += (uint32_t)appliances.interval_s * 1000UL; /* no drift */
        send_reading();
    }
    if (ack_pending && (int32_t)(millis() - ack_due_ms) >= 0) {
        ack_pending = 0;
        send_ack(1);
    }
    update_outputs(millis());
}
