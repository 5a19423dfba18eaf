/* socket_api/ts_tcpinfo.h - getsockopt(TCP_INFO): a connection's state in
 * Linux's struct tcp_info, the layout programs compile against (iperf3,
 * ss-like tools). Kept apart from ts_opts.c because <netinet/tcp.h>, which
 * defines the struct, also names TCP states that clash with tcp/tcp.h.
 * Entry point: ts_tcpinfo_put.
 */
#ifndef TS_SOCKET_API_TS_TCPINFO_H
#define TS_SOCKET_API_TS_TCPINFO_H

#include <stdint.h>
#include <sys/socket.h>

#define TS_TCP_INFO 11              /* Linux's TCP_INFO */

/* The fields tapstack knows, in plain types (times in us, sizes in bytes). */
struct ts_tcpinfo_src {
    uint8_t linux_state;            /* TCP_ESTABLISHED (1) .. TCP_CLOSING (11) */
    uint8_t retransmits, probes, snd_ws, rcv_ws, sack, wscale;
    uint8_t ca_state;               /* Linux's TCP_CA_Open .. TCP_CA_Loss */
    uint32_t rto, ato, rtt, rttvar, mss, cwnd, ssthresh, rcv_space;
    uint32_t in_flight, total_retrans;
};

/* Write struct tcp_info into val (at most *len bytes, Linux's truncation
 * rule) and set *len. 0, or -EINVAL for a NULL buffer. */
int ts_tcpinfo_put(const struct ts_tcpinfo_src *src, void *val, socklen_t *len);

#endif
