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

/// A `query-qmp-schema` reply, indexed by entity name once: queries and
/// validations then look entities up without rebuilding anything.
#[derive(Debug, Clone)]
pub struct SchemaIndex {
    /// The `SchemaInfo` objects, as the reply lists them.
    list: Vec<Map<String, Value>>,
    /// Position in `list` by entity name.
    by_name: HashMap<String, usize>,
}

impl SchemaIndex {
    /// Indexes a reply: `{"return": [...]}` or the bare list of
    /// `SchemaInfo` objects.
    pub fn new(reply: Value) -> Result<Self, QueryError> {
        let shape = || QueryError("expected {\"return\": [...]} or a list".into());
        let list = match reply {
            Value::Array(a) => a,
            Value::Object(mut o) => match o.remove("return") {
                Some(Value::Array(a)) => a,
                _ => return Err(shape()),
            },
            _ => return Err(shape()),
        };
        let mut objects = Vec::with_capacity(list.len());
        let mut by_name = HashMap::with_capacity(list.len());
        for item in list {
            let Value::Object(o) = item else {
                return Err(QueryError("a SchemaInfo entry is not an object".into()));
            };
            let name = o
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| QueryError("a SchemaInfo entry has no name".into()))?;
            by_name.insert(name.to_string(), objects.len());
            objects.push(o);
        }
        Ok(SchemaIndex {
            list: objects,
            by_name,
        })
    }

    /// The `SchemaInfo` objects, in the reply's order.
    pub fn entities(&self) -> &[Map<String, Value>] {
        &self.list
    }

    /// The entity named `name` (a command, event, or masked type name).
    pub fn entity(&self, name: &str) -> Option<&Map<String, Value>> {
        self.by_name.get(name).map(|&i| &self.list[i])
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

    /// The entity a path names (`blockdev-add/arg-type`): steps as in
    /// [`SchemaIndex::query`], member and branch steps only.
    pub fn resolve(&self, path: &str) -> Result<&Map<String, Value>, QueryError> {
        let mut steps = path.split('/');
        let base = steps.next().unwrap_or_default();
        let mut cur = self
            .entity(base)
            .ok_or_else(|| QueryError(format!("'{path}': no '{base}' in the schema")))?;
        for step in steps {
            let meta = cur.get("meta-type").and_then(Value::as_str).unwrap_or("");
            let next = match meta {
                "command" | "event" => self.lookup(cur, step),
                "object" => {
                    let (list, key, name) = match step.strip_prefix('+') {
                        Some(case) => ("variants", "case", case),
                        None => ("members", "name", step.trim_start_matches('*')),
                    };
                    cur.get(list)
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_object)
                        .find(|m| m.get(key).and_then(Value::as_str) == Some(name))
                        .and_then(|m| self.lookup(m, "type"))
                }
                _ => None,
            };
            cur = next.ok_or_else(|| QueryError(format!("'{path}': no step '{step}'")))?;
            while cur.get("meta-type").and_then(Value::as_str) == Some("array") {
                match self.lookup(cur, "element-type") {
                    Some(t) if !std::ptr::eq(t, cur) => cur = t,
                    _ => break,
                }
            }
        }
        Ok(cur)
    }

    /// Checks `value` against the type at `path` as libvirt's validation
    /// does: every mandatory member present, no unknown member, JSON types,
    /// enum values, union branches by their tag, alternates by any branch,
    /// arrays element by element.  `Err` says what is wrong, and where.
    pub fn validate(&self, path: &str, value: &Value) -> Result<(), QueryError> {
        let t = self.resolve(path)?;
        self.check(t, value, "", 0)
            .map_err(|why| QueryError(format!("'{path}': {why}")))
    }

    fn check(
        &self,
        t: &Map<String, Value>,
        v: &Value,
        at: &str,
        depth: usize,
    ) -> Result<(), String> {
        if depth > 256 {
            return Err(format!("{at}: nested too deeply"));
        }
        let here = if at.is_empty() { "the arguments" } else { at };
        match t.get("meta-type").and_then(Value::as_str).unwrap_or("") {
            "builtin" => {
                let ok = match t.get("json-type").and_then(Value::as_str).unwrap_or("") {
                    "string" => v.is_string(),
                    "int" => v.is_i64() || v.is_u64(),
                    "number" => v.is_number(),
                    "boolean" => v.is_boolean(),
                    "null" => v.is_null(),
                    _ => true,
                };
                if ok {
                    Ok(())
                } else {
                    Err(format!("{here} is not of type '{}'", t["json-type"]))
                }
            }
            "enum" => {
                let Some(s) = v.as_str() else {
                    return Err(format!("{here} is not a string"));
                };
                let names = t
                    .get("members")
                    .and_then(Value::as_array)
                    .map(|ms| ms.iter().filter_map(|m| m.get("name")).collect::<Vec<_>>())
                    .or_else(|| {
                        t.get("values")
                            .and_then(Value::as_array)
                            .map(|vs| vs.iter().collect())
                    })
                    .unwrap_or_default();
                if names.iter().any(|n| n.as_str() == Some(s)) {
                    Ok(())
                } else {
                    Err(format!("{here}: '{s}' is not a value of the enum"))
                }
            }
            "array" => {
                let Some(items) = v.as_array() else {
                    return Err(format!("{here} is not an array"));
                };
                let el = self.lookup(t, "element-type").ok_or("no element type")?;
                for (i, item) in items.iter().enumerate() {
                    self.check(el, item, &format!("{here}[{i}]"), depth + 1)?;
                }
                Ok(())
            }
            "alternate" => {
                let mut why = Vec::new();
                for m in t
                    .get("members")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(bt) = m.as_object().and_then(|m| self.lookup(m, "type")) {
                        match self.check(bt, v, at, depth + 1) {
                            Ok(()) => return Ok(()),
                            Err(e) => why.push(e),
                        }
                    }
                }
                Err(format!("{here} fits no alternative ({})", why.join("; ")))
            }
            "object" => {
                let Some(obj) = v.as_object() else {
                    return Err(format!("{here} is not an object"));
                };
                let mut members: Vec<&Map<String, Value>> = t
                    .get("members")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_object)
                    .collect();
                // A union: the tag's value picks the branch, whose members
                // count too.
                if let Some(tag) = t.get("tag").and_then(Value::as_str) {
                    if let Some(case) = obj.get(tag).and_then(Value::as_str) {
                        let branch = t
                            .get("variants")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_object)
                            .find(|b| b.get("case").and_then(Value::as_str) == Some(case))
                            .and_then(|b| self.lookup(b, "type"));
                        if let Some(bt) = branch {
                            members.extend(
                                bt.get("members")
                                    .and_then(Value::as_array)
                                    .into_iter()
                                    .flatten()
                                    .filter_map(Value::as_object),
                            );
                        }
                    }
                }
                let member = |name: &str| {
                    members
                        .iter()
                        .find(|m| m.get("name").and_then(Value::as_str) == Some(name))
                };
                for key in obj.keys() {
                    if member(key).is_none() {
                        return Err(format!(
                            "{here}: member '{key}' is not in the schema's type"
                        ));
                    }
                }
                for m in &members {
                    let name = m.get("name").and_then(Value::as_str).unwrap_or_default();
                    let path = if at.is_empty() {
                        name.to_string()
                    } else {
                        format!("{at}.{name}")
                    };
                    match obj.get(name) {
                        None if !m.contains_key("default") => {
                            return Err(format!("member '{path}' is missing"));
                        }
                        None => {}
                        Some(mv) => {
                            let mt = self.lookup(m, "type").ok_or("a member without type")?;
                            self.check(mt, mv, &path, depth + 1)?;
                        }
                    }
                }
                Ok(())
            }
            other => Err(format!("{here}: cannot check a '{other}'")),
        }
    }

    fn lookup(&self, o: &Map<String, Value>, key: &str) -> Option<&Map<String, Value>> {
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
    fn validation() {
        let s = SchemaIndex::new(schema()).expect("valid");
        let v = |j: Value| s.validate("blockdev-add/arg-type", &j).map_err(|e| e.0);
        assert_eq!(
            v(serde_json::json!({"driver": "file", "aio": "file", "list": [], "alt": null})),
            Ok(())
        );
        assert!(
            v(serde_json::json!({"driver": "file"})).is_err_and(|e| e.contains("'aio' is missing"))
        );
        assert!(v(serde_json::json!({"driver": "nope"})).is_err());
        assert!(
            v(serde_json::json!({"driver": "file", "aio": "file", "list": [], "alt": 1})).is_err()
        );
        assert!(v(
            serde_json::json!({"driver": "file", "aio": "file", "list": [], "alt": "x", "x": 1})
        )
        .is_err_and(|e| e.contains("member 'x' is not in the schema's type")));
        assert!(s.validate("blockdev-add/nope", &Value::Null).is_err());
    }

    #[test]
    fn queries() {
        let s = SchemaIndex::new(schema()).expect("valid");
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
