/* Fixed-point helpers of the firmware path: floor shifts, rounding, saturation, exhaustively
 * where the input space allows. Run under ASan/UBSan by the asan preset. */
#include <stdint.h>
#include <stdio.h>

#include "check_c.h"
#include "na64fw.h"
#include "na64fw_arith.h"


/* floor division by 2**k computed with 64-bit signed arithmetic: the reference */
static int64_t floor_div_pow2(int64_t d, unsigned k)
{
    int64_t den = (int64_t)1 << k;
    int64_t q = d / den;
    if ((d % den) != 0 && d < 0) {
        --q;
    }
    return q;
}

static void test_asr_floor(void)
{
    for (unsigned k = 0; k <= 30; ++k) {
        for (int32_t d = -300000; d <= 300000; d += 7) {
            CHECK(asr_floor(d, k) == floor_div_pow2(d, k), "d=%d k=%u", d, k);
        }
        CHECK(asr_floor(INT32_MIN, k) == floor_div_pow2(INT32_MIN, k), "min k=%u", k);
        CHECK(asr_floor(INT32_MIN + 1, k) == floor_div_pow2(INT32_MIN + 1, k), "min+1 k=%u", k);
        CHECK(asr_floor(INT32_MAX, k) == floor_div_pow2(INT32_MAX, k), "max k=%u", k);
    }
}

static void test_ped_round_exhaustive(void)
{
    for (uint32_t p = 0; p <= PED_RAW_MAX; ++p) {
        uint32_t want = (p + 32u) / 64u;
        if (want > 4095u) want = 4095u;
        CHECK(ped_round(p) == want, "p=%u", p);
    }
}

static void test_gain_edges(void)
{
    /* every filter value with the extreme and unit gains */
    const uint32_t gains[] = {0u, 1u, 2048u, 4095u, 4096u, 4097u, 65535u};
    for (int32_t f = -32768; f <= 32767; ++f) {
        for (unsigned i = 0; i < sizeof gains / sizeof gains[0]; ++i) {
            int64_t p = (int64_t)f * gains[i];
            int64_t want = p < 0 ? 0 : (p + 2048) / 4096;
            if (want > 65535) want = 65535;
            CHECK(gain_apply(f, gains[i]) == want, "f=%d g=%u", f, gains[i]);
        }
    }
}

static void test_pedestal_update_stays_in_range(void)
{
    const uint32_t peds[] = {0u, 1u, 63u, 64u, 100000u, 262080u, (uint32_t)PED_RAW_MAX};
    for (unsigned i = 0; i < sizeof peds / sizeof peds[0]; ++i) {
        for (uint32_t sum = 0; sum <= 65535u; sum += 5u) {
            for (uint32_t m = 0; m <= 4; ++m) {
                for (uint32_t k = 0; k <= 8; k += 4) {
                    uint32_t r = ped_update(peds[i], sum, 0u, k, m, 4095u);
                    CHECK(r <= PED_RAW_MAX, "ped=%u sum=%u m=%u k=%u -> %u", peds[i], sum, m, k, r);
                    int64_t target = (int64_t)sum << (6 - m);
                    int64_t want = (int64_t)peds[i] + floor_div_pow2(target - peds[i], k);
                    if (want > PED_RAW_MAX) want = PED_RAW_MAX;
                    CHECK(r == want, "ped=%u sum=%u m=%u k=%u", peds[i], sum, m, k);
                }
            }
        }
    }
    /* closed gate: the pedestal keeps its value */
    CHECK(ped_update(64u * 100u, 8u * 200u, 200u, 3u, 3u, 50u) == 6400u, "gate");
}

int main(void)
{
    test_asr_floor();
    test_ped_round_exhaustive();
    test_gain_edges();
    test_pedestal_update_stays_in_range();
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("test_firmware_arith: ok\n");
    return 0;
}
