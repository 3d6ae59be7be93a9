/* bench_worker: the worker both supervisors start in the benchmarks.
 *
 * Usage: bench_worker EVENTS_FILE
 *
 * The first thing it does after exec is read CLOCK_MONOTONIC and append
 * "PID MONOTONIC_NS\n" to EVENTS_FILE with a single O_APPEND write (atomic
 * with respect to the other workers' appends). Then it sleeps in pause()
 * until a signal with a default action of "terminate" (SIGTERM) ends it.
 * It writes nothing else, to stdout or anywhere. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (argc != 2) {
    static const char usage[] = "usage: bench_worker EVENTS_FILE\n";
    (void)!write(2, usage, sizeof usage - 1);
    return 2;
  }
  char line[64];
  int n = snprintf(line, sizeof line, "%ld %lld\n", (long)getpid(),
                   (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
  int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, line, (size_t)n) != n) {
    perror("bench_worker: events file");
    return 1;
  }
  close(fd);
  for (;;) pause();
}
