/* pipe_copy: the baseline of bench/capture.py, the least a program can do
 * to get a pipe's contents into a file.
 *
 * Usage: flood_worker ... | pipe_copy [--splice] OUT
 *
 * Copies stdin to OUT (opened O_WRONLY|O_CREAT|O_TRUNC) until end of file:
 * by default with a read(2) of up to 64 KiB into a buffer and a write(2)
 * of what it got, with --splice with splice(2) of up to 64 KiB from the
 * pipe straight into the file, no copy through user space (stdin must be a
 * pipe). At the end it prints one line to stderr:
 *
 *   pipe_copy: bytes=N last_write_ns=T utime_us=U stime_us=S
 *
 * T: CLOCK_MONOTONIC after its last write or splice returned (the moment
 * the whole output was in the file); U, S: its own CPU time (getrusage). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum { kChunk = 64 * 1024 };

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void fail(const char *what) {
  fprintf(stderr, "pipe_copy: %s: %s\n", what, strerror(errno));
  exit(1);
}

int main(int argc, char **argv) {
  int use_splice = argc == 3 && strcmp(argv[1], "--splice") == 0;
  if (argc != 2 + use_splice || argv[argc - 1][0] == '-') {
    static const char usage[] = "usage: pipe_copy [--splice] OUT\n";
    (void)!write(2, usage, sizeof usage - 1);
    return 2;
  }
  int out = open(argv[argc - 1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                 0644);
  if (out < 0) fail(argv[argc - 1]);

  static char buf[kChunk];
  long long copied = 0, last_write = 0;
  for (;;) {
    ssize_t n;
    if (use_splice) {
      n = splice(0, NULL, out, NULL, kChunk, SPLICE_F_MOVE | SPLICE_F_MORE);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail("splice");
      }
    } else {
      n = read(0, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail("read");
      }
      for (ssize_t done = 0; done < n;) {
        ssize_t w = write(out, buf + done, (size_t)(n - done));
        if (w < 0) {
          if (errno == EINTR) continue;
          fail("write");
        }
        done += w;
      }
    }
    if (n == 0) break;
    copied += n;
    last_write = now_ns();
  }
  if (close(out) != 0) fail("close");

  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  fprintf(stderr, "pipe_copy: bytes=%lld last_write_ns=%lld utime_us=%lld "
          "stime_us=%lld\n", copied, last_write,
          (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
          (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec);
  return 0;
}
