// SPDX-License-Identifier: MIT OR Apache-2.0
//! Optical channel, detector and attack models; simulated devices.
