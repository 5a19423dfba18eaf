/* socket_api/ts_preload_real.c - resolves the C library's functions behind
 * the preload library's interposers (see ts_preload_real.h).
 *
 * Resolution happens once, under pthread_once, on the first call from any
 * thread: a program may call socket() from another library's constructor
 * before ours has run, so nothing may depend on the constructor order.
 *
 * Entry points: tsp_real.
 */
#undef _FORTIFY_SOURCE
#include "socket_api/ts_preload_real.h"

#include <dlfcn.h>
#include <pthread.h>

static struct tsp_real tsp_real_fns;
static pthread_once_t tsp_real_once = PTHREAD_ONCE_INIT;

static void tsp_real_resolve(void)
{
#define TSP_REAL_LOOKUP(name) \
    tsp_real_fns.name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name);
    TSP_REAL_FNS(TSP_REAL_LOOKUP)
#undef TSP_REAL_LOOKUP
    /* A C library older than 2.28 has no fcntl64; on 64-bit systems
     * sendfile and sendfile64 are one function. */
    if (!tsp_real_fns.fcntl64)
        tsp_real_fns.fcntl64 = tsp_real_fns.fcntl;
    if (!tsp_real_fns.sendfile64)
        tsp_real_fns.sendfile64 =
            (__typeof__(sendfile64) *)tsp_real_fns.sendfile;
}

const struct tsp_real *tsp_real(void)
{
    pthread_once(&tsp_real_once, tsp_real_resolve);
    return &tsp_real_fns;
}
