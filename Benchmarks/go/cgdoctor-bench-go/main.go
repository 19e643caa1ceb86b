// cgdoctor-bench-go: the Go peers, built offline in GOPATH mode against Debian's packages
//
//	github.com/moby/sys/mountinfo   (golang-github-moby-sys-dev)
//	github.com/containerd/cgroups   (golang-github-containerd-cgroups-dev, the v1 package)
//
// Build: GO111MODULE=off GOPATH=/usr/share/gocode go build -o OUT .
//
//	cgdoctor-bench-go node              every /proc/<pid>/cgroup through cgroups.ParseCgroupFileUnified,
//	                                    readlink ns/mnt, and mountinfo.PidMountInfo once per distinct
//	                                    mount namespace: what a Go node check built on these libraries does
//	cgdoctor-bench-go paths PID         cgroups.PidPath(PID) (containerd's v1 path resolution: one
//	                                    /proc/self/mountinfo scan per hierarchy), then the path of every
//	                                    hierarchy listed in /proc/PID/cgroup
//	cgdoctor-bench-go mounts            mountinfo.GetMounts(nil)
//	cgdoctor-bench-go parse FILE ITERS  FILE read once; mountinfo.GetMountsFromReader over the bytes ITERS times
package main

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/cgroups"
	"github.com/moby/sys/mountinfo"
)

func node() int {
	d, err := os.Open("/proc")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	if _, err := os.ReadFile("/proc/cgroups"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	seen := map[string]bool{}
	procs, vanished, controllers, mounts := 0, 0, 0, 0
	for _, n := range names {
		if n[0] < '0' || n[0] > '9' {
			continue
		}
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		procs++
		legacy, _, err := cgroups.ParseCgroupFileUnified("/proc/" + n + "/cgroup")
		if err != nil {
			vanished++
			continue
		}
		controllers += len(legacy)
		ns, err := os.Readlink("/proc/" + n + "/ns/mnt")
		if err != nil && pid != 1 {
			vanished++
			continue
		}
		if err != nil {
			ns = "pid1" // unreadable link of a non-dumpable init: its namespace is still read
		}
		if seen[ns] {
			continue
		}
		seen[ns] = true
		ms, err := mountinfo.PidMountInfo(pid)
		if err != nil {
			vanished++
			continue
		}
		mounts += len(ms)
	}
	fmt.Printf("procs=%d vanished=%d controllers=%d mount_namespaces=%d mounts=%d\n", procs, vanished, controllers, len(seen), mounts)
	return 0
}

func paths(pid int) int {
	path := cgroups.PidPath(pid)
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	failed := 0
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) < 3 || parts[1] == "" {
			continue // containerd's v1 package has no answer for the 0:: line
		}
		for _, c := range strings.Split(parts[1], ",") {
			p, err := path(cgroups.Name(c))
			if err != nil {
				fmt.Printf("%s: %v\n", c, err)
				failed++
				continue
			}
			fmt.Printf("%s %s\n", c, p)
		}
	}
	if failed > 0 {
		return 1
	}
	return 0
}

func cpuMs() float64 {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return float64(u.Utime.Nano()+u.Stime.Nano()) / 1e6
}

func parse(file string, iters int) int {
	b, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if iters < 1 {
		iters = 1
	}
	ms, _ := mountinfo.GetMountsFromReader(bytes.NewReader(b), nil) // warm-up
	t := make([]float64, iters)
	c0 := cpuMs()
	for i := range t {
		t0 := time.Now()
		ms, err = mountinfo.GetMountsFromReader(bytes.NewReader(b), nil)
		t[i] = float64(time.Since(t0).Nanoseconds()) / 1e6
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	cpu := (cpuMs() - c0) / float64(iters)
	sort.Float64s(t)
	fmt.Printf("parse_median_ms=%.4f parse_cpu_ms=%.4f iters=%d bytes=%d mounts=%d\n", t[iters/2], cpu, iters, len(b), len(ms))
	return 0
}

func main() {
	args := os.Args[1:]
	switch {
	case len(args) == 1 && args[0] == "node":
		os.Exit(node())
	case len(args) == 2 && args[0] == "paths":
		pid, err := strconv.Atoi(args[1])
		if err != nil {
			os.Exit(2)
		}
		os.Exit(paths(pid))
	case len(args) == 1 && args[0] == "mounts":
		ms, err := mountinfo.GetMounts(nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("mounts=%d\n", len(ms))
	case len(args) == 3 && args[0] == "parse":
		n, _ := strconv.Atoi(args[2])
		os.Exit(parse(args[1], n))
	default:
		fmt.Fprintln(os.Stderr, "usage: cgdoctor-bench-go node | paths PID | mounts | parse FILE ITERS")
		os.Exit(2)
	}
}
