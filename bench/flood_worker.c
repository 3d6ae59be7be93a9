/* flood_worker: the worker of bench/capture.py, writing a flood of lines
 * to its stdout as fast as it can.
 *
 * Usage: flood_worker [--bytes N] [--line-bytes L] [--start-file PATH]
 *
 * It writes N / L lines (default 1 GiB of 100-byte lines) of exactly L
 * bytes each, newline included, then one line "END COUNT" (COUNT: the
 * number of lines before it), and exits 0. Line K is K in decimal,
 * zero-padded to the width of the largest line number, then a space and
 * "abcdefghijklmnopqrstuvwxyz" repeated, cut to fit:
 *
 *   00000000 abcdefghijklmnopqrstuvwxyzabcdefghij...xyzabcdefghijklmnopq\n
 *
 * so bench/capture.py can regenerate the whole stream and check that every
 * line arrived, intact and in order. The lines go out in write(2) calls of
 * as many whole lines as fit in 64 KiB (at least one line).
 *
 * With --start-file it reads CLOCK_MONOTONIC just before its first write
 * and appends "PID MONOTONIC_NS\n" to PATH in one O_APPEND write: the
 * moment the output starts, on the clock of Python's time.monotonic_ns(). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { kChunk = 64 * 1024 };

static void usage(void) {
  static const char text[] =
      "usage: flood_worker [--bytes N] [--line-bytes L] [--start-file PATH]\n";
  (void)!write(2, text, sizeof text - 1);
  exit(2);
}

static unsigned long long number(const char *arg) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(arg, &end, 10);
  if (errno || end == arg || *end || arg[0] == '-') usage();
  return v;
}

/* Writes all of buf to fd, whatever the partial writes; exits on error. */
static void write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("flood_worker: write");
      exit(1);
    }
    buf += n;
    len -= (size_t)n;
  }
}

int main(int argc, char **argv) {
  unsigned long long total = 1ULL << 30, line_bytes = 100;
  const char *start_file = NULL;
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) usage();
    if (strcmp(argv[i], "--bytes") == 0)
      total = number(argv[++i]);
    else if (strcmp(argv[i], "--line-bytes") == 0)
      line_bytes = number(argv[++i]);
    else if (strcmp(argv[i], "--start-file") == 0)
      start_file = argv[++i];
    else
      usage();
  }
  unsigned long long lines = line_bytes ? total / line_bytes : 0;
  /* The width of the largest line number, lines - 1 (at least 1 digit). */
  int width = 1;
  for (unsigned long long v = lines > 1 ? lines - 1 : 0; v >= 10; v /= 10)
    width++;
  if (line_bytes < (unsigned long long)width + 1 || line_bytes > kChunk) {
    fprintf(stderr,
            "flood_worker: --line-bytes must be %d to %d for %llu lines\n",
            width + 1, kChunk, lines);
    return 2;
  }
  size_t per_chunk = kChunk / line_bytes;
  size_t L = (size_t)line_bytes;
  char *buf = malloc(per_chunk * L);
  if (!buf) {
    perror("flood_worker: malloc");
    return 1;
  }
  /* Every line's text after the number is the same: fill it in once. */
  for (size_t k = 0; k < per_chunk; k++) {
    char *line = buf + k * L;
    for (size_t j = (size_t)width; j + 1 < L; j++)
      line[j] = j == (size_t)width ? ' ' : (char)('a' + (j - width - 1) % 26);
    line[L - 1] = '\n';
  }
  /* The current line number as decimal digits, incremented in place. */
  char digits[32];
  memset(digits, '0', sizeof digits);

  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (start_file) {
    char text[64];
    int n = snprintf(text, sizeof text, "%ld %lld\n", (long)getpid(),
                     (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
    int fd = open(start_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                  0644);
    if (fd < 0 || write(fd, text, (size_t)n) != n) {
      perror("flood_worker: start file");
      return 1;
    }
    close(fd);
  }

  unsigned long long left = lines;
  while (left > 0) {
    size_t k = left < per_chunk ? (size_t)left : per_chunk;
    for (size_t i = 0; i < k; i++) {
      memcpy(buf + i * L, digits, (size_t)width);
      for (int d = width - 1; d >= 0; d--) {
        if (digits[d] != '9') {
          digits[d]++;
          break;
        }
        digits[d] = '0';
      }
    }
    write_all(1, buf, k * L);
    left -= k;
  }
  char end[64];
  int n = snprintf(end, sizeof end, "END %llu\n", lines);
  write_all(1, end, (size_t)n);
  return 0;
}
