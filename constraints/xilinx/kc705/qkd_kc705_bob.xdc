## SPDX-License-Identifier: MIT OR Apache-2.0
## KC705 role-specific pins; read after qkd_kc705.xdc by build.tcl.

## ---- Bob: APD comparator inputs (ISERDES, 2 x 1.25 GS/s per detector) ----
set_property -dict {PACKAGE_PIN G29 IOSTANDARD LVDS_25 DIFF_TERM TRUE} [get_ports {apd_p[0]}]
set_property -dict {PACKAGE_PIN F30 IOSTANDARD LVDS_25 DIFF_TERM TRUE} [get_ports {apd_n[0]}]
set_property -dict {PACKAGE_PIN H30 IOSTANDARD LVDS_25 DIFF_TERM TRUE} [get_ports {apd_p[1]}]
set_property -dict {PACKAGE_PIN G30 IOSTANDARD LVDS_25 DIFF_TERM TRUE} [get_ports {apd_n[1]}]
## Bob: sync from Alice's sync lane (after the classical sync receiver)
set_property -dict {PACKAGE_PIN E28 IOSTANDARD LVDS_25 DIFF_TERM TRUE} [get_ports sync_in_p]
set_property -dict {PACKAGE_PIN D28 IOSTANDARD LVDS_25 DIFF_TERM TRUE} [get_ports sync_in_n]
## Bob: APD gate enables, one per detector (lane-0 gate, serialized like Alice's lanes)
set_property -dict {PACKAGE_PIN E29 IOSTANDARD LVDS_25} [get_ports {gate_p[0]}]
set_property -dict {PACKAGE_PIN E30 IOSTANDARD LVDS_25} [get_ports {gate_n[0]}]
set_property -dict {PACKAGE_PIN B30 IOSTANDARD LVDS_25} [get_ports {gate_p[1]}]
set_property -dict {PACKAGE_PIN A30 IOSTANDARD LVDS_25} [get_ports {gate_n[1]}]


## Bob: basis modulator drive (serialized like the gates)
set_property -dict {PACKAGE_PIN D29 IOSTANDARD LVDS_25} [get_ports basis_p]
set_property -dict {PACKAGE_PIN C30 IOSTANDARD LVDS_25} [get_ports basis_n]
