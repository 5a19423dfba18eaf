/* socket_api/ts_ctl_proto.h - the wire format between a running tapstack
 * (the host, ts_host.c) and the programs that share it (the preload
 * library, ts_preload*.c), over the host's control socket.
 *
 * The shape (README, "Running your own programs on tapstack"): every stack
 * socket a program holds is a real kernel descriptor, one end of a UNIX
 * socketpair whose other end the host serves. Data never crosses the
 * control socket: bytes of a TCP connection flow through a SOCK_STREAM
 * pair, datagrams of a UDP socket through a SOCK_SEQPACKET pair, each
 * datagram behind a struct ts_dgram_hdr. Only the control calls (socket,
 * bind, listen, connect, names, options, shutdown) travel here, as one
 * fixed-size struct ts_ctl_req answered by one struct ts_ctl_rep.
 *
 * The control socket is SOCK_SEQPACKET. A request names the socket it acts
 * on by carrying the program's descriptor itself (SCM_RIGHTS, exactly one
 * descriptor, except TS_OP_SOCKET: none, and TS_OP_IDENTIFY: 1 to
 * TS_CTL_IDENT_MAX): the host identifies its socket by the descriptor's
 * inode, so a program can only act on sockets it holds, and fork, dup and
 * exec need no bookkeeping in the host. A request that is not exactly
 * sizeof(struct ts_ctl_req) bytes with the right magic and version, or that
 * carries the wrong number of descriptors, is answered with -EPROTO (the
 * host logs it and never trusts any field before checking it).
 *
 * Everything is in the host's byte order: both ends run on one machine.
 */
#ifndef TS_SOCKET_API_TS_CTL_PROTO_H
#define TS_SOCKET_API_TS_CTL_PROTO_H

#include <errno.h>
#include <stdint.h>

#define TS_CTL_MAGIC 0x31435354u       /* "TSC1" */
#define TS_CTL_VERSION 1u
#define TS_CTL_ADDR_MAX 28              /* sizeof(struct sockaddr_in6) */
#define TS_CTL_OPT_MAX 256              /* option values (int, linger, timeval, tcp_info) */
#define TS_CTL_IDENT_MAX 32             /* descriptors per TS_OP_IDENTIFY */

/* The environment variable tapstack-run sets: the control socket's name,
 * "@NAME" for an abstract socket, else a path. */
#define TS_CTL_ENV "TAPSTACK_CTL"
/* The default name for a stack on interface IF: "@tapstack/IF". Abstract
 * names are private to their network namespace, so two namespaces each
 * running tapstack on tap0 never collide. */
#define TS_CTL_DEFAULT_FMT "@tapstack/%s"

enum ts_ctl_op {
    /* arg[0] family (AF_INET, or AF_INET6 for a dual-stack socket whose
     * addresses are v4-mapped), arg[1] type (SOCK_STREAM or SOCK_DGRAM,
     * without flags), arg[2] protocol (0, IPPROTO_TCP or IPPROTO_UDP).
     * Reply: rc 0 and one descriptor, the program's end of a new pair
     * (SOCK_STREAM for TCP, SOCK_SEQPACKET for UDP). */
    TS_OP_SOCKET = 1,
    /* addr/addrlen: the address. rc 0 or -errno. */
    TS_OP_BIND,
    /* arg[0] backlog. rc 0 or -errno. */
    TS_OP_LISTEN,
    /* addr/addrlen: the peer (AF_UNSPEC dissolves a UDP association).
     * TCP: rc -EINPROGRESS when the handshake has started; the program's
     * end then neither reads nor writes (and polls without POLLOUT) until
     * the handshake ends either way, and TS_OP_GETOPT SO_ERROR then gives
     * the outcome. -EALREADY, -EISCONN, or the error of a finished
     * attempt, as connect(2) says them. UDP: rc 0 or -errno. */
    TS_OP_CONNECT,
    /* arg[0] 0: the local name, 1: the peer's. Reply addr/addrlen. */
    TS_OP_GETNAME,
    /* arg[0] level, arg[1] name, opt/optlen the value. rc 0 or -errno
     * (-ENOPROTOOPT for an option the stack does not implement). */
    TS_OP_SETOPT,
    /* arg[0] level, arg[1] name, arg[2] the caller's buffer size. Reply
     * opt/optlen. SO_ERROR reads and clears the pending error. */
    TS_OP_GETOPT,
    /* arg[0] how (SHUT_RD, SHUT_WR, SHUT_RDWR). rc 0 or -errno
     * (-ENOTCONN). After rc 0 on a TCP socket the program shuts its own
     * end down the same way, so the FIN follows the bytes already written
     * into the pair. */
    TS_OP_SHUTDOWN,
    /* 1..TS_CTL_IDENT_MAX descriptors. Reply opt[i]: the kind of the i-th
     * (enum ts_ctl_kind, TS_KIND_NONE for one that is not the host's),
     * optlen the count. A program started by exec uses it to learn which
     * inherited descriptors are stack sockets. */
    TS_OP_IDENTIFY,
    /* The read side of the pair ended (a read returned 0) and the host had
     * shut both directions: rc -ECONNRESET or -ETIMEDOUT (once; cleared
     * like SO_ERROR), or 0 for a plain end of stream. */
    TS_OP_STATUS,
    /* For tapstack-ctl, no descriptor: arg[0] what (enum ts_inspect_what).
     * Reply: rc 0 and one descriptor, a memfd holding the dump as text
     * records (socket_api/ts_inspect.c), read from offset 0. */
    TS_OP_INSPECT,
    /* For tapstack-ctl watch, no descriptor: arg[0] a mask of layers (bit
     * 1 << enum ts_ev_layer of core/event.h; 0: all), arg[1] a port (0:
     * any), opt/optlen an event name ("state"; optlen 0: any), at most 31
     * bytes. Reply: rc 0 and one descriptor, a SOCK_SEQPACKET socket on
     * which every event that passes comes as one message, a JSON line of
     * the trace's form (README, "Trace"); it ends when the stack does.
     * -EBUSY when too many streams are open. */
    TS_OP_WATCH,
};

enum ts_inspect_what {
    TS_INSPECT_SOCKETS = 1,     /* every TCP connection, listener, UDP socket */
    TS_INSPECT_STATS,           /* every counter */
    TS_INSPECT_ARP,             /* the ARP cache */
    TS_INSPECT_ROUTES,          /* the routes */
    TS_INSPECT_IFACES,          /* the interfaces */
    TS_INSPECT_ZERO,            /* stats -z: count the counters from now on */
};

/* What a descriptor is, for TS_OP_IDENTIFY. */
enum ts_ctl_kind {
    TS_KIND_NONE = 0,
    TS_KIND_TCP = 1,            /* a TCP socket, not listening */
    TS_KIND_LISTEN = 2,         /* a listening TCP socket */
    TS_KIND_UDP = 3,
};
#define TS_KIND_V6 0x10         /* or'ed in: a dual-stack AF_INET6 socket */
#define TS_KIND_PEER 0x20       /* or'ed in: a UDP socket with a default peer */

struct ts_ctl_req {
    uint32_t magic;             /* TS_CTL_MAGIC */
    uint16_t version;           /* TS_CTL_VERSION */
    uint16_t op;                /* enum ts_ctl_op */
    int32_t arg[3];
    uint32_t addrlen;           /* <= TS_CTL_ADDR_MAX */
    uint8_t addr[TS_CTL_ADDR_MAX];
    uint32_t optlen;            /* <= TS_CTL_OPT_MAX */
    uint8_t opt[TS_CTL_OPT_MAX];
};

struct ts_ctl_rep {
    uint32_t magic;             /* TS_CTL_MAGIC */
    int32_t rc;                 /* >= 0, or -errno */
    int32_t arg[3];
    uint32_t addrlen;
    uint8_t addr[TS_CTL_ADDR_MAX];
    uint32_t optlen;
    uint8_t opt[TS_CTL_OPT_MAX];
};

/* rc for a descriptor the host does not know: not a stack socket, the
 * program should hand the call to the kernel. */
#define TS_CTL_NOT_OURS (-ENOTSOCK)

/* Every datagram on a UDP pair starts with this header, both ways.
 * Program to host: addr the destination (addrlen 0: the connected peer),
 * err 0. Host to program: addr the source; or, with err set (positive
 * errno, ECONNREFUSED after an ICMP port unreachable on a connected
 * socket), an error report with no payload, which the program's next
 * receive returns as -1/err. */
struct ts_dgram_hdr {
    uint32_t magic;             /* TS_CTL_MAGIC */
    int32_t err;
    uint32_t addrlen;
    uint8_t addr[TS_CTL_ADDR_MAX];
};

/* A listening socket's pair carries one record per accepted connection,
 * each sent as one message with the connection's descriptor (the
 * program's end of its own SOCK_STREAM pair) attached by SCM_RIGHTS:
 * accept(2) is a recvmsg of one record. Pending connections make the
 * listening descriptor readable, so poll/select/epoll see them. */
struct ts_accept_rec {
    uint32_t magic;             /* TS_CTL_MAGIC */
    uint32_t addrlen;
    uint8_t addr[TS_CTL_ADDR_MAX];  /* the peer, in the socket's family */
};

#endif
