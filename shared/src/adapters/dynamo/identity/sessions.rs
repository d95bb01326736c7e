//! Sessions and their refresh tokens: rotation, reuse detection, revocation.

use super::*;

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct RefreshItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    user_id: String,
    family_id: String,
    status: String,
    created_at: DateTime<Utc>,
    /// Epoch seconds; also the TTL attribute.
    expires_at: i64,
}

impl RefreshItem {
    fn key(hash: &str) -> String {
        format!("REFRESH#{hash}")
    }

    pub(super) fn new(
        hash: &str,
        user_id: &str,
        family_id: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            pk: Self::key(hash),
            sk: "REFRESH".to_owned(),
            entity: "REFRESH_TOKEN".to_owned(),
            user_id: user_id.to_owned(),
            family_id: family_id.to_owned(),
            status: ACTIVE.to_owned(),
            created_at: now,
            expires_at: expires_at.timestamp(),
        }
    }
}

impl SessionStore for DynamoIdentity {
    #[tracing::instrument(skip_all, fields(family_id = %token.family_id))]
    async fn start(&self, token: &StoredRefreshToken, now: DateTime<Utc>) -> Result<(), AppError> {
        let session = serde_json::json!({
            "PK": format!("SESSION#{}", token.family_id),
            "SK": "SESSION",
            "GSI1PK": sessions_of(&token.user_id),
            "GSI1SK": format!("{}#{}", now.to_rfc3339(), token.family_id),
            "entity": "SESSION",
            "family_id": token.family_id,
            "user_id": token.user_id,
            "status": ACTIVE,
            "created_at": now,
            "expires_at": token.expires_at.timestamp(),
        });
        let refresh = RefreshItem::new(
            &token.hash,
            token.user_id.as_str(),
            &token.family_id,
            token.expires_at,
            now,
        );
        transact_write(
            &self.client,
            vec![
                self.put(session, "attribute_not_exists(PK)")?,
                self.put(refresh, "attribute_not_exists(PK)")?,
            ],
        )
        .await
        .map_err(|e| transaction_error("starting a session", e))?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn rotate(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Rotation, AppError> {
        let Some(item) = self.get_item(RefreshItem::key(old_hash), "REFRESH").await? else {
            return Ok(Rotation::Unknown);
        };
        let old: RefreshItem = serde_dynamo::from_item(item)
            .map_err(|e| AppError::internal("decoding a refresh token", e))?;
        if old.expires_at <= now.timestamp() {
            return Ok(Rotation::Expired);
        }
        match old.status.as_str() {
            ACTIVE => {}
            REVOKED => return Ok(Rotation::Revoked),
            _ => {
                self.revoke_family(&old.family_id, now).await?;
                return Ok(Rotation::Reused {
                    family_id: old.family_id,
                });
            }
        }
        let spend = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(RefreshItem::key(old_hash)))
            .key(keys::SK, s("REFRESH"))
            .update_expression("SET #status = :rotated, rotated_at = :now")
            .condition_expression("#status = :active")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":rotated", s(ROTATED))
            .expression_attribute_values(":active", s(ACTIVE))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .build()
            .map_err(|e| AppError::internal("building the token update", e))?;
        let extend = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(format!("SESSION#{}", old.family_id)))
            .key(keys::SK, s("SESSION"))
            .update_expression("SET expires_at = :exp, last_rotated_at = :now")
            .condition_expression("#status = :active")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":active", s(ACTIVE))
            .expression_attribute_values(":exp", n(new_expires_at.timestamp()))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .build()
            .map_err(|e| AppError::internal("building the session update", e))?;
        let next = RefreshItem::new(new_hash, &old.user_id, &old.family_id, new_expires_at, now);
        let result = transact_write(
            &self.client,
            vec![
                TransactWriteItem::builder().update(spend).build(),
                TransactWriteItem::builder().update(extend).build(),
                self.put(next, "attribute_not_exists(PK)")?,
            ],
        )
        .await;
        let family_id = old.family_id;
        match result {
            Ok(_) => Ok(Rotation::Rotated {
                user_id: UserId::parse(&old.user_id)
                    .map_err(|e| AppError::internal("reading a refresh token", e.to_string()))?,
                family_id,
            }),
            Err(e) => match cancellation_codes(&e) {
                // Spent by a concurrent request between our read and write: a replay.
                Some(codes) if codes.first().is_some_and(|c| c == "ConditionalCheckFailed") => {
                    self.revoke_family(&family_id, now).await?;
                    Ok(Rotation::Reused { family_id })
                }
                Some(codes) if codes.get(1).is_some_and(|c| c == "ConditionalCheckFailed") => {
                    Ok(Rotation::Revoked)
                }
                _ => Err(transaction_error("rotating a refresh token", e)),
            },
        }
    }

    #[tracing::instrument(skip_all)]
    async fn revoke(&self, hash: &str, now: DateTime<Utc>) -> Result<bool, AppError> {
        let Some(item) = self.get_item(RefreshItem::key(hash), "REFRESH").await? else {
            return Ok(false);
        };
        let token: RefreshItem = serde_dynamo::from_item(item)
            .map_err(|e| AppError::internal("decoding a refresh token", e))?;
        self.revoke_family(&token.family_id, now).await?;
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(RefreshItem::key(hash)))
            .key(keys::SK, s("REFRESH"))
            .update_expression("SET #status = :revoked")
            .condition_expression("#status = :active")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":revoked", s(REVOKED))
            .expression_attribute_values(":active", s(ACTIVE))
            .send()
            .await
            .map(|_| ())
            .or_else(|e| {
                if is_conditional_failure(&e) {
                    Ok(())
                } else {
                    Err(AppError::internal("revoking a refresh token", e))
                }
            })?;
        Ok(true)
    }

    #[tracing::instrument(skip_all)]
    async fn is_active(&self, family_id: &str) -> Result<bool, AppError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(format!("SESSION#{family_id}")))
            .key(keys::SK, s("SESSION"))
            .projection_expression("#status")
            .expression_attribute_names("#status", "status")
            .send()
            .await
            .map_err(|e| AppError::internal("reading a session", e))?
            .item;
        Ok(item
            .as_ref()
            .and_then(|i| super::super::string_attr(i, "status"))
            == Some(ACTIVE))
    }

    #[tracing::instrument(skip_all, fields(user_id = %user))]
    async fn revoke_all(
        &self,
        user: &UserId,
        except: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<usize, AppError> {
        let mut revoked = 0;
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI1)
                .key_condition_expression("GSI1PK = :pk")
                .filter_expression("#status = :active")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":pk", s(sessions_of(user)))
                .expression_attribute_values(":active", s(ACTIVE))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| AppError::internal("listing sessions", e))?;
            for item in page.items() {
                let family = super::super::string_attr(item, "family_id");
                if let Some(family) = family.filter(|f| Some(*f) != except) {
                    self.revoke_family(family, now).await?;
                    revoked += 1;
                }
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(revoked);
            }
        }
    }
}

/// GSI1 partition of a user's sessions.
pub(super) fn sessions_of(user: &UserId) -> String {
    format!("USER#{user}#SESSIONS")
}
