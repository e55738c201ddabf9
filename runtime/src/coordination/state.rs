//! (in progress)
use super::CoordinationConfig;
use crate::keys::Keys;

#[derive(Debug, Clone)]
pub struct GlobalState {
    #[allow(dead_code)]
    keys: Keys,
    #[allow(dead_code)]
    config: CoordinationConfig,
}

impl GlobalState {
    pub fn new(keys: Keys, config: CoordinationConfig) -> Self {
        GlobalState { keys, config }
    }
}
