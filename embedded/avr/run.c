/*
 * embedded/avr/run.c - runs an AVR program under libsimavr and gives its
 * exit status to the host.
 *
 *   run [-m mcu] [-f hz] [-c max_cycles] program.elf
 *
 * Bytes the program writes to GPIOR0 go to stdout; the byte it writes to
 * GPIOR1 becomes the exit status; the run ends when the core sleeps with
 * interrupts disabled.  Exit status 99: the core crashed; 124: the cycle
 * limit (60 simulated seconds by default) was reached; 2: bad usage or an
 * unreadable program.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sim_avr.h>
#include <sim_elf.h>
#include <sim_io.h>

#define GPIOR0_ADDR 0x3e /* data-space addresses, the same on ATmega328P and ATmega2560 */
#define GPIOR1_ADDR 0x4a

static int status;

static void on_console(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param)
{
    (void)avr;
    (void)addr;
    (void)param;
    putchar(v);
}

static void on_status(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param)
{
    (void)param;
    avr->data[addr] = v;
    status = v;
}

int main(int argc, char **argv)
{
    const char *mcu = "atmega2560", *path = NULL;
    unsigned long hz = 16000000ul;
    unsigned long long limit = 0;
    elf_firmware_t fw;
    avr_t *avr;
    int i;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-m") && i + 1 < argc)
            mcu = argv[++i];
        else if (!strcmp(argv[i], "-f") && i + 1 < argc)
            hz = strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "-c") && i + 1 < argc)
            limit = strtoull(argv[++i], NULL, 0);
        else
            path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "usage: %s [-m mcu] [-f hz] [-c max_cycles] program.elf\n", argv[0]);
        return 2;
    }
    memset(&fw, 0, sizeof fw);
    if (elf_read_firmware(path, &fw) != 0) {
        fprintf(stderr, "%s: cannot read %s\n", argv[0], path);
        return 2;
    }
    avr = avr_make_mcu_by_name(mcu);
    if (!avr) {
        fprintf(stderr, "%s: unknown mcu %s\n", argv[0], mcu);
        return 2;
    }
    avr_init(avr);
    avr->log = LOG_ERROR;
    avr_load_firmware(avr, &fw);
    avr->frequency = (uint32_t)hz;
    avr_register_io_write(avr, GPIOR0_ADDR, on_console, NULL);
    avr_register_io_write(avr, GPIOR1_ADDR, on_status, NULL);
    if (!limit)
        limit = (unsigned long long)hz * 60u;
    for (;;) {
        int state = avr_run(avr);
        if (state == cpu_Done)
            break;
        if (state == cpu_Crashed) {
            fflush(stdout);
            fprintf(stderr, "%s: the core crashed\n", argv[0]);
            return 99;
        }
        if (avr->cycle > limit) {
            fflush(stdout);
            fprintf(stderr, "%s: cycle limit reached\n", argv[0]);
            return 124;
        }
    }
    fflush(stdout);
    avr_terminate(avr);
    return status;
}
