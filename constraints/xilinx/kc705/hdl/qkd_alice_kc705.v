// SPDX-License-Identifier: MIT OR Apache-2.0
// KC705 top for Alice: PCIe (XDMA) + clocking + the generated `qkd_alice`
// core (LANES = 4, 78.125 MHz) + one OSERDESE2 per symbol bit (UG471,
// DDR 4:1, CLK 156.25 MHz, CLKDIV 78.125 MHz): each LVDS output carries
// one bit of the 4-bit symbol (intensity[1:0], basis, bit) of slots
// 4k .. 4k+3 at 312.5 MS/s, slot 4k first (lane 0 -> D1). The sync marker
// goes out the same way on a fifth lane, delayed like the data.
module qkd_alice_kc705(
  input  wire       sysclk_p, input wire sysclk_n, input wire cpu_reset,
  input  wire       pcie_refclk_p, input wire pcie_refclk_n, input wire pcie_perst_n,
  input  wire [3:0] pci_exp_rxp, input wire [3:0] pci_exp_rxn,
  output wire [3:0] pci_exp_txp, output wire [3:0] pci_exp_txn,
  output wire [3:0] sym_p, output wire [3:0] sym_n,   // FMC HPC, to the modulator drivers
  output wire       sync_p, output wire sync_n,
  output wire [3:0] led
);
  localparam LANES = 4;
  wire clk_625, clk_625_90, clk_156, clk, locked;
  qkd_kc705_clocks clocks (.sysclk_p(sysclk_p), .sysclk_n(sysclk_n), .rst(cpu_reset),
    .clk_625(clk_625), .clk_625_90(clk_625_90), .clk_156(clk_156), .clk_fabric(clk), .locked(locked));
  reg [3:0] rst_sr = 4'hF;
  always @(posedge clk) rst_sr <= locked ? {rst_sr[2:0], 1'b0} : 4'hF;
  wire rst = rst_sr[3];

  wire [11:0] awaddr, araddr; wire [31:0] wdata, rdata; wire [3:0] wstrb; wire [1:0] bresp, rresp;
  wire awvalid, awready, wvalid, wready, bvalid, bready, arvalid, arready, rvalid, rready;
  wire [63:0] tdata; wire tvalid, tready, tlast, lnk_up;
  qkd_kc705_pcie #(.CSR_ADDR_BITS(12)) pcie (
    .pcie_refclk_p(pcie_refclk_p), .pcie_refclk_n(pcie_refclk_n), .pcie_perst_n(pcie_perst_n),
    .pci_exp_rxp(pci_exp_rxp), .pci_exp_rxn(pci_exp_rxn), .pci_exp_txp(pci_exp_txp), .pci_exp_txn(pci_exp_txn),
    .user_lnk_up(lnk_up), .core_clk(clk), .core_resetn(~rst),
    .m_axil_awaddr(awaddr), .m_axil_awvalid(awvalid), .m_axil_awready(awready),
    .m_axil_wdata(wdata), .m_axil_wstrb(wstrb), .m_axil_wvalid(wvalid), .m_axil_wready(wready),
    .m_axil_bresp(bresp), .m_axil_bvalid(bvalid), .m_axil_bready(bready),
    .m_axil_araddr(araddr), .m_axil_arvalid(arvalid), .m_axil_arready(arready),
    .m_axil_rdata(rdata), .m_axil_rresp(rresp), .m_axil_rvalid(rvalid), .m_axil_rready(rready),
    .s_axis_tdata(tdata), .s_axis_tvalid(tvalid), .s_axis_tready(tready), .s_axis_tlast(tlast));

  wire [4*LANES-1:0] symbols; wire symbols_valid, sync_out, qrng_ready;
  // The QRNG (e.g. an FMC QRNG card) connects here; without one, qrng_valid
  // stays low and the core must be run with RNG_CTRL.SOURCE = PRNG (tests only).
  qkd_alice core (
    .clock(clk),
    .s_axil_awaddr(awaddr), .s_axil_awvalid(awvalid), .s_axil_awready(awready),
    .s_axil_wdata(wdata), .s_axil_wstrb(wstrb), .s_axil_wvalid(wvalid), .s_axil_wready(wready),
    .s_axil_bresp(bresp), .s_axil_bvalid(bvalid), .s_axil_bready(bready),
    .s_axil_araddr(araddr), .s_axil_arvalid(arvalid), .s_axil_arready(arready),
    .s_axil_rdata(rdata), .s_axil_rresp(rresp), .s_axil_rvalid(rvalid), .s_axil_rready(rready),
    .m_axis_tdata(tdata), .m_axis_tvalid(tvalid), .m_axis_tready(tready), .m_axis_tlast(tlast),
    .symbols(symbols), .symbols_valid(symbols_valid), .sync_out(sync_out),
    .qrng_data({64*LANES{1'b0}}), .qrng_valid(1'b0), .qrng_ready(qrng_ready));

  // ---- Serializers: bit b of lane l -> D(l+1) of OSERDES b ----
  genvar b;
  generate for (b = 0; b < 5; b = b + 1) begin : ser
    wire [3:0] d;
    if (b < 4) begin : data
      // BLANK (no pulse) when no valid slot: intensity class 3, basis 0, bit 0.
      assign d = symbols_valid ? {symbols[12+b], symbols[8+b], symbols[4+b], symbols[b]}
                               : ((b >= 2) ? 4'hF : 4'h0);
    end else begin : sync
      assign d = {3'b000, sync_out};
    end
    wire oq;
    OSERDESE2 #(.DATA_RATE_OQ("DDR"), .DATA_RATE_TQ("SDR"), .DATA_WIDTH(4), .SERDES_MODE("MASTER"),
                .TRISTATE_WIDTH(1), .INIT_OQ(1'b0), .SRVAL_OQ(1'b0)) oser (
      .CLK(clk_156), .CLKDIV(clk), .RST(rst), .OCE(1'b1), .TCE(1'b0),
      .D1(d[0]), .D2(d[1]), .D3(d[2]), .D4(d[3]), .D5(1'b0), .D6(1'b0), .D7(1'b0), .D8(1'b0),
      .T1(1'b0), .T2(1'b0), .T3(1'b0), .T4(1'b0), .TBYTEIN(1'b0),
      .SHIFTIN1(1'b0), .SHIFTIN2(1'b0), .OQ(oq), .OFB(), .TQ(), .TFB(), .TBYTEOUT(),
      .SHIFTOUT1(), .SHIFTOUT2());
    if (b < 4) begin : obuf_d
      OBUFDS #(.IOSTANDARD("LVDS_25")) obuf (.I(oq), .O(sym_p[b]), .OB(sym_n[b]));
    end else begin : obuf_s
      OBUFDS #(.IOSTANDARD("LVDS_25")) obuf (.I(oq), .O(sync_p), .OB(sync_n));
    end
  end endgenerate

  assign led = {qrng_ready, symbols_valid, lnk_up, locked};
endmodule
