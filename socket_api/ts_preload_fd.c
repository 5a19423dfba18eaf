/* socket_api/ts_preload_fd.c - the preload library's descriptor table (see
 * ts_preload_fd.h for the shape and the rules).
 *
 * A word is: bits 0-3 the kind, bit 4 v6, bit 5 self_shut_wr, bit 6
 * reset_reported, bits 8-63 the inode. Zero means "not ours", so a fresh
 * calloc'ed page is an empty one. Socket inodes come from the kernel's
 * 32-bit get_next_ino(), so 56 bits lose nothing.
 *
 * Entry points: tsp_fd_set, tsp_fd_get, tsp_fd_kind, tsp_fd_clear,
 * tsp_fd_copy, tsp_fd_update, tsp_fd_scan.
 */
#undef _FORTIFY_SOURCE
#include "socket_api/ts_preload_fd.h"

#include <dirent.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "socket_api/ts_preload_real.h"

#define TSP_FD_NPAGES (TSP_FD_LIMIT / TSP_FD_PAGE)
#define TSP_W_KIND 0x0fu
#define TSP_W_V6 0x10u
#define TSP_W_PEER 0x80u
#define TSP_W_INO_SHIFT 8
#define TSP_W_INO_MASK ((UINT64_C(1) << (64 - TSP_W_INO_SHIFT)) - 1)

typedef _Atomic uint64_t tsp_word;

static _Atomic(tsp_word *) tsp_fd_pages[TSP_FD_NPAGES];

static bool tsp_fd_in_range(int fd)
{
    return fd >= 0 && fd < TSP_FD_LIMIT;
}

/* The word of fd, or NULL when its page was never needed (then fd is not
 * ours). Acquire pairs with the release in tsp_fd_slot_alloc, so a reader
 * that sees the page also sees it zeroed. */
static tsp_word *tsp_fd_slot(int fd)
{
    if (!tsp_fd_in_range(fd))
        return NULL;
    tsp_word *page = atomic_load_explicit(&tsp_fd_pages[fd / TSP_FD_PAGE],
                                          memory_order_acquire);
    return page ? &page[fd % TSP_FD_PAGE] : NULL;
}

static tsp_word *tsp_fd_slot_alloc(int fd)
{
    tsp_word *slot = tsp_fd_slot(fd);
    if (slot || !tsp_fd_in_range(fd))
        return slot;
    tsp_word *fresh = calloc(TSP_FD_PAGE, sizeof *fresh);
    if (!fresh)
        return NULL;
    tsp_word *expected = NULL;
    _Atomic(tsp_word *) *top = &tsp_fd_pages[fd / TSP_FD_PAGE];
    /* Two threads may race to create the same page: one wins, the other
     * frees its copy and uses the winner's. */
    if (!atomic_compare_exchange_strong_explicit(top, &expected, fresh,
                                                 memory_order_acq_rel,
                                                 memory_order_acquire)) {
        free(fresh);
        return &expected[fd % TSP_FD_PAGE];
    }
    return &fresh[fd % TSP_FD_PAGE];
}

static uint64_t tsp_fd_pack(const struct tsp_fd_info *info)
{
    if (info->kind == TS_KIND_NONE)
        return 0;
    return ((uint64_t)info->kind & TSP_W_KIND) |
           (info->v6 ? TSP_W_V6 : 0) |
           (info->self_shut_wr ? TSP_FD_SHUT_WR : 0) |
           (info->reset_reported ? TSP_FD_RESET : 0) |
           (info->udp_peer ? TSP_W_PEER : 0) |
           ((info->ino & TSP_W_INO_MASK) << TSP_W_INO_SHIFT);
}

static void tsp_fd_unpack(uint64_t w, struct tsp_fd_info *info)
{
    info->kind = (enum ts_ctl_kind)(w & TSP_W_KIND);
    info->v6 = (w & TSP_W_V6) != 0;
    info->self_shut_wr = (w & TSP_FD_SHUT_WR) != 0;
    info->reset_reported = (w & TSP_FD_RESET) != 0;
    info->udp_peer = (w & TSP_W_PEER) != 0;
    info->ino = w >> TSP_W_INO_SHIFT;
}

int tsp_fd_set(int fd, const struct tsp_fd_info *info)
{
    uint64_t w = tsp_fd_pack(info);
    tsp_word *slot = w ? tsp_fd_slot_alloc(fd) : tsp_fd_slot(fd);
    if (!slot)
        return w ? -1 : 0;
    atomic_store_explicit(slot, w, memory_order_release);
    return 0;
}

bool tsp_fd_get(int fd, struct tsp_fd_info *info)
{
    tsp_word *slot = tsp_fd_slot(fd);
    uint64_t w = slot ? atomic_load_explicit(slot, memory_order_acquire) : 0;
    tsp_fd_unpack(w, info);
    return w != 0;
}

enum ts_ctl_kind tsp_fd_kind(int fd)
{
    tsp_word *slot = tsp_fd_slot(fd);
    if (!slot)
        return TS_KIND_NONE;
    return (enum ts_ctl_kind)(atomic_load_explicit(slot, memory_order_relaxed)
                              & TSP_W_KIND);
}

void tsp_fd_clear(int fd)
{
    tsp_word *slot = tsp_fd_slot(fd);
    if (slot)
        atomic_store_explicit(slot, 0, memory_order_release);
}

void tsp_fd_copy(int from, int to)
{
    if (from == to)
        return;
    tsp_word *src = tsp_fd_slot(from);
    uint64_t w = src ? atomic_load_explicit(src, memory_order_acquire) : 0;
    if (w == 0) {
        tsp_fd_clear(to);
        return;
    }
    tsp_word *dst = tsp_fd_slot_alloc(to);
    if (dst)
        atomic_store_explicit(dst, w, memory_order_release);
}

bool tsp_fd_update(int fd, uint64_t ino, enum ts_ctl_kind kind,
                   unsigned flags)
{
    tsp_word *slot = tsp_fd_slot(fd);
    if (!slot)
        return false;
    uint64_t old = atomic_load_explicit(slot, memory_order_acquire);
    for (;;) {
        if (old == 0 || (old >> TSP_W_INO_SHIFT) != (ino & TSP_W_INO_MASK))
            return false;
        uint64_t w = old | (flags & (TSP_FD_SHUT_WR | TSP_FD_RESET));
        if (kind != TS_KIND_NONE)
            w = (w & ~(uint64_t)TSP_W_KIND) | ((uint64_t)kind & TSP_W_KIND);
        if (atomic_compare_exchange_weak_explicit(slot, &old, w,
                                                  memory_order_acq_rel,
                                                  memory_order_acquire))
            return true;
    }
}

/* An AF_UNIX stream or seqpacket socket: what a host's pair end looks
 * like from the program's side. */
static bool tsp_fd_candidate(int fd, uint64_t *ino)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
        return false;
    const struct tsp_real *R = tsp_real();
    int domain = 0, type = 0;
    socklen_t len = sizeof domain;
    if (R->getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 ||
        domain != AF_UNIX)
        return false;
    len = sizeof type;
    if (R->getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
        (type != SOCK_STREAM && type != SOCK_SEQPACKET))
        return false;
    *ino = (uint64_t)st.st_ino;
    return true;
}

/* Collects the candidates first and only then calls fn: fn talks to the
 * host, and the control socket it opens must not turn up in the listing
 * being read. */
static int tsp_fd_collect(int **fdsp, uint64_t **inosp)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0, cap = 0;
    int *fds = NULL;
    uint64_t *inos = NULL;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char *end;
        long fd = strtol(de->d_name, &end, 10);
        uint64_t ino;
        if (*end || end == de->d_name || fd == dirfd(d) ||
            !tsp_fd_in_range((int)fd) || !tsp_fd_candidate((int)fd, &ino))
            continue;
        if (n == cap) {
            int ncap = cap ? cap * 2 : 16;
            int *nf = realloc(fds, (size_t)ncap * sizeof *nf);
            if (nf)
                fds = nf;
            uint64_t *ni = nf ? realloc(inos, (size_t)ncap * sizeof *ni) : NULL;
            if (!ni)
                break;
            inos = ni;
            cap = ncap;
        }
        fds[n] = (int)fd;
        inos[n++] = ino;
    }
    closedir(d);
    *fdsp = fds;
    *inosp = inos;
    return n;
}

int tsp_fd_scan(tsp_fd_scan_fn fn, void *arg)
{
    int *fds = NULL;
    uint64_t *inos = NULL;
    int n = tsp_fd_collect(&fds, &inos);
    for (int i = 0; i < n; i += TS_CTL_IDENT_MAX) {
        int batch = n - i < TS_CTL_IDENT_MAX ? n - i : TS_CTL_IDENT_MAX;
        if (fn(fds + i, inos + i, batch, arg) != 0)
            break;
    }
    free(fds);
    free(inos);
    return n;
}
