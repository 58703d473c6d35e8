/* Runs the meter firmware's Uno .hex in simavr with UART0 on a pseudo-terminal and a
 * sine-wave current on the CT input (ADC0), so the host's serial bridge talks to the
 * real compiled firmware exactly as it would to a board on USB.
 *
 *   uno_pty FIRMWARE.hex [AMPS_RMS] [MAX_SIM_SECONDS] [HOLD]
 *
 * Prints "PTY <slave path>" on stdout once the pty is ready, then runs until killed or
 * until MAX_SIM_SECONDS of simulated time. With HOLD=1 the MCU starts only when the host
 * first writes to the port (its bytes are dropped), as an Uno restarts when the port is
 * opened, so the host sees the boot banner whole. The CT signal is what a SCT-013-000 on a 33 ohm
 * burden gives for AMPS_RMS at 50 Hz: 2.5 V bias + sqrt(2) * AMPS_RMS / ICAL volts.
 * Debian's simavr runner has no UART-to-pty option, hence this small harness.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <termios.h>
#include <unistd.h>

#include <simavr/avr_adc.h>
#include <simavr/avr_uart.h>
#include <simavr/sim_avr.h>
#include <simavr/sim_elf.h>
#include <simavr/sim_hex.h>
#include <simavr/sim_irq.h>

#define CPU_HZ 16000000UL
#define CT_ICAL 60.606 /* must match config.h: amps per volt on the burden */
#define POLL_CYCLES 16000 /* look at the pty every simulated millisecond */

static int master_fd = -1;
static int xon = 1;
static double amps_rms;
static avr_t *avr;
static avr_irq_t *adc0_irq;
static uint8_t in_buf[4096];
static size_t in_len, in_pos;
static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

static void uart_out(struct avr_irq_t *irq, uint32_t value, void *param) {
    uint8_t byte = (uint8_t)value;
    (void)irq;
    (void)param;
    while (write(master_fd, &byte, 1) < 0 && errno == EINTR) {
    }
}

static void uart_xon(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq; (void)value; (void)param;
    xon = 1;
}

static void uart_xoff(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq; (void)value; (void)param;
    xon = 0;
}

/* A conversion is starting: put the CT voltage at this instant on ADC0. */
static void adc_trigger(struct avr_irq_t *irq, uint32_t value, void *param) {
    union { avr_adc_mux_t mux; uint32_t v; } e = {.v = value};
    double t = (double)avr->cycle / (double)CPU_HZ;
    double mv;
    (void)irq;
    (void)param;
    if (e.mux.kind != ADC_MUX_SINGLE || e.mux.src != 0) return;
    mv = 2500.0 + 1000.0 * sqrt(2.0) * amps_rms / CT_ICAL * sin(2.0 * M_PI * 50.0 * t);
    avr_raise_irq(adc0_irq, (uint32_t)lround(mv));
}

static int open_pty(char *name, size_t size) {
    struct termios tio;
    int slave;
    master_fd = posix_openpt(O_RDWR | O_NOCTTY);
    if (master_fd < 0 || grantpt(master_fd) || unlockpt(master_fd)) return -1;
    if (ptsname_r(master_fd, name, size)) return -1;
    /* Raw mode on the terminal side (no echo, no CR/LF translation), held open so the
     * line settings survive the host closing and reopening the port. */
    slave = open(name, O_RDWR | O_NOCTTY);
    if (slave < 0 || tcgetattr(slave, &tio)) return -1;
    cfmakeraw(&tio);
    if (tcsetattr(slave, TCSANOW, &tio)) return -1;
    return fcntl(master_fd, F_SETFL, O_NONBLOCK);
}

static int load_hex(const char *path, elf_firmware_t *fw) {
    ihex_chunk_p chunks = NULL;
    int count = read_ihex_chunks(path, &chunks);
    int i;
    memset(fw, 0, sizeof *fw);
    for (i = 0; i < count; i++) {
        if (chunks[i].baseaddr < 1024 * 1024) { /* flash, not EEPROM/fuses */
            fw->flash = chunks[i].data;
            fw->flashsize = chunks[i].size;
            fw->flashbase = chunks[i].baseaddr;
        }
    }
    strcpy(fw->mmcu, "atmega328p");
    fw->frequency = CPU_HZ;
    return fw->flash ? 0 : -1;
}

static void pump_input(void) {
    avr_irq_t *in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
    if (in_pos == in_len) {
        ssize_t n = read(master_fd, in_buf, sizeof in_buf);
        in_pos = 0;
        in_len = n > 0 ? (size_t)n : 0;
    }
    while (xon && in_pos < in_len) avr_raise_irq(in, in_buf[in_pos++]);
}

int main(int argc, char **argv) {
    elf_firmware_t fw;
    char name[128];
    uint32_t flags = 0;
    double max_s;
    uint64_t next_poll = 0;
    int state = cpu_Running;
    int hold;
    if (argc < 2) {
        fprintf(stderr, "usage: %s FIRMWARE.hex [AMPS_RMS] [MAX_SIM_SECONDS]\n", argv[0]);
        return 2;
    }
    amps_rms = argc > 2 ? atof(argv[2]) : 0.0;
    max_s = argc > 3 ? atof(argv[3]) : 3600.0;
    hold = argc > 4 && atoi(argv[4]) == 1;
    if (load_hex(argv[1], &fw)) {
        fprintf(stderr, "cannot read flash from %s\n", argv[1]);
        return 1;
    }
    avr = avr_make_mcu_by_name(fw.mmcu);
    if (!avr || avr_init(avr) != 0) {
        fprintf(stderr, "simavr has no %s core\n", fw.mmcu);
        return 1;
    }
    avr_load_firmware(avr, &fw);
    avr->vcc = avr->avcc = avr->aref = 5000;
    avr->log = LOG_ERROR;
    if (open_pty(name, sizeof name)) {
        perror("pty");
        return 1;
    }
    avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
    flags &= ~(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT),
                            uart_out, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON),
                            uart_xon, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF),
                            uart_xoff, NULL);
    adc0_irq = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_OUT_TRIGGER),
                            adc_trigger, NULL);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("PTY %s\n", name);
    fflush(stdout);
    while (hold && !stop) { /* wait for the host's first bytes: they stand for the reset */
        fd_set ready;
        FD_ZERO(&ready);
        FD_SET(master_fd, &ready);
        if (select(master_fd + 1, &ready, NULL, NULL, NULL) > 0 &&
            read(master_fd, in_buf, sizeof in_buf) > 0)
            hold = 0;
    }
    while (!stop && state != cpu_Done && state != cpu_Crashed) {
        state = avr_run(avr);
        if (avr->cycle >= next_poll) {
            next_poll = avr->cycle + POLL_CYCLES;
            pump_input();
            if ((double)avr->cycle / CPU_HZ > max_s) break;
        }
    }
    if (state == cpu_Crashed) {
        fprintf(stderr, "the firmware crashed at pc=0x%04x\n", avr->pc);
        return 1;
    }
    return 0;
}
