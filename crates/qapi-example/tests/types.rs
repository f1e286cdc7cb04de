//! JSON round trips of every kind of generated type: exact wire values,
//! and back.

use std::str::FromStr;

use qapi_example::qmp::{
    HeatingMode, RadioLink, SensorInfo, SensorInfoBranch, SensorKind, Setpoint, TargetSpec,
    ThermostatStatus, WiredSensor, WirelessSensor,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

/// Encodes `value`, checks the JSON is exactly `wire`, decodes `wire`
/// and checks it gives `value` back.
fn round_trip<T>(value: &T, wire: Value)
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    assert_eq!(serde_json::to_value(value).expect("encodes"), wire);
    let back: T = serde_json::from_value(wire).expect("decodes");
    assert_eq!(&back, value);
}

fn decode_error<T: DeserializeOwned + std::fmt::Debug>(wire: Value) -> String {
    serde_json::from_value::<T>(wire)
        .expect_err("must not decode")
        .to_string()
}

#[test]
fn enum_values_on_the_wire() {
    round_trip(&HeatingMode::Off, json!("off"));
    round_trip(&HeatingMode::Comfort, json!("comfort"));
    // A value with a dash, and one that is a Rust keyword.
    round_trip(&HeatingMode::EcoNight, json!("eco-night"));
    round_trip(&HeatingMode::Static, json!("static"));
    round_trip(&SensorKind::Wireless, json!("wireless"));
}

#[test]
fn enum_as_str_from_str_display() {
    assert_eq!(
        HeatingMode::ALL,
        &[
            HeatingMode::Off,
            HeatingMode::Comfort,
            HeatingMode::EcoNight,
            HeatingMode::Static
        ]
    );
    for &mode in HeatingMode::ALL {
        assert_eq!(HeatingMode::from_str(mode.as_str()), Ok(mode));
        assert_eq!(mode.to_string(), mode.as_str());
    }
    assert_eq!(HeatingMode::EcoNight.as_str(), "eco-night");
    assert_eq!("static".parse::<HeatingMode>(), Ok(HeatingMode::Static));

    let err = "EcoNight".parse::<HeatingMode>().unwrap_err();
    assert_eq!(err.type_name, "HeatingMode");
    assert_eq!(err.value, "EcoNight");
    assert_eq!(err.to_string(), "'EcoNight' is not a value of HeatingMode");
}

#[test]
fn enum_rejects_unknown_values() {
    let err = decode_error::<HeatingMode>(json!("turbo"));
    assert!(err.contains("turbo"), "{err}");
    decode_error::<HeatingMode>(json!(1));
}

#[test]
fn struct_leaves_out_absent_optional_members() {
    round_trip(&Setpoint::new(21.5), json!({"celsius": 21.5}));
    let mut held = Setpoint::new(19.0);
    held.hold_minutes = Some(90);
    round_trip(&held, json!({"celsius": 19.0, "hold-minutes": 90}));
}

#[test]
fn struct_member_named_type() {
    let status = ThermostatStatus::new("wall-2".into(), HeatingMode::Off, 18.25);
    assert_eq!(status.q_type, "wall-2");
    round_trip(
        &status,
        json!({"type": "wall-2", "mode": "off", "celsius": 18.25}),
    );

    let mut full = status.clone();
    full.mode = HeatingMode::EcoNight;
    full.target = Some(Setpoint::new(17.0));
    full.humidity = Some(45);
    round_trip(
        &full,
        json!({
            "type": "wall-2",
            "mode": "eco-night",
            "celsius": 18.25,
            "target": {"celsius": 17.0},
            "humidity": 45
        }),
    );
}

#[test]
fn struct_requires_its_required_members() {
    let err = decode_error::<ThermostatStatus>(json!({"mode": "off", "celsius": 1.0}));
    assert!(err.contains("type"), "{err}");
    // Clients ignore members they do not know (a newer server may send
    // them).
    let status: ThermostatStatus = serde_json::from_value(
        json!({"type": "t", "mode": "off", "celsius": 1.0, "colour": "white"}),
    )
    .expect("unknown members are ignored");
    assert_eq!(status.q_type, "t");
}

#[test]
fn struct_with_base_is_flat_on_the_wire() {
    let mut sensor = WirelessSensor::new(11);
    round_trip(&sensor, json!({"channel": 11}));
    sensor.signal_dbm = Some(-67);
    sensor.battery_percent = Some(80);
    round_trip(
        &sensor,
        json!({"channel": 11, "signal-dbm": -67, "battery-percent": 80}),
    );
    // The base alone.
    round_trip(&RadioLink::new(3), json!({"channel": 3}));
}

#[test]
fn union_branches_with_the_tag() {
    round_trip(
        &SensorInfo::new(
            "hall".into(),
            SensorInfoBranch::Wired(WiredSensor::new(0, 0x48)),
        ),
        json!({"id": "hall", "kind": "wired", "bus": 0, "address": 72}),
    );
    let mut radio = WirelessSensor::new(11);
    radio.battery_percent = Some(5);
    round_trip(
        &SensorInfo::new("attic".into(), SensorInfoBranch::Wireless(radio)),
        json!({"id": "attic", "kind": "wireless", "channel": 11, "battery-percent": 5}),
    );
}

#[test]
fn union_implicit_empty_branch() {
    round_trip(
        &SensorInfo::new("builtin".into(), SensorInfoBranch::Builtin),
        json!({"id": "builtin", "kind": "builtin"}),
    );
}

#[test]
fn union_rejects_unknown_or_missing_tag() {
    let err = decode_error::<SensorInfo>(json!({"id": "x", "kind": "infrared"}));
    assert!(err.contains("infrared"), "{err}");
    let err = decode_error::<SensorInfo>(json!({"id": "x"}));
    assert!(err.contains("kind"), "{err}");
}

#[test]
fn alternate_branch_follows_the_json_type() {
    round_trip(&TargetSpec::Preset("away".into()), json!("away"));
    round_trip(
        &TargetSpec::Setpoint(Setpoint::new(20.5)),
        json!({"celsius": 20.5}),
    );
    // A string that looks like an object's member is still a preset.
    let v: TargetSpec = serde_json::from_value(json!("celsius")).expect("a string");
    assert_eq!(v, TargetSpec::Preset("celsius".into()));
    // The object branch is decoded as that branch, with its errors.
    let err = decode_error::<TargetSpec>(json!({"hold-minutes": 5}));
    assert!(err.contains("celsius"), "{err}");
}

#[test]
fn alternate_rejects_other_json_types() {
    for wire in [json!(20), json!(true), json!(null), json!(["away"])] {
        let err = decode_error::<TargetSpec>(wire.clone());
        assert!(err.contains("TargetSpec"), "{wire}: {err}");
    }
}

#[test]
#[allow(deprecated)]
fn deprecated_member_still_works() {
    let mut status = ThermostatStatus::new("wall-2".into(), HeatingMode::Comfort, 20.0);
    status.fahrenheit = Some(true);
    round_trip(
        &status,
        json!({"type": "wall-2", "mode": "comfort", "celsius": 20.0, "fahrenheit": true}),
    );
}

#[cfg(feature = "fan")]
#[test]
fn fan_member_with_feature_fan() {
    let mut status = ThermostatStatus::new("wall-2".into(), HeatingMode::Comfort, 20.0);
    status.fan_rpm = Some(1200);
    round_trip(
        &status,
        json!({"type": "wall-2", "mode": "comfort", "celsius": 20.0, "fan-rpm": 1200}),
    );
}

#[cfg(not(feature = "fan"))]
#[test]
fn fan_member_absent_without_feature_fan() {
    // The member does not exist in Rust (`status.fan_rpm` would not
    // compile); a server that sends it anyway is read without it.
    let status: ThermostatStatus = serde_json::from_value(
        json!({"type": "wall-2", "mode": "comfort", "celsius": 20.0, "fan-rpm": 1200}),
    )
    .expect("decodes");
    assert_eq!(
        serde_json::to_value(&status).expect("encodes"),
        json!({"type": "wall-2", "mode": "comfort", "celsius": 20.0})
    );
}
