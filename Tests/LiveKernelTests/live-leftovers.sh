#!/bin/sh
# Lists what LiveKernelTests may have left behind (a crashed or killed test run cannot run its
# cleanup), and with --destroy removes it. Exit 0: nothing left; 1: leftovers (listed, or some
# could not be destroyed); 2: usage.
#
#   Tests/LiveKernelTests/live-leftovers.sh            # check, e.g. as a CI post-step
#   sudo Tests/LiveKernelTests/live-leftovers.sh --destroy
#
# Only names with the tests' prefix are touched: hierarchies name=cgdoctor-test-<hex>, their mount
# points /tmp/cgdoctor-test-<hex>, and the processes sitting in those hierarchies' child cgroups.
# --destroy takes the lock the test suite holds (flock), so it never pulls a hierarchy from under a
# running test. Procedure: research/runtime-anchors.md §4.6; destruction is asynchronous, so it
# re-mounts and unmounts until the kernel stops listing the hierarchy.
set -u
lock=/run/lock/cgdoctor-test-live.lock
[ -d /run/lock ] || lock=/tmp/cgdoctor-test-live.lock

hierarchies() { sed -n 's/^[0-9]*:\(.*,\)\{0,1\}name=\(cgdoctor-test-[A-Za-z0-9_.-]*\):.*/\2/p' /proc/self/cgroup; }
# Field 5 of mountinfo is the mount point; no escaping is needed for these names.
mounts() { awk '$5 ~ "^/tmp/cgdoctor-test-[A-Za-z0-9_.-]+$" { print $5 }' /proc/self/mountinfo; }
directories() { find /tmp -maxdepth 1 -type d -regex '/tmp/cgdoctor-test-[A-Za-z0-9_.-]+' 2>/dev/null; }

report() {
    left=0
    for h in $(hierarchies); do echo "hierarchy name=$h still exists"; left=1; done
    for m in $(mounts); do echo "mount at $m"; left=1; done
    for d in $(directories); do echo "directory $d"; left=1; done
    for d in $(find /sys/fs/cgroup -maxdepth 3 -name 'cgdoctor-test*' 2>/dev/null); do echo "cgroup $d"; left=1; done
    return $left
}

destroy() {
    for m in $(mounts); do umount "$m"; done
    for h in $(hierarchies); do
        d="/tmp/$h"
        mkdir -p "$d"
        i=0
        while grep -q "name=$h:" /proc/self/cgroup && [ $i -lt 50 ]; do
            i=$((i + 1))
            # name= only: re-attaches an existing hierarchy, never creates one (EINVAL once gone).
            mount -t cgroup -o "name=$h" cgroup "$d" 2>/dev/null || { sleep 0.1; continue; }
            find "$d" -mindepth 2 -name cgroup.procs | while read -r f; do
                while read -r p; do kill -KILL "$p" 2>/dev/null; echo "$p" >"$d/cgroup.procs" 2>/dev/null; done <"$f"
            done
            find "$d" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
            umount "$d"
            sleep 0.1
        done
    done
    for d in $(directories); do rmdir "$d"; done
}

case "${1:-}" in
"") report ;;
--destroy)
    [ "$(id -u)" = 0 ] || { echo "--destroy needs root" >&2; exit 2; }
    exec 9>>"$lock"
    flock -w 60 9 || { echo "a live test run holds $lock" >&2; exit 1; }
    destroy
    report
    ;;
*) echo "usage: $0 [--destroy]" >&2; exit 2 ;;
esac
