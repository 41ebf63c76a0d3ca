// SPDX-License-Identifier: MIT OR Apache-2.0
//! CSR bank building blocks: an AMBA AXI4-Lite slave (ARM IHI 0022, 32-bit
//! data) and one register cell per `qkd_abi::Register`, configured from the
//! register map (offset, access type, reset value, defined bits), as
//! specified in `docs/gateware-spec.md` section 7.
//!
//! A role's top holds one [`AxiLiteSlave`] and one [`CsrReg`] per register
//! of its `qkd_abi::RegisterMap`, fans the slave's [`CsrBus`] word out to
//! every cell, and ORs the cells' `rdata` and `hit` back into the slave.

use qkd_abi::{Access, Register, RegisterMap};
use rust_hdl::prelude::*;

/// Byte-address width of the CSR window (4 KiB).
pub const CSR_ADDR_BITS: usize = 12;
/// Width of the packed bus word from the slave to the cells.
pub const CSR_BUS_BITS: usize = 32 + CSR_ADDR_BITS + 2;

/// Layout of the packed CSR bus word (`Bits<CSR_BUS_BITS>`):
/// `[31:0]` write data, `[43:32]` byte address, `[44]` write pulse,
/// `[45]` read pulse. Write and read pulses last one cycle per access.
/// The write data stays on the bus in the cycle after the write pulse:
/// a cell registers its address decode with the pulse and takes the data
/// in the next cycle, so no address compare sits before its storage (or
/// before logic that registers a function of `q_next`).
pub struct CsrBus;

impl CsrBus {
    /// Bit offset of the byte address.
    pub const ADDR: usize = 32;
    /// Bit index of the write pulse.
    pub const WRITE: usize = 32 + CSR_ADDR_BITS;
    /// Bit index of the read pulse.
    pub const READ: usize = 33 + CSR_ADDR_BITS;
}

/// Error building a CSR cell from the register map.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CsrError {
    /// The role's map lacks a register the gateware needs.
    #[error("register {0} is not in the register map")]
    Missing(String),
    /// A field the gateware decodes moved or changed width in the map.
    #[error("field {register}.{field} is not at bit {lsb} with width {width} as the gateware decodes it")]
    FieldMoved {
        /// Register name.
        register: &'static str,
        /// Field name.
        field: &'static str,
        /// LSB the gateware uses.
        lsb: u8,
        /// Width the gateware uses.
        width: u8,
    },
    /// The register lies outside the 4 KiB CSR window.
    #[error("register {name} at {offset:#x} lies outside the {window:#x}-byte CSR window")]
    OutOfWindow {
        /// Register name.
        name: &'static str,
        /// Its byte offset.
        offset: u32,
        /// Window size in bytes.
        window: u32,
    },
    /// The map holds registers the gateware does not implement.
    #[error("register map has registers the gateware does not implement: {0:?}")]
    Unimplemented(Vec<&'static str>),
}

/// One 32-bit CSR, behaving as its map entry's access type says:
///
/// * RW: storage with the map's reset value; `q` = stored value.
/// * W1C: sticky bits; `hw_set` bits are set every cycle they are high,
///   a written 1 clears a bit (set wins when both happen); `q` = sticky bits.
/// * Strobe: `q` pulses the written 1 bits for one cycle; reads return 0.
/// * RO: reads return `hw_value` (or the map's reset value for constant
///   registers built with [`CsrReg::constant`]).
///
/// Bits outside the register's fields read as 0 and are not stored.
#[derive(LogicBlock)]
pub struct CsrReg {
    /// Fabric clock, rising edge.
    pub clock: Signal<In, Clock>,
    /// Packed bus word from [`AxiLiteSlave::bus`] (see [`CsrBus`]).
    pub bus: Signal<In, Bits<CSR_BUS_BITS>>,
    /// RO: the live value to read. Ignored otherwise.
    pub hw_value: Signal<In, Bits<32>>,
    /// W1C: bits to set this cycle, active high. Ignored otherwise.
    pub hw_set: Signal<In, Bits<32>>,
    /// The register's value towards the core (see the access types above).
    pub q: Signal<Out, Bits<32>>,
    /// RW, W1C and Strobe: the value `q` has in the next cycle (for logic
    /// that registers a function of `q` a cycle ahead); RO: `q`.
    pub q_next: Signal<Out, Bits<32>>,
    /// A bus write to this register takes effect at the end of this cycle
    /// (the cycle after its write pulse); `wdata` holds the written value.
    pub written: Signal<Out, Bit>,
    /// The bus's write data, masked to the register's defined bits.
    pub wdata: Signal<Out, Bits<32>>,
    /// The bus address selected this register in the previous cycle
    /// (registered, like `rdata`, so that the slave's OR over all cells
    /// starts at flip-flops).
    pub hit: Signal<Out, Bit>,
    /// A read of this register happens this cycle (one-cycle pulse).
    pub read_pulse: Signal<Out, Bit>,
    /// Read data, registered: the register's read value in the previous
    /// cycle if the bus address selected it then, else 0.
    pub rdata: Signal<Out, Bits<32>>,
    offset: Constant<Bits<CSR_ADDR_BITS>>,
    mask: Constant<Bits<32>>,
    reset: Constant<Bits<32>>,
    is_rw: Constant<Bit>,
    is_w1c: Constant<Bit>,
    is_strobe: Constant<Bit>,
    is_const: Constant<Bit>,
    store: DFFWithInit<Bits<32>>,
    pulse: DFF<Bits<32>>,
    hit_r: DFF<Bit>,
    rdata_r: DFF<Bits<32>>,
    wr_r: DFF<Bit>,
    sel: Signal<Local, Bit>,
    read_value: Signal<Local, Bits<32>>,
}

impl CsrReg {
    fn build(reg: &Register, constant: bool) -> Result<CsrReg, CsrError> {
        let window = 1u32 << CSR_ADDR_BITS;
        if reg.offset >= window {
            return Err(CsrError::OutOfWindow {
                name: reg.name,
                offset: reg.offset,
                window,
            });
        }
        let mask = reg.defined_bits();
        let reset = if matches!(reg.access, Access::RW | Access::RO) {
            reg.reset & mask
        } else {
            0
        };
        Ok(CsrReg {
            clock: Default::default(),
            bus: Default::default(),
            hw_value: Default::default(),
            hw_set: Default::default(),
            q: Default::default(),
            q_next: Default::default(),
            written: Default::default(),
            wdata: Default::default(),
            hit: Default::default(),
            read_pulse: Default::default(),
            rdata: Default::default(),
            offset: Constant::new(u64::from(reg.offset).into()),
            mask: Constant::new(u64::from(mask).into()),
            reset: Constant::new(u64::from(reset).into()),
            is_rw: Constant::new(reg.access == Access::RW),
            is_w1c: Constant::new(reg.access == Access::W1C),
            is_strobe: Constant::new(reg.access == Access::Strobe),
            is_const: Constant::new(constant && reg.access == Access::RO),
            store: DFFWithInit::new(u64::from(reset).into()),
            pulse: Default::default(),
            hit_r: Default::default(),
            rdata_r: Default::default(),
            wr_r: Default::default(),
            sel: Default::default(),
            read_value: Default::default(),
        })
    }

    /// The cell of `reg`, with the behaviour of `reg.access`.
    pub fn new(reg: &Register) -> Result<CsrReg, CsrError> {
        Self::build(reg, false)
    }

    /// An RO cell that always reads the map's reset value (header words,
    /// `BLOCK_ID` words); `hw_value` is ignored.
    pub fn constant(reg: &Register) -> Result<CsrReg, CsrError> {
        Self::build(reg, true)
    }
}

impl Logic for CsrReg {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, store, pulse, hit_r, rdata_r, wr_r);
        // ---- Decode (a write is registered and stored one cycle later) ----
        self.sel.next = self.bus.val().get_bits::<CSR_ADDR_BITS>(32) == self.offset.val();
        self.wr_r.d.next = self.sel.val() & self.bus.val().get_bit(44);
        self.written.next = self.wr_r.q.val();
        self.read_pulse.next = self.sel.val() & self.bus.val().get_bit(45);
        self.wdata.next = self.bus.val().get_bits::<32>(0) & self.mask.val();
        // ---- Storage ----
        self.pulse.d.next = 0.into();
        if self.is_rw.val() & self.wr_r.q.val() {
            self.store.d.next = self.wdata.val();
        }
        if self.is_w1c.val() {
            if self.wr_r.q.val() {
                self.store.d.next = (self.store.q.val() & !self.wdata.val())
                    | (self.hw_set.val() & self.mask.val());
            } else {
                self.store.d.next = self.store.q.val() | (self.hw_set.val() & self.mask.val());
            }
        }
        if self.is_strobe.val() & self.wr_r.q.val() {
            self.pulse.d.next = self.wdata.val();
        }
        // ---- Outputs ----
        if self.is_strobe.val() {
            self.q.next = self.pulse.q.val();
            self.read_value.next = 0.into();
        } else if self.is_rw.val() | self.is_w1c.val() {
            self.q.next = self.store.q.val();
            self.read_value.next = self.store.q.val();
        } else if self.is_const.val() {
            self.q.next = self.reset.val();
            self.read_value.next = self.reset.val();
        } else {
            self.q.next = self.hw_value.val() & self.mask.val();
            self.read_value.next = self.hw_value.val() & self.mask.val();
        }
        if self.is_strobe.val() {
            self.q_next.next = self.pulse.d.val();
        } else if self.is_rw.val() | self.is_w1c.val() {
            self.q_next.next = self.store.d.val();
        } else {
            self.q_next.next = self.q.val();
        }
        // ---- Registered answer (read by the slave one cycle later) ----
        self.hit_r.d.next = self.sel.val();
        if self.sel.val() {
            self.rdata_r.d.next = self.read_value.val();
        } else {
            self.rdata_r.d.next = 0.into();
        }
        self.hit.next = self.hit_r.q.val();
        self.rdata.next = self.rdata_r.q.val();
    }
}

/// The cell of register `name` of `map`. RO registers of the header block
/// (block 0) and every block's first word (`BLOCK_ID`) are constants read
/// from the map; other RO registers read `hw_value`.
pub fn cell_from_map(map: &RegisterMap, name: &str) -> Result<CsrReg, CsrError> {
    for b in &map.blocks {
        for (i, r) in b.registers.iter().enumerate() {
            if r.name.eq_ignore_ascii_case(name) {
                let constant = r.access == Access::RO && (b.index == 0 || i == 0);
                return CsrReg::build(r, constant);
            }
        }
    }
    Err(CsrError::Missing(name.to_ascii_uppercase()))
}

/// Check that the cells named `implemented` (case-insensitive) cover every
/// register of `map`.
pub fn check_coverage(map: &RegisterMap, implemented: &[&str]) -> Result<(), CsrError> {
    let missing: Vec<&'static str> = map
        .registers()
        .filter(|r| !implemented.iter().any(|n| n.eq_ignore_ascii_case(r.name)))
        .map(|r| r.name)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(CsrError::Unimplemented(missing))
    }
}

/// Check that field `register.field` of `map` sits at `lsb` with `width`
/// bits, as the HDL (which needs literal bit positions) decodes it.
pub fn expect_field(
    map: &RegisterMap,
    register: &'static str,
    field: &'static str,
    lsb: u8,
    width: u8,
) -> Result<(), CsrError> {
    let moved = CsrError::FieldMoved {
        register,
        field,
        lsb,
        width,
    };
    let r = map
        .register(register)
        .ok_or_else(|| CsrError::Missing(register.into()))?;
    match r.field(field) {
        Some(f) if f.lsb == lsb && f.width == width => Ok(()),
        _ => Err(moved),
    }
}

/// Latch of the `_HI` half of a 64-bit counter, loaded when its `_LO` half
/// is read, so that a `_LO` then `_HI` read pair is coherent (spec 7).
#[derive(LogicBlock, Default)]
pub struct HiLatch {
    /// Fabric clock, rising edge.
    pub clock: Signal<In, Clock>,
    /// The live 64-bit counter.
    pub value: Signal<In, Bits<64>>,
    /// The `_LO` register's `read_pulse`.
    pub lo_read: Signal<In, Bit>,
    /// Value for the `_LO` register's `hw_value` (live low half).
    pub lo: Signal<Out, Bits<32>>,
    /// Value for the `_HI` register's `hw_value` (high half at the last `_LO` read).
    pub hi: Signal<Out, Bits<32>>,
    latch: DFF<Bits<32>>,
}

impl Logic for HiLatch {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, latch);
        if self.lo_read.val() {
            self.latch.d.next = self.value.val().get_bits::<32>(32);
        }
        self.lo.next = self.value.val().get_bits::<32>(0);
        self.hi.next = self.latch.q.val();
    }
}

/// State of the [`AxiLiteSlave`] transaction sequencer.
#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
pub enum AxiLiteState {
    /// Waiting for a write (AW and W together) or a read (AR).
    Idle,
    /// Write pulse on the CSR bus.
    Write,
    /// The cells' registered `hit` of the write: response decided.
    WriteCapture,
    /// Write response (B) pending.
    WriteResp,
    /// Read pulse on the CSR bus.
    Read,
    /// The cells' registered answer to the read: data and response captured.
    ReadCapture,
    /// Read data (R) pending.
    ReadResp,
}

/// AXI4-Lite slave, 32-bit data, [`CSR_ADDR_BITS`]-bit byte addresses, one
/// access at a time (writes first when both are pending). Each access makes
/// a one-cycle write or read pulse on `bus`; the addressed cell answers on
/// its registered `rdata`/`hit` one cycle later, where the slave captures
/// the OR over all cells (so that OR starts at flip-flops). The write
/// pulse always comes in the cycle after the one with AWREADY and WREADY
/// high; the cells store the data at the end of the next cycle (their
/// `written` output), before BVALID rises. Unmapped or misaligned addresses (no
/// cell hits) answer SLVERR; reads of them return 0 and writes are ignored.
/// Every register is one 32-bit word: a write whose byte strobes (WSTRB)
/// are not all ones, including an all-zero WSTRB, is refused with SLVERR
/// and changes nothing (no write pulse reaches the cells), as AXI4-Lite
/// permits a slave that detects strobe combinations it does not support.
#[derive(LogicBlock)]
pub struct AxiLiteSlave {
    /// Fabric clock (ACLK), rising edge.
    pub clock: Signal<In, Clock>,
    /// Write address (AWADDR), bytes.
    pub awaddr: Signal<In, Bits<CSR_ADDR_BITS>>,
    /// AWVALID, active high.
    pub awvalid: Signal<In, Bit>,
    /// AWREADY, active high.
    pub awready: Signal<Out, Bit>,
    /// Write data (WDATA).
    pub wdata: Signal<In, Bits<32>>,
    /// Byte strobes (WSTRB); anything but 0b1111 refuses the write (SLVERR).
    pub wstrb: Signal<In, Bits<4>>,
    /// WVALID, active high.
    pub wvalid: Signal<In, Bit>,
    /// WREADY, active high.
    pub wready: Signal<Out, Bit>,
    /// Write response (BRESP): 0 OKAY, 2 SLVERR.
    pub bresp: Signal<Out, Bits<2>>,
    /// BVALID, active high.
    pub bvalid: Signal<Out, Bit>,
    /// BREADY, active high.
    pub bready: Signal<In, Bit>,
    /// Read address (ARADDR), bytes.
    pub araddr: Signal<In, Bits<CSR_ADDR_BITS>>,
    /// ARVALID, active high.
    pub arvalid: Signal<In, Bit>,
    /// ARREADY, active high.
    pub arready: Signal<Out, Bit>,
    /// Read data (RDATA).
    pub rdata: Signal<Out, Bits<32>>,
    /// Read response (RRESP): 0 OKAY, 2 SLVERR.
    pub rresp: Signal<Out, Bits<2>>,
    /// RVALID, active high.
    pub rvalid: Signal<Out, Bit>,
    /// RREADY, active high.
    pub rready: Signal<In, Bit>,
    /// Packed CSR bus word towards every [`CsrReg`] (see [`CsrBus`]).
    pub bus: Signal<Out, Bits<CSR_BUS_BITS>>,
    /// OR of every cell's `rdata`.
    pub cell_rdata: Signal<In, Bits<32>>,
    /// OR of every cell's `hit`.
    pub cell_hit: Signal<In, Bit>,
    state: DFF<AxiLiteState>,
    addr: DFF<Bits<CSR_ADDR_BITS>>,
    data: DFF<Bits<32>>,
    resp: DFF<Bits<2>>,
    full_word: DFF<Bit>,
    flag_write: Constant<Bits<CSR_BUS_BITS>>,
    flag_read: Constant<Bits<CSR_BUS_BITS>>,
}

impl Default for AxiLiteSlave {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            awaddr: Default::default(),
            awvalid: Default::default(),
            awready: Default::default(),
            wdata: Default::default(),
            wstrb: Default::default(),
            wvalid: Default::default(),
            wready: Default::default(),
            bresp: Default::default(),
            bvalid: Default::default(),
            bready: Default::default(),
            araddr: Default::default(),
            arvalid: Default::default(),
            arready: Default::default(),
            rdata: Default::default(),
            rresp: Default::default(),
            rvalid: Default::default(),
            rready: Default::default(),
            bus: Default::default(),
            cell_rdata: Default::default(),
            cell_hit: Default::default(),
            state: Default::default(),
            addr: Default::default(),
            data: Default::default(),
            resp: Default::default(),
            full_word: Default::default(),
            flag_write: Constant::new(Bits::<CSR_BUS_BITS>::from(1u64) << (CsrBus::WRITE as u64)),
            flag_read: Constant::new(Bits::<CSR_BUS_BITS>::from(1u64) << (CsrBus::READ as u64)),
        }
    }
}

impl Logic for AxiLiteSlave {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, state, addr, data, resp, full_word);
        self.awready.next = false;
        self.wready.next = false;
        self.arready.next = false;
        self.bvalid.next = false;
        self.rvalid.next = false;
        self.bresp.next = self.resp.q.val();
        self.rresp.next = self.resp.q.val();
        self.rdata.next = self.data.q.val();
        // address and data from their registers in every state (the data
        // must stay on the bus in the cycle after the write pulse)
        self.bus.next = (bit_cast::<CSR_BUS_BITS, CSR_ADDR_BITS>(self.addr.q.val()) << 32)
            | bit_cast::<CSR_BUS_BITS, 32>(self.data.q.val());
        match self.state.q.val() {
            AxiLiteState::Idle => {
                if self.awvalid.val() & self.wvalid.val() {
                    self.awready.next = true;
                    self.wready.next = true;
                    self.addr.d.next = self.awaddr.val();
                    self.data.d.next = self.wdata.val();
                    self.full_word.d.next = self.wstrb.val().all();
                    self.state.d.next = AxiLiteState::Write;
                } else if self.arvalid.val() {
                    self.arready.next = true;
                    self.addr.d.next = self.araddr.val();
                    self.state.d.next = AxiLiteState::Read;
                }
            }
            AxiLiteState::Write => {
                // a partial write makes no pulse: no cell hits, SLVERR follows
                if self.full_word.q.val() {
                    self.bus.next = (bit_cast::<CSR_BUS_BITS, CSR_ADDR_BITS>(self.addr.q.val())
                        << 32)
                        | bit_cast::<CSR_BUS_BITS, 32>(self.data.q.val())
                        | self.flag_write.val();
                }
                // (the cells store in WriteCapture, before the response)
                self.state.d.next = AxiLiteState::WriteCapture;
            }
            AxiLiteState::WriteCapture => {
                // OKAY only for a full-word write that hit a cell (a cell
                // decodes its address whether or not the write pulse came).
                if self.cell_hit.val() & self.full_word.q.val() {
                    self.resp.d.next = 0.into();
                } else {
                    self.resp.d.next = 2.into();
                }
                self.state.d.next = AxiLiteState::WriteResp;
            }
            AxiLiteState::WriteResp => {
                self.bvalid.next = true;
                if self.bready.val() {
                    self.state.d.next = AxiLiteState::Idle;
                }
            }
            AxiLiteState::Read => {
                self.bus.next = (bit_cast::<CSR_BUS_BITS, CSR_ADDR_BITS>(self.addr.q.val()) << 32)
                    | bit_cast::<CSR_BUS_BITS, 32>(self.data.q.val())
                    | self.flag_read.val();
                self.state.d.next = AxiLiteState::ReadCapture;
            }
            AxiLiteState::ReadCapture => {
                self.data.d.next = self.cell_rdata.val();
                if self.cell_hit.val() {
                    self.resp.d.next = 0.into();
                } else {
                    self.resp.d.next = 2.into();
                }
                self.state.d.next = AxiLiteState::ReadResp;
            }
            AxiLiteState::ReadResp => {
                self.rvalid.next = true;
                if self.rready.val() {
                    self.state.d.next = AxiLiteState::Idle;
                }
            }
            _ => {
                self.state.d.next = AxiLiteState::Idle;
            }
        }
    }
}

// The HDL code above uses the bus layout as literals (rust-hdl cannot read
// Rust constants inside `#[hdl_gen]`); keep them in step.
const _: () = assert!(CsrBus::ADDR == 32 && CsrBus::WRITE == 44 && CsrBus::READ == 45);
