/* tests/unit/test_preload_run.c - tapstack-run: its command line, its exit
 * codes (2 for its own errors, 126 and 127 like env(1)), the one-line
 * message when no tapstack answers, the static-binary warning, and a run
 * of a probe (preload_probe.c) through it against the fake host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/preload_host.h"
#include "tests/unit/unit.h"

static struct ph_result prun_res;

static void prun(const char *const *args, const char *const *set)
{
    char tsrun[4096];
    const char *argv[16];
    ph_build_path(tsrun, sizeof tsrun, "tapstack-run");
    argv[0] = tsrun;
    int n = 1;
    for (; args[n - 1] && n < 15; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    const char *unset[] = { "LD_PRELOAD", "TAPSTACK_CTL", "TAPSTACK_PRELOAD",
                            "TSP_PROBE", NULL };
    /* In a sanitized build the library is sanitized too and is preloaded
     * into programs that are not: the runtime must not insist on coming
     * first. */
    const char *env[8] = {
        "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0" };
    for (int i = 0; set && set[i] && i < 6; i++)
        env[i + 1] = set[i];
    ph_spawn(argv, env, unset, NULL, 0, &prun_res);
}

static void test_prun_help(void)
{
    const char *a[] = { "--help", NULL };
    prun(a, NULL);
    CU_ASSERT_EQUAL(prun_res.code, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(prun_res.out, "Usage: tapstack-run"));
    CU_ASSERT_PTR_NOT_NULL(strstr(prun_res.out, "--ctl NAME"));
    CU_ASSERT_PTR_NOT_NULL(strstr(prun_res.out, "Exit status"));
    CU_ASSERT_STRING_EQUAL(prun_res.err, "");
    const char *h[] = { "-h", "--", "prog", NULL };
    prun(h, NULL);
    CU_ASSERT_EQUAL(prun_res.code, 0);
}

static void test_prun_usage(void)
{
    const char *none[] = { NULL };
    prun(none, NULL);
    CU_ASSERT_EQUAL(prun_res.code, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(prun_res.err, "no PROGRAM given"));
    CU_ASSERT_PTR_NOT_NULL(strstr(prun_res.err, "Usage: tapstack-run"));
    CU_ASSERT_STRING_EQUAL(prun_res.out, "");
    const char *bad[] = { "--bogus", "true", NULL };
    prun(bad, NULL);
    CU_ASSERT_EQUAL(prun_res.code, 2);
    const char *dash[] = { "--ctl", "@x", "--", NULL };
    prun(dash, NULL);
    CU_ASSERT_EQUAL(prun_res.code, 2);
    const char *noarg[] = { "--ctl", NULL };
    prun(noarg, NULL);
    CU_ASSERT_EQUAL(prun_res.code, 2);
}

static void test_prun_unreachable(void)
{
    char name[64], want[256];
    snprintf(name, sizeof name, "@tsp-unit-nobody-%d", (int)getpid());
    snprintf(want, sizeof want, "tapstack-run: no tapstack answers on %s: "
             "Connection refused (start tapstack first, in this network "
             "namespace)\n", name);
    const char *a[] = { "--ctl", name, "true", NULL };
    prun(a, NULL);
    CU_ASSERT_EQUAL(prun_res.code, 2);
    CU_ASSERT_STRING_EQUAL(prun_res.err, want);
    /* --iface IF names @tapstack/IF. */
    const char *i[] = { "--iface", "tspunit0", "true", NULL };
    prun(i, NULL);
    CU_ASSERT_EQUAL(prun_res.code, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(prun_res.err,
                                  "no tapstack answers on @tapstack/tspunit0:"));
    const char *path[] = { "--ctl", "/nonexistent/ts.ctl", "true", NULL };
    prun(path, NULL);
    CU_ASSERT_EQUAL(prun_res.code, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(prun_res.err, "No such file or directory"));
}

/* With a host: PROGRAM runs preloaded, env(1)'s exit codes otherwise. */
static void test_prun_exec(void)
{
    struct ph_host h;
    CU_ASSERT_FATAL(ph_start(&h) == 0);
    char exe[4096], expect[128];
    ph_build_path(exe, sizeof exe, "unit_tests");
    snprintf(expect, sizeof expect, "TSP_EXPECT_CTL=%s", h.name);
    const char *set[] = { "TSP_PROBE=run", expect, NULL };
    const char *a[] = { "--ctl", h.name, "--", exe, NULL };
    prun(a, set);
    CU_ASSERT_EQUAL(prun_res.code, 0);
    CU_ASSERT_STRING_EQUAL(prun_res.out, "probe run: ok\n");
    if (prun_res.code != 0)
        fprintf(stderr, "\n%s", prun_res.err);
    CU_ASSERT_EQUAL(ph_ops(&h, TS_OP_SOCKET), 1);

    const char *missing[] = { "--ctl", h.name, "/nonexistent/prog", NULL };
    prun(missing, NULL);
    CU_ASSERT_EQUAL(prun_res.code, 127);
    CU_ASSERT_STRING_EQUAL(prun_res.err, "tapstack-run: /nonexistent/prog: "
                           "No such file or directory\n");
    char plain[] = "/tmp/tsp-unit-XXXXXX";     /* mode 0600: not runnable */
    int pfd = mkstemp(plain);
    CU_ASSERT_FATAL(pfd >= 0);
    close(pfd);
    const char *noexec[] = { "--ctl", h.name, plain, NULL };
    prun(noexec, NULL);
    unlink(plain);
    CU_ASSERT_EQUAL(prun_res.code, 126);
    /* TAPSTACK_PRELOAD names the library; a wrong one is our error. */
    const char *badlib[] = { "TAPSTACK_PRELOAD=/nonexistent/lib.so", NULL };
    const char *t[] = { "--ctl", h.name, "true", NULL };
    prun(t, badlib);
    CU_ASSERT_EQUAL(prun_res.code, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(prun_res.err, "cannot find"));
    /* A static program: LD_PRELOAD cannot reach it, say so. */
    struct stat st;
    if (stat("/sbin/ldconfig", &st) == 0) {
        const char *ld[] = { "--ctl", h.name, "/sbin/ldconfig", "--version",
                             NULL };
        prun(ld, NULL);
        CU_ASSERT_EQUAL(prun_res.code, 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(prun_res.err, "statically linked"));
    }
    const char *dyn[] = { "--ctl", h.name, "true", NULL };
    prun(dyn, NULL);
    CU_ASSERT_EQUAL(prun_res.code, 0);
    CU_ASSERT_STRING_EQUAL(prun_res.err, "");
    ph_stop(&h);
}

TS_SUITE(preload_run,
         TS_TEST(test_prun_help),
         TS_TEST(test_prun_usage),
         TS_TEST(test_prun_unreachable),
         TS_TEST(test_prun_exec))
