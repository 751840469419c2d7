//! portico-ui
