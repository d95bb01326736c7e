//! The twin of [`crate::adapters::dynamo::account::DynamoAccounts`]: closes
//! an account across the identity and wallet twins.

use super::{MemoryIdentity, MemoryWallets};
use crate::ports::{AccountCloser, CloseRefused, Closing};

/// Closes accounts of `identity`, writing their wallets off in `wallets`.
/// The wallet is checked first, so a refusal changes nothing.
#[derive(Debug, Clone, Copy)]
pub struct MemoryAccounts<'a> {
    pub identity: &'a MemoryIdentity,
    pub wallets: &'a MemoryWallets,
}

impl AccountCloser for MemoryAccounts<'_> {
    async fn close(&self, closing: &Closing<'_>) -> Result<(), CloseRefused> {
        let user = closing.user;
        if !self.identity.unchanged(user) {
            return Err(CloseRefused::AccountChanged);
        }
        let at = closing.event.occurred_at;
        if !self.wallets.forfeit(&user.id, closing.forfeit, at) {
            return Err(CloseRefused::WalletChanged);
        }
        if !self.identity.close(user, closing.event) {
            return Err(CloseRefused::AccountChanged);
        }
        Ok(())
    }
}
