/* tests/unit/main.c - runs every registered CUnit suite (see unit.h).
 *
 * Usage: unit_tests [SUITE]   run all suites, or only the one named.
 * Prints CUnit's summary; exits 1 when any assertion or test failed, or when
 * nothing ran (a run that asserts nothing is a defect).
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "tests/unit/unit.h"

static struct unit_suite *unit_suites;

void unit_add_suite(struct unit_suite *s)
{
    s->next = unit_suites;
    unit_suites = s;
}

static int unit_register_all(const char *only)
{
    int n = 0;
    for (struct unit_suite *s = unit_suites; s; s = s->next) {
        if (only && strcmp(only, s->name) != 0)
            continue;
        CU_pSuite cs = CU_add_suite(s->name, NULL, NULL);
        if (!cs)
            return -1;
        for (unsigned i = 0; i < s->ntests; i++)
            if (!CU_add_test(cs, s->tests[i].name, s->tests[i].fn))
                return -1;
        n++;
    }
    return n;
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    if (only && (strcmp(only, "-h") == 0 || strcmp(only, "--help") == 0)) {
        printf("usage: %s [SUITE]\nRuns every CUnit suite, or only SUITE.\n",
               argv[0]);
        return 0;
    }
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    int n = unit_register_all(only);
    if (n <= 0) {
        fprintf(stderr, "unit_tests: %s\n",
                n == 0 ? "no such suite" : CU_get_error_msg());
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_NORMAL);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() +
                      CU_get_number_of_tests_failed();
    unsigned asserts = CU_get_number_of_asserts();
    CU_cleanup_registry();
    return failed == 0 && asserts > 0 ? 0 : 1;
}
