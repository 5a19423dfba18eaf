/* tests/unit/unit.h - self-registering CUnit suites.
 *
 * Each tests/unit/test_*.c declares its suite with TS_SUITE(name, tests...):
 * a constructor adds it to the registry that main.c runs, so adding a test
 * file needs no edit anywhere else. Test helpers shared by several files
 * (fake frames, a fake clock) live in tests/unit/fixtures.h.
 * Entry points: TS_SUITE, TS_TEST, unit_add_suite.
 */
#ifndef TS_TESTS_UNIT_H
#define TS_TESTS_UNIT_H

#include <CUnit/CUnit.h>

struct unit_test {
    const char *name;
    CU_TestFunc fn;
};

struct unit_suite {
    const char *name;
    const struct unit_test *tests;
    unsigned ntests;
    struct unit_suite *next;
};

void unit_add_suite(struct unit_suite *s);

#define TS_TEST(fn) { #fn, fn }
/* The generated names carry a unit_ prefix: a suite named after its module
 * ("eth") must not collide with that module's own functions (eth_register). */
#define TS_SUITE(sname, ...)                                                  \
    static const struct unit_test unit_##sname##_tests[] = { __VA_ARGS__ };   \
    static struct unit_suite unit_##sname##_suite = {                         \
        #sname, unit_##sname##_tests,                                         \
        sizeof(unit_##sname##_tests) / sizeof(unit_##sname##_tests[0]), 0 };  \
    __attribute__((constructor)) static void unit_##sname##_register(void)    \
    {                                                                         \
        unit_add_suite(&unit_##sname##_suite);                                \
    }

#endif
