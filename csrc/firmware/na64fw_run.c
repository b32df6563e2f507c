/* The trigger pipeline, clock by clock, processed in chunks of CHUNK clocks:
 * every channel's own pipeline (pedestal, filter, gain, peak or discriminator) runs over
 * the chunk first, accumulating the adder-tree inputs per clock; then the shared logic
 * (coincidence, adder-tree registers, ECAL-sum peak finder, decision) steps clock by clock.
 * This ordering is exact: channels only meet at the adder trees, and each stage reads the
 * previous stage's output register. */
#include <string.h>

#include "na64fw.h"
#include "na64fw_arith.h"
#include "na64fw_logic.h"

enum { CHUNK = 256, N_ECAL0 = 36, N_ECAL = 72 };

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

/* Pedestal tracker registers of one channel, held in locals while a chunk runs. */
typedef struct {
    uint32_t ped, ped_int, sum, max, count, seeded;
} pedestal_regs;

static inline pedestal_regs pedestal_load(const na64fw_state *st, int ch)
{
    pedestal_regs p = {st->ped[ch], ped_round(st->ped[ch]), st->ped_sum[ch], st->ped_max[ch],
                       st->ped_count[ch], st->ped_seeded[ch]};
    return p;
}

static inline void pedestal_store(na64fw_state *st, int ch, const pedestal_regs *p)
{
    st->ped[ch] = p->ped;
    st->ped_sum[ch] = (uint16_t)p->sum;
    st->ped_max[ch] = (uint16_t)p->max;
    st->ped_count[ch] = (uint8_t)p->count;
    st->ped_seeded[ch] = (uint8_t)p->seeded;
}

/* The first clock after reset loads the pedestal with that clock's sample. */
static inline void pedestal_seed(pedestal_regs *p, uint32_t first_sample)
{
    if (!p->seeded) {
        p->ped = first_sample << PED_FRAC_BITS;
        p->ped_int = ped_round(p->ped);
        p->seeded = 1u;
    }
}

/* One clock: returns the combinational baseline (the caller registers it). The pedestal
 * only changes at a block end, so its rounded value is kept alongside. */
static inline int32_t pedestal_step(pedestal_regs *p, uint32_t x, uint32_t block_len, const na64fw_config *cfg)
{
    const int32_t baseline = (int32_t)x - (int32_t)p->ped_int;
    p->sum += x;
    p->max = p->max > x ? p->max : x;
    if (++p->count >= block_len) {
        p->ped = ped_update(p->ped, p->sum, p->max, cfg->ped_shift, cfg->ped_block_log2, cfg->ped_gate);
        p->ped_int = ped_round(p->ped);
        p->sum = p->max = p->count = 0u;
    }
    return baseline;
}

/* One counter channel over a chunk: pedestal, then leading-edge discriminator + stretcher. */
static void counter_chunk(na64fw_state *st, const na64fw_config *cfg, int c, const uint16_t *x,
                          uint32_t n, uint8_t *level, int16_t *dbg_baseline, uint8_t *dbg_level)
{
    pedestal_regs p = pedestal_load(st, c);
    pedestal_seed(&p, x[0]);
    const uint32_t block_len = 1u << cfg->ped_block_log2;
    int32_t b_reg = st->baseline_out[c];
    uint32_t above_prev = st->disc_above[c];
    uint32_t count = st->disc_count[c];
    uint32_t out = st->disc_out[c];
    const int32_t threshold = cfg->cnt_threshold[c];
    const uint32_t stretch = cfg->cnt_stretch[c];
    for (uint32_t t = 0; t < n; ++t) {
        const int32_t b_y = b_reg;
        level[t] = (uint8_t)out;
        if (dbg_baseline) dbg_baseline[t] = (int16_t)b_y;
        if (dbg_level) dbg_level[t] = (uint8_t)out;
        b_reg = pedestal_step(&p, x[t], block_len, cfg);
        const uint32_t above = b_y >= threshold;
        const uint32_t edge = above & (above_prev ^ 1u);
        above_prev = above;
        count = edge ? stretch : count - (count != 0u);
        out = count != 0u;
    }
    pedestal_store(st, c, &p);
    st->baseline_out[c] = (int16_t)b_reg;
    st->disc_above[c] = (uint8_t)above_prev;
    st->disc_count[c] = (uint8_t)count;
    st->disc_out[c] = (uint8_t)out;
}

/* Pedestal tracking over a chunk, a block segment at a time: within a segment the pedestal
 * is constant, so the subtraction, block sum and block maximum are branch-free loops the
 * compiler vectorises. comb[t] = the combinational baseline of clock t. */
static void pedestal_chunk(pedestal_regs *p, const uint16_t *x, uint32_t n, uint32_t block_len,
                           const na64fw_config *cfg, int32_t *comb)
{
    uint32_t t = 0;
    while (t < n) {
        /* a block already at or past its length (M lowered mid-block) ends at this clock */
        uint32_t seg = p->count >= block_len ? 1u : block_len - p->count;
        seg = seg < n - t ? seg : n - t;
        const int32_t ped_int = (int32_t)p->ped_int;
        uint32_t sum = 0u;
        uint32_t max = p->max;
        /* segment pointers, not x[t + i]: a wrapping 32-bit index is not affine for GCC's
         * vectoriser, and it leaves the loops scalar */
        const uint16_t *xs = x + t;
        int32_t *cs = comb + t;
        for (uint32_t i = 0; i < seg; ++i) {
            cs[i] = (int32_t)xs[i] - ped_int;
        }
        for (uint32_t i = 0; i < seg; ++i) {
            const uint32_t v = xs[i];
            sum += v;
            max = max > v ? max : v;
        }
        p->sum += sum;
        p->max = (uint16_t)max;
        p->count += seg;
        t += seg;
        if (p->count >= block_len) {
            p->ped = ped_update(p->ped, p->sum, p->max, cfg->ped_shift, cfg->ped_block_log2, cfg->ped_gate);
            p->ped_int = ped_round(p->ped);
            p->sum = p->max = p->count = 0u;
        }
    }
}

/* The peak finder with hold over a chunk, clock by clock (written with selects: noise makes
 * these data-dependent). held_y[t] = the held output register at clock t. */
static void peak_chunk(na64fw_state *st, int k, const uint16_t *energy_y, uint32_t n, uint32_t peak_min,
                       uint32_t hold, uint16_t *held_y)
{
    uint32_t prev = st->peak_prev[k], held = st->peak_held[k], pk_out = st->peak_out[k];
    uint32_t count = st->peak_count[k], rising = st->peak_rising[k], strobe = st->peak_strobe[k];
    for (uint32_t t = 0; t < n; ++t) {
        const uint32_t e_y = energy_y[t];
        held_y[t] = (uint16_t)pk_out;
        const uint32_t up = e_y > prev, down = e_y < prev;
        const uint32_t peak = down & rising & (prev >= peak_min);
        rising = up | (rising & (down ^ 1u));
        held = peak ? prev : held;
        count = peak ? hold : count - (count != 0u);
        prev = e_y;
        pk_out = count ? held : 0u;
        strobe = peak;
    }
    st->peak_prev[k] = (uint16_t)prev;
    st->peak_held[k] = (uint16_t)held;
    st->peak_out[k] = (uint16_t)pk_out;
    st->peak_count[k] = (uint8_t)count;
    st->peak_rising[k] = (uint8_t)rising;
    st->peak_strobe[k] = (uint8_t)strobe;
}

/* A quiet chunk: nothing held (count 0, output 0) and every value that becomes "prev"
 * during the chunk (the state's prev, then energy_y[0 .. n-2]) is below peak_min. Then no
 * peak fires, so the held output is 0 on every clock, held and count keep their values and
 * strobe is 0; prev ends at the last energy and rising at the direction of the last change.
 * top: the largest of energy_y[0 .. n-2] (0 when n == 1). Returns 1 after updating the state so, 0 (state untouched) when the chunk is not quiet. */
static inline int peak_quiet(na64fw_state *st, int k, const uint16_t *energy_y, uint32_t n, uint32_t peak_min,
                             uint32_t top)
{
    if (st->peak_count[k] != 0u || st->peak_out[k] != 0u || st->peak_prev[k] >= peak_min) {
        return 0;
    }
    if (top >= peak_min) {
        return 0;
    }
    uint32_t rising = st->peak_rising[k];
    for (uint32_t t = n; t-- > 0u;) {
        const uint32_t before = t ? energy_y[t - 1u] : st->peak_prev[k];
        if (energy_y[t] != before) {
            rising = energy_y[t] > before;
            break;
        }
    }
    st->peak_prev[k] = energy_y[n - 1u];
    st->peak_rising[k] = (uint8_t)rising;
    st->peak_strobe[k] = 0u;
    return 1;
}

/* dst[t] += src[t]; a function of its own with restrict pointers, which GCC vectorises
 * (inline in the filter's loop nest it did not) */
static inline void add_into(int32_t *restrict dst, const int32_t *restrict src, uint32_t n)
{
    for (uint32_t t = 0; t < n; ++t) {
        dst[t] += src[t];
    }
}

/* One calorimeter channel over a chunk: pedestal, moving sum, gain, peak finder with hold.
 * Writes its per-clock held output and energy output (the adder-tree inputs). The stages
 * run one after the other over the whole chunk, each reading the previous stage's output
 * register sequence (its value at clock t is the comb of clock t-1); only the peak finder
 * is a recursion, the others are element-wise loops that vectorise. */
static inline int calo_chunk_body(na64fw_state *st, const na64fw_config *cfg, int k, const uint16_t *x,
                                   uint32_t n, uint16_t *held_y, uint16_t *energy_y,
                                   const na64fw_outputs *out, uint32_t out_offset, uint32_t out_stride,
                                   const int debug)
{
    enum { D = NA64FW_FILTER_DEPTH };
    const int ch = NA64FW_N_COUNTERS + k;
    const uint32_t len = cfg->filter_len;
    const uint32_t gain = cfg->gain[k];
    const uint32_t group = k < N_ECAL0 ? 0u : (k < N_ECAL ? 1u : 2u);
    const uint32_t peak_min = cfg->peak_min[group];
    const uint32_t hold = cfg->peak_hold;
    const uint32_t block_len = 1u << cfg->ped_block_log2;

    /* b[D + t] = registered baseline at clock t (b[D + n] = the register after the chunk);
     * b[0 .. D-1] = the filter history, oldest first */
    int32_t b[D + CHUNK + 1];
    for (uint32_t i = 0; i < D; ++i) {
        b[D - 1u - i] = st->filter_hist[k][i];
    }
    b[D] = st->baseline_out[ch];
    pedestal_regs p = pedestal_load(st, ch);
    pedestal_seed(&p, x[0]);
    pedestal_chunk(&p, x, n, block_len, cfg, b + D + 1);
    pedestal_store(st, ch, &p);
    st->baseline_out[ch] = (int16_t)b[D + n];

    /* f[t] = registered filter at clock t: the moving sum of clock t-1 */
    int32_t f[CHUNK + 1];
    f[0] = st->filter_out[k];
    int32_t *f_next = f + 1;
    for (uint32_t t = 0; t < n; ++t) {
        f_next[t] = b[D + t];
    }
    for (uint32_t i = 1; i < len; ++i) {
        add_into(f_next, b + D - i, n);
    }
    st->filter_out[k] = (int16_t)f[n];
    for (uint32_t i = 0; i < D; ++i) {
        st->filter_hist[k][i] = (int16_t)b[D + n - 1u - i];
    }

    /* registered energy: energy_y[t] = gain of f[t-1]; top = the largest of energy_y[0 .. n-2]
     * (the values that become the peak finder's "prev" in this chunk), taken in the same loop:
     * a second pass would read the fresh narrow stores back and stall on them */
    energy_y[0] = st->energy_out[k];
    uint32_t top = n > 1u ? energy_y[0] : 0u;
    for (uint32_t t = 1; t + 1u < n; ++t) {
        const uint16_t e = gain_apply(f[t - 1u], gain);
        energy_y[t] = e;
        top = top > e ? top : e;
    }
    if (n > 1u) {
        energy_y[n - 1u] = gain_apply(f[n - 2u], gain);
    }
    st->energy_out[k] = gain_apply(f[n - 1u], gain);

    /* peak finder with hold. Most channels carry only noise, far below peak_min: when no
     * value the finder compares can pass peak_min and nothing is held, no peak can fire in
     * this chunk, the held output stays 0 and only prev and rising move (see peak_quiet). */
    const int quiet = peak_quiet(st, k, energy_y, n, peak_min, top);
    if (!quiet) {
        peak_chunk(st, k, energy_y, n, peak_min, hold, held_y);
    }
    if (debug) {
        for (uint32_t t = 0; t < n; ++t) {
            const uint32_t o = out_offset + t;
            if (out->baseline) out->baseline[(uint32_t)ch * out_stride + o] = (int16_t)b[D + t];
            if (out->filter) out->filter[(uint32_t)k * out_stride + o] = (int16_t)f[t];
            if (out->energy) out->energy[(uint32_t)k * out_stride + o] = energy_y[t];
            if (out->held) out->held[(uint32_t)k * out_stride + o] = quiet ? 0u : held_y[t];
        }
    }
    return quiet;
}

/* Two specialised copies of the channel loop: with and without the debug outputs.
 * Returns 1 when the held output is 0 on every clock of the chunk (held_y not written). */
static inline int calo_chunk(na64fw_state *st, const na64fw_config *cfg, int k, const uint16_t *x,
                       uint32_t n, uint16_t *held_y, uint16_t *energy_y,
                       const na64fw_outputs *out, uint32_t out_offset, uint32_t out_stride)
{
    if (out->baseline || out->filter || out->energy || out->held) {
        return calo_chunk_body(st, cfg, k, x, n, held_y, energy_y, out, out_offset, out_stride, 1);
    }
    return calo_chunk_body(st, cfg, k, x, n, held_y, energy_y, out, out_offset, out_stride, 0);
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

/* Runs n clocks; samples already validated. win (may be NULL) collects window results.
 * bits_only: only the trigger bits (physics, beam, random) of the decision words must be
 * right, and st is the reset state (a recorded window). The bits depend on the counters and
 * the PRS and ECAL sums alone, so the HCAL channels and the instantaneous ECAL sum (which
 * only feed the HCAL sum and the pile-up flag) are not run, nor the ECAL channels that
 * calo_window_quiet shows to hold nothing: the state after the run is not the full
 * pipeline's. */
static inline void run_core(na64fw_state *st, const na64fw_config *cfg, const uint16_t *samples, uint32_t n,
                     uint32_t stride, const na64fw_outputs *out, na64fw_window_acc *win, const int bits_only)
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
            counter_chunk(st, cfg, c, samples + (uint64_t)c * stride + t0, m, level[c],
                          out->baseline ? out->baseline + (uint64_t)c * n + t0 : 0,
                          out->counters ? out->counters + (uint64_t)c * n + t0 : 0);
        }
        for (int k = 0; k < n_calo; ++k) {
            const uint16_t *x = samples + (uint64_t)(NA64FW_N_COUNTERS + k) * stride + t0;
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
    run_core(st, cfg, samples, n_clocks, channel_stride, out, 0, 0);
    return NA64FW_OK;
}

int32_t na64fw_run_windows(const na64fw_config *cfg, const uint16_t *samples, uint32_t n_windows,
                           uint32_t n_samples, const na64fw_window_results *res)
{
    if (!cfg || !samples || !res || !res->trigger_bits || !res->n_triggers || !res->decision_word
        || !res->decision_clock || !res->e_prs || !res->e_ecal || !res->e_hcal) {
        return NA64FW_ERR_NULL;
    }
    if (na64fw_config_check(cfg) != 0) {
        return NA64FW_ERR_CONFIG;
    }
    if (n_samples == 0 && n_windows != 0) {
        return NA64FW_ERR_SIZE;
    }
    if (!samples_valid(samples, n_samples, n_samples, (uint32_t)NA64FW_N_CHANNELS * n_windows)) {
        return NA64FW_ERR_SAMPLE;
    }
    const na64fw_outputs none = {0};
    na64fw_state st;
    for (uint32_t w = 0; w < n_windows; ++w) {
        na64fw_window_acc acc = {0u, 0, 0u, -1, 0u, 0u, 0u};
        na64fw_reset(&st, cfg);
        run_core(&st, cfg, samples + (uint64_t)w * NA64FW_N_CHANNELS * n_samples, n_samples, n_samples,
                 &none, &acc, 0);
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
    if (na64fw_config_check(cfg) != 0) {
        return NA64FW_ERR_CONFIG;
    }
    if (n_samples == 0 && n_windows != 0) {
        return NA64FW_ERR_SIZE;
    }
    if (!samples_valid(samples, n_samples, n_samples, (uint32_t)NA64FW_N_CHANNELS * n_windows)) {
        return NA64FW_ERR_SAMPLE;
    }
    const na64fw_outputs none = {0};
    na64fw_state st;
    for (uint32_t w = 0; w < n_windows; ++w) {
        na64fw_window_acc acc = {0u, 0, 0u, -1, 0u, 0u, 0u};
        na64fw_reset(&st, cfg);
        const uint16_t *window = samples + (uint64_t)w * NA64FW_N_CHANNELS * n_samples;
        if (n_samples == 32u) {
            run_core(&st, cfg, window, 32u, 32u, &none, &acc, 1);
        } else {
            run_core(&st, cfg, window, n_samples, n_samples, &none, &acc, 1);
        }
        trigger_bits[w] = acc.bits;
    }
    return NA64FW_OK;
}
