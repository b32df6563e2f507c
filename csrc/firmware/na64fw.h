/* na64fw: the trigger firmware path as embedded-style C11.
 * Fixed-width integers only; no heap, no floats, no libc beyond stdint.h/string.h.
 * This header is also read by cffi (na64reco.firmware), so it holds declarations only:
 * no macros, no includes beyond stdint.h, no inline code. */
#ifndef NA64FW_H
#define NA64FW_H
#include <stdint.h>

/* Bumped whenever a struct layout or function signature below changes;
 * the Python loader refuses a library whose version differs from its own. */
uint32_t na64fw_abi_version(void);

#endif
