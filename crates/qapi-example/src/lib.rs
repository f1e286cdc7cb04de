//! A made-up room thermostat's QMP interface, generated from
//! `schema/example.json` by `qapi_gen::Builder` in `build.rs`: the
//! end-to-end example of the build-script path.
//!
//! [`qmp`] holds everything generated: one module per schema file (their
//! items re-exported), the [`qmp::Event`] enum, the [`qmp::QmpHandler`]
//! trait and [`qmp::dispatch`].  [`Thermostat`] is a small hand-written
//! handler for it.
//!
//! ```
//! use qapi_example::{qmp, Thermostat};
//! use serde_json::json;
//!
//! let thermostat = Thermostat::new("wall-2");
//! let args = json!({"target": "away", "mode": "eco-night"});
//! let serde_json::Value::Object(args) = args else { unreachable!() };
//! let reply = qmp::dispatch(&thermostat, "set-target", args)?;
//! assert_eq!(reply["mode"], "eco-night");
//! assert_eq!(reply["target"], json!({"celsius": 16.0}));
//! # Ok::<(), qapi_support::QmpError>(())
//! ```
//!
//! Members with the `deprecated` feature are `#[deprecated]` in Rust, so
//! using one warns (here made an error):
//!
//! ```compile_fail
//! #![deny(deprecated)]
//! use qapi_example::qmp::{HeatingMode, ThermostatStatus};
//! let mut status = ThermostatStatus::new("wall-2".into(), HeatingMode::Off, 18.0);
//! status.fahrenheit = Some(true);
//! ```
//!
//! and compiles where that is allowed:
//!
//! ```
//! #![deny(deprecated)]
//! use qapi_example::qmp::{HeatingMode, ThermostatStatus};
//! let mut status = ThermostatStatus::new("wall-2".into(), HeatingMode::Off, 18.0);
//! #[allow(deprecated)]
//! {
//!     status.fahrenheit = Some(true);
//! }
//! ```

#![warn(missing_docs)]

/// The code `qapi-gen` generated from `schema/example.json`.
pub mod qmp {
    include!(concat!(env!("OUT_DIR"), "/qapi.rs"));
}

mod handler;

pub use handler::Thermostat;
