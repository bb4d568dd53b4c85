/* The 10-bit ADC on A0..A5, AVcc reference. */
#ifndef ADC_H
#define ADC_H
#include <stdint.h>

void adc_init(void);
uint16_t adc_read(uint8_t channel);   /* blocks one conversion, about 104 us */

#endif
