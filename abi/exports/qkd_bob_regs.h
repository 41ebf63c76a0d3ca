/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Generated from qkd-abi; do not edit. Register map of the QKD bob core. */
#ifndef QKD_BOB_REGS_H
#define QKD_BOB_REGS_H

#include <stdint.h>

#define QKD_MAGIC 0x514B4431u
#define QKD_ABI_VERSION 0x00010000u
#define QKD_BOB_ROLE 2
#define QKD_BOB_LANES 4
#define QKD_BOB_OVERSAMPLE 8
#define QKD_BOB_DETECTORS 2
#define QKD_BOB_FABRIC_CLOCK_KHZ 78125u
#define QKD_BOB_CSR_SPAN 0x800u
#define QKD_BOB_BLOCK_BYTES 0x100u
#define QKD_BOB_BLOCK_COUNT 7

/* The 32-bit word at byte offset addr of the CSR window starting at base. */
static inline uint32_t qkd_bob_reg_read(volatile void *base, uint32_t addr)
{
    return *(volatile uint32_t *)((volatile uint8_t *)base + addr);
}
static inline void qkd_bob_reg_write(volatile void *base, uint32_t addr, uint32_t value)
{
    *(volatile uint32_t *)((volatile uint8_t *)base + addr) = value;
}

/* ---- block header (index 0): Self-describing header: magic, ABI version, role, LANES, OVERSAMPLE, build id ---- */
#define QKD_BOB_BLK_HEADER_INDEX 0
#define QKD_BOB_BLK_HEADER_BASE 0x000u
#define QKD_BOB_BLK_HEADER_TYPE 0x0000u
#define QKD_BOB_BLK_HEADER_VERSION 1
/* 32-bit constant 0x514B4431 (ASCII "QKD1") [RO] */
#define QKD_BOB_MAGIC_ADDR 0x000u
#define QKD_BOB_MAGIC_OFFSET 0x00u
#define QKD_BOB_MAGIC_RESET 0x514B4431u
static inline uint32_t qkd_bob_read_magic(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_MAGIC_ADDR);
}
/* ABI version of the register map and record formats [RO] */
#define QKD_BOB_ABI_VERSION_ADDR 0x004u
#define QKD_BOB_ABI_VERSION_OFFSET 0x04u
#define QKD_BOB_ABI_VERSION_RESET 0x00010000u
#define QKD_BOB_ABI_VERSION_MINOR_SHIFT 0
#define QKD_BOB_ABI_VERSION_MINOR_WIDTH 16
#define QKD_BOB_ABI_VERSION_MINOR_MASK 0x0000FFFFu
#define QKD_BOB_ABI_VERSION_MAJOR_SHIFT 16
#define QKD_BOB_ABI_VERSION_MAJOR_WIDTH 16
#define QKD_BOB_ABI_VERSION_MAJOR_MASK 0xFFFF0000u
static inline uint32_t qkd_bob_read_abi_version(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_ABI_VERSION_ADDR);
}
static inline uint32_t qkd_bob_abi_version_get_minor(uint32_t reg)
{
    return (reg & QKD_BOB_ABI_VERSION_MINOR_MASK) >> QKD_BOB_ABI_VERSION_MINOR_SHIFT;
}
static inline uint32_t qkd_bob_abi_version_set_minor(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_ABI_VERSION_MINOR_MASK) | ((value << QKD_BOB_ABI_VERSION_MINOR_SHIFT) & QKD_BOB_ABI_VERSION_MINOR_MASK);
}
static inline uint32_t qkd_bob_abi_version_get_major(uint32_t reg)
{
    return (reg & QKD_BOB_ABI_VERSION_MAJOR_MASK) >> QKD_BOB_ABI_VERSION_MAJOR_SHIFT;
}
static inline uint32_t qkd_bob_abi_version_set_major(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_ABI_VERSION_MAJOR_MASK) | ((value << QKD_BOB_ABI_VERSION_MAJOR_SHIFT) & QKD_BOB_ABI_VERSION_MAJOR_MASK);
}
/* Role and generation parameters of this core [RO] */
#define QKD_BOB_IDENT_ADDR 0x008u
#define QKD_BOB_IDENT_OFFSET 0x08u
#define QKD_BOB_IDENT_RESET 0x01004842u
#define QKD_BOB_IDENT_ROLE_SHIFT 0
#define QKD_BOB_IDENT_ROLE_WIDTH 4
#define QKD_BOB_IDENT_ROLE_MASK 0x0000000Fu
#define QKD_BOB_IDENT_LANES_SHIFT 4
#define QKD_BOB_IDENT_LANES_WIDTH 4
#define QKD_BOB_IDENT_LANES_MASK 0x000000F0u
#define QKD_BOB_IDENT_OVERSAMPLE_SHIFT 8
#define QKD_BOB_IDENT_OVERSAMPLE_WIDTH 5
#define QKD_BOB_IDENT_OVERSAMPLE_MASK 0x00001F00u
#define QKD_BOB_IDENT_DETECTORS_SHIFT 13
#define QKD_BOB_IDENT_DETECTORS_WIDTH 3
#define QKD_BOB_IDENT_DETECTORS_MASK 0x0000E000u
#define QKD_BOB_IDENT_FIRST_BLOCK_SHIFT 24
#define QKD_BOB_IDENT_FIRST_BLOCK_WIDTH 8
#define QKD_BOB_IDENT_FIRST_BLOCK_MASK 0xFF000000u
static inline uint32_t qkd_bob_read_ident(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_IDENT_ADDR);
}
static inline uint32_t qkd_bob_ident_get_role(uint32_t reg)
{
    return (reg & QKD_BOB_IDENT_ROLE_MASK) >> QKD_BOB_IDENT_ROLE_SHIFT;
}
static inline uint32_t qkd_bob_ident_set_role(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_IDENT_ROLE_MASK) | ((value << QKD_BOB_IDENT_ROLE_SHIFT) & QKD_BOB_IDENT_ROLE_MASK);
}
static inline uint32_t qkd_bob_ident_get_lanes(uint32_t reg)
{
    return (reg & QKD_BOB_IDENT_LANES_MASK) >> QKD_BOB_IDENT_LANES_SHIFT;
}
static inline uint32_t qkd_bob_ident_set_lanes(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_IDENT_LANES_MASK) | ((value << QKD_BOB_IDENT_LANES_SHIFT) & QKD_BOB_IDENT_LANES_MASK);
}
static inline uint32_t qkd_bob_ident_get_oversample(uint32_t reg)
{
    return (reg & QKD_BOB_IDENT_OVERSAMPLE_MASK) >> QKD_BOB_IDENT_OVERSAMPLE_SHIFT;
}
static inline uint32_t qkd_bob_ident_set_oversample(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_IDENT_OVERSAMPLE_MASK) | ((value << QKD_BOB_IDENT_OVERSAMPLE_SHIFT) & QKD_BOB_IDENT_OVERSAMPLE_MASK);
}
static inline uint32_t qkd_bob_ident_get_detectors(uint32_t reg)
{
    return (reg & QKD_BOB_IDENT_DETECTORS_MASK) >> QKD_BOB_IDENT_DETECTORS_SHIFT;
}
static inline uint32_t qkd_bob_ident_set_detectors(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_IDENT_DETECTORS_MASK) | ((value << QKD_BOB_IDENT_DETECTORS_SHIFT) & QKD_BOB_IDENT_DETECTORS_MASK);
}
static inline uint32_t qkd_bob_ident_get_first_block(uint32_t reg)
{
    return (reg & QKD_BOB_IDENT_FIRST_BLOCK_MASK) >> QKD_BOB_IDENT_FIRST_BLOCK_SHIFT;
}
static inline uint32_t qkd_bob_ident_set_first_block(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_IDENT_FIRST_BLOCK_MASK) | ((value << QKD_BOB_IDENT_FIRST_BLOCK_SHIFT) & QKD_BOB_IDENT_FIRST_BLOCK_MASK);
}
/* 32-bit build identifier: hash of the generation parameters and ABI version [RO] */
#define QKD_BOB_BUILD_ID_ADDR 0x00Cu
#define QKD_BOB_BUILD_ID_OFFSET 0x0Cu
#define QKD_BOB_BUILD_ID_RESET 0x7FE89E93u
static inline uint32_t qkd_bob_read_build_id(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_BUILD_ID_ADDR);
}
/* 32-bit nominal fabric clock in kHz (symbol rate = LANES x clock) [RO] */
#define QKD_BOB_FABRIC_CLOCK_KHZ_ADDR 0x010u
#define QKD_BOB_FABRIC_CLOCK_KHZ_OFFSET 0x10u
#define QKD_BOB_FABRIC_CLOCK_KHZ_RESET 0x0001312Du
static inline uint32_t qkd_bob_read_fabric_clock_khz(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_FABRIC_CLOCK_KHZ_ADDR);
}
/* 32-bit scratch register for bus tests; no effect [RW] */
#define QKD_BOB_SCRATCH_ADDR 0x014u
#define QKD_BOB_SCRATCH_OFFSET 0x14u
#define QKD_BOB_SCRATCH_RESET 0x00000000u
static inline uint32_t qkd_bob_read_scratch(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_SCRATCH_ADDR);
}
static inline void qkd_bob_write_scratch(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_SCRATCH_ADDR, value);
}

/* ---- block rng (index 1): Entropy source selection, test-PRNG seed and QRNG health tests (NIST SP 800-90B 4.4) ---- */
#define QKD_BOB_BLK_RNG_INDEX 1
#define QKD_BOB_BLK_RNG_BASE 0x100u
#define QKD_BOB_BLK_RNG_TYPE 0x0010u
#define QKD_BOB_BLK_RNG_VERSION 1
/* Block identification: type, major version, next block index [RO] */
#define QKD_BOB_RNG_ID_ADDR 0x100u
#define QKD_BOB_RNG_ID_OFFSET 0x00u
#define QKD_BOB_RNG_ID_RESET 0x02010010u
#define QKD_BOB_RNG_ID_TYPE_SHIFT 0
#define QKD_BOB_RNG_ID_TYPE_WIDTH 16
#define QKD_BOB_RNG_ID_TYPE_MASK 0x0000FFFFu
#define QKD_BOB_RNG_ID_MAJOR_SHIFT 16
#define QKD_BOB_RNG_ID_MAJOR_WIDTH 8
#define QKD_BOB_RNG_ID_MAJOR_MASK 0x00FF0000u
#define QKD_BOB_RNG_ID_NEXT_SHIFT 24
#define QKD_BOB_RNG_ID_NEXT_WIDTH 8
#define QKD_BOB_RNG_ID_NEXT_MASK 0xFF000000u
static inline uint32_t qkd_bob_read_rng_id(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_RNG_ID_ADDR);
}
static inline uint32_t qkd_bob_rng_id_get_type(uint32_t reg)
{
    return (reg & QKD_BOB_RNG_ID_TYPE_MASK) >> QKD_BOB_RNG_ID_TYPE_SHIFT;
}
static inline uint32_t qkd_bob_rng_id_set_type(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_RNG_ID_TYPE_MASK) | ((value << QKD_BOB_RNG_ID_TYPE_SHIFT) & QKD_BOB_RNG_ID_TYPE_MASK);
}
static inline uint32_t qkd_bob_rng_id_get_major(uint32_t reg)
{
    return (reg & QKD_BOB_RNG_ID_MAJOR_MASK) >> QKD_BOB_RNG_ID_MAJOR_SHIFT;
}
static inline uint32_t qkd_bob_rng_id_set_major(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_RNG_ID_MAJOR_MASK) | ((value << QKD_BOB_RNG_ID_MAJOR_SHIFT) & QKD_BOB_RNG_ID_MAJOR_MASK);
}
static inline uint32_t qkd_bob_rng_id_get_next(uint32_t reg)
{
    return (reg & QKD_BOB_RNG_ID_NEXT_MASK) >> QKD_BOB_RNG_ID_NEXT_SHIFT;
}
static inline uint32_t qkd_bob_rng_id_set_next(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_RNG_ID_NEXT_MASK) | ((value << QKD_BOB_RNG_ID_NEXT_SHIFT) & QKD_BOB_RNG_ID_NEXT_MASK);
}
/* Random source selection; takes effect at the next START [RW] */
#define QKD_BOB_RNG_CTRL_ADDR 0x104u
#define QKD_BOB_RNG_CTRL_OFFSET 0x04u
#define QKD_BOB_RNG_CTRL_RESET 0x00000000u
#define QKD_BOB_RNG_CTRL_SOURCE_SHIFT 0
#define QKD_BOB_RNG_CTRL_SOURCE_WIDTH 1
#define QKD_BOB_RNG_CTRL_SOURCE_MASK 0x00000001u
static inline uint32_t qkd_bob_read_rng_ctrl(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_RNG_CTRL_ADDR);
}
static inline void qkd_bob_write_rng_ctrl(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_RNG_CTRL_ADDR, value);
}
static inline uint32_t qkd_bob_rng_ctrl_get_source(uint32_t reg)
{
    return (reg & QKD_BOB_RNG_CTRL_SOURCE_MASK) >> QKD_BOB_RNG_CTRL_SOURCE_SHIFT;
}
static inline uint32_t qkd_bob_rng_ctrl_set_source(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_RNG_CTRL_SOURCE_MASK) | ((value << QKD_BOB_RNG_CTRL_SOURCE_SHIFT) & QKD_BOB_RNG_CTRL_SOURCE_MASK);
}
/* Low 32 bits of the 64-bit test-PRNG seed, loaded at START [RW] */
#define QKD_BOB_RNG_SEED_LO_ADDR 0x108u
#define QKD_BOB_RNG_SEED_LO_OFFSET 0x08u
#define QKD_BOB_RNG_SEED_LO_RESET 0x00000000u
static inline uint32_t qkd_bob_read_rng_seed_lo(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_RNG_SEED_LO_ADDR);
}
static inline void qkd_bob_write_rng_seed_lo(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_RNG_SEED_LO_ADDR, value);
}
/* High 32 bits of the 64-bit test-PRNG seed, loaded at START [RW] */
#define QKD_BOB_RNG_SEED_HI_ADDR 0x10Cu
#define QKD_BOB_RNG_SEED_HI_OFFSET 0x0Cu
#define QKD_BOB_RNG_SEED_HI_RESET 0x00000000u
static inline uint32_t qkd_bob_read_rng_seed_hi(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_RNG_SEED_HI_ADDR);
}
static inline void qkd_bob_write_rng_seed_hi(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_RNG_SEED_HI_ADDR, value);
}
/* Repetition count test cutoff, in samples [RW] */
#define QKD_BOB_RNG_RCT_CUTOFF_ADDR 0x110u
#define QKD_BOB_RNG_RCT_CUTOFF_OFFSET 0x10u
#define QKD_BOB_RNG_RCT_CUTOFF_RESET 0x00000006u
#define QKD_BOB_RNG_RCT_CUTOFF_CUTOFF_SHIFT 0
#define QKD_BOB_RNG_RCT_CUTOFF_CUTOFF_WIDTH 16
#define QKD_BOB_RNG_RCT_CUTOFF_CUTOFF_MASK 0x0000FFFFu
static inline uint32_t qkd_bob_read_rng_rct_cutoff(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_RNG_RCT_CUTOFF_ADDR);
}
static inline void qkd_bob_write_rng_rct_cutoff(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_RNG_RCT_CUTOFF_ADDR, value);
}
static inline uint32_t qkd_bob_rng_rct_cutoff_get_cutoff(uint32_t reg)
{
    return (reg & QKD_BOB_RNG_RCT_CUTOFF_CUTOFF_MASK) >> QKD_BOB_RNG_RCT_CUTOFF_CUTOFF_SHIFT;
}
static inline uint32_t qkd_bob_rng_rct_cutoff_set_cutoff(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_RNG_RCT_CUTOFF_CUTOFF_MASK) | ((value << QKD_BOB_RNG_RCT_CUTOFF_CUTOFF_SHIFT) & QKD_BOB_RNG_RCT_CUTOFF_CUTOFF_MASK);
}
/* Adaptive proportion test window, in samples [RW] */
#define QKD_BOB_RNG_APT_WINDOW_ADDR 0x114u
#define QKD_BOB_RNG_APT_WINDOW_OFFSET 0x14u
#define QKD_BOB_RNG_APT_WINDOW_RESET 0x00000200u
#define QKD_BOB_RNG_APT_WINDOW_WINDOW_SHIFT 0
#define QKD_BOB_RNG_APT_WINDOW_WINDOW_WIDTH 16
#define QKD_BOB_RNG_APT_WINDOW_WINDOW_MASK 0x0000FFFFu
static inline uint32_t qkd_bob_read_rng_apt_window(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_RNG_APT_WINDOW_ADDR);
}
static inline void qkd_bob_write_rng_apt_window(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_RNG_APT_WINDOW_ADDR, value);
}
static inline uint32_t qkd_bob_rng_apt_window_get_window(uint32_t reg)
{
    return (reg & QKD_BOB_RNG_APT_WINDOW_WINDOW_MASK) >> QKD_BOB_RNG_APT_WINDOW_WINDOW_SHIFT;
}
static inline uint32_t qkd_bob_rng_apt_window_set_window(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_RNG_APT_WINDOW_WINDOW_MASK) | ((value << QKD_BOB_RNG_APT_WINDOW_WINDOW_SHIFT) & QKD_BOB_RNG_APT_WINDOW_WINDOW_MASK);
}
/* Adaptive proportion test cutoff, in samples [RW] */
#define QKD_BOB_RNG_APT_CUTOFF_ADDR 0x118u
#define QKD_BOB_RNG_APT_CUTOFF_OFFSET 0x18u
#define QKD_BOB_RNG_APT_CUTOFF_RESET 0x0000000Du
#define QKD_BOB_RNG_APT_CUTOFF_CUTOFF_SHIFT 0
#define QKD_BOB_RNG_APT_CUTOFF_CUTOFF_WIDTH 16
#define QKD_BOB_RNG_APT_CUTOFF_CUTOFF_MASK 0x0000FFFFu
static inline uint32_t qkd_bob_read_rng_apt_cutoff(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_RNG_APT_CUTOFF_ADDR);
}
static inline void qkd_bob_write_rng_apt_cutoff(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_RNG_APT_CUTOFF_ADDR, value);
}
static inline uint32_t qkd_bob_rng_apt_cutoff_get_cutoff(uint32_t reg)
{
    return (reg & QKD_BOB_RNG_APT_CUTOFF_CUTOFF_MASK) >> QKD_BOB_RNG_APT_CUTOFF_CUTOFF_SHIFT;
}
static inline uint32_t qkd_bob_rng_apt_cutoff_set_cutoff(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_RNG_APT_CUTOFF_CUTOFF_MASK) | ((value << QKD_BOB_RNG_APT_CUTOFF_CUTOFF_SHIFT) & QKD_BOB_RNG_APT_CUTOFF_CUTOFF_MASK);
}
/* 32-bit wrapping count of QRNG words consumed [RO] */
#define QKD_BOB_RNG_QRNG_WORDS_ADDR 0x11Cu
#define QKD_BOB_RNG_QRNG_WORDS_OFFSET 0x1Cu
#define QKD_BOB_RNG_QRNG_WORDS_RESET 0x00000000u
static inline uint32_t qkd_bob_read_rng_qrng_words(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_RNG_QRNG_WORDS_ADDR);
}

/* ---- block stream (index 2): Record stream towards the DMA engine: STATUS interval, record and loss counters ---- */
#define QKD_BOB_BLK_STREAM_INDEX 2
#define QKD_BOB_BLK_STREAM_BASE 0x200u
#define QKD_BOB_BLK_STREAM_TYPE 0x0011u
#define QKD_BOB_BLK_STREAM_VERSION 1
/* Block identification: type, major version, next block index [RO] */
#define QKD_BOB_STREAM_ID_ADDR 0x200u
#define QKD_BOB_STREAM_ID_OFFSET 0x00u
#define QKD_BOB_STREAM_ID_RESET 0x03010011u
#define QKD_BOB_STREAM_ID_TYPE_SHIFT 0
#define QKD_BOB_STREAM_ID_TYPE_WIDTH 16
#define QKD_BOB_STREAM_ID_TYPE_MASK 0x0000FFFFu
#define QKD_BOB_STREAM_ID_MAJOR_SHIFT 16
#define QKD_BOB_STREAM_ID_MAJOR_WIDTH 8
#define QKD_BOB_STREAM_ID_MAJOR_MASK 0x00FF0000u
#define QKD_BOB_STREAM_ID_NEXT_SHIFT 24
#define QKD_BOB_STREAM_ID_NEXT_WIDTH 8
#define QKD_BOB_STREAM_ID_NEXT_MASK 0xFF000000u
static inline uint32_t qkd_bob_read_stream_id(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_STREAM_ID_ADDR);
}
static inline uint32_t qkd_bob_stream_id_get_type(uint32_t reg)
{
    return (reg & QKD_BOB_STREAM_ID_TYPE_MASK) >> QKD_BOB_STREAM_ID_TYPE_SHIFT;
}
static inline uint32_t qkd_bob_stream_id_set_type(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_STREAM_ID_TYPE_MASK) | ((value << QKD_BOB_STREAM_ID_TYPE_SHIFT) & QKD_BOB_STREAM_ID_TYPE_MASK);
}
static inline uint32_t qkd_bob_stream_id_get_major(uint32_t reg)
{
    return (reg & QKD_BOB_STREAM_ID_MAJOR_MASK) >> QKD_BOB_STREAM_ID_MAJOR_SHIFT;
}
static inline uint32_t qkd_bob_stream_id_set_major(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_STREAM_ID_MAJOR_MASK) | ((value << QKD_BOB_STREAM_ID_MAJOR_SHIFT) & QKD_BOB_STREAM_ID_MAJOR_MASK);
}
static inline uint32_t qkd_bob_stream_id_get_next(uint32_t reg)
{
    return (reg & QKD_BOB_STREAM_ID_NEXT_MASK) >> QKD_BOB_STREAM_ID_NEXT_SHIFT;
}
static inline uint32_t qkd_bob_stream_id_set_next(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_STREAM_ID_NEXT_MASK) | ((value << QKD_BOB_STREAM_ID_NEXT_SHIFT) & QKD_BOB_STREAM_ID_NEXT_MASK);
}
/* Record stream control [RW] */
#define QKD_BOB_STREAM_CTRL_ADDR 0x204u
#define QKD_BOB_STREAM_CTRL_OFFSET 0x04u
#define QKD_BOB_STREAM_CTRL_RESET 0x00000014u
#define QKD_BOB_STREAM_CTRL_STATUS_INTERVAL_LOG2_SHIFT 0
#define QKD_BOB_STREAM_CTRL_STATUS_INTERVAL_LOG2_WIDTH 6
#define QKD_BOB_STREAM_CTRL_STATUS_INTERVAL_LOG2_MASK 0x0000003Fu
static inline uint32_t qkd_bob_read_stream_ctrl(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_STREAM_CTRL_ADDR);
}
static inline void qkd_bob_write_stream_ctrl(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_STREAM_CTRL_ADDR, value);
}
static inline uint32_t qkd_bob_stream_ctrl_get_status_interval_log2(uint32_t reg)
{
    return (reg & QKD_BOB_STREAM_CTRL_STATUS_INTERVAL_LOG2_MASK) >> QKD_BOB_STREAM_CTRL_STATUS_INTERVAL_LOG2_SHIFT;
}
static inline uint32_t qkd_bob_stream_ctrl_set_status_interval_log2(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_STREAM_CTRL_STATUS_INTERVAL_LOG2_MASK) | ((value << QKD_BOB_STREAM_CTRL_STATUS_INTERVAL_LOG2_SHIFT) & QKD_BOB_STREAM_CTRL_STATUS_INTERVAL_LOG2_MASK);
}
/* Low 32 bits of the 64-bit count of records emitted (read latches _HI) [RO] */
#define QKD_BOB_STREAM_RECORDS_LO_ADDR 0x208u
#define QKD_BOB_STREAM_RECORDS_LO_OFFSET 0x08u
#define QKD_BOB_STREAM_RECORDS_LO_RESET 0x00000000u
static inline uint32_t qkd_bob_read_stream_records_lo(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_STREAM_RECORDS_LO_ADDR);
}
/* High 32 bits of the 64-bit count of records emitted [RO] */
#define QKD_BOB_STREAM_RECORDS_HI_ADDR 0x20Cu
#define QKD_BOB_STREAM_RECORDS_HI_OFFSET 0x0Cu
#define QKD_BOB_STREAM_RECORDS_HI_RESET 0x00000000u
static inline uint32_t qkd_bob_read_stream_records_hi(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_STREAM_RECORDS_HI_ADDR);
}
/* Low 32 bits of the 64-bit count of slots whose records were lost to back-pressure (read latches _HI) [RO] */
#define QKD_BOB_STREAM_LOST_SLOTS_LO_ADDR 0x210u
#define QKD_BOB_STREAM_LOST_SLOTS_LO_OFFSET 0x10u
#define QKD_BOB_STREAM_LOST_SLOTS_LO_RESET 0x00000000u
static inline uint32_t qkd_bob_read_stream_lost_slots_lo(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_STREAM_LOST_SLOTS_LO_ADDR);
}
/* High 32 bits of the 64-bit lost-slot count [RO] */
#define QKD_BOB_STREAM_LOST_SLOTS_HI_ADDR 0x214u
#define QKD_BOB_STREAM_LOST_SLOTS_HI_OFFSET 0x14u
#define QKD_BOB_STREAM_LOST_SLOTS_HI_RESET 0x00000000u
static inline uint32_t qkd_bob_read_stream_lost_slots_hi(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_STREAM_LOST_SLOTS_HI_ADDR);
}
/* 32-bit wrapping count of GAP records emitted [RO] */
#define QKD_BOB_STREAM_GAPS_ADDR 0x218u
#define QKD_BOB_STREAM_GAPS_OFFSET 0x18u
#define QKD_BOB_STREAM_GAPS_RESET 0x00000000u
static inline uint32_t qkd_bob_read_stream_gaps(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_STREAM_GAPS_ADDR);
}
/* 32-bit highest FIFO fill seen since CLEAR_COUNTERS, in 64-bit words [RO] */
#define QKD_BOB_STREAM_FIFO_HIGH_WATER_ADDR 0x21Cu
#define QKD_BOB_STREAM_FIFO_HIGH_WATER_OFFSET 0x1Cu
#define QKD_BOB_STREAM_FIFO_HIGH_WATER_RESET 0x00000000u
static inline uint32_t qkd_bob_read_stream_fifo_high_water(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_STREAM_FIFO_HIGH_WATER_ADDR);
}

/* ---- block bob_control (index 3): Receiver control, alarms and slot alignment ---- */
#define QKD_BOB_BLK_BOB_CONTROL_INDEX 3
#define QKD_BOB_BLK_BOB_CONTROL_BASE 0x300u
#define QKD_BOB_BLK_BOB_CONTROL_TYPE 0x0201u
#define QKD_BOB_BLK_BOB_CONTROL_VERSION 1
/* Block identification: type, major version, next block index [RO] */
#define QKD_BOB_BOB_CTRL_ID_ADDR 0x300u
#define QKD_BOB_BOB_CTRL_ID_OFFSET 0x00u
#define QKD_BOB_BOB_CTRL_ID_RESET 0x04010201u
#define QKD_BOB_BOB_CTRL_ID_TYPE_SHIFT 0
#define QKD_BOB_BOB_CTRL_ID_TYPE_WIDTH 16
#define QKD_BOB_BOB_CTRL_ID_TYPE_MASK 0x0000FFFFu
#define QKD_BOB_BOB_CTRL_ID_MAJOR_SHIFT 16
#define QKD_BOB_BOB_CTRL_ID_MAJOR_WIDTH 8
#define QKD_BOB_BOB_CTRL_ID_MAJOR_MASK 0x00FF0000u
#define QKD_BOB_BOB_CTRL_ID_NEXT_SHIFT 24
#define QKD_BOB_BOB_CTRL_ID_NEXT_WIDTH 8
#define QKD_BOB_BOB_CTRL_ID_NEXT_MASK 0xFF000000u
static inline uint32_t qkd_bob_read_bob_ctrl_id(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_BOB_CTRL_ID_ADDR);
}
static inline uint32_t qkd_bob_bob_ctrl_id_get_type(uint32_t reg)
{
    return (reg & QKD_BOB_BOB_CTRL_ID_TYPE_MASK) >> QKD_BOB_BOB_CTRL_ID_TYPE_SHIFT;
}
static inline uint32_t qkd_bob_bob_ctrl_id_set_type(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_BOB_CTRL_ID_TYPE_MASK) | ((value << QKD_BOB_BOB_CTRL_ID_TYPE_SHIFT) & QKD_BOB_BOB_CTRL_ID_TYPE_MASK);
}
static inline uint32_t qkd_bob_bob_ctrl_id_get_major(uint32_t reg)
{
    return (reg & QKD_BOB_BOB_CTRL_ID_MAJOR_MASK) >> QKD_BOB_BOB_CTRL_ID_MAJOR_SHIFT;
}
static inline uint32_t qkd_bob_bob_ctrl_id_set_major(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_BOB_CTRL_ID_MAJOR_MASK) | ((value << QKD_BOB_BOB_CTRL_ID_MAJOR_SHIFT) & QKD_BOB_BOB_CTRL_ID_MAJOR_MASK);
}
static inline uint32_t qkd_bob_bob_ctrl_id_get_next(uint32_t reg)
{
    return (reg & QKD_BOB_BOB_CTRL_ID_NEXT_MASK) >> QKD_BOB_BOB_CTRL_ID_NEXT_SHIFT;
}
static inline uint32_t qkd_bob_bob_ctrl_id_set_next(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_BOB_CTRL_ID_NEXT_MASK) | ((value << QKD_BOB_BOB_CTRL_ID_NEXT_SHIFT) & QKD_BOB_BOB_CTRL_ID_NEXT_MASK);
}
/* Receiver control [RW] */
#define QKD_BOB_BOB_CTRL_ADDR 0x304u
#define QKD_BOB_BOB_CTRL_OFFSET 0x04u
#define QKD_BOB_BOB_CTRL_RESET 0x0000000Fu
#define QKD_BOB_BOB_CTRL_DETECTOR_ENABLE_SHIFT 0
#define QKD_BOB_BOB_CTRL_DETECTOR_ENABLE_WIDTH 4
#define QKD_BOB_BOB_CTRL_DETECTOR_ENABLE_MASK 0x0000000Fu
static inline uint32_t qkd_bob_read_bob_ctrl(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_BOB_CTRL_ADDR);
}
static inline void qkd_bob_write_bob_ctrl(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_BOB_CTRL_ADDR, value);
}
static inline uint32_t qkd_bob_bob_ctrl_get_detector_enable(uint32_t reg)
{
    return (reg & QKD_BOB_BOB_CTRL_DETECTOR_ENABLE_MASK) >> QKD_BOB_BOB_CTRL_DETECTOR_ENABLE_SHIFT;
}
static inline uint32_t qkd_bob_bob_ctrl_set_detector_enable(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_BOB_CTRL_DETECTOR_ENABLE_MASK) | ((value << QKD_BOB_BOB_CTRL_DETECTOR_ENABLE_SHIFT) & QKD_BOB_BOB_CTRL_DETECTOR_ENABLE_MASK);
}
/* Commands [STROBE] */
#define QKD_BOB_BOB_CMD_ADDR 0x308u
#define QKD_BOB_BOB_CMD_OFFSET 0x08u
#define QKD_BOB_BOB_CMD_RESET 0x00000000u
#define QKD_BOB_BOB_CMD_START_SHIFT 0
#define QKD_BOB_BOB_CMD_START_WIDTH 1
#define QKD_BOB_BOB_CMD_START_MASK 0x00000001u
#define QKD_BOB_BOB_CMD_STOP_SHIFT 1
#define QKD_BOB_BOB_CMD_STOP_WIDTH 1
#define QKD_BOB_BOB_CMD_STOP_MASK 0x00000002u
#define QKD_BOB_BOB_CMD_CLEAR_COUNTERS_SHIFT 2
#define QKD_BOB_BOB_CMD_CLEAR_COUNTERS_WIDTH 1
#define QKD_BOB_BOB_CMD_CLEAR_COUNTERS_MASK 0x00000004u
static inline void qkd_bob_write_bob_cmd(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_BOB_CMD_ADDR, value);
}
static inline uint32_t qkd_bob_bob_cmd_get_start(uint32_t reg)
{
    return (reg & QKD_BOB_BOB_CMD_START_MASK) >> QKD_BOB_BOB_CMD_START_SHIFT;
}
static inline uint32_t qkd_bob_bob_cmd_set_start(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_BOB_CMD_START_MASK) | ((value << QKD_BOB_BOB_CMD_START_SHIFT) & QKD_BOB_BOB_CMD_START_MASK);
}
static inline uint32_t qkd_bob_bob_cmd_get_stop(uint32_t reg)
{
    return (reg & QKD_BOB_BOB_CMD_STOP_MASK) >> QKD_BOB_BOB_CMD_STOP_SHIFT;
}
static inline uint32_t qkd_bob_bob_cmd_set_stop(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_BOB_CMD_STOP_MASK) | ((value << QKD_BOB_BOB_CMD_STOP_SHIFT) & QKD_BOB_BOB_CMD_STOP_MASK);
}
static inline uint32_t qkd_bob_bob_cmd_get_clear_counters(uint32_t reg)
{
    return (reg & QKD_BOB_BOB_CMD_CLEAR_COUNTERS_MASK) >> QKD_BOB_BOB_CMD_CLEAR_COUNTERS_SHIFT;
}
static inline uint32_t qkd_bob_bob_cmd_set_clear_counters(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_BOB_CMD_CLEAR_COUNTERS_MASK) | ((value << QKD_BOB_BOB_CMD_CLEAR_COUNTERS_SHIFT) & QKD_BOB_BOB_CMD_CLEAR_COUNTERS_MASK);
}
/* Live state [RO] */
#define QKD_BOB_BOB_STATE_ADDR 0x30Cu
#define QKD_BOB_BOB_STATE_OFFSET 0x0Cu
#define QKD_BOB_BOB_STATE_RESET 0x00000000u
#define QKD_BOB_BOB_STATE_RUNNING_SHIFT 0
#define QKD_BOB_BOB_STATE_RUNNING_WIDTH 1
#define QKD_BOB_BOB_STATE_RUNNING_MASK 0x00000001u
#define QKD_BOB_BOB_STATE_SYNCED_SHIFT 1
#define QKD_BOB_BOB_STATE_SYNCED_WIDTH 1
#define QKD_BOB_BOB_STATE_SYNCED_MASK 0x00000002u
#define QKD_BOB_BOB_STATE_ALARM_LIVE_SHIFT 8
#define QKD_BOB_BOB_STATE_ALARM_LIVE_WIDTH 7
#define QKD_BOB_BOB_STATE_ALARM_LIVE_MASK 0x00007F00u
static inline uint32_t qkd_bob_read_bob_state(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_BOB_STATE_ADDR);
}
static inline uint32_t qkd_bob_bob_state_get_running(uint32_t reg)
{
    return (reg & QKD_BOB_BOB_STATE_RUNNING_MASK) >> QKD_BOB_BOB_STATE_RUNNING_SHIFT;
}
static inline uint32_t qkd_bob_bob_state_set_running(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_BOB_STATE_RUNNING_MASK) | ((value << QKD_BOB_BOB_STATE_RUNNING_SHIFT) & QKD_BOB_BOB_STATE_RUNNING_MASK);
}
static inline uint32_t qkd_bob_bob_state_get_synced(uint32_t reg)
{
    return (reg & QKD_BOB_BOB_STATE_SYNCED_MASK) >> QKD_BOB_BOB_STATE_SYNCED_SHIFT;
}
static inline uint32_t qkd_bob_bob_state_set_synced(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_BOB_STATE_SYNCED_MASK) | ((value << QKD_BOB_BOB_STATE_SYNCED_SHIFT) & QKD_BOB_BOB_STATE_SYNCED_MASK);
}
static inline uint32_t qkd_bob_bob_state_get_alarm_live(uint32_t reg)
{
    return (reg & QKD_BOB_BOB_STATE_ALARM_LIVE_MASK) >> QKD_BOB_BOB_STATE_ALARM_LIVE_SHIFT;
}
static inline uint32_t qkd_bob_bob_state_set_alarm_live(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_BOB_STATE_ALARM_LIVE_MASK) | ((value << QKD_BOB_BOB_STATE_ALARM_LIVE_SHIFT) & QKD_BOB_BOB_STATE_ALARM_LIVE_MASK);
}
/* Sticky alarms; write 1 to clear. Detections made while any alarm is live carry the INVALID flag [W1C] */
#define QKD_BOB_BOB_ALARMS_ADDR 0x310u
#define QKD_BOB_BOB_ALARMS_OFFSET 0x10u
#define QKD_BOB_BOB_ALARMS_RESET 0x00000000u
#define QKD_BOB_BOB_ALARMS_AFTER_GATE_SHIFT 0
#define QKD_BOB_BOB_ALARMS_AFTER_GATE_WIDTH 1
#define QKD_BOB_BOB_ALARMS_AFTER_GATE_MASK 0x00000001u
#define QKD_BOB_BOB_ALARMS_PHOTOCURRENT_SHIFT 1
#define QKD_BOB_BOB_ALARMS_PHOTOCURRENT_WIDTH 1
#define QKD_BOB_BOB_ALARMS_PHOTOCURRENT_MASK 0x00000002u
#define QKD_BOB_BOB_ALARMS_CLICK_FRACTION_SHIFT 2
#define QKD_BOB_BOB_ALARMS_CLICK_FRACTION_WIDTH 1
#define QKD_BOB_BOB_ALARMS_CLICK_FRACTION_MASK 0x00000004u
#define QKD_BOB_BOB_ALARMS_NO_DARK_SHIFT 3
#define QKD_BOB_BOB_ALARMS_NO_DARK_WIDTH 1
#define QKD_BOB_BOB_ALARMS_NO_DARK_MASK 0x00000008u
#define QKD_BOB_BOB_ALARMS_RNG_RCT_SHIFT 4
#define QKD_BOB_BOB_ALARMS_RNG_RCT_WIDTH 1
#define QKD_BOB_BOB_ALARMS_RNG_RCT_MASK 0x00000010u
#define QKD_BOB_BOB_ALARMS_RNG_APT_SHIFT 5
#define QKD_BOB_BOB_ALARMS_RNG_APT_WIDTH 1
#define QKD_BOB_BOB_ALARMS_RNG_APT_MASK 0x00000020u
#define QKD_BOB_BOB_ALARMS_STREAM_OVERFLOW_SHIFT 6
#define QKD_BOB_BOB_ALARMS_STREAM_OVERFLOW_WIDTH 1
#define QKD_BOB_BOB_ALARMS_STREAM_OVERFLOW_MASK 0x00000040u
static inline uint32_t qkd_bob_read_bob_alarms(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_BOB_ALARMS_ADDR);
}
static inline void qkd_bob_write_bob_alarms(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_BOB_ALARMS_ADDR, value);
}
static inline uint32_t qkd_bob_bob_alarms_get_after_gate(uint32_t reg)
{
    return (reg & QKD_BOB_BOB_ALARMS_AFTER_GATE_MASK) >> QKD_BOB_BOB_ALARMS_AFTER_GATE_SHIFT;
}
static inline uint32_t qkd_bob_bob_alarms_set_after_gate(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_BOB_ALARMS_AFTER_GATE_MASK) | ((value << QKD_BOB_BOB_ALARMS_AFTER_GATE_SHIFT) & QKD_BOB_BOB_ALARMS_AFTER_GATE_MASK);
}
static inline uint32_t qkd_bob_bob_alarms_get_photocurrent(uint32_t reg)
{
    return (reg & QKD_BOB_BOB_ALARMS_PHOTOCURRENT_MASK) >> QKD_BOB_BOB_ALARMS_PHOTOCURRENT_SHIFT;
}
static inline uint32_t qkd_bob_bob_alarms_set_photocurrent(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_BOB_ALARMS_PHOTOCURRENT_MASK) | ((value << QKD_BOB_BOB_ALARMS_PHOTOCURRENT_SHIFT) & QKD_BOB_BOB_ALARMS_PHOTOCURRENT_MASK);
}
static inline uint32_t qkd_bob_bob_alarms_get_click_fraction(uint32_t reg)
{
    return (reg & QKD_BOB_BOB_ALARMS_CLICK_FRACTION_MASK) >> QKD_BOB_BOB_ALARMS_CLICK_FRACTION_SHIFT;
}
static inline uint32_t qkd_bob_bob_alarms_set_click_fraction(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_BOB_ALARMS_CLICK_FRACTION_MASK) | ((value << QKD_BOB_BOB_ALARMS_CLICK_FRACTION_SHIFT) & QKD_BOB_BOB_ALARMS_CLICK_FRACTION_MASK);
}
static inline uint32_t qkd_bob_bob_alarms_get_no_dark(uint32_t reg)
{
    return (reg & QKD_BOB_BOB_ALARMS_NO_DARK_MASK) >> QKD_BOB_BOB_ALARMS_NO_DARK_SHIFT;
}
static inline uint32_t qkd_bob_bob_alarms_set_no_dark(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_BOB_ALARMS_NO_DARK_MASK) | ((value << QKD_BOB_BOB_ALARMS_NO_DARK_SHIFT) & QKD_BOB_BOB_ALARMS_NO_DARK_MASK);
}
static inline uint32_t qkd_bob_bob_alarms_get_rng_rct(uint32_t reg)
{
    return (reg & QKD_BOB_BOB_ALARMS_RNG_RCT_MASK) >> QKD_BOB_BOB_ALARMS_RNG_RCT_SHIFT;
}
static inline uint32_t qkd_bob_bob_alarms_set_rng_rct(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_BOB_ALARMS_RNG_RCT_MASK) | ((value << QKD_BOB_BOB_ALARMS_RNG_RCT_SHIFT) & QKD_BOB_BOB_ALARMS_RNG_RCT_MASK);
}
static inline uint32_t qkd_bob_bob_alarms_get_rng_apt(uint32_t reg)
{
    return (reg & QKD_BOB_BOB_ALARMS_RNG_APT_MASK) >> QKD_BOB_BOB_ALARMS_RNG_APT_SHIFT;
}
static inline uint32_t qkd_bob_bob_alarms_set_rng_apt(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_BOB_ALARMS_RNG_APT_MASK) | ((value << QKD_BOB_BOB_ALARMS_RNG_APT_SHIFT) & QKD_BOB_BOB_ALARMS_RNG_APT_MASK);
}
static inline uint32_t qkd_bob_bob_alarms_get_stream_overflow(uint32_t reg)
{
    return (reg & QKD_BOB_BOB_ALARMS_STREAM_OVERFLOW_MASK) >> QKD_BOB_BOB_ALARMS_STREAM_OVERFLOW_SHIFT;
}
static inline uint32_t qkd_bob_bob_alarms_set_stream_overflow(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_BOB_ALARMS_STREAM_OVERFLOW_MASK) | ((value << QKD_BOB_BOB_ALARMS_STREAM_OVERFLOW_SHIFT) & QKD_BOB_BOB_ALARMS_STREAM_OVERFLOW_MASK);
}
/* 32-bit delay in slots from sync_in to Alice's slot 0 at Bob's detectors (fiber and cable delay) [RW] */
#define QKD_BOB_BOB_FIBER_DELAY_SLOTS_ADDR 0x314u
#define QKD_BOB_BOB_FIBER_DELAY_SLOTS_OFFSET 0x14u
#define QKD_BOB_BOB_FIBER_DELAY_SLOTS_RESET 0x00000000u
static inline uint32_t qkd_bob_read_bob_fiber_delay_slots(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_BOB_FIBER_DELAY_SLOTS_ADDR);
}
static inline void qkd_bob_write_bob_fiber_delay_slots(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_BOB_FIBER_DELAY_SLOTS_ADDR, value);
}

/* ---- block gate (index 4): APD gate window, common dead time and basis choice ---- */
#define QKD_BOB_BLK_GATE_INDEX 4
#define QKD_BOB_BLK_GATE_BASE 0x400u
#define QKD_BOB_BLK_GATE_TYPE 0x0202u
#define QKD_BOB_BLK_GATE_VERSION 1
/* Block identification: type, major version, next block index [RO] */
#define QKD_BOB_GATE_ID_ADDR 0x400u
#define QKD_BOB_GATE_ID_OFFSET 0x00u
#define QKD_BOB_GATE_ID_RESET 0x05010202u
#define QKD_BOB_GATE_ID_TYPE_SHIFT 0
#define QKD_BOB_GATE_ID_TYPE_WIDTH 16
#define QKD_BOB_GATE_ID_TYPE_MASK 0x0000FFFFu
#define QKD_BOB_GATE_ID_MAJOR_SHIFT 16
#define QKD_BOB_GATE_ID_MAJOR_WIDTH 8
#define QKD_BOB_GATE_ID_MAJOR_MASK 0x00FF0000u
#define QKD_BOB_GATE_ID_NEXT_SHIFT 24
#define QKD_BOB_GATE_ID_NEXT_WIDTH 8
#define QKD_BOB_GATE_ID_NEXT_MASK 0xFF000000u
static inline uint32_t qkd_bob_read_gate_id(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_GATE_ID_ADDR);
}
static inline uint32_t qkd_bob_gate_id_get_type(uint32_t reg)
{
    return (reg & QKD_BOB_GATE_ID_TYPE_MASK) >> QKD_BOB_GATE_ID_TYPE_SHIFT;
}
static inline uint32_t qkd_bob_gate_id_set_type(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_GATE_ID_TYPE_MASK) | ((value << QKD_BOB_GATE_ID_TYPE_SHIFT) & QKD_BOB_GATE_ID_TYPE_MASK);
}
static inline uint32_t qkd_bob_gate_id_get_major(uint32_t reg)
{
    return (reg & QKD_BOB_GATE_ID_MAJOR_MASK) >> QKD_BOB_GATE_ID_MAJOR_SHIFT;
}
static inline uint32_t qkd_bob_gate_id_set_major(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_GATE_ID_MAJOR_MASK) | ((value << QKD_BOB_GATE_ID_MAJOR_SHIFT) & QKD_BOB_GATE_ID_MAJOR_MASK);
}
static inline uint32_t qkd_bob_gate_id_get_next(uint32_t reg)
{
    return (reg & QKD_BOB_GATE_ID_NEXT_MASK) >> QKD_BOB_GATE_ID_NEXT_SHIFT;
}
static inline uint32_t qkd_bob_gate_id_set_next(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_GATE_ID_NEXT_MASK) | ((value << QKD_BOB_GATE_ID_NEXT_SHIFT) & QKD_BOB_GATE_ID_NEXT_MASK);
}
/* Gate window: a click whose first rising edge is outside [START_BIN, END_BIN] is an after-gate click [RW] */
#define QKD_BOB_GATE_WINDOW_ADDR 0x404u
#define QKD_BOB_GATE_WINDOW_OFFSET 0x04u
#define QKD_BOB_GATE_WINDOW_RESET 0x00000501u
#define QKD_BOB_GATE_WINDOW_START_BIN_SHIFT 0
#define QKD_BOB_GATE_WINDOW_START_BIN_WIDTH 8
#define QKD_BOB_GATE_WINDOW_START_BIN_MASK 0x000000FFu
#define QKD_BOB_GATE_WINDOW_END_BIN_SHIFT 8
#define QKD_BOB_GATE_WINDOW_END_BIN_WIDTH 8
#define QKD_BOB_GATE_WINDOW_END_BIN_MASK 0x0000FF00u
static inline uint32_t qkd_bob_read_gate_window(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_GATE_WINDOW_ADDR);
}
static inline void qkd_bob_write_gate_window(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_GATE_WINDOW_ADDR, value);
}
static inline uint32_t qkd_bob_gate_window_get_start_bin(uint32_t reg)
{
    return (reg & QKD_BOB_GATE_WINDOW_START_BIN_MASK) >> QKD_BOB_GATE_WINDOW_START_BIN_SHIFT;
}
static inline uint32_t qkd_bob_gate_window_set_start_bin(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_GATE_WINDOW_START_BIN_MASK) | ((value << QKD_BOB_GATE_WINDOW_START_BIN_SHIFT) & QKD_BOB_GATE_WINDOW_START_BIN_MASK);
}
static inline uint32_t qkd_bob_gate_window_get_end_bin(uint32_t reg)
{
    return (reg & QKD_BOB_GATE_WINDOW_END_BIN_MASK) >> QKD_BOB_GATE_WINDOW_END_BIN_SHIFT;
}
static inline uint32_t qkd_bob_gate_window_set_end_bin(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_GATE_WINDOW_END_BIN_MASK) | ((value << QKD_BOB_GATE_WINDOW_END_BIN_SHIFT) & QKD_BOB_GATE_WINDOW_END_BIN_MASK);
}
/* Common dead time [RW] */
#define QKD_BOB_GATE_DEAD_TIME_SLOTS_ADDR 0x408u
#define QKD_BOB_GATE_DEAD_TIME_SLOTS_OFFSET 0x08u
#define QKD_BOB_GATE_DEAD_TIME_SLOTS_RESET 0x00000139u
#define QKD_BOB_GATE_DEAD_TIME_SLOTS_SLOTS_SHIFT 0
#define QKD_BOB_GATE_DEAD_TIME_SLOTS_SLOTS_WIDTH 16
#define QKD_BOB_GATE_DEAD_TIME_SLOTS_SLOTS_MASK 0x0000FFFFu
static inline uint32_t qkd_bob_read_gate_dead_time_slots(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_GATE_DEAD_TIME_SLOTS_ADDR);
}
static inline void qkd_bob_write_gate_dead_time_slots(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_GATE_DEAD_TIME_SLOTS_ADDR, value);
}
static inline uint32_t qkd_bob_gate_dead_time_slots_get_slots(uint32_t reg)
{
    return (reg & QKD_BOB_GATE_DEAD_TIME_SLOTS_SLOTS_MASK) >> QKD_BOB_GATE_DEAD_TIME_SLOTS_SLOTS_SHIFT;
}
static inline uint32_t qkd_bob_gate_dead_time_slots_set_slots(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_GATE_DEAD_TIME_SLOTS_SLOTS_MASK) | ((value << QKD_BOB_GATE_DEAD_TIME_SLOTS_SLOTS_SHIFT) & QKD_BOB_GATE_DEAD_TIME_SLOTS_SLOTS_MASK);
}
/* Bob's basis choice probability [RW] */
#define QKD_BOB_GATE_BASIS_THRESH_Z_ADDR 0x40Cu
#define QKD_BOB_GATE_BASIS_THRESH_Z_OFFSET 0x0Cu
#define QKD_BOB_GATE_BASIS_THRESH_Z_RESET 0x0000DC29u
#define QKD_BOB_GATE_BASIS_THRESH_Z_THRESH_SHIFT 0
#define QKD_BOB_GATE_BASIS_THRESH_Z_THRESH_WIDTH 16
#define QKD_BOB_GATE_BASIS_THRESH_Z_THRESH_MASK 0x0000FFFFu
static inline uint32_t qkd_bob_read_gate_basis_thresh_z(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_GATE_BASIS_THRESH_Z_ADDR);
}
static inline void qkd_bob_write_gate_basis_thresh_z(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_GATE_BASIS_THRESH_Z_ADDR, value);
}
static inline uint32_t qkd_bob_gate_basis_thresh_z_get_thresh(uint32_t reg)
{
    return (reg & QKD_BOB_GATE_BASIS_THRESH_Z_THRESH_MASK) >> QKD_BOB_GATE_BASIS_THRESH_Z_THRESH_SHIFT;
}
static inline uint32_t qkd_bob_gate_basis_thresh_z_set_thresh(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_GATE_BASIS_THRESH_Z_THRESH_MASK) | ((value << QKD_BOB_GATE_BASIS_THRESH_Z_THRESH_SHIFT) & QKD_BOB_GATE_BASIS_THRESH_Z_THRESH_MASK);
}

/* ---- block protect (index 5): After-gate and blinding protections (photocurrent and click statistics) ---- */
#define QKD_BOB_BLK_PROTECT_INDEX 5
#define QKD_BOB_BLK_PROTECT_BASE 0x500u
#define QKD_BOB_BLK_PROTECT_TYPE 0x0203u
#define QKD_BOB_BLK_PROTECT_VERSION 1
/* Block identification: type, major version, next block index [RO] */
#define QKD_BOB_PROTECT_ID_ADDR 0x500u
#define QKD_BOB_PROTECT_ID_OFFSET 0x00u
#define QKD_BOB_PROTECT_ID_RESET 0x06010203u
#define QKD_BOB_PROTECT_ID_TYPE_SHIFT 0
#define QKD_BOB_PROTECT_ID_TYPE_WIDTH 16
#define QKD_BOB_PROTECT_ID_TYPE_MASK 0x0000FFFFu
#define QKD_BOB_PROTECT_ID_MAJOR_SHIFT 16
#define QKD_BOB_PROTECT_ID_MAJOR_WIDTH 8
#define QKD_BOB_PROTECT_ID_MAJOR_MASK 0x00FF0000u
#define QKD_BOB_PROTECT_ID_NEXT_SHIFT 24
#define QKD_BOB_PROTECT_ID_NEXT_WIDTH 8
#define QKD_BOB_PROTECT_ID_NEXT_MASK 0xFF000000u
static inline uint32_t qkd_bob_read_protect_id(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_PROTECT_ID_ADDR);
}
static inline uint32_t qkd_bob_protect_id_get_type(uint32_t reg)
{
    return (reg & QKD_BOB_PROTECT_ID_TYPE_MASK) >> QKD_BOB_PROTECT_ID_TYPE_SHIFT;
}
static inline uint32_t qkd_bob_protect_id_set_type(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_PROTECT_ID_TYPE_MASK) | ((value << QKD_BOB_PROTECT_ID_TYPE_SHIFT) & QKD_BOB_PROTECT_ID_TYPE_MASK);
}
static inline uint32_t qkd_bob_protect_id_get_major(uint32_t reg)
{
    return (reg & QKD_BOB_PROTECT_ID_MAJOR_MASK) >> QKD_BOB_PROTECT_ID_MAJOR_SHIFT;
}
static inline uint32_t qkd_bob_protect_id_set_major(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_PROTECT_ID_MAJOR_MASK) | ((value << QKD_BOB_PROTECT_ID_MAJOR_SHIFT) & QKD_BOB_PROTECT_ID_MAJOR_MASK);
}
static inline uint32_t qkd_bob_protect_id_get_next(uint32_t reg)
{
    return (reg & QKD_BOB_PROTECT_ID_NEXT_MASK) >> QKD_BOB_PROTECT_ID_NEXT_SHIFT;
}
static inline uint32_t qkd_bob_protect_id_set_next(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_PROTECT_ID_NEXT_MASK) | ((value << QKD_BOB_PROTECT_ID_NEXT_SHIFT) & QKD_BOB_PROTECT_ID_NEXT_MASK);
}
/* After-gate alarm: more than COUNT after-gate clicks within AFTERGATE_WINDOW_SLOTS raise it [RW] */
#define QKD_BOB_AFTERGATE_LIMIT_ADDR 0x504u
#define QKD_BOB_AFTERGATE_LIMIT_OFFSET 0x04u
#define QKD_BOB_AFTERGATE_LIMIT_RESET 0x00000010u
#define QKD_BOB_AFTERGATE_LIMIT_COUNT_SHIFT 0
#define QKD_BOB_AFTERGATE_LIMIT_COUNT_WIDTH 16
#define QKD_BOB_AFTERGATE_LIMIT_COUNT_MASK 0x0000FFFFu
static inline uint32_t qkd_bob_read_aftergate_limit(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_AFTERGATE_LIMIT_ADDR);
}
static inline void qkd_bob_write_aftergate_limit(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_AFTERGATE_LIMIT_ADDR, value);
}
static inline uint32_t qkd_bob_aftergate_limit_get_count(uint32_t reg)
{
    return (reg & QKD_BOB_AFTERGATE_LIMIT_COUNT_MASK) >> QKD_BOB_AFTERGATE_LIMIT_COUNT_SHIFT;
}
static inline uint32_t qkd_bob_aftergate_limit_set_count(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_AFTERGATE_LIMIT_COUNT_MASK) | ((value << QKD_BOB_AFTERGATE_LIMIT_COUNT_SHIFT) & QKD_BOB_AFTERGATE_LIMIT_COUNT_MASK);
}
/* 32-bit after-gate counting window in slots [RW] */
#define QKD_BOB_AFTERGATE_WINDOW_SLOTS_ADDR 0x508u
#define QKD_BOB_AFTERGATE_WINDOW_SLOTS_OFFSET 0x08u
#define QKD_BOB_AFTERGATE_WINDOW_SLOTS_RESET 0x00100000u
static inline uint32_t qkd_bob_read_aftergate_window_slots(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_AFTERGATE_WINDOW_SLOTS_ADDR);
}
static inline void qkd_bob_write_aftergate_window_slots(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_AFTERGATE_WINDOW_SLOTS_ADDR, value);
}
/* Photocurrent (blinding) threshold, compared per sample (not averaged: pulsed blinding evades averages) [RW] */
#define QKD_BOB_PHOTOCURRENT_THRESHOLD_ADDR 0x50Cu
#define QKD_BOB_PHOTOCURRENT_THRESHOLD_OFFSET 0x0Cu
#define QKD_BOB_PHOTOCURRENT_THRESHOLD_RESET 0x00000400u
#define QKD_BOB_PHOTOCURRENT_THRESHOLD_ADC_SHIFT 0
#define QKD_BOB_PHOTOCURRENT_THRESHOLD_ADC_WIDTH 12
#define QKD_BOB_PHOTOCURRENT_THRESHOLD_ADC_MASK 0x00000FFFu
static inline uint32_t qkd_bob_read_photocurrent_threshold(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_PHOTOCURRENT_THRESHOLD_ADDR);
}
static inline void qkd_bob_write_photocurrent_threshold(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_PHOTOCURRENT_THRESHOLD_ADDR, value);
}
static inline uint32_t qkd_bob_photocurrent_threshold_get_adc(uint32_t reg)
{
    return (reg & QKD_BOB_PHOTOCURRENT_THRESHOLD_ADC_MASK) >> QKD_BOB_PHOTOCURRENT_THRESHOLD_ADC_SHIFT;
}
static inline uint32_t qkd_bob_photocurrent_threshold_set_adc(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_PHOTOCURRENT_THRESHOLD_ADC_MASK) | ((value << QKD_BOB_PHOTOCURRENT_THRESHOLD_ADC_SHIFT) & QKD_BOB_PHOTOCURRENT_THRESHOLD_ADC_MASK);
}
/* 32-bit N: gates per click-fraction window [RW] */
#define QKD_BOB_CLICK_FRACTION_WINDOW_GATES_ADDR 0x510u
#define QKD_BOB_CLICK_FRACTION_WINDOW_GATES_OFFSET 0x10u
#define QKD_BOB_CLICK_FRACTION_WINDOW_GATES_RESET 0x00001000u
static inline uint32_t qkd_bob_read_click_fraction_window_gates(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_CLICK_FRACTION_WINDOW_GATES_ADDR);
}
static inline void qkd_bob_write_click_fraction_window_gates(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_CLICK_FRACTION_WINDOW_GATES_ADDR, value);
}
/* 32-bit clicks tolerated per N-gate window (all detectors); more raise CLICK_FRACTION [RW] */
#define QKD_BOB_CLICK_FRACTION_LIMIT_ADDR 0x514u
#define QKD_BOB_CLICK_FRACTION_LIMIT_OFFSET 0x14u
#define QKD_BOB_CLICK_FRACTION_LIMIT_RESET 0x00000200u
static inline uint32_t qkd_bob_read_click_fraction_limit(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_CLICK_FRACTION_LIMIT_ADDR);
}
static inline void qkd_bob_write_click_fraction_limit(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_CLICK_FRACTION_LIMIT_ADDR, value);
}
/* 32-bit M: gates without any click (not even a dark count) that raise NO_DARK [RW] */
#define QKD_BOB_NO_DARK_GATES_ADDR 0x518u
#define QKD_BOB_NO_DARK_GATES_OFFSET 0x18u
#define QKD_BOB_NO_DARK_GATES_RESET 0x04000000u
static inline uint32_t qkd_bob_read_no_dark_gates(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_NO_DARK_GATES_ADDR);
}
static inline void qkd_bob_write_no_dark_gates(volatile void *base, uint32_t value)
{
    qkd_bob_reg_write(base, QKD_BOB_NO_DARK_GATES_ADDR, value);
}
/* 12-bit last photocurrent ADC sample, detector 0 [RO] */
#define QKD_BOB_PHOTOCURRENT_LAST_D0_ADDR 0x520u
#define QKD_BOB_PHOTOCURRENT_LAST_D0_OFFSET 0x20u
#define QKD_BOB_PHOTOCURRENT_LAST_D0_RESET 0x00000000u
static inline uint32_t qkd_bob_read_photocurrent_last_d0(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_PHOTOCURRENT_LAST_D0_ADDR);
}
/* 12-bit last photocurrent ADC sample, detector 1 [RO] */
#define QKD_BOB_PHOTOCURRENT_LAST_D1_ADDR 0x524u
#define QKD_BOB_PHOTOCURRENT_LAST_D1_OFFSET 0x24u
#define QKD_BOB_PHOTOCURRENT_LAST_D1_RESET 0x00000000u
static inline uint32_t qkd_bob_read_photocurrent_last_d1(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_PHOTOCURRENT_LAST_D1_ADDR);
}

/* ---- block counters (index 6): Click accounting: raw = accepted + after-gate + dead-time-suppressed + invalid ---- */
#define QKD_BOB_BLK_COUNTERS_INDEX 6
#define QKD_BOB_BLK_COUNTERS_BASE 0x600u
#define QKD_BOB_BLK_COUNTERS_TYPE 0x0204u
#define QKD_BOB_BLK_COUNTERS_VERSION 1
/* Block identification: type, major version, next block index [RO] */
#define QKD_BOB_COUNTERS_ID_ADDR 0x600u
#define QKD_BOB_COUNTERS_ID_OFFSET 0x00u
#define QKD_BOB_COUNTERS_ID_RESET 0x00010204u
#define QKD_BOB_COUNTERS_ID_TYPE_SHIFT 0
#define QKD_BOB_COUNTERS_ID_TYPE_WIDTH 16
#define QKD_BOB_COUNTERS_ID_TYPE_MASK 0x0000FFFFu
#define QKD_BOB_COUNTERS_ID_MAJOR_SHIFT 16
#define QKD_BOB_COUNTERS_ID_MAJOR_WIDTH 8
#define QKD_BOB_COUNTERS_ID_MAJOR_MASK 0x00FF0000u
#define QKD_BOB_COUNTERS_ID_NEXT_SHIFT 24
#define QKD_BOB_COUNTERS_ID_NEXT_WIDTH 8
#define QKD_BOB_COUNTERS_ID_NEXT_MASK 0xFF000000u
static inline uint32_t qkd_bob_read_counters_id(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_COUNTERS_ID_ADDR);
}
static inline uint32_t qkd_bob_counters_id_get_type(uint32_t reg)
{
    return (reg & QKD_BOB_COUNTERS_ID_TYPE_MASK) >> QKD_BOB_COUNTERS_ID_TYPE_SHIFT;
}
static inline uint32_t qkd_bob_counters_id_set_type(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_COUNTERS_ID_TYPE_MASK) | ((value << QKD_BOB_COUNTERS_ID_TYPE_SHIFT) & QKD_BOB_COUNTERS_ID_TYPE_MASK);
}
static inline uint32_t qkd_bob_counters_id_get_major(uint32_t reg)
{
    return (reg & QKD_BOB_COUNTERS_ID_MAJOR_MASK) >> QKD_BOB_COUNTERS_ID_MAJOR_SHIFT;
}
static inline uint32_t qkd_bob_counters_id_set_major(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_COUNTERS_ID_MAJOR_MASK) | ((value << QKD_BOB_COUNTERS_ID_MAJOR_SHIFT) & QKD_BOB_COUNTERS_ID_MAJOR_MASK);
}
static inline uint32_t qkd_bob_counters_id_get_next(uint32_t reg)
{
    return (reg & QKD_BOB_COUNTERS_ID_NEXT_MASK) >> QKD_BOB_COUNTERS_ID_NEXT_SHIFT;
}
static inline uint32_t qkd_bob_counters_id_set_next(uint32_t reg, uint32_t value)
{
    return (reg & ~QKD_BOB_COUNTERS_ID_NEXT_MASK) | ((value << QKD_BOB_COUNTERS_ID_NEXT_SHIFT) & QKD_BOB_COUNTERS_ID_NEXT_MASK);
}
/* Low 32 bits of the 64-bit gate (slot) count since START; read latches _HI [RO] */
#define QKD_BOB_GATES_LO_ADDR 0x604u
#define QKD_BOB_GATES_LO_OFFSET 0x04u
#define QKD_BOB_GATES_LO_RESET 0x00000000u
static inline uint32_t qkd_bob_read_gates_lo(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_GATES_LO_ADDR);
}
/* High 32 bits of the 64-bit gate count [RO] */
#define QKD_BOB_GATES_HI_ADDR 0x608u
#define QKD_BOB_GATES_HI_OFFSET 0x08u
#define QKD_BOB_GATES_HI_RESET 0x00000000u
static inline uint32_t qkd_bob_read_gates_hi(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_GATES_HI_ADDR);
}
/* 32-bit wrapping count of accepted clicks (DETECTION records) [RO] */
#define QKD_BOB_ACCEPTED_ADDR 0x60Cu
#define QKD_BOB_ACCEPTED_OFFSET 0x0Cu
#define QKD_BOB_ACCEPTED_RESET 0x00000000u
static inline uint32_t qkd_bob_read_accepted(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_ACCEPTED_ADDR);
}
/* 32-bit wrapping count of clicks outside the gate window [RO] */
#define QKD_BOB_AFTER_GATE_ADDR 0x610u
#define QKD_BOB_AFTER_GATE_OFFSET 0x10u
#define QKD_BOB_AFTER_GATE_RESET 0x00000000u
static inline uint32_t qkd_bob_read_after_gate(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_AFTER_GATE_ADDR);
}
/* 32-bit wrapping count of clicks discarded in the common dead time [RO] */
#define QKD_BOB_DEAD_TIME_SUPPRESSED_ADDR 0x614u
#define QKD_BOB_DEAD_TIME_SUPPRESSED_OFFSET 0x14u
#define QKD_BOB_DEAD_TIME_SUPPRESSED_RESET 0x00000000u
static inline uint32_t qkd_bob_read_dead_time_suppressed(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_DEAD_TIME_SUPPRESSED_ADDR);
}
/* 32-bit wrapping count of clicks made while an alarm was live (flagged INVALID) [RO] */
#define QKD_BOB_INVALID_ADDR 0x618u
#define QKD_BOB_INVALID_OFFSET 0x18u
#define QKD_BOB_INVALID_RESET 0x00000000u
static inline uint32_t qkd_bob_read_invalid(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_INVALID_ADDR);
}
/* 32-bit wrapping count of raw clicks (first rising edges), detector 0 [RO] */
#define QKD_BOB_CLICKS_D0_ADDR 0x620u
#define QKD_BOB_CLICKS_D0_OFFSET 0x20u
#define QKD_BOB_CLICKS_D0_RESET 0x00000000u
static inline uint32_t qkd_bob_read_clicks_d0(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_CLICKS_D0_ADDR);
}
/* 32-bit wrapping count of raw clicks, detector 1 [RO] */
#define QKD_BOB_CLICKS_D1_ADDR 0x624u
#define QKD_BOB_CLICKS_D1_OFFSET 0x24u
#define QKD_BOB_CLICKS_D1_RESET 0x00000000u
static inline uint32_t qkd_bob_read_clicks_d1(volatile void *base)
{
    return qkd_bob_reg_read(base, QKD_BOB_CLICKS_D1_ADDR);
}

#endif /* QKD_BOB_REGS_H */
