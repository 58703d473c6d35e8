/* A LoRaWAN modem driven by RUI3 AT commands (RAK3172), parsed without a radio library.
 *
 * Commands: AT+NWM=1, AT+NJM=1 (OTAA), AT+BAND=4 (EU868), AT+DEVEUI/APPEUI/APPKEY=<hex>,
 * AT+CLASS=A, AT+ADR=0, AT+DR=<n>, AT+JOIN=1:0:10:8, AT+SEND=<port>:<hex>.
 * Replies: OK, AT_ERROR, AT_PARAM_ERROR, AT_BUSY_ERROR, AT_NO_NETWORK_JOINED, ...
 * Events: +EVT:JOINED, +EVT:JOIN FAILED (JOIN_FAILED), +EVT:TX_DONE,
 *         +EVT:RX_1:<rssi>:<snr>:UNICAST:<port>:<hex> (RX_2, RX_C likewise).
 */
#ifndef GC_LORA_AT_H
#define GC_LORA_AT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    GC_AT_NONE = 0, /* an echo, a value line, or noise */
    GC_AT_OK,
    GC_AT_ERROR,
    GC_AT_BUSY,
    GC_AT_NOT_JOINED,
    GC_AT_JOINED,
    GC_AT_JOIN_FAILED,
    GC_AT_TX_DONE,
    GC_AT_RX
} gc_at_event;

/* Classifies one line from the modem; for GC_AT_RX fills port and data. */
gc_at_event gc_at_parse(const char *line, uint8_t *port, uint8_t *data, uint8_t cap,
                        uint8_t *len);
/* Writes "AT+SEND=<port>:<hex>"; returns its length, 0 if it does not fit. */
uint8_t gc_at_format_send(char *out, uint8_t cap, uint8_t port, const uint8_t *payload,
                          uint8_t len);

#ifdef __cplusplus
}
#endif
#endif
