/* Serial line protocol (hardware_bridge/serial_protocol.py) and hex helpers.
 *
 * Device -> host:  U,<devEUI hex>,<fPort>,<frame hex>*XX   (an uplink frame)
 *                  #BOOT,fw=...,eui=...,boot=N,...          (banner after reset)
 * Host -> device:  D,<fPort>,<frame hex>*XX                 (a command frame)
 * XX = XOR of every character before '*', two hex digits.
 */
#ifndef GC_LINES_H
#define GC_LINES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GC_LINE_MAX 72

/* Writes lower-case hex of len bytes plus a NUL; returns characters written. */
uint8_t gc_hex_encode(char *out, const uint8_t *data, uint8_t len);
/* Parses 2*n hex digits; returns bytes decoded or -1. */
int16_t gc_hex_decode(uint8_t *out, uint8_t cap, const char *hex, uint8_t digits);
uint8_t gc_xor_checksum(const char *text, uint8_t len);
/* "U,eui,port,hex*XX" without CR LF; returns length, 0 if it does not fit. */
uint8_t gc_format_uplink_line(char *out, uint8_t cap, const uint8_t eui[8], uint8_t port,
                              const uint8_t *frame, uint8_t len);
/* Parses a "D,port,hex*XX" line; returns frame length or a negative error. */
int8_t gc_parse_downlink_line(const char *line, uint8_t *port, uint8_t *frame, uint8_t cap);

#ifdef __cplusplus
}
#endif
#endif
