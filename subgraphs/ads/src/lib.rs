//! The ads subgraph (being written).
