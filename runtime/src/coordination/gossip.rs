//! (in progress)
use super::CoordinationConfig;
use crate::keys::Keys;

#[derive(Debug, Clone)]
pub struct Gossip {
    #[allow(dead_code)]
    keys: Keys,
    #[allow(dead_code)]
    config: CoordinationConfig,
}

impl Gossip {
    pub fn new(keys: Keys, config: CoordinationConfig) -> Self {
        Gossip { keys, config }
    }
}
