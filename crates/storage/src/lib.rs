//! portico-storage
