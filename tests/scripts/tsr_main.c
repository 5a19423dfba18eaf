/* tests/scripts/tsr_main.c - ts-script: run conformance scripts.
 *
 * Usage: ts-script [-v] FILE.pkt...
 * Each script runs on a fresh stack; a failing line prints FILE:LINE, the
 * script's line and what the stack did, and the script stops there. The
 * last line is "N passed, N failed"; the exit status is 1 when any failed.
 * -v traces every segment and call of each script as it is played.
 * Entry point: main.
 */
#include <stdio.h>
#include <string.h>

#include "tests/scripts/tsr_env.h"

/* 0 when the script passes. */
static int tsr_run_file(const char *path, int verbose)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "%s: cannot open\n", path);
        return -1;
    }
    struct tsr_env *e = tsr_env_new(verbose);
    if (!e) {
        fclose(fp);
        return -1;
    }
    e->file = path;
    char text[512], err[160];
    int rc = 0;
    while (rc == 0 && fgets(text, sizeof text, fp)) {
        struct tsr_line ln;
        e->lineno++;
        text[strcspn(text, "\r\n")] = 0;
        e->text = text;
        if (tsr_parse_line(text, &ln, err, sizeof err) < 0)
            rc = tsr_report(e, "syntax: %s", err);
        else if (ln.kind != TSR_NONE)
            rc = tsr_run_line(e, &ln);
    }
    if (rc == 0 && e->started) {
        e->text = "(end of script)";
        rc = tsr_check_quiet(e);
    }
    if (rc == 0 && !e->started)
        rc = tsr_report(e, "the script plays nothing");
    tsr_env_free(e);
    fclose(fp);
    return rc;
}

int main(int argc, char **argv)
{
    int verbose = 0, first = 1;
    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        verbose = 1;
        first = 2;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: %s [-v] FILE.pkt...\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);   /* in step with stderr */
    unsigned passed = 0, failed = 0;
    for (int i = first; i < argc; i++) {
        if (tsr_run_file(argv[i], verbose) == 0) {
            passed++;
            if (verbose)
                printf("PASS %s\n", argv[i]);
        } else {
            failed++;
            printf("FAIL %s\n", argv[i]);
        }
    }
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
