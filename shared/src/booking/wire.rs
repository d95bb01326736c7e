//! How a booking request is read from its body: kind by kind, so an error
//! names the field it is about (serde's tagged enums forget where it was).

use serde::Deserialize;

use super::BookingRequest;
use crate::payment::PaymentChoice;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Counted {
    slot_id: String,
    quantity: i64,
    #[serde(default)]
    holes: Option<u32>,
    #[serde(default)]
    payment: Option<PaymentChoice>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Seated {
    slot_id: String,
    seat_ids: Vec<String>,
    #[serde(default)]
    payment: Option<PaymentChoice>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Range {
    resource_id: String,
    date: String,
    start: String,
    end: String,
    #[serde(default)]
    payment: Option<PaymentChoice>,
}

impl<'de> Deserialize<'de> for BookingRequest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut body = serde_json::Value::deserialize(deserializer)?;
        let kind = match body.as_object_mut().map(|fields| fields.remove("kind")) {
            None => return Err(D::Error::custom("invalid type: expected an object")),
            Some(None) => return Err(D::Error::missing_field("kind")),
            Some(Some(serde_json::Value::String(kind))) => kind,
            Some(Some(_)) => {
                return Err(D::Error::custom("`kind` invalid type, expected a string"));
            }
        };
        // An error inside a kind's fields keeps its path: "`quantity` ...".
        fn fields<T: serde::de::DeserializeOwned, E: Error>(
            body: serde_json::Value,
        ) -> Result<T, E> {
            serde_path_to_error::deserialize(body)
                .map_err(|e| E::custom(format!("`{}` {}", e.path(), e.inner())))
        }
        match kind.as_str() {
            "counted" => fields::<Counted, D::Error>(body).map(|f| Self::Counted {
                slot_id: f.slot_id,
                quantity: f.quantity,
                holes: f.holes,
                payment: f.payment,
            }),
            "seated" => fields::<Seated, D::Error>(body).map(|f| Self::Seated {
                slot_id: f.slot_id,
                seat_ids: f.seat_ids,
                payment: f.payment,
            }),
            "range" => fields::<Range, D::Error>(body).map(|f| Self::Range {
                resource_id: f.resource_id,
                date: f.date,
                start: f.start,
                end: f.end,
                payment: f.payment,
            }),
            _ => Err(D::Error::custom(
                "`kind` unknown variant, expected one of `counted`, `seated`, `range`",
            )),
        }
    }
}
