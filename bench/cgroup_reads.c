// What holding cgroupfs files open saves the microVM collector, on the real kernel: 50 cgroups
// (one a VM) under a cgroup2 directory, six files of each read per round, first as the collector
// did before HeldFiles (open the cgroup's directory, then openat, read and close each file), then
// as it does now (pread from offset 0 of descriptors held open). The bench's microVM case reads a
// generated tree on a regular file system, where files are not held, so it cannot show this.
// Needs root (it creates and removes the cgroups) and a cgroup2 mount; prints one line a run.
//
//   cc -O2 -o /tmp/cgroup_reads bench/cgroup_reads.c && /tmp/cgroup_reads [CGROUP2_DIR]
//   (default /sys/fs/cgroup; on a hybrid host /sys/fs/cgroup/unified)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { vms = 50, rounds = 500, runs = 3 };
static const char *const files[] = {"cpu.stat", "cpu.pressure", "memory.pressure", "io.pressure", "cgroup.stat", "cgroup.events"};
enum { fileCount = sizeof files / sizeof files[0] };

static double microseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1e6 + now.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
    const char *root = argc > 1 ? argv[1] : "/sys/fs/cgroup";
    char parent[512], path[768], buffer[4096];
    snprintf(parent, sizeof parent, "%s/lookout-cgroup-reads", root);
    if (mkdir(parent, 0755) != 0 && errno != EEXIST) { perror(parent); return 1; }
    static int held[vms][fileCount];
    for (int vm = 0; vm < vms; vm++) {
        snprintf(path, sizeof path, "%s/vm%d", parent, vm);
        if (mkdir(path, 0755) != 0 && errno != EEXIST) { perror(path); return 1; }
        for (int file = 0; file < fileCount; file++) {
            snprintf(path, sizeof path, "%s/vm%d/%s", parent, vm, files[file]);
            if ((held[vm][file] = open(path, O_RDONLY | O_CLOEXEC)) < 0) { perror(path); return 1; }
        }
    }
    long bytes = 0;
    for (int run = 0; run < runs; run++) {
        double start = microseconds();
        for (int round = 0; round < rounds; round++) {
            for (int vm = 0; vm < vms; vm++) {
                snprintf(path, sizeof path, "%s/vm%d", parent, vm);
                int directory = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                for (int file = 0; file < fileCount; file++) {
                    int descriptor = openat(directory, files[file], O_RDONLY | O_CLOEXEC);
                    bytes += read(descriptor, buffer, sizeof buffer);
                    close(descriptor);
                }
                close(directory);
            }
        }
        double opened = microseconds();
        for (int round = 0; round < rounds; round++)
            for (int vm = 0; vm < vms; vm++)
                for (int file = 0; file < fileCount; file++) bytes += pread(held[vm][file], buffer, sizeof buffer, 0);
        double done = microseconds();
        printf("cgroup_reads: %d files a round: open, openat, read, close %.1f us (%.2f us a file); pread of held files %.1f us (%.2f us a file)\n",
               vms * fileCount, (opened - start) / rounds, (opened - start) / rounds / (vms * fileCount),
               (done - opened) / rounds, (done - opened) / rounds / (vms * fileCount));
    }
    for (int vm = 0; vm < vms; vm++) {
        for (int file = 0; file < fileCount; file++) close(held[vm][file]);
        snprintf(path, sizeof path, "%s/vm%d", parent, vm);
        rmdir(path);
    }
    rmdir(parent);
    return bytes > 0 ? 0 : 1;
}
