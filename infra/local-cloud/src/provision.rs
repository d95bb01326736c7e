//! Provisions what template.yaml declares onto the emulators: tables with
//! streams and TTL, queues with redrive policies, buses, rules and targets.
//! Running it again against the same emulators changes nothing.
//!
//! Over 600 lines on purpose: one dispatcher and one function per resource
//! kind, sharing the small helpers at the top. Moving a kind out (the S3
//! bucket and Firehose stream, say) makes that file and this one import
//! each other; splitting the helpers into a third module first is the way
//! when the next kind arrives.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use aws_sdk_eventbridge::types::{DeadLetterConfig, RetryPolicy, RuleState, Target};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::Value as Json;

use crate::template::{Context, Physical, Template, TemplateError, resolve};

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("{resource}: {message}")]
    Aws { resource: String, message: String },
}

fn aws_err(resource: &str, err: impl std::fmt::Display) -> ProvisionError {
    ProvisionError::Aws {
        resource: resource.to_owned(),
        message: err.to_string(),
    }
}

#[derive(Clone)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub ses: aws_sdk_ses::Client,
    pub s3: aws_sdk_s3::Client,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Replaces every queue's VisibilityTimeout (seconds), so local runs
    /// need not wait minutes for a retry. `None` keeps the template's.
    pub visibility_timeout: Option<u32>,
}

fn s(v: &Json, key: &str) -> Option<String> {
    match v.get(key)? {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn attrs(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// Provisions every resource in dependency order, filling `ctx.physical`.
pub async fn provision(
    template: &Template,
    ctx: &mut Context,
    clients: &Clients,
    options: &Options,
) -> Result<(), ProvisionError> {
    for resource in template.provisioning_order()? {
        let id = resource.logical_id.as_str();
        let physical = match resource.kind.as_str() {
            "AWS::DynamoDB::Table" => {
                table(id, &resolve(&resource.properties, ctx, id)?, ctx, clients).await?
            }
            "AWS::SQS::Queue" => {
                queue(
                    id,
                    &resolve(&resource.properties, ctx, id)?,
                    ctx,
                    clients,
                    options,
                )
                .await?
            }
            "AWS::Events::EventBus" => {
                bus(id, &resolve(&resource.properties, ctx, id)?, clients).await?
            }
            "AWS::Events::Rule" => {
                let props = resolve(&resource.properties, ctx, id)?;
                let physical = rule(id, &props, ctx, clients).await?;
                feed_streams(&props, ctx);
                physical
            }
            "AWS::S3::Bucket" => {
                bucket(id, &resolve(&resource.properties, ctx, id)?, ctx, clients).await?
            }
            "AWS::KinesisFirehose::DeliveryStream" => {
                stream(
                    id,
                    &resolve(&resource.properties, ctx, id)?,
                    ctx,
                    clients,
                    options,
                )
                .await?
            }
            "AWS::IAM::Role" => Physical {
                kind: resource.kind.clone(),
                reference: format!("{}-{id}", ctx.stack_name),
                attributes: attrs(&[(
                    "Arn",
                    format!(
                        "arn:aws:iam::{}:role/{}-{id}",
                        ctx.account_id, ctx.stack_name
                    ),
                )]),
            },
            "AWS::Serverless::Function" | "AWS::Lambda::Function" => {
                let props = resolve(&resource.properties, ctx, id)?;
                let name =
                    s(&props, "FunctionName").unwrap_or_else(|| format!("{}-{id}", ctx.stack_name));
                let arn = format!(
                    "arn:aws:lambda:{}:{}:function:{name}",
                    ctx.region, ctx.account_id
                );
                Physical {
                    kind: resource.kind.clone(),
                    reference: name,
                    attributes: attrs(&[("Arn", arn)]),
                }
            }
            "AWS::SES::EmailIdentity" => {
                email_identity(id, &resolve(&resource.properties, ctx, id)?, clients).await?
            }
            "AWS::SES::ConfigurationSet" => {
                configuration_set(id, &resolve(&resource.properties, ctx, id)?, ctx, clients)
                    .await?
            }
            "AWS::Serverless::HttpApi" => Physical {
                kind: resource.kind.clone(),
                reference: "local".to_owned(),
                attributes: attrs(&[("ApiEndpoint", "http://127.0.0.1".to_owned())]),
            },
            // Permissions: IAM and queue policies have no local effect.
            _ => {
                tracing::debug!(target: "local-cloud", "{id} ({}) needs nothing locally", resource.kind);
                Physical {
                    kind: resource.kind.clone(),
                    reference: id.to_owned(),
                    attributes: BTreeMap::new(),
                }
            }
        };
        tracing::debug!(target: "local-cloud", "provisioned {id} -> {}", physical.reference);
        ctx.physical.insert(id.to_owned(), physical);
    }
    Ok(())
}

async fn table(id: &str, p: &Json, ctx: &Context, c: &Clients) -> Result<Physical, ProvisionError> {
    let name = s(p, "TableName").unwrap_or_else(|| format!("{}-{id}", ctx.stack_name));
    let key_schema = |list: Option<&Json>| -> Vec<KeySchemaElement> {
        list.and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(|k| {
                KeySchemaElement::builder()
                    .attribute_name(s(k, "AttributeName")?)
                    .key_type(KeyType::from(s(k, "KeyType")?.as_str()))
                    .build()
                    .ok()
            })
            .collect()
    };
    let exists = c
        .dynamodb
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .is_ok();
    if !exists {
        let mut create = c
            .dynamodb
            .create_table()
            .table_name(&name)
            .billing_mode(BillingMode::PayPerRequest)
            .set_key_schema(Some(key_schema(p.get("KeySchema"))));
        for a in p
            .get("AttributeDefinitions")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let def = AttributeDefinition::builder()
                .attribute_name(s(a, "AttributeName").unwrap_or_default())
                .attribute_type(ScalarAttributeType::from(
                    s(a, "AttributeType").unwrap_or_default().as_str(),
                ))
                .build()
                .map_err(|e| aws_err(id, e))?;
            create = create.attribute_definitions(def);
        }
        for g in p
            .get("GlobalSecondaryIndexes")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let projection = g.get("Projection").cloned().unwrap_or_default();
            let index = GlobalSecondaryIndex::builder()
                .index_name(s(g, "IndexName").unwrap_or_default())
                .set_key_schema(Some(key_schema(g.get("KeySchema"))))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(
                            s(&projection, "ProjectionType")
                                .unwrap_or_else(|| "ALL".into())
                                .as_str(),
                        ))
                        .set_non_key_attributes(
                            projection
                                .get("NonKeyAttributes")
                                .and_then(Json::as_array)
                                .map(|a| {
                                    a.iter()
                                        .filter_map(Json::as_str)
                                        .map(str::to_owned)
                                        .collect()
                                }),
                        )
                        .build(),
                )
                .build()
                .map_err(|e| aws_err(id, e))?;
            create = create.global_secondary_indexes(index);
        }
        if let Some(view) = p
            .get("StreamSpecification")
            .and_then(|st| s(st, "StreamViewType"))
        {
            create = create.stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::from(view.as_str()))
                    .build()
                    .map_err(|e| aws_err(id, e))?,
            );
        }
        create
            .send()
            .await
            .map_err(|e| aws_err(id, aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
        if let Some(ttl) = p.get("TimeToLiveSpecification")
            && ttl.get("Enabled").and_then(Json::as_bool).unwrap_or(false)
        {
            let spec = TimeToLiveSpecification::builder()
                .attribute_name(s(ttl, "AttributeName").unwrap_or_default())
                .enabled(true)
                .build()
                .map_err(|e| aws_err(id, e))?;
            if let Err(e) = c
                .dynamodb
                .update_time_to_live()
                .table_name(&name)
                .time_to_live_specification(spec)
                .send()
                .await
            {
                tracing::warn!(target: "local-cloud", "{id}: TTL not enabled locally: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e));
            }
        }
    }
    let described = c
        .dynamodb
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .map_err(|e| aws_err(id, aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
    let table = described.table();
    let mut attributes = attrs(&[(
        "Arn",
        table
            .and_then(|t| t.table_arn())
            .unwrap_or_default()
            .to_owned(),
    )]);
    if let Some(stream) = table.and_then(|t| t.latest_stream_arn()) {
        attributes.insert("StreamArn".into(), stream.to_owned());
    }
    Ok(Physical {
        kind: "AWS::DynamoDB::Table".into(),
        reference: name,
        attributes,
    })
}

/// Queue properties that are SQS attributes of the same name.
const QUEUE_ATTRIBUTES: [&str; 9] = [
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
    "SqsManagedSseEnabled",
    "KmsMasterKeyId",
];

async fn queue(
    id: &str,
    p: &Json,
    ctx: &Context,
    c: &Clients,
    options: &Options,
) -> Result<Physical, ProvisionError> {
    let fifo = p.get("FifoQueue").and_then(Json::as_bool).unwrap_or(false);
    let name = s(p, "QueueName")
        .unwrap_or_else(|| format!("{}-{id}{}", ctx.stack_name, if fifo { ".fifo" } else { "" }));
    let mut attributes: HashMap<QueueAttributeName, String> = HashMap::new();
    for key in QUEUE_ATTRIBUTES {
        if let Some(v) = s(p, key) {
            attributes.insert(QueueAttributeName::from(key), v);
        }
    }
    if let Some(secs) = options.visibility_timeout {
        attributes.insert(QueueAttributeName::VisibilityTimeout, secs.to_string());
    }
    for key in ["RedrivePolicy", "RedriveAllowPolicy"] {
        if let Some(policy) = p.get(key) {
            attributes.insert(QueueAttributeName::from(key), policy.to_string());
        }
    }
    let created = c
        .sqs
        .create_queue()
        .queue_name(&name)
        .set_attributes(Some(attributes.clone()))
        .send()
        .await;
    let url = match created {
        Ok(out) => out.queue_url().unwrap_or_default().to_owned(),
        Err(_) => {
            // It exists with other attributes: bring them in line.
            let url = c
                .sqs
                .get_queue_url()
                .queue_name(&name)
                .send()
                .await
                .map_err(|e| aws_err(id, aws_sdk_sqs::error::DisplayErrorContext(e)))?
                .queue_url()
                .unwrap_or_default()
                .to_owned();
            attributes.remove(&QueueAttributeName::FifoQueue);
            c.sqs
                .set_queue_attributes()
                .queue_url(&url)
                .set_attributes(Some(attributes))
                .send()
                .await
                .map_err(|e| aws_err(id, aws_sdk_sqs::error::DisplayErrorContext(e)))?;
            url
        }
    };
    let arn = c
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| aws_err(id, aws_sdk_sqs::error::DisplayErrorContext(e)))?
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .unwrap_or_default();
    Ok(Physical {
        kind: "AWS::SQS::Queue".into(),
        reference: url.clone(),
        attributes: attrs(&[("Arn", arn), ("QueueName", name), ("QueueUrl", url)]),
    })
}

const STREAM: &str = "AWS::KinesisFirehose::DeliveryStream";

/// An S3 bucket in moto (path-style addressing).
async fn bucket(
    id: &str,
    p: &Json,
    ctx: &Context,
    c: &Clients,
) -> Result<Physical, ProvisionError> {
    let name = s(p, "BucketName")
        .unwrap_or_else(|| format!("{}-{id}", ctx.stack_name).to_ascii_lowercase());
    if let Err(e) = c.s3.create_bucket().bucket(&name).send().await {
        let owned = e
            .as_service_error()
            .is_some_and(|e| e.is_bucket_already_owned_by_you() || e.is_bucket_already_exists());
        if !owned {
            return Err(aws_err(id, aws_sdk_s3::error::DisplayErrorContext(e)));
        }
    }
    Ok(Physical {
        kind: "AWS::S3::Bucket".into(),
        reference: name.clone(),
        attributes: attrs(&[("Arn", format!("arn:aws:s3:::{name}"))]),
    })
}

/// A Firehose stream to S3: a queue of its own, and what its delivery task
/// needs (crate::firehose) in the attributes.
async fn stream(
    id: &str,
    p: &Json,
    ctx: &Context,
    c: &Clients,
    options: &Options,
) -> Result<Physical, ProvisionError> {
    let name = s(p, "DeliveryStreamName").unwrap_or_else(|| format!("{}-{id}", ctx.stack_name));
    let dest = p
        .get("ExtendedS3DestinationConfiguration")
        .ok_or_else(|| aws_err(id, "only ExtendedS3DestinationConfiguration runs locally"))?;
    let bucket = s(dest, "BucketARN")
        .and_then(|arn| arn.rsplit(':').next().map(str::to_owned))
        .ok_or_else(|| aws_err(id, "no BucketARN"))?;
    let processors = dest
        .get("ProcessingConfiguration")
        .and_then(|c| c.get("Processors"))
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    let parameter = |kind: &str, name: &str| {
        processors
            .iter()
            .filter(|p| s(p, "Type").as_deref() == Some(kind))
            .flat_map(|p| {
                p.get("Parameters")
                    .and_then(Json::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .find(|x| s(x, "ParameterName").as_deref() == Some(name))
            .and_then(|x| s(&x, "ParameterValue"))
    };
    let query = parameter("MetadataExtraction", "MetadataExtractionQuery");
    if let Some(q) = &query {
        crate::firehose::Query::parse(q).map_err(|e| aws_err(id, e))?;
    }
    let delimiter = processors
        .iter()
        .any(|p| s(p, "Type").as_deref() == Some("AppendDelimiterToRecord"))
        .then(|| {
            parameter("AppendDelimiterToRecord", "Delimiter")
                .unwrap_or_else(|| "\\n".to_owned())
                .replace("\\n", "\n")
        });
    let queue = queue(
        &format!("{id}Delivery"),
        &serde_json::json!({ "QueueName": format!("{name}-delivery"), "MessageRetentionPeriod": 86400 }),
        ctx,
        c,
        options,
    )
    .await?;
    let mut attributes = attrs(&[
        (
            "Arn",
            format!(
                "arn:aws:firehose:{}:{}:deliverystream/{name}",
                ctx.region, ctx.account_id
            ),
        ),
        ("StreamName", name.clone()),
        ("Bucket", bucket),
        ("Prefix", s(dest, "Prefix").unwrap_or_default()),
        (
            "ErrorOutputPrefix",
            s(dest, "ErrorOutputPrefix").unwrap_or_else(|| "errors/".into()),
        ),
        ("QueueArn", queue.attributes["Arn"].clone()),
        ("QueueUrl", queue.reference.clone()),
    ]);
    if let Some(q) = query {
        attributes.insert("Query".into(), q);
    }
    if let Some(d) = delimiter {
        attributes.insert("Delimiter".into(), d);
    }
    Ok(Physical {
        kind: STREAM.into(),
        reference: name,
        attributes,
    })
}

/// Records on each Firehose stream a rule targets the target's InputPath.
fn feed_streams(rule: &Json, ctx: &mut Context) {
    for t in rule
        .get("Targets")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let Some(arn) = s(t, "Arn") else { continue };
        if let Some(stream) = ctx
            .physical
            .values_mut()
            .find(|p| p.kind == STREAM && p.attributes.get("Arn") == Some(&arn))
            && let Some(path) = s(t, "InputPath")
        {
            stream.attributes.insert("InputPath".into(), path);
        }
    }
}

/// An SES sender identity. moto refuses mail from an unverified address,
/// and verifies at once what it is asked to (AWS mails a link instead).
async fn email_identity(id: &str, p: &Json, c: &Clients) -> Result<Physical, ProvisionError> {
    let identity = s(p, "EmailIdentity")
        .ok_or_else(|| aws_err(id, "an email identity needs EmailIdentity"))?;
    if identity.contains('@') {
        c.ses
            .verify_email_identity()
            .email_address(&identity)
            .send()
            .await
            .map_err(|e| aws_err(id, aws_sdk_ses::error::DisplayErrorContext(e)))?;
    } else {
        c.ses
            .verify_domain_identity()
            .domain(&identity)
            .send()
            .await
            .map_err(|e| aws_err(id, aws_sdk_ses::error::DisplayErrorContext(e)))?;
    }
    Ok(Physical {
        kind: "AWS::SES::EmailIdentity".into(),
        reference: identity,
        attributes: BTreeMap::new(),
    })
}

/// An SES configuration set (only its name matters locally: sends name it).
async fn configuration_set(
    id: &str,
    p: &Json,
    ctx: &Context,
    c: &Clients,
) -> Result<Physical, ProvisionError> {
    let name = s(p, "Name").unwrap_or_else(|| format!("{}-{id}", ctx.stack_name));
    let set = aws_sdk_ses::types::ConfigurationSet::builder()
        .name(&name)
        .build()
        .map_err(|e| aws_err(id, e))?;
    if let Err(e) = c
        .ses
        .create_configuration_set()
        .configuration_set(set)
        .send()
        .await
    {
        let exists = e
            .as_service_error()
            .is_some_and(|se| se.is_configuration_set_already_exists_exception());
        if !exists {
            return Err(aws_err(id, aws_sdk_ses::error::DisplayErrorContext(e)));
        }
    }
    Ok(Physical {
        kind: "AWS::SES::ConfigurationSet".into(),
        reference: name,
        attributes: BTreeMap::new(),
    })
}

async fn bus(id: &str, p: &Json, c: &Clients) -> Result<Physical, ProvisionError> {
    let name = s(p, "Name").ok_or_else(|| aws_err(id, "an event bus needs a Name"))?;
    if let Err(e) = c.events.create_event_bus().name(&name).send().await {
        let exists = e
            .as_service_error()
            .is_some_and(|se| se.is_resource_already_exists_exception());
        if !exists {
            return Err(aws_err(
                id,
                aws_sdk_eventbridge::error::DisplayErrorContext(e),
            ));
        }
    }
    let arn = c
        .events
        .describe_event_bus()
        .name(&name)
        .send()
        .await
        .map_err(|e| aws_err(id, aws_sdk_eventbridge::error::DisplayErrorContext(e)))?
        .arn()
        .unwrap_or_default()
        .to_owned();
    Ok(Physical {
        kind: "AWS::Events::EventBus".into(),
        reference: name.clone(),
        attributes: attrs(&[("Arn", arn), ("Name", name)]),
    })
}

async fn rule(id: &str, p: &Json, ctx: &Context, c: &Clients) -> Result<Physical, ProvisionError> {
    let name = s(p, "Name").unwrap_or_else(|| format!("{}-{id}", ctx.stack_name));
    let bus = s(p, "EventBusName").unwrap_or_else(|| "default".to_owned());
    let state = s(p, "State").unwrap_or_else(|| "ENABLED".to_owned());
    let put = c
        .events
        .put_rule()
        .name(&name)
        .event_bus_name(&bus)
        .state(RuleState::from(state.as_str()))
        .set_description(s(p, "Description"))
        .set_event_pattern(p.get("EventPattern").map(|pattern| match pattern {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        }))
        .set_schedule_expression(s(p, "ScheduleExpression"))
        .send()
        .await
        .map_err(|e| aws_err(id, aws_sdk_eventbridge::error::DisplayErrorContext(e)))?;
    let arn = put.rule_arn().unwrap_or_default().to_owned();
    let mut targets = Vec::new();
    for t in p
        .get("Targets")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        // A Firehose stream is fed through its local queue (moto's
        // EventBridge has no Firehose target). The queue gets the whole
        // event and the delivery task applies the target's InputPath: moto
        // ignores an SQS target's InputPath, LocalStack applies it, so
        // leaving it to either would differ.
        let arn_of = s(t, "Arn").unwrap_or_default();
        let stream_queue = ctx
            .physical
            .values()
            .find(|p| p.kind == STREAM && p.attributes.get("Arn") == Some(&arn_of))
            .and_then(|p| p.attributes.get("QueueArn").cloned());
        let input_path = match stream_queue {
            Some(_) => None,
            None => s(t, "InputPath"),
        };
        let mut target = Target::builder()
            .id(s(t, "Id").unwrap_or_default())
            .arn(stream_queue.unwrap_or(arn_of))
            .set_input(s(t, "Input"))
            .set_input_path(input_path);
        if let Some(retry) = t.get("RetryPolicy") {
            target = target.retry_policy(
                RetryPolicy::builder()
                    .set_maximum_retry_attempts(
                        retry
                            .get("MaximumRetryAttempts")
                            .and_then(Json::as_i64)
                            .and_then(|v| i32::try_from(v).ok()),
                    )
                    .set_maximum_event_age_in_seconds(
                        retry
                            .get("MaximumEventAgeInSeconds")
                            .and_then(Json::as_i64)
                            .and_then(|v| i32::try_from(v).ok()),
                    )
                    .build(),
            );
        }
        if let Some(dlq) = t.get("DeadLetterConfig").and_then(|d| s(d, "Arn")) {
            target = target.dead_letter_config(DeadLetterConfig::builder().arn(dlq).build());
        }
        targets.push(target.build().map_err(|e| aws_err(id, e))?);
    }
    if !targets.is_empty() {
        let out = c
            .events
            .put_targets()
            .rule(&name)
            .event_bus_name(&bus)
            .set_targets(Some(targets))
            .send()
            .await
            .map_err(|e| aws_err(id, aws_sdk_eventbridge::error::DisplayErrorContext(e)))?;
        if out.failed_entry_count() > 0 {
            return Err(aws_err(
                id,
                format!("targets refused: {:?}", out.failed_entries()),
            ));
        }
    }
    let reference = if bus == "default" {
        name.clone()
    } else {
        format!("{bus}|{name}")
    };
    Ok(Physical {
        kind: "AWS::Events::Rule".into(),
        reference,
        attributes: attrs(&[("Arn", arn)]),
    })
}
