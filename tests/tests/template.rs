//! template.yaml is valid for CloudFormation.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_template_passes_cfn_lint() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let lint = root.join(".local/venv/bin/cfn-lint");
    assert!(lint.exists(), "cfn-lint is missing: run infra/install.sh");
    let out = Command::new(lint)
        .arg(root.join("template.yaml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cfn-lint found problems:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The only routes anyone may call without a token.
const PUBLIC_ROUTES: [&str; 12] = [
    "GET /health",
    "GET /app",
    "GET /app/{proxy+}",
    "GET /resources/{resource_id}/free-ranges",
    "GET /slots/{slot_id}/seats",
    "GET /venues",
    "GET /venues/{venue_id}/resources",
    "GET /resources/{resource_id}/availability",
    "POST /auth/signup",
    "POST /auth/login",
    "POST /auth/refresh",
    "POST /auth/logout",
];

#[test]
fn every_route_declares_its_authorizer_and_only_the_public_ones_opt_out() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("template.yaml")).unwrap();
    let doc: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    let api_auth = &doc["Resources"]["HttpApi"]["Properties"]["Auth"];
    assert_eq!(
        api_auth["DefaultAuthorizer"].as_str(),
        Some("JwtAuthorizer")
    );
    let mut seen = Vec::new();
    for (id, resource) in doc["Resources"].as_mapping().unwrap() {
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (name, event) in events {
            if event["Type"].as_str() != Some("HttpApi") {
                continue;
            }
            let p = &event["Properties"];
            let route = format!(
                "{} {}",
                p["Method"].as_str().unwrap(),
                p["Path"].as_str().unwrap()
            );
            let authorizer = p["Auth"]["Authorizer"].as_str();
            let context = format!(
                "{}.{} ({route})",
                id.as_str().unwrap(),
                name.as_str().unwrap()
            );
            match authorizer {
                Some("NONE") => assert!(
                    PUBLIC_ROUTES.contains(&route.as_str()),
                    "{context} opts out of the authorizer but is not a public route"
                ),
                Some("JwtAuthorizer") => assert!(
                    !PUBLIC_ROUTES.contains(&route.as_str()),
                    "{context} is public but declares the authorizer"
                ),
                other => panic!("{context} must declare Auth.Authorizer, found {other:?}"),
            }
            seen.push(route);
        }
    }
    for public in PUBLIC_ROUTES {
        assert!(
            seen.iter().any(|r| r == public),
            "{public} is not in the template"
        );
    }
}
