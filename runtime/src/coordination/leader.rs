//! (in progress)
use crate::keys::Keys;

#[derive(Debug, Clone)]
pub struct LeaderLease {
    #[allow(dead_code)]
    keys: Keys,
}

impl LeaderLease {
    pub fn new(keys: Keys) -> Self {
        LeaderLease { keys }
    }
}
