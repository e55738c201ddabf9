//! (in progress)
use super::CoordinationConfig;
use crate::keys::Keys;

#[derive(Debug, Clone)]
pub struct Batches {
    #[allow(dead_code)]
    keys: Keys,
    #[allow(dead_code)]
    config: CoordinationConfig,
}

impl Batches {
    pub fn new(keys: Keys, config: CoordinationConfig) -> Self {
        Batches { keys, config }
    }
}
