//! Reading template.yaml: CloudFormation intrinsics, SAM globals, and the
//! model of what the local cloud must provision and run.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde_norway::Value as Yaml;

mod intrinsics;

pub use intrinsics::{merge_globals, resolve};

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("template.yaml is not valid YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("{resource}: cannot resolve {what}")]
    Unresolved { resource: String, what: String },
}

pub(super) fn invalid(msg: impl Into<String>) -> TemplateError {
    TemplateError::Invalid(msg.into())
}

/// One resource of the template, its properties still unresolved.
#[derive(Debug, Clone)]
pub struct Resource {
    pub logical_id: String,
    pub kind: String,
    pub properties: Yaml,
    pub metadata: Yaml,
}

/// The parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    pub resources: BTreeMap<String, Resource>,
    pub parameters: HashMap<String, String>,
    pub function_globals: Yaml,
    /// Template parameters naming SSM SecureStrings the local cloud fills
    /// with fresh random values (`Metadata.LocalCloud.GeneratedSecrets`).
    pub generated_secrets: Vec<String>,
    /// The template parameter the local cloud sets to its fake payment
    /// gateway's URL (`Metadata.LocalCloud.PaymentGatewayParameter`); without
    /// it no gateway is started.
    pub payment_gateway_parameter: Option<String>,
}

/// What `!Ref` and `!GetAtt` of a provisioned resource give.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Physical {
    pub kind: String,
    #[serde(rename = "ref")]
    pub reference: String,
    pub attributes: BTreeMap<String, String>,
}

/// Values intrinsics resolve against: parameters, pseudo parameters and the
/// resources provisioned so far.
#[derive(Debug, Clone)]
pub struct Context {
    pub stack_name: String,
    pub region: String,
    pub account_id: String,
    pub parameters: HashMap<String, String>,
    pub physical: BTreeMap<String, Physical>,
}

impl Context {
    fn reference(&self, name: &str) -> Option<String> {
        match name {
            "AWS::StackName" => Some(self.stack_name.clone()),
            "AWS::Region" => Some(self.region.clone()),
            "AWS::AccountId" => Some(self.account_id.clone()),
            "AWS::Partition" => Some("aws".to_owned()),
            "AWS::URLSuffix" => Some("amazonaws.com".to_owned()),
            _ => self
                .parameters
                .get(name)
                .cloned()
                .or_else(|| self.physical.get(name).map(|p| p.reference.clone())),
        }
    }

    fn attribute(&self, logical: &str, attr: &str) -> Option<String> {
        self.physical.get(logical)?.attributes.get(attr).cloned()
    }
}

impl Template {
    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let doc: Yaml = serde_norway::from_str(text)?;
        let mut parameters = HashMap::new();
        let mut declared = BTreeSet::new();
        if let Some(Yaml::Mapping(params)) = doc.get("Parameters") {
            for (name, spec) in params {
                let name = name.as_str().ok_or_else(|| invalid("parameter name"))?;
                declared.insert(name);
                if let Some(default) = spec.get("Default") {
                    parameters.insert(name.to_owned(), scalar_string(default));
                }
            }
        }
        let mut resources = BTreeMap::new();
        let Some(Yaml::Mapping(map)) = doc.get("Resources") else {
            return Err(invalid("template has no Resources"));
        };
        for (id, body) in map {
            let logical_id = id
                .as_str()
                .ok_or_else(|| invalid("resource id"))?
                .to_owned();
            let kind = body
                .get("Type")
                .and_then(Yaml::as_str)
                .ok_or_else(|| invalid(format!("{logical_id} has no Type")))?
                .to_owned();
            resources.insert(
                logical_id.clone(),
                Resource {
                    logical_id,
                    kind,
                    properties: body.get("Properties").cloned().unwrap_or(Yaml::Null),
                    metadata: body.get("Metadata").cloned().unwrap_or(Yaml::Null),
                },
            );
        }
        let function_globals = doc
            .get("Globals")
            .and_then(|g| g.get("Function"))
            .cloned()
            .unwrap_or(Yaml::Null);
        let local_cloud = doc.get("Metadata").and_then(|m| m.get("LocalCloud"));
        let generated_secrets = local_cloud
            .and_then(|l| l.get("GeneratedSecrets"))
            .and_then(Yaml::as_sequence)
            .map(|names| {
                names
                    .iter()
                    .filter_map(Yaml::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let payment_gateway_parameter =
            match local_cloud.and_then(|l| l.get("PaymentGatewayParameter")) {
                None => None,
                Some(value) => {
                    const KEY: &str = "Metadata.LocalCloud.PaymentGatewayParameter";
                    let name = value
                        .as_str()
                        .ok_or_else(|| invalid(format!("{KEY} must be a parameter name")))?;
                    if !declared.contains(name) {
                        return Err(invalid(format!(
                            "{KEY} names {name}, which is not a parameter of the template"
                        )));
                    }
                    Some(name.to_owned())
                }
            };
        Ok(Self {
            resources,
            parameters,
            function_globals,
            generated_secrets,
            payment_gateway_parameter,
        })
    }

    /// The parameter values of a local run: the template's defaults, with the
    /// payment gateway parameter (if the template names one) set to the fake
    /// gateway's URL.
    /// Sets a parameter that has a default to another value (`NAME=VALUE`).
    pub fn override_parameter(&mut self, pair: &str) -> Result<(), TemplateError> {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| invalid(format!("--parameter {pair}: expected NAME=VALUE")))?;
        if !self.parameters.contains_key(name) {
            return Err(invalid(format!(
                "--parameter {name}: the template has no parameter {name} with a default"
            )));
        }
        self.parameters.insert(name.to_owned(), value.to_owned());
        Ok(())
    }

    pub fn local_parameters(&self, gateway_url: Option<&str>) -> HashMap<String, String> {
        let mut parameters = self.parameters.clone();
        if let (Some(name), Some(url)) = (&self.payment_gateway_parameter, gateway_url) {
            parameters.insert(name.clone(), url.to_owned());
        }
        parameters
    }

    /// Resources ordered so that each comes after everything it refers to.
    pub fn provisioning_order(&self) -> Result<Vec<&Resource>, TemplateError> {
        let mut deps: HashMap<&str, BTreeSet<String>> = HashMap::new();
        for (id, resource) in &self.resources {
            let mut refs = BTreeSet::new();
            collect_refs(&resource.properties, &mut refs);
            if resource.kind == "AWS::Serverless::Function" {
                collect_refs(&self.function_globals, &mut refs);
            }
            refs.retain(|r| self.resources.contains_key(r) && r != id);
            deps.insert(id.as_str(), refs);
        }
        let mut order = Vec::new();
        let mut done = BTreeSet::new();
        while order.len() < self.resources.len() {
            let ready: Vec<&str> = self
                .resources
                .keys()
                .map(String::as_str)
                .filter(|id| !done.contains(*id) && deps[id].iter().all(|d| done.contains(d)))
                .collect();
            if ready.is_empty() {
                return Err(invalid(
                    "the template's resources refer to each other in a cycle",
                ));
            }
            for id in ready {
                done.insert(id.to_owned());
                order.push(&self.resources[id]);
            }
        }
        Ok(order)
    }
}

pub(super) fn scalar_string(v: &Yaml) -> String {
    match v {
        Yaml::String(s) => s.clone(),
        Yaml::Number(n) => n.to_string(),
        Yaml::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// Logical ids a value refers to through Ref, GetAtt or Sub.
fn collect_refs(value: &Yaml, out: &mut BTreeSet<String>) {
    match value {
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let inner = &tagged.value;
            match tag.trim_start_matches('!') {
                "Ref" => {
                    if let Some(s) = inner.as_str() {
                        out.insert(s.to_owned());
                    }
                }
                "GetAtt" => {
                    if let Some(s) = inner.as_str() {
                        out.insert(s.split('.').next().unwrap_or(s).to_owned());
                    } else if let Some(first) = inner.get(0).and_then(Yaml::as_str) {
                        out.insert(first.to_owned());
                    }
                }
                "Sub" => {
                    let text = inner
                        .as_str()
                        .or_else(|| inner.get(0).and_then(Yaml::as_str));
                    if let Some(text) = text {
                        for var in sub_variables(text) {
                            out.insert(var.split('.').next().unwrap_or(&var).to_owned());
                        }
                    }
                    collect_refs(inner, out);
                }
                _ => collect_refs(inner, out),
            }
        }
        Yaml::Mapping(map) => {
            for (k, v) in map {
                match k.as_str() {
                    Some("Ref") => {
                        if let Some(s) = v.as_str() {
                            out.insert(s.to_owned());
                        }
                    }
                    Some("Fn::GetAtt") => {
                        let first = v
                            .as_str()
                            .map(|s| s.split('.').next().unwrap_or(s))
                            .or_else(|| v.get(0).and_then(Yaml::as_str));
                        if let Some(first) = first {
                            out.insert(first.to_owned());
                        }
                    }
                    _ => collect_refs(v, out),
                }
            }
        }
        Yaml::Sequence(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// The `${...}` variables of a Sub string (not `${!literal}`).
fn sub_variables(text: &str) -> Vec<String> {
    let mut vars = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let var = &after[..end];
        if !var.starts_with('!') {
            vars.push(var.to_owned());
        }
        rest = &after[end + 1..];
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value as Json, json};

    const TEMPLATE: &str = r#"
Parameters:
  Stage: { Type: String, Default: dev }
Resources:
  Dlq: { Type: AWS::SQS::Queue }
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-${Stage}-q"
      RedrivePolicy: { deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 3 }
      Tags:
        - { Key: a, Value: !Join ["-", [x, !Ref Stage]] }
        - { Key: b, Value: { "Fn::GetAtt": [Dlq, QueueName] } }
      Nothing: !Ref AWS::NoValue
"#;

    fn ctx() -> Context {
        let mut physical = BTreeMap::new();
        physical.insert(
            "Dlq".to_owned(),
            Physical {
                kind: "AWS::SQS::Queue".into(),
                reference: "http://q/dlq".into(),
                attributes: [("Arn", "arn:dlq"), ("QueueName", "dlq")]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            },
        );
        Context {
            stack_name: "stack".into(),
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            parameters: [("Stage".to_owned(), "dev".to_owned())].into(),
            physical,
        }
    }

    #[test]
    fn intrinsics_resolve_in_short_and_long_form() {
        let t = Template::parse(TEMPLATE).unwrap();
        let props = resolve(&t.resources["Queue"].properties, &ctx(), "Queue").unwrap();
        assert_eq!(props["QueueName"], "stack-dev-q");
        assert_eq!(props["RedrivePolicy"]["deadLetterTargetArn"], "arn:dlq");
        assert_eq!(props["RedrivePolicy"]["maxReceiveCount"], 3);
        assert_eq!(props["Tags"][0]["Value"], "x-dev");
        assert_eq!(props["Tags"][1]["Value"], "dlq");
        assert!(props.get("Nothing").is_none());
    }

    #[test]
    fn resources_are_ordered_after_what_they_refer_to() {
        let t = Template::parse(TEMPLATE).unwrap();
        let order: Vec<_> = t
            .provisioning_order()
            .unwrap()
            .iter()
            .map(|r| r.logical_id.clone())
            .collect();
        assert_eq!(order, vec!["Dlq", "Queue"]);
    }

    #[test]
    fn an_unknown_reference_is_an_error_naming_it() {
        let t =
            Template::parse("Resources:\n  A:\n    Type: X\n    Properties: { P: !Ref Missing }\n")
                .unwrap();
        let err = resolve(&t.resources["A"].properties, &ctx(), "A").unwrap_err();
        assert!(err.to_string().contains("Missing"), "{err}");
    }

    #[test]
    fn globals_merge_under_the_function_properties() {
        let g = json!({"Timeout": 10, "Environment": {"Variables": {"A": "1", "B": "2"}}});
        let own = json!({"Timeout": 3, "Environment": {"Variables": {"B": "x"}}});
        let merged = merge_globals(&g, &own);
        assert_eq!(
            merged,
            json!({"Timeout": 3, "Environment": {"Variables": {"A": "1", "B": "x"}}})
        );
    }

    const GATEWAY_TEMPLATE: &str = r#"
Metadata:
  LocalCloud:
    PaymentGatewayParameter: PaymentGatewayUrl
Parameters:
  PaymentGatewayUrl: { Type: String, Default: "https://payments.example.com" }
Resources:
  Pay:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          PAYMENT_GATEWAY_URL: !Ref PaymentGatewayUrl
"#;

    fn gateway_env(t: &Template, gateway_url: Option<&str>) -> Json {
        let ctx = Context {
            parameters: t.local_parameters(gateway_url),
            ..ctx()
        };
        let props = resolve(&t.resources["Pay"].properties, &ctx, "Pay").unwrap();
        props["Environment"]["Variables"]["PAYMENT_GATEWAY_URL"].clone()
    }

    #[test]
    fn the_payment_gateway_parameter_resolves_to_the_fake_gateway() {
        let t = Template::parse(GATEWAY_TEMPLATE).unwrap();
        assert_eq!(
            t.payment_gateway_parameter.as_deref(),
            Some("PaymentGatewayUrl")
        );
        assert_eq!(
            gateway_env(&t, Some("http://127.0.0.1:3002")),
            "http://127.0.0.1:3002"
        );
        assert_eq!(gateway_env(&t, None), "https://payments.example.com");
        assert_eq!(
            t.parameters["PaymentGatewayUrl"],
            "https://payments.example.com"
        );
    }

    #[test]
    fn a_gateway_parameter_without_a_default_is_still_set() {
        let text = GATEWAY_TEMPLATE.replace(
            r#"{ Type: String, Default: "https://payments.example.com" }"#,
            "{ Type: String }",
        );
        let t = Template::parse(&text).unwrap();
        assert_eq!(
            gateway_env(&t, Some("http://127.0.0.1:3002")),
            "http://127.0.0.1:3002"
        );
    }

    #[test]
    fn a_template_without_the_metadata_names_no_gateway() {
        let t = Template::parse(TEMPLATE).unwrap();
        assert_eq!(t.payment_gateway_parameter, None);
        assert_eq!(
            t.local_parameters(Some("http://127.0.0.1:3002")),
            t.parameters
        );
    }

    #[test]
    fn a_parameter_with_a_default_can_be_overridden_and_no_other() {
        let mut template = Template::parse(
            "Parameters:\n  Ttl:\n    Type: Number\n    Default: 300\n  Bare:\n    Type: String\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n",
        )
        .unwrap();
        template.override_parameter("Ttl=10").unwrap();
        assert_eq!(template.parameters["Ttl"], "10");
        assert!(template.override_parameter("Bare=x").is_err());
        assert!(template.override_parameter("Nope=1").is_err());
        assert!(template.override_parameter("Ttl").is_err());
    }

    #[test]
    fn a_gateway_parameter_that_is_not_declared_is_refused() {
        let text = GATEWAY_TEMPLATE.replace(
            "PaymentGatewayParameter: PaymentGatewayUrl",
            "PaymentGatewayParameter: GatewayUrl",
        );
        let err = Template::parse(&text).unwrap_err();
        assert!(err.to_string().contains("GatewayUrl"), "{err}");
    }

    #[test]
    fn the_project_template_parses_and_orders() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
        let t = Template::load(&path).unwrap();
        assert!(t.resources.contains_key("Table"));
        t.provisioning_order().unwrap();
    }
}
