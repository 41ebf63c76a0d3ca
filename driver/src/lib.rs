// SPDX-License-Identifier: MIT OR Apache-2.0
//! qkd-driver: userspace driver for the QKD cores.
