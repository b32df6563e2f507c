/* na64fw: the trigger firmware path as embedded-style C11.
 * Fixed-width integers only; no heap, no floats, no libc beyond stdint.h/string.h.
 * This header is also read by cffi (na64reco.firmware), so it holds declarations only:
 * no macros, no includes beyond stdint.h, no inline code.
 *
 * The pipeline and every register are specified in docs/firmware.md; fpga_model/ holds the
 * bit-accurate reference this code must equal.
 *
 * Channel order of every sample array (113 channels): S1 S2 S3 V1 V2, ECAL0 cells 0..35,
 * ECAL1 cells 0..35, HCAL cells 0..35. Array sizes below are written as numbers because
 * cffi reads them; they equal the na64fw_dims constants. */
#ifndef NA64FW_H
#define NA64FW_H
#include <stdint.h>

enum na64fw_dims {
    NA64FW_N_CHANNELS = 113,
    NA64FW_N_COUNTERS = 5,
    NA64FW_N_CALO = 108,
    NA64FW_FILTER_DEPTH = 8,
    NA64FW_TREE_LEVELS = 4,
    NA64FW_N_TREES = 4,
    NA64FW_MAX_DIGIT_SAMPLES = 64 /* longest window na64fw_trigger_bits_digits builds (on the stack) */
};

enum na64fw_status {
    NA64FW_OK = 0,
    NA64FW_ERR_NULL = -1,   /* a required pointer is NULL */
    NA64FW_ERR_CONFIG = -2, /* a register is out of range: see na64fw_config_check */
    NA64FW_ERR_SAMPLE = -3, /* a sample is above 4095 */
    NA64FW_ERR_SIZE = -4,   /* a size argument is zero or inconsistent */
    NA64FW_ERR_CHANNEL = -5 /* a digit's channel is not below NA64FW_N_CHANNELS */
};

/* Configuration registers (docs/firmware.md, "Register map"). */
typedef struct na64fw_config {
    uint8_t ped_shift;       /* 0..8 */
    uint8_t ped_block_log2;  /* 0..4 */
    uint16_t ped_gate;       /* 0..4095 */
    uint8_t filter_len;      /* 1..8 */
    uint8_t peak_hold;       /* 1..255 */
    uint8_t coinc_mask;      /* 1..7 */
    uint8_t veto_mask;       /* 0..3 */
    uint8_t decision_delay;  /* 1..63 */
    uint8_t pileup_window;   /* 0..254 */
    uint16_t gain[108];      /* ap_ufixed<16,4> raw, calorimeter channel order */
    uint16_t peak_min[3];    /* ECAL0, ECAL1, HCAL */
    uint16_t cnt_threshold[5]; /* 1..4095, S1 S2 S3 V1 V2 */
    uint8_t cnt_stretch[5];  /* 1..255 */
    uint16_t prs_threshold;
    uint16_t ecal_threshold;
    uint16_t pileup_sum_min;
    uint16_t beam_prescale;
    uint16_t dead_time;
    uint32_t random_threshold;
    uint32_t random_seed;    /* non-zero */
} na64fw_config;

/* The complete pipeline state: every register of every stage. Reset by na64fw_reset. */
typedef struct na64fw_state {
    uint64_t timestamp;
    uint64_t word_out;
    uint32_t ped[113];          /* ap_ufixed<18,12> raw */
    uint16_t ped_sum[113];
    uint16_t ped_max[113];
    uint8_t ped_count[113];
    uint8_t ped_seeded[113];
    int16_t baseline_out[113];
    int16_t filter_hist[108][8]; /* most recent first */
    int16_t filter_out[108];
    uint16_t energy_out[108];
    uint16_t peak_prev[109];     /* [108] is the ECAL-sum peak finder */
    uint16_t peak_held[109];
    uint16_t peak_out[109];
    uint8_t peak_count[109];
    uint8_t peak_rising[109];
    uint8_t peak_strobe[109];
    uint16_t tree_pipe[4][4];    /* [prs, ecal, hcal, ecal_inst][oldest .. newest] */
    uint8_t disc_above[5];
    uint8_t disc_count[5];
    uint8_t disc_out[5];
    uint8_t beam_prev;
    uint8_t beam_out;
    uint8_t edge_out;
    uint8_t veto_out;
    uint8_t mode;                /* 0 idle, 1 pending, 2 dead */
    uint8_t veto_latch;
    uint8_t pileup;
    uint8_t sum_peaks;
    uint8_t since_beam;
    uint16_t count;
    uint16_t prescale;
    uint32_t lfsr;
} na64fw_state;

/* Per-clock outputs of na64fw_run; any pointer may be NULL (not written).
 * Scalar streams have n_clocks entries; per-channel ones are [channel][n_clocks]. */
typedef struct na64fw_outputs {
    uint64_t *word;
    uint16_t *prs;
    uint16_t *ecal;
    uint16_t *hcal;
    uint16_t *ecal_inst;
    uint8_t *flags;        /* bit0 sum_peak, bit1 beam, bit2 beam_edge, bit3 veto */
    int16_t *baseline;     /* [113][n_clocks] */
    int16_t *filter;       /* [108][n_clocks] */
    uint16_t *energy;      /* [108][n_clocks] */
    uint16_t *held;        /* [108][n_clocks] */
    uint8_t *counters;     /* [5][n_clocks] */
} na64fw_outputs;

/* One entry per window for na64fw_run_windows (structure of arrays, none may be NULL). */
typedef struct na64fw_window_results {
    uint8_t *trigger_bits;    /* OR of bits 0..2 of every trigger word in the window */
    int32_t *n_triggers;
    uint64_t *decision_word;  /* the window's first decision word, 0 if none */
    int32_t *decision_clock;  /* its decision clock, -1 if none */
    uint16_t *e_prs;          /* sums at that clock, 0 if none */
    uint16_t *e_ecal;
    uint16_t *e_hcal;
} na64fw_window_results;

/* Bumped whenever a struct layout or function signature here changes;
 * the Python loader refuses a library whose version differs from its own. */
uint32_t na64fw_abi_version(void);

/* 0 when every register is in range, else 1 + the index of the first bad field in
 * declaration order of na64fw_config (gain, peak_min, cnt_threshold, cnt_stretch count as one). */
int32_t na64fw_config_check(const na64fw_config *cfg);

/* Put every register of the pipeline in its reset state (the LFSR takes cfg->random_seed). */
int32_t na64fw_reset(na64fw_state *st, const na64fw_config *cfg);

/* Run n_clocks clocks from st. samples[ch * channel_stride + t], t < n_clocks <= channel_stride.
 * On error nothing is run and st is unchanged. */
int32_t na64fw_run(na64fw_state *st, const na64fw_config *cfg, const uint16_t *samples,
                   uint32_t n_clocks, uint32_t channel_stride, const na64fw_outputs *out);

/* Batch entry: n_windows recorded windows laid out [window][113][n_samples], each run from
 * reset; per-window results. All samples are validated before anything runs. */
int32_t na64fw_run_windows(const na64fw_config *cfg, const uint16_t *samples, uint32_t n_windows,
                           uint32_t n_samples, const na64fw_window_results *res);

/* The trigger bits of na64fw_run_windows alone (same validation, same values), cheaper:
 * what a simulator needs to fill the event's trigger mask. */
int32_t na64fw_trigger_bits_windows(const na64fw_config *cfg, const uint16_t *samples, uint32_t n_windows,
                                    uint32_t n_samples, uint8_t *trigger_bits);

/* The trigger bits of recorded events given as their digits instead of dense windows: event e
 * holds the digit rows first_digit[e] .. first_digit[e + 1] - 1 (first_digit non-decreasing,
 * n_events + 1 entries), row r being the samples samples[r * n_samples ...] of channel
 * channel[r]. The bits are those of na64fw_trigger_bits_windows on the dense windows these
 * digits fill: a channel without a digit flat at 0, the later of two digits of one channel
 * winning. What the sparse form saves is building and reading the empty channels of every
 * window. Channels (and indices) are validated before anything runs, samples event by event:
 * on NA64FW_ERR_SAMPLE the events before the offending one have their bits, the rest are
 * unwritten. 1 <= n_samples <= NA64FW_MAX_DIGIT_SAMPLES when n_events > 0. */
int32_t na64fw_trigger_bits_digits(const na64fw_config *cfg, const uint32_t *first_digit, uint32_t n_events,
                                   const uint16_t *channel, const uint16_t *samples, uint32_t n_samples,
                                   uint8_t *trigger_bits);

/* na64fw_trigger_bits_digits with the digit rows picked from a larger table instead of laid
 * out one after another: digit r's samples are the first n_samples of table row
 * row_index[r] (rows of row_stride >= n_samples values, n_rows of them). Spares the caller a
 * copy of every row. Indices and samples are validated as in na64fw_trigger_bits_digits
 * (NA64FW_ERR_SIZE for an index beyond the table). */
int32_t na64fw_trigger_bits_digit_rows(const na64fw_config *cfg, const uint32_t *first_digit, uint32_t n_events,
                                       const uint16_t *channel, const uint16_t *table, uint64_t n_rows,
                                       uint32_t row_stride, const uint64_t *row_index, uint32_t n_samples,
                                       uint8_t *trigger_bits);

/* Single stages over flat arrays, for exhaustive tests. */
void na64fw_baseline_batch(const uint16_t *sample, const uint32_t *ped_raw, uint32_t n, int16_t *out);
void na64fw_gain_batch(const int16_t *filter, const uint16_t *gain, uint32_t n, uint16_t *out);
void na64fw_pedestal_update_batch(const uint32_t *ped_raw, const uint16_t *block_sum,
                                  const uint16_t *block_max, uint32_t n, uint8_t shift,
                                  uint8_t block_log2, uint16_t gate, uint32_t *out);

#endif
