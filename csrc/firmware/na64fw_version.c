#include "na64fw.h"

uint32_t na64fw_abi_version(void) { return 5u; }
