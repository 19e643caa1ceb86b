// mktable.c - stage a kubelet-shaped mount table of N mounts under BASE.
//
//   cgdoctor-bench-mktable N BASE
//
// Refuses to run unless the caller is in a mount namespace other than the one named by
// CGDOCTOR_BENCH_HOST_MNTNS (run.sh enters one with `unshare -m --propagation private`), so nothing here can reach the host's table. The kernel
// tears every mount down when the namespace's last process exits; nothing needs unmounting.
//
// BASE must already be a mount point (run.sh mounts a tmpfs there and makes it shared, so every
// line below it carries a `shared:N` optional field, as on a systemd host).
//
// Mix, by i % 100 (about 4 mounts per pod uid):
//    0..39  tmpfs    var/lib/kubelet/pods/<uid>/volumes/kubernetes.io~projected/kube-api-access-<5>
//   40..49  tmpfs    var/lib/kubelet/pods/<uid>/volumes/kubernetes.io~secret/<name>-tls
//   50..79  bind     var/lib/kubelet/pods/<uid>/volume-subpaths/<vol>/<container>/<n>  (root=/vols/<k>)
//   80..89  overlay  run/containerd/io.containerd.runtime.v2.task/k8s.io/<64 hex>/rootfs
//                    (5 lowerdirs of the containerd snapshotter: super options of ~700 bytes)
//   90..97  tmpfs    run/containerd/io.containerd.grpc.v1.cri/sandboxes/<64 hex>/shm
//   98      bind     var/lib/kubelet/pods/<uid>/volumes/kubernetes.io~csi/pvc-<uuid>/mount
//   99      bind     var/lib/kubelet/pods/<uid>/volumes/kubernetes.io~empty-dir/<name with space,
//                    tab, backslash and, every other time, a newline>  -> \040 \011 \134 \012
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *SNAP = "var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots";
enum { LAYERS = 40, VOLS = 32 };

static void fail(const char *what, const char *path) {
  fprintf(stderr, "mktable: %s %s: %s\n", what, path, strerror(errno));
  exit(1);
}

// Deterministic pseudo-random hex, so every run stages the same table.
static void hex(char *out, int n, unsigned seed) {
  unsigned x = seed * 2246822519u + 3266489917u;
  for (int i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    out[i] = "0123456789abcdef"[(x >> 7) & 15];
  }
  out[n] = 0;
}

static void uid(char *out, unsigned seed) {
  char h[33];
  hex(h, 32, seed);
  snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

static void mkdirs(const char *path) {
  char t[2048];
  size_t n = strlen(path);
  if (n >= sizeof t) { errno = ENAMETOOLONG; fail("mkdir", path); }
  memcpy(t, path, n + 1);
  for (char *p = t + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(t, 0755) != 0 && errno != EEXIST) fail("mkdir", t);
    *p = '/';
  }
  if (mkdir(t, 0755) != 0 && errno != EEXIST) fail("mkdir", t);
}

// run.sh records its own mount namespace (readlink /proc/self/ns/mnt) before `unshare -m` and
// passes it in CGDOCTOR_BENCH_HOST_MNTNS; we must be somewhere else.
static int in_private_namespace(void) {
  char a[64] = {0};
  const char *host = getenv("CGDOCTOR_BENCH_HOST_MNTNS");
  if (!host || !*host) return 0;
  if (readlink("/proc/self/ns/mnt", a, sizeof a - 1) < 0) return 0;
  return strcmp(a, host) != 0;
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: cgdoctor-bench-mktable N BASE\n"); return 2; }
  int n = atoi(argv[1]);
  const char *base = argv[2];
  if (!in_private_namespace()) {
    fprintf(stderr, "mktable: refusing to mount outside a private mount namespace (use unshare -m)\n");
    return 2;
  }
  if (strstr(base, "cgdoctor-test-") == NULL) {
    fprintf(stderr, "mktable: BASE must carry the cgdoctor-test- prefix: %s\n", base);
    return 2;
  }
  char p[2048], q[2048], opts[4096], u[40], h[65], s[8];
  for (int l = 1; l <= LAYERS; l++) { snprintf(p, sizeof p, "%s/%s/%d/fs", base, SNAP, l); mkdirs(p); }
  for (int v = 0; v < VOLS; v++) { snprintf(p, sizeof p, "%s/vols/%d", base, v); mkdirs(p); }

  static const char *vols[] = {"config", "scripts", "certs", "plugins"};
  static const char *secrets[] = {"webhook", "serving-cert", "etcd-client", "metrics"};
  for (int i = 0; i < n; i++) {
    int k = i % 100;
    uid(u, (unsigned)i / 4u + 1u);
    hex(h, 64, (unsigned)i + 17u);
    const char *pods = "var/lib/kubelet/pods";
    if (k < 40) {
      hex(s, 5, (unsigned)i * 7u + 3u);
      snprintf(p, sizeof p, "%s/%s/%s/volumes/kubernetes.io~projected/kube-api-access-%s", base, pods, u, s);
      mkdirs(p);
      if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, "size=7949056k,mode=755")) fail("mount tmpfs", p);
    } else if (k < 50) {
      snprintf(p, sizeof p, "%s/%s/%s/volumes/kubernetes.io~secret/%s-tls", base, pods, u, secrets[i % 4]);
      mkdirs(p);
      if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, "size=512k,mode=750")) fail("mount tmpfs", p);
    } else if (k < 80 || k >= 98) {
      snprintf(q, sizeof q, "%s/vols/%d", base, i % VOLS);
      if (k < 80) {
        snprintf(p, sizeof p, "%s/%s/%s/volume-subpaths/%s/%.12s/%d", base, pods, u, vols[i % 4], h, i % 3);
      } else if (k == 98) {
        char pv[40];
        uid(pv, (unsigned)i * 31u);
        snprintf(p, sizeof p, "%s/%s/%s/volumes/kubernetes.io~csi/pvc-%s/mount", base, pods, u, pv);
      } else {
        snprintf(p, sizeof p, "%s/%s/%s/volumes/kubernetes.io~empty-dir/scratch vol\tw\\x%s %d", base, pods, u,
                 (i / 100) % 2 ? "\nnl" : "", i);
      }
      mkdirs(p);
      if (mount(q, p, NULL, MS_BIND, NULL)) fail("bind", p);
    } else if (k < 90) {
      int top = 1000 + i;
      snprintf(q, sizeof q, "%s/%s/%d/fs", base, SNAP, top); mkdirs(q);
      snprintf(q, sizeof q, "%s/%s/%d/work", base, SNAP, top); mkdirs(q);
      snprintf(p, sizeof p, "%s/run/containerd/io.containerd.runtime.v2.task/k8s.io/%s/rootfs", base, h);
      mkdirs(p);
      int l[5];
      for (int j = 0; j < 5; j++) l[j] = (i * 7 + j * 11) % LAYERS + 1;  // distinct: steps of 11 mod 40
      int w = snprintf(opts, sizeof opts, "lowerdir=");
      for (int j = 0; j < 5; j++) w += snprintf(opts + w, sizeof opts - (size_t)w, "%s%s/%s/%d/fs", j ? ":" : "", base, SNAP, l[j]);
      snprintf(opts + w, sizeof opts - (size_t)w, ",upperdir=%s/%s/%d/fs,workdir=%s/%s/%d/work", base, SNAP, top, base, SNAP, top);
      if (mount("overlay", p, "overlay", 0, opts)) fail("mount overlay", p);
    } else {
      snprintf(p, sizeof p, "%s/run/containerd/io.containerd.grpc.v1.cri/sandboxes/%s/shm", base, h);
      mkdirs(p);
      if (mount("shm", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=65536k,mode=1777")) fail("mount shm", p);
    }
  }
  return 0;
}
