/* Single-stage batch entry points, used by the exhaustive tests. */
#include "na64fw.h"
#include "na64fw_arith.h"

void na64fw_baseline_batch(const uint16_t *sample, const uint32_t *ped_raw, uint32_t n, int16_t *out)
{
    if (!sample || !ped_raw || !out) {
        return;
    }
    for (uint32_t i = 0; i < n; ++i) {
        uint32_t p = ped_raw[i] > PED_RAW_MAX ? (uint32_t)PED_RAW_MAX : ped_raw[i];
        out[i] = (int16_t)((int32_t)sample[i] - (int32_t)ped_round(p));
    }
}

void na64fw_gain_batch(const int16_t *filter, const uint16_t *gain, uint32_t n, uint16_t *out)
{
    if (!filter || !gain || !out) {
        return;
    }
    for (uint32_t i = 0; i < n; ++i) {
        out[i] = gain_apply(filter[i], gain[i]);
    }
}

void na64fw_pedestal_update_batch(const uint32_t *ped_raw, const uint16_t *block_sum,
                                  const uint16_t *block_max, uint32_t n, uint8_t shift,
                                  uint8_t block_log2, uint16_t gate, uint32_t *out)
{
    if (!ped_raw || !block_sum || !block_max || !out || shift > 8 || block_log2 > 4 || gate > SAMPLE_MAX) {
        return;
    }
    for (uint32_t i = 0; i < n; ++i) {
        uint32_t p = ped_raw[i] > PED_RAW_MAX ? (uint32_t)PED_RAW_MAX : ped_raw[i];
        out[i] = ped_update(p, block_sum[i], block_max[i], shift, block_log2, gate);
    }
}
