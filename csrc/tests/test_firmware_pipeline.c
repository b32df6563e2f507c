/* The C trigger pipeline: chunking invisibility, window batch == stream runs, bad input
 * rejected without touching state, extreme inputs (full scale, zero, largest gains) run
 * clean under ASan/UBSan. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check_c.h"
#include "na64fw.h"


enum { T = 200, NW = 4, W = 32 };

static uint16_t stream[NA64FW_N_CHANNELS][T];

static void default_config(na64fw_config *c)
{
    memset(c, 0, sizeof *c);
    c->ped_shift = 3; c->ped_block_log2 = 3; c->ped_gate = 20; c->filter_len = 4; c->peak_hold = 10;
    c->coinc_mask = 7; c->veto_mask = 3; c->decision_delay = 12; c->pileup_window = 16;
    for (int i = 0; i < NA64FW_N_CALO; ++i) c->gain[i] = (uint16_t)(i < 36 ? 800 : (i < 72 ? 4000 : 4800));
    c->peak_min[0] = 6; c->peak_min[1] = 25; c->peak_min[2] = 30;
    for (int i = 0; i < NA64FW_N_COUNTERS; ++i) {
        c->cnt_threshold[i] = 60;
        c->cnt_stretch[i] = (uint8_t)(i < 3 ? 3 : 6);
    }
    c->prs_threshold = 37; c->ecal_threshold = 10000; c->pileup_sum_min = 125; c->beam_prescale = 2;
    c->dead_time = 20; c->random_threshold = 1u << 26; c->random_seed = 0xACE1u;
}

/* deterministic pseudo-random pulses on a pedestal, with full-scale and zero runs */
static void make_stream(void)
{
    uint32_t r = 12345u;
    for (int ch = 0; ch < NA64FW_N_CHANNELS; ++ch) {
        for (int t = 0; t < T; ++t) {
            r = r * 1103515245u + 12345u;
            int32_t v = 150 + (int32_t)((r >> 16) % 5u);
            int32_t phase = t % 50;
            if (phase >= 10 && phase < 16) v += (phase - 9) * (ch < 3 ? 300 : 120);
            if (ch == 60 && t >= 120 && t < 130) v = 4095;
            if (ch == 61 && t >= 140 && t < 150) v = 0;
            stream[ch][t] = (uint16_t)(v > 4095 ? 4095 : v);
        }
    }
}

typedef struct {
    uint64_t word[T];
    uint16_t prs[T], ecal[T], hcal[T], inst[T];
    uint8_t flags[T];
} run_out;

static void bind(na64fw_outputs *o, run_out *r, uint32_t offset)
{
    memset(o, 0, sizeof *o);
    o->word = r->word + offset; o->prs = r->prs + offset; o->ecal = r->ecal + offset;
    o->hcal = r->hcal + offset; o->ecal_inst = r->inst + offset; o->flags = r->flags + offset;
}

static run_out whole, chunked;

static void test_chunking_is_invisible(const na64fw_config *cfg)
{
    na64fw_state st;
    na64fw_outputs o;
    na64fw_reset(&st, cfg);
    bind(&o, &whole, 0);
    CHECK(na64fw_run(&st, cfg, &stream[0][0], T, T, &o) == NA64FW_OK, "whole");
    const uint32_t cuts[] = {0, 1, 2, 63, 64, 65, 130, 199, T};
    na64fw_reset(&st, cfg);
    for (unsigned i = 0; i + 1 < sizeof cuts / sizeof cuts[0]; ++i) {
        bind(&o, &chunked, cuts[i]);
        CHECK(na64fw_run(&st, cfg, &stream[0][cuts[i]], cuts[i + 1] - cuts[i], T, &o) == NA64FW_OK, "chunk %u", i);
    }
    CHECK(memcmp(&whole, &chunked, sizeof whole) == 0, "chunked run differs from the whole run");
    int decisions = 0;
    for (int t = 0; t < T; ++t) decisions += whole.word[t] != 0;
    CHECK(decisions > 0, "the test stream should produce decisions");
}

static void test_windows_equal_stream_runs(const na64fw_config *cfg)
{
    static uint16_t windows[NW][NA64FW_N_CHANNELS][W];
    for (int w = 0; w < NW; ++w)
        for (int ch = 0; ch < NA64FW_N_CHANNELS; ++ch)
            memcpy(windows[w][ch], &stream[ch][w * 40], sizeof windows[w][ch]);
    uint8_t bits[NW]; int32_t ntrig[NW], clock[NW]; uint64_t word[NW]; uint16_t prs[NW], ecal[NW], hcal[NW];
    na64fw_window_results res = {bits, ntrig, word, clock, prs, ecal, hcal};
    CHECK(na64fw_run_windows(cfg, &windows[0][0][0], NW, W, &res) == NA64FW_OK, "windows");
    uint8_t bits_only[NW];
    memset(bits_only, 0xFF, sizeof bits_only);
    CHECK(na64fw_trigger_bits_windows(cfg, &windows[0][0][0], NW, W, bits_only) == NA64FW_OK, "bits-only windows");
    CHECK(memcmp(bits_only, bits, sizeof bits) == 0, "bits-only entry differs from the full windows run");
    for (int w = 0; w < NW; ++w) {
        na64fw_state st;
        na64fw_outputs o;
        static run_out r;
        memset(&r, 0, sizeof r);
        na64fw_reset(&st, cfg);
        bind(&o, &r, 0);
        na64fw_run(&st, cfg, &windows[w][0][0], W, W, &o);
        uint64_t first = 0; int32_t first_clock = -1; uint8_t ob = 0;
        for (int t = 1; t <= W; ++t) {
            uint64_t v = t < W ? r.word[t] : st.word_out;
            ob |= (uint8_t)(v & 7u);
            if (v && first_clock < 0) { first = v; first_clock = t - 1; }
        }
        CHECK(word[w] == first && clock[w] == first_clock && bits[w] == ob, "window %d", w);
        if (first_clock >= 0) CHECK(prs[w] == r.prs[first_clock] && ecal[w] == r.ecal[first_clock], "sums %d", w);
    }
}

/* The digit entry equals the windows entry on the dense windows its digits fill: event 0
 * with every channel (the stream's window), event 1 without digits, the others with a few
 * channels (one of them given twice: the later digit wins) and the rest flat at 0. */
static void test_digits_equal_windows(const na64fw_config *defaults)
{
    na64fw_config every_beam = *defaults;
    every_beam.beam_prescale = 1; /* the beam bit on every counter coincidence */
    const na64fw_config *cfg = &every_beam;
    enum { NE = NW, PER = 12, MAXD = NA64FW_N_CHANNELS + NW * PER };
    static uint16_t dense[NE][NA64FW_N_CHANNELS][W];
    static uint16_t rows[MAXD][W];
    uint16_t channel[MAXD];
    uint32_t first[NE + 1];
    memset(dense, 0, sizeof dense);
    uint32_t r = 0, lcg = 12345u;
    for (int e = 0; e < NE; ++e) {
        first[e] = r;
        const int count = e == 0 ? NA64FW_N_CHANNELS : (e == 1 ? 0 : PER);
        for (int i = 0; i < count; ++i, ++r) {
            lcg = lcg * 1103515245u + 12345u;
            int ch = e == 0 ? i : (int)((lcg >> 16) % NA64FW_N_CHANNELS);
            if (e > 0 && i < 3) ch = i;  /* counters: pulses they see */
            const int again = e > 0 && i == PER - 1;
            if (again) ch = (int)channel[r - 1];
            channel[r] = (uint16_t)ch;
            memcpy(rows[r], &stream[ch][e * 40 + (again ? 7 : 0)], sizeof rows[r]);
            memcpy(dense[e][ch], rows[r], sizeof rows[r]);
        }
    }
    first[NE] = r;
    uint8_t from_windows[NE], from_digits[NE];
    CHECK(na64fw_trigger_bits_windows(cfg, &dense[0][0][0], NE, W, from_windows) == NA64FW_OK, "dense windows");
    memset(from_digits, 0xFF, sizeof from_digits);
    CHECK(na64fw_trigger_bits_digits(cfg, first, NE, channel, &rows[0][0], W, from_digits) == NA64FW_OK, "digits");
    CHECK(memcmp(from_windows, from_digits, sizeof from_digits) == 0, "digit entry differs from the windows entry");
    int fired = 0;
    for (int e = 0; e < NE; ++e) fired += from_digits[e] != 0;
    CHECK(fired > 0, "the digit test should fire some triggers");

    /* the same digits picked by index from a table of wider rows, in reverse order */
    enum { STRIDE = W + 3 };
    static uint16_t table[MAXD][STRIDE];
    static uint64_t row_index[MAXD];
    memset(table, 0x7F, sizeof table); /* the padding is out of range: it must never be read */
    for (uint32_t d = 0; d < r; ++d) {
        row_index[d] = r - 1 - d;
        memcpy(table[r - 1 - d], rows[d], sizeof rows[d]);
    }
    uint8_t from_table[NE];
    memset(from_table, 0xFF, sizeof from_table);
    CHECK(na64fw_trigger_bits_digit_rows(cfg, first, NE, channel, &table[0][0], r, STRIDE, row_index, W, from_table)
              == NA64FW_OK, "digit rows");
    CHECK(memcmp(from_windows, from_table, sizeof from_table) == 0, "digit rows entry differs from the windows entry");
    row_index[2] = r;
    CHECK(na64fw_trigger_bits_digit_rows(cfg, first, NE, channel, &table[0][0], r, STRIDE, row_index, W, from_table)
              == NA64FW_ERR_SIZE, "row index beyond the table");
    row_index[2] = r - 3;
    CHECK(na64fw_trigger_bits_digit_rows(cfg, first, NE, channel, &table[0][0], r, STRIDE, 0, W, from_table)
              == NA64FW_ERR_NULL, "no row index");
    CHECK(na64fw_trigger_bits_digit_rows(cfg, first, NE, channel, &table[0][0], r, W - 1, row_index, W, from_table)
              == NA64FW_ERR_SIZE, "rows narrower than the window");
    table[r - 1 - 5][W - 1] = 4096;
    CHECK(na64fw_trigger_bits_digit_rows(cfg, first, NE, channel, &table[0][0], r, STRIDE, row_index, W, from_table)
              == NA64FW_ERR_SAMPLE, "sample 4096 in digit 5");
    memcpy(table[r - 1 - 5], rows[5], sizeof rows[5]);
    table[0][0] = 4096; /* the last event's last digit: every event before it is run */
    memset(from_table, 0xFF, sizeof from_table);
    CHECK(na64fw_trigger_bits_digit_rows(cfg, first, NE, channel, &table[0][0], r, STRIDE, row_index, W, from_table)
              == NA64FW_ERR_SAMPLE, "sample 4096 in the last digit");
    CHECK(memcmp(from_windows, from_table, NE - 1) == 0, "the events before the bad sample lost their bits");

    uint8_t one;
    CHECK(na64fw_trigger_bits_digits(cfg, first, 0, 0, 0, 0, &one) == NA64FW_OK, "no events");
    CHECK(na64fw_trigger_bits_digits(cfg, first, NE, channel, &rows[0][0], 0, from_digits) == NA64FW_ERR_SIZE, "0 samples");
    CHECK(na64fw_trigger_bits_digits(cfg, first, NE, channel, &rows[0][0], NA64FW_MAX_DIGIT_SAMPLES + 1, from_digits)
              == NA64FW_ERR_SIZE, "too many samples");
    CHECK(na64fw_trigger_bits_digits(cfg, first, NE, 0, &rows[0][0], W, from_digits) == NA64FW_ERR_NULL, "null channels");
    const uint32_t backwards[3] = {0, 5, 4};
    CHECK(na64fw_trigger_bits_digits(cfg, backwards, 2, channel, &rows[0][0], W, from_digits) == NA64FW_ERR_SIZE,
          "decreasing offsets");
    channel[3] = NA64FW_N_CHANNELS;
    CHECK(na64fw_trigger_bits_digits(cfg, first, NE, channel, &rows[0][0], W, from_digits) == NA64FW_ERR_CHANNEL,
          "channel 113");
    channel[3] = 3;
    rows[r - 1][W - 1] = 4096;
    CHECK(na64fw_trigger_bits_digits(cfg, first, NE, channel, &rows[0][0], W, from_digits) == NA64FW_ERR_SAMPLE,
          "sample 4096 in the last digit");
}

static void test_bad_input(na64fw_config *cfg)
{
    na64fw_state st, before;
    na64fw_outputs o;
    memset(&o, 0, sizeof o);
    na64fw_reset(&st, cfg);
    na64fw_run(&st, cfg, &stream[0][0], 50, T, &o);
    before = st;
    stream[77][10] = 4096;
    CHECK(na64fw_run(&st, cfg, &stream[0][0], T, T, &o) == NA64FW_ERR_SAMPLE, "sample 4096");
    stream[77][10] = 150;
    CHECK(memcmp(&st, &before, sizeof st) == 0, "state touched by a rejected call");
    CHECK(na64fw_run(&st, cfg, &stream[0][0], T, T - 1, &o) == NA64FW_ERR_SIZE, "stride");
    CHECK(na64fw_run(0, cfg, &stream[0][0], T, T, &o) == NA64FW_ERR_NULL, "null state");
    CHECK(na64fw_run(&st, cfg, 0, T, T, &o) == NA64FW_ERR_NULL, "null samples");
    CHECK(na64fw_run(&st, cfg, &stream[0][0], 0, 0, &o) == NA64FW_OK, "empty");
    na64fw_config bad = *cfg;
    bad.filter_len = 0;
    CHECK(na64fw_config_check(&bad) == 4, "filter_len field");
    CHECK(na64fw_run(&st, &bad, &stream[0][0], T, T, &o) == NA64FW_ERR_CONFIG, "bad config");
    bad = *cfg; bad.random_seed = 0;
    CHECK(na64fw_config_check(&bad) != 0, "seed 0");
    bad = *cfg; bad.cnt_threshold[4] = 4096;
    CHECK(na64fw_config_check(&bad) != 0, "threshold 4096");
    na64fw_window_results none = {0};
    CHECK(na64fw_run_windows(cfg, &stream[0][0], 1, 32, &none) == NA64FW_ERR_NULL, "null results");
    uint8_t one_bit;
    CHECK(na64fw_trigger_bits_windows(cfg, &stream[0][0], 1, 32, 0) == NA64FW_ERR_NULL, "null bits");
    CHECK(na64fw_trigger_bits_windows(cfg, &stream[0][0], 1, 0, &one_bit) == NA64FW_ERR_SIZE, "bits: empty windows");
    CHECK(na64fw_trigger_bits_windows(&bad, &stream[0][0], 1, 32, &one_bit) == NA64FW_ERR_CONFIG, "bits: bad config");
    stream[77][10] = 4096;
    CHECK(na64fw_trigger_bits_windows(cfg, &stream[0][0], 1, T, &one_bit) == NA64FW_ERR_SAMPLE, "bits: sample 4096");
    stream[77][10] = 150;
    CHECK(memcmp(&st, &before, sizeof st) == 0, "state touched by rejected calls");
}

static void test_extremes_run_clean(na64fw_config *cfg)
{
    static run_out r;
    na64fw_config big = *cfg;
    for (int i = 0; i < NA64FW_N_CALO; ++i) big.gain[i] = 65535;
    big.filter_len = 8; big.ped_shift = 0; big.ped_block_log2 = 0; big.ped_gate = 4095;
    big.dead_time = 0; big.random_threshold = 0xFFFFFFFFu; big.beam_prescale = 1;
    na64fw_state st;
    na64fw_outputs o;
    for (int pattern = 0; pattern < 3; ++pattern) {
        for (int ch = 0; ch < NA64FW_N_CHANNELS; ++ch)
            for (int t = 0; t < T; ++t)
                stream[ch][t] = (uint16_t)(pattern == 0 ? 4095 : pattern == 1 ? 0 : ((t / 3) % 2) * 4095);
        na64fw_reset(&st, &big);
        bind(&o, &r, 0);
        CHECK(na64fw_run(&st, &big, &stream[0][0], T, T, &o) == NA64FW_OK, "pattern %d", pattern);
    }
    int saturated = 0;
    for (int t = 0; t < T; ++t) saturated |= r.ecal[t] == 65535;
    CHECK(saturated, "full-scale square wave with the largest gains saturates the ECAL sum");
}

/* The bits-only entry skips the channels it can show to hold nothing: across register sets
 * (pedestal speed and block, filter length, gains, thresholds) and windows of drifting,
 * noisy pedestals with pulses near the thresholds, its bits equal the full run's. */
static void test_bits_only_across_registers(void)
{
    enum { NB = 48 };
    static uint16_t windows[NB][NA64FW_N_CHANNELS][W];
    uint8_t bits[NB], bits_only[NB]; int32_t ntrig[NB], clock[NB]; uint64_t word[NB];
    uint16_t prs[NB], ecal[NB], hcal[NB];
    na64fw_window_results res = {bits, ntrig, word, clock, prs, ecal, hcal};
    uint32_t r = 777u;
    int physics = 0, other = 0;
    for (int c = 0; c < 24; ++c) {
        na64fw_config cfg;
        default_config(&cfg);
        r = r * 1103515245u + 12345u;
        cfg.ped_shift = (uint8_t)((r >> 8) % 9u);
        cfg.ped_block_log2 = (uint8_t)((r >> 12) % 5u);
        cfg.filter_len = (uint8_t)(1u + (r >> 16) % 8u);
        cfg.ped_gate = (uint16_t)((r >> 20) % 40u);
        cfg.prs_threshold = (uint16_t)((r >> 24) % 12u);
        cfg.random_threshold = 0u;
        for (int g = 0; g < 3; ++g) {
            r = r * 1103515245u + 12345u;
            cfg.peak_min[g] = (uint16_t)(1u + (r >> 16) % 40u);
        }
        for (int i = 0; i < NA64FW_N_CALO; ++i) {
            r = r * 1103515245u + 12345u;
            cfg.gain[i] = (uint16_t)(500u + (r >> 16) % 8000u);
        }
        for (int w = 0; w < NB; ++w) {
            for (int ch = 0; ch < NA64FW_N_CHANNELS; ++ch) {
                r = r * 1103515245u + 12345u;
                const int32_t level = 100 + (int32_t)((r >> 8) % 200u);
                const int32_t slope = (int32_t)((r >> 16) % 9u) - 4;
                const uint32_t noise = 1u + (r >> 20) % 8u;
                const int32_t pulse = (r >> 24) % 3u == 0u ? (int32_t)((r >> 26) % 40u) : 0;
                for (int t = 0; t < W; ++t) {
                    r = r * 1103515245u + 12345u;
                    int32_t v = level + slope * t / 4 + (int32_t)((r >> 16) % noise);
                    if (t >= 14 && t < 18) v += pulse;
                    if (ch < 3 && t >= 5 && t < 8) v += 300; /* beam coincidence: a decision to make */
                    windows[w][ch][t] = (uint16_t)(v < 0 ? 0 : (v > 4095 ? 4095 : v));
                }
            }
        }
        CHECK(na64fw_run_windows(&cfg, &windows[0][0][0], NB, W, &res) == NA64FW_OK, "config %d full", c);
        CHECK(na64fw_trigger_bits_windows(&cfg, &windows[0][0][0], NB, W, bits_only) == NA64FW_OK, "config %d", c);
        for (int w = 0; w < NB; ++w) {
            CHECK(bits_only[w] == bits[w], "config %d window %d: bits-only %u, full %u", c, w, bits_only[w], bits[w]);
            physics += (bits[w] & 1u) != 0u;
            other += (bits[w] & 1u) == 0u;
        }
    }
    CHECK(physics > 50 && other > 50, "windows on both sides of the physics decision (%d / %d)", physics, other);
}

int main(void)
{
    na64fw_config cfg;
    default_config(&cfg);
    CHECK(na64fw_config_check(&cfg) == 0, "default config");
    CHECK(na64fw_abi_version() == 5u, "abi");
    make_stream();
    test_chunking_is_invisible(&cfg);
    test_windows_equal_stream_runs(&cfg);
    test_digits_equal_windows(&cfg);
    test_bits_only_across_registers();
    test_bad_input(&cfg);
    test_extremes_run_clean(&cfg);
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("test_firmware_pipeline: ok\n");
    return 0;
}
