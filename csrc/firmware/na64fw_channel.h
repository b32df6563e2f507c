/* One channel's pipeline over a chunk of clocks: pedestal tracker, leading-edge
 * discriminator of the counters, and the calorimeter chain (moving sum, gain, peak finder
 * with hold). Internal to na64fw_run.c, which includes it once: static inline, so the chunk
 * loops stay visible to the compiler where they are called. */
#ifndef NA64FW_CHANNEL_H
#define NA64FW_CHANNEL_H
#include <stdint.h>
#include <string.h>

#include "na64fw.h"
#include "na64fw_arith.h"

enum { CHUNK = 256, N_ECAL0 = 36, N_ECAL = 72 };

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

#endif
