/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Generated from qkd-abi; do not edit. Register map of the QKD bob core. */
#ifndef QKD_BOB_REGS_H
#define QKD_BOB_REGS_H

#define QKD_MAGIC 0x514B4431u
#define QKD_ABI_VERSION 0x00010000u
#define QKD_BOB_LANES 4
#define QKD_BOB_OVERSAMPLE 8
#define QKD_BOB_DETECTORS 2
#define QKD_BOB_CSR_SPAN 0x800u

/* ---- block header (index 0): Self-describing header: magic, ABI version, role, LANES, OVERSAMPLE, build id ---- */
/* 32-bit constant 0x514B4431 (ASCII "QKD1") [RO] */
#define QKD_BOB_MAGIC_ADDR 0x000u
#define QKD_BOB_MAGIC_RESET 0x514B4431u
/* ABI version of the register map and record formats [RO] */
#define QKD_BOB_ABI_VERSION_ADDR 0x004u
#define QKD_BOB_ABI_VERSION_RESET 0x00010000u
#define QKD_BOB_ABI_VERSION_MINOR_SHIFT 0
#define QKD_BOB_ABI_VERSION_MINOR_WIDTH 16
#define QKD_BOB_ABI_VERSION_MINOR_MASK 0x0000FFFFu
#define QKD_BOB_ABI_VERSION_MAJOR_SHIFT 16
#define QKD_BOB_ABI_VERSION_MAJOR_WIDTH 16
#define QKD_BOB_ABI_VERSION_MAJOR_MASK 0xFFFF0000u
/* Role and generation parameters of this core [RO] */
#define QKD_BOB_IDENT_ADDR 0x008u
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
/* 32-bit build identifier: hash of the generation parameters and ABI version [RO] */
#define QKD_BOB_BUILD_ID_ADDR 0x00Cu
#define QKD_BOB_BUILD_ID_RESET 0x7FE89E93u
/* 32-bit nominal fabric clock in kHz (symbol rate = LANES x clock) [RO] */
#define QKD_BOB_FABRIC_CLOCK_KHZ_ADDR 0x010u
#define QKD_BOB_FABRIC_CLOCK_KHZ_RESET 0x0001312Du
/* 32-bit scratch register for bus tests; no effect [RW] */
#define QKD_BOB_SCRATCH_ADDR 0x014u
#define QKD_BOB_SCRATCH_RESET 0x00000000u

/* ---- block rng (index 1): Entropy source selection, test-PRNG seed and QRNG health tests (NIST SP 800-90B 4.4) ---- */
/* Block identification: type, major version, next block index [RO] */
#define QKD_BOB_RNG_ID_ADDR 0x100u
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
/* Random source selection; takes effect at the next START [RW] */
#define QKD_BOB_RNG_CTRL_ADDR 0x104u
#define QKD_BOB_RNG_CTRL_RESET 0x00000000u
#define QKD_BOB_RNG_CTRL_SOURCE_SHIFT 0
#define QKD_BOB_RNG_CTRL_SOURCE_WIDTH 1
#define QKD_BOB_RNG_CTRL_SOURCE_MASK 0x00000001u
/* Low 32 bits of the 64-bit test-PRNG seed, loaded at START [RW] */
#define QKD_BOB_RNG_SEED_LO_ADDR 0x108u
#define QKD_BOB_RNG_SEED_LO_RESET 0x00000000u
/* High 32 bits of the 64-bit test-PRNG seed, loaded at START [RW] */
#define QKD_BOB_RNG_SEED_HI_ADDR 0x10Cu
#define QKD_BOB_RNG_SEED_HI_RESET 0x00000000u
/* Repetition count test cutoff, in samples [RW] */
#define QKD_BOB_RNG_RCT_CUTOFF_ADDR 0x110u
#define QKD_BOB_RNG_RCT_CUTOFF_RESET 0x00000006u
#define QKD_BOB_RNG_RCT_CUTOFF_CUTOFF_SHIFT 0
#define QKD_BOB_RNG_RCT_CUTOFF_CUTOFF_WIDTH 16
#define QKD_BOB_RNG_RCT_CUTOFF_CUTOFF_MASK 0x0000FFFFu
/* Adaptive proportion test window, in samples [RW] */
#define QKD_BOB_RNG_APT_WINDOW_ADDR 0x114u
#define QKD_BOB_RNG_APT_WINDOW_RESET 0x00000200u
#define QKD_BOB_RNG_APT_WINDOW_WINDOW_SHIFT 0
#define QKD_BOB_RNG_APT_WINDOW_WINDOW_WIDTH 16
#define QKD_BOB_RNG_APT_WINDOW_WINDOW_MASK 0x0000FFFFu
/* Adaptive proportion test cutoff, in samples [RW] */
#define QKD_BOB_RNG_APT_CUTOFF_ADDR 0x118u
#define QKD_BOB_RNG_APT_CUTOFF_RESET 0x0000000Du
#define QKD_BOB_RNG_APT_CUTOFF_CUTOFF_SHIFT 0
#define QKD_BOB_RNG_APT_CUTOFF_CUTOFF_WIDTH 16
#define QKD_BOB_RNG_APT_CUTOFF_CUTOFF_MASK 0x0000FFFFu
/* 32-bit wrapping count of QRNG words consumed [RO] */
#define QKD_BOB_RNG_QRNG_WORDS_ADDR 0x11Cu
#define QKD_BOB_RNG_QRNG_WORDS_RESET 0x00000000u

/* ---- block stream (index 2): Record stream towards the DMA engine: STATUS interval, record and loss counters ---- */
/* Block identification: type, major version, next block index [RO] */
#define QKD_BOB_STREAM_ID_ADDR 0x200u
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
/* Record stream control [RW] */
#define QKD_BOB_STREAM_CTRL_ADDR 0x204u
#define QKD_BOB_STREAM_CTRL_RESET 0x00000014u
#define QKD_BOB_STREAM_CTRL_STATUS_INTERVAL_LOG2_SHIFT 0
#define QKD_BOB_STREAM_CTRL_STATUS_INTERVAL_LOG2_WIDTH 6
#define QKD_BOB_STREAM_CTRL_STATUS_INTERVAL_LOG2_MASK 0x0000003Fu
/* Low 32 bits of the 64-bit count of records emitted (read latches _HI) [RO] */
#define QKD_BOB_STREAM_RECORDS_LO_ADDR 0x208u
#define QKD_BOB_STREAM_RECORDS_LO_RESET 0x00000000u
/* High 32 bits of the 64-bit count of records emitted [RO] */
#define QKD_BOB_STREAM_RECORDS_HI_ADDR 0x20Cu
#define QKD_BOB_STREAM_RECORDS_HI_RESET 0x00000000u
/* Low 32 bits of the 64-bit count of slots whose records were lost to back-pressure (read latches _HI) [RO] */
#define QKD_BOB_STREAM_LOST_SLOTS_LO_ADDR 0x210u
#define QKD_BOB_STREAM_LOST_SLOTS_LO_RESET 0x00000000u
/* High 32 bits of the 64-bit lost-slot count [RO] */
#define QKD_BOB_STREAM_LOST_SLOTS_HI_ADDR 0x214u
#define QKD_BOB_STREAM_LOST_SLOTS_HI_RESET 0x00000000u
/* 32-bit wrapping count of GAP records emitted [RO] */
#define QKD_BOB_STREAM_GAPS_ADDR 0x218u
#define QKD_BOB_STREAM_GAPS_RESET 0x00000000u
/* 32-bit highest FIFO fill seen since CLEAR_COUNTERS, in 64-bit words [RO] */
#define QKD_BOB_STREAM_FIFO_HIGH_WATER_ADDR 0x21Cu
#define QKD_BOB_STREAM_FIFO_HIGH_WATER_RESET 0x00000000u

/* ---- block bob_control (index 3): Receiver control, alarms and slot alignment ---- */
/* Block identification: type, major version, next block index [RO] */
#define QKD_BOB_BOB_CTRL_ID_ADDR 0x300u
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
/* Receiver control [RW] */
#define QKD_BOB_BOB_CTRL_ADDR 0x304u
#define QKD_BOB_BOB_CTRL_RESET 0x0000000Fu
#define QKD_BOB_BOB_CTRL_DETECTOR_ENABLE_SHIFT 0
#define QKD_BOB_BOB_CTRL_DETECTOR_ENABLE_WIDTH 4
#define QKD_BOB_BOB_CTRL_DETECTOR_ENABLE_MASK 0x0000000Fu
/* Commands [STROBE] */
#define QKD_BOB_BOB_CMD_ADDR 0x308u
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
/* Live state [RO] */
#define QKD_BOB_BOB_STATE_ADDR 0x30Cu
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
/* Sticky alarms; write 1 to clear. Detections made while any alarm is live carry the INVALID flag [W1C] */
#define QKD_BOB_BOB_ALARMS_ADDR 0x310u
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
/* 32-bit delay in slots from sync_in to Alice's slot 0 at Bob's detectors (fiber and cable delay) [RW] */
#define QKD_BOB_BOB_FIBER_DELAY_SLOTS_ADDR 0x314u
#define QKD_BOB_BOB_FIBER_DELAY_SLOTS_RESET 0x00000000u

/* ---- block gate (index 4): APD gate window, common dead time and basis choice ---- */
/* Block identification: type, major version, next block index [RO] */
#define QKD_BOB_GATE_ID_ADDR 0x400u
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
/* Gate window: a click whose first rising edge is outside [START_BIN, END_BIN] is an after-gate click [RW] */
#define QKD_BOB_GATE_WINDOW_ADDR 0x404u
#define QKD_BOB_GATE_WINDOW_RESET 0x00000501u
#define QKD_BOB_GATE_WINDOW_START_BIN_SHIFT 0
#define QKD_BOB_GATE_WINDOW_START_BIN_WIDTH 8
#define QKD_BOB_GATE_WINDOW_START_BIN_MASK 0x000000FFu
#define QKD_BOB_GATE_WINDOW_END_BIN_SHIFT 8
#define QKD_BOB_GATE_WINDOW_END_BIN_WIDTH 8
#define QKD_BOB_GATE_WINDOW_END_BIN_MASK 0x0000FF00u
/* Common dead time [RW] */
#define QKD_BOB_GATE_DEAD_TIME_SLOTS_ADDR 0x408u
#define QKD_BOB_GATE_DEAD_TIME_SLOTS_RESET 0x00000139u
#define QKD_BOB_GATE_DEAD_TIME_SLOTS_SLOTS_SHIFT 0
#define QKD_BOB_GATE_DEAD_TIME_SLOTS_SLOTS_WIDTH 16
#define QKD_BOB_GATE_DEAD_TIME_SLOTS_SLOTS_MASK 0x0000FFFFu
/* Bob's basis choice probability [RW] */
#define QKD_BOB_GATE_BASIS_THRESH_Z_ADDR 0x40Cu
#define QKD_BOB_GATE_BASIS_THRESH_Z_RESET 0x0000DC29u
#define QKD_BOB_GATE_BASIS_THRESH_Z_THRESH_SHIFT 0
#define QKD_BOB_GATE_BASIS_THRESH_Z_THRESH_WIDTH 16
#define QKD_BOB_GATE_BASIS_THRESH_Z_THRESH_MASK 0x0000FFFFu

/* ---- block protect (index 5): After-gate and blinding protections (photocurrent and click statistics) ---- */
/* Block identification: type, major version, next block index [RO] */
#define QKD_BOB_PROTECT_ID_ADDR 0x500u
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
/* After-gate alarm: more than COUNT after-gate clicks within AFTERGATE_WINDOW_SLOTS raise it [RW] */
#define QKD_BOB_AFTERGATE_LIMIT_ADDR 0x504u
#define QKD_BOB_AFTERGATE_LIMIT_RESET 0x00000010u
#define QKD_BOB_AFTERGATE_LIMIT_COUNT_SHIFT 0
#define QKD_BOB_AFTERGATE_LIMIT_COUNT_WIDTH 16
#define QKD_BOB_AFTERGATE_LIMIT_COUNT_MASK 0x0000FFFFu
/* 32-bit after-gate counting window in slots [RW] */
#define QKD_BOB_AFTERGATE_WINDOW_SLOTS_ADDR 0x508u
#define QKD_BOB_AFTERGATE_WINDOW_SLOTS_RESET 0x00100000u
/* Photocurrent (blinding) threshold, compared per sample (not averaged: pulsed blinding evades averages) [RW] */
#define QKD_BOB_PHOTOCURRENT_THRESHOLD_ADDR 0x50Cu
#define QKD_BOB_PHOTOCURRENT_THRESHOLD_RESET 0x00000400u
#define QKD_BOB_PHOTOCURRENT_THRESHOLD_ADC_SHIFT 0
#define QKD_BOB_PHOTOCURRENT_THRESHOLD_ADC_WIDTH 12
#define QKD_BOB_PHOTOCURRENT_THRESHOLD_ADC_MASK 0x00000FFFu
/* 32-bit N: gates per click-fraction window [RW] */
#define QKD_BOB_CLICK_FRACTION_WINDOW_GATES_ADDR 0x510u
#define QKD_BOB_CLICK_FRACTION_WINDOW_GATES_RESET 0x00001000u
/* 32-bit clicks tolerated per N-gate window (all detectors); more raise CLICK_FRACTION [RW] */
#define QKD_BOB_CLICK_FRACTION_LIMIT_ADDR 0x514u
#define QKD_BOB_CLICK_FRACTION_LIMIT_RESET 0x00000200u
/* 32-bit M: gates without any click (not even a dark count) that raise NO_DARK [RW] */
#define QKD_BOB_NO_DARK_GATES_ADDR 0x518u
#define QKD_BOB_NO_DARK_GATES_RESET 0x04000000u
/* 12-bit last photocurrent ADC sample, detector 0 [RO] */
#define QKD_BOB_PHOTOCURRENT_LAST_D0_ADDR 0x520u
#define QKD_BOB_PHOTOCURRENT_LAST_D0_RESET 0x00000000u
/* 12-bit last photocurrent ADC sample, detector 1 [RO] */
#define QKD_BOB_PHOTOCURRENT_LAST_D1_ADDR 0x524u
#define QKD_BOB_PHOTOCURRENT_LAST_D1_RESET 0x00000000u

/* ---- block counters (index 6): Click accounting: raw = accepted + after-gate + dead-time-suppressed + invalid ---- */
/* Block identification: type, major version, next block index [RO] */
#define QKD_BOB_COUNTERS_ID_ADDR 0x600u
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
/* Low 32 bits of the 64-bit gate (slot) count since START; read latches _HI [RO] */
#define QKD_BOB_GATES_LO_ADDR 0x604u
#define QKD_BOB_GATES_LO_RESET 0x00000000u
/* High 32 bits of the 64-bit gate count [RO] */
#define QKD_BOB_GATES_HI_ADDR 0x608u
#define QKD_BOB_GATES_HI_RESET 0x00000000u
/* 32-bit wrapping count of accepted clicks (DETECTION records) [RO] */
#define QKD_BOB_ACCEPTED_ADDR 0x60Cu
#define QKD_BOB_ACCEPTED_RESET 0x00000000u
/* 32-bit wrapping count of clicks outside the gate window [RO] */
#define QKD_BOB_AFTER_GATE_ADDR 0x610u
#define QKD_BOB_AFTER_GATE_RESET 0x00000000u
/* 32-bit wrapping count of clicks discarded in the common dead time [RO] */
#define QKD_BOB_DEAD_TIME_SUPPRESSED_ADDR 0x614u
#define QKD_BOB_DEAD_TIME_SUPPRESSED_RESET 0x00000000u
/* 32-bit wrapping count of clicks made while an alarm was live (flagged INVALID) [RO] */
#define QKD_BOB_INVALID_ADDR 0x618u
#define QKD_BOB_INVALID_RESET 0x00000000u
/* 32-bit wrapping count of raw clicks (first rising edges), detector 0 [RO] */
#define QKD_BOB_CLICKS_D0_ADDR 0x620u
#define QKD_BOB_CLICKS_D0_RESET 0x00000000u
/* 32-bit wrapping count of raw clicks, detector 1 [RO] */
#define QKD_BOB_CLICKS_D1_ADDR 0x624u
#define QKD_BOB_CLICKS_D1_RESET 0x00000000u

#endif /* QKD_BOB_REGS_H */
