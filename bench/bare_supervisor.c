/* bare_supervisor: the baseline the benchmarks compare workerd against.
 *
 * Usage: bare_supervisor [-m fork|vfork] N PROGRAM [ARGS...]
 *
 * Starts N copies of PROGRAM as fast as it can (fork + execv, nothing else:
 * no config, no pipes, no process groups, no bookkeeping beyond a pid
 * table), then supervises them: every child that exits is replaced at once
 * by a new one. On SIGTERM or SIGINT it sends SIGTERM to every child, reaps
 * them all and exits 0.
 *
 * Signals are taken synchronously with sigwaitinfo(), so an idle bare
 * supervisor sleeps in one system call and never wakes up. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t *pids;
static int count;
static char **child_argv;
static int use_vfork;
static sigset_t handled;

static void die(const char *what) {
  fprintf(stderr, "bare_supervisor: %s: %s\n", what, strerror(errno));
  exit(1);
}

static pid_t spawn(void) {
  pid_t pid = use_vfork ? vfork() : fork();
  if (pid == 0) {
    /* The mask survives execve: give the worker a clean one. */
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, NULL);
    execv(child_argv[0], child_argv);
    _exit(127);
  }
  if (pid < 0) die("fork");
  return pid;
}

static void stop_all(void) {
  for (int i = 0; i < count; ++i)
    if (pids[i] > 0) kill(pids[i], SIGTERM);
  int left = 0;
  for (int i = 0; i < count; ++i) left += pids[i] > 0;
  while (left > 0) {
    pid_t pid = waitpid(-1, NULL, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break; /* ECHILD: nothing left */
    }
    for (int i = 0; i < count; ++i)
      if (pids[i] == pid) {
        pids[i] = 0;
        --left;
        break;
      }
  }
}

int main(int argc, char **argv) {
  int opt;
  while ((opt = getopt(argc, argv, "+m:")) != -1) {
    if (opt == 'm' && strcmp(optarg, "fork") == 0) use_vfork = 0;
    else if (opt == 'm' && strcmp(optarg, "vfork") == 0) use_vfork = 1;
    else goto usage;
  }
  if (argc - optind < 2) goto usage;
  count = atoi(argv[optind]);
  if (count < 0) goto usage;
  child_argv = argv + optind + 1;
  pids = calloc(count > 0 ? (size_t)count : 1, sizeof *pids);
  if (pids == NULL) die("calloc");

  sigemptyset(&handled);
  sigaddset(&handled, SIGCHLD);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGINT);
  if (sigprocmask(SIG_BLOCK, &handled, NULL) < 0) die("sigprocmask");

  for (int i = 0; i < count; ++i) pids[i] = spawn();

  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&handled, &info);
    if (sig < 0) {
      if (errno == EINTR) continue;
      die("sigwaitinfo");
    }
    if (sig == SIGTERM || sig == SIGINT) break;
    /* SIGCHLD: one pending signal may stand for many exits. */
    for (;;) {
      pid_t pid = waitpid(-1, NULL, WNOHANG);
      if (pid <= 0) break;
      for (int i = 0; i < count; ++i)
        if (pids[i] == pid) {
          pids[i] = spawn();
          break;
        }
    }
  }
  stop_all();
  return 0;

usage:
  fprintf(stderr, "usage: bare_supervisor [-m fork|vfork] N PROGRAM [ARGS...]\n");
  return 2;
}
