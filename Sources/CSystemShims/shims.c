#include "cgdoctor_shims.h"
#include <sys/vfs.h>

int cgdoctor_statfs_type(const char *path, int64_t *f_type) {
    struct statfs buf;
    int rc = statfs(path, &buf);
    if (rc == 0) {
        *f_type = (int64_t)buf.f_type;
    }
    return rc;
}
