/* Host test driver for the firmware's portable C code (payload, SHA-256, lines, AT, meter).
 *
 * Reads one request per line on stdin and prints one answer per line, so a test can
 * send thousands of cases through one process and compare with the Python codec:
 *   S <hex>                                   -> sha256 hex
 *   H <key hex> <msg hex>                     -> hmac-sha256 hex
 *   R <eui> <key|-> boot seq energy irms savg smax interval status relay clipped -> frame hex
 *   A <eui> <key|-> cmd_id result relay       -> frame hex
 *   C <eui> <key|-> require_mac <hex>         -> "ok op target cmd_id arg0 arg1 had_mac" | "err N"
 *   P <now_ms> <hex>                          -> apply an unsigned command to the appliance
 *                                                state: "result applied l0 l1 l2 l3 relay"
 *   X <interval_s>                            -> reset the appliance state
 *   L <eui> <port> <hex>                      -> serial uplink line
 *   D <line>                                  -> "ok port hex" | "err N"
 *   T <line>                                  -> AT event number [port hex]
 *   I <ical> <vcc_mv> <n> <amp> <offset> <cycles> -> Irms of a synthetic sine, 4 decimals
 *   E <s_va> <dt_ms> <count>                  -> "vah rem_vams" after count additions
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "lines.h"
#include "lora_at.h"
#include "meter.h"
#include "payload.h"
#include "sha256.h"

#define MAX_BYTES 512

static uint8_t parse_hex(const char *text, uint8_t *out, size_t cap, size_t *len) {
    size_t digits = strlen(text), i;
    if (strcmp(text, "-") == 0) {
        *len = 0;
        return 1;
    }
    if (digits % 2 || digits / 2 > cap) return 0;
    for (i = 0; i < digits / 2; i++) {
        unsigned int byte;
        if (sscanf(text + 2 * i, "%2x", &byte) != 1) return 0;
        out[i] = (uint8_t)byte;
    }
    *len = digits / 2;
    return 1;
}

static void print_hex(const uint8_t *data, size_t len) {
    size_t i;
    for (i = 0; i < len; i++) printf("%02x", data[i]);
    printf("\n");
}

static gc_appliances appliances;

static void request(char *line) {
    char *kind = strtok(line, " \n");
    uint8_t a[MAX_BYTES], b[MAX_BYTES], out[64];
    size_t alen, blen;
    if (!kind) return;
    if (strcmp(kind, "S") == 0) {
        gc_sha256_ctx ctx;
        parse_hex(strtok(NULL, " \n"), a, sizeof a, &alen);
        gc_sha256_init(&ctx);
        gc_sha256_update(&ctx, a, alen);
        gc_sha256_final(&ctx, out);
        print_hex(out, 32);
    } else if (strcmp(kind, "H") == 0) {
        gc_hmac_ctx ctx;
        parse_hex(strtok(NULL, " \n"), a, sizeof a, &alen);
        parse_hex(strtok(NULL, " \n"), b, sizeof b, &blen);
        gc_hmac_init(&ctx, a, (uint8_t)alen);
        gc_hmac_update(&ctx, b, blen);
        gc_hmac_final(&ctx, out);
        print_hex(out, 32);
    } else if (strcmp(kind, "R") == 0) {
        gc_reading r;
        unsigned long v[10];
        int i;
        parse_hex(strtok(NULL, " \n"), a, 8, &alen);
        parse_hex(strtok(NULL, " \n"), b, 16, &blen);
        for (i = 0; i < 10; i++) v[i] = strtoul(strtok(NULL, " \n"), NULL, 10);
        r.boot = (uint8_t)v[0];
        r.seq = (uint16_t)v[1];
        r.energy_vah = (uint32_t)v[2];
        r.irms_ca = (uint16_t)v[3];
        r.s_avg_va = (uint16_t)v[4];
        r.s_max_va = (uint16_t)v[5];
        r.interval_min = (uint8_t)v[6];
        r.status = (uint8_t)v[7];
        r.relay_on = (uint8_t)v[8];
        r.clipped = (uint8_t)v[9];
        print_hex(out, gc_encode_reading(out, &r, a, blen ? b : NULL));
    } else if (strcmp(kind, "A") == 0) {
        unsigned long cmd_id, result, relay;
        parse_hex(strtok(NULL, " \n"), a, 8, &alen);
        parse_hex(strtok(NULL, " \n"), b, 16, &blen);
        cmd_id = strtoul(strtok(NULL, " \n"), NULL, 10);
        result = strtoul(strtok(NULL, " \n"), NULL, 10);
        relay = strtoul(strtok(NULL, " \n"), NULL, 10);
        print_hex(out, gc_encode_ack(out, (uint16_t)cmd_id, (uint8_t)result, (uint8_t)relay, a,
                                     blen ? b : NULL));
    } else if (strcmp(kind, "C") == 0) {
        gc_command cmd;
        uint8_t frame[MAX_BYTES];
        size_t flen;
        int require, rc;
        parse_hex(strtok(NULL, " \n"), a, 8, &alen);
        parse_hex(strtok(NULL, " \n"), b, 16, &blen);
        require = atoi(strtok(NULL, " \n"));
        parse_hex(strtok(NULL, " \n"), frame, sizeof frame, &flen);
        rc = gc_decode_command(frame, (uint8_t)flen, a, blen ? b : NULL, (uint8_t)require, &cmd);
        if (rc != GC_OK) {
            printf("err %d\n", rc);
        } else {
            printf("ok %u %u %u %d %u %u\n", cmd.opcode, cmd.target, cmd.cmd_id, cmd.arg0,
                   cmd.arg1, cmd.had_mac);
        }
    } else if (strcmp(kind, "X") == 0) {
        gc_appliances_init(&appliances, (uint16_t)strtoul(strtok(NULL, " \n"), NULL, 10));
        printf("ok\n");
    } else if (strcmp(kind, "P") == 0) {
        gc_command cmd;
        uint8_t applied = 0, result;
        uint32_t now = (uint32_t)strtoul(strtok(NULL, " \n"), NULL, 10);
        int rc, i;
        parse_hex(strtok(NULL, " \n"), a, sizeof a, &alen);
        rc = gc_decode_command(a, (uint8_t)alen, a, NULL, 0, &cmd);
        result = rc == GC_OK ? gc_apply(&appliances, &cmd, now, &applied)
                             : gc_result_for_decode_error((int8_t)rc);
        printf("%u %u", result, applied);
        for (i = 0; i < GC_APPLIANCES; i++) printf(" %u", gc_level(&appliances, (uint8_t)i, now));
        printf(" %u\n", gc_relay_on(&appliances, now));
    } else if (strcmp(kind, "L") == 0) {
        char text[GC_LINE_MAX];
        unsigned long port;
        parse_hex(strtok(NULL, " \n"), a, 8, &alen);
        port = strtoul(strtok(NULL, " \n"), NULL, 10);
        parse_hex(strtok(NULL, " \n"), b, sizeof b, &blen);
        if (gc_format_uplink_line(text, sizeof text, a, (uint8_t)port, b, (uint8_t)blen)) {
            printf("%s\n", text);
        } else {
            printf("err\n");
        }
    } else if (strcmp(kind, "D") == 0) {
        uint8_t port = 0;
        int8_t n = gc_parse_downlink_line(strtok(NULL, " \n"), &port, a, GC_COMMAND_MAX);
        if (n < 0) {
            printf("err %d\n", n);
        } else {
            printf("ok %u ", port);
            print_hex(a, (size_t)n);
        }
    } else if (strcmp(kind, "T") == 0) {
        uint8_t port = 0, n = 0;
        char *text = strtok(NULL, "\n");
        gc_at_event event = gc_at_parse(text ? text : "", &port, a, GC_COMMAND_MAX, &n);
        printf("%d", (int)event);
        if (event == GC_AT_RX) {
            printf(" %u ", port);
            print_hex(a, n);
        } else {
            printf("\n");
        }
    } else if (strcmp(kind, "I") == 0) {
        gc_rms rms;
        float ical = strtof(strtok(NULL, " \n"), NULL);
        unsigned long vcc = strtoul(strtok(NULL, " \n"), NULL, 10);
        unsigned long n = strtoul(strtok(NULL, " \n"), NULL, 10);
        double amp = strtod(strtok(NULL, " \n"), NULL);
        double offset = strtod(strtok(NULL, " \n"), NULL);
        double cycles = strtod(strtok(NULL, " \n"), NULL);
        unsigned long k;
        int pass;
        gc_rms_init(&rms);
        for (pass = 0; pass < 3; pass++) { /* like the sketch: the filter state carries over */
            gc_rms_begin(&rms);
            for (k = 0; k < n; k++) {
                double x = offset + amp * sin(2.0 * M_PI * cycles * (double)k / (double)n);
                long adc = lround(x);
                gc_rms_add(&rms, (int16_t)(adc < 0 ? 0 : (adc > 1023 ? 1023 : adc)));
            }
        }
        printf("%.4f %u\n", gc_rms_amps(&rms, ical, (uint16_t)vcc), rms.clipped);
    } else if (strcmp(kind, "E") == 0) {
        gc_energy e;
        float s = strtof(strtok(NULL, " \n"), NULL);
        unsigned long dt = strtoul(strtok(NULL, " \n"), NULL, 10);
        unsigned long count = strtoul(strtok(NULL, " \n"), NULL, 10), k;
        gc_energy_init(&e);
        for (k = 0; k < count; k++) gc_energy_add(&e, s, (uint32_t)dt);
        printf("%lu %lu\n", (unsigned long)e.vah, (unsigned long)e.rem_vams);
    } else {
        printf("unknown request %s\n", kind);
    }
}

int main(void) {
    static char line[4096];
    gc_appliances_init(&appliances, 900);
    while (fgets(line, sizeof line, stdin)) {
        request(line);
        fflush(stdout);
    }
    return 0;
}
