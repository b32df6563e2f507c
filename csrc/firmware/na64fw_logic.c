/* Coincidence, adder-tree output registers, ECAL-sum peak finder and the decision FSM.
 * Semantics: docs/firmware.md and fpga_model/{counters,sums,channel,decision}.py. */
#include "na64fw_logic.h"

enum { IDLE = 0, PENDING = 1, DEAD = 2 };
enum { SUM_MAX = 65535 };

static const uint32_t LFSR_TAPS = 0x80200003u;
static const uint64_t TIMESTAMP_MASK = 0xFFFFFFFFFFFFull;

enum word_bits {
    BIT_PHYSICS = 1, BIT_BEAM = 2, BIT_RANDOM = 4, BIT_PILEUP = 8,
    BIT_VETO = 16, BIT_PRS_OVER = 32, BIT_ECAL_UNDER = 64, BIT_COINC = 128,
    TRIGGER_MASK = 7, TIMESTAMP_SHIFT = 16
};

static void start_dead(na64fw_state *st, const na64fw_config *cfg)
{
    if (cfg->dead_time > 0u) {
        st->mode = DEAD;
        st->count = cfg->dead_time;
    } else {
        st->mode = IDLE;
    }
}

static uint64_t decide(na64fw_state *st, const na64fw_config *cfg, uint64_t now, uint32_t prs, uint32_t ecal)
{
    const uint32_t prs_over = prs > cfg->prs_threshold;
    const uint32_t ecal_under = ecal < cfg->ecal_threshold;
    const uint32_t physics = prs_over && ecal_under && !st->veto_latch;
    uint32_t beam = 0u;
    if (cfg->beam_prescale != 0u) {
        if (st->prescale < PRESCALE_MAX) {
            ++st->prescale;
        }
        if (st->prescale >= cfg->beam_prescale) {
            beam = 1u;
            st->prescale = 0u;
        }
    }
    const uint32_t pileup = st->pileup || st->sum_peaks >= 2u;
    uint64_t word = (physics ? BIT_PHYSICS : 0u) | (beam ? BIT_BEAM : 0u) | (pileup ? BIT_PILEUP : 0u)
                  | (st->veto_latch ? BIT_VETO : 0u) | (prs_over ? BIT_PRS_OVER : 0u)
                  | (ecal_under ? BIT_ECAL_UNDER : 0u) | BIT_COINC;
    word |= now << TIMESTAMP_SHIFT;
    if (physics || beam) {
        start_dead(st, cfg);
    } else {
        st->mode = IDLE;
    }
    return word;
}

void na64fw_shared_step(na64fw_state *st, const na64fw_config *cfg, uint32_t levels,
                        const uint32_t sums_in[4], const na64fw_outputs *out, uint32_t t,
                        na64fw_window_acc *win)
{
    /* coincidence unit: registered beam level, beam edge, veto level */
    const uint32_t beam_y = st->beam_out, edge_y = st->edge_out, veto_y = st->veto_out;
    const uint32_t beam = (levels & cfg->coinc_mask) == cfg->coinc_mask;
    const uint32_t veto = ((levels >> 3) & cfg->veto_mask) != 0u;
    st->edge_out = (uint8_t)(beam && !st->beam_prev);
    st->beam_prev = (uint8_t)beam;
    st->beam_out = (uint8_t)beam;
    st->veto_out = (uint8_t)veto;

    /* adder trees: the exact total saturated once equals the tree of saturating adders
     * (non-negative operands); the registers delay it by NA64FW_TREE_LEVELS clocks */
    uint32_t sums_y[NA64FW_N_TREES];
    for (int i = 0; i < NA64FW_N_TREES; ++i) {
        sums_y[i] = st->tree_pipe[i][0];
        for (int j = 0; j + 1 < NA64FW_TREE_LEVELS; ++j) {
            st->tree_pipe[i][j] = st->tree_pipe[i][j + 1];
        }
        st->tree_pipe[i][NA64FW_TREE_LEVELS - 1] = (uint16_t)(sums_in[i] > SUM_MAX ? SUM_MAX : sums_in[i]);
    }

    /* ECAL-sum peak finder (strobe only) on the instantaneous sum */
    const int s = SUM_PEAK_SLOT;
    const uint32_t sum_peak_y = st->peak_strobe[s];
    {
        const uint32_t x = sums_y[3], prev = st->peak_prev[s];
        uint32_t peak = 0u;
        if (x > prev) {
            st->peak_rising[s] = 1u;
        } else if (x < prev) {
            peak = st->peak_rising[s] && prev >= cfg->pileup_sum_min;
            st->peak_rising[s] = 0u;
        }
        if (peak) {
            st->peak_held[s] = (uint16_t)prev;
            st->peak_count[s] = 1u;
        } else if (st->peak_count[s]) {
            --st->peak_count[s];
        }
        st->peak_prev[s] = (uint16_t)x;
        st->peak_out[s] = st->peak_count[s] ? st->peak_held[s] : 0u;
        st->peak_strobe[s] = (uint8_t)peak;
    }

    /* decision FSM */
    const uint64_t word_y = st->word_out;
    const uint64_t now = st->timestamp;
    uint64_t word = 0u;
    uint32_t request = 0u;
    if (cfg->random_threshold != 0u) {
        const uint32_t lsb = st->lfsr & 1u;
        st->lfsr >>= 1;
        if (lsb) {
            st->lfsr ^= LFSR_TAPS;
        }
        request = st->lfsr < cfg->random_threshold;
    }
    if (st->mode == PENDING) {
        st->veto_latch |= (uint8_t)veto_y;
        st->pileup |= (uint8_t)edge_y;
        if (sum_peak_y && st->sum_peaks < SUM_PEAKS_MAX) {
            ++st->sum_peaks;
        }
        if (--st->count == 0u) {
            word = decide(st, cfg, now, sums_y[0], sums_y[1]);
        }
    } else if (st->mode == DEAD) {
        if (--st->count == 0u) {
            st->mode = IDLE;
        }
    } else if (edge_y) {
        st->mode = PENDING;
        st->count = cfg->decision_delay;
        st->veto_latch = (uint8_t)veto_y;
        st->pileup = st->since_beam <= cfg->pileup_window;
        st->sum_peaks = (uint8_t)sum_peak_y;
    } else if (request) {
        word = BIT_RANDOM | now << TIMESTAMP_SHIFT;
        start_dead(st, cfg);
    }
    st->since_beam = edge_y ? 0u : (st->since_beam < SINCE_BEAM_MAX ? (uint8_t)(st->since_beam + 1u) : st->since_beam);
    st->timestamp = (now + 1u) & TIMESTAMP_MASK;
    st->word_out = word;

    if (win && word) {
        if (word & TRIGGER_MASK) {
            win->bits |= (uint8_t)(word & TRIGGER_MASK);
            ++win->n_triggers;
        }
        if (win->first_clock < 0) {
            win->first_word = word;
            win->first_clock = (int32_t)t;
            win->prs = (uint16_t)sums_y[0];
            win->ecal = (uint16_t)sums_y[1];
            win->hcal = (uint16_t)sums_y[2];
        }
    }
    if (out->word) out->word[t] = word_y;
    if (out->prs) out->prs[t] = (uint16_t)sums_y[0];
    if (out->ecal) out->ecal[t] = (uint16_t)sums_y[1];
    if (out->hcal) out->hcal[t] = (uint16_t)sums_y[2];
    if (out->ecal_inst) out->ecal_inst[t] = (uint16_t)sums_y[3];
    if (out->flags) {
        out->flags[t] = (uint8_t)(sum_peak_y | beam_y << 1 | edge_y << 2 | veto_y << 3);
    }
}
