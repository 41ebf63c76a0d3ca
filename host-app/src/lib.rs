// SPDX-License-Identifier: MIT OR Apache-2.0
//! qkd-host: the QKD key pipeline.
