//! The crm subgraph (being written).
