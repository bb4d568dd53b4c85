/* JSON lines on the harness's stdout (the only thing written there). */
#ifndef VIAMLITE_SIM_OUT_H
#define VIAMLITE_SIM_OUT_H

#include <stddef.h>

/* Keep fd 1 for JSON; route everything else (libsimavr's printf) to stderr. */
int out_init(void);
/* Write one complete JSON object line (no newline in fmt) and flush it. */
void out_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Escape s as a JSON string (with quotes) into buf. */
const char *out_str(char *buf, size_t n, const char *s);
/* {"event": "ok"|"error", "cmd": .., "error": ..} replies to control commands. */
void out_ok(const char *cmd);
void out_error(const char *cmd, const char *error);

#endif
