/* socket_api/ts_sock_event.c - the outcome of a socket call (bind, listen,
 * accept, connect) on the stack's event path, layer "sock": the call, its
 * result, the errno name of a failure and, for TCP, the connection. The
 * calls of the shared host's programs go through the same *_locked
 * functions, so tapstack-ctl watch --layer sock shows theirs too.
 * Entry points: ts_call_event.
 */
#include "socket_api/ts_internal.h"

#include <errno.h>
#include <string.h>

void ts_call_event(struct ts_sock *s, const char *call, int rc)
{
    int err = rc < 0 ? errno : 0;
    if (err == EAGAIN)
        return;         /* nothing waiting yet: a poll, not an outcome */
    struct ts_event e;
    ts_ev_begin(&e, TS_EVL_SOCK, "call", call, NULL);
    ts_ev_kv_str(&e, "call", call);
    ts_ev_kv_int(&e, "rc", rc);
    if (err)
        ts_ev_kv_str(&e, "error", strerrorname_np(err));
    const struct tcp_conn *c = NULL;
    if (strcmp(call, "accept") == 0 && rc >= 0)
        c = s->st->socks[rc].c;
    else if (s->kind == TS_CONN)
        c = s->c;
    if (c) {
        tcp_conn_addrs(c, &e.conn.laddr, &e.conn.lport, &e.conn.raddr,
                       &e.conn.rport);
        e.conn.id = tcp_conn_id(c);
    } else {
        ts_ev_kv_ip(&e, "addr", s->baddr);
        ts_ev_kv_int(&e, "port", s->bport);
    }
    ts_ev_emit(&s->st->s.ev, &e, 0);
    errno = err;        /* the caller reports it */
}
