/* Line formatting and parsing; see lines.h. */
#include "lines.h"

#include <string.h>

static const char HEX[] = "0123456789abcdef";

uint8_t gc_hex_encode(char *out, const uint8_t *data, uint8_t len) {
    uint8_t i;
    for (i = 0; i < len; i++) {
        out[2 * i] = HEX[data[i] >> 4];
        out[2 * i + 1] = HEX[data[i] & 15];
    }
    out[2 * len] = '\0';
    return (uint8_t)(2 * len);
}

static int8_t nibble(char c) {
    if (c >= '0' && c <= '9') return (int8_t)(c - '0');
    if (c >= 'a' && c <= 'f') return (int8_t)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return (int8_t)(c - 'A' + 10);
    return -1;
}

int16_t gc_hex_decode(uint8_t *out, uint8_t cap, const char *hex, uint8_t digits) {
    uint8_t i;
    if (digits & 1 || digits / 2 > cap) return -1;
    for (i = 0; i < digits / 2; i++) {
        int8_t hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)((hi << 4) | lo);
    }
    return (int16_t)(digits / 2);
}

uint8_t gc_xor_checksum(const char *text, uint8_t len) {
    uint8_t sum = 0, i;
    for (i = 0; i < len; i++) sum ^= (uint8_t)text[i];
    return sum;
}

uint8_t gc_format_uplink_line(char *out, uint8_t cap, const uint8_t eui[8], uint8_t port,
                              const uint8_t *frame, uint8_t len) {
    uint8_t n = 0, sum;
    /* "U," + 16 + "," + up to 3 + "," + 2*len + "*XX" + NUL */
    if ((uint16_t)cap < (uint16_t)(2 + 16 + 1 + 3 + 1 + 2 * len + 3 + 1)) return 0;
    out[n++] = 'U';
    out[n++] = ',';
    n += gc_hex_encode(out + n, eui, 8);
    out[n++] = ',';
    if (port >= 100) out[n++] = (char)('0' + port / 100);
    if (port >= 10) out[n++] = (char)('0' + (port / 10) % 10);
    out[n++] = (char)('0' + port % 10);
    out[n++] = ',';
    n += gc_hex_encode(out + n, frame, len);
    sum = gc_xor_checksum(out, n);
    out[n++] = '*';
    out[n++] = "0123456789ABCDEF"[sum >> 4];
    out[n++] = "0123456789ABCDEF"[sum & 15];
    out[n] = '\0';
    return n;
}

int8_t gc_parse_downlink_line(const char *line, uint8_t *port, uint8_t *frame, uint8_t cap) {
    const char *star = strchr(line, '*');
    const char *comma;
    uint8_t body_len, sum;
    int16_t expected, decoded;
    uint8_t check[1];
    if (line[0] != 'D' || line[1] != ',' || !star || strlen(star) < 3) return -1;
    body_len = (uint8_t)(star - line);
    sum = gc_xor_checksum(line, body_len);
    if (gc_hex_decode(check, 1, star + 1, 2) != 1) return -2;
    expected = check[0];
    if (expected != sum) return -2; /* checksum */
    *port = 0;
    for (comma = line + 2; *comma >= '0' && *comma <= '9'; comma++) {
        *port = (uint8_t)(*port * 10 + (*comma - '0'));
    }
    if (*comma != ',') return -1;
    decoded = gc_hex_decode(frame, cap, comma + 1, (uint8_t)(star - comma - 1));
    return (int8_t)(decoded < 0 ? -1 : decoded);
}
