//! The template part of deploying onto a LocalStack that runs Lambda
//! (infra/localstack/deploy.sh): template.yaml, transformed as `sam deploy`
//! transforms it, asks CloudFormation only for resource types that
//! LocalStack's open-source CloudFormation creates, or for the few it does
//! not that docs/localstack.md names. A resource type new to the template
//! fails here until it is put in one list or the other.
//!
//! When LocalStack is installed (`infra/install.sh --localstack`), the
//! first list is also checked against its own resource providers.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

/// What localstack-core 2026.3.0's CloudFormation creates, of what the
/// transformed template uses.
const LOCALSTACK_CREATES: &[&str] = &[
    "AWS::CloudWatch::Alarm",
    "AWS::DynamoDB::Table",
    "AWS::Events::EventBus",
    "AWS::Events::Rule",
    "AWS::IAM::Role",
    "AWS::KinesisFirehose::DeliveryStream",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::Function",
    "AWS::Lambda::Permission",
    "AWS::S3::Bucket",
    "AWS::SES::EmailIdentity",
    "AWS::SNS::Topic",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::Queue",
    "AWS::SQS::QueuePolicy",
];

/// What it has no resource provider for (docs/localstack.md): the HTTP API
/// (API Gateway V2 is not in the open-source release), the dashboard and
/// the SES configuration set.
const LOCALSTACK_LACKS: &[&str] = &[
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Stage",
    "AWS::CloudWatch::Dashboard",
    "AWS::SES::ConfigurationSet",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The resource types of the transformed template.
fn transformed_types() -> BTreeSet<String> {
    let python = root().join(".local/sam/bin/python");
    assert!(
        python.exists(),
        "the SAM CLI is missing: run infra/install.sh"
    );
    let out = Command::new(python)
        .arg(root().join("infra/localstack/sam-transform.py"))
        .arg(root().join("template.yaml"))
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "the SAM transform failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let template: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let resources = template["Resources"].as_object().expect("resources");
    assert!(
        !resources.values().any(|r| r["Type"]
            .as_str()
            .is_some_and(|t| t.starts_with("AWS::Serverless::"))),
        "the transform leaves no SAM resource"
    );
    resources
        .values()
        .map(|r| r["Type"].as_str().expect("a type").to_owned())
        .collect()
}

#[test]
fn the_transformed_template_asks_localstack_only_for_what_it_creates_or_is_known_to_lack() {
    let types = transformed_types();
    let known: BTreeSet<String> = LOCALSTACK_CREATES
        .iter()
        .chain(LOCALSTACK_LACKS)
        .map(|t| (*t).to_owned())
        .collect();
    let unknown: Vec<&String> = types.difference(&known).collect();
    assert!(
        unknown.is_empty(),
        "resource types new to the template: say whether LocalStack creates them \
         (here and in docs/localstack.md): {unknown:?}"
    );
    // Every function became a Lambda function with its role, and the API
    // its API Gateway V2 API: the transform ran as sam deploy's does.
    for expected in [
        "AWS::Lambda::Function",
        "AWS::IAM::Role",
        "AWS::ApiGatewayV2::Api",
    ] {
        assert!(
            types.contains(expected),
            "{expected} in the transformed template"
        );
    }
}

/// The resource types localstack-core's CloudFormation has providers for.
fn installed_providers(site_packages: &std::path::Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut dirs = vec![site_packages.join("localstack/services")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("a readable folder")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.to_string_lossy().ends_with("_plugin.py") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for line in text.lines() {
                    if let Some(name) = line.trim().strip_prefix("name = \"") {
                        found.insert(name.trim_end_matches('"').to_owned());
                    }
                }
            }
        }
    }
    found
}

#[test]
fn the_lists_agree_with_the_installed_localstack() {
    let lib = root().join(".local/localstack/lib");
    let Some(site_packages) = std::fs::read_dir(&lib).ok().and_then(|mut d| {
        d.find_map(|e| {
            let p = e.ok()?.path().join("site-packages");
            p.join("localstack").exists().then_some(p)
        })
    }) else {
        system_tests::skipped(
            "the_lists_agree_with_the_installed_localstack",
            "LocalStack is not installed (infra/install.sh --localstack); the lists are checked by the other test",
        );
        return;
    };
    let providers = installed_providers(&site_packages);
    assert!(
        providers.len() > 50,
        "found the providers: {}",
        providers.len()
    );
    for t in LOCALSTACK_CREATES {
        assert!(providers.contains(*t), "LocalStack creates {t}");
    }
    for t in LOCALSTACK_LACKS {
        assert!(
            !providers.contains(*t),
            "LocalStack now creates {t}: move it to LOCALSTACK_CREATES and say so in docs/localstack.md"
        );
    }
}
