// SPDX-License-Identifier: MIT OR Apache-2.0
// Clocking for the QKD cores on the Xilinx KC705 (XC7K325T-2FFG900C),
// 7 Series Clocking Resources (UG472) / SelectIO (UG471).
// 200 MHz SYSCLK -> MMCME2_ADV, VCO 1250 MHz (M = 6.25, D = 1):
//   clk_625      625    MHz,  0 deg  ISERDES CLK (Bob, 2.5 GS/s via two phases)
//   clk_625_90   625    MHz, 90 deg  ISERDES CLK of the second sampler (Bob)
//   clk_156      156.25 MHz          OSERDES CLK (Alice, DDR 4:1) / ISERDES CLKDIV (Bob)
//   clk_fabric   78.125 MHz          core clock (LANES = 4), OSERDES CLKDIV
module qkd_kc705_clocks(
  input  wire sysclk_p,
  input  wire sysclk_n,
  input  wire rst,
  output wire clk_625,
  output wire clk_625_90,
  output wire clk_156,
  output wire clk_fabric,
  output wire locked
);
  wire sysclk, fb, fb_buf, c0, c1, c2, c3;
  IBUFDS #(.DIFF_TERM("FALSE"), .IOSTANDARD("LVDS")) sysclk_ibuf (.I(sysclk_p), .IB(sysclk_n), .O(sysclk));
  MMCME2_ADV #(
    .BANDWIDTH("OPTIMIZED"),
    .CLKIN1_PERIOD(5.000),
    .DIVCLK_DIVIDE(1),
    .CLKFBOUT_MULT_F(6.250),
    .CLKOUT0_DIVIDE_F(2.000), .CLKOUT0_PHASE(0.000),
    .CLKOUT1_DIVIDE(2),       .CLKOUT1_PHASE(90.000),
    .CLKOUT2_DIVIDE(8),       .CLKOUT2_PHASE(0.000),
    .CLKOUT3_DIVIDE(16),      .CLKOUT3_PHASE(0.000)
  ) mmcm (
    .CLKIN1(sysclk), .CLKIN2(1'b0), .CLKINSEL(1'b1), .RST(rst), .PWRDWN(1'b0),
    .CLKFBIN(fb_buf), .CLKFBOUT(fb), .CLKFBOUTB(),
    .CLKOUT0(c0), .CLKOUT0B(), .CLKOUT1(c1), .CLKOUT1B(), .CLKOUT2(c2), .CLKOUT2B(),
    .CLKOUT3(c3), .CLKOUT3B(), .CLKOUT4(), .CLKOUT5(), .CLKOUT6(),
    .DADDR(7'd0), .DCLK(1'b0), .DEN(1'b0), .DI(16'd0), .DO(), .DRDY(), .DWE(1'b0),
    .PSCLK(1'b0), .PSEN(1'b0), .PSINCDEC(1'b0), .PSDONE(),
    .LOCKED(locked), .CLKINSTOPPED(), .CLKFBSTOPPED()
  );
  BUFG fb_bufg  (.I(fb), .O(fb_buf));
  BUFG c0_bufg  (.I(c0), .O(clk_625));
  BUFG c1_bufg  (.I(c1), .O(clk_625_90));
  BUFG c2_bufg  (.I(c2), .O(clk_156));
  BUFG c3_bufg  (.I(c3), .O(clk_fabric));
endmodule
