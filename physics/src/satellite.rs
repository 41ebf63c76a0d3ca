// SPDX-License-Identifier: MIT OR Apache-2.0
//! A low-Earth-orbit satellite downlink pass: elevation and slant range over
//! time, and the channel transmittance they give.
//!
//! * Pass geometry (circular orbit of radius `r = R_E + h`, Earth rotation
//!   neglected, the ground track's closest approach at central angle
//!   `gamma_0`): the central angle between station and satellite is
//!   `cos gamma(t) = cos gamma_0 cos(omega t)` (spherical right triangle),
//!   `omega = sqrt(GM / r^3)`; slant range `R = sqrt(R_E^2 + r^2 - 2 R_E r cos
//!   gamma)`, elevation `sin eps = (r cos gamma - R_E) / R`; for an elevation
//!   `eps` the central angle is `acos(R_E cos eps / r) - eps` (Vallado,
//!   Fundamentals of Astrodynamics and Applications, 4th ed. (2013), Sec.
//!   11.3; Bourgoin et al., NJP 15, 023006 (2013), Sec. 3).
//! * Diffraction (beam spreading): a beam of full-angle divergence `theta`
//!   from an aperture `D_T` is `D_T + theta R` wide at range `R`; a telescope
//!   of diameter `D_R` collects `min(1, (D_R / (D_T + theta R))^2)`.
//! * Atmosphere: zenith transmittance `T_z` raised to the air mass
//!   `1 / sin eps` (plane-parallel atmosphere; Bourgoin et al. 2013, Eq. 6).
//! * Pointing jitter: mean loss `w^2 / (w^2 + 4 (sigma_p R)^2)` as in
//!   `free_space`.
//!
//! The pass runs from `min_elevation` up to `max_elevation` and back down,
//! sampled every `step_s` seconds.

use crate::ParamError;

/// Earth radius, km.
pub const EARTH_RADIUS_KM: f64 = 6371.0;
/// Earth's gravitational parameter GM, km^3 / s^2.
pub const EARTH_GM_KM3_S2: f64 = 398_600.441_8;

/// Satellite pass parameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SatellitePassParams {
    /// Orbit altitude, km.
    pub altitude_km: f64,
    /// Highest elevation of the pass, degrees.
    pub max_elevation_deg: f64,
    /// Elevation at which the link starts and ends, degrees.
    pub min_elevation_deg: f64,
    /// Transmitter aperture (beam diameter), m.
    pub tx_aperture_m: f64,
    /// Ground telescope diameter, m.
    pub rx_aperture_m: f64,
    /// Full-angle beam divergence, microradians.
    pub divergence_urad: f64,
    /// Atmospheric transmittance at zenith.
    pub zenith_transmittance: f64,
    /// Pointing jitter, per-axis rms, microradians.
    pub pointing_jitter_urad: f64,
    /// Time step of the pass schedule, s.
    pub step_s: f64,
}

impl Default for SatellitePassParams {
    /// A Micius-like downlink (see examples/links/satellite-pass.toml).
    fn default() -> Self {
        SatellitePassParams {
            altitude_km: 500.0,
            max_elevation_deg: 50.0,
            min_elevation_deg: 20.0,
            tx_aperture_m: 0.3,
            rx_aperture_m: 1.0,
            divergence_urad: 10.0,
            zenith_transmittance: 0.5,
            pointing_jitter_urad: 1.0,
            step_s: 1.0,
        }
    }
}

/// One point of the pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PassPoint {
    /// Time from the start of the pass, s.
    pub time_s: f64,
    /// Elevation, degrees.
    pub elevation_deg: f64,
    /// Slant range, km.
    pub range_km: f64,
    /// Channel transmittance (diffraction x atmosphere x pointing).
    pub transmittance: f64,
}

impl SatellitePassParams {
    /// Check ranges; the error names the field.
    pub fn validate(&self) -> Result<(), ParamError> {
        let bad = |field: &'static str, value: f64| ParamError::OutOfRange { field, value };
        if !(self.altitude_km > 0.0 && self.altitude_km < 1e5) {
            return Err(bad("channel.satellite_pass.altitude_km", self.altitude_km));
        }
        if !(self.max_elevation_deg > 0.0 && self.max_elevation_deg <= 90.0) {
            return Err(bad(
                "channel.satellite_pass.max_elevation_deg",
                self.max_elevation_deg,
            ));
        }
        if !(self.min_elevation_deg > 0.0 && self.min_elevation_deg < self.max_elevation_deg) {
            return Err(bad(
                "channel.satellite_pass.min_elevation_deg",
                self.min_elevation_deg,
            ));
        }
        if !(self.rx_aperture_m > 0.0 && self.rx_aperture_m.is_finite()) {
            return Err(bad(
                "channel.satellite_pass.rx_aperture_m",
                self.rx_aperture_m,
            ));
        }
        if !(self.tx_aperture_m >= 0.0 && self.divergence_urad > 0.0) {
            return Err(bad(
                "channel.satellite_pass.divergence_urad",
                self.divergence_urad,
            ));
        }
        if !(self.zenith_transmittance > 0.0 && self.zenith_transmittance <= 1.0) {
            return Err(bad(
                "channel.satellite_pass.zenith_transmittance",
                self.zenith_transmittance,
            ));
        }
        if !(self.pointing_jitter_urad >= 0.0 && self.pointing_jitter_urad.is_finite()) {
            return Err(bad(
                "channel.satellite_pass.pointing_jitter_urad",
                self.pointing_jitter_urad,
            ));
        }
        if !(self.step_s > 0.0 && self.step_s.is_finite()) {
            return Err(bad("channel.satellite_pass.step_s", self.step_s));
        }
        Ok(())
    }

    fn orbit_radius_km(&self) -> f64 {
        EARTH_RADIUS_KM + self.altitude_km
    }

    /// Orbital angular velocity, rad/s.
    pub fn angular_velocity_rad_s(&self) -> f64 {
        (EARTH_GM_KM3_S2 / self.orbit_radius_km().powi(3)).sqrt()
    }

    /// Central angle at which the satellite is seen at `elevation_deg`.
    pub fn central_angle_rad(&self, elevation_deg: f64) -> f64 {
        let e = elevation_deg.to_radians();
        (EARTH_RADIUS_KM * e.cos() / self.orbit_radius_km()).acos() - e
    }

    /// Slant range at `elevation_deg`, km:
    /// `sqrt(r^2 - R_E^2 cos^2 eps) - R_E sin eps`.
    pub fn range_at_elevation_km(&self, elevation_deg: f64) -> f64 {
        let e = elevation_deg.to_radians();
        let (r, re) = (self.orbit_radius_km(), EARTH_RADIUS_KM);
        (r * r - re * re * e.cos() * e.cos()).sqrt() - re * e.sin()
    }

    /// Duration of the pass above `min_elevation_deg`, s.
    pub fn duration_s(&self) -> f64 {
        let g0 = self.central_angle_rad(self.max_elevation_deg);
        let g1 = self.central_angle_rad(self.min_elevation_deg);
        2.0 * (g1.cos() / g0.cos()).clamp(-1.0, 1.0).acos() / self.angular_velocity_rad_s()
    }

    /// Elevation (degrees) and slant range (km) at `t` seconds from the
    /// highest point (negative before it).
    pub fn geometry_at(&self, t_from_peak_s: f64) -> (f64, f64) {
        let g0 = self.central_angle_rad(self.max_elevation_deg);
        let cg = g0.cos() * (self.angular_velocity_rad_s() * t_from_peak_s).cos();
        let (r, re) = (self.orbit_radius_km(), EARTH_RADIUS_KM);
        let range = (re * re + r * r - 2.0 * re * r * cg).sqrt();
        let sin_e = ((r * cg - re) / range).clamp(-1.0, 1.0);
        (sin_e.asin().to_degrees(), range)
    }

    /// Channel transmittance at `elevation_deg` and `range_km`.
    pub fn transmittance(&self, elevation_deg: f64, range_km: f64) -> f64 {
        let beam = self.tx_aperture_m + self.divergence_urad * 1e-6 * range_km * 1e3;
        let geometric = (self.rx_aperture_m / beam).powi(2).min(1.0);
        let sin_e = elevation_deg.to_radians().sin().max(1e-3);
        let atmosphere = self.zenith_transmittance.powf(1.0 / sin_e);
        let w = beam / 2.0;
        let sr = self.pointing_jitter_urad * 1e-6 * range_km * 1e3;
        let pointing = w * w / (w * w + 4.0 * sr * sr);
        geometric * atmosphere * pointing
    }

    /// The pass, one point per step (mid-step times), from rise to set.
    pub fn points(&self) -> Vec<PassPoint> {
        let d = self.duration_s();
        let n = (d / self.step_s).ceil().max(1.0) as usize;
        (0..n)
            .map(|i| {
                let t = (i as f64 + 0.5) * self.step_s;
                let (e, r) = self.geometry_at(t - d / 2.0);
                PassPoint {
                    time_s: t,
                    elevation_deg: e,
                    range_km: r,
                    transmittance: self.transmittance(e, r),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micius() -> SatellitePassParams {
        SatellitePassParams {
            altitude_km: 500.0,
            max_elevation_deg: 50.0,
            min_elevation_deg: 20.0,
            tx_aperture_m: 0.3,
            rx_aperture_m: 1.0,
            divergence_urad: 10.0,
            zenith_transmittance: 0.5,
            pointing_jitter_urad: 1.0,
            step_s: 1.0,
        }
    }

    // By hand: r = 6871 km. At 20 deg elevation the slant range is
    // sqrt(6871^2 - 6371^2 cos^2 20) - 6371 sin 20 = 1192.8 km; at 50 deg,
    // 636.8 km (Liao et al. 2017 quote 645 km to 1,200 km).
    #[test]
    fn slant_ranges_by_hand() {
        let p = micius();
        let r20 = p.range_at_elevation_km(20.0);
        let r50 = p.range_at_elevation_km(50.0);
        assert!((r20 - 1192.8).abs() < 0.1, "{r20}");
        assert!((r50 - 636.77).abs() < 0.01, "{r50}");
        // The pass geometry gives the same ranges at its peak and its ends.
        let (e0, g0) = p.geometry_at(0.0);
        assert!((e0 - 50.0).abs() < 1e-9 && (g0 - r50).abs() < 1e-6);
        let (e1, g1) = p.geometry_at(p.duration_s() / 2.0);
        assert!(
            (e1 - 20.0).abs() < 1e-6 && (g1 - r20).abs() < 1e-3,
            "{e1} {g1}"
        );
    }

    // By hand: omega = sqrt(398600.4418 / 6871^3) = 1.108508e-3 rad/s;
    // gamma_0 = acos(6371 cos 50 / 6871) - 50 deg = 0.059605 rad,
    // gamma_1 = acos(6371 cos 20 / 6871) - 20 deg = 0.163862 rad;
    // t = 2 acos(cos gamma_1 / cos gamma_0) / omega = 275.6 s.
    #[test]
    fn pass_duration_by_hand() {
        let p = micius();
        assert!((p.angular_velocity_rad_s() - 1.108508e-3).abs() < 1e-9);
        assert!((p.central_angle_rad(50.0) - 0.059605).abs() < 1e-5);
        assert!((p.central_angle_rad(20.0) - 0.163862).abs() < 1e-5);
        let d = p.duration_s();
        assert!((d - 275.55).abs() < 0.01, "{d}");
        assert_eq!(p.points().len(), d.ceil() as usize);
    }

    // By hand at the peak (636.8 km, 50 deg): beam 0.3 + 6.368 = 6.668 m,
    // (1 / 6.668)^2 = 0.022493; air mass 1 / sin 50 = 1.30541, 0.5^1.30541
    // = 0.40461; pointing w = 3.334 m, sigma_r = 0.6368 m:
    // 11.115 / (11.115 + 1.6220) = 0.87266. Product 7.942e-3 (21.0 dB).
    #[test]
    fn transmittance_by_hand() {
        let p = micius();
        let r = p.range_at_elevation_km(50.0);
        let t = p.transmittance(50.0, r);
        let beam = 0.3 + 10e-6 * r * 1e3;
        let want = (1.0 / beam).powi(2)
            * 0.5f64.powf(1.0 / 50f64.to_radians().sin())
            * (beam * beam / 4.0 / (beam * beam / 4.0 + 4.0 * (r * 1e-3).powi(2)));
        assert!((t / want - 1.0).abs() < 1e-12);
        assert!((t - 7.942e-3).abs() < 2e-6, "{t}");
        // Lower in the sky: more range and more air, less light.
        let pts = p.points();
        let mid = pts[pts.len() / 2].transmittance;
        assert!(pts[0].transmittance < mid / 5.0);
    }
}
