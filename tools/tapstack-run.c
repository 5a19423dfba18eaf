/* tools/tapstack-run.c - run an unmodified program on a running tapstack.
 *
 *     tapstack-run [--ctl NAME | --iface IF] [--] PROGRAM [ARG]...
 *
 * Checks that a tapstack answers on the control socket, then execs
 * PROGRAM with libtapstack-preload.so prepended to LD_PRELOAD and
 * $TAPSTACK_CTL naming the socket: PROGRAM's AF_INET TCP and UDP sockets
 * (and its children's) are then the stack's. Exit status as env(1): 127
 * when PROGRAM is not found, 126 when it cannot be run, 2 for our own
 * errors, else PROGRAM's own.
 *
 * Entry point: main.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "socket_api/ts_ctl_proto.h"
#include "socket_api/ts_preload_ctl.h"

#define TSRUN_LIB "libtapstack-preload.so"

#define TSRUN_SYNOPSIS \
    "Usage: tapstack-run [--ctl NAME | --iface IF] [--] PROGRAM [ARG]...\n"

static void tsrun_usage(void)
{
    printf(TSRUN_SYNOPSIS
"\n"
"Run PROGRAM, unmodified, on a running tapstack: its IPv4 TCP and UDP\n"
"sockets (and those of every program it starts) are the stack's instead\n"
"of the kernel's. Everything else it does (files, pipes, UNIX sockets,\n"
"netlink, raw sockets, IPv6) stays with the kernel.\n"
"\n"
"How: tapstack-run preloads libtapstack-preload.so (LD_PRELOAD), which\n"
"asks the tapstack that owns the control socket NAME for every socket the\n"
"program opens. Each such socket is a real descriptor, so read, write,\n"
"poll, select, epoll, fork and exec behave as usual. An IPv6 socket used\n"
"for IPv4 (bound to :: with IPV6_V6ONLY off, or connected to\n"
"::ffff:a.b.c.d) moves to the stack at that moment.\n"
"\n"
"Options:\n"
"  -c, --ctl NAME     the stack's control socket: @NAME for an abstract\n"
"                     socket, else a path (default: @tapstack/tap0)\n"
"  -i, --iface IF     the stack running on interface IF, i.e.\n"
"                     --ctl @tapstack/IF\n"
"  -h, --help         print this help and exit\n"
"  --                 end of options: what follows is PROGRAM\n"
"\n"
"Environment:\n"
"  TAPSTACK_PRELOAD   the library to preload (default: " TSRUN_LIB "\n"
"                     next to tapstack-run, else ../lib/ from it)\n"
"  TAPSTACK_CTL       set for PROGRAM to the control socket's name\n"
"  LD_PRELOAD         the library is put first, the rest kept\n"
"\n"
"Exit status: PROGRAM's own; 2 when no tapstack answers on NAME, the\n"
"library cannot be found, or the command line is wrong; 126 when PROGRAM\n"
"cannot be run; 127 when it is not found.\n"
"\n"
"Notes: start tapstack first, in the same network namespace (abstract\n"
"socket names are per namespace). Statically linked programs and\n"
"set-user-ID programs ignore LD_PRELOAD and keep the kernel's sockets;\n"
"tapstack-run warns about the first.\n"
"\n"
"Examples:\n"
"  tapstack-run curl http://10.0.0.1/\n"
"  tapstack-run python3 -m http.server 8000\n"
"  tapstack-run --iface tap1 -- nc -l 7000\n"
"  tapstack-run bash      # a shell whose every program uses the stack\n");
}

/* Does a tapstack answer on name? 0, or an errno. */
static int tsrun_probe(const char *name)
{
    struct sockaddr_un sa;
    socklen_t len;
    int e = tsp_ctl_sockaddr(name, &sa, &len);
    if (e)
        return -e;
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0)
        return errno;
    e = connect(s, (struct sockaddr *)&sa, len) == 0 ? 0 : errno;
    struct ucred cr;
    socklen_t crlen = sizeof cr;
    if (e == 0 && (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0 ||
                   tsp_ctl_peer_check(&cr) != 0))
        e = EACCES;     /* another user's program holds the name */
    close(s);
    return e;
}

/* The directory of our own executable, with a trailing slash. */
static bool tsrun_self_dir(char *dir, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", dir, size - 1);
    if (n <= 0 || (size_t)n >= size - 1)
        return false;
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (!slash)
        return false;
    slash[1] = '\0';
    return true;
}

/* The library's absolute path (LD_PRELOAD is read again by every program
 * PROGRAM starts, from whatever directory it is in). */
static bool tsrun_find_lib(char *out, size_t size)
{
    const char *env = getenv("TAPSTACK_PRELOAD");
    char dir[PATH_MAX], cand[PATH_MAX + 32];
    if (env && *env)
        return realpath(env, out) != NULL && strlen(out) < size;
    if (!tsrun_self_dir(dir, sizeof dir))
        return false;
    static const char *const rel[] = { TSRUN_LIB, "../lib/" TSRUN_LIB };
    for (size_t i = 0; i < 2; i++) {
        snprintf(cand, sizeof cand, "%s%s", dir, rel[i]);
        if (access(cand, R_OK) == 0 && realpath(cand, out) &&
            strlen(out) < size)
            return true;
    }
    return false;
}

/* LD_PRELOAD with lib first (once). LD_PRELOAD splits on spaces and
 * colons, so a path holding one cannot be named there. */
static int tsrun_set_preload(const char *lib)
{
    if (strpbrk(lib, " :"))
        return EINVAL;
    const char *old = getenv("LD_PRELOAD");
    size_t n = strlen(lib) + (old ? strlen(old) : 0) + 2;
    char *v = malloc(n);
    if (!v)
        return ENOMEM;
    if (old && *old)
        snprintf(v, n, "%s:%s", lib, old);
    else
        snprintf(v, n, "%s", lib);
    int e = setenv("LD_PRELOAD", v, 1) == 0 ? 0 : errno;
    free(v);
    return e;
}

/* Where execvp will find prog: prog itself when it names a path, else the
 * first executable file of that name on $PATH. */
static bool tsrun_which(const char *prog, char *out, size_t size)
{
    if (strchr(prog, '/'))
        return snprintf(out, size, "%s", prog) < (int)size;
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        struct stat st;
        if (snprintf(out, size, "%.*s/%s", (int)(n ? n : 1),
                     n ? path : ".", prog) < (int)size &&
            stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
            access(out, X_OK) == 0)
            return true;
        path += n + (path[n] == ':');
    }
    return false;
}

/* A dynamically linked ELF program names its loader (PT_INTERP); one
 * without is static, and LD_PRELOAD never reaches it. Scripts and
 * anything unreadable are given the benefit of the doubt. */
static bool tsrun_is_static(const char *file)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    Elf64_Ehdr eh;
    bool is_static = false;
    if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh &&
        memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
        (eh.e_type == ET_EXEC || eh.e_type == ET_DYN)) {
        bool is64 = eh.e_ident[EI_CLASS] == ELFCLASS64;
        const Elf32_Ehdr *e32 = (const Elf32_Ehdr *)&eh;
        uint64_t off = is64 ? eh.e_phoff : e32->e_phoff;
        unsigned num = is64 ? eh.e_phnum : e32->e_phnum;
        unsigned entsz = is64 ? eh.e_phentsize : e32->e_phentsize;
        is_static = num > 0 && num < 4096 && entsz >= sizeof(uint32_t);
        for (unsigned i = 0; is_static && i < num; i++) {
            uint32_t type;
            if (pread(fd, &type, sizeof type, (off_t)(off + (uint64_t)i * entsz))
                != (ssize_t)sizeof type)
                is_static = false;      /* unreadable: do not warn */
            else if (type == PT_INTERP)
                is_static = false;
        }
    }
    close(fd);
    return is_static;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "ctl", required_argument, NULL, 'c' },
        { "iface", required_argument, NULL, 'i' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char ctl[256];
    snprintf(ctl, sizeof ctl, TS_CTL_DEFAULT_FMT, "tap0");
    int c;
    /* '+': stop at PROGRAM, its options are its own. */
    while ((c = getopt_long(argc, argv, "+c:i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            snprintf(ctl, sizeof ctl, "%s", optarg);
            break;
        case 'i':
            snprintf(ctl, sizeof ctl, TS_CTL_DEFAULT_FMT, optarg);
            break;
        case 'h':
            tsrun_usage();
            return 0;
        default:
            fprintf(stderr, TSRUN_SYNOPSIS "Try 'tapstack-run --help'.\n");
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "tapstack-run: no PROGRAM given\n" TSRUN_SYNOPSIS
                "Try 'tapstack-run --help'.\n");
        return 2;
    }
    int e = tsrun_probe(ctl);
    if (e) {
        fprintf(stderr, "tapstack-run: no tapstack answers on %s: %s "
                "(start tapstack first, in this network namespace)\n",
                ctl, strerror(e));
        return 2;
    }
    char lib[PATH_MAX];
    if (!tsrun_find_lib(lib, sizeof lib)) {
        fprintf(stderr, "tapstack-run: cannot find " TSRUN_LIB " (looked "
                "next to tapstack-run and in ../lib; set TAPSTACK_PRELOAD)\n");
        return 2;
    }
    if ((e = tsrun_set_preload(lib)) != 0 || setenv(TS_CTL_ENV, ctl, 1) != 0) {
        fprintf(stderr, "tapstack-run: cannot set LD_PRELOAD to %s: %s\n",
                lib, strerror(e ? e : errno));
        return 2;
    }
    const char *prog = argv[optind];
    char file[PATH_MAX];
    if (tsrun_which(prog, file, sizeof file) && tsrun_is_static(file))
        fprintf(stderr, "tapstack-run: warning: %s is statically linked; "
                "LD_PRELOAD cannot reach it, its sockets stay the "
                "kernel's\n", file);
    execvp(prog, argv + optind);
    e = errno;
    fprintf(stderr, "tapstack-run: %s: %s\n", prog, strerror(e));
    return e == ENOENT ? 127 : 126;
}
