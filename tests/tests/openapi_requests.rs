//! openapi.yaml and the running API agree both ways on request bodies: a
//! body generated from an operation's schema is never refused as the wrong
//! shape, and a body the schema forbids (a required field missing, an
//! unknown field, a wrong type, a value out of range or off its pattern or
//! enum) is always refused with 400 or 422. Path parameters name real
//! resources made for the test, so a refusal is the body's, not a 404.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Map, Value as Json, json};
use serde_norway::Value as Yaml;
use system_tests::Cloud;
use system_tests::dates::{Today, iso};

/// The shape codes: a body refused as one of these was not read at all.
const SHAPE_CODES: [&str; 4] = [
    "INVALID_BODY",
    "MALFORMED_JSON",
    "MISSING_BODY",
    "UNSUPPORTED_MEDIA_TYPE",
];

fn openapi() -> Yaml {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml");
    serde_norway::from_str(&std::fs::read_to_string(path).expect("openapi.yaml")).expect("YAML")
}

struct Spec {
    schemas: Yaml,
    /// Real ids for body fields named like a path parameter (`company_id`).
    ids: BTreeMap<&'static str, String>,
}

impl Spec {
    fn resolve<'a>(&'a self, mut schema: &'a Yaml) -> &'a Yaml {
        while let Some(reference) = schema.get("$ref").and_then(Yaml::as_str) {
            let name = reference.rsplit('/').next().expect("a schema name");
            schema = &self.schemas[name];
        }
        schema
    }

    /// The object schema a body is checked against (a `oneOf`'s first).
    fn object<'a>(&'a self, schema: &'a Yaml) -> &'a Yaml {
        let schema = self.resolve(schema);
        match schema.get("oneOf").and_then(Yaml::as_sequence) {
            Some(alternatives) => self.resolve(&alternatives[0]),
            None => schema,
        }
    }

    /// A value the schema accepts.
    fn valid(&self, schema: &Yaml, name: &str) -> Json {
        let schema = self.object(schema);
        let json = |y: &Yaml| serde_json::to_value(y).expect("YAML as JSON");
        if let Some(value) = schema.get("const") {
            return json(value);
        }
        if let Some(first) = schema
            .get("enum")
            .and_then(Yaml::as_sequence)
            .and_then(|e| e.first())
        {
            return json(first);
        }
        match schema.get("type").and_then(Yaml::as_str) {
            Some("object") => {
                let mut out = Map::new();
                let properties = schema.get("properties").and_then(Yaml::as_mapping);
                for required in schema
                    .get("required")
                    .and_then(Yaml::as_sequence)
                    .into_iter()
                    .flatten()
                {
                    let key = required.as_str().expect("a property name");
                    let property = &properties.expect("properties")[key];
                    out.insert(key.to_owned(), self.valid(property, key));
                }
                Json::Object(out)
            }
            Some("array") => {
                let n = schema
                    .get("minItems")
                    .and_then(Yaml::as_u64)
                    .unwrap_or(1)
                    .max(1);
                let items = &schema["items"];
                let item = self.valid(items, name);
                (0..n)
                    .map(|i| match &item {
                        Json::Object(o) if o.contains_key("id") => {
                            let mut o = o.clone();
                            o.insert("id".into(), json!(format!("A-{}", i + 1)));
                            Json::Object(o)
                        }
                        other => other.clone(),
                    })
                    .collect()
            }
            Some("integer") | Some("number") => {
                let min = schema.get("minimum").and_then(Yaml::as_i64).unwrap_or(1);
                json!(
                    min.max(1).min(
                        schema
                            .get("maximum")
                            .and_then(Yaml::as_i64)
                            .unwrap_or(i64::MAX)
                    )
                )
            }
            Some("boolean") => json!(true),
            _ => {
                if let Some(example) = schema.get("example") {
                    return json(example);
                }
                match schema.get("format").and_then(Yaml::as_str) {
                    Some("uuid") => match self.ids.get(name) {
                        Some(id) => json!(id),
                        None => json!(uuid::Uuid::now_v7().to_string()),
                    },
                    Some("date") => json!(iso(Today::at_venue().far_friday())),
                    Some("email") => json!(format!("{}@example.com", uuid::Uuid::new_v4())),
                    _ => json!(format!("{name} value")),
                }
            }
        }
    }

    /// Bodies the schema forbids, each with what is wrong with it.
    fn invalid(&self, schema: &Yaml, valid: &Json) -> Vec<(String, Json)> {
        let schema = self.object(schema);
        let mut out = Vec::new();
        let Json::Object(fields) = valid else {
            return out;
        };
        for key in fields.keys() {
            let mut body = fields.clone();
            body.remove(key);
            out.push((format!("without `{key}`"), Json::Object(body)));
        }
        if schema.get("additionalProperties").and_then(Yaml::as_bool) == Some(false) {
            let mut body = fields.clone();
            body.insert("not_in_the_schema".into(), json!(1));
            out.push(("an unknown field".into(), Json::Object(body)));
        }
        let properties = schema.get("properties").and_then(Yaml::as_mapping);
        for (key, property) in properties.into_iter().flatten() {
            let key = key.as_str().expect("a property name");
            let property = self.resolve(property);
            let with = |value: Json| {
                let mut body = fields.clone();
                body.insert(key.to_owned(), value);
                Json::Object(body)
            };
            match property.get("type").and_then(Yaml::as_str) {
                Some("integer") => {
                    out.push((format!("`{key}` a string"), with(json!("12"))));
                    out.push((format!("`{key}` a fraction"), with(json!(1.5))));
                    if let Some(min) = property.get("minimum").and_then(Yaml::as_i64) {
                        out.push((format!("`{key}` below its minimum"), with(json!(min - 1))));
                    }
                    if let Some(max) = property.get("maximum").and_then(Yaml::as_i64) {
                        out.push((format!("`{key}` above its maximum"), with(json!(max + 1))));
                    }
                }
                Some("string") => {
                    out.push((format!("`{key}` a number"), with(json!(12))));
                    if property.get("enum").is_some() || property.get("const").is_some() {
                        out.push((
                            format!("`{key}` off its enum"),
                            with(json!("NOT_ONE_OF_THEM")),
                        ));
                    }
                    if property.get("pattern").is_some() {
                        out.push((format!("`{key}` off its pattern"), with(json!("!?"))));
                    }
                }
                Some("array") => out.push((format!("`{key}` not a list"), with(json!("x")))),
                _ => {}
            }
        }
        out
    }
}

/// Real resources for every path parameter, made by an admin.
async fn path_values(cloud: &Cloud, admin: &str) -> BTreeMap<&'static str, String> {
    let slot = cloud.new_slot(admin, 50).await;
    let resource = slot.split_once('@').unwrap().0.to_owned();
    let venues: Json = cloud
        .http
        .get(cloud.url("/venues?limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let venue = venues["venues"][0]["id"].as_str().unwrap().to_owned();
    let booking: Json = cloud
        .book(admin, &slot, 1, &uuid::Uuid::new_v4().to_string())
        .await
        .json()
        .await
        .unwrap();
    let customer = cloud.new_account().await;
    BTreeMap::from([
        ("company_id", cloud.new_company(admin).await),
        ("venue_id", venue),
        ("resource_id", resource),
        ("slot_id", slot),
        ("booking_id", booking["id"].as_str().unwrap().to_owned()),
        ("user_id", customer.id),
    ])
}

#[tokio::test]
async fn generated_bodies_are_read_as_the_document_says_both_ways() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let doc = openapi();
    let params = path_values(&cloud, &admin).await;
    let spec = Spec {
        schemas: doc["components"]["schemas"].clone(),
        ids: params.clone(),
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for (path, operations) in doc["paths"].as_mapping().unwrap() {
        let path = path.as_str().unwrap();
        for (method, operation) in operations.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            let Some(schema) = operation
                .get("requestBody")
                .map(|b| &b["content"]["application/json"]["schema"])
            else {
                continue;
            };
            let mut url = path.to_owned();
            for (name, value) in &params {
                url = url.replace(&format!("{{{name}}}"), value);
            }
            assert!(!url.contains('{'), "no value for a parameter of {path}");
            let send = |body: Json| {
                let req = cloud
                    .http
                    .request(method.to_uppercase().parse().unwrap(), cloud.url(&url))
                    .bearer_auth(&admin)
                    .header("idempotency-key", uuid::Uuid::new_v4().to_string())
                    .json(&body);
                async move {
                    let res = req.send().await.unwrap();
                    let status = res.status().as_u16();
                    let body: Json = res.json().await.unwrap_or(Json::Null);
                    (status, body["code"].as_str().unwrap_or("").to_owned())
                }
            };
            let valid = spec.valid(schema, "body");
            let (status, code) = send(valid.clone()).await;
            checked += 1;
            if SHAPE_CODES.contains(&code.as_str()) || status >= 500 {
                failures.push(format!(
                    "{method} {path}: a valid body {valid} was refused {status} {code}"
                ));
            }
            for (what, body) in spec.invalid(schema, &valid) {
                let (status, code) = send(body.clone()).await;
                checked += 1;
                if !(status == 400 || status == 422) {
                    failures.push(format!(
                        "{method} {path}: a body with {what} was answered {status} {code}: {body}"
                    ));
                }
            }
        }
    }
    eprintln!(
        "{checked} generated requests, {} disagreements",
        failures.len()
    );
    assert!(checked > 100, "only {checked} requests generated");
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
