/* socket_api/ts_preload_real.h - the C library's own functions, behind the
 * preload library's interposers.
 *
 * libtapstack-preload.so defines socket, read, close, ... itself, so a
 * plain call to one of them from inside the library would come back to the
 * interposer. Every internal call goes through tsp_real() instead: the
 * next definition after this object (dlsym RTLD_NEXT), which is the C
 * library's, or a sanitizer's interceptor in front of it. The same code
 * linked into a program that interposes nothing (the unit tests) resolves
 * to the C library as well.
 *
 * Entry points: tsp_real, TSP_REAL_FNS.
 */
#ifndef TS_SOCKET_API_TS_PRELOAD_REAL_H
#define TS_SOCKET_API_TS_PRELOAD_REAL_H

#include <fcntl.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* The fortified entry points programs built with _FORTIFY_SOURCE call
 * instead of read/recv/recvfrom (glibc declares them only under
 * _FORTIFY_SOURCE, which the preload sources turn off). */
ssize_t __read_chk(int fd, void *buf, size_t nbytes, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
                       int flags, struct sockaddr *addr, socklen_t *addrlen);

/* Every function the library interposes, once. */
#define TSP_REAL_FNS(X)                                                      \
    X(socket) X(bind) X(listen) X(connect) X(accept) X(accept4)             \
    X(getsockname) X(getpeername) X(setsockopt) X(getsockopt) X(shutdown)  \
    X(close) X(dup) X(dup2) X(dup3) X(fcntl) X(fcntl64) X(ioctl)            \
    X(read) X(readv) X(recv) X(recvfrom) X(recvmsg) X(recvmmsg)             \
    X(write) X(writev) X(send) X(sendto) X(sendmsg) X(sendmmsg)             \
    X(sendfile) X(sendfile64) X(__read_chk) X(__recv_chk) X(__recvfrom_chk)

struct tsp_real {
#define TSP_REAL_MEMBER(name) __typeof__(name) *name;
    TSP_REAL_FNS(TSP_REAL_MEMBER)
#undef TSP_REAL_MEMBER
};

/* The table, resolved on first use (thread-safe). A function the C
 * library lacks points at the closest one it has (fcntl64 at fcntl). */
const struct tsp_real *tsp_real(void);

#endif
