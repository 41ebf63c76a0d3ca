# SPDX-License-Identifier: MIT OR Apache-2.0
# Vivado batch build of a QKD core for the Xilinx KC705 (XC7K325T-2FFG900C):
# creates the project, the XDMA IP (PCIe Gen2 x4, AXI4-Stream C2H channel,
# AXI4-Lite master on the user BAR) and the AXI clock converters, adds the
# generated core and the board wrapper (clocking, OSERDESE2 for Alice's
# symbol lanes, ISERDESE2 for Bob's oversampled APD inputs) and builds the
# bitstream.
#
#   qkd-gateware generate --role alice --lanes 4 --out gen/alice
#   vivado -mode batch -source constraints/xilinx/kc705/build.tcl \
#          -tclargs alice gen/alice/qkd_alice.v build/alice
#
# Arguments: role (alice|bob), path of the generated Verilog, build directory.
# Vivado is not available where this project is developed: the script is
# checked by gateware/tests/constraints_vivado.rs (commands and file
# references), not run.

if {[llength $argv] != 3} {
    puts "usage: vivado -mode batch -source build.tcl -tclargs <alice|bob> <qkd_role.v> <build_dir>"
    exit 2
}
set role      [lindex $argv 0]
set core_v    [file normalize [lindex $argv 1]]
set build_dir [file normalize [lindex $argv 2]]
if {$role ne "alice" && $role ne "bob"} {
    puts "role must be alice or bob, not $role"
    exit 2
}
if {![file exists $core_v]} {
    puts "generated core $core_v not found (run qkd-gateware generate first)"
    exit 2
}
set here  [file dirname [file normalize [info script]]]
set part  xc7k325tffg900-2
set board xilinx.com:kc705:part0:1.6
set top   qkd_${role}_kc705

# ---- Project ----
create_project -force qkd_${role} $build_dir -part $part
set_property board_part $board [current_project]
set_property target_language Verilog [current_project]

# ---- Sources: generated core + board wrapper ----
add_files -norecurse [list \
    $core_v \
    $here/hdl/qkd_kc705_clocks.v \
    $here/hdl/qkd_kc705_pcie.v \
    $here/hdl/qkd_${role}_kc705.v ]
add_files -fileset constrs_1 -norecurse [list \
    $here/qkd_kc705.xdc \
    $here/qkd_kc705_${role}.xdc ]
set_property top $top [current_fileset]

# ---- XDMA: PCIe Gen2 x4, 64-bit AXI at 250 MHz, AXI4-Stream, AXI4-Lite master BAR ----
create_ip -name xdma -vendor xilinx.com -library ip -module_name xdma_0
set_property -dict [list \
    CONFIG.mode_selection {Advanced} \
    CONFIG.pcie_blk_locn {X0Y0} \
    CONFIG.pl_link_cap_max_link_width {X4} \
    CONFIG.pl_link_cap_max_link_speed {5.0_GT/s} \
    CONFIG.axi_data_width {64_bit} \
    CONFIG.axisten_freq {250} \
    CONFIG.xdma_axi_intf_mm {AXI_Stream} \
    CONFIG.xdma_rnum_chnl {1} \
    CONFIG.xdma_wnum_chnl {1} \
    CONFIG.axilite_master_en {true} \
    CONFIG.axilite_master_size {1} \
    CONFIG.axilite_master_scale {Megabytes} \
    CONFIG.pf0_device_id {7024} \
    CONFIG.pf0_class_code_base {11} \
    CONFIG.pf0_class_code_sub {80} \
    CONFIG.xdma_sts_ports {false} \
    CONFIG.PF0_DEVICE_ID_mqdma {9024} ] [get_ips xdma_0]

# ---- AXI4-Lite clock converter: XDMA axi_aclk -> core clock ----
create_ip -name axi_clock_converter -vendor xilinx.com -library ip -module_name axil_cc_0
set_property -dict [list \
    CONFIG.PROTOCOL {AXI4LITE} \
    CONFIG.ADDR_WIDTH {32} \
    CONFIG.DATA_WIDTH {32} \
    CONFIG.ACLK_ASYNC {1} ] [get_ips axil_cc_0]

# ---- AXI4-Stream clock converter: core clock -> XDMA axi_aclk (C2H) ----
create_ip -name axis_clock_converter -vendor xilinx.com -library ip -module_name axis_cc_0
set_property -dict [list \
    CONFIG.TDATA_NUM_BYTES {8} \
    CONFIG.HAS_TLAST {1} \
    CONFIG.IS_ACLK_ASYNC {1} \
    CONFIG.SYNCHRONIZATION_STAGES {3} ] [get_ips axis_cc_0]

generate_target all [get_ips]
synth_ip [get_ips]

# ---- Implementation ----
launch_runs synth_1 -jobs 4
wait_on_run synth_1
if {[get_property PROGRESS [get_runs synth_1]] ne "100%"} {
    puts "synthesis failed"
    exit 1
}
launch_runs impl_1 -to_step write_bitstream -jobs 4
wait_on_run impl_1
if {[get_property PROGRESS [get_runs impl_1]] ne "100%"} {
    puts "implementation failed"
    exit 1
}
open_run impl_1
report_timing_summary -file $build_dir/timing_summary.rpt
report_utilization -file $build_dir/utilization.rpt
set wns [get_property STATS.WNS [get_runs impl_1]]
puts "qkd: $role bitstream $build_dir/qkd_${role}.runs/impl_1/${top}.bit, WNS $wns ns"
if {$wns < 0} {
    puts "timing not met (WNS $wns ns)"
    exit 1
}
