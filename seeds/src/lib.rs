//! Deterministic seed data for the four stores (being written).
