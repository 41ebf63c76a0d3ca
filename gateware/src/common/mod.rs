// SPDX-License-Identifier: MIT OR Apache-2.0
//! Blocks shared by both roles.
