//! libvirt's schema queries over a `query-qmp-schema` reply: does the QEMU
//! that sent it have this command, this argument, this union branch, this
//! enum value, this feature?
//!
//! A query is `/`-separated steps starting at a command or event name
//! (libvirt's syntax, `src/qemu/qemu_qapi.c`):
//! * on a command or event, `arg-type` / `ret-type` steps into that type;
//! * on an object, `name` steps into member `name`, `*name` likewise but
//!   only if the member is optional, `+case` into the union branch `case`;
//! * on an enum, `^value` holds if the enum has the value (`^value/$feat`:
//!   and that value has feature `feat`; any other step after `^value` is a
//!   malformed query);
//! * `$feat` holds if the current entity has feature `feat` (it must be the
//!   last step);
//! * `!jsontype` holds if the current type is a built-in of that JSON type;
//! * arrays are looked through to their element type; alternates are tried
//!   branch by branch.
//!
//! Steps that run out on an entity answer true; a step that matches
//! nothing answers false.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// A malformed query or reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError(pub String);

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QueryError {}

/// A `query-qmp-schema` reply, indexed by entity name.
#[derive(Debug, Clone)]
pub struct SchemaIndex<'a> {
    by_name: HashMap<&'a str, &'a Map<String, Value>>,
}

impl<'a> SchemaIndex<'a> {
    /// Indexes a reply: `{"return": [...]}` or the bare list of
    /// `SchemaInfo` objects.
    pub fn new(reply: &'a Value) -> Result<Self, QueryError> {
        let list = match reply {
            Value::Array(a) => a,
            Value::Object(o) => match o.get("return") {
                Some(Value::Array(a)) => a,
                _ => return Err(QueryError("expected {\"return\": [...]} or a list".into())),
            },
            _ => return Err(QueryError("expected {\"return\": [...]} or a list".into())),
        };
        let mut by_name = HashMap::with_capacity(list.len());
        for item in list {
            let o = item
                .as_object()
                .ok_or_else(|| QueryError("a SchemaInfo entry is not an object".into()))?;
            let name = o
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| QueryError("a SchemaInfo entry has no name".into()))?;
            by_name.insert(name, o);
        }
        Ok(SchemaIndex { by_name })
    }

    /// The entity named `name` (a command, event, or masked type name).
    pub fn entity(&self, name: &str) -> Option<&'a Map<String, Value>> {
        self.by_name.get(name).copied()
    }

    /// Answers `query` as libvirt does: `Ok(true)`, `Ok(false)`, or an
    /// error for a malformed query.
    pub fn query(&self, query: &str) -> Result<bool, QueryError> {
        let mut steps = query.split('/');
        let base = steps.next().unwrap_or_default();
        if base.is_empty() {
            return Err(QueryError(format!("'{query}': empty query")));
        }
        let steps: Vec<&str> = steps.collect();
        if steps.iter().any(|s| s.is_empty()) {
            return Err(QueryError(format!("'{query}': empty step")));
        }
        let Some(cur) = self.entity(base) else {
            return Ok(false);
        };
        self.walk(cur, &steps, 0)
            .map_err(|why| QueryError(format!("'{query}': {why}")))
    }

    fn lookup(&self, o: &Map<String, Value>, key: &str) -> Option<&'a Map<String, Value>> {
        self.entity(o.get(key)?.as_str()?)
    }

    /// Depth guards against a reply whose types refer to each other in a
    /// loop through arrays or alternates.
    fn walk(&self, cur: &Map<String, Value>, steps: &[&str], depth: usize) -> Result<bool, String> {
        if depth > 256 {
            return Ok(false);
        }
        let Some((&step, rest)) = steps.split_first() else {
            return Ok(true);
        };
        let meta = cur.get("meta-type").and_then(Value::as_str).unwrap_or("");
        if let Some(feat) = step.strip_prefix('$') {
            if !rest.is_empty() {
                return Err(format!("'${feat}' must be the last step"));
            }
            return Ok(has_feature(cur, feat));
        }
        match meta {
            "command" | "event" => match self.lookup(cur, step) {
                Some(t) if step == "arg-type" || step == "ret-type" => {
                    self.walk(t, rest, depth + 1)
                }
                _ => Ok(false),
            },
            "object" => {
                let (kind, name) = match step.as_bytes()[0] {
                    b'+' => ('+', &step[1..]),
                    b'*' => ('*', &step[1..]),
                    b'^' | b'!' => return Ok(false),
                    _ => (' ', step),
                };
                let (list, key) = if kind == '+' {
                    ("variants", "case")
                } else {
                    ("members", "name")
                };
                let found = cur
                    .get(list)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_object)
                    .find(|m| m.get(key).and_then(Value::as_str) == Some(name));
                let Some(m) = found else { return Ok(false) };
                if kind == '*' && !m.contains_key("default") {
                    return Ok(false);
                }
                match self.lookup(m, "type") {
                    Some(t) => self.walk(t, rest, depth + 1),
                    None => Ok(false),
                }
            }
            "array" => match self.lookup(cur, "element-type") {
                Some(t) => self.walk(t, steps, depth + 1),
                None => Ok(false),
            },
            "alternate" => {
                for m in cur
                    .get("members")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(t) = m.as_object().and_then(|m| self.lookup(m, "type")) {
                        if self.walk(t, steps, depth + 1)? {
                            return Ok(true);
                        }
                    }
                }
                Ok(false)
            }
            "enum" => {
                let Some(value) = step.strip_prefix('^') else {
                    return Ok(false);
                };
                let feature = match rest {
                    [] => None,
                    [f] if f.starts_with('$') => Some(&f[1..]),
                    _ => return Err(format!("only '$feature' may follow '^{value}'")),
                };
                if let Some(members) = cur.get("members").and_then(Value::as_array) {
                    let m = members
                        .iter()
                        .filter_map(Value::as_object)
                        .find(|m| m.get("name").and_then(Value::as_str) == Some(value));
                    return Ok(match (m, feature) {
                        (None, _) => false,
                        (Some(_), None) => true,
                        (Some(m), Some(f)) => has_feature(m, f),
                    });
                }
                // Before QEMU 6.2 an enum listed bare "values".
                let values = cur.get("values").and_then(Value::as_array);
                let has = values
                    .into_iter()
                    .flatten()
                    .any(|v| v.as_str() == Some(value));
                Ok(has && feature.is_none())
            }
            "builtin" => match step.strip_prefix('!') {
                Some(t) => {
                    Ok(rest.is_empty() && cur.get("json-type").and_then(Value::as_str) == Some(t))
                }
                None => Ok(false),
            },
            _ => Ok(false),
        }
    }
}

fn has_feature(o: &Map<String, Value>, feat: &str) -> bool {
    o.get("features")
        .and_then(Value::as_array)
        .is_some_and(|fs| fs.iter().any(|f| f.as_str() == Some(feat)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Value {
        serde_json::json!({"return": [
            {"name": "blockdev-add", "meta-type": "command", "arg-type": "0", "ret-type": "9"},
            {"name": "0", "meta-type": "object", "tag": "driver",
             "members": [{"name": "driver", "type": "1"}, {"name": "node-name", "type": "str", "default": null}],
             "variants": [{"case": "file", "type": "2"}]},
            {"name": "1", "meta-type": "enum", "members": [{"name": "file"}, {"name": "io_uring", "features": ["unstable"]}]},
            {"name": "2", "meta-type": "object", "members": [{"name": "aio", "type": "1"}, {"name": "list", "type": "3"}, {"name": "alt", "type": "4"}], "features": ["dynamic"]},
            {"name": "3", "meta-type": "array", "element-type": "2"},
            {"name": "4", "meta-type": "alternate", "members": [{"type": "str"}, {"type": "null"}]},
            {"name": "str", "meta-type": "builtin", "json-type": "string"},
            {"name": "null", "meta-type": "builtin", "json-type": "null"},
            {"name": "9", "meta-type": "object", "members": []},
            {"name": "OLD", "meta-type": "event", "arg-type": "5"},
            {"name": "5", "meta-type": "enum", "values": ["a"]}
        ]})
    }

    #[test]
    fn queries() {
        let reply = schema();
        let s = SchemaIndex::new(&reply).expect("valid");
        let cases: [(&str, Result<bool, ()>); 22] = [
            ("blockdev-add", Ok(true)),
            ("nonexistent", Ok(false)),
            ("blockdev-add/arg-type", Ok(true)),
            ("blockdev-add/arg-type/driver", Ok(true)),
            ("blockdev-add/arg-type/*driver", Ok(false)),
            ("blockdev-add/arg-type/*node-name", Ok(true)),
            ("blockdev-add/arg-type/+file", Ok(true)),
            ("blockdev-add/arg-type/+nvme", Ok(false)),
            ("blockdev-add/arg-type/+file/aio/^io_uring", Ok(true)),
            (
                "blockdev-add/arg-type/+file/aio/^io_uring/$unstable",
                Ok(true),
            ),
            ("blockdev-add/arg-type/+file/aio/^file/$unstable", Ok(false)),
            ("blockdev-add/arg-type/+file/aio/^io_uring/x", Err(())),
            ("blockdev-add/arg-type/+file/$dynamic", Ok(true)),
            ("blockdev-add/arg-type/+file/$dynamic/x", Err(())),
            ("blockdev-add/arg-type/+file/list/aio", Ok(true)),
            ("blockdev-add/arg-type/+file/alt/!null", Ok(true)),
            ("blockdev-add/arg-type/+file/alt/!number", Ok(false)),
            ("blockdev-add/arg-type/^file", Ok(false)),
            ("blockdev-add/nonsense", Ok(false)),
            ("OLD/arg-type/^a", Ok(true)),
            ("blockdev-add//x", Err(())),
            ("", Err(())),
        ];
        for (q, want) in cases {
            assert_eq!(s.query(q).map_err(|_| ()), want, "{q}");
        }
    }
}
