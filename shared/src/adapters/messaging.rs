//! The notification providers: email through Amazon SES (v1 `SendEmail`
//! with the platform's own rendered text and HTML) and SMS through Amazon
//! SNS (`Publish` to a phone number).
//!
//! SES v1 rather than v2: AWS, moto and LocalStack's open-source release
//! all serve v1 `SendEmail`, LocalStack serves no v2 (docs/notifications.md).
//! Each provider error is sorted into [`SendError::Permanent`] (the
//! message can never go: a rejected or malformed address, a bad number),
//! recorded and not retried, or [`SendError::Transient`] (throttling, an
//! outage, a paused account, a missing configuration that an operator can
//! fix before the redrive), retried through the queue.

use aws_sdk_ses::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ses::types::{Body, Content, Destination, Message};
use aws_sdk_sns::types::MessageAttributeValue;

use crate::config::ConfigError;
use crate::identity::Phone;
use crate::notification::ports::{Mailer, OutgoingMail, SendError, Texter};

/// Error codes after which the same message can never be sent.
const PERMANENT_SES: [&str; 2] = ["MessageRejected", "InvalidParameterValue"];
const PERMANENT_SNS: [&str; 3] = [
    "InvalidParameter",
    "InvalidParameterValue",
    "EndpointDisabled",
];

fn sorted<E, R>(e: &SdkError<E, R>, permanent: &[&str]) -> SendError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("ServiceError");
            let text = format!("{code}: {}", se.err().message().unwrap_or_default());
            if permanent.contains(&code) {
                SendError::Permanent(text)
            } else {
                SendError::Transient(text)
            }
        }
        SdkError::TimeoutError(_) => SendError::Transient("timeout".into()),
        SdkError::DispatchFailure(_) => SendError::Transient("unreachable".into()),
        other => SendError::Transient(format!("request failed: {other}")),
    }
}

/// Sends email through SES from one verified sender.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: aws_sdk_ses::Client,
    from: String,
    configuration_set: Option<String>,
}

impl SesMailer {
    pub fn new(
        client: aws_sdk_ses::Client,
        from: impl Into<String>,
        configuration_set: Option<String>,
    ) -> Self {
        Self {
            client,
            from: from.into(),
            configuration_set: configuration_set.filter(|c| !c.is_empty()),
        }
    }

    /// From `NOTIFY_FROM_EMAIL` and, if set, `SES_CONFIGURATION_SET`.
    pub fn from_env(client: aws_sdk_ses::Client) -> Result<Self, ConfigError> {
        let from = crate::config::required("NOTIFY_FROM_EMAIL")?;
        Ok(Self::new(
            client,
            from,
            std::env::var("SES_CONFIGURATION_SET").ok(),
        ))
    }
}

fn content(text: &str) -> Result<Content, SendError> {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(|e| SendError::Permanent(format!("building the message: {e}")))
}

impl Mailer for SesMailer {
    async fn send_mail(&self, mail: &OutgoingMail) -> Result<String, SendError> {
        let message = Message::builder()
            .subject(content(&mail.subject)?)
            .body(
                Body::builder()
                    .text(content(&mail.text)?)
                    .html(content(&mail.html)?)
                    .build(),
            )
            .build();
        let out = self
            .client
            .send_email()
            .source(&self.from)
            .destination(
                Destination::builder()
                    .to_addresses(mail.to.to_string())
                    .build(),
            )
            .message(message)
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(|e| sorted(&e, &PERMANENT_SES))?;
        Ok(out.message_id)
    }
}

/// Sends SMS through SNS, as transactional messages.
#[derive(Debug, Clone)]
pub struct SnsTexter {
    client: aws_sdk_sns::Client,
}

impl SnsTexter {
    pub fn new(client: aws_sdk_sns::Client) -> Self {
        Self { client }
    }
}

impl Texter for SnsTexter {
    async fn send_sms(&self, to: &Phone, text: &str) -> Result<String, SendError> {
        let transactional = MessageAttributeValue::builder()
            .data_type("String")
            .string_value("Transactional")
            .build()
            .map_err(|e| SendError::Permanent(format!("building the message: {e}")))?;
        let out = self
            .client
            .publish()
            .phone_number(to.as_str())
            .message(text)
            .message_attributes("AWS.SNS.SMS.SMSType", transactional)
            .send()
            .await
            .map_err(|e| sorted(&e, &PERMANENT_SNS))?;
        Ok(out.message_id.unwrap_or_default())
    }
}

/// The notification use cases as the functions run them: DynamoDB, SES,
/// SNS and the system clock.
pub type LiveNotifications = crate::notification::service::Notifications<
    super::dynamo::identity::DynamoIdentity,
    super::dynamo::booking::DynamoBookings,
    super::dynamo::catalog::DynamoCatalog,
    super::dynamo::notification::DynamoNotifications,
    SesMailer,
    SnsTexter,
    crate::clock::SystemClock,
>;

/// [`LiveNotifications`] configured from the environment: `TABLE_NAME`,
/// `NOTIFY_FROM_EMAIL`, optional `SES_CONFIGURATION_SET`,
/// `NOTIFY_SEND_LEASE_SECONDS` (30) and `NOTIFY_REMINDER_OFFSETS`
/// (`24h,2h`).
pub fn notifications_from_env(
    dynamodb: aws_sdk_dynamodb::Client,
    ses: aws_sdk_ses::Client,
    sns: aws_sdk_sns::Client,
) -> Result<LiveNotifications, ConfigError> {
    use crate::notification::reminder::ReminderOffsets;
    use crate::notification::service::DEFAULT_LEASE;
    let table = crate::config::required("TABLE_NAME")?;
    let lease = crate::config::parsed_or("NOTIFY_SEND_LEASE_SECONDS", DEFAULT_LEASE.num_seconds())?;
    Ok(crate::notification::service::Notifications {
        users: super::dynamo::identity::DynamoIdentity::new(dynamodb.clone(), table.clone()),
        bookings: super::dynamo::booking::DynamoBookings::new(dynamodb.clone(), table.clone()),
        catalog: super::dynamo::catalog::DynamoCatalog::new(dynamodb.clone(), table.clone()),
        store: super::dynamo::notification::DynamoNotifications::new(dynamodb, table),
        mail: SesMailer::from_env(ses)?,
        sms: SnsTexter::new(sns),
        clock: crate::clock::SystemClock,
        lease: chrono::Duration::seconds(lease.max(1)),
        reminders: crate::config::parsed_or("NOTIFY_REMINDER_OFFSETS", ReminderOffsets::default())?,
    })
}
