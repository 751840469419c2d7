//! portico-directory
