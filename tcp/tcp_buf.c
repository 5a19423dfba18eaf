/* tcp/tcp_buf.c - byte rings (two memcpy at most per call) that allocate
 * on first use, grow by doubling up to their limit and give their storage
 * back when empty; and the sorted out-of-order range list. */
#include "tcp/tcp_buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "tcp/tcp_seq.h"

int tcp_ring_init(struct tcp_ring *r, uint32_t lim)
{
    uint64_t *mem = r->mem;
    tcp_ring_free(r);
    r->lim = lim;
    r->mem = mem;
    return 0;
}

static void tcp_ring_unalloc(struct tcp_ring *r)
{
    if (r->mem)
        *r->mem -= r->cap;
    free(r->buf);
    r->buf = NULL;
    r->cap = 0;
    r->head = 0;
}

void tcp_ring_free(struct tcp_ring *r)
{
    tcp_ring_unalloc(r);
    r->lim = r->len = 0;
}

void tcp_ring_release(struct tcp_ring *r)
{
    if (r->len == 0 && r->buf)
        tcp_ring_unalloc(r);
}

/* Room for need bytes from the head: grow by doubling, up to the limit,
 * laying the old bytes out from index 0 (all of them, out-of-order data
 * past the end included: their places relative to the head stay). */
static int tcp_ring_reserve(struct tcp_ring *r, uint32_t need)
{
    if (need <= r->cap)
        return 0;
    if (need > r->lim)
        return -ENOMEM;
    uint64_t cap = r->cap ? (uint64_t)r->cap * 2 : TCP_RING_MIN;
    while (cap < need)
        cap *= 2;
    if (cap > r->lim)
        cap = r->lim;
    uint8_t *buf = malloc((size_t)cap);
    if (!buf)
        return -ENOMEM;
    if (r->cap) {
        uint32_t first = r->cap - r->head;
        memcpy(buf, r->buf + r->head, first);
        memcpy(buf + first, r->buf, r->head);
    }
    if (r->mem)
        *r->mem += cap - r->cap;
    free(r->buf);
    r->buf = buf;
    r->cap = (uint32_t)cap;
    r->head = 0;
    return 0;
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
    if (tcp_ring_reserve(r, r->len + n) < 0)
        n = r->cap - r->len;        /* what fits without growing */
    if (n == 0)
        return 0;
    tcp_ring_copy_in(r, r->head + r->len, p, n);
    r->len += n;
    return n;
}

int tcp_ring_put_at(struct tcp_ring *r, uint32_t off, const uint8_t *p,
                    uint32_t n)
{
    if (n == 0)
        return 0;
    if (tcp_ring_reserve(r, r->len + off + n) < 0)
        return -ENOMEM;
    tcp_ring_copy_in(r, r->head + r->len + off, p, n);
    return 0;
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

int tcp_ring_room_spans(struct tcp_ring *r, struct iovec iov[2])
{
    if (r->len == r->cap && r->len < r->lim &&
        tcp_ring_reserve(r, r->len + 1) < 0)
        return 0;
    return tcp_ring_spans(r, r->head + r->len, r->cap - r->len, iov);
}

void tcp_ring_commit(struct tcp_ring *r, uint32_t n)
{
    r->len += n <= r->cap - r->len ? n : r->cap - r->len;
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
