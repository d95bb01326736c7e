//! Accounts and the email claims that keep an email to one account.

use super::*;

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct UserItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    id: String,
    email: String,
    name: String,
    phone: String,
    /// Absent on accounts made before languages: English.
    #[serde(default)]
    language: Option<Language>,
    role: Role,
    password_hash: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl UserItem {
    pub(crate) fn key(id: &UserId) -> String {
        format!("USER#{id}")
    }

    fn new(user: &User) -> Self {
        Self {
            pk: Self::key(&user.id),
            sk: PROFILE.to_owned(),
            entity: "USER".to_owned(),
            id: user.id.to_string(),
            email: user.email.to_string(),
            name: user.name.as_str().to_owned(),
            phone: user.phone.as_str().to_owned(),
            language: Some(user.language),
            role: user.role,
            password_hash: user.password_hash.clone(),
            created_at: user.created_at,
            updated_at: user.created_at,
        }
    }

    pub(super) fn into_user(self) -> Result<User, AppError> {
        let corrupt = |e: AppError| AppError::internal("reading a stored account", e.to_string());
        Ok(User {
            id: UserId::parse(&self.id).map_err(corrupt)?,
            email: Email::from_stored(self.email),
            name: DisplayName::from_stored(self.name),
            phone: Phone::from_stored(self.phone),
            language: self.language.unwrap_or_default(),
            role: self.role,
            password_hash: self.password_hash,
            created_at: self.created_at,
        })
    }
}

pub(crate) fn email_key(email: &Email) -> String {
    format!("EMAIL#{email}")
}

impl UserStore for DynamoIdentity {
    #[tracing::instrument(skip_all, fields(user_id = %user.id))]
    async fn create(&self, user: &User, event: &EventEnvelope) -> Result<(), AppError> {
        let claim = serde_json::json!({
            "PK": email_key(&user.email),
            "SK": "EMAIL",
            "entity": "USER_EMAIL",
            "user_id": user.id,
        });
        let result = transact_write(
            &self.client,
            vec![
                self.put(UserItem::new(user), "attribute_not_exists(PK)")?,
                self.put(claim, "attribute_not_exists(PK)")?,
                self.outbox(EventSource::Identity, event)?,
            ],
        )
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match cancellation_codes(&e) {
                Some(codes) if codes.get(1).is_some_and(|c| c == "ConditionalCheckFailed") => Err(
                    AppError::conflict("EMAIL_TAKEN", "an account with this email already exists"),
                ),
                _ => Err(transaction_error("creating an account", e)),
            },
        }
    }

    #[tracing::instrument(skip_all)]
    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, AppError> {
        let Some(claim) = self.get_item(email_key(email), "EMAIL").await? else {
            // The same second read a known email costs, so response time
            // does not tell whether an address has an account.
            self.get_item(UserItem::key(&UserId::nil()), PROFILE)
                .await?;
            return Ok(None);
        };
        let id = super::super::string_attr(&claim, "user_id")
            .ok_or_else(|| AppError::internal("reading an email claim", "no user_id"))?;
        let id = UserId::parse(id)
            .map_err(|e| AppError::internal("reading an email claim", e.to_string()))?;
        self.user_item(&id).await
    }

    #[tracing::instrument(skip_all, fields(user_id = %id))]
    async fn get(&self, id: &UserId) -> Result<Option<User>, AppError> {
        self.user_item(id).await
    }

    #[tracing::instrument(skip_all, fields(role = role.as_str()))]
    async fn set_role(
        &self,
        email: &Email,
        role: Role,
        event: &EventEnvelope,
    ) -> Result<User, AppError> {
        let not_found = || AppError::NotFound {
            code: "USER_NOT_FOUND",
            what: format!("an account with the email {email}"),
        };
        let mut user = self.find_by_email(email).await?.ok_or_else(not_found)?;
        let update = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(UserItem::key(&user.id)))
            .key(keys::SK, s(PROFILE))
            .update_expression("SET #role = :role, updated_at = :now")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":role", s(role.as_str()))
            .expression_attribute_values(":now", s(event.occurred_at.to_rfc3339()))
            .build()
            .map_err(|e| AppError::internal("building the role update", e))?;
        transact_write(
            &self.client,
            vec![
                TransactWriteItem::builder().update(update).build(),
                self.outbox(EventSource::Identity, event)?,
            ],
        )
        .await
        .map_err(|e| transaction_error("changing a role", e))?;
        user.role = role;
        Ok(user)
    }

    #[tracing::instrument(skip_all, fields(user_id = %user.id))]
    async fn update(
        &self,
        user: &User,
        change: &ProfileChange,
        event: &EventEnvelope,
    ) -> Result<User, AppError> {
        let mut sets = vec!["updated_at = :now"];
        let mut update = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(UserItem::key(&user.id)))
            .key(keys::SK, s(PROFILE))
            .condition_expression("email = :old_email AND password_hash = :old_hash")
            .expression_attribute_values(":old_email", s(user.email.to_string()))
            .expression_attribute_values(":old_hash", s(&user.password_hash))
            .expression_attribute_values(":now", s(event.occurred_at.to_rfc3339()));
        let values = [
            (
                "#name = :name",
                "#name",
                "name",
                change.name.as_ref().map(|v| v.as_str().to_owned()),
            ),
            (
                "phone = :phone",
                "",
                "phone",
                change.phone.as_ref().map(|v| v.as_str().to_owned()),
            ),
            (
                "#language = :language",
                "#language",
                "language",
                change.language.map(|v| v.as_str().to_owned()),
            ),
            (
                "email = :email",
                "",
                "email",
                change.email.as_ref().map(|v| v.to_string()),
            ),
            (
                "password_hash = :hash",
                "",
                "hash",
                change.password_hash.clone(),
            ),
        ];
        for (set, alias, name, value) in values {
            let Some(value) = value else { continue };
            sets.push(set);
            if !alias.is_empty() {
                update = update.expression_attribute_names(alias, name);
            }
            update = update.expression_attribute_values(format!(":{name}"), s(value));
        }
        let update = update
            .update_expression(format!("SET {}", sets.join(", ")))
            .build()
            .map_err(|e| AppError::internal("building the account update", e))?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        if let Some(email) = &change.email {
            items.push(self.put(
                serde_json::json!({
                    "PK": email_key(email),
                    "SK": "EMAIL",
                    "entity": "USER_EMAIL",
                    "user_id": user.id,
                }),
                "attribute_not_exists(PK)",
            )?);
            items.push(self.delete_claim(&user.email, &user.id)?);
            items.push(self.delete(super::attempts::attempts_key(&user.email), "ATTEMPTS")?);
        }
        items.push(self.outbox(EventSource::Identity, event)?);
        if let Err(e) = transact_write(&self.client, items).await {
            let failed = |i: usize| {
                cancellation_codes(&e)
                    .and_then(|codes| codes.get(i).cloned())
                    .is_some_and(|c| c == "ConditionalCheckFailed")
            };
            return Err(if failed(0) || (change.email.is_some() && failed(2)) {
                account_changed()
            } else if change.email.is_some() && failed(1) {
                AppError::conflict("EMAIL_TAKEN", "an account with this email already exists")
            } else {
                transaction_error("changing an account", e)
            });
        }
        let mut user = user.clone();
        change.apply(&mut user);
        Ok(user)
    }
}

/// The account changed (or went) between its read and its write.
pub(crate) fn account_changed() -> AppError {
    AppError::conflict(
        "ACCOUNT_CHANGED",
        "the account changed meanwhile; read it again and retry",
    )
}

impl DynamoIdentity {
    /// The delete of the email claim `email`, conditional on it being `id`'s.
    pub(crate) fn delete_claim(
        &self,
        email: &Email,
        id: &UserId,
    ) -> Result<TransactWriteItem, AppError> {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .key(keys::PK, s(email_key(email)))
            .key(keys::SK, s("EMAIL"))
            .condition_expression("user_id = :id")
            .expression_attribute_values(":id", s(id.to_string()))
            .build()
            .map_err(|e| AppError::internal("building the claim delete", e))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// An unconditional delete of one item (a no-op if it is absent).
    pub(crate) fn delete(&self, pk: String, sk: &str) -> Result<TransactWriteItem, AppError> {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .build()
            .map_err(|e| AppError::internal("building a delete", e))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }
}
