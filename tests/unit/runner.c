/* The unit-test runner: `softvisor-tests` runs every suite, `softvisor-tests pit`
 * runs one. Set CK_FORK=no to debug a test under gdb. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include "suites.h"

int main(int argc, char **argv)
{
    SRunner *sr = NULL;
    for (int i = 0; all_suites[i].name; i++) {
        int want = argc < 2;
        for (int a = 1; a < argc; a++)
            want |= strcmp(argv[a], all_suites[i].name) == 0;
        if (!want)
            continue;
        if (!sr)
            sr = srunner_create(all_suites[i].make());
        else
            srunner_add_suite(sr, all_suites[i].make());
    }
    if (!sr) {
        fprintf(stderr, "softvisor-tests: no suite named %s\n", argc > 1 ? argv[1] : "(any)");
        return 2;
    }
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
