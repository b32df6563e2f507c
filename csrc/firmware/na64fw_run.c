/* The trigger pipeline, clock by clock, processed in chunks of CHUNK clocks:
 * every channel's own pipeline (pedestal, filter, gain, peak or discriminator) runs over
 * the chunk first, accumulating the adder-tree inputs per clock; then the shared logic
 * (coincidence, adder-tree registers, ECAL-sum peak finder, decision) steps clock by clock.
 * This ordering is exact: channels only meet at the adder trees, and each stage reads the
 * previous stage's output register. */
#include <string.h>

#include "na64fw.h"
#include "na64fw_arith.h"
#include "na64fw_channel.h"
#include "na64fw_logic.h"


_Static_assert(NA64FW_N_CHANNELS == NA64FW_N_COUNTERS + NA64FW_N_CALO, "channel layout");

int32_t na64fw_config_check(const na64fw_config *cfg)
{
    if (!cfg) {
        return NA64FW_ERR_NULL;
    }
    int32_t field = 1;
    if (cfg->ped_shift > 8) return field;
    ++field;
    if (cfg->ped_block_log2 > 4) return field;
    ++field;
    if (cfg->ped_gate > SAMPLE_MAX) return field;
    ++field;
    if (cfg->filter_len < 1 || cfg->filter_len > NA64FW_FILTER_DEPTH) return field;
    ++field;
    if (cfg->peak_hold < 1) return field;
    ++field;
    if (cfg->coinc_mask < 1 || cfg->coinc_mask > 7) return field;
    ++field;
    if (cfg->veto_mask > 3) return field;
    ++field;
    if (cfg->decision_delay < 1 || cfg->decision_delay > 63) return field;
    ++field;
    if (cfg->pileup_window > 254) return field;
    field += 3; /* gain and peak_min: every value legal */
    for (int i = 0; i < NA64FW_N_COUNTERS; ++i) {
        if (cfg->cnt_threshold[i] < 1 || cfg->cnt_threshold[i] > SAMPLE_MAX) return field;
    }
    ++field;
    for (int i = 0; i < NA64FW_N_COUNTERS; ++i) {
        if (cfg->cnt_stretch[i] < 1) return field;
    }
    field += 8; /* prs .. random_threshold: every value legal */
    if (cfg->random_seed == 0) return field;
    return 0;
}

int32_t na64fw_reset(na64fw_state *st, const na64fw_config *cfg)
{
    if (!st || !cfg) {
        return NA64FW_ERR_NULL;
    }
    memset(st, 0, sizeof *st);
    st->since_beam = SINCE_BEAM_MAX;
    st->lfsr = cfg->random_seed;
    return NA64FW_OK;
}

static inline void accumulate(uint32_t *acc, const uint16_t *v, uint32_t n)
{
    for (uint32_t t = 0; t < n; ++t) {
        acc[t] += v[t];
    }
}

static int samples_valid(const uint16_t *samples, uint32_t n_clocks, uint32_t stride, uint32_t n_rows)
{
    uint32_t bad = 0;
    for (uint32_t r = 0; r < n_rows; ++r) {
        const uint16_t *row = samples + (uint64_t)r * stride;
        for (uint32_t t = 0; t < n_clocks; ++t) {
            bad |= row[t] > SAMPLE_MAX;
        }
    }
    return !bad;
}

/* A calorimeter channel run from reset over a whole window x[0 .. n-1] whose held output is
 * provably 0 on every clock, decided from the samples alone (cheap: a maximum and the block
 * sums) instead of running its pipeline. The bound:
 * - the pedestal starts at x[0] and every update moves it to a point between itself and the
 *   block mean (ped + floor((target - ped) / 2^k) lies between ped and target, saturation
 *   never binds for 12-bit samples), so the rounded pedestal never falls below
 *   lo = min(x[0], floor of each complete block's mean);
 * - a baseline is then at most hi - lo (hi = the largest sample), the registered baseline
 *   and filter history start at 0, so every filter value is at most len * max(hi - lo, 0)
 *   and every energy at most its gain (gain_apply is monotonic);
 * - if that energy is below peak_min, no value the peak finder compares reaches peak_min
 *   (the reset prev is 0), no peak fires, and nothing is held. */
static inline uint32_t block_sum(const uint16_t *xb, uint32_t len)
{
    uint32_t sum = 0u;
    for (uint32_t i = 0; i < len; ++i) {
        sum += xb[i];
    }
    return sum;
}

static inline int calo_window_quiet(const na64fw_config *cfg, int k, const uint16_t *x, uint32_t n)
{
    const uint32_t group = k < N_ECAL0 ? 0u : (k < N_ECAL ? 1u : 2u);
    const uint32_t peak_min = cfg->peak_min[group];
    const uint32_t block_log2 = cfg->ped_block_log2;
    const uint32_t block_len = 1u << block_log2;
    uint32_t lo = x[0];
    uint32_t hi = 0u;
    for (uint32_t t = 0; t < n; ++t) {
        hi = hi > x[t] ? hi : x[t];
    }
    for (uint32_t b0 = 0; b0 + block_len <= n; b0 += block_len) {
        /* the default block of 8 with a constant count: the sum is a few vector operations */
        const uint32_t sum = block_len == 8u ? block_sum(x + b0, 8u) : block_sum(x + b0, block_len);
        const uint32_t mean_floor = sum >> block_log2;
        lo = lo < mean_floor ? lo : mean_floor;
    }
    const int32_t filter_max = hi > lo ? (int32_t)(cfg->filter_len * (hi - lo)) : 0;
    return gain_apply(filter_max, cfg->gain[k]) < peak_min;
}

/* Runs n clocks of the channels' rows (channel c's clock t at rows[c][t]); samples already
 * validated. win (may be NULL) collects window results.
 * bits_only: only the trigger bits (physics, beam, random) of the decision words must be
 * right, and st is the reset state (a recorded window). The bits depend on the counters and
 * the PRS and ECAL sums alone, so the HCAL channels and the instantaneous ECAL sum (which
 * only feed the HCAL sum and the pile-up flag) are not run, nor the ECAL channels that
 * calo_window_quiet shows to hold nothing: the state after the run is not the full
 * pipeline's. */
static inline void run_core(na64fw_state *st, const na64fw_config *cfg, const uint16_t *const *rows, uint32_t n,
                     const na64fw_outputs *out, na64fw_window_acc *win, const int bits_only)
{
    const int n_calo = bits_only ? N_ECAL : NA64FW_N_CALO;
    uint32_t acc_prs[CHUNK], acc_ecal[CHUNK], acc_hcal[CHUNK], acc_inst[CHUNK];
    uint8_t level[NA64FW_N_COUNTERS][CHUNK];
    for (uint32_t t0 = 0; t0 < n; t0 += CHUNK) {
        const uint32_t m = n - t0 < CHUNK ? n - t0 : CHUNK;
        /* only the m clocks of this chunk: a 32-sample window must not pay for CHUNK */
        memset(acc_prs, 0, m * sizeof acc_prs[0]);
        memset(acc_ecal, 0, m * sizeof acc_ecal[0]);
        memset(acc_hcal, 0, m * sizeof acc_hcal[0]);
        memset(acc_inst, 0, m * sizeof acc_inst[0]);
        for (int c = 0; c < NA64FW_N_COUNTERS; ++c) {
            counter_chunk(st, cfg, c, rows[c] + t0, m, level[c],
                          out->baseline ? out->baseline + (uint64_t)c * n + t0 : 0,
                          out->counters ? out->counters + (uint64_t)c * n + t0 : 0);
        }
        for (int k = 0; k < n_calo; ++k) {
            const uint16_t *x = rows[NA64FW_N_COUNTERS + k] + t0;
            if (bits_only && n <= CHUNK && calo_window_quiet(cfg, k, x, m)) {
                continue; /* one chunk from reset, provably nothing held: adds nothing */
            }
            uint16_t held_y[CHUNK], energy_y[CHUNK];
            const int quiet = calo_chunk(st, cfg, k, x, m, held_y, energy_y, out, t0, n);
            if (k < N_ECAL && !bits_only) {
                accumulate(acc_inst, energy_y, m);
            }
            if (quiet) {
                continue; /* held output 0 throughout: adds nothing to the trees */
            }
            if (k < N_ECAL0) {
                accumulate(acc_prs, held_y, m);
            }
            if (k < N_ECAL) {
                accumulate(acc_ecal, held_y, m);
            } else {
                accumulate(acc_hcal, held_y, m);
            }
        }
        for (uint32_t t = 0; t < m; ++t) {
            uint32_t levels = 0;
            for (int c = 0; c < NA64FW_N_COUNTERS; ++c) {
                levels |= (uint32_t)level[c][t] << c;
            }
            const uint32_t sums_in[NA64FW_N_TREES] = {acc_prs[t], acc_ecal[t], acc_hcal[t], acc_inst[t]};
            na64fw_shared_step(st, cfg, levels, sums_in, out, t0 + t, win);
        }
    }
}

/* rows[c] = channel c's row of a dense (channel, clock) array. */
static inline void dense_rows(const uint16_t *samples, uint64_t stride, const uint16_t **rows)
{
    for (int c = 0; c < NA64FW_N_CHANNELS; ++c) {
        rows[c] = samples + (uint64_t)c * stride;
    }
}

int32_t na64fw_run(na64fw_state *st, const na64fw_config *cfg, const uint16_t *samples,
                   uint32_t n_clocks, uint32_t channel_stride, const na64fw_outputs *out)
{
    if (!st || !cfg || !samples || !out) {
        return NA64FW_ERR_NULL;
    }
    if (na64fw_config_check(cfg) != 0) {
        return NA64FW_ERR_CONFIG;
    }
    if (n_clocks == 0) {
        return NA64FW_OK;
    }
    if (channel_stride < n_clocks) {
        return NA64FW_ERR_SIZE;
    }
    if (!samples_valid(samples, n_clocks, channel_stride, NA64FW_N_CHANNELS)) {
        return NA64FW_ERR_SAMPLE;
    }
    const uint16_t *rows[NA64FW_N_CHANNELS];
    dense_rows(samples, channel_stride, rows);
    run_core(st, cfg, rows, n_clocks, out, 0, 0);
    return NA64FW_OK;
}

/* Arguments shared by the window entries; NA64FW_OK or the error to return. */
static int32_t windows_check(const na64fw_config *cfg, const uint16_t *samples, uint32_t n_windows,
                             uint32_t n_samples)
{
    if (na64fw_config_check(cfg) != 0) {
        return NA64FW_ERR_CONFIG;
    }
    if (n_samples == 0 && n_windows != 0) {
        return NA64FW_ERR_SIZE;
    }
    if (!samples_valid(samples, n_samples, n_samples, (uint32_t)NA64FW_N_CHANNELS * n_windows)) {
        return NA64FW_ERR_SAMPLE;
    }
    return NA64FW_OK;
}

/* One recorded window from reset, channel c's samples at rows[c]; 32-sample windows take a
 * copy of the pipeline specialised for 32 clocks. */
static inline na64fw_window_acc run_window(const na64fw_config *cfg, const uint16_t *const *rows,
                                           uint32_t n_samples, const int bits_only)
{
    const na64fw_outputs none = {0};
    na64fw_window_acc acc = {0u, 0, 0u, -1, 0u, 0u, 0u};
    na64fw_state st;
    na64fw_reset(&st, cfg);
    if (n_samples == 32u) {
        run_core(&st, cfg, rows, 32u, &none, &acc, bits_only);
    } else {
        run_core(&st, cfg, rows, n_samples, &none, &acc, bits_only);
    }
    return acc;
}

/* Window w of a dense (window, channel, sample) array. */
static inline na64fw_window_acc run_dense_window(const na64fw_config *cfg, const uint16_t *samples, uint32_t w,
                                                 uint32_t n_samples, const int bits_only)
{
    const uint16_t *rows[NA64FW_N_CHANNELS];
    dense_rows(samples + (uint64_t)w * NA64FW_N_CHANNELS * n_samples, n_samples, rows);
    return run_window(cfg, rows, n_samples, bits_only);
}

int32_t na64fw_run_windows(const na64fw_config *cfg, const uint16_t *samples, uint32_t n_windows,
                           uint32_t n_samples, const na64fw_window_results *res)
{
    if (!cfg || !samples || !res || !res->trigger_bits || !res->n_triggers || !res->decision_word
        || !res->decision_clock || !res->e_prs || !res->e_ecal || !res->e_hcal) {
        return NA64FW_ERR_NULL;
    }
    const int32_t rc = windows_check(cfg, samples, n_windows, n_samples);
    if (rc != NA64FW_OK) {
        return rc;
    }
    for (uint32_t w = 0; w < n_windows; ++w) {
        const na64fw_window_acc acc = run_dense_window(cfg, samples, w, n_samples, 0);
        res->trigger_bits[w] = acc.bits;
        res->n_triggers[w] = acc.n_triggers;
        res->decision_word[w] = acc.first_word;
        res->decision_clock[w] = acc.first_clock;
        res->e_prs[w] = acc.prs;
        res->e_ecal[w] = acc.ecal;
        res->e_hcal[w] = acc.hcal;
    }
    return NA64FW_OK;
}

int32_t na64fw_trigger_bits_windows(const na64fw_config *cfg, const uint16_t *samples, uint32_t n_windows,
                                    uint32_t n_samples, uint8_t *trigger_bits)
{
    if (!cfg || !samples || !trigger_bits) {
        return NA64FW_ERR_NULL;
    }
    const int32_t rc = windows_check(cfg, samples, n_windows, n_samples);
    if (rc != NA64FW_OK) {
        return rc;
    }
    for (uint32_t w = 0; w < n_windows; ++w) {
        trigger_bits[w] = run_dense_window(cfg, samples, w, n_samples, 1).bits;
    }
    return NA64FW_OK;
}

/* Digit rows [lo, hi) addressable: channels in range and indices inside the table; NA64FW_OK
 * or the error. Their samples are checked event by event, just before they run, while the
 * rows are in the cache. */
static int32_t digits_check(const uint16_t *channel, uint64_t n_rows, const uint64_t *row_index, uint32_t lo,
                            uint32_t hi)
{
    uint32_t bad = 0u;
    for (uint32_t r = lo; r < hi; ++r) {
        bad |= channel[r] >= NA64FW_N_CHANNELS;
    }
    if (bad) {
        return NA64FW_ERR_CHANNEL;
    }
    uint32_t outside = 0u;
    for (uint32_t r = lo; r < hi && row_index; ++r) {
        outside |= row_index[r] >= n_rows;
    }
    return outside ? NA64FW_ERR_SIZE : NA64FW_OK;
}

/* Both digit entries: rows laid out in order (row_index NULL) or picked by index. */
static int32_t trigger_bits_of_digits(const na64fw_config *cfg, const uint32_t *first_digit, uint32_t n_events,
                                      const uint16_t *channel, const uint16_t *table, uint64_t n_rows,
                                      uint32_t stride, const uint64_t *row_index, uint32_t n_samples,
                                      uint8_t *trigger_bits)
{
    if (!cfg || !first_digit || !trigger_bits) {
        return NA64FW_ERR_NULL;
    }
    if (na64fw_config_check(cfg) != 0) {
        return NA64FW_ERR_CONFIG;
    }
    if (n_events == 0) {
        return NA64FW_OK;
    }
    if (n_samples == 0 || n_samples > (uint32_t)NA64FW_MAX_DIGIT_SAMPLES || stride < n_samples) {
        return NA64FW_ERR_SIZE;
    }
    for (uint32_t e = 0; e < n_events; ++e) {
        if (first_digit[e + 1] < first_digit[e]) {
            return NA64FW_ERR_SIZE;
        }
    }
    const uint32_t lo = first_digit[0], hi = first_digit[n_events];
    if (hi > lo && (!channel || !table)) {
        return NA64FW_ERR_NULL;
    }
    const int32_t rc = digits_check(channel, n_rows, row_index, lo, hi);
    if (rc != NA64FW_OK) {
        return rc;
    }
    /* Each event's window is a table of row pointers: a channel without a digit reads a flat
     * row of zeros, and a digit's row is read where it lies, nothing copied. */
    static const uint16_t absent[NA64FW_MAX_DIGIT_SAMPLES];
    const uint16_t *rows[NA64FW_N_CHANNELS];
    for (int c = 0; c < NA64FW_N_CHANNELS; ++c) {
        rows[c] = absent;
    }
    for (uint32_t e = 0; e < n_events; ++e) {
        uint32_t valid = 1u;
        for (uint32_t r = first_digit[e]; r < first_digit[e + 1]; ++r) {
            const uint16_t *row = table + (row_index ? row_index[r] : r) * stride;
            valid &= (uint32_t)samples_valid(row, n_samples, n_samples, 1u);
            rows[channel[r]] = row;
        }
        if (!valid) {
            return NA64FW_ERR_SAMPLE;
        }
        trigger_bits[e] = run_window(cfg, rows, n_samples, 1).bits;
        for (uint32_t r = first_digit[e]; r < first_digit[e + 1]; ++r) {
            rows[channel[r]] = absent;
        }
    }
    return NA64FW_OK;
}

int32_t na64fw_trigger_bits_digits(const na64fw_config *cfg, const uint32_t *first_digit, uint32_t n_events,
                                   const uint16_t *channel, const uint16_t *samples, uint32_t n_samples,
                                   uint8_t *trigger_bits)
{
    const uint64_t n_rows = first_digit && n_events ? first_digit[n_events] : 0u;
    return trigger_bits_of_digits(cfg, first_digit, n_events, channel, samples, n_rows, n_samples, 0, n_samples,
                                  trigger_bits);
}

int32_t na64fw_trigger_bits_digit_rows(const na64fw_config *cfg, const uint32_t *first_digit, uint32_t n_events,
                                       const uint16_t *channel, const uint16_t *table, uint64_t n_rows,
                                       uint32_t row_stride, const uint64_t *row_index, uint32_t n_samples,
                                       uint8_t *trigger_bits)
{
    if (n_events && first_digit && first_digit[n_events] > first_digit[0] && !row_index) {
        return NA64FW_ERR_NULL;
    }
    return trigger_bits_of_digits(cfg, first_digit, n_events, channel, table, n_rows, row_stride, row_index,
                                  n_samples, trigger_bits);
}
