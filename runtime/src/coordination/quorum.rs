//! (in progress)
use super::CoordinationConfig;
use crate::keys::Keys;

#[derive(Debug, Clone)]
pub struct Quorum {
    #[allow(dead_code)]
    keys: Keys,
    #[allow(dead_code)]
    config: CoordinationConfig,
}

impl Quorum {
    pub fn new(keys: Keys, config: CoordinationConfig) -> Self {
        Quorum { keys, config }
    }
}
