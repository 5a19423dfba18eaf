/* tcp/tcp_buf.c - byte rings (two memcpy at most per call) and the sorted
 * out-of-order range list. */
#include "tcp/tcp_buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "tcp/tcp_seq.h"

int tcp_ring_init(struct tcp_ring *r, uint32_t cap)
{
    memset(r, 0, sizeof *r);
    if (cap == 0)
        return 0;
    r->buf = malloc(cap);
    if (!r->buf)
        return -ENOMEM;
    r->cap = cap;
    return 0;
}

void tcp_ring_free(struct tcp_ring *r)
{
    free(r->buf);
    memset(r, 0, sizeof *r);
}

/* Copy n bytes into the ring at absolute index idx, wrapping once. */
static void tcp_ring_copy_in(struct tcp_ring *r, uint32_t idx, const uint8_t *p,
                             uint32_t n)
{
    idx %= r->cap;
    uint32_t first = r->cap - idx < n ? r->cap - idx : n;
    memcpy(r->buf + idx, p, first);
    memcpy(r->buf, p + first, n - first);
}

uint32_t tcp_ring_write(struct tcp_ring *r, const uint8_t *p, uint32_t n)
{
    if (n > tcp_ring_space(r))
        n = tcp_ring_space(r);
    if (n == 0)
        return 0;
    tcp_ring_copy_in(r, r->head + r->len, p, n);
    r->len += n;
    return n;
}

void tcp_ring_put_at(struct tcp_ring *r, uint32_t off, const uint8_t *p,
                     uint32_t n)
{
    if (n)
        tcp_ring_copy_in(r, r->head + r->len + off, p, n);
}

void tcp_ring_peek(const struct tcp_ring *r, uint32_t off, uint8_t *p,
                   uint32_t n)
{
    if (n == 0)
        return;
    uint32_t idx = (r->head + off) % r->cap;
    uint32_t first = r->cap - idx < n ? r->cap - idx : n;
    memcpy(p, r->buf + idx, first);
    memcpy(p + first, r->buf, n - first);
}

/* n bytes from absolute index idx as at most two spans. */
static int tcp_ring_spans(const struct tcp_ring *r, uint32_t idx, uint32_t n,
                          struct iovec iov[2])
{
    if (n == 0 || r->cap == 0)
        return 0;
    idx %= r->cap;
    uint32_t first = r->cap - idx < n ? r->cap - idx : n;
    iov[0].iov_base = r->buf + idx;
    iov[0].iov_len = first;
    if (first == n)
        return 1;
    iov[1].iov_base = r->buf;
    iov[1].iov_len = n - first;
    return 2;
}

int tcp_ring_data_spans(const struct tcp_ring *r, struct iovec iov[2])
{
    return tcp_ring_spans(r, r->head, r->len, iov);
}

int tcp_ring_room_spans(const struct tcp_ring *r, struct iovec iov[2])
{
    return tcp_ring_spans(r, r->head + r->len, tcp_ring_space(r), iov);
}

void tcp_ring_commit(struct tcp_ring *r, uint32_t n)
{
    r->len += n;
}

void tcp_ring_drop(struct tcp_ring *r, uint32_t n)
{
    /* The head never jumps back to 0 when the ring empties: out-of-order
     * data may already sit past the end, placed relative to head + len. */
    r->len -= n;
    if (r->cap)
        r->head = (r->head + n) % r->cap;
}

uint32_t tcp_ring_read(struct tcp_ring *r, uint8_t *p, uint32_t n)
{
    if (n > r->len)
        n = r->len;
    tcp_ring_peek(r, 0, p, n);
    tcp_ring_drop(r, n);
    return n;
}

static void tcp_ooo_remove(struct tcp_ooo *o, uint32_t i)
{
    memmove(o->start + i, o->start + i + 1, (o->n - i - 1) * sizeof o->start[0]);
    memmove(o->end + i, o->end + i + 1, (o->n - i - 1) * sizeof o->end[0]);
    o->n--;
}

int tcp_ooo_add(struct tcp_ooo *o, uint32_t start, uint32_t end)
{
    uint32_t i = 0;
    while (i < o->n && seq_lt(o->end[i], start))
        i++;
    /* Ranges from i on that touch [start, end) merge into it. */
    while (i < o->n && seq_leq(o->start[i], end)) {
        start = seq_min(start, o->start[i]);
        end = seq_max(end, o->end[i]);
        tcp_ooo_remove(o, i);
    }
    if (o->n == TCP_OOO_MAX)
        return -ENOSPC;
    memmove(o->start + i + 1, o->start + i, (o->n - i) * sizeof o->start[0]);
    memmove(o->end + i + 1, o->end + i, (o->n - i) * sizeof o->end[0]);
    o->start[i] = start;
    o->end[i] = end;
    o->n++;
    return 0;
}

uint32_t tcp_ooo_take(struct tcp_ooo *o, uint32_t rcv_nxt)
{
    while (o->n && seq_leq(o->start[0], rcv_nxt)) {
        if (seq_gt(o->end[0], rcv_nxt))
            rcv_nxt = o->end[0];
        tcp_ooo_remove(o, 0);
    }
    return rcv_nxt;
}

void tcp_ooo_prune(struct tcp_ooo *o, uint32_t una)
{
    while (o->n && seq_leq(o->end[0], una))
        tcp_ooo_remove(o, 0);
    if (o->n && seq_lt(o->start[0], una))
        o->start[0] = una;
}

uint32_t tcp_ooo_bytes(const struct tcp_ooo *o)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i < o->n; i++)
        sum += o->end[i] - o->start[i];
    return sum;
}

uint32_t tcp_ooo_skip(const struct tcp_ooo *o, uint32_t seq)
{
    for (uint32_t i = 0; i < o->n; i++)
        if (seq_in(seq, o->start[i], o->end[i]))
            return o->end[i];
    return seq;
}
