/* Failure counting for the C tests: CHECK(cond, fmt, ...) reports the first 20 failures with
 * file, line and a message, and main returns failures != 0. */
#ifndef NA64_CHECK_C_H
#define NA64_CHECK_C_H
#include <stdio.h>

static int failures = 0;
#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond)) {                                                     \
            ++failures;                                                    \
            if (failures < 20) {                                           \
                fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond); \
                fprintf(stderr, __VA_ARGS__);                              \
                fputc('\n', stderr);                                       \
            }                                                              \
        }                                                                  \
    } while (0)

#endif
