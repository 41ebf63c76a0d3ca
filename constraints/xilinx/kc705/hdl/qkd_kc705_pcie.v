// SPDX-License-Identifier: MIT OR Apache-2.0
// PCIe side shared by both roles on the KC705: the XDMA IP (PG195) in
// AXI4-Stream mode, Gen2 x4, 64-bit at 250 MHz, with its AXI4-Lite master
// (user BAR) and card-to-host stream channel 0, crossed into the core's
// 78.125 MHz domain with the AXI clock converter IPs (PG059, PG085).
module qkd_kc705_pcie #(parameter CSR_ADDR_BITS = 12) (
  input  wire        pcie_refclk_p, input wire pcie_refclk_n, input wire pcie_perst_n,
  input  wire [3:0]  pci_exp_rxp, input wire [3:0] pci_exp_rxn,
  output wire [3:0]  pci_exp_txp, output wire [3:0] pci_exp_txn,
  output wire        user_lnk_up,
  input  wire        core_clk, input wire core_resetn,
  // AXI4-Lite master towards the core (core clock domain)
  output wire [CSR_ADDR_BITS-1:0] m_axil_awaddr, output wire m_axil_awvalid, input wire m_axil_awready,
  output wire [31:0] m_axil_wdata, output wire [3:0] m_axil_wstrb, output wire m_axil_wvalid, input wire m_axil_wready,
  input  wire [1:0]  m_axil_bresp, input wire m_axil_bvalid, output wire m_axil_bready,
  output wire [CSR_ADDR_BITS-1:0] m_axil_araddr, output wire m_axil_arvalid, input wire m_axil_arready,
  input  wire [31:0] m_axil_rdata, input wire [1:0] m_axil_rresp, input wire m_axil_rvalid, output wire m_axil_rready,
  // AXI4-Stream from the core (core clock domain)
  input  wire [63:0] s_axis_tdata, input wire s_axis_tvalid, output wire s_axis_tready, input wire s_axis_tlast
);
  wire refclk, axi_aclk, axi_aresetn;
  IBUFDS_GTE2 refclk_ibuf (.I(pcie_refclk_p), .IB(pcie_refclk_n), .O(refclk), .ODIV2(), .CEB(1'b0));

  wire [31:0] x_awaddr, x_araddr, x_wdata, x_rdata;
  wire [3:0]  x_wstrb;
  wire [2:0]  x_awprot, x_arprot;
  wire [1:0]  x_bresp, x_rresp;
  wire x_awvalid, x_awready, x_wvalid, x_wready, x_bvalid, x_bready, x_arvalid, x_arready, x_rvalid, x_rready;
  wire [63:0] c2h_tdata; wire [7:0] c2h_tkeep; wire c2h_tvalid, c2h_tready, c2h_tlast;

  xdma_0 xdma (
    .sys_clk(refclk), .sys_rst_n(pcie_perst_n),
    .pci_exp_txp(pci_exp_txp), .pci_exp_txn(pci_exp_txn), .pci_exp_rxp(pci_exp_rxp), .pci_exp_rxn(pci_exp_rxn),
    .axi_aclk(axi_aclk), .axi_aresetn(axi_aresetn), .user_lnk_up(user_lnk_up),
    .usr_irq_req(1'b0), .usr_irq_ack(), .msi_enable(), .msi_vector_width(),
    .m_axil_awaddr(x_awaddr), .m_axil_awprot(x_awprot), .m_axil_awvalid(x_awvalid), .m_axil_awready(x_awready),
    .m_axil_wdata(x_wdata), .m_axil_wstrb(x_wstrb), .m_axil_wvalid(x_wvalid), .m_axil_wready(x_wready),
    .m_axil_bvalid(x_bvalid), .m_axil_bresp(x_bresp), .m_axil_bready(x_bready),
    .m_axil_araddr(x_araddr), .m_axil_arprot(x_arprot), .m_axil_arvalid(x_arvalid), .m_axil_arready(x_arready),
    .m_axil_rdata(x_rdata), .m_axil_rresp(x_rresp), .m_axil_rvalid(x_rvalid), .m_axil_rready(x_rready),
    .s_axis_c2h_tdata_0(c2h_tdata), .s_axis_c2h_tlast_0(c2h_tlast), .s_axis_c2h_tvalid_0(c2h_tvalid),
    .s_axis_c2h_tready_0(c2h_tready), .s_axis_c2h_tkeep_0(c2h_tkeep),
    .m_axis_h2c_tdata_0(), .m_axis_h2c_tlast_0(), .m_axis_h2c_tvalid_0(), .m_axis_h2c_tready_0(1'b1), .m_axis_h2c_tkeep_0()
  );

  // AXI4-Lite: 250 MHz (XDMA) -> 78.125 MHz (core).
  wire [31:0] c_awaddr, c_araddr;
  axil_cc_0 axil_cc (
    .s_axi_aclk(axi_aclk), .s_axi_aresetn(axi_aresetn),
    .s_axi_awaddr(x_awaddr), .s_axi_awprot(x_awprot), .s_axi_awvalid(x_awvalid), .s_axi_awready(x_awready),
    .s_axi_wdata(x_wdata), .s_axi_wstrb(x_wstrb), .s_axi_wvalid(x_wvalid), .s_axi_wready(x_wready),
    .s_axi_bresp(x_bresp), .s_axi_bvalid(x_bvalid), .s_axi_bready(x_bready),
    .s_axi_araddr(x_araddr), .s_axi_arprot(x_arprot), .s_axi_arvalid(x_arvalid), .s_axi_arready(x_arready),
    .s_axi_rdata(x_rdata), .s_axi_rresp(x_rresp), .s_axi_rvalid(x_rvalid), .s_axi_rready(x_rready),
    .m_axi_aclk(core_clk), .m_axi_aresetn(core_resetn),
    .m_axi_awaddr(c_awaddr), .m_axi_awprot(), .m_axi_awvalid(m_axil_awvalid), .m_axi_awready(m_axil_awready),
    .m_axi_wdata(m_axil_wdata), .m_axi_wstrb(m_axil_wstrb), .m_axi_wvalid(m_axil_wvalid), .m_axi_wready(m_axil_wready),
    .m_axi_bresp(m_axil_bresp), .m_axi_bvalid(m_axil_bvalid), .m_axi_bready(m_axil_bready),
    .m_axi_araddr(c_araddr), .m_axi_arprot(), .m_axi_arvalid(m_axil_arvalid), .m_axi_arready(m_axil_arready),
    .m_axi_rdata(m_axil_rdata), .m_axi_rresp(m_axil_rresp), .m_axi_rvalid(m_axil_rvalid), .m_axi_rready(m_axil_rready)
  );
  assign m_axil_awaddr = c_awaddr[CSR_ADDR_BITS-1:0];
  assign m_axil_araddr = c_araddr[CSR_ADDR_BITS-1:0];

  // AXI4-Stream: 78.125 MHz (core) -> 250 MHz (XDMA C2H channel 0).
  axis_cc_0 axis_cc (
    .s_axis_aclk(core_clk), .s_axis_aresetn(core_resetn),
    .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready), .s_axis_tlast(s_axis_tlast),
    .m_axis_aclk(axi_aclk), .m_axis_aresetn(axi_aresetn),
    .m_axis_tdata(c2h_tdata), .m_axis_tvalid(c2h_tvalid), .m_axis_tready(c2h_tready), .m_axis_tlast(c2h_tlast)
  );
  assign c2h_tkeep = 8'hFF;
endmodule
