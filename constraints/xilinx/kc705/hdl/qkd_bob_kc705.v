// SPDX-License-Identifier: MIT OR Apache-2.0
// KC705 top for Bob: PCIe (XDMA) + clocking + the generated `qkd_bob` core
// (LANES = 4, OVERSAMPLE = 8, DETECTORS = 2, 78.125 MHz) + the APD
// front end: per detector, IBUFDS_DIFF_OUT feeds two ISERDESE2 (UG471,
// NETWORKING, DDR 1:8) clocked at 625 MHz with 0 and 90 degree phase: each
// samples at 1.25 GS/s, interleaved they give 2.5 GS/s = 8 samples per
// 3.2 ns slot (the XAPP523 oversampling scheme). 16 samples per 156.25 MHz
// cycle are then geared 2:1 into the core's 32 samples (apd_d{d}) per
// 78.125 MHz cycle. Gates and basis go out through OSERDESE2 4:1 like
// Alice's symbol lanes.
// Not connected on this reference board: the photocurrent ADCs (adc_d*,
// board-specific SPI ADCs on an FMC card; adc_valid tied low, so the
// PHOTOCURRENT alarm needs that card) and a QRNG (run with the PRNG source
// for tests only).
module qkd_bob_kc705(
  input  wire       sysclk_p, input wire sysclk_n, input wire cpu_reset,
  input  wire       pcie_refclk_p, input wire pcie_refclk_n, input wire pcie_perst_n,
  input  wire [3:0] pci_exp_rxp, input wire [3:0] pci_exp_rxn,
  output wire [3:0] pci_exp_txp, output wire [3:0] pci_exp_txn,
  input  wire [1:0] apd_p, input wire [1:0] apd_n,     // APD comparators (FMC HPC)
  input  wire       sync_in_p, input wire sync_in_n,
  output wire [1:0] gate_p, output wire [1:0] gate_n,
  output wire       basis_p, output wire basis_n,
  output wire [3:0] led
);
  localparam LANES = 4, OS = 8, ND = 2;
  wire clk_625, clk_625_90, clk_156, clk, locked;
  qkd_kc705_clocks clocks (.sysclk_p(sysclk_p), .sysclk_n(sysclk_n), .rst(cpu_reset),
    .clk_625(clk_625), .clk_625_90(clk_625_90), .clk_156(clk_156), .clk_fabric(clk), .locked(locked));
  reg [3:0] rst_sr = 4'hF;
  always @(posedge clk) rst_sr <= locked ? {rst_sr[2:0], 1'b0} : 4'hF;
  wire rst = rst_sr[3];
  reg [3:0] rst156_sr = 4'hF;
  always @(posedge clk_156) rst156_sr <= locked ? {rst156_sr[2:0], 1'b0} : 4'hF;
  wire rst156 = rst156_sr[3];

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

  // ---- APD deserializers: 2 x ISERDESE2 per detector, 0 and 90 degrees ----
  wire [LANES*OS-1:0] apd [0:ND-1];
  genvar d, k;
  generate for (d = 0; d < ND; d = d + 1) begin : det
    wire pin_p, pin_n;
    IBUFDS_DIFF_OUT #(.DIFF_TERM("TRUE"), .IOSTANDARD("LVDS_25")) ibuf (.I(apd_p[d]), .IB(apd_n[d]), .O(pin_p), .OB(pin_n));
    wire [7:0] qa, qb;
    ISERDESE2 #(.INTERFACE_TYPE("NETWORKING"), .DATA_RATE("DDR"), .DATA_WIDTH(8), .SERDES_MODE("MASTER"),
                .IOBDELAY("NONE"), .NUM_CE(1), .OFB_USED("FALSE"), .DYN_CLKDIV_INV_EN("FALSE"), .DYN_CLK_INV_EN("FALSE")) ser_a (
      .D(pin_p), .DDLY(1'b0), .CLK(clk_625), .CLKB(~clk_625), .CLKDIV(clk_156), .CLKDIVP(1'b0),
      .OCLK(1'b0), .OCLKB(1'b0), .RST(rst156), .CE1(1'b1), .CE2(1'b1), .BITSLIP(1'b0),
      .DYNCLKDIVSEL(1'b0), .DYNCLKSEL(1'b0), .OFB(1'b0), .SHIFTIN1(1'b0), .SHIFTIN2(1'b0),
      .Q1(qa[0]), .Q2(qa[1]), .Q3(qa[2]), .Q4(qa[3]), .Q5(qa[4]), .Q6(qa[5]), .Q7(qa[6]), .Q8(qa[7]),
      .O(), .SHIFTOUT1(), .SHIFTOUT2());
    // The N output of IBUFDS_DIFF_OUT is the inverted signal: invert back.
    wire [7:0] qbn;
    ISERDESE2 #(.INTERFACE_TYPE("NETWORKING"), .DATA_RATE("DDR"), .DATA_WIDTH(8), .SERDES_MODE("MASTER"),
                .IOBDELAY("NONE"), .NUM_CE(1), .OFB_USED("FALSE"), .DYN_CLKDIV_INV_EN("FALSE"), .DYN_CLK_INV_EN("FALSE")) ser_b (
      .D(pin_n), .DDLY(1'b0), .CLK(clk_625_90), .CLKB(~clk_625_90), .CLKDIV(clk_156), .CLKDIVP(1'b0),
      .OCLK(1'b0), .OCLKB(1'b0), .RST(rst156), .CE1(1'b1), .CE2(1'b1), .BITSLIP(1'b0),
      .DYNCLKDIVSEL(1'b0), .DYNCLKSEL(1'b0), .OFB(1'b0), .SHIFTIN1(1'b0), .SHIFTIN2(1'b0),
      .Q1(qbn[0]), .Q2(qbn[1]), .Q3(qbn[2]), .Q4(qbn[3]), .Q5(qbn[4]), .Q6(qbn[5]), .Q7(qbn[6]), .Q8(qbn[7]),
      .O(), .SHIFTOUT1(), .SHIFTOUT2());
    assign qb = ~qbn;
    // Q8 is the earliest bit of an 8-bit ISERDESE2 word (UG471, "Bit Ordering"):
    // sample 2k from ser_a (0 deg), 2k+1 from ser_b (90 deg = +400 ps).
    wire [15:0] s16;
    for (k = 0; k < 8; k = k + 1) begin : il
      assign s16[2*k]   = qa[7-k];
      assign s16[2*k+1] = qb[7-k];
    end
    // 2:1 gearbox into the core clock: bit 0 = earliest sample (spec 5.1).
    reg [31:0] s32 = 0;
    always @(posedge clk_156) s32 <= {s16, s32[31:16]};
    reg [31:0] s32_core = 0;
    always @(posedge clk) s32_core <= s32;
    assign apd[d] = s32_core;
  end endgenerate

  wire sync_raw;
  IBUFDS #(.DIFF_TERM("TRUE"), .IOSTANDARD("LVDS_25")) sync_ibuf (.I(sync_in_p), .IB(sync_in_n), .O(sync_raw));
  reg [1:0] sync_q = 0;
  always @(posedge clk) sync_q <= {sync_q[0], sync_raw};

  wire [LANES*ND-1:0] gate_en; wire [LANES-1:0] basis_out; wire qrng_ready;
  qkd_bob core (
    .clock(clk),
    .s_axil_awaddr(awaddr), .s_axil_awvalid(awvalid), .s_axil_awready(awready),
    .s_axil_wdata(wdata), .s_axil_wstrb(wstrb), .s_axil_wvalid(wvalid), .s_axil_wready(wready),
    .s_axil_bresp(bresp), .s_axil_bvalid(bvalid), .s_axil_bready(bready),
    .s_axil_araddr(araddr), .s_axil_arvalid(arvalid), .s_axil_arready(arready),
    .s_axil_rdata(rdata), .s_axil_rresp(rresp), .s_axil_rvalid(rvalid), .s_axil_rready(rready),
    .m_axis_tdata(tdata), .m_axis_tvalid(tvalid), .m_axis_tready(tready), .m_axis_tlast(tlast),
    .apd_d0(apd[0]), .apd_d1(apd[1]),
    .adc_d0(12'd0), .adc_valid_d0(1'b0), .adc_d1(12'd0), .adc_valid_d1(1'b0),
    .gate_en(gate_en), .basis_out(basis_out), .sync_in(sync_q[1]),
    .qrng_data({64*LANES{1'b0}}), .qrng_valid(1'b0), .qrng_ready(qrng_ready));

  // ---- Gate and basis serializers (lane l -> D(l+1), DDR 4:1) ----
  genvar o;
  generate for (o = 0; o < ND + 1; o = o + 1) begin : oser
    wire [3:0] dd;
    if (o < ND) begin : g
      assign dd = {gate_en[3*ND+o], gate_en[2*ND+o], gate_en[ND+o], gate_en[o]};
    end else begin : b
      assign dd = basis_out;
    end
    wire oq;
    OSERDESE2 #(.DATA_RATE_OQ("DDR"), .DATA_RATE_TQ("SDR"), .DATA_WIDTH(4), .SERDES_MODE("MASTER"),
                .TRISTATE_WIDTH(1), .INIT_OQ(1'b0), .SRVAL_OQ(1'b0)) ser (
      .CLK(clk_156), .CLKDIV(clk), .RST(rst), .OCE(1'b1), .TCE(1'b0),
      .D1(dd[0]), .D2(dd[1]), .D3(dd[2]), .D4(dd[3]), .D5(1'b0), .D6(1'b0), .D7(1'b0), .D8(1'b0),
      .T1(1'b0), .T2(1'b0), .T3(1'b0), .T4(1'b0), .TBYTEIN(1'b0),
      .SHIFTIN1(1'b0), .SHIFTIN2(1'b0), .OQ(oq), .OFB(), .TQ(), .TFB(), .TBYTEOUT(),
      .SHIFTOUT1(), .SHIFTOUT2());
    if (o < ND) begin : go
      OBUFDS #(.IOSTANDARD("LVDS_25")) obuf (.I(oq), .O(gate_p[o]), .OB(gate_n[o]));
    end else begin : bo
      OBUFDS #(.IOSTANDARD("LVDS_25")) obuf (.I(oq), .O(basis_p), .OB(basis_n));
    end
  end endgenerate

  assign led = {qrng_ready, |gate_en, lnk_up, locked};
endmodule
