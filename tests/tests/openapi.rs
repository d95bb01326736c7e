//! openapi.yaml describes the HTTP API that template.yaml declares: the same
//! routes, the same authorization, and every operation documented enough to
//! call it. Offline: no local cloud needed.
//!
//! Convention: openapi.yaml has a global `security: [bearerAuth: []]` (like
//! the template's `DefaultAuthorizer: JwtAuthorizer`), and every public
//! operation opts out with `security: []` (like `Authorizer: NONE`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_norway::Value;

const HTTP_METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// How a route is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Public,
    BearerToken,
}

/// "METHOD /path", e.g. "GET /bookings/{booking_id}".
type Route = String;

fn load(file: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{file} is not valid YAML: {e}"))
}

/// Every `HttpApi` event of the template, with the authorizer it declares.
fn template_routes() -> BTreeMap<Route, Access> {
    let template = load("template.yaml");
    let mut routes = BTreeMap::new();
    for resource in template["Resources"].as_mapping().unwrap().values() {
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for event in events.values() {
            if event["Type"].as_str() != Some("HttpApi") {
                continue;
            }
            let p = &event["Properties"];
            let route = format!(
                "{} {}",
                p["Method"].as_str().unwrap().to_uppercase(),
                p["Path"].as_str().unwrap()
            );
            let access = match p["Auth"]["Authorizer"].as_str() {
                Some("NONE") => Access::Public,
                Some("JwtAuthorizer") => Access::BearerToken,
                other => panic!("{route} declares an unexpected authorizer {other:?}"),
            };
            routes.insert(route, access);
        }
    }
    routes
}

/// Every operation of openapi.yaml, by route.
fn openapi_operations(spec: &Value) -> BTreeMap<Route, Value> {
    let mut operations = BTreeMap::new();
    for (path, item) in spec["paths"].as_mapping().unwrap() {
        let path = path.as_str().unwrap();
        for method in HTTP_METHODS {
            if let Some(operation) = item.get(method) {
                let route = format!("{} {path}", method.to_uppercase());
                operations.insert(route, operation.clone());
            }
        }
    }
    operations
}

/// The security requirements that apply to an operation: its own, else the
/// document's default, else none.
fn effective_security(spec: &Value, operation: &Value) -> Vec<Value> {
    operation
        .get("security")
        .or_else(|| spec.get("security"))
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default()
}

fn is_bearer_only(requirements: &[Value]) -> bool {
    let [requirement] = requirements else {
        return false;
    };
    let Some(schemes) = requirement.as_mapping() else {
        return false;
    };
    schemes.len() == 1
        && requirement["bearerAuth"]
            .as_sequence()
            .is_some_and(Vec::is_empty)
}

#[test]
fn openapi_and_template_declare_the_same_routes() {
    let template: BTreeSet<Route> = template_routes().into_keys().collect();
    let openapi: BTreeSet<Route> = openapi_operations(&load("openapi.yaml"))
        .into_keys()
        .collect();
    let undocumented: Vec<_> = template.difference(&openapi).collect();
    let not_deployed: Vec<_> = openapi.difference(&template).collect();
    assert!(
        undocumented.is_empty() && not_deployed.is_empty(),
        "routes in template.yaml but not in openapi.yaml: {undocumented:?}\n\
         routes in openapi.yaml but not in template.yaml: {not_deployed:?}"
    );
}

#[test]
fn the_bearer_scheme_is_a_jwt_and_the_default_for_every_operation() {
    let spec = load("openapi.yaml");
    let scheme = &spec["components"]["securitySchemes"]["bearerAuth"];
    assert_eq!(scheme["type"].as_str(), Some("http"));
    assert_eq!(scheme["scheme"].as_str(), Some("bearer"));
    assert_eq!(scheme["bearerFormat"].as_str(), Some("JWT"));
    let default = spec["security"].as_sequence().cloned().unwrap_or_default();
    assert!(
        is_bearer_only(&default),
        "openapi.yaml must default to `security: [bearerAuth: []]`, found {default:?}"
    );
}

#[test]
fn protected_routes_require_the_bearer_token_and_public_routes_opt_out() {
    let spec = load("openapi.yaml");
    let operations = openapi_operations(&spec);
    let mut wrong = Vec::new();
    for (route, access) in template_routes() {
        let Some(operation) = operations.get(&route) else {
            continue; // reported by openapi_and_template_declare_the_same_routes
        };
        let security = effective_security(&spec, operation);
        match access {
            Access::BearerToken if !is_bearer_only(&security) => wrong.push(format!(
                "{route} is protected by JwtAuthorizer but its security is {security:?}"
            )),
            Access::Public if !security.is_empty() => wrong.push(format!(
                "{route} is public (Authorizer: NONE) but does not declare `security: []`"
            )),
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_operation_has_an_operation_id_and_a_client_error_response() {
    let spec = load("openapi.yaml");
    let mut wrong = Vec::new();
    let mut ids = BTreeSet::new();
    for (route, operation) in openapi_operations(&spec) {
        match operation["operationId"].as_str() {
            Some(id) if !ids.insert(id.to_owned()) => {
                wrong.push(format!("{route} reuses the operationId {id}"));
            }
            Some(_) => {}
            None => wrong.push(format!("{route} has no operationId")),
        }
        let has_4xx = operation["responses"].as_mapping().is_some_and(|r| {
            r.keys()
                .filter_map(|status| status.as_str())
                .any(|status| status.starts_with('4'))
        });
        if !has_4xx {
            wrong.push(format!("{route} documents no 4xx response"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_path_parameter_is_declared_on_its_operation() {
    let spec = load("openapi.yaml");
    let mut wrong = Vec::new();
    for (route, operation) in openapi_operations(&spec) {
        let in_path: BTreeSet<&str> = route.split(['{', '}']).skip(1).step_by(2).collect();
        let declared: BTreeSet<String> = operation["parameters"]
            .as_sequence()
            .into_iter()
            .flatten()
            .map(|p| resolve(&spec, p))
            .filter(|p| p["in"].as_str() == Some("path"))
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect();
        let declared: BTreeSet<&str> = declared.iter().map(String::as_str).collect();
        if in_path != declared {
            wrong.push(format!(
                "{route}: the path has {in_path:?} but the operation declares {declared:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A parameter itself, following a local `$ref` such as
/// `#/components/parameters/BookingId`.
fn resolve(spec: &Value, node: &Value) -> Value {
    let Some(reference) = node["$ref"].as_str() else {
        return node.clone();
    };
    let pointer = reference
        .strip_prefix("#/")
        .unwrap_or_else(|| panic!("only local references are supported: {reference}"));
    let target = pointer.split('/').fold(spec, |value, key| &value[key]);
    assert!(!target.is_null(), "{reference} points at nothing");
    target.clone()
}
