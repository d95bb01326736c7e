//! template.yaml is valid for CloudFormation.

use std::path::PathBuf;
use std::process::Command;

/// Runs a linter of `.local` on template.yaml and fails with what it found.
fn lint(what: &str, tool: &str, args: &[&str]) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let tool = root.join(".local").join(tool);
    assert!(tool.exists(), "{what} is missing: run infra/install.sh");
    let out = Command::new(tool)
        .args(args)
        .arg(root.join("template.yaml"))
        .env("SAM_CLI_TELEMETRY", "0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{what} found problems:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_template_passes_cfn_lint() {
    lint("cfn-lint", "venv/bin/cfn-lint", &[]);
}

#[test]
fn the_template_passes_sam_validate_lint() {
    let args = ["validate", "--lint", "--region", "us-east-1", "--template"];
    lint("sam validate --lint", "sam/bin/sam", &args);
}

fn template() -> serde_norway::Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("template.yaml")).unwrap();
    serde_norway::from_str(&text).unwrap()
}

/// `!Ref AlarmTopic` among an alarm's actions, as serde_norway reads the tag.
fn notifies_the_topic(alarm: &serde_norway::Value, actions: &str) -> bool {
    alarm["Properties"][actions]
        .as_sequence()
        .is_some_and(|list| {
            list.iter().any(|action| {
                serde_norway::to_string(action).is_ok_and(|s| s.trim() == "!Ref AlarmTopic")
            })
        })
}

#[test]
fn every_function_and_dead_letter_queue_has_an_alarm_that_notifies_the_topic() {
    let doc = template();
    let resources = doc["Resources"].as_mapping().unwrap();
    let of_type = |kind: &str| -> Vec<String> {
        resources
            .iter()
            .filter(|(_, r)| r["Type"].as_str() == Some(kind))
            .map(|(id, _)| id.as_str().unwrap().to_owned())
            .collect()
    };
    let functions = of_type("AWS::Serverless::Function");
    let dead_letters: Vec<String> = of_type("AWS::SQS::Queue")
        .into_iter()
        .filter(|q| q.ends_with("DeadLetterQueue"))
        .collect();
    assert!(functions.len() > 60 && dead_letters.len() >= 6);
    let expected = functions
        .iter()
        .map(|f| format!("{f}FailureAlarm"))
        .chain(dead_letters.iter().map(|q| format!("{q}Alarm")))
        .chain(
            [
                "HttpApi5xxAlarm",
                "OutboxIteratorAgeAlarm",
                "GatewayBreakerOpenAlarm",
                "OutboxParkingAlarm",
            ]
            .map(String::from),
        );
    for id in expected {
        let alarm = &doc["Resources"][id.as_str()];
        assert_eq!(
            alarm["Type"].as_str(),
            Some("AWS::CloudWatch::Alarm"),
            "{id}"
        );
        assert!(
            notifies_the_topic(alarm, "AlarmActions"),
            "{id} notifies no one"
        );
        assert!(
            notifies_the_topic(alarm, "OKActions"),
            "{id} never says it is over"
        );
    }
    assert_eq!(
        doc["Resources"]["AlarmTopic"]["Type"].as_str(),
        Some("AWS::SNS::Topic")
    );
    assert_eq!(
        doc["Globals"]["Function"]["Tracing"].as_str(),
        Some("Active"),
        "X-Ray active tracing"
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
