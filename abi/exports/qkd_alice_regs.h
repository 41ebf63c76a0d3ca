/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Generated from qkd-abi; do not edit. Register map of the QKD alice core. */
#ifndef QKD_ALICE_REGS_H
#define QKD_ALICE_REGS_H

#include <stdint.h>

#define QKD_MAGIC 0x514B4431u
#define QKD_ABI_VERSION 0x00010000u
#define QKD_ALICE_ROLE 1
#define QKD_ALICE_LANES 4
#define QKD_ALICE_FABRIC_CLOCK_KHZ 78125u
#define QKD_ALICE_CSR_SPAN 0x800u
#define QKD_ALICE_BLOCK_BYTES 0x100u
#define QKD_ALICE_BLOCK_COUNT 5

/* The 32-bit word at byte offset addr of the CSR window starting at base. */
static inline uint32_t qkd_alice_reg_read(volatile void *base, uint32_t addr)
{
    return *(volatile uint32_t *)((volatile uint8_t *)base + addr);
}
static inline void qkd_alice_reg_write(volatile void *base, uint32_t addr, uint32_t value)
{
    *(volatile uint32_t *)((volatile uint8_t *)base + addr) = value;
}

/* ---- block header (index 0): Self-describing header: magic, ABI version, role, LANES, OVERSAMPLE, build id ---- */
#define QKD_ALICE_BLK_HEADER_INDEX 0
#define QKD_ALICE_BLK_HEADER_BASE 0x000u
#define QKD_ALICE_BLK_HEADER_TYPE 0x0000u
#define QKD_ALICE_BLK_HEADER_VERSION 1
/* 32-bit constant 0x514B4431 (ASCII "QKD1") [RO] */
#define QKD_ALICE_MAGIC_ADDR 0x000u
#define QKD_ALICE_MAGIC_OFFSET 0x00u
#define QKD_ALICE_MAGIC_RESET 0x514B4431u
static inline uint32_t qkd_alice_read_magic(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_MAGIC_ADDR);
}
/* ABI version of the register map and record formats [RO] */
#define QKD_ALICE_ABI_VERSION_ADDR 0x004u
#define QKD_ALICE_ABI_VERSION_OFFSET 0x04u
#define QKD_ALICE_ABI_VERSION_RESET 0x00010000u
#define QKD_ALICE_ABI_VERSION_MINOR_SHIFT 0
#define QKD_ALICE_ABI_VERSION_MINOR_WIDTH 16
#define QKD_ALICE_ABI_VERSION_MINOR_MASK 0x0000FFFFu
#define QKD_ALICE_ABI_VERSION_MAJOR_SHIFT 16
#define QKD_ALICE_ABI_VERSION_MAJOR_WIDTH 16
#define QKD_ALICE_ABI_VERSION_MAJOR_MASK 0xFFFF0000u
static inline uint32_t qkd_alice_read_abi_version(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_ABI_VERSION_ADDR);
}
static inline uint32_t qkd_alice_abi_version_get_minor(uint32_t reg)
{
    return (reg & QKD_ALICE_ABI_VERSION_MINOR_MASK) >> QKD_ALICE_ABI_VERSION_MINOR_SHIFT;
}
static inline uint32_t qkd_alice_abi_version_set_minor(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_ABI_VERSION_MINOR_MASK) | ((value << QKD_ALICE_ABI_VERSION_MINOR_SHIFT) & QKD_ALICE_ABI_VERSION_MINOR_MASK);
}
static inline uint32_t qkd_alice_abi_version_get_major(uint32_t reg)
{
    return (reg & QKD_ALICE_ABI_VERSION_MAJOR_MASK) >> QKD_ALICE_ABI_VERSION_MAJOR_SHIFT;
}
static inline uint32_t qkd_alice_abi_version_set_major(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_ABI_VERSION_MAJOR_MASK) | ((value << QKD_ALICE_ABI_VERSION_MAJOR_SHIFT) & QKD_ALICE_ABI_VERSION_MAJOR_MASK);
}
/* Role and generation parameters of this core [RO] */
#define QKD_ALICE_IDENT_ADDR 0x008u
#define QKD_ALICE_IDENT_OFFSET 0x08u
#define QKD_ALICE_IDENT_RESET 0x01000041u
#define QKD_ALICE_IDENT_ROLE_SHIFT 0
#define QKD_ALICE_IDENT_ROLE_WIDTH 4
#define QKD_ALICE_IDENT_ROLE_MASK 0x0000000Fu
#define QKD_ALICE_IDENT_LANES_SHIFT 4
#define QKD_ALICE_IDENT_LANES_WIDTH 4
#define QKD_ALICE_IDENT_LANES_MASK 0x000000F0u
#define QKD_ALICE_IDENT_OVERSAMPLE_SHIFT 8
#define QKD_ALICE_IDENT_OVERSAMPLE_WIDTH 5
#define QKD_ALICE_IDENT_OVERSAMPLE_MASK 0x00001F00u
#define QKD_ALICE_IDENT_DETECTORS_SHIFT 13
#define QKD_ALICE_IDENT_DETECTORS_WIDTH 3
#define QKD_ALICE_IDENT_DETECTORS_MASK 0x0000E000u
#define QKD_ALICE_IDENT_FIRST_BLOCK_SHIFT 24
#define QKD_ALICE_IDENT_FIRST_BLOCK_WIDTH 8
#define QKD_ALICE_IDENT_FIRST_BLOCK_MASK 0xFF000000u
static inline uint32_t qkd_alice_read_ident(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_IDENT_ADDR);
}
static inline uint32_t qkd_alice_ident_get_role(uint32_t reg)
{
    return (reg & QKD_ALICE_IDENT_ROLE_MASK) >> QKD_ALICE_IDENT_ROLE_SHIFT;
}
static inline uint32_t qkd_alice_ident_set_role(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_IDENT_ROLE_MASK) | ((value << QKD_ALICE_IDENT_ROLE_SHIFT) & QKD_ALICE_IDENT_ROLE_MASK);
}
static inline uint32_t qkd_alice_ident_get_lanes(uint32_t reg)
{
    return (reg & QKD_ALICE_IDENT_LANES_MASK) >> QKD_ALICE_IDENT_LANES_SHIFT;
}
static inline uint32_t qkd_alice_ident_set_lanes(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_IDENT_LANES_MASK) | ((value << QKD_ALICE_IDENT_LANES_SHIFT) & QKD_ALICE_IDENT_LANES_MASK);
}
static inline uint32_t qkd_alice_ident_get_oversample(uint32_t reg)
{
    return (reg & QKD_ALICE_IDENT_OVERSAMPLE_MASK) >> QKD_ALICE_IDENT_OVERSAMPLE_SHIFT;
}
static inline uint32_t qkd_alice_ident_set_oversample(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_IDENT_OVERSAMPLE_MASK) | ((value << QKD_ALICE_IDENT_OVERSAMPLE_SHIFT) & QKD_ALICE_IDENT_OVERSAMPLE_MASK);
}
static inline uint32_t qkd_alice_ident_get_detectors(uint32_t reg)
{
    return (reg & QKD_ALICE_IDENT_DETECTORS_MASK) >> QKD_ALICE_IDENT_DETECTORS_SHIFT;
}
static inline uint32_t qkd_alice_ident_set_detectors(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_IDENT_DETECTORS_MASK) | ((value << QKD_ALICE_IDENT_DETECTORS_SHIFT) & QKD_ALICE_IDENT_DETECTORS_MASK);
}
static inline uint32_t qkd_alice_ident_get_first_block(uint32_t reg)
{
    return (reg & QKD_ALICE_IDENT_FIRST_BLOCK_MASK) >> QKD_ALICE_IDENT_FIRST_BLOCK_SHIFT;
}
static inline uint32_t qkd_alice_ident_set_first_block(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_IDENT_FIRST_BLOCK_MASK) | ((value << QKD_ALICE_IDENT_FIRST_BLOCK_SHIFT) & QKD_ALICE_IDENT_FIRST_BLOCK_MASK);
}
/* 32-bit build identifier: hash of the generation parameters and ABI version [RO] */
#define QKD_ALICE_BUILD_ID_ADDR 0x00Cu
#define QKD_ALICE_BUILD_ID_OFFSET 0x0Cu
#define QKD_ALICE_BUILD_ID_RESET 0xBA8B48DEu
static inline uint32_t qkd_alice_read_build_id(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_BUILD_ID_ADDR);
}
/* 32-bit nominal fabric clock in kHz (symbol rate = LANES x clock) [RO] */
#define QKD_ALICE_FABRIC_CLOCK_KHZ_ADDR 0x010u
#define QKD_ALICE_FABRIC_CLOCK_KHZ_OFFSET 0x10u
#define QKD_ALICE_FABRIC_CLOCK_KHZ_RESET 0x0001312Du
static inline uint32_t qkd_alice_read_fabric_clock_khz(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_FABRIC_CLOCK_KHZ_ADDR);
}
/* 32-bit scratch register for bus tests; no effect [RW] */
#define QKD_ALICE_SCRATCH_ADDR 0x014u
#define QKD_ALICE_SCRATCH_OFFSET 0x14u
#define QKD_ALICE_SCRATCH_RESET 0x00000000u
static inline uint32_t qkd_alice_read_scratch(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_SCRATCH_ADDR);
}
static inline void qkd_alice_write_scratch(volatile void *base, uint32_t value)
{
    qkd_alice_reg_write(base, QKD_ALICE_SCRATCH_ADDR, value);
}

/* ---- block rng (index 1): Entropy source selection, test-PRNG seed and QRNG health tests (NIST SP 800-90B 4.4) ---- */
#define QKD_ALICE_BLK_RNG_INDEX 1
#define QKD_ALICE_BLK_RNG_BASE 0x100u
#define QKD_ALICE_BLK_RNG_TYPE 0x0010u
#define QKD_ALICE_BLK_RNG_VERSION 1
/* Block identification: type, major version, next block index [RO] */
#define QKD_ALICE_RNG_ID_ADDR 0x100u
#define QKD_ALICE_RNG_ID_OFFSET 0x00u
#define QKD_ALICE_RNG_ID_RESET 0x02010010u
#define QKD_ALICE_RNG_ID_TYPE_SHIFT 0
#define QKD_ALICE_RNG_ID_TYPE_WIDTH 16
#define QKD_ALICE_RNG_ID_TYPE_MASK 0x0000FFFFu
#define QKD_ALICE_RNG_ID_MAJOR_SHIFT 16
#define QKD_ALICE_RNG_ID_MAJOR_WIDTH 8
#define QKD_ALICE_RNG_ID_MAJOR_MASK 0x00FF0000u
#define QKD_ALICE_RNG_ID_NEXT_SHIFT 24
#define QKD_ALICE_RNG_ID_NEXT_WIDTH 8
#define QKD_ALICE_RNG_ID_NEXT_MASK 0xFF000000u
static inline uint32_t qkd_alice_read_rng_id(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_RNG_ID_ADDR);
}
static inline uint32_t qkd_alice_rng_id_get_type(uint32_t reg)
{
    return (reg & QKD_ALICE_RNG_ID_TYPE_MASK) >> QKD_ALICE_RNG_ID_TYPE_SHIFT;
}
static inline uint32_t qkd_alice_rng_id_set_type(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_RNG_ID_TYPE_MASK) | ((value << QKD_ALICE_RNG_ID_TYPE_SHIFT) & QKD_ALICE_RNG_ID_TYPE_MASK);
}
static inline uint32_t qkd_alice_rng_id_get_major(uint32_t reg)
{
    return (reg & QKD_ALICE_RNG_ID_MAJOR_MASK) >> QKD_ALICE_RNG_ID_MAJOR_SHIFT;
}
static inline uint32_t qkd_alice_rng_id_set_major(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_RNG_ID_MAJOR_MASK) | ((value << QKD_ALICE_RNG_ID_MAJOR_SHIFT) & QKD_ALICE_RNG_ID_MAJOR_MASK);
}
static inline uint32_t qkd_alice_rng_id_get_next(uint32_t reg)
{
    return (reg & QKD_ALICE_RNG_ID_NEXT_MASK) >> QKD_ALICE_RNG_ID_NEXT_SHIFT;
}
static inline uint32_t qkd_alice_rng_id_set_next(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_RNG_ID_NEXT_MASK) | ((value << QKD_ALICE_RNG_ID_NEXT_SHIFT) & QKD_ALICE_RNG_ID_NEXT_MASK);
}
/* Random source selection; takes effect at the next START [RW] */
#define QKD_ALICE_RNG_CTRL_ADDR 0x104u
#define QKD_ALICE_RNG_CTRL_OFFSET 0x04u
#define QKD_ALICE_RNG_CTRL_RESET 0x00000000u
#define QKD_ALICE_RNG_CTRL_SOURCE_SHIFT 0
#define QKD_ALICE_RNG_CTRL_SOURCE_WIDTH 1
#define QKD_ALICE_RNG_CTRL_SOURCE_MASK 0x00000001u
static inline uint32_t qkd_alice_read_rng_ctrl(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_RNG_CTRL_ADDR);
}
static inline void qkd_alice_write_rng_ctrl(volatile void *base, uint32_t value)
{
    qkd_alice_reg_write(base, QKD_ALICE_RNG_CTRL_ADDR, value);
}
static inline uint32_t qkd_alice_rng_ctrl_get_source(uint32_t reg)
{
    return (reg & QKD_ALICE_RNG_CTRL_SOURCE_MASK) >> QKD_ALICE_RNG_CTRL_SOURCE_SHIFT;
}
static inline uint32_t qkd_alice_rng_ctrl_set_source(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_RNG_CTRL_SOURCE_MASK) | ((value << QKD_ALICE_RNG_CTRL_SOURCE_SHIFT) & QKD_ALICE_RNG_CTRL_SOURCE_MASK);
}
/* Low 32 bits of the 64-bit test-PRNG seed, loaded at START [RW] */
#define QKD_ALICE_RNG_SEED_LO_ADDR 0x108u
#define QKD_ALICE_RNG_SEED_LO_OFFSET 0x08u
#define QKD_ALICE_RNG_SEED_LO_RESET 0x00000000u
static inline uint32_t qkd_alice_read_rng_seed_lo(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_RNG_SEED_LO_ADDR);
}
static inline void qkd_alice_write_rng_seed_lo(volatile void *base, uint32_t value)
{
    qkd_alice_reg_write(base, QKD_ALICE_RNG_SEED_LO_ADDR, value);
}
/* High 32 bits of the 64-bit test-PRNG seed, loaded at START [RW] */
#define QKD_ALICE_RNG_SEED_HI_ADDR 0x10Cu
#define QKD_ALICE_RNG_SEED_HI_OFFSET 0x0Cu
#define QKD_ALICE_RNG_SEED_HI_RESET 0x00000000u
static inline uint32_t qkd_alice_read_rng_seed_hi(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_RNG_SEED_HI_ADDR);
}
static inline void qkd_alice_write_rng_seed_hi(volatile void *base, uint32_t value)
{
    qkd_alice_reg_write(base, QKD_ALICE_RNG_SEED_HI_ADDR, value);
}
/* Repetition count test cutoff, in samples [RW] */
#define QKD_ALICE_RNG_RCT_CUTOFF_ADDR 0x110u
#define QKD_ALICE_RNG_RCT_CUTOFF_OFFSET 0x10u
#define QKD_ALICE_RNG_RCT_CUTOFF_RESET 0x00000006u
#define QKD_ALICE_RNG_RCT_CUTOFF_CUTOFF_SHIFT 0
#define QKD_ALICE_RNG_RCT_CUTOFF_CUTOFF_WIDTH 16
#define QKD_ALICE_RNG_RCT_CUTOFF_CUTOFF_MASK 0x0000FFFFu
static inline uint32_t qkd_alice_read_rng_rct_cutoff(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_RNG_RCT_CUTOFF_ADDR);
}
static inline void qkd_alice_write_rng_rct_cutoff(volatile void *base, uint32_t value)
{
    qkd_alice_reg_write(base, QKD_ALICE_RNG_RCT_CUTOFF_ADDR, value);
}
static inline uint32_t qkd_alice_rng_rct_cutoff_get_cutoff(uint32_t reg)
{
    return (reg & QKD_ALICE_RNG_RCT_CUTOFF_CUTOFF_MASK) >> QKD_ALICE_RNG_RCT_CUTOFF_CUTOFF_SHIFT;
}
static inline uint32_t qkd_alice_rng_rct_cutoff_set_cutoff(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_RNG_RCT_CUTOFF_CUTOFF_MASK) | ((value << QKD_ALICE_RNG_RCT_CUTOFF_CUTOFF_SHIFT) & QKD_ALICE_RNG_RCT_CUTOFF_CUTOFF_MASK);
}
/* Adaptive proportion test window, in samples [RW] */
#define QKD_ALICE_RNG_APT_WINDOW_ADDR 0x114u
#define QKD_ALICE_RNG_APT_WINDOW_OFFSET 0x14u
#define QKD_ALICE_RNG_APT_WINDOW_RESET 0x00000200u
#define QKD_ALICE_RNG_APT_WINDOW_WINDOW_SHIFT 0
#define QKD_ALICE_RNG_APT_WINDOW_WINDOW_WIDTH 16
#define QKD_ALICE_RNG_APT_WINDOW_WINDOW_MASK 0x0000FFFFu
static inline uint32_t qkd_alice_read_rng_apt_window(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_RNG_APT_WINDOW_ADDR);
}
static inline void qkd_alice_write_rng_apt_window(volatile void *base, uint32_t value)
{
    qkd_alice_reg_write(base, QKD_ALICE_RNG_APT_WINDOW_ADDR, value);
}
static inline uint32_t qkd_alice_rng_apt_window_get_window(uint32_t reg)
{
    return (reg & QKD_ALICE_RNG_APT_WINDOW_WINDOW_MASK) >> QKD_ALICE_RNG_APT_WINDOW_WINDOW_SHIFT;
}
static inline uint32_t qkd_alice_rng_apt_window_set_window(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_RNG_APT_WINDOW_WINDOW_MASK) | ((value << QKD_ALICE_RNG_APT_WINDOW_WINDOW_SHIFT) & QKD_ALICE_RNG_APT_WINDOW_WINDOW_MASK);
}
/* Adaptive proportion test cutoff, in samples [RW] */
#define QKD_ALICE_RNG_APT_CUTOFF_ADDR 0x118u
#define QKD_ALICE_RNG_APT_CUTOFF_OFFSET 0x18u
#define QKD_ALICE_RNG_APT_CUTOFF_RESET 0x0000000Du
#define QKD_ALICE_RNG_APT_CUTOFF_CUTOFF_SHIFT 0
#define QKD_ALICE_RNG_APT_CUTOFF_CUTOFF_WIDTH 16
#define QKD_ALICE_RNG_APT_CUTOFF_CUTOFF_MASK 0x0000FFFFu
static inline uint32_t qkd_alice_read_rng_apt_cutoff(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_RNG_APT_CUTOFF_ADDR);
}
static inline void qkd_alice_write_rng_apt_cutoff(volatile void *base, uint32_t value)
{
    qkd_alice_reg_write(base, QKD_ALICE_RNG_APT_CUTOFF_ADDR, value);
}
static inline uint32_t qkd_alice_rng_apt_cutoff_get_cutoff(uint32_t reg)
{
    return (reg & QKD_ALICE_RNG_APT_CUTOFF_CUTOFF_MASK) >> QKD_ALICE_RNG_APT_CUTOFF_CUTOFF_SHIFT;
}
static inline uint32_t qkd_alice_rng_apt_cutoff_set_cutoff(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_RNG_APT_CUTOFF_CUTOFF_MASK) | ((value << QKD_ALICE_RNG_APT_CUTOFF_CUTOFF_SHIFT) & QKD_ALICE_RNG_APT_CUTOFF_CUTOFF_MASK);
}
/* 32-bit wrapping count of QRNG words consumed [RO] */
#define QKD_ALICE_RNG_QRNG_WORDS_ADDR 0x11Cu
#define QKD_ALICE_RNG_QRNG_WORDS_OFFSET 0x1Cu
#define QKD_ALICE_RNG_QRNG_WORDS_RESET 0x00000000u
static inline uint32_t qkd_alice_read_rng_qrng_words(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_RNG_QRNG_WORDS_ADDR);
}

/* ---- block stream (index 2): Record stream towards the DMA engine: STATUS interval, record and loss counters ---- */
#define QKD_ALICE_BLK_STREAM_INDEX 2
#define QKD_ALICE_BLK_STREAM_BASE 0x200u
#define QKD_ALICE_BLK_STREAM_TYPE 0x0011u
#define QKD_ALICE_BLK_STREAM_VERSION 1
/* Block identification: type, major version, next block index [RO] */
#define QKD_ALICE_STREAM_ID_ADDR 0x200u
#define QKD_ALICE_STREAM_ID_OFFSET 0x00u
#define QKD_ALICE_STREAM_ID_RESET 0x03010011u
#define QKD_ALICE_STREAM_ID_TYPE_SHIFT 0
#define QKD_ALICE_STREAM_ID_TYPE_WIDTH 16
#define QKD_ALICE_STREAM_ID_TYPE_MASK 0x0000FFFFu
#define QKD_ALICE_STREAM_ID_MAJOR_SHIFT 16
#define QKD_ALICE_STREAM_ID_MAJOR_WIDTH 8
#define QKD_ALICE_STREAM_ID_MAJOR_MASK 0x00FF0000u
#define QKD_ALICE_STREAM_ID_NEXT_SHIFT 24
#define QKD_ALICE_STREAM_ID_NEXT_WIDTH 8
#define QKD_ALICE_STREAM_ID_NEXT_MASK 0xFF000000u
static inline uint32_t qkd_alice_read_stream_id(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_STREAM_ID_ADDR);
}
static inline uint32_t qkd_alice_stream_id_get_type(uint32_t reg)
{
    return (reg & QKD_ALICE_STREAM_ID_TYPE_MASK) >> QKD_ALICE_STREAM_ID_TYPE_SHIFT;
}
static inline uint32_t qkd_alice_stream_id_set_type(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_STREAM_ID_TYPE_MASK) | ((value << QKD_ALICE_STREAM_ID_TYPE_SHIFT) & QKD_ALICE_STREAM_ID_TYPE_MASK);
}
static inline uint32_t qkd_alice_stream_id_get_major(uint32_t reg)
{
    return (reg & QKD_ALICE_STREAM_ID_MAJOR_MASK) >> QKD_ALICE_STREAM_ID_MAJOR_SHIFT;
}
static inline uint32_t qkd_alice_stream_id_set_major(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_STREAM_ID_MAJOR_MASK) | ((value << QKD_ALICE_STREAM_ID_MAJOR_SHIFT) & QKD_ALICE_STREAM_ID_MAJOR_MASK);
}
static inline uint32_t qkd_alice_stream_id_get_next(uint32_t reg)
{
    return (reg & QKD_ALICE_STREAM_ID_NEXT_MASK) >> QKD_ALICE_STREAM_ID_NEXT_SHIFT;
}
static inline uint32_t qkd_alice_stream_id_set_next(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_STREAM_ID_NEXT_MASK) | ((value << QKD_ALICE_STREAM_ID_NEXT_SHIFT) & QKD_ALICE_STREAM_ID_NEXT_MASK);
}
/* Record stream control [RW] */
#define QKD_ALICE_STREAM_CTRL_ADDR 0x204u
#define QKD_ALICE_STREAM_CTRL_OFFSET 0x04u
#define QKD_ALICE_STREAM_CTRL_RESET 0x00000014u
#define QKD_ALICE_STREAM_CTRL_STATUS_INTERVAL_LOG2_SHIFT 0
#define QKD_ALICE_STREAM_CTRL_STATUS_INTERVAL_LOG2_WIDTH 6
#define QKD_ALICE_STREAM_CTRL_STATUS_INTERVAL_LOG2_MASK 0x0000003Fu
static inline uint32_t qkd_alice_read_stream_ctrl(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_STREAM_CTRL_ADDR);
}
static inline void qkd_alice_write_stream_ctrl(volatile void *base, uint32_t value)
{
    qkd_alice_reg_write(base, QKD_ALICE_STREAM_CTRL_ADDR, value);
}
static inline uint32_t qkd_alice_stream_ctrl_get_status_interval_log2(uint32_t reg)
{
    return (reg & QKD_ALICE_STREAM_CTRL_STATUS_INTERVAL_LOG2_MASK) >> QKD_ALICE_STREAM_CTRL_STATUS_INTERVAL_LOG2_SHIFT;
}
static inline uint32_t qkd_alice_stream_ctrl_set_status_interval_log2(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_STREAM_CTRL_STATUS_INTERVAL_LOG2_MASK) | ((value << QKD_ALICE_STREAM_CTRL_STATUS_INTERVAL_LOG2_SHIFT) & QKD_ALICE_STREAM_CTRL_STATUS_INTERVAL_LOG2_MASK);
}
/* Low 32 bits of the 64-bit count of records emitted (read latches _HI) [RO] */
#define QKD_ALICE_STREAM_RECORDS_LO_ADDR 0x208u
#define QKD_ALICE_STREAM_RECORDS_LO_OFFSET 0x08u
#define QKD_ALICE_STREAM_RECORDS_LO_RESET 0x00000000u
static inline uint32_t qkd_alice_read_stream_records_lo(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_STREAM_RECORDS_LO_ADDR);
}
/* High 32 bits of the 64-bit count of records emitted [RO] */
#define QKD_ALICE_STREAM_RECORDS_HI_ADDR 0x20Cu
#define QKD_ALICE_STREAM_RECORDS_HI_OFFSET 0x0Cu
#define QKD_ALICE_STREAM_RECORDS_HI_RESET 0x00000000u
static inline uint32_t qkd_alice_read_stream_records_hi(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_STREAM_RECORDS_HI_ADDR);
}
/* Low 32 bits of the 64-bit count of slots whose records were lost to back-pressure (read latches _HI) [RO] */
#define QKD_ALICE_STREAM_LOST_SLOTS_LO_ADDR 0x210u
#define QKD_ALICE_STREAM_LOST_SLOTS_LO_OFFSET 0x10u
#define QKD_ALICE_STREAM_LOST_SLOTS_LO_RESET 0x00000000u
static inline uint32_t qkd_alice_read_stream_lost_slots_lo(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_STREAM_LOST_SLOTS_LO_ADDR);
}
/* High 32 bits of the 64-bit lost-slot count [RO] */
#define QKD_ALICE_STREAM_LOST_SLOTS_HI_ADDR 0x214u
#define QKD_ALICE_STREAM_LOST_SLOTS_HI_OFFSET 0x14u
#define QKD_ALICE_STREAM_LOST_SLOTS_HI_RESET 0x00000000u
static inline uint32_t qkd_alice_read_stream_lost_slots_hi(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_STREAM_LOST_SLOTS_HI_ADDR);
}
/* 32-bit wrapping count of GAP records emitted [RO] */
#define QKD_ALICE_STREAM_GAPS_ADDR 0x218u
#define QKD_ALICE_STREAM_GAPS_OFFSET 0x18u
#define QKD_ALICE_STREAM_GAPS_RESET 0x00000000u
static inline uint32_t qkd_alice_read_stream_gaps(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_STREAM_GAPS_ADDR);
}
/* 32-bit highest FIFO fill seen since CLEAR_COUNTERS, in 64-bit words [RO] */
#define QKD_ALICE_STREAM_FIFO_HIGH_WATER_ADDR 0x21Cu
#define QKD_ALICE_STREAM_FIFO_HIGH_WATER_OFFSET 0x1Cu
#define QKD_ALICE_STREAM_FIFO_HIGH_WATER_RESET 0x00000000u
static inline uint32_t qkd_alice_read_stream_fifo_high_water(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_STREAM_FIFO_HIGH_WATER_ADDR);
}

/* ---- block alice_control (index 3): Pulse-pattern generator: mode, start/stop, sync frames, alarms, symbol index ---- */
#define QKD_ALICE_BLK_ALICE_CONTROL_INDEX 3
#define QKD_ALICE_BLK_ALICE_CONTROL_BASE 0x300u
#define QKD_ALICE_BLK_ALICE_CONTROL_TYPE 0x0101u
#define QKD_ALICE_BLK_ALICE_CONTROL_VERSION 1
/* Block identification: type, major version, next block index [RO] */
#define QKD_ALICE_ALICE_CTRL_ID_ADDR 0x300u
#define QKD_ALICE_ALICE_CTRL_ID_OFFSET 0x00u
#define QKD_ALICE_ALICE_CTRL_ID_RESET 0x04010101u
#define QKD_ALICE_ALICE_CTRL_ID_TYPE_SHIFT 0
#define QKD_ALICE_ALICE_CTRL_ID_TYPE_WIDTH 16
#define QKD_ALICE_ALICE_CTRL_ID_TYPE_MASK 0x0000FFFFu
#define QKD_ALICE_ALICE_CTRL_ID_MAJOR_SHIFT 16
#define QKD_ALICE_ALICE_CTRL_ID_MAJOR_WIDTH 8
#define QKD_ALICE_ALICE_CTRL_ID_MAJOR_MASK 0x00FF0000u
#define QKD_ALICE_ALICE_CTRL_ID_NEXT_SHIFT 24
#define QKD_ALICE_ALICE_CTRL_ID_NEXT_WIDTH 8
#define QKD_ALICE_ALICE_CTRL_ID_NEXT_MASK 0xFF000000u
static inline uint32_t qkd_alice_read_alice_ctrl_id(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_ALICE_CTRL_ID_ADDR);
}
static inline uint32_t qkd_alice_alice_ctrl_id_get_type(uint32_t reg)
{
    return (reg & QKD_ALICE_ALICE_CTRL_ID_TYPE_MASK) >> QKD_ALICE_ALICE_CTRL_ID_TYPE_SHIFT;
}
static inline uint32_t qkd_alice_alice_ctrl_id_set_type(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_ALICE_CTRL_ID_TYPE_MASK) | ((value << QKD_ALICE_ALICE_CTRL_ID_TYPE_SHIFT) & QKD_ALICE_ALICE_CTRL_ID_TYPE_MASK);
}
static inline uint32_t qkd_alice_alice_ctrl_id_get_major(uint32_t reg)
{
    return (reg & QKD_ALICE_ALICE_CTRL_ID_MAJOR_MASK) >> QKD_ALICE_ALICE_CTRL_ID_MAJOR_SHIFT;
}
static inline uint32_t qkd_alice_alice_ctrl_id_set_major(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_ALICE_CTRL_ID_MAJOR_MASK) | ((value << QKD_ALICE_ALICE_CTRL_ID_MAJOR_SHIFT) & QKD_ALICE_ALICE_CTRL_ID_MAJOR_MASK);
}
static inline uint32_t qkd_alice_alice_ctrl_id_get_next(uint32_t reg)
{
    return (reg & QKD_ALICE_ALICE_CTRL_ID_NEXT_MASK) >> QKD_ALICE_ALICE_CTRL_ID_NEXT_SHIFT;
}
static inline uint32_t qkd_alice_alice_ctrl_id_set_next(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_ALICE_CTRL_ID_NEXT_MASK) | ((value << QKD_ALICE_ALICE_CTRL_ID_NEXT_SHIFT) & QKD_ALICE_ALICE_CTRL_ID_NEXT_MASK);
}
/* Pattern generator mode, calibration symbol and sync period [RW] */
#define QKD_ALICE_ALICE_CTRL_ADDR 0x304u
#define QKD_ALICE_ALICE_CTRL_OFFSET 0x04u
#define QKD_ALICE_ALICE_CTRL_RESET 0x00001001u
#define QKD_ALICE_ALICE_CTRL_MODE_SHIFT 0
#define QKD_ALICE_ALICE_CTRL_MODE_WIDTH 2
#define QKD_ALICE_ALICE_CTRL_MODE_MASK 0x00000003u
#define QKD_ALICE_ALICE_CTRL_FIXED_SYMBOL_SHIFT 4
#define QKD_ALICE_ALICE_CTRL_FIXED_SYMBOL_WIDTH 4
#define QKD_ALICE_ALICE_CTRL_FIXED_SYMBOL_MASK 0x000000F0u
#define QKD_ALICE_ALICE_CTRL_SYNC_LOG2_SHIFT 8
#define QKD_ALICE_ALICE_CTRL_SYNC_LOG2_WIDTH 6
#define QKD_ALICE_ALICE_CTRL_SYNC_LOG2_MASK 0x00003F00u
static inline uint32_t qkd_alice_read_alice_ctrl(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_ALICE_CTRL_ADDR);
}
static inline void qkd_alice_write_alice_ctrl(volatile void *base, uint32_t value)
{
    qkd_alice_reg_write(base, QKD_ALICE_ALICE_CTRL_ADDR, value);
}
static inline uint32_t qkd_alice_alice_ctrl_get_mode(uint32_t reg)
{
    return (reg & QKD_ALICE_ALICE_CTRL_MODE_MASK) >> QKD_ALICE_ALICE_CTRL_MODE_SHIFT;
}
static inline uint32_t qkd_alice_alice_ctrl_set_mode(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_ALICE_CTRL_MODE_MASK) | ((value << QKD_ALICE_ALICE_CTRL_MODE_SHIFT) & QKD_ALICE_ALICE_CTRL_MODE_MASK);
}
static inline uint32_t qkd_alice_alice_ctrl_get_fixed_symbol(uint32_t reg)
{
    return (reg & QKD_ALICE_ALICE_CTRL_FIXED_SYMBOL_MASK) >> QKD_ALICE_ALICE_CTRL_FIXED_SYMBOL_SHIFT;
}
static inline uint32_t qkd_alice_alice_ctrl_set_fixed_symbol(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_ALICE_CTRL_FIXED_SYMBOL_MASK) | ((value << QKD_ALICE_ALICE_CTRL_FIXED_SYMBOL_SHIFT) & QKD_ALICE_ALICE_CTRL_FIXED_SYMBOL_MASK);
}
static inline uint32_t qkd_alice_alice_ctrl_get_sync_log2(uint32_t reg)
{
    return (reg & QKD_ALICE_ALICE_CTRL_SYNC_LOG2_MASK) >> QKD_ALICE_ALICE_CTRL_SYNC_LOG2_SHIFT;
}
static inline uint32_t qkd_alice_alice_ctrl_set_sync_log2(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_ALICE_CTRL_SYNC_LOG2_MASK) | ((value << QKD_ALICE_ALICE_CTRL_SYNC_LOG2_SHIFT) & QKD_ALICE_ALICE_CTRL_SYNC_LOG2_MASK);
}
/* Commands [STROBE] */
#define QKD_ALICE_ALICE_CMD_ADDR 0x308u
#define QKD_ALICE_ALICE_CMD_OFFSET 0x08u
#define QKD_ALICE_ALICE_CMD_RESET 0x00000000u
#define QKD_ALICE_ALICE_CMD_START_SHIFT 0
#define QKD_ALICE_ALICE_CMD_START_WIDTH 1
#define QKD_ALICE_ALICE_CMD_START_MASK 0x00000001u
#define QKD_ALICE_ALICE_CMD_STOP_SHIFT 1
#define QKD_ALICE_ALICE_CMD_STOP_WIDTH 1
#define QKD_ALICE_ALICE_CMD_STOP_MASK 0x00000002u
#define QKD_ALICE_ALICE_CMD_CLEAR_COUNTERS_SHIFT 2
#define QKD_ALICE_ALICE_CMD_CLEAR_COUNTERS_WIDTH 1
#define QKD_ALICE_ALICE_CMD_CLEAR_COUNTERS_MASK 0x00000004u
static inline void qkd_alice_write_alice_cmd(volatile void *base, uint32_t value)
{
    qkd_alice_reg_write(base, QKD_ALICE_ALICE_CMD_ADDR, value);
}
static inline uint32_t qkd_alice_alice_cmd_get_start(uint32_t reg)
{
    return (reg & QKD_ALICE_ALICE_CMD_START_MASK) >> QKD_ALICE_ALICE_CMD_START_SHIFT;
}
static inline uint32_t qkd_alice_alice_cmd_set_start(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_ALICE_CMD_START_MASK) | ((value << QKD_ALICE_ALICE_CMD_START_SHIFT) & QKD_ALICE_ALICE_CMD_START_MASK);
}
static inline uint32_t qkd_alice_alice_cmd_get_stop(uint32_t reg)
{
    return (reg & QKD_ALICE_ALICE_CMD_STOP_MASK) >> QKD_ALICE_ALICE_CMD_STOP_SHIFT;
}
static inline uint32_t qkd_alice_alice_cmd_set_stop(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_ALICE_CMD_STOP_MASK) | ((value << QKD_ALICE_ALICE_CMD_STOP_SHIFT) & QKD_ALICE_ALICE_CMD_STOP_MASK);
}
static inline uint32_t qkd_alice_alice_cmd_get_clear_counters(uint32_t reg)
{
    return (reg & QKD_ALICE_ALICE_CMD_CLEAR_COUNTERS_MASK) >> QKD_ALICE_ALICE_CMD_CLEAR_COUNTERS_SHIFT;
}
static inline uint32_t qkd_alice_alice_cmd_set_clear_counters(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_ALICE_CMD_CLEAR_COUNTERS_MASK) | ((value << QKD_ALICE_ALICE_CMD_CLEAR_COUNTERS_SHIFT) & QKD_ALICE_ALICE_CMD_CLEAR_COUNTERS_MASK);
}
/* Live state [RO] */
#define QKD_ALICE_ALICE_STATE_ADDR 0x30Cu
#define QKD_ALICE_ALICE_STATE_OFFSET 0x0Cu
#define QKD_ALICE_ALICE_STATE_RESET 0x00000000u
#define QKD_ALICE_ALICE_STATE_RUNNING_SHIFT 0
#define QKD_ALICE_ALICE_STATE_RUNNING_WIDTH 1
#define QKD_ALICE_ALICE_STATE_RUNNING_MASK 0x00000001u
#define QKD_ALICE_ALICE_STATE_ENTROPY_OK_SHIFT 1
#define QKD_ALICE_ALICE_STATE_ENTROPY_OK_WIDTH 1
#define QKD_ALICE_ALICE_STATE_ENTROPY_OK_MASK 0x00000002u
static inline uint32_t qkd_alice_read_alice_state(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_ALICE_STATE_ADDR);
}
static inline uint32_t qkd_alice_alice_state_get_running(uint32_t reg)
{
    return (reg & QKD_ALICE_ALICE_STATE_RUNNING_MASK) >> QKD_ALICE_ALICE_STATE_RUNNING_SHIFT;
}
static inline uint32_t qkd_alice_alice_state_set_running(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_ALICE_STATE_RUNNING_MASK) | ((value << QKD_ALICE_ALICE_STATE_RUNNING_SHIFT) & QKD_ALICE_ALICE_STATE_RUNNING_MASK);
}
static inline uint32_t qkd_alice_alice_state_get_entropy_ok(uint32_t reg)
{
    return (reg & QKD_ALICE_ALICE_STATE_ENTROPY_OK_MASK) >> QKD_ALICE_ALICE_STATE_ENTROPY_OK_SHIFT;
}
static inline uint32_t qkd_alice_alice_state_set_entropy_ok(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_ALICE_STATE_ENTROPY_OK_MASK) | ((value << QKD_ALICE_ALICE_STATE_ENTROPY_OK_SHIFT) & QKD_ALICE_ALICE_STATE_ENTROPY_OK_MASK);
}
/* Sticky alarms; write 1 to clear [W1C] */
#define QKD_ALICE_ALICE_ALARMS_ADDR 0x310u
#define QKD_ALICE_ALICE_ALARMS_OFFSET 0x10u
#define QKD_ALICE_ALICE_ALARMS_RESET 0x00000000u
#define QKD_ALICE_ALICE_ALARMS_RNG_RCT_SHIFT 0
#define QKD_ALICE_ALICE_ALARMS_RNG_RCT_WIDTH 1
#define QKD_ALICE_ALICE_ALARMS_RNG_RCT_MASK 0x00000001u
#define QKD_ALICE_ALICE_ALARMS_RNG_APT_SHIFT 1
#define QKD_ALICE_ALICE_ALARMS_RNG_APT_WIDTH 1
#define QKD_ALICE_ALICE_ALARMS_RNG_APT_MASK 0x00000002u
#define QKD_ALICE_ALICE_ALARMS_STREAM_OVERFLOW_SHIFT 2
#define QKD_ALICE_ALICE_ALARMS_STREAM_OVERFLOW_WIDTH 1
#define QKD_ALICE_ALICE_ALARMS_STREAM_OVERFLOW_MASK 0x00000004u
#define QKD_ALICE_ALICE_ALARMS_QRNG_UNDERRUN_SHIFT 3
#define QKD_ALICE_ALICE_ALARMS_QRNG_UNDERRUN_WIDTH 1
#define QKD_ALICE_ALICE_ALARMS_QRNG_UNDERRUN_MASK 0x00000008u
static inline uint32_t qkd_alice_read_alice_alarms(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_ALICE_ALARMS_ADDR);
}
static inline void qkd_alice_write_alice_alarms(volatile void *base, uint32_t value)
{
    qkd_alice_reg_write(base, QKD_ALICE_ALICE_ALARMS_ADDR, value);
}
static inline uint32_t qkd_alice_alice_alarms_get_rng_rct(uint32_t reg)
{
    return (reg & QKD_ALICE_ALICE_ALARMS_RNG_RCT_MASK) >> QKD_ALICE_ALICE_ALARMS_RNG_RCT_SHIFT;
}
static inline uint32_t qkd_alice_alice_alarms_set_rng_rct(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_ALICE_ALARMS_RNG_RCT_MASK) | ((value << QKD_ALICE_ALICE_ALARMS_RNG_RCT_SHIFT) & QKD_ALICE_ALICE_ALARMS_RNG_RCT_MASK);
}
static inline uint32_t qkd_alice_alice_alarms_get_rng_apt(uint32_t reg)
{
    return (reg & QKD_ALICE_ALICE_ALARMS_RNG_APT_MASK) >> QKD_ALICE_ALICE_ALARMS_RNG_APT_SHIFT;
}
static inline uint32_t qkd_alice_alice_alarms_set_rng_apt(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_ALICE_ALARMS_RNG_APT_MASK) | ((value << QKD_ALICE_ALICE_ALARMS_RNG_APT_SHIFT) & QKD_ALICE_ALICE_ALARMS_RNG_APT_MASK);
}
static inline uint32_t qkd_alice_alice_alarms_get_stream_overflow(uint32_t reg)
{
    return (reg & QKD_ALICE_ALICE_ALARMS_STREAM_OVERFLOW_MASK) >> QKD_ALICE_ALICE_ALARMS_STREAM_OVERFLOW_SHIFT;
}
static inline uint32_t qkd_alice_alice_alarms_set_stream_overflow(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_ALICE_ALARMS_STREAM_OVERFLOW_MASK) | ((value << QKD_ALICE_ALICE_ALARMS_STREAM_OVERFLOW_SHIFT) & QKD_ALICE_ALICE_ALARMS_STREAM_OVERFLOW_MASK);
}
static inline uint32_t qkd_alice_alice_alarms_get_qrng_underrun(uint32_t reg)
{
    return (reg & QKD_ALICE_ALICE_ALARMS_QRNG_UNDERRUN_MASK) >> QKD_ALICE_ALICE_ALARMS_QRNG_UNDERRUN_SHIFT;
}
static inline uint32_t qkd_alice_alice_alarms_set_qrng_underrun(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_ALICE_ALARMS_QRNG_UNDERRUN_MASK) | ((value << QKD_ALICE_ALICE_ALARMS_QRNG_UNDERRUN_SHIFT) & QKD_ALICE_ALICE_ALARMS_QRNG_UNDERRUN_MASK);
}
/* Low 32 bits of the 64-bit symbol index (symbols since START; read latches _HI) [RO] */
#define QKD_ALICE_ALICE_SYMBOLS_LO_ADDR 0x314u
#define QKD_ALICE_ALICE_SYMBOLS_LO_OFFSET 0x14u
#define QKD_ALICE_ALICE_SYMBOLS_LO_RESET 0x00000000u
static inline uint32_t qkd_alice_read_alice_symbols_lo(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_ALICE_SYMBOLS_LO_ADDR);
}
/* High 32 bits of the 64-bit symbol index [RO] */
#define QKD_ALICE_ALICE_SYMBOLS_HI_ADDR 0x318u
#define QKD_ALICE_ALICE_SYMBOLS_HI_OFFSET 0x18u
#define QKD_ALICE_ALICE_SYMBOLS_HI_RESET 0x00000000u
static inline uint32_t qkd_alice_read_alice_symbols_hi(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_ALICE_SYMBOLS_HI_ADDR);
}

/* ---- block decoy (index 4): Decoy-intensity and basis selector thresholds (16-bit fixed point) ---- */
#define QKD_ALICE_BLK_DECOY_INDEX 4
#define QKD_ALICE_BLK_DECOY_BASE 0x400u
#define QKD_ALICE_BLK_DECOY_TYPE 0x0102u
#define QKD_ALICE_BLK_DECOY_VERSION 1
/* Block identification: type, major version, next block index [RO] */
#define QKD_ALICE_DECOY_ID_ADDR 0x400u
#define QKD_ALICE_DECOY_ID_OFFSET 0x00u
#define QKD_ALICE_DECOY_ID_RESET 0x00010102u
#define QKD_ALICE_DECOY_ID_TYPE_SHIFT 0
#define QKD_ALICE_DECOY_ID_TYPE_WIDTH 16
#define QKD_ALICE_DECOY_ID_TYPE_MASK 0x0000FFFFu
#define QKD_ALICE_DECOY_ID_MAJOR_SHIFT 16
#define QKD_ALICE_DECOY_ID_MAJOR_WIDTH 8
#define QKD_ALICE_DECOY_ID_MAJOR_MASK 0x00FF0000u
#define QKD_ALICE_DECOY_ID_NEXT_SHIFT 24
#define QKD_ALICE_DECOY_ID_NEXT_WIDTH 8
#define QKD_ALICE_DECOY_ID_NEXT_MASK 0xFF000000u
static inline uint32_t qkd_alice_read_decoy_id(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_DECOY_ID_ADDR);
}
static inline uint32_t qkd_alice_decoy_id_get_type(uint32_t reg)
{
    return (reg & QKD_ALICE_DECOY_ID_TYPE_MASK) >> QKD_ALICE_DECOY_ID_TYPE_SHIFT;
}
static inline uint32_t qkd_alice_decoy_id_set_type(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_DECOY_ID_TYPE_MASK) | ((value << QKD_ALICE_DECOY_ID_TYPE_SHIFT) & QKD_ALICE_DECOY_ID_TYPE_MASK);
}
static inline uint32_t qkd_alice_decoy_id_get_major(uint32_t reg)
{
    return (reg & QKD_ALICE_DECOY_ID_MAJOR_MASK) >> QKD_ALICE_DECOY_ID_MAJOR_SHIFT;
}
static inline uint32_t qkd_alice_decoy_id_set_major(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_DECOY_ID_MAJOR_MASK) | ((value << QKD_ALICE_DECOY_ID_MAJOR_SHIFT) & QKD_ALICE_DECOY_ID_MAJOR_MASK);
}
static inline uint32_t qkd_alice_decoy_id_get_next(uint32_t reg)
{
    return (reg & QKD_ALICE_DECOY_ID_NEXT_MASK) >> QKD_ALICE_DECOY_ID_NEXT_SHIFT;
}
static inline uint32_t qkd_alice_decoy_id_set_next(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_DECOY_ID_NEXT_MASK) | ((value << QKD_ALICE_DECOY_ID_NEXT_SHIFT) & QKD_ALICE_DECOY_ID_NEXT_MASK);
}
/* Cumulative threshold T1: random16 < T1 selects the signal intensity mu1 [RW] */
#define QKD_ALICE_DECOY_THRESH_SIGNAL_ADDR 0x404u
#define QKD_ALICE_DECOY_THRESH_SIGNAL_OFFSET 0x04u
#define QKD_ALICE_DECOY_THRESH_SIGNAL_RESET 0x00004F5Cu
#define QKD_ALICE_DECOY_THRESH_SIGNAL_THRESH_SHIFT 0
#define QKD_ALICE_DECOY_THRESH_SIGNAL_THRESH_WIDTH 16
#define QKD_ALICE_DECOY_THRESH_SIGNAL_THRESH_MASK 0x0000FFFFu
static inline uint32_t qkd_alice_read_decoy_thresh_signal(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_DECOY_THRESH_SIGNAL_ADDR);
}
static inline void qkd_alice_write_decoy_thresh_signal(volatile void *base, uint32_t value)
{
    qkd_alice_reg_write(base, QKD_ALICE_DECOY_THRESH_SIGNAL_ADDR, value);
}
static inline uint32_t qkd_alice_decoy_thresh_signal_get_thresh(uint32_t reg)
{
    return (reg & QKD_ALICE_DECOY_THRESH_SIGNAL_THRESH_MASK) >> QKD_ALICE_DECOY_THRESH_SIGNAL_THRESH_SHIFT;
}
static inline uint32_t qkd_alice_decoy_thresh_signal_set_thresh(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_DECOY_THRESH_SIGNAL_THRESH_MASK) | ((value << QKD_ALICE_DECOY_THRESH_SIGNAL_THRESH_SHIFT) & QKD_ALICE_DECOY_THRESH_SIGNAL_THRESH_MASK);
}
/* Cumulative threshold T2 >= T1: T1 <= random16 < T2 selects the decoy mu2; the rest selects vacuum mu3 [RW] */
#define QKD_ALICE_DECOY_THRESH_DECOY_ADDR 0x408u
#define QKD_ALICE_DECOY_THRESH_DECOY_OFFSET 0x08u
#define QKD_ALICE_DECOY_THRESH_DECOY_RESET 0x0000D1ECu
#define QKD_ALICE_DECOY_THRESH_DECOY_THRESH_SHIFT 0
#define QKD_ALICE_DECOY_THRESH_DECOY_THRESH_WIDTH 16
#define QKD_ALICE_DECOY_THRESH_DECOY_THRESH_MASK 0x0000FFFFu
static inline uint32_t qkd_alice_read_decoy_thresh_decoy(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_DECOY_THRESH_DECOY_ADDR);
}
static inline void qkd_alice_write_decoy_thresh_decoy(volatile void *base, uint32_t value)
{
    qkd_alice_reg_write(base, QKD_ALICE_DECOY_THRESH_DECOY_ADDR, value);
}
static inline uint32_t qkd_alice_decoy_thresh_decoy_get_thresh(uint32_t reg)
{
    return (reg & QKD_ALICE_DECOY_THRESH_DECOY_THRESH_MASK) >> QKD_ALICE_DECOY_THRESH_DECOY_THRESH_SHIFT;
}
static inline uint32_t qkd_alice_decoy_thresh_decoy_set_thresh(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_DECOY_THRESH_DECOY_THRESH_MASK) | ((value << QKD_ALICE_DECOY_THRESH_DECOY_THRESH_SHIFT) & QKD_ALICE_DECOY_THRESH_DECOY_THRESH_MASK);
}
/* Basis threshold: an independent random16 < T selects the key basis Z, else X [RW] */
#define QKD_ALICE_DECOY_THRESH_BASIS_Z_ADDR 0x40Cu
#define QKD_ALICE_DECOY_THRESH_BASIS_Z_OFFSET 0x0Cu
#define QKD_ALICE_DECOY_THRESH_BASIS_Z_RESET 0x0000DC29u
#define QKD_ALICE_DECOY_THRESH_BASIS_Z_THRESH_SHIFT 0
#define QKD_ALICE_DECOY_THRESH_BASIS_Z_THRESH_WIDTH 16
#define QKD_ALICE_DECOY_THRESH_BASIS_Z_THRESH_MASK 0x0000FFFFu
static inline uint32_t qkd_alice_read_decoy_thresh_basis_z(volatile void *base)
{
    return qkd_alice_reg_read(base, QKD_ALICE_DECOY_THRESH_BASIS_Z_ADDR);
}
static inline void qkd_alice_write_decoy_thresh_basis_z(volatile void *base, uint32_t value)
{
    qkd_alice_reg_write(base, QKD_ALICE_DECOY_THRESH_BASIS_Z_ADDR, value);
}
static inline uint32_t qkd_alice_decoy_thresh_basis_z_get_thresh(uint32_t reg)
{
    return (reg & QKD_ALICE_DECOY_THRESH_BASIS_Z_THRESH_MASK) >> QKD_ALICE_DECOY_THRESH_BASIS_Z_THRESH_SHIFT;
}
static inline uint32_t qkd_alice_decoy_thresh_basis_z_set_thresh(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_ALICE_DECOY_THRESH_BASIS_Z_THRESH_MASK) | ((value << QKD_ALICE_DECOY_THRESH_BASIS_Z_THRESH_SHIFT) & QKD_ALICE_DECOY_THRESH_BASIS_Z_THRESH_MASK);
}

#endif /* QKD_ALICE_REGS_H */
