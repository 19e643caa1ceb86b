// spawn.c - stage (and tear down) the process side of a big node.
//
//   cgdoctor-bench-spawn run TAG PROCS NAMESPACES BASE READYFILE
//       Creates PROCS processes spread over pod- and container-shaped cgroups
//           /sys/fs/cgroup/<h>/cgdoctor-test-bench-TAG/kubepods/{burstable,besteffort,}/pod<uid>/<64 hex>
//       in the v1 hierarchies of ALLOWED below (never memory, never name=systemd, never cgroup2).
//       The first NAMESPACES containers get a mount namespace of their own with ~40 mounts, shaped
//       like a runc container (overlay root, /proc, /dev, masked and read-only paths, cgroup bind
//       mounts whose root is the container's cgroup, secrets, subPath volumes), after pivot_root,
//       so each holds a small table, not a copy of the node's. BASE is a scratch directory on a
//       tmpfs of the caller's private mount namespace. Writes "READY <procs> <namespaces>" to
//       READYFILE, then waits for SIGTERM/SIGINT/SIGHUP (or a 2 h alarm), kills and reaps every
//       process, and removes every cgroup it made. Exit status 0 only if all of that succeeded.
//   cgdoctor-bench-spawn cleanup TAG
//       Safety net for run.sh's trap: kill whatever is left in cgdoctor-test-bench-TAG cgroups
//       (only our own processes can be there) and rmdir them deepest first, retrying while the
//       kernel finishes destroying them. Exit 0 if nothing is left.
//   cgdoctor-bench-spawn cleanup-stale
//       The same for every cgdoctor-test-bench-<pid> whose run.sh (<pid>) is gone.
//
// Robustness: the spawner is a child subreaper; every child has PR_SET_PDEATHSIG(SIGKILL) and
// checks its parent right after setting it, so SIGKILL of the spawner still takes all of them down.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CGROUP_SUPER_MAGIC 0x27e0eb
#define PREFIX "cgdoctor-test-bench-"
static const char *ALLOWED[] = {"cpu", "cpuacct", "cpuset", "devices", "freezer", "blkio", "pids"};
enum { NALLOWED = sizeof ALLOWED / sizeof ALLOWED[0] };

static const char *hier[NALLOWED];  // the allowed hierarchies that are mounted here as v1
static int nh;
static char tag[64];

static void hex(char *out, int n, unsigned seed) {
  unsigned x = seed * 2654435761u + 40503u;
  for (int i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    out[i] = "0123456789abcdef"[(x >> 9) & 15];
  }
  out[n] = 0;
}

static void find_hierarchies(void) {
  nh = 0;
  for (int i = 0; i < NALLOWED; i++) {
    char p[256];
    struct statfs sf;
    snprintf(p, sizeof p, "/sys/fs/cgroup/%s", ALLOWED[i]);
    if (statfs(p, &sf) == 0 && sf.f_type == CGROUP_SUPER_MAGIC) hier[nh++] = ALLOWED[i];
  }
}

// Cgroup path of container g (level 3), its pod (2), its QoS class dir (1), kubepods (0),
// relative to the hierarchy root. Guaranteed pods sit directly under kubepods.
static void cg_rel(char *out, size_t cap, int g, int level) {
  int pod = g / 2;
  char h[33], uid[40], cid[65];
  hex(h, 32, (unsigned)pod * 7u + 1u);
  snprintf(uid, sizeof uid, "%.8s_%.4s_%.4s_%.4s_%.12s", h, h + 8, h + 12, h + 16, h + 20);
  for (char *c = uid; *c; c++) if (*c == '_') *c = '-';
  hex(cid, 64, (unsigned)g * 13u + 5u);
  const char *qos = pod % 10 < 6 ? "/burstable" : pod % 10 < 9 ? "/besteffort" : "";
  int w = snprintf(out, cap, "/%s%s/kubepods", PREFIX, tag);
  if (level >= 1) w += snprintf(out + w, cap - (size_t)w, "%s", qos);
  if (level >= 2) w += snprintf(out + w, cap - (size_t)w, "/pod%s", uid);
  if (level >= 3) snprintf(out + w, cap - (size_t)w, "/%s", cid);
}

static int write_file(const char *path, const char *val) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t r = write(fd, val, strlen(val));
  close(fd);
  return r < 0 ? -1 : 0;
}

static int copy_file(const char *from, const char *to) {
  char b[256] = {0};
  int fd = open(from, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t r = read(fd, b, sizeof b - 1);
  close(fd);
  if (r <= 0) return -1;
  return write_file(to, b);
}

// mkdir one cgroup; in cpuset the new dir needs cpus/mems before tasks can join.
static int mk_cgroup(const char *h, const char *rel) {
  char p[512];
  snprintf(p, sizeof p, "/sys/fs/cgroup/%s%s", h, rel);
  if (mkdir(p, 0755) != 0) {
    if (errno != EEXIST) { fprintf(stderr, "spawn: mkdir %s: %s\n", p, strerror(errno)); return -1; }
    return 0;
  }
  if (!strcmp(h, "cpuset")) {
    char parent[512], f[600], t[600];
    snprintf(parent, sizeof parent, "%s", p);
    *strrchr(parent, '/') = 0;
    for (int i = 0; i < 2; i++) {
      const char *n = i ? "cpuset.mems" : "cpuset.cpus";
      snprintf(f, sizeof f, "%s/%s", parent, n);
      snprintf(t, sizeof t, "%s/%s", p, n);
      if (copy_file(f, t) != 0) { fprintf(stderr, "spawn: copy %s: %s\n", f, strerror(errno)); return -1; }
    }
  }
  return 0;
}

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

// ---------------------------------------------------------------- teardown (shared with cleanup)

// Depth-first: kill every task listed in a cgroup.procs below dir, then rmdir children first.
// Returns the number of directories that could not be removed.
static int remove_tree(const char *dir, int kill_tasks) {
  int left = 0;
  DIR *d = opendir(dir);
  if (!d) return errno == ENOENT ? 0 : 1;
  struct dirent *e;
  char p[4096];
  while ((e = readdir(d))) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    left += remove_tree(p, kill_tasks);
  }
  closedir(d);
  if (kill_tasks) {
    snprintf(p, sizeof p, "%s/cgroup.procs", dir);
    FILE *f = fopen(p, "re");
    if (f) {
      int pid;
      while (fscanf(f, "%d", &pid) == 1) if (pid > 1 && pid != getpid()) kill(pid, SIGKILL);
      fclose(f);
    }
  }
  if (rmdir(dir) != 0 && errno != ENOENT) left++;
  return left;
}

// Remove /sys/fs/cgroup/<h>/cgdoctor-test-bench-T in every allowed hierarchy, retrying for up to
// `seconds` while dying tasks and css are released. Returns directories left.
static int remove_all(const char *t, int kill_tasks, double seconds) {
  char p[512];
  double until = now() + seconds;
  for (;;) {
    int left = 0;
    for (int i = 0; i < nh; i++) {
      snprintf(p, sizeof p, "/sys/fs/cgroup/%s/%s%s", hier[i], PREFIX, t);
      left += remove_tree(p, kill_tasks);
    }
    if (left == 0) return 0;
    if (now() > until) {
      for (int i = 0; i < nh; i++) {
        snprintf(p, sizeof p, "/sys/fs/cgroup/%s/%s%s", hier[i], PREFIX, t);
        if (access(p, F_OK) == 0) fprintf(stderr, "spawn: could not remove %s\n", p);
      }
      return left;
    }
    usleep(20000);
  }
}

// ---------------------------------------------------------------- the pod mount namespace

static int nsfail;
static void m(const char *src, const char *dst, const char *type, unsigned long fl, const char *data) {
  if (mount(src, dst, type, fl, data) != 0) {
    fprintf(stderr, "spawn: mount %s on %s (%s): %s\n", src ? src : "-", dst, type ? type : "bind", strerror(errno));
    nsfail++;
  }
}
static void bind_ro(const char *src, const char *dst) {
  m(src, dst, NULL, MS_BIND | MS_REC, NULL);
  m(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}
static void put(const char *root, const char *rel, int is_dir) {
  char p[1024];
  snprintf(p, sizeof p, "%s%s", root, rel);
  if (is_dir) { mkdir(p, 0755); return; }
  int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) { (void)!write(fd, rel, strlen(rel)); close(fd); }
}

// Build the container's world in a new mount namespace and pivot into it. Runs in the
// container's first process before it forks the rest, so they all share the namespace.
static int enter_pod_namespace(int g, const char *base) {
  char dir[512], root[600], lower[600], upper[600], work[600], o[4096], p[1024], s[1024];
  nsfail = 0;
  if (unshare(CLONE_NEWNS) != 0) { perror("spawn: unshare"); return -1; }
  m(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
  snprintf(dir, sizeof dir, "%s/pods/%d", base, g);
  snprintf(root, sizeof root, "%s/rootfs", dir);
  snprintf(upper, sizeof upper, "%s/upper", dir);
  snprintf(work, sizeof work, "%s/work", dir);
  snprintf(lower, sizeof lower, "%s/pods/image", base);
  mkdir(dir, 0755); mkdir(root, 0755); mkdir(upper, 0755); mkdir(work, 0755);
  snprintf(o, sizeof o, "lowerdir=%s/l4:%s/l3:%s/l2:%s/l1,upperdir=%s,workdir=%s", lower, lower, lower, lower, upper, work);
  m("overlay", root, "overlay", 0, o);  // 1
  if (nsfail) return -1;
  static const char *dirs[] = {"/.oldroot", "/proc", "/dev", "/sys", "/etc", "/tmp", "/data", "/config", "/cache",
                               "/var", "/var/log", "/var/log/app", "/var/run", "/var/run/secrets",
                               "/var/run/secrets/kubernetes.io", "/var/run/secrets/kubernetes.io/serviceaccount",
                               "/mnt", "/mnt/scratch vol\twith\\escapes", "/etc/podinfo",
                               "/var/run/secrets/db", "/etc/app", "/etc/ssl", "/etc/ssl/certs"};
  for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) put(root, dirs[i], 1);
  static const char *files[] = {"/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/config/app.yaml",
                                "/etc/app/logging.yaml"};
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) put(root, files[i], 0);
  // the pod's own state on the node's scratch tmpfs: etc-hosts, termination log, volumes
  snprintf(p, sizeof p, "%s/state", dir); mkdir(p, 0755);
  static const char *state[] = {"/state/etc-hosts", "/state/hostname", "/state/resolv.conf", "/state/termination-log",
                                "/state/app.yaml"};
  for (size_t i = 0; i < sizeof state / sizeof *state; i++) put(dir, state[i], 0);
  snprintf(p, sizeof p, "%s/state/data", dir); mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/state/logs", dir); mkdir(p, 0755);

#define AT(rel) (snprintf(p, sizeof p, "%s%s", root, rel), p)
#define ST(rel) (snprintf(s, sizeof s, "%s/state%s", dir, rel), s)
  m("proc", AT("/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);                            // 2
  m("tmpfs", AT("/dev"), "tmpfs", MS_NOSUID, "size=65536k,mode=755");                                // 3
  put(root, "/dev/pts", 1); put(root, "/dev/mqueue", 1); put(root, "/dev/shm", 1);
  put(root, "/dev/null", 0); put(root, "/dev/termination-log", 0);
  m("devpts", AT("/dev/pts"), "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620"); // 4
  m("mqueue", AT("/dev/mqueue"), "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);                   // 5
  m("shm", AT("/dev/shm"), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=65536k");                 // 6
  m("/dev/null", AT("/dev/null"), NULL, MS_BIND, NULL);                                               // 7
  m(ST("/termination-log"), AT("/dev/termination-log"), NULL, MS_BIND, NULL);                         // 8
  m("sysfs", AT("/sys"), "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL);                // 9
  m("tmpfs", AT("/sys/fs/cgroup"), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755");            // 10
  char rel[512];
  cg_rel(rel, sizeof rel, g, 3);
  for (int i = 0; i < nh; i++) {                                                                      // 11..17
    char from[700], to[128];
    snprintf(to, sizeof to, "/sys/fs/cgroup/%s", hier[i]);
    put(root, to, 1);
    snprintf(from, sizeof from, "/sys/fs/cgroup/%s%s", hier[i], rel);
    bind_ro(from, AT(to));
  }
  m(NULL, AT("/sys/fs/cgroup"), NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755");
  m(ST("/etc-hosts"), AT("/etc/hosts"), NULL, MS_BIND, NULL);                                         // 18
  m(ST("/hostname"), AT("/etc/hostname"), NULL, MS_BIND, NULL);                                       // 19
  m(ST("/resolv.conf"), AT("/etc/resolv.conf"), NULL, MS_BIND, NULL);                                 // 20
  m("tmpfs", AT("/var/run/secrets/kubernetes.io/serviceaccount"), "tmpfs", MS_RDONLY, "size=7949056k"); // 21
  m(ST("/data"), AT("/data"), NULL, MS_BIND, NULL);                                                   // 22
  m(ST("/app.yaml"), AT("/config/app.yaml"), NULL, MS_BIND, NULL);                                    // 23 (subPath)
  m("tmpfs", AT("/cache"), "tmpfs", MS_NOSUID | MS_NODEV, "size=1g");                                 // 24
  m(ST("/logs"), AT("/var/log/app"), NULL, MS_BIND, NULL);                                            // 25
  m(ST("/data"), AT("/mnt/scratch vol\twith\\escapes"), NULL, MS_BIND, NULL);                         // 26 (octal)
  m("tmpfs", AT("/tmp"), "tmpfs", MS_NOSUID | MS_NODEV, "size=256m");                                 // 27
  m("tmpfs", AT("/etc/podinfo"), "tmpfs", MS_RDONLY, "size=7949056k");                                // 28 downward API
  m("tmpfs", AT("/var/run/secrets/db"), "tmpfs", MS_RDONLY, "size=512k");                             // 29 secret
  bind_ro(ST("/app.yaml"), AT("/etc/app/logging.yaml"));                                              // 30 subPath, ro
  bind_ro(ST("/data"), AT("/etc/ssl/certs"));                                                         // 31 configMap, ro
  // runc's masked paths (files get /dev/null, directories an empty read-only tmpfs) ...
  static const char *masked_files[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"};
  for (size_t i = 0; i < sizeof masked_files / sizeof *masked_files; i++)                             // 32..35
    if (access(AT(masked_files[i]), F_OK) == 0) m("/dev/null", p, NULL, MS_BIND, NULL);
  static const char *masked_dirs[] = {"/proc/acpi", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"};
  for (size_t i = 0; i < sizeof masked_dirs / sizeof *masked_dirs; i++)                               // 36..39
    if (access(AT(masked_dirs[i]), F_OK) == 0) m("tmpfs", p, "tmpfs", MS_RDONLY, NULL);
  // ... and read-only paths (bind on themselves, remounted read-only)
  static const char *ro[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  for (size_t i = 0; i < sizeof ro / sizeof *ro; i++)                                                 // 40..44
    if (access(AT(ro[i]), F_OK) == 0) { char t[1024]; snprintf(t, sizeof t, "%s", p); bind_ro(t, t); }
#undef AT
#undef ST
  if (nsfail) return -1;
  if (chdir(root) != 0 || syscall(SYS_pivot_root, ".", ".oldroot") != 0) { perror("spawn: pivot_root"); return -1; }
  if (umount2("/.oldroot", MNT_DETACH) != 0) { perror("spawn: umount old root"); return -1; }
  if (chdir("/") != 0) return -1;
  return 0;
}

// ---------------------------------------------------------------- run

static void unblock_all(void) { sigset_t none; sigemptyset(&none); sigprocmask(SIG_SETMASK, &none, NULL); }

static int run(int procs, int namespaces, const char *base, const char *ready) {
  pid_t self = getpid();
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) { perror("spawn: subreaper"); return 1; }
  sigset_t ss;
  sigemptyset(&ss);
  sigaddset(&ss, SIGTERM); sigaddset(&ss, SIGINT); sigaddset(&ss, SIGHUP); sigaddset(&ss, SIGALRM);
  sigprocmask(SIG_BLOCK, &ss, NULL);
  int groups = (procs + 19) / 20;  // ~20 processes per container
  if (groups < namespaces) groups = namespaces;
  if (procs < groups) { fprintf(stderr, "spawn: %d processes cannot fill %d namespaces\n", procs, namespaces); return 2; }
  if (nh == 0) fprintf(stderr, "spawn: no usable cgroup v1 hierarchy; processes stay in the caller's cgroups\n");

  int bad = 0;
  char rel[512];
  for (int i = 0; i < nh && !bad; i++) {
    cg_rel(rel, sizeof rel, 0, 0);
    *strstr(rel, "/kubepods") = 0;
    bad |= mk_cgroup(hier[i], rel);
    for (int g = 0; g < groups && !bad; g++)
      for (int level = 0; level <= 3 && !bad; level++) { cg_rel(rel, sizeof rel, g, level); bad |= mk_cgroup(hier[i], rel); }
  }
  if (namespaces > 0) {  // the container image: four layers, each with a few files
    char p[700];
    for (int l = 1; l <= 4; l++) {
      snprintf(p, sizeof p, "%s/pods", base); mkdir(p, 0755);
      snprintf(p, sizeof p, "%s/pods/image", base); mkdir(p, 0755);
      snprintf(p, sizeof p, "%s/pods/image/l%d", base, l); mkdir(p, 0755);
      snprintf(p, sizeof p, "%s/pods/image/l%d/layer%d", base, l, l); mkdir(p, 0755);
    }
  }

  pid_t *leaders = calloc((size_t)groups, sizeof *leaders);
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) != 0) { perror("spawn: pipe"); return 1; }
  double t0 = now();
  int made = 0;
  for (int g = 0; g < groups && !bad; g++) {
    int k = procs / groups + (g < procs % groups);
    pid_t s = fork();
    if (s < 0) { perror("spawn: fork"); bad = 1; break; }
    if (s == 0) {
      close(pfd[0]);
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != self) _exit(0);
      char status = 'x', p[700];
      for (int i = 0; i < nh; i++) {
        cg_rel(rel, sizeof rel, g, 3);
        snprintf(p, sizeof p, "/sys/fs/cgroup/%s%s/cgroup.procs", hier[i], rel);
        if (write_file(p, "0") != 0) { fprintf(stderr, "spawn: join %s: %s\n", p, strerror(errno)); status = 'e'; }
      }
      if (g < namespaces && enter_pod_namespace(g, base) != 0) status = 'e';
      pid_t me = getpid();
      for (int i = 1; i < k && status == 'x'; i++) {
        pid_t c = fork();
        if (c < 0) { perror("spawn: fork"); status = 'e'; break; }
        if (c == 0) {
          close(pfd[1]);
          prctl(PR_SET_PDEATHSIG, SIGKILL);
          if (getppid() != me) _exit(0);
          unblock_all();
          for (;;) pause();
        }
      }
      if (write(pfd[1], &status, 1) != 1) _exit(1);
      close(pfd[1]);
      unblock_all();
      for (;;) pause();
    }
    leaders[g] = s;
    made += k;
  }
  close(pfd[1]);
  int reported = 0;
  char st;
  ssize_t r;
  while ((r = read(pfd[0], &st, 1)) != 0) {
    if (r < 0) { if (errno == EINTR) continue; break; }
    reported++;
    if (st != 'x') bad = 1;
  }
  close(pfd[0]);
  int started = 0;
  for (int g = 0; g < groups; g++) started += leaders[g] > 0;
  if (reported != started) bad = 1;
  if (!bad) {
    FILE *f = fopen(ready, "we");
    if (f) {
      fprintf(f, "READY %d %d containers=%d pods=%d hierarchies=%d seconds=%.2f\n", made, namespaces, groups,
              (groups + 1) / 2, nh, now() - t0);
      fclose(f);
    } else bad = 1;
    alarm(7200);
    int sig;
    sigwait(&ss, &sig);
  }
  // teardown: killing a leader SIGKILLs its children (PDEATHSIG); they are re-parented to us.
  for (int g = 0; g < groups; g++) if (leaders[g] > 0) kill(leaders[g], SIGKILL);
  int reaped = 0;
  for (;;) {
    pid_t w = waitpid(-1, NULL, 0);
    if (w > 0) { reaped++; continue; }
    if (errno == EINTR) continue;
    break;
  }
  int left = remove_all(tag, 1, 10.0);
  fprintf(stderr, "spawn: reaped %d of %d processes, %d cgroup dirs left%s\n", reaped, made, left, bad ? ", STAGING FAILED" : "");
  return bad || left ? 1 : 0;
}

static int valid_tag(const char *t) {
  if (!*t || strlen(t) >= sizeof tag) return 0;
  for (const char *c = t; *c; c++) if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || *c == '-')) return 0;
  return 1;
}

int main(int argc, char **argv) {
  find_hierarchies();
  if (argc == 7 && !strcmp(argv[1], "run") && valid_tag(argv[2])) {
    snprintf(tag, sizeof tag, "%s", argv[2]);
    if (strstr(argv[5], "cgdoctor-test-") == NULL) { fprintf(stderr, "spawn: BASE must carry the cgdoctor-test- prefix\n"); return 2; }
    return run(atoi(argv[3]), atoi(argv[4]), argv[5], argv[6]);
  }
  if (argc == 3 && !strcmp(argv[1], "cleanup") && valid_tag(argv[2])) return remove_all(argv[2], 1, 10.0) ? 1 : 0;
  if (argc == 2 && !strcmp(argv[1], "cleanup-stale")) {
    int left = 0;
    for (int i = 0; i < nh; i++) {
      char p[256];
      snprintf(p, sizeof p, "/sys/fs/cgroup/%s", hier[i]);
      DIR *d = opendir(p);
      struct dirent *e;
      while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, PREFIX, strlen(PREFIX)) != 0) continue;
        const char *t = e->d_name + strlen(PREFIX);
        int owner = atoi(t);
        if (owner > 0 && kill(owner, 0) == 0) continue;  // its run.sh is alive
        if (valid_tag(t)) left += remove_all(t, 1, 10.0);
      }
      if (d) closedir(d);
    }
    return left ? 1 : 0;
  }
  fprintf(stderr, "usage: cgdoctor-bench-spawn run TAG PROCS NAMESPACES BASE READYFILE | cleanup TAG | cleanup-stale\n");
  return 2;
}
