#ifndef CGDOCTOR_SHIMS_H
#define CGDOCTOR_SHIMS_H

#include <stdint.h>

/// statfs(2) is not exported by Glibc to Swift. Returns 0 and stores f_type on success,
/// -1 with errno set on failure.
int cgdoctor_statfs_type(const char *path, int64_t *f_type);

/// Magic numbers from <linux/magic.h>.
#define CGDOCTOR_CGROUP_SUPER_MAGIC 0x27e0ebLL
#define CGDOCTOR_CGROUP2_SUPER_MAGIC 0x63677270LL
#define CGDOCTOR_TMPFS_MAGIC 0x01021994LL

#endif
