/* Flash contents straight from the ELF program headers. */
#ifndef VIAMLITE_SIM_FLASH_IMAGE_H
#define VIAMLITE_SIM_FLASH_IMAGE_H

#include <stddef.h>
#include <simavr/sim_avr.h>

/* Copy every loadable segment to flash at its load (physical) address. libsimavr's loader
 * puts .data right after .text, which is wrong when another section (the .mmcu tag)
 * sits between them: initialised data and strings would read as erased flash.
 * -1 with a reason in err. */
int flash_image_load(avr_t *avr, const char *path, char *err, size_t n);

#endif
