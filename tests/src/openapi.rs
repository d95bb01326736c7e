//! Bodies generated from openapi.yaml's schemas: one each schema accepts,
//! and the variants it forbids. The conformance and scope tests send them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Map, Value as Json, json};
use serde_norway::Value as Yaml;

use crate::dates::{Today, iso};

/// The parsed openapi.yaml.
pub fn openapi() -> Yaml {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml");
    serde_norway::from_str(&std::fs::read_to_string(path).expect("openapi.yaml")).expect("YAML")
}

pub struct Spec {
    pub schemas: Yaml,
    /// Real ids for body fields named like a path parameter (`company_id`).
    pub ids: BTreeMap<&'static str, String>,
}

impl Spec {
    pub fn resolve<'a>(&'a self, mut schema: &'a Yaml) -> &'a Yaml {
        while let Some(reference) = schema.get("$ref").and_then(Yaml::as_str) {
            let name = reference.rsplit('/').next().expect("a schema name");
            schema = &self.schemas[name];
        }
        schema
    }

    /// The object schema a body is checked against (a `oneOf`'s first).
    pub fn object<'a>(&'a self, schema: &'a Yaml) -> &'a Yaml {
        let schema = self.resolve(schema);
        match schema.get("oneOf").and_then(Yaml::as_sequence) {
            Some(alternatives) => self.resolve(&alternatives[0]),
            None => schema,
        }
    }

    /// A value the schema accepts.
    pub fn valid(&self, schema: &Yaml, name: &str) -> Json {
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
                // A body of optional fields that needs some (a change):
                // the first ones, until there are enough.
                let least = schema
                    .get("minProperties")
                    .and_then(Yaml::as_u64)
                    .unwrap_or(0);
                for (key, property) in properties.into_iter().flatten() {
                    if out.len() as u64 >= least {
                        break;
                    }
                    let key = key.as_str().expect("a property name");
                    if !out.contains_key(key) {
                        out.insert(key.to_owned(), self.valid(property, key));
                    }
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
    pub fn invalid(&self, schema: &Yaml, valid: &Json) -> Vec<(String, Json)> {
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
