// SPDX-License-Identifier: MIT OR Apache-2.0
//! qkd-keyproc: post-processing primitives of the QKD key pipeline.
