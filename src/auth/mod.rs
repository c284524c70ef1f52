//! Who may change the name server: the accounts that sign requests as
//! RocketMQ's ACL clients do (`AclClientRPCHook`), read from a 4.x-style
//! `plain_acl.yml` and reloaded when it changes.
//!
//! - [`address`]: the address patterns of whitelists.
//! - [`accounts`]: the accounts file.
//! - [`policy`]: who may send which request (the gate's decision).
//! - [`reload`]: the thread that watches the file and publishes new accounts.
//!
//! The signature itself is computed by `protocol::acl`, shared with clients.

pub mod accounts;
pub mod address;
pub mod policy;
pub mod reload;
#[cfg(test)]
mod reload_tests;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use arc_swap::ArcSwap;

pub use accounts::{Account, Accounts, AccountsError};
pub use address::{AddressError, AddressPattern};

/// The accounts in force, shared by every shard; replaced by the reload thread.
pub struct AuthService {
    accounts: ArcSwap<Accounts>,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService")
            .field("accounts", &self.accounts.load().len())
            .finish()
    }
}

impl AuthService {
    /// Loads the accounts file (the caller refuses to start on `Err`) and starts
    /// the thread that reloads it when it changes (it ends once `stop` is set).
    pub fn start(path: &Path, stop: Arc<AtomicBool>) -> Result<Arc<AuthService>, AccountsError> {
        let (accounts, seen) = reload::first_load(path)?;
        tracing::info!(file = %path.display(), accounts = accounts.len(), "accounts loaded");
        let service = Arc::new(AuthService::with(accounts));
        reload::spawn(path.to_path_buf(), seen, service.clone(), stop);
        Ok(service)
    }

    /// A service over fixed accounts, without a file (tests, embedding).
    pub fn with(accounts: Accounts) -> AuthService {
        AuthService {
            accounts: ArcSwap::from_pointee(accounts),
        }
    }

    /// The accounts in force now (lock-free; cheap on a shard).
    pub fn accounts(&self) -> arc_swap::Guard<Arc<Accounts>> {
        self.accounts.load()
    }

    fn publish(&self, accounts: Accounts) {
        self.accounts.store(Arc::new(accounts));
    }
}
