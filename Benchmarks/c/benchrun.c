// benchrun.c - run one command repeatedly and report what one run of it costs.
//
//   cgdoctor-bench-run WARMUPS RUNS OUTFILE -- COMMAND [ARGS...]
//
// Each run is fork + execvp with stdout sent to OUTFILE (the last run's output stays there; use
// /dev/null to discard) and stderr to OUTFILE.err. wait4(2) gives the child's own CPU time (user +
// system, microsecond resolution) and peak RSS (ru_maxrss), so no sampling or /usr/bin/time
// rounding is involved; wall time is CLOCK_MONOTONIC around fork..wait4.
// Prints one tab-separated line:
//   wall_median_ms  wall_min_ms  cpu_median_ms  rss_max_mib  runs  exit_codes(comma list, distinct)
// Exit status: 0 if every run ended by exit() (any code; the caller judges codes), 1 if a run was
// killed by a signal or could not start.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(int argc, char **argv) {
  if (argc < 6 || strcmp(argv[4], "--") != 0) {
    fprintf(stderr, "usage: cgdoctor-bench-run WARMUPS RUNS OUTFILE -- COMMAND [ARGS...]\n");
    return 2;
  }
  int warm = atoi(argv[1]), runs = atoi(argv[2]);
  const char *out = argv[3];
  char err[4096];
  snprintf(err, sizeof err, "%s.err", out);
  if (!strcmp(out, "/dev/null")) snprintf(err, sizeof err, "/dev/null");
  if (runs < 1) runs = 1;
  double *wall = calloc((size_t)runs, sizeof *wall), *cpu = calloc((size_t)runs, sizeof *cpu);
  long rss = 0;
  int codes[16], ncodes = 0, broken = 0;
  for (int i = -warm; i < runs; i++) {
    double t0 = now_ms();
    pid_t p = fork();
    if (p < 0) { perror("fork"); return 1; }
    if (p == 0) {
      int o = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      int e = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      int n = open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (o < 0 || e < 0 || n < 0) _exit(126);
      dup2(n, 0); dup2(o, 1); dup2(e, 2);
      execvp(argv[5], argv + 5);
      _exit(127);
    }
    int st;
    struct rusage u;
    while (wait4(p, &st, 0, &u) < 0) if (errno != EINTR) { perror("wait4"); return 1; }
    double t = now_ms() - t0;
    if (i < 0) continue;
    wall[i] = t;
    cpu[i] = (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
    if (u.ru_maxrss > rss) rss = u.ru_maxrss;
    if (!WIFEXITED(st)) { broken = 1; continue; }
    int c = WEXITSTATUS(st), known = 0;
    if (c == 126 || c == 127) broken = 1;
    for (int k = 0; k < ncodes; k++) known |= codes[k] == c;
    if (!known && ncodes < 16) codes[ncodes++] = c;
  }
  qsort(wall, (size_t)runs, sizeof *wall, cmpd);
  double wmin = wall[0];
  qsort(cpu, (size_t)runs, sizeof *cpu, cmpd);
  // median of an even count: mean of the two middle runs
  double wmed = runs % 2 ? wall[runs / 2] : (wall[runs / 2 - 1] + wall[runs / 2]) / 2;
  double cmed = runs % 2 ? cpu[runs / 2] : (cpu[runs / 2 - 1] + cpu[runs / 2]) / 2;
  printf("%.3f\t%.3f\t%.3f\t%.1f\t%d\t", wmed, wmin, cmed, rss / 1024.0, runs);
  for (int k = 0; k < ncodes; k++) printf("%s%d", k ? "," : "", codes[k]);
  printf("%s\n", ncodes ? "" : "-");
  return broken;
}
