/* Shared (non per-channel) logic of the trigger: internal interface. */
#ifndef NA64FW_LOGIC_H
#define NA64FW_LOGIC_H
#include <stdint.h>

#include "na64fw.h"

enum na64fw_logic_consts {
    SINCE_BEAM_MAX = 255,
    SUM_PEAKS_MAX = 3,
    PRESCALE_MAX = 65535,
    SUM_PEAK_SLOT = 108
};

/* Window results collected from the decision words as they are produced. */
typedef struct na64fw_window_acc {
    uint8_t bits;
    int32_t n_triggers;
    uint64_t first_word;
    int32_t first_clock;
    uint16_t prs, ecal, hcal;
} na64fw_window_acc;

/* One clock of coincidence, adder-tree registers, ECAL-sum peak finder and decision.
 * levels: stretched counter outputs (bit c = counter c) at this clock; sums_in: exact
 * adder-tree totals of this clock's inputs (prs, ecal, hcal, ecal_inst). */
void na64fw_shared_step(na64fw_state *st, const na64fw_config *cfg, uint32_t levels,
                        const uint32_t sums_in[4], const na64fw_outputs *out, uint32_t t,
                        na64fw_window_acc *win);

#endif
