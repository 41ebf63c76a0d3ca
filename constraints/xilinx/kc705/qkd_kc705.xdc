## SPDX-License-Identifier: MIT OR Apache-2.0
## Xilinx KC705 (XC7K325T-2FFG900C) constraints for the QKD cores.
## Pin numbers from the KC705 user guide (UG810) / board master XDC;
## check them against your board revision. Common to both roles;
## build.tcl adds qkd_kc705_<role>.xdc for the role's FMC pins.

## ---- System clock: 200 MHz LVDS oscillator (SYSCLK_P/N) ----
set_property -dict {PACKAGE_PIN AD12 IOSTANDARD LVDS} [get_ports sysclk_p]
set_property -dict {PACKAGE_PIN AD11 IOSTANDARD LVDS} [get_ports sysclk_n]
create_clock -name sysclk -period 5.000 [get_ports sysclk_p]

## CPU_RESET push button (active high)
set_property -dict {PACKAGE_PIN AB7 IOSTANDARD LVCMOS15} [get_ports cpu_reset]
set_false_path -from [get_ports cpu_reset]

## ---- Fabric and SERDES clocks (from the MMCM in qkd_kc705_clocks.v) ----
## Vivado derives the generated clocks from the MMCM settings; the names
## make reports and the expected frequencies explicit:
##   clk_fabric 78.125 MHz (12.800 ns): core clock, OSERDES/ISERDES CLKDIV domain
##   clk_156    156.25 MHz ( 6.400 ns): OSERDES CLK (Alice, DDR 4:1), ISERDES CLKDIV (Bob)
##   clk_625    625    MHz ( 1.600 ns): ISERDES CLK (Bob), 0 and 90 degrees
create_generated_clock -name clk_fabric [get_pins clocks/mmcm/CLKOUT3]
create_generated_clock -name clk_156    [get_pins clocks/mmcm/CLKOUT2]
create_generated_clock -name clk_625    [get_pins clocks/mmcm/CLKOUT0]
create_generated_clock -name clk_625_90 [get_pins clocks/mmcm/CLKOUT1]

## ---- PCIe (XDMA, Gen2 x4): 100 MHz reference clock, PERST# ----
set_property PACKAGE_PIN U8 [get_ports pcie_refclk_p]
set_property PACKAGE_PIN U7 [get_ports pcie_refclk_n]
create_clock -name pcie_refclk -period 10.000 [get_ports pcie_refclk_p]
set_property -dict {PACKAGE_PIN G25 IOSTANDARD LVCMOS25 PULLUP true} [get_ports pcie_perst_n]
set_false_path -from [get_ports pcie_perst_n]
## The GTX lane locations come from the XDMA IP (board part kc705).

## The XDMA user clock (axi_aclk, 250 MHz) and the core clock meet only in
## the AXI clock converters, which carry their own CDC constraints.
set_clock_groups -asynchronous \
  -group [get_clocks -of_objects [get_pins pcie/xdma/axi_aclk]] \
  -group [get_clocks {clk_fabric clk_156 clk_625 clk_625_90}]

## ---- Status LEDs ----
set_property -dict {PACKAGE_PIN AB8 IOSTANDARD LVCMOS15} [get_ports {led[0]}]
set_property -dict {PACKAGE_PIN AA8 IOSTANDARD LVCMOS15} [get_ports {led[1]}]
set_property -dict {PACKAGE_PIN AC9 IOSTANDARD LVCMOS15} [get_ports {led[2]}]
set_property -dict {PACKAGE_PIN AB9 IOSTANDARD LVCMOS15} [get_ports {led[3]}]

## ---- Bitstream ----
set_property CFGBVS VCCO [current_design]
set_property CONFIG_VOLTAGE 2.5 [current_design]
set_property BITSTREAM.CONFIG.CONFIGRATE 50 [current_design]
set_property BITSTREAM.GENERAL.COMPRESS TRUE [current_design]
