/* Process and file workload (set b): many small files created, written,
 * read back, renamed, stat'ed and unlinked in a directory ($BENCH_DIR, else
 * /tmp: tmpfs in the guest), fork + execve of this (static) program (ELF
 * loading, a fresh address space, page faults of a new image), and anonymous
 * mmap / touch / munmap cycles (demand-zero faults, VMA and page-table
 * teardown). Only file contents, sizes and exit statuses reach the checksum. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string.h>

#include "bench.h"

#define NFILES 64
#define EXECS 6
#define MAPS 8
#define MAP_PAGES 64

static char dir[256];

static void path_of(char *p, size_t n, const char *tag, int i)
{
    snprintf(p, n, "%s/%s%03d", dir, tag, i);
}

static uint32_t files_rep(uint32_t seed)
{
    static uint8_t buf[16384], back[16384];
    char p[300], q[300];
    uint32_t h = 0;
    for (int i = 0; i < NFILES; i++) {
        size_t len = 512 + bench_rand(&seed) % (sizeof buf - 512);
        for (size_t k = 0; k < len; k++)
            buf[k] = (uint8_t)(k * 7 + (size_t)i + seed);
        path_of(p, sizeof p, "f", i);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, buf, len) != (ssize_t)len || close(fd) != 0)
            return 0xbad1;
    }
    for (int i = 0; i < NFILES; i++) {
        path_of(p, sizeof p, "f", i);
        path_of(q, sizeof q, "g", i);
        if (rename(p, q) != 0)
            return 0xbad2;
    }
    for (int i = 0; i < NFILES; i++) {
        struct stat st;
        path_of(q, sizeof q, "g", i);
        int fd = open(q, O_RDONLY);
        if (fd < 0 || fstat(fd, &st) != 0)
            return 0xbad3;
        ssize_t n = read(fd, back, sizeof back);
        close(fd);
        if (n != st.st_size)
            return 0xbad4;
        uint32_t s = 0;
        for (ssize_t k = 0; k < n; k++)
            s = s * 31 + back[k];
        h = bench_mix(bench_mix(h, (uint32_t)n), s);
    }
    DIR *d = opendir(dir);
    uint32_t entries = 0;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;)
        entries += e->d_name[0] == 'g';
    if (d)
        closedir(d);
    h = bench_mix(h, entries);
    for (int i = 0; i < NFILES; i++) {
        path_of(q, sizeof q, "g", i);
        if (unlink(q) != 0)
            return 0xbad5;
    }
    return h;
}

/* The exec'd child: a little work, then an exit status derived from arg. */
static int child_main(const char *arg)
{
    uint32_t x = (uint32_t)strtoul(arg, NULL, 10), h = 0;
    for (int i = 0; i < 1000; i++)
        h = bench_mix(h, bench_rand(&x) | 1);
    return (int)(h & 0x7f);
}

static uint32_t exec_rep(const char *self, uint32_t salt)
{
    uint32_t h = 0;
    for (int i = 0; i < EXECS; i++) {
        char arg[16];
        snprintf(arg, sizeof arg, "%u", (unsigned)(salt + (uint32_t)i + 1));
        pid_t p = fork();
        if (p == 0) {
            char *av[] = { (char *)self, (char *)"--child", arg, NULL };
            char *ev[] = { NULL };
            execve(self, av, ev);
            _exit(126);
        }
        int st = 0;
        if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st))
            return 0xbad6;
        h = bench_mix(h, (uint32_t)WEXITSTATUS(st));
    }
    return h;
}

static uint32_t mmap_rep(uint32_t salt)
{
    long pg = sysconf(_SC_PAGESIZE);
    uint32_t h = 0;
    for (int m = 0; m < MAPS; m++) {
        size_t len = (size_t)pg * MAP_PAGES;
        uint8_t *a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (a == MAP_FAILED)
            return 0xbad7;
        uint32_t s = 0;
        for (size_t off = 0; off < len; off += (size_t)pg) {
            s += a[off + 17];                 /* demand-zero read */
            a[off + (salt + (uint32_t)m) % 64] = (uint8_t)(off >> 12);
        }
        for (size_t off = 0; off < len; off += (size_t)pg * 3)
            s = s * 3 + a[off + (salt + (uint32_t)m) % 64];
        munmap(a, len);
        h = bench_mix(h, s);
    }
    return h;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2]);
    int reps = bench_reps(argc, argv, 100);
    /* The binary re-executes itself: /proc/self/exe is an absolute path to
     * it natively and in the guest (init mounts /proc). */
    static char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0)
        return 1;
    self[sl] = 0;
    const char *base = getenv("BENCH_DIR") ? getenv("BENCH_DIR") : "/tmp";
    snprintf(dir, sizeof dir, "%s/bench-proc.%d", base, (int)getpid());
    if (mkdir(dir, 0755) != 0)
        return 1;
    uint64_t t0 = bench_now_ms();
    uint32_t h = 0, part[3] = { 0, 0, 0 }, v;
    for (int r = 0; r < reps; r++) {
        h = bench_mix(h, v = files_rep((uint32_t)r * 2654435761u + 1));
        part[0] = bench_mix(part[0], v);
        h = bench_mix(h, v = exec_rep(self, (uint32_t)r * 100));
        part[1] = bench_mix(part[1], v);
        h = bench_mix(h, v = mmap_rep((uint32_t)r));
        part[2] = bench_mix(part[2], v);
    }
    rmdir(dir);
    bench_report("proc", h, t0, reps);
    printf("bench: proc-parts files=0x%08x exec=0x%08x mmap=0x%08x\n",
           (unsigned)part[0], (unsigned)part[1], (unsigned)part[2]);
    return 0;
}
