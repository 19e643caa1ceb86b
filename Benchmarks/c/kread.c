// kread.c - the C reference ("the kernel limit"): read(2) the same files cgdoctor reads and
// tokenize them the way a careful parser must, with no more work than that.
//
//   cgdoctor-bench-kread node             whole node: readdir(/proc); /proc/cgroups, osrelease; for every pid
//                                         /proc/<pid>/cgroup (tokenized) and readlink ns/mnt; one
//                                         /proc/<pid>/mountinfo (tokenized) per distinct mount ns
//   cgdoctor-bench-kread paths PID        /proc/PID/cgroup + /proc/1/mountinfo + /proc/cgroups,
//                                         then each hierarchy's directory (mount point + path)
//   cgdoctor-bench-kread mounts           /proc/self/mountinfo, tokenized
//   cgdoctor-bench-kread parse FILE ITERS reads FILE once into memory, then tokenizes it ITERS times;
//                                         prints median and mean CPU per parse
//
// Tokenizing means: split fields, find the " - " separator after the optional fields, parse
// mount id, parent id and major:minor, and copy root, mount point and source with \ooo octal
// escapes decoded into an arena; /proc/<pid>/cgroup lines are split into id, controllers and a
// path copied to an arena. Every mode prints one line of counts, so all tools can be compared.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static char *buf;
static size_t cap;

// read(2) until EOF into the reusable buffer; seq_file returns about a page per call.
static ssize_t slurp(int dirfd, const char *path) {
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t len = 0;
  for (;;) {
    if (cap - len < 8192) { cap = cap ? cap * 2 : 1 << 16; buf = realloc(buf, cap); }
    ssize_t r = read(fd, buf + len, cap - len);
    if (r < 0) { if (errno == EINTR) continue; close(fd); return -1; }
    if (r == 0) break;
    len += (size_t)r;
  }
  close(fd);
  return (ssize_t)len;
}

// ---------------------------------------------------------------- arena of decoded strings
static char *arena;
static size_t alen, acap;
static uint32_t keep(const char *s, size_t n, int decode) {
  if (alen + n + 1 > acap) { acap = acap ? acap * 2 : 1 << 20; while (acap < alen + n + 1) acap *= 2; arena = realloc(arena, acap); }
  uint32_t at = (uint32_t)alen;
  char *w = arena + alen;
  for (size_t i = 0; i < n; i++) {
    if (decode && s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
        s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      *w++ = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else *w++ = s[i];
  }
  *w++ = 0;
  alen = (size_t)(w - arena);
  return at;
}

// ---------------------------------------------------------------- mountinfo
typedef struct {
  uint32_t id, parent, major, minor;
  uint32_t root, mountpoint, source;           // arena offsets, decoded
  uint32_t opts, opts_len, fstype, fstype_len, super, super_len;  // buffer offsets
  uint16_t noptional;
} mnt_t;
static mnt_t *mnts;
static size_t nmnt, mntcap;
static uint64_t bad_lines, optional_fields;

static uint32_t num(const char *s, const char *e) { uint32_t v = 0; while (s < e && *s >= '0' && *s <= '9') v = v * 10 + (uint32_t)(*s++ - '0'); return v; }

static void parse_mountinfo(const char *p, size_t len) {
  const char *end = p + len;
  nmnt = 0;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) nl = end;
    const char *f[48], *fe[48];
    int nf = 0;
    for (const char *s = p; nf < 48;) {
      const char *sp = memchr(s, ' ', (size_t)(nl - s));
      f[nf] = s; fe[nf] = sp ? sp : nl; nf++;
      if (!sp) break;
      s = sp + 1;
    }
    int sep = -1;
    for (int i = 6; i < nf; i++) if (fe[i] - f[i] == 1 && f[i][0] == '-') { sep = i; break; }
    if (sep < 0 || nf < sep + 4) { bad_lines++; p = nl + 1; continue; }
    if (nmnt == mntcap) { mntcap = mntcap ? mntcap * 2 : 1024; mnts = realloc(mnts, mntcap * sizeof *mnts); }
    mnt_t *m = &mnts[nmnt++];
    m->id = num(f[0], fe[0]);
    m->parent = num(f[1], fe[1]);
    const char *colon = memchr(f[2], ':', (size_t)(fe[2] - f[2]));
    m->major = num(f[2], colon ? colon : fe[2]);
    m->minor = colon ? num(colon + 1, fe[2]) : 0;
    m->root = keep(f[3], (size_t)(fe[3] - f[3]), 1);
    m->mountpoint = keep(f[4], (size_t)(fe[4] - f[4]), 1);
    m->opts = (uint32_t)(f[5] - buf); m->opts_len = (uint32_t)(fe[5] - f[5]);
    m->noptional = (uint16_t)(sep - 6);
    optional_fields += (uint64_t)(sep - 6);
    m->fstype = (uint32_t)(f[sep + 1] - buf); m->fstype_len = (uint32_t)(fe[sep + 1] - f[sep + 1]);
    m->source = keep(f[sep + 2], (size_t)(fe[sep + 2] - f[sep + 2]), 1);
    m->super = (uint32_t)(f[sep + 3] - buf); m->super_len = (uint32_t)(nl - f[sep + 3]);
    p = nl + 1;
  }
}

// ---------------------------------------------------------------- /proc/<pid>/cgroup
typedef struct { int pid; uint32_t hid, ctrl, ctrl_len, path; } cg_t;
static cg_t *cgs;
static size_t ncg, cgcap;

static void parse_cgroup(int pid, const char *p, size_t len) {
  const char *end = p + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) nl = end;
    const char *c1 = memchr(p, ':', (size_t)(nl - p));
    const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(nl - c1 - 1)) : NULL;
    if (!c2) { bad_lines++; p = nl + 1; continue; }
    if (ncg == cgcap) { cgcap = cgcap ? cgcap * 2 : 4096; cgs = realloc(cgs, cgcap * sizeof *cgs); }
    cg_t *c = &cgs[ncg++];
    c->pid = pid;
    c->hid = num(p, c1);
    c->ctrl = keep(c1 + 1, (size_t)(c2 - c1 - 1), 0);
    c->ctrl_len = (uint32_t)(c2 - c1 - 1);
    c->path = keep(c2 + 1, (size_t)(nl - c2 - 1), 0);
    p = nl + 1;
  }
}

// ---------------------------------------------------------------- modes
// The per-hierarchy files cgdoctor check reads in the runtime's (PID 1's) mount namespace:
// release_agent of every v1 hierarchy, cgroup.stat and cgroup.controllers of cgroup2.
static void hierarchy_files(void) {
  char path[4200];
  size_t n = nmnt;
  mnt_t *copy = malloc(n * sizeof *copy);
  memcpy(copy, mnts, n * sizeof *copy);
  char *text = malloc(cap);
  memcpy(text, buf, cap);  // slurp() below reuses buf
  for (size_t i = 0; i < n; i++) {
    const char *fs = text + copy[i].fstype, *mp = arena + copy[i].mountpoint;
    if (copy[i].fstype_len == 6 && !memcmp(fs, "cgroup", 6)) {
      snprintf(path, sizeof path, "%s/release_agent", mp);
      slurp(AT_FDCWD, path);
    } else if (copy[i].fstype_len == 7 && !memcmp(fs, "cgroup2", 7)) {
      snprintf(path, sizeof path, "%s/cgroup.stat", mp);
      slurp(AT_FDCWD, path);
      snprintf(path, sizeof path, "%s/cgroup.controllers", mp);
      slurp(AT_FDCWD, path);
    }
  }
  free(copy);
  free(text);
}

static int node(void) {
  uint64_t procs = 0, vanished = 0, mounts = 0, nns = 0, cgbytes = 0;
  static uint64_t seen[65536];
  ssize_t r = slurp(AT_FDCWD, "/proc/cgroups");
  if (r < 0) { perror("/proc/cgroups"); return 2; }
  slurp(AT_FDCWD, "/proc/sys/kernel/osrelease");
  DIR *d = opendir("/proc");
  if (!d) { perror("/proc"); return 2; }
  int dfd = dirfd(d);
  struct dirent *e;
  char path[300], link[64];
  while ((e = readdir(d))) {
    const char *n = e->d_name;
    if (n[0] < '0' || n[0] > '9') continue;
    int pid = atoi(n);
    procs++;
    snprintf(path, sizeof path, "%s/cgroup", n);
    if ((r = slurp(dfd, path)) < 0) { vanished++; continue; }
    cgbytes += (uint64_t)r;
    parse_cgroup(pid, buf, (size_t)r);
    snprintf(path, sizeof path, "%s/ns/mnt", n);
    ssize_t l = readlinkat(dfd, path, link, sizeof link - 1);
    // PID 1's link can be unreadable (EACCES here: its init is not dumpable); its namespace is the
    // runtime's and is read regardless, as cgdoctor does.
    if (l < 0 && pid != 1) { vanished++; continue; }
    if (l < 0) snprintf(link, sizeof link, "mnt:[1]");
    else link[l] = 0;
    uint64_t ino = strtoull(link + 5, NULL, 10);  // "mnt:[4026531841]"
    uint64_t h = ino & 65535;
    int known = 0;
    while (seen[h]) { if (seen[h] == ino) { known = 1; break; } h = (h + 1) & 65535; }
    if (known) continue;
    seen[h] = ino;
    nns++;
    snprintf(path, sizeof path, "%s/comm", n);  // name the namespace's first process, as cgdoctor does
    if (slurp(dfd, path) < 0) { vanished++; continue; }
    snprintf(path, sizeof path, "%s/mountinfo", n);
    if ((r = slurp(dfd, path)) < 0) { vanished++; continue; }
    parse_mountinfo(buf, (size_t)r);
    mounts += nmnt;
    if (pid == 1) hierarchy_files();
  }
  closedir(d);
  printf("procs=%llu vanished=%llu cgroup_lines=%zu cgroup_bytes=%llu mount_namespaces=%llu mounts=%llu bad=%llu\n",
         (unsigned long long)procs, (unsigned long long)vanished, ncg, (unsigned long long)cgbytes,
         (unsigned long long)nns, (unsigned long long)mounts, (unsigned long long)bad_lines);
  return 0;
}

static int has_option(const char *list, size_t n, const char *opt, size_t on) {
  for (const char *s = list, *e = list + n; s < e;) {
    const char *c = memchr(s, ',', (size_t)(e - s));
    if (!c) c = e;
    if ((size_t)(c - s) == on && !memcmp(s, opt, on)) return 1;
    s = c + 1;
  }
  return 0;
}

static int paths(int pid) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/cgroup", pid);
  ssize_t r = slurp(AT_FDCWD, p);
  if (r < 0) { perror(p); return 2; }
  parse_cgroup(pid, buf, (size_t)r);
  char *cg = malloc((size_t)r + 1);
  memcpy(cg, buf, (size_t)r);
  if (slurp(AT_FDCWD, "/proc/cgroups") < 0) { perror("/proc/cgroups"); return 2; }
  // resolved against PID 1's mount namespace (the runtime's view), as `cgdoctor paths` does
  if ((r = slurp(AT_FDCWD, "/proc/1/mountinfo")) < 0) { perror("/proc/1/mountinfo"); return 2; }
  parse_mountinfo(buf, (size_t)r);
  int unresolved = 0;
  for (size_t i = 0; i < ncg; i++) {
    const char *ctrl = arena + cgs[i].ctrl, *cpath = arena + cgs[i].path;
    const char *dir = NULL;
    for (size_t j = 0; j < nmnt && !dir; j++) {
      mnt_t *m = &mnts[j];
      const char *fs = buf + m->fstype;
      if (cgs[i].ctrl_len == 0) {
        if (m->fstype_len == 7 && !memcmp(fs, "cgroup2", 7)) dir = arena + m->mountpoint;
        continue;
      }
      if (m->fstype_len != 6 || memcmp(fs, "cgroup", 6)) continue;
      int all = 1;  // every controller of the line must be a super option of the mount
      for (const char *s = ctrl, *e = ctrl + cgs[i].ctrl_len; s < e && all;) {
        const char *c = memchr(s, ',', (size_t)(e - s));
        if (!c) c = e;
        all = has_option(buf + m->super, m->super_len, s, (size_t)(c - s));
        s = c + 1;
      }
      if (all) dir = arena + m->mountpoint;
    }
    if (dir) printf("%u:%s %s%s\n", cgs[i].hid, ctrl, dir, cpath);
    else { printf("%u:%s unresolved\n", cgs[i].hid, ctrl); unresolved++; }
  }
  return unresolved ? 1 : 0;
}

static double now_ms(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static double cpu_ms(void) {
  struct rusage u; getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}
static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

static int parse_file(const char *file, int iters) {
  ssize_t r = slurp(AT_FDCWD, file);
  if (r < 0) { perror(file); return 2; }
  char *copy = malloc((size_t)r);
  memcpy(copy, buf, (size_t)r);  // "held in memory": the buffer the parser sees
  free(buf); buf = copy; cap = (size_t)r;
  if (iters < 1) iters = 1;
  double *t = calloc((size_t)iters, sizeof *t);
  parse_mountinfo(buf, (size_t)r);  // warm-up: arena and record array reach their size
  double c0 = cpu_ms();
  for (int i = 0; i < iters; i++) {
    alen = 0;
    double t0 = now_ms();
    parse_mountinfo(buf, (size_t)r);
    t[i] = now_ms() - t0;
  }
  double cpu = (cpu_ms() - c0) / iters;
  qsort(t, (size_t)iters, sizeof *t, cmpd);
  printf("parse_median_ms=%.4f parse_cpu_ms=%.4f iters=%d bytes=%zd mounts=%zu optional=%llu bad=%llu\n", t[iters / 2], cpu,
         iters, r, nmnt, (unsigned long long)optional_fields / (unsigned long long)(iters + 1), (unsigned long long)bad_lines);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "node")) return node();
  if (argc == 3 && !strcmp(argv[1], "paths")) return paths(atoi(argv[2]));
  if (argc == 2 && !strcmp(argv[1], "mounts")) {
    ssize_t r = slurp(AT_FDCWD, "/proc/self/mountinfo");
    if (r < 0) { perror("mountinfo"); return 2; }
    parse_mountinfo(buf, (size_t)r);
    printf("bytes=%zd mounts=%zu optional=%llu bad=%llu\n", r, nmnt, (unsigned long long)optional_fields, (unsigned long long)bad_lines);
    return 0;
  }
  if (argc == 4 && !strcmp(argv[1], "parse")) return parse_file(argv[2], atoi(argv[3]));
  fprintf(stderr, "usage: cgdoctor-bench-kread node | paths PID | mounts | parse FILE ITERS\n");
  return 2;
}
