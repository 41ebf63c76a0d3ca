// SPDX-License-Identifier: MIT OR Apache-2.0
//! Alice's and Bob's pipelines behind one interface, so that the role's
//! session loop is written once.

use super::durable::CountingChannel;
use crate::pipeline::{AlicePipeline, BlockOutcome, BobPipeline, KeyStore as PipeKeys};
use qkd_abi::records::Record;
use qkd_driver::Batch;
use qkd_keyproc::auth::AuthChannel;

pub(super) trait End {
    fn run_block(&mut self) -> BlockOutcome;
    /// Feed one window of the device stream.
    fn push(&mut self, window: Batch) -> Result<(), String>;
    fn chan(&mut self) -> &mut AuthChannel<CountingChannel>;
    fn keys(&mut self) -> &mut PipeKeys;
    /// First slot of the STATUS interval whose alarm latched Bob's sifter.
    fn alarm_latched_at(&self) -> Option<u64>;
}

impl End for AlicePipeline<CountingChannel> {
    fn run_block(&mut self) -> BlockOutcome {
        AlicePipeline::run_block(self)
    }
    fn push(&mut self, window: Batch) -> Result<(), String> {
        // Alice's stream has no detections: her records, in order.
        let records: Vec<Record> = window.records.into_iter().map(|r| r.record).collect();
        self.push_records(&records).map_err(|e| e.to_string())
    }
    fn chan(&mut self) -> &mut AuthChannel<CountingChannel> {
        self.channel()
    }
    fn keys(&mut self) -> &mut PipeKeys {
        AlicePipeline::keys(self)
    }
    fn alarm_latched_at(&self) -> Option<u64> {
        None
    }
}

impl End for BobPipeline<CountingChannel> {
    fn run_block(&mut self) -> BlockOutcome {
        BobPipeline::run_block(self)
    }
    fn push(&mut self, window: Batch) -> Result<(), String> {
        self.push_batch(&window);
        Ok(())
    }
    fn chan(&mut self) -> &mut AuthChannel<CountingChannel> {
        self.channel()
    }
    fn keys(&mut self) -> &mut PipeKeys {
        BobPipeline::keys(self)
    }
    fn alarm_latched_at(&self) -> Option<u64> {
        self.sift_stats().alarm_latched_at_slot
    }
}
