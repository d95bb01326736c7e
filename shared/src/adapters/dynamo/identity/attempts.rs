//! Failed-login counters and the lockout they lead to.

use super::*;

/// The counter's partition: a SHA-256 of the address, not the address,
/// since anyone may try any address at the login form, and a counter of a
/// deleted account's address must not keep it in the table.
pub(crate) fn attempts_key(email: &Email) -> String {
    use sha2::{Digest, Sha256};
    format!(
        "LOGIN#{}",
        hex::encode(Sha256::digest(email.as_str().as_bytes()))
    )
}

impl LoginAttempts for DynamoIdentity {
    #[tracing::instrument(skip_all)]
    async fn reserve(
        &self,
        email: &Email,
        policy: &LoginPolicy,
        now: DateTime<Utc>,
    ) -> Result<Attempt, AppError> {
        let key = attempts_key(email);
        let cutoff = (now - policy.window).timestamp();
        let keep_until = (now + policy.window.max(policy.lockout)).timestamp() + 60;
        // A concurrent attempt may open the window between our two writes;
        // a few rounds settle it.
        for _ in 0..3 {
            let counted = self
                .client
                .update_item()
                .table_name(&self.table)
                .key(keys::PK, s(&key))
                .key(keys::SK, s("ATTEMPTS"))
                .update_expression("SET failures = failures + :one, expires_at = :keep")
                .condition_expression(
                    "window_started_at > :cutoff AND failures < :max \
                     AND (attribute_not_exists(locked_until) OR locked_until <= :now)",
                )
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":keep", n(keep_until))
                .expression_attribute_values(":cutoff", n(cutoff))
                .expression_attribute_values(":max", n(policy.max_failures))
                .expression_attribute_values(":now", n(now.timestamp()))
                .return_values(ReturnValue::UpdatedNew)
                .send()
                .await;
            match counted {
                Ok(out) => {
                    let number = out
                        .attributes()
                        .and_then(|a| a.get("failures"))
                        .and_then(|v| v.as_n().ok())
                        .and_then(|v| v.parse::<u32>().ok())
                        .unwrap_or(policy.max_failures);
                    return Ok(Attempt::Granted { number });
                }
                Err(e) if is_conditional_failure(&e) => {}
                Err(e) => return Err(AppError::internal("counting a login attempt", e)),
            }
            // No open window, or a lock that has ended: start counting afresh.
            let opened = self
                .client
                .update_item()
                .table_name(&self.table)
                .key(keys::PK, s(&key))
                .key(keys::SK, s("ATTEMPTS"))
                .update_expression(
                    "SET entity = :entity, failures = :one, window_started_at = :now, \
                     expires_at = :keep REMOVE locked_until",
                )
                .condition_expression(
                    "(attribute_not_exists(locked_until) OR locked_until <= :now) \
                     AND (attribute_not_exists(window_started_at) OR window_started_at <= :cutoff \
                          OR attribute_exists(locked_until))",
                )
                .expression_attribute_values(":entity", s("LOGIN_ATTEMPTS"))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", n(now.timestamp()))
                .expression_attribute_values(":keep", n(keep_until))
                .expression_attribute_values(":cutoff", n(cutoff))
                .send()
                .await;
            match opened {
                Ok(_) => return Ok(Attempt::Granted { number: 1 }),
                Err(e) if is_conditional_failure(&e) => {}
                Err(e) => return Err(AppError::internal("counting a login attempt", e)),
            }
            // Neither: locked, or the limit is used up by attempts in flight.
            let item = self
                .get_item(key.clone(), "ATTEMPTS")
                .await?
                .unwrap_or_default();
            let number = |name: &str| {
                item.get(name)
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse::<i64>().ok())
            };
            if let Some(until) = number("locked_until").filter(|u| *u > now.timestamp()) {
                return Ok(Attempt::Locked {
                    until: DateTime::from_timestamp(until, 0).unwrap_or(now + policy.lockout),
                });
            }
            let window_open = number("window_started_at").is_some_and(|w| w > cutoff);
            let used_up = number("failures").is_some_and(|f| f >= i64::from(policy.max_failures));
            if window_open && used_up {
                return Ok(Attempt::Locked {
                    until: now + policy.lockout,
                });
            }
        }
        Err(AppError::Unavailable {
            code: "TRY_AGAIN",
            message: "too many simultaneous sign-ins for this account; try again".to_owned(),
        })
    }

    #[tracing::instrument(skip_all)]
    async fn lock(&self, email: &Email, until: DateTime<Utc>) -> Result<(), AppError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(attempts_key(email)))
            .key(keys::SK, s("ATTEMPTS"))
            .update_expression("SET locked_until = :until")
            .expression_attribute_values(":until", n(until.timestamp()))
            .send()
            .await
            .map_err(|e| AppError::internal("locking a login", e))?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn clear(&self, email: &Email) -> Result<(), AppError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(attempts_key(email)))
            .key(keys::SK, s("ATTEMPTS"))
            .send()
            .await
            .map_err(|e| AppError::internal("clearing failed logins", e))?;
        Ok(())
    }
}
