// SPDX-License-Identifier: MIT OR Apache-2.0
// Port-level stand-ins (no behaviour) for the Xilinx primitives and IP
// cores that the KC705 wrappers instantiate, so that Verilator can lint the
// wrappers against the generated cores without Vivado. Port names follow
// UG953 (7 Series libraries guide) and the IP product guides (PG195 XDMA,
// PG059 AXI Interconnect clock converter, PG085 AXI4-Stream infrastructure).
/* verilator lint_off UNUSEDSIGNAL */
/* verilator lint_off UNDRIVEN */
/* verilator lint_off UNUSEDPARAM */
module IBUFDS #(parameter DIFF_TERM = "FALSE", parameter IOSTANDARD = "DEFAULT") (input wire I, input wire IB, output wire O);
  assign O = I;
endmodule
module IBUFDS_DIFF_OUT #(parameter DIFF_TERM = "FALSE", parameter IOSTANDARD = "DEFAULT") (input wire I, input wire IB, output wire O, output wire OB);
  assign O = I; assign OB = IB;
endmodule
module IBUFDS_GTE2 (input wire I, input wire IB, input wire CEB, output wire O, output wire ODIV2);
  assign O = I; assign ODIV2 = I;
endmodule
module OBUFDS #(parameter IOSTANDARD = "DEFAULT") (input wire I, output wire O, output wire OB);
  assign O = I; assign OB = ~I;
endmodule
module BUFG (input wire I, output wire O);
  assign O = I;
endmodule
module MMCME2_ADV #(
  parameter BANDWIDTH = "OPTIMIZED", parameter real CLKIN1_PERIOD = 0.0, parameter integer DIVCLK_DIVIDE = 1,
  parameter real CLKFBOUT_MULT_F = 5.0, parameter real CLKOUT0_DIVIDE_F = 1.0, parameter real CLKOUT0_PHASE = 0.0,
  parameter integer CLKOUT1_DIVIDE = 1, parameter real CLKOUT1_PHASE = 0.0,
  parameter integer CLKOUT2_DIVIDE = 1, parameter real CLKOUT2_PHASE = 0.0,
  parameter integer CLKOUT3_DIVIDE = 1, parameter real CLKOUT3_PHASE = 0.0
) (
  input wire CLKIN1, input wire CLKIN2, input wire CLKINSEL, input wire RST, input wire PWRDWN, input wire CLKFBIN,
  output wire CLKFBOUT, output wire CLKFBOUTB,
  output wire CLKOUT0, output wire CLKOUT0B, output wire CLKOUT1, output wire CLKOUT1B, output wire CLKOUT2, output wire CLKOUT2B,
  output wire CLKOUT3, output wire CLKOUT3B, output wire CLKOUT4, output wire CLKOUT5, output wire CLKOUT6,
  input wire [6:0] DADDR, input wire DCLK, input wire DEN, input wire [15:0] DI, output wire [15:0] DO, output wire DRDY, input wire DWE,
  input wire PSCLK, input wire PSEN, input wire PSINCDEC, output wire PSDONE,
  output wire LOCKED, output wire CLKINSTOPPED, output wire CLKFBSTOPPED
);
endmodule
module OSERDESE2 #(
  parameter DATA_RATE_OQ = "DDR", parameter DATA_RATE_TQ = "DDR", parameter integer DATA_WIDTH = 4,
  parameter SERDES_MODE = "MASTER", parameter integer TRISTATE_WIDTH = 4, parameter [0:0] INIT_OQ = 1'b0,
  parameter [0:0] SRVAL_OQ = 1'b0
) (
  input wire CLK, input wire CLKDIV, input wire RST, input wire OCE, input wire TCE,
  input wire D1, input wire D2, input wire D3, input wire D4, input wire D5, input wire D6, input wire D7, input wire D8,
  input wire T1, input wire T2, input wire T3, input wire T4, input wire TBYTEIN,
  input wire SHIFTIN1, input wire SHIFTIN2, output wire OQ, output wire OFB, output wire TQ, output wire TFB,
  output wire TBYTEOUT, output wire SHIFTOUT1, output wire SHIFTOUT2
);
endmodule
module ISERDESE2 #(
  parameter INTERFACE_TYPE = "MEMORY", parameter DATA_RATE = "DDR", parameter integer DATA_WIDTH = 4,
  parameter SERDES_MODE = "MASTER", parameter IOBDELAY = "NONE", parameter integer NUM_CE = 2,
  parameter OFB_USED = "FALSE", parameter DYN_CLKDIV_INV_EN = "FALSE", parameter DYN_CLK_INV_EN = "FALSE"
) (
  input wire D, input wire DDLY, input wire CLK, input wire CLKB, input wire CLKDIV, input wire CLKDIVP,
  input wire OCLK, input wire OCLKB, input wire RST, input wire CE1, input wire CE2, input wire BITSLIP,
  input wire DYNCLKDIVSEL, input wire DYNCLKSEL, input wire OFB, input wire SHIFTIN1, input wire SHIFTIN2,
  output wire Q1, output wire Q2, output wire Q3, output wire Q4, output wire Q5, output wire Q6, output wire Q7, output wire Q8,
  output wire O, output wire SHIFTOUT1, output wire SHIFTOUT2
);
endmodule
module xdma_0 (
  input wire sys_clk, input wire sys_rst_n,
  output wire [3:0] pci_exp_txp, output wire [3:0] pci_exp_txn, input wire [3:0] pci_exp_rxp, input wire [3:0] pci_exp_rxn,
  output wire axi_aclk, output wire axi_aresetn, output wire user_lnk_up,
  input wire [0:0] usr_irq_req, output wire [0:0] usr_irq_ack, output wire msi_enable, output wire [2:0] msi_vector_width,
  output wire [31:0] m_axil_awaddr, output wire [2:0] m_axil_awprot, output wire m_axil_awvalid, input wire m_axil_awready,
  output wire [31:0] m_axil_wdata, output wire [3:0] m_axil_wstrb, output wire m_axil_wvalid, input wire m_axil_wready,
  input wire m_axil_bvalid, input wire [1:0] m_axil_bresp, output wire m_axil_bready,
  output wire [31:0] m_axil_araddr, output wire [2:0] m_axil_arprot, output wire m_axil_arvalid, input wire m_axil_arready,
  input wire [31:0] m_axil_rdata, input wire [1:0] m_axil_rresp, input wire m_axil_rvalid, output wire m_axil_rready,
  input wire [63:0] s_axis_c2h_tdata_0, input wire s_axis_c2h_tlast_0, input wire s_axis_c2h_tvalid_0,
  output wire s_axis_c2h_tready_0, input wire [7:0] s_axis_c2h_tkeep_0,
  output wire [63:0] m_axis_h2c_tdata_0, output wire m_axis_h2c_tlast_0, output wire m_axis_h2c_tvalid_0,
  input wire m_axis_h2c_tready_0, output wire [7:0] m_axis_h2c_tkeep_0
);
endmodule
module axil_cc_0 (
  input wire s_axi_aclk, input wire s_axi_aresetn,
  input wire [31:0] s_axi_awaddr, input wire [2:0] s_axi_awprot, input wire s_axi_awvalid, output wire s_axi_awready,
  input wire [31:0] s_axi_wdata, input wire [3:0] s_axi_wstrb, input wire s_axi_wvalid, output wire s_axi_wready,
  output wire [1:0] s_axi_bresp, output wire s_axi_bvalid, input wire s_axi_bready,
  input wire [31:0] s_axi_araddr, input wire [2:0] s_axi_arprot, input wire s_axi_arvalid, output wire s_axi_arready,
  output wire [31:0] s_axi_rdata, output wire [1:0] s_axi_rresp, output wire s_axi_rvalid, input wire s_axi_rready,
  input wire m_axi_aclk, input wire m_axi_aresetn,
  output wire [31:0] m_axi_awaddr, output wire [2:0] m_axi_awprot, output wire m_axi_awvalid, input wire m_axi_awready,
  output wire [31:0] m_axi_wdata, output wire [3:0] m_axi_wstrb, output wire m_axi_wvalid, input wire m_axi_wready,
  input wire [1:0] m_axi_bresp, input wire m_axi_bvalid, output wire m_axi_bready,
  output wire [31:0] m_axi_araddr, output wire [2:0] m_axi_arprot, output wire m_axi_arvalid, input wire m_axi_arready,
  input wire [31:0] m_axi_rdata, input wire [1:0] m_axi_rresp, input wire m_axi_rvalid, output wire m_axi_rready
);
endmodule
module axis_cc_0 (
  input wire s_axis_aclk, input wire s_axis_aresetn,
  input wire [63:0] s_axis_tdata, input wire s_axis_tvalid, output wire s_axis_tready, input wire s_axis_tlast,
  input wire m_axis_aclk, input wire m_axis_aresetn,
  output wire [63:0] m_axis_tdata, output wire m_axis_tvalid, input wire m_axis_tready, output wire m_axis_tlast
);
endmodule
