//! Events: the generated `Event` enum inside `qapi_support::EventMessage`
//! is exactly what QMP puts on the wire.

use qapi_example::qmp::{Event, TemperatureChangedEvent};
use qapi_example::Thermostat;
use qapi_support::{EventMessage, Timestamp};
use serde_json::json;

const WHEN: Timestamp = Timestamp {
    seconds: 1_700_000_000,
    microseconds: 250_000,
};

fn round_trip(message: &EventMessage<Event>, wire: serde_json::Value) {
    assert_eq!(serde_json::to_value(message).expect("encodes"), wire);
    let back: EventMessage<Event> = serde_json::from_value(wire).expect("decodes");
    assert_eq!(&back, message);
}

#[test]
fn event_with_data() {
    let mut data = TemperatureChangedEvent::new(19.5);
    data.sensor = Some("hall".into());
    let event = Event::TemperatureChanged(data);
    assert_eq!(event.name(), "TEMPERATURE_CHANGED");
    round_trip(
        &EventMessage {
            event,
            timestamp: WHEN,
        },
        json!({
            "event": "TEMPERATURE_CHANGED",
            "data": {"celsius": 19.5, "sensor": "hall"},
            "timestamp": {"seconds": 1_700_000_000, "microseconds": 250_000}
        }),
    );
}

#[test]
fn event_data_leaves_out_absent_members() {
    round_trip(
        &EventMessage {
            event: Event::TemperatureChanged(TemperatureChangedEvent::new(-2.0)),
            timestamp: WHEN,
        },
        json!({
            "event": "TEMPERATURE_CHANGED",
            "data": {"celsius": -2.0},
            "timestamp": {"seconds": 1_700_000_000, "microseconds": 250_000}
        }),
    );
}

#[test]
fn event_without_data() {
    // QEMU sends no `data` member for an event that has none.
    assert_eq!(Event::ThermostatReset.name(), "THERMOSTAT_RESET");
    round_trip(
        &EventMessage {
            event: Event::ThermostatReset,
            timestamp: WHEN,
        },
        json!({
            "event": "THERMOSTAT_RESET",
            "timestamp": {"seconds": 1_700_000_000, "microseconds": 250_000}
        }),
    );
}

#[test]
fn unknown_event_is_an_error() {
    let err = serde_json::from_value::<EventMessage<Event>>(json!({
        "event": "DOOR_OPENED",
        "timestamp": {"seconds": 1, "microseconds": 2}
    }))
    .expect_err("not an event of this schema");
    assert!(err.to_string().contains("DOOR_OPENED"), "{err}");
}

#[test]
fn handler_emits_events() {
    let t = Thermostat::new("wall-2");
    assert_eq!(t.measure(20.3, None), None, "less than half a degree");
    let event = t.measure(20.6, Some("hall")).expect("moved half a degree");
    let message = EventMessage {
        event,
        timestamp: Timestamp::now(),
    };
    let wire = serde_json::to_value(&message).unwrap();
    assert_eq!(wire["event"], "TEMPERATURE_CHANGED");
    assert_eq!(wire["data"], json!({"celsius": 20.6, "sensor": "hall"}));
    assert!(wire["timestamp"]["seconds"].as_i64().unwrap() > 0);

    assert_eq!(t.reset(), Event::ThermostatReset);
}
