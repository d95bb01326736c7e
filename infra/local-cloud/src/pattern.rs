//! EventBridge-style event patterns, as Lambda's event filtering uses them
//! on stream records: literal lists, `prefix`, `suffix`, `exists`,
//! `anything-but` and `numeric`, nested objects.

use serde_json::Value;

/// Whether `event` matches `pattern`.
pub fn matches(pattern: &Value, event: &Value) -> bool {
    let Value::Object(fields) = pattern else {
        return false;
    };
    fields.iter().all(|(key, rule)| {
        let value = event.get(key);
        match rule {
            Value::Object(_) => value.is_some_and(|v| matches(rule, v)),
            Value::Array(alternatives) => alternatives
                .iter()
                .any(|alt| alternative_matches(alt, value)),
            _ => false,
        }
    })
}

fn alternative_matches(alt: &Value, value: Option<&Value>) -> bool {
    match alt {
        Value::Object(op) => {
            if let Some(exists) = op.get("exists").and_then(Value::as_bool) {
                return value.is_some() == exists;
            }
            let Some(value) = value else { return false };
            let candidates: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                single => vec![single],
            };
            candidates.into_iter().any(|v| operator_matches(op, v))
        }
        literal => match value {
            Some(Value::Array(items)) => items.contains(literal),
            Some(v) => v == literal,
            None => literal.is_null(),
        },
    }
}

fn operator_matches(op: &serde_json::Map<String, Value>, v: &Value) -> bool {
    if let Some(prefix) = op.get("prefix").and_then(Value::as_str) {
        return v.as_str().is_some_and(|s| s.starts_with(prefix));
    }
    if let Some(suffix) = op.get("suffix").and_then(Value::as_str) {
        return v.as_str().is_some_and(|s| s.ends_with(suffix));
    }
    if let Some(excluded) = op.get("anything-but") {
        return match excluded {
            Value::Array(list) => !list.contains(v),
            Value::Object(inner) => !operator_matches(inner, v),
            single => single != v,
        };
    }
    if let Some(Value::Array(conditions)) = op.get("numeric") {
        let Some(n) = v.as_f64().or_else(|| v.as_str()?.parse().ok()) else {
            return false;
        };
        return conditions.chunks(2).all(|pair| {
            let (Some(operator), Some(bound)) =
                (pair[0].as_str(), pair.get(1).and_then(Value::as_f64))
            else {
                return false;
            };
            match operator {
                "<" => n < bound,
                "<=" => n <= bound,
                "=" => (n - bound).abs() < f64::EPSILON,
                ">=" => n >= bound,
                ">" => n > bound,
                _ => false,
            }
        });
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_outbox_filter_matches_only_outbox_inserts() {
        let pattern = json!({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["OUTBOX"]}}}});
        let outbox =
            json!({"eventName": "INSERT", "dynamodb": {"NewImage": {"entity": {"S": "OUTBOX"}}}});
        let other =
            json!({"eventName": "INSERT", "dynamodb": {"NewImage": {"entity": {"S": "EVENT"}}}});
        let removal =
            json!({"eventName": "REMOVE", "dynamodb": {"OldImage": {"entity": {"S": "OUTBOX"}}}});
        assert!(matches(&pattern, &outbox));
        assert!(!matches(&pattern, &other));
        assert!(!matches(&pattern, &removal));
    }

    #[test]
    fn operators_match_as_eventbridge_defines_them() {
        let event = json!({"source": "booking-platform.booking", "n": 5, "tags": ["a", "b"]});
        assert!(matches(
            &json!({"source": [{"prefix": "booking-platform."}]}),
            &event
        ));
        assert!(!matches(&json!({"source": [{"prefix": "other."}]}), &event));
        assert!(matches(
            &json!({"source": [{"suffix": ".booking"}]}),
            &event
        ));
        assert!(matches(&json!({"missing": [{"exists": false}]}), &event));
        assert!(!matches(&json!({"n": [{"exists": false}]}), &event));
        assert!(matches(
            &json!({"n": [{"numeric": [">", 1, "<=", 5]}]}),
            &event
        ));
        assert!(!matches(&json!({"n": [{"numeric": [">", 5]}]}), &event));
        assert!(matches(&json!({"tags": ["b"]}), &event));
        assert!(matches(
            &json!({"source": [{"anything-but": ["x"]}]}),
            &event
        ));
    }
}
