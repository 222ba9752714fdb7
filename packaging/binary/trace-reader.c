/*
 * imds-sniff-trace-reader FILE PARENT_PID: copies FILE (a tracefs per_cpu/cpuN/trace_pipe_raw) to stdout until
 * read(2) returns 0, and dies with its parent (PR_SET_PDEATHSIG), so a SIGKILLed agent never
 * leaves a reader holding its tracefs instance open. The single binary ships it beside the
 * executable (statically linked) so that tracefs attribution needs neither the host's `cat` nor
 * `setpriv`: a FROM-scratch image has neither. src/attribute/tracefs/instance.ts runs it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: imds-sniff-trace-reader FILE PARENT_PID\n");
    return 2;
  }
  /* A parent that died before prctl took effect is no longer our parent (we were reparented). */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != (pid_t)atol(argv[2])) return 1;
  int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  static char buf[1 << 16];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
      return 1;
    }
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(STDOUT_FILENO, buf + off, (size_t)(n - off));
      if (w < 0) {
        if (errno == EINTR) continue;
        return errno == EPIPE ? 0 : 1;
      }
      off += w;
    }
  }
}
