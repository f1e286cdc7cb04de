//! A hand-written [`QmpHandler`]: the thermostat's state behind a mutex,
//! and the commands that read and change it.

use std::sync::{Mutex, MutexGuard};

use qapi_support::QmpError;

use crate::qmp::{
    AddSensor, Event, HeatingMode, QmpHandler, SensorInfo, SensorInfoBranch, SensorKind, SetTarget,
    Setpoint, TargetSpec, TemperatureChangedEvent, ThermostatStatus, WirelessSensor,
};

/// The presets every thermostat knows, in degrees Celsius.
const PRESETS: &[(&str, f64)] = &[("away", 16.0), ("comfort", COMFORT_CELSIUS), ("frost", 7.0)];

/// The target a new thermostat starts with.
const COMFORT_CELSIUS: f64 = 21.0;

/// The id the built-in sensor has from the start.
const BUILTIN_SENSOR: &str = "builtin";

/// The radio channel new wireless sensors are paired on.
const PAIRING_CHANNEL: u8 = 11;

/// How far the temperature must move for a `TEMPERATURE_CHANGED` event.
const REPORT_STEP: f64 = 0.5;

/// A simulated thermostat that answers the schema's commands.
///
/// Commands it does not implement (none, unless the `fan` feature is on
/// and the fan is missing) get the trait's default: `CommandNotFound`,
/// as QEMU answers a command it was built without.
#[derive(Debug)]
pub struct Thermostat {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    model: String,
    mode: HeatingMode,
    celsius: f64,
    /// The temperature last reported in an event.
    reported: f64,
    target: Option<Setpoint>,
    sensors: Vec<SensorInfo>,
    #[cfg(feature = "fan")]
    fan_rpm: u16,
}

impl Thermostat {
    /// A thermostat of hardware model `model`, heating in comfort mode to
    /// the `comfort` preset, measuring 20 °C with its built-in sensor.
    pub fn new(model: &str) -> Self {
        Thermostat {
            state: Mutex::new(State::new(model.to_string())),
        }
    }

    /// Records a new measurement; returns the event to send when it moved
    /// far enough from the last one reported.
    pub fn measure(&self, celsius: f64, sensor: Option<&str>) -> Option<Event> {
        let mut s = self.lock();
        s.celsius = celsius;
        if (celsius - s.reported).abs() < REPORT_STEP {
            return None;
        }
        s.reported = celsius;
        let mut data = TemperatureChangedEvent::new(celsius);
        data.sensor = sensor.map(str::to_string);
        Some(Event::TemperatureChanged(data))
    }

    /// Forgets every setting, as after a power cut; returns the event
    /// that says so.
    pub fn reset(&self) -> Event {
        let mut s = self.lock();
        let model = std::mem::take(&mut s.model);
        *s = State::new(model);
        Event::ThermostatReset
    }

    /// The state, even if a panic elsewhere poisoned the lock: every
    /// command leaves it consistent before it could panic.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn preset(name: &str) -> Option<f64> {
    PRESETS.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

impl State {
    fn new(model: String) -> Self {
        State {
            model,
            mode: HeatingMode::Comfort,
            celsius: 20.0,
            reported: 20.0,
            target: Some(Setpoint::new(COMFORT_CELSIUS)),
            sensors: vec![SensorInfo::new(
                BUILTIN_SENSOR.to_string(),
                SensorInfoBranch::Builtin,
            )],
            #[cfg(feature = "fan")]
            fan_rpm: 0,
        }
    }

    fn status(&self) -> ThermostatStatus {
        let mut status = ThermostatStatus::new(self.model.clone(), self.mode, self.celsius);
        if self.mode != HeatingMode::Off {
            status.target = self.target.clone();
        }
        #[cfg(feature = "fan")]
        {
            status.fan_rpm = Some(self.fan_rpm);
        }
        status
    }
}

impl QmpHandler for Thermostat {
    fn query_thermostat(&self) -> Result<ThermostatStatus, QmpError> {
        Ok(self.lock().status())
    }

    fn set_target(&self, args: SetTarget) -> Result<ThermostatStatus, QmpError> {
        let setpoint = match args.target {
            TargetSpec::Preset(name) => Setpoint::new(
                preset(&name)
                    .ok_or_else(|| QmpError::generic(format!("Preset '{name}' does not exist")))?,
            ),
            TargetSpec::Setpoint(sp) => sp,
        };
        if !(5.0..=30.0).contains(&setpoint.celsius) {
            return Err(QmpError::generic(
                "Parameter 'celsius' expects a temperature from 5 to 30",
            ));
        }
        let mut s = self.lock();
        s.target = Some(setpoint);
        if let Some(mode) = args.mode {
            s.mode = mode;
        }
        Ok(s.status())
    }

    fn add_sensor(&self, args: AddSensor) -> Result<SensorInfo, QmpError> {
        let branch = match (args.kind, args.wired) {
            (SensorKind::Builtin, _) => {
                return Err(QmpError::generic("The thermostat has one built-in sensor"))
            }
            (SensorKind::Wired, Some(w)) => SensorInfoBranch::Wired(w),
            (SensorKind::Wired, None) => {
                return Err(QmpError::generic("Parameter 'wired' is missing"))
            }
            (SensorKind::Wireless, None) => {
                SensorInfoBranch::Wireless(WirelessSensor::new(PAIRING_CHANNEL))
            }
            (SensorKind::Wireless, Some(_)) => {
                return Err(QmpError::generic(
                    "Parameter 'wired' is only for wired sensors",
                ))
            }
        };
        let mut s = self.lock();
        if s.sensors.iter().any(|x| x.id == args.id) {
            return Err(QmpError::generic(format!(
                "Sensor '{}' already exists",
                args.id
            )));
        }
        let info = SensorInfo::new(args.id, branch);
        s.sensors.push(info.clone());
        Ok(info)
    }

    fn query_sensors(&self) -> Result<Vec<SensorInfo>, QmpError> {
        Ok(self.lock().sensors.clone())
    }

    #[cfg(feature = "fan")]
    fn set_fan_speed(
        &self,
        args: crate::qmp::SetFanSpeed,
    ) -> Result<qapi_support::Empty, QmpError> {
        self.lock().fan_rpm = args.rpm;
        Ok(qapi_support::Empty {})
    }
}
