/* core/err.h - the error convention shared by every layer.
 *
 * Functions that can fail return 0 (or a count) on success and a negative
 * errno value on failure (-ENOMEM, -EAGAIN, -EHOSTUNREACH, ...), so the socket
 * API can hand the same value to applications as errno (DESIGN.md §3.9).
 * Drops of received packets are not errors: they are counted, not returned.
 * Entry points: ts_strerror.
 */
#ifndef TS_CORE_ERR_H
#define TS_CORE_ERR_H

#include <errno.h>
#include <string.h>

/* Message for a negative errno return value. */
static inline const char *ts_strerror(int neg_errno)
{
    return strerror(neg_errno < 0 ? -neg_errno : neg_errno);
}

#endif
