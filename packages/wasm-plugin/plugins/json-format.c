/* json-format: reads JSON on stdin, writes it pretty-printed (2-space indent) on stdout.
 * Exit 0 on success, 1 with a message on stderr when the input is not well-formed JSON.
 * Pure computation: needs only stdio. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *in;
static size_t len, pos;
static int depth;

static void fail(const char *what) {
  fprintf(stderr, "json-format: %s at byte %zu\n", what, pos);
  exit(1);
}
static void ws(void) {
  while (pos < len && (in[pos] == ' ' || in[pos] == '\t' || in[pos] == '\n' || in[pos] == '\r')) pos++;
}
static void indent(void) {
  putchar('\n');
  for (int i = 0; i < depth; i++) fputs("  ", stdout);
}
static void value(void);
static void string(void) {
  putchar('"');
  pos++;
  while (pos < len && in[pos] != '"') {
    if ((unsigned char)in[pos] < 0x20) fail("control character in string");
    if (in[pos] == '\\') {
      putchar(in[pos++]);
      if (pos >= len) break;
    }
    putchar(in[pos++]);
  }
  if (pos >= len) fail("unterminated string");
  putchar('"');
  pos++;
}
static void scalar(void) {
  size_t start = pos;
  while (pos < len && strchr(",]} \t\r\n", in[pos]) == NULL) pos++;
  size_t n = pos - start;
  if (n == 0) fail("expected a value");
  if (!((n == 4 && !memcmp(in + start, "true", 4)) || (n == 5 && !memcmp(in + start, "false", 5)) ||
        (n == 4 && !memcmp(in + start, "null", 4)))) {
    char *end;
    char tmp[64];
    if (n >= sizeof tmp) fail("number too long");
    memcpy(tmp, in + start, n);
    tmp[n] = 0;
    strtod(tmp, &end);
    if (*end != 0 || !(tmp[0] == '-' || (tmp[0] >= '0' && tmp[0] <= '9'))) fail("invalid literal");
  }
  fwrite(in + start, 1, n, stdout);
}
static void container(char open, char close) {
  putchar(open);
  pos++;
  depth++;
  ws();
  if (pos < len && in[pos] == close) {
    depth--;
    putchar(close);
    pos++;
    return;
  }
  for (;;) {
    indent();
    ws();
    if (open == '{') {
      if (pos >= len || in[pos] != '"') fail("expected a key");
      string();
      ws();
      if (pos >= len || in[pos] != ':') fail("expected ':'");
      pos++;
      fputs(": ", stdout);
    }
    value();
    ws();
    if (pos < len && in[pos] == ',') {
      putchar(',');
      pos++;
      continue;
    }
    if (pos < len && in[pos] == close) break;
    fail(open == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
  }
  depth--;
  indent();
  putchar(close);
  pos++;
}
static void value(void) {
  ws();
  if (pos >= len) fail("unexpected end of input");
  if (depth > 64) fail("nesting deeper than 64");
  if (in[pos] == '{') container('{', '}');
  else if (in[pos] == '[') container('[', ']');
  else if (in[pos] == '"') string();
  else scalar();
}
int main(void) {
  size_t cap = 4096;
  in = malloc(cap);
  size_t n;
  while (in && (n = fread(in + len, 1, cap - len, stdin)) > 0) {
    len += n;
    if (len == cap) in = realloc(in, cap *= 2);
  }
  if (!in) fail("out of memory");
  value();
  ws();
  if (pos != len) fail("trailing data");
  putchar('\n');
  return 0;
}
