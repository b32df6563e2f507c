/* Fixed-point helpers shared by the firmware stages (internal, not read by cffi).
 * Every shift of a possibly negative value goes through asr_floor: in C, >> of a negative
 * signed integer is implementation-defined, while the specification asks for floor (TRN). */
#ifndef NA64FW_ARITH_H
#define NA64FW_ARITH_H
#include <stdint.h>

enum na64fw_arith_consts {
    PED_FRAC_BITS = 6,
    PED_RAW_MAX = (1 << 18) - 1,
    SAMPLE_MAX = 4095,
    ENERGY_MAX = 65535,
    GAIN_FRAC_BITS = 12
};

/* floor(d / 2**k) for any sign of d, 0 <= k <= 30. Branch-free: the sign of the pedestal
 * correction is noise, a branch on it is mispredicted half the time. For d < 0, ~d = -d - 1
 * is not negative and floor(d / 2**k) = ~(floor((-d - 1) / 2**k)) (exact-width integers are
 * two's complement, so ~ and ^ on them are defined). */
static inline int32_t asr_floor(int32_t d, uint32_t k)
{
    const int32_t neg = -(int32_t)(d < 0); /* 0 or -1 */
    const uint32_t mag = (uint32_t)(d ^ neg);
    return (int32_t)(mag >> k) ^ neg;
}

/* pedestal register ap_ufixed<18,12> -> ap_uint<12>, RND (half up), SAT */
static inline uint32_t ped_round(uint32_t ped_raw)
{
    uint32_t r = (ped_raw + (1u << (PED_FRAC_BITS - 1))) >> PED_FRAC_BITS;
    return r > SAMPLE_MAX ? (uint32_t)SAMPLE_MAX : r;
}

/* block end: ped + floor((block_sum * 2**(6 - m) - ped) / 2**k), SAT to ap_ufixed<18,12>,
 * only when the block's largest sample passes the gate */
static inline uint32_t ped_update(uint32_t ped, uint32_t block_sum, uint32_t block_max,
                                  uint32_t shift, uint32_t block_log2, uint32_t gate)
{
    if (block_max > ped_round(ped) + gate) {
        return ped;
    }
    int32_t target = (int32_t)(block_sum << (PED_FRAC_BITS - block_log2));
    int32_t next = (int32_t)ped + asr_floor(target - (int32_t)ped, shift);
    if (next < 0) {
        return 0u;
    }
    return next > PED_RAW_MAX ? (uint32_t)PED_RAW_MAX : (uint32_t)next;
}

/* ap_int<16> filter x ap_ufixed<16,4> gain -> ap_uint<16> energy, RND (half up), SAT.
 * Every product <= 0 rounds to a value <= 0, which SAT maps to 0, so only positive filter
 * values are multiplied: 32767 * 65535 + 2048 < 2**32, so the rounded product fits uint32
 * (32-bit lanes vectorise; written with selects because noise makes the sign unpredictable). */
static inline uint16_t gain_apply(int32_t filter, uint32_t gain)
{
    const uint32_t positive = filter > 0 ? (uint32_t)filter : 0u;
    const uint32_t r = (positive * gain + (1u << (GAIN_FRAC_BITS - 1))) >> GAIN_FRAC_BITS;
    return (uint16_t)(r > ENERGY_MAX ? (uint32_t)ENERGY_MAX : r);
}

#endif
