/* JSON lines on stdout: libsimavr prints to stdout, so our lines get a private fd. */
#include "out.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static FILE *json_out;

int out_init(void)
{
	int fd = dup(1);
	if (fd < 0 || dup2(2, 1) < 0)
		return -1;
	json_out = fdopen(fd, "w");
	return json_out ? 0 : -1;
}

void out_line(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(json_out, fmt, ap);
	va_end(ap);
	fputc('\n', json_out);
	fflush(json_out);
}

const char *out_str(char *buf, size_t n, const char *s)
{
	size_t o = 0;
	if (n < 3)
		return "\"\"";
	buf[o++] = '"';
	for (; *s && o + 8 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = c;
		} else if (c < 0x20) {
			o += snprintf(buf + o, n - o, "\\u%04x", c);
		} else {
			buf[o++] = c;
		}
	}
	buf[o++] = '"';
	buf[o] = 0;
	return buf;
}

void out_ok(const char *cmd)
{
	char c[8300];
	out_line("{\"event\": \"ok\", \"cmd\": %s}", out_str(c, sizeof c, cmd));
}

void out_error(const char *cmd, const char *error)
{
	char c[8300], e[1024];
	out_line("{\"event\": \"error\", \"cmd\": %s, \"error\": %s}",
		out_str(c, sizeof c, cmd), out_str(e, sizeof e, error));
}
