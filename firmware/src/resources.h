/* The fixed resources (board, servo0..3, encoder0..1), their handles and their methods. */
#ifndef RESOURCES_H
#define RESOURCES_H
#include <stdint.h>
#include "msgpack.h"

#define RES_BOARD 0
#define RES_SERVO0 1
#define RES_ENCODER0 5
#define N_RESOURCES 7          /* handle = index + 1 */

#define CALL_DEFERRED 0xff     /* resource_call: the reply comes later (measure_pulse) */

enum { KIND_BOARD, KIND_SERVO, KIND_ENCODER };

uint8_t resource_kind(uint8_t res);
void resource_name(uint8_t res);                          /* appended to the message text */
int8_t resource_find(const char *name, uint8_t n);        /* -1 when unknown */
uint8_t resource_api_matches(uint8_t res, const char *api, uint8_t n);
void resource_write_api(mp_writer *w, uint8_t res);
void resource_write_methods(mp_writer *w, uint8_t res);
void resource_write_all_methods(mp_writer *w);           /* HELLO's "methods" */
uint8_t resource_has(uint8_t res, uint8_t method);
uint8_t method_is_read(uint8_t method);                   /* may be subscribed to */

/* Run a method: writes the result to `w` and returns 0, or returns an error code with the
 * message text set, or CALL_DEFERRED (the reply to `id` is sent by resources_poll()). */
uint8_t resource_call(uint8_t res, uint8_t method, mp_reader *args, uint8_t nargs, mp_writer *w, uint32_t id);
void resources_poll(void);      /* finishes a deferred measure_pulse */

#endif
