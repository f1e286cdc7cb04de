//! Commands: the `Command` trait's facts, and `dispatch` through the
//! hand-written `Thermostat` with QEMU's error texts for bad arguments.

use qapi_example::qmp::{self, QmpHandler};
use qapi_example::Thermostat;
use qapi_support::{Command, ErrorClass, QmpError};
use serde_json::{json, Map, Value};

/// Runs `command` with `arguments` (a JSON object) through the generated
/// dispatcher.
fn run(handler: &dyn QmpHandler, command: &str, arguments: Value) -> Result<Value, QmpError> {
    let Value::Object(arguments) = arguments else {
        panic!("arguments must be an object: {arguments}");
    };
    qmp::dispatch(handler, command, arguments)
}

/// The `GenericError` text a bad request gets.
fn refused(command: &str, arguments: Value) -> String {
    let err = run(&Thermostat::new("wall-2"), command, arguments).expect_err("must fail");
    assert_eq!(err.class, ErrorClass::GenericError, "{err}");
    err.desc
}

/// Compiles only when `C::Returns` is `R`.
fn returns<C: Command<Returns = R>, R>() {}

#[test]
fn command_consts() {
    assert_eq!(qmp::QueryThermostat::NAME, "query-thermostat");
    assert_eq!(qmp::SetTarget::NAME, "set-target");
    assert_eq!(qmp::AddSensor::NAME, "add-sensor");
    assert_eq!(qmp::QuerySensors::NAME, "query-sensors");

    returns::<qmp::QueryThermostat, qmp::ThermostatStatus>();
    returns::<qmp::SetTarget, qmp::ThermostatStatus>();
    returns::<qmp::AddSensor, qmp::SensorInfo>();
    returns::<qmp::QuerySensors, Vec<qmp::SensorInfo>>();

    // The flags are constants: checked when the test compiles.  Only
    // query-sensors is allowed before the machine is configured.
    const {
        assert!(!qmp::QueryThermostat::ALLOW_PRECONFIG);
        assert!(qmp::QuerySensors::ALLOW_PRECONFIG);
        assert!(!qmp::SetTarget::ALLOW_OOB);
        assert!(qmp::SetTarget::SUCCESS_RESPONSE);
        assert!(!qmp::AddSensor::BOXED);
    }
}

#[test]
fn command_list() {
    let names: Vec<&str> = qmp::COMMANDS.iter().map(|c| c.name).collect();
    let mut want = vec![
        "query-thermostat",
        "set-target",
        "add-sensor",
        "query-sensors",
    ];
    if cfg!(feature = "fan") {
        want.push("set-fan-speed");
    }
    assert_eq!(names, want);
    let sensors = qmp::COMMANDS
        .iter()
        .find(|c| c.name == "query-sensors")
        .expect("listed");
    assert!(sensors.allow_preconfig && sensors.success_response && !sensors.deprecated);
}

#[test]
fn arguments_encode_as_the_request_does() {
    let mut args = qmp::SetTarget::new(qmp::TargetSpec::Preset("away".into()));
    assert_eq!(
        serde_json::to_value(&args).unwrap(),
        json!({"target": "away"})
    );
    args.mode = Some(qmp::HeatingMode::Static);
    assert_eq!(
        serde_json::to_value(&args).unwrap(),
        json!({"target": "away", "mode": "static"})
    );
    assert_eq!(
        serde_json::to_value(qmp::QueryThermostat {}).unwrap(),
        json!({})
    );
}

#[test]
fn dispatch_without_arguments() {
    let reply = run(&Thermostat::new("wall-2"), "query-thermostat", json!({})).unwrap();
    assert_eq!(
        reply,
        if cfg!(feature = "fan") {
            json!({"type": "wall-2", "mode": "comfort", "celsius": 20.0,
                   "target": {"celsius": 21.0}, "fan-rpm": 0})
        } else {
            json!({"type": "wall-2", "mode": "comfort", "celsius": 20.0,
                   "target": {"celsius": 21.0}})
        }
    );
    // The reply decodes as the command's `Returns`.
    let status: <qmp::QueryThermostat as Command>::Returns = serde_json::from_value(reply).unwrap();
    assert_eq!(status.mode, qmp::HeatingMode::Comfort);
}

#[test]
fn dispatch_with_arguments() {
    let t = Thermostat::new("wall-2");
    let reply = run(
        &t,
        "set-target",
        json!({"target": "away", "mode": "eco-night"}),
    )
    .unwrap();
    assert_eq!(reply["mode"], "eco-night");
    assert_eq!(reply["target"], json!({"celsius": 16.0}));

    let reply = run(
        &t,
        "set-target",
        json!({"target": {"celsius": 22.5, "hold-minutes": 30}}),
    )
    .unwrap();
    assert_eq!(reply["mode"], "eco-night", "mode left as it was");
    assert_eq!(
        reply["target"],
        json!({"celsius": 22.5, "hold-minutes": 30})
    );

    // Mode off: the target is kept but not reported.
    let reply = run(&t, "set-target", json!({"target": "frost", "mode": "off"})).unwrap();
    assert_eq!(reply.get("target"), None);
}

#[test]
fn dispatch_union_replies() {
    let t = Thermostat::new("wall-2");
    let reply = run(
        &t,
        "add-sensor",
        json!({"id": "hall", "kind": "wired", "wired": {"bus": 1, "address": 16}}),
    )
    .unwrap();
    assert_eq!(
        reply,
        json!({"id": "hall", "kind": "wired", "bus": 1, "address": 16})
    );
    run(&t, "add-sensor", json!({"id": "attic", "kind": "wireless"})).unwrap();

    let reply = run(&t, "query-sensors", json!({})).unwrap();
    assert_eq!(
        reply,
        json!([
            {"id": "builtin", "kind": "builtin"},
            {"id": "hall", "kind": "wired", "bus": 1, "address": 16},
            {"id": "attic", "kind": "wireless", "channel": 11}
        ])
    );
    let sensors: Vec<qmp::SensorInfo> = serde_json::from_value(reply).unwrap();
    assert_eq!(sensors[0].u, qmp::SensorInfoBranch::Builtin);
}

#[test]
fn handler_errors_pass_through() {
    assert_eq!(
        refused("set-target", json!({"target": "sauna"})),
        "Preset 'sauna' does not exist"
    );
    assert_eq!(
        refused("add-sensor", json!({"id": "builtin", "kind": "wireless"})),
        "Sensor 'builtin' already exists"
    );
    assert_eq!(
        refused("add-sensor", json!({"id": "x", "kind": "wired"})),
        "Parameter 'wired' is missing"
    );
}

#[test]
fn unknown_command() {
    let err = run(&Thermostat::new("wall-2"), "foo", json!({})).unwrap_err();
    assert_eq!(err.class, ErrorClass::CommandNotFound);
    assert_eq!(err.desc, "The command foo has not been found");
    assert_eq!(
        serde_json::to_value(&err).unwrap(),
        json!({"class": "CommandNotFound", "desc": "The command foo has not been found"})
    );
}

#[test]
fn unimplemented_command_is_not_found() {
    /// A handler that implements nothing: every command gets the trait's
    /// default answer.
    struct Nothing;
    impl QmpHandler for Nothing {}

    let err = run(&Nothing, "query-thermostat", json!({})).unwrap_err();
    assert_eq!(err.class, ErrorClass::CommandNotFound);
    assert_eq!(err.desc, "The command query-thermostat has not been found");
}

#[test]
fn missing_argument() {
    assert_eq!(
        refused("add-sensor", json!({"kind": "wired"})),
        "Parameter 'id' is missing"
    );
    assert_eq!(
        refused("set-target", json!({})),
        "Parameter 'target' is missing"
    );
    assert_eq!(
        refused(
            "add-sensor",
            json!({"id": "a", "kind": "wired", "wired": {"bus": 1}})
        ),
        "Parameter 'wired.address' is missing"
    );
}

#[test]
fn unexpected_argument() {
    assert_eq!(
        refused("query-thermostat", json!({"verbose": true})),
        "Parameter 'verbose' is unexpected"
    );
    assert_eq!(
        refused(
            "add-sensor",
            json!({"id": "a", "kind": "wired",
                   "wired": {"bus": 1, "address": 2, "colour": "red"}})
        ),
        "Parameter 'wired.colour' is unexpected"
    );
    assert_eq!(
        refused("set-target", json!({"target": {"celsius": 20, "until": 5}})),
        "Parameter 'target.until' is unexpected"
    );
}

#[test]
fn argument_of_the_wrong_type() {
    assert_eq!(
        refused("add-sensor", json!({"id": 7, "kind": "wired"})),
        "Invalid parameter type for 'id', expected: string"
    );
    assert_eq!(
        refused(
            "add-sensor",
            json!({"id": "a", "kind": "wired", "wired": [1, 2]})
        ),
        "Invalid parameter type for 'wired', expected: object"
    );
    assert_eq!(
        refused("set-target", json!({"target": {"celsius": "warm"}})),
        "Invalid parameter type for 'target.celsius', expected: number"
    );
    // An alternate names itself when no branch takes the JSON type.
    assert_eq!(
        refused("set-target", json!({"target": 20})),
        "Invalid parameter type for 'target', expected: TargetSpec"
    );
}

#[test]
fn enum_argument_with_an_unknown_value() {
    assert_eq!(
        refused("add-sensor", json!({"id": "a", "kind": "bogus"})),
        "Parameter 'kind' does not accept value 'bogus'"
    );
    assert_eq!(
        refused("set-target", json!({"target": "away", "mode": "turbo"})),
        "Parameter 'mode' does not accept value 'turbo'"
    );
}

#[cfg(feature = "fan")]
#[test]
fn fan_command_with_feature_fan() {
    assert_eq!(qmp::SetFanSpeed::NAME, "set-fan-speed");
    returns::<qmp::SetFanSpeed, qapi_support::Empty>();
    let t = Thermostat::new("wall-2");
    // A command that returns nothing replies `{}`.
    assert_eq!(
        run(&t, "set-fan-speed", json!({"rpm": 900})).unwrap(),
        json!({})
    );
    let status = t.query_thermostat().unwrap();
    assert_eq!(status.fan_rpm, Some(900));
}

#[cfg(not(feature = "fan"))]
#[test]
fn fan_command_absent_without_feature_fan() {
    // Compiled out: refused as QEMU refuses a command it was built without.
    let err = run(
        &Thermostat::new("wall-2"),
        "set-fan-speed",
        json!({"rpm": 900}),
    )
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::CommandNotFound);
    assert_eq!(err.desc, "The command set-fan-speed has not been found");
}

#[test]
fn dispatch_takes_a_plain_map() {
    // What a server loop has after reading `{"execute": ..., "arguments": ...}`.
    let request: Value =
        serde_json::from_str(r#"{"execute": "query-sensors", "arguments": {}}"#).unwrap();
    let args: Map<String, Value> = request["arguments"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let name = request["execute"].as_str().unwrap();
    let reply = qmp::dispatch(&Thermostat::new("wall-2"), name, args).unwrap();
    assert_eq!(reply, json!([{"id": "builtin", "kind": "builtin"}]));
}
