/* RUI3 AT line classification; see lora_at.h. */
#include "lora_at.h"

#include <string.h>

#include "lines.h"

static uint8_t starts(const char *line, const char *prefix) {
    return (uint8_t)(strncmp(line, prefix, strlen(prefix)) == 0);
}

/* the text after the n-th ':' (n >= 1), or NULL */
static const char *after_colon(const char *text, uint8_t n) {
    while (n--) {
        text = strchr(text, ':');
        if (!text) return 0;
        text++;
    }
    return text;
}

gc_at_event gc_at_parse(const char *line, uint8_t *port, uint8_t *data, uint8_t cap,
                        uint8_t *len) {
    if (strcmp(line, "OK") == 0) return GC_AT_OK;
    if (strcmp(line, "AT_BUSY_ERROR") == 0) return GC_AT_BUSY;
    if (strcmp(line, "AT_NO_NETWORK_JOINED") == 0) return GC_AT_NOT_JOINED;
    if (starts(line, "AT_") && strstr(line, "ERROR")) return GC_AT_ERROR;
    if (!starts(line, "+EVT:")) return GC_AT_NONE;
    line += 5;
    if (strcmp(line, "JOINED") == 0) return GC_AT_JOINED;
    if (starts(line, "JOIN FAILED") || starts(line, "JOIN_FAILED")) return GC_AT_JOIN_FAILED;
    if (starts(line, "TX_DONE")) return GC_AT_TX_DONE;
    if (starts(line, "RX_")) {
        /* RX_1:<rssi>:<snr>:UNICAST:<port>:<hex> */
        const char *p = after_colon(line, 4);
        const char *hex;
        int16_t n;
        if (!p) return GC_AT_NONE;
        *port = 0;
        while (*p >= '0' && *p <= '9') *port = (uint8_t)(*port * 10 + (*p++ - '0'));
        if (*p != ':') return GC_AT_NONE;
        hex = p + 1;
        n = gc_hex_decode(data, cap, hex, (uint8_t)strlen(hex));
        if (n < 0) return GC_AT_NONE;
        *len = (uint8_t)n;
        return GC_AT_RX;
    }
    return GC_AT_NONE;
}

uint8_t gc_at_format_send(char *out, uint8_t cap, uint8_t port, const uint8_t *payload,
                          uint8_t len) {
    uint8_t n = 0;
    if ((uint16_t)cap < (uint16_t)(8 + 3 + 1 + 2 * len + 1)) return 0;
    memcpy(out, "AT+SEND=", 8);
    n = 8;
    if (port >= 100) out[n++] = (char)('0' + port / 100);
    if (port >= 10) out[n++] = (char)('0' + (port / 10) % 10);
    out[n++] = (char)('0' + port % 10);
    out[n++] = ':';
    n += gc_hex_encode(out + n, payload, len);
    return n;
}
