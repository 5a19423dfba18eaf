/* tests/unit/preload_spawn.c - runs child programs for the preload tests:
 * tapstack-run, and this test binary itself as a probe of
 * preload_probe.c with libtapstack-preload.so preloaded (see
 * preload_host.h).
 *
 * The child's environment is built before fork (the test process has
 * threads: between fork and exec the child only dup2's and execs). Every
 * child is bounded in time and killed when it overstays.
 *
 * Entry points: ph_spawn, ph_probe, ph_build_path.
 */
#include "tests/unit/preload_host.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PH_CHILD_MS 20000

extern char **environ;

void ph_build_path(char *out, size_t size, const char *name)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    snprintf(out, size, "%s/%s", exe, name);
}

static bool ph_named(const char *entry, const char *const *names)
{
    for (; names && *names; names++) {
        size_t n = strlen(*names);
        const char *eq = strchr(*names, '=');
        if (eq)
            n = (size_t)(eq - *names);
        if (strncmp(entry, *names, n) == 0 && entry[n] == '=')
            return true;
    }
    return false;
}

static char **ph_env(const char *const *set, const char *const *unset)
{
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    for (const char *const *s = set; s && *s; s++)
        n++;
    char **env = calloc(n + 1, sizeof *env);
    if (!env)
        return NULL;
    for (char **e = environ; *e; e++)
        if (!ph_named(*e, unset) && !ph_named(*e, set))
            env[k++] = *e;
    for (const char *const *s = set; s && *s; s++)
        env[k++] = (char *)*s;
    return env;
}

static long ph_ms_left(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (now.tv_sec - start->tv_sec) * 1000 +
              (now.tv_nsec - start->tv_nsec) / 1000000;
    return PH_CHILD_MS - ms;
}

/* Read the child's stdout and stderr until both close or time runs out. */
static void ph_collect(int out, int err, struct ph_result *res)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    size_t used[2] = { 0, 0 };
    char *buf[2] = { res->out, res->err };
    struct pollfd p[2] = { { .fd = out, .events = POLLIN },
                           { .fd = err, .events = POLLIN } };
    while ((p[0].fd >= 0 || p[1].fd >= 0) && ph_ms_left(&start) > 0) {
        if (poll(p, 2, (int)ph_ms_left(&start)) <= 0)
            continue;
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !p[i].revents)
                continue;
            char tmp[1024];
            ssize_t n = read(p[i].fd, tmp, sizeof tmp);
            if (n <= 0) {
                p[i].fd = -1;
                continue;
            }
            size_t room = sizeof res->out - 1 - used[i];
            size_t take = (size_t)n < room ? (size_t)n : room;
            memcpy(buf[i] + used[i], tmp, take);
            used[i] += take;
        }
    }
    res->out[used[0]] = res->err[used[1]] = '\0';
}

static int ph_reap(pid_t pid)
{
    int status;
    for (int i = 0; i < 2000; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

void ph_spawn(const char *const *argv, const char *const *set,
              const char *const *unset, const int (*map)[2], int nmap,
              struct ph_result *res)
{
    memset(res, 0, sizeof *res);
    res->code = -1;
    int po[2], pe[2];
    char **env = ph_env(set, unset);
    if (!env || pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
        free(env);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(po[1], 1);
        dup2(pe[1], 2);
        for (int i = 0; i < nmap; i++) {
            /* dup2 onto itself would keep FD_CLOEXEC: clear it. */
            if (map[i][0] == map[i][1])
                fcntl(map[i][1], F_SETFD, 0);
            else
                dup2(map[i][0], map[i][1]);
        }
        execve(argv[0], (char *const *)argv, env);
        _exit(127);
    }
    free(env);
    close(po[1]);
    close(pe[1]);
    if (pid > 0) {
        ph_collect(po[0], pe[0], res);
        res->code = ph_reap(pid);
    }
    close(po[0]);
    close(pe[0]);
}

void ph_probe(const char *name, const char *ctl, const int (*map)[2],
              int nmap, struct ph_result *res)
{
    char exe[4096], lib[4200], preload[4300], probe[128], ctlenv[128];
    ph_build_path(exe, sizeof exe, "unit_tests");
    ph_build_path(lib, sizeof lib, "libtapstack-preload.so");
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", lib);
    snprintf(probe, sizeof probe, "TSP_PROBE=%s", name);
    snprintf(ctlenv, sizeof ctlenv, "TAPSTACK_CTL=%s", ctl ? ctl : "");
    /* A sanitizer runtime wants to come first; the library is built with
     * the same sanitizer, so the order does not matter here. */
    const char *set[] = { preload, probe, ctlenv,
                          "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0",
                          NULL };
    const char *unset[] = { "TAPSTACK_CTL", NULL };
    if (!ctl)
        set[2] = "TSP_PROBE_NOCTL=1";
    const char *argv[] = { exe, NULL };
    ph_spawn(argv, set, unset, map, nmap, res);
}
