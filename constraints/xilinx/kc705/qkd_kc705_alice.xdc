## SPDX-License-Identifier: MIT OR Apache-2.0
## KC705 role-specific pins; read after qkd_kc705.xdc by build.tcl.

## ---- Alice: symbol-bit serializers, LVDS on FMC HPC LA pairs ----
set_property -dict {PACKAGE_PIN C25 IOSTANDARD LVDS_25} [get_ports {sym_p[0]}]
set_property -dict {PACKAGE_PIN B25 IOSTANDARD LVDS_25} [get_ports {sym_n[0]}]
set_property -dict {PACKAGE_PIN D26 IOSTANDARD LVDS_25} [get_ports {sym_p[1]}]
set_property -dict {PACKAGE_PIN C26 IOSTANDARD LVDS_25} [get_ports {sym_n[1]}]
set_property -dict {PACKAGE_PIN H24 IOSTANDARD LVDS_25} [get_ports {sym_p[2]}]
set_property -dict {PACKAGE_PIN H25 IOSTANDARD LVDS_25} [get_ports {sym_n[2]}]
set_property -dict {PACKAGE_PIN H26 IOSTANDARD LVDS_25} [get_ports {sym_p[3]}]
set_property -dict {PACKAGE_PIN H27 IOSTANDARD LVDS_25} [get_ports {sym_n[3]}]
set_property -dict {PACKAGE_PIN G28 IOSTANDARD LVDS_25} [get_ports sync_p]
set_property -dict {PACKAGE_PIN F28 IOSTANDARD LVDS_25} [get_ports sync_n]

