//! The content subgraph (being written).
