//! Opaque page cursors: a query's `LastEvaluatedKey`, as URL-safe base64
//! JSON, checked on the way back in so a forged cursor is a 400, never a
//! start key DynamoDB refuses (a 500).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::s;
use crate::AppError;

fn bad_cursor() -> AppError {
    AppError::validation("INVALID_CURSOR", "cursor is not one this API returned")
}

/// The cursor of the page after the one that ended at `last` (string keys
/// only, as every key of the table is).
pub(crate) fn encode(last: &HashMap<String, AttributeValue>) -> String {
    let plain: HashMap<&str, &str> = last
        .iter()
        .filter_map(|(k, v)| v.as_s().ok().map(|v| (k.as_str(), v.as_str())))
        .collect();
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&plain).unwrap_or_default())
}

/// The start key a `cursor` stands for: exactly the key attributes
/// `names`, with `fits` true of their values, or 400 `INVALID_CURSOR`.
pub(crate) fn decode(
    cursor: &str,
    names: &[&str],
    fits: impl Fn(&HashMap<String, String>) -> bool,
) -> Result<HashMap<String, AttributeValue>, AppError> {
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad_cursor())?;
    let key: HashMap<String, String> = serde_json::from_slice(&raw).map_err(|_| bad_cursor())?;
    let exact = key.len() == names.len() && names.iter().all(|n| key.contains_key(*n));
    if !exact || !fits(&key) {
        return Err(bad_cursor());
    }
    Ok(key.into_iter().map(|(k, v)| (k, s(v))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_anything_else_is_a_400() {
        let last: HashMap<String, AttributeValue> = [("PK", "VENUE#1"), ("SK", "VENUE")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), s(v)))
            .collect();
        let cursor = encode(&last);
        let names = ["PK", "SK"];
        let venue = |k: &HashMap<String, String>| k["PK"].starts_with("VENUE#");
        assert_eq!(decode(&cursor, &names, venue).unwrap(), last);
        for bad in ["", "%%%", "e30", &encode(&HashMap::new())] {
            assert_eq!(
                decode(bad, &names, venue).unwrap_err().code(),
                "INVALID_CURSOR"
            );
        }
        let other = |k: &HashMap<String, String>| k["PK"].starts_with("USER#");
        assert_eq!(
            decode(&cursor, &names, other).unwrap_err().code(),
            "INVALID_CURSOR"
        );
    }
}
