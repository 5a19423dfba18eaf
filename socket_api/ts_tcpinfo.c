/* socket_api/ts_tcpinfo.c - struct tcp_info for getsockopt(TCP_INFO), in
 * the units Linux uses: times in microseconds, cwnd and ssthresh in
 * segments. Fields tapstack does not track stay 0, as on a kernel that
 * predates them. */
#include "socket_api/ts_tcpinfo.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

int ts_tcpinfo_put(const struct ts_tcpinfo_src *s, void *val, socklen_t *len)
{
    struct tcp_info ti;
    if (!val || !len)
        return -EINVAL;
    uint32_t mss = s->mss ? s->mss : 536;
    memset(&ti, 0, sizeof ti);
    ti.tcpi_state = s->linux_state;
    ti.tcpi_ca_state = s->ca_state;
    ti.tcpi_retransmits = s->retransmits;
    ti.tcpi_probes = s->probes;
    ti.tcpi_backoff = s->retransmits;
    ti.tcpi_options = (uint8_t)((s->sack ? TCPI_OPT_SACK : 0) |
                                (s->wscale ? TCPI_OPT_WSCALE : 0));
    ti.tcpi_snd_wscale = s->snd_ws & 0xf;
    ti.tcpi_rcv_wscale = s->rcv_ws & 0xf;
    ti.tcpi_rto = s->rto;
    ti.tcpi_ato = s->ato;
    ti.tcpi_snd_mss = mss;
    ti.tcpi_rcv_mss = mss;
    ti.tcpi_advmss = mss;
    ti.tcpi_unacked = (s->in_flight + mss - 1) / mss;
    ti.tcpi_rtt = s->rtt;
    ti.tcpi_rttvar = s->rttvar;
    ti.tcpi_snd_cwnd = s->cwnd / mss;
    ti.tcpi_snd_ssthresh = s->ssthresh / mss;
    ti.tcpi_rcv_space = s->rcv_space;
    ti.tcpi_rcv_ssthresh = s->rcv_space;
    ti.tcpi_total_retrans = s->total_retrans;
    ti.tcpi_pmtu = mss + 40;
    socklen_t n = *len < (socklen_t)sizeof ti ? *len : (socklen_t)sizeof ti;
    memcpy(val, &ti, n);
    *len = n;
    return 0;
}
