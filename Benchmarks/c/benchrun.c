// benchrun.c - run a group of commands repeatedly, interleaved, and report what one run of
// each costs.
//
//   cgdoctor-bench-run WARMUPS RUNS OUTPREFIX -- [@MAXRUNS] CMD [ARGS...] [';;' [@MAXRUNS] CMD [ARGS...]]...
//
// Round r runs every command once, in order, so a burst of load from other work on the machine
// lands on all of them alike rather than on whichever happened to be measured at that moment.
// `@N` caps the runs of a slow command (it takes part in the first N rounds only).
// Each run is fork + execvp with stdin from /dev/null, stdout to OUTPREFIX.<i> and stderr to
// OUTPREFIX.<i>.err (the last run's output stays there). wait4(2) gives the child's own CPU time
// (user + system, µs resolution, all its threads) and peak RSS (ru_maxrss); wall time is
// CLOCK_MONOTONIC around fork..wait4. Prints one tab-separated line per command, in order:
//   wall_median_ms  wall_min_ms  cpu_median_ms  rss_max_mib  runs  exit_codes(distinct, comma list)
// Exit status: 0 if every run ended by exit() (any code: the caller judges codes), 1 if a run
// was killed by a signal or could not start.
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

typedef struct {
  char **argv;
  int max, n;
  double *wall, *cpu;
  long rss;
  int codes[16], ncodes;
  char out[4096], err[4200];
} cmd_t;

static double now_ms(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
static double median(double *v, int n) { qsort(v, (size_t)n, sizeof *v, cmpd); return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2; }

static int run_once(cmd_t *c, int record) {
  double t0 = now_ms();
  pid_t p = fork();
  if (p < 0) { perror("fork"); return 1; }
  if (p == 0) {
    int o = open(c->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int e = open(c->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int n = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (o < 0 || e < 0 || n < 0) _exit(126);
    dup2(n, 0); dup2(o, 1); dup2(e, 2);
    execvp(c->argv[0], c->argv);
    _exit(127);
  }
  int st;
  struct rusage u;
  while (wait4(p, &st, 0, &u) < 0) if (errno != EINTR) { perror("wait4"); return 1; }
  double t = now_ms() - t0;
  if (!record) return 0;
  c->wall[c->n] = t;
  c->cpu[c->n] = (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
  c->n++;
  if (u.ru_maxrss > c->rss) c->rss = u.ru_maxrss;
  if (!WIFEXITED(st)) return 1;
  int code = WEXITSTATUS(st), known = 0;
  for (int k = 0; k < c->ncodes; k++) known |= c->codes[k] == code;
  if (!known && c->ncodes < 16) c->codes[c->ncodes++] = code;
  return code == 126 || code == 127;
}

int main(int argc, char **argv) {
  if (argc < 6 || strcmp(argv[4], "--") != 0) {
    fprintf(stderr, "usage: cgdoctor-bench-run WARMUPS RUNS OUTPREFIX -- [@N] CMD [ARGS...] [;; [@N] CMD [ARGS...]]...\n");
    return 2;
  }
  int warm = atoi(argv[1]), runs = atoi(argv[2]);
  if (runs < 1) runs = 1;
  const char *prefix = argv[3];
  cmd_t *cmds = calloc((size_t)argc, sizeof *cmds);
  int nc = 0;
  for (int i = 5; i < argc;) {
    cmd_t *c = &cmds[nc];
    c->max = runs;
    if (argv[i][0] == '@') { c->max = atoi(argv[i] + 1); if (c->max < 1) c->max = 1; if (c->max > runs) c->max = runs; i++; }
    if (i >= argc || !strcmp(argv[i], ";;")) { fprintf(stderr, "cgdoctor-bench-run: empty command\n"); return 2; }
    c->argv = argv + i;
    while (i < argc && strcmp(argv[i], ";;")) i++;
    if (i < argc) argv[i++] = NULL;  // end this command's argv at the separator
    c->wall = calloc((size_t)c->max, sizeof(double));
    c->cpu = calloc((size_t)c->max, sizeof(double));
    snprintf(c->out, sizeof c->out, "%s.%d", prefix, nc);
    snprintf(c->err, sizeof c->err, "%s.%d.err", prefix, nc);
    nc++;
  }
  int broken = 0;
  for (int r = -warm; r < runs; r++)
    for (int k = 0; k < nc; k++)
      if (r < cmds[k].max) broken |= run_once(&cmds[k], r >= 0);
  for (int k = 0; k < nc; k++) {
    cmd_t *c = &cmds[k];
    double wmed = median(c->wall, c->n), wmin = c->wall[0], cmed = median(c->cpu, c->n);
    printf("%.3f\t%.3f\t%.3f\t%.1f\t%d\t", wmed, wmin, cmed, c->rss / 1024.0, c->n);
    for (int i = 0; i < c->ncodes; i++) printf("%s%d", i ? "," : "", c->codes[i]);
    printf("%s\n", c->ncodes ? "" : "-");
  }
  return broken;
}
