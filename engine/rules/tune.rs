//! Analyses behind `sift rules check` and `sift rules test`.
